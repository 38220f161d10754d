//! Issue 8, point 2: degenerate but legal data is handled, not rejected — one test per case,
//! each asserting the outcome the mathematics dictates (exact zeros where the MAP is exactly
//! zero, equal splits where symmetry forces them, the typed error where no MAP exists).

use mapfit::likelihood::{Bernoulli, Gaussian as GaussLik, Poisson};
use mapfit::prior::{Convention, ElasticNet, Flat, Gaussian, Laplace};
use mapfit::{closed_form, Error, Map, Method, Path};
use nalgebra::{DMatrix, DVector};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

fn normal_matrix(n: usize, p: usize, seed: u64) -> DMatrix<f64> {
    let mut r = StdRng::seed_from_u64(seed);
    DMatrix::from_fn(n, p, |_, _| StandardNormal.sample(&mut r))
}

/// `y = Xw + 0.5 + noise` with `w = (1, −0.5, 0.25, …)`.
fn linear_y(x: &DMatrix<f64>, seed: u64) -> DVector<f64> {
    let mut r = StdRng::seed_from_u64(seed);
    let w = DVector::from_fn(x.ncols(), |j, _| (-0.5f64).powi(j as i32));
    let mut y = x * w;
    for v in y.iter_mut() {
        let e: f64 = StandardNormal.sample(&mut r);
        *v += 0.5 + 0.3 * e;
    }
    y
}

/// 0/1 labels from a logistic model on `x` (not separable: the noise flips labels).
fn logistic_y(x: &DMatrix<f64>, seed: u64) -> DVector<f64> {
    let mut r = StdRng::seed_from_u64(seed);
    let w = DVector::from_fn(x.ncols(), |j, _| 0.8 * (-0.5f64).powi(j as i32));
    let eta = x * w;
    DVector::from_fn(x.nrows(), |i, _| {
        let e: f64 = StandardNormal.sample(&mut r);
        if eta[i] + e > 0.0 {
            1.0
        } else {
            0.0
        }
    })
}

fn mean_conv(n: usize) -> Convention {
    Convention::Mean {
        n: n as f64,
        sigma2: 1.0,
    }
}

fn rel_diff(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1e-300)
}

/// Inserts `col` as column `at` of `x`.
fn with_column(x: &DMatrix<f64>, at: usize, col: &DVector<f64>) -> DMatrix<f64> {
    let p = x.ncols();
    DMatrix::from_fn(x.nrows(), p + 1, |i, j| match j.cmp(&at) {
        std::cmp::Ordering::Less => x[(i, j)],
        std::cmp::Ordering::Equal => col[i],
        std::cmp::Ordering::Greater => x[(i, j - 1)],
    })
}

/// Constant columns carry no information once an intercept is fitted: with standardization
/// their coefficient is exactly 0 for every likelihood, prior and solver, and the other
/// coefficients are those of the fit without the column. The constants are chosen so that
/// their floating-point mean is not exact (0.1 summed 37 times is not 3.7).
#[test]
fn constant_columns_get_exactly_zero() {
    let n = 37;
    let x0 = normal_matrix(n, 3, 1);
    let y = linear_y(&x0, 2);
    let yb = logistic_y(&x0, 3);
    for &c in &[0.1, -7.3e5, 1e-160, 0.0] {
        let x = with_column(&x0, 1, &DVector::from_element(n, c));
        let check = |label: &str, with: &DVector<f64>, without: &DVector<f64>| {
            assert_eq!(
                with[1], 0.0,
                "{label}, constant {c}: coefficient {}",
                with[1]
            );
            for (j, k) in [(0, 0), (2, 1), (3, 2)] {
                assert!(
                    rel_diff(with[j], without[k]) < 1e-9,
                    "{label}, constant {c}: w[{j}] = {} vs {}",
                    with[j],
                    without[k]
                );
            }
        };
        // Gaussian likelihood: closed form (ridge), coordinate descent (lasso, elastic net),
        // and proximal Newton forced on the least-squares problem.
        let ridge = Gaussian::new(0.5).unwrap();
        let lasso = Laplace::from_lambda(0.02, mean_conv(n)).unwrap();
        let enet = ElasticNet::from_lambda(0.05, 0.5, mean_conv(n)).unwrap();
        macro_rules! both {
            ($label:expr, $lik:expr, $prior:expr, $y:expr, $method:expr) => {{
                let m = Map::new($lik, $prior).standardize(true).method($method);
                let with = m.fit(&x, $y).unwrap();
                let without = m.fit(&x0, $y).unwrap();
                check($label, with.coefficients(), without.coefficients());
                assert!(rel_diff(with.intercept(), without.intercept()) < 1e-9);
            }};
        }
        both!(
            "ridge",
            GaussLik::default(),
            ridge.clone(),
            &y,
            Method::Auto
        );
        both!(
            "lasso",
            GaussLik::default(),
            lasso.clone(),
            &y,
            Method::Auto
        );
        both!("enet", GaussLik::default(), enet.clone(), &y, Method::Auto);
        both!(
            "lasso/proximal Newton",
            GaussLik::default(),
            lasso.clone(),
            &y,
            Method::ProximalNewton
        );
        // Logistic regression: proximal Newton (Laplace) and trust-region Newton (Gaussian).
        both!(
            "logistic lasso",
            Bernoulli,
            lasso.clone(),
            &yb,
            Method::Auto
        );
        both!(
            "logistic ridge",
            Bernoulli,
            ridge.clone(),
            &yb,
            Method::Auto
        );
        both!(
            "logistic ridge/L-BFGS",
            Bernoulli,
            ridge,
            &yb,
            Method::Lbfgs
        );
        // The regularization path, lasso and elastic net.
        for mix in [1.0, 0.5] {
            let path = Path::new(GaussLik::default(), mix).n_lambda(15);
            let with = path.fit(&x, &y).unwrap();
            let without = path
                .clone()
                .lambdas(with.lambdas().to_vec())
                .fit(&x0, &y)
                .unwrap();
            for k in 0..with.len() {
                check(
                    &format!("path mix {mix}, point {k}"),
                    &with.coefficients(k).into_owned(),
                    &without.coefficients(k).into_owned(),
                );
            }
        }
    }
}

