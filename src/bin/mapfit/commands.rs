//! The subcommands: fit, path, cv and predict.

use crate::spec::{Family, LambdaSpec, PriorSpec};
use crate::{CvArgs, DataArgs, FitArgs, PathArgs, PredictArgs};
use mapfit::evidence::BayesianRidge;
use mapfit::io::Table;
use mapfit::likelihood::{self, Likelihood};
use mapfit::posterior::Posterior;
use mapfit::prior::{Convention, ElasticNet, Flat, Gaussian, Laplace, Prior};
use mapfit::saved::{SavedModel, SavedPath};
use mapfit::{
    CrossValidation, CvFit, Design, Error, Fit, Map, MapProblem, Metric, Path, PathFit, Result,
};
use nalgebra::{DMatrix, DVector};
use serde_json::{json, Map as JsonMap, Value};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

/// The data of a command, read from CSV.
pub struct Loaded {
    pub names: Vec<String>,
    pub x: DMatrix<f64>,
    pub y: DVector<f64>,
    pub weights: Option<DVector<f64>>,
    pub offset: Option<DVector<f64>>,
}

impl Loaded {
    fn n_eff(&self) -> f64 {
        self.weights
            .as_ref()
            .map_or(self.x.nrows() as f64, |w| w.sum())
    }
}

pub fn load(a: &DataArgs) -> Result<Loaded> {
    let table = Table::from_path(&a.data)?;
    let mut exclude: Vec<&str> = Vec::new();
    if let Some(w) = &a.weights {
        exclude.push(w);
    }
    if let Some(o) = &a.offset {
        exclude.push(o);
    }
    let (names, x, y) = table.design(&a.target, &exclude)?;
    let weights = a.weights.as_deref().map(|w| table.column(w)).transpose()?;
    let offset = a.offset.as_deref().map(|o| table.column(o)).transpose()?;
    // Validate everything up front, so that errors name rows and columns.
    let mut d = Design::new(&x, &y)?;
    if let Some(w) = &weights {
        d = d.with_weights(w)?;
    }
    if let Some(o) = &offset {
        d.with_offset(o)?;
    }
    Ok(Loaded {
        names,
        x,
        y,
        weights,
        offset,
    })
}

fn format_json(a: &DataArgs) -> Result<bool> {
    match a.format.as_str() {
        "json" => Ok(true),
        "table" => Ok(false),
        other => Err(Error::Unsupported {
            what: format!("--format {other} (use table or json)"),
        }),
    }
}

/// The noise variance for the Gaussian family: OLS residual variance with n − p − 1 degrees
/// of freedom when that is defined, else the variance of y.
fn noise_variance(d: &Loaded, a: &DataArgs) -> Result<f64> {
    let n = d.n_eff();
    let p = d.x.ncols() as f64;
    let mut ols = Map::new(likelihood::Gaussian::default(), Flat).intercept(!a.no_intercept);
    if let Some(w) = &d.weights {
        ols = ols.weights(w.clone());
    }
    if let Some(o) = &d.offset {
        ols = ols.offset(o.clone());
    }
    let resid_var = |mean: &DVector<f64>| -> f64 {
        (0..d.y.len())
            .map(|i| d.weights.as_ref().map_or(1.0, |w| w[i]) * (d.y[i] - mean[i]).powi(2))
            .sum::<f64>()
    };
    if n > p + 1.0 {
        if let Ok(fit) = ols.fit(&d.x, &d.y) {
            let mut mean = fit.predict(&d.x)?;
            if let Some(o) = &d.offset {
                mean += o;
            }
            let s2 = resid_var(&mean) / (n - p - 1.0);
            if s2 > 0.0 && s2.is_finite() {
                return Ok(s2);
            }
        }
    }
    let ybar = (0..d.y.len())
        .map(|i| d.weights.as_ref().map_or(1.0, |w| w[i]) * d.y[i])
        .sum::<f64>()
        / n;
    let s2 = resid_var(&DVector::from_element(d.y.len(), ybar)) / (n - 1.0).max(1.0);
    Ok(if s2 > 0.0 { s2 } else { 1.0 })
}

