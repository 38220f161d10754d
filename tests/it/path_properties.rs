//! Properties of regularization paths: strong rules, certificates, exact λ_max, agreement with
//! single fits and closed forms, naive = covariance updates, grid handling, errors.
use crate::common;

use mapfit::{likelihood, prior, Error, Map, Method, Path, PathFit};
use nalgebra::{DMatrix, DVector};

fn gauss() -> likelihood::Gaussian {
    likelihood::Gaussian::default()
}

/// A p ≫ n problem with strongly correlated columns and a sparse truth.
fn wide_problem(n: usize, p: usize, rho: f64, seed: u64) -> (DMatrix<f64>, DVector<f64>) {
    let x = common::correlated_design(n, p, rho, seed);
    let w = DVector::from_fn(p, |j, _| match j % 37 {
        0 => 1.5,
        5 => -1.0,
        _ => 0.0,
    });
    let y = &x * &w + common::normal_vector(n, seed + 1) * 0.5;
    (x, y)
}

/// Pairs of nearly collinear columns with opposite effects: a column with a small marginal
/// correlation enters the model once its partner is in, which trips the sequential strong
/// rule on a coarse grid (the KKT check must add it back).
fn suppressor_problem(seed: u64) -> (DMatrix<f64>, DVector<f64>) {
    let (n, p) = (40, 60);
    let z = common::correlated_design(n, p, 0.0, seed);
    let mut x = z.clone();
    for j in (1..p).step_by(2) {
        let c = z.column(j - 1) * 0.97 + z.column(j) * 0.243;
        x.set_column(j, &c);
    }
    let mut w = DVector::zeros(p);
    w[0] = 3.0;
    w[1] = -3.0;
    w[4] = 1.0;
    w[5] = -1.2;
    let y = &x * &w + common::normal_vector(n, seed + 100) * 0.3;
    (x, y)
}

/// Weighted mean and population sd of each column (sd about 0 without an intercept), as the
/// path standardizes — computed here independently.
fn column_stats(
    x: &DMatrix<f64>,
    v: &DVector<f64>,
    intercept: bool,
    standardize: bool,
) -> (Vec<f64>, Vec<f64>) {
    let sw = v.sum();
    let mut means = vec![0.0; x.ncols()];
    let mut sds = vec![1.0; x.ncols()];
    for j in 0..x.ncols() {
        let c = x.column(j);
        let m = if intercept { c.dot(v) / sw } else { 0.0 };
        means[j] = m;
        if standardize {
            let s = (c
                .iter()
                .zip(v.iter())
                .map(|(a, w)| w * (a - m) * (a - m))
                .sum::<f64>()
                / sw)
                .sqrt();
            sds[j] = if s > 0.0 { s } else { 1.0 };
        }
    }
    (means, sds)
}

/// Largest KKT violation of point `k`, recomputed from the reported coefficients in the
/// mean-loss objective on the standardized coordinates, divided by `max_j |x̃_jᵀỹ|/n`; and the
/// intercept's gradient relative to the same scale.
#[allow(clippy::too_many_arguments)]
fn independent_kkt(
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    v: &DVector<f64>,
    f: &[f64],
    intercept: bool,
    standardize: bool,
    fit: &PathFit,
    k: usize,
) -> (f64, f64) {
    let sw = v.sum();
    let (means, sds) = column_stats(x, v, intercept, standardize);
    let w = fit.coefficients(k).into_owned();
    let r = y - (x * &w).add_scalar(fit.intercept(k));
    let ybar = if intercept { y.dot(v) / sw } else { 0.0 };
    let (l1, l2) = fit.penalty_weights(k);
    let mut scale = 0.0f64;
    let mut worst = 0.0f64;
    for j in 0..x.ncols() {
        let c = x.column(j);
        let s = sds[j];
        let g0: f64 = (0..x.nrows())
            .map(|i| v[i] * (c[i] - means[j]) / s * (y[i] - ybar))
            .sum::<f64>()
            / sw;
        scale = scale.max(g0.abs());
        let g: f64 = -(0..x.nrows()).map(|i| v[i] * c[i] / s * r[i]).sum::<f64>() / sw;
        let ws = w[j] * s;
        let g = g + l2 * f[j] * ws;
        let a = l1 * f[j];
        let viol = if ws > 0.0 {
            (g + a).abs()
        } else if ws < 0.0 {
            (g - a).abs()
        } else {
            (g.abs() - a).max(0.0)
        };
        worst = worst.max(viol);
    }
    let gb = if intercept {
        (0..x.nrows()).map(|i| v[i] * r[i]).sum::<f64>().abs() / sw
    } else {
        0.0
    };
    (worst / scale, gb / scale)
}

