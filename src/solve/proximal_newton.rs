//! Proximal Newton for any likelihood with an elastic-type prior (Laplace, elastic net,
//! Gaussian, flat), as an `argmin::core::Solver`; and the check that a MAP exists at all.
//!
//! # Algorithm
//! With `f(θ)` the negative log-likelihood and `pen(w) = Σ_j l1_j|w_j| + ½l2_j w_j²`, each
//! outer iteration at the current `θ = (w, b)`, `η = offset + Xw + b`:
//! 1. forms the second-order model of `f` (IRLS): weights `aᵢ = vᵢ·ℓ″(ηᵢ)` and working
//!    response `zᵢ = ηᵢ − offsetᵢ − ℓ′(ηᵢ)/ℓ″(ηᵢ)`, so that up to a constant
//!    `f(θ + Δ) ≈ ½ Σᵢ aᵢ·(zᵢ − xᵢᵀw′ − b′)²` at `θ′ = θ + Δ`;
//! 2. minimizes `½ Σᵢ aᵢ(zᵢ − xᵢᵀw′ − b′)² + pen(w′)` by coordinate descent
//!    ([`CdEngine`] on the design `(X, z)` with weights `a`, σ² = 1), warm-started at `w`;
//!    on a warm-started path point ([`ProximalNewton::with_screening`]) only the working set
//!    moves — non-zero and unpenalized coordinates, KKT violators and the strong rule's
//!    survivors — so the subproblem's design is those columns alone, either read in place
//!    ([`CdEngine::on_columns_in_place`]: the weights applied per element, the residual
//!    held as `√a∘r`) or as one weighted copy made straight from X into one allocation kept
//!    from step to step and, on a path, from λ to λ ([`CdEngine::on_columns_reusing`]): a
//!    copy when it is at most 1 MiB, by default ([`ProximalNewton::with_x_in_place`]);
//!    without a screen,
//!    every column that can move: a zero coefficient under an infinite L1 weight, as in a
//!    path's null model, cannot);
//!    the updates are covariance updates (the weighted Gram matrix of the working columns,
//!    built by the tile kernel, rows transformed block by block when read in place) when the
//!    working set has at most 12 columns per sweep the last Newton step took (its
//!    subproblem and chord steps, step 4, all on one Gram matrix), else naive
//!    updates (each coordinate a dot product and an axpy over the `n` rows); the first
//!    subproblem, with no sweeps to go by, follows [`CdEngine::covariance_rule`]
//!    ([`ProximalNewton::with_covariance_updates`] forces either);
//!    the subproblem is solved to a KKT violation `≤ scale·clamp(0.1·r^1.5, 0.5·tol, 10⁻³)`,
//!    with `r` the current relative KKT violation (inexact early, exact at the end: a forcing
//!    term `r^0.5` relative to `r` keeps superlinear convergence, of order 1.5; on the
//!    benchmark paths it needs 20–25 % fewer coordinate updates than `r²` and no more Newton
//!    steps); the sweeps stop at a threshold on `max_j h_j·Δ_j²` derived from that target;
//! 3. backtracks along `Δ = θ′ − θ` (halving `t`; the full step's gradient is computed
//!    first, in the same pass over X as its η — [`MapProblem::data_gradient`]) until the
//!    true objective decreases enough:
//!    `F(θ + tΔ) ≤ F(θ) + σ·t·D`, `D = ∇f(θ)ᵀΔ + pen(w + Δ_w) − pen(w) ≤ 0`, `σ = 10⁻⁴`.
//!    When the predicted decrease `|D|` is below the objective's rounding level
//!    (`10³·ε·max(|F|, 1)`, i.e. at the optimum) or no step passes, the full step is taken
//!    if it lowers the KKT violation;
//! 4. when that full step passed the Armijo test, cut the KKT violation at least tenfold and
//!    left no violation outside the working set larger than half of it, takes up to
//!    [`DEFAULT_CHORD_STEPS`] **chord steps** ([`ProximalNewton::with_chord_steps`]): steps 2
//!    and 3 again on the same weights `a` — the same Gram matrix or curvatures, the engine
//!    kept — with the working response of the new point, `zᵢ = ηᵢ − offsetᵢ − vᵢ·ℓ′(ηᵢ)/aᵢ`.
//!    That model has the exact gradient at the new point and the Hessian of the previous
//!    one, which differs from the new Hessian by the change of the weights, small once a
//!    step has cut the violation tenfold: the chord step contracts about as much, for the
//!    cost of the new model's linear term `X̃ᵀz̃` instead of a new subproblem's weighted
//!    means, curvatures and Gram matrix. With covariance updates that term needs no pass
//!    over X: `X̃ᵀz̃ = G·w − (g − x̄·g_b)` from the Gram columns of the non-zero coordinates
//!    and the data gradient `g` the line search computed (`CdEngine::set_response_at`;
//!    16 % off the Poisson path's time); with naive updates it is one pass over the
//!    working columns. On the Poisson L1 benchmark path the outer iterations fell from 162
//!    to 103 (about one per λ) at the same sweeps (1 026 → 1 061);
//! 5. on a path, the first step at a new λ runs on the previous λ's last model when that
//!    model has every working column (a chord step across λ: the old weights, Gram matrix
//!    and curvatures, the new penalty, the working response of the predicted start); a step
//!    on it that makes no progress falls back to the model formed at the start. So that the
//!    next λ's working set usually fits, a model formed on a path takes the columns of the
//!    strong rule with its margin tripled (about the rule two λ further down the grid,
//!    3 margins). On the Poisson L1 benchmark path 84 % of the λ took their first
//!    step on the carried model and the models formed fell from about 100 to about 35.
//!
//! A working-response step `|ℓ′/ℓ″|` is capped at 10⁶ (the curvature is raised to
//! `|ℓ′|/10⁶` for an observation fitted that badly), so that observations with an underflowing
//! `ℓ″` do not produce infinite working responses; at the optimum no observation is near the
//! cap, so the model is the exact Newton model there and convergence is quadratic.
//!
//! # Stopping rule
//! The relative KKT violation of the *true* problem,
//! `MapProblem::kkt_violation(θ) / max|∇f(0)|` ([`crate::Measure::RelativeKkt`]), at most
//! [`DEFAULT_KKT_TOL`] unless set.
//!
//! # Reference
//! Lee, Sun & Saunders (2014), *Proximal Newton-type methods for minimizing composite
//! functions*, SIAM J. Optim. 24(3). Friedman, Hastie & Tibshirani (2010), *Regularization
//! paths for generalized linear models via coordinate descent*, J. Stat. Softw. 33(1), §3.

use super::coordinate::{CdEngine, CdState};
use crate::convergence::{Convergence, Measure};
use crate::design::Design;
use crate::error::{Error, Result};
use crate::likelihood::Likelihood;
use crate::objective::MapProblem;
use crate::prior::{ElasticPenalty, Prior};
use argmin::core::{Executor, Problem, Solver, State, TerminationReason, TerminationStatus, KV};
use nalgebra::{DMatrix, DVector};

