//! Issue 8, point 1: validation at the boundary of every fit, path, cross-validation,
//! prediction and load — the cases tests/it/errors.rs does not already cover, matched by variant
//! and payload — and the committed malformed / fuzz corpus replayed through both parsers.

use mapfit::io::Table;
use mapfit::likelihood::{Bernoulli, Gaussian as GaussLik, Poisson};
use mapfit::prior::{Bridge, Convention, ElasticNet, Flat, Gaussian, Laplace, StudentT};
use mapfit::saved::SavedModel;
use mapfit::{closed_form, CrossValidation, Error, Map, Method, Path};
use nalgebra::{DMatrix, DVector};
use std::path::PathBuf;

#[path = "../../fuzz/fuzz_targets/checks.rs"]
mod checks;

fn data(n: usize, p: usize) -> (DMatrix<f64>, DVector<f64>) {
    // A deterministic, well-conditioned design without any random-number dependency.
    let x = DMatrix::from_fn(n, p, |i, j| {
        (((i + 1) * (j + 3) * 7919) % 101) as f64 / 50.0 - 1.0 + 0.01 * j as f64
    });
    let y = DVector::from_fn(n, |i, _| {
        x[(i, 0)] - 0.5 * x[(i, p - 1)] + (i % 7) as f64 / 10.0
    });
    (x, y)
}

fn mean_conv(n: usize) -> Convention {
    Convention::Mean {
        n: n as f64,
        sigma2: 1.0,
    }
}

/// Asserts `Error::NonFinite` with the given place, and that the message names it.
#[track_caller]
fn assert_non_finite<T: std::fmt::Debug>(r: mapfit::Result<T>, what: &str, row: usize, col: usize) {
    match r {
        Err(e @ Error::NonFinite { .. }) => {
            let Error::NonFinite {
                what: w,
                row: r,
                col: c,
                value,
            } = e.clone()
            else {
                unreachable!()
            };
            assert_eq!((w, r, c), (what, row, col), "{e}");
            assert!(!value.is_finite());
            let msg = e.to_string();
            assert!(
                msg.contains(what) && msg.contains(&format!("row {row}, column {col}")),
                "{msg}"
            );
        }
        other => panic!("expected NonFinite in {what}[{row}, {col}], got {other:?}"),
    }
}