/// (a) The sequential strong rule never loses a variable: with and without screening, every
/// point has the same support and the same coefficients (p ≫ n, correlated columns).
#[test]
fn strong_rules_never_drop_an_active_variable() {
    let mut checked = 0;
    let mut violations = 0;
    let mut work = (0u64, 0u64);
    let mut cases: Vec<(String, DMatrix<f64>, DVector<f64>, usize)> = Vec::new();
    for (seed, rho, n_lambda) in [(1u64, 0.5, 40), (2, 0.8, 40), (3, 0.95, 40), (4, 0.8, 6)] {
        let (x, y) = wide_problem(50, 250, rho, seed);
        cases.push((format!("rho {rho}"), x, y, n_lambda));
    }
    for seed in [7u64, 36] {
        let (x, y) = suppressor_problem(seed);
        cases.push((format!("suppressor pairs, seed {seed}"), x, y, 8));
    }
    for (name, x, y, n_lambda) in &cases {
        let (x, y, n_lambda) = (x, y, *n_lambda);
        for mix in [1.0, 0.5] {
            for covariance in [false, true] {
                let base = Path::new(gauss(), mix)
                    .n_lambda(n_lambda)
                    .lambda_min_ratio(Some(0.01))
                    .tolerance(1e-10)
                    .covariance_updates(covariance);
                let screened = base.clone().fit(x, y).unwrap();
                let full = base
                    .clone()
                    .screening(false)
                    .lambdas(screened.lambdas().to_vec())
                    .fit(x, y)
                    .unwrap();
                assert_eq!(screened.len(), full.len());
                assert_eq!(full.strong_rule_violations(), 0);
                work.0 += screened.coordinate_updates();
                work.1 += full.coordinate_updates();
                violations += screened.strong_rule_violations();
                let mut worst: f64 = 0.0;
                for k in 0..screened.len() {
                    let a = screened.coefficients(k);
                    let b = full.coefficients(k);
                    for j in 0..a.len() {
                        assert_eq!(
                            a[j] != 0.0,
                            b[j] != 0.0,
                            "support differs at λ #{k}, coefficient {j} ({name}, mix {mix})"
                        );
                    }
                    worst = worst.max((a - b).amax() / b.amax().max(1e-300));
                    checked += 1;
                }
                eprintln!(
                    "{name}, mix {mix}, covariance {covariance}: {} points, max df {}, \
                     max rel coef diff {worst:.1e}, updates {} vs {}, strong-rule violations {}",
                    screened.len(),
                    screened.df().iter().max().unwrap(),
                    screened.coordinate_updates(),
                    full.coordinate_updates(),
                    screened.strong_rule_violations()
                );
                assert!(worst <= 1e-7, "coefficients differ by {worst:e}");
            }
        }
    }
    assert!(checked > 300);
    assert!(
        violations > 0,
        "the coarse grids should trip the strong rule"
    );
    eprintln!(
        "strong-rule violations caught by the KKT check: {violations}; coordinate updates \
         {} with screening, {} without",
        work.0, work.1
    );
    assert!(work.0 < work.1);
}