/// Duplicated columns: the lasso's total on the pair equals the single column's lasso
/// coefficient and never splits it into opposite signs; ridge and the elastic net split it
/// equally (their penalty is strictly convex), and ridge's split is the single-column ridge
/// fit under a prior of twice the variance (w₀ = w₁ = u/2 with u the coefficient at τ√2).
#[test]
fn duplicated_columns_lasso_selects_ridge_splits_equally() {
    let n = 80;
    let x0 = normal_matrix(n, 3, 11);
    let y = linear_y(&x0, 12);
    let x = with_column(&x0, 1, &x0.column(0).into_owned());
    // Ridge: closed form.
    let tau = 0.3;
    let dup = Map::new(GaussLik::default(), Gaussian::new(tau).unwrap())
        .fit(&x, &y)
        .unwrap();
    let single = Map::new(
        GaussLik::default(),
        Gaussian::per_coefficient(&[tau * 2f64.sqrt(), tau, tau]).unwrap(),
    )
    .fit(&x0, &y)
    .unwrap();
    let (w, u) = (dup.coefficients(), single.coefficients());
    assert!(
        rel_diff(w[0], w[1]) < 1e-10,
        "ridge split {} vs {}",
        w[0],
        w[1]
    );
    assert!(
        rel_diff(w[0], u[0] / 2.0) < 1e-10,
        "{} vs {}",
        w[0],
        u[0] / 2.0
    );
    assert!(rel_diff(w[2], u[1]) < 1e-10 && rel_diff(w[3], u[2]) < 1e-10);
    // Ridge along a path (mix 0) splits equally at every λ.
    let path = Path::new(GaussLik::default(), 0.0)
        .n_lambda(10)
        .fit(&x, &y)
        .unwrap();
    for k in 0..path.len() {
        let c = path.coefficients(k);
        assert!(
            rel_diff(c[0], c[1]) < 1e-9,
            "ridge path {k}: {} vs {}",
            c[0],
            c[1]
        );
    }
    // Elastic net: the grouping effect makes the split exactly equal as well.
    let enet = Map::new(
        GaussLik::default(),
        ElasticNet::from_lambda(0.05, 0.5, mean_conv(n)).unwrap(),
    )
    .fit(&x, &y)
    .unwrap();
    let c = enet.coefficients();
    assert!(
        c[0] != 0.0 && rel_diff(c[0], c[1]) < 1e-8,
        "{} vs {}",
        c[0],
        c[1]
    );
    // Lasso: one solution among many; the pair's total and sign are determined.
    for lambda in [0.01, 0.1, 0.3] {
        let prior = Laplace::from_lambda(lambda, mean_conv(n)).unwrap();
        let dup = Map::new(GaussLik::default(), prior.clone())
            .fit(&x, &y)
            .unwrap();
        let single = Map::new(GaussLik::default(), prior).fit(&x0, &y).unwrap();
        let (w, u) = (dup.coefficients(), single.coefficients());
        assert!(w[0] * w[1] >= 0.0, "opposite signs {} {}", w[0], w[1]);
        assert!(
            (w[0] + w[1] - u[0]).abs() < 1e-8 * u.amax().max(1.0),
            "λ {lambda}: {} + {} vs {}",
            w[0],
            w[1],
            u[0]
        );
        assert!(rel_diff(dup.objective(), single.objective()) < 1e-12);
        assert!(dup.convergence().converged);
    }
    let lasso_path = Path::new(GaussLik::default(), 1.0)
        .n_lambda(20)
        .fit(&x, &y)
        .unwrap();
    let single_path = Path::new(GaussLik::default(), 1.0)
        .lambdas(lasso_path.lambdas().to_vec())
        .fit(&x0, &y)
        .unwrap();
    for k in 0..lasso_path.len() {
        let (w, u) = (lasso_path.coefficients(k), single_path.coefficients(k));
        assert!(w[0] * w[1] >= 0.0);
        assert!(
            (w[0] + w[1] - u[0]).abs() < 1e-8 * u.amax().max(1.0),
            "point {k}"
        );
    }
}

