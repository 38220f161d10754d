//! Regularization *is* MAP estimation: four closed forms against mapfit's MAP fits, side by side.
//!
//! 1. **Gaussian prior ≡ ridge.** With `yᵢ ~ N(xᵢᵀw, σ²)` and `wⱼ ~ N(0, τ²)` the negative
//!    log posterior is `‖y − Xw‖²/(2σ²) + ‖w‖²/(2τ²)`, i.e. the sum-convention ridge
//!    `½‖y − Xw‖² + (λ/2)‖w‖²` with `λ = σ²/τ²`, whose minimizer is `(XᵀX + λI)⁻¹Xᵀy`. The MAP
//!    is found by argmin's trust-region Newton method and compared with the closed form (solved
//!    here with an LU factorization, and by `mapfit::closed_form::ridge`), and with
//!    the eigen-shrinkage form `Q(Λ + λI)⁻¹ΛQᵀw_ols`.
//! 2. **Laplace prior ≡ lasso.** With `wⱼ ~ Laplace(0, b)` the MAP minimizes
//!    `½‖y − Xw‖² + α‖w‖₁` with `α = σ²/b` (sum convention). On a correlated design it is
//!    compared with a lasso solved by a plain coordinate descent written in this file and with
//!    mapfit's glmnet-style path at glmnet's (mean-convention) `λ = α/n`.
//! 3. **Soft-threshold.** On an orthonormal design (`XᵀX = I`) the lasso is
//!    `ŵⱼ = sign(w*ⱼ)·max(|w*ⱼ| − α, 0)` with `w* = Xᵀy`.
//! 4. **Diagonal Hessian.** On orthogonal columns of unequal norms (`H = XᵀX` diagonal) it is
//!    `ŵⱼ = sign(w*ⱼ)·max(|w*ⱼ| − α/Hⱼⱼ, 0)` (`mapfit::closed_form::diagonal_hessian_l1`).
//!
//! No intercept anywhere (the designs are not centered; the identities are about `w`).
//! Every comparison prints a `max_abs_diff NAME = VALUE` line; every L1 case an
//! `exact_zeros NAME = FIT/REFERENCE` line (zeros counted with `== 0.0`) and a
//! `same_zeros NAME = true|false` line (whether they are the same coefficients).
//!
//! ```sh
//! cargo run --release --example map_equivalence
//! ```

use mapfit::{closed_form, likelihood, prior, Map, Method, Path};
use nalgebra::{DMatrix, DVector};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn normal_matrix(n: usize, p: usize, seed: u64) -> DMatrix<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    DMatrix::from_fn(n, p, |_, _| StandardNormal.sample(&mut rng))
}

/// Columns with pairwise correlation ≈ ρ: `xⱼ = √(1−ρ)·zⱼ + √ρ·z₀`.
fn correlated(n: usize, p: usize, rho: f64, seed: u64) -> DMatrix<f64> {
    let z = normal_matrix(n, p + 1, seed);
    DMatrix::from_fn(n, p, |i, j| {
        (1.0 - rho).sqrt() * z[(i, j + 1)] + rho.sqrt() * z[(i, 0)]
    })
}

/// `n × p` with orthonormal columns (the Q of a QR factorization).
fn orthonormal(n: usize, p: usize, seed: u64) -> DMatrix<f64> {
    normal_matrix(n, p, seed)
        .qr()
        .q()
        .columns(0, p)
        .into_owned()
}

fn response(x: &DMatrix<f64>, w: &DVector<f64>, noise: f64, seed: u64) -> DVector<f64> {
    x * w + normal_matrix(x.nrows(), 1, seed).column(0) * noise
}

/// The lasso `½‖y − Xw‖² + α‖w‖₁` by cyclic coordinate descent, to a change of 1e-15.
fn lasso_cd(x: &DMatrix<f64>, y: &DVector<f64>, alpha: f64) -> DVector<f64> {
    let p = x.ncols();
    let norms: Vec<f64> = (0..p).map(|j| x.column(j).norm_squared()).collect();
    let mut w = DVector::<f64>::zeros(p);
    let mut r = y.clone(); // residual y − Xw
    for _ in 0..100_000 {
        let mut change = 0.0f64;
        for j in 0..p {
            let old = w[j];
            let z = x.column(j).dot(&r) + norms[j] * old;
            let new = z.signum() * (z.abs() - alpha).max(0.0) / norms[j];
            if new != old {
                r.axpy(old - new, &x.column(j), 1.0);
                w[j] = new;
                change = change.max((new - old).abs());
            }
        }
        if change < 1e-15 {
            break;
        }
    }
    w
}

fn zeros(v: &DVector<f64>) -> usize {
    v.iter().filter(|&&a| a == 0.0).count()
}

