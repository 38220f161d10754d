//! The Gaussian likelihood with known noise variance.

use super::Likelihood;
use crate::error::{check_positive, Result};
use std::f64::consts::PI;

/// `yᵢ ~ N(ηᵢ, σ²)` with σ² known (identity link).
///
/// # Formula
/// ```text
/// −ln p(y | η) = (y − η)²/(2σ²) + ½·ln(2πσ²)
/// ∂/∂η         = (η − y)/σ²
/// ∂²/∂η²       = 1/σ²
/// ```
/// Summed over the observations, `−ln p(y | X, w) = ‖y − Xw − b‖²/(2σ²) + (n/2)·ln(2πσ²)`, so
/// the Gaussian likelihood is least squares. σ² only rescales λ (see
/// [`crate::prior::Convention`]); it matters for the log posterior and for uncertainty.
///
/// # Example
/// ```
/// use mapfit::likelihood::{Gaussian, Likelihood};
/// use statrs::distribution::{Continuous, Normal};
/// # fn main() -> mapfit::Result<()> {
/// let lik = Gaussian::new(4.0)?; // σ² = 4
/// let normal = Normal::new(1.0, 2.0).unwrap();
/// assert!((-lik.nll(3.0, 1.0) - normal.ln_pdf(3.0)).abs() < 1e-14);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gaussian {
    sigma2: f64,
    half_ln_2pi_sigma2: f64,
}

impl Gaussian {
    /// Noise variance `sigma2` (σ², not σ).
    ///
    /// # Errors
    /// `sigma2` not finite and > 0.
    pub fn new(sigma2: f64) -> Result<Self> {
        let sigma2 = check_positive("noise variance sigma2", sigma2)?;
        Ok(Gaussian {
            sigma2,
            half_ln_2pi_sigma2: 0.5 * (2.0 * PI * sigma2).ln(),
        })
    }

    /// The noise variance σ².
    pub fn sigma2(&self) -> f64 {
        self.sigma2
    }
}

impl Default for Gaussian {
    /// σ² = 1.
    fn default() -> Self {
        Gaussian {
            sigma2: 1.0,
            half_ln_2pi_sigma2: 0.5 * (2.0 * PI).ln(),
        }
    }
}

impl Likelihood for Gaussian {
    fn name(&self) -> &'static str {
        "Gaussian"
    }
    fn check_response(&self, _y: &[f64]) -> Result<()> {
        Ok(())
    }
    #[inline]
    fn nll(&self, y: f64, eta: f64) -> f64 {
        let r = y - eta;
        r * r / (2.0 * self.sigma2) + self.half_ln_2pi_sigma2
    }
    #[inline]
    fn nll_derivative(&self, y: f64, eta: f64) -> f64 {
        (eta - y) / self.sigma2
    }
    #[inline]
    fn nll_second_derivative(&self, _y: f64, _eta: f64) -> f64 {
        1.0 / self.sigma2
    }
    #[inline]
    fn mean(&self, eta: f64) -> f64 {
        eta
    }
    fn saturated_nll(&self, _y: f64) -> f64 {
        self.half_ln_2pi_sigma2
    }
    fn gaussian_noise_variance(&self) -> Option<f64> {
        Some(self.sigma2)
    }
}
