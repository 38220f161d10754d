//! Uncertainty around the MAP: the exact Gaussian posterior of ridge, the Laplace
//! approximation for logistic regression and for a Laplace prior, and a coverage simulation.
//!
//! 1. **Ridge (exact).** Gaussian likelihood with known σ² and prior `N(0, τ²)`: the posterior
//!    of `w` is exactly `N(ŵ, σ²(X̃ᵀX̃ + λI)⁻¹)` with `λ = σ²/τ²` (sum convention) and `X̃` the
//!    centered design (integrating out the flat-prior intercept). The table gives
//!    `estimate ± 1.96·sd` from `Map::laplace_approximation`, checked against that formula.
//! 2. **Logistic (Laplace approximation).** `N(θ̂, H⁻¹)` with `H` the Hessian of the negative
//!    log posterior at the MAP (intercept included).
//! 3. **Laplace prior.** Coefficients that are exactly zero are *pinned*: they get no interval
//!    (the posterior has a kink there, not a Gaussian shape); the others get the Laplace
//!    approximation conditional on the active set.
//! 4. **Coverage.** 200 replications: draw `w` from the prior, `y` from the likelihood, and
//!    count how often the exact 95% interval contains the true `wⱼ` (exact Bayesian coverage:
//!    the answer should be 0.95 up to binomial noise), and the same for the logistic Laplace
//!    approximation (approximate).
//!
//! Output: tables, and `key = value` lines for the checks.
//!
//! ```sh
//! cargo run --release --example uncertainty
//! ```

use mapfit::likelihood::{self, Bernoulli};
use mapfit::posterior::CredibleInterval;
use mapfit::prior::{Gaussian, Laplace};
use mapfit::sampling::{sample_response, SampleCoefficients};
use mapfit::Map;
use nalgebra::{DMatrix, DVector};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const Z95: f64 = 1.959963984540054;

fn normal_matrix(n: usize, p: usize, rng: &mut StdRng) -> DMatrix<f64> {
    DMatrix::from_fn(n, p, |_, _| StandardNormal.sample(rng))
}

fn header() {
    println!(
        "{:>10} {:>9} {:>11} {:>9} {:>22}",
        "", "truth", "estimate", "sd", "95% interval"
    );
}

fn row(name: &str, truth: f64, ci: Option<CredibleInterval>, estimate: f64) {
    match ci {
        Some(ci) => println!(
            "{name:>10} {truth:>9.4} {:>11.5} {:>9.5} {:>22}",
            ci.estimate,
            ci.std_error,
            format!("[{:.4}, {:.4}]", ci.lower, ci.upper)
        ),
        None => println!(
            "{name:>10} {truth:>9.4} {estimate:>11.5} {:>9} {:>22}",
            "—", "none (pinned at 0)"
        ),
    }
}

fn ridge_part(rng: &mut StdRng) -> Res<()> {
    println!("== 1. Gaussian likelihood × Gaussian prior: the exact posterior\n");
    let (n, sigma2, tau) = (40usize, 0.25f64, 1.0f64);
    let w = DVector::from_vec(vec![1.0, -0.5, 0.0, 0.25]);
    let p = w.len();
    let x = normal_matrix(n, p, rng);
    let y = sample_response(&likelihood::Gaussian::new(sigma2)?, &x, &w, 2.0, rng)?;
    let map = Map::new(likelihood::Gaussian::new(sigma2)?, Gaussian::new(tau)?);
    let (fit, post) = map.laplace_approximation(&x, &y)?;
    let lambda = sigma2 / (tau * tau);
    println!(
        "  n = {n}, σ² = {sigma2}, τ = {tau}: λ = σ²/τ² = {lambda}; exact = {}\n",
        post.is_exact()
    );
    header();
    for j in 0..p {
        row(
            &format!("w{}", j + 1),
            w[j],
            post.credible_interval(j, 0.95)?,
            fit.coefficients()[j],
        );
    }
    row("intercept", 2.0, post.credible_interval(p, 0.95)?, 0.0);
    // The textbook covariance σ²(X̃ᵀX̃ + λI)⁻¹ with X̃ the centered design.
    let mut xc = x.clone();
    for mut c in xc.column_iter_mut() {
        let m = c.mean();
        c.add_scalar_mut(-m);
    }
    let mut a = xc.tr_mul(&xc);
    for j in 0..p {
        a[(j, j)] += lambda;
    }
    let cov = a.try_inverse().ok_or("singular")? * sigma2;
    let sd_formula = DVector::from_fn(p, |j, _| cov[(j, j)].sqrt());
    let sd_post = DVector::from_fn(p, |j, _| post.covariance()[(j, j)].sqrt());
    println!();
    println!(
        "max_abs_diff sd_vs_formula = {:.3e}   (sd from σ²(X̃ᵀX̃ + λI)⁻¹)",
        (&sd_post - &sd_formula).amax()
    );
    println!(
        "max_abs_diff interval_vs_estimate_1_96_sd = {:.3e}   (the interval is estimate ± 1.96·sd)\n",
        (0..p)
            .map(|j| -> Res<f64> {
                let ci = post.credible_interval(j, 0.95)?.ok_or("pinned")?;
                Ok((ci.upper - (ci.estimate + Z95 * ci.std_error))
                    .abs()
                    .max((ci.lower - (ci.estimate - Z95 * ci.std_error)).abs()))
            })
            .try_fold(0.0f64, |m, d| d.map(|d| m.max(d)))?
    );
    Ok(())
}

