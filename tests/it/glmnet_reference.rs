//! Coefficients equal R glmnet's (thresh = 1e-30) on the diabetes data.
use crate::common;

use mapfit::{compat, likelihood, Map};

#[test]
fn diabetes_gaussian_matches_glmnet() {
    let (_, x, y) = common::diabetes();
    let r = common::json("glmnet_diabetes.json");
    let sy = r["y_sd_pop"].as_f64().unwrap();
    let n = x.nrows() as f64;
    let mut worst: f64 = 0.0;
    for (variant, v) in r["variants"].as_object().unwrap() {
        let standardize = v["standardize"].as_bool().unwrap();
        for f in v["fits"].as_array().unwrap() {
            let lambda = f["lambda"].as_f64().unwrap();
            let alpha = f["alpha"].as_f64().unwrap();
            let prior = compat::glmnet_gaussian(lambda, alpha, n, sy).unwrap();
            let fit = Map::new(likelihood::Gaussian::default(), prior)
                .method(mapfit::Method::CoordinateDescent)
                .standardize(standardize)
                .fit(&x, &y)
                .unwrap();
            let beta = common::as_vec(&f["beta"]);
            let b0 = f["intercept"].as_f64().unwrap();
            let d = common::max_rel_diff(fit.coefficients().as_slice(), &beta)
                .max((fit.intercept() - b0).abs() / b0.abs().max(1.0));
            eprintln!(
                "{variant} {} λ={lambda:.4}: max rel diff {d:.2e}  {}",
                f["penalty"],
                fit.convergence()
            );
            for (a, b) in fit.coefficients().iter().zip(&beta) {
                if *b == 0.0 {
                    assert_eq!(*a, 0.0, "{variant} {}: exact zero expected", f["penalty"]);
                }
            }
            worst = worst.max(d);
        }
    }
    assert!(worst <= 1e-6, "worst relative difference {worst:e}");
}
