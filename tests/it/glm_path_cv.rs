//! Bernoulli and Poisson regularization paths and their cross-validation equal R glmnet's
//! (glmnet 4.1-6, thresh = 1e-30; tests/data/scripts/glmnet_glm_path_cv.R): the generated
//! grid (λ_max exact, the same early stop), every coefficient along it, the fraction of
//! deviance explained, and cv.glmnet's curves for deviance, misclassification, AUC and MSE
//! with glmnet's fold ids.
use crate::common;

use mapfit::likelihood::{Bernoulli, Likelihood, Poisson};
use mapfit::{CrossValidation, Error, Metric, Path};
use nalgebra::{DMatrix, DVector};
use serde_json::Value;

fn data(csv: &str) -> (DMatrix<f64>, DVector<f64>) {
    let (_, x, y) = common::read_csv(
        &format!("{}/tests/data/{csv}", env!("CARGO_MANIFEST_DIR")),
        "y",
    );
    (x, y)
}

/// Largest difference relative to `max(|b|, 1)` (coefficients near 0 compared absolutely).
fn diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / y.abs().max(1.0))
        .fold(0.0, f64::max)
}

/// `same_stop`: glmnet's early stop is reproduced (Bernoulli); otherwise the path is fitted
/// without it and its leading points compared with all of glmnet's.
fn check_paths<L: Likelihood>(
    lik: L,
    case: &Value,
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    same_stop: bool,
) -> f64 {
    let mut worst = 0.0f64;
    for f in case["fits"].as_array().unwrap() {
        let standardize = f["standardize"].as_bool().unwrap();
        let alpha = f["alpha"].as_f64().unwrap();
        let mut path = Path::new(lik.clone(), alpha)
            .n_lambda(30)
            .standardize(standardize);
        if !same_stop {
            path = path.early_stop(false);
        }
        if !case["weights"].is_null() {
            path = path.weights(DVector::from_vec(common::as_vec(&case["weights"])));
        }
        if !case["offset"].is_null() {
            path = path.offset(DVector::from_vec(common::as_vec(&case["offset"])));
        }
        let fit = path.fit(x, y).unwrap();
        let lambda = common::as_vec(&f["lambda"]);
        let what = format!("{} std={standardize} alpha={alpha}", lik.name());
        // λ_max and the generated grid.
        let dl = (fit.lambda_max() - lambda[0]).abs() / lambda[0];
        assert!(
            dl <= 1e-12,
            "{what}: λ_max {} vs {}",
            fit.lambda_max(),
            lambda[0]
        );
        if same_stop {
            assert_eq!(
                fit.len(),
                lambda.len(),
                "{what}: early stop at another point"
            );
            assert!(fit.stopped_early());
        } else {
            assert_eq!(fit.len(), 30);
        }
        let m = lambda.len();
        assert!(
            common::max_rel_diff(&fit.lambdas()[..m], &lambda) <= 1e-12,
            "{what}: grid"
        );
        assert_eq!(fit.df()[0], 0, "{what}: all zero at λ_max");
        assert!(fit.converged());
        let a0 = common::as_vec(&f["a0"]);
        let betas = f["beta"].as_array().unwrap();
        for k in 0..m {
            let beta = common::as_vec(&betas[k]);
            let d = diff(fit.coefficients(k).as_slice(), &beta)
                .max(diff(&[fit.intercept(k)], &[a0[k]]));
            assert!(d <= 1e-8, "{what} point {k}: max diff {d:.2e}");
            for (a, b) in fit.coefficients(k).iter().zip(&beta) {
                if *b == 0.0 {
                    assert_eq!(*a, 0.0, "{what} point {k}: glmnet's zero is not exact");
                }
            }
            assert!(fit.relative_kkt()[k] <= fit.kkt_tolerance());
            worst = worst.max(d);
        }
        let dr = diff(&fit.dev_ratio()[..m], &common::as_vec(&f["dev_ratio"]));
        assert!(dr <= 1e-9, "{what}: dev ratio {dr:.2e}");
        let nd = f["nulldev"].as_f64().unwrap();
        let d0 = (fit.null_deviance() - nd).abs() / nd;
        assert!(
            d0 <= 1e-10,
            "{what}: null deviance {} vs {nd}",
            fit.null_deviance()
        );
        eprintln!("{what}: {m} points, worst {d:.2e}", d = worst);
    }
    worst
}

