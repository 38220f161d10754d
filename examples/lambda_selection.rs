//! Choosing the prior's strength: polynomial regression on a small noisy data set.
//!
//! Data: `y = sin(πx) + ε`, `ε ~ N(0, 0.3²)`, `x ~ U(−1, 1)`; 30 training points (seed 1) and
//! 5000 test points (seed 2). Features: the powers `x, x², …, x¹⁰` (a degree-10 polynomial,
//! 10 coefficients and an intercept).
//!
//! Model: Gaussian likelihood, Gaussian prior `wⱼ ~ N(0, τ²)` on the 10 coefficients of the
//! *standardized* powers (glmnet's default; coefficients are reported on the original scale),
//! flat prior on the intercept (never penalized). λ is in the **sum** convention,
//! `½‖y − Xw − b‖² + (λ/2)‖w‖²`, i.e. `λ = σ²/τ²`; glmnet's (mean-convention) value is `λ/n`.
//! λ = 0 is the flat prior: least squares. It needs a full-rank design: on fewer points than
//! parameters the flat-prior fit fails with `Error::Singular` (printed), and any λ > 0 works.
//!
//! Prints:
//! 1. the training and test mean squared errors of the degree-1…10 least-squares fits;
//! 2. the table over λ = 0, 1, 10, …, 1e5 at degree 10 — training error rises with λ, test
//!    error falls then rises (the U);
//! 3. λ chosen by 5-fold cross-validation (`mapfit::CrossValidation` over a ridge `Path`) and
//!    by maximizing the evidence (`mapfit::evidence::BayesianRidge`), with their test errors.
//!
//! ```sh
//! cargo run --release --example lambda_selection
//! ```

use mapfit::evidence::BayesianRidge;
use mapfit::{closed_form, likelihood, prior, CrossValidation, Map, Path};
use nalgebra::{DMatrix, DVector};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};
use std::f64::consts::PI;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const NOISE_SD: f64 = 0.3;
const DEGREE: usize = 10;
const N_TRAIN: usize = 30;

fn truth(x: f64) -> f64 {
    (PI * x).sin()
}

fn simulate(n: usize, seed: u64) -> Res<(DVector<f64>, DVector<f64>)> {
    let mut rng = StdRng::seed_from_u64(seed);
    let noise = Normal::new(0.0, NOISE_SD)?;
    let x = DVector::from_fn(n, |_, _| rng.random_range(-1.0..1.0));
    let y = x.map(|v| truth(v) + noise.sample(&mut rng));
    Ok((x, y))
}

/// The powers `x¹ … x^degree` as columns.
fn powers(x: &DVector<f64>, degree: usize) -> DMatrix<f64> {
    DMatrix::from_fn(x.len(), degree, |i, j| x[i].powi(j as i32 + 1))
}

fn mse(pred: &DVector<f64>, y: &DVector<f64>) -> f64 {
    (pred - y).norm_squared() / y.len() as f64
}

/// The MAP at sum-convention `lambda` (0: flat prior): `(w, b)`.
fn map_fit(lambda: f64, x: &DMatrix<f64>, y: &DVector<f64>) -> Res<(DVector<f64>, f64)> {
    let lik = likelihood::Gaussian::default(); // σ² = 1: the prior precision 1/τ² is λ
    let (w, b) = if lambda == 0.0 {
        let f = Map::new(lik, prior::Flat).standardize(true).fit(x, y)?;
        (f.coefficients().clone(), f.intercept())
    } else {
        let f = Map::new(lik, prior::Gaussian::with_precision(lambda)?)
            .standardize(true)
            .fit(x, y)?;
        (f.coefficients().clone(), f.intercept())
    };
    Ok((w, b))
}

/// Training and test MSE of the MAP at sum-convention `lambda` (0: flat prior), and ‖w‖.
fn errors(
    lambda: f64,
    train: (&DMatrix<f64>, &DVector<f64>),
    test: (&DMatrix<f64>, &DVector<f64>),
) -> Res<(f64, f64, f64)> {
    let (w, b) = map_fit(lambda, train.0, train.1)?;
    let tr = mse(&(train.0 * &w).add_scalar(b), train.1);
    let te = mse(&(test.0 * &w).add_scalar(b), test.1);
    Ok((tr, te, w.norm()))
}

