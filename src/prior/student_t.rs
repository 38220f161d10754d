//! The Student-t prior: heavy tails, a non-convex penalty that shrinks small coefficients and
//! leaves large ones almost alone.

use super::bridge::safeguarded_newton;
use super::{Convention, ElasticPenalty, Prior};
use crate::error::{check_positive, Result};
use nalgebra::DMatrix;
use statrs::function::gamma::ln_gamma;
use std::f64::consts::PI;

/// Independent Student-t prior `w_j ~ s·t_ν` (location 0, scale `s`, `ν` degrees of freedom).
///
/// # Formula
/// ```text
/// p(w_j)      = Γ((ν+1)/2) / (Γ(ν/2)·√(νπ)·s) · (1 + w_j²/(ν s²))^{−(ν+1)/2}
/// penalty(w)  = Σ_j ((ν+1)/2)·ln(1 + w_j²/(ν s²))
/// ∂penalty/∂w = (ν+1)·w / (ν s² + w²)
/// ∂²penalty   = (ν+1)·(ν s² − w²) / (ν s² + w²)²        (negative for |w| > √ν·s)
/// ```
/// # The penalty it gives
/// Near 0 the penalty is the ridge penalty `½·((ν+1)/(ν s²))·w²`; beyond `|w| ≈ √ν·s` it grows
/// only logarithmically, so large coefficients are barely shrunk (a robust, "adaptive" ridge;
/// `ν → ∞` is the Gaussian prior `N(0, s²)`, `ν = 1` the Cauchy). The penalty is non-convex,
/// so the posterior can have several modes: [`crate::Map::fit`] starts from the MAP under the
/// Gaussian prior with the same curvature at 0 ([`Prior::convex_surrogate`]) and reports a local
/// mode ([`crate::Fit::local_mode`]).
///
/// # λ
/// The penalty is not `λ·pen₀(w)` for a fixed `pen₀`, so λ is defined by the curvature at 0,
/// the ridge λ it behaves like for small coefficients: `λ = σ²·(ν+1)/(ν s²)` in the sum
/// convention (`σ²·(ν+1)/(n ν s²)` in the mean convention, the same as the sum one in
/// scikit-learn's Ridge convention), and [`StudentT::from_lambda`] inverts it at fixed ν.
///
/// # Proximal operator
/// `prox_j(v, t) = argmin_u (u − v)²/(2t) + ((ν+1)/2)·ln(1 + u²/(ν s²))`. Its stationary points
/// are the real roots of the cubic `u³ − v·u² + (νs² + t(ν+1))·u − v·νs² = 0`, all between 0 and
/// `v`; they are bracketed between the cubic's critical points, polished by safeguarded
/// Newton, and the one with the smallest objective is returned (exact to rounding).
///
/// # Example
/// ```
/// use mapfit::prior::{Prior, StudentT};
/// use statrs::distribution::{Continuous, StudentsT};
/// # fn main() -> mapfit::Result<()> {
/// let prior = StudentT::new(3.0, 0.5)?;
/// let t = StudentsT::new(0.0, 0.5, 3.0).unwrap();
/// assert!((prior.ln_density(&[1.2]) - t.ln_pdf(1.2)).abs() < 1e-13);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct StudentT {
    nu: f64,
    scale: f64,
}

impl StudentT {
    /// `s·t_ν` on every coefficient.
    ///
    /// # Errors
    /// `nu` or `scale` not finite and > 0.
    pub fn new(nu: f64, scale: f64) -> Result<Self> {
        Ok(StudentT {
            nu: check_positive("degrees of freedom nu", nu)?,
            scale: check_positive("prior scale", scale)?,
        })
    }

    /// The Student-t prior with `ν` degrees of freedom whose curvature at 0 is the ridge
    /// penalty `lambda` in `convention`: `s² = factor·(ν+1)/(ν·λ)`.
    ///
    /// # Errors
    /// `nu` or `lambda` not > 0, or an invalid convention.
    pub fn from_lambda(nu: f64, lambda: f64, convention: Convention) -> Result<Self> {
        let nu = check_positive("degrees of freedom nu", nu)?;
        let lambda = check_positive("lambda", lambda)?;
        let s2 = convention.factor()? * (nu + 1.0) / (nu * lambda);
        Self::new(nu, s2.sqrt())
    }

