//! Bernoulli and Poisson MAP fits equal R glmnet's (glmnet 4.1-6, thresh = 1e-30) on
//! tests/data/logit_small.csv and poisson_small.csv: lasso and elastic net through proximal
//! Newton, ridge through the Newton trust region, standardize TRUE and FALSE.
use crate::common;

use mapfit::likelihood::{Bernoulli, Likelihood, Poisson};
use mapfit::{compat, Map, Method};

fn check_family<L: Likelihood>(lik: L, csv: &str, reference: &str) -> f64 {
    let (_, x, y) = common::read_csv(
        &format!("{}/tests/data/{csv}", env!("CARGO_MANIFEST_DIR")),
        "y",
    );
    let r = common::json(reference);
    let n = x.nrows() as f64;
    let mut worst: f64 = 0.0;
    for (variant, v) in r["variants"].as_object().unwrap() {
        let standardize = v["standardize"].as_bool().unwrap();
        for f in v["fits"].as_array().unwrap() {
            let lambda = f["lambda"].as_f64().unwrap();
            let alpha = f["alpha"].as_f64().unwrap();
            let prior = compat::glmnet_glm(lambda, alpha, n).unwrap();
            let map = Map::new(lik.clone(), prior).standardize(standardize);
            let expected = if alpha > 0.0 {
                Method::ProximalNewton
            } else {
                Method::NewtonTrustRegion
            };
            assert_eq!(map.resolved_method(x.ncols()), expected);
            let fit = map.fit(&x, &y).unwrap();
            let beta = common::as_vec(&f["beta"]);
            let b0 = f["intercept"].as_f64().unwrap();
            let d = common::max_rel_diff(fit.coefficients().as_slice(), &beta)
                .max((fit.intercept() - b0).abs() / b0.abs().max(1.0));
            eprintln!(
                "{} {variant} {} λ={lambda:.5}: max rel diff {d:.2e}  [{}] {}",
                lik.name(),
                f["penalty"],
                fit.method().name(),
                fit.convergence()
            );
            assert!(fit.convergence().converged);
            assert!(fit.convergence().value <= 1e-10);
            if alpha > 0.0 {
                for (a, b) in fit.coefficients().iter().zip(&beta) {
                    if *b == 0.0 {
                        assert_eq!(*a, 0.0, "{variant} {}: exact zero expected", f["penalty"]);
                    }
                }
            }
            worst = worst.max(d);
            if alpha == 0.0 {
                // the other smooth solver reaches the same point
                let lb = Map::new(lik.clone(), compat::glmnet_glm(lambda, alpha, n).unwrap())
                    .standardize(standardize)
                    .method(Method::Lbfgs)
                    .fit(&x, &y)
                    .unwrap();
                let dl = common::max_rel_diff(lb.coefficients().as_slice(), &beta)
                    .max((lb.intercept() - b0).abs() / b0.abs().max(1.0));
                eprintln!("    L-BFGS: max rel diff {dl:.2e}  {}", lb.convergence());
                assert!(lb.convergence().value <= 1e-10);
                worst = worst.max(dl);
            }
        }
    }
    worst
}

#[test]
fn logistic_matches_glmnet() {
    let worst = check_family(Bernoulli, "logit_small.csv", "glmnet_logit_small.json");
    eprintln!("logistic: worst relative difference {worst:.2e}");
    assert!(worst <= 1e-5, "worst relative difference {worst:e}");
}

#[test]
fn poisson_matches_glmnet() {
    let worst = check_family(Poisson, "poisson_small.csv", "glmnet_poisson_small.json");
    eprintln!("Poisson: worst relative difference {worst:.2e}");
    assert!(worst <= 1e-5, "worst relative difference {worst:e}");
}

/// Observation weights, a Poisson exposure offset and penalty factors against glmnet
/// (tests/data/glm_glmnet_extra.json, made by tests/data/scripts/glm_glmnet_extra.R).
#[test]
fn weights_offsets_and_penalty_factors_match_glmnet() {
    let r = common::json("glm_glmnet_extra.json");
    let mut worst: f64 = 0.0;
    for (name, case) in r["cases"].as_object().unwrap() {
        let csv = if case["family"] == "poisson" {
            "poisson_small.csv"
        } else {
            "logit_small.csv"
        };
        let (_, x, y) = common::read_csv(
            &format!("{}/tests/data/{csv}", env!("CARGO_MANIFEST_DIR")),
            "y",
        );
        let w = nalgebra::DVector::from_vec(common::as_vec(&case["weights"]));
        let offset = (!case["offset"].is_null())
            .then(|| nalgebra::DVector::from_vec(common::as_vec(&case["offset"])));
        let factors = (!case["penalty_factor_applied"].is_null())
            .then(|| common::as_vec(&case["penalty_factor_applied"]));
        for f in case["fits"].as_array().unwrap() {
            let lambda = f["lambda"].as_f64().unwrap();
            let alpha = f["alpha"].as_f64().unwrap();
            let standardize = f["standardize"].as_bool().unwrap();
            let mut prior = compat::glmnet_glm(lambda, alpha, w.sum()).unwrap();
            if let Some(fa) = &factors {
                prior = prior.with_penalty_factors(fa.clone()).unwrap();
            }
            let beta = common::as_vec(&f["beta"]);
            let b0 = f["intercept"].as_f64().unwrap();
            let fit = |lik_is_poisson: bool| -> (Vec<f64>, f64, String) {
                macro_rules! go {
                    ($lik:expr) => {{
                        let mut m = Map::new($lik, prior.clone())
                            .standardize(standardize)
                            .weights(w.clone());
                        if let Some(o) = &offset {
                            m = m.offset(o.clone());
                        }
                        assert_eq!(m.resolved_method(x.ncols()), Method::ProximalNewton);
                        let fit = m.fit(&x, &y).unwrap();
                        assert!(fit.convergence().converged);
                        (
                            fit.coefficients().as_slice().to_vec(),
                            fit.intercept(),
                            fit.convergence().to_string(),
                        )
                    }};
                }
                if lik_is_poisson {
                    go!(Poisson)
                } else {
                    go!(Bernoulli)
                }
            };
            let (coef, b, conv) = fit(case["family"] == "poisson");
            let d = common::max_rel_diff(&coef, &beta).max((b - b0).abs() / b0.abs().max(1.0));
            eprintln!(
                "{name} std={standardize} α={alpha} λ={lambda:.5}: max rel diff {d:.2e}  {conv}"
            );
            for (a, e) in coef.iter().zip(&beta) {
                if *e == 0.0 {
                    assert_eq!(*a, 0.0);
                }
            }
            worst = worst.max(d);
        }
    }
    eprintln!("weights/offset/factors: worst relative difference {worst:.2e}");
    assert!(worst <= 1e-5, "worst relative difference {worst:e}");
}
