//! Regularization paths equal R glmnet's (thresh = 1e-30) on the diabetes data, through the
//! one conversion function `from_glmnet_gaussian` and through `Path::glmnet_lambda`.
use crate::common;

use mapfit::path::from_glmnet_gaussian;
use mapfit::{compat, likelihood, Path};
use nalgebra::DVector;

fn gauss() -> likelihood::Gaussian {
    likelihood::Gaussian::default()
}

/// Path coefficients at the λ values of tests/data/glmnet_diabetes.json (a user grid of
/// three λ per penalty) match glmnet's fits to ≤ 1e-6 (relative to max(1, |b|)).
#[test]
fn path_matches_glmnet_fits_at_their_lambdas() {
    let (_, x, y) = common::diabetes();
    let r = common::json("glmnet_diabetes.json");
    let sy = r["y_sd_pop"].as_f64().unwrap();
    let mut worst: f64 = 0.0;
    let mut worst_compat: f64 = 0.0;
    let mut worst_dev: f64 = 0.0;
    for (variant, v) in r["variants"].as_object().unwrap() {
        let standardize = v["standardize"].as_bool().unwrap();
        let fits = v["fits"].as_array().unwrap();
        for pen in ["lasso", "enet", "ridge"] {
            let fs: Vec<_> = fits.iter().filter(|f| f["penalty"] == pen).collect();
            let alpha = fs[0]["alpha"].as_f64().unwrap();
            let glmnet_lambdas: Vec<f64> =
                fs.iter().map(|f| f["lambda"].as_f64().unwrap()).collect();
            let converted: Vec<(f64, f64)> = glmnet_lambdas
                .iter()
                .map(|&l| from_glmnet_gaussian(l, alpha, sy).unwrap())
                .collect();
            let mix = converted[0].1;
            for c in &converted {
                assert!(
                    (c.1 - mix).abs() <= 1e-15,
                    "the mix does not depend on lambda"
                );
            }
            let native = Path::new(gauss(), mix)
                .standardize(standardize)
                .lambdas(converted.iter().map(|c| c.0).collect())
                .fit(&x, &y)
                .unwrap();
            let compat_fit = Path::new(gauss(), alpha)
                .standardize(standardize)
                .glmnet_lambda(true)
                .lambdas(glmnet_lambdas.clone())
                .fit(&x, &y)
                .unwrap();
            // Both grids are already decreasing, so point k is fit k.
            for (k, f) in fs.iter().enumerate() {
                let beta = common::as_vec(&f["beta"]);
                let b0 = f["intercept"].as_f64().unwrap();
                let diff = |pf: &mapfit::PathFit| {
                    common::max_rel_diff(pf.coefficients(k).as_slice(), &beta)
                        .max((pf.intercept(k) - b0).abs() / b0.abs().max(1.0))
                };
                let d = diff(&native);
                let dc = diff(&compat_fit);
                let dd = (native.dev_ratio()[k] - f["dev_ratio"].as_f64().unwrap()).abs();
                eprintln!(
                    "{variant} {pen} λ={:.4}: native {d:.2e}, glmnet_lambda {dc:.2e}, dev.ratio {dd:.1e}",
                    glmnet_lambdas[k]
                );
                assert_eq!(native.df()[k] as u64, f["df"].as_u64().unwrap());
                for (a, b) in native.coefficients(k).iter().zip(&beta) {
                    if *b == 0.0 {
                        assert_eq!(*a, 0.0, "{variant} {pen}: exact zero expected");
                    }
                }
                worst = worst.max(d);
                worst_compat = worst_compat.max(dc);
                worst_dev = worst_dev.max(dd);
            }
        }
    }
    eprintln!(
        "worst: native {worst:.2e}, glmnet_lambda {worst_compat:.2e}, dev.ratio {worst_dev:.1e}"
    );
    assert!(worst <= 1e-6, "worst relative difference {worst:e}");
    assert!(
        worst_compat <= 1e-6,
        "worst relative difference {worst_compat:e}"
    );
    assert!(
        worst_dev <= 1e-9,
        "worst dev.ratio difference {worst_dev:e}"
    );
}

/// A 40-point path (lasso and elastic net, with and without weights) equals glmnet's full
/// path from tests/data/glmnet_cv_diabetes.json.
#[test]
fn forty_point_paths_match_glmnet() {
    let (_, x, y) = common::diabetes();
    let r = common::json("glmnet_cv_diabetes.json");
    let w = DVector::from_vec(common::as_vec(&r["weights"]));
    let mut worst: f64 = 0.0;
    for (name, v) in r["variants"].as_object().unwrap() {
        let alpha = v["alpha"].as_f64().unwrap();
        let lambdas = common::as_vec(&v["lambda"]);
        let mut path = Path::new(gauss(), alpha)
            .glmnet_lambda(true)
            .lambdas(lambdas);
        if v["weighted"].as_bool().unwrap() {
            path = path.weights(w.clone());
        }
        let fit = path.fit(&x, &y).unwrap();
        let a0 = common::as_vec(&v["a0"]);
        let mut d: f64 = 0.0;
        for (k, beta) in v["beta"].as_array().unwrap().iter().enumerate() {
            let beta = common::as_vec(beta);
            d = d
                .max(common::max_rel_diff(fit.coefficients(k).as_slice(), &beta))
                .max((fit.intercept(k) - a0[k]).abs() / a0[k].abs().max(1.0));
        }
        eprintln!(
            "{name}: max rel diff over 40 points {d:.2e} ({} sweeps)",
            fit.sweeps()
        );
        worst = worst.max(d);
    }
    assert!(worst <= 1e-6, "worst relative difference {worst:e}");
}

/// The one conversion function agrees with the glmnet prior of `compat::glmnet_gaussian`:
/// the same L1 and L2 weights.
#[test]
fn glmnet_conversion_matches_the_compat_prior() {
    use mapfit::prior::Prior;
    let n = 442.0;
    for &(lambda, alpha, sy) in &[
        (0.7, 1.0, 77.0),
        (0.7, 0.5, 77.0),
        (2.5, 0.0, 3.0),
        (1e-3, 0.2, 0.5),
    ] {
        let (l, m) = from_glmnet_gaussian(lambda, alpha, sy).unwrap();
        let el = compat::glmnet_gaussian(lambda, alpha, n, sy)
            .unwrap()
            .elastic(1)
            .unwrap();
        assert!((n * l * m - el.l1[0]).abs() <= 1e-12 * el.l1[0].max(1.0));
        assert!((n * l * (1.0 - m) - el.l2[0]).abs() <= 1e-12 * el.l2[0].max(1.0));
    }
    assert!(from_glmnet_gaussian(-1.0, 0.5, 1.0).is_err());
    assert!(from_glmnet_gaussian(1.0, 1.5, 1.0).is_err());
    assert!(from_glmnet_gaussian(1.0, 0.5, 0.0).is_err());
}
