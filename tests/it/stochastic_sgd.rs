//! SGD and weight decay (issue 6): decoupled weight decay ≡ L2 under plain SGD, the factor
//! conventions, and convergence to the closed-form ridge / lasso MAP.
//!
//! Conventions (see `mapfit::solve::minibatch`): the optimizer minimizes `J = s·F` with
//! `F = Σᵢ nllᵢ + pen`, `s = 1/n` (`LossScale::Mean`) or 1 (`LossScale::Sum`); the mini-batch
//! gradient is `s·(n/|B|)·Σ_{i∈B}∇nllᵢ + s·∇pen`, and the decoupled decay of a Gaussian prior
//! `N(0, τ²)` is `λ = s/τ²`.

use crate::common;
use crate::stochastic_support;

use argmin::core::{Executor, State};
use mapfit::solve::{LearningRate, LossScale, PriorMode, Sgd};
use mapfit::{closed_form, likelihood, prior, Design, Map, MapProblem, Method};
use nalgebra::{DMatrix, DVector, SymmetricEigen};
use stochastic_support::{max_path_diff, rel_err, run_recorded};

const SIGMA2: f64 = 0.25;

fn data(n: usize, p: usize, seed: u64) -> (DMatrix<f64>, DVector<f64>) {
    let x = common::correlated_design(n, p, 0.3, seed);
    let w = DVector::from_fn(p, |j, _| 1.0 - 0.4 * j as f64);
    let y = common::linear_response(&x, &w, 0.5, SIGMA2.sqrt(), seed + 1);
    (x, y)
}

fn lik() -> likelihood::Gaussian {
    likelihood::Gaussian::new(SIGMA2).unwrap()
}

/// Largest eigenvalue of `XᵀX`.
fn lambda_max(x: &DMatrix<f64>) -> f64 {
    SymmetricEigen::new(x.tr_mul(x)).eigenvalues.max()
}

#[test]
fn decoupled_weight_decay_equals_coupled_l2_full_batch() {
    let (x, y) = data(200, 4, 1);
    let pb = MapProblem::new(
        Design::new(&x, &y).unwrap(),
        lik(),
        prior::Gaussian::new(0.5).unwrap(),
        true,
    )
    .unwrap();
    let theta0 = DVector::from_vec(vec![0.3, -0.2, 0.1, 0.4, -1.0]);
    for scale in [LossScale::Mean, LossScale::Sum] {
        let lr = match scale {
            LossScale::Mean => 0.05,
            LossScale::Sum => 0.05 / 200.0,
        };
        let make = |mode| {
            Sgd::new(LearningRate::Constant(lr), mode)
                .full_batch()
                .with_loss_scale(scale)
        };
        let (a, _, _) = run_recorded(pb.clone(), make(PriorMode::Coupled), theta0.clone(), 400);
        let (b, _, _) = run_recorded(pb.clone(), make(PriorMode::Decoupled), theta0.clone(), 400);
        let d = max_path_diff(&a, &b);
        println!("{scale:?}: full batch, 400 iterates, max relative difference {d:.2e}");
        assert_eq!(a.len(), 400);
        assert!(d <= 1e-12, "{d:e}");
        // The iterates moved: this is not a comparison of two fixed points.
        assert!((&a[399] - &a[0]).amax() > 0.1);
    }
}

#[test]
fn decoupled_weight_decay_equals_coupled_l2_minibatch() {
    let (x, y) = data(203, 5, 2);
    let pb = MapProblem::new(
        Design::new(&x, &y).unwrap(),
        lik(),
        prior::Gaussian::new(0.3).unwrap(),
        true,
    )
    .unwrap();
    let theta0 = DVector::zeros(6);
    let make = |mode| {
        Sgd::new(
            LearningRate::InverseTime {
                initial: 0.05,
                t0: 50.0,
            },
            mode,
        )
        .with_batch_size(16)
        .unwrap()
        .with_seed(11)
        .with_max_epochs(8)
    };
    let (a, _, sa) = run_recorded(pb.clone(), make(PriorMode::Coupled), theta0.clone(), 10_000);
    let (b, _, _) = run_recorded(pb, make(PriorMode::Decoupled), theta0, 10_000);
    let d = max_path_diff(&a, &b);
    println!(
        "mini-batch 16 of 203 rows, {} iterates ({} epochs), max relative difference {d:.2e}",
        a.len(),
        sa.epochs_completed()
    );
    assert_eq!(a.len(), 8 * 13);
    assert!(d <= 1e-12, "{d:e}");
}