/// A progress bar on standard error when it is a terminal; silent otherwise.
fn progress(len: usize, what: &str) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    bar.set_message(what.to_string());
    Some(bar)
}

fn path_builder<L: Likelihood + 'static>(
    lik: L,
    mix: f64,
    d: &Loaded,
    a: &DataArgs,
) -> Result<Path<L>> {
    let mut p = Path::new(lik, mix)
        .standardize(a.standardize)
        .intercept(!a.no_intercept)
        .max_iters(a.max_iters)
        .allow_unconverged(a.accept_unconverged);
    if let Some(w) = &d.weights {
        p = p.weights(w.clone());
    }
    if let Some(o) = &d.offset {
        p = p.offset(o.clone());
    }
    Ok(p)
}

/// The `--metric` of cross-validation.
fn parse_metric(name: &str) -> Result<Metric> {
    Ok(match name {
        "deviance" => Metric::Deviance,
        "mse" => Metric::MeanSquaredError,
        "mae" => Metric::MeanAbsoluteError,
        "class" => Metric::MisclassificationRate,
        "auc" => Metric::Auc,
        other => {
            return Err(Error::Unsupported {
                what: format!(
                    "--metric {other}: expected deviance, mse, mae, class (binomial) or auc \
                     (binomial)"
                ),
            })
        }
    })
}

fn run_cv<L: Likelihood + 'static>(
    lik: L,
    mix: f64,
    d: &Loaded,
    a: &DataArgs,
    folds: usize,
    seed: u64,
    n_lambda: usize,
) -> Result<CvFit> {
    let mut path = path_builder(lik, mix, d, a)?.n_lambda(n_lambda);
    let bar = progress(n_lambda, "cross-validation (full-data path)");
    if let Some(b) = bar.clone() {
        path = path.observer(move |k, _| b.set_position(k as u64 + 1));
    }
    let cv = CrossValidation::new(path)
        .folds(folds)
        .seed(seed)
        .metric(parse_metric(&a.metric)?)
        .fit(&d.x, &d.y);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    cv
}

/// What a fit command reports.
struct Report {
    family: Family,
    prior_name: String,
    prior_described: String,
    lambda: Option<f64>,
    rule: String,
    sigma2: Option<f64>,
    intercept: Option<f64>,
    coefficients: Vec<f64>,
    standard_errors: Option<Vec<Option<f64>>>,
    convergence: mapfit::Convergence,
    method: &'static str,
    local_mode: bool,
    model: SavedModel,
}

fn standard_errors<L: Likelihood, P: Prior>(
    fit: &Fit<L>,
    lik: &L,
    prior: &P,
    d: &Loaded,
    a: &DataArgs,
) -> Option<Vec<Option<f64>>> {
    // The Laplace approximation on the problem that was solved (scaled columns when
    // standardizing), mapped back to the original scale.
    let mut design = Design::new(&d.x, &d.y).ok()?;
    if let Some(w) = &d.weights {
        design = design.with_weights(w).ok()?;
    }
    let p = d.x.ncols();
    let scales: Vec<f64> = if a.standardize {
        design
            .column_scales(!a.no_intercept)
            .iter()
            .map(|&s| if s > 0.0 { s } else { 1.0 })
            .collect()
    } else {
        vec![1.0; p]
    };
    let mut xs = d.x.clone();
    for (j, mut c) in xs.column_iter_mut().enumerate() {
        c /= scales[j];
    }
    let mut ds = Design::new(&xs, &d.y).ok()?;
    if let Some(w) = &d.weights {
        ds = ds.with_weights(w).ok()?;
    }
    if let Some(o) = &d.offset {
        ds = ds.with_offset(o).ok()?;
    }
    let problem = MapProblem::new(ds, lik.clone(), prior.clone(), !a.no_intercept).ok()?;
    let mut theta = DVector::zeros(problem.n_params());
    for j in 0..p {
        theta[j] = fit.coefficients()[j] * scales[j];
    }
    if !a.no_intercept {
        theta[p] = fit.intercept();
    }
    let post = Posterior::laplace(&problem, &theta).ok()?;
    let se = post.standard_errors();
    Some((0..p).map(|j| se[j].map(|s| s / scales[j])).collect())
}

