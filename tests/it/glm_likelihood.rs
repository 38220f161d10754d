//! The Bernoulli and Poisson likelihoods: exact log-likelihoods (statrs), derivatives against
//! finite differences, numerical stability far in the tails, offsets as exposure.
use crate::common;

use mapfit::likelihood::{Bernoulli, Likelihood, Poisson};
use mapfit::prior::{Flat, Gaussian, Laplace};
use mapfit::{Design, Map, MapProblem};
use nalgebra::{DMatrix, DVector};
use statrs::distribution::{Bernoulli as StatBernoulli, Discrete, Poisson as StatPoisson};

const ETAS: [f64; 9] = [-30.0, -5.0, -1.3, -0.2, 0.0, 0.4, 2.2, 6.0, 25.0];

/// Central differences of `f` at `x` with a relative step.
fn diff(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let h = 1e-5 * x.abs().max(1.0);
    (f(x + h) - f(x - h)) / (2.0 * h)
}

fn check_derivatives<L: Likelihood>(lik: L, ys: &[f64]) -> (f64, f64) {
    let (mut worst1, mut worst2) = (0.0f64, 0.0f64);
    for &y in ys {
        for &eta in &ETAS {
            let g = lik.nll_derivative(y, eta);
            let fd = diff(|e| lik.nll(y, e), eta);
            let e1 = (g - fd).abs() / g.abs().max(1.0);
            let h = lik.nll_second_derivative(y, eta);
            let fd2 = diff(|e| lik.nll_derivative(y, e), eta);
            let e2 = (h - fd2).abs() / h.abs().max(1.0);
            assert!(e1 < 1e-7, "{} y={y} η={eta}: ℓ′ {g} vs {fd}", lik.name());
            assert!(e2 < 1e-7, "{} y={y} η={eta}: ℓ″ {h} vs {fd2}", lik.name());
            assert!(h >= 0.0);
            worst1 = worst1.max(e1);
            worst2 = worst2.max(e2);
        }
    }
    (worst1, worst2)
}

#[test]
fn derivatives_match_finite_differences() {
    let (b1, b2) = check_derivatives(Bernoulli, &[0.0, 1.0]);
    let (p1, p2) = check_derivatives(Poisson, &[0.0, 1.0, 3.0, 17.0]);
    eprintln!("Bernoulli: ℓ′ {b1:.1e}, ℓ″ {b2:.1e}; Poisson: ℓ′ {p1:.1e}, ℓ″ {p2:.1e}");
}

#[test]
fn nll_is_exact_against_statrs() {
    let mut worst = 0.0f64;
    for &eta in &ETAS[1..8] {
        let p = 1.0 / (1.0 + (-eta).exp());
        let b = StatBernoulli::new(p).unwrap();
        for k in 0..=1u64 {
            let e = (-Bernoulli.nll(k as f64, eta) - b.ln_pmf(k)).abs();
            worst = worst.max(e / b.ln_pmf(k).abs().max(1.0));
        }
        let po = StatPoisson::new(eta.exp()).unwrap();
        for k in 0..60u64 {
            let e = (-Poisson.nll(k as f64, eta) - po.ln_pmf(k)).abs();
            worst = worst.max(e / po.ln_pmf(k).abs().max(1.0));
        }
    }
    eprintln!("per-observation |ln p − statrs ln_pmf| (relative) ≤ {worst:.1e}");
    assert!(worst < 1e-12);
}