/// Default relative KKT tolerance of [`ProximalNewton`].
pub const DEFAULT_KKT_TOL: f64 = 1e-10;

/// Largest per-observation working-response step `|ℓ′/ℓ″|`.
const MAX_WORKING_STEP: f64 = 1e6;
/// Armijo constant of the backtracking line search.
const SUFFICIENT_DECREASE: f64 = 1e-4;

/// # Proximal Newton
/// Minimizes `−ln p(y | X, θ) + pen(w)` for any [`Likelihood`] and a prior with an elastic
/// form ([`Prior::elastic`]): Laplace, elastic net, Gaussian, flat. Each argmin iteration is
/// one outer (Newton) iteration: an IRLS quadratic model, a coordinate-descent solve of the
/// penalized weighted least-squares subproblem, and a backtracking line search on the true
/// objective (see the module docs). The state's parameter is θ = (w, b) as the problem
/// defines it (a standardized fit passes a design with scaled columns).
///
/// ## Requirements on the optimization problem
/// [`MapProblem`] with a prior whose `elastic()` is `Some`; a starting θ of length
/// `problem.n_params()` (`Executor::configure(|s| s.param(θ₀))`).
///
/// ```
/// use argmin::core::{Executor, State};
/// use mapfit::{likelihood::Bernoulli, prior::Laplace, solve::ProximalNewton, Design, MapProblem};
/// use nalgebra::{dmatrix, dvector, DVector};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let x = dmatrix![-2.0, 1.0; -1.0, 0.0; -0.5, 2.0; 0.5, -1.0; 1.0, 0.5; 2.0, 0.0];
/// let y = dvector![0.0, 1.0, 0.0, 1.0, 0.0, 1.0];
/// let problem = MapProblem::new(Design::new(&x, &y)?, Bernoulli, Laplace::new(2.0)?, true)?;
/// let res = Executor::new(problem, ProximalNewton::new())
///     .configure(|s| s.param(DVector::zeros(3)).max_iters(100))
///     .run()?;
/// assert_eq!(res.solver().convergence(res.state().get_iter()).converged, true);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ProximalNewton<'x> {
    tol: f64,
    max_inner_sweeps: u64,
    max_backtracks: u32,
    covariance: Option<bool>,
    /// The subproblems read `X` in place (`Some(true)`), copy their weighted columns
    /// (`Some(false)`), or choose by the size of the copy (`None`).
    x_in_place: Option<bool>,
    scale: f64,
    rel_kkt: f64,
    kkt: f64,
    converged: bool,
    stalled: bool,
    inner_sweeps: u64,
    screen_prev: Option<Vec<f64>>,
    /// Data gradient at the current θ (set by `init` and every iteration).
    grad: Option<DVector<f64>>,
    /// `max|∇f(0)|` when the caller knows it (a path: it does not depend on the prior).
    known_scale: Option<f64>,
    /// The last subproblem's IRLS model: its allocations serve the next Newton step's, and
    /// along a path it is handed on ([`ProximalNewton::with_model`]).
    model: Option<Model<'x>>,
    /// The first step may run on `model` (handed on from the previous λ of a path).
    reuse_model: bool,
    /// Sweeps of the last Newton step (by this solver, or handed on along a path):
    /// the estimate by which the next one chooses its updates ([`covariance_pays`]).
    last_sweeps: Option<u64>,
    /// Subproblems solved with covariance updates so far.
    covariance_steps: u64,
    /// Outer steps run on a model carried over from the previous λ of a path.
    carried_steps: u64,
    /// Chord steps allowed after each Newton step.
    max_chords: u32,
}

impl Default for ProximalNewton<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl ProximalNewton<'_> {
    /// Relative KKT tolerance [`DEFAULT_KKT_TOL`].
    pub fn new() -> Self {
        ProximalNewton {
            tol: DEFAULT_KKT_TOL,
            max_inner_sweeps: 100_000,
            max_backtracks: 60,
            covariance: None,
            x_in_place: None,
            scale: 1.0,
            rel_kkt: f64::INFINITY,
            kkt: f64::INFINITY,
            converged: false,
            stalled: false,
            inner_sweeps: 0,
            screen_prev: None,
            grad: None,
            known_scale: None,
            model: None,
            reuse_model: false,
            last_sweeps: None,
            covariance_steps: 0,
            carried_steps: 0,
            max_chords: DEFAULT_CHORD_STEPS,
        }
    }

    /// Relative KKT tolerance (KKT violation over `max|∇f(0)|`).
    ///
    /// # Errors
    /// Not finite and > 0.
    pub fn with_tolerance(mut self, tol: f64) -> Result<Self> {
        self.tol = crate::error::check_positive("proximal Newton tolerance", tol)?;
        Ok(self)
    }

    /// At most `n` chord steps after each Newton step (module docs, step 4; default
    /// [`DEFAULT_CHORD_STEPS`]); 0 forms a new IRLS model at every step.
    pub fn with_chord_steps(mut self, n: u32) -> Self {
        self.max_chords = n;
        self
    }

    /// Cap on the coordinate-descent sweeps of one subproblem (default 100 000).
    pub fn with_max_inner_sweeps(mut self, n: u64) -> Self {
        self.max_inner_sweeps = n.max(1);
        self
    }

    /// Forces covariance (`true`) or naive (`false`) coordinate updates in the subproblems.
    /// By default each subproblem chooses by the cost of the one before it
    /// ([`ProximalNewton::uses_covariance`]); the first, with nothing to go by, as
    /// [`CdEngine::covariance_rule`] does.
    pub fn with_covariance_updates(mut self, covariance: bool) -> Self {
        self.covariance = Some(covariance);
        self
    }

    /// With `true`, each subproblem reads its working columns of `X` in place, the IRLS
    /// weights applied per element ([`CdEngine::on_columns_in_place`]): the extra memory is
    /// `O(n + p)`. The residual is then held in the weighted domain, so a coordinate's
    /// product reads only the column and the residual and only a moving update reads the
    /// weights. With `false`, each subproblem stores a weighted copy of its working columns
    /// (`n × |working set|` values, up to the size of `X`), faster when it fits in cache. The
    /// two agree to the solver's tolerance, not bit for bit. By default the choice is made
    /// per step: a copy of at most 1 MiB is stored, a larger one is not (on the benchmark L1
    /// paths of 5000 rows: a fifth and a third of the copy's extra memory, the same time
    /// within the noise; in place throughout measured 3–8 % longer in one run).
    pub fn with_x_in_place(mut self, yes: bool) -> Self {
        self.x_in_place = Some(yes);
        self
    }

    /// Screens the subproblems with the sequential strong rule (Tibshirani et al. 2012):
    /// coordinate `j` enters the coordinate-descent working set when `|∇_j f(θ)| ≥ 2·l1_j −
    /// l1_prev_j`, where `l1_prev` are the L1 weights (sum units, as [`ElasticPenalty`]) of
    /// the previous point of a path, or when it is non-zero, unpenalized or violates its KKT
    /// condition at θ. Each subproblem is built and solved on that working set only; the
    /// outer stopping rule is the KKT violation of the true problem over all coordinates, and
    /// a coordinate that violates it joins the next step's working set: the screen changes
    /// the work done, never the answer.
    pub fn with_screening(mut self, l1_prev: Vec<f64>) -> Self {
        self.screen_prev = Some(l1_prev);
        self
    }

    /// What a caller already knows about the problem, to save passes over `X` in `init`:
    /// the KKT scale `max|∇f(0)|` (it does not depend on the prior) and the data gradient
    /// at the starting point (both must belong to this problem's data and starting θ).
    pub(crate) fn with_known(mut self, scale: f64, grad: DVector<f64>) -> Self {
        self.known_scale = Some(scale);
        self.grad = Some(grad);
        self
    }

    /// The sweeps of the last Newton step (subproblem and chord steps) an earlier solver on
    /// the same data took (a path hands them from λ to λ), for the first subproblem's choice
    /// of updates.
    pub(crate) fn with_sweeps_hint(mut self, sweeps: Option<u64>) -> Self {
        self.last_sweeps = sweeps;
        self
    }

    /// The sweeps of the last Newton step, for [`ProximalNewton::with_sweeps_hint`].
    pub(crate) fn sweeps_hint(&self) -> Option<u64> {
        self.last_sweeps
    }

    /// How many subproblems so far ran covariance updates (the rest ran naive updates).
    pub fn uses_covariance(&self) -> u64 {
        self.covariance_steps
    }

    /// The data gradient at the current θ (after a run: at the returned θ).
    pub(crate) fn gradient(&self) -> Option<&DVector<f64>> {
        self.grad.as_ref()
    }

    /// Total coordinate-descent sweeps over all subproblems so far.
    pub fn inner_sweeps(&self) -> u64 {
        self.inner_sweeps
    }

    /// The convergence record after `iterations` outer iterations.
    pub fn convergence(&self, iterations: u64) -> Convergence {
        Convergence {
            converged: self.converged,
            measure: Measure::RelativeKkt,
            value: self.rel_kkt,
            tolerance: self.tol,
            kkt_violation: self.kkt,
            iterations,
        }
    }
}

