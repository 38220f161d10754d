//! Existence of the MAP: separable classes and all-zero counts have no mode with a flat prior
//! (Error::NoMode), and a finite one with a Gaussian or Laplace prior on the coefficients.
use crate::common;

use mapfit::likelihood::{Bernoulli, Poisson};
use mapfit::prior::{Flat, Gaussian, Laplace};
use mapfit::{Error, Map, Method};
use nalgebra::{DMatrix, DVector};

/// n × 2 standard normal design, y = 1 where x₁ + 0.5·x₂ > 0.3 (completely separable).
fn separable(n: usize, seed: u64) -> (DMatrix<f64>, DVector<f64>) {
    let x = common::correlated_design(n, 2, 0.3, seed);
    let y = DVector::from_fn(n, |i, _| {
        if x[(i, 0)] + 0.5 * x[(i, 1)] > 0.3 {
            1.0
        } else {
            0.0
        }
    });
    (x, y)
}

fn expect_no_mode<T: std::fmt::Debug>(r: mapfit::Result<T>, words: &[&str]) -> String {
    match r {
        Err(Error::NoMode { reason }) => {
            for w in words {
                assert!(reason.contains(w), "message lacks '{w}': {reason}");
            }
            reason
        }
        other => panic!("expected NoMode, got {other:?}"),
    }
}

#[test]
fn separable_classes_flat_prior_has_no_mode() {
    for seed in 0..5 {
        let (x, y) = separable(60, seed);
        for method in [Method::Auto, Method::Lbfgs] {
            let r = Map::new(Bernoulli, Flat).method(method).fit(&x, &y);
            let msg = expect_no_mode(r, &["separable", "Gaussian", "Laplace"]);
            if seed == 0 {
                eprintln!("{method:?}: {msg}");
            }
        }
        // Standardized, and without an intercept (separable through the origin after
        // shifting the threshold into a column).
        let r = Map::new(Bernoulli, Flat).standardize(true).fit(&x, &y);
        expect_no_mode(r, &["separable"]);
    }
}

#[test]
fn quasi_separable_classes_flat_prior_has_no_mode() {
    // x₁ < 0 → y = 0, x₁ > 0 → y = 1, and a block at x₁ = 0 with both classes: the MLE of the
    // x₁ coefficient is +∞ while the rest of the fit stays finite.
    let n = 80;
    let z = common::normal_vector(n, 7);
    let x = DMatrix::from_fn(n, 2, |i, j| {
        if j == 1 {
            z[i]
        } else if i < 20 {
            0.0
        } else if i % 2 == 0 {
            1.0 + z[i].abs()
        } else {
            -1.0 - z[i].abs()
        }
    });
    let y = DVector::from_fn(n, |i, _| {
        if i < 20 {
            (i % 3 == 0) as u8 as f64
        } else {
            (x[(i, 0)] > 0.0) as u8 as f64
        }
    });
    let r = Map::new(Bernoulli, Flat).fit(&x, &y);
    expect_no_mode(r, &["separable"]);
    let fit = Map::new(Bernoulli, Gaussian::new(1.0).unwrap())
        .fit(&x, &y)
        .unwrap();
    assert!(fit.convergence().converged);
}

#[test]
fn separable_classes_proper_prior_has_a_mode() {
    for seed in 0..5 {
        let (x, y) = separable(60, seed);
        let g = Map::new(Bernoulli, Gaussian::new(3.0).unwrap())
            .fit(&x, &y)
            .unwrap();
        assert_eq!(g.method(), Method::NewtonTrustRegion);
        assert!(g.convergence().converged && g.convergence().value <= 1e-10);
        assert!(g
            .coefficients()
            .iter()
            .all(|a| a.is_finite() && a.abs() < 100.0));
        // classes are the thresholded probabilities
        let prob = g.predict(&x).unwrap();
        let class = g.predict_class(&x).unwrap();
        for (p, c) in prob.iter().zip(class.iter()) {
            assert_eq!(*c, if *p > 0.5 { 1.0 } else { 0.0 });
        }
        let l = Map::new(Bernoulli, Laplace::new(2.0).unwrap())
            .fit(&x, &y)
            .unwrap();
        assert_eq!(l.method(), Method::ProximalNewton);
        assert!(l.convergence().converged && l.convergence().value <= 1e-10);
        assert!(l
            .coefficients()
            .iter()
            .all(|a| a.is_finite() && a.abs() < 100.0));
        if seed == 0 {
            eprintln!(
                "separable, Gaussian(3): w = {:?}, b = {:.4} ({}); Laplace(2): w = {:?} ({})",
                g.coefficients().as_slice(),
                g.intercept(),
                g.convergence(),
                l.coefficients().as_slice(),
                l.convergence()
            );
        }
    }
}

#[test]
fn one_class_only_has_no_mode_with_an_intercept() {
    let x = common::correlated_design(30, 3, 0.2, 3);
    let y = DVector::from_element(30, 1.0);
    for r in [
        Map::new(Bernoulli, Flat).fit(&x, &y).map(|_| ()),
        Map::new(Bernoulli, Gaussian::new(1.0).unwrap())
            .fit(&x, &y)
            .map(|_| ()),
        Map::new(Bernoulli, Laplace::new(1.0).unwrap())
            .fit(&x, &y)
            .map(|_| ()),
    ] {
        expect_no_mode(r, &["class 1", "intercept"]);
    }
    // Without the intercept a proper prior gives a finite MAP.
    let fit = Map::new(Bernoulli, Gaussian::new(1.0).unwrap())
        .intercept(false)
        .fit(&x, &y)
        .unwrap();
    assert!(fit.convergence().converged);
}

