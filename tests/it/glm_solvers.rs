//! Proximal Newton cross-checks: against coordinate descent on the Gaussian likelihood,
//! against OWL-QN and the smooth solvers, with p > n, without an intercept.
use crate::common;

use mapfit::likelihood::{Bernoulli, Gaussian, Poisson};
use mapfit::prior::{ElasticNet, Gaussian as GaussPrior, Laplace};
use mapfit::{Map, Measure, Method};
use nalgebra::DVector;

#[test]
fn gaussian_likelihood_agrees_with_coordinate_descent() {
    let (_, x, y) = common::diabetes();
    for &b in &[1e-3, 1e-1] {
        let prior = Laplace::new(b).unwrap();
        let cd = Map::new(Gaussian::new(3000.0).unwrap(), prior.clone())
            .method(Method::CoordinateDescent)
            .fit(&x, &y)
            .unwrap();
        let pn = Map::new(Gaussian::new(3000.0).unwrap(), prior)
            .method(Method::ProximalNewton)
            .fit(&x, &y)
            .unwrap();
        let d = common::max_rel_diff(pn.coefficients().as_slice(), cd.coefficients().as_slice());
        eprintln!(
            "Gaussian lasso b={b}: proximal Newton vs CD {d:.1e} ({})",
            pn.convergence()
        );
        assert!(d < 1e-8);
        assert!(pn.convergence().iterations <= 3);
    }
}

#[test]
fn ridge_through_proximal_newton_equals_trust_region() {
    let (_, x, y) = common::read_csv(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/poisson_small.csv"),
        "y",
    );
    let prior = GaussPrior::new(0.2).unwrap();
    let tr = Map::new(Poisson, prior.clone()).fit(&x, &y).unwrap();
    let pn = Map::new(Poisson, prior)
        .method(Method::ProximalNewton)
        .fit(&x, &y)
        .unwrap();
    assert_eq!(pn.convergence().measure, Measure::RelativeKkt);
    let d = common::max_rel_diff(pn.coefficients().as_slice(), tr.coefficients().as_slice());
    eprintln!("Poisson ridge: proximal Newton vs trust region {d:.1e}");
    assert!(d < 1e-9);
}

#[test]
fn more_coefficients_than_observations() {
    let (n, p) = (40, 120);
    let x = common::correlated_design(n, p, 0.4, 21);
    let e = common::normal_vector(n, 22);
    let y = DVector::from_fn(n, |i, _| {
        (x[(i, 0)] - x[(i, 1)] + 0.5 * x[(i, 2)] + e[i] > 0.0) as u8 as f64
    });
    let fit = Map::new(Bernoulli, Laplace::new(0.2).unwrap())
        .fit(&x, &y)
        .unwrap();
    eprintln!(
        "p > n logistic lasso: {} non-zeros, {}",
        fit.nonzeros(),
        fit.convergence()
    );
    assert!(fit.convergence().converged && fit.nonzeros() < n);
    // OWL-QN solves the same problem (no intercept, uniform Laplace) less tightly.
    let prior = Laplace::new(0.2).unwrap();
    let pn = Map::new(Bernoulli, prior.clone())
        .intercept(false)
        .fit(&x, &y)
        .unwrap();
    let ow = Map::new(Bernoulli, prior)
        .intercept(false)
        .method(Method::OwlQn)
        .allow_unconverged(true)
        .fit(&x, &y)
        .unwrap();
    let d = common::max_rel_diff(pn.coefficients().as_slice(), ow.coefficients().as_slice());
    eprintln!(
        "no intercept: proximal Newton ({}) vs OWL-QN ({}): {d:.1e}; objectives {:.12} vs {:.12}",
        pn.convergence(),
        ow.convergence(),
        pn.objective(),
        ow.objective()
    );
    assert!(pn.objective() <= ow.objective() + 1e-9 * pn.objective().abs());
    assert!(d < 1e-4);
}

#[test]
fn tolerance_and_convergence_record() {
    let (_, x, y) = common::read_csv(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/logit_small.csv"),
        "y",
    );
    let prior = ElasticNet::with_weights(3.0, 2.0).unwrap();
    let m = Map::new(Bernoulli, prior);
    assert_eq!(m.resolved_method(20), Method::ProximalNewton);
    let loose = m.clone().tolerance(1e-4).unwrap().fit(&x, &y).unwrap();
    let tight = m.fit(&x, &y).unwrap();
    let c = loose.convergence();
    assert_eq!(c.measure, Measure::RelativeKkt);
    assert_eq!(c.tolerance, 1e-4);
    assert!(c.converged && c.value <= 1e-4);
    assert!(tight.convergence().value <= 1e-10);
    assert!(tight.convergence().iterations >= c.iterations);
    // capped iterations: NotConverged with the achieved measure
    let e = Map::new(Bernoulli, Laplace::new(0.5).unwrap())
        .max_iters(1)
        .fit(&x, &y)
        .unwrap_err();
    assert!(
        matches!(
            e,
            mapfit::Error::NotConverged {
                measure: Measure::RelativeKkt,
                ..
            }
        ),
        "{e}"
    );
}
