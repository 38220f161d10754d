//! Every example runs, and the claims it prints hold.
//!
//! The examples are separate binaries. `cargo test` builds them by default, but a filtered run
//! (`cargo test --release --test examples`) does not, so this test first asks cargo to build
//! them (a no-op when they are up to date) with the same profile, features and target
//! directory as the test itself, then runs each from
//! `<target>/<profile>/examples/NAME` and parses its `key = value` lines and tables.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const EXAMPLES: &[&str] = &[
    "quickstart",
    "map_equivalence",
    "lambda_selection",
    "bias_variance",
    "logistic_map",
    "poisson_map",
    "uncertainty",
    "weight_decay",
    "neural_net",
    #[cfg(feature = "plot")]
    "paths_and_cv",
];

/// `<target>/<profile>/deps/examples-HASH` → `<target>/<profile>`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.parent()
        .and_then(Path::parent)
        .unwrap_or_else(|| panic!("unexpected test binary location {}", exe.display()))
        .to_path_buf()
}

/// Builds the examples once (in this process) and returns the folder holding them.
fn examples_dir() -> &'static Path {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let profile = profile_dir();
        let target = profile.parent().ok_or("no target directory")?;
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
            .arg("build")
            .arg("--target-dir")
            .arg(target);
        match profile.file_name().and_then(|s| s.to_str()) {
            Some("debug") => {}
            Some("release") => {
                cmd.arg("--release");
            }
            Some(other) => {
                cmd.args(["--profile", other]);
            }
            None => return Err("no profile directory".into()),
        }
        // The same feature set as this test binary, `default` included: cargo hashes the
        // feature list, so `--features cli,plot` without `default` would be a second build of
        // the library (half a minute or more of CI) instead of a no-op.
        let mut features = Vec::new();
        if cfg!(feature = "default") {
            features.push("default");
        }
        if cfg!(feature = "cli") {
            features.push("cli");
        }
        if cfg!(feature = "plot") {
            features.push("plot");
        }
        cmd.arg("--no-default-features");
        if !features.is_empty() {
            cmd.args(["--features", &features.join(",")]);
        }
        for name in EXAMPLES {
            cmd.args(["--example", name]);
        }
        let out = cmd
            .output()
            .map_err(|e| format!("could not run cargo to build the examples: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "building the examples failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(profile.join("examples"))
    });
    match dir {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    }
}

/// A scratch folder for one example (emptied first), under cargo's test temp dir.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("example-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the scratch folder");
    dir
}

/// Runs example `name` with `args` in its own scratch folder; returns its standard output.
fn run(name: &str, args: &[&str]) -> String {
    let bin = examples_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "example binary {} is missing: build it with `cargo build --release --example {name}` \
         (or run the whole suite with `cargo test --release`)",
        bin.display()
    );
    let start = std::time::Instant::now();
    let out = Command::new(&bin)
        .args(args)
        .current_dir(scratch(name))
        .output()
        .unwrap_or_else(|e| panic!("could not run {}: {e}", bin.display()));
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");
    assert!(
        out.status.success(),
        "example {name} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{name}: {:.2} s", start.elapsed().as_secs_f64());
    stdout
}

/// The first token after ` = ` on the line whose left-hand side is `key`.
fn text<'a>(out: &'a str, key: &str) -> &'a str {
    out.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(" = ")?;
            (k.trim() == key).then(|| v.split_whitespace().next().unwrap_or(""))
        })
        .unwrap_or_else(|| panic!("no line `{key} = …` in the output:\n{out}"))
}

fn num(out: &str, key: &str) -> f64 {
    let v = text(out, key);
    v.parse()
        .unwrap_or_else(|_| panic!("`{key} = {v}` is not a number"))
}

