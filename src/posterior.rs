//! The posterior around the MAP: the Laplace approximation (exact for the Gaussian likelihood
//! with a Gaussian prior), standard errors, credible intervals and the approximate log
//! marginal likelihood (evidence).
//!
//! # The Laplace approximation
//! With `θ = (w, b)` and the cost `C(θ) = −ln p(y | X, θ) − ln p(w) + const`
//! ([`MapProblem`]), a second-order expansion of `C` at the mode `θ̂` gives
//! ```text
//! p(θ | y) ≈ N(θ̂, H⁻¹),          H = ∇²C(θ̂) = ∇²[−ln p(y | X, θ)] + ∇²[−ln p(w)]
//! ln p(y)  ≈ ln p(y | X, θ̂) + ln p(ŵ) + (d/2)·ln 2π − ½·ln|H|        (d = dim θ)
//! ```
//! `H` is [`MapProblem::cost_hessian`] at `θ̂`, intercept included.
//!
//! * **Exact case.** With the Gaussian likelihood and a Gaussian (or flat) prior the log
//!   posterior is quadratic, so the posterior *is* `N(θ̂, H⁻¹)` and the evidence formula is
//!   exact ([`Posterior::is_exact`]). The mode is then recomputed as one Newton step from the
//!   given θ, which is exact for a quadratic, so it does not depend on the solver's tolerance.
//!   The coefficient block of `H⁻¹` is `σ²(X̃ᵀX̃ + λI)⁻¹` (sum convention `λ = σ²/τ²`) with `X̃`
//!   the centered design: integrating out the flat-prior intercept is the same as centering.
//!   A full-covariance Gaussian prior ([`crate::prior::GaussianFull`]) also gives an exactly
//!   Gaussian posterior; it is reported as a Laplace approximation, which coincides with it.
//! * **Smooth priors, other likelihoods.** An approximation, good when the posterior is close
//!   to Gaussian (many observations per parameter); for a non-convex prior (Student-t) it
//!   describes the one mode that was found.
//! * **Non-smooth priors** (Laplace, elastic net, bridge `q ≤ 1`). Coefficients that are
//!   *exactly* zero sit on the kink of the prior: the log posterior is not differentiable
//!   there, a Gaussian is the wrong shape (the posterior has a point of non-zero density with
//!   a corner at 0 and no mass exactly at it), and they get no variance and no interval: they
//!   are **pinned** ([`Posterior::pinned`]), their rows and columns of the covariance are 0 and
//!   [`Posterior::credible_interval`] returns `None`. The approximation is then the Laplace
//!   approximation *conditional on the active set*: the Hessian of the data term (plus the
//!   prior's smooth part) restricted to the non-zero coefficients and the intercept. It
//!   ignores the uncertainty about which coefficients are zero, so its intervals are too
//!   narrow when the active set is itself uncertain, and the evidence is not reported
//!   (`None`) when anything is pinned. On the active set the Laplace penalty is linear, so it
//!   adds no curvature: the intervals there are those of the data term alone.
//!
//! # The intercept and the evidence
//! The intercept has the improper flat prior `p(b) = 1`. It is kept in θ and **integrated
//! analytically** (exactly, for the Gaussian likelihood; by the same Laplace expansion
//! otherwise): `ln_evidence = ln ∫∫ p(y | X, w, b)·p(w) dw db` with `db` the Lebesgue
//! measure. An improper prior makes the evidence defined only up to the arbitrary constant of
//! that prior (changing the units of `b` shifts it), so compare evidences only between models
//! that share the intercept treatment — then the constant cancels. scikit-learn's
//! `BayesianRidge` instead centers the data and leaves the intercept out; for the Gaussian
//! likelihood the two differ by exactly `½·ln(2πσ²) − ½·ln n`
//! (see [`crate::evidence`]). Coefficients with penalty factor 0 have a flat prior too and
//! are treated the same way.
//!
//! # Example
//! ```
//! use mapfit::{likelihood, prior, Map};
//! use nalgebra::{dmatrix, dvector};
//! # fn main() -> mapfit::Result<()> {
//! let x = dmatrix![1.0, 0.5; 2.0, -1.0; 3.0, 0.0; 4.0, 1.5; 5.0, 0.3];
//! let y = dvector![1.1, 1.9, 3.2, 3.9, 5.2];
//! let map = Map::new(likelihood::Gaussian::new(0.04)?, prior::Gaussian::new(2.0)?);
//! let (fit, post) = map.laplace_approximation(&x, &y)?;
//! assert!(post.is_exact());
//! let ci = post.credible_interval(0, 0.95)?.expect("not pinned");
//! assert!(ci.lower < fit.coefficients()[0] && fit.coefficients()[0] < ci.upper);
//! assert!(post.ln_evidence().is_some());
//! # Ok(()) }
//! ```