/// p ≫ n: every proper prior gives a converged fit; the lasso has at most n − 1 non-zeros
/// (with an intercept); ridge satisfies its normal equations; the flat prior is singular.
#[test]
fn p_much_larger_than_n() {
    let (n, p) = (12, 300);
    let x = normal_matrix(n, p, 21);
    let y = linear_y(&x.columns(0, 3).into_owned(), 22);
    let ridge = Map::new(GaussLik::default(), Gaussian::new(0.2).unwrap())
        .intercept(false)
        .fit(&x, &y)
        .unwrap();
    // (XᵀX + I/τ²)w = Xᵀy, through the dual form.
    let w_dual = closed_form::ridge_dual(&x, &y, 1.0 / 0.04).unwrap();
    assert!((ridge.coefficients() - &w_dual).amax() < 1e-10 * w_dual.amax());
    let lasso = Map::new(
        GaussLik::default(),
        Laplace::from_lambda(0.05, mean_conv(n)).unwrap(),
    )
    .fit(&x, &y)
    .unwrap();
    assert!(lasso.convergence().converged);
    assert!(
        lasso.nonzeros() >= 1 && lasso.nonzeros() < n,
        "{}",
        lasso.nonzeros()
    );
    let path = Path::new(GaussLik::default(), 1.0)
        .n_lambda(30)
        .fit(&x, &y)
        .unwrap();
    assert!(path.converged());
    assert!(path.df().iter().all(|&d| d < n), "{:?}", path.df());
    assert!((path.lambda(path.len() - 1) / path.lambda(0)) >= 1e-2 * (1.0 - 1e-12));
    let logistic = Map::new(Bernoulli, Laplace::from_lambda(0.05, mean_conv(n)).unwrap())
        .fit(&x, &logistic_y(&x.columns(0, 3).into_owned(), 23));
    assert!(logistic.is_ok_and(|f| f.convergence().converged && f.nonzeros() < n));
    assert!(matches!(
        Map::new(GaussLik::default(), Flat).fit(&x, &y),
        Err(Error::Singular { .. })
    ));
}

/// A single column: the fits agree with the scalar formulas.
#[test]
fn single_column_matches_scalar_formulas() {
    let n = 25;
    let x = normal_matrix(n, 1, 31);
    let y = linear_y(&x, 32);
    let xm = x.column(0).mean();
    let ym = y.mean();
    let sxx: f64 = x.column(0).iter().map(|a| (a - xm) * (a - xm)).sum();
    let sxy: f64 = x
        .column(0)
        .iter()
        .zip(y.iter())
        .map(|(a, b)| (a - xm) * (b - ym))
        .sum();
    // Ridge: w = Sxy/(Sxx + σ²/τ²).
    let tau = 0.4;
    let fit = Map::new(GaussLik::default(), Gaussian::new(tau).unwrap())
        .fit(&x, &y)
        .unwrap();
    let w = sxy / (sxx + 1.0 / (tau * tau));
    assert!(rel_diff(fit.coefficients()[0], w) < 1e-12);
    assert!(rel_diff(fit.intercept(), ym - xm * w) < 1e-12);
    // Lasso: w = S(Sxy, σ²/b)/Sxx.
    let b = 0.2;
    let fit = Map::new(GaussLik::default(), Laplace::new(b).unwrap())
        .fit(&x, &y)
        .unwrap();
    let w = closed_form::soft_threshold(sxy, 1.0 / b) / sxx;
    assert!(
        rel_diff(fit.coefficients()[0], w) < 1e-10,
        "{} vs {w}",
        fit.coefficients()[0]
    );
    // A path of one column.
    let path = Path::new(GaussLik::default(), 1.0)
        .standardize(false)
        .n_lambda(8)
        .fit(&x, &y)
        .unwrap();
    for k in 0..path.len() {
        let l1 = path.lambda(k) * n as f64;
        let w = closed_form::soft_threshold(sxy, l1) / sxx;
        assert!(
            (path.coefficients(k)[0] - w).abs() < 1e-10 * w.abs().max(1e-3),
            "point {k}"
        );
    }
}

