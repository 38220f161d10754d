//! Issue 2 (3–5): limits in λ, eigen-shrinkage and effective degrees of freedom, and the
//! Lagrange equivalence between a norm constraint and a prior (penalty).
use crate::common;

use common::{
    correlated_design, linear_response, ols_qr, ols_qr_with_intercept, positive_weights,
    rel_err_inf,
};
use mapfit::prior::Convention;
use mapfit::{closed_form, likelihood, prior, Map, Method};
use nalgebra::{DMatrix, DVector};

const SIGMA2: f64 = 0.8;

fn data(n: usize, p: usize, seed: u64) -> (DMatrix<f64>, DVector<f64>) {
    let x = correlated_design(n, p, 0.3, seed);
    let w = DVector::from_fn(p, |j, _| match j % 4 {
        0 => 2.0,
        1 => -1.5,
        2 => 0.0,
        _ => 0.7,
    });
    let y = linear_response(&x, &w, 3.0, 0.5, seed + 1);
    (x, y)
}

// ---------------------------------------------------------------------------------------------
// (3) λ → 0 and λ → ∞
// ---------------------------------------------------------------------------------------------

/// At a tiny λ (1e-8 in the sum convention) both the Gaussian and the Laplace prior give the
/// OLS solution (n > p), with and without an intercept. (The solution moves by O(λ), here
/// ~3e-10; for λ ≤ 1e-10 see `coordinate_descent_certifies_the_lasso_at_vanishing_lambda`.)
#[test]
fn vanishing_penalty_recovers_ols() {
    let (x, y) = data(50, 6, 31);
    let lambda = 1e-8;
    let conv = Convention::Sum { sigma2: SIGMA2 };
    let lik = likelihood::Gaussian::new(SIGMA2).unwrap();
    let mut worst = 0.0f64;
    for intercept in [false, true] {
        let (w_ols, b_ols) = if intercept {
            ols_qr_with_intercept(&x, &y)
        } else {
            (ols_qr(&x, &y), 0.0)
        };
        let gauss = prior::Gaussian::from_lambda(lambda, conv).unwrap();
        let laplace = prior::Laplace::from_lambda(lambda, conv).unwrap();
        let fits = [
            (
                "Gaussian / Newton",
                Map::new(lik, gauss.clone())
                    .intercept(intercept)
                    .method(Method::NewtonTrustRegion)
                    .fit(&x, &y)
                    .unwrap(),
            ),
            (
                "Gaussian / closed form",
                Map::new(lik, gauss)
                    .intercept(intercept)
                    .fit(&x, &y)
                    .unwrap(),
            ),
            (
                "Laplace / CD",
                Map::new(lik, laplace)
                    .intercept(intercept)
                    .fit(&x, &y)
                    .unwrap(),
            ),
        ];
        for (label, fit) in fits {
            let e = rel_err_inf(fit.coefficients(), &w_ols)
                .max((fit.intercept() - b_ols).abs() / b_ols.abs().max(1.0));
            eprintln!("λ→0 intercept={intercept} {label}: rel err vs OLS {e:.2e}");
            worst = worst.max(e);
        }
    }
    assert!(worst <= 1e-8, "worst {worst:e}");
}

/// Regression test for a bug found here (src/solve/coordinate.rs, `CdEngine::duality_gap`): at
/// λ ≤ 1e-10 coordinate descent found the lasso solution (KKT violation ~1e-14, OLS to ~1e-12)
/// but could not certify it. The dual point is the residual scaled by
/// `s = min(1, l1_j/|x̃_jᵀr|)`; at the optimum `|x̃_jᵀr| = l1_j` up to rounding (~1e-14), so
/// with a tiny `l1_j` the rounding alone made `1 − s ≈ 1e-14/l1_j` and added `½(1 − s)²‖r‖²`
/// to the gap (relative gap 1.3e-6 at λ = 1e-12 against the tolerance 1e-12): the fit ended
/// in `NotConverged`. The gap now forgives excess within the rounding bound of `x̃_jᵀr`.
#[test]
fn coordinate_descent_certifies_the_lasso_at_vanishing_lambda() {
    let (x, y) = data(50, 6, 31);
    let (w_ols, _) = ols_qr_with_intercept(&x, &y);
    for lambda in [1e-10, 1e-12] {
        let prior = prior::Laplace::from_lambda(lambda, Convention::Sum { sigma2: SIGMA2 });
        let fit = Map::new(likelihood::Gaussian::new(SIGMA2).unwrap(), prior.unwrap())
            .fit(&x, &y)
            .unwrap_or_else(|e| panic!("λ = {lambda}: {e}"));
        assert!(rel_err_inf(fit.coefficients(), &w_ols) <= 1e-8);
    }
}

