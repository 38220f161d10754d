//! `mapfit::ridge_path`: every point against the ridge closed form (Cholesky of the normal
//! equations, built here independently from the centered, scaled data), against `Path` with
//! mix 0, across the Gram, kernel and SVD factorizations, plus degrees of freedom, weights
//! and typed errors.

use mapfit::closed_form;
use mapfit::ridge_path::{Decomposition, Factorization, RidgePath};
use mapfit::{likelihood, Error, Path};
use nalgebra::{DMatrix, DVector};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// AR(1)-correlated columns with non-zero means and unequal scales, a sparse signal and noise.
fn data(n: usize, p: usize, seed: u64) -> (DMatrix<f64>, DVector<f64>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut normal = move || -> f64 {
        // Box–Muller from two uniforms (no extra dependency).
        let u1: f64 = rng.random::<f64>().max(1e-300);
        let u2: f64 = rng.random();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    };
    let mut x = DMatrix::zeros(n, p);
    for i in 0..n {
        let mut prev = normal();
        for j in 0..p {
            if j > 0 {
                prev = 0.5 * prev + 0.75f64.sqrt() * normal();
            }
            x[(i, j)] = (1.0 + (j % 5) as f64) * prev + 3.0 - 0.1 * j as f64;
        }
    }
    let y = DVector::from_fn(n, |i, _| {
        let signal: f64 = (0..p)
            .filter(|j| j % 7 == 2)
            .map(|j| x[(i, j)] * (1.0 - 0.05 * j as f64))
            .sum();
        2.0 + signal + normal()
    });
    (x, y)
}

/// Weighted means, the weighted population sd (about the mean with an intercept, about 0
/// without), and the transformed `X̃ = √v(X − x̄)/s`, `ỹ = √v(y − ȳ)` — written out here,
/// independently of the library.
struct Reference {
    xt: DMatrix<f64>,
    yt: DVector<f64>,
    xbar: DVector<f64>,
    ybar: f64,
    scales: DVector<f64>,
    nw: f64,
}

fn reference(
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    w: Option<&DVector<f64>>,
    intercept: bool,
    standardize: bool,
) -> Reference {
    let (n, p) = x.shape();
    let v = w.cloned().unwrap_or_else(|| DVector::from_element(n, 1.0));
    let nw = v.sum();
    let wmean = |f: &dyn Fn(usize) -> f64| (0..n).map(|i| v[i] * f(i)).sum::<f64>() / nw;
    let xbar = DVector::from_fn(p, |j, _| {
        if intercept {
            wmean(&|i| x[(i, j)])
        } else {
            0.0
        }
    });
    let ybar = if intercept { wmean(&|i| y[i]) } else { 0.0 };
    let scales = DVector::from_fn(p, |j, _| {
        if standardize {
            wmean(&|i| (x[(i, j)] - xbar[j]).powi(2)).sqrt()
        } else {
            1.0
        }
    });
    let xt = DMatrix::from_fn(n, p, |i, j| v[i].sqrt() * (x[(i, j)] - xbar[j]) / scales[j]);
    let yt = DVector::from_fn(n, |i, _| v[i].sqrt() * (y[i] - ybar));
    Reference {
        xt,
        yt,
        xbar,
        ybar,
        scales,
        nw,
    }
}

/// max |a − b| / max |b|.
fn rel_err(a: &DVector<f64>, b: &DVector<f64>) -> f64 {
    (a - b).amax() / b.amax().max(f64::MIN_POSITIVE)
}

/// Every point of `fit` against `closed_form::ridge(X̃, ỹ, nλ)` mapped back to the original
/// scale; returns the largest relative coefficient error (and checks the intercepts).
fn check_against_closed_form(fit: &mapfit::RidgePathFit, r: &Reference, tol: f64) -> f64 {
    let mut worst = 0.0f64;
    for k in 0..fit.len() {
        let u = closed_form::ridge(&r.xt, &r.yt, r.nw * fit.lambda(k)).unwrap();
        let w = u.component_div(&r.scales);
        let b = r.ybar - r.xbar.dot(&w);
        let got = fit.coefficients(k).into_owned();
        let e = rel_err(&got, &w);
        assert!(
            e <= tol,
            "point {k} (λ = {}): relative error {e:e} > {tol:e}",
            fit.lambda(k)
        );
        let scale = b.abs().max(r.ybar.abs()).max(1.0);
        assert!(
            (fit.intercept(k) - b).abs() <= tol * scale * 10.0,
            "intercept at point {k}: {} vs {b}",
            fit.intercept(k)
        );
        worst = worst.max(e);
    }
    worst
}

