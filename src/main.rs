//! `cargo run --release`: the main job on the embedded diabetes data (Efron et al. 2004,
//! 442 patients × 10 baseline variables, target: disease progression after one year).
//!
//! Fits the same linear model three ways — maximum likelihood (flat prior), a Gaussian prior
//! (ridge) and a Laplace prior (lasso) — on standardized columns, and prints the
//! coefficients side by side with each prior's scale and its λ in the usual conventions.

use mapfit::prior::{Convention, Flat, Gaussian, Laplace, Prior};
use mapfit::{likelihood, Fit, Map, Result};
use nalgebra::{DMatrix, DVector};

const DIABETES: &str = include_str!("../data/diabetes.csv");

fn parse_embedded(text: &str, target: &str) -> Result<(Vec<String>, DMatrix<f64>, DVector<f64>)> {
    let bad = |what: String| mapfit::Error::Unsupported { what };
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<String> = lines
        .next()
        .ok_or_else(|| bad("embedded data is empty".into()))?
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    let t = header
        .iter()
        .position(|h| h == target)
        .ok_or_else(|| bad(format!("no column {target}")))?;
    let mut rows = Vec::new();
    for (k, line) in lines.enumerate() {
        let vals: std::result::Result<Vec<f64>, _> =
            line.split(',').map(|v| v.trim().parse::<f64>()).collect();
        let vals = vals.map_err(|e| bad(format!("embedded data line {}: {e}", k + 2)))?;
        if vals.len() != header.len() {
            return Err(bad(format!(
                "embedded data line {}: wrong number of fields",
                k + 2
            )));
        }
        rows.push(vals);
    }
    let names: Vec<String> = header
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != t)
        .map(|(_, h)| h.clone())
        .collect();
    let x = DMatrix::from_fn(rows.len(), names.len(), |i, j| {
        rows[i][if j >= t { j + 1 } else { j }]
    });
    let y = DVector::from_fn(rows.len(), |i, _| rows[i][t]);
    Ok((names, x, y))
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let (names, x, y) = parse_embedded(DIABETES, "progression")?;
    let (n, p) = (x.nrows(), x.ncols());
    println!("mapfit — MAP estimation on the diabetes data ({n} patients × {p} variables, target: progression)");
    println!("Columns are standardized (population sd); priors act on standardized coefficients;");
    println!("coefficients are reported on the original scale.\n");

    // Maximum likelihood (flat prior), and the noise variance it implies.
    let ml = Map::new(likelihood::Gaussian::default(), Flat)
        .standardize(true)
        .fit(&x, &y)?;
    let resid = &y - ml.predict(&x)?;
    let sigma2 = resid.norm_squared() / (n - p - 1) as f64;
    let lik = likelihood::Gaussian::new(sigma2)?;
    let ols = Map::new(lik, Flat).standardize(true).fit(&x, &y)?;
    let mean = Convention::Mean {
        n: n as f64,
        sigma2,
    };

    // Ridge: λ chosen by generalized cross-validation on a log grid (a closed-form criterion).
    let lambda_ridge = gcv_lambda(&x, &y)?;
    let ridge_prior = Gaussian::from_lambda(lambda_ridge, mean)?;
    let ridge = Map::new(lik, ridge_prior.clone())
        .standardize(true)
        .fit(&x, &y)?;

    // Lasso: λ = λ_max/10 in glmnet's convention (λ_max: the smallest λ that zeroes every w).
    let lambda_max = lasso_lambda_max(&x, &y);
    let lambda_lasso = lambda_max / 10.0;
    let lasso_prior = Laplace::from_lambda(lambda_lasso, mean)?;
    let lasso = Map::new(lik, lasso_prior.clone())
        .standardize(true)
        .fit(&x, &y)?;

    println!(
        "{:<10} {:>14} {:>14} {:>14}",
        "", "flat (OLS)", "Gaussian", "Laplace"
    );
    println!(
        "{:<10} {:>14} {:>14} {:>14}",
        "", "max. lik.", "= ridge", "= lasso"
    );
    println!("{}", "-".repeat(55));
    println!(
        "{:<10} {:>14.4} {:>14.4} {:>14.4}",
        "intercept",
        ols.intercept(),
        ridge.intercept(),
        lasso.intercept()
    );
    for (j, name) in names.iter().enumerate() {
        println!(
            "{:<10} {:>14.4} {:>14.4} {:>14}",
            name,
            ols.coefficients()[j],
            ridge.coefficients()[j],
            fmt_coef(lasso.coefficients()[j])
        );
    }
    println!("{}", "-".repeat(55));
    println!(
        "{:<10} {:>14} {:>14} {:>14}",
        "prior",
        "flat",
        format!("τ = {:.4}", ridge_prior.scale()),
        format!("b = {:.4}", lasso_prior.scale())
    );
    row("λ glmnet", None, Some(lambda_ridge), Some(lambda_lasso));
    row(
        "λ sum",
        None,
        ridge_prior.lambda(Convention::Sum { sigma2 }).ok(),
        lasso_prior.lambda(Convention::Sum { sigma2 }).ok(),
    );
    row(
        "sklearn α",
        None,
        ridge_prior.lambda(Convention::SklearnRidge { sigma2 }).ok(),
        Some(lambda_lasso),
    );
    println!(
        "{:<10} {:>14} {:>14} {:>14}",
        "non-zeros",
        ols.nonzeros(),
        ridge.nonzeros(),
        lasso.nonzeros()
    );
    println!(
        "{:<10} {:>14.3} {:>14.3} {:>14.3}",
        "log post.",
        ols.ln_posterior(),
        ridge.ln_posterior(),
        lasso.ln_posterior()
    );
    println!(
        "{:<10} {:>14} {:>14} {:>14}",
        "iterations",
        ols.convergence().iterations,
        ridge.convergence().iterations,
        lasso.convergence().iterations
    );
    println!("\nnoise variance σ² = {sigma2:.2} (OLS residuals, n − p − 1 degrees of freedom)");
    println!("ridge λ chosen by GCV; lasso λ = λ_max/10 with λ_max = {lambda_max:.4}");
    for (label, fit) in [("OLS", &ols), ("ridge", &ridge), ("lasso", &lasso)] {
        report(label, fit);
    }
    println!("\nλ in glmnet's convention: (1/2n)‖y − Xw − b‖² + λ·pen(w), pen = ½‖w‖² (ridge) or ‖w‖₁ (lasso);");
    println!("Gaussian prior N(0, τ²): λ = σ²/(nτ²).  Laplace prior (0, b): λ = σ²/(nb).");
    Ok(())
}