/// Prints the exact zeros of a fit and of its reference, and whether they sit at the same
/// coefficients.
fn zero_report(name: &str, fit: &DVector<f64>, reference: &DVector<f64>, what: &str) {
    let same = fit
        .iter()
        .zip(reference.iter())
        .all(|(&a, &b)| (a == 0.0) == (b == 0.0));
    println!(
        "exact_zeros {name} = {}/{}   (MAP / {what})",
        zeros(fit),
        zeros(reference)
    );
    println!("same_zeros {name} = {same}");
}

fn table(headers: &[&str], columns: &[&DVector<f64>]) {
    let mut line = format!("  {:>4}", "j");
    for h in headers {
        line += &format!(" {h:>20}");
    }
    println!("{line}");
    for j in 0..columns[0].len() {
        let mut line = format!("  {:>4}", j + 1);
        for c in columns {
            line += &format!(" {:>20.12}", c[j] + 0.0); // + 0.0 prints −0 as 0
        }
        println!("{line}");
    }
}

fn diff(name: &str, a: &DVector<f64>, b: &DVector<f64>) -> f64 {
    let d = (a - b).amax();
    println!("max_abs_diff {name} = {d:.3e}");
    d
}

fn ridge_part() -> Res<()> {
    println!("== 1. Gaussian prior N(0, τ²) ≡ ridge (XᵀX + λI)⁻¹Xᵀy, λ = σ²/τ²\n");
    let (n, p, sigma2, tau) = (60usize, 6usize, 0.5f64, 0.4f64);
    let lambda = sigma2 / (tau * tau);
    let x = correlated(n, p, 0.8, 1);
    let w_true = DVector::from_vec(vec![1.5, -2.0, 0.0, 0.7, 0.0, 1.0]);
    let y = response(&x, &w_true, sigma2.sqrt(), 2);
    println!("  n = {n}, p = {p}, column correlation 0.8, σ² = {sigma2}, τ = {tau}: λ = σ²/τ² = {lambda:.4}\n");

    // The textbook formula, solved with LU (not the library).
    let mut a = x.tr_mul(&x);
    for j in 0..p {
        a[(j, j)] += lambda;
    }
    let formula = a.lu().solve(&x.tr_mul(&y)).ok_or("XᵀX + λI is singular")?;
    let library = closed_form::ridge(&x, &y, lambda)?;
    let fit = Map::new(
        likelihood::Gaussian::new(sigma2)?,
        prior::Gaussian::new(tau)?,
    )
    .intercept(false)
    .method(Method::NewtonTrustRegion)
    .tolerance(1e-12)?
    .fit(&x, &y)?;
    let map = fit.coefficients().clone();
    let w_ols = x
        .tr_mul(&x)
        .lu()
        .solve(&x.tr_mul(&y))
        .ok_or("XᵀX is singular")?;
    let shrink = closed_form::eigen_shrinkage(&x.tr_mul(&x), &w_ols, lambda)?;
    table(
        &[
            "(XᵀX+λI)⁻¹Xᵀy",
            "closed_form::ridge",
            "MAP (Newton TR)",
            "eigen-shrinkage",
        ],
        &[&formula, &library, &map, &shrink],
    );
    println!(
        "  MAP solver: {}; {}",
        fit.method().name(),
        fit.convergence()
    );
    diff("ridge_formula_vs_map", &formula, &map);
    diff("ridge_formula_vs_closed_form", &formula, &library);
    diff("ridge_formula_vs_eigen_shrinkage", &formula, &shrink);
    println!();
    Ok(())
}

fn lasso_part() -> Res<()> {
    println!("== 2. Laplace prior (0, b) ≡ lasso ½‖y − Xw‖² + α‖w‖₁, α = σ²/b\n");
    let (n, p, sigma2, b) = (50usize, 8usize, 1.0f64, 0.05f64);
    let alpha = sigma2 / b;
    let x = correlated(n, p, 0.5, 3);
    let w_true = DVector::from_vec(vec![3.0, -2.0, 0.0, 0.0, 1.5, 0.0, 0.3, 0.0]);
    let y = response(&x, &w_true, 1.0, 4);
    let fit = Map::new(likelihood::Gaussian::new(sigma2)?, prior::Laplace::new(b)?)
        .intercept(false)
        .fit(&x, &y)?;
    let map = fit.coefficients().clone();
    let cd = lasso_cd(&x, &y, alpha);
    // glmnet's objective (1/2n)‖y − Xw‖² + λ‖w‖₁ is the same problem at λ = α/n.
    let glmnet_lambda = alpha / n as f64;
    let path = Path::new(likelihood::Gaussian::default(), 1.0)
        .standardize(false)
        .intercept(false)
        .lambdas(vec![glmnet_lambda])
        .fit(&x, &y)?;
    let glm = path.coefficients(0).into_owned();
    println!("  n = {n}, p = {p}, correlation 0.5, σ² = {sigma2}, b = {b}: α = σ²/b = {alpha}, glmnet λ = α/n = {glmnet_lambda}\n");
    table(
        &[
            "MAP (Laplace prior)",
            "lasso CD (this file)",
            "Path (glmnet λ)",
        ],
        &[&map, &cd, &glm],
    );
    println!(
        "  MAP solver: {}; {}",
        fit.method().name(),
        fit.convergence()
    );
    diff("lasso_map_vs_cd", &map, &cd);
    diff("lasso_map_vs_path", &map, &glm);
    zero_report("lasso", &map, &cd, "hand-written CD");
    println!();
    Ok(())
}

