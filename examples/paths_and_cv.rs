//! The lasso path and its cross-validation on the diabetes data, with figures.
//!
//! Data: the embedded `data/diabetes.csv` (Efron et al. 2004; 442 patients × 10 variables,
//! target `progression`), compiled into the example.
//!
//! Convention: glmnet's **mean** loss, `(1/2n)‖y − Xw − b‖² + λ‖w̃‖₁` on standardized columns
//! (`w̃ⱼ = sⱼwⱼ`, coefficients reported on the original scale), intercept unpenalized. Each
//! point of the path is the MAP under a Laplace prior of scale `b = σ²/(nλ)` on the
//! standardized coefficients.
//!
//! 1. 10-fold CV (seed 1) along glmnet's default grid: `lambda_min`, `lambda_1se` and the
//!    coefficients at each.
//! 2. Training and test error along the same grid: the path fitted on a seeded random 342
//!    patients and evaluated on the other 100.
//! 3. Figures, written to the folder given as the first argument (default
//!    `mapfit-output/examples`, created if needed): `lasso_paths.png` (coefficients against
//!    ln λ, with λ_min and λ_1se marked), `lasso_cv.png` (the CV curve ± 1 SE),
//!    `train_test.png` and `geometry.png` (the L1 diamond and L2 disc against the loss contours).
//!
//! ```sh
//! cargo run --release --example paths_and_cv [-- OUTPUT_DIR]
//! ```

use mapfit::io::Table;
use mapfit::{likelihood, plot, CrossValidation, Path};
use nalgebra::{DMatrix, DVector};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::path::PathBuf;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const DIABETES: &str = include_str!("../data/diabetes.csv");

fn rows(x: &DMatrix<f64>, y: &DVector<f64>, idx: &[usize]) -> (DMatrix<f64>, DVector<f64>) {
    (x.select_rows(idx), y.select_rows(idx))
}

fn main() -> Res<()> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "mapfit-output/examples".into()),
    );
    let table = Table::from_reader(DIABETES.as_bytes())?;
    let (names, x, y) = table.design("progression", &[])?;
    let (n, p) = (x.nrows(), x.ncols());
    println!("Diabetes data: {n} patients × {p} variables (target: progression).");
    println!(
        "Lasso = Laplace prior; glmnet's λ: (1/2n)‖y − Xw − b‖² + λ‖w̃‖₁, standardized columns.\n"
    );

    // 1. Cross-validation.
    let cv = CrossValidation::new(Path::new(likelihood::Gaussian::default(), 1.0))
        .folds(10)
        .seed(1)
        .fit(&x, &y)?;
    let path = cv.path();
    println!(
        "10-fold CV (seed 1) over {} λ from {:.4} to {:.6}:",
        cv.lambdas().len(),
        cv.lambdas()[0],
        cv.lambdas()[cv.lambdas().len() - 1]
    );
    println!(
        "lambda_min = {:.6}   (CV MSE {:.2} ± {:.2}, {} non-zero)",
        cv.lambda_min(),
        cv.cvm()[cv.index_min()],
        cv.cvsd()[cv.index_min()],
        path.df()[cv.index_min()]
    );
    println!(
        "lambda_1se = {:.6}   (CV MSE {:.2} ± {:.2}, {} non-zero)\n",
        cv.lambda_1se(),
        cv.cvm()[cv.index_1se()],
        cv.cvsd()[cv.index_1se()],
        path.df()[cv.index_1se()]
    );
    let (w_min, b_min) = cv.coefficients_min();
    let (w_1se, b_1se) = cv.coefficients_1se();
    println!("{:<10} {:>12} {:>12}", "", "λ_min", "λ_1se");
    println!("{:<10} {b_min:>12.4} {b_1se:>12.4}", "intercept");
    for (j, name) in names.iter().enumerate() {
        let cell = |v: f64| {
            if v == 0.0 {
                format!("{:>12}", "0")
            } else {
                format!("{v:>12.4}")
            }
        };
        println!("{name:<10} {} {}", cell(w_min[j]), cell(w_1se[j]));
    }
    println!();

    // 2. Training and test error along the CV grid.
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(&mut StdRng::seed_from_u64(2));
    let (train_idx, test_idx) = idx.split_at(n - 100);
    let (xtr, ytr) = rows(&x, &y, train_idx);
    let (xte, yte) = rows(&x, &y, test_idx);
    let split = Path::new(likelihood::Gaussian::default(), 1.0)
        .lambdas(cv.lambdas().to_vec())
        .fit(&xtr, &ytr)?;
    let mse = |xm: &DMatrix<f64>, ym: &DVector<f64>, k: usize| -> Res<f64> {
        Ok((split.predict(xm, k)? - ym).norm_squared() / ym.len() as f64)
    };
    let mut train = Vec::with_capacity(split.len());
    let mut test = Vec::with_capacity(split.len());
    for k in 0..split.len() {
        train.push(mse(&xtr, &ytr, k)?);
        test.push(mse(&xte, &yte, k)?);
    }
    let best = (0..test.len())
        .min_by(|&a, &b| test[a].total_cmp(&test[b]))
        .ok_or("empty path")?;
    println!(
        "Train/test split (seed 2): {} / {} patients; path on the training part.",
        train_idx.len(),
        test_idx.len()
    );
    println!(
        "train_mse_at_lambda_max = {:.2}   test {:.2}",
        train[0], test[0]
    );
    println!(
        "train_mse_at_lambda_smallest = {:.2}   test {:.2}",
        train[train.len() - 1],
        test[test.len() - 1]
    );
    println!(
        "best_test_lambda = {:.6}   (test MSE {:.2})\n",
        split.lambda(best),
        test[best]
    );

    // 3. Figures.
    std::fs::create_dir_all(&dir)?;
    let marks = [("λ_min", cv.lambda_min()), ("λ_1se", cv.lambda_1se())];
    let coefs: Vec<Vec<f64>> = (0..p)
        .map(|j| (0..path.len()).map(|k| path.coefficients(k)[j]).collect())
        .collect();
    let files = [
        dir.join("lasso_paths.png"),
        dir.join("lasso_cv.png"),
        dir.join("train_test.png"),
        dir.join("geometry.png"),
    ];
    plot::coefficient_paths(&files[0], path.lambdas(), &coefs, &names, &marks)?;
    plot::cv_curve(&files[1], cv.lambdas(), cv.cvm(), cv.cvsd(), &marks)?;
    let ln_lambda: Vec<f64> = split.lambdas().iter().map(|l| l.ln()).collect();
    plot::train_test_error(&files[2], "ln λ", &ln_lambda, &train, &test)?;
    plot::constraint_geometry(&files[3])?;
    println!("Figures:");
    for f in &files {
        println!("figure = {}", f.display());
    }
    Ok(())
}
