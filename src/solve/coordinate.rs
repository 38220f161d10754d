//! Coordinate descent for penalized least squares, as an `argmin::core::Solver`.
//!
//! # Problem
//! With observation weights `v`, an offset `o`, the σ²-scaled elastic penalty
//! (`l1_j = σ²·f_j/b`, `l2_j = σ²·f_j/τ²`) and — with an intercept — weighted centering,
//! the negative log posterior times σ² is (up to a constant)
//! ```text
//! P(w) = ½‖ỹ − X̃w‖² + Σ_j [ l1_j·|w_j| + ½·l2_j·w_j² ],
//! X̃ = √v ∘ (X − x̄)/s,   ỹ = √v ∘ (y − o − ȳ),   b = ȳ − x̄ᵀ(w/s)
//! ```
//! (`s` the column scales when standardizing, else 1). Each coordinate update is exact:
//! `w_j ← S(x̃_jᵀr + h_j·w_j, l1_j)/(h_j + l2_j)` with `h_j = ‖x̃_j‖²` and `r = ỹ − X̃w`.
//!
//! # Algorithm (Friedman, Hastie & Tibshirani 2010; Tibshirani et al. 2012)
//! * **Naive updates** keep the residual `r`; **covariance updates** keep the gradient
//!   `g = X̃ᵀr` and cache Gram columns `X̃ᵀx̃_k` of the coefficients that ever became non-zero
//!   (cheaper when `n ≫ p`).
//! * **Active set**: after a sweep over the working set, cycle over the non-zero coefficients
//!   until they settle, then sweep the working set again.
//! * **Strong rules** (paths): the working set for λ_k keeps `j` when
//!   `|x̃_jᵀr(λ_{k−1})| ≥ 2·l1_j(λ_k) − l1_j(λ_{k−1})`; every discarded coordinate is checked
//!   against the KKT conditions at the end and added back if it violates them.
//! * **Stopping**: both the duality gap relative to the null objective `½‖ỹ‖²` and the largest
//!   KKT violation relative to `max_j |x̃_jᵀỹ|` must be below their tolerances. The gap alone
//!   cannot certify coefficients to 1e-6: it bounds the objective, and coefficient errors enter
//!   it squared, below what f64 resolves (~1e-16 of the null objective). The KKT violation is
//!   first order in the coefficient error, so it can.
//!
//! # Dual
//! With `c = X̃ᵀr` and `θ = s·r`, `s = min(1, min_{l2_j=0} l1_j/|c_j|)`:
//! `D(θ) = ỹᵀθ − ½‖θ‖² − Σ_{l2_j>0} (|θᵀx̃_j| − l1_j)₊²/(2·l2_j)`, and gap = `P(w) − D(θ) ≥ 0`.

use crate::convergence::{Convergence, Measure};
use crate::design::Design;
use crate::error::{Error, Result};
use crate::likelihood::Likelihood;
use crate::objective::MapProblem;
use crate::prior::{ElasticPenalty, Prior};
use argmin::core::{IterState, Problem, Solver, State, TerminationReason, TerminationStatus, KV};
use nalgebra::{DMatrix, DVector};

/// Argmin state used by mapfit's own solvers: θ as a `DVector`, the gradient slot unused.
pub type CdState = IterState<DVector<f64>, DVector<f64>, (), (), (), f64>;

/// Default relative duality-gap tolerance.
pub const DEFAULT_GAP_TOL: f64 = 1e-12;
/// Default relative KKT tolerance.
pub const DEFAULT_KKT_TOL: f64 = 1e-11;

/// Workspace of coordinate descent on one (weighted, centered, scaled) least-squares design.
/// Reused along a λ path, so that every fit after the first is warm-started.
#[derive(Debug, Clone)]
pub struct CdEngine {
    x: DMatrix<f64>,
    y: DVector<f64>,
    xbar: Vec<f64>,
    ybar: f64,
    scales: Vec<f64>,
    h: Vec<f64>,
    xty: Vec<f64>,
    yy: f64,
    grad_scale: f64,
    l1: Vec<f64>,
    l2: Vec<f64>,
    w: Vec<f64>,
    r: DVector<f64>,
    g: Vec<f64>,
    gram: Vec<Option<Vec<f64>>>,
    covariance: bool,
    strong: Vec<bool>,
    active: Vec<usize>,
    in_active: Vec<bool>,
    thresh: f64,
    sweeps: u64,
}

