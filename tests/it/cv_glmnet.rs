//! Cross-validation equals R cv.glmnet (thresh = 1e-30) with glmnet's fold ids: the CV curve
//! (cvm, cvsd) to 1e-6 relative, lambda.min and lambda.1se exactly.
//! Reference: tests/data/glmnet_cv_diabetes.json, written by
//! tests/data/scripts/glmnet_cv_reference.R.
use crate::common;

use mapfit::{likelihood, CrossValidation, Path};
use nalgebra::DVector;

#[test]
fn cv_curve_matches_cv_glmnet() {
    let (_, x, y) = common::diabetes();
    let r = common::json("glmnet_cv_diabetes.json");
    let foldid: Vec<usize> = r["foldid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_u64().unwrap() as usize)
        .collect();
    let w = DVector::from_vec(common::as_vec(&r["weights"]));
    let (mut worst_cvm, mut worst_cvsd): (f64, f64) = (0.0, 0.0);
    for (name, v) in r["variants"].as_object().unwrap() {
        let alpha = v["alpha"].as_f64().unwrap();
        let lambdas = common::as_vec(&v["lambda"]);
        let mut path = Path::new(likelihood::Gaussian::default(), alpha)
            .glmnet_lambda(true)
            .lambdas(lambdas.clone());
        if v["weighted"].as_bool().unwrap() {
            path = path.weights(w.clone());
        }
        let cv = CrossValidation::new(path)
            .fold_ids(foldid.clone())
            .fit(&x, &y)
            .unwrap();
        assert_eq!(cv.n_folds(), 10);
        assert_eq!(cv.lambdas(), &lambdas[..]);
        let rel = |a: &[f64], b: &[f64]| {
            a.iter()
                .zip(b)
                .map(|(p, q)| (p - q).abs() / q.abs())
                .fold(0.0, f64::max)
        };
        let dm = rel(cv.cvm(), &common::as_vec(&v["cvm"]));
        let ds = rel(cv.cvsd(), &common::as_vec(&v["cvsd"]));
        eprintln!(
            "{name}: cvm max rel diff {dm:.2e}, cvsd {ds:.2e}; lambda.min {} ({}), lambda.1se {} ({})",
            cv.lambda_min(),
            v["lambda_min"],
            cv.lambda_1se(),
            v["lambda_1se"]
        );
        assert_eq!(cv.lambda_min(), v["lambda_min"].as_f64().unwrap(), "{name}");
        assert_eq!(cv.lambda_1se(), v["lambda_1se"].as_f64().unwrap(), "{name}");
        worst_cvm = worst_cvm.max(dm);
        worst_cvsd = worst_cvsd.max(ds);
    }
    assert!(worst_cvm <= 1e-6, "cvm: {worst_cvm:e}");
    assert!(worst_cvsd <= 1e-6, "cvsd: {worst_cvsd:e}");
}