/// The decay factor, by hand: one decoupled step from θ₀ with the mean loss is
/// `θ₁ = θ₀ − γ·θ₀/(nτ²) − γ·∇(Σnllᵢ)/n` on the coefficients (the intercept is not decayed).
#[test]
fn decoupled_decay_factor_is_precision_over_n_for_the_mean_loss() {
    let (x, y) = data(50, 3, 3);
    let tau = 0.7;
    let pb = MapProblem::new(
        Design::new(&x, &y).unwrap(),
        lik(),
        prior::Gaussian::new(tau).unwrap(),
        true,
    )
    .unwrap();
    let theta0 = DVector::from_vec(vec![0.5, -1.0, 2.0, 0.25]);
    let gamma = 0.1;
    let sgd = Sgd::new(LearningRate::Constant(gamma), PriorMode::Decoupled).full_batch();
    let (path, _, _) = run_recorded(pb.clone(), sgd, theta0.clone(), 1);
    let g = pb.data_gradient(&theta0);
    let n = 50.0;
    let lambda = 1.0 / (n * tau * tau);
    let mut expect = &theta0 - &g * (gamma / n);
    for j in 0..3 {
        expect[j] -= gamma * lambda * theta0[j];
    }
    let d = (&path[0] - &expect).amax();
    println!("one decoupled step vs the hand formula: {d:.2e}");
    assert!(d < 1e-14);
}

#[test]
fn mean_loss_with_rate_gamma_is_sum_loss_with_rate_gamma_over_n() {
    let (x, y) = data(120, 3, 4);
    let pb = MapProblem::new(
        Design::new(&x, &y).unwrap(),
        lik(),
        prior::Gaussian::new(0.4).unwrap(),
        true,
    )
    .unwrap();
    let mk = |scale, lr| {
        Sgd::new(LearningRate::Constant(lr), PriorMode::Coupled)
            .with_batch_size(10)
            .unwrap()
            .with_seed(5)
            .with_loss_scale(scale)
    };
    let (a, _, _) = run_recorded(pb.clone(), mk(LossScale::Mean, 0.05), DVector::zeros(4), 60);
    let (b, _, _) = run_recorded(pb, mk(LossScale::Sum, 0.05 / 120.0), DVector::zeros(4), 60);
    let d = max_path_diff(&a, &b);
    println!("Mean(γ) vs Sum(γ/n): max relative difference {d:.2e}");
    assert!(d <= 1e-12);
}

#[test]
fn momentum_separates_coupled_from_decoupled() {
    let (x, y) = data(100, 3, 5);
    let pb = MapProblem::new(
        Design::new(&x, &y).unwrap(),
        lik(),
        prior::Gaussian::new(0.2).unwrap(),
        true,
    )
    .unwrap();
    let mk = |mode, nesterov| {
        Sgd::new(LearningRate::Constant(0.02), mode)
            .with_momentum(0.9)
            .unwrap()
            .with_nesterov(nesterov)
            .full_batch()
    };
    for nesterov in [false, true] {
        let (a, _, _) = run_recorded(
            pb.clone(),
            mk(PriorMode::Coupled, nesterov),
            DVector::zeros(4),
            50,
        );
        let (b, _, _) = run_recorded(
            pb.clone(),
            mk(PriorMode::Decoupled, nesterov),
            DVector::zeros(4),
            50,
        );
        let d = max_path_diff(&a, &b);
        println!("momentum 0.9 (Nesterov {nesterov}): coupled vs decoupled differ by {d:.2e}");
        assert!(d > 1e-3);
    }
}

/// Full-batch gradient descent on the negative log posterior with a Gaussian prior reaches
/// the closed-form ridge solution with `λ = σ²/τ²`, with and without an intercept.
#[test]
fn full_batch_gradient_descent_reaches_closed_form_ridge() {
    let (x, y) = data(150, 6, 6);
    let tau = 0.35;
    let lambda = SIGMA2 / (tau * tau);
    let step = 1.0 / (lambda_max(&x) / SIGMA2 + 1.0 / (tau * tau));
    for intercept in [false, true] {
        let pb = MapProblem::new(
            Design::new(&x, &y).unwrap(),
            lik(),
            prior::Gaussian::new(tau).unwrap(),
            intercept,
        )
        .unwrap();
        let k = pb.n_params();
        let g0 = pb.data_gradient(&DVector::zeros(k)).norm();
        for mode in [PriorMode::Coupled, PriorMode::Decoupled] {
            let sgd = Sgd::new(LearningRate::Constant(step), mode)
                .full_batch()
                .with_loss_scale(LossScale::Sum)
                .with_gradient_tolerance(1e-12 * g0)
                .unwrap();
            let res = Executor::new(pb.clone(), sgd)
                .configure(|s| s.param(DVector::zeros(k)).max_iters(100_000))
                .ctrlc(false)
                .timer(false)
                .run()
                .unwrap();
            let theta = res.state.get_param().unwrap().clone();
            let (w_ref, b_ref) = if intercept {
                closed_form::ridge_with_intercept(&x, &y, lambda).unwrap()
            } else {
                (closed_form::ridge(&x, &y, lambda).unwrap(), 0.0)
            };
            let w = theta.rows(0, 6).into_owned();
            let err = rel_err(&w, &w_ref);
            let b = if intercept { theta[6] } else { 0.0 };
            println!(
                "intercept {intercept}, {mode:?}: {} iterations, rel. error vs ridge {err:.2e}, \
                 |Δb| {:.2e}",
                res.state.get_iter(),
                (b - b_ref).abs()
            );
            assert!(err <= 1e-9, "{err:e}");
            assert!((b - b_ref).abs() <= 1e-9);
        }
    }
}