/// (b) Every point carries a duality gap in [0, tolerance] and a KKT violation within
/// tolerance, and an independent recomputation of the KKT conditions from the reported
/// coefficients agrees.
#[test]
fn every_point_is_certified() {
    let (_, xd, yd) = common::diabetes();
    let (xw, yw) = wide_problem(50, 120, 0.7, 7);
    let wd = common::positive_weights(xd.nrows(), 11);
    let fd: Vec<f64> = (0..xd.ncols())
        .map(|j| [1.0, 0.0, 2.0, 0.5][j % 4])
        .collect();
    let mut worst_rel: f64 = 0.0;
    type Case<'a> = (
        &'a str,
        &'a DMatrix<f64>,
        &'a DVector<f64>,
        Option<DVector<f64>>,
        Option<Vec<f64>>,
        bool,
        bool,
    );
    let cases: Vec<Case> = vec![
        ("diabetes", &xd, &yd, None, None, true, true),
        (
            "diabetes weighted + factors",
            &xd,
            &yd,
            Some(wd),
            Some(fd),
            true,
            true,
        ),
        (
            "diabetes raw, no intercept",
            &xd,
            &yd,
            None,
            None,
            false,
            false,
        ),
        ("wide", &xw, &yw, None, None, true, true),
    ];
    for (name, x, y, w, f, standardize, intercept) in cases {
        for mix in [1.0, 0.5, 0.0] {
            for tol in [1e-12, 1e-8] {
                let mut path = Path::new(gauss(), mix)
                    .n_lambda(40)
                    .standardize(standardize)
                    .intercept(intercept)
                    .tolerance(tol);
                if let Some(w) = &w {
                    path = path.weights(w.clone());
                }
                if let Some(f) = &f {
                    path = path.penalty_factors(f.clone());
                }
                let fit = path.fit(x, y).unwrap();
                assert!(fit.converged());
                let v = w
                    .clone()
                    .unwrap_or_else(|| DVector::from_element(x.nrows(), 1.0));
                let ff = f.clone().unwrap_or_else(|| vec![1.0; x.ncols()]);
                for k in 0..fit.len() {
                    let c = fit.convergence(k);
                    assert!(c.converged);
                    assert!(
                        c.value >= 0.0 && c.value <= tol,
                        "{name}: gap {:e}",
                        c.value
                    );
                    assert!(c.kkt_violation >= 0.0);
                    assert!(fit.relative_kkt()[k] <= fit.kkt_tolerance());
                    let (rel, gb) = independent_kkt(x, y, &v, &ff, intercept, standardize, &fit, k);
                    assert!(
                        rel <= 2.0 * tol + 1e-11,
                        "{name} mix {mix} tol {tol:e} λ #{k}: independent KKT {rel:e}"
                    );
                    assert!(gb <= 1e-10, "{name}: intercept gradient {gb:e}");
                    worst_rel = worst_rel.max(rel / tol);
                }
            }
        }
    }
    eprintln!("largest independent KKT / tolerance: {worst_rel:.2}");
}

/// (c) A ridge path (m = 0) equals the closed form of the Gaussian prior at every point, and
/// the independent penalized normal equations.
#[test]
fn ridge_path_equals_the_closed_form() {
    let (_, x, y) = common::diabetes();
    let n = x.nrows() as f64;
    let lambdas = vec![10.0, 1.0, 0.1, 0.01, 1e-4];
    let fit = Path::new(gauss(), 0.0)
        .lambdas(lambdas.clone())
        .fit(&x, &y)
        .unwrap();
    let (_, sds) = column_stats(&x, &DVector::from_element(x.nrows(), 1.0), true, true);
    let mut worst: f64 = 0.0;
    for (k, &lam) in lambdas.iter().enumerate() {
        let closed = Map::new(gauss(), prior::Gaussian::with_precision(n * lam).unwrap())
            .standardize(true)
            .method(Method::ClosedForm)
            .fit(&x, &y)
            .unwrap();
        let q: Vec<f64> = sds.iter().map(|s| n * lam * s * s).collect();
        let (wr, br) = common::penalized_normal_equations(&x, &y, None, &q, true);
        let d1 = common::max_rel_diff(
            fit.coefficients(k).as_slice(),
            closed.coefficients().as_slice(),
        );
        let d2 = common::max_rel_diff(fit.coefficients(k).as_slice(), wr.as_slice())
            .max((fit.intercept(k) - br).abs() / br.abs().max(1.0));
        eprintln!("ridge λ = {lam}: vs closed form {d1:.1e}, vs normal equations {d2:.1e}");
        worst = worst.max(d1).max(d2);
    }
    assert!(worst <= 1e-8, "{worst:e}");
}