#[allow(clippy::too_many_arguments)]
fn fit_with<L: Likelihood + 'static, P: Prior>(
    family: Family,
    lik: L,
    prior: P,
    spec: PriorSpec,
    lambda: Option<f64>,
    rule: &str,
    sigma2: Option<f64>,
    d: &Loaded,
    a: &DataArgs,
) -> Result<Report> {
    let mut m = Map::new(lik.clone(), prior.clone())
        .intercept(!a.no_intercept)
        .standardize(a.standardize)
        .max_iters(a.max_iters)
        .allow_unconverged(a.accept_unconverged);
    if let Some(w) = &d.weights {
        m = m.weights(w.clone());
    }
    if let Some(o) = &d.offset {
        m = m.offset(o.clone());
    }
    let fit = m.fit(&d.x, &d.y)?;
    let ses = standard_errors(&fit, &lik, &prior, d, a);
    Ok(Report {
        family,
        prior_name: spec.name(),
        prior_described: prior.describe(),
        lambda,
        rule: rule.to_string(),
        sigma2,
        intercept: (!a.no_intercept).then(|| fit.intercept()),
        coefficients: fit.coefficients().iter().copied().collect(),
        standard_errors: ses,
        convergence: fit.convergence().clone(),
        method: fit.method().name(),
        local_mode: fit.local_mode(),
        model: SavedModel::from_fit(&fit, &d.names)?,
    })
}

/// Builds the prior for λ (glmnet's convention) and fits it.
#[allow(clippy::too_many_arguments)]
fn fit_at<L: Likelihood + 'static>(
    family: Family,
    lik: L,
    spec: PriorSpec,
    lambda: f64,
    rule: &str,
    sigma2: Option<f64>,
    d: &Loaded,
    a: &DataArgs,
) -> Result<Report> {
    let conv = Convention::Mean {
        n: d.n_eff(),
        sigma2: sigma2.unwrap_or(1.0),
    };
    match spec.mix {
        _ if lambda == 0.0 => fit_with(family, lik, Flat, spec, Some(0.0), rule, sigma2, d, a),
        None => fit_with(family, lik, Flat, spec, None, rule, sigma2, d, a),
        Some(0.0) => fit_with(
            family,
            lik,
            Gaussian::from_lambda(lambda, conv)?,
            spec,
            Some(lambda),
            rule,
            sigma2,
            d,
            a,
        ),
        Some(1.0) => fit_with(
            family,
            lik,
            Laplace::from_lambda(lambda, conv)?,
            spec,
            Some(lambda),
            rule,
            sigma2,
            d,
            a,
        ),
        Some(m) => fit_with(
            family,
            lik,
            ElasticNet::from_lambda(lambda, m, conv)?,
            spec,
            Some(lambda),
            rule,
            sigma2,
            d,
            a,
        ),
    }
}

fn fit_family<L: Likelihood + 'static>(
    family: Family,
    lik: L,
    sigma2: Option<f64>,
    args: &FitArgs,
    d: &Loaded,
) -> Result<(Report, Option<CvFit>)> {
    let a = &args.data;
    let spec = PriorSpec::parse(&a.prior)?;
    if let Some(scale) = args.prior_scale {
        let conv = Convention::Mean {
            n: d.n_eff(),
            sigma2: sigma2.unwrap_or(1.0),
        };
        let report = match spec.mix {
            Some(0.0) => {
                let prior = Gaussian::new(scale)?;
                let l = prior.lambda(conv)?;
                fit_with(
                    family,
                    lik,
                    prior,
                    spec,
                    Some(l),
                    "--prior-scale",
                    sigma2,
                    d,
                    a,
                )?
            }
            Some(1.0) => {
                let prior = Laplace::new(scale)?;
                let l = prior.lambda(conv)?;
                fit_with(
                    family,
                    lik,
                    prior,
                    spec,
                    Some(l),
                    "--prior-scale",
                    sigma2,
                    d,
                    a,
                )?
            }
            _ => {
                return Err(Error::Unsupported {
                    what: "--prior-scale with a flat or elastic-net prior (give --lambda)".into(),
                })
            }
        };
        return Ok((report, None));
    }
    match LambdaSpec::parse(&args.lambda)? {
        LambdaSpec::Value(l) => Ok((fit_at(family, lik, spec, l, "given", sigma2, d, a)?, None)),
        rule @ (LambdaSpec::CvMin | LambdaSpec::Cv1se) => {
            let mix = spec.mix.ok_or_else(|| Error::Unsupported {
                what: "--lambda cv with a flat prior (there is no λ to choose)".into(),
            })?;
            let cv = run_cv(lik.clone(), mix, d, a, args.folds, args.seed, 100)?;
            let (l, name) = if rule == LambdaSpec::CvMin {
                (
                    cv.lambda_min(),
                    format!("{}-fold CV, lambda_min", cv.n_folds()),
                )
            } else {
                (
                    cv.lambda_1se(),
                    format!("{}-fold CV, lambda_1se", cv.n_folds()),
                )
            };
            Ok((fit_at(family, lik, spec, l, &name, sigma2, d, a)?, Some(cv)))
        }
        LambdaSpec::Evidence => Err(Error::Unsupported {
            what: "--lambda evidence needs the gaussian family and the gaussian prior".into(),
        }),
    }
}