/// For a Laplace prior, every coefficient is exactly 0 as soon as α = σ²/b exceeds
/// `λ_max = max_j |x̃_jᵀṽ(ỹ)|` (weighted, centered), and not before; the intercept is then the
/// weighted mean of y. For a Gaussian prior with a huge λ the coefficients are ~0 and the
/// intercept is the weighted mean too.
#[test]
fn overwhelming_penalty_zeroes_coefficients_and_leaves_the_weighted_mean() {
    let (x, y) = data(60, 8, 41);
    let (n, p) = x.shape();
    let v = positive_weights(n, 42);
    let sw = v.sum();
    let ybar = v.dot(&y) / sw;
    // λ_max of the weighted, centered problem, computed here.
    let xbar = DVector::from_fn(p, |j, _| v.dot(&x.column(j)) / sw);
    let lambda_max = (0..p)
        .map(|j| {
            (0..n)
                .map(|i| v[i] * (x[(i, j)] - xbar[j]) * (y[i] - ybar))
                .sum::<f64>()
                .abs()
        })
        .fold(0.0, f64::max);
    let lik = likelihood::Gaussian::new(SIGMA2).unwrap();
    let conv = Convention::Sum { sigma2: SIGMA2 };
    let laplace_fit = |alpha: f64| {
        Map::new(lik, prior::Laplace::from_lambda(alpha, conv).unwrap())
            .weights(v.clone())
            .fit(&x, &y)
            .unwrap()
    };
    for factor in [1.0 + 1e-9, 2.0, 1e6] {
        let fit = laplace_fit(factor * lambda_max);
        assert!(
            fit.coefficients().iter().all(|&a| a == 0.0),
            "α = {factor}·λ_max: {}",
            fit.coefficients()
        );
        let e = (fit.intercept() - ybar).abs() / ybar.abs();
        assert!(e <= 1e-13, "intercept vs weighted mean {e:e}");
    }
    let below = laplace_fit((1.0 - 1e-6) * lambda_max);
    assert_eq!(
        below.nonzeros(),
        1,
        "just below λ_max exactly one coefficient enters"
    );

    for method in [Method::ClosedForm, Method::NewtonTrustRegion] {
        let fit = Map::new(lik, prior::Gaussian::from_lambda(1e14, conv).unwrap())
            .weights(v.clone())
            .method(method)
            .fit(&x, &y)
            .unwrap();
        let wmax = fit.coefficients().amax();
        let e = (fit.intercept() - ybar).abs() / ybar.abs();
        eprintln!(
            "Gaussian λ = 1e14 {}: max|w| {wmax:.2e}, intercept rel err {e:.2e}",
            method.name()
        );
        assert!(wmax <= 1e-10 && e <= 1e-10);
    }
}

// ---------------------------------------------------------------------------------------------
// (4) Eigen-shrinkage and effective degrees of freedom
// ---------------------------------------------------------------------------------------------