fn argmin_err(e: Error) -> argmin::core::Error {
    argmin::core::Error::from(e)
}

fn elastic_of<L: Likelihood, P: Prior>(pb: &MapProblem<'_, L, P>) -> Result<ElasticPenalty> {
    pb.prior()
        .elastic(pb.design().p())
        .ok_or_else(|| Error::Unsupported {
            what: format!(
                "proximal Newton needs an elastic-net-type prior, not {}",
                pb.prior().describe()
            ),
        })
}

/// `max|∇f(0)|`, the scale of the relative KKT violation (1 if it is 0).
pub(crate) fn kkt_scale<L: Likelihood, P: Prior>(pb: &MapProblem<'_, L, P>) -> f64 {
    let s = pb.data_gradient(&DVector::zeros(pb.n_params())).amax();
    if s > 0.0 && s.is_finite() {
        s
    } else {
        1.0
    }
}

/// A point of the iteration: θ, the data gradient there, the cost and the KKT violation.
struct Point {
    theta: DVector<f64>,
    grad: DVector<f64>,
    cost: f64,
    kkt: f64,
}

/// The IRLS model a subproblem runs on (module docs, step 1): the coordinate-descent engine
/// on the working columns `cols` (`None`: all) of `X` under the weights `a` — their means,
/// curvatures, Gram matrix or weighted copy. Chord steps keep it (step 4), and a path hands
/// it from one λ to the next ([`ProximalNewton::with_model`]).
#[derive(Debug, Clone)]
pub(crate) struct Model<'x> {
    engine: CdEngine<'x>,
    cols: Option<Vec<usize>>,
    a: DVector<f64>,
}

impl Model<'_> {
    /// The entries of `v` (θ or a gradient: coefficients first) on the model's columns.
    fn working(&self, v: &DVector<f64>, p: usize) -> Vec<f64> {
        match &self.cols {
            Some(c) => c.iter().map(|&j| v[j]).collect(),
            None => v.as_slice()[..p].to_vec(),
        }
    }

    /// The model's next working response, that of the point `at` on the same weights
    /// (a chord step, or the first step at a new λ of a path): see [`irls_response`].
    fn rebase<L: Likelihood, P: Prior>(
        &mut self,
        pb: &MapProblem<'_, L, P>,
        at: &Point,
    ) -> Result<()> {
        let z = irls_response(pb, &at.theta, &self.a);
        let design = Design::with_validated_x(pb.design().x(), &z)?.with_weights(&self.a)?;
        let p = pb.design().p();
        let (w, grad) = (self.working(&at.theta, p), self.working(&at.grad, p));
        let grad_b = if pb.has_intercept() { at.grad[p] } else { 0.0 };
        self.engine
            .set_response_at(&design, pb.has_intercept(), &w, &grad, grad_b);
        Ok(())
    }
}

/// Outcome of one outer iteration.
struct Step<'x> {
    /// Where the iteration ends (where it started when it made no progress).
    point: Point,
    step: f64,
    sweeps: u64,
    /// Whether the subproblem ran covariance updates.
    covariance: bool,
    progress: bool,
    /// Whether it ran on a model carried over from the previous λ of a path.
    carried: bool,
    /// The model of its last subproblem.
    model: Model<'x>,
}

/// What the outer steps of one solver run share.
struct StepOptions<'s> {
    max_inner_sweeps: u64,
    covariance: Option<bool>,
    max_backtracks: u32,
    screen: Option<&'s [f64]>,
    x_in_place: Option<bool>,
    last_sweeps: Option<u64>,
    kkt_scale: f64,
    tol: f64,
    max_chords: u32,
}

/// The IRLS model at θ: weights `aᵢ` and working response `zᵢ` (see the module docs).
fn irls_model<L: Likelihood, P: Prior>(
    pb: &MapProblem<'_, L, P>,
    theta: &DVector<f64>,
) -> (DVector<f64>, DVector<f64>) {
    let d = pb.design();
    let lik = pb.likelihood();
    let y = d.y();
    let eta = pb.linear_predictor(theta);
    let n = d.n();
    let mut a = DVector::zeros(n);
    let mut z = DVector::zeros(n);
    for i in 0..n {
        let v = d.weight(i);
        let base = eta[i] - d.offset_at(i);
        let g1 = lik.nll_derivative(y[i], eta[i]);
        let h = lik
            .nll_second_derivative(y[i], eta[i])
            .max(g1.abs() / MAX_WORKING_STEP);
        if v > 0.0 && h > 0.0 && h.is_finite() && g1.is_finite() {
            a[i] = v * h;
            z[i] = base - g1 / h;
        } else {
            z[i] = base;
        }
    }
    (a, z)
}

