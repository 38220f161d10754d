//! Shared test helpers: named tolerances, seeded generators and data loaders.
#![allow(dead_code)]

use nalgebra::{DMatrix, DVector};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

/// Reads a CSV with a header; returns (column names without target, X, y).
pub fn read_csv(path: &str, target: &str) -> (Vec<String>, DMatrix<f64>, DVector<f64>) {
    let text = std::fs::read_to_string(path).expect("test data file");
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    let t = header
        .iter()
        .position(|h| h == target)
        .expect("target column");
    let rows: Vec<Vec<f64>> = lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            l.split(',')
                .map(|v| v.trim().parse::<f64>().unwrap())
                .collect()
        })
        .collect();
    let n = rows.len();
    let p = header.len() - 1;
    let cols: Vec<String> = header
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != t)
        .map(|(_, h)| h.clone())
        .collect();
    let x = DMatrix::from_fn(n, p, |i, j| {
        let jj = if j >= t { j + 1 } else { j };
        rows[i][jj]
    });
    let y = DVector::from_fn(n, |i, _| rows[i][t]);
    (cols, x, y)
}

pub fn diabetes() -> (Vec<String>, DMatrix<f64>, DVector<f64>) {
    read_csv(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/diabetes.csv"),
        "progression",
    )
}

pub fn json(name: &str) -> serde_json::Value {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

pub fn as_vec(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_f64().unwrap())
        .collect()
}

pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// n × p standard normal design with pairwise correlation `rho` (one shared factor).
pub fn correlated_design(n: usize, p: usize, rho: f64, seed: u64) -> DMatrix<f64> {
    let mut r = rng(seed);
    let z: Vec<f64> = (0..n).map(|_| StandardNormal.sample(&mut r)).collect();
    DMatrix::from_fn(n, p, |i, _| {
        let e: f64 = StandardNormal.sample(&mut r);
        rho.sqrt() * z[i] + (1.0 - rho).sqrt() * e
    })
}

pub fn normal_vector(n: usize, seed: u64) -> DVector<f64> {
    let mut r = rng(seed);
    DVector::from_fn(n, |_, _| StandardNormal.sample(&mut r))
}

/// Largest |a − b| / max(1, |b|).
pub fn max_rel_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / y.abs().max(1.0))
        .fold(0.0, f64::max)
}