/// (c) Each path point equals a separate single fit (Map, coordinate descent) with the
/// equivalent prior — including a noise variance σ² ≠ 1, where the prior scales carry σ².
#[test]
fn path_points_equal_single_fits_with_the_equivalent_prior() {
    let (_, x, y) = common::diabetes();
    let mut worst: f64 = 0.0;
    for sigma2 in [1.0, 2500.0] {
        let lik = likelihood::Gaussian::new(sigma2).unwrap();
        for mix in [1.0, 0.3] {
            let fit = Path::new(lik, mix)
                .n_lambda(30)
                .early_stop(false)
                .fit(&x, &y)
                .unwrap();
            for k in [3, 10, 20, 29] {
                let b = fit.laplace_scale(k).unwrap();
                let tau = fit.gaussian_scale(k).unwrap_or(f64::INFINITY);
                let single = if mix == 1.0 {
                    Map::new(lik, prior::ElasticNet::with_weights(1.0 / b, 0.0).unwrap())
                        .standardize(true)
                        .method(Method::CoordinateDescent)
                        .fit(&x, &y)
                        .unwrap()
                } else {
                    Map::new(lik, prior::ElasticNet::new(b, tau).unwrap())
                        .standardize(true)
                        .method(Method::CoordinateDescent)
                        .fit(&x, &y)
                        .unwrap()
                };
                let d = common::max_rel_diff(
                    fit.coefficients(k).as_slice(),
                    single.coefficients().as_slice(),
                )
                .max(
                    (fit.intercept(k) - single.intercept()).abs()
                        / single.intercept().abs().max(1.0),
                );
                // The mapping of the module docs: λ·m = σ²/(n·b), λ·(1−m) = σ²/(n·τ²).
                let n = x.nrows() as f64;
                let lam = fit.lambda(k);
                assert!((lam * mix - sigma2 / (n * b)).abs() <= 1e-12 * lam);
                if mix < 1.0 {
                    assert!((lam * (1.0 - mix) - sigma2 / (n * tau * tau)).abs() <= 1e-12 * lam);
                }
                worst = worst.max(d);
            }
        }
    }
    eprintln!("path vs single fits: {worst:.1e}");
    assert!(worst <= 1e-8, "{worst:e}");
}

/// (d) λ_max is exact: at λ_max every penalized coefficient is zero, just below it one is
/// not; and it equals the independent formula max_j |x̃_jᵀr₀|/(n·m·f_j) to 1e-12.
#[test]
fn lambda_max_is_exact() {
    let (_, x, y) = common::diabetes();
    let (xw, yw) = wide_problem(40, 90, 0.6, 5);
    let w = common::positive_weights(x.nrows(), 3);
    for (name, x, y) in [("diabetes", &x, &y), ("wide", &xw, &yw)] {
        let p = x.ncols();
        for mix in [1.0, 0.5, 0.05] {
            for weighted in [false, true] {
                for factors in [
                    None,
                    Some((0..p).map(|j| [1.0, 2.0, 0.5][j % 3]).collect::<Vec<_>>()),
                ] {
                    let v = if weighted && name == "diabetes" {
                        w.clone()
                    } else {
                        DVector::from_element(x.nrows(), 1.0)
                    };
                    let f = factors.clone().unwrap_or_else(|| vec![1.0; p]);
                    let mut path = Path::new(gauss(), mix).n_lambda(5);
                    if weighted && name == "diabetes" {
                        path = path.weights(v.clone());
                    }
                    if let Some(f) = &factors {
                        path = path.penalty_factors(f.clone());
                    }
                    let lmax = path.clone().fit(x, y).unwrap().lambda_max();
                    // Independent formula.
                    let (means, sds) = column_stats(x, &v, true, true);
                    let sw = v.sum();
                    let ybar = y.dot(&v) / sw;
                    let mut expect: f64 = 0.0;
                    for j in 0..p {
                        let g: f64 = (0..x.nrows())
                            .map(|i| v[i] * (x[(i, j)] - means[j]) / sds[j] * (y[i] - ybar))
                            .sum();
                        expect = expect.max(g.abs() / (sw * mix * f[j]));
                    }
                    assert!(
                        (lmax - expect).abs() <= 1e-12 * expect,
                        "{name} mix {mix}: λ_max {lmax} vs {expect}"
                    );
                    let at = path.clone().lambdas(vec![lmax]).fit(x, y).unwrap();
                    assert_eq!(at.df()[0], 0, "{name} mix {mix}: non-zero at λ_max");
                    let below = path
                        .clone()
                        .lambdas(vec![lmax * (1.0 - 1e-9)])
                        .fit(x, y)
                        .unwrap();
                    assert!(below.df()[0] >= 1, "{name} mix {mix}: all zero below λ_max");
                }
            }
        }
    }
}

