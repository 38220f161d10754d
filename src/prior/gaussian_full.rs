//! The multivariate Gaussian prior with a mean and a full covariance: a prior from an earlier
//! fit.

use super::{Convention, ElasticPenalty, Prior};
use crate::error::{Error, Result};
use nalgebra::{Cholesky, DMatrix, DVector, Dyn};
use std::f64::consts::PI;

/// `w ~ N(μ, Σ)` with a full covariance `Σ` (symmetric positive definite).
///
/// # Formula
/// ```text
/// ln p(w)     = −(p/2)·ln 2π − ½·ln|Σ| − ½·(w − μ)ᵀΣ⁻¹(w − μ)
/// penalty(w)  = ½·(w − μ)ᵀΣ⁻¹(w − μ)
/// ∇penalty    = Σ⁻¹(w − μ),      ∇²penalty = Σ⁻¹
/// ```
/// # The penalty it gives
/// Generalized ridge (Tikhonov with a matrix, shrinkage toward μ instead of 0):
/// `½‖y − Xw‖² + ½(w − μ)ᵀΛ(w − μ)` with `Λ = σ²Σ⁻¹` in the sum convention
/// ([`GaussianFull::lambda_matrix`]). Its main use is sequential updating: the Gaussian
/// posterior of one fit ([`crate::posterior::Posterior`]) is the prior of the next
/// ([`GaussianFull::from_posterior`]), which with a Gaussian likelihood gives exactly the fit
/// on the pooled data.
///
/// # Not separable
/// The penalty couples the coefficients, so it has no elastic form ([`Prior::elastic`] is
/// `None`: coordinate descent and the closed form do not apply; [`crate::Map::fit`] uses
/// Newton's method, which converges in one step on the quadratic problem), and its proximal
/// operator is a linear solve, `prox(v, t) = (I + tΣ⁻¹)⁻¹(v + tΣ⁻¹μ)`
/// ([`GaussianFull::prox_full`]). The coordinate-wise [`Prior::prox`] demanded by the trait is
/// the prox of coordinate `j` with every other coefficient held at its prior mean,
/// `(v + t·Q_jj·μ_j)/(1 + t·Q_jj)` (`Q = Σ⁻¹`), which is the exact coordinate step only when Σ
/// is diagonal.
///
/// There is no single λ ([`Prior::lambda`] is an error): the conversion is the matrix
/// [`GaussianFull::lambda_matrix`] and its inverse [`GaussianFull::from_lambda_matrix`].
#[derive(Debug, Clone)]
pub struct GaussianFull {
    mean: DVector<f64>,
    covariance: DMatrix<f64>,
    chol: Cholesky<f64, Dyn>,
    precision: DMatrix<f64>,
    ln_det: f64,
}

impl PartialEq for GaussianFull {
    fn eq(&self, other: &Self) -> bool {
        self.mean == other.mean && self.covariance == other.covariance
    }
}

impl GaussianFull {
    /// `N(mean, covariance)`.
    ///
    /// # Errors
    /// Empty or non-finite inputs, mismatched sizes, a covariance that is not symmetric (to
    /// 1e-10 relative) or not numerically positive definite.
    pub fn new(mean: DVector<f64>, covariance: DMatrix<f64>) -> Result<Self> {
        let p = mean.len();
        if p == 0 {
            return Err(Error::EmptyData { what: "prior mean" });
        }
        if covariance.nrows() != p || covariance.ncols() != p {
            return Err(Error::DimensionMismatch {
                what: "prior covariance (rows and columns)",
                expected: p,
                found: if covariance.nrows() != p {
                    covariance.nrows()
                } else {
                    covariance.ncols()
                },
            });
        }
        crate::design::check_finite_vector("prior mean", &mean)?;
        crate::design::check_finite_matrix("prior covariance", &covariance)?;
        let amax = covariance.amax();
        let asym = (&covariance - covariance.transpose()).amax();
        if asym > 1e-10 * amax {
            return Err(Error::InvalidParameter {
                name: "prior covariance asymmetry",
                value: asym,
                reason: "the covariance must be symmetric",
            });
        }
        let sym = (&covariance + covariance.transpose()) * 0.5;
        let chol = crate::linalg::cholesky(sym.clone())
            .filter(|c| {
                let l = c.l_dirty();
                (0..p).all(|i| l[(i, i)] * l[(i, i)] > 1e-14 * amax)
            })
            .ok_or(Error::InvalidParameter {
                name: "prior covariance",
                value: amax,
                reason: "must be symmetric positive definite",
            })?;
        let l = chol.l_dirty();
        let ln_det = 2.0 * (0..p).map(|i| l[(i, i)].ln()).sum::<f64>();
        let precision = chol.inverse();
        let precision = (&precision + precision.transpose()) * 0.5;
        Ok(GaussianFull {
            mean,
            covariance: sym,
            chol,
            precision,
            ln_det,
        })
    }