/// Outcome of one convergence check.
#[derive(Debug, Clone, Copy)]
pub struct Check {
    /// Duality gap / null objective.
    pub rel_gap: f64,
    /// Largest KKT violation (σ²-scaled objective units).
    pub kkt: f64,
    /// Largest KKT violation / max_j |x̃_jᵀỹ|.
    pub rel_kkt: f64,
    /// Coordinates outside the working set that violated the KKT conditions (added back).
    pub strong_violations: usize,
}

impl CdEngine {
    /// Builds the working design for least squares on `(x, y)` with optional observation
    /// weights, an optional intercept (weighted centering) and optional column scales
    /// (standardization; a scale of 0 marks a constant column, kept at 0).
    ///
    /// `covariance`: `None` chooses covariance updates when `n ≥ 2p` and `p ≤ 3000`.
    pub fn new(
        design: &Design<'_>,
        intercept: bool,
        scales: Option<&[f64]>,
        covariance: Option<bool>,
    ) -> Self {
        let (n, p) = (design.n(), design.p());
        let sw = design.weight_sum();
        let xbar: Vec<f64> = if intercept {
            design.column_means().iter().copied().collect()
        } else {
            vec![0.0; p]
        };
        let ybar = if intercept {
            (0..n)
                .map(|i| design.weight(i) * (design.y()[i] - design.offset_at(i)))
                .sum::<f64>()
                / sw
        } else {
            0.0
        };
        let scales: Vec<f64> = match scales {
            Some(s) => s.iter().map(|&a| if a > 0.0 { a } else { 1.0 }).collect(),
            None => vec![1.0; p],
        };
        let sqrt_v: Vec<f64> = (0..n).map(|i| design.weight(i).sqrt()).collect();
        let mut x = design.x().clone();
        for (j, mut c) in x.column_iter_mut().enumerate() {
            let (m, s) = (xbar[j], scales[j]);
            for (i, a) in c.iter_mut().enumerate() {
                *a = sqrt_v[i] * (*a - m) / s;
            }
        }
        let y = DVector::from_iterator(
            n,
            (0..n).map(|i| sqrt_v[i] * (design.y()[i] - design.offset_at(i) - ybar)),
        );
        let h: Vec<f64> = x.column_iter().map(|c| c.norm_squared()).collect();
        let xty: Vec<f64> = x.column_iter().map(|c| c.dot(&y)).collect();
        let yy = y.norm_squared();
        let grad_scale = xty.iter().fold(0.0f64, |m, a| m.max(a.abs()));
        let covariance = covariance.unwrap_or(n >= 2 * p && p <= 3000);
        CdEngine {
            r: y.clone(),
            g: xty.clone(),
            x,
            y,
            xbar,
            ybar,
            scales,
            h,
            xty,
            yy,
            grad_scale: if grad_scale > 0.0 { grad_scale } else { 1.0 },
            l1: vec![0.0; p],
            l2: vec![0.0; p],
            w: vec![0.0; p],
            gram: vec![None; p],
            covariance,
            strong: vec![true; p],
            active: Vec::new(),
            in_active: vec![false; p],
            thresh: 0.0,
            sweeps: 0,
        }
    }

    /// Number of coefficients.
    pub fn p(&self) -> usize {
        self.w.len()
    }
    /// `max_j |x̃_jᵀỹ|`, the gradient of the data term at `w = 0` (λ_max's numerator).
    pub fn null_gradient(&self) -> &[f64] {
        &self.xty
    }
    /// The null objective `½‖ỹ‖²`.
    pub fn null_objective(&self) -> f64 {
        0.5 * self.yy
    }
    /// Whether covariance updates are used.
    pub fn uses_covariance(&self) -> bool {
        self.covariance
    }
    /// Total coordinate sweeps so far.
    pub fn sweeps(&self) -> u64 {
        self.sweeps
    }
    /// Coefficients on the working (scaled) coordinates.
    pub fn working_coefficients(&self) -> &[f64] {
        &self.w
    }

    /// Sets the σ²-scaled penalty (`pen.l1/l2` multiplied by `sigma2`).
    pub fn set_penalty(&mut self, pen: &ElasticPenalty, sigma2: f64) {
        for j in 0..self.p() {
            self.l1[j] = sigma2 * pen.l1[j];
            self.l2[j] = sigma2 * pen.l2[j];
        }
    }

