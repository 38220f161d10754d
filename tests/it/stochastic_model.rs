//! User-supplied differentiable models (issue 6): the MLP's back-propagation against finite
//! differences, and a hand-written model + a mapfit prior solved by argmin's L-BFGS and by the
//! stochastic solvers.

use crate::common;
use crate::stochastic_support;

use argmin::core::{Executor, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use mapfit::model::{Mlp, Model, ModelProblem, Rows};
use mapfit::solve::{Adam, LearningRate, LossScale, PriorMode, Sgd};
use mapfit::{closed_form, prior};
use nalgebra::{DMatrix, DVector};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use stochastic_support::rel_err;

fn labels(x: &DMatrix<f64>, seed: u64) -> DVector<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    DVector::from_fn(x.nrows(), |i, _| {
        let z = x[(i, 0)] * x[(i, 1)] + 0.3 * x[(i, 0)] + 0.2 * rng.random::<f64>();
        if z > 0.0 {
            1.0
        } else {
            0.0
        }
    })
}

/// Central differences `(f(θ + h·eⱼ) − f(θ − h·eⱼ))/2h` against back-propagation, over all rows
/// and over a mini-batch with a repeated row.
#[test]
fn mlp_gradient_matches_finite_differences() {
    let x = common::correlated_design(40, 3, 0.2, 21);
    let y = labels(&x, 22);
    let mlp = Mlp::new(&x, &y, 5).unwrap();
    let mut theta = mlp.initial_parameters(3);
    // Non-zero biases too, so that every block of θ is exercised.
    let k = mlp.n_params();
    for j in 0..k {
        theta[j] += 0.1 * ((j as f64) * 0.37).sin();
    }
    let batch = [3usize, 17, 17, 0, 39];
    for rows in [Rows::All, Rows::Subset(&batch)] {
        let mut g = vec![0.0; k];
        let f0 = mlp.nll_gradient(theta.as_slice(), rows, &mut g).unwrap();
        assert!((f0 - mlp.nll(theta.as_slice(), rows).unwrap()).abs() < 1e-12);
        let h = 1e-6;
        let mut worst = 0.0f64;
        for j in 0..k {
            let mut tp = theta.clone();
            tp[j] += h;
            let mut tm = theta.clone();
            tm[j] -= h;
            let fd = (mlp.nll(tp.as_slice(), rows).unwrap()
                - mlp.nll(tm.as_slice(), rows).unwrap())
                / (2.0 * h);
            worst = worst.max((fd - g[j]).abs() / g[j].abs().max(1e-3));
        }
        println!("{rows:?}: {k} partial derivatives, worst relative error {worst:.2e}");
        assert!(worst < 1e-6, "{worst:e}");
    }
}

#[test]
fn mlp_rejects_bad_labels_and_sizes() {
    let x = DMatrix::from_element(3, 2, 1.0);
    let y = DVector::from_vec(vec![0.0, 1.0, 0.5]);
    assert!(matches!(
        Mlp::new(&x, &y, 2),
        Err(mapfit::Error::InvalidResponse { row: 2, .. })
    ));
    let y = DVector::from_vec(vec![0.0, 1.0, 1.0]);
    assert!(Mlp::new(&x, &y, 0).is_err());
    let mlp = Mlp::new(&x, &y, 2).unwrap();
    let mut g = vec![0.0; mlp.n_params()];
    let theta = vec![0.0; mlp.n_params()];
    assert!(mlp
        .nll_gradient(&theta, Rows::Subset(&[3]), &mut g)
        .is_err());
    assert!(mlp.nll_gradient(&theta[1..], Rows::All, &mut g).is_err());
}

/// A model written by the user: least squares with noise variance σ², no intercept.
#[derive(Debug)]
struct LeastSquares<'a> {
    x: &'a DMatrix<f64>,
    y: &'a DVector<f64>,
    sigma2: f64,
}

impl Model for LeastSquares<'_> {
    fn n_params(&self) -> usize {
        self.x.ncols()
    }
    fn n_obs(&self) -> usize {
        self.x.nrows()
    }
    fn nll_gradient(&self, theta: &[f64], rows: Rows<'_>, grad: &mut [f64]) -> mapfit::Result<f64> {
        grad.fill(0.0);
        let mut f = 0.0;
        for i in rows.iter(self.n_obs()) {
            let r: f64 = self.y[i]
                - (0..theta.len())
                    .map(|j| self.x[(i, j)] * theta[j])
                    .sum::<f64>();
            f += r * r / (2.0 * self.sigma2);
            for (j, g) in grad.iter_mut().enumerate() {
                *g -= r * self.x[(i, j)] / self.sigma2;
            }
        }
        Ok(f)
    }
}

