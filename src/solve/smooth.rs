//! Smooth MAP problems through argmin's own solvers: Newton with a trust region (Steihaug's
//! conjugate-gradient subproblem) and L-BFGS with a Moré–Thuente line search, each wrapped
//! with a gradient-norm stopping rule ([`GradientStop`]), because argmin's `TrustRegion`
//! and `Newton` have none of their own.

use crate::convergence::{Convergence, Measure};
use crate::error::{Error, Result};
use crate::likelihood::Likelihood;
use crate::objective::MapProblem;
use crate::prior::Prior;
use argmin::core::{
    Executor, IterState, Problem, Solver, State, TerminationReason, TerminationStatus, KV,
};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::newton::Newton;
use argmin::solver::quasinewton::LBFGS;
use argmin::solver::trustregion::{Steihaug, TrustRegion};
use argmin_math::ArgminL2Norm;
use nalgebra::DVector;

/// Wraps any argmin solver whose state carries a gradient and stops it as soon as
/// `‖gradient‖₂ ≤ tolerance` (absolute).
#[derive(Debug, Clone)]
pub struct GradientStop<S> {
    inner: S,
    tolerance: f64,
    stall_limit: Option<u64>,
}

impl<S> GradientStop<S> {
    /// Stops `inner` at `‖g‖₂ ≤ tolerance`.
    pub fn new(inner: S, tolerance: f64) -> Self {
        GradientStop {
            inner,
            tolerance,
            stall_limit: None,
        }
    }

    /// Also stops (with `SolverExit("stalled")`) once the best cost has not improved for
    /// `iterations` iterations: a trust region whose model decrease is below the cost's
    /// rounding otherwise shrinks its radius forever.
    pub fn with_stall_limit(mut self, iterations: u64) -> Self {
        self.stall_limit = Some(iterations);
        self
    }
}

impl<O, S, G, H> Solver<O, IterState<DVector<f64>, G, (), H, (), f64>> for GradientStop<S>
where
    S: Solver<O, IterState<DVector<f64>, G, (), H, (), f64>>,
    G: ArgminL2Norm<f64>,
{
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn init(
        &mut self,
        problem: &mut Problem<O>,
        state: IterState<DVector<f64>, G, (), H, (), f64>,
    ) -> std::result::Result<
        (IterState<DVector<f64>, G, (), H, (), f64>, Option<KV>),
        argmin::core::Error,
    > {
        self.inner.init(problem, state)
    }
    fn next_iter(
        &mut self,
        problem: &mut Problem<O>,
        state: IterState<DVector<f64>, G, (), H, (), f64>,
    ) -> std::result::Result<
        (IterState<DVector<f64>, G, (), H, (), f64>, Option<KV>),
        argmin::core::Error,
    > {
        self.inner.next_iter(problem, state)
    }
    fn terminate(
        &mut self,
        state: &IterState<DVector<f64>, G, (), H, (), f64>,
    ) -> TerminationStatus {
        if let Some(g) = state.get_gradient() {
            if g.l2_norm() <= self.tolerance {
                return TerminationStatus::Terminated(TerminationReason::SolverConverged);
            }
        }
        if let Some(k) = self.stall_limit {
            if state.get_iter() > state.get_last_best_iter() + k {
                return TerminationStatus::Terminated(TerminationReason::SolverExit(
                    "stalled".into(),
                ));
            }
        }
        self.inner.terminate(state)
    }
}

/// Default relative gradient-norm tolerance of the smooth solvers.
pub const DEFAULT_GRAD_TOL: f64 = 1e-10;

/// Result of a smooth solve: θ, iterations and the convergence record.
pub(crate) struct SmoothOutcome {
    pub theta: DVector<f64>,
    pub convergence: Convergence,
}

fn reference_gradient<L: Likelihood, P: Prior>(problem: &MapProblem<'_, L, P>) -> f64 {
    let g0 = crate::convergence::stable_norm(
        &problem.data_gradient(&DVector::zeros(problem.n_params())),
    );
    if g0 > 0.0 && g0.is_finite() {
        g0
    } else {
        1.0
    }
}

fn finish<L: Likelihood, P: Prior>(
    problem: &MapProblem<'_, L, P>,
    theta: DVector<f64>,
    iterations: u64,
    rel_tol: f64,
    scale: f64,
) -> Result<SmoothOutcome> {
    let g = problem.cost_gradient(&theta)?;
    let rel = crate::convergence::stable_norm(&g) / scale;
    Ok(SmoothOutcome {
        convergence: Convergence {
            converged: rel <= rel_tol,
            measure: Measure::RelativeGradientNorm,
            value: rel,
            tolerance: rel_tol,
            kkt_violation: g.amax(),
            iterations,
        },
        theta,
    })
}