#[test]
fn non_finite_values_are_located_in_every_entry_point() {
    let (x, y) = data(20, 3);
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        // x: Map (every solver family), Path, CrossValidation, closed forms, prediction.
        let mut xb = x.clone();
        xb[(13, 2)] = bad;
        for method in [Method::Auto, Method::CoordinateDescent, Method::Lbfgs] {
            assert_non_finite(
                Map::new(GaussLik::default(), Gaussian::new(1.0).unwrap())
                    .method(method)
                    .fit(&xb, &y),
                "x",
                13,
                2,
            );
        }
        assert_non_finite(
            Map::new(Bernoulli, Laplace::new(1.0).unwrap())
                .fit(&xb, &y.map(|v| f64::from(v > 0.0))),
            "x",
            13,
            2,
        );
        assert_non_finite(Path::new(GaussLik::default(), 1.0).fit(&xb, &y), "x", 13, 2);
        assert_non_finite(
            CrossValidation::new(Path::new(GaussLik::default(), 1.0))
                .folds(4)
                .fit(&xb, &y),
            "x",
            13,
            2,
        );
        assert_non_finite(closed_form::ridge(&xb, &y, 1.0), "x", 13, 2);
        assert_non_finite(closed_form::ridge_dual(&xb, &y, 1.0), "x", 13, 2);
        assert_non_finite(closed_form::ridge_with_intercept(&xb, &y, 1.0), "x", 13, 2);
        assert_non_finite(
            closed_form::effective_degrees_of_freedom(&xb, 1.0),
            "x",
            13,
            2,
        );
        let fit = Map::new(GaussLik::default(), Gaussian::new(1.0).unwrap())
            .fit(&x, &y)
            .unwrap();
        assert_non_finite(fit.predict(&xb), "x", 13, 2);
        let path = Path::new(GaussLik::default(), 1.0)
            .n_lambda(3)
            .fit(&x, &y)
            .unwrap();
        assert_non_finite(path.predict(&xb, 1), "x", 13, 2);
        let names: Vec<String> = (0..3).map(|j| format!("x{j}")).collect();
        let saved = SavedModel::from_fit(&fit, &names).unwrap();
        assert_non_finite(saved.predict(&xb), "x", 13, 2);

        // y, weights and offsets.
        let mut yb = y.clone();
        yb[6] = bad;
        assert_non_finite(
            Map::new(GaussLik::default(), Laplace::new(1.0).unwrap()).fit(&x, &yb),
            "y",
            6,
            0,
        );
        assert_non_finite(Map::new(Poisson, Flat).fit(&x, &yb), "y", 6, 0);
        assert_non_finite(Path::new(GaussLik::default(), 0.5).fit(&x, &yb), "y", 6, 0);
        assert_non_finite(
            CrossValidation::new(Path::new(GaussLik::default(), 1.0))
                .folds(4)
                .fit(&x, &yb),
            "y",
            6,
            0,
        );
        let mut v = DVector::from_element(20, 1.0);
        v[11] = bad;
        assert_non_finite(
            Path::new(GaussLik::default(), 1.0)
                .weights(v.clone())
                .fit(&x, &y),
            "weights",
            11,
            0,
        );
        assert_non_finite(
            CrossValidation::new(Path::new(GaussLik::default(), 1.0).weights(v.clone()))
                .folds(4)
                .fit(&x, &y),
            "weights",
            11,
            0,
        );
        let mut o = DVector::zeros(20);
        o[19] = bad;
        for offset_fit in [
            Map::new(GaussLik::default(), Gaussian::new(1.0).unwrap())
                .offset(o.clone())
                .fit(&x, &y)
                .map(|_| ()),
            Map::new(Poisson, Laplace::new(1.0).unwrap())
                .offset(o.clone())
                .fit(&x, &y.map(|v| (v.abs() * 3.0).floor()))
                .map(|_| ()),
        ] {
            assert_non_finite(offset_fit, "offset", 19, 0);
        }
    }
}

#[test]
fn negative_and_all_zero_weights_in_paths_and_cross_validation() {
    let (x, y) = data(20, 3);
    let mut v = DVector::from_element(20, 1.0);
    v[5] = -1e-300;
    let e = Path::new(GaussLik::default(), 1.0)
        .weights(v.clone())
        .fit(&x, &y)
        .unwrap_err();
    assert!(
        matches!(&e, Error::InvalidWeights { reason } if reason.contains("weights[5]")),
        "{e:?}"
    );
    let e = CrossValidation::new(Path::new(GaussLik::default(), 1.0).weights(v))
        .folds(4)
        .fit(&x, &y)
        .unwrap_err();
    assert!(matches!(e, Error::InvalidWeights { .. }), "{e:?}");
    for fit in [
        Path::new(GaussLik::default(), 1.0)
            .weights(DVector::zeros(20))
            .fit(&x, &y)
            .map(|_| ()),
        Map::new(Bernoulli, Laplace::new(1.0).unwrap())
            .weights(DVector::zeros(20))
            .fit(&x, &y.map(|v| f64::from(v > 0.0)))
            .map(|_| ()),
    ] {
        let e = fit.unwrap_err();
        assert!(
            matches!(&e, Error::InvalidWeights { reason } if reason.contains("all")),
            "{e:?}"
        );
    }
    // A fold whose rows all have weight zero cannot be scored: a typed error naming it.
    let ids: Vec<usize> = (0..20).map(|i| i % 4).collect();
    let w = DVector::from_fn(20, |i, _| if ids[i] == 2 { 0.0 } else { 1.0 });
    let e = CrossValidation::new(Path::new(GaussLik::default(), 1.0).weights(w).n_lambda(5))
        .fold_ids(ids)
        .fit(&x, &y)
        .unwrap_err();
    assert!(
        matches!(&e, Error::InvalidWeights { reason } if reason.contains("fold 2")),
        "{e:?}"
    );
}