fn fit_evidence(args: &FitArgs, d: &Loaded) -> Result<Report> {
    let a = &args.data;
    if d.weights.is_some() || d.offset.is_some() {
        return Err(Error::Unsupported {
            what: "--lambda evidence with weights or an offset".into(),
        });
    }
    let mut xs = d.x.clone();
    let mut scales = vec![1.0; d.x.ncols()];
    if a.standardize {
        let s = Design::new(&d.x, &d.y)?.column_scales(!a.no_intercept);
        for (j, mut c) in xs.column_iter_mut().enumerate() {
            if s[j] > 0.0 {
                scales[j] = s[j];
                c /= s[j];
            }
        }
    }
    let ev = BayesianRidge::new()
        .intercept(!a.no_intercept)
        .fit(&xs, &d.y)?;
    let lik = ev.likelihood()?;
    let prior = ev.prior()?;
    let sigma2 = 1.0 / ev.alpha();
    let lambda = prior.lambda(Convention::Mean {
        n: d.n_eff(),
        sigma2,
    })?;
    let rule = format!(
        "evidence (noise precision {:.6e}, prior precision {:.6e}, γ = {:.3})",
        ev.alpha(),
        ev.lambda(),
        ev.effective_parameters()
    );
    fit_with(
        Family::Gaussian,
        lik,
        prior,
        PriorSpec { mix: Some(0.0) },
        Some(lambda),
        &rule,
        Some(sigma2),
        d,
        a,
    )
}

fn print_report(r: &Report, d: &Loaded, json_out: bool) -> Result<()> {
    let conv = &r.convergence;
    if json_out {
        let mut coefs = JsonMap::new();
        let mut ses = JsonMap::new();
        for (j, name) in d.names.iter().enumerate() {
            coefs.insert(name.clone(), json!(r.coefficients[j]));
            if let Some(s) = &r.standard_errors {
                ses.insert(name.clone(), s[j].map_or(Value::Null, |v| json!(v)));
            }
        }
        let v = json!({
            "family": format!("{:?}", r.family).to_lowercase(),
            "prior": r.prior_name,
            "prior_description": r.prior_described,
            "lambda": r.lambda,
            "lambda_rule": r.rule,
            "noise_variance": r.sigma2,
            "intercept": r.intercept,
            "coefficients": coefs,
            "standard_errors": if r.standard_errors.is_some() { Value::Object(ses) } else { Value::Null },
            "converged": conv.converged,
            "convergence": {
                "measure": conv.measure.to_string(),
                "value": conv.value,
                "tolerance": conv.tolerance,
                "kkt_violation": conv.kkt_violation,
                "iterations": conv.iterations,
            },
            "solver": r.method,
            "local_mode": r.local_mode,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&v).map_err(|e| Error::Solver(e.to_string()))?
        );
        return Ok(());
    }
    println!(
        "family {:?}, prior {} — {}",
        r.family, r.prior_name, r.prior_described
    );
    match r.lambda {
        Some(l) => println!("λ = {l:.6e} (glmnet convention; {})", r.rule),
        None => println!("no penalty (flat prior)"),
    }
    if let Some(s2) = r.sigma2 {
        println!("noise variance σ² = {s2:.6}");
    }
    println!("{:<16} {:>16} {:>14}", "", "estimate", "std. error");
    if let Some(b) = r.intercept {
        println!("{:<16} {:>16.6} {:>14}", "(intercept)", b, "");
    }
    for (j, name) in d.names.iter().enumerate() {
        let c = r.coefficients[j];
        let est = if c == 0.0 {
            "0 (exact)".to_string()
        } else {
            format!("{c:.6}")
        };
        let se = r
            .standard_errors
            .as_ref()
            .and_then(|s| s[j])
            .map_or("—".to_string(), |s| format!("{s:.6}"));
        println!("{:<16} {:>16} {:>14}", name, est, se);
    }
    println!("solver: {} — {}", r.method, conv);
    if r.local_mode {
        println!("note: the prior is not log-concave; this is a local mode");
    }
    Ok(())
}