/// The data term of a problem is −Σ statrs ln_pmf, and the problem's gradient and Hessian
/// match finite differences of its cost.
fn check_problem<L: Likelihood>(
    lik: L,
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    lnpmf: impl Fn(f64, f64) -> f64,
) {
    let design = Design::new(x, y).unwrap();
    let prior = Gaussian::new(0.7).unwrap();
    let pb = MapProblem::new(design, lik.clone(), prior, true).unwrap();
    let theta = DVector::from_fn(pb.n_params(), |j, _| 0.3 * ((j as f64) * 1.7).sin());
    let eta = pb.linear_predictor(&theta);
    let exact: f64 = (0..y.len()).map(|i| -lnpmf(y[i], eta[i])).sum();
    let nll = pb.negative_log_likelihood(&theta);
    assert!(
        (nll - exact).abs() < 1e-11 * exact.abs(),
        "{nll} vs {exact}"
    );
    let g = pb.cost_gradient(&theta).unwrap();
    let h = pb.cost_hessian(&theta).unwrap();
    let (mut eg, mut eh) = (0.0f64, 0.0f64);
    for j in 0..pb.n_params() {
        let f = |t: f64| {
            let mut th = theta.clone();
            th[j] = t;
            pb.objective(&th)
        };
        eg = eg.max((g[j] - diff(f, theta[j])).abs() / g[j].abs().max(1.0));
        for k in 0..pb.n_params() {
            let gk = |t: f64| {
                let mut th = theta.clone();
                th[j] = t;
                pb.cost_gradient(&th).unwrap()[k]
            };
            eh = eh.max((h[(k, j)] - diff(gk, theta[j])).abs() / h[(k, j)].abs().max(1.0));
        }
    }
    eprintln!(
        "{}: nll vs −Σ statrs ln_pmf {:.1e}; gradient vs FD {eg:.1e}; Hessian vs FD {eh:.1e}",
        lik.name(),
        (nll - exact).abs() / exact.abs()
    );
    assert!(eg < 1e-6 && eh < 1e-6);
}

#[test]
fn problem_level_likelihood_gradient_hessian() {
    let (_, x, y) = common::read_csv(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/logit_small.csv"),
        "y",
    );
    let x = x.columns(0, 5).into_owned() * 0.2;
    check_problem(Bernoulli, &x, &y, |y, e| {
        StatBernoulli::new(1.0 / (1.0 + (-e).exp()))
            .unwrap()
            .ln_pmf(y as u64)
    });
    let (_, x, y) = common::read_csv(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/poisson_small.csv"),
        "y",
    );
    let x = x * 0.2;
    check_problem(Poisson, &x, &y, |y, e| {
        StatPoisson::new(e.exp()).unwrap().ln_pmf(y as u64)
    });
}

#[test]
fn extreme_linear_predictors_are_finite() {
    for &eta in &[-1e3, -745.5, -700.0, 700.0, 745.5, 1e3] {
        for &y in &[0.0, 1.0] {
            let b = Bernoulli;
            let v = [
                b.nll(y, eta),
                b.nll_derivative(y, eta),
                b.nll_second_derivative(y, eta),
            ];
            assert!(
                v.iter().all(|a| a.is_finite()),
                "Bernoulli y={y} η={eta}: {v:?}"
            );
            assert!(b.deviance(y, eta).is_finite() && b.mean(eta).is_finite());
        }
        for &y in &[0.0, 1.0, 12.0] {
            let p = Poisson;
            let v = [
                p.nll(y, eta),
                p.nll_derivative(y, eta),
                p.nll_second_derivative(y, eta),
            ];
            assert!(
                v.iter().all(|a| a.is_finite()),
                "Poisson y={y} η={eta}: {v:?}"
            );
            assert!(p.deviance(y, eta).is_finite());
        }
    }
    // exact values in the tails
    assert_eq!(Bernoulli.nll(1.0, -1e3), 1e3);
    assert_eq!(Bernoulli.nll(0.0, 1e3), 1e3);
    assert_eq!(Bernoulli.nll(0.0, -1e3), 0.0);
    assert_eq!(Poisson.nll(3.0, -1e3), 3e3 + 6f64.ln());
    // the objective, gradient and Hessian of a problem whose η reaches ±1e3
    let x = DMatrix::from_row_slice(4, 1, &[-1.0, -0.5, 0.5, 1.0]);
    for (lik_name, y) in [
        ("Bernoulli", [1.0, 0.0, 1.0, 0.0]),
        ("Poisson", [0.0, 2.0, 1.0, 5.0]),
    ] {
        let y = DVector::from_row_slice(&y);
        let theta = DVector::from_row_slice(&[1e3, 0.0]);
        let d = Design::new(&x, &y).unwrap();
        let vals = if lik_name == "Bernoulli" {
            let pb = MapProblem::new(d, Bernoulli, Flat, true).unwrap();
            (
                pb.objective(&theta),
                pb.cost_gradient(&theta).unwrap(),
                pb.cost_hessian(&theta).unwrap(),
            )
        } else {
            let pb = MapProblem::new(d, Poisson, Flat, true).unwrap();
            (
                pb.objective(&theta),
                pb.cost_gradient(&theta).unwrap(),
                pb.cost_hessian(&theta).unwrap(),
            )
        };
        assert!(vals.0.is_finite(), "{lik_name}");
        assert!(vals.1.iter().all(|a| a.is_finite()), "{lik_name}");
        assert!(vals.2.iter().all(|a| a.is_finite()), "{lik_name}");
    }
}