#[test]
fn gram_form_matches_closed_form_at_every_lambda() {
    // n ≥ p: the Gram form; p > TILE and n > one block of rows to exercise the blocking.
    let (x, y) = data(2000, 300, 1);
    let fit = RidgePath::new().n_lambda(40).fit(&x, &y).unwrap();
    assert_eq!(fit.factorization(), Factorization::GramTridiagonal);
    assert_eq!(fit.len(), 40);
    let r = reference(&x, &y, None, true, true);
    let e = check_against_closed_form(&fit, &r, 1e-10);
    println!("Gram form, 2000 × 300: max relative error {e:e}");
}

#[test]
fn kernel_form_matches_closed_form_at_every_lambda() {
    // p > n: the kernel form, with several blocks of columns.
    let (x, y) = data(600, 1000, 2);
    let fit = RidgePath::new().n_lambda(30).fit(&x, &y).unwrap();
    assert_eq!(fit.factorization(), Factorization::KernelTridiagonal);
    let r = reference(&x, &y, None, true, true);
    let e = check_against_closed_form(&fit, &r, 1e-10);
    println!("kernel form, 600 × 1000: max relative error {e:e}");
}

#[test]
fn svd_form_matches_closed_form_at_every_lambda() {
    for (n, p) in [(200, 50), (60, 150)] {
        let (x, y) = data(n, p, 3);
        let fit = RidgePath::new()
            .n_lambda(25)
            .decomposition(Decomposition::Svd)
            .fit(&x, &y)
            .unwrap();
        assert_eq!(fit.factorization(), Factorization::Svd);
        let r = reference(&x, &y, None, true, true);
        check_against_closed_form(&fit, &r, 1e-10);
    }
}

#[test]
fn all_forms_and_options_agree_with_the_closed_form() {
    let (x, y) = data(150, 40, 4);
    for intercept in [false, true] {
        for standardize in [false, true] {
            let r = reference(&x, &y, None, intercept, standardize);
            for d in [
                Decomposition::Gram,
                Decomposition::Kernel,
                Decomposition::Svd,
            ] {
                let fit = RidgePath::new()
                    .intercept(intercept)
                    .standardize(standardize)
                    .decomposition(d)
                    .n_lambda(20)
                    .lambda_min_ratio(Some(1e-3))
                    .fit(&x, &y)
                    .unwrap();
                check_against_closed_form(&fit, &r, 1e-10);
                if !intercept {
                    assert!(fit.intercepts().iter().all(|&b| b == 0.0));
                }
            }
        }
    }
}

#[test]
fn unstandardized_intercept_matches_ridge_with_intercept() {
    let (x, y) = data(300, 20, 5);
    let fit = RidgePath::new()
        .standardize(false)
        .lambdas(vec![0.5, 0.05, 0.005])
        .fit(&x, &y)
        .unwrap();
    for k in 0..fit.len() {
        let (w, b) = closed_form::ridge_with_intercept(&x, &y, 300.0 * fit.lambda(k)).unwrap();
        assert!(rel_err(&fit.coefficients(k).into_owned(), &w) <= 1e-10);
        assert!((fit.intercept(k) - b).abs() <= 1e-10 * b.abs().max(1.0));
    }
}

#[test]
fn weighted_fit_matches_the_weighted_closed_form() {
    let (x, y) = data(400, 30, 6);
    let v = DVector::from_fn(400, |i, _| {
        if i % 11 == 0 {
            0.0
        } else {
            0.5 + (i % 4) as f64
        }
    });
    let r = reference(&x, &y, Some(&v), true, true);
    for d in [
        Decomposition::Gram,
        Decomposition::Kernel,
        Decomposition::Svd,
    ] {
        let fit = RidgePath::new()
            .weights(v.clone())
            .decomposition(d)
            .n_lambda(15)
            .fit(&x, &y)
            .unwrap();
        assert_eq!(fit.weight_sum(), v.sum());
        check_against_closed_form(&fit, &r, 1e-10);
    }
}

