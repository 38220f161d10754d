//! Prior-predictive sampling: draw coefficients from the prior, then responses from the
//! likelihood, `w ~ p(w)`, `y | w ~ p(y | Xw + b)`, with any `rand` generator (seed
//! `rand::rngs::StdRng::seed_from_u64` for reproducible draws).
//!
//! | prior | sampler |
//! |---|---|
//! | [`Gaussian`] `N(0, τ_j²)` | `τ_j·z`, `z ~ N(0, 1)` |
//! | [`Laplace`] `(0, b_j)` | `b_j·E·(±1)`, `E ~ Exp(1)`, a fair random sign |
//! | [`StudentT`] `(ν, s)` | `s·t`, `t ~ t_ν` |
//! | [`Bridge`] `(q, s)` | `s·G^{1/q}·(±1)`, `G ~ Gamma(1/q, 1)` (if `w ~ GG(0, s, q)` then `|w/s|^q ~ Gamma(1/q, 1)`) |
//! | [`GaussianFull`] `N(μ, Σ)` | `μ + Lz`, `Σ = LLᵀ` (Cholesky) |
//!
//! The flat prior (of the intercept, and of coefficients with penalty factor 0) is improper
//! and has no sampler: the intercept is given, and a zero penalty factor is an error.
//!
//! | likelihood | sampler |
//! |---|---|
//! | [`likelihood::Gaussian`] | `η + σz` |
//! | [`likelihood::Bernoulli`] | `Bernoulli(σ(η))` |
//! | [`likelihood::Poisson`] | `Poisson(e^η)` |
//!
//! Extension point: another prior or likelihood gets sampling by implementing
//! [`SampleCoefficients`] or [`SampleResponse`].
//!
//! ```
//! use mapfit::sampling::prior_predictive;
//! use mapfit::{likelihood, prior};
//! use nalgebra::DMatrix;
//! use rand::{rngs::StdRng, SeedableRng};
//! # fn main() -> mapfit::Result<()> {
//! let x = DMatrix::from_fn(20, 3, |i, j| (i as f64 - 10.0) * 0.1 + j as f64);
//! let mut rng = StdRng::seed_from_u64(7);
//! let draw = prior_predictive(&likelihood::Bernoulli, &prior::Laplace::new(0.5)?, &x, 0.0, &mut rng)?;
//! assert!(draw.response.iter().all(|&y| y == 0.0 || y == 1.0));
//! # Ok(()) }
//! ```

use crate::error::{Error, Result};
use crate::likelihood::{self, Likelihood};
use crate::prior::{Bridge, Gaussian, GaussianFull, Laplace, Prior, StudentT};
use nalgebra::{DMatrix, DVector};
use rand::Rng;
use rand_distr::{Distribution, Exp1, Gamma, StandardNormal};

/// A prior that can be sampled.
pub trait SampleCoefficients: Prior {
    /// Draws `p` coefficients from the prior.
    ///
    /// # Errors
    /// An improper coefficient (penalty factor 0), or `p` not the prior's dimension.
    fn sample_coefficients<R: Rng + ?Sized>(&self, p: usize, rng: &mut R) -> Result<DVector<f64>>;
}

/// A likelihood that can be sampled.
pub trait SampleResponse: Likelihood {
    /// Draws one response given the linear predictor η.
    ///
    /// # Errors
    /// A mean outside what the sampler supports (a Poisson mean above ~1.8e19).
    fn sample_response<R: Rng + ?Sized>(&self, eta: f64, rng: &mut R) -> Result<f64>;
}

fn improper(j: usize) -> Error {
    Error::Unsupported {
        what: format!(
            "coefficient {j} has penalty factor 0, i.e. an improper flat prior, which cannot be \
             sampled"
        ),
    }
}

fn random_sign<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    if rng.random::<bool>() {
        1.0
    } else {
        -1.0
    }
}

impl SampleCoefficients for Gaussian {
    fn sample_coefficients<R: Rng + ?Sized>(&self, p: usize, rng: &mut R) -> Result<DVector<f64>> {
        self.check_dimension(p)?;
        let mut w = DVector::zeros(p);
        for j in 0..p {
            let q = self.precision_of(j);
            if q <= 0.0 {
                return Err(improper(j));
            }
            let z: f64 = StandardNormal.sample(rng);
            w[j] = z / q.sqrt();
        }
        Ok(w)
    }
}

impl SampleCoefficients for Laplace {
    fn sample_coefficients<R: Rng + ?Sized>(&self, p: usize, rng: &mut R) -> Result<DVector<f64>> {
        self.check_dimension(p)?;
        let mut w = DVector::zeros(p);
        for j in 0..p {
            let rate = self.rate() * self.factors().get(j);
            if rate <= 0.0 {
                return Err(improper(j));
            }
            let e: f64 = Exp1.sample(rng);
            w[j] = random_sign(rng) * e / rate;
        }
        Ok(w)
    }
}