fn fmt_coef(v: f64) -> String {
    if v == 0.0 {
        "0 (exact)".into()
    } else {
        format!("{v:.4}")
    }
}

fn row(label: &str, a: Option<f64>, b: Option<f64>, c: Option<f64>) {
    let f = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:.6}"));
    println!("{:<10} {:>14} {:>14} {:>14}", label, f(a), f(b), f(c));
}

fn report<L: mapfit::likelihood::Likelihood>(label: &str, fit: &Fit<L>) {
    println!(
        "{label:>6}: {} — {}",
        fit.method().name(),
        fit.convergence()
    );
}

/// Standardized, centered copies of X and y (population sd).
fn standardized(x: &DMatrix<f64>, y: &DVector<f64>) -> (DMatrix<f64>, DVector<f64>) {
    let n = x.nrows() as f64;
    let mut xs = x.clone();
    for mut c in xs.column_iter_mut() {
        let m = c.sum() / n;
        c.add_scalar_mut(-m);
        let s = (c.norm_squared() / n).sqrt();
        if s > 0.0 {
            c /= s;
        }
    }
    let ym = y.sum() / n;
    (xs, y.add_scalar(-ym))
}

/// glmnet's λ_max for the lasso on standardized columns: max_j |x_jᵀ(y − ȳ)|/n.
fn lasso_lambda_max(x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
    let (xs, yc) = standardized(x, y);
    xs.tr_mul(&yc).amax() / x.nrows() as f64
}

/// The ridge λ (glmnet's mean convention, standardized columns) minimizing generalized
/// cross-validation `n·RSS(λ)/(n − df(λ))²` over 61 log-spaced values, via one SVD.
fn gcv_lambda(x: &DMatrix<f64>, y: &DVector<f64>) -> Result<f64> {
    let (xs, yc) = standardized(x, y);
    let n = x.nrows() as f64;
    let svd = xs.svd(true, false);
    let u = svd
        .u
        .ok_or_else(|| mapfit::Error::Solver("SVD failed".into()))?;
    let uty = u.tr_mul(&yc);
    let resid0 = yc.norm_squared() - uty.norm_squared();
    let mut best = (f64::INFINITY, 1.0);
    for k in 0..=60 {
        let lambda = 10f64.powf(-4.0 + 6.0 * k as f64 / 60.0);
        let ls = n * lambda; // sum convention
        let mut rss = resid0;
        let mut df = 0.0;
        for (i, &d) in svd.singular_values.iter().enumerate() {
            let f = d * d / (d * d + ls);
            rss += ((1.0 - f) * uty[i]).powi(2);
            df += f;
        }
        let gcv = n * rss / (n - 1.0 - df).powi(2);
        if gcv < best.0 {
            best = (gcv, lambda);
        }
    }
    Ok(best.1)
}