    /// Sequential strong rule: keep coordinate j when `|x̃_jᵀr| ≥ 2·l1_j − l1_prev_j`
    /// (with the current residual, i.e. the previous solution), plus every coordinate that
    /// was ever non-zero or is unpenalized. `None` keeps every coordinate.
    pub fn screen(&mut self, l1_prev: Option<&[f64]>) {
        let p = self.p();
        match l1_prev {
            None => self.strong.iter_mut().for_each(|s| *s = true),
            Some(prev) => {
                if !self.covariance {
                    self.refresh_gradient();
                }
                for (j, &prev_j) in prev.iter().enumerate().take(p) {
                    self.strong[j] = self.in_active[j]
                        || self.l1[j] == 0.0
                        || self.g[j].abs() >= 2.0 * self.l1[j] - prev_j;
                }
            }
        }
    }

    /// Sets the coefficients (working coordinates) and recomputes the residual or gradient.
    pub fn set_working_coefficients(&mut self, w: &[f64]) {
        self.w.copy_from_slice(w);
        for (j, &a) in w.iter().enumerate() {
            if a != 0.0 && !self.in_active[j] {
                self.in_active[j] = true;
                self.active.push(j);
            }
        }
        if self.covariance {
            self.g.copy_from_slice(&self.xty);
            for idx in 0..self.active.len() {
                let k = self.active[idx];
                if self.w[k] != 0.0 {
                    self.ensure_gram(k);
                    let wk = self.w[k];
                    let col = self.gram[k].as_ref().expect("gram column cached above");
                    for (gj, gjk) in self.g.iter_mut().zip(col) {
                        *gj -= gjk * wk;
                    }
                }
            }
        } else {
            self.r.copy_from(&self.y);
            for j in 0..self.p() {
                if self.w[j] != 0.0 {
                    self.r.axpy(-self.w[j], &self.x.column(j), 1.0);
                }
            }
        }
    }

    fn ensure_gram(&mut self, k: usize) {
        if self.gram[k].is_none() {
            let xk = self.x.column(k);
            let col: Vec<f64> = self.x.column_iter().map(|c| c.dot(&xk)).collect();
            self.gram[k] = Some(col);
        }
    }

    /// Recomputes `g = X̃ᵀr` from the residual (naive mode): one pass over X̃.
    fn refresh_gradient(&mut self) {
        let r = &self.r;
        for (gj, c) in self.g.iter_mut().zip(self.x.column_iter()) {
            *gj = c.dot(r);
        }
    }

    /// One exact coordinate update; returns `h_j·Δ²`.
    #[inline]
    fn update(&mut self, j: usize) -> f64 {
        let hj = self.h[j];
        if hj == 0.0 {
            return 0.0;
        }
        let wj = self.w[j];
        let c = if self.covariance {
            self.g[j]
        } else {
            self.x.column(j).dot(&self.r)
        } + hj * wj;
        let d = hj + self.l2[j];
        let new = crate::closed_form::soft_threshold(c, self.l1[j]) / d;
        let delta = new - wj;
        if delta == 0.0 {
            return 0.0;
        }
        self.w[j] = new;
        if !self.in_active[j] {
            self.in_active[j] = true;
            self.active.push(j);
        }
        if self.covariance {
            self.ensure_gram(j);
            let col = self.gram[j].as_ref().expect("gram column cached above");
            for (gk, gkj) in self.g.iter_mut().zip(col) {
                *gk -= gkj * delta;
            }
        } else {
            self.r.axpy(-delta, &self.x.column(j), 1.0);
        }
        hj * delta * delta
    }

    fn sweep_strong(&mut self) -> f64 {
        self.sweeps += 1;
        let mut m = 0.0f64;
        for j in 0..self.p() {
            if self.strong[j] {
                m = m.max(self.update(j));
            }
        }
        m
    }

    fn sweep_active(&mut self) -> f64 {
        self.sweeps += 1;
        let mut m = 0.0f64;
        for idx in 0..self.active.len() {
            let j = self.active[idx];
            if self.strong[j] {
                m = m.max(self.update(j));
            }
        }
        m
    }