/// Every `(key, value)` of the lines `PREFIX NAME = VALUE`.
fn prefixed<'a>(out: &'a str, prefix: &str) -> Vec<(&'a str, &'a str)> {
    out.lines()
        .filter_map(|l| {
            let rest = l.strip_prefix(prefix)?.strip_prefix(' ')?;
            let (k, v) = rest.split_once(" = ")?;
            Some((k.trim(), v.split_whitespace().next().unwrap_or("")))
        })
        .collect()
}

/// The numeric rows of the table whose header line starts with the word `first`, up to the
/// next blank line.
fn table(out: &str, first: &str) -> Vec<Vec<f64>> {
    let mut lines = out.lines();
    lines
        .by_ref()
        .find(|l| l.split_whitespace().next() == Some(first))
        .unwrap_or_else(|| panic!("no table with header `{first}` in:\n{out}"));
    lines
        .take_while(|l| !l.trim().is_empty())
        .map(|l| {
            l.split_whitespace()
                .map(|t| {
                    t.parse()
                        .unwrap_or_else(|_| panic!("non-numeric cell `{t}` in row `{l}`"))
                })
                .collect()
        })
        .collect()
}

fn col(rows: &[Vec<f64>], j: usize) -> Vec<f64> {
    rows.iter().map(|r| r[j]).collect()
}

fn non_decreasing(v: &[f64], slack: f64) -> bool {
    v.windows(2).all(|w| w[1] >= w[0] - slack)
}

fn argmin(v: &[f64]) -> usize {
    (0..v.len())
        .min_by(|&a, &b| v[a].total_cmp(&v[b]))
        .expect("non-empty")
}

/// Falls to an interior minimum, then rises.
fn u_shaped(v: &[f64]) -> bool {
    let k = argmin(v);
    let falls: Vec<f64> = v[..=k].iter().map(|x| -x).collect();
    k > 0 && k + 1 < v.len() && non_decreasing(&falls, 0.0) && non_decreasing(&v[k..], 0.0)
}

#[test]
fn quickstart() {
    let out = run("quickstart", &[]);
    assert_eq!(text(&out, "converged"), "true");
    assert_eq!(num(&out, "w2"), 0.0);
    assert_eq!(num(&out, "nonzeros"), 1.0, "w2 is an exact zero");
    assert!((num(&out, "w1") - 1.97).abs() < 0.05);
    // b = σ²/(nλ) with n = 6, λ = 0.1.
    assert!((num(&out, "laplace_scale") - 1.0 / 0.6).abs() < 1e-6);
}

#[test]
fn map_equivalence() {
    let out = run("map_equivalence", &[]);
    let diffs = prefixed(&out, "max_abs_diff");
    assert!(diffs.len() >= 9, "expected every comparison, got {diffs:?}");
    for (name, v) in &diffs {
        let v: f64 = v.parse().unwrap();
        assert!(v <= 1e-8, "{name}: max abs difference {v:e} > 1e-8");
    }
    let zeros = prefixed(&out, "exact_zeros");
    assert_eq!(zeros.len(), 3, "{zeros:?}");
    for (name, v) in zeros {
        let (fit, reference) = v.split_once('/').unwrap();
        assert_eq!(fit, reference, "{name}: zeros of the MAP vs the reference");
        assert!(
            fit.parse::<usize>().unwrap() >= 2,
            "{name}: a degenerate case"
        );
    }
    for (name, v) in prefixed(&out, "same_zeros") {
        assert_eq!(v, "true", "{name}: the zeros differ");
    }
}

