//! MAP estimation under a non-convex prior (Student-t, bridge with `q < 1`): start from the MAP
//! under a convex surrogate prior, then descend to a local mode. Also the solver of convex
//! priors that are neither twice differentiable nor of the elastic form (bridge with
//! `1 < q < 2`, whose curvature is infinite at 0, which stalls Newton's method): proximal
//! gradient from 0, which finds the global MAP.
//!
//! # Algorithm
//! 1. **Warm start.** The prior's [`Prior::convex_surrogate`] (an elastic penalty: the
//!    Laplace prior of the same scale for the bridge, the Gaussian with the same curvature at
//!    0 for the Student-t) defines a convex problem, solved exactly: the ridge closed form or
//!    coordinate descent for the Gaussian likelihood, Newton's method (trust region) or
//!    proximal gradient otherwise.
//! 2. **Local descent.** A smooth non-convex prior (Student-t) is then minimized by argmin's
//!    trust-region Newton method (or L-BFGS when that is the chosen method), both of which
//!    handle indefinite Hessians. A non-smooth one (bridge `q < 1`, whose penalty has a cusp
//!    at 0) is minimized by monotone proximal gradient with the prior's scalar prox
//!    ([`proximal_gradient`]).
//!
//! The result is a stationary point that is at least as good as the warm start; nothing
//! certifies that it is the global MAP, so the fit is flagged ([`crate::Fit::local_mode`]).

use crate::closed_form::soft_threshold;
use crate::convergence::{Convergence, Measure};
use crate::error::{Error, Result};
use crate::likelihood::Likelihood;
use crate::objective::MapProblem;
use crate::prior::{Convention, ElasticPenalty, Flat, Prior};
use crate::solve::coordinate::CoordinateDescent;
use crate::solve::{smooth, Method};
use argmin::core::{Executor, State};
use nalgebra::{DMatrix, DVector};
use std::f64::consts::PI;

/// A prior given directly by its separable elastic form `Σ l1_j|w_j| + ½l2_j w_j²`: the convex
/// surrogate of a non-convex prior.
#[derive(Debug, Clone)]
pub(crate) struct Surrogate(pub ElasticPenalty);

impl Prior for Surrogate {
    fn describe(&self) -> String {
        "convex surrogate (elastic form)".into()
    }
    fn check_dimension(&self, p: usize) -> Result<()> {
        if self.0.l1.len() == p && self.0.l2.len() == p {
            Ok(())
        } else {
            Err(Error::DimensionMismatch {
                what: "surrogate penalty",
                expected: p,
                found: self.0.l1.len(),
            })
        }
    }
    fn penalty(&self, w: &[f64]) -> f64 {
        w.iter()
            .enumerate()
            .map(|(j, &a)| self.0.l1[j] * a.abs() + 0.5 * self.0.l2[j] * a * a)
            .sum()
    }
    fn ln_normalizer(&self, p: usize) -> f64 {
        (0..p)
            .map(|j| {
                let (a, c) = (self.0.l1[j], self.0.l2[j]);
                if c > 0.0 && a == 0.0 {
                    0.5 * (c / (2.0 * PI)).ln()
                } else if a > 0.0 && c == 0.0 {
                    (a / 2.0).ln()
                } else if a > 0.0 {
                    let x = a / (2.0 * c).sqrt();
                    -(2.0
                        * (PI / (2.0 * c)).sqrt()
                        * (x * x).exp()
                        * statrs::function::erf::erfc(x))
                    .ln()
                } else {
                    0.0
                }
            })
            .sum()
    }
    fn is_smooth(&self) -> bool {
        self.0.l1.iter().all(|&a| a == 0.0)
    }
    fn penalty_gradient(&self, w: &[f64], out: &mut [f64]) {
        for (j, (o, &a)) in out.iter_mut().zip(w).enumerate() {
            let s = if a == 0.0 { 0.0 } else { a.signum() };
            *o = self.0.l1[j] * s + self.0.l2[j] * a;
        }
    }
    fn add_penalty_hessian(&self, w: &[f64], h: &mut DMatrix<f64>) {
        for j in 0..w.len() {
            h[(j, j)] += self.0.l2[j];
        }
    }
    fn elastic(&self, _p: usize) -> Option<ElasticPenalty> {
        Some(self.0.clone())
    }
    fn prox(&self, j: usize, v: f64, t: f64) -> f64 {
        soft_threshold(v, t * self.0.l1[j]) / (1.0 + t * self.0.l2[j])
    }
    fn lambda(&self, _convention: Convention) -> Result<f64> {
        Err(Error::Unsupported {
            what: "the convex surrogate has no single λ".into(),
        })
    }
}

