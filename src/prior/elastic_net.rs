//! The elastic-net prior: the product of a Laplace and a Gaussian density.

use super::{unsupported_convention, Convention, ElasticPenalty, PenaltyFactors, Prior};
use crate::closed_form::soft_threshold;
use crate::error::{check_non_negative, Error, Result};
use nalgebra::DMatrix;
use std::f64::consts::PI;

/// Elastic-net prior: `p(w_j) ∝ exp(−a_j·|w_j| − ½·c_j·w_j²)` with `a_j = f_j/b` and
/// `c_j = f_j/τ²`, the normalized product of a Laplace and a Gaussian density.
///
/// # Formula
/// ```text
/// penalty(w)   = Σ_j a_j·|w_j| + ½·c_j·w_j²
/// Z(a, c)      = ∫ exp(−a|w| − ½cw²) dw = 2·√(π/2c)·erfcx(a/√(2c))      (c > 0)
///              = 2/a (c = 0),  √(2π/c) (a = 0)
/// ln p(w)      = −Σ_j ln Z(a_j, c_j) − penalty(w)
/// prox_j(v, t) = S(v, t·a_j) / (1 + t·c_j)
/// ```
/// with `erfcx(x) = exp(x²)·erfc(x)` evaluated without overflow.
///
/// In glmnet's mean-loss convention `(1/2n)‖y−Xw‖² + λ[(1−m)/2‖w‖² + m‖w‖₁]` (m is glmnet's
/// `alpha`, scikit-learn's `l1_ratio`): `λ·m = σ²/(nb)` and `λ·(1−m) = σ²/(nτ²)`.
/// mix `m = 1` is the Laplace prior, `m = 0` the Gaussian prior.
///
/// # Example
/// ```
/// use mapfit::prior::{Convention, ElasticNet, Prior};
/// # fn main() -> mapfit::Result<()> {
/// let conv = Convention::Mean { n: 50.0, sigma2: 1.0 };
/// let prior = ElasticNet::from_lambda(0.1, 0.5, conv)?;
/// assert!((prior.lambda(conv)? - 0.1).abs() < 1e-15);
/// assert!((prior.mix() - 0.5).abs() < 1e-15);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ElasticNet {
    rate: f64,
    precision: f64,
    factors: PenaltyFactors,
}

/// `ln erfcx(x) = x² + ln erfc(x)` for `x ≥ 0`, without overflow or underflow.
fn ln_erfcx(x: f64) -> f64 {
    if x < 25.0 {
        x * x + statrs::function::erf::erfc(x).ln()
    } else {
        // Asymptotic series erfcx(x) ~ 1/(x√π)·(1 − 1/(2x²) + 3/(4x⁴) − 15/(8x⁶)).
        let z = 1.0 / (x * x);
        -(x * PI.sqrt()).ln() + (1.0 - 0.5 * z + 0.75 * z * z - 1.875 * z * z * z).ln()
    }
}

/// `ln Z(a, c)` of the one-dimensional elastic-net density (see [`ElasticNet`]).
pub(crate) fn ln_partition(a: f64, c: f64) -> f64 {
    if c == 0.0 {
        (2.0 / a).ln()
    } else if a == 0.0 {
        (2.0 * PI / c).sqrt().ln()
    } else {
        std::f64::consts::LN_2 + 0.5 * (PI / (2.0 * c)).ln() + ln_erfcx(a / (2.0 * c).sqrt())
    }
}

impl ElasticNet {
    /// The product of a `Laplace(0, b)` and a `N(0, τ²)` density (renormalized).
    ///
    /// # Errors
    /// Either scale not finite and > 0.
    pub fn new(laplace_scale: f64, gaussian_scale: f64) -> Result<Self> {
        let b = crate::error::check_positive("laplace scale", laplace_scale)?;
        let t = crate::error::check_positive("gaussian scale", gaussian_scale)?;
        Ok(ElasticNet {
            rate: 1.0 / b,
            precision: 1.0 / (t * t),
            factors: PenaltyFactors::uniform(),
        })
    }

    /// glmnet's `λ[(1−mix)/2‖w‖² + mix‖w‖₁]` in `convention`. `mix ∈ [0, 1]`.
    ///
    /// # Errors
    /// `lambda` not > 0, `mix` outside `[0, 1]`, an invalid convention.
    pub fn from_lambda(lambda: f64, mix: f64, convention: Convention) -> Result<Self> {
        let lambda = crate::error::check_positive("lambda", lambda)?;
        if !(0.0..=1.0).contains(&mix) {
            return Err(Error::InvalidParameter {
                name: "elastic-net mix",
                value: mix,
                reason: "must be in [0, 1]",
            });
        }
        if let Convention::SklearnRidge { .. } = convention {
            return Err(unsupported_convention("elastic-net"));
        }
        let f = convention.factor()?;
        Ok(ElasticNet {
            rate: lambda * mix / f,
            precision: lambda * (1.0 - mix) / f,
            factors: PenaltyFactors::uniform(),
        })
    }