fn status(converged: bool) -> ExitCode {
    if converged {
        ExitCode::SUCCESS
    } else {
        // Reached only with --accept-unconverged: the result was printed and flagged.
        ExitCode::SUCCESS
    }
}

pub fn fit(args: &FitArgs) -> Result<ExitCode> {
    let a = &args.data;
    let json_out = format_json(a)?;
    let family = Family::parse(&a.family)?;
    let d = load(a)?;
    let (report, cv) = match family {
        Family::Gaussian => {
            if LambdaSpec::parse(&args.lambda)? == LambdaSpec::Evidence
                && args.prior_scale.is_none()
            {
                if PriorSpec::parse(&a.prior)?.mix != Some(0.0) {
                    return Err(Error::Unsupported {
                        what: "--lambda evidence needs the gaussian prior (--prior gaussian)"
                            .into(),
                    });
                }
                (fit_evidence(args, &d)?, None)
            } else {
                let s2 = noise_variance(&d, a)?;
                fit_family(family, likelihood::Gaussian::new(s2)?, Some(s2), args, &d)?
            }
        }
        Family::Binomial => fit_family(family, likelihood::Bernoulli, None, args, &d)?,
        Family::Poisson => fit_family(family, likelihood::Poisson, None, args, &d)?,
    };
    if let Some(dir) = &args.plot {
        std::fs::create_dir_all(dir).map_err(|e| Error::Io {
            path: dir.display().to_string(),
            message: e.to_string(),
        })?;
        if let Some(cv) = &cv {
            plot_cv(cv, &d.names, dir)?;
        }
        mapfit::plot::constraint_geometry(&dir.join("geometry.png"))?;
    }
    print_report(&report, &d, json_out)?;
    if let Some(out) = &args.out {
        report.model.save(out)?;
        if !json_out {
            println!("model saved to {}", out.display());
        }
    }
    Ok(status(report.convergence.converged))
}

fn plot_cv(cv: &CvFit, names: &[String], dir: &std::path::Path) -> Result<()> {
    let marks = [("λ_min", cv.lambda_min()), ("λ_1se", cv.lambda_1se())];
    mapfit::plot::cv_curve(
        &dir.join("cv.png"),
        cv.lambdas(),
        cv.cvm(),
        cv.cvsd(),
        &marks,
    )?;
    plot_path(cv.path(), names, &dir.join("paths.png"), &marks)
}

fn plot_path(
    path: &PathFit,
    names: &[String],
    file: &std::path::Path,
    marks: &[(&str, f64)],
) -> Result<()> {
    let coefs: Vec<Vec<f64>> = (0..names.len())
        .map(|j| (0..path.len()).map(|k| path.coefficients(k)[j]).collect())
        .collect();
    mapfit::plot::coefficient_paths(file, path.lambdas(), &coefs, names, marks)
}

