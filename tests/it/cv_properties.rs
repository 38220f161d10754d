//! Properties of cross-validation: reproducibility (seed, thread count), fold handling, the
//! statistics' definitions, λ_1se ≥ λ_min, errors.
use crate::common;

use mapfit::{likelihood, CrossValidation, Error, Metric, Path};
use nalgebra::{DMatrix, DVector};

fn path(mix: f64) -> Path {
    Path::new(likelihood::Gaussian::default(), mix).n_lambda(40)
}

/// (f) The same seed gives bit-identical results, whatever the number of threads.
#[test]
fn cv_is_reproducible_for_a_seed_and_any_thread_count() {
    let (_, x, y) = common::diabetes();
    let cv = |threads| {
        CrossValidation::new(path(1.0))
            .folds(7)
            .seed(2024)
            .threads(threads)
            .fit(&x, &y)
            .unwrap()
    };
    let a = cv(None);
    for threads in [None, Some(1), Some(2), Some(3)] {
        let b = cv(threads);
        assert_eq!(a.fold_ids(), b.fold_ids());
        assert_eq!(a.lambdas(), b.lambdas());
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(a.cvm()), bits(b.cvm()), "threads {threads:?}");
        assert_eq!(bits(a.cvsd()), bits(b.cvsd()), "threads {threads:?}");
        assert_eq!(a.index_min(), b.index_min());
        assert_eq!(a.index_1se(), b.index_1se());
    }
}

/// Seeded folds are balanced (sizes ⌊n/K⌋ or ⌈n/K⌉) and depend on the seed.
#[test]
fn seeded_folds_are_balanced_and_seed_dependent() {
    let cv = CrossValidation::new(path(1.0)).folds(10);
    let (a, k) = cv.clone().seed(1).assignment(442).unwrap();
    let (b, _) = cv.clone().seed(2).assignment(442).unwrap();
    let (a2, _) = cv.seed(1).assignment(442).unwrap();
    assert_eq!(k, 10);
    assert_eq!(a, a2);
    assert_ne!(a, b);
    let mut count = [0usize; 10];
    for &f in &a {
        count[f] += 1;
    }
    assert!(count.iter().all(|&c| c == 44 || c == 45), "{count:?}");
}

/// (f) λ_1se ≥ λ_min, and both are the largest λ meeting their condition.
#[test]
fn lambda_1se_is_at_least_lambda_min() {
    let (_, x, y) = common::diabetes();
    for seed in 0..4 {
        for mix in [1.0, 0.5, 0.0] {
            let cv = CrossValidation::new(path(mix))
                .seed(seed)
                .fit(&x, &y)
                .unwrap();
            assert!(cv.lambda_1se() >= cv.lambda_min());
            let (cvm, cvsd) = (cv.cvm(), cv.cvsd());
            let min = cvm.iter().copied().fold(f64::INFINITY, f64::min);
            let im = cv.index_min();
            assert_eq!(cvm[im], min);
            assert!(cvm[..im].iter().all(|&c| c > min));
            let bound = cvm[im] + cvsd[im];
            let i1 = cv.index_1se();
            assert!(cvm[i1] <= bound);
            assert!(cvm[..i1].iter().all(|&c| c > bound));
        }
    }
}

/// cvm and cvsd follow their definitions from the per-fold errors, and a fold's error is the
/// held-out weighted mean squared error of a path fitted without it.
#[test]
fn statistics_follow_their_definitions() {
    let (_, x, y) = common::diabetes();
    let w = common::positive_weights(x.nrows(), 5);
    let cv = CrossValidation::new(path(0.7).weights(w.clone()))
        .folds(5)
        .seed(9)
        .fit(&x, &y)
        .unwrap();
    let (k, l) = cv.fold_errors().shape();
    assert_eq!(k, 5);
    let fw = cv.fold_weights();
    let wt: f64 = fw.iter().sum();
    assert!((wt - w.sum()).abs() < 1e-9);
    for j in 0..l {
        let m: f64 = (0..k)
            .map(|f| fw[f] * cv.fold_errors()[(f, j)])
            .sum::<f64>()
            / wt;
        let v: f64 = (0..k)
            .map(|f| fw[f] * (cv.fold_errors()[(f, j)] - m).powi(2))
            .sum::<f64>()
            / wt;
        assert!((m - cv.cvm()[j]).abs() <= 1e-12 * m);
        assert!((((v / (k as f64 - 1.0)).sqrt()) - cv.cvsd()[j]).abs() <= 1e-12 * m);
    }
    // Fold 2 by hand.
    let ids = cv.fold_ids();
    let train: Vec<usize> = (0..x.nrows()).filter(|&i| ids[i] != 2).collect();
    let test: Vec<usize> = (0..x.nrows()).filter(|&i| ids[i] == 2).collect();
    let sub = |rows: &[usize]| {
        (
            DMatrix::from_fn(rows.len(), x.ncols(), |i, j| x[(rows[i], j)]),
            DVector::from_fn(rows.len(), |i, _| y[rows[i]]),
            DVector::from_fn(rows.len(), |i, _| w[rows[i]]),
        )
    };
    let (xt, yt, wt_) = sub(&train);
    let (xv, yv, wv) = sub(&test);
    let fit = path(0.7)
        .weights(wt_)
        .lambdas(cv.lambdas().to_vec())
        .fit(&xt, &yt)
        .unwrap();
    for j in [0, 10, 39] {
        let pred = fit.predict(&xv, j).unwrap();
        let e: f64 = (0..test.len())
            .map(|i| wv[i] * (yv[i] - pred[i]).powi(2))
            .sum::<f64>()
            / wv.sum();
        assert!((e - cv.fold_errors()[(2, j)]).abs() <= 1e-12 * e, "λ #{j}");
    }
    // The chosen fits are the full-data path's points.
    let (wmin, bmin) = cv.coefficients_min();
    assert_eq!(wmin, cv.path().coefficients(cv.index_min()));
    assert_eq!(bmin, cv.path().intercept(cv.index_min()));
    let (w1, _) = cv.coefficients_1se();
    assert_eq!(w1, cv.path().coefficients(cv.index_1se()));
}

