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
}

impl<S> GradientStop<S> {
    /// Stops `inner` at `‖g‖₂ ≤ tolerance`.
    pub fn new(inner: S, tolerance: f64) -> Self {
        GradientStop { inner, tolerance }
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
    let g0 = problem
        .data_gradient(&DVector::zeros(problem.n_params()))
        .norm();
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
    let rel = g.norm() / scale;
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
    let sub: Steihaug<DVector<f64>, f64> =
        Steihaug::new().with_max_iters(10 * theta0.len() as u64 + 20);
    let tr = TrustRegion::new(sub)
        .with_radius(1.0)?
        .with_max_radius(1e12)?;
    let solver = GradientStop::new(tr, rel_tol * scale);
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
    finish(problem, theta, iters, rel_tol, scale)
}

/// L-BFGS (memory 10, Moré–Thuente line search), stopped at `‖∇cost‖ ≤ rel_tol·‖∇data(0)‖`.
pub(crate) fn lbfgs<L: Likelihood, P: Prior>(
    problem: &MapProblem<'_, L, P>,
    theta0: DVector<f64>,
    rel_tol: f64,
    max_iters: u64,
) -> Result<SmoothOutcome> {
    let scale = reference_gradient(problem);
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
        .with_tolerance_grad(rel_tol * scale)?
        .with_tolerance_cost(0.0)?;
    let res = Executor::new(problem.clone(), solver)
        .configure(|s| s.param(theta0).max_iters(max_iters))
        .ctrlc(false)
        .timer(false)
        .run()?;
    let iters = res.state.get_iter();
    let theta = res
        .state
        .get_best_param()
        .cloned()
        .ok_or_else(|| Error::Solver("L-BFGS returned no parameter".into()))?;
    finish(problem, theta, iters, rel_tol, scale)
}

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
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
        .with_tolerance_grad(rel_tol * scale)?
        .with_tolerance_cost(0.0)?
        .with_l1_regularization(l1)?;
    let res = Executor::new(problem.clone(), solver)
        .configure(|s| s.param(theta0).max_iters(max_iters))
        .ctrlc(false)
        .timer(false)
        .run()?;
    let iters = res.state.get_iter();
    let theta = res
        .state
        .get_best_param()
        .cloned()
        .ok_or_else(|| Error::Solver("OWL-QN returned no parameter".into()))?;
    Ok((theta, iters))
}
