//! Streaming MAP fits (issue 6): a logistic MAP read in chunks converges to the batch MAP.
//! (The 100k-row version with peak-memory measurement is `benches/streaming.rs`.)

use crate::common;
use crate::stochastic_support;

use mapfit::solve::{Adam, LearningRate, PriorMode, Sgd};
use mapfit::stream::StreamFit;
use mapfit::{likelihood, prior, Map};
use nalgebra::{DMatrix, DVector};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use stochastic_support::rel_err;

const P: usize = 5;

/// Chunk `c` of a seeded logistic data set: `m` rows, `P` correlated columns,
/// `P(y = 1) = σ(0.5 + xᵀw)`. The same `c` always gives the same rows.
fn logistic_chunk(c: usize, m: usize) -> (DMatrix<f64>, DVector<f64>) {
    let mut rng = StdRng::seed_from_u64(1000 + c as u64);
    let w = [1.0, -0.5, 0.25, 0.0, 0.75];
    let mut x = DMatrix::zeros(m, P);
    let mut y = DVector::zeros(m);
    for i in 0..m {
        let z: f64 = StandardNormal.sample(&mut rng);
        let mut eta = 0.5;
        for j in 0..P {
            let e: f64 = StandardNormal.sample(&mut rng);
            x[(i, j)] = 0.5 * z + 0.8 * e;
            eta += w[j] * x[(i, j)];
        }
        y[i] = if rng.random::<f64>() < 1.0 / (1.0 + (-eta).exp()) {
            1.0
        } else {
            0.0
        };
    }
    (x, y)
}

fn all_rows(chunks: usize, m: usize) -> (DMatrix<f64>, DVector<f64>) {
    let mut x = DMatrix::zeros(chunks * m, P);
    let mut y = DVector::zeros(chunks * m);
    for c in 0..chunks {
        let (xc, yc) = logistic_chunk(c, m);
        x.view_mut((c * m, 0), (m, P)).copy_from(&xc);
        y.rows_mut(c * m, m).copy_from(&yc);
    }
    (x, y)
}

fn batch_map(chunks: usize, m: usize, tau: f64) -> DVector<f64> {
    let (x, y) = all_rows(chunks, m);
    let fit = Map::new(likelihood::Bernoulli, prior::Gaussian::new(tau).unwrap())
        .fit(&x, &y)
        .unwrap();
    let mut theta = DVector::zeros(P + 1);
    theta.rows_mut(0, P).copy_from(fit.coefficients());
    theta[P] = fit.intercept();
    theta
}

/// Streaming logistic MAP (SGD, 1/t step, Polyak–Ruppert averaging from the 6th pass) within
/// 1e-3 relative of the batch MAP, reading 20 000 rows in chunks of 1000, 30 passes.
#[test]
fn streaming_logistic_map_matches_batch_map() {
    let (chunks, m, tau) = (20, 1000, 0.5);
    let map = batch_map(chunks, m, tau);
    let source = || (0..chunks).map(|c| logistic_chunk(c, m));
    let sgd = Sgd::new(
        LearningRate::InverseTime {
            initial: 0.5,
            t0: 200.0,
        },
        PriorMode::Coupled,
    )
    .with_batch_size(50)
    .unwrap()
    .with_seed(9)
    .with_averaging_from_epoch(5);
    let fit = StreamFit::new(likelihood::Bernoulli, prior::Gaussian::new(tau).unwrap())
        .passes(30)
        .fit(source, sgd)
        .unwrap();
    let err = rel_err(fit.theta(), &map);
    let err_last = rel_err(fit.last_iterate(), &map);
    println!(
        "stream (SGD 1/t, averaged): {} rows × {} passes, {} steps: rel. error {err:.2e} \
         (last iterate {err_last:.2e}); mean nll, first pass {:.5}, last pass {:.5}",
        fit.n_rows(),
        fit.pass_mean_nll().len(),
        fit.steps(),
        fit.pass_mean_nll()[0],
        fit.pass_mean_nll()[29]
    );
    assert_eq!(fit.n_rows(), chunks * m);
    assert!(err <= 1e-3, "{err:e}");
}

