//! The bias–variance decomposition, measured: many training sets ("universes") drawn from one
//! known function, a model fitted in each, and the expected test error split into
//! `bias² + variance + noise`.
//!
//! Truth: `f(x) = sin(πx)`, `y = f(x) + ε`, `ε ~ N(0, σ²)` with σ = 0.3. The 25 training
//! inputs are drawn once from `U(−1, 1)` and kept (a fixed design, as in the textbook
//! decomposition); each of the 400 universes draws fresh noise at them. The model is a
//! degree-10 polynomial (powers `x … x¹⁰`, standardized as glmnet does, and an intercept)
//! with a Gaussian prior `N(0, τ²)` on the 10 coefficients, fitted at λ = σ²/τ² in the **sum**
//! convention `½‖y − Xw − b‖² + (λ/2)‖w‖²` (flat prior on the intercept), for λ decreasing
//! from 1e3 (a strong prior: a nearly constant fit) to 1e-2 (a weak prior: a wiggly fit). At
//! 500 test inputs `x_m ~ U(−1, 1)`, with `f̂ₗ` the fit of universe `l` (of `L`) and
//! `f̄ = mean over universes of f̂ₗ`:
//! ```text
//! variance = mean_m Σ_l (f̂ₗ(x_m) − f̄(x_m))² / (L − 1)
//! bias²    = mean_m (f̄(x_m) − f(x_m))² − variance/L
//! noise    = σ²
//! test     = mean_l mean_m (y_lm − f̂ₗ(x_m))²,   y_lm = f(x_m) + fresh noise
//! ```
//! (the `L − 1` and `− variance/L` make both estimates unbiased: `f̄` itself varies by
//! `variance/L`), and `E[test] = bias² + variance + noise` exactly. The printed table shows how
//! close the measured test error is, and that a stronger prior trades variance for bias.
//!
//! ```sh
//! cargo run --release --example bias_variance
//! ```

use mapfit::{likelihood, prior, Map};
use nalgebra::{DMatrix, DVector};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};
use std::f64::consts::PI;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const SIGMA: f64 = 0.3;
const N_TRAIN: usize = 25;
const N_TEST: usize = 500;
const UNIVERSES: usize = 400;
const DEGREE: usize = 10;

fn truth(x: f64) -> f64 {
    (PI * x).sin()
}

fn powers(x: &DVector<f64>) -> DMatrix<f64> {
    DMatrix::from_fn(x.len(), DEGREE, |i, j| x[i].powi(j as i32 + 1))
}

fn main() -> Res<()> {
    let lambdas = [1e3, 1e2, 1e1, 1e0, 1e-1, 1e-2];
    let noise = Normal::new(0.0, SIGMA)?;
    let mut rng = StdRng::seed_from_u64(7);
    let x_train = DVector::from_fn(N_TRAIN, |_, _| rng.random_range(-1.0..1.0));
    let phi_train = powers(&x_train);
    let f_train = x_train.map(truth);
    let x_test = DVector::from_fn(N_TEST, |_, _| rng.random_range(-1.0..1.0));
    let f_test = x_test.map(truth);
    let phi_test = powers(&x_test);

    // The universes (the same for every λ): training responses and fresh test responses.
    let universes: Vec<(DVector<f64>, DVector<f64>)> = (0..UNIVERSES)
        .map(|_| {
            let y = f_train.map(|f| f + noise.sample(&mut rng));
            let y_test = f_test.map(|f| f + noise.sample(&mut rng));
            (y, y_test)
        })
        .collect();

    println!(
        "f(x) = sin(πx), σ = {SIGMA}; {UNIVERSES} universes: fresh noise at the same {N_TRAIN} training inputs;"
    );
    println!(
        "degree-{DEGREE} polynomial (standardized powers), Gaussian prior N(0, τ²) on the coefficients,"
    );
    println!("λ = σ²/τ² (sum convention); errors averaged over {N_TEST} test inputs.\n");
    println!(
        "{:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>8}",
        "lambda", "bias2", "variance", "noise", "sum", "test", "sum/test"
    );
    for &lambda in &lambdas {
        // Gaussian likelihood with σ² = 1 and prior precision λ: cost ½‖r‖² + (λ/2)‖w‖².
        let map = Map::new(
            likelihood::Gaussian::default(),
            prior::Gaussian::with_precision(lambda)?,
        )
        .standardize(true);
        let mut preds = DMatrix::zeros(UNIVERSES, N_TEST);
        let mut test_sse = 0.0;
        for (l, (y, y_test)) in universes.iter().enumerate() {
            let fit = map.fit(&phi_train, y)?;
            let pred = fit.predict(&phi_test)?;
            test_sse += (y_test - &pred).norm_squared();
            preds.row_mut(l).copy_from(&pred.transpose());
        }
        let mean_pred = preds.row_mean(); // f̄ at each test input
        let l = UNIVERSES as f64;
        let variance = (0..N_TEST)
            .map(|m| {
                preds
                    .column(m)
                    .iter()
                    .map(|p| (p - mean_pred[m]).powi(2))
                    .sum::<f64>()
                    / (l - 1.0)
            })
            .sum::<f64>()
            / N_TEST as f64;
        let bias2 = (0..N_TEST)
            .map(|m| (mean_pred[m] - f_test[m]).powi(2))
            .sum::<f64>()
            / N_TEST as f64
            - variance / l;
        let noise_var = SIGMA * SIGMA;
        let test = test_sse / (UNIVERSES * N_TEST) as f64;
        let sum = bias2 + variance + noise_var;
        println!(
            "{lambda:>10.0e} {bias2:>10.5} {variance:>10.5} {noise_var:>10.5} {sum:>10.5} {test:>10.5} {:>8.4}",
            sum / test
        );
    }
    println!(
        "\nReading: as λ falls (a weaker prior, a more flexible model) bias² falls and variance rises;"
    );
    println!("their sum plus the noise is the expected test error, lowest at an intermediate λ.");
    Ok(())
}