/// (d) With unpenalized coefficients (factor 0), λ_max is computed on the residual of their
/// least-squares fit: at λ_max only they are non-zero.
#[test]
fn lambda_max_with_unpenalized_coefficients() {
    let (_, x, y) = common::diabetes();
    let p = x.ncols();
    let f: Vec<f64> = (0..p)
        .map(|j| if j == 2 || j == 8 { 0.0 } else { 1.0 })
        .collect();
    let path = Path::new(gauss(), 1.0).penalty_factors(f.clone());
    let lmax = path.clone().n_lambda(3).fit(&x, &y).unwrap().lambda_max();
    // Independent: OLS of y on (1, x_2, x_8), then the standardized gradient.
    let xu = DMatrix::from_fn(x.nrows(), 2, |i, c| x[(i, [2, 8][c])]);
    let (wu, bu) = common::ols_qr_with_intercept(&xu, &y);
    let r = &y - (&xu * &wu).add_scalar(bu);
    let v = DVector::from_element(x.nrows(), 1.0);
    let (means, sds) = column_stats(&x, &v, true, true);
    let n = x.nrows() as f64;
    let mut expect: f64 = 0.0;
    for j in 0..p {
        if f[j] > 0.0 {
            let g: f64 = (0..x.nrows())
                .map(|i| (x[(i, j)] - means[j]) / sds[j] * r[i])
                .sum();
            expect = expect.max(g.abs() / n);
        }
    }
    assert!((lmax - expect).abs() <= 1e-9 * expect, "{lmax} vs {expect}");
    let at = path.clone().lambdas(vec![lmax]).fit(&x, &y).unwrap();
    for (j, &fj) in f.iter().enumerate() {
        assert_eq!(at.coefficients(0)[j] != 0.0, fj == 0.0, "coefficient {j}");
    }
    let below = path.lambdas(vec![lmax * (1.0 - 1e-7)]).fit(&x, &y).unwrap();
    assert!(below.df()[0] >= 3);
}

/// Naive and covariance updates give the same path (tall and wide designs; with X read in
/// place — no intercept, no standardization — and as a centered, scaled copy). n = 257 puts
/// a single row in the last row block of the blocked Gram product.
#[test]
fn naive_and_covariance_updates_agree() {
    let (_, xd, yd) = common::diabetes();
    let (xw, yw) = wide_problem(50, 150, 0.6, 9);
    let (xt, yt) = wide_problem(257, 12, 0.6, 3);
    let cases = [
        ("diabetes", &xd, &yd),
        ("wide", &xw, &yw),
        ("n = 257", &xt, &yt),
    ];
    for ((name, x, y), in_place) in cases.iter().flat_map(|c| [(*c, false), (*c, true)]) {
        for mix in [1.0, 0.5] {
            let base = Path::new(gauss(), mix)
                .n_lambda(50)
                .intercept(!in_place)
                .standardize(!in_place);
            let a = base.clone().covariance_updates(true).fit(x, y).unwrap();
            let b = base
                .clone()
                .covariance_updates(false)
                .lambdas(a.lambdas().to_vec())
                .fit(x, y)
                .unwrap();
            assert!(a.uses_covariance() && !b.uses_covariance());
            let d = (a.coefficient_matrix() - b.coefficient_matrix()).amax()
                / b.coefficient_matrix().amax();
            eprintln!("{name} in place {in_place} mix {mix}: naive vs covariance {d:.1e}");
            assert!(d <= 1e-8, "{name}, in place {in_place}: {d:e}");
        }
    }
}

/// The automatic choice: covariance updates when n ≥ 2p, naive otherwise.
#[test]
fn covariance_updates_are_chosen_for_tall_data() {
    let (_, x, y) = common::diabetes();
    assert!(Path::new(gauss(), 1.0)
        .n_lambda(5)
        .fit(&x, &y)
        .unwrap()
        .uses_covariance());
    let (xw, yw) = wide_problem(30, 100, 0.3, 2);
    assert!(!Path::new(gauss(), 1.0)
        .n_lambda(5)
        .fit(&xw, &yw)
        .unwrap()
        .uses_covariance());
}