/// Writes `text` to `out` whole (through a temporary file), or to standard output.
fn write_output(out: Option<&std::path::Path>, text: &str) -> Result<()> {
    match out {
        Some(path) => {
            let io = |e: std::io::Error| Error::Io {
                path: path.display().to_string(),
                message: e.to_string(),
            };
            let tmp = path.with_extension("partial");
            std::fs::write(&tmp, text).map_err(io)?;
            std::fs::rename(&tmp, path).map_err(io)
        }
        None => {
            let mut so = std::io::stdout().lock();
            so.write_all(text.as_bytes()).map_err(|e| Error::Io {
                path: "standard output".into(),
                message: e.to_string(),
            })
        }
    }
}

fn path_json(path: &PathFit, names: &[String]) -> Value {
    let pts: Vec<Value> = (0..path.len())
        .map(|k| {
            let mut coefs = JsonMap::new();
            for (j, name) in names.iter().enumerate() {
                coefs.insert(name.clone(), json!(path.coefficients(k)[j]));
            }
            let c = path.convergence(k);
            json!({
                "lambda": path.lambda(k),
                "df": path.df()[k],
                "dev_ratio": path.dev_ratio()[k],
                "intercept": path.intercept(k),
                "coefficients": coefs,
                "converged": c.converged,
                "convergence": {"measure": c.measure.to_string(), "value": c.value, "kkt_violation": c.kkt_violation},
            })
        })
        .collect();
    Value::Array(pts)
}

pub fn path(args: &PathArgs) -> Result<ExitCode> {
    let a = &args.data;
    let json_out = format_json(a)?;
    let family = Family::parse(&a.family)?;
    let mix = PriorSpec::parse(&a.prior)?
        .mix
        .ok_or_else(|| Error::Unsupported {
            what: "a path with a flat prior (there is no λ)".into(),
        })?;
    let d = load(a)?;
    let fit_path = |bar: Option<indicatif::ProgressBar>| -> Result<PathFit> {
        macro_rules! go {
            ($lik:expr) => {{
                let mut p = path_builder($lik, mix, &d, a)?
                    .n_lambda(args.n_lambda)
                    .lambda_min_ratio(args.lambda_min_ratio);
                if let Some(b) = bar.clone() {
                    p = p.observer(move |k, _| b.set_position(k as u64 + 1));
                }
                p.fit(&d.x, &d.y)
            }};
        }
        match family {
            Family::Gaussian => go!(likelihood::Gaussian::default()),
            Family::Binomial => go!(likelihood::Bernoulli),
            Family::Poisson => go!(likelihood::Poisson),
        }
    };
    let bar = progress(args.n_lambda, "path");
    let path = fit_path(bar.clone());
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let path = path?;
    if let Some(file) = &args.save {
        SavedPath::from_path(&path, &d.names)?.save(file)?;
    }
    if let Some(dir) = &args.plot {
        std::fs::create_dir_all(dir).map_err(|e| Error::Io {
            path: dir.display().to_string(),
            message: e.to_string(),
        })?;
        plot_path(&path, &d.names, &dir.join("paths.png"), &[])?;
    }
    if let Some(out) = &args.out {
        let mut text = format!("lambda,df,dev_ratio,intercept,{}\n", d.names.join(","));
        for k in 0..path.len() {
            let coefs: Vec<String> = path
                .coefficients(k)
                .iter()
                .map(|c| format!("{c:e}"))
                .collect();
            text.push_str(&format!(
                "{:e},{},{:e},{:e},{}\n",
                path.lambda(k),
                path.df()[k],
                path.dev_ratio()[k],
                path.intercept(k),
                coefs.join(",")
            ));
        }
        write_output(Some(out), &text)?;
    }
    if json_out {
        println!(
            "{}",
            serde_json::to_string_pretty(&path_json(&path, &d.names))
                .map_err(|e| Error::Solver(e.to_string()))?
        );
    } else {
        println!(
            "{:>5} {:>14} {:>5} {:>10} {:>12} {:>12}",
            "k", "lambda", "df", "dev.ratio", "rel. gap", "KKT"
        );
        for k in 0..path.len() {
            let c = path.convergence(k);
            println!(
                "{:>5} {:>14.6e} {:>5} {:>10.6} {:>12.2e} {:>12.2e}",
                k,
                path.lambda(k),
                path.df()[k],
                path.dev_ratio()[k],
                c.value,
                c.kkt_violation
            );
        }
        if path.stopped_early() {
            println!("(stopped early: the deviance explained no longer changed, as glmnet does)");
        }
    }
    Ok(status(path.converged()))
}

