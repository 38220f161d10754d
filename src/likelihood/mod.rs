//! Likelihoods: the data term, written over the linear predictor `η = offset + Xw + b`.
//!
//! A likelihood gives, per observation, the exact negative log-density `−ln p(y | η)` and its
//! first and second derivatives in η. The solvers need nothing else: the gradient of the data
//! term is `Xᵀ(v ∘ ℓ′(η))` and its Hessian `Xᵀ diag(v ∘ ℓ″(η)) X` (the IRLS weights), with
//! `v` the observation weights. A new family is one new file implementing [`Likelihood`].

mod bernoulli;
mod gaussian;
mod poisson;

pub use bernoulli::Bernoulli;
pub use gaussian::Gaussian;
pub use poisson::Poisson;

use crate::error::Result;
use std::fmt::Debug;

/// The data term of a MAP problem, per observation, as a function of the linear predictor.
///
/// A likelihood is a value (`'static`: it owns its parameters), so fits can keep it for
/// predictions.
pub trait Likelihood: Debug + Clone + Send + Sync + 'static {
    /// The family's name (`"Gaussian"`, …).
    fn name(&self) -> &'static str;

    /// Checks that every `y` is in the support.
    ///
    /// # Errors
    /// [`crate::Error::InvalidResponse`] naming the first offending row.
    fn check_response(&self, y: &[f64]) -> Result<()>;

    /// `−ln p(y | η)`, exact (normalizing constants included).
    fn nll(&self, y: f64, eta: f64) -> f64;

    /// `∂/∂η [−ln p(y | η)]`.
    fn nll_derivative(&self, y: f64, eta: f64) -> f64;

    /// `(nll(y, η), nll_derivative(y, η))` together, with the same bits as the two calls; a
    /// family overrides it to share the work (one `exp` for both).
    #[inline]
    fn nll_and_derivative(&self, y: f64, eta: f64) -> (f64, f64) {
        (self.nll(y, eta), self.nll_derivative(y, eta))
    }

    /// `∂²/∂η² [−ln p(y | η)]` (the IRLS weight; ≥ 0 for the families here).
    fn nll_second_derivative(&self, y: f64, eta: f64) -> f64;

    /// The mean `E[y | η]` (the inverse link).
    fn mean(&self, eta: f64) -> f64;

    /// `−ln p(y | η̂(y))` at the saturated fit (the smallest `nll` any η achieves for this y).
    fn saturated_nll(&self, y: f64) -> f64;

    /// Unit deviance `2·[nll(y, η) − saturated_nll(y)]`.
    fn deviance(&self, y: f64, eta: f64) -> f64 {
        2.0 * (self.nll(y, eta) - self.saturated_nll(y))
    }

    /// `lim_{t→∞} nll(y, η + t·u)/t`: how fast one observation's negative log-likelihood grows
    /// as η moves to infinity in direction `u`. A direction of the unpenalized parameters along
    /// which every observation has slope 0 leaves the likelihood non-increasing forever, so the
    /// MAP does not exist (separable classes, all-zero counts). The default, `+∞` for `u ≠ 0`,
    /// fits any likelihood that grows without bound on both sides (the Gaussian).
    fn recession_slope(&self, _y: f64, u: f64) -> f64 {
        if u == 0.0 {
            0.0
        } else {
            f64::INFINITY
        }
    }

    /// The noise variance σ² if this is the Gaussian (identity-link) family, which lets the
    /// front door use closed forms and coordinate descent on least squares.
    fn gaussian_noise_variance(&self) -> Option<f64> {
        None
    }

    /// The dispersion that scales λ conventions: σ² for the Gaussian family, 1 otherwise.
    fn dispersion(&self) -> f64 {
        self.gaussian_noise_variance().unwrap_or(1.0)
    }
}
