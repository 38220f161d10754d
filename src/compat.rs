//! Conversions from other libraries' penalty parameters to mapfit priors, each in one place
//! and tested against the library's own output.

use crate::error::{check_positive, Error, Result};
use crate::prior::ElasticNet;

/// The prior that reproduces R glmnet's Gaussian-family fit at `lambda` with mixing `alpha`.
///
/// glmnet (family = "gaussian") minimizes
/// `(1/2n)‖y − a₀ − Xb‖² + λ[α‖b‖₁ + (1−α)/2·‖b‖²/s_y]`, where `s_y` is the (weighted)
/// population standard deviation of `y`: glmnet scales `y` to unit variance internally and
/// does not rescale the L2 part back (a documented quirk; the lasso, α = 1, is unaffected).
/// With noise variance σ² = 1 in mapfit's native units that is the elastic penalty
/// `l1 = n·λ·α`, `l2 = n·λ·(1−α)/s_y`. `n` is the number of observations (glmnet rescales
/// weights to sum to n, so with weights pass their sum and scale them to sum to it too).
///
/// Use with `likelihood::Gaussian::default()` (σ² = 1) and `standardize(true)` to match
/// glmnet's default.
///
/// # Errors
/// `lambda`, `n` or `y_sd` not finite and > 0, `alpha` outside `[0, 1]`.
///
/// ```
/// use mapfit::compat::glmnet_gaussian;
/// use mapfit::prior::Prior;
/// # fn main() -> mapfit::Result<()> {
/// let prior = glmnet_gaussian(0.5, 1.0, 100.0, 3.0)?; // a lasso
/// assert_eq!(prior.penalty(&[1.0]), 50.0); // n·λ·|w|
/// # Ok(()) }
/// ```
pub fn glmnet_gaussian(lambda: f64, alpha: f64, n: f64, y_sd: f64) -> Result<ElasticNet> {
    let lambda = check_positive("lambda", lambda)?;
    let n = check_positive("n", n)?;
    let y_sd = check_positive("population sd of y", y_sd)?;
    check_alpha(alpha)?;
    ElasticNet::with_weights(n * lambda * alpha, n * lambda * (1.0 - alpha) / y_sd)
}

/// The prior that reproduces glmnet's binomial or Poisson fit: `−loglik/n + λ[α‖b‖₁ +
/// (1−α)/2·‖b‖²]`, i.e. `l1 = n·λ·α`, `l2 = n·λ·(1−α)` (no response scaling).
///
/// # Errors
/// As [`glmnet_gaussian`].
pub fn glmnet_glm(lambda: f64, alpha: f64, n: f64) -> Result<ElasticNet> {
    let lambda = check_positive("lambda", lambda)?;
    let n = check_positive("n", n)?;
    check_alpha(alpha)?;
    ElasticNet::with_weights(n * lambda * alpha, n * lambda * (1.0 - alpha))
}

fn check_alpha(alpha: f64) -> Result<()> {
    if (0.0..=1.0).contains(&alpha) {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            name: "glmnet alpha (elastic-net mix)",
            value: alpha,
            reason: "must be in [0, 1]",
        })
    }
}
