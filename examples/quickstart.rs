//! The README's quick start: a lasso fit written as what it is, the MAP under a Laplace prior.
//!
//! Six observations of `y = 1 + 2·x₁ + noise` with an irrelevant second column `x₂`. The prior
//! is given by glmnet's λ = 0.1 in the **mean** convention, `(1/2n)‖y − Xw − b‖² + λ‖w‖₁`,
//! with noise variance σ² = 1; mapfit turns it into the Laplace prior of scale
//! `b = σ²/(nλ)`, so the fit minimizes the negative log posterior
//! `‖y − Xw − b‖²/(2σ²) + ‖w‖₁/b` (sum convention, `α = σ²/b = nλ`). The intercept has a flat
//! prior (it is not penalized).
//!
//! Prints the intercept, the coefficients (the second is an exact zero: the soft-threshold)
//! and the convergence certificate, as `key = value` lines.
//!
//! ```sh
//! cargo run --release --example quickstart
//! ```

use mapfit::prior::{Convention, Laplace};
use mapfit::{likelihood, Map};
use nalgebra::{DMatrix, DVector};

fn main() -> mapfit::Result<()> {
    // y = 1 + 2·x₁ + noise; x₂ is irrelevant.
    #[rustfmt::skip]
    let x = DMatrix::from_row_slice(6, 2, &[
        0.0, 0.3,   1.0, -0.2,   2.0, 0.1,
        3.0, 0.4,   4.0, -0.5,   5.0, 0.0,
    ]);
    let y = DVector::from_vec(vec![1.1, 2.9, 5.2, 6.8, 9.1, 11.0]);

    // A Laplace prior (the lasso) at glmnet's λ = 0.1, noise variance σ² = 1.
    let lambda = 0.1;
    let prior = Laplace::from_lambda(
        lambda,
        Convention::Mean {
            n: 6.0,
            sigma2: 1.0,
        },
    )?;
    let scale = prior.scale();
    let fit = Map::new(likelihood::Gaussian::default(), prior).fit(&x, &y)?;

    println!("Quick start: y = 1 + 2·x1 + noise (6 rows), x2 irrelevant.");
    println!("Laplace prior from glmnet's λ = {lambda} (mean loss, σ² = 1): scale b = σ²/(nλ).\n");
    println!("lambda_glmnet = {lambda}");
    println!("laplace_scale = {scale:.6}");
    println!("intercept = {:.6}", fit.intercept());
    for (j, w) in fit.coefficients().iter().enumerate() {
        let note = if *w == 0.0 {
            "   (exact zero: inside the soft-threshold)"
        } else {
            ""
        };
        println!("w{} = {w:.6}{note}", j + 1);
    }
    println!("nonzeros = {}", fit.nonzeros());
    println!("converged = {}", fit.convergence().converged);
    println!("solver = {}", fit.method().name());
    println!("convergence: {}", fit.convergence());
    println!(
        "\nb = {:.3}, w = {:?}",
        fit.intercept(),
        fit.coefficients().as_slice()
    );
    Ok(())
}