impl SampleCoefficients for StudentT {
    fn sample_coefficients<R: Rng + ?Sized>(&self, p: usize, rng: &mut R) -> Result<DVector<f64>> {
        let t = rand_distr::StudentT::new(self.nu()).map_err(|e| Error::Solver(e.to_string()))?;
        Ok(DVector::from_fn(p, |_, _| self.scale() * t.sample(rng)))
    }
}

impl SampleCoefficients for Bridge {
    fn sample_coefficients<R: Rng + ?Sized>(&self, p: usize, rng: &mut R) -> Result<DVector<f64>> {
        let q = self.exponent();
        let g = Gamma::new(1.0 / q, 1.0).map_err(|e| Error::Solver(e.to_string()))?;
        let mut w = DVector::zeros(p);
        for j in 0..p {
            let v: f64 = g.sample(rng);
            w[j] = random_sign(rng) * self.scale() * v.powf(1.0 / q);
        }
        Ok(w)
    }
}

impl SampleCoefficients for GaussianFull {
    fn sample_coefficients<R: Rng + ?Sized>(&self, p: usize, rng: &mut R) -> Result<DVector<f64>> {
        self.check_dimension(p)?;
        let z = DVector::from_fn(p, |_, _| StandardNormal.sample(rng));
        Ok(self.mean() + self.cholesky_factor() * z)
    }
}

impl SampleResponse for likelihood::Gaussian {
    fn sample_response<R: Rng + ?Sized>(&self, eta: f64, rng: &mut R) -> Result<f64> {
        let z: f64 = StandardNormal.sample(rng);
        Ok(eta + self.sigma2().sqrt() * z)
    }
}

impl SampleResponse for likelihood::Bernoulli {
    fn sample_response<R: Rng + ?Sized>(&self, eta: f64, rng: &mut R) -> Result<f64> {
        let p = self.mean(eta);
        Ok(if rng.random::<f64>() < p { 1.0 } else { 0.0 })
    }
}

impl SampleResponse for likelihood::Poisson {
    fn sample_response<R: Rng + ?Sized>(&self, eta: f64, rng: &mut R) -> Result<f64> {
        let mu = self.mean(eta);
        if mu.is_nan() || mu <= 0.0 {
            return Ok(0.0);
        }
        let d = rand_distr::Poisson::new(mu).map_err(|e| Error::InvalidParameter {
            name: "Poisson mean exp(η)",
            value: mu,
            reason: match e {
                rand_distr::PoissonError::ShapeTooLarge => "too large to sample",
                _ => "must be finite and > 0",
            },
        })?;
        Ok(d.sample(rng))
    }
}

/// Draws `y | w, b` for every row of `x`: `yᵢ ~ p(y | xᵢᵀw + b)`.
///
/// # Errors
/// `w` not of length `p`, non-finite `x`, or a sampler error.
pub fn sample_response<L: SampleResponse, R: Rng + ?Sized>(
    likelihood: &L,
    x: &DMatrix<f64>,
    coefficients: &DVector<f64>,
    intercept: f64,
    rng: &mut R,
) -> Result<DVector<f64>> {
    if coefficients.len() != x.ncols() {
        return Err(Error::DimensionMismatch {
            what: "coefficients",
            expected: x.ncols(),
            found: coefficients.len(),
        });
    }
    crate::design::check_finite_matrix("x", x)?;
    let eta = (x * coefficients).add_scalar(intercept);
    let mut y = DVector::zeros(x.nrows());
    for (i, &e) in eta.iter().enumerate() {
        y[i] = likelihood.sample_response(e, rng)?;
    }
    Ok(y)
}

/// One draw from the prior predictive distribution.
#[derive(Debug, Clone, PartialEq)]
pub struct PriorPredictiveDraw {
    /// `w ~ p(w)`.
    pub coefficients: DVector<f64>,
    /// The intercept used (given: its prior is flat).
    pub intercept: f64,
    /// `y ~ p(y | Xw + b)`.
    pub response: DVector<f64>,
}

/// Draws `w` from `prior`, then `y` from `likelihood` at `Xw + intercept`.
///
/// # Errors
/// Those of the samplers and of [`sample_response`].
pub fn prior_predictive<L: SampleResponse, P: SampleCoefficients, R: Rng + ?Sized>(
    likelihood: &L,
    prior: &P,
    x: &DMatrix<f64>,
    intercept: f64,
    rng: &mut R,
) -> Result<PriorPredictiveDraw> {
    let w = prior.sample_coefficients(x.ncols(), rng)?;
    let y = sample_response(likelihood, x, &w, intercept, rng)?;
    Ok(PriorPredictiveDraw {
        coefficients: w,
        intercept,
        response: y,
    })
}
