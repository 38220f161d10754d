//! Adam + L2 (coupled) vs AdamW (decoupled) (issue 6).
//!
//! Example (explained in `mapfit::solve::adam`): Gaussian likelihood (σ² = 1), orthonormal
//! design, least-squares solution `w_ls = (3, 0.3)`, Gaussian prior `N(0, 1)`, sum loss scale,
//! so `λ = 1`. The MAP is `w_ls/(1 + λ) = (1.5, 0.15)`. Adam + L2 stops at `∇J = 0`, the MAP.
//! AdamW stops where `λθⱼ = −gⱼ/(|gⱼ| + ε)` with `g` the data gradient: since `|gⱼ|/(|gⱼ|+ε)`
//! is ≈ 1 unless `gⱼ ≈ 0`, the first coordinate (whose optimum 3 lies outside `|θ| ≤ 1/λ = 1`)
//! is clipped to ≈ 1 and the second (inside the box) ends at ≈ 0.3, undecayed.

use crate::common;
use crate::stochastic_support;

use mapfit::solve::{Adam, LearningRate, LossScale, PriorMode};
use mapfit::{likelihood, prior, Design, MapProblem};
use nalgebra::{DMatrix, DVector};
use stochastic_support::{max_path_diff, run_recorded};

/// `X` with orthonormal columns and `y = X·w_ls + r` with `r ⟂ X`, so that the least-squares
/// solution is exactly `w_ls`.
fn orthonormal_problem(w_ls: &[f64]) -> (DMatrix<f64>, DVector<f64>) {
    let n = 40;
    let p = w_ls.len();
    let q = common::orthonormal_columns(n, p + 1, 3);
    let x = q.columns(0, p).into_owned();
    let y = &x * DVector::from_column_slice(w_ls) + q.column(p) * 0.7;
    (x, y)
}

fn cosine(initial: f64, steps: u64) -> LearningRate {
    LearningRate::Cosine {
        initial,
        min: 1e-6,
        period: steps,
    }
}

#[test]
fn adam_l2_and_adamw_produce_different_iterates() {
    let (x, y) = orthonormal_problem(&[3.0, 0.3]);
    let pb = MapProblem::new(
        Design::new(&x, &y).unwrap(),
        likelihood::Gaussian::default(),
        prior::Gaussian::new(1.0).unwrap(),
        false,
    )
    .unwrap();
    let lr = LearningRate::Constant(0.01);
    let mk = |mode| {
        Adam::new(lr, mode)
            .full_batch()
            .with_loss_scale(LossScale::Sum)
    };
    let (a, _, _) = run_recorded(pb.clone(), mk(PriorMode::Coupled), DVector::zeros(2), 200);
    let (b, _, _) = run_recorded(pb, mk(PriorMode::Decoupled), DVector::zeros(2), 200);
    let first = (&a[0] - &b[0]).amax();
    let d = max_path_diff(&a, &b);
    println!("Adam+L2 vs AdamW: first iterate differs by {first:.2e}, path by {d:.2e}");
    // Starting from 0 the coupled decay term is 0 at the first step, so the first iterates agree.
    assert!(first < 1e-15);
    assert!(d > 0.05, "{d:e}");
}

#[test]
fn adam_l2_reaches_the_map_and_adamw_does_not() {
    let (x, y) = orthonormal_problem(&[3.0, 0.3]);
    let pb = MapProblem::new(
        Design::new(&x, &y).unwrap(),
        likelihood::Gaussian::default(),
        prior::Gaussian::new(1.0).unwrap(),
        false,
    )
    .unwrap();
    let map = DVector::from_vec(vec![1.5, 0.15]);
    let steps = 20_000;
    let mk = |mode| {
        Adam::new(cosine(0.02, steps), mode)
            .full_batch()
            .with_loss_scale(LossScale::Sum)
    };
    let (_, sa, _) = run_recorded(pb.clone(), mk(PriorMode::Coupled), DVector::zeros(2), steps);
    let (_, sw, adamw) = run_recorded(
        pb.clone(),
        mk(PriorMode::Decoupled),
        DVector::zeros(2),
        steps,
    );
    let ta = sa.param.unwrap();
    let tw = sw.param.unwrap();
    let err_adam = (&ta - &map).amax();
    let err_adamw = (&tw - &map).amax();
    println!(
        "Adam+L2 → ({:.6}, {:.6}), |θ − MAP| = {err_adam:.2e}; AdamW (ε = {:e}) → ({:.6}, {:.6}), \
         |θ − MAP| = {err_adamw:.3}",
        ta[0],
        ta[1],
        adamw.epsilon(),
        tw[0],
        tw[1]
    );
    assert!(err_adam < 1e-6, "{err_adam:e}");
    assert!(
        err_adamw > 0.3,
        "AdamW should not find the MAP: {err_adamw}"
    );
    // ε → 0: the least-squares solution clipped to the box |θⱼ| ≤ 1/λ = 1.
    assert!((tw[0] - 1.0).abs() < 1e-4 && (tw[1] - 0.3).abs() < 1e-4);
}

/// With a large ε the fixed point `λθⱼ = −gⱼ/(|gⱼ| + ε)` is well conditioned: AdamW reaches
/// its exact solution (found here by bisection), which is not the MAP either.
#[test]
fn adamw_reaches_its_own_fixed_point() {
    let w_ls = [3.0, 0.3];
    let (x, y) = orthonormal_problem(&w_ls);
    let pb = MapProblem::new(
        Design::new(&x, &y).unwrap(),
        likelihood::Gaussian::default(),
        prior::Gaussian::new(1.0).unwrap(),
        false,
    )
    .unwrap();
    let eps = 0.1;
    let steps = 20_000;
    let adamw = Adam::adamw(cosine(0.02, steps))
        .with_epsilon(eps)
        .unwrap()
        .full_batch()
        .with_loss_scale(LossScale::Sum);
    let (_, st, _) = run_recorded(pb.clone(), adamw, DVector::zeros(2), steps);
    let tw = st.param.unwrap();
    // Orthonormal X: the data gradient is gⱼ = θⱼ − w_lsⱼ, so θⱼ = rⱼ/(rⱼ + ε) with
    // rⱼ = w_lsⱼ − θⱼ > 0: bisection on θ ∈ [0, w_lsⱼ].
    let fixed = |w: f64| {
        let (mut lo, mut hi) = (0.0, w);
        for _ in 0..200 {
            let t = 0.5 * (lo + hi);
            let r = w - t;
            if t - r / (r + eps) > 0.0 {
                hi = t;
            } else {
                lo = t;
            }
        }
        0.5 * (lo + hi)
    };
    let expect = DVector::from_vec(vec![fixed(w_ls[0]), fixed(w_ls[1])]);
    let g = pb.data_gradient(&tw);
    let residual = (0..2)
        .map(|j| (tw[j] + g[j] / (g[j].abs() + eps)).abs())
        .fold(0.0, f64::max);
    let map = DVector::from_vec(vec![1.5, 0.15]);
    println!(
        "AdamW (ε = 0.1) → ({:.6}, {:.6}); fixed point ({:.6}, {:.6}); residual {residual:.2e}; \
         MAP (1.5, 0.15)",
        tw[0], tw[1], expect[0], expect[1]
    );
    assert!((&tw - &expect).amax() < 1e-6);
    assert!(residual < 1e-6);
    assert!((&tw - &map).amax() > 0.3);
}