use crate::design::Design;
use crate::error::{Error, Result};
use crate::fit::{Fit, Map};
use crate::likelihood::Likelihood;
use crate::objective::MapProblem;
use crate::prior::Prior;
use nalgebra::{DMatrix, DVector};
use statrs::distribution::{ContinuousCDF, Normal};
use std::f64::consts::PI;

/// A credible interval of one parameter under the Gaussian (Laplace) posterior.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CredibleInterval {
    /// The posterior mode (= mean, under the Gaussian approximation).
    pub estimate: f64,
    /// The posterior standard deviation.
    pub std_error: f64,
    /// Lower end, `estimate − z·std_error`.
    pub lower: f64,
    /// Upper end, `estimate + z·std_error`.
    pub upper: f64,
    /// The probability level (e.g. 0.95).
    pub level: f64,
}

/// A Gaussian posterior over `θ = (w, b)`: exact or the Laplace approximation at the MAP
/// (see the [module docs](self) for what each case means and its limits).
#[derive(Debug, Clone)]
pub struct Posterior {
    mode: DVector<f64>,
    covariance: DMatrix<f64>,
    pinned: Vec<usize>,
    n_coefficients: usize,
    has_intercept: bool,
    exact: bool,
    ln_evidence: Option<f64>,
    ln_det_hessian: f64,
}

fn is_gaussian_quadratic<L: Likelihood, P: Prior>(problem: &MapProblem<'_, L, P>) -> bool {
    let p = problem.design().p();
    problem.likelihood().gaussian_noise_variance().is_some()
        && problem
            .prior()
            .elastic(p)
            .is_some_and(|e| e.l1.iter().all(|&a| a == 0.0))
}

impl Posterior {
    /// The Laplace approximation at `theta` (which should be the MAP of `problem`, e.g.
    /// `(fit.coefficients(), fit.intercept())`; the expansion is taken wherever θ is). For
    /// the Gaussian likelihood with a Gaussian or flat prior the result is the exact posterior.
    ///
    /// # Errors
    /// θ of the wrong length; [`Error::NoMode`] if the Hessian (restricted to the active set)
    /// is not numerically positive definite, i.e. θ is not a strict local mode.
    pub fn laplace<L: Likelihood, P: Prior>(
        problem: &MapProblem<'_, L, P>,
        theta: &DVector<f64>,
    ) -> Result<Posterior> {
        let (p, k) = (problem.design().p(), problem.n_params());
        if theta.len() != k {
            return Err(Error::DimensionMismatch {
                what: "parameter vector",
                expected: k,
                found: theta.len(),
            });
        }
        let exact = is_gaussian_quadratic(problem);
        let mut mode = theta.clone();
        let pinned: Vec<usize> = if problem.prior().is_smooth() {
            Vec::new()
        } else {
            (0..p).filter(|&j| theta[j] == 0.0).collect()
        };
        let h = problem.cost_hessian(&mode)?;
        let active: Vec<usize> = (0..k).filter(|i| !pinned.contains(i)).collect();
        let d = active.len();
        let ha = DMatrix::from_fn(d, d, |a, b| h[(active[a], active[b])]);
        let chol = positive_definite_cholesky(ha)?;
        if exact {
            // One Newton step is exact for a quadratic cost.
            let g = problem.cost_gradient(&mode)?;
            mode -= chol.solve(&g);
        }
        let l = chol.l_dirty();
        let ln_det_hessian = 2.0 * (0..d).map(|i| l[(i, i)].ln()).sum::<f64>();
        let cov_a = chol.inverse();
        let mut covariance = DMatrix::zeros(k, k);
        for (a, &i) in active.iter().enumerate() {
            for (b, &j) in active.iter().enumerate() {
                covariance[(i, j)] = 0.5 * (cov_a[(a, b)] + cov_a[(b, a)]);
            }
        }
        let ln_evidence = pinned.is_empty().then(|| {
            problem.ln_posterior(&mode) + 0.5 * d as f64 * (2.0 * PI).ln() - 0.5 * ln_det_hessian
        });
        Ok(Posterior {
            mode,
            covariance,
            pinned,
            n_coefficients: p,
            has_intercept: problem.has_intercept(),
            exact,
            ln_evidence,
            ln_det_hessian,
        })
    }

