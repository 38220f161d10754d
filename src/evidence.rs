//! Evidence maximization (type-II maximum likelihood, empirical Bayes) for the Gaussian
//! likelihood with a Gaussian prior: the noise precision α and the prior precision λ that
//! maximize the marginal likelihood `p(y | α, λ)`, by MacKay's fixed point — scikit-learn's
//! `BayesianRidge` — and its per-coefficient version, automatic relevance determination
//! (scikit-learn's `ARDRegression`).
//!
//! # Model
//! ```text
//! y = Xw + b + ε,   ε ~ N(0, α⁻¹ I),   w ~ N(0, λ⁻¹ I)    (ARD: w_j ~ N(0, λ_j⁻¹))
//! ```
//! The intercept is handled **by centering** `X` and `y` and is not part of the evidence:
//! `ln p(y)` below is the marginal likelihood of the centered data, treated as `n`
//! observations, exactly as in scikit-learn:
//! ```text
//! ln p(y | α, λ) = ½[ p·ln λ + n·ln α − α‖y − Xm‖² − λ‖m‖² + ln|Σ| − n·ln 2π ]
//! Σ = (λI + αXᵀX)⁻¹,   m = αΣXᵀy            (posterior covariance and mean of w)
//! ```
//! [`crate::posterior`] instead integrates the flat-prior intercept; for the same α and λ the
//! two differ by exactly `½·ln(2π/α) − ½·ln n` ([`EvidenceFit::ln_evidence_with_intercept`]).
//!
//! # MacKay's fixed point (the update order of scikit-learn ≥ 1.3)
//! With the SVD of the centered `X` computed once (`eᵢ = sᵢ²` the eigenvalues of `XᵀX`):
//! 1. `m = V diag(sᵢ/(eᵢ + λ/α)) Uᵀy`, `sse = ‖y − Xm‖²`;
//! 2. `γ = Σᵢ α eᵢ/(λ + α eᵢ)`, the effective number of parameters;
//! 3. `λ ← (γ + 2λ₁)/(‖m‖² + 2λ₂)`, `α ← (n − γ + 2α₁)/(sse + 2α₂)`;
//! 4. stop when `Σ|m − m_previous| < tol` (from the second iteration on).
//!
//! The reported `m` is recomputed with the final α, λ. Initialization: `α = 1/(var(y) + ε)`
//! (population variance, ε the machine epsilon), `λ = 1`. `(α₁, α₂, λ₁, λ₂)` are optional Gamma
//! hyper-priors ([`GammaHyperPriors`]; none by default, scikit-learn's default is 1e-6 each).
//!
//! # Example
//! ```
//! use mapfit::evidence::BayesianRidge;
//! use nalgebra::{DMatrix, DVector};
//! # fn main() -> mapfit::Result<()> {
//! let x = DMatrix::from_fn(30, 2, |i, j| ((i * (j + 3)) % 7) as f64 - 3.0);
//! let y = DVector::from_fn(30, |i, _| 0.5 * x[(i, 0)] - x[(i, 1)] + ((i % 5) as f64 - 2.0) * 0.1);
//! let fit = BayesianRidge::new().tolerance(1e-12)?.fit(&x, &y)?;
//! assert!(fit.converged());
//! assert!(fit.effective_parameters() > 1.9 && fit.effective_parameters() < 2.0);
//! # Ok(()) }
//! ```

use crate::design::Design;
use crate::error::{check_non_negative, check_positive, Error, Result};
use nalgebra::{DMatrix, DVector, SymmetricEigen};
use std::f64::consts::PI;

/// Gamma hyper-priors on the precisions, in scikit-learn's parameterization: the evidence
/// objective gains `α₁·ln α − α₂·α + λ₁·ln λ − λ₂·λ` (the log-kernel of Gamma densities with
/// shape `α₁ + 1`, rate `α₂` and shape `λ₁ + 1`, rate `λ₂`), and the fixed-point updates
/// become `λ = (γ + 2λ₁)/(‖m‖² + 2λ₂)`, `α = (n − γ + 2α₁)/(sse + 2α₂)`. All zero (the
/// default) is no hyper-prior: plain evidence maximization.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct GammaHyperPriors {
    /// α₁ (scikit-learn `alpha_1`).
    pub alpha_shape: f64,
    /// α₂ (scikit-learn `alpha_2`).
    pub alpha_rate: f64,
    /// λ₁ (scikit-learn `lambda_1`).
    pub lambda_shape: f64,
    /// λ₂ (scikit-learn `lambda_2`).
    pub lambda_rate: f64,
}