/// A solution found here: θ, its convergence record, and whether it is only a local mode.
pub(crate) type Special = (DVector<f64>, Convergence, bool);

/// If the prior of `problem` is non-convex, finds a local MAP from the convex surrogate's
/// MAP (flagged as a local mode); if it is non-smooth without an elastic form, the MAP by
/// proximal gradient; `None` otherwise (the ordinary solvers apply).
pub(crate) fn solve<L: Likelihood, P: Prior>(
    problem: &MapProblem<'_, L, P>,
    method: Method,
    tolerance: Option<f64>,
    max_iters: u64,
) -> Result<Option<Special>> {
    let p = problem.design().p();
    let tol = tolerance.unwrap_or(smooth::DEFAULT_GRAD_TOL);
    let Some(el) = problem.prior().convex_surrogate(p) else {
        if !problem.prior().is_smooth() && problem.prior().elastic(p).is_none() {
            let zero = DVector::zeros(problem.n_params());
            let (theta, conv) = proximal_gradient(problem, zero, tol, max_iters)?;
            return Ok(Some((theta, conv, false)));
        }
        return Ok(None);
    };
    let surrogate = MapProblem::new(
        *problem.design(),
        problem.likelihood().clone(),
        Surrogate(el),
        problem.has_intercept(),
    )?;
    let start = warm_start(&surrogate, tol, max_iters)?;
    let out = if problem.prior().is_smooth() {
        let o = if method == Method::Lbfgs {
            smooth::lbfgs(problem, start, tol, max_iters)?
        } else {
            smooth::newton_trust_region(problem, start, tol, max_iters)?
        };
        (o.theta, o.convergence)
    } else {
        proximal_gradient(problem, start, tol, max_iters)?
    };
    Ok(Some((out.0, out.1, true)))
}

/// The MAP under the convex surrogate (converged or not: it is only a starting point).
fn warm_start<L: Likelihood>(
    surrogate: &MapProblem<'_, L, Surrogate>,
    tol: f64,
    max_iters: u64,
) -> Result<DVector<f64>> {
    let p = surrogate.design().p();
    let el = &surrogate.prior().0;
    let smooth_prior = el.l1.iter().all(|&a| a == 0.0);
    let k = surrogate.n_params();
    match surrogate.likelihood().gaussian_noise_variance() {
        Some(sigma2) if smooth_prior => {
            let (w, b) = crate::closed_form::weighted_ridge(
                surrogate.design(),
                &el.l2,
                sigma2,
                surrogate.has_intercept(),
            )?;
            let mut theta = DVector::zeros(k);
            theta.rows_mut(0, p).copy_from(&w);
            if surrogate.has_intercept() {
                theta[p] = b;
            }
            Ok(theta)
        }
        Some(_) => {
            let res = Executor::new(surrogate.clone(), CoordinateDescent::new())
                .configure(|s| s.param(DVector::zeros(k)).max_iters(max_iters))
                .ctrlc(false)
                .timer(false)
                .run()?;
            res.state
                .get_param()
                .cloned()
                .ok_or_else(|| Error::Solver("coordinate descent returned no parameter".into()))
        }
        None if smooth_prior => {
            Ok(smooth::newton_trust_region(surrogate, DVector::zeros(k), tol, max_iters)?.theta)
        }
        None => Ok(proximal_gradient(surrogate, DVector::zeros(k), tol, max_iters)?.0),
    }
}

