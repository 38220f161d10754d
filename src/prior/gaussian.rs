//! The Gaussian prior `N(0, τ²)`: ridge / L2 / weight decay.

use super::{Convention, ElasticPenalty, PenaltyFactors, Prior};
use crate::error::{check_positive, Error, Result};
use nalgebra::DMatrix;
use std::f64::consts::PI;

/// Independent zero-mean Gaussian prior `w_j ~ N(0, τ_j²)` with `τ_j² = τ²/f_j`.
///
/// # Formula
/// ```text
/// ln p(w) = Σ_j [ ½·ln(f_j/(2πτ²)) − f_j·w_j²/(2τ²) ]      (sum over f_j > 0)
/// penalty(w) = Σ_j f_j·w_j²/(2τ²)
/// prox_j(v, t) = v / (1 + t·f_j/τ²)
/// ```
/// where τ is the scale (standard deviation) and `f_j` the penalty factor (1 unless set;
/// `f_j = 0` makes `w_j` unpenalized, with an improper flat prior).
///
/// With a Gaussian likelihood of noise variance σ², the MAP is the ridge estimate with
/// `λ = σ²/τ²` in the sum convention `½‖y−Xw‖² + (λ/2)‖w‖²` and `λ = σ²/(nτ²)` in glmnet's
/// `(1/2n)‖y−Xw‖² + (λ/2)‖w‖²` (see [`Convention`]).
///
/// # Example
/// ```
/// use mapfit::prior::{Convention, Gaussian, Prior};
/// # fn main() -> mapfit::Result<()> {
/// let prior = Gaussian::new(2.0)?; // τ = 2
/// assert_eq!(prior.penalty(&[2.0]), 0.5); // 2²/(2·2²)
/// // glmnet's λ for n = 100 observations of noise variance 1:
/// let lambda = prior.lambda(Convention::Mean { n: 100.0, sigma2: 1.0 })?;
/// assert!((lambda - 1.0 / 400.0).abs() < 1e-15);
/// let back = Gaussian::from_lambda(lambda, Convention::Mean { n: 100.0, sigma2: 1.0 })?;
/// assert!((back.scale() - 2.0).abs() < 1e-12);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Gaussian {
    precision: f64,
    factors: PenaltyFactors,
}

impl Gaussian {
    /// `N(0, scale²)` on every coefficient.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `scale` is finite and > 0.
    pub fn new(scale: f64) -> Result<Self> {
        let s = check_positive("prior scale", scale)?;
        Self::with_precision(1.0 / (s * s))
    }

    /// `N(0, 1/precision)` on every coefficient.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `precision` is finite and > 0.
    pub fn with_precision(precision: f64) -> Result<Self> {
        Ok(Gaussian {
            precision: check_positive("prior precision", precision)?,
            factors: PenaltyFactors::uniform(),
        })
    }

    /// A different scale `τ_j` per coefficient (`f64::INFINITY` for an unpenalized one).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a scale that is not > 0 (∞ is allowed),
    /// [`Error::EmptyData`] for an empty vector.
    pub fn per_coefficient(scales: &[f64]) -> Result<Self> {
        let mut f = Vec::with_capacity(scales.len());
        for &s in scales {
            if s.is_nan() || s <= 0.0 {
                return Err(Error::InvalidParameter {
                    name: "prior scale",
                    value: s,
                    reason: "must be > 0 (infinity for no penalty)",
                });
            }
            f.push(1.0 / (s * s));
        }
        Ok(Gaussian {
            precision: 1.0,
            factors: PenaltyFactors::new(f)?,
        })
    }

    /// The prior whose ridge penalty is `lambda` in `convention`: `τ² = factor/λ` with the
    /// factor σ² (sum conventions) or σ²/n (mean convention).
    ///
    /// # Errors
    /// `lambda` not finite and > 0, or an invalid convention.
    pub fn from_lambda(lambda: f64, convention: Convention) -> Result<Self> {
        let lambda = check_positive("lambda", lambda)?;
        Self::with_precision(lambda / convention.factor()?)
    }

    /// Sets per-coefficient penalty factors (glmnet's `penalty.factor`).
    ///
    /// # Errors
    /// Invalid factors (negative, non-finite).
    pub fn with_penalty_factors(mut self, factors: Vec<f64>) -> Result<Self> {
        self.factors = PenaltyFactors::new(factors)?;
        Ok(self)
    }

    /// The scale τ (standard deviation) before penalty factors.
    pub fn scale(&self) -> f64 {
        1.0 / self.precision.sqrt()
    }
    /// The precision `1/τ²` before penalty factors.
    pub fn precision(&self) -> f64 {
        self.precision
    }
    /// The penalty factors.
    pub fn factors(&self) -> &PenaltyFactors {
        &self.factors
    }
    /// Precision of coefficient `j`: `f_j/τ²`.
    #[inline]
    pub fn precision_of(&self, j: usize) -> f64 {
        self.precision * self.factors.get(j)
    }
}

impl Prior for Gaussian {
    fn describe(&self) -> String {
        if self.factors.is_uniform() {
            format!("Gaussian(τ = {:.6})", self.scale())
        } else {
            format!("Gaussian(τ = {:.6}, per-coefficient factors)", self.scale())
        }
    }
    fn check_dimension(&self, p: usize) -> Result<()> {
        self.factors.check_dimension(p)
    }
    fn penalty(&self, w: &[f64]) -> f64 {
        w.iter()
            .enumerate()
            .map(|(j, &a)| 0.5 * self.precision_of(j) * a * a)
            .sum()
    }
    fn ln_normalizer(&self, p: usize) -> f64 {
        (0..p)
            .map(|j| self.precision_of(j))
            .filter(|&q| q > 0.0)
            .map(|q| 0.5 * (q / (2.0 * PI)).ln())
            .sum()
    }
    fn is_smooth(&self) -> bool {
        true
    }
    fn penalty_gradient(&self, w: &[f64], out: &mut [f64]) {
        for (j, (o, &a)) in out.iter_mut().zip(w).enumerate() {
            *o = self.precision_of(j) * a;
        }
    }
    fn add_penalty_hessian(&self, w: &[f64], h: &mut DMatrix<f64>) {
        for j in 0..w.len() {
            h[(j, j)] += self.precision_of(j);
        }
    }
    fn elastic(&self, p: usize) -> Option<ElasticPenalty> {
        Some(ElasticPenalty {
            l1: vec![0.0; p],
            l2: (0..p).map(|j| self.precision_of(j)).collect(),
        })
    }
    fn prox(&self, j: usize, v: f64, t: f64) -> f64 {
        v / (1.0 + t * self.precision_of(j))
    }
    fn lambda(&self, convention: Convention) -> Result<f64> {
        Ok(convention.factor()? * self.precision)
    }
}