impl GammaHyperPriors {
    /// No hyper-prior (all zero).
    pub fn none() -> Self {
        Self::default()
    }
    /// scikit-learn's default, 1e-6 for each.
    pub fn sklearn_default() -> Self {
        GammaHyperPriors {
            alpha_shape: 1e-6,
            alpha_rate: 1e-6,
            lambda_shape: 1e-6,
            lambda_rate: 1e-6,
        }
    }
    /// Given values.
    ///
    /// # Errors
    /// A value that is not finite and ≥ 0.
    pub fn new(
        alpha_shape: f64,
        alpha_rate: f64,
        lambda_shape: f64,
        lambda_rate: f64,
    ) -> Result<Self> {
        Ok(GammaHyperPriors {
            alpha_shape: check_non_negative("alpha_1", alpha_shape)?,
            alpha_rate: check_non_negative("alpha_2", alpha_rate)?,
            lambda_shape: check_non_negative("lambda_1", lambda_shape)?,
            lambda_rate: check_non_negative("lambda_2", lambda_rate)?,
        })
    }
    fn ln_kernel(&self, alpha: f64, lambda: f64) -> f64 {
        let t = |shape: f64, rate: f64, v: f64| {
            (if shape > 0.0 { shape * v.ln() } else { 0.0 }) - rate * v
        };
        t(self.alpha_shape, self.alpha_rate, alpha) + t(self.lambda_shape, self.lambda_rate, lambda)
    }
}

/// Centered data `(X − x̄, y − ȳ, x̄, ȳ)`.
type Centered = (DMatrix<f64>, DVector<f64>, DVector<f64>, f64);

/// Centered data: `(X − x̄, y − ȳ, x̄, ȳ)` (no centering without an intercept).
fn center(x: &DMatrix<f64>, y: &DVector<f64>, intercept: bool) -> Result<Centered> {
    let design = Design::new(x, y)?;
    let (n, p) = (design.n(), design.p());
    if !intercept {
        return Ok((x.clone(), y.clone(), DVector::zeros(p), 0.0));
    }
    let xbar = design.column_means();
    let ybar = y.sum() / n as f64;
    let mut xc = x.clone();
    for (j, mut c) in xc.column_iter_mut().enumerate() {
        c.add_scalar_mut(-xbar[j]);
    }
    Ok((xc, y.add_scalar(-ybar), xbar, ybar))
}

fn initial_alpha(y: &DVector<f64>) -> f64 {
    let n = y.len() as f64;
    let mean = y.sum() / n;
    let var = y.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    1.0 / (var + f64::EPSILON)
}

fn diverged(what: &str, alpha: f64, lambda: f64) -> Error {
    Error::NoMode {
        reason: format!(
            "{what}: the evidence has no finite maximizer from this start (α = {alpha:e}, \
             λ = {lambda:e}); y may be constant or perfectly fitted. Add Gamma hyper-priors"
        ),
    }
}

/// MacKay / scikit-learn `BayesianRidge` evidence maximization (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq)]
pub struct BayesianRidge {
    intercept: bool,
    alpha_init: Option<f64>,
    lambda_init: Option<f64>,
    hyper: GammaHyperPriors,
    tol: f64,
    max_iter: usize,
}

impl Default for BayesianRidge {
    fn default() -> Self {
        Self::new()
    }
}