#[test]
fn ridge_shrinks_ols_along_the_eigenvectors_of_the_gram_matrix() {
    let (x, y) = data(40, 7, 51);
    let h = x.tr_mul(&x);
    let w_ols = ols_qr(&x, &y);
    for alpha in [0.1, 5.0, 200.0] {
        let ridge = closed_form::ridge(&x, &y, alpha).unwrap();
        let shrunk = closed_form::eigen_shrinkage(&h, &w_ols, alpha).unwrap();
        let e = rel_err_inf(&shrunk, &ridge);
        eprintln!("α = {alpha}: eigen_shrinkage vs ridge {e:.2e}");
        assert!(e <= 1e-10);

        let (q, f) = closed_form::shrinkage_factors(&h, alpha).unwrap();
        assert!((q.tr_mul(&q) - DMatrix::identity(7, 7)).amax() < 1e-12);
        for i in 0..7 {
            let qi = q.column(i);
            // The eigenvalue from the Rayleigh quotient, and qᵢ an eigenvector.
            let li = qi.dot(&(&h * qi));
            assert!((&h * qi - qi * li).amax() <= 1e-10 * li);
            let expected = li / (li + alpha);
            assert!((f[i] - expected).abs() <= 1e-12, "factor {i}");
            // The ridge component along qᵢ is the OLS component times λᵢ/(λᵢ + α).
            let (cr, co) = (qi.dot(&ridge), qi.dot(&w_ols));
            assert!(
                (cr - expected * co).abs() <= 1e-10 * w_ols.amax(),
                "α = {alpha}, component {i}: {cr} vs {}",
                expected * co
            );
        }
    }
}

/// `df(λ) = tr X(XᵀX + λI)⁻¹Xᵀ`, computed directly, for n > p and n < p.
#[test]
fn effective_degrees_of_freedom_is_the_trace_of_the_hat_matrix() {
    let mut worst = 0.0f64;
    for (n, p, seed) in [(40, 7, 61), (12, 30, 62)] {
        let x = correlated_design(n, p, 0.5, seed);
        for lambda in [0.0, 0.3, 10.0, 1e4] {
            if lambda == 0.0 && n < p {
                continue; // XᵀX singular
            }
            let mut a = x.tr_mul(&x);
            for j in 0..p {
                a[(j, j)] += lambda;
            }
            let hat = &x * a.lu().solve(&x.transpose()).unwrap();
            let trace = hat.trace();
            let df = closed_form::effective_degrees_of_freedom(&x, lambda).unwrap();
            let e = (df - trace).abs() / trace;
            eprintln!("n={n} p={p} λ={lambda}: df {df:.6} vs trace {trace:.6} ({e:.1e})");
            worst = worst.max(e);
            if lambda == 0.0 {
                assert!((df - p as f64).abs() < 1e-10);
            }
            assert!(df < n.min(p) as f64 + 1e-9);
        }
    }
    assert!(worst <= 1e-10, "worst {worst:e}");
}

// ---------------------------------------------------------------------------------------------
// (5) Hard constraint ≡ penalty (Lagrange duality)
// ---------------------------------------------------------------------------------------------