/// Newton's method with a trust region (argmin `TrustRegion<Steihaug>`), stopped at
/// `‖∇cost‖ ≤ rel_tol·‖∇data(0)‖`.
pub(crate) fn newton_trust_region<L: Likelihood, P: Prior>(
    problem: &MapProblem<'_, L, P>,
    theta0: DVector<f64>,
    rel_tol: f64,
    max_iters: u64,
) -> Result<SmoothOutcome> {
    let scale = reference_gradient(problem);
    // Steihaug's ε is both its CG tolerance (relative) and an absolute cut-off (a zero step
    // once ‖∇cost‖ < ε). With argmin's default ε = 1e-9 the Newton steps were only 1e-9
    // accurate, and ill-conditioned problems stalled at the cost's rounding floor (where the
    // trust region rejects every step), which can lie above the gradient tolerance. Keep ε
    // below the target gradient norm.
    let eps = (1e-12f64).min(0.1 * rel_tol * scale).max(f64::MIN_POSITIVE);
    let sub: Steihaug<DVector<f64>, f64> = Steihaug::new()
        .with_epsilon(eps)?
        .with_max_iters(10 * theta0.len() as u64 + 20);
    let tr = TrustRegion::new(sub)
        .with_radius(1.0)?
        .with_max_radius(1e12)?;
    let solver = GradientStop::new(tr, rel_tol * scale).with_stall_limit(50);
    let res = Executor::new(problem.clone(), solver)
        .configure(|s| s.param(theta0).max_iters(max_iters))
        .ctrlc(false)
        .timer(false)
        .run()?;
    let iters = res.state.get_iter();
    let theta = res
        .state
        .get_best_param()
        .or(res.state.get_param())
        .cloned()
        .ok_or_else(|| Error::Solver("trust region returned no parameter".into()))?;
    let out = finish(problem, theta, iters, rel_tol, scale)?;
    if out.convergence.converged || !out.convergence.value.is_finite() {
        return Ok(out);
    }
    newton_polish(problem, out, rel_tol, scale)
}

/// Plain Newton steps (argmin `Newton`, no cost comparisons) from a point where the trust
/// region or the line search stalled because the cost could no longer resolve the predicted
/// decrease (rounding): each step is kept only while it lowers the gradient norm (at most 8).
fn newton_polish<L: Likelihood, P: Prior>(
    problem: &MapProblem<'_, L, P>,
    mut best: SmoothOutcome,
    rel_tol: f64,
    scale: f64,
) -> Result<SmoothOutcome> {
    for _ in 0..8 {
        let start = best.theta.clone();
        let res = Executor::new(problem.clone(), Newton::<f64>::new())
            .configure(|s| s.param(start).max_iters(1))
            .ctrlc(false)
            .timer(false)
            .run();
        let Some(theta) = res.ok().and_then(|r| r.state.get_param().cloned()) else {
            break;
        };
        let iters = best.convergence.iterations + 1;
        let next = finish(problem, theta, iters, rel_tol, scale)?;
        if next.convergence.value.is_nan() || next.convergence.value >= best.convergence.value {
            break;
        }
        best = next;
        if best.convergence.converged {
            break;
        }
    }
    Ok(best)
}

/// L-BFGS (memory 10, Moré–Thuente line search), stopped at `‖∇cost‖ ≤ rel_tol·‖∇data(0)‖`.
pub(crate) fn lbfgs<L: Likelihood, P: Prior>(
    problem: &MapProblem<'_, L, P>,
    theta0: DVector<f64>,
    rel_tol: f64,
    max_iters: u64,
) -> Result<SmoothOutcome> {
    let scale = reference_gradient(problem);
    let (theta, iters) = run_lbfgs(problem, theta0, rel_tol * scale, None, max_iters, "L-BFGS")?;
    let out = finish(problem, theta, iters, rel_tol, scale)?;
    // The line search cannot resolve the last digits of an ill-conditioned problem (it
    // compares costs); finish with Newton steps where the Hessian is affordable.
    if out.convergence.converged
        || !out.convergence.value.is_finite()
        || problem.n_params() > POLISH_MAX_PARAMS
    {
        return Ok(out);
    }
    newton_polish(problem, out, rel_tol, scale)
}