    /// One outer iteration: a sweep over the working set and, if anything moved, cycles over
    /// the active set until it settles (at most `max_inner` sweeps). Returns the largest
    /// `h_j·Δ²` of the full sweep.
    pub fn outer_iteration(&mut self, max_inner: u64) -> f64 {
        if self.thresh == 0.0 {
            self.thresh = 1e-14 * self.null_objective().max(f64::MIN_POSITIVE);
        }
        let full = self.sweep_strong();
        if full > self.thresh {
            let mut k = 0;
            while k < max_inner && self.sweep_active() > self.thresh {
                k += 1;
            }
        }
        full
    }

    /// Tightens the inner threshold (after a check that failed on accuracy alone).
    pub fn tighten(&mut self) {
        self.thresh = (self.thresh * 1e-3).max(1e-30 * self.null_objective());
    }

    /// Computes `X̃ᵀr` for every coordinate, adds KKT violators outside the working set to
    /// it, and measures the duality gap and the KKT violation.
    pub fn check(&mut self) -> Check {
        if !self.covariance {
            self.refresh_gradient();
        }
        let p = self.p();
        let mut strong_violations = 0;
        let mut kkt = 0.0f64;
        for j in 0..p {
            let v = kkt_violation(self.l1[j], self.l2[j], self.w[j], -self.g[j]);
            if self.h[j] == 0.0 {
                continue;
            }
            if !self.strong[j] && v > 0.0 {
                self.strong[j] = true;
                strong_violations += 1;
            }
            kkt = kkt.max(v);
        }
        let gap = self.duality_gap();
        let null = self.null_objective();
        let rel_gap = if null > 0.0 { gap / null } else { gap };
        Check {
            rel_gap,
            kkt,
            rel_kkt: kkt / self.grad_scale,
            strong_violations,
        }
    }

    /// The duality gap `P(w) − D(θ)` (needs `g = X̃ᵀr` up to date).
    pub fn duality_gap(&self) -> f64 {
        let (rr, yr) = self.residual_products();
        let p = self.p();
        let mut pen = 0.0;
        let mut s = 1.0f64;
        for j in 0..p {
            pen += self.l1[j] * self.w[j].abs() + 0.5 * self.l2[j] * self.w[j] * self.w[j];
            if self.l2[j] == 0.0 && self.l1[j] > 0.0 && self.g[j].abs() > self.l1[j] * s {
                s = self.l1[j] / self.g[j].abs();
            }
        }
        let mut hstar = 0.0;
        for j in 0..p {
            if self.l2[j] > 0.0 {
                let e = (s * self.g[j].abs() - self.l1[j]).max(0.0);
                hstar += e * e / (2.0 * self.l2[j]);
            }
        }
        let gap = 0.5 * rr + pen - s * yr + 0.5 * s * s * rr + hstar;
        gap.max(0.0)
    }

    /// `(‖r‖², ỹᵀr)`.
    fn residual_products(&self) -> (f64, f64) {
        if self.covariance {
            let wy: f64 = self.w.iter().zip(&self.xty).map(|(a, b)| a * b).sum();
            let wg: f64 = self.w.iter().zip(&self.g).map(|(a, b)| a * b).sum();
            let yr = self.yy - wy;
            (yr - wg, yr)
        } else {
            (self.r.norm_squared(), self.y.dot(&self.r))
        }
    }

    /// The primal objective `½‖r‖² + penalty` (σ²-scaled).
    pub fn primal(&self) -> f64 {
        let (rr, _) = self.residual_products();
        let pen: f64 = (0..self.p())
            .map(|j| self.l1[j] * self.w[j].abs() + 0.5 * self.l2[j] * self.w[j] * self.w[j])
            .sum();
        0.5 * rr + pen
    }

    /// Coefficients and intercept on the original scale of the data.
    pub fn coefficients(&self) -> (DVector<f64>, f64) {
        let w = DVector::from_iterator(self.p(), (0..self.p()).map(|j| self.w[j] / self.scales[j]));
        let b = self.ybar - w.iter().zip(&self.xbar).map(|(a, m)| a * m).sum::<f64>();
        (w, b)
    }

    /// Converts original-scale coefficients to working coordinates.
    pub fn to_working(&self, w: &[f64]) -> Vec<f64> {
        w.iter().zip(&self.scales).map(|(a, s)| a * s).collect()
    }
}