    /// The exact posterior of the Gaussian likelihood with a Gaussian (or flat) prior:
    /// `N(θ̂, H⁻¹)` with θ̂ solved here (no fit needed).
    ///
    /// # Errors
    /// [`Error::Unsupported`] for another likelihood or a prior with an L1 part or without an
    /// elastic form; [`Error::NoMode`] if `H` is singular (flat prior, rank-deficient X).
    pub fn exact_gaussian<L: Likelihood, P: Prior>(
        problem: &MapProblem<'_, L, P>,
    ) -> Result<Posterior> {
        if !is_gaussian_quadratic(problem) {
            return Err(Error::Unsupported {
                what: format!(
                    "the posterior is exactly Gaussian only for the Gaussian likelihood with a \
                     Gaussian or flat prior, not {} with {}; use Posterior::laplace",
                    problem.likelihood().name(),
                    problem.prior().describe()
                ),
            });
        }
        Posterior::laplace(problem, &DVector::zeros(problem.n_params()))
    }

    /// The mode θ̂ = (w, b) (the posterior mean when exact).
    pub fn mode(&self) -> &DVector<f64> {
        &self.mode
    }
    /// The coefficients `ŵ`.
    pub fn coefficients(&self) -> DVector<f64> {
        self.mode.rows(0, self.n_coefficients).into_owned()
    }
    /// The intercept, if the problem has one.
    pub fn intercept(&self) -> Option<f64> {
        self.has_intercept.then(|| self.mode[self.n_coefficients])
    }
    /// Number of coefficients `p`.
    pub fn n_coefficients(&self) -> usize {
        self.n_coefficients
    }
    /// Number of parameters (`p`, plus one with an intercept); the intercept is the last.
    pub fn n_params(&self) -> usize {
        self.mode.len()
    }
    /// The posterior covariance of θ (`H⁻¹` on the active set; zero rows and columns for
    /// pinned coefficients).
    pub fn covariance(&self) -> &DMatrix<f64> {
        &self.covariance
    }
    /// Coefficients pinned at an exact zero of a non-smooth prior (no variance, no interval).
    pub fn pinned(&self) -> &[usize] {
        &self.pinned
    }
    /// Whether parameter `i` is pinned.
    pub fn is_pinned(&self, i: usize) -> bool {
        self.pinned.contains(&i)
    }
    /// Whether the Gaussian is the exact posterior (Gaussian likelihood and Gaussian or flat
    /// prior) rather than the Laplace approximation.
    pub fn is_exact(&self) -> bool {
        self.exact
    }
    /// `ln|H|` of the (active-set) Hessian of the negative log posterior at the mode.
    pub fn ln_det_hessian(&self) -> f64 {
        self.ln_det_hessian
    }
    /// The log marginal likelihood `ln p(y)` (exact or Laplace), with the intercept — and any
    /// flat-prior coefficient — integrated against the unit-density flat prior (see the
    /// [module docs](self)); `None` if a coefficient is pinned.
    pub fn ln_evidence(&self) -> Option<f64> {
        self.ln_evidence
    }