/// All-equal y: nothing to explain. Every coefficient is exactly 0 and the intercept is y
/// (the Gaussian likelihood, every prior, every solver; Poisson counts, whose intercept is
/// ln y); a generated path grid has no λ_max (typed error), a user grid is all zeros; for
/// 0/1 labels that are all equal with an intercept the MAP does not exist (typed error).
#[test]
fn all_equal_y_gives_zero_coefficients() {
    let n = 30;
    let x = normal_matrix(n, 4, 41);
    // −1e150 only through the closed form: coordinate descent's rounded ȳ leaves a residual
    // of 1e134 there (`cd_intercept_of_constant_response_is_exact`).
    let huge = DVector::from_element(n, -1e150);
    let f = Map::new(GaussLik::default(), Gaussian::new(1.0).unwrap())
        .fit(&x, &huge)
        .unwrap();
    assert_eq!(f.method(), Method::ClosedForm);
    assert!(f.coefficients().iter().all(|&a| a == 0.0) && f.intercept() == -1e150);
    for &c in &[3.7, 0.1, 0.0] {
        let y = DVector::from_element(n, c);
        for method in [
            Method::Auto,
            Method::CoordinateDescent,
            Method::ProximalNewton,
        ] {
            let fits = [
                Map::new(GaussLik::default(), Gaussian::new(1.0).unwrap())
                    .method(method)
                    .fit(&x, &y),
                Map::new(GaussLik::default(), Laplace::new(1.0).unwrap())
                    .method(method)
                    .fit(&x, &y),
                Map::new(
                    GaussLik::default(),
                    ElasticNet::from_lambda(0.1, 0.3, mean_conv(n)).unwrap(),
                )
                .standardize(true)
                .method(method)
                .fit(&x, &y),
            ];
            for (k, f) in fits.into_iter().enumerate() {
                let f = f.unwrap();
                if k == 0 && method != Method::Auto {
                    // Ridge by coordinate descent (also proximal Newton's inner solver) centers
                    // y with its own rounded mean: zero to rounding only
                    // (`cd_intercept_of_constant_response_is_exact`).
                    assert!(f.coefficients().amax() <= 1e-12 * c.abs());
                } else {
                    assert!(
                        f.coefficients().iter().all(|&a| a == 0.0),
                        "y = {c}, {} prior {k}: {}",
                        method.name(),
                        f.coefficients()
                    );
                }
                // The closed form is exact; coordinate descent's own mean of y is the rounded
                // Σyᵢ/n (see `cd_intercept_of_constant_response_is_exact`).
                if f.method() == Method::ClosedForm {
                    assert_eq!(f.intercept(), c);
                } else {
                    assert!(
                        (f.intercept() - c).abs() <= 4.0 * n as f64 * f64::EPSILON * c.abs(),
                        "{}: {} vs {c}",
                        method.name(),
                        f.intercept()
                    );
                }
            }
        }
        let user = Path::new(GaussLik::default(), 0.5)
            .lambdas(vec![1.0, 0.1, 1e-3])
            .fit(&x, &y)
            .unwrap();
        for k in 0..3 {
            assert!(user.coefficients(k).iter().all(|&a| a == 0.0));
            assert!((user.intercept(k) - c).abs() <= 4.0 * n as f64 * f64::EPSILON * c.abs());
        }
    }
    // A mean that is exact in floating point (3·30): the generated grid has no λ_max.
    // (For 3.7 see `path_on_constant_response_does_not_fit_rounding_noise`.)
    assert!(matches!(
        Path::new(GaussLik::default(), 1.0).fit(&x, &DVector::from_element(n, 3.0)),
        Err(Error::InvalidParameter {
            name: "lambda_max",
            ..
        })
    ));
    // Poisson: constant counts 4 → w = 0, b = ln 4 (exact zeros under the Laplace prior).
    let y = DVector::from_element(n, 4.0);
    let f = Map::new(Poisson, Laplace::new(1.0).unwrap())
        .fit(&x, &y)
        .unwrap();
    assert!(
        f.coefficients().iter().all(|&a| a == 0.0),
        "{}",
        f.coefficients()
    );
    assert!(rel_diff(f.intercept(), 4f64.ln()) < 1e-10);
    let f = Map::new(Poisson, Gaussian::new(1.0).unwrap())
        .fit(&x, &y)
        .unwrap();
    assert!(f.coefficients().amax() < 1e-10, "{}", f.coefficients());
    // All-one labels: the intercept would run to +∞.
    for y in [DVector::from_element(n, 1.0), DVector::zeros(n)] {
        let e = Map::new(Bernoulli, Gaussian::new(1.0).unwrap())
            .fit(&x, &y)
            .unwrap_err();
        assert!(matches!(e, Error::NoMode { .. }), "{e:?}");
    }
    // Without an intercept, a proper prior keeps the MAP finite.
    let f = Map::new(Bernoulli, Gaussian::new(1.0).unwrap())
        .intercept(false)
        .fit(&x, &DVector::from_element(n, 1.0))
        .unwrap();
    assert!(f.coefficients().iter().all(|a| a.is_finite()));
}