#[test]
fn single_lambda_uses_cholesky_and_agrees_with_the_path() {
    let (x, y) = data(500, 60, 7);
    let path = RidgePath::new().n_lambda(10).fit(&x, &y).unwrap();
    for (d, fac) in [
        (Decomposition::Gram, Factorization::GramCholesky),
        (Decomposition::Kernel, Factorization::KernelCholesky),
    ] {
        let one = RidgePath::new()
            .decomposition(d)
            .lambdas(vec![path.lambda(6)])
            .fit(&x, &y)
            .unwrap();
        assert_eq!(one.factorization(), fac);
        let e = rel_err(
            &one.coefficients(0).into_owned(),
            &path.coefficients(6).into_owned(),
        );
        assert!(e <= 1e-10, "{fac:?}: {e:e}");
        let (df1, dfp) = (
            one.effective_df().unwrap()[0],
            path.effective_df().unwrap()[6],
        );
        assert!((df1 - dfp).abs() <= 1e-9 * dfp, "df {df1} vs {dfp}");
    }
}

#[test]
fn effective_df_is_the_trace_of_the_hat_matrix() {
    for (n, p) in [(120, 30), (40, 90)] {
        let (x, y) = data(n, p, 8);
        let r = reference(&x, &y, None, true, true);
        for d in [
            Decomposition::Gram,
            Decomposition::Kernel,
            Decomposition::Svd,
        ] {
            let fit = RidgePath::new()
                .decomposition(d)
                .n_lambda(12)
                .fit(&x, &y)
                .unwrap();
            let df = fit.effective_df().unwrap();
            for (k, (&got, &lambda)) in df.iter().zip(fit.lambdas()).enumerate() {
                let want = closed_form::effective_degrees_of_freedom(&r.xt, r.nw * lambda).unwrap();
                assert!(
                    (got - want).abs() <= 1e-9 * want.max(1.0),
                    "{d:?}, point {k}: {got} vs {want}"
                );
            }
            // Decreasing λ: more degrees of freedom, below min(n − 1, p).
            assert!(df.windows(2).all(|w| w[0] < w[1]));
            assert!(df[fit.len() - 1] < (n - 1).min(p) as f64 + 1e-9);
        }
        let off = RidgePath::new()
            .degrees_of_freedom(false)
            .n_lambda(3)
            .fit(&x, &y)
            .unwrap();
        assert!(off.effective_df().is_none());
    }
}

#[test]
fn same_grid_and_solutions_as_path_with_mix_zero() {
    let (x, y) = data(300, 25, 9);
    let ridge = RidgePath::new().n_lambda(30).fit(&x, &y).unwrap();
    let path = Path::new(likelihood::Gaussian::default(), 0.0)
        .n_lambda(30)
        .early_stop(false)
        .fit(&x, &y)
        .unwrap();
    assert_eq!(path.len(), ridge.len());
    for k in 0..ridge.len() {
        let (a, b) = (ridge.lambda(k), path.lambda(k));
        assert!((a - b).abs() <= 1e-13 * b, "grid point {k}: {a} vs {b}");
    }
    assert!((ridge.lambda_max() - path.lambda_max()).abs() <= 1e-13 * path.lambda_max());
    // Path stops coordinate descent on a relative duality gap of 1e-12 and a relative KKT
    // violation of 1e-11, so its coefficients carry errors of ~1e-8 relative.
    let mut worst = 0.0f64;
    for k in 0..ridge.len() {
        let e = rel_err(
            &path.coefficients(k).into_owned(),
            &ridge.coefficients(k).into_owned(),
        );
        worst = worst.max(e);
        assert!(e <= 1e-8, "point {k}: Path vs RidgePath {e:e}");
        let db = (path.intercept(k) - ridge.intercept(k)).abs();
        assert!(db <= 1e-6 * ridge.intercept(k).abs().max(1.0));
    }
    println!("Path (mix 0) vs RidgePath: max relative difference {worst:e}");
}

