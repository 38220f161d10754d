//! The L2 logistic MAP equals scikit-learn's LogisticRegression(C): sklearn minimizes
//! `C·Σ logloss + ½‖w‖²`, i.e. the Bernoulli likelihood with the Gaussian prior τ² = C.
//! Reference: tests/data/sklearn_logistic_l2.json (scikit-learn 1.9.1, newton-cholesky,
//! tol 1e-12), made by tests/data/scripts/glm_sklearn_logistic_l2.py.
use crate::common;

use mapfit::likelihood::Bernoulli;
use mapfit::prior::{Convention, Gaussian, Prior};
use mapfit::{Map, Method};

#[test]
fn l2_logistic_matches_sklearn() {
    let (_, x, y) = common::read_csv(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/logit_small.csv"),
        "y",
    );
    let r = common::json("sklearn_logistic_l2.json");
    let mut worst: f64 = 0.0;
    for f in r["fits"].as_array().unwrap() {
        let c = f["C"].as_f64().unwrap();
        let prior = Gaussian::new(c.sqrt()).unwrap(); // τ² = C
                                                      // the same prior through the λ convention: λ_sum = 1/C with σ² = 1
        let lam = prior.lambda(Convention::Sum { sigma2: 1.0 }).unwrap();
        assert!((lam - 1.0 / c).abs() < 1e-12 / c);
        let coef = common::as_vec(&f["coef"]);
        let b0 = f["intercept"].as_f64().unwrap();
        for method in [
            Method::NewtonTrustRegion,
            Method::Lbfgs,
            Method::ProximalNewton,
        ] {
            let fit = Map::new(Bernoulli, prior.clone())
                .method(method)
                .fit(&x, &y)
                .unwrap();
            let d = common::max_rel_diff(fit.coefficients().as_slice(), &coef)
                .max((fit.intercept() - b0).abs() / b0.abs().max(1.0));
            eprintln!(
                "C = {c}: {}: max rel diff {d:.2e}  {}",
                method.name(),
                fit.convergence()
            );
            assert!(fit.convergence().converged);
            worst = worst.max(d);
        }
    }
    eprintln!("worst {worst:.2e}");
    assert!(worst <= 1e-6, "worst relative difference {worst:e}");
}