#[test]
fn poisson_all_zero_counts() {
    let x = common::correlated_design(40, 3, 0.2, 11);
    let y = DVector::zeros(40);
    let msg = expect_no_mode(Map::new(Poisson, Flat).fit(&x, &y), &["zero"]);
    eprintln!("Poisson, all zero, flat: {msg}");
    // The intercept's prior is flat whatever the coefficients' prior: still no mode.
    expect_no_mode(
        Map::new(Poisson, Gaussian::new(1.0).unwrap()).fit(&x, &y),
        &["intercept"],
    );
    expect_no_mode(
        Map::new(Poisson, Laplace::new(1.0).unwrap()).fit(&x, &y),
        &["intercept"],
    );
    // Flat prior without intercept: a finite MLE when no direction makes every η → −∞
    // (centred normal columns) ...
    let mle = Map::new(Poisson, Flat)
        .intercept(false)
        .fit(&x, &y)
        .unwrap();
    assert!(mle.convergence().converged);
    // ... and none when one does (an all-positive column).
    let xpos = x.map(|a| 1.0 + a.abs());
    expect_no_mode(
        Map::new(Poisson, Flat).intercept(false).fit(&xpos, &y),
        &["zero"],
    );
    // Proper priors without an intercept: finite MAP.
    let g = Map::new(Poisson, Gaussian::new(1.0).unwrap())
        .intercept(false)
        .fit(&x, &y)
        .unwrap();
    assert!(g.convergence().converged && g.convergence().value <= 1e-10);
    let l = Map::new(Poisson, Laplace::new(1.0).unwrap())
        .intercept(false)
        .fit(&x, &y)
        .unwrap();
    assert!(l.convergence().converged && l.convergence().value <= 1e-10);
    eprintln!(
        "Poisson all-zero, no intercept: Gaussian w = {:?}; Laplace w = {:?}",
        g.coefficients().as_slice(),
        l.coefficients().as_slice()
    );
}

#[test]
fn poisson_zero_counts_on_a_column_flat_prior_has_no_mode() {
    // Column 0 is positive only on rows with y = 0: its coefficient goes to −∞.
    let n = 60;
    let z = common::normal_vector(n, 5);
    let x = DMatrix::from_fn(n, 2, |i, j| {
        if j == 1 {
            z[i]
        } else if i < 15 {
            1.0
        } else {
            0.0
        }
    });
    let y = DVector::from_fn(n, |i, _| if i < 15 { 0.0 } else { ((i % 4) + 1) as f64 });
    expect_no_mode(Map::new(Poisson, Flat).fit(&x, &y), &["zero"]);
    let fit = Map::new(Poisson, Gaussian::new(2.0).unwrap())
        .fit(&x, &y)
        .unwrap();
    assert!(fit.convergence().converged);
}

#[test]
fn well_posed_flat_prior_fits_are_not_flagged() {
    let (_, x, y) = common::read_csv(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/logit_small.csv"),
        "y",
    );
    let fit = Map::new(Bernoulli, Flat).fit(&x, &y).unwrap();
    assert!(fit.convergence().converged);
    let (_, x, y) = common::read_csv(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/poisson_small.csv"),
        "y",
    );
    let fit = Map::new(Poisson, Flat).fit(&x, &y).unwrap();
    assert!(fit.convergence().converged);
    // noisy labels, many seeds
    for seed in 0..20 {
        let x = common::correlated_design(50, 3, 0.3, 100 + seed);
        let e = common::normal_vector(50, 200 + seed);
        let y = DVector::from_fn(50, |i, _| (x[(i, 0)] + 1.5 * e[i] > 0.0) as u8 as f64);
        match Map::new(Bernoulli, Flat).fit(&x, &y) {
            Ok(f) => assert!(f.convergence().converged),
            Err(Error::NoMode { .. }) => {
                // only legitimate if the data really are separable: the fitted classes are
                // then all correct
                panic!("seed {seed}: noisy labels flagged as separable");
            }
            Err(e) => panic!("seed {seed}: {e}"),
        }
    }
}

#[test]
fn unpenalized_separating_column_has_no_mode() {
    // Laplace prior with penalty factor 0 on the separating column: that coefficient is
    // flat-prior, and proximal Newton follows it out to infinity.
    let (x, _) = separable(80, 9);
    let y = DVector::from_fn(80, |i, _| (x[(i, 0)] > 0.1) as u8 as f64);
    let prior = Laplace::new(1.0)
        .unwrap()
        .with_penalty_factors(vec![0.0, 1.0])
        .unwrap();
    let r = Map::new(Bernoulli, prior).fit(&x, &y);
    expect_no_mode(r, &["separable"]);
    // penalized, the same column gives a finite MAP
    let fit = Map::new(Bernoulli, Laplace::new(1.0).unwrap())
        .fit(&x, &y)
        .unwrap();
    assert!(fit.convergence().converged);
}