/// User fold ids: 0-based and 1-based give the same result; the folds' grid is the full
/// data's.
#[test]
fn zero_and_one_based_fold_ids_agree() {
    let (_, x, y) = common::diabetes();
    let ids0: Vec<usize> = (0..x.nrows()).map(|i| (i * 7) % 4).collect();
    let ids1: Vec<usize> = ids0.iter().map(|i| i + 1).collect();
    let a = CrossValidation::new(path(1.0))
        .fold_ids(ids0.clone())
        .fit(&x, &y)
        .unwrap();
    let b = CrossValidation::new(path(1.0))
        .fold_ids(ids1)
        .fit(&x, &y)
        .unwrap();
    assert_eq!(a.n_folds(), 4);
    assert_eq!(a.fold_ids(), &ids0[..]);
    assert_eq!(a.fold_ids(), b.fold_ids());
    assert_eq!(a.cvm(), b.cvm());
    assert_eq!(a.lambdas(), a.path().lambdas());
}

/// The mean absolute error metric.
#[test]
fn mean_absolute_error_metric() {
    let (_, x, y) = common::diabetes();
    let mse = CrossValidation::new(path(1.0))
        .folds(5)
        .fit(&x, &y)
        .unwrap();
    let mae = CrossValidation::new(path(1.0))
        .folds(5)
        .metric(Metric::MeanAbsoluteError)
        .fit(&x, &y)
        .unwrap();
    assert_eq!(mae.metric(), Metric::MeanAbsoluteError);
    for j in 0..mse.cvm().len() {
        // Jensen: mean |e| ≤ sqrt(mean e²) per fold, hence on average.
        assert!(mae.cvm()[j] <= mse.cvm()[j].sqrt() + 1e-9);
    }
}

/// Invalid folds are typed errors.
#[test]
fn invalid_folds_are_rejected() {
    let (_, x, y) = common::diabetes();
    let n = x.nrows();
    let err = |cv: CrossValidation| cv.fit(&x, &y).unwrap_err();
    assert!(matches!(
        err(CrossValidation::new(path(1.0)).folds(1)),
        Error::InvalidParameter { .. }
    ));
    assert!(matches!(
        err(CrossValidation::new(path(1.0)).folds(n + 1)),
        Error::InvalidParameter { .. }
    ));
    assert!(matches!(
        err(CrossValidation::new(path(1.0)).fold_ids(vec![0; n - 1])),
        Error::DimensionMismatch { .. }
    ));
    assert!(matches!(
        err(CrossValidation::new(path(1.0)).fold_ids(vec![1; n])),
        Error::InvalidParameter { .. }
    ));
    // Folds 1 and 3 but no 2.
    let gap: Vec<usize> = (0..n).map(|i| if i % 2 == 0 { 1 } else { 3 }).collect();
    assert!(matches!(
        err(CrossValidation::new(path(1.0)).fold_ids(gap)),
        Error::InvalidParameter { .. }
    ));
}