/// Largest eigenvalue of the data term's Hessian at θ (power iteration): the Lipschitz
/// constant of its gradient there, for the first step size.
fn curvature<L: Likelihood, P: Prior>(problem: &MapProblem<'_, L, P>, theta: &DVector<f64>) -> f64 {
    let data = match MapProblem::new(
        *problem.design(),
        problem.likelihood().clone(),
        Flat,
        problem.has_intercept(),
    ) {
        Ok(d) => d,
        Err(_) => return 1.0,
    };
    let h = match data.cost_hessian(theta) {
        Ok(h) => h,
        Err(_) => return 1.0,
    };
    let mut v = DVector::from_element(h.nrows(), 1.0 / (h.nrows() as f64).sqrt());
    let mut ev = 0.0;
    for _ in 0..50 {
        let hv = &h * &v;
        let nrm = hv.norm();
        if !(nrm > 0.0 && nrm.is_finite()) {
            break;
        }
        ev = nrm;
        v = hv / nrm;
    }
    if ev > 0.0 {
        ev
    } else {
        1.0
    }
}

/// One proximal-gradient step `θ⁺ = prox_t(θ − t∇data(θ))` (the intercept, whose prior is
/// flat, takes a plain gradient step).
fn prox_step<L: Likelihood, P: Prior>(
    problem: &MapProblem<'_, L, P>,
    theta: &DVector<f64>,
    g: &DVector<f64>,
    t: f64,
) -> DVector<f64> {
    let p = problem.design().p();
    let mut next = theta - g * t;
    for j in 0..p {
        next[j] = problem.prior().prox(j, next[j], t);
    }
    next
}

/// One backtracked proximal-gradient step from `base`.
struct Step {
    next: DVector<f64>,
    f_next: f64,
    t: f64,
    /// The gradient mapping `‖base − next‖∞/t`.
    residual: f64,
}

/// `θ⁺ = prox_t(base − t∇data(base))` with `t` halved until
/// `data(θ⁺) − data(base) − ∇data(base)ᵀd ≤ ‖d‖²/(4t)` (`d = θ⁺ − base`). When the change of
/// the data term is below 1e-9 of its size, where its rounding would decide the test, the
/// left side is replaced by the secant estimate `½(∇data(θ⁺) − ∇data(base))ᵀd`, exact for a
/// quadratic data term and free of cancellation.
fn backtracked_step<L: Likelihood, P: Prior>(
    problem: &MapProblem<'_, L, P>,
    base: &DVector<f64>,
    f_base: f64,
    g_base: &DVector<f64>,
    mut t: f64,
) -> Result<Step> {
    loop {
        let next = prox_step(problem, base, g_base, t);
        let d = &next - base;
        let dd = d.norm_squared();
        if dd == 0.0 {
            return Ok(Step {
                next,
                f_next: f_base,
                t,
                residual: 0.0,
            });
        }
        let f_next = problem.negative_log_likelihood(&next);
        let ok = f_next.is_finite()
            && if (f_next - f_base).abs() > 1e-9 * f_base.abs() {
                f_next - f_base - g_base.dot(&d) <= dd / (4.0 * t)
            } else {
                let g_next = problem.data_gradient(&next);
                0.5 * (&g_next - g_base).dot(&d) <= dd / (4.0 * t)
            };
        if ok {
            return Ok(Step {
                residual: d.amax() / t,
                next,
                f_next,
                t,
            });
        }
        t *= 0.5;
        if t < 1e-300 {
            return Err(Error::Solver(
                "proximal gradient: the step size underflowed in the line search".into(),
            ));
        }
    }
}