fn logistic_part(rng: &mut StdRng) -> Res<()> {
    println!("== 2. Bernoulli likelihood × Gaussian prior: the Laplace approximation\n");
    let n = 300usize;
    let w = DVector::from_vec(vec![1.5, -1.0, 0.0, 0.5]);
    let p = w.len();
    let x = normal_matrix(n, p, rng);
    let y = sample_response(&Bernoulli, &x, &w, -0.3, rng)?;
    let (fit, post) = Map::new(Bernoulli, Gaussian::new(2.0)?).laplace_approximation(&x, &y)?;
    println!(
        "  n = {n}, prior N(0, 2²), {} positives; exact = {}\n",
        y.sum(),
        post.is_exact()
    );
    header();
    for j in 0..p {
        row(
            &format!("w{}", j + 1),
            w[j],
            post.credible_interval(j, 0.95)?,
            fit.coefficients()[j],
        );
    }
    row("intercept", -0.3, post.credible_interval(p, 0.95)?, 0.0);
    println!();

    println!("== 3. Bernoulli likelihood × Laplace prior: exact zeros get no interval\n");
    let (fit, post) = Map::new(Bernoulli, Laplace::new(0.05)?).laplace_approximation(&x, &y)?;
    println!("  prior Laplace(0, 0.05) (scikit-learn L1 with C = 0.05)\n");
    header();
    for j in 0..p {
        row(
            &format!("w{}", j + 1),
            w[j],
            post.credible_interval(j, 0.95)?,
            fit.coefficients()[j],
        );
    }
    row("intercept", -0.3, post.credible_interval(p, 0.95)?, 0.0);
    println!();
    println!("pinned_coefficients = {}", post.pinned().len());
    println!(
        "exact_zeros_laplace = {}\n",
        fit.coefficients().iter().filter(|&&v| v == 0.0).count()
    );
    Ok(())
}

fn coverage_part(rng: &mut StdRng) -> Res<()> {
    let reps = 200usize;
    println!("== 4. Coverage of 95% intervals, {reps} replications (w drawn from the prior)\n");

    // Exact posterior: Gaussian likelihood, Gaussian prior.
    let (n, p, sigma2, tau) = (25usize, 5usize, 1.0f64, 0.8f64);
    let x = normal_matrix(n, p, rng);
    let lik = likelihood::Gaussian::new(sigma2)?;
    let prior = Gaussian::new(tau)?;
    let map = Map::new(lik, prior.clone());
    let (mut covered, mut total) = (0usize, 0usize);
    for _ in 0..reps {
        let w = prior.sample_coefficients(p, rng)?;
        let y = sample_response(&lik, &x, &w, 0.5, rng)?;
        let (_, post) = map.laplace_approximation(&x, &y)?;
        for (j, &wj) in w.iter().enumerate() {
            let ci = post.credible_interval(j, 0.95)?.ok_or("pinned")?;
            total += 1;
            covered += usize::from(ci.lower <= wj && wj <= ci.upper);
        }
    }
    let rate = covered as f64 / total as f64;
    let se = (0.95 * 0.05 / total as f64).sqrt();
    println!("  ridge, exact posterior (n = {n}, p = {p}, σ² = {sigma2}, τ = {tau}):");
    println!("coverage_exact = {rate:.4}");
    println!("intervals_exact = {total}");
    println!(
        "  binomial band 0.95 ± 3·sd = [{:.4}, {:.4}]\n",
        0.95 - 3.0 * se,
        0.95 + 3.0 * se
    );

    // Laplace approximation: logistic regression.
    let (n, p, tau) = (200usize, 3usize, 1.0f64);
    let x = normal_matrix(n, p, rng);
    let prior = Gaussian::new(tau)?;
    let map = Map::new(Bernoulli, prior.clone());
    let (mut covered, mut total) = (0usize, 0usize);
    for _ in 0..reps {
        let w = prior.sample_coefficients(p, rng)?;
        let y = sample_response(&Bernoulli, &x, &w, 0.0, rng)?;
        let (_, post) = map.laplace_approximation(&x, &y)?;
        for (j, &wj) in w.iter().enumerate() {
            let ci = post.credible_interval(j, 0.95)?.ok_or("pinned")?;
            total += 1;
            covered += usize::from(ci.lower <= wj && wj <= ci.upper);
        }
    }
    println!("  logistic, Laplace approximation (n = {n}, p = {p}, τ = {tau}):");
    println!(
        "coverage_laplace_logistic = {:.4}",
        covered as f64 / total as f64
    );
    println!("intervals_laplace_logistic = {total}");
    println!(
        "\nThe exact posterior's intervals cover at their level by construction; the Laplace \
         approximation's are close when the posterior is close to Gaussian (many observations \
         per parameter)."
    );
    Ok(())
}

fn main() -> Res<()> {
    let mut rng = StdRng::seed_from_u64(31);
    ridge_part(&mut rng)?;
    logistic_part(&mut rng)?;
    coverage_part(&mut rng)
}
