//! The `mapfit` command line: MAP fits, paths, cross-validation and predictions from CSV
//! files. With no arguments it runs the main job on the embedded diabetes data.
//!
//! `--lambda` is in glmnet's convention: `(1/2n)‖y − Xw − b‖² + λ·pen(w)` for the Gaussian
//! family and `−loglik/n + λ·pen(w)` for the binomial and Poisson families, with
//! `pen = (1−m)/2‖w‖² + m‖w‖₁` (m = 0 Gaussian prior, 1 Laplace prior, `elastic-net=m`), and
//! `n` the sum of the weights. See docs/cli.md.

mod commands;
mod demo;
mod spec;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "mapfit",
    version,
    about = "Bayesian MAP estimation: regularization as the prior it is"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Fit the MAP at one λ (a number, `cv` or `evidence`) and print the coefficients.
    Fit(FitArgs),
    /// Fit the whole regularization path and print or write it.
    Path(PathArgs),
    /// Cross-validate along the path: the CV curve, lambda_min and lambda_1se.
    Cv(CvArgs),
    /// Predict with a saved model: writes CSV with the linear predictor and the mean.
    Predict(PredictArgs),
    /// The main job on the embedded diabetes data (what `mapfit` alone runs).
    Demo(DemoArgs),
}

/// Data and model options shared by fit, path and cv.
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// CSV file with a header row.
    pub data: PathBuf,
    /// The response column.
    #[arg(long)]
    pub target: String,
    /// Likelihood family: gaussian, binomial or poisson.
    #[arg(long, default_value = "gaussian")]
    pub family: String,
    /// Prior: gaussian (ridge), laplace (lasso), elastic-net=M (mix M in [0,1]) or flat.
    #[arg(long, default_value = "laplace")]
    pub prior: String,
    /// Fit on standardized columns (glmnet's standardize = TRUE); coefficients are reported
    /// on the original scale.
    #[arg(long)]
    pub standardize: bool,
    /// Fit without an intercept.
    #[arg(long)]
    pub no_intercept: bool,
    /// Column of observation weights.
    #[arg(long)]
    pub weights: Option<String>,
    /// Column of offsets (added to the linear predictor; ln exposure for Poisson).
    #[arg(long)]
    pub offset: Option<String>,
    /// Cross-validation error (fit --lambda cv, cv): deviance, mse, mae, class
    /// (misclassification rate, binomial) or auc (binomial).
    #[arg(long, default_value = "deviance")]
    pub metric: String,
    /// Output format: table or json.
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Return results even if a solver did not reach its tolerance (exit status stays 0).
    #[arg(long)]
    pub accept_unconverged: bool,
    /// Iteration cap of the solver (argmin `max_iters`).
    #[arg(long, default_value_t = 10_000)]
    pub max_iters: u64,
}

#[derive(Args, Debug)]
pub struct FitArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// λ in glmnet's convention, or `cv` (10-fold CV, lambda_min), `cv1se` (lambda_1se), or
    /// `evidence` (empirical Bayes; Gaussian family and prior).
    #[arg(long, default_value = "cv")]
    pub lambda: String,
    /// The prior's scale instead of λ (τ for gaussian, b for laplace).
    #[arg(long, conflicts_with = "lambda")]
    pub prior_scale: Option<f64>,
    /// Number of CV folds.
    #[arg(long, default_value_t = 10)]
    pub folds: usize,
    /// Seed of the CV fold assignment.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Save the model as JSON.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write figures (PNG) to this folder.
    #[arg(long)]
    pub plot: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct PathArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Number of λ values.
    #[arg(long, default_value_t = 100)]
    pub n_lambda: usize,
    /// Smallest λ as a fraction of λ_max (default: glmnet's 1e-4 if n ≥ p, else 1e-2).
    #[arg(long)]
    pub lambda_min_ratio: Option<f64>,
    /// Write the path as CSV (one row per λ).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Save the path as versioned JSON (mapfit::saved::SavedPath).
    #[arg(long)]
    pub save: Option<PathBuf>,
    /// Write the coefficient-path figure (PNG) to this folder.
    #[arg(long)]
    pub plot: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct CvArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Number of folds.
    #[arg(long, default_value_t = 10)]
    pub folds: usize,
    /// Seed of the fold assignment.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of λ values.
    #[arg(long, default_value_t = 100)]
    pub n_lambda: usize,
    /// Write the CV curve as CSV.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Save the full-data path and the CV curve as versioned JSON (mapfit::saved::SavedPath).
    #[arg(long)]
    pub save: Option<PathBuf>,
    /// Write the CV-curve and coefficient-path figures (PNG) to this folder.
    #[arg(long)]
    pub plot: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct PredictArgs {
    /// A model saved by `mapfit fit --out`.
    pub model: PathBuf,
    /// CSV file with (at least) the model's predictor columns.
    pub data: PathBuf,
    /// Write the predictions to this CSV file instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Folder for the figures.
    #[arg(long, default_value = "mapfit-output")]
    pub plot: PathBuf,
}

/// Exit status when a solver did not converge (and --accept-unconverged was not given).
pub const EXIT_NOT_CONVERGED: u8 = 3;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => demo::run(&DemoArgs {
            plot: PathBuf::from("mapfit-output"),
        }),
        Some(Command::Demo(a)) => demo::run(&a),
        Some(Command::Fit(a)) => commands::fit(&a),
        Some(Command::Path(a)) => commands::path(&a),
        Some(Command::Cv(a)) => commands::cv(&a),
        Some(Command::Predict(a)) => commands::predict(&a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            if matches!(e, mapfit::Error::NotConverged { .. }) {
                eprintln!("hint: pass --accept-unconverged to keep the result anyway");
                ExitCode::from(EXIT_NOT_CONVERGED)
            } else {
                ExitCode::from(1)
            }
        }
    }
}