/// Columns scaled by 1e-150 … 1e150: with standardization the fit is the unscaled fit with
/// each coefficient divided by its column's scale (the prior applies to standardized
/// coefficients), for every solver.
#[test]
fn extreme_column_scales_are_standardized_away() {
    let n = 50;
    let x = normal_matrix(n, 5, 51);
    let y = linear_y(&x, 52);
    let yb = logistic_y(&x, 53);
    let s = [1e-150, 1e-50, 1.0, 1e50, 1e150];
    let xs = DMatrix::from_fn(n, 5, |i, j| x[(i, j)] * s[j]);
    let compare = |label: &str, a: &DVector<f64>, b: &DVector<f64>, ba: f64, bb: f64| {
        for j in 0..5 {
            let back = b[j] * s[j];
            assert!(
                (a[j] - back).abs() <= 1e-9 * a.amax().max(1e-12),
                "{label}: w[{j}] = {} vs {} (scaled {:e})",
                a[j],
                back,
                b[j]
            );
        }
        assert!(
            (ba - bb).abs() <= 1e-9 * ba.abs().max(1.0),
            "{label}: b {ba} vs {bb}"
        );
    };
    macro_rules! both {
        ($label:expr, $lik:expr, $prior:expr, $y:expr, $method:expr) => {{
            let m = Map::new($lik, $prior).standardize(true).method($method);
            let a = m.fit(&x, $y).unwrap();
            let b = m.fit(&xs, $y).unwrap();
            assert!(b.coefficients().iter().all(|v| v.is_finite()));
            compare(
                $label,
                a.coefficients(),
                b.coefficients(),
                a.intercept(),
                b.intercept(),
            );
        }};
    }
    let ridge = Gaussian::new(0.5).unwrap();
    let lasso = Laplace::from_lambda(0.02, mean_conv(n)).unwrap();
    let enet = ElasticNet::from_lambda(0.05, 0.5, mean_conv(n)).unwrap();
    both!(
        "ridge",
        GaussLik::default(),
        ridge.clone(),
        &y,
        Method::Auto
    );
    both!(
        "lasso",
        GaussLik::default(),
        lasso.clone(),
        &y,
        Method::Auto
    );
    both!("enet", GaussLik::default(), enet, &y, Method::Auto);
    both!("logistic lasso", Bernoulli, lasso, &yb, Method::Auto);
    both!(
        "logistic ridge",
        Bernoulli,
        ridge.clone(),
        &yb,
        Method::Auto
    );
    both!(
        "logistic ridge/L-BFGS",
        Bernoulli,
        ridge,
        &yb,
        Method::Lbfgs
    );
    for mix in [1.0, 0.5, 0.0] {
        let a = Path::new(GaussLik::default(), mix)
            .n_lambda(12)
            .fit(&x, &y)
            .unwrap();
        let b = Path::new(GaussLik::default(), mix)
            .lambdas(a.lambdas().to_vec())
            .fit(&xs, &y)
            .unwrap();
        assert!(rel_diff(a.lambda_max(), b.lambda_max()) < 1e-12);
        for k in 0..a.len() {
            compare(
                &format!("path mix {mix} point {k}"),
                &a.coefficients(k).into_owned(),
                &b.coefficients(k).into_owned(),
                a.intercept(k),
                b.intercept(k),
            );
        }
    }
}