/// A user grid is sorted into decreasing order and fitted in full; a generated grid has the
/// requested length, starts at λ_max and ends at ratio·λ_max unless the early stop fires.
#[test]
fn grids_and_early_stop() {
    let (_, x, y) = common::diabetes();
    let fit = Path::new(gauss(), 1.0)
        .lambdas(vec![0.1, 10.0, 1.0, 0.01])
        .fit(&x, &y)
        .unwrap();
    assert_eq!(fit.lambdas(), &[10.0, 1.0, 0.1, 0.01]);
    assert!(!fit.stopped_early());

    let full = Path::new(gauss(), 1.0)
        .early_stop(false)
        .fit(&x, &y)
        .unwrap();
    assert_eq!(full.len(), 100);
    assert_eq!(full.lambda(0), full.lambda_max());
    let ratio = full.lambda(99) / full.lambda(0);
    assert!(
        (ratio - 1e-4).abs() < 1e-12,
        "n ≥ p: ratio 1e-4, got {ratio}"
    );
    // glmnet's early stop: diabetes saturates its deviance explained long before 1e-4·λ_max.
    let stopped = Path::new(gauss(), 1.0).fit(&x, &y).unwrap();
    assert!(
        stopped.stopped_early() && stopped.len() < 100,
        "len {}",
        stopped.len()
    );
    let k = stopped.len() - 1;
    let dr = stopped.dev_ratio();
    assert!(dr[k] - dr[k - 1] < 1e-5 * dr[k] || dr[k] > 0.999);
    for j in 4..k {
        assert!(dr[j] - dr[j - 1] >= 1e-5 * dr[j] && dr[j] <= 0.999);
    }
    // p > n: ratio 1e-2.
    let (xw, yw) = wide_problem(30, 60, 0.3, 4);
    let wide = Path::new(gauss(), 1.0)
        .early_stop(false)
        .n_lambda(10)
        .fit(&xw, &yw)
        .unwrap();
    assert!((wide.lambda(9) / wide.lambda(0) - 1e-2).abs() < 1e-12);
}

/// The observer sees every point, in order.
#[test]
fn observer_sees_every_point() {
    use std::sync::{Arc, Mutex};
    let (_, x, y) = common::diabetes();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    let fit = Path::new(gauss(), 1.0)
        .n_lambda(20)
        .early_stop(false)
        .observer(move |k, n| s.lock().unwrap().push((k, n)))
        .fit(&x, &y)
        .unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), fit.len());
    for (i, &(k, n)) in seen.iter().enumerate() {
        assert_eq!((k, n), (i, 20));
    }
}

/// A point that misses its tolerance is an error, unless unconverged points are allowed.
#[test]
fn unconverged_points_are_errors_unless_allowed() {
    let (x, y) = wide_problem(60, 300, 0.95, 8);
    let path = Path::new(gauss(), 1.0).n_lambda(30).max_iters(1);
    match path.fit(&x, &y) {
        Err(Error::NotConverged { iterations, .. }) => assert_eq!(iterations, 1),
        other => panic!("expected NotConverged, got {other:?}"),
    }
    let fit = path.allow_unconverged(true).fit(&x, &y).unwrap();
    assert!(!fit.converged());
    assert!(fit.convergences().iter().any(|c| !c.converged));
}

/// Invalid options are typed errors.
#[test]
fn invalid_options_are_rejected() {
    let (_, x, y) = common::diabetes();
    let p = x.ncols();
    let bad = |path: Path| path.fit(&x, &y).unwrap_err();
    assert!(matches!(
        bad(Path::new(gauss(), 1.5)),
        Error::InvalidParameter { .. }
    ));
    assert!(matches!(
        bad(Path::new(gauss(), 1.0).lambdas(vec![])),
        Error::EmptyData { .. }
    ));
    assert!(matches!(
        bad(Path::new(gauss(), 1.0).lambdas(vec![1.0, -1.0])),
        Error::InvalidParameter { .. }
    ));
    assert!(matches!(
        bad(Path::new(gauss(), 1.0).n_lambda(0)),
        Error::InvalidParameter { .. }
    ));
    assert!(matches!(
        bad(Path::new(gauss(), 1.0).lambda_min_ratio(Some(1.0))),
        Error::InvalidParameter { .. }
    ));
    assert!(matches!(
        bad(Path::new(gauss(), 1.0).tolerance(0.0)),
        Error::InvalidParameter { .. }
    ));
    assert!(matches!(
        bad(Path::new(gauss(), 1.0).penalty_factors(vec![1.0; p - 1])),
        Error::DimensionMismatch { .. }
    ));
    assert!(matches!(
        bad(Path::new(gauss(), 1.0).penalty_factors(vec![0.0; p])),
        Error::InvalidParameter { .. }
    ));
    assert!(matches!(
        bad(Path::new(gauss(), 1.0).weights(DVector::from_element(3, 1.0))),
        Error::DimensionMismatch { .. }
    ));
    // A constant response has λ_max = 0: a generated grid is impossible, a user grid works.
    let yc = DVector::from_element(x.nrows(), 3.0);
    assert!(matches!(
        Path::new(gauss(), 1.0).fit(&x, &yc),
        Err(Error::InvalidParameter { .. })
    ));
    let fit = Path::new(gauss(), 1.0)
        .lambdas(vec![1.0])
        .fit(&x, &yc)
        .unwrap();
    assert_eq!(fit.df()[0], 0);
    assert!((fit.intercept(0) - 3.0).abs() < 1e-12);
}

