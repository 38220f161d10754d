//! Priors on the coefficients: each is a log-density, a penalty, a (sub)gradient and a
//! proximal operator, and converts between its scale and the penalty weight λ.
//!
//! | prior | density of one coefficient | penalty `−ln p(w) + c` | what it is called |
//! |---|---|---|---|
//! | [`Gaussian`] `N(0, τ²)` | `exp(−w²/2τ²)/√(2πτ²)` | `w²/(2τ²)` | ridge, L2, Tikhonov, weight decay |
//! | [`Laplace`] `(0, b)` | `exp(−|w|/b)/(2b)` | `|w|/b` | lasso, L1 |
//! | [`ElasticNet`] | ∝ `exp(−|w|/b − w²/2τ²)` | `|w|/b + w²/(2τ²)` | elastic net |
//! | [`Flat`] | 1 (improper) | 0 | no penalty (the intercept's prior) |
//! | [`Bridge`] `(q, s)` | `q/(2sΓ(1/q))·exp(−\|w/s\|^q)` | `\|w/s\|^q` | bridge, Lq, generalized Gaussian (non-convex for q < 1) |
//! | [`StudentT`] `(ν, s)` | `∝ (1 + w²/(νs²))^{−(ν+1)/2}` | `((ν+1)/2)·ln(1 + w²/(νs²))` | Student-t, Cauchy (ν = 1); non-convex |
//! | [`GaussianFull`] `N(μ, Σ)` | `N(w; μ, Σ)` (joint) | `½(w−μ)ᵀΣ⁻¹(w−μ)` | generalized ridge, prior from an earlier fit |
//!
//! The intercept always has the flat prior: it is never penalized.
//!
//! # Penalty weight λ and its conventions
//! With a Gaussian likelihood of noise variance σ², the negative log posterior is
//! `‖y−Xw‖²/(2σ²) + pen(w)`. Multiplying by σ² gives the penalized least-squares form
//! `½‖y−Xw‖² + σ²·pen(w)`, so each prior scale corresponds to a λ in each convention
//! ([`Convention`]):
//!
//! | convention | objective | Gaussian `N(0,τ²)` | Laplace `(0,b)` |
//! |---|---|---|---|
//! | [`Convention::Sum`] | `½‖y−Xw‖² + λ·pen₀(w)` | `λ = σ²/τ²` | `λ = σ²/b` |
//! | [`Convention::Mean`] (glmnet, sklearn `Lasso`) | `(1/2n)‖y−Xw‖² + λ·pen₀(w)` | `λ = σ²/(nτ²)` | `λ = σ²/(nb)` |
//! | [`Convention::SklearnRidge`] | `‖y−Xw‖² + α‖w‖²` | `α = σ²/τ²` | — |
//!
//! where `pen₀(w) = ½‖w‖²` for the Gaussian prior and `‖w‖₁` for the Laplace prior (glmnet's
//! `(1−α)/2‖w‖² + α‖w‖₁` with α = 0 or 1). For the Bernoulli and Poisson likelihoods the same
//! table holds with σ² = 1 (their mean loss is `−loglik/n`), and then `τ² = b = 1/(nλ)` is
//! scikit-learn's `C`. With observation weights, `n` is the sum of the weights.

mod bridge;
mod elastic_net;
mod factors;
mod flat;
mod gaussian;
mod gaussian_full;
mod laplace;
mod student_t;

pub use bridge::Bridge;
pub use elastic_net::ElasticNet;
pub use factors::PenaltyFactors;
pub use flat::Flat;
pub use gaussian::Gaussian;
pub use gaussian_full::GaussianFull;
pub use laplace::Laplace;
pub use student_t::StudentT;

use crate::error::{check_positive, Error, Result};
use nalgebra::DMatrix;
use std::fmt::Debug;

/// How a penalty weight λ is scaled against the data term (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Convention {
    /// `½‖y − Xw‖² + λ·pen₀(w)` (sum of squares, with the ½); `sigma2` is the noise variance
    /// (use 1 for the Bernoulli and Poisson likelihoods, whose loss is `−loglik`).
    Sum {
        /// Noise variance σ².
        sigma2: f64,
    },
    /// `(1/2n)‖y − Xw‖² + λ·pen₀(w)` — glmnet and scikit-learn's `Lasso`/`ElasticNet`
    /// (`−loglik/n + λ·pen₀` for the GLMs). `n` is the number of observations, or the sum of
    /// the observation weights.
    Mean {
        /// Number of observations (or sum of weights).
        n: f64,
        /// Noise variance σ².
        sigma2: f64,
    },
    /// scikit-learn's `Ridge`: `‖y − Xw‖² + α‖w‖²` (no ½ on either term, so α equals the
    /// `Sum` convention's λ). Only meaningful for Gaussian penalties.
    SklearnRidge {
        /// Noise variance σ².
        sigma2: f64,
    },
}