impl BayesianRidge {
    /// An intercept, scikit-learn's initialization, no hyper-priors, `tol = 1e-3` on
    /// `Σ|Δm|` and at most 300 iterations (scikit-learn's defaults, which are loose: `tol` is
    /// absolute, in the units of the coefficients).
    pub fn new() -> Self {
        BayesianRidge {
            intercept: true,
            alpha_init: None,
            lambda_init: None,
            hyper: GammaHyperPriors::none(),
            tol: 1e-3,
            max_iter: 300,
        }
    }
    /// Fit an intercept by centering (default `true`).
    pub fn intercept(mut self, yes: bool) -> Self {
        self.intercept = yes;
        self
    }
    /// Starting noise precision (default `1/(var(y) + ε)`).
    ///
    /// # Errors
    /// Not finite and > 0.
    pub fn alpha_init(mut self, alpha: f64) -> Result<Self> {
        self.alpha_init = Some(check_positive("alpha_init", alpha)?);
        Ok(self)
    }
    /// Starting prior precision (default 1).
    ///
    /// # Errors
    /// Not finite and > 0.
    pub fn lambda_init(mut self, lambda: f64) -> Result<Self> {
        self.lambda_init = Some(check_positive("lambda_init", lambda)?);
        Ok(self)
    }
    /// Gamma hyper-priors on α and λ.
    pub fn hyper_priors(mut self, h: GammaHyperPriors) -> Self {
        self.hyper = h;
        self
    }
    /// Stop when `Σ_j |m_j − m_j,previous| < tol`.
    ///
    /// # Errors
    /// Not finite and > 0.
    pub fn tolerance(mut self, tol: f64) -> Result<Self> {
        self.tol = check_positive("tolerance", tol)?;
        Ok(self)
    }
    /// Iteration cap.
    pub fn max_iter(mut self, n: usize) -> Self {
        self.max_iter = n.max(1);
        self
    }

    /// Maximizes the evidence for `x` (n × p) and `y`.
    ///
    /// # Errors
    /// Invalid data; [`Error::NoMode`] if the iteration diverges (α or λ not finite).
    pub fn fit(&self, x: &DMatrix<f64>, y: &DVector<f64>) -> Result<EvidenceFit> {
        let (xc, yc, xbar, ybar) = center(x, y, self.intercept)?;
        let (n, p) = xc.shape();
        let svd = xc.clone().svd(true, true);
        let u = svd
            .u
            .as_ref()
            .ok_or_else(|| Error::Solver("SVD without U".into()))?;
        let vt = svd
            .v_t
            .as_ref()
            .ok_or_else(|| Error::Solver("SVD without Vᵀ".into()))?;
        let s = &svd.singular_values;
        let e: DVector<f64> = s.map(|v| v * v);
        let uty = u.tr_mul(&yc);
        let h = self.hyper;
        let update = |alpha: f64, lambda: f64| {
            let r = lambda / alpha;
            let coords = DVector::from_fn(s.len(), |i, _| s[i] * uty[i] / (e[i] + r));
            let m = vt.tr_mul(&coords);
            let sse = (&yc - &xc * &m).norm_squared();
            (m, sse)
        };
        let gamma_of = |alpha: f64, lambda: f64| -> f64 {
            e.iter().map(|&ei| alpha * ei / (lambda + alpha * ei)).sum()
        };
        let mut alpha = self.alpha_init.unwrap_or_else(|| initial_alpha(&yc));
        let mut lambda = self.lambda_init.unwrap_or(1.0);
        let mut old: Option<DVector<f64>> = None;
        let mut converged = false;
        let mut iterations = 0;
        for iter in 0..self.max_iter {
            iterations = iter + 1;
            let (m, sse) = update(alpha, lambda);
            let gamma = gamma_of(alpha, lambda);
            lambda = (gamma + 2.0 * h.lambda_shape) / (m.norm_squared() + 2.0 * h.lambda_rate);
            alpha = (n as f64 - gamma + 2.0 * h.alpha_shape) / (sse + 2.0 * h.alpha_rate);
            if !(alpha.is_finite() && lambda.is_finite() && alpha > 0.0 && lambda > 0.0) {
                return Err(diverged("BayesianRidge", alpha, lambda));
            }
            if let Some(o) = &old {
                if (o - &m).abs().sum() < self.tol {
                    converged = true;
                    break;
                }
            }
            old = Some(m);
        }
        let (m, sse) = update(alpha, lambda);
        let gamma = gamma_of(alpha, lambda);
        let k = e.len();
        let ln_det_sigma = -e.iter().map(|&ei| (lambda + alpha * ei).ln()).sum::<f64>()
            - (p - k) as f64 * lambda.ln();
        let ln_evidence = 0.5
            * (p as f64 * lambda.ln() + n as f64 * alpha.ln()
                - alpha * sse
                - lambda * m.norm_squared()
                + ln_det_sigma
                - n as f64 * (2.0 * PI).ln());
        let mut a = xc.tr_mul(&xc) * alpha;
        for j in 0..p {
            a[(j, j)] += lambda;
        }
        let covariance = crate::linalg::cholesky(a)
            .map(|c| c.inverse())
            .ok_or_else(|| diverged("BayesianRidge posterior covariance", alpha, lambda))?;
        let intercept = if self.intercept {
            ybar - xbar.dot(&m)
        } else {
            0.0
        };
        Ok(EvidenceFit {
            alpha,
            lambda,
            intercept,
            ln_evidence,
            hyper_ln_kernel: h.ln_kernel(alpha, lambda),
            gamma,
            iterations,
            converged,
            covariance,
            coefficients: m,
            n,
            has_intercept: self.intercept,
        })
    }
}