    /// Degrees of freedom ν.
    pub fn nu(&self) -> f64 {
        self.nu
    }
    /// The scale `s`.
    pub fn scale(&self) -> f64 {
        self.scale
    }
    /// `ν·s²`.
    #[inline]
    fn m(&self) -> f64 {
        self.nu * self.scale * self.scale
    }
}

impl Prior for StudentT {
    fn describe(&self) -> String {
        format!("StudentT(ν = {}, s = {:.6})", self.nu, self.scale)
    }
    fn check_dimension(&self, _p: usize) -> Result<()> {
        Ok(())
    }
    fn penalty(&self, w: &[f64]) -> f64 {
        let (k, m) = (0.5 * (self.nu + 1.0), self.m());
        w.iter().map(|&a| k * (a * a / m).ln_1p()).sum()
    }
    fn ln_normalizer(&self, p: usize) -> f64 {
        let nu = self.nu;
        p as f64
            * (ln_gamma(0.5 * (nu + 1.0))
                - ln_gamma(0.5 * nu)
                - 0.5 * (nu * PI).ln()
                - self.scale.ln())
    }
    fn is_smooth(&self) -> bool {
        true
    }
    fn penalty_gradient(&self, w: &[f64], out: &mut [f64]) {
        let m = self.m();
        for (o, &a) in out.iter_mut().zip(w) {
            *o = (self.nu + 1.0) * a / (m + a * a);
        }
    }
    fn add_penalty_hessian(&self, w: &[f64], h: &mut DMatrix<f64>) {
        let m = self.m();
        for (j, &a) in w.iter().enumerate() {
            let d = m + a * a;
            h[(j, j)] += (self.nu + 1.0) * (m - a * a) / (d * d);
        }
    }
    fn elastic(&self, _p: usize) -> Option<ElasticPenalty> {
        None
    }
    fn convex_surrogate(&self, p: usize) -> Option<ElasticPenalty> {
        Some(ElasticPenalty {
            l1: vec![0.0; p],
            l2: vec![(self.nu + 1.0) / self.m(); p],
        })
    }
    fn prox(&self, _j: usize, v: f64, t: f64) -> f64 {
        let a = v.abs();
        if a == 0.0 || t == 0.0 {
            return v;
        }
        let m = self.m();
        let b = m + t * (self.nu + 1.0);
        let f = |u: f64| ((u - a) * u + b) * u - a * m;
        let df = |u: f64| (3.0 * u - 2.0 * a) * u + b;
        let h = |u: f64| 0.5 * (u - a) * (u - a) + t * 0.5 * (self.nu + 1.0) * (u * u / m).ln_1p();
        // f(0) = −a·m < 0 < f(a) = t(ν+1)a; f' = 3u² − 2au + b has roots c₁ ≤ c₂.
        let disc = a * a - 3.0 * b;
        let mut roots = Vec::with_capacity(3);
        if disc <= 0.0 {
            roots.push(safeguarded_newton(f, df, 0.0, a, a));
        } else {
            let r = disc.sqrt();
            let c1 = ((a - r) / 3.0).clamp(0.0, a);
            let c2 = ((a + r) / 3.0).clamp(0.0, a);
            // increasing on [0, c1] and [c2, a], decreasing on [c1, c2]
            if f(c1) >= 0.0 {
                roots.push(safeguarded_newton(f, df, 0.0, c1, c1));
            }
            if f(c1) > 0.0 && f(c2) < 0.0 {
                roots.push(safeguarded_newton(|u| -f(u), |u| -df(u), c1, c2, c1));
            }
            if f(c2) <= 0.0 {
                roots.push(safeguarded_newton(f, df, c2, a, a));
            }
        }
        let best = roots
            .into_iter()
            .min_by(|x, y| h(*x).total_cmp(&h(*y)))
            .unwrap_or(0.0);
        v.signum() * best
    }
    fn lambda(&self, convention: Convention) -> Result<f64> {
        Ok(convention.factor()? * (self.nu + 1.0) / self.m())
    }
}