/// The columns a step from `at` may move (`None`: all of X's), by the strong rule with
/// `margins` ([`working_set`]) on a path. The subproblem runs on them
/// only: on a warm-started path point that is the strong set, so the IRLS design has |S|
/// columns, not p. Coordinates outside stay at 0; the true KKT check after the step covers
/// all p, and any violator joins the next step's working set.
fn working_columns(
    pen: &ElasticPenalty,
    at: &Point,
    screen: Option<&[f64]>,
    p: usize,
    margins: f64,
) -> Option<Vec<usize>> {
    screen
        .filter(|prev| prev.len() == p)
        .map(|prev| {
            working_set(
                pen,
                &at.theta.as_slice()[..p],
                at.grad.as_slice(),
                prev,
                margins,
            )
        })
        // Without a screen, every column that can move: a zero coefficient with an infinite
        // L1 weight (the null model of a path holds the penalized ones so) cannot.
        .or_else(|| {
            Some(
                (0..p)
                    .filter(|&j| at.theta[j] != 0.0 || pen.l1[j] < f64::MAX)
                    .collect(),
            )
        })
        // All columns: the engine on X itself (the same copy, without the index map).
        .filter(|c: &Vec<usize>| c.len() < p)
}

/// The strong-rule margins of a new model's columns on a path ([`working_set`]): three
/// margins are about the sequential strong rule two λ further down a geometric grid
/// (`l1_{k+2} ≈ r²·l1`, `r = l1/l1_prev`: `l1·r·(2r − 1) ≈ l1·(4 − 3/r)` for `r` near 1), so
/// the next λ's working set is nearly always among them and its first step can run on
/// this model ([`outer_step`]). On the Poisson L1 benchmark path the next λ found every
/// working column in 84 % of its first steps (one margin: 50 %).
const LOOKAHEAD_MARGINS: f64 = 3.0;

/// Whether a model on the columns `model` (ascending; `None`: all) has every column of
/// `cols` (ascending; `None`: all).
fn covers(model: Option<&[usize]>, cols: Option<&[usize]>) -> bool {
    match (model, cols) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(m), Some(c)) => {
            let mut rest = m.iter();
            c.iter().all(|j| rest.any(|k| k == j))
        }
    }
}

/// One outer iteration from `start` (module docs, steps 1–4). A model `carried` over from
/// the previous λ of a path (`reuse`) serves the first subproblem when it has every working
/// column: a chord step across λ, the new penalty on the old weights; when that step makes
/// no progress, or without such a model, the step forms the IRLS model at `start`.
fn outer_step<'x, L: Likelihood, P: Prior>(
    pb: &MapProblem<'x, L, P>,
    pen: &ElasticPenalty,
    start: Point,
    carried: Option<Model<'x>>,
    reuse: bool,
    o: &StepOptions<'_>,
) -> Result<Step<'x>> {
    let p = pb.design().p();
    let cols = working_columns(pen, &start, o.screen, p, 1.0);
    let mut at = start;
    let mut storage = Vec::new();
    if let Some(model) = carried {
        if reuse && covers(model.cols.as_deref(), cols.as_deref()) {
            let step = descend(pb, pen, at, model, false, o)?;
            if step.progress {
                return Ok(step);
            }
            at = step.point;
            storage = step.model.engine.into_storage();
        } else {
            storage = model.engine.into_storage();
        }
    }
    // On a path the new model's columns look ahead: the next λ's working set grows, and a
    // model that has it can serve that λ's first step.
    let cols = match o.screen {
        Some(_) => working_columns(pen, &at, o.screen, p, LOOKAHEAD_MARGINS),
        None => cols,
    };
    let model = fresh_model(pb, &at, cols, storage, o)?;
    descend(pb, pen, at, model, true, o)
}

/// The IRLS model at `at` on the working columns `cols`, its engine's copy (if it makes one)
/// in `storage`'s allocation. Covariance updates unless forced are chosen by the last
/// Newton step's sweeps ([`covariance_pays`]), the copy by its size.
fn fresh_model<'x, L: Likelihood, P: Prior>(
    pb: &MapProblem<'x, L, P>,
    at: &Point,
    cols: Option<Vec<usize>>,
    storage: Vec<f64>,
    o: &StepOptions<'_>,
) -> Result<Model<'x>> {
    let (n, p) = (pb.design().n(), pb.design().p());
    let (a, z) = irls_model(pb, &at.theta);
    if a.iter().all(|&v| v == 0.0) {
        return Err(Error::Solver(
            "proximal Newton: the likelihood has no curvature at the current point".into(),
        ));
    }
    let x = pb.design().x();
    let design = Design::with_validated_x(x, &z)?.with_weights(&a)?;
    let n_cols = cols.as_ref().map_or(p, Vec::len);
    let covariance = o
        .covariance
        .or_else(|| o.last_sweeps.map(|s| covariance_pays(n_cols, s)));
    let in_place = o
        .x_in_place
        .unwrap_or_else(|| !crate::solve::coordinate::weighted_copy_pays(n, n_cols));
    let mut engine = CdEngine::on_columns_of(
        x,
        &design,
        cols.as_deref(),
        pb.has_intercept(),
        covariance,
        storage,
        in_place,
    )?;
    engine.without_active_gram();
    // The subproblem's checks read the residual kept up to date by the updates (the outer
    // KKT check recomputes everything exactly from θ).
    engine.incremental_residual();
    // Its checks reuse the last quiet sweep's products (the outer loop checks the true KKT
    // conditions exactly).
    engine.checks_from_sweeps();
    Ok(Model { engine, cols, a })
}