/// Columns centered and scaled to unit population standard deviation (glmnet's
/// standardization, which `Map::standardize(true)` and `Path` apply internally).
/// Returns the standardized matrix with the column means and standard deviations.
fn standardized(x: &DMatrix<f64>) -> (DMatrix<f64>, DVector<f64>, DVector<f64>) {
    let mut xs = x.clone();
    let mut means = DVector::zeros(x.ncols());
    let mut sds = DVector::zeros(x.ncols());
    for (j, mut c) in xs.column_iter_mut().enumerate() {
        means[j] = c.mean();
        c.add_scalar_mut(-means[j]);
        sds[j] = (c.norm_squared() / c.len() as f64).sqrt();
        c /= sds[j];
    }
    (xs, means, sds)
}

fn main() -> Res<()> {
    let (xtr, ytr) = simulate(N_TRAIN, 1)?;
    let (xte, yte) = simulate(5000, 2)?;
    println!(
        "y = sin(πx) + N(0, {NOISE_SD}²), x ~ U(−1, 1): {N_TRAIN} training points (seed 1), {} test points (seed 2).",
        yte.len()
    );
    println!(
        "Noise variance (the best achievable test MSE): noise_variance = {:.4}\n",
        NOISE_SD * NOISE_SD
    );

    println!("== 1. Least squares (flat prior) by degree\n");
    println!("{:>6} {:>12} {:>12}", "degree", "train_mse", "test_mse");
    for d in 1..=DEGREE {
        let (ftr, fte) = (powers(&xtr, d), powers(&xte, d));
        let (tr, te, _) = errors(0.0, (&ftr, &ytr), (&fte, &yte))?;
        println!("{d:>6} {tr:>12.5} {te:>12.5}");
    }
    println!();

    let ftr = powers(&xtr, DEGREE);
    let fte = powers(&xte, DEGREE);
    let n = N_TRAIN as f64;
    println!("== 2. Degree {DEGREE} with a Gaussian prior N(0, τ²), λ = σ²/τ² (sum convention)\n");
    println!("(df = effective number of parameters Σ dᵢ²/(dᵢ² + λ) of the standardized design, + 1 for the intercept)\n");
    println!(
        "{:>10} {:>12} {:>8} {:>12} {:>12} {:>10}",
        "lambda_sum", "glmnet_λ", "df", "train_mse", "test_mse", "‖w‖"
    );
    let grid: Vec<f64> = std::iter::once(0.0)
        .chain((0..=5).map(|k| 10f64.powi(k)))
        .collect();
    let (xs, means, sds) = standardized(&ftr);
    let mut best = (f64::INFINITY, 0.0);
    for &lambda in &grid {
        let (tr, te, norm) = errors(lambda, (&ftr, &ytr), (&fte, &yte))?;
        let df = closed_form::effective_degrees_of_freedom(&xs, lambda)? + 1.0;
        if te < best.0 {
            best = (te, lambda);
        }
        println!(
            "{lambda:>10.0e} {:>12.4e} {df:>8.3} {tr:>12.5} {te:>12.5} {norm:>10.3}",
            lambda / n
        );
    }
    println!();
    // λ = 0 needs a full-rank design: 8 points cannot determine 11 parameters.
    let (x8, y8) = (ftr.rows(0, 8).into_owned(), ytr.rows(0, 8).into_owned());
    match map_fit(0.0, &x8, &y8) {
        Ok(_) => println!("flat_prior_on_8_points = fitted   (unexpected)"),
        Err(e) => println!("flat_prior_on_8_points = error   ({e})"),
    }
    let (w8, _) = map_fit(1.0, &x8, &y8)?;
    println!(
        "gaussian_prior_on_8_points = ok   (λ = 1: ‖w‖ = {:.3})",
        w8.norm()
    );
    println!(
        "best_table_lambda = {:e}   (lowest test error of the table, {:.5})\n",
        best.1, best.0
    );

    println!("== 3. Choosing λ from the training data alone\n");
    // Cross-validation along a ridge path (mix 0) on a fine grid. The path's objective is
    // glmnet's mean convention (1/2n)‖y − Xw − b‖² + λ_mean·½‖w‖², so λ_mean = λ_sum/n; it
    // standardizes like the fits above, so the prior sits on the same coefficients.
    let sum_grid: Vec<f64> = (0..=40)
        .map(|k| 10f64.powf(-3.0 + 0.2 * k as f64))
        .collect();
    let path = Path::new(likelihood::Gaussian::default(), 0.0)
        .lambdas(sum_grid.iter().map(|l| l / n).collect());
    let cv = CrossValidation::new(path)
        .folds(5)
        .seed(1)
        .fit(&ftr, &ytr)?;
    let cv_min = cv.lambda_min() * n;
    let cv_1se = cv.lambda_1se() * n;
    let (_, te_min, _) = errors(cv_min, (&ftr, &ytr), (&fte, &yte))?;
    let (_, te_1se, _) = errors(cv_1se, (&ftr, &ytr), (&fte, &yte))?;
    println!(
        "5-fold CV (seed 1) over {} λ from 1e-3 to 1e5 (λ held fixed in glmnet's mean convention across folds):",
        sum_grid.len()
    );
    println!(
        "cv_lambda_min = {cv_min:.4e}   (glmnet λ {:.4e}, CV MSE {:.5})",
        cv.lambda_min(),
        cv.cvm()[cv.index_min()]
    );
    println!(
        "cv_lambda_1se = {cv_1se:.4e}   (glmnet λ {:.4e}, CV MSE {:.5})",
        cv.lambda_1se(),
        cv.cvm()[cv.index_1se()]
    );
    println!("test_mse_cv_min = {te_min:.5}");
    println!("test_mse_cv_1se = {te_1se:.5}");

    // Evidence maximization: noise precision α and prior precision λ_w (scikit-learn's
    // BayesianRidge); the sum-convention ridge λ is σ²/τ² = λ_w/α.
    let ev = BayesianRidge::new().tolerance(1e-10)?.fit(&xs, &ytr)?;
    let ev_lambda = ev.lambda() / ev.alpha();
    // Back to the original scale of the powers: w = m/s, b = b_s − Σ x̄ⱼwⱼ.
    let ev_w = ev.coefficients().component_div(&sds);
    let ev_b = ev.intercept() - means.dot(&ev_w);
    let ev_pred = (&fte * &ev_w).add_scalar(ev_b);
    let te_ev = mse(&ev_pred, &yte);
    let (w_map, b_map) = map_fit(ev_lambda, &ftr, &ytr)?;
    let ev_vs_map = (&ev_w - &w_map).amax().max((ev_b - b_map).abs());
    println!(
        "\nEvidence (type-II ML, {} iterations): σ² = 1/α = {:.5}, τ² = 1/λ_w = {:.4}, γ = {:.3} effective parameters",
        ev.iterations(),
        1.0 / ev.alpha(),
        1.0 / ev.lambda(),
        ev.effective_parameters()
    );
    println!(
        "evidence_lambda = {ev_lambda:.4e}   (σ²/τ², glmnet λ {:.4e})",
        ev_lambda / n
    );
    println!("evidence_noise_variance = {:.5}", 1.0 / ev.alpha());
    println!("test_mse_evidence = {te_ev:.5}");
    println!(
        "max_abs_diff evidence_mean_vs_map = {ev_vs_map:.3e}   (the evidence fit's posterior mean is the MAP at its λ)"
    );
    println!(
        "\nReading: λ = 0 (flat prior) fits the noise; λ = 1e5 flattens the curve to the mean of y. \
         CV and the evidence, from the training data only, land in between; at the CV minimum \
         and at the evidence's λ the test error is below that of the best λ of the coarse table."
    );
    Ok(())
}
