//! Issue 2 (6): priors and the likelihood are exact log-densities (checked against statrs),
//! the MAP cost is the negative log posterior up to the prior's normalizer, and the gradient
//! and Hessian of the cost are its derivatives (central finite differences).
use crate::common;

use argmin::core::{CostFunction, Gradient, Hessian};
use common::{correlated_design, normal_vector, positive_weights};
use mapfit::likelihood::Likelihood;
use mapfit::prior::{ElasticNet, Flat, Gaussian, Laplace, Prior};
use mapfit::{likelihood, Design, Map, MapProblem};
use nalgebra::{DMatrix, DVector};
use statrs::distribution::{Continuous, Laplace as StLaplace, Normal};

const TOL: f64 = 1e-12;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1.0)
}

fn coefficients() -> Vec<f64> {
    vec![0.3, -1.7, 0.0, 2.4, -0.05, 5.0]
}

/// `Σ_j ln N(w_j; 0, sd_j)` over the coordinates with a finite sd.
fn normal_sum(w: &[f64], sd: impl Fn(usize) -> f64) -> f64 {
    w.iter()
        .enumerate()
        .filter(|(j, _)| sd(*j).is_finite())
        .map(|(j, &a)| Normal::new(0.0, sd(j)).unwrap().ln_pdf(a))
        .sum()
}

/// `Σ_j ln Laplace(w_j; 0, b_j)` over the coordinates with a finite scale.
fn laplace_sum(w: &[f64], b: impl Fn(usize) -> f64) -> f64 {
    w.iter()
        .enumerate()
        .filter(|(j, _)| b(*j).is_finite())
        .map(|(j, &a)| StLaplace::new(0.0, b(j)).unwrap().ln_pdf(a))
        .sum()
}

#[test]
fn prior_log_densities_equal_statrs() {
    let w = coefficients();
    let mut checked = 0;
    let mut check = |label: &str, got: f64, want: f64| {
        eprintln!("{label}: {got:.15} vs statrs {want:.15}");
        assert!(close(got, want, TOL), "{label}: {got} vs {want}");
        checked += 1;
    };

    for tau in [0.1, 0.7, 3.0] {
        let prior = Gaussian::new(tau).unwrap();
        check(
            &format!("Gaussian τ={tau}"),
            prior.ln_density(&w),
            normal_sum(&w, |_| tau),
        );
    }
    let scales = [0.5, 1.0, 2.0, f64::INFINITY, 0.3, 1.7];
    check(
        "Gaussian per-coefficient (one ∞)",
        Gaussian::per_coefficient(&scales).unwrap().ln_density(&w),
        normal_sum(&w, |j| scales[j]),
    );
    // Penalty factor f_j: w_j ~ N(0, τ²/f_j); f_j = 0 is flat and contributes nothing.
    let factors = vec![1.0, 0.0, 2.5, 0.5, 4.0, 0.0];
    let tau = 0.8;
    check(
        "Gaussian with penalty factors",
        Gaussian::new(tau)
            .unwrap()
            .with_penalty_factors(factors.clone())
            .unwrap()
            .ln_density(&w),
        normal_sum(&w, |j| tau / factors[j].sqrt()),
    );
    for b in [0.05, 0.6, 4.0] {
        check(
            &format!("Laplace b={b}"),
            Laplace::new(b).unwrap().ln_density(&w),
            laplace_sum(&w, |_| b),
        );
    }
    check(
        "Laplace with penalty factors",
        Laplace::new(0.6)
            .unwrap()
            .with_penalty_factors(factors.clone())
            .unwrap()
            .ln_density(&w),
        laplace_sum(&w, |j| 0.6 / factors[j]),
    );
    // The elastic net degenerates to its two components.
    check(
        "ElasticNet(l1 = 1/b, l2 = 0) = Laplace",
        ElasticNet::with_weights(1.0 / 0.6, 0.0)
            .unwrap()
            .ln_density(&w),
        laplace_sum(&w, |_| 0.6),
    );
    check(
        "ElasticNet(l1 = 0, l2 = 1/τ²) = Gaussian",
        ElasticNet::with_weights(0.0, 1.0 / (0.7 * 0.7))
            .unwrap()
            .ln_density(&w),
        normal_sum(&w, |_| 0.7),
    );
    assert_eq!(checked, 11);

    for v in [w.clone(), vec![1e6, -1e-6], vec![0.0]] {
        assert_eq!(Flat.ln_density(&v), 0.0);
        assert_eq!(Flat.penalty(&v), 0.0);
    }
    // Log space: the Laplace log-density stays finite and exact far in the tails.
    let far = [1e4];
    let want = -1e4 / 0.5 - (2.0f64 * 0.5).ln();
    assert!(close(
        Laplace::new(0.5).unwrap().ln_density(&far),
        want,
        TOL
    ));
}