/// The user's model + `prior::Gaussian` through argmin's L-BFGS, full-batch SGD and
/// mini-batch Adam: all reach the closed-form ridge solution (λ = σ²/τ²).
#[test]
fn user_model_with_mapfit_prior_through_lbfgs_and_stochastic_solvers() {
    let (n, p) = (300, 4);
    let x = common::correlated_design(n, p, 0.4, 31);
    let w = DVector::from_vec(vec![1.0, -2.0, 0.5, 0.0]);
    let y = common::linear_response(&x, &w, 0.0, 0.5, 32);
    let (sigma2, tau) = (0.25, 0.2);
    let ridge = closed_form::ridge(&x, &y, sigma2 / (tau * tau)).unwrap();
    let problem = || {
        ModelProblem::new(
            LeastSquares {
                x: &x,
                y: &y,
                sigma2,
            },
            prior::Gaussian::new(tau).unwrap(),
        )
        .unwrap()
    };

    let lbfgs = LBFGS::new(MoreThuenteLineSearch::new(), 7)
        .with_tolerance_grad(1e-10)
        .unwrap();
    let res = Executor::new(problem(), lbfgs)
        .configure(|s| s.param(DVector::zeros(p)).max_iters(200))
        .run()
        .unwrap();
    let e_lbfgs = rel_err(res.state.get_best_param().unwrap(), &ridge);

    let sgd = Sgd::new(LearningRate::Constant(0.05), PriorMode::Decoupled)
        .full_batch()
        .with_gradient_tolerance(1e-13)
        .unwrap();
    let res = Executor::new(problem(), sgd)
        .configure(|s| s.param(DVector::zeros(p)).max_iters(100_000))
        .run()
        .unwrap();
    let e_gd = rel_err(res.state.get_param().unwrap(), &ridge);

    let adam = Adam::new(
        LearningRate::InverseTime {
            initial: 0.05,
            t0: 100.0,
        },
        PriorMode::Coupled,
    )
    .with_batch_size(20)
    .unwrap()
    .with_seed(3)
    .with_loss_scale(LossScale::Mean)
    .with_max_epochs(150)
    .with_averaging_from_epoch(75);
    let res = Executor::new(problem(), adam)
        .configure(|s| s.param(DVector::zeros(p)).max_iters(u64::MAX))
        .run()
        .unwrap();
    let e_adam = rel_err(res.solver.averaged().unwrap(), &ridge);
    println!(
        "user model + Gaussian prior vs ridge: L-BFGS {e_lbfgs:.2e}, full-batch GD {e_gd:.2e}, \
         mini-batch Adam (averaged) {e_adam:.2e}"
    );
    assert!(e_lbfgs < 1e-8);
    assert!(e_gd < 1e-10);
    assert!(e_adam < 1e-3);
}

/// The MLP's MAP through L-BFGS (`ModelProblem` as an argmin `CostFunction + Gradient`): the
/// gradient of the cost vanishes there, and the prior is applied to the weights only.
#[test]
fn mlp_map_through_lbfgs_is_a_stationary_point() {
    let x = common::correlated_design(80, 2, 0.0, 41);
    let y = labels(&x, 42);
    let mlp = Mlp::new(&x, &y, 6).unwrap();
    let theta0 = mlp.initial_parameters(1);
    let problem = ModelProblem::new(mlp, prior::Gaussian::new(1.0).unwrap()).unwrap();
    let res = Executor::new(
        problem.clone(),
        LBFGS::new(MoreThuenteLineSearch::new(), 10),
    )
    .configure(|s| s.param(theta0).max_iters(2000))
    .run()
    .unwrap();
    let theta = res.state.get_best_param().unwrap();
    let g = problem.cost_gradient(theta).unwrap();
    let cost = problem.objective(theta).unwrap();
    let nll = problem.negative_log_likelihood(theta).unwrap();
    let np = problem.model().n_penalized();
    let pen: f64 = theta.rows(0, np).iter().map(|a| 0.5 * a * a).sum();
    println!(
        "MLP MAP: cost {cost:.6}, ‖∇cost‖∞ = {:.2e}, training error {:.3}",
        g.amax(),
        problem.model().error_rate(theta, &x, &y).unwrap()
    );
    assert!(g.amax() < 1e-4);
    assert!((cost - nll - pen).abs() < 1e-9 * cost.abs());
}