    /// From the two weights directly: penalty `l1·|w| + ½·l2·w²` per coefficient.
    ///
    /// # Errors
    /// Negative or non-finite weights, or both zero.
    pub fn with_weights(l1: f64, l2: f64) -> Result<Self> {
        let l1 = check_non_negative("l1 weight", l1)?;
        let l2 = check_non_negative("l2 weight", l2)?;
        if l1 == 0.0 && l2 == 0.0 {
            return Err(Error::InvalidParameter {
                name: "l1 weight + l2 weight",
                value: 0.0,
                reason: "at least one must be > 0 (use the Flat prior for none)",
            });
        }
        Ok(ElasticNet {
            rate: l1,
            precision: l2,
            factors: PenaltyFactors::uniform(),
        })
    }

    /// Sets per-coefficient penalty factors.
    ///
    /// # Errors
    /// Invalid factors.
    pub fn with_penalty_factors(mut self, factors: Vec<f64>) -> Result<Self> {
        self.factors = PenaltyFactors::new(factors)?;
        Ok(self)
    }

    /// The L1 weight `1/b`.
    pub fn rate(&self) -> f64 {
        self.rate
    }
    /// The L2 weight `1/τ²`.
    pub fn precision(&self) -> f64 {
        self.precision
    }
    /// glmnet's mixing `alpha` (scikit-learn's `l1_ratio`): `rate/(rate + precision)`.
    pub fn mix(&self) -> f64 {
        self.rate / (self.rate + self.precision)
    }
    /// The penalty factors.
    pub fn factors(&self) -> &PenaltyFactors {
        &self.factors
    }
}

impl Prior for ElasticNet {
    fn describe(&self) -> String {
        format!(
            "ElasticNet(b = {:.6}, τ = {:.6}, mix = {:.3})",
            1.0 / self.rate,
            1.0 / self.precision.sqrt(),
            self.mix()
        )
    }
    fn check_dimension(&self, p: usize) -> Result<()> {
        self.factors.check_dimension(p)
    }
    fn penalty(&self, w: &[f64]) -> f64 {
        w.iter()
            .enumerate()
            .map(|(j, &a)| {
                let f = self.factors.get(j);
                f * (self.rate * a.abs() + 0.5 * self.precision * a * a)
            })
            .sum()
    }
    fn ln_normalizer(&self, p: usize) -> f64 {
        (0..p)
            .map(|j| self.factors.get(j))
            .filter(|&f| f > 0.0)
            .map(|f| -ln_partition(f * self.rate, f * self.precision))
            .sum()
    }
    fn is_smooth(&self) -> bool {
        self.rate == 0.0
    }
    fn penalty_gradient(&self, w: &[f64], out: &mut [f64]) {
        for (j, (o, &a)) in out.iter_mut().zip(w).enumerate() {
            let f = self.factors.get(j);
            let l1 = if a == 0.0 {
                0.0
            } else {
                self.rate * a.signum()
            };
            *o = f * (l1 + self.precision * a);
        }
    }
    fn add_penalty_hessian(&self, w: &[f64], h: &mut DMatrix<f64>) {
        for j in 0..w.len() {
            h[(j, j)] += self.factors.get(j) * self.precision;
        }
    }
    fn elastic(&self, p: usize) -> Option<ElasticPenalty> {
        Some(ElasticPenalty {
            l1: (0..p).map(|j| self.factors.get(j) * self.rate).collect(),
            l2: (0..p)
                .map(|j| self.factors.get(j) * self.precision)
                .collect(),
        })
    }
    fn prox(&self, j: usize, v: f64, t: f64) -> f64 {
        let f = self.factors.get(j);
        soft_threshold(v, t * f * self.rate) / (1.0 + t * f * self.precision)
    }
    fn lambda(&self, convention: Convention) -> Result<f64> {
        if let Convention::SklearnRidge { .. } = convention {
            return Err(unsupported_convention("elastic-net"));
        }
        Ok(convention.factor()? * (self.rate + self.precision))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The normalizer integrates the density to one: composite Simpson on `[0, L]` (the
    /// density is symmetric, and smooth away from its kink at 0).
    #[test]
    fn partition_function_matches_quadrature() {
        for &(a, c) in &[
            (1.0, 1.0),
            (0.3, 4.0),
            (5.0, 0.2),
            (40.0, 1.0),
            (0.0, 2.0),
            (2.0, 0.0),
        ] {
            let f = |w: f64| (-a * w - 0.5 * c * w * w).exp();
            let upper = 60.0;
            let m = 600_000;
            let h = upper / m as f64;
            let mut z = f(0.0) + f(upper);
            for k in 1..m {
                z += if k % 2 == 1 { 4.0 } else { 2.0 } * f(k as f64 * h);
            }
            let z = 2.0 * z * h / 3.0;
            let exact = ln_partition(a, c).exp();
            assert!(
                (z - exact).abs() / exact < 1e-9,
                "a={a} c={c}: {z} vs {exact}"
            );
        }
    }

    #[test]
    fn ln_erfcx_is_continuous_at_the_switch() {
        let below = ln_erfcx(25.0 - 1e-9);
        let above = ln_erfcx(25.0 + 1e-9);
        assert!((below - above).abs() < 1e-9);
    }
}