#[test]
fn gaussian_likelihood_is_the_normal_log_density() {
    let sigma2 = 2.3;
    let lik = likelihood::Gaussian::new(sigma2).unwrap();
    let sd = sigma2.sqrt();
    for (y, eta) in [(0.0, 0.0), (1.5, -0.3), (-4.0, 7.0), (100.0, 99.0)] {
        let want = Normal::new(eta, sd).unwrap().ln_pdf(y);
        assert!(close(-lik.nll(y, eta), want, TOL), "y={y} η={eta}");
        assert!(close(lik.nll_derivative(y, eta), (eta - y) / sigma2, TOL));
        assert_eq!(lik.nll_second_derivative(y, eta), 1.0 / sigma2);
    }
}

struct Data {
    x: DMatrix<f64>,
    y: DVector<f64>,
    v: DVector<f64>,
    offset: DVector<f64>,
}

fn data() -> Data {
    let (n, p) = (30, 6);
    let x = correlated_design(n, p, 0.4, 91);
    let y = normal_vector(n, 92) * 2.0 + DVector::from_element(n, 1.0);
    Data {
        x,
        y,
        v: positive_weights(n, 93),
        offset: normal_vector(n, 94) * 0.5,
    }
}

/// θ = (w, b) used to evaluate the objective.
fn theta(intercept: bool) -> DVector<f64> {
    let mut t = coefficients();
    if intercept {
        t.push(-0.8);
    }
    DVector::from_vec(t)
}

/// `Σᵢ vᵢ ln N(yᵢ; oᵢ + xᵢᵀw + b, σ²)`, written out with statrs.
fn statrs_log_likelihood(d: &Data, sigma2: f64, th: &DVector<f64>, intercept: bool) -> f64 {
    let p = d.x.ncols();
    let b = if intercept { th[p] } else { 0.0 };
    (0..d.x.nrows())
        .map(|i| {
            let eta = d.offset[i] + (0..p).map(|j| d.x[(i, j)] * th[j]).sum::<f64>() + b;
            d.v[i] * Normal::new(eta, sigma2.sqrt()).unwrap().ln_pdf(d.y[i])
        })
        .sum()
}

fn check_objective<P: Prior>(label: &str, prior: P, ln_prior: f64, intercept: bool) {
    let d = data();
    let sigma2 = 0.9;
    let design = Design::new(&d.x, &d.y)
        .unwrap()
        .with_weights(&d.v)
        .unwrap()
        .with_offset(&d.offset)
        .unwrap();
    let lik = likelihood::Gaussian::new(sigma2).unwrap();
    let pb = MapProblem::new(design, lik, prior.clone(), intercept).unwrap();
    let th = theta(intercept);
    let ln_lik = statrs_log_likelihood(&d, sigma2, &th, intercept);
    let p = d.x.ncols();
    let objective = pb.objective(&th);
    let want = -(ln_lik + ln_prior) + prior.ln_normalizer(p);
    eprintln!("{label}: objective {objective:.12} vs {want:.12}");
    assert!(close(objective, want, TOL), "{label}: objective");
    assert!(
        close(pb.cost(&th).unwrap(), want, TOL),
        "{label}: argmin cost"
    );
    assert!(close(pb.negative_log_likelihood(&th), -ln_lik, TOL));
    assert!(
        close(pb.ln_posterior(&th), ln_lik + ln_prior, TOL),
        "{label}: ln_posterior"
    );
}

#[test]
fn map_cost_is_the_negative_log_posterior_plus_the_prior_normalizer() {
    let w = coefficients();
    let factors = vec![1.0, 0.0, 2.5, 0.5, 4.0, 1.0];
    for intercept in [false, true] {
        check_objective(
            "Gaussian",
            Gaussian::new(0.6).unwrap(),
            normal_sum(&w, |_| 0.6),
            intercept,
        );
        check_objective(
            "Gaussian with factors",
            Gaussian::new(0.6)
                .unwrap()
                .with_penalty_factors(factors.clone())
                .unwrap(),
            normal_sum(&w, |j| 0.6 / factors[j].sqrt()),
            intercept,
        );
        check_objective(
            "Laplace",
            Laplace::new(0.4).unwrap(),
            laplace_sum(&w, |_| 0.4),
            intercept,
        );
        check_objective("Flat", Flat, 0.0, intercept);
    }
}

