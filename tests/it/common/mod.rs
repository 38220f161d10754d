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

// ---- Helpers of the equivalence suites (issue 2): independent references. ----

/// Ordinary least squares `argmin ‖y − Xw‖²` by a Householder QR of `X` (n ≥ p, full column
/// rank), written here so that the reference does not go through mapfit.
pub fn ols_qr(x: &DMatrix<f64>, y: &DVector<f64>) -> DVector<f64> {
    assert!(x.nrows() >= x.ncols(), "OLS needs n >= p");
    let qr = x.clone().qr();
    let qty = qr.q().tr_mul(y);
    qr.r()
        .solve_upper_triangular(&qty)
        .expect("full column rank")
}

/// OLS with an unpenalized intercept (a column of ones appended): `(w, b)`.
pub fn ols_qr_with_intercept(x: &DMatrix<f64>, y: &DVector<f64>) -> (DVector<f64>, f64) {
    let (n, p) = x.shape();
    let xa = DMatrix::from_fn(n, p + 1, |i, j| if j < p { x[(i, j)] } else { 1.0 });
    let t = ols_qr(&xa, y);
    (t.rows(0, p).into_owned(), t[p])
}

/// `n × p` (n ≥ p) matrix with orthonormal columns: the thin Q of a seeded Gaussian matrix.
pub fn orthonormal_columns(n: usize, p: usize, seed: u64) -> DMatrix<f64> {
    assert!(n >= p);
    correlated_design(n, p, 0.0, seed).qr().q()
}

/// The minimizer of `½·Σᵢ vᵢ(yᵢ − b − xᵢᵀw)² + ½·Σⱼ qⱼwⱼ²` (b = 0 without an intercept), from
/// the full normal equations of `θ = (w, b)` solved by LU: no centering, no Cholesky, nothing
/// shared with mapfit's closed form.
pub fn penalized_normal_equations(
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    weights: Option<&DVector<f64>>,
    q: &[f64],
    intercept: bool,
) -> (DVector<f64>, f64) {
    let (n, p) = x.shape();
    let k = p + usize::from(intercept);
    let a = DMatrix::from_fn(n, k, |i, j| if j < p { x[(i, j)] } else { 1.0 });
    let v = weights
        .cloned()
        .unwrap_or_else(|| DVector::from_element(n, 1.0));
    let mut av = a.clone();
    for (i, mut row) in av.row_iter_mut().enumerate() {
        row *= v[i];
    }
    let mut m = a.tr_mul(&av);
    for j in 0..p {
        m[(j, j)] += q[j];
    }
    let rhs = av.tr_mul(y);
    let t = m.lu().solve(&rhs).expect("non-singular normal equations");
    let b = if intercept { t[p] } else { 0.0 };
    (t.rows(0, p).into_owned(), b)
}

/// `max|a − b| / max|b|`: the error relative to the size of the reference `b`.
pub fn rel_err_inf(a: &DVector<f64>, b: &DVector<f64>) -> f64 {
    assert_eq!(a.len(), b.len());
    (a - b).amax() / b.amax().max(f64::MIN_POSITIVE)
}

/// Seeded observation weights, uniform on `[0.2, 3)`.
pub fn positive_weights(n: usize, seed: u64) -> DVector<f64> {
    use rand::Rng;
    let mut r = rng(seed);
    DVector::from_fn(n, |_, _| r.random_range(0.2..3.0))
}

/// `y = X·w + b + noise_sd·ε` with a seeded standard normal ε.
pub fn linear_response(
    x: &DMatrix<f64>,
    w: &DVector<f64>,
    b: f64,
    noise_sd: f64,
    seed: u64,
) -> DVector<f64> {
    (x * w).add_scalar(b) + normal_vector(x.nrows(), seed) * noise_sd
}