/// The result of [`BayesianRidge::fit`].
#[derive(Debug, Clone)]
pub struct EvidenceFit {
    alpha: f64,
    lambda: f64,
    coefficients: DVector<f64>,
    intercept: f64,
    ln_evidence: f64,
    hyper_ln_kernel: f64,
    gamma: f64,
    iterations: usize,
    converged: bool,
    covariance: DMatrix<f64>,
    n: usize,
    has_intercept: bool,
}

impl EvidenceFit {
    /// Noise precision α (scikit-learn `alpha_`); the noise variance is `1/α`.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
    /// Prior precision λ (scikit-learn `lambda_`); the prior is `N(0, 1/λ)`.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }
    /// The posterior mean of the coefficients (= the MAP, ridge with `λ/α` in the sum
    /// convention).
    pub fn coefficients(&self) -> &DVector<f64> {
        &self.coefficients
    }
    /// The intercept `ȳ − x̄ᵀm` (0 without one).
    pub fn intercept(&self) -> f64 {
        self.intercept
    }
    /// The log marginal likelihood of the centered data at the fitted α, λ (no hyper-prior
    /// terms; see the [module docs](self)).
    pub fn ln_evidence(&self) -> f64 {
        self.ln_evidence
    }
    /// The evidence with the flat-prior intercept integrated instead of centered away
    /// (`ln_evidence + ½·ln(2π/α) − ½·ln n`), which is what [`crate::posterior::Posterior`]
    /// reports for the same model; equal to `ln_evidence` without an intercept.
    pub fn ln_evidence_with_intercept(&self) -> f64 {
        if self.has_intercept {
            self.ln_evidence + 0.5 * (2.0 * PI / self.alpha).ln() - 0.5 * (self.n as f64).ln()
        } else {
            self.ln_evidence
        }
    }
    /// The maximized objective: `ln_evidence` plus the hyper-priors' log-kernels (scikit-learn's
    /// last `scores_` entry).
    pub fn objective(&self) -> f64 {
        self.ln_evidence + self.hyper_ln_kernel
    }
    /// `γ = Σ α eᵢ/(λ + α eᵢ)`, the effective number of parameters (well-determined
    /// directions), at the fitted α, λ.
    pub fn effective_parameters(&self) -> f64 {
        self.gamma
    }
    /// Fixed-point iterations used.
    pub fn iterations(&self) -> usize {
        self.iterations
    }
    /// Whether the tolerance was met before the iteration cap.
    pub fn converged(&self) -> bool {
        self.converged
    }
    /// Posterior covariance of the coefficients `(λI + αX̃ᵀX̃)⁻¹` (scikit-learn `sigma_`).
    pub fn covariance(&self) -> &DMatrix<f64> {
        &self.covariance
    }
    /// The Gaussian likelihood with the fitted noise variance `1/α`, for [`crate::Map`].
    ///
    /// # Errors
    /// Never in practice (α is finite and > 0).
    pub fn likelihood(&self) -> Result<crate::likelihood::Gaussian> {
        crate::likelihood::Gaussian::new(1.0 / self.alpha)
    }
    /// The Gaussian prior with the fitted precision λ, for [`crate::Map`]: with
    /// [`EvidenceFit::likelihood`] its MAP is [`EvidenceFit::coefficients`].
    ///
    /// # Errors
    /// Never in practice (λ is finite and > 0).
    pub fn prior(&self) -> Result<crate::prior::Gaussian> {
        crate::prior::Gaussian::with_precision(self.lambda)
    }
}