impl Convention {
    /// The factor `c` with `λ = c × strength`, where the strength is the prior's `1/τ²` or
    /// `1/b`: σ² for the sum conventions, σ²/n for the mean convention.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if σ² or n is not finite and positive.
    pub fn factor(&self) -> Result<f64> {
        match *self {
            Convention::Sum { sigma2 } | Convention::SklearnRidge { sigma2 } => {
                check_positive("sigma2", sigma2)
            }
            Convention::Mean { n, sigma2 } => {
                Ok(check_positive("sigma2", sigma2)? / check_positive("n", n)?)
            }
        }
    }
}

/// A prior in the separable "elastic" form used by coordinate descent and by the duality gap:
/// `pen(w) = Σ_j l1_j·|w_j| + ½·l2_j·w_j²`, in the units of the negative log posterior.
#[derive(Debug, Clone, PartialEq)]
pub struct ElasticPenalty {
    /// L1 weight per coefficient (`f_j/b`).
    pub l1: Vec<f64>,
    /// L2 weight per coefficient (`f_j/τ²`).
    pub l2: Vec<f64>,
}

impl ElasticPenalty {
    /// `argmin_u ½·a·u² − c·u + l1_j|u| + ½·l2_j·u²` = `S(c, l1_j)/(a + l2_j)`, the exact
    /// coordinate minimizer (0 when `a + l2_j = 0`).
    #[inline]
    pub fn coordinate_minimizer(&self, j: usize, a: f64, c: f64) -> f64 {
        let d = a + self.l2[j];
        if d > 0.0 {
            crate::closed_form::soft_threshold(c, self.l1[j]) / d
        } else {
            0.0
        }
    }

    /// Distance of `−g` from the subdifferential of the penalty at `w_j`, where `g` is the
    /// data term's partial derivative: the KKT violation of coordinate `j`.
    #[inline]
    pub fn kkt_violation(&self, j: usize, w: f64, g: f64) -> f64 {
        let g = g + self.l2[j] * w;
        if w > 0.0 {
            (g + self.l1[j]).abs()
        } else if w < 0.0 {
            (g - self.l1[j]).abs()
        } else {
            (g.abs() - self.l1[j]).max(0.0)
        }
    }
}

/// A prior density on the coefficients `w` (not the intercept, whose prior is flat).
///
/// The log-density is exact, normalizing constants included:
/// `ln_density(w) = ln_normalizer(p) − penalty(w)`. For an improper prior (flat, or a
/// coefficient with penalty factor 0) the improper part contributes 0.
pub trait Prior: Debug + Clone + Send + Sync {
    /// A short description with the scale, e.g. `Laplace(b = 0.5)`.
    fn describe(&self) -> String;

    /// Checks that per-coefficient settings (scales, penalty factors) fit `p` coefficients.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`].
    fn check_dimension(&self, p: usize) -> Result<()>;

    /// The penalty `−ln p(w)` without its normalizing constant.
    fn penalty(&self, w: &[f64]) -> f64;

    /// `ln` of the normalizing constant for `p` coefficients.
    fn ln_normalizer(&self, p: usize) -> f64;

    /// The exact log-density `ln p(w)`.
    fn ln_density(&self, w: &[f64]) -> f64 {
        self.ln_normalizer(w.len()) - self.penalty(w)
    }

    /// Whether the penalty is differentiable everywhere (Gaussian, flat) or not (Laplace).
    fn is_smooth(&self) -> bool;

    /// Writes the gradient of the penalty into `out` (for a non-smooth prior, the
    /// minimum-norm subgradient: 0 in a coordinate at a kink).
    fn penalty_gradient(&self, w: &[f64], out: &mut [f64]);

    /// Adds the Hessian of the penalty to the top-left `p × p` block of `h` (nothing for a
    /// prior whose penalty is piecewise linear).
    fn add_penalty_hessian(&self, w: &[f64], h: &mut DMatrix<f64>);

    /// The separable elastic form `Σ l1_j|w_j| + ½l2_j w_j²`, if the prior has one (Gaussian
    /// with mean 0, Laplace, elastic net, flat).
    fn elastic(&self, p: usize) -> Option<ElasticPenalty>;

    /// Proximal operator of coordinate `j`: `argmin_u (u − v)²/(2t) + pen_j(u)`.
    fn prox(&self, j: usize, v: f64, t: f64) -> f64;

    /// The penalty weight λ that this prior is in `convention` (the total λ for the elastic
    /// net; 0 for the flat prior).
    ///
    /// # Errors
    /// An invalid convention (σ² or n not positive), or a convention that does not apply
    /// to this prior (scikit-learn's `Ridge` α for a Laplace prior).
    fn lambda(&self, convention: Convention) -> Result<f64>;

    /// For a non-convex penalty, a convex separable surrogate (in the elastic form, e.g. the
    /// Laplace prior for a bridge prior with `q < 1`, the Gaussian with the same curvature at
    /// 0 for the Student-t) whose MAP [`crate::Map::fit`] uses as its starting point; the fit
    /// is then flagged as a local mode. `None` (the default) for a convex penalty.
    fn convex_surrogate(&self, _p: usize) -> Option<ElasticPenalty> {
        None
    }
}

pub(crate) fn unsupported_convention(prior: &str) -> Error {
    Error::Unsupported {
        what: format!("the scikit-learn Ridge convention has no meaning for the {prior} prior"),
    }
}