/// A Gaussian fold is fitted as zero weights on the full data (no copy of its rows), in
/// covariance mode (the Gram columns sum over the rows of positive weight only) and in naive
/// mode (the engine reads `X` in place with the weights applied per element), and predicted
/// from the full `X` by gathered column blocks. Each fold error must equal the one of a path
/// fitted on a copy of the fold's training rows and evaluated on a copy of its held-out rows,
/// with an intercept, standardization, observation weights (some of them zero) and an
/// offset, for the lasso and the elastic net.
#[test]
fn folds_as_zero_weights_match_folds_fitted_on_row_copies() {
    let (_, x, y) = common::diabetes();
    let (n, p) = (y.len(), x.ncols());
    let w = DVector::from_fn(n, |i, _| {
        if i % 17 == 3 {
            0.0
        } else {
            0.5 + (i % 4) as f64
        }
    });
    let o = DVector::from_fn(n, |i, _| ((i % 7) as f64 - 3.0) * 2.5);
    for mix in [1.0, 0.5] {
        for covariance in [true, false] {
            let settings = |p: Path| p.covariance_updates(covariance);
            let cv = CrossValidation::new(settings(path(mix)).weights(w.clone()).offset(o.clone()))
                .folds(5)
                .seed(9)
                .fit(&x, &y)
                .unwrap();
            assert_eq!(cv.path().uses_covariance(), covariance);
            let ids = cv.fold_ids();
            let first = *ids.iter().min().unwrap();
            let mut worst = 0.0f64;
            for f in 0..cv.n_folds() {
                let (train, test): (Vec<usize>, Vec<usize>) =
                    (0..n).partition(|&i| ids[i] - first != f);
                let rows = |r: &[usize]| DMatrix::from_fn(r.len(), p, |i, j| x[(r[i], j)]);
                let sub = |v: &DVector<f64>, r: &[usize]| DVector::from_fn(r.len(), |i, _| v[r[i]]);
                let fit = settings(path(mix))
                    .weights(sub(&w, &train))
                    .offset(sub(&o, &train))
                    .lambdas(cv.lambdas().to_vec())
                    .early_stop(false)
                    .fit(&rows(&train), &sub(&y, &train))
                    .unwrap();
                let (xv, yv, wv, ov) =
                    (rows(&test), sub(&y, &test), sub(&w, &test), sub(&o, &test));
                let wsum: f64 = wv.iter().sum();
                for k in 0..fit.len() {
                    let eta = fit.predict(&xv, k).unwrap() + &ov;
                    let mse: f64 = (0..test.len())
                        .map(|t| wv[t] * (yv[t] - eta[t]).powi(2))
                        .sum::<f64>()
                        / wsum;
                    let got = cv.fold_errors()[(f, k)];
                    worst = worst.max((got - mse).abs() / mse);
                }
            }
            assert!(
                worst <= 1e-9,
                "mix {mix}, covariance {covariance}: fold errors differ by {worst:e} (relative)"
            );
        }
    }
}

/// A given grid (the full-data path then fitted after the folds) gives the same CV, bit for
/// bit, as the generated grid it equals (the full-data path fitted first), for the Gaussian
/// and a GLM family, in any order the grid is given; an explicit early stop keeps the
/// generated-grid order and still agrees.
#[test]
fn a_given_grid_gives_the_cv_of_the_generated_grid() {
    let (_, x, y) = common::diabetes();
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    let generated = CrossValidation::new(path(0.7))
        .folds(5)
        .seed(9)
        .fit(&x, &y)
        .unwrap();
    let mut grid = generated.lambdas().to_vec();
    grid.reverse();
    for early in [None, Some(true)] {
        let mut p = path(0.7).lambdas(grid.clone());
        if let Some(e) = early {
            p = p.early_stop(e);
        }
        let given = CrossValidation::new(p)
            .folds(5)
            .seed(9)
            .fit(&x, &y)
            .unwrap();
        assert_eq!(bits(given.lambdas()), bits(generated.lambdas()));
        assert_eq!(bits(given.cvm()), bits(generated.cvm()), "early {early:?}");
        assert_eq!(bits(given.cvsd()), bits(generated.cvsd()));
        assert_eq!(
            given.path().coefficient_matrix(),
            generated.path().coefficient_matrix()
        );
    }
    // A GLM family.
    let yb = DVector::from_fn(y.len(), |i, _| f64::from(y[i] > 140.0));
    let logit = || Path::new(likelihood::Bernoulli, 1.0).n_lambda(20);
    let generated = CrossValidation::new(logit())
        .folds(4)
        .seed(3)
        .fit(&x, &yb)
        .unwrap();
    let given = CrossValidation::new(logit().lambdas(generated.lambdas().to_vec()))
        .folds(4)
        .seed(3)
        .fit(&x, &yb)
        .unwrap();
    assert_eq!(bits(given.cvm()), bits(generated.cvm()));
    assert_eq!(
        given.path().coefficient_matrix(),
        generated.path().coefficient_matrix()
    );
}