#[test]
fn same_as_path_on_a_user_grid_without_intercept_or_standardization() {
    let (x, y) = data(200, 15, 10);
    let grid = vec![0.01, 1.0, 0.1];
    let ridge = RidgePath::new()
        .intercept(false)
        .standardize(false)
        .lambdas(grid.clone())
        .fit(&x, &y)
        .unwrap();
    assert_eq!(ridge.lambdas(), &[1.0, 0.1, 0.01]); // sorted decreasing, as Path
    let path = Path::new(likelihood::Gaussian::default(), 0.0)
        .intercept(false)
        .standardize(false)
        .lambdas(grid)
        .fit(&x, &y)
        .unwrap();
    for k in 0..3 {
        assert_eq!(path.lambda(k), ridge.lambda(k));
        let e = rel_err(
            &path.coefficients(k).into_owned(),
            &ridge.coefficients(k).into_owned(),
        );
        assert!(e <= 1e-6, "point {k}: {e:e}");
    }
}

#[test]
fn prior_scale_and_predictions() {
    let (x, y) = data(100, 8, 11);
    let fit = RidgePath::new().n_lambda(5).fit(&x, &y).unwrap();
    let tau = fit.gaussian_scale(2, 4.0).unwrap();
    assert!((tau * tau * 100.0 * fit.lambda(2) - 4.0).abs() < 1e-12);
    let pred = fit.predict(&x, 4).unwrap();
    let want = &x * fit.coefficients(4) + DVector::from_element(100, fit.intercept(4));
    assert!((pred - want).amax() < 1e-12);
    assert!(matches!(
        fit.predict(&DMatrix::zeros(3, 7), 0),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        fit.gaussian_scale(0, -1.0),
        Err(Error::InvalidParameter { .. })
    ));
}

#[test]
fn small_and_degenerate_shapes() {
    // One column; one row; a constant column (zero scale: coefficient 0).
    let (x, y) = data(30, 1, 12);
    let fit = RidgePath::new().n_lambda(4).fit(&x, &y).unwrap();
    let r = reference(&x, &y, None, true, true);
    check_against_closed_form(&fit, &r, 1e-10);

    let x1 = DMatrix::from_row_slice(1, 3, &[1.0, 2.0, 3.0]);
    let y1 = DVector::from_element(1, 5.0);
    let fit = RidgePath::new().lambdas(vec![0.1]).fit(&x1, &y1).unwrap();
    assert_eq!(fit.coefficients(0).amax(), 0.0);
    assert_eq!(fit.intercept(0), 5.0);

    let (mut x, y) = data(50, 4, 13);
    x.column_mut(2).fill(7.0);
    for d in [
        Decomposition::Gram,
        Decomposition::Kernel,
        Decomposition::Svd,
    ] {
        let fit = RidgePath::new()
            .decomposition(d)
            .n_lambda(6)
            .fit(&x, &y)
            .unwrap();
        for k in 0..fit.len() {
            assert!(fit.coefficients(k)[2].abs() < 1e-12);
            assert!(fit.coefficients(k).iter().all(|v| v.is_finite()));
        }
    }
}