#[test]
fn bernoulli_paths_equal_glmnet() {
    let r = common::json("glmnet_glm_path_cv.json");
    let (x, y) = data("logit_small.csv");
    let w = check_paths(Bernoulli, &r["paths"]["logit"], &x, &y, true);
    eprintln!("Bernoulli paths: worst {w:.2e}");
}

#[test]
fn poisson_paths_equal_glmnet_with_and_without_offset_and_weights() {
    let r = common::json("glmnet_glm_path_cv.json");
    let (x, y) = data("poisson_small.csv");
    // glmnet's Poisson early stop follows a rule that its documentation does not give (it
    // stops neither at an absolute nor at a relative change of 1e-5 of the deviance ratio):
    // compare every point glmnet fitted.
    let a = check_paths(Poisson, &r["paths"]["poisson"], &x, &y, false);
    let b = check_paths(
        Poisson,
        &r["paths"]["poisson_offset_weights"],
        &x,
        &y,
        false,
    );
    eprintln!("Poisson paths: worst {a:.2e} (plain), {b:.2e} (offset and weights)");
}

fn check_cv<L: Likelihood>(
    lik: L,
    case: &Value,
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    metrics: &[(&str, Metric, f64)],
) {
    let lambda = common::as_vec(&case["lambda"]);
    let ids: Vec<usize> = common::as_vec(&case["foldid"])
        .iter()
        .map(|&v| v as usize)
        .collect();
    for &(name, metric, factor) in metrics {
        let cv = CrossValidation::new(Path::new(lik.clone(), 1.0).lambdas(lambda.clone()))
            .fold_ids(ids.clone())
            .metric(metric)
            .fit(x, y)
            .unwrap();
        let r = &case[name];
        let cvm: Vec<f64> = cv.cvm().iter().map(|v| v * factor).collect();
        let cvsd: Vec<f64> = cv.cvsd().iter().map(|v| v * factor).collect();
        let dm = common::max_rel_diff(&cvm, &common::as_vec(&r["cvm"]));
        let ds = common::max_rel_diff(&cvsd, &common::as_vec(&r["cvsd"]));
        eprintln!("{} {name}: cvm {dm:.2e}, cvsd {ds:.2e}", lik.name());
        assert!(
            dm <= 1e-7 && ds <= 1e-6,
            "{} {name}: cvm {dm:.2e} cvsd {ds:.2e}",
            lik.name()
        );
        assert_eq!(cv.lambda_min(), r["lambda_min"].as_f64().unwrap(), "{name}");
        assert_eq!(cv.lambda_1se(), r["lambda_1se"].as_f64().unwrap(), "{name}");
    }
}

#[test]
fn bernoulli_cv_equals_cv_glmnet_for_every_metric() {
    let r = common::json("glmnet_glm_path_cv.json");
    let case = &r["cv"]["logit"];
    // cv.glmnet clamps probabilities to [1e-5, 1 − 1e-5] for the deviance: not reached here.
    let range = common::as_vec(&case["deviance"]["prob_range"]);
    assert!(range[0] > 1e-5 && range[1] < 1.0 - 1e-5);
    let (x, y) = data("logit_small.csv");
    check_cv(
        Bernoulli,
        case,
        &x,
        &y,
        &[
            ("deviance", Metric::Deviance, 1.0),
            ("class", Metric::MisclassificationRate, 1.0),
            ("auc", Metric::Auc, 1.0),
            // glmnet's binomial "mse" sums over both classes: 2·(y − p)².
            ("mse", Metric::MeanSquaredError, 2.0),
        ],
    );
}