/// A constant column (zero variance after centering) keeps a zero coefficient and does not
/// disturb the others, with naive and covariance updates.
#[test]
fn constant_columns_stay_zero() {
    let (_, x, y) = common::diabetes();
    let (n, p) = x.shape();
    let xc = DMatrix::from_fn(n, p + 1, |i, j| if j < p { x[(i, j)] } else { 4.0 });
    for covariance in [false, true] {
        let path = Path::new(gauss(), 1.0)
            .n_lambda(20)
            .covariance_updates(covariance);
        let with = path.clone().fit(&xc, &y).unwrap();
        let without = path.lambdas(with.lambdas().to_vec()).fit(&x, &y).unwrap();
        for k in 0..with.len() {
            assert_eq!(with.coefficients(k)[p], 0.0);
            assert!(with.coefficients(k).iter().all(|a| a.is_finite()));
            let d = (with.coefficients(k).rows(0, p) - without.coefficients(k)).amax();
            assert!(d <= 1e-9 * without.coefficients(k).amax().max(1.0), "{d:e}");
        }
    }
}

/// The automatic ridge grid (mix 0) spans glmnet's effective ridge penalties: λ_max is
/// glmnet's `max_j |x̃_jᵀ(y − ȳ)|/(n·0.001)` divided by the population sd of y (glmnet's L2
/// part carries 1/s_y), not the raw value, which sat s_y = 77 times too high on diabetes.
#[test]
fn ridge_grid_spans_glmnet_effective_penalties() {
    let (_, x, y) = common::diabetes();
    let n = x.nrows() as f64;
    let ybar = y.mean();
    let yc = y.add_scalar(-ybar);
    let s_y = (yc.norm_squared() / n).sqrt();
    let mut g = 0.0f64;
    for c in x.column_iter() {
        let m = c.mean();
        let xc = c.add_scalar(-m);
        let s = (xc.norm_squared() / n).sqrt();
        g = g.max((xc.dot(&yc) / s).abs());
    }
    let expected = g / (n * 0.001 * s_y);
    let path = mapfit::Path::new(mapfit::likelihood::Gaussian::default(), 0.0)
        .fit(&x, &y)
        .unwrap();
    assert!(
        (path.lambda_max() - expected).abs() <= 1e-10 * expected,
        "{} vs {expected}",
        path.lambda_max()
    );
}

/// Anderson extrapolation of coordinate descent (`mapfit::solve::CdEngine`): a lasso path
/// down to λ = 10⁻⁶·λ_max on a 12 × 43 design with duplicated and strongly correlated
/// columns, where cyclic sweeps crawl once the support is found, is certified at every point
/// (KKT re-derived here) in a bounded number of sweeps, with naive updates (the active-set
/// Gram matrix) and with covariance updates (the compact Gram matrix). Without the
/// extrapolation the same paths took 294 051 and 408 182 sweeps (with it 30 112 and
/// 88 493, when it was added), so the bounds fail without it.
#[test]
fn ill_conditioned_paths_converge_in_fewer_sweeps() {
    let (mut x, y) = wide_problem(12, 43, 0.95, 5);
    for j in (3..43).step_by(4) {
        let c = x.column(j - 3).clone_owned();
        x.set_column(j, &c);
    }
    let v = DVector::from_element(x.nrows(), 1.0);
    let f = vec![1.0; x.ncols()];
    for (covariance, max_sweeps) in [(false, 100_000), (true, 150_000)] {
        let fit = Path::new(gauss(), 1.0)
            .n_lambda(12)
            .lambda_min_ratio(Some(1e-6))
            .early_stop(false)
            .covariance_updates(covariance)
            .fit(&x, &y)
            .unwrap();
        eprintln!("covariance {covariance}: {} sweeps", fit.sweeps());
        assert!(fit.converged() && fit.len() == 12);
        assert!(
            fit.sweeps() <= max_sweeps,
            "covariance {covariance}: {} sweeps",
            fit.sweeps()
        );
        for k in 0..fit.len() {
            let (kkt, kb) = independent_kkt(&x, &y, &v, &f, true, true, &fit, k);
            assert!(kkt <= 1e-8 && kb <= 1e-8, "point {k}: KKT {kkt:e} {kb:e}");
        }
    }
}