/// Automatic relevance determination: one prior precision `λ_j` per coefficient, maximized
/// with the noise precision α by the fixed point of scikit-learn's `ARDRegression`
/// (MacKay 1992; Tipping 2001):
///
/// 1. `Σ = (diag λ_K + α X_Kᵀ X_K)⁻¹` on the kept coefficients `K` (by the Woodbury identity
///    when `n < p`; inverses are symmetric pseudo-inverses, as scikit-learn's `pinvh`), and
///    `m_K = αΣX_Kᵀy`;
/// 2. `γ_j = 1 − λ_j Σ_jj`, `λ_j ← (γ_j + 2λ₁)/(m_j² + 2λ₂)`,
///    `α ← (n − Σγ_j + 2α₁)/(sse + 2α₂)`;
/// 3. coefficients with `λ_j ≥ threshold` (default 1e4) are pruned: set to 0 and dropped;
/// 4. stop when `Σ|m − m_previous| < tol` (from the second iteration), or when nothing is kept;
///    then `Σ` and `m` are recomputed once with the final precisions.
///
/// The intercept is handled by centering, as in [`BayesianRidge`]. Defaults: `tol = 1e-3`,
/// 300 iterations, no hyper-priors (scikit-learn's are 1e-6; set
/// [`GammaHyperPriors::sklearn_default`] to reproduce `ARDRegression()`).
///
/// Pruning makes the result depend on the exact sequence of iterates: a precision that
/// crosses the threshold a step earlier or later changes every later step, so agreement
/// with scikit-learn requires the same update order, which this follows.
#[derive(Debug, Clone, PartialEq)]
pub struct Ard {
    intercept: bool,
    hyper: GammaHyperPriors,
    tol: f64,
    max_iter: usize,
    threshold: f64,
}

impl Default for Ard {
    fn default() -> Self {
        Self::new()
    }
}

impl Ard {
    /// Intercept, no hyper-priors, `tol = 1e-3`, 300 iterations, pruning at `λ ≥ 1e4`.
    pub fn new() -> Self {
        Ard {
            intercept: true,
            hyper: GammaHyperPriors::none(),
            tol: 1e-3,
            max_iter: 300,
            threshold: 1e4,
        }
    }
    /// Fit an intercept by centering (default `true`).
    pub fn intercept(mut self, yes: bool) -> Self {
        self.intercept = yes;
        self
    }
    /// Gamma hyper-priors on α and every λ_j.
    pub fn hyper_priors(mut self, h: GammaHyperPriors) -> Self {
        self.hyper = h;
        self
    }
    /// Stop when `Σ_j |m_j − m_j,previous| < tol`.
    ///
    /// # Errors
    /// Not finite and ≥ 0.
    pub fn tolerance(mut self, tol: f64) -> Result<Self> {
        self.tol = check_non_negative("tolerance", tol)?;
        Ok(self)
    }
    /// Iteration cap.
    pub fn max_iter(mut self, n: usize) -> Self {
        self.max_iter = n.max(1);
        self
    }
    /// Pruning threshold on the precisions (scikit-learn `threshold_lambda`).
    ///
    /// # Errors
    /// Not > 0 (∞ disables pruning).
    pub fn threshold_lambda(mut self, t: f64) -> Result<Self> {
        if t.is_nan() || t <= 0.0 {
            return Err(Error::InvalidParameter {
                name: "threshold_lambda",
                value: t,
                reason: "must be > 0",
            });
        }
        self.threshold = t;
        Ok(self)
    }

