//! The Laplace prior: lasso / L1, exact zeros through the soft-threshold.

use super::{unsupported_convention, Convention, ElasticPenalty, PenaltyFactors, Prior};
use crate::closed_form::soft_threshold;
use crate::error::{check_positive, Result};
use nalgebra::DMatrix;

/// Independent Laplace prior `w_j ~ Laplace(0, b/f_j)`.
///
/// # Formula
/// ```text
/// ln p(w) = Σ_j [ ln(f_j/(2b)) − f_j·|w_j|/b ]             (sum over f_j > 0)
/// penalty(w) = Σ_j f_j·|w_j|/b
/// prox_j(v, t) = S(v, t·f_j/b) = sign(v)·max(|v| − t·f_j/b, 0)   (the soft-threshold)
/// ```
/// where `b` is the scale and `f_j` the penalty factor. The log-density is written in log
/// space, so it stays finite far in the tails.
///
/// With a Gaussian likelihood of noise variance σ², the MAP is the lasso with `λ = σ²/b` in
/// the sum convention `½‖y−Xw‖² + λ‖w‖₁` and `λ = σ²/(nb)` in glmnet's and scikit-learn's
/// `(1/2n)‖y−Xw‖² + λ‖w‖₁`.
///
/// # Example
/// ```
/// use mapfit::prior::{Convention, Laplace, Prior};
/// # fn main() -> mapfit::Result<()> {
/// let prior = Laplace::new(0.5)?;
/// assert_eq!(prior.prox(0, 3.0, 1.0), 1.0); // S(3, 1/0.5)
/// assert_eq!(prior.prox(0, -1.5, 1.0), 0.0); // exact zero
/// let sk_alpha = prior.lambda(Convention::Mean { n: 10.0, sigma2: 1.0 })?;
/// assert!((sk_alpha - 0.2).abs() < 1e-15);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Laplace {
    rate: f64,
    factors: PenaltyFactors,
}

impl Laplace {
    /// `Laplace(0, scale)` on every coefficient.
    ///
    /// # Errors
    /// `scale` not finite and > 0.
    pub fn new(scale: f64) -> Result<Self> {
        Self::with_rate(1.0 / check_positive("prior scale", scale)?)
    }

    /// `Laplace(0, 1/rate)` on every coefficient (`rate` is the L1 weight in the
    /// negative-log-posterior units).
    ///
    /// # Errors
    /// `rate` not finite and > 0.
    pub fn with_rate(rate: f64) -> Result<Self> {
        Ok(Laplace {
            rate: check_positive("prior rate", rate)?,
            factors: PenaltyFactors::uniform(),
        })
    }

    /// The prior whose L1 penalty is `lambda` in `convention`: `b = factor/λ`.
    ///
    /// # Errors
    /// `lambda` not > 0, an invalid convention, or scikit-learn's Ridge convention.
    pub fn from_lambda(lambda: f64, convention: Convention) -> Result<Self> {
        if let Convention::SklearnRidge { .. } = convention {
            return Err(unsupported_convention("Laplace"));
        }
        let lambda = check_positive("lambda", lambda)?;
        Self::with_rate(lambda / convention.factor()?)
    }

    /// Sets per-coefficient penalty factors (glmnet's `penalty.factor`).
    ///
    /// # Errors
    /// Invalid factors.
    pub fn with_penalty_factors(mut self, factors: Vec<f64>) -> Result<Self> {
        self.factors = PenaltyFactors::new(factors)?;
        Ok(self)
    }

    /// The scale `b`.
    pub fn scale(&self) -> f64 {
        1.0 / self.rate
    }
    /// The rate `1/b`.
    pub fn rate(&self) -> f64 {
        self.rate
    }
    /// The penalty factors.
    pub fn factors(&self) -> &PenaltyFactors {
        &self.factors
    }
    #[inline]
    fn rate_of(&self, j: usize) -> f64 {
        self.rate * self.factors.get(j)
    }
}

impl Prior for Laplace {
    fn describe(&self) -> String {
        if self.factors.is_uniform() {
            format!("Laplace(b = {:.6})", self.scale())
        } else {
            format!("Laplace(b = {:.6}, per-coefficient factors)", self.scale())
        }
    }
    fn check_dimension(&self, p: usize) -> Result<()> {
        self.factors.check_dimension(p)
    }
    fn penalty(&self, w: &[f64]) -> f64 {
        w.iter()
            .enumerate()
            .map(|(j, &a)| self.rate_of(j) * a.abs())
            .sum()
    }
    fn ln_normalizer(&self, p: usize) -> f64 {
        (0..p)
            .map(|j| self.rate_of(j))
            .filter(|&r| r > 0.0)
            .map(|r| (r / 2.0).ln())
            .sum()
    }
    fn is_smooth(&self) -> bool {
        false
    }
    fn penalty_gradient(&self, w: &[f64], out: &mut [f64]) {
        for (j, (o, &a)) in out.iter_mut().zip(w).enumerate() {
            *o = if a == 0.0 {
                0.0
            } else {
                self.rate_of(j) * a.signum()
            };
        }
    }
    fn add_penalty_hessian(&self, _w: &[f64], _h: &mut DMatrix<f64>) {}
    fn elastic(&self, p: usize) -> Option<ElasticPenalty> {
        Some(ElasticPenalty {
            l1: (0..p).map(|j| self.rate_of(j)).collect(),
            l2: vec![0.0; p],
        })
    }
    fn prox(&self, j: usize, v: f64, t: f64) -> f64 {
        soft_threshold(v, t * self.rate_of(j))
    }
    fn lambda(&self, convention: Convention) -> Result<f64> {
        if let Convention::SklearnRidge { .. } = convention {
            return Err(unsupported_convention("Laplace"));
        }
        Ok(convention.factor()? * self.rate)
    }
}