#[test]
fn responses_outside_the_support_name_the_row() {
    let (x, y) = data(20, 3);
    let labels = y.map(|v| f64::from(v > 0.0));
    let counts = y.map(|v| (v.abs() * 3.0).floor());
    let bernoulli_bad: [(usize, f64); 4] = [(3, 0.5), (17, 2.0), (0, -1.0), (9, 1.0 + 1e-15)];
    for (row, value) in bernoulli_bad {
        let mut yb = labels.clone();
        yb[row] = value;
        for method in [
            Method::Auto,
            Method::ProximalNewton,
            Method::NewtonTrustRegion,
            Method::Lbfgs,
        ] {
            let r = if method == Method::ProximalNewton {
                Map::new(Bernoulli, Laplace::new(1.0).unwrap())
                    .method(method)
                    .fit(&x, &yb)
                    .map(|_| ())
            } else {
                Map::new(Bernoulli, Gaussian::new(1.0).unwrap())
                    .method(method)
                    .fit(&x, &yb)
                    .map(|_| ())
            };
            match r {
                Err(
                    ref e @ Error::InvalidResponse {
                        likelihood,
                        row: r,
                        value: v,
                        ..
                    },
                ) => {
                    assert_eq!((likelihood, r), ("Bernoulli", row));
                    assert_eq!(v.to_bits(), value.to_bits());
                    assert!(e.to_string().contains(&format!("y[{row}]")), "{e}");
                }
                other => panic!("Bernoulli y[{row}] = {value}: {other:?}"),
            }
        }
    }
    for (row, value) in [(4usize, -1.0), (12, 2.5), (19, -0.0 - 1e-300), (0, 1e-300)] {
        let mut yb = counts.clone();
        yb[row] = value;
        let e = Map::new(Poisson, Gaussian::new(1.0).unwrap())
            .fit(&x, &yb)
            .unwrap_err();
        assert!(
            matches!(e, Error::InvalidResponse { likelihood: "Poisson", row: r, .. } if r == row),
            "Poisson y[{row}] = {value}: {e:?}"
        );
    }
    // Zero counts, huge integral counts and −0.0 are in the support.
    let mut ok = counts.clone();
    ok[0] = -0.0;
    ok[1] = 1e6;
    assert!(Map::new(Poisson, Gaussian::new(1.0).unwrap())
        .fit(&x, &ok)
        .is_ok());
}