    /// Runs ARD on `x` (n × p) and `y`.
    ///
    /// # Errors
    /// Invalid data; fewer than 2 rows; [`Error::NoMode`] if α diverges.
    pub fn fit(&self, x: &DMatrix<f64>, y: &DVector<f64>) -> Result<ArdFit> {
        let (xc, yc, xbar, ybar) = center(x, y, self.intercept)?;
        let (n, p) = xc.shape();
        if n < 2 {
            return Err(Error::EmptyData {
                what: "ARD needs at least 2 observations",
            });
        }
        let h = self.hyper;
        let mut coef = DVector::zeros(p);
        let mut keep = vec![true; p];
        let mut alpha = initial_alpha(&yc);
        let mut lambda = DVector::from_element(p, 1.0);
        let mut old: Option<DVector<f64>> = None;
        let mut converged = false;
        let mut iterations = 0;
        for iter in 0..self.max_iter {
            iterations = iter + 1;
            let kept: Vec<usize> = (0..p).filter(|&j| keep[j]).collect();
            let sigma = ard_sigma(&xc, alpha, &lambda, &kept);
            ard_coef(&xc, &yc, alpha, &sigma, &kept, &mut coef);
            let sse = (&yc - &xc * &coef).norm_squared();
            let mut gamma_sum = 0.0;
            for (a, &j) in kept.iter().enumerate() {
                let g = 1.0 - lambda[j] * sigma[(a, a)];
                gamma_sum += g;
                lambda[j] = (g + 2.0 * h.lambda_shape) / (coef[j] * coef[j] + 2.0 * h.lambda_rate);
            }
            alpha = (n as f64 - gamma_sum + 2.0 * h.alpha_shape) / (sse + 2.0 * h.alpha_rate);
            if !(alpha.is_finite() && alpha > 0.0) {
                return Err(diverged("ARD", alpha, f64::NAN));
            }
            for j in 0..p {
                // NaN (0/0 for a coefficient at exactly 0 without hyper-prior) prunes too.
                keep[j] = lambda[j] < self.threshold;
                if !keep[j] {
                    coef[j] = 0.0;
                }
            }
            if let Some(o) = &old {
                if (o - &coef).abs().sum() < self.tol {
                    converged = true;
                    break;
                }
            }
            old = Some(coef.clone());
            if !keep.iter().any(|&k| k) {
                break;
            }
        }
        let kept: Vec<usize> = (0..p).filter(|&j| keep[j]).collect();
        let sigma = if kept.is_empty() {
            DMatrix::zeros(0, 0)
        } else {
            let s = ard_sigma(&xc, alpha, &lambda, &kept);
            ard_coef(&xc, &yc, alpha, &s, &kept, &mut coef);
            s
        };
        let sse = (&yc - &xc * &coef).norm_squared();
        let gamma: f64 = kept
            .iter()
            .enumerate()
            .map(|(a, &j)| 1.0 - lambda[j] * sigma[(a, a)])
            .sum();
        let ln_det_sigma = if kept.is_empty() {
            0.0
        } else {
            SymmetricEigen::new(sigma.clone())
                .eigenvalues
                .iter()
                .map(|v| v.ln())
                .sum::<f64>()
        };
        let ln_evidence = 0.5
            * (kept.iter().map(|&j| lambda[j].ln()).sum::<f64>() + n as f64 * alpha.ln()
                - alpha * sse
                - kept
                    .iter()
                    .map(|&j| lambda[j] * coef[j] * coef[j])
                    .sum::<f64>()
                + ln_det_sigma
                - n as f64 * (2.0 * PI).ln());
        let intercept = if self.intercept {
            ybar - xbar.dot(&coef)
        } else {
            0.0
        };
        Ok(ArdFit {
            alpha,
            lambdas: lambda,
            coefficients: coef,
            intercept,
            kept: keep,
            covariance: sigma,
            iterations,
            converged,
            gamma,
            ln_evidence,
        })
    }
}

