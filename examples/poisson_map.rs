//! Poisson regression for counts with an exposure, as a MAP estimate with a Gaussian and a
//! Laplace prior.
//!
//! Data (simulated, seeded): 400 units observed for `tᵢ ~ U(0.5, 10)` years each, 6
//! standard-normal covariates, counts `yᵢ ~ Poisson(tᵢ·exp(b + xᵢᵀw))` with log-rate intercept
//! `b = −1` and `w = (0.5, −0.3, 0, 0.2, 0, 0)`.
//!
//! The exposure enters as the offset `ln tᵢ` (`Map::offset`): the linear predictor is
//! `ηᵢ = ln tᵢ + b + xᵢᵀw`, so `exp(b + xᵢᵀw)` is a rate per year and `exp(wⱼ)` a rate ratio.
//! Costs (the **sum** convention, mapfit's native scale):
//! ```text
//! Gaussian prior N(0, τ²):  Σᵢ [μᵢ − yᵢηᵢ + ln yᵢ!] + ‖w‖²/(2τ²),   μᵢ = e^ηᵢ
//! Laplace prior (0, b):     Σᵢ [μᵢ − yᵢηᵢ + ln yᵢ!] + ‖w‖₁/b
//! ```
//! glmnet (`family = "poisson"`, `offset = log(t)`) divides the first sum by n: its λ is
//! `1/(nτ²)` (ridge, `½‖w‖²`) or `1/(n·b)` (lasso). The intercept is unpenalized, so at the
//! MAP the expected counts add up to the observed total (the intercept's score equation
//! `Σ(yᵢ − μᵢ) = 0`); the example prints both. It also shows what ignoring the exposure does.
//!
//! ```sh
//! cargo run --release --example poisson_map
//! ```

use mapfit::likelihood::Poisson;
use mapfit::prior::{Convention, Gaussian, Laplace};
use mapfit::sampling::SampleResponse;
use mapfit::{Fit, Map};
use nalgebra::{DMatrix, DVector};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const B_TRUE: f64 = -1.0;

fn main() -> Res<()> {
    let w_true = DVector::from_vec(vec![0.5, -0.3, 0.0, 0.2, 0.0, 0.0]);
    let (n, p) = (400usize, w_true.len());
    let mut rng = StdRng::seed_from_u64(21);
    let x = DMatrix::from_fn(n, p, |_, _| StandardNormal.sample(&mut rng));
    let t = DVector::from_fn(n, |_, _| rng.random_range(0.5..10.0));
    let offset = t.map(f64::ln);
    let eta = (&x * &w_true).add_scalar(B_TRUE) + &offset;
    let mut y = DVector::zeros(n);
    for i in 0..n {
        y[i] = Poisson.sample_response(eta[i], &mut rng)?;
    }
    println!(
        "{n} units, exposures {:.2}–{:.2} years (total {:.1}), {} events; {p} covariates.",
        t.min(),
        t.max(),
        t.sum(),
        y.sum()
    );
    println!(
        "log rate = b + xᵀw with b = {B_TRUE}, w = {:?}\n",
        w_true.as_slice()
    );

    let nf = n as f64;
    let tau = 1.0;
    let glmnet_lambda = 0.15;
    let laplace = Laplace::from_lambda(glmnet_lambda, Convention::Mean { n: nf, sigma2: 1.0 })?;
    println!(
        "Gaussian prior τ = {tau} (glmnet ridge λ = 1/(nτ²) = {:.3e});",
        1.0 / (nf * tau * tau)
    );
    println!(
        "Laplace prior from glmnet's λ = {glmnet_lambda}: b = 1/(nλ) = {:.4}.\n",
        laplace.scale()
    );
    let ridge = Map::new(Poisson, Gaussian::new(tau)?)
        .offset(offset.clone())
        .fit(&x, &y)?;
    let lasso = Map::new(Poisson, laplace)
        .offset(offset.clone())
        .fit(&x, &y)?;
    let no_exposure = Map::new(Poisson, Gaussian::new(tau)?).fit(&x, &y)?;

    println!(
        "{:>10} {:>8} {:>12} {:>12} {:>12} {:>14}",
        "", "truth", "Gaussian", "Laplace", "rate ratio", "no offset (!)"
    );
    println!(
        "{:>10} {:>8.3} {:>12.5} {:>12.5} {:>12} {:>14.5}",
        "intercept",
        B_TRUE,
        ridge.intercept(),
        lasso.intercept(),
        "",
        no_exposure.intercept()
    );
    for j in 0..p {
        let l = lasso.coefficients()[j];
        let l = if l == 0.0 {
            "0 (exact)".to_string()
        } else {
            format!("{l:.5}")
        };
        println!(
            "{:>10} {:>8.3} {:>12.5} {:>12} {:>12.4} {:>14.5}",
            format!("w{}", j + 1),
            w_true[j],
            ridge.coefficients()[j],
            l,
            ridge.coefficients()[j].exp(),
            no_exposure.coefficients()[j]
        );
    }
    println!(
        "  (rate ratio = exp(w) under the Gaussian prior: the factor on the rate per unit of xⱼ)"
    );
    println!(
        "  solvers: Gaussian {} ({}); Laplace {} ({})\n",
        ridge.method().name(),
        ridge.convergence(),
        lasso.method().name(),
        lasso.convergence()
    );

    let rate_gauss = ridge.predict(&x)?; // exp(b + xᵀw): per year (no offset)
    let rate_lasso = lasso.predict(&x)?;
    println!("First units: rate per year exp(b + xᵀw) and expected count t·rate:");
    println!(
        "{:>4} {:>8} {:>6} {:>12} {:>12} {:>12} {:>12}",
        "unit", "t", "y", "rate (G)", "E[y] (G)", "rate (L)", "E[y] (L)"
    );
    for i in 0..6 {
        println!(
            "{i:>4} {:>8.2} {:>6} {:>12.4} {:>12.3} {:>12.4} {:>12.3}",
            t[i],
            y[i],
            rate_gauss[i],
            t[i] * rate_gauss[i],
            rate_lasso[i],
            t[i] * rate_lasso[i]
        );
    }
    println!();
    let expected = |fit: &Fit<Poisson>| -> Res<f64> { Ok(fit.predict(&x)?.dot(&t)) };
    println!("sum_observed = {}", y.sum());
    println!("sum_expected_gaussian = {:.6}", expected(&ridge)?);
    println!("sum_expected_laplace = {:.6}", expected(&lasso)?);
    println!("exact_zeros_gaussian = {}", p - ridge.nonzeros());
    println!("exact_zeros_laplace = {}", p - lasso.nonzeros());
    let err = (ridge.coefficients() - &w_true)
        .amax()
        .max((ridge.intercept() - B_TRUE).abs());
    println!("max_abs_error_gaussian = {err:.4}   (vs the true intercept and coefficients)");
    println!(
        "intercept_without_offset = {:.4}   (absorbs the exposure: b + ln(mean t) ≈ {:.4})",
        no_exposure.intercept(),
        B_TRUE + (t.sum() / nf).ln()
    );
    println!(
        "\nWithout the offset the model explains counts, not rates: the intercept absorbs the \
         average exposure and the coefficients are blurred by the exposure's variation."
    );
    Ok(())
}