#[test]
fn penalty_weights_scales_and_mixes_are_range_checked() {
    let conv = mean_conv(10);
    let invalid = |r: mapfit::Result<()>, label: &str| match r {
        Err(Error::InvalidParameter { .. }) => {}
        other => panic!("{label}: expected InvalidParameter, got {other:?}"),
    };
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0, -0.0, 0.0] {
        // λ: finite and > 0 in every constructor that takes one (λ = 0 is the flat prior).
        invalid(Gaussian::from_lambda(bad, conv).map(|_| ()), "Gaussian λ");
        invalid(Laplace::from_lambda(bad, conv).map(|_| ()), "Laplace λ");
        invalid(ElasticNet::from_lambda(bad, 0.5, conv).map(|_| ()), "EN λ");
        invalid(Bridge::from_lambda(1.5, bad, conv).map(|_| ()), "bridge λ");
        invalid(
            StudentT::from_lambda(3.0, bad, conv).map(|_| ()),
            "Student λ",
        );
        // Scales: finite and > 0.
        invalid(Gaussian::new(bad).map(|_| ()), "Gaussian scale");
        invalid(Laplace::new(bad).map(|_| ()), "Laplace scale");
        invalid(ElasticNet::new(bad, 1.0).map(|_| ()), "EN Laplace scale");
        invalid(ElasticNet::new(1.0, bad).map(|_| ()), "EN Gaussian scale");
        invalid(Gaussian::with_precision(bad).map(|_| ()), "precision");
        invalid(Laplace::with_rate(bad).map(|_| ()), "rate");
        invalid(Bridge::new(1.5, bad).map(|_| ()), "bridge scale");
        invalid(StudentT::new(3.0, bad).map(|_| ()), "Student scale");
        invalid(GaussLik::new(bad).map(|_| ()), "σ²");
        invalid(
            Map::new(GaussLik::default(), Flat)
                .tolerance(bad)
                .map(|_| ()),
            "tolerance",
        );
        // User λ grids: every value finite and > 0.
        let (x, y) = data(20, 3);
        invalid(
            Path::new(GaussLik::default(), 1.0)
                .lambdas(vec![1.0, bad, 0.1])
                .fit(&x, &y)
                .map(|_| ()),
            "path λ",
        );
        invalid(
            Path::new(GaussLik::default(), 1.0)
                .tolerance(bad)
                .fit(&x, &y)
                .map(|_| ()),
            "path tolerance",
        );
    }
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0, -1e-300] {
        let (x, y) = data(20, 3);
        invalid(closed_form::ridge(&x, &y, bad).map(|_| ()), "ridge λ");
        invalid(closed_form::ridge_dual(&x, &y, bad).map(|_| ()), "dual λ");
        invalid(
            closed_form::ridge_with_intercept(&x, &y, bad).map(|_| ()),
            "ridge+b λ",
        );
        invalid(
            closed_form::effective_degrees_of_freedom(&x, bad).map(|_| ()),
            "df λ",
        );
        invalid(
            closed_form::eigen_shrinkage(&DMatrix::identity(2, 2), &DVector::zeros(2), bad)
                .map(|_| ()),
            "eigen α",
        );
        invalid(
            closed_form::diagonal_hessian_l1(
                &DVector::zeros(2),
                &DVector::from_element(2, 1.0),
                bad,
            )
            .map(|_| ()),
            "diagonal α",
        );
        invalid(ElasticNet::with_weights(bad, 1.0).map(|_| ()), "l1 weight");
        invalid(ElasticNet::with_weights(1.0, bad).map(|_| ()), "l2 weight");
    }
    // The elastic-net mix lives in [0, 1], both ends included.
    let (x, y) = data(20, 3);
    for bad in [
        f64::NAN,
        -1e-12,
        1.0 + 1e-12,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ] {
        invalid(
            ElasticNet::from_lambda(1.0, bad, conv).map(|_| ()),
            "EN mix",
        );
        invalid(
            Path::new(GaussLik::default(), bad).fit(&x, &y).map(|_| ()),
            "path mix",
        );
        invalid(
            CrossValidation::new(Path::new(GaussLik::default(), bad))
                .folds(3)
                .fit(&x, &y)
                .map(|_| ()),
            "cv mix",
        );
        invalid(
            mapfit::path::from_glmnet_gaussian(1.0, bad, 1.0).map(|_| ()),
            "glmnet alpha",
        );
    }
    for ok in [0.0, 1.0] {
        assert!(ElasticNet::from_lambda(1.0, ok, conv).is_ok());
        assert!(Path::new(GaussLik::default(), ok)
            .n_lambda(3)
            .fit(&x, &y)
            .is_ok());
    }
}

#[test]
fn fold_counts_outside_two_to_n_are_rejected() {
    let (x, y) = data(12, 3);
    let path = || Path::new(GaussLik::default(), 1.0).n_lambda(4);
    for k in [0usize, 1, 13, usize::MAX] {
        match CrossValidation::new(path()).folds(k).fit(&x, &y) {
            Err(Error::InvalidParameter {
                name: "number of folds",
                value,
                ..
            }) => assert_eq!(value, k as f64),
            other => panic!("{k} folds: {other:?}"),
        }
    }
    // The bounds themselves are legal: 2 folds, and n folds (leave-one-out).
    for k in [2usize, 12] {
        let cv = CrossValidation::new(path()).folds(k).fit(&x, &y).unwrap();
        assert_eq!(cv.n_folds(), k);
        assert!(cv.cvm().iter().all(|c| c.is_finite()));
    }
    // User ids naming a single fold (0-based or 1-based) are rejected.
    for ids in [vec![0usize; 12], vec![1usize; 12]] {
        assert!(matches!(
            CrossValidation::new(path()).fold_ids(ids).fit(&x, &y),
            Err(Error::InvalidParameter { .. })
        ));
    }
}