    /// The prior whose penalty is `½(w − μ)ᵀΛ(w − μ)` in `convention` (sum: `Σ = σ²Λ⁻¹`; mean:
    /// `Σ = (σ²/n)Λ⁻¹`; scikit-learn's Ridge form `‖·‖² + (w − μ)ᵀΛ(w − μ)` gives the sum
    /// result).
    ///
    /// # Errors
    /// As [`GaussianFull::new`] for `Λ`, or an invalid convention.
    pub fn from_lambda_matrix(
        mean: DVector<f64>,
        lambda: &DMatrix<f64>,
        convention: Convention,
    ) -> Result<Self> {
        let factor = convention.factor()?;
        // Σ⁻¹ = Λ/factor: validate it as a covariance-shaped SPD matrix, whose inverse is Σ.
        let as_matrix = GaussianFull::new(mean.clone(), lambda / factor)?;
        GaussianFull::new(mean, as_matrix.precision)
    }

    /// The penalty matrix `Λ = factor·Σ⁻¹` of this prior in `convention`.
    ///
    /// # Errors
    /// An invalid convention.
    pub fn lambda_matrix(&self, convention: Convention) -> Result<DMatrix<f64>> {
        Ok(&self.precision * convention.factor()?)
    }

    /// The prior `N(ŵ, Cov(w))` from the Gaussian (or Laplace-approximate) posterior of an
    /// earlier fit: the coefficient block of its mode and covariance (the intercept, whose
    /// prior stays flat, is dropped).
    ///
    /// # Errors
    /// [`Error::Unsupported`] if the posterior has pinned coefficients (exact zeros of a
    /// non-smooth prior, which have no Gaussian approximation); errors of [`GaussianFull::new`].
    pub fn from_posterior(posterior: &crate::posterior::Posterior) -> Result<Self> {
        if !posterior.pinned().is_empty() {
            return Err(Error::Unsupported {
                what: "a posterior with coefficients pinned at zero has no Gaussian form".into(),
            });
        }
        let p = posterior.n_coefficients();
        GaussianFull::new(
            posterior.coefficients(),
            posterior.covariance().view((0, 0), (p, p)).into_owned(),
        )
    }

    /// The mean μ.
    pub fn mean(&self) -> &DVector<f64> {
        &self.mean
    }
    /// The covariance Σ.
    pub fn covariance(&self) -> &DMatrix<f64> {
        &self.covariance
    }
    /// The precision Σ⁻¹.
    pub fn precision(&self) -> &DMatrix<f64> {
        &self.precision
    }
    /// The lower Cholesky factor `L` of `Σ = LLᵀ`.
    pub fn cholesky_factor(&self) -> DMatrix<f64> {
        self.chol.l()
    }
    /// Dimension `p`.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// The full proximal operator `argmin_u ‖u − v‖²/(2t) + penalty(u)`
    /// `= (I + tΣ⁻¹)⁻¹(v + tΣ⁻¹μ)`, by a Cholesky solve.
    ///
    /// # Errors
    /// `v` of the wrong length, or `t` not finite and > 0.
    pub fn prox_full(&self, v: &DVector<f64>, t: f64) -> Result<DVector<f64>> {
        let t = crate::error::check_positive("prox step t", t)?;
        if v.len() != self.dim() {
            return Err(Error::DimensionMismatch {
                what: "prox argument",
                expected: self.dim(),
                found: v.len(),
            });
        }
        let mut a = &self.precision * t;
        for j in 0..self.dim() {
            a[(j, j)] += 1.0;
        }
        let rhs = v + &self.precision * &self.mean * t;
        let chol = crate::linalg::cholesky(a).ok_or_else(|| Error::Singular {
            what: "I + tΣ⁻¹".into(),
        })?;
        Ok(chol.solve(&rhs))
    }
}

impl Prior for GaussianFull {
    fn describe(&self) -> String {
        format!("GaussianFull(p = {}, full covariance)", self.dim())
    }
    fn check_dimension(&self, p: usize) -> Result<()> {
        if p == self.dim() {
            Ok(())
        } else {
            Err(Error::DimensionMismatch {
                what: "full-covariance prior",
                expected: p,
                found: self.dim(),
            })
        }
    }
    fn penalty(&self, w: &[f64]) -> f64 {
        let d = DVector::from_column_slice(w) - &self.mean;
        // ½‖L⁻¹(w − μ)‖²
        let z = self
            .chol
            .l_dirty()
            .solve_lower_triangular(&d)
            .unwrap_or_else(|| DVector::from_element(d.len(), f64::NAN));
        0.5 * z.norm_squared()
    }
    fn ln_normalizer(&self, p: usize) -> f64 {
        -0.5 * p as f64 * (2.0 * PI).ln() - 0.5 * self.ln_det
    }
    fn is_smooth(&self) -> bool {
        true
    }
    fn penalty_gradient(&self, w: &[f64], out: &mut [f64]) {
        let d = DVector::from_column_slice(w) - &self.mean;
        let g = &self.precision * d;
        out.copy_from_slice(g.as_slice());
    }
    fn add_penalty_hessian(&self, w: &[f64], h: &mut DMatrix<f64>) {
        let p = w.len();
        let mut block = h.view_mut((0, 0), (p, p));
        block += &self.precision;
    }
    fn elastic(&self, _p: usize) -> Option<ElasticPenalty> {
        None
    }
    fn prox(&self, j: usize, v: f64, t: f64) -> f64 {
        let q = self.precision[(j, j)];
        (v + t * q * self.mean[j]) / (1.0 + t * q)
    }
    fn lambda(&self, _convention: Convention) -> Result<f64> {
        Err(Error::Unsupported {
            what: "a full-covariance Gaussian prior has a penalty matrix, not one λ: use \
                   GaussianFull::lambda_matrix"
                .into(),
        })
    }
}