/// Mini-batch SGD with a 1/t learning rate (Robbins–Monro) reaches the ridge solution within
/// 1e-3 relative error on a seeded problem.
#[test]
fn sgd_with_inverse_time_schedule_reaches_ridge() {
    let (n, p) = (1000, 5);
    let (x, y) = data(n, p, 7);
    let tau = 0.5;
    let lambda = SIGMA2 / (tau * tau);
    let (w_ref, b_ref) = closed_form::ridge_with_intercept(&x, &y, lambda).unwrap();
    let pb = MapProblem::new(
        Design::new(&x, &y).unwrap(),
        lik(),
        prior::Gaussian::new(tau).unwrap(),
        true,
    )
    .unwrap();
    // Mean loss: the curvature (eigenvalues of XᵀX/(nσ²) + 1/(nτ²), equicorrelation 0.3,
    // σ² = 0.25) is in [μ, L] ≈ [0.7/σ², 2.2/σ²] = [2.8, 8.8];
    // γ₀ = 0.1 < 2/L, and γ₀·t₀ = 1 ≥ 1/μ gives the O(1/t) rate.
    let sgd = Sgd::new(
        LearningRate::InverseTime {
            initial: 0.1,
            t0: 10.0,
        },
        PriorMode::Coupled,
    )
    .with_batch_size(10)
    .unwrap()
    .with_seed(2024)
    .with_max_epochs(50);
    let res = Executor::new(pb, sgd)
        .configure(|s| s.param(DVector::zeros(p + 1)).max_iters(u64::MAX))
        .ctrlc(false)
        .timer(false)
        .run()
        .unwrap();
    let theta = res.state.get_param().unwrap();
    let w = theta.rows(0, p).into_owned();
    let err = rel_err(&w, &w_ref);
    println!(
        "SGD 1/t, batch 10, {} steps: rel. error vs ridge {err:.2e}, |Δb| = {:.2e}",
        res.state.get_iter(),
        (theta[p] - b_ref).abs()
    );
    assert!(err <= 1e-3, "{err:e}");
    assert!((theta[p] - b_ref).abs() <= 1e-3 * b_ref.abs().max(1.0));
}

/// With a Laplace prior the decoupled step is the proximal (soft-threshold) step: full-batch
/// decoupled SGD is ISTA and reaches the lasso of coordinate descent, exact zeros included.
#[test]
fn decoupled_laplace_prior_is_proximal_gradient_to_the_lasso() {
    let (x, y) = data(120, 6, 8);
    let prior = prior::Laplace::new(0.005).unwrap();
    let fit = Map::new(lik(), prior.clone())
        .method(Method::CoordinateDescent)
        .fit(&x, &y)
        .unwrap();
    let pb = MapProblem::new(Design::new(&x, &y).unwrap(), lik(), prior, true).unwrap();
    // Step below 1/L with L the curvature of the data term in θ = (w, b).
    let xa = DMatrix::from_fn(120, 7, |i, j| if j < 6 { x[(i, j)] } else { 1.0 });
    let step = 1.0 / (lambda_max(&xa) / SIGMA2);
    let sgd = Sgd::new(LearningRate::Constant(step), PriorMode::Decoupled)
        .full_batch()
        .with_loss_scale(LossScale::Sum);
    let res = Executor::new(pb, sgd)
        .configure(|s| s.param(DVector::zeros(7)).max_iters(20_000))
        .ctrlc(false)
        .timer(false)
        .run()
        .unwrap();
    let theta = res.state.get_param().unwrap();
    let w = theta.rows(0, 6).into_owned();
    let err = rel_err(&w, fit.coefficients());
    let zeros: Vec<bool> = w.iter().map(|&a| a == 0.0).collect();
    let zeros_ref: Vec<bool> = fit.coefficients().iter().map(|&a| a == 0.0).collect();
    println!("proximal SGD vs coordinate descent: rel. error {err:.2e}, zeros {zeros:?}");
    assert!(err <= 1e-8, "{err:e}");
    assert!((theta[6] - fit.intercept()).abs() <= 1e-8);
    assert_eq!(zeros, zeros_ref);
    assert!(
        zeros.iter().any(|&z| z),
        "the example should have exact zeros"
    );
}

#[test]
fn coupled_mode_rejects_a_non_differentiable_prior() {
    let (x, y) = data(30, 2, 9);
    let pb = MapProblem::new(
        Design::new(&x, &y).unwrap(),
        lik(),
        prior::Laplace::new(1.0).unwrap(),
        true,
    )
    .unwrap();
    let sgd = Sgd::new(LearningRate::Constant(0.1), PriorMode::Coupled);
    let Err(err) = Executor::new(pb, sgd)
        .configure(|s| s.param(DVector::zeros(3)).max_iters(10))
        .ctrlc(false)
        .timer(false)
        .run()
    else {
        panic!("a coupled Laplace prior must be rejected");
    };
    let e = mapfit::Error::from(err);
    assert!(matches!(e, mapfit::Error::Unsupported { .. }), "{e}");
}