#[test]
fn lambda_selection() {
    let out = run("lambda_selection", &[]);
    // Least squares by degree: nested models, so the training error never rises.
    let by_degree = table(&out, "degree");
    assert_eq!(
        col(&by_degree, 0),
        (1..=10).map(f64::from).collect::<Vec<_>>()
    );
    let train: Vec<f64> = col(&by_degree, 1).iter().map(|x| -x).collect();
    assert!(non_decreasing(&train, 1e-5), "training error by degree");

    // The λ table: 0, 1, 10, …, 1e5.
    let rows = table(&out, "lambda_sum");
    let lambdas = col(&rows, 0);
    assert_eq!(lambdas, vec![0.0, 1.0, 1e1, 1e2, 1e3, 1e4, 1e5]);
    let train = col(&rows, 3);
    let test = col(&rows, 4);
    assert!(
        non_decreasing(&train, 0.0),
        "training error must rise with λ: {train:?}"
    );
    assert!(u_shaped(&test), "test error must fall then rise: {test:?}");
    let df = col(&rows, 2);
    assert!(non_decreasing(
        &df.iter().map(|x| -x).collect::<Vec<_>>(),
        0.0
    ));
    assert_eq!(num(&out, "best_table_lambda"), lambdas[argmin(&test)]);

    assert_eq!(text(&out, "flat_prior_on_8_points"), "error");
    assert_eq!(text(&out, "gaussian_prior_on_8_points"), "ok");

    // λ chosen from the training data beats both ends of the table.
    let (cv_min, cv_1se) = (num(&out, "cv_lambda_min"), num(&out, "cv_lambda_1se"));
    assert!(cv_min > 0.0 && cv_min <= cv_1se);
    let ends = test[0].min(test[test.len() - 1]);
    for key in ["test_mse_cv_min", "test_mse_cv_1se", "test_mse_evidence"] {
        assert!(num(&out, key) < ends, "{key} should beat λ = 0 and λ = 1e5");
    }
    assert!(num(&out, "evidence_lambda") > 0.0);
    let table_best = test[argmin(&test)];
    for key in ["test_mse_cv_min", "test_mse_evidence"] {
        assert!(
            num(&out, key) < table_best,
            "{key} should beat the table's best λ"
        );
    }
    for (name, v) in prefixed(&out, "max_abs_diff") {
        assert!(v.parse::<f64>().unwrap() <= 1e-8, "{name} = {v}");
    }
}

#[test]
fn bias_variance() {
    let out = run("bias_variance", &[]);
    let rows = table(&out, "lambda");
    assert!(rows.len() >= 5);
    let lambdas = col(&rows, 0);
    assert!(lambdas.windows(2).all(|w| w[1] < w[0]), "λ decreases");
    let (bias2, variance, noise, sum, test) = (
        col(&rows, 1),
        col(&rows, 2),
        col(&rows, 3),
        col(&rows, 4),
        col(&rows, 5),
    );
    for k in 0..rows.len() {
        assert!(
            (bias2[k] + variance[k] + noise[k] - sum[k]).abs() < 1e-4,
            "row {k}: the sum column"
        );
        assert!(
            (sum[k] / test[k] - 1.0).abs() <= 0.03,
            "λ = {}: bias² + variance + noise = {} vs test {}",
            lambdas[k],
            sum[k],
            test[k]
        );
    }
    // Down the table λ falls: bias² falls, variance rises.
    let neg_bias: Vec<f64> = bias2.iter().map(|x| -x).collect();
    assert!(
        non_decreasing(&neg_bias, 0.0),
        "bias² rises with λ: {bias2:?}"
    );
    assert!(
        non_decreasing(&variance, 0.0),
        "variance falls with λ: {variance:?}"
    );
    assert!(
        u_shaped(&test),
        "the test error has an interior minimum: {test:?}"
    );
}