/// A problem whose cost and gradient evaluations are counted against a budget shared by every
/// clone (argmin's L-BFGS clones the problem into its line search). argmin runs the
/// Moré–Thuente line search without an iteration cap, and on costs it cannot bracket (NaN or
/// infinite values from overflowing data, or an unresolvable minimum) it never returns; the
/// budget turns that into an error instead of a hang.
#[derive(Debug, Clone)]
struct Budgeted<P> {
    inner: P,
    left: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<P> Budgeted<P> {
    fn new(inner: P, evaluations: u64) -> Self {
        Budgeted {
            inner,
            left: std::sync::Arc::new(std::sync::atomic::AtomicU64::new(evaluations)),
        }
    }

    fn spend(&self) -> std::result::Result<(), argmin::core::Error> {
        use std::sync::atomic::Ordering;
        let ok = self
            .left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok();
        if ok {
            Ok(())
        } else {
            Err(Error::Solver(
                "the L-BFGS line search (argmin Moré–Thuente) used up its evaluation budget \
                 without finding an acceptable step (non-finite or unresolvable costs, e.g. \
                 from data spanning hundreds of orders of magnitude)"
                    .into(),
            )
            .into())
        }
    }
}

/// Cost and gradient evaluations allowed per outer iteration of L-BFGS (a Moré–Thuente line
/// search normally needs a handful).
const EVALUATIONS_PER_ITERATION: u64 = 100;

fn evaluation_budget(max_iters: u64) -> u64 {
    max_iters
        .saturating_mul(EVALUATIONS_PER_ITERATION)
        .saturating_add(1000)
}

impl<P: argmin::core::CostFunction> argmin::core::CostFunction for Budgeted<P> {
    type Param = P::Param;
    type Output = P::Output;
    fn cost(&self, p: &Self::Param) -> std::result::Result<Self::Output, argmin::core::Error> {
        self.spend()?;
        self.inner.cost(p)
    }
}

impl<P: argmin::core::Gradient> argmin::core::Gradient for Budgeted<P> {
    type Param = P::Param;
    type Gradient = P::Gradient;
    fn gradient(
        &self,
        p: &Self::Param,
    ) -> std::result::Result<Self::Gradient, argmin::core::Error> {
        self.spend()?;
        self.inner.gradient(p)
    }
}

/// Largest number of parameters for which an unconverged L-BFGS run is finished with Newton
/// steps (each forms the `n_params²` Hessian).
const POLISH_MAX_PARAMS: usize = 2000;

/// OWL-QN (argmin's L-BFGS with L1 regularization) on `data(θ) + l1·‖θ‖₁`. argmin applies
/// one L1 weight to every entry of θ, so the problem must have no intercept and a uniform
/// Laplace prior; the caller passes the data-only (flat-prior) problem.
pub(crate) fn owlqn<L: Likelihood, P: Prior>(
    problem: &MapProblem<'_, L, P>,
    l1: f64,
    theta0: DVector<f64>,
    rel_tol: f64,
    max_iters: u64,
) -> Result<(DVector<f64>, u64)> {
    let scale = reference_gradient(problem);
    run_lbfgs(
        problem,
        theta0,
        rel_tol * scale,
        Some(l1),
        max_iters,
        "OWL-QN",
    )
}

/// argmin's L-BFGS (memory 10, Moré–Thuente line search; OWL-QN with `l1`) on an eager
/// ([`MapProblem::with_eager_gradient`]), evaluation-budgeted copy of `problem`, stopped at
/// `‖∇‖ ≤ grad_tol` or on a stall; the best point and the iterations.
fn run_lbfgs<L: Likelihood, P: Prior>(
    problem: &MapProblem<'_, L, P>,
    theta0: DVector<f64>,
    grad_tol: f64,
    l1: Option<f64>,
    max_iters: u64,
    name: &str,
) -> Result<(DVector<f64>, u64)> {
    // A cost tolerance of MIN_POSITIVE stops L-BFGS at the first iteration that leaves the cost
    // exactly unchanged (the rounding floor). With 0 it kept iterating on zero steps until its
    // memory produced a NaN direction, on which argmin's More–Thuente line search never ends.
    let mut solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
        .with_tolerance_grad(grad_tol)?
        .with_tolerance_cost(f64::MIN_POSITIVE)?;
    if let Some(l1) = l1 {
        solver = solver.with_l1_regularization(l1)?;
    }
    let budgeted = Budgeted::new(
        problem.clone().with_eager_gradient(true),
        evaluation_budget(max_iters),
    );
    let res = Executor::new(budgeted, solver)
        .configure(|s| s.param(theta0).max_iters(max_iters))
        .ctrlc(false)
        .timer(false)
        .run()?;
    let iters = res.state.get_iter();
    let theta = res
        .state
        .get_best_param()
        .cloned()
        .ok_or_else(|| Error::Solver(format!("{name} returned no parameter")))?;
    Ok((theta, iters))
}