    /// Posterior standard deviation of parameter `i`; `None` if pinned.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] if `i ≥ n_params()`.
    pub fn standard_error(&self, i: usize) -> Result<Option<f64>> {
        self.check_index(i)?;
        Ok(self.sd(i))
    }
    /// All standard deviations (`None` for pinned coefficients), intercept last.
    pub fn standard_errors(&self) -> Vec<Option<f64>> {
        (0..self.n_params()).map(|i| self.sd(i)).collect()
    }

    /// The standard deviation of an index known to be in range.
    fn sd(&self, i: usize) -> Option<f64> {
        (!self.is_pinned(i)).then(|| self.covariance[(i, i)].max(0.0).sqrt())
    }

    fn check_index(&self, i: usize) -> Result<()> {
        if i >= self.n_params() {
            return Err(Error::DimensionMismatch {
                what: "parameter index",
                expected: self.n_params(),
                found: i,
            });
        }
        Ok(())
    }

    /// The central credible interval of parameter `i` at probability `level`:
    /// `θ̂_i ± z·sd_i` with `z` the standard normal quantile `Φ⁻¹(½ + level/2)`; `None` for a
    /// pinned coefficient.
    ///
    /// # Errors
    /// `level` not in (0, 1); `i` out of range ([`Error::DimensionMismatch`]).
    pub fn credible_interval(&self, i: usize, level: f64) -> Result<Option<CredibleInterval>> {
        let z = quantile(level)?;
        self.check_index(i)?;
        Ok(self.sd(i).map(|sd| {
            let m = self.mode[i];
            CredibleInterval {
                estimate: m,
                std_error: sd,
                lower: m - z * sd,
                upper: m + z * sd,
                level,
            }
        }))
    }

    /// Credible intervals of every parameter (intercept last).
    ///
    /// # Errors
    /// `level` not in (0, 1).
    pub fn credible_intervals(&self, level: f64) -> Result<Vec<Option<CredibleInterval>>> {
        (0..self.n_params())
            .map(|i| self.credible_interval(i, level))
            .collect()
    }

    /// Posterior standard deviation of the linear predictor `xᵀw + b` at each row of `x`
    /// (`sqrt(x̃ᵀ Cov x̃)` with `x̃ = (x, 1)`), the uncertainty of the fitted mean before the
    /// link and without the observation noise.
    ///
    /// # Errors
    /// Wrong number of columns or non-finite entries.
    pub fn linear_predictor_sd(&self, x: &DMatrix<f64>) -> Result<DVector<f64>> {
        let p = self.n_coefficients;
        if x.ncols() != p {
            return Err(Error::DimensionMismatch {
                what: "columns of x",
                expected: p,
                found: x.ncols(),
            });
        }
        crate::design::check_finite_matrix("x", x)?;
        let k = self.n_params();
        Ok(DVector::from_fn(x.nrows(), |r, _| {
            let v = DVector::from_fn(k, |i, _| if i < p { x[(r, i)] } else { 1.0 });
            v.dot(&(&self.covariance * &v)).max(0.0).sqrt()
        }))
    }

    /// Maps a posterior over standardized coefficients `w_j·s_j` back to `w_j`.
    fn unscale(&mut self, scales: &DVector<f64>) {
        let p = self.n_coefficients;
        let k = self.n_params();
        for j in 0..p {
            let s = scales[j];
            if s > 0.0 {
                self.mode[j] /= s;
                for i in 0..k {
                    self.covariance[(j, i)] /= s;
                    self.covariance[(i, j)] /= s;
                }
            }
        }
    }
}

fn with_extras<'a>(
    mut d: Design<'a>,
    weights: Option<&'a DVector<f64>>,
    offset: Option<&'a DVector<f64>>,
) -> Result<Design<'a>> {
    if let Some(w) = weights {
        d = d.with_weights(w)?;
    }
    if let Some(o) = offset {
        d = d.with_offset(o)?;
    }
    Ok(d)
}