/// λ = 0 (the flat prior) on a rank-deficient design has no unique MAP: a typed
/// `Error::Singular` (or `NoMode`) that suggests a proper prior; every proper prior is fine.
#[test]
fn zero_lambda_rank_deficient_flat_errors_proper_priors_fit() {
    let n = 40;
    let x0 = normal_matrix(n, 3, 61);
    // Column 3 = column 0 − 2·column 2: rank 3 of 4.
    let extra = x0.column(0) - x0.column(2) * 2.0;
    let x = with_column(&x0, 3, &extra.into_owned());
    let y = linear_y(&x0, 62);
    let yb = logistic_y(&x0, 63);
    for method in [Method::Auto, Method::ClosedForm, Method::NewtonTrustRegion] {
        let e = Map::new(GaussLik::default(), Flat)
            .method(method)
            .fit(&x, &y)
            .unwrap_err();
        assert!(
            matches!(e, Error::Singular { .. }),
            "{}: {e:?}",
            method.name()
        );
        assert!(e.to_string().contains("prior"), "{e}");
    }
    let e = Map::new(Bernoulli, Flat).fit(&x, &yb).unwrap_err();
    assert!(
        matches!(e, Error::Singular { .. } | Error::NoMode { .. }),
        "logistic, flat prior: {e:?}"
    );
    // ElasticNet with both weights 0 is the flat prior: refused at construction.
    assert!(matches!(
        ElasticNet::with_weights(0.0, 0.0),
        Err(Error::InvalidParameter { .. })
    ));
    // Proper priors: converged, finite.
    let fits: Vec<mapfit::Result<DVector<f64>>> = vec![
        Map::new(GaussLik::default(), Gaussian::new(10.0).unwrap())
            .fit(&x, &y)
            .map(|f| f.coefficients().clone()),
        Map::new(GaussLik::default(), Laplace::new(10.0).unwrap())
            .fit(&x, &y)
            .map(|f| f.coefficients().clone()),
        Map::new(
            GaussLik::default(),
            ElasticNet::from_lambda(1e-3, 0.5, mean_conv(n)).unwrap(),
        )
        .fit(&x, &y)
        .map(|f| f.coefficients().clone()),
        Map::new(Bernoulli, Gaussian::new(10.0).unwrap())
            .fit(&x, &yb)
            .map(|f| f.coefficients().clone()),
        Map::new(Bernoulli, Laplace::new(10.0).unwrap())
            .fit(&x, &yb)
            .map(|f| f.coefficients().clone()),
    ];
    for (k, f) in fits.into_iter().enumerate() {
        let w = f.unwrap_or_else(|e| panic!("proper prior {k}: {e}"));
        assert!(w.iter().all(|a| a.is_finite()), "{k}: {w}");
    }
    // The Gaussian prior's MAP on the rank-deficient design satisfies its normal equations.
    let tau = 10.0;
    let f = Map::new(GaussLik::default(), Gaussian::new(tau).unwrap())
        .intercept(false)
        .fit(&x, &y)
        .unwrap();
    let w = closed_form::ridge(&x, &y, 1.0 / (tau * tau)).unwrap();
    assert!((f.coefficients() - w).amax() < 1e-9);
}

