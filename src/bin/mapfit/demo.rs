//! The main job (`mapfit` or `cargo run --release` with no arguments): the embedded diabetes
//! data (Efron et al. 2004; 442 patients × 10 baseline variables, target: disease
//! progression after one year), fitted four ways on standardized columns — maximum
//! likelihood, a Gaussian prior (ridge) with λ chosen by 10-fold CV, a Gaussian prior with
//! both precisions chosen by the evidence (empirical Bayes), and a Laplace prior (lasso) with
//! λ chosen by 10-fold CV — printed side by side, with figures written to a folder.

use crate::DemoArgs;
use mapfit::evidence::BayesianRidge;
use mapfit::io::Table;
use mapfit::likelihood::{self, Likelihood};
use mapfit::prior::{Convention, Flat, Gaussian, Laplace, Prior};
use mapfit::{CrossValidation, Design, Error, Fit, Map, Path, Result};
use std::process::ExitCode;

const DIABETES: &str = include_str!("../../../data/diabetes.csv");

pub fn run(args: &DemoArgs) -> Result<ExitCode> {
    let table = Table::from_reader(DIABETES.as_bytes())?;
    let (names, x, y) = table.design("progression", &[])?;
    let (n, p) = (x.nrows(), x.ncols());
    println!("mapfit — MAP estimation on the diabetes data ({n} patients × {p} variables, target: progression)");
    println!("Columns standardized (population sd); priors act on standardized coefficients;");
    println!("coefficients reported on the original scale.\n");

    // Maximum likelihood, and the noise variance it implies.
    let ml = Map::new(likelihood::Gaussian::default(), Flat)
        .standardize(true)
        .fit(&x, &y)?;
    let resid = &y - ml.predict(&x)?;
    let sigma2 = resid.norm_squared() / (n - p - 1) as f64;
    let lik = likelihood::Gaussian::new(sigma2)?;
    let mean = Convention::Mean {
        n: n as f64,
        sigma2,
    };
    let ols = Map::new(lik, Flat).standardize(true).fit(&x, &y)?;

    // Cross-validation (10 folds, seed 1) along glmnet-style paths.
    let cv_lasso = CrossValidation::new(Path::new(likelihood::Gaussian::default(), 1.0))
        .folds(10)
        .seed(1)
        .fit(&x, &y)?;
    // The ridge grid: 100 log-spaced λ from 100 down to 1e-4. (glmnet's automatic ridge grid,
    // λ_max computed with mix 0.001, is meant for y of unit variance.)
    let ridge_grid: Vec<f64> = (0..100)
        .map(|k| 10f64.powf(2.0 - 6.0 * k as f64 / 99.0))
        .collect();
    let cv_ridge =
        CrossValidation::new(Path::new(likelihood::Gaussian::default(), 0.0).lambdas(ridge_grid))
            .folds(10)
            .seed(1)
            .fit(&x, &y)?;
    let lasso_prior = Laplace::from_lambda(cv_lasso.lambda_min(), mean)?;
    let lasso = Map::new(lik, lasso_prior.clone())
        .standardize(true)
        .fit(&x, &y)?;
    let ridge_prior = Gaussian::from_lambda(cv_ridge.lambda_min(), mean)?;
    let ridge = Map::new(lik, ridge_prior.clone())
        .standardize(true)
        .fit(&x, &y)?;

    // Evidence maximization on the standardized columns.
    let scales = Design::new(&x, &y)?.column_scales(true);
    let mut xs = x.clone();
    for (j, mut c) in xs.column_iter_mut().enumerate() {
        c /= scales[j];
    }
    let ev = BayesianRidge::new().fit(&xs, &y)?;
    let ev_prior = ev.prior()?;
    let ev_lik = ev.likelihood()?;
    let ev_fit = Map::new(ev_lik, ev_prior.clone())
        .standardize(true)
        .fit(&x, &y)?;

    let w = 13;
    println!(
        "{:<10} {:>w$} {:>w$} {:>w$} {:>w$}",
        "", "flat", "Gaussian", "Gaussian", "Laplace"
    );
    println!(
        "{:<10} {:>w$} {:>w$} {:>w$} {:>w$}",
        "", "(OLS)", "CV (ridge)", "evidence", "CV (lasso)"
    );
    println!("{}", "-".repeat(10 + 4 * (w + 1)));
    let fits: [&dyn Show; 4] = [&ols, &ridge, &ev_fit, &lasso];
    println!(
        "{:<10} {}",
        "intercept",
        fits.iter()
            .map(|f| format!("{:>w$.4}", f.intercept()))
            .collect::<Vec<_>>()
            .join(" ")
    );
    for (j, name) in names.iter().enumerate() {
        let cells: Vec<String> = fits
            .iter()
            .map(|f| {
                let c = f.coefficient(j);
                if c == 0.0 {
                    format!("{:>w$}", "0 (exact)")
                } else {
                    format!("{c:>w$.4}")
                }
            })
            .collect();
        println!("{:<10} {}", name, cells.join(" "));
    }
    println!("{}", "-".repeat(10 + 4 * (w + 1)));
    let scale = |s: String| format!("{s:>w$}");
    println!(
        "{:<10} {} {} {} {}",
        "prior",
        scale("flat".into()),
        scale(format!("τ={:.4}", ridge_prior.scale())),
        scale(format!("τ={:.4}", ev_prior.scale())),
        scale(format!("b={:.4}", lasso_prior.scale()))
    );
    let ev_lambda = ev_prior.lambda(Convention::Mean {
        n: n as f64,
        sigma2: 1.0 / ev.alpha(),
    })?;
    println!(
        "{:<10} {} {:>w$.6} {:>w$.6} {:>w$.6}",
        "λ glmnet",
        scale("—".into()),
        cv_ridge.lambda_min(),
        ev_lambda,
        cv_lasso.lambda_min()
    );
    println!(
        "{:<10} {}",
        "non-zeros",
        fits.iter()
            .map(|f| format!("{:>w$}", f.nonzeros()))
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "{:<10} {}",
        "log post.",
        fits.iter()
            .map(|f| format!("{:>w$.3}", f.ln_posterior()))
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "{:<10} {}",
        "iterations",
        fits.iter()
            .map(|f| format!("{:>w$}", f.iterations()))
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!();
    println!("noise variance σ² = {sigma2:.2} (OLS residuals, n − p − 1 degrees of freedom); evidence: σ² = {:.2}", 1.0 / ev.alpha());
    println!(
        "lasso: 10-fold CV lambda_min = {:.4}, lambda_1se = {:.4};  ridge: lambda_min = {:.6}, lambda_1se = {:.6}",
        cv_lasso.lambda_min(),
        cv_lasso.lambda_1se(),
        cv_ridge.lambda_min(),
        cv_ridge.lambda_1se()
    );
    println!(
        "evidence: log marginal likelihood {:.3}, effective parameters γ = {:.3}, {} iterations",
        ev.ln_evidence(),
        ev.effective_parameters(),
        ev.iterations()
    );
    for (label, f) in [
        ("OLS", &ols as &dyn Show),
        ("ridge", &ridge),
        ("evidence", &ev_fit),
        ("lasso", &lasso),
    ] {
        println!("{label:>9}: {}", f.status());
    }
    println!("\nλ in glmnet's convention: (1/2n)‖y − Xw − b‖² + λ·pen(w), pen = ½‖w‖² (ridge) or ‖w‖₁ (lasso);");
    println!("Gaussian prior N(0, τ²): λ = σ²/(nτ²).  Laplace prior (0, b): λ = σ²/(nb).");

    // Figures.
    let dir = &args.plot;
    std::fs::create_dir_all(dir).map_err(|e| Error::Io {
        path: dir.display().to_string(),
        message: e.to_string(),
    })?;
    let marks = [
        ("λ_min", cv_lasso.lambda_min()),
        ("λ_1se", cv_lasso.lambda_1se()),
    ];
    let path = cv_lasso.path();
    let coefs: Vec<Vec<f64>> = (0..p)
        .map(|j| (0..path.len()).map(|k| path.coefficients(k)[j]).collect())
        .collect();
    mapfit::plot::coefficient_paths(
        &dir.join("lasso_paths.png"),
        path.lambdas(),
        &coefs,
        &names,
        &marks,
    )?;
    mapfit::plot::cv_curve(
        &dir.join("lasso_cv.png"),
        cv_lasso.lambdas(),
        cv_lasso.cvm(),
        cv_lasso.cvsd(),
        &marks,
    )?;
    let rmarks = [
        ("λ_min", cv_ridge.lambda_min()),
        ("λ_1se", cv_ridge.lambda_1se()),
    ];
    mapfit::plot::cv_curve(
        &dir.join("ridge_cv.png"),
        cv_ridge.lambdas(),
        cv_ridge.cvm(),
        cv_ridge.cvsd(),
        &rmarks,
    )?;
    mapfit::plot::constraint_geometry(&dir.join("geometry.png"))?;
    println!(
        "\nfigures written to {}/ (lasso_paths.png, lasso_cv.png, ridge_cv.png, geometry.png)",
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// What the table needs from a fit, whatever its likelihood.
trait Show {
    fn intercept(&self) -> f64;
    fn coefficient(&self, j: usize) -> f64;
    fn nonzeros(&self) -> usize;
    fn ln_posterior(&self) -> f64;
    fn iterations(&self) -> u64;
    fn status(&self) -> String;
}

impl<L: Likelihood> Show for Fit<L> {
    fn intercept(&self) -> f64 {
        Fit::intercept(self)
    }
    fn coefficient(&self, j: usize) -> f64 {
        self.coefficients()[j]
    }
    fn nonzeros(&self) -> usize {
        Fit::nonzeros(self)
    }
    fn ln_posterior(&self) -> f64 {
        Fit::ln_posterior(self)
    }
    fn iterations(&self) -> u64 {
        self.convergence().iterations
    }
    fn status(&self) -> String {
        format!("{} — {}", self.method().name(), self.convergence())
    }
}