/// Bisection for the λ ≥ 0 with `g(λ) = target`, `g` non-increasing, `g(hi) < target`.
fn bisect(mut g: impl FnMut(f64) -> f64, target: f64, mut hi: f64) -> f64 {
    while g(hi) >= target {
        hi *= 2.0;
    }
    let mut lo = 0.0;
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if g(mid) > target {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-15 * hi {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// Projected gradient descent on `½‖y − Xw‖²` with step `1/L`, L the largest eigenvalue of
/// `XᵀX`, until the iterate stops moving.
fn projected_gradient(
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    project: impl Fn(DVector<f64>) -> DVector<f64>,
) -> DVector<f64> {
    let h = x.tr_mul(x);
    let xty = x.tr_mul(y);
    let l = h.clone().symmetric_eigen().eigenvalues.max();
    let mut w = DVector::zeros(x.ncols());
    for _ in 0..200_000 {
        let next = project(&w - (&h * &w - &xty) / l);
        let step = (&next - &w).amax();
        w = next;
        if step <= 1e-15 * w.amax() {
            break;
        }
    }
    w
}

/// Euclidean projection onto `{w : ‖w‖₁ ≤ t}` (sort-based: find the threshold θ with
/// `Σ max(|vᵢ| − θ, 0) = t`).
fn project_l1_ball(v: DVector<f64>, t: f64) -> DVector<f64> {
    if v.lp_norm(1) <= t {
        return v;
    }
    let mut u: Vec<f64> = v.iter().map(|a| a.abs()).collect();
    u.sort_by(|a, b| b.partial_cmp(a).unwrap());
    let mut cum = 0.0;
    let mut theta = 0.0;
    for (k, &uk) in u.iter().enumerate() {
        cum += uk;
        let candidate = (cum - t) / (k + 1) as f64;
        if uk > candidate {
            theta = candidate;
        }
    }
    v.map(|a| a.signum() * (a.abs() - theta).max(0.0))
}

#[test]
fn l2_ball_constraint_equals_gaussian_prior() {
    let (x, y) = data(100, 6, 71);
    let w_ols = ols_qr(&x, &y);
    let t = 0.25 * w_ols.norm_squared();
    // λ (sum convention) whose ridge solution has ‖w‖² = t, by bisection on the closed form.
    let lambda = bisect(
        |l| closed_form::ridge(&x, &y, l).unwrap().norm_squared(),
        t,
        1.0,
    );
    // The constrained problem, solved without any penalty.
    let radius = t.sqrt();
    let w_con = projected_gradient(&x, &y, |w| {
        let nw = w.norm();
        if nw > radius {
            w * (radius / nw)
        } else {
            w
        }
    });
    assert!((w_con.norm_squared() - t).abs() <= 1e-12 * t, "active");
    let fit = Map::new(
        likelihood::Gaussian::new(SIGMA2).unwrap(),
        prior::Gaussian::from_lambda(lambda, Convention::Sum { sigma2: SIGMA2 }).unwrap(),
    )
    .intercept(false)
    .method(Method::NewtonTrustRegion)
    .fit(&x, &y)
    .unwrap();
    let e = rel_err_inf(fit.coefficients(), &w_con);
    eprintln!("‖w‖² ≤ {t:.4}: λ = {lambda:.6}, MAP vs projected gradient {e:.2e}");
    assert!(e <= 1e-6, "{e:e}");
}

#[test]
fn l1_ball_constraint_equals_laplace_prior() {
    let (x, y) = data(100, 8, 81);
    let w_ols = ols_qr(&x, &y);
    let t = 0.5 * w_ols.lp_norm(1);
    let lik = likelihood::Gaussian::new(SIGMA2).unwrap();
    let conv = Convention::Sum { sigma2: SIGMA2 };
    let lasso = |alpha: f64| {
        Map::new(lik, prior::Laplace::from_lambda(alpha, conv).unwrap())
            .intercept(false)
            .fit(&x, &y)
            .unwrap()
            .coefficients()
            .clone()
    };
    // α whose Laplace-prior MAP has ‖w‖₁ = t (‖w(α)‖₁ is continuous and non-increasing).
    let alpha = bisect(|a| lasso(a).lp_norm(1), t, 1.0);
    let w_map = lasso(alpha);
    let w_con = projected_gradient(&x, &y, |w| project_l1_ball(w, t));
    assert!((w_con.lp_norm(1) - t).abs() <= 1e-12 * t, "active");
    let e = rel_err_inf(&w_map, &w_con);
    let zeros = w_map.iter().filter(|&&a| a == 0.0).count();
    eprintln!("‖w‖₁ ≤ {t:.4}: α = {alpha:.6}, MAP vs projected gradient {e:.2e}, {zeros} zeros");
    assert!(e <= 1e-6, "{e:e}");
    // Same support: the constraint's solution is sparse exactly where the MAP is.
    assert!(zeros >= 1);
    for (a, c) in w_map.iter().zip(w_con.iter()) {
        assert_eq!(*a == 0.0, *c == 0.0, "supports differ: {w_map} vs {w_con}");
    }
}