/// scikit-learn's `pinvh`: the pseudo-inverse of a symmetric matrix from its eigenvalues,
/// dropping those with `|e| ≤ max(m, n)·ε·max|e|`.
fn pinvh(a: DMatrix<f64>) -> DMatrix<f64> {
    let n = a.nrows();
    let eig = SymmetricEigen::new(a);
    let emax = eig.eigenvalues.amax();
    let cutoff = n as f64 * f64::EPSILON * emax;
    let mut out = DMatrix::zeros(n, n);
    for (i, &e) in eig.eigenvalues.iter().enumerate() {
        if e.abs() > cutoff {
            let v = eig.eigenvectors.column(i);
            out += v * v.transpose() / e;
        }
    }
    out
}

/// `Σ = (diag λ_K + α X_KᵀX_K)⁻¹` (Woodbury form when `n < p`).
fn ard_sigma(x: &DMatrix<f64>, alpha: f64, lambda: &DVector<f64>, kept: &[usize]) -> DMatrix<f64> {
    let (n, p) = x.shape();
    let xk = x.select_columns(kept);
    if n >= p {
        let mut a = xk.tr_mul(&xk) * alpha;
        for (i, &j) in kept.iter().enumerate() {
            a[(i, i)] += lambda[j];
        }
        pinvh(a)
    } else {
        let inv: Vec<f64> = kept.iter().map(|&j| 1.0 / lambda[j]).collect();
        let mut xs = xk.clone();
        for (c, mut col) in xs.column_iter_mut().enumerate() {
            col *= inv[c];
        }
        let mut a = &xs * xk.transpose();
        for i in 0..n {
            a[(i, i)] += 1.0 / alpha;
        }
        let s = pinvh(a) * &xs;
        let mut sigma = -(xs.transpose() * s);
        for (i, &v) in inv.iter().enumerate() {
            sigma[(i, i)] += v;
        }
        sigma
    }
}

fn ard_coef(
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    alpha: f64,
    sigma: &DMatrix<f64>,
    kept: &[usize],
    coef: &mut DVector<f64>,
) {
    let xk = x.select_columns(kept);
    let m = sigma * xk.tr_mul(y) * alpha;
    for (a, &j) in kept.iter().enumerate() {
        coef[j] = m[a];
    }
}

/// The result of [`Ard::fit`].
#[derive(Debug, Clone)]
pub struct ArdFit {
    alpha: f64,
    lambdas: DVector<f64>,
    coefficients: DVector<f64>,
    intercept: f64,
    kept: Vec<bool>,
    covariance: DMatrix<f64>,
    iterations: usize,
    converged: bool,
    gamma: f64,
    ln_evidence: f64,
}

impl ArdFit {
    /// Noise precision α.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
    /// Per-coefficient prior precisions λ_j (scikit-learn `lambda_`; pruned ones keep the
    /// value that crossed the threshold).
    pub fn lambdas(&self) -> &DVector<f64> {
        &self.lambdas
    }
    /// Posterior means (0 for pruned coefficients).
    pub fn coefficients(&self) -> &DVector<f64> {
        &self.coefficients
    }
    /// The intercept.
    pub fn intercept(&self) -> f64 {
        self.intercept
    }
    /// Which coefficients were kept (not pruned).
    pub fn kept(&self) -> &[bool] {
        &self.kept
    }
    /// Posterior covariance of the kept coefficients (scikit-learn `sigma_`), in their order.
    pub fn covariance(&self) -> &DMatrix<f64> {
        &self.covariance
    }
    /// Iterations used.
    pub fn iterations(&self) -> usize {
        self.iterations
    }
    /// Whether the tolerance was met (false when stopped by the cap or by pruning everything).
    pub fn converged(&self) -> bool {
        self.converged
    }
    /// `Σ_K γ_j`, the effective number of parameters.
    pub fn effective_parameters(&self) -> f64 {
        self.gamma
    }
    /// The log marginal likelihood of the centered data under the kept coefficients' priors
    /// at the final precisions (the pruned coefficients, at prior precision ≥ threshold, are
    /// taken as exactly 0).
    pub fn ln_evidence(&self) -> f64 {
        self.ln_evidence
    }
}