/// The active-set Newton step of coordinate descent (`CdEngine`, proposed after 40, 80,
/// 160, … sweeps of an inner loop): an elastic net (mix 0.12) down to λ = 10⁻⁶·λ_max on a
/// square 60 × 60 design, whose last points keep every coefficient and are as
/// ill-conditioned as `X̃ᵀX̃/n` itself, is certified at every point (KKT re-derived here)
/// in a bounded number of sweeps with either kind of update. Without the Newton step (with
/// Anderson extrapolation alone) it took 6 799 614 sweeps with naive updates (23 s); with
/// it, 14 873 (naive) and 16 163 (covariance).
#[test]
fn square_elastic_net_path_lands_on_each_face_minimizer() {
    let x = common::correlated_design(60, 60, 0.5, 31);
    let y = common::normal_vector(60, 32);
    let v = DVector::from_element(x.nrows(), 1.0);
    let f = vec![1.0; x.ncols()];
    for covariance in [false, true] {
        let fit = Path::new(gauss(), 0.12)
            .lambda_min_ratio(Some(1e-6))
            .early_stop(false)
            .covariance_updates(covariance)
            .fit(&x, &y)
            .unwrap();
        eprintln!(
            "covariance {covariance}: {} sweeps, df {:?}",
            fit.sweeps(),
            fit.df().last()
        );
        assert!(fit.converged() && fit.len() == 100);
        assert!(
            fit.sweeps() <= 50_000,
            "covariance {covariance}: {} sweeps",
            fit.sweeps()
        );
        assert!(fit.df()[99] >= 55, "df {}", fit.df()[99]);
        for k in 0..fit.len() {
            let (kkt, kb) = independent_kkt(&x, &y, &v, &f, true, true, &fit, k);
            assert!(kkt <= 1e-8 && kb <= 1e-8, "point {k}: KKT {kkt:e} {kb:e}");
        }
    }
}

/// One row and no intercept: after standardization every column is ±1, the same column up
/// to sign (zero columns aside), and only the small L2 part of an elastic net decides how the
/// coefficients share it. Cyclic sweeps then move every coordinate by a hair per outer
/// iteration, the sweep over the working set and the cycle over the active set (in different
/// orders) each just above the threshold, so no inner loop is long enough to extrapolate:
/// the outer iterations are extrapolated too. A case of the property tests (`properties.rs`,
/// magnitudes from 1e-150 to 1e150 included) that reached its 600-iteration cap at the last
/// point before that (with inner extrapolation only) and took 1.3 million sweeps before any.
#[test]
fn one_row_of_duplicated_columns_converges() {
    let row = [
        0.0,
        2.729812425972078,
        9.518500158716745e+149,
        1.3358062711272813,
        0.0,
        0.0,
        1.0,
        -0.7343965710176666,
        2.4451200691518618,
        -0.26507616539483825,
        2.692309420035845,
        0.6209838916130034,
        -1.047916613290646e+150,
        0.0,
        1.79659671138287e-150,
        1.2942848342619325e+150,
        -2.8153472747016237,
        1.79659671138287e-150,
        -2.2394432022960133,
        0.3237308543258482,
        -0.26507616539483825,
        1e+150,
        -1.2170719323336894,
        -1.2170719323336894,
        0.17953578348440707,
        -0.5489399775683242,
        2.232414694500061,
        0.0,
        1.0,
        -0.9220782046738164,
        1.0,
        1e-150,
        0.4823916057630321,
        -0.5183782917423572,
        -0.9791699375969184,
        -1.4664390273005506e-150,
        -2.929241205230385e+150,
    ];
    let p = row.len();
    let x = DMatrix::from_row_slice(1, p, &row);
    let y = DVector::from_element(1, 0.0444162431178039);
    let fit = Path::new(
        likelihood::Gaussian::new(84.46475914353996).unwrap(),
        0.29387127681569775,
    )
    .n_lambda(4)
    .intercept(false)
    .max_iters(600)
    .fit(&x, &y)
    .unwrap();
    eprintln!("{} sweeps, df {:?}", fit.sweeps(), fit.df());
    assert!(fit.converged() && fit.len() == 4);
    assert!(fit.sweeps() <= 50_000, "{} sweeps", fit.sweeps());
    let v = DVector::from_element(1, 1.0);
    let f = vec![1.0; p];
    for k in 0..fit.len() {
        let (kkt, _) = independent_kkt(&x, &y, &v, &f, false, true, &fit, k);
        assert!(kkt <= 1e-8, "point {k}: KKT {kkt:e}");
    }
}