/// A penalty above λ_max: every penalized coefficient is exactly zero (and the intercept is
/// the null model's), for the lasso and the elastic net, on the path and in `Map`.
#[test]
fn lambda_above_lambda_max_gives_exact_zeros() {
    let n = 60;
    let x = normal_matrix(n, 6, 71);
    let y = linear_y(&x, 72);
    let yb = logistic_y(&x, 73);
    for mix in [1.0, 0.5, 0.05] {
        let path = Path::new(GaussLik::default(), mix)
            .n_lambda(5)
            .fit(&x, &y)
            .unwrap();
        let lmax = path.lambda_max();
        assert!(path.coefficients(0).iter().all(|&a| a == 0.0));
        let above = Path::new(GaussLik::default(), mix)
            .lambdas(vec![lmax * 1e6, lmax * 2.0, lmax])
            .fit(&x, &y)
            .unwrap();
        for k in 0..3 {
            assert!(
                above.coefficients(k).iter().all(|&a| a == 0.0),
                "mix {mix} {k}"
            );
            assert!(rel_diff(above.intercept(k), y.mean()) < 1e-14);
        }
        // Below λ_max something enters.
        let below = Path::new(GaussLik::default(), mix)
            .lambdas(vec![lmax * 0.9])
            .fit(&x, &y)
            .unwrap();
        assert!(below.df()[0] > 0);
    }
    // Map: λ_max of the (unstandardized) lasso is max_j |x_jᵀ(y − ȳ)|/n in the mean
    // convention; Gaussian and Bernoulli likelihoods (σ² = 1), coordinate descent and
    // proximal Newton.
    for (label, yy) in [("gaussian", &y), ("bernoulli", &yb)] {
        let yc = yy.add_scalar(-yy.mean());
        let lmax = (x.tr_mul(&yc)).amax() / n as f64;
        for factor in [1.0 + 1e-9, 2.0, 1e8] {
            let lasso = Laplace::from_lambda(lmax * factor, mean_conv(n)).unwrap();
            let enet = ElasticNet::from_lambda(lmax * factor / 0.5, 0.5, mean_conv(n)).unwrap();
            let coefs = |f: mapfit::Result<DVector<f64>>| f.unwrap();
            let fits = if label == "gaussian" {
                vec![
                    coefs(
                        Map::new(GaussLik::default(), lasso.clone())
                            .fit(&x, yy)
                            .map(|f| f.coefficients().clone()),
                    ),
                    coefs(
                        Map::new(GaussLik::default(), enet)
                            .fit(&x, yy)
                            .map(|f| f.coefficients().clone()),
                    ),
                    coefs(
                        Map::new(GaussLik::default(), lasso)
                            .method(Method::ProximalNewton)
                            .fit(&x, yy)
                            .map(|f| f.coefficients().clone()),
                    ),
                ]
            } else {
                vec![
                    coefs(
                        Map::new(Bernoulli, lasso)
                            .fit(&x, yy)
                            .map(|f| f.coefficients().clone()),
                    ),
                    coefs(
                        Map::new(Bernoulli, enet)
                            .fit(&x, yy)
                            .map(|f| f.coefficients().clone()),
                    ),
                ]
            };
            for w in fits {
                assert!(w.iter().all(|&a| a == 0.0), "{label} ×{factor}: {w}");
            }
        }
        // Just below, something enters.
        let lasso = Laplace::from_lambda(lmax * 0.99, mean_conv(n)).unwrap();
        let f = if label == "gaussian" {
            Map::new(GaussLik::default(), lasso)
                .fit(&x, yy)
                .unwrap()
                .nonzeros()
        } else {
            Map::new(Bernoulli, lasso).fit(&x, yy).unwrap().nonzeros()
        };
        assert!(f > 0, "{label}");
    }
}

/// n = 1: with an intercept the data say nothing about the slopes (the centered row is 0),
/// so w = 0 exactly and b = y; without one, ridge is the scalar formula. A path or a
/// cross-validation needs more rows (typed errors); a single 0/1 label with an intercept
/// has no MAP.
#[test]
fn a_single_observation() {
    let x = DMatrix::from_row_slice(1, 3, &[0.3, -1.2, 2.0]);
    let y = DVector::from_element(1, 1.7);
    for f in [
        Map::new(GaussLik::default(), Gaussian::new(1.0).unwrap()).fit(&x, &y),
        Map::new(GaussLik::default(), Laplace::new(1.0).unwrap()).fit(&x, &y),
        Map::new(GaussLik::default(), Gaussian::new(1.0).unwrap())
            .standardize(true)
            .fit(&x, &y),
        Map::new(GaussLik::default(), Laplace::new(1.0).unwrap())
            .standardize(true)
            .fit(&x, &y),
    ] {
        let f = f.unwrap();
        assert!(
            f.coefficients().iter().all(|&a| a == 0.0),
            "{}",
            f.coefficients()
        );
        assert_eq!(f.intercept(), 1.7);
    }
    // No intercept, Gaussian prior τ: w = x·y/(‖x‖² + 1/τ²) (Sherman–Morrison).
    let tau = 0.8;
    let f = Map::new(GaussLik::default(), Gaussian::new(tau).unwrap())
        .intercept(false)
        .fit(&x, &y)
        .unwrap();
    let xx = x.norm_squared();
    for j in 0..3 {
        let expect = x[(0, j)] * 1.7 / (xx + 1.0 / (tau * tau));
        assert!(rel_diff(f.coefficients()[j], expect) < 1e-12);
    }
    // The flat prior with one row and an intercept: singular.
    assert!(matches!(
        Map::new(GaussLik::default(), Flat).fit(&x, &y),
        Err(Error::Singular { .. })
    ));
    // Bernoulli, one label, intercept: no mode; Poisson count 0 with intercept: no mode.
    assert!(matches!(
        Map::new(Bernoulli, Gaussian::new(1.0).unwrap()).fit(&x, &DVector::from_element(1, 1.0)),
        Err(Error::NoMode { .. })
    ));
    assert!(matches!(
        Map::new(Poisson, Gaussian::new(1.0).unwrap()).fit(&x, &DVector::zeros(1)),
        Err(Error::NoMode { .. })
    ));
    // A path on one row: every column is constant, λ_max = 0 — a typed error; a user grid
    // gives zeros.
    assert!(matches!(
        Path::new(GaussLik::default(), 1.0).fit(&x, &y),
        Err(Error::InvalidParameter { .. })
    ));
    let p = Path::new(GaussLik::default(), 1.0)
        .lambdas(vec![0.5])
        .fit(&x, &y)
        .unwrap();
    assert!(p.coefficients(0).iter().all(|&a| a == 0.0));
    assert_eq!(p.intercept(0), 1.7);
    // Cross-validation needs at least 2 folds of at least one row each.
    assert!(matches!(
        mapfit::CrossValidation::new(Path::new(GaussLik::default(), 1.0).lambdas(vec![0.5]))
            .folds(2)
            .fit(&x, &y),
        Err(Error::InvalidParameter {
            name: "number of folds",
            ..
        })
    ));
}