#[test]
fn poisson_cv_equals_cv_glmnet_for_deviance_and_mse() {
    let r = common::json("glmnet_glm_path_cv.json");
    let (x, y) = data("poisson_small.csv");
    check_cv(
        Poisson,
        &r["cv"]["poisson"],
        &x,
        &y,
        &[
            ("deviance", Metric::Deviance, 1.0),
            ("mse", Metric::MeanSquaredError, 1.0),
        ],
    );
}

#[test]
fn classification_metrics_need_the_bernoulli_likelihood() {
    let (x, y) = data("poisson_small.csv");
    for m in [Metric::Auc, Metric::MisclassificationRate] {
        let r = CrossValidation::new(Path::new(Poisson, 1.0).n_lambda(5))
            .metric(m)
            .fit(&x, &y);
        assert!(matches!(r, Err(Error::Unsupported { .. })), "{m:?}: {r:?}");
    }
}

#[test]
fn auc_of_a_fold_with_one_class_is_an_error() {
    let (x, y) = data("logit_small.csv");
    // Fold 1 holds only class-0 observations.
    let mut ids = vec![0usize; y.len()];
    let mut next = 1;
    for i in 0..y.len() {
        ids[i] = if y[i] == 0.0 && i % 3 == 0 {
            0
        } else {
            next = 1 + (next % 4);
            next
        };
    }
    let r = CrossValidation::new(Path::new(Bernoulli, 1.0).n_lambda(5))
        .fold_ids(ids)
        .metric(Metric::Auc)
        .fit(&x, &y);
    assert!(matches!(r, Err(Error::InvalidParameter { .. })), "{r:?}");
}

#[test]
fn a_path_with_one_class_or_all_zero_counts_has_no_mode() {
    let (x, _) = data("logit_small.csv");
    let ones = DVector::from_element(x.nrows(), 1.0);
    let r = Path::new(Bernoulli, 1.0).n_lambda(5).fit(&x, &ones);
    assert!(matches!(r, Err(Error::NoMode { .. })), "{r:?}");
    let zeros = DVector::zeros(x.nrows());
    let r = Path::new(Poisson, 0.5).n_lambda(5).fit(&x, &zeros);
    assert!(matches!(r, Err(Error::NoMode { .. })), "{r:?}");
    // Without an intercept the MAP exists (every coefficient penalized): all zeros at λ_max
    // is the null model, and λ_max is that of θ = 0.
    let fit = Path::new(Bernoulli, 1.0)
        .intercept(false)
        .lambdas(vec![0.1, 0.01])
        .fit(&x, &ones)
        .unwrap();
    assert!(fit.converged());
    assert!(fit.predict_mean(&x, 1).unwrap().iter().all(|&p| p > 0.5));
}

#[test]
fn predictions_are_means_and_strong_rules_do_not_change_the_path() {
    let (x, y) = data("logit_small.csv");
    let with = Path::new(Bernoulli, 0.8).n_lambda(25).fit(&x, &y).unwrap();
    let without = Path::new(Bernoulli, 0.8)
        .n_lambda(25)
        .screening(false)
        .fit(&x, &y)
        .unwrap();
    assert_eq!(with.len(), without.len());
    for k in 0..with.len() {
        let d = diff(
            with.coefficients(k).as_slice(),
            without.coefficients(k).as_slice(),
        );
        assert!(d <= 1e-9, "point {k}: {d:.2e}");
        let eta = with.predict(&x, k).unwrap();
        let mu = with.predict_mean(&x, k).unwrap();
        for i in 0..x.nrows() {
            assert_eq!(mu[i], Bernoulli.mean(eta[i]));
        }
    }
    assert_eq!(with.family(), "Bernoulli");
}