/// Steps 2–4 on `model` from `start`: the subproblem, the line search and the chord steps
/// while they pay. A model not `fresh` (formed at another point) first takes `start`'s
/// working response.
fn descend<'x, L: Likelihood, P: Prior>(
    pb: &MapProblem<'x, L, P>,
    pen: &ElasticPenalty,
    start: Point,
    mut model: Model<'x>,
    fresh: bool,
    o: &StepOptions<'_>,
) -> Result<Step<'x>> {
    let (n, p) = (pb.design().n(), pb.design().p());
    let pen_work = match &model.cols {
        Some(c) => ElasticPenalty {
            l1: c.iter().map(|&j| pen.l1[j]).collect(),
            l2: c.iter().map(|&j| pen.l2[j]).collect(),
        },
        None => pen.clone(),
    };
    model.engine.set_penalty(&pen_work, 1.0);
    let mut at = start;
    if !fresh {
        model.rebase(pb, &at)?;
    }
    let sweeps0 = model.engine.sweeps();
    let floor = 1e-30 * model.engine.null_objective().max(f64::MIN_POSITIVE);
    let h_max = model.engine.max_curvature().max(f64::MIN_POSITIVE);
    let kkt_goal = o.tol * o.kkt_scale;
    // Chord steps taken, and the step length that reached `at` (none yet).
    let mut chords = 0;
    let mut reached: Option<f64> = None;
    loop {
        let inner_tol_abs = inner_tolerance(o.kkt_scale, o.tol, at.kkt / o.kkt_scale);
        let w_work = model.working(&at.theta, p);
        let engine = &mut model.engine;
        // The fit of the working columns at θ is η − offset − b (coordinates outside the
        // working set are 0), so the subproblem's residual needs no pass over X.
        {
            let eta = pb.linear_predictor(&at.theta);
            let b0 = if pb.has_intercept() { at.theta[p] } else { 0.0 };
            let fitted: Vec<f64> = (0..n)
                .map(|i| eta[i] - pb.design().offset_at(i) - b0)
                .collect();
            engine.set_working_coefficients_with_fit(&w_work, &fitted);
        }
        // The sweeps stop when the largest `h_j·Δ_j²` of a sweep is below a threshold tied to
        // the subproblem's KKT target: a last change Δ_j moves the gradient by about
        // `h_j·|Δ_j|`, hence a KKT violation of order `√(h_max·thresh)`. A check that still
        // misses the target tightens it by the square of the miss (the violation scales like
        // √thresh).
        engine.set_threshold(((0.4 * inner_tol_abs).powi(2) / h_max).max(floor));
        // The target relative to the engine's own KKT scale, for its tightening rule.
        let inner_tol_rel = inner_tol_abs / engine.gradient_scale();
        // `max_inner_sweeps` bounds every coordinate sweep of the subproblem (working-set and
        // active-set sweeps alike, counted by the engine), so one outer step does bounded
        // work however ill-conditioned the weighted least-squares problem is; an unfinished
        // subproblem still gives a descent direction for the line search below.
        loop {
            let left = o.max_inner_sweeps.saturating_sub(engine.sweeps() - sweeps0);
            if left == 0 {
                break;
            }
            let full = engine.outer_iteration(left.min(10_000));
            let c = engine.check();
            if c.strong_violations == 0 && c.kkt <= inner_tol_abs {
                break;
            }
            if full <= engine.threshold() {
                engine.tighten_for(&c, f64::INFINITY, inner_tol_rel);
            }
        }
        let (w_work_new, b_new) = engine.coefficients();
        let w_new = match &model.cols {
            Some(c) => {
                let mut w = DVector::zeros(p);
                for (k, &j) in c.iter().enumerate() {
                    w[j] = w_work_new[k];
                }
                w
            }
            None => w_work_new,
        };
        let mut delta = DVector::zeros(at.theta.len());
        for j in 0..p {
            delta[j] = w_new[j] - at.theta[j];
        }
        if pb.has_intercept() {
            delta[p] = b_new - at.theta[p];
        }
        let Some(found) = line_search(pb, &at, &delta, &w_new, o.max_backtracks) else {
            // No step from here: the iteration ends where the last chord step (if any) got.
            break;
        };
        // A chord step: the next model on the same IRLS weights (the same Gram matrix or
        // curvatures, a new linear term), when the full Newton step passed the line search
        // and cut the KKT violation at least tenfold (the weights barely moved) and the
        // violation left is on the working set.
        let chord = found.armijo
            && found.t == 1.0
            && chords < o.max_chords
            && found.point.kkt > kkt_goal
            && found.point.kkt <= CHORD_CONTRACTION * at.kkt
            && outside_violation(pen, model.cols.as_deref(), &found.point) <= 0.5 * found.point.kkt;
        at = found.point;
        reached = Some(found.t);
        if !chord {
            break;
        }
        chords += 1;
        model.rebase(pb, &at)?;
    }
    Ok(Step {
        point: at,
        step: reached.unwrap_or(0.0),
        sweeps: model.engine.sweeps() - sweeps0,
        covariance: model.engine.uses_covariance(),
        progress: reached.is_some(),
        carried: !fresh,
        model,
    })
}

/// A point accepted by [`line_search`]: by the Armijo condition at step `t`, or (`armijo`
/// false) the full step taken for a lower KKT violation.
struct Found {
    point: Point,
    t: f64,
    armijo: bool,
}

/// Backtracking from `at` along `delta` (`w_new` the coefficients of the full step) on the
/// true objective (module docs, step 3); `None` when no step is taken.
fn line_search<L: Likelihood, P: Prior>(
    pb: &MapProblem<'_, L, P>,
    at: &Point,
    delta: &DVector<f64>,
    w_new: &DVector<f64>,
    max_backtracks: u32,
) -> Option<Found> {
    let theta = &at.theta;
    let (w0, _) = pb.split(theta);
    let pen0 = pb.prior().penalty(w0);
    let pen1 = pb.prior().penalty(w_new.as_slice());
    let decrease = at.grad.dot(delta) + pen1 - pen0;
    // Below this predicted decrease the objective cannot resolve the step (rounding).
    let noise = 1e3 * f64::EPSILON * at.cost.abs().max(1.0);
    let mut t = 1.0;
    if decrease < -noise {
        for _ in 0..max_backtracks {
            let cand = theta + delta * t;
            // The full step nearly always passes: its gradient is computed first, in the
            // same pass over X as its η (`data_gradient`), which the objective then reuses.
            let eager = (t == 1.0).then(|| pb.data_gradient(&cand));
            let f = pb.objective(&cand);
            if f.is_finite() && f <= at.cost + SUFFICIENT_DECREASE * t * decrease {
                let grad = eager.unwrap_or_else(|| pb.data_gradient(&cand));
                let kkt = pb.kkt_violation_with(&cand, &grad);
                return Some(Found {
                    point: Point {
                        theta: cand,
                        grad,
                        cost: f,
                        kkt,
                    },
                    t,
                    armijo: true,
                });
            }
            t *= 0.5;
        }
    }
    // A decrease below rounding (at the optimum), or no Armijo step: take the full step if it
    // is closer to optimal by the KKT conditions.
    let cand = theta + delta;
    let grad = pb.data_gradient(&cand);
    let f = pb.objective(&cand);
    let kkt = pb.kkt_violation_with(&cand, &grad);
    (f.is_finite() && kkt < at.kkt).then_some(Found {
        point: Point {
            theta: cand,
            grad,
            cost: f,
            kkt,
        },
        t: 1.0,
        armijo: false,
    })
}