fn gaussian_sigma2<L: Likelihood>(lik: &L) -> std::result::Result<f64, argmin::core::Error> {
    lik.gaussian_noise_variance().ok_or_else(|| {
        argmin::core::Error::from(Error::Unsupported {
            what: format!(
                "coordinate descent solves least squares: it needs the Gaussian likelihood, not {}",
                lik.name()
            ),
        })
    })
}

/// KKT violation of one coordinate with data-term gradient `g`.
#[inline]
fn kkt_violation(l1: f64, l2: f64, w: f64, g: f64) -> f64 {
    let g = g + l2 * w;
    if w > 0.0 {
        (g + l1).abs()
    } else if w < 0.0 {
        (g - l1).abs()
    } else {
        (g.abs() - l1).max(0.0)
    }
}

/// # Coordinate descent
/// Pathwise coordinate descent for a Gaussian likelihood with a Gaussian, Laplace,
/// elastic-net or flat prior (any prior with an [`ElasticPenalty`] form), with penalty
/// factors, observation weights, offsets and an unpenalized intercept. See the module docs
/// for the algorithm and the stopping rule.
///
/// One argmin iteration is one outer iteration (a sweep over the working set, then the
/// active set to convergence, then a KKT and duality-gap check when the sweep moved nothing
/// beyond the threshold). The state's parameter is θ = (w, b) on the original scale.
///
/// ## Requirements on the optimization problem
/// [`MapProblem`] with the Gaussian likelihood and a prior whose `elastic()` is `Some`.
///
/// ## Reference
/// Friedman, Hastie & Tibshirani (2010), *Regularization paths for generalized linear models
/// via coordinate descent*, J. Stat. Softw. 33(1). Tibshirani et al. (2012), *Strong rules
/// for discarding predictors in lasso-type problems*, JRSS B 74(2).
#[derive(Debug, Clone)]
pub struct CoordinateDescent {
    engine: Option<CdEngine>,
    gap_tol: f64,
    kkt_tol: f64,
    standardize: Option<Vec<f64>>,
    covariance: Option<bool>,
    max_inner: u64,
    last: Option<Check>,
    converged: bool,
}

impl Default for CoordinateDescent {
    fn default() -> Self {
        Self::new()
    }
}

impl CoordinateDescent {
    /// Default tolerances ([`DEFAULT_GAP_TOL`], [`DEFAULT_KKT_TOL`]).
    pub fn new() -> Self {
        CoordinateDescent {
            engine: None,
            gap_tol: DEFAULT_GAP_TOL,
            kkt_tol: DEFAULT_KKT_TOL,
            standardize: None,
            covariance: None,
            max_inner: 100_000,
            last: None,
            converged: false,
        }
    }

    /// Starts from a prepared engine (a λ path passes the previous fit's engine).
    pub fn with_engine(mut self, engine: CdEngine) -> Self {
        self.engine = Some(engine);
        self
    }

    /// Relative duality-gap tolerance.
    ///
    /// # Errors
    /// Not finite and > 0.
    pub fn with_gap_tolerance(mut self, tol: f64) -> Result<Self> {
        self.gap_tol = crate::error::check_positive("gap tolerance", tol)?;
        Ok(self)
    }

    /// Relative KKT tolerance.
    ///
    /// # Errors
    /// Not finite and > 0.
    pub fn with_kkt_tolerance(mut self, tol: f64) -> Result<Self> {
        self.kkt_tol = crate::error::check_positive("KKT tolerance", tol)?;
        Ok(self)
    }

    /// Fits on columns divided by `scales` (glmnet's standardization); the prior then applies
    /// to the scaled coefficients and results are reported on the original scale.
    pub fn with_column_scales(mut self, scales: Vec<f64>) -> Self {
        self.standardize = Some(scales);
        self
    }

    /// Forces covariance (`true`) or naive (`false`) updates.
    pub fn with_covariance_updates(mut self, covariance: bool) -> Self {
        self.covariance = Some(covariance);
        self
    }

    /// Takes the engine back (to warm-start the next fit of a path).
    pub fn into_engine(self) -> Option<CdEngine> {
        self.engine
    }

    /// The last convergence check, if one ran.
    pub fn last_check(&self) -> Option<Check> {
        self.last
    }

