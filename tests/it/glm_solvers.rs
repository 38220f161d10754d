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

/// Chord steps (proximal Newton's step 4: a model on the previous IRLS weights with the new
/// point's gradient) change the work, not the answer: a Poisson lasso solved to a relative
/// KKT violation of 1e-12 with and without them agrees to 1e-9, and with them takes fewer
/// outer iterations (each of which forms a new IRLS model and subproblem).
#[test]
fn chord_steps_save_newton_iterations_not_accuracy() {
    use argmin::core::{Executor, State};
    use mapfit::solve::ProximalNewton;
    use mapfit::{Design, MapProblem};
    use nalgebra::DMatrix;
    let (n, p) = (400, 20);
    let x = DMatrix::from_fn(n, p, |i, j| {
        ((((i * 31 + j * 17) * 7919) % 1000) as f64 / 1000.0 - 0.5) * 2.0
    });
    let y = DVector::from_fn(n, |i, _| {
        let eta = 0.5 + x[(i, 0)] - 0.7 * x[(i, 3)] + 0.4 * x[(i, 7)];
        (eta.exp() * 1.7 + (i % 3) as f64 * 0.4).floor()
    });
    let problem = MapProblem::new(
        Design::new(&x, &y).unwrap(),
        Poisson,
        Laplace::new(0.02).unwrap(),
        true,
    )
    .unwrap();
    let solve = |chords: u32| {
        let solver = ProximalNewton::new()
            .with_tolerance(1e-12)
            .unwrap()
            .with_chord_steps(chords);
        let res = Executor::new(problem.clone(), solver)
            .configure(|s| s.param(DVector::zeros(p + 1)).max_iters(100))
            .run()
            .unwrap();
        let iters = res.state().get_iter();
        let conv = res.solver().convergence(iters);
        assert!(conv.converged, "{chords} chord steps: {conv}");
        (res.state().get_param().unwrap().clone(), iters)
    };
    let (plain, plain_iters) = solve(0);
    let (chord, chord_iters) = solve(2);
    let zeros = plain.iter().take(p).filter(|&&w| w == 0.0).count();
    assert!(zeros > 0 && zeros < p, "{zeros} zero coefficients");
    let d = common::max_rel_diff(chord.as_slice(), plain.as_slice());
    assert!(d < 1e-9, "{d:e}");
    assert!(
        chord_iters < plain_iters,
        "{chord_iters} outer iterations with chord steps, {plain_iters} without"
    );
}