/// At a tolerance looser than `PREDICTOR_MAX_KKT_TOL` each point starts from the previous
/// solution instead of the predicted one: both kinds of path still meet their own tolerance at
/// every point, and the loose path stays within its accuracy of the tight one.
#[test]
fn loose_paths_start_from_the_previous_solution_and_meet_their_tolerance() {
    use mapfit::path::glm::PREDICTOR_MAX_KKT_TOL;
    let (x, y) = data("logit_small.csv");
    let grid: Vec<f64> = (0..40).map(|k| 0.2 * 0.9f64.powi(k)).collect();
    let fit = |tol: f64| {
        Path::new(Bernoulli, 1.0)
            .lambdas(grid.clone())
            .kkt_tolerance(tol)
            .fit(&x, &y)
            .unwrap()
    };
    let loose_tol = 4.0 * PREDICTOR_MAX_KKT_TOL;
    let (loose, tight) = (fit(loose_tol), fit(1e-10));
    assert_eq!((loose.len(), tight.len()), (40, 40));
    let mut worst = 0.0f64;
    for k in 0..loose.len() {
        assert!(loose.relative_kkt()[k] <= loose_tol, "point {k}");
        assert!(tight.relative_kkt()[k] <= 1e-10, "point {k}");
        worst = worst.max(diff(
            loose.coefficients(k).as_slice(),
            tight.coefficients(k).as_slice(),
        ));
    }
    // Loose but not wrong: within ten times the tolerance of the exact path, and not
    // identical to it (the loose path really stopped early somewhere).
    eprintln!("largest difference {worst:.2e}");
    assert!(worst <= 10.0 * loose_tol, "largest difference {worst:.2e}");
    assert!(worst > 0.0);
}

#[test]
fn saved_paths_and_cv_round_trip_bit_identically_and_reject_corrupt_files() {
    use mapfit::saved::SavedPath;
    let (x, y) = data("poisson_small.csv");
    let names: Vec<String> = (1..=x.ncols()).map(|j| format!("x{j}")).collect();
    let cv = CrossValidation::new(Path::new(Poisson, 0.5).n_lambda(15))
        .folds(5)
        .seed(3)
        .fit(&x, &y)
        .unwrap();
    let saved = SavedPath::from_cv(&cv, &names).unwrap();
    let file = std::env::temp_dir().join(format!("mapfit-path-{}.json", std::process::id()));
    saved.save(&file).unwrap();
    let loaded = SavedPath::load(&file).unwrap();
    std::fs::remove_file(&file).ok();
    assert_eq!(loaded, saved);
    let c = loaded.cv.as_ref().unwrap();
    assert_eq!((c.index_min, c.index_1se), (cv.index_min(), cv.index_1se()));
    assert_eq!(c.cvm, cv.cvm());
    for k in 0..cv.path().len() {
        assert_eq!(
            loaded.predict(&x, k).unwrap(),
            cv.path().predict_mean(&x, k).unwrap()
        );
        let m = loaded.model(k).unwrap();
        assert_eq!(
            m.predict(&x).unwrap(),
            cv.path().predict_mean(&x, k).unwrap()
        );
    }
    // Corrupt or foreign files are typed errors.
    let text = saved.to_json().unwrap();
    let cases = [
        text.replace("mapfit-path", "mapfit-model"),
        text.replacen("\"version\": 1", "\"version\": 99", 1),
        text[..text.len() / 2].to_string(),
        text.replacen("\"index_min\": ", "\"index_min\": 1000", 1),
        text.replacen("\"mix\": 0.5", "\"mix\": 1.5", 1),
        String::new(),
    ];
    for (i, bad) in cases.iter().enumerate() {
        let r = SavedPath::from_json(bad);
        assert!(
            matches!(r, Err(Error::InvalidModel { .. })),
            "case {i}: {r:?}"
        );
    }
    let mut swapped = saved.clone();
    swapped.lambdas.reverse();
    let r = SavedPath::from_json(&swapped.to_json().unwrap());
    assert!(
        matches!(r, Err(Error::InvalidModel { .. })),
        "increasing grid: {r:?}"
    );
}