fn soft_threshold_part() -> Res<()> {
    println!("== 3. Orthonormal design: the Laplace MAP is the soft-threshold S(Xᵀy, α)\n");
    let (n, sigma2, b) = (40usize, 0.5f64, 0.25f64);
    let alpha = sigma2 / b;
    let w_true = DVector::from_vec(vec![5.0, -4.0, 3.0, 0.5, -0.2, 0.0, 2.5, -1.0, -3.5, 1.2]);
    let p = w_true.len();
    let x = orthonormal(n, p, 5);
    println!(
        "  max |XᵀX − I| = {:.1e};  σ² = {sigma2}, b = {b}: α = {alpha}\n",
        (x.tr_mul(&x) - DMatrix::<f64>::identity(p, p)).amax()
    );
    let y = response(&x, &w_true, 0.3, 6);
    let w_star = x.tr_mul(&y);
    let formula = w_star.map(|z| z.signum() * (z.abs() - alpha).max(0.0));
    let library = w_star.map(|z| closed_form::soft_threshold(z, alpha));
    let fit = Map::new(likelihood::Gaussian::new(sigma2)?, prior::Laplace::new(b)?)
        .intercept(false)
        .fit(&x, &y)?;
    let map = fit.coefficients().clone();
    table(
        &[
            "w* = Xᵀy",
            "sign·max(|w*|−α,0)",
            "closed_form::soft",
            "MAP (Laplace prior)",
        ],
        &[&w_star, &formula, &library, &map],
    );
    diff("soft_threshold_formula_vs_map", &formula, &map);
    diff("soft_threshold_formula_vs_closed_form", &formula, &library);
    zero_report("soft_threshold", &map, &formula, "formula");
    println!();
    Ok(())
}

fn diagonal_part() -> Res<()> {
    println!("== 4. Diagonal Hessian: ŵⱼ = sign(w*ⱼ)·max(|w*ⱼ| − α/Hⱼⱼ, 0)\n");
    let (n, sigma2, b) = (50usize, 0.5f64, 0.25f64);
    let alpha = sigma2 / b;
    let w_true = DVector::from_vec(vec![5.0, -4.0, 3.0, 0.5, -0.2, 0.0, 2.5, -1.0, -3.5, 1.2]);
    let d = DVector::from_vec(vec![0.5, 1.0, 2.0, 3.0, 0.8, 1.5, 0.3, 2.5, 1.2, 4.0]);
    let p = w_true.len();
    let x = orthonormal(n, p, 7) * DMatrix::from_diagonal(&d);
    let h = x.tr_mul(&x);
    let hd = h.diagonal();
    println!(
        "  columns orthogonal with norms {:?}; max off-diagonal |Hᵢⱼ| = {:.1e}\n",
        d.as_slice(),
        (&h - DMatrix::from_diagonal(&hd)).amax()
    );
    let y = response(&x, &w_true, 0.4, 8);
    let w_star = x.tr_mul(&y).component_div(&hd);
    let formula = DVector::from_fn(p, |j, _| {
        w_star[j].signum() * (w_star[j].abs() - alpha / hd[j]).max(0.0)
    });
    let library = closed_form::diagonal_hessian_l1(&w_star, &hd, alpha)?;
    let fit = Map::new(likelihood::Gaussian::new(sigma2)?, prior::Laplace::new(b)?)
        .intercept(false)
        .fit(&x, &y)?;
    let map = fit.coefficients().clone();
    table(
        &["Hᵢᵢ", "w* (OLS)", "formula", "MAP (Laplace prior)"],
        &[&hd, &w_star, &formula, &map],
    );
    diff("diagonal_hessian_formula_vs_map", &formula, &map);
    diff(
        "diagonal_hessian_formula_vs_closed_form",
        &formula,
        &library,
    );
    zero_report("diagonal_hessian", &map, &formula, "formula");
    println!();
    Ok(())
}

fn main() -> Res<()> {
    ridge_part()?;
    lasso_part()?;
    soft_threshold_part()?;
    diagonal_part()?;
    println!("Every difference is rounding: each prior's MAP is its penalty's solution.");
    Ok(())
}