/// Adam with the coupled prior (whose fixed point is the MAP; AdamW's is not, see
/// `tests/it/stochastic_adam.rs`), a 1/t step and averaging, on a Gaussian stream: the
/// closed-form ridge solution.
#[test]
fn streaming_adam_ridge_matches_closed_form() {
    let (chunks, m) = (10, 500);
    let chunk = |c: usize| {
        let x = common::correlated_design(m, 3, 0.3, 500 + c as u64);
        let y = common::linear_response(
            &x,
            &DVector::from_vec(vec![1.0, -1.0, 0.5]),
            2.0,
            0.3,
            600 + c as u64,
        );
        (x, y)
    };
    let mut x = DMatrix::zeros(chunks * m, 3);
    let mut y = DVector::zeros(chunks * m);
    for c in 0..chunks {
        let (xc, yc) = chunk(c);
        x.view_mut((c * m, 0), (m, 3)).copy_from(&xc);
        y.rows_mut(c * m, m).copy_from(&yc);
    }
    let (sigma2, tau) = (0.09, 0.1);
    let (w_ref, b_ref) =
        mapfit::closed_form::ridge_with_intercept(&x, &y, sigma2 / (tau * tau)).unwrap();
    let adam = Adam::new(
        LearningRate::InverseTime {
            initial: 0.02,
            t0: 500.0,
        },
        PriorMode::Coupled,
    )
    .with_batch_size(25)
    .unwrap()
    .with_seed(4)
    .with_averaging_from_epoch(4);
    let fit = StreamFit::new(
        likelihood::Gaussian::new(sigma2).unwrap(),
        prior::Gaussian::new(tau).unwrap(),
    )
    .n_rows(chunks * m)
    .passes(12)
    .fit(|| (0..chunks).map(chunk), adam)
    .unwrap();
    let err = rel_err(&fit.coefficients(), &w_ref);
    println!(
        "stream (Adam, averaged): rel. error vs ridge {err:.2e}, |Δb| = {:.2e}",
        (fit.intercept() - b_ref).abs()
    );
    assert!(err <= 1e-3, "{err:e}");
    assert!((fit.intercept() - b_ref).abs() <= 1e-3 * b_ref.abs());
}

#[test]
fn a_stream_that_does_not_restart_is_an_error() {
    let chunks: Vec<_> = (0..3).map(|c| logistic_chunk(c, 10)).collect();
    let mut once = Some(chunks);
    let source = move || once.take().unwrap_or_default();
    let sgd = Sgd::new(LearningRate::Constant(0.1), PriorMode::Coupled);
    let err = StreamFit::new(likelihood::Bernoulli, prior::Gaussian::new(1.0).unwrap())
        .n_rows(30)
        .passes(2)
        .fit(source, sgd)
        .unwrap_err();
    println!("{err}");
    assert!(matches!(
        err,
        mapfit::Error::DimensionMismatch {
            expected: 30,
            found: 0,
            ..
        }
    ));
}

#[test]
fn chunks_with_different_columns_are_an_error() {
    let source = || {
        vec![
            (
                DMatrix::from_element(2, 2, 1.0),
                DVector::from_vec(vec![0.0, 1.0]),
            ),
            (
                DMatrix::from_element(2, 3, 1.0),
                DVector::from_vec(vec![0.0, 1.0]),
            ),
        ]
    };
    let sgd = Sgd::new(LearningRate::Constant(0.1), PriorMode::Coupled);
    let err = StreamFit::new(likelihood::Bernoulli, prior::Gaussian::new(1.0).unwrap())
        .fit(source, sgd)
        .unwrap_err();
    assert!(
        matches!(err, mapfit::Error::DimensionMismatch { .. }),
        "{err}"
    );
}