#[test]
fn a_wild_start_still_converges() {
    // Poisson with large counts: the first Newton steps overshoot to large η; the line search
    // and the finite continuation of exp keep the fit on track.
    let x = common::correlated_design(200, 4, 0.3, 17);
    let eta = DVector::from_fn(200, |i, _| 5.0 + 0.4 * x[(i, 0)] - 0.3 * x[(i, 2)]);
    let y = eta.map(|e| e.exp().round());
    let fit = Map::new(Poisson, Laplace::new(1.0).unwrap())
        .fit(&x, &y)
        .unwrap();
    assert!(fit.convergence().converged);
    assert!((fit.intercept() - 5.0).abs() < 0.05, "{}", fit.intercept());
    let fit = Map::new(Poisson, Flat).fit(&x, &y).unwrap();
    assert!(fit.convergence().converged);
}

#[test]
fn poisson_exposure_through_the_offset() {
    // Intercept-only Poisson with exposures t: the MLE rate is Σy/Σt.
    let t = DVector::from_row_slice(&[1.0, 2.5, 0.5, 4.0, 3.0, 1.5]);
    let y = DVector::from_row_slice(&[2.0, 4.0, 0.0, 9.0, 5.0, 3.0]);
    let x = DMatrix::from_element(6, 1, 0.0); // no covariate information
    let fit = Map::new(Poisson, Laplace::new(1.0).unwrap())
        .offset(t.map(f64::ln))
        .fit(&x, &y)
        .unwrap();
    let rate = y.sum() / t.sum();
    assert!(
        (fit.intercept() - rate.ln()).abs() < 1e-12,
        "{} vs {}",
        fit.intercept(),
        rate.ln()
    );
    // With a covariate: fitting with offset ln t equals fitting the same model where the
    // exposure is absorbed as a known coefficient-1 column (checked through the objective).
    let x = common::correlated_design(6, 1, 0.0, 3);
    let with_offset = Map::new(Poisson, Gaussian::new(1.0).unwrap())
        .offset(t.map(f64::ln))
        .fit(&x, &y)
        .unwrap();
    let eta = x.column(0) * with_offset.coefficients()[0]
        + t.map(f64::ln)
        + DVector::from_element(6, with_offset.intercept());
    // stationarity in the intercept: Σ(μ − y) = 0
    let s: f64 = eta.iter().zip(y.iter()).map(|(e, y)| e.exp() - y).sum();
    assert!(s.abs() < 1e-9, "{s}");
}

#[test]
fn weights_equal_repeated_rows() {
    let (_, x, y) = common::read_csv(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/logit_small.csv"),
        "y",
    );
    let x = x.rows(0, 60).into_owned();
    let y = y.rows(0, 60).into_owned();
    let w = DVector::from_fn(60, |i, _| (i % 3) as f64); // 0, 1, 2
    let rows: Vec<usize> = (0..60)
        .flat_map(|i| std::iter::repeat_n(i, i % 3))
        .collect();
    let xr = DMatrix::from_fn(rows.len(), x.ncols(), |r, j| x[(rows[r], j)]);
    let yr = DVector::from_fn(rows.len(), |r, _| y[rows[r]]);
    let prior = Laplace::new(0.5).unwrap();
    let a = Map::new(Bernoulli, prior.clone())
        .weights(w)
        .fit(&x, &y)
        .unwrap();
    let b = Map::new(Bernoulli, prior).fit(&xr, &yr).unwrap();
    let d = common::max_rel_diff(a.coefficients().as_slice(), b.coefficients().as_slice());
    eprintln!("weights vs repeated rows: {d:.1e}");
    assert!(d < 1e-9 && (a.intercept() - b.intercept()).abs() < 1e-9);
}