#[test]
fn logistic_map() {
    let out = run("logistic_map", &[]);
    assert_eq!(num(&out, "exact_zeros_gaussian"), 0.0);
    assert!(num(&out, "exact_zeros_laplace") >= 1.0);
    // C = 0.1 ↔ λ_sum = 10, glmnet λ = 1/(nC) = 0.05.
    assert!((num(&out, "lambda_sum") - 10.0).abs() < 1e-9);
    assert!((num(&out, "lambda_glmnet") - 0.05).abs() < 1e-9);
    let grad = prefixed(&out, "max_abs_grad");
    let kkt = prefixed(&out, "max_kkt_violation");
    assert_eq!((grad.len(), kkt.len()), (1, 1));
    assert!(grad[0].1.parse::<f64>().unwrap() <= 1e-6, "{grad:?}");
    assert!(kkt[0].1.parse::<f64>().unwrap() <= 1e-6, "{kkt:?}");
    for key in [
        "train_accuracy_gaussian",
        "test_accuracy_gaussian",
        "train_accuracy_laplace",
        "test_accuracy_laplace",
    ] {
        let a = num(&out, key);
        assert!((0.75..=1.0).contains(&a), "{key} = {a}");
    }
    // Across C: λ_sum = 1/C, glmnet λ = 1/(nC); L2 never zeroes, L1 zeroes more as C falls.
    let rows = table(&out, "C");
    assert!(rows.len() >= 4);
    for r in &rows {
        assert!((r[0] * r[1] - 1.0).abs() < 2e-3, "λ_sum·C = 1: {r:?}");
        assert!(
            (200.0 * r[0] * r[2] - 1.0).abs() < 2e-3,
            "λ_glmnet·n·C = 1: {r:?}"
        );
        assert_eq!(r[4], 0.0, "the Gaussian prior has no exact zeros");
    }
    assert!(
        non_decreasing(&col(&rows, 6), 0.0),
        "L1 non-zeros grow with C"
    );
}

#[test]
fn poisson_map() {
    let out = run("poisson_map", &[]);
    let observed = num(&out, "sum_observed");
    for key in ["sum_expected_gaussian", "sum_expected_laplace"] {
        let e = num(&out, key);
        assert!(
            (e - observed).abs() <= 1e-6 * observed,
            "{key} = {e} vs observed {observed}"
        );
    }
    assert_eq!(num(&out, "exact_zeros_gaussian"), 0.0);
    assert!(num(&out, "exact_zeros_laplace") >= 1.0);
    assert!(num(&out, "max_abs_error_gaussian") < 0.2);
}

#[test]
fn uncertainty() {
    let out = run("uncertainty", &[]);
    for (name, v) in prefixed(&out, "max_abs_diff") {
        assert!(v.parse::<f64>().unwrap() <= 1e-10, "{name} = {v}");
    }
    let n = num(&out, "intervals_exact");
    let cover = num(&out, "coverage_exact");
    let band = 3.0 * (0.95 * 0.05 / n).sqrt();
    assert!(
        (cover - 0.95).abs() <= band,
        "coverage {cover} outside 0.95 ± {band:.4} ({n} intervals)"
    );
    let approx = num(&out, "coverage_laplace_logistic");
    assert!(
        (approx - 0.95).abs() <= 0.05,
        "Laplace approximation coverage {approx}"
    );
    let pinned = num(&out, "pinned_coefficients");
    assert!(pinned >= 1.0);
    assert_eq!(pinned, num(&out, "exact_zeros_laplace"));
}

#[cfg(feature = "plot")]
#[test]
fn paths_and_cv() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("example-paths_and_cv-figures");
    let _ = std::fs::remove_dir_all(&dir);
    let out = run("paths_and_cv", &[dir.to_str().expect("UTF-8 path")]);
    let (min, se) = (num(&out, "lambda_min"), num(&out, "lambda_1se"));
    assert!(min > 0.0 && min <= se, "λ_min {min}, λ_1se {se}");
    let files: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("figure = "))
        .collect();
    assert_eq!(files.len(), 4, "{out}");
    for f in files {
        let p = Path::new(f);
        assert!(p.starts_with(&dir), "{f} is outside {}", dir.display());
        let bytes = std::fs::read(p).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{f} is not a PNG");
        assert!(
            bytes.len() > 10_000,
            "{f} is nearly empty ({} bytes)",
            bytes.len()
        );
    }
}

/// The numeric `(a, b)` pairs of a line (a row of the weight-decay Adam table).
fn pairs(line: &str) -> Vec<(f64, f64)> {
    line.split('(')
        .skip(1)
        .filter_map(|s| {
            let (a, b) = s.split(')').next()?.split_once(',')?;
            Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
        })
        .collect()
}