pub fn cv(args: &CvArgs) -> Result<ExitCode> {
    let a = &args.data;
    let json_out = format_json(a)?;
    let family = Family::parse(&a.family)?;
    let mix = PriorSpec::parse(&a.prior)?
        .mix
        .ok_or_else(|| Error::Unsupported {
            what: "cross-validation with a flat prior (there is no λ to choose)".into(),
        })?;
    let d = load(a)?;
    let cv = match family {
        Family::Gaussian => run_cv(
            likelihood::Gaussian::default(),
            mix,
            &d,
            a,
            args.folds,
            args.seed,
            args.n_lambda,
        )?,
        Family::Binomial => run_cv(
            likelihood::Bernoulli,
            mix,
            &d,
            a,
            args.folds,
            args.seed,
            args.n_lambda,
        )?,
        Family::Poisson => run_cv(
            likelihood::Poisson,
            mix,
            &d,
            a,
            args.folds,
            args.seed,
            args.n_lambda,
        )?,
    };
    if let Some(file) = &args.save {
        SavedPath::from_cv(&cv, &d.names)?.save(file)?;
    }
    if let Some(dir) = &args.plot {
        std::fs::create_dir_all(dir).map_err(|e| Error::Io {
            path: dir.display().to_string(),
            message: e.to_string(),
        })?;
        plot_cv(&cv, &d.names, dir)?;
    }
    if let Some(out) = &args.out {
        let mut text = String::from("lambda,cvm,cvsd,df\n");
        for k in 0..cv.lambdas().len() {
            text.push_str(&format!(
                "{:e},{:e},{:e},{}\n",
                cv.lambdas()[k],
                cv.cvm()[k],
                cv.cvsd()[k],
                cv.path().df()[k]
            ));
        }
        write_output(Some(out), &text)?;
    }
    if json_out {
        let pts: Vec<Value> = (0..cv.lambdas().len())
            .map(|k| json!({"lambda": cv.lambdas()[k], "cvm": cv.cvm()[k], "cvsd": cv.cvsd()[k], "df": cv.path().df()[k]}))
            .collect();
        let v = json!({
            "folds": cv.n_folds(),
            "metric": cv.metric().name(),
            "lambda_min": cv.lambda_min(),
            "lambda_1se": cv.lambda_1se(),
            "curve": pts,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&v).map_err(|e| Error::Solver(e.to_string()))?
        );
    } else {
        println!("{:>14} {:>14} {:>14} {:>5}", "lambda", "cvm", "cvsd", "df");
        for k in 0..cv.lambdas().len() {
            let mark = if k == cv.index_min() {
                "  <- lambda_min"
            } else if k == cv.index_1se() {
                "  <- lambda_1se"
            } else {
                ""
            };
            println!(
                "{:>14.6e} {:>14.6e} {:>14.6e} {:>5}{mark}",
                cv.lambdas()[k],
                cv.cvm()[k],
                cv.cvsd()[k],
                cv.path().df()[k]
            );
        }
        println!(
            "lambda_min = {:.6e}, lambda_1se = {:.6e} ({} folds, cvm = {})",
            cv.lambda_min(),
            cv.lambda_1se(),
            cv.n_folds(),
            cv.metric().name()
        );
    }
    Ok(status(cv.path().converged()))
}

pub fn predict(args: &PredictArgs) -> Result<ExitCode> {
    let model = SavedModel::load(&args.model)?;
    let table = Table::from_path(&args.data)?;
    let x = table.matrix(&model.columns)?;
    let eta = model.predict_linear(&x)?;
    let mean = model.predict(&x)?;
    let mut text = String::from("linear_predictor,mean\n");
    for i in 0..eta.len() {
        // `{:?}` writes the shortest string that reads back to the same f64.
        text.push_str(&format!("{:?},{:?}\n", eta[i], mean[i]));
    }
    write_output(args.out.as_deref(), &text)?;
    Ok(ExitCode::SUCCESS)
}