/// The largest KKT violation at `at` of a penalized coefficient outside the working columns
/// `cols` (all columns: none), `max(|g_j| − l1_j, 0)` at `w_j = 0` — a chord step on the same
/// working set cannot remove it.
fn outside_violation(pen: &ElasticPenalty, cols: Option<&[usize]>, at: &Point) -> f64 {
    let Some(cols) = cols else {
        return 0.0;
    };
    let p = pen.l1.len();
    let mut inside = vec![false; p];
    for &j in cols {
        inside[j] = true;
    }
    (0..p)
        .filter(|&j| !inside[j] && at.theta[j] == 0.0)
        .map(|j| (at.grad[j].abs() - pen.l1[j]).max(0.0))
        .fold(0.0, f64::max)
}

/// The working response of the IRLS model at θ on the curvatures `a` of an earlier model
/// (a chord step): `zᵢ = ηᵢ − offsetᵢ − vᵢ·ℓ′(ηᵢ)/aᵢ` where `aᵢ > 0`, `ηᵢ − offsetᵢ`
/// elsewhere — with `a` from θ itself, [`irls_model`]'s `z`.
fn irls_response<L: Likelihood, P: Prior>(
    pb: &MapProblem<'_, L, P>,
    theta: &DVector<f64>,
    a: &DVector<f64>,
) -> DVector<f64> {
    let d = pb.design();
    let lik = pb.likelihood();
    let y = d.y();
    let eta = pb.linear_predictor(theta);
    DVector::from_fn(d.n(), |i, _| {
        let base = eta[i] - d.offset_at(i);
        let v = d.weight(i);
        let g1 = lik.nll_derivative(y[i], eta[i]);
        if v > 0.0 && a[i] > 0.0 && g1.is_finite() {
            base - v * g1 / a[i]
        } else {
            base
        }
    })
}

/// The subproblem's absolute KKT target at a relative KKT violation `r` (module docs):
/// `scale·clamp(0.1·r^1.5, 0.5·tol, 10⁻³)`.
fn inner_tolerance(scale: f64, tol: f64, r: f64) -> f64 {
    let r = r.min(1.0);
    scale * (0.1 * r * r.sqrt()).clamp(0.5 * tol, 1e-3)
}

/// Default of [`ProximalNewton::with_chord_steps`].
pub const DEFAULT_CHORD_STEPS: u32 = 2;
/// A chord step follows a step that cut the KKT violation by at least this factor.
const CHORD_CONTRACTION: f64 = 0.1;

/// Covariance updates pay for a subproblem over `cols` working columns when they are at most
/// [`GRAM_COLUMNS_PER_SWEEP`] times the sweeps expected on its Gram matrix (those of the
/// last Newton step, its chord steps included). Per Newton step, naive updates cost about
/// `sweeps·|W|·n` multiply-adds through the residual, each a dot product and an axpy bound
/// by the cache's bandwidth;
/// covariance updates cost the weighted Gram matrix of the working columns, `|W|²·n/2`
/// multiply-adds by the tile kernel (about 8× as many per second, on two threads for a large
/// one), plus a weighted copy of the columns and `sweeps·|W|²` on the Gram matrix. The
/// break-even, `|W| ≈ 16·sweeps`, is taken with a margin.
fn covariance_pays(cols: usize, sweeps: u64) -> bool {
    (cols as u64) <= GRAM_COLUMNS_PER_SWEEP.saturating_mul(sweeps)
}

/// See [`covariance_pays`]. Measured on the benchmark paths (100 λ, KKT 5·10⁻⁸): the Poisson
/// L1 path (5000 × 100, ≤ 84 working columns, 7–9 sweeps per Newton step) and the logistic
/// breast-cancer path (569 × 30) are faster with covariance updates throughout, the
/// logistic 5000 × 200 path (up to 193 working columns, 6–12 sweeps) slower.
const GRAM_COLUMNS_PER_SWEEP: u64 = 12;

/// The coordinates a Newton step at `w` may move, given the data gradient `g` at `w` and the
/// previous point's L1 weights: every non-zero or unpenalized coordinate, every coordinate
/// whose KKT condition fails at `w` (`|g_j| > l1_j`), and the survivors of the sequential
/// strong rule `|g_j| ≥ 2·l1_j − l1_prev_j` (Tibshirani et al. 2012) with its margin
/// `l1_prev_j − l1_j` taken `margins` times: `|g_j| ≥ l1_j − margins·(l1_prev_j − l1_j)`
/// (1: the rule itself). A coordinate left out satisfies its KKT condition at `w`, so when
/// the step is optimal on the working set it is optimal everywhere.
fn working_set(
    pen: &ElasticPenalty,
    w: &[f64],
    g: &[f64],
    l1_prev: &[f64],
    margins: f64,
) -> Vec<usize> {
    (0..w.len())
        .filter(|&j| {
            let l1 = pen.l1[j];
            w[j] != 0.0 || l1 == 0.0 || g[j].abs() >= (l1 - margins * (l1_prev[j] - l1)).min(l1)
        })
        .collect()
}

impl<'x> ProximalNewton<'x> {
    /// The IRLS model of the last subproblem an earlier solver on the same design and
    /// likelihood ran (a path hands it from λ to λ, [`ProximalNewton::take_model`]): the
    /// first step runs on it — the new penalty on the old weights, a chord step across λ —
    /// when it has every working column; otherwise its allocations serve the new model.
    pub(crate) fn with_model(mut self, model: Option<Model<'x>>) -> Self {
        self.reuse_model = model.is_some();
        self.model = model;
        self
    }

    /// The last subproblem's IRLS model, for [`ProximalNewton::with_model`].
    pub(crate) fn take_model(&mut self) -> Option<Model<'x>> {
        self.model.take()
    }

    /// How many outer steps ran on an IRLS model carried over from the previous λ of a path
    /// (module docs, step 5): 0 or 1 per λ.
    pub fn carried_steps(&self) -> u64 {
        self.carried_steps
    }
}