#[test]
fn typed_errors() {
    let (x, y) = data(20, 3, 14);
    let invalid =
        |r: mapfit::Result<mapfit::RidgePathFit>| matches!(r, Err(Error::InvalidParameter { .. }));
    assert!(invalid(
        RidgePath::new().lambdas(vec![0.1, -1.0]).fit(&x, &y)
    ));
    assert!(invalid(
        RidgePath::new().lambdas(vec![f64::NAN]).fit(&x, &y)
    ));
    assert!(invalid(RidgePath::new().lambdas(vec![0.0]).fit(&x, &y)));
    assert!(invalid(RidgePath::new().n_lambda(0).fit(&x, &y)));
    assert!(invalid(
        RidgePath::new().lambda_min_ratio(Some(1.5)).fit(&x, &y)
    ));
    assert!(matches!(
        RidgePath::new().lambdas(vec![]).fit(&x, &y),
        Err(Error::EmptyData { .. })
    ));
    assert!(matches!(
        RidgePath::new().fit(&x, &DVector::zeros(19)),
        Err(Error::DimensionMismatch { .. })
    ));
    let mut bad = x.clone();
    bad[(4, 1)] = f64::INFINITY;
    assert!(matches!(
        RidgePath::new().fit(&bad, &y),
        Err(Error::NonFinite { row: 4, col: 1, .. })
    ));
    assert!(matches!(
        RidgePath::new().fit(&DMatrix::zeros(0, 3), &DVector::zeros(0)),
        Err(Error::EmptyData { .. })
    ));
    assert!(matches!(
        RidgePath::new()
            .weights(DVector::from_element(20, -1.0))
            .fit(&x, &y),
        Err(Error::InvalidWeights { .. })
    ));
    // A constant response: λ_max = 0, no grid can be generated; a user grid works (w = 0).
    let c = DVector::from_element(20, 2.5);
    assert!(invalid(RidgePath::new().fit(&x, &c)));
    let fit = RidgePath::new().lambdas(vec![1.0]).fit(&x, &c).unwrap();
    assert_eq!(fit.coefficients(0).amax(), 0.0);
    assert_eq!(fit.intercept(0), 2.5);
}

#[test]
fn without_degrees_of_freedom_the_krylov_route_matches_the_closed_form() {
    // Gram form (p = 300 ≥ 128) and kernel form (n = 200), with weights, an intercept and
    // standardization: the Lanczos basis converges within its budget of m/4 steps, and every
    // point agrees with the closed form and with the tridiagonal route (degrees of freedom on).
    for (n, p, want) in [
        (1500, 300, Factorization::GramLanczos),
        (200, 700, Factorization::KernelLanczos),
    ] {
        let (x, y) = data(n, p, 11);
        let v = DVector::from_fn(n, |i, _| 0.5 + (i % 3) as f64);
        let r = reference(&x, &y, Some(&v), true, true);
        let base = RidgePath::new().weights(v.clone()).n_lambda(50);
        let fast = base.clone().degrees_of_freedom(false).fit(&x, &y).unwrap();
        assert_eq!(fast.factorization(), want, "{n} × {p}");
        assert!(fast.effective_df().is_none());
        let e = check_against_closed_form(&fast, &r, 1e-10);
        let reduced = base.fit(&x, &y).unwrap();
        assert_ne!(reduced.factorization(), want);
        let diff = (fast.coefficient_matrix() - reduced.coefficient_matrix()).amax()
            / reduced.coefficient_matrix().amax();
        assert!(diff <= 1e-11, "{n} × {p}: Krylov vs reduction {diff:e}");
        println!("{n} × {p}: {want:?}, closed form {e:e}, vs the reduction {diff:e}");
    }
}

#[test]
fn an_ill_conditioned_grid_falls_back_to_the_reduction() {
    // Unstandardized columns whose scales fall from 1 to 1e-4 (eigenvalues of XᵀX over eight
    // decades) and a grid down to 1e-10·λ_max: the shifted systems would need far more than
    // m/3 Krylov steps, so the fit reduces XᵀX after all — the same solutions as with the
    // degrees of freedom on — and is still exact.
    let (n, p) = (600, 160);
    let mut rng = StdRng::seed_from_u64(12);
    let x = DMatrix::from_fn(n, p, |_, j| {
        (rng.random::<f64>() - 0.5) * 10f64.powf(-4.0 * j as f64 / p as f64)
    });
    let y = DVector::from_fn(n, |i, _| {
        x[(i, 0)] + 100.0 * x[(i, p - 1)] + rng.random::<f64>()
    });
    let grid = |df: bool| {
        RidgePath::new()
            .standardize(false)
            .degrees_of_freedom(df)
            .n_lambda(30)
            .lambda_min_ratio(Some(1e-10))
            .fit(&x, &y)
            .unwrap()
    };
    let fit = grid(false);
    assert_eq!(fit.factorization(), Factorization::GramTridiagonal);
    assert_eq!(fit.coefficient_matrix(), grid(true).coefficient_matrix());
    let r = reference(&x, &y, None, true, false);
    check_against_closed_form(&fit, &r, 1e-6);
}