#[test]
fn weight_decay() {
    let out = run("weight_decay", &[]);
    // 1. SGD: the coupled and decoupled iterates are the same numbers up to rounding.
    let same = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("max |θ_L2 − θ_WD| after 2000 steps:"))
        .expect("the SGD difference line");
    let same: f64 = same.trim().parse().unwrap();
    assert!(same <= 1e-12, "SGD + L2 vs SGD + WD: {same:e}");
    // Both averages reach the ridge / MAP.
    let rows: Vec<Vec<f64>> = out
        .lines()
        .filter(|l| {
            let t = l.trim_start();
            (t.starts_with('w') && t.as_bytes().get(1).is_some_and(u8::is_ascii_digit))
                || t.starts_with("b ")
        })
        .map(|l| {
            l.split_whitespace()
                .skip(1)
                .map(|t| t.parse().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(rows.len(), 6, "w1…w5 and b");
    for r in &rows {
        assert!((r[0] - r[1]).abs() <= 1e-6, "{r:?}");
        assert!((r[0] - r[2]).abs() <= 2e-3, "SGD average vs ridge: {r:?}");
    }
    // 2. Adam + L2 finds the MAP; AdamW the clipped least squares, which keeps w₂ = 0.3.
    let adam: Vec<Vec<(f64, f64)>> = out.lines().map(pairs).filter(|p| p.len() == 4).collect();
    assert_eq!(adam.len(), 4, "one row per λ");
    for r in &adam {
        let (map, adam_l2, adamw, clip) = (r[0], r[1], r[2], r[3]);
        assert!((map.0 - adam_l2.0).abs() <= 1e-3 && (map.1 - adam_l2.1).abs() <= 1e-3);
        assert!((adamw.0 - clip.0).abs() <= 0.02 && (adamw.1 - clip.1).abs() <= 0.02);
        assert!(
            (adamw.1 - map.1).abs() >= 0.05,
            "AdamW is not the MAP: {r:?}"
        );
    }
}

#[test]
fn neural_net() {
    let out = run("neural_net", &[]);
    let rows: Vec<Vec<f64>> = out
        .lines()
        .filter_map(|l| {
            let cells: Option<Vec<f64>> = l.split_whitespace().map(|t| t.parse().ok()).collect();
            cells.filter(|c| c.len() == 8)
        })
        .collect();
    let widths = [2.0, 8.0, 64.0];
    assert_eq!(rows.len(), 18, "3 widths × 6 prior scales");
    let mut overfit = Vec::new();
    for (k, &h) in widths.iter().enumerate() {
        let block = &rows[6 * k..6 * k + 6];
        assert!(block.iter().all(|r| r[0] == h));
        // A weaker prior: larger weights, a better fit to the training data.
        let norm = col(block, 7);
        let nll: Vec<f64> = col(block, 4).iter().map(|x| -x).collect();
        assert!(
            non_decreasing(&norm, 0.0),
            "‖w‖ by τ at width {h}: {norm:?}"
        );
        assert!(non_decreasing(&nll, 0.0), "train nll/n by τ at width {h}");
        // τ = 0.1: every weight ≈ 0, the constant classifier.
        assert!(block[0][7] < 0.01 && (block[0][6] - 0.5).abs() < 0.01);
        // The lowest test error at an intermediate τ.
        let test = col(block, 6);
        let best = argmin(&test);
        assert!(best > 0 && best < 5, "width {h}: best τ at the edge");
        let line = format!("hidden {h}: lowest test error");
        assert!(out.contains(&line));
        overfit.push(test[5] - test[best]);
    }
    // The wider the network, the more the weakest prior overfits.
    assert!(
        overfit.windows(2).all(|w| w[1] > w[0]),
        "overfitting by width: {overfit:?}"
    );
}