impl<'x, L: Likelihood, P: Prior> Solver<MapProblem<'x, L, P>, CdState> for ProximalNewton<'x> {
    fn name(&self) -> &str {
        "proximal Newton"
    }

    fn init(
        &mut self,
        problem: &mut Problem<MapProblem<'x, L, P>>,
        state: CdState,
    ) -> std::result::Result<(CdState, Option<KV>), argmin::core::Error> {
        let theta = state.get_param().cloned().ok_or_else(|| {
            argmin_err(Error::Solver(
                "proximal Newton needs a starting point (configure the state's param)".into(),
            ))
        })?;
        let (known_scale, known_grad) = (self.known_scale, self.grad.take());
        let (scale, kkt, cost, grad) = problem.problem("pn_init", |pb| {
            elastic_of(pb).map_err(argmin_err)?;
            if theta.len() != pb.n_params() {
                return Err(argmin_err(Error::DimensionMismatch {
                    what: "parameter vector",
                    expected: pb.n_params(),
                    found: theta.len(),
                }));
            }
            let grad = match known_grad {
                Some(g) if g.len() == theta.len() => g,
                _ => pb.data_gradient(&theta),
            };
            Ok((
                known_scale.unwrap_or_else(|| kkt_scale(pb)),
                pb.kkt_violation_with(&theta, &grad),
                pb.objective(&theta),
                grad,
            ))
        })?;
        self.scale = scale;
        self.grad = Some(grad);
        self.kkt = kkt;
        self.rel_kkt = kkt / scale;
        self.converged = self.rel_kkt <= self.tol;
        self.stalled = false;
        self.inner_sweeps = 0;
        Ok((state.param(theta).cost(cost), None))
    }

    fn next_iter(
        &mut self,
        problem: &mut Problem<MapProblem<'x, L, P>>,
        state: CdState,
    ) -> std::result::Result<(CdState, Option<KV>), argmin::core::Error> {
        let theta = state
            .get_param()
            .cloned()
            .ok_or_else(|| argmin_err(Error::Solver("proximal Newton: no parameter".into())))?;
        let f0 = state.get_cost();
        let kkt0 = self.kkt;
        let opts = StepOptions {
            max_inner_sweeps: self.max_inner_sweeps,
            covariance: self.covariance,
            max_backtracks: self.max_backtracks,
            screen: self.screen_prev.as_deref(),
            x_in_place: self.x_in_place,
            last_sweeps: self.last_sweeps,
            kkt_scale: self.scale,
            tol: self.tol,
            max_chords: self.max_chords,
        };
        let grad = self.grad.take();
        let carried = self.model.take();
        let reuse = std::mem::take(&mut self.reuse_model);
        let step = problem.problem("pn_step", |pb| {
            let pen = elastic_of(pb).map_err(argmin_err)?;
            let g = match grad {
                Some(g) => g,
                None => pb.data_gradient(&theta),
            };
            let start = Point {
                theta,
                grad: g,
                cost: f0,
                kkt: kkt0,
            };
            outer_step(pb, &pen, start, carried, reuse, &opts).map_err(argmin_err)
        })?;
        let Step {
            point,
            step: t,
            sweeps,
            covariance,
            progress,
            carried,
            model,
        } = step;
        self.carried_steps += u64::from(carried);
        self.model = Some(model);
        self.grad = Some(point.grad);
        self.inner_sweeps += sweeps;
        self.last_sweeps = Some(sweeps);
        self.covariance_steps += u64::from(covariance);
        self.kkt = point.kkt;
        self.rel_kkt = point.kkt / self.scale;
        self.converged = self.rel_kkt <= self.tol;
        self.stalled = !progress && !self.converged;
        let kv = argmin::kv!(
            "rel_kkt" => self.rel_kkt;
            "step" => t;
            "inner_sweeps" => sweeps;
        );
        Ok((state.param(point.theta).cost(point.cost), Some(kv)))
    }

    fn terminate(&mut self, _state: &CdState) -> TerminationStatus {
        if self.converged {
            TerminationStatus::Terminated(TerminationReason::SolverConverged)
        } else if self.stalled {
            TerminationStatus::Terminated(TerminationReason::SolverExit(
                "proximal Newton: the line search found no decrease".into(),
            ))
        } else {
            TerminationStatus::NotTerminated
        }
    }
}

/// Runs [`ProximalNewton`] from `theta0` through argmin's `Executor` (used by `Map::fit`).
pub(crate) fn run<L: Likelihood, P: Prior>(
    problem: &MapProblem<'_, L, P>,
    theta0: DVector<f64>,
    tol: Option<f64>,
    max_iters: u64,
) -> Result<(DVector<f64>, Convergence)> {
    let mut solver = ProximalNewton::new();
    if let Some(t) = tol {
        solver = solver.with_tolerance(t)?;
    }
    let res = Executor::new(problem.clone(), solver)
        .configure(|s| s.param(theta0).max_iters(max_iters))
        .ctrlc(false)
        .timer(false)
        .run()?;
    let iters = res.state.get_iter();
    let conv = res.solver.convergence(iters);
    let theta = res
        .state
        .get_param()
        .cloned()
        .ok_or_else(|| Error::Solver("proximal Newton returned no parameter".into()))?;
    Ok((theta, conv))
}

/// Checks that the MAP exists at a solver's output θ: [`Error::NoMode`] if some direction of
/// the unpenalized parameters (the intercept and coefficients whose prior is flat) leaves the
/// negative log-likelihood non-increasing forever — separable classes for the Bernoulli
/// likelihood, counts that are zero wherever the linear predictor can go to −∞ for the
/// Poisson likelihood.
///
/// Penalized coefficients cannot diverge (their penalty grows without bound while the
/// likelihood term is bounded below), so only the unpenalized subspace `U` is examined. A
/// direction `d` in `U` certifies non-existence when every observation's asymptotic slope
/// [`Likelihood::recession_slope`] along `u = X_U d (+ d_b)` is 0. Candidates: `±` the
/// intercept (exact: e.g. one class only, all counts zero), θ restricted to `U`, and the Newton
/// direction in `U` at θ, which points along the divergence when a solver has followed the
/// likelihood out towards infinity (there the gradient is tiny but the Newton step is not).
/// For the last two, components of `u` below 10⁻⁶ of its largest are treated as 0.
/// A likelihood that grows without bound on both sides (Gaussian) is never flagged.
///
/// # Errors
/// [`Error::NoMode`] with the reason and what to do about it.
pub fn check_mode_exists<L: Likelihood, P: Prior>(
    problem: &MapProblem<'_, L, P>,
    theta: &DVector<f64>,
) -> Result<()> {
    let lik = problem.likelihood();
    if lik.gaussian_noise_variance().is_some() {
        return Ok(());
    }
    let d = problem.design();
    let (n, p) = (d.n(), d.p());
    let el = match problem.prior().elastic(p) {
        Some(el) => el,
        None => return Ok(()),
    };
    let free: Vec<usize> = (0..p)
        .filter(|&j| el.l1[j] == 0.0 && el.l2[j] == 0.0)
        .collect();
    let intercept = problem.has_intercept();
    if free.is_empty() && !intercept {
        return Ok(());
    }
    let y = d.y();
    let recedes = |u: &DVector<f64>, clean: bool| -> bool {
        let m = (0..n)
            .filter(|&i| d.weight(i) > 0.0)
            .fold(0.0f64, |m, i| m.max(u[i].abs()));
        if !(m > 0.0 && m.is_finite()) {
            return false;
        }
        let cut = if clean { 1e-6 * m } else { 0.0 };
        (0..n).filter(|&i| d.weight(i) > 0.0).all(|i| {
            let ui = if u[i].abs() <= cut { 0.0 } else { u[i] };
            lik.recession_slope(y[i], ui) == 0.0
        })
    };
    // 1. The intercept alone.
    if intercept {
        for s in [1.0, -1.0] {
            if recedes(&DVector::from_element(n, s), false) {
                return Err(no_mode(lik.name(), false, s));
            }
        }
    }
    if free.is_empty() {
        return Ok(());
    }
    // Directions in U mapped to u = X_U d_U + d_b.
    let x = d.x();
    let to_u = |dir: &[f64], db: f64| -> DVector<f64> {
        let mut u = DVector::from_element(n, db);
        for (k, &j) in free.iter().enumerate() {
            if dir[k] != 0.0 {
                u.axpy(dir[k], &x.column(j), 1.0);
            }
        }
        u
    };
    let nu = free.len() + usize::from(intercept);
    // 2. θ restricted to U.
    let theta_u: Vec<f64> = free.iter().map(|&j| theta[j]).collect();
    let b = if intercept { theta[p] } else { 0.0 };
    if recedes(&to_u(&theta_u, b), true) {
        return Err(no_mode(lik.name(), true, 0.0));
    }
    // 3. The Newton direction in U (pseudo-inverse of the Hessian block).
    if nu <= 2000 {
        let idx: Vec<usize> = free.iter().copied().chain(intercept.then_some(p)).collect();
        let h = problem.cost_hessian(theta)?;
        let g = problem.data_gradient(theta);
        let hu = DMatrix::from_fn(nu, nu, |a, c| h[(idx[a], idx[c])]);
        let gu = DVector::from_fn(nu, |a, _| g[idx[a]]);
        let eig = hu.symmetric_eigen();
        let top = eig.eigenvalues.amax();
        if top > 0.0 && top.is_finite() {
            let mut step = DVector::zeros(nu);
            for (k, &lam) in eig.eigenvalues.iter().enumerate() {
                if lam > 1e-14 * top {
                    let v = eig.eigenvectors.column(k);
                    step.axpy(-v.dot(&gu) / lam, &v, 1.0);
                }
            }
            let db = if intercept { step[nu - 1] } else { 0.0 };
            if recedes(&to_u(&step.as_slice()[..free.len()], db), true) {
                return Err(no_mode(lik.name(), true, 0.0));
            }
        }
    }
    Ok(())
}