/// Coordinate descent's intercept for a constant response is the response itself and its
/// slopes are exactly 0 (as the closed form's are). A working mean ȳ computed as the rounded
/// `Σvᵢyᵢ/Σvᵢ` would be 3.700000000000002 for y ≡ 3.7, n = 30, and leave rounding noise to fit;
/// `CdEngine::new` takes it from `Design::weighted_mean`, which returns a common value exactly.
#[test]
fn cd_intercept_of_constant_response_is_exact() {
    let x = normal_matrix(30, 4, 41);
    let y = DVector::from_element(30, 3.7);
    let f = Map::new(GaussLik::default(), Laplace::new(1.0).unwrap())
        .fit(&x, &y)
        .unwrap();
    assert_eq!(f.method(), Method::CoordinateDescent);
    assert_eq!(f.intercept(), 3.7);
    // y ≡ −1e150: the residual 1e134 beats the L1 weight and the lasso "finds" slopes of 1e117.
    let f = Map::new(GaussLik::default(), Laplace::new(1.0).unwrap())
        .fit(&x, &DVector::from_element(30, -1e150))
        .unwrap();
    assert!(
        f.coefficients().iter().all(|&a| a == 0.0),
        "{}",
        f.coefficients()
    );
    // Ridge by coordinate descent: the rounded ȳ leaves a residual of ±2e-15 for the slopes
    // to fit, so they come out near 1e-32 instead of 0.
    for method in [Method::CoordinateDescent, Method::ProximalNewton] {
        let f = Map::new(GaussLik::default(), Gaussian::new(1.0).unwrap())
            .method(method)
            .fit(&x, &y)
            .unwrap();
        assert!(
            f.coefficients().iter().all(|&a| a == 0.0),
            "{}",
            f.coefficients()
        );
    }
}

/// A constant response has nothing for the penalized columns to explain: a generated path
/// grid must either be refused (λ_max = 0, the documented `InvalidParameter`) or be all
/// zeros. Centering y ≡ 3.7 (n = 30) with the rounded mean 3.700000000000002 would give
/// λ_max ≈ 4e-32 from the rounding residual and a path fitting it (df = [0, 3, 4, 4, 4]); with
/// y ≡ −1e150 the "coefficients" reached 1e117.
#[test]
fn path_on_constant_response_does_not_fit_rounding_noise() {
    let n = 30;
    let x = normal_matrix(n, 4, 41);
    for c in [3.7, 0.1, -1e150] {
        let y = DVector::from_element(n, c);
        match Path::new(GaussLik::default(), 1.0).n_lambda(5).fit(&x, &y) {
            Err(Error::InvalidParameter {
                name: "lambda_max", ..
            }) => {}
            Ok(p) => assert!(
                p.coefficient_matrix().iter().all(|&a| a == 0.0),
                "y ≡ {c}: λ_max {:e}, df {:?}, largest |w| {:e}",
                p.lambda_max(),
                p.df(),
                p.coefficient_matrix().amax()
            ),
            Err(e) => panic!("y ≡ {c}: {e:?}"),
        }
    }
}