    /// The convergence record of the last run.
    pub fn convergence(&self, iterations: u64) -> Convergence {
        let c = self.last.unwrap_or(Check {
            rel_gap: f64::INFINITY,
            kkt: f64::INFINITY,
            rel_kkt: f64::INFINITY,
            strong_violations: 0,
        });
        Convergence {
            converged: self.converged,
            measure: Measure::RelativeDualityGap,
            value: c.rel_gap,
            tolerance: self.gap_tol,
            kkt_violation: c.kkt,
            iterations,
        }
    }

    fn engine_mut(&mut self) -> std::result::Result<&mut CdEngine, argmin::core::Error> {
        self.engine.as_mut().ok_or_else(|| {
            argmin::core::Error::from(Error::Solver(
                "coordinate descent: engine not initialized".into(),
            ))
        })
    }
}

impl<L: Likelihood, P: Prior> Solver<MapProblem<'_, L, P>, CdState> for CoordinateDescent {
    fn name(&self) -> &str {
        "coordinate descent"
    }

    fn init(
        &mut self,
        problem: &mut Problem<MapProblem<'_, L, P>>,
        state: CdState,
    ) -> std::result::Result<(CdState, Option<KV>), argmin::core::Error> {
        let scales = self.standardize.clone();
        let covariance = self.covariance;
        let has_engine = self.engine.is_some();
        let (pen, sigma2, engine) = problem.problem("cd_prepare", |pb| {
            let p = pb.design().p();
            let pen = pb.prior().elastic(p).ok_or_else(|| {
                argmin::core::Error::from(Error::Unsupported {
                    what: format!(
                        "coordinate descent needs an elastic-net-type prior, not {}",
                        pb.prior().describe()
                    ),
                })
            })?;
            let engine = if has_engine {
                None
            } else {
                Some(CdEngine::new(
                    pb.design(),
                    pb.has_intercept(),
                    scales.as_deref(),
                    covariance,
                ))
            };
            let sigma2 = gaussian_sigma2(pb.likelihood())?;
            Ok((pen, sigma2, engine))
        })?;
        if let Some(e) = engine {
            self.engine = Some(e);
        }
        let engine = self.engine_mut()?;
        engine.set_penalty(&pen, sigma2);
        if let Some(theta) = state.get_param() {
            let p = engine.p();
            let w = engine.to_working(&theta.as_slice()[..p]);
            engine.set_working_coefficients(&w);
        }
        self.converged = false;
        self.last = None;
        Ok((state, None))
    }

    fn next_iter(
        &mut self,
        problem: &mut Problem<MapProblem<'_, L, P>>,
        state: CdState,
    ) -> std::result::Result<(CdState, Option<KV>), argmin::core::Error> {
        let (gap_tol, kkt_tol, max_inner) = (self.gap_tol, self.kkt_tol, self.max_inner);
        let engine = self.engine_mut()?;
        let full = engine.outer_iteration(max_inner);
        let mut converged = false;
        let mut check = None;
        if full <= engine.thresh {
            let c = engine.check();
            if c.strong_violations == 0 {
                if c.rel_gap <= gap_tol && c.rel_kkt <= kkt_tol {
                    converged = true;
                } else {
                    engine.tighten();
                }
            }
            check = Some(c);
        }
        let (w, b) = engine.coefficients();
        let (sigma2, intercept, n_const) = problem.problem("cd_state", |pb| {
            let d = pb.design();
            let sw = d.weight_sum();
            let s2 = gaussian_sigma2(pb.likelihood())?;
            Ok((
                s2,
                pb.has_intercept(),
                0.5 * sw * (2.0 * std::f64::consts::PI * s2).ln(),
            ))
        })?;
        let cost = engine.primal() / sigma2 + n_const;
        let mut theta = DVector::zeros(w.len() + usize::from(intercept));
        theta.rows_mut(0, w.len()).copy_from(&w);
        if intercept {
            theta[w.len()] = b;
        }
        if let Some(c) = check {
            self.last = Some(c);
        }
        self.converged = converged;
        let kv = match check {
            Some(c) => argmin::kv!("rel_gap" => c.rel_gap; "rel_kkt" => c.rel_kkt;),
            None => argmin::kv!("full_sweep_change" => full;),
        };
        Ok((state.param(theta).cost(cost), Some(kv)))
    }

    fn terminate(&mut self, _state: &CdState) -> TerminationStatus {
        if self.converged {
            TerminationStatus::Terminated(TerminationReason::SolverConverged)
        } else {
            TerminationStatus::NotTerminated
        }
    }
}