/// `Path::low_memory(false)`: the proximal-Newton subproblems store a weighted copy of their
/// working columns and weighted Gaussian coordinate descent a weighted copy of X, where
/// `low_memory(true)` reads X in place with the residual held as `√v∘r`. The products round
/// differently, so the two are compared as solutions: fitted to a relative KKT violation of
/// 1e-10, every point of every path agrees to 1e-7 (relative to the largest coefficient):
/// Bernoulli and Poisson with observation weights and an offset, with the strong-rule screen
/// (a subset of the columns) and without it (all columns), and the weighted Gaussian path in
/// naive mode.
#[test]
fn low_memory_paths_equal_the_stored_copies() {
    fn same<L: Likelihood>(p: Path<L>, x: &DMatrix<f64>, y: &DVector<f64>) {
        let p = p.tolerance(1e-14).kkt_tolerance(1e-10);
        let a = p.clone().low_memory(false).fit(x, y).unwrap();
        let b = p.low_memory(true).fit(x, y).unwrap();
        assert_eq!(a.len(), b.len());
        let scale = a.coefficient_matrix().amax().max(1.0);
        for k in 0..a.len() {
            let d = (a.coefficients(k) - b.coefficients(k)).amax();
            assert!(d <= 1e-7 * scale, "point {k}: {d:e}");
            let di = (a.intercept(k) - b.intercept(k)).abs();
            assert!(di <= 1e-7 * scale, "point {k}: {di:e}");
        }
    }
    let (x, y) = data("logit_small.csv");
    let n = y.len();
    let w = DVector::from_fn(n, |i, _| 0.5 + (i % 3) as f64);
    let o = DVector::from_fn(n, |i, _| ((i % 5) as f64 - 2.0) / 10.0);
    for screening in [true, false] {
        let p = Path::new(Bernoulli, 0.9).n_lambda(20).screening(screening);
        same(p.clone(), &x, &y);
        same(p.weights(w.clone()).offset(o.clone()), &x, &y);
    }
    let (x, y) = data("poisson_small.csv");
    let n = y.len();
    let w = DVector::from_fn(n, |i, _| 0.5 + (i % 3) as f64);
    same(
        Path::new(Poisson, 1.0).n_lambda(20).weights(w.clone()),
        &x,
        &y,
    );
    let g = Path::new(mapfit::likelihood::Gaussian::default(), 0.7)
        .n_lambda(20)
        .covariance_updates(false)
        .weights(w);
    same(g, &x, &y);
}

/// The proximal-Newton subproblems of a GLM path choose covariance or naive updates step by
/// step (by the last subproblem's sweeps); forced either way, and in place or on a copy,
/// every point of the path is the same solution: fitted to a relative KKT violation of
/// 1e-10, the coefficients agree to 1e-7 of the largest. `uses_covariance` reports the
/// choice.
#[test]
fn glm_paths_agree_with_covariance_or_naive_updates() {
    fn agree<L: Likelihood>(path: Path<L>, x: &DMatrix<f64>, y: &DVector<f64>) -> bool {
        let path = path.tolerance(1e-14).kkt_tolerance(1e-10);
        let reference = path.clone().fit(x, y).unwrap();
        let scale = reference.coefficient_matrix().amax().max(1.0);
        for covariance in [false, true] {
            for low_memory in [false, true] {
                let fit = path
                    .clone()
                    .covariance_updates(covariance)
                    .low_memory(low_memory)
                    .fit(x, y)
                    .unwrap();
                assert_eq!(fit.uses_covariance(), covariance);
                assert_eq!(fit.len(), reference.len());
                let what = format!("covariance {covariance}, low memory {low_memory}");
                for k in 0..fit.len() {
                    let d = (fit.coefficients(k) - reference.coefficients(k)).amax();
                    assert!(d <= 1e-7 * scale, "{what}, point {k}: {d:e}");
                    let di = (fit.intercept(k) - reference.intercept(k)).abs();
                    assert!(di <= 1e-7 * scale, "{what}, point {k}: {di:e}");
                }
            }
        }
        reference.uses_covariance()
    }
    let (x, y) = data("poisson_small.csv");
    let w = DVector::from_fn(y.len(), |i, _| 0.5 + (i % 3) as f64);
    let poisson = agree(Path::new(Poisson, 0.8).n_lambda(25).weights(w), &x, &y);
    let (x, y) = data("logit_small.csv");
    let logit = agree(Path::new(Bernoulli, 1.0).n_lambda(25), &x, &y);
    // By default these small, tall problems take covariance updates (their working sets are
    // a few columns, solved in several sweeps).
    assert!(poisson && logit);
}