fn no_mode(family: &str, coefficients: bool, intercept_sign: f64) -> Error {
    let reason = match (family, coefficients) {
        ("Bernoulli", true) => "the classes are separable: a hyperplane in the unpenalized \
            coefficients (flat prior) separates the 0s from the 1s, perfectly or up to ties, so \
            the likelihood keeps increasing as those coefficients grow without bound. Use a \
            proper prior on the coefficients, e.g. a Gaussian (ridge) or Laplace (lasso) prior"
            .to_string(),
        ("Bernoulli", false) => format!(
            "every observation is in class {}, so the intercept (flat prior) goes to {}∞. \
             Fit without an intercept, or with observations of both classes",
            if intercept_sign > 0.0 { 1 } else { 0 },
            if intercept_sign > 0.0 { "+" } else { "−" }
        ),
        ("Poisson", true) => "the counts are zero on every observation whose linear predictor \
            the unpenalized coefficients (flat prior) can send to −∞, so the likelihood keeps \
            increasing as they diverge (fitted rates → 0). Use a proper prior on the \
            coefficients, e.g. a Gaussian (ridge) or Laplace (lasso) prior"
            .to_string(),
        ("Poisson", false) => "every count is zero, so the intercept (flat prior) goes to −∞ \
            (fitted rates → 0). Fit without an intercept, with a proper prior on the \
            coefficients"
            .to_string(),
        (other, _) => format!(
            "the {other} likelihood keeps increasing along a direction of the unpenalized \
             parameters. Use a proper prior (Gaussian or Laplace) on the coefficients"
        ),
    };
    Error::NoMode { reason }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::likelihood::Poisson;
    use crate::prior::ElasticNet;

    #[test]
    fn covers_needs_every_column() {
        assert!(covers(None, None));
        assert!(covers(None, Some(&[0, 3])));
        assert!(!covers(Some(&[0, 1]), None));
        assert!(covers(Some(&[0, 2, 5, 7]), Some(&[2, 7])));
        assert!(covers(Some(&[0, 2]), Some(&[])));
        assert!(!covers(Some(&[0, 2, 5]), Some(&[2, 6])));
        assert!(!covers(Some(&[2, 5]), Some(&[0, 2])));
    }

    /// Two neighbouring points of a Poisson L1 path: the second solved from the first's
    /// solution with its IRLS model carried over (a chord step across λ) and without; both
    /// must reach the same optimum, and the carried model must have served a step.
    #[test]
    fn a_model_carried_to_the_next_lambda_serves_it_and_changes_nothing() {
        use rand::{rngs::StdRng, Rng, SeedableRng};
        let (n, p) = (300, 12);
        let mut rng = StdRng::seed_from_u64(7);
        let x = DMatrix::from_fn(n, p, |_, _| rng.random_range(-1.0f64..1.0));
        let y = DVector::from_fn(n, |i, _| {
            let eta = 0.3 + x[(i, 0)] - 0.8 * x[(i, 4)] + 0.5 * x[(i, 9)];
            (eta.exp() * 1.5 + rng.random_range(0.0..1.0)).floor()
        });
        let design = Design::new(&x, &y).unwrap();
        // A geometric grid's step, as on a path.
        let (l1_a, l1_b) = (20.0, 19.0);
        fn run<'x>(
            design: Design<'x>,
            l1: f64,
            prev: f64,
            start: DVector<f64>,
            model: Option<Model<'x>>,
        ) -> (DVector<f64>, u64, Option<Model<'x>>) {
            let p = design.p();
            let prior = ElasticNet::with_weights(l1, 0.0).unwrap();
            let problem = MapProblem::new(design, Poisson, prior, true).unwrap();
            let solver = ProximalNewton::new()
                .with_tolerance(1e-12)
                .unwrap()
                .with_screening(vec![prev; p])
                .with_model(model);
            let mut res = Executor::new(problem, solver)
                .configure(|s| s.param(start).max_iters(100))
                .ctrlc(false)
                .run()
                .unwrap();
            let conv = res.solver.convergence(res.state.get_iter());
            assert!(conv.converged, "{conv}");
            let theta = res.state.get_param().unwrap().clone();
            (theta, res.solver.carried_steps(), res.solver.take_model())
        }
        let (first, _, model) = run(design, l1_a, l1_a / 0.95, DVector::zeros(p + 1), None);
        let active = first.iter().take(p).filter(|&&w| w != 0.0).count();
        assert!(active > 0 && active < p, "{active} non-zero coefficients");
        let (carried, used, _) = run(design, l1_b, l1_a, first.clone(), model);
        let (fresh, unused, _) = run(design, l1_b, l1_a, first, None);
        assert_eq!((used, unused), (1, 0));
        let d = (&carried - &fresh).amax() / fresh.amax();
        assert!(d < 1e-9, "{d:e}");
    }
}