fn quantile(level: f64) -> Result<f64> {
    if !(level > 0.0 && level < 1.0) {
        return Err(Error::InvalidParameter {
            name: "credible level",
            value: level,
            reason: "must be in (0, 1)",
        });
    }
    let normal = Normal::new(0.0, 1.0).map_err(|e| Error::Solver(e.to_string()))?;
    Ok(normal.inverse_cdf(0.5 + 0.5 * level))
}

/// Cholesky of a symmetric matrix that must be numerically positive definite.
fn positive_definite_cholesky(h: DMatrix<f64>) -> Result<nalgebra::Cholesky<f64, nalgebra::Dyn>> {
    let not_pd = |detail: String| Error::NoMode {
        reason: format!(
            "the Hessian of the negative log posterior at θ is not positive definite ({detail}): \
             θ is not a strict local mode, so there is no Laplace approximation. Check that θ is \
             the MAP, or use a proper prior on every coefficient"
        ),
    };
    if h.iter().any(|a| !a.is_finite()) {
        return Err(not_pd("non-finite entries".into()));
    }
    let n = h.nrows();
    let scale = h.diagonal().iter().fold(0.0f64, |m, &d| m.max(d.abs()));
    let chol = crate::linalg::cholesky(h).ok_or_else(|| not_pd("Cholesky failed".into()))?;
    let l = chol.l_dirty();
    let min_pivot = (0..n).fold(f64::INFINITY, |m, i| m.min(l[(i, i)]));
    if n > 0 && min_pivot * min_pivot <= scale * 1e-13 * n as f64 {
        return Err(not_pd(format!(
            "smallest Cholesky pivot² {:.3e} against a diagonal of {scale:.3e}",
            min_pivot * min_pivot
        )));
    }
    Ok(chol)
}

impl<L: Likelihood, P: Prior> Map<L, P> {
    /// Fits the MAP and returns it with the posterior around it: exact for the Gaussian
    /// likelihood with a Gaussian prior, the Laplace approximation otherwise (see
    /// [`crate::posterior`]). With [`Map::standardize`] the expansion is made in the
    /// standardized coefficients (where the prior lives) and mapped back to the original
    /// scale (`Cov(w) = S⁻¹·Cov(w·s)·S⁻¹`).
    ///
    /// # Errors
    /// Those of [`Map::fit`] and of [`Posterior::laplace`].
    pub fn laplace_approximation(
        &self,
        x: &DMatrix<f64>,
        y: &DVector<f64>,
    ) -> Result<(Fit<L>, Posterior)> {
        let fit = self.fit(x, y)?;
        let (intercept, standardize, weights, offset) = self.problem_settings();
        let design = with_extras(Design::new(x, y)?, weights, offset)?;
        let p = design.p();
        let scales = standardize.then(|| design.column_scales(intercept));
        let scaled_x = scales.as_ref().map(|s| {
            let mut xs = x.clone();
            for (j, mut c) in xs.column_iter_mut().enumerate() {
                if s[j] > 0.0 {
                    c /= s[j];
                }
            }
            xs
        });
        let work = match &scaled_x {
            Some(xs) => with_extras(Design::new(xs, y)?, weights, offset)?,
            None => design,
        };
        let problem = MapProblem::new(
            work,
            self.likelihood().clone(),
            self.prior().clone(),
            intercept,
        )?;
        let mut theta = DVector::zeros(problem.n_params());
        for j in 0..p {
            let s = scales.as_ref().map_or(1.0, |s| s[j]);
            theta[j] = fit.coefficients()[j] * if s > 0.0 { s } else { 1.0 };
        }
        if intercept {
            theta[p] = fit.intercept();
        }
        let mut post = Posterior::laplace(&problem, &theta)?;
        if let Some(s) = &scales {
            post.unscale(s);
        }
        Ok((fit, post))
    }
}