/// Accelerated proximal gradient with monotone restarts on `data(θ) + penalty(w)`, for priors
/// whose penalty is non-smooth or non-convex but has an exact scalar prox.
///
/// * Each step is `θ⁺ = prox_t(y − t∇data(y))` from the extrapolated point
///   `y = θ_k + k/(k+3)·(θ_k − θ_{k−1})` (Nesterov/FISTA momentum), with `t` found by
///   backtracking on `data(θ⁺) ≤ data(y) + ∇data(y)ᵀd + ‖d‖²/(4t)` — the margin `/(4t)` (not the
///   usual `/(2t)`) gives the sufficient decrease `cost(θ⁺) ≤ cost(y) − ‖d‖²/(4t)` even for a
///   non-convex penalty, which rules out cycling — and enlarged by 1.2 after each step.
/// * If the accelerated step does not decrease the cost, the momentum is reset and a plain
///   step is taken from `θ_k` (function restart, O'Donoghue & Candès 2015): the cost never
///   increases, so the iteration converges to a stationary point also for non-convex priors.
/// * Stopping: the gradient mapping `‖θ − θ⁺‖∞/t` — the KKT residual of a fixed point of the
///   prox step — relative to `max|∇data(0)|` ([`Measure::RelativeKkt`]), confirmed by a plain
///   step from the final point.
pub(crate) fn proximal_gradient<L: Likelihood, P: Prior>(
    problem: &MapProblem<'_, L, P>,
    theta0: DVector<f64>,
    rel_tol: f64,
    max_iters: u64,
) -> Result<(DVector<f64>, Convergence)> {
    let k = problem.n_params();
    let p = problem.design().p();
    let scale = {
        let g0 = problem.data_gradient(&DVector::zeros(k)).amax();
        if g0 > 0.0 && g0.is_finite() {
            g0
        } else {
            1.0
        }
    };
    let pen = |th: &DVector<f64>| problem.prior().penalty(&th.as_slice()[..p]);
    let mut theta = theta0;
    let mut theta_prev = theta.clone();
    let mut f = problem.negative_log_likelihood(&theta);
    let mut g = problem.data_gradient(&theta);
    let mut cost = f + pen(&theta);
    let mut t = 1.0 / curvature(problem, &theta);
    let mut momentum = 0u64;
    let mut residual = f64::INFINITY;
    let mut iterations = 0;
    let mut converged = false;
    while iterations < max_iters {
        iterations += 1;
        let mut step = if momentum > 0 {
            let beta = momentum as f64 / (momentum as f64 + 3.0);
            let y = &theta + (&theta - &theta_prev) * beta;
            let fy = problem.negative_log_likelihood(&y);
            let gy = problem.data_gradient(&y);
            backtracked_step(problem, &y, fy, &gy, t)?
        } else {
            backtracked_step(problem, &theta, f, &g, t)?
        };
        let mut cost_next = step.f_next + pen(&step.next);
        if momentum > 0 && (cost_next.is_nan() || cost_next > cost + 1e-14 * cost.abs()) {
            momentum = 0;
            step = backtracked_step(problem, &theta, f, &g, step.t)?;
            cost_next = step.f_next + pen(&step.next);
        }
        theta_prev = std::mem::replace(&mut theta, step.next);
        f = step.f_next;
        g = problem.data_gradient(&theta);
        cost = cost_next;
        t = step.t * 1.2;
        momentum += 1;
        if step.residual <= rel_tol * scale {
            // confirm at θ itself with a plain step (which is also taken)
            let check = backtracked_step(problem, &theta, f, &g, t)?;
            residual = check.residual;
            theta_prev = std::mem::replace(&mut theta, check.next);
            f = check.f_next;
            g = problem.data_gradient(&theta);
            cost = f + pen(&theta);
            t = check.t;
            if residual <= rel_tol * scale {
                converged = true;
                break;
            }
        } else {
            residual = step.residual;
        }
    }
    let rel = residual / scale;
    Ok((
        theta,
        Convergence {
            converged,
            measure: Measure::RelativeKkt,
            value: rel,
            tolerance: rel_tol,
            kkt_violation: residual,
            iterations,
        },
    ))
}