/// Central differences of the cost (gradient) and of the analytic gradient (Hessian).
fn check_derivatives<P: Prior>(label: &str, prior: P) {
    let d = data();
    for intercept in [false, true] {
        let design = Design::new(&d.x, &d.y)
            .unwrap()
            .with_weights(&d.v)
            .unwrap()
            .with_offset(&d.offset)
            .unwrap();
        let pb = MapProblem::new(
            design,
            likelihood::Gaussian::new(0.9).unwrap(),
            prior.clone(),
            intercept,
        )
        .unwrap();
        let th = theta(intercept);
        let k = th.len();
        let g = pb.cost_gradient(&th).unwrap();
        let hess = pb.cost_hessian(&th).unwrap();
        assert_eq!(pb.gradient(&th).unwrap(), g);
        assert_eq!(pb.hessian(&th).unwrap(), hess);
        let mut fd_g = DVector::zeros(k);
        let mut fd_h = DMatrix::zeros(k, k);
        for i in 0..k {
            let h = 1e-5 * th[i].abs().max(1.0);
            let mut plus = th.clone();
            let mut minus = th.clone();
            plus[i] += h;
            minus[i] -= h;
            fd_g[i] = (pb.objective(&plus) - pb.objective(&minus)) / (2.0 * h);
            let dg =
                (pb.cost_gradient(&plus).unwrap() - pb.cost_gradient(&minus).unwrap()) / (2.0 * h);
            fd_h.set_column(i, &dg);
        }
        let eg = (&fd_g - &g).amax() / g.amax();
        let eh = (&fd_h - &hess).amax() / hess.amax();
        eprintln!("{label} intercept={intercept}: gradient FD {eg:.1e}, Hessian FD {eh:.1e}");
        assert!(eg <= 1e-7, "{label}: gradient {eg:e}");
        assert!(eh <= 1e-7, "{label}: Hessian {eh:e}");
        assert!((&hess - hess.transpose()).amax() == 0.0, "symmetric");
    }
}

#[test]
fn gradient_and_hessian_match_finite_differences() {
    check_derivatives("Gaussian", Gaussian::new(0.6).unwrap());
    check_derivatives(
        "Gaussian with factors",
        Gaussian::new(0.6)
            .unwrap()
            .with_penalty_factors(vec![1.0, 0.0, 2.5, 0.5, 4.0, 1.0])
            .unwrap(),
    );
    check_derivatives(
        "Gaussian per-coefficient",
        Gaussian::per_coefficient(&[0.5, 1.0, 2.0, f64::INFINITY, 0.3, 1.7]).unwrap(),
    );
    check_derivatives("Flat", Flat);
    check_derivatives(
        "ElasticNet (l1 = 0)",
        ElasticNet::with_weights(0.0, 2.0).unwrap(),
    );
}

/// The fit reports the cost and log posterior of its own solution, and the solution is a
/// stationary point of the cost.
#[test]
fn fit_reports_its_objective_and_is_stationary() {
    let d = data();
    let sigma2 = 0.9;
    let prior = Gaussian::new(0.6).unwrap();
    let fit = Map::new(likelihood::Gaussian::new(sigma2).unwrap(), prior.clone())
        .weights(d.v.clone())
        .offset(d.offset.clone())
        .method(mapfit::Method::NewtonTrustRegion)
        .fit(&d.x, &d.y)
        .unwrap();
    let design = Design::new(&d.x, &d.y)
        .unwrap()
        .with_weights(&d.v)
        .unwrap()
        .with_offset(&d.offset)
        .unwrap();
    let pb = MapProblem::new(
        design,
        likelihood::Gaussian::new(sigma2).unwrap(),
        prior,
        true,
    )
    .unwrap();
    let mut th = fit.coefficients().clone().insert_row(6, 0.0);
    th[6] = fit.intercept();
    assert!(close(fit.objective(), pb.objective(&th), TOL));
    assert!(close(fit.ln_posterior(), pb.ln_posterior(&th), TOL));
    let g = pb.cost_gradient(&th).unwrap().norm();
    let g0 = pb.data_gradient(&DVector::zeros(7)).norm();
    eprintln!("relative gradient at the fit {:.1e}", g / g0);
    assert!(g / g0 <= 1e-9);
}