/// A user λ grid in any order is sorted into decreasing order (documented on
/// `Path::lambdas`): the fit equals the fit of the sorted grid bit for bit.
#[test]
fn user_lambda_grid_in_any_order_is_sorted_decreasing() {
    let (x, y) = data(30, 4);
    let sorted = vec![2.0, 0.5, 0.1, 0.02, 0.004];
    let shuffled = vec![0.1, 0.004, 2.0, 0.02, 0.5];
    let increasing: Vec<f64> = sorted.iter().rev().copied().collect();
    let reference = Path::new(GaussLik::default(), 0.7)
        .lambdas(sorted.clone())
        .fit(&x, &y)
        .unwrap();
    for grid in [shuffled, increasing] {
        let fit = Path::new(GaussLik::default(), 0.7)
            .lambdas(grid)
            .fit(&x, &y)
            .unwrap();
        assert_eq!(fit.lambdas(), &sorted[..]);
        for k in 0..sorted.len() {
            for (a, b) in fit
                .coefficients(k)
                .iter()
                .zip(reference.coefficients(k).iter())
            {
                assert_eq!(a.to_bits(), b.to_bits(), "point {k}");
            }
            assert_eq!(fit.intercept(k).to_bits(), reference.intercept(k).to_bits());
        }
    }
    // Repeated values are kept (and fitted identically).
    let rep = Path::new(GaussLik::default(), 0.7)
        .lambdas(vec![0.1, 0.5, 0.1])
        .fit(&x, &y)
        .unwrap();
    assert_eq!(rep.lambdas(), &[0.5, 0.1, 0.1]);
    let d = (rep.coefficients(1) - rep.coefficients(2)).amax();
    assert!(
        d <= 1e-8 * rep.coefficients(1).amax().max(1.0),
        "repeated λ: {d:e}"
    );
}

#[test]
fn shapes_and_empty_inputs_in_paths_cv_and_prediction() {
    let (x, y) = data(10, 3);
    let short = DVector::from_element(9, 1.0);
    for r in [
        Path::new(GaussLik::default(), 1.0)
            .fit(&x, &short)
            .map(|_| ()),
        CrossValidation::new(Path::new(GaussLik::default(), 1.0))
            .folds(3)
            .fit(&x, &short)
            .map(|_| ()),
    ] {
        assert!(
            matches!(
                r,
                Err(Error::DimensionMismatch {
                    what: "y",
                    expected: 10,
                    found: 9
                })
            ),
            "{r:?}"
        );
    }
    assert!(matches!(
        Path::new(GaussLik::default(), 1.0).fit(&DMatrix::zeros(0, 3), &DVector::zeros(0)),
        Err(Error::EmptyData { .. })
    ));
    assert!(matches!(
        Path::new(GaussLik::default(), 1.0).fit(&DMatrix::zeros(4, 0), &DVector::zeros(4)),
        Err(Error::EmptyData { .. })
    ));
    let fit = Map::new(GaussLik::default(), Gaussian::new(1.0).unwrap())
        .fit(&x, &y)
        .unwrap();
    assert!(matches!(
        fit.predict(&DMatrix::zeros(2, 4)),
        Err(Error::DimensionMismatch {
            expected: 3,
            found: 4,
            ..
        })
    ));
    let path = Path::new(GaussLik::default(), 1.0)
        .n_lambda(3)
        .fit(&x, &y)
        .unwrap();
    assert!(matches!(
        path.predict(&x, path.len()),
        Err(Error::InvalidParameter {
            name: "path index",
            ..
        })
    ));
    // Prediction on zero rows is an empty prediction, not an error.
    assert_eq!(fit.predict(&DMatrix::zeros(0, 3)).unwrap().len(), 0);
}

/// The caller's data are never modified (issue 8, point 5): every entry point borrows them.
#[test]
fn inputs_are_not_mutated() {
    let (x, y) = data(25, 4);
    let (x0, y0) = (x.clone(), y.clone());
    let w = DVector::from_fn(25, |i, _| 0.5 + (i % 3) as f64);
    let _ = Map::new(GaussLik::default(), Laplace::new(1.0).unwrap())
        .standardize(true)
        .weights(w.clone())
        .fit(&x, &y)
        .unwrap();
    let _ = Map::new(Bernoulli, Gaussian::new(1.0).unwrap())
        .standardize(true)
        .fit(&x, &y.map(|v| f64::from(v > 0.0)))
        .unwrap();
    let _ = CrossValidation::new(Path::new(GaussLik::default(), 0.5).weights(w).n_lambda(5))
        .folds(5)
        .fit(&x, &y)
        .unwrap();
    let _ = closed_form::ridge_with_intercept(&x, &y, 1.0).unwrap();
    assert_eq!(x, x0);
    assert_eq!(y, y0);
}

fn corpus_dir(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn files_in(dir: &PathBuf) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Every file of the malformed corpus is rejected by its parser with the parser's error
/// variant (files added later are covered without editing this test), and feeding each file
/// to the other parser is an error too, never a panic.
#[test]
fn malformed_corpus_is_rejected_by_both_parsers() {
    let files = files_in(&corpus_dir("tests/data/malformed"));
    let (mut csv, mut models) = (0, 0);
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let csv_result = Table::from_path(f);
        let model_result = SavedModel::load(f);
        assert!(
            model_result.is_err(),
            "{name}: loaded as a model: {model_result:?}"
        );
        if name.starts_with("csv_") {
            csv += 1;
            assert!(
                matches!(csv_result, Err(Error::Csv { line, .. }) if line >= 1),
                "{name}: {csv_result:?}"
            );
        } else if name.starts_with("model_") {
            models += 1;
            assert!(
                matches!(model_result, Err(Error::InvalidModel { .. })),
                "{name}: {model_result:?}"
            );
        } else {
            panic!("{name}: corpus files are named csv_* or model_*");
        }
        // And the fuzz targets' own checks hold on every file.
        let bytes = std::fs::read(f).unwrap();
        checks::csv_reader(&bytes);
        checks::model_loader(&bytes);
    }
    eprintln!("malformed corpus: {csv} CSV files, {models} model files");
    assert!(csv >= 12 && models >= 9, "{csv} CSV, {models} model files");
}

/// The committed fuzz corpus (valid seeds and what the fuzzers found worth keeping) replays
/// through the fuzz targets' checks on stable Rust, in every `cargo test`.
#[test]
fn fuzz_corpus_replays_without_panics() {
    for (target, check) in [
        ("csv_reader", checks::csv_reader as fn(&[u8])),
        ("model_loader", checks::model_loader as fn(&[u8])),
    ] {
        let files = files_in(&corpus_dir(&format!("fuzz/corpus/{target}")));
        assert!(!files.is_empty(), "{target}: empty corpus");
        for f in &files {
            let bytes = std::fs::read(f).unwrap();
            // Each file through both targets: a CSV seed is a malformed model and vice versa.
            check(&bytes);
            checks::csv_reader(&bytes);
            checks::model_loader(&bytes);
        }
        eprintln!("fuzz corpus {target}: {} files replayed", files.len());
    }
    // The valid seeds do parse (the checks above would accept an error as well).
    let seeds = corpus_dir("fuzz/corpus");
    assert!(Table::from_path(&seeds.join("csv_reader/valid_small.csv")).is_ok());
    assert!(SavedModel::load(&seeds.join("model_loader/valid_gaussian.json")).is_ok());
}
