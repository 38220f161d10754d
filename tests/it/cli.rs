//! The `mapfit` command line end to end: fit → save → predict reproduces the library, and
//! every malformed input gives its message, a non-zero exit and no partial output file.
#![cfg(all(feature = "cli", feature = "plot"))]
use crate::common;

use mapfit::prior::{Convention, Laplace};
use mapfit::{likelihood, Map};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn mapfit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mapfit"))
        .args(args)
        .output()
        .expect("run mapfit")
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mapfit-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn data(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn fit_save_predict_reproduces_the_library() {
    let model = tmp("model.json");
    let o = mapfit(&[
        "fit",
        &data("diabetes.csv"),
        "--target",
        "progression",
        "--prior",
        "laplace",
        "--lambda",
        "0.5",
        "--standardize",
        "--format",
        "json",
        "--out",
        model.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let (names, x, y) = common::diabetes();
    let prior = Laplace::from_lambda(
        0.5,
        Convention::Mean {
            n: 442.0,
            sigma2: 1.0,
        },
    )
    .unwrap();
    let lib = Map::new(likelihood::Gaussian::default(), prior)
        .standardize(true)
        .fit(&x, &y)
        .unwrap();
    for (j, name) in names.iter().enumerate() {
        let c = v["coefficients"][name].as_f64().unwrap();
        let l = lib.coefficients()[j];
        assert!(
            (c - l).abs() <= 1e-8 * l.abs().max(1.0),
            "{name}: {c} vs {l}"
        );
        if l == 0.0 {
            assert_eq!(c, 0.0);
        }
    }
    assert!(
        (v["intercept"].as_f64().unwrap() - lib.intercept()).abs() < 1e-8 * lib.intercept().abs()
    );
    assert_eq!(v["lambda"].as_f64().unwrap(), 0.5);
    assert_eq!(v["prior"], "laplace");
    assert_eq!(v["converged"], true);
    assert!(
        v["convergence"]["value"].as_f64().unwrap()
            <= v["convergence"]["tolerance"].as_f64().unwrap()
    );
    // Standard errors on the active set, none for exact zeros.
    for (j, name) in names.iter().enumerate() {
        let se = &v["standard_errors"][name];
        if lib.coefficients()[j] == 0.0 {
            assert!(se.is_null(), "{name}");
        } else {
            assert!(se.as_f64().unwrap() > 0.0, "{name}");
        }
    }

    let preds = tmp("preds.csv");
    let o = mapfit(&[
        "predict",
        model.to_str().unwrap(),
        &data("diabetes.csv"),
        "--out",
        preds.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&preds).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("linear_predictor,mean"));
    let saved = mapfit::saved::SavedModel::load(&model).unwrap();
    let lib_pred = saved.predict(&x).unwrap();
    for (i, line) in lines.enumerate() {
        let mean: f64 = line.split(',').nth(1).unwrap().parse().unwrap();
        assert_eq!(mean.to_bits(), lib_pred[i].to_bits(), "row {i}");
        assert!((mean - lib.predict(&x).unwrap()[i]).abs() < 1e-7);
    }
}

#[test]
fn table_output_and_cv_and_path_run() {
    let o = mapfit(&[
        "fit",
        &data("diabetes.csv"),
        "--target",
        "progression",
        "--prior",
        "gaussian",
        "--lambda",
        "0.1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = stdout(&o);
    assert!(
        s.contains("λ = 1.000000e-1") && s.contains("std. error") && s.contains("bmi"),
        "{s}"
    );
    let o = mapfit(&[
        "cv",
        &data("diabetes.csv"),
        "--target",
        "progression",
        "--folds",
        "5",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(v["lambda_1se"].as_f64().unwrap() >= v["lambda_min"].as_f64().unwrap());
    let o = mapfit(&[
        "path",
        &data("diabetes.csv"),
        "--target",
        "progression",
        "--prior",
        "elastic-net=0.5",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let pts = v.as_array().unwrap();
    assert!(pts.len() > 10);
    assert_eq!(pts[0]["df"], 0);
}

#[test]
fn malformed_inputs_fail_cleanly_without_partial_output() {
    let cases = [
        ("csv_short_row.csv", "CSV line 3: 2 fields, expected 3"),
        (
            "csv_text_cell.csv",
            "CSV line 2, column 'b': 'two' is not a number",
        ),
        ("csv_empty.csv", "CSV line 1"),
        ("csv_header_only.csv", "no data rows"),
        ("csv_invalid_utf8.csv", "not valid UTF-8"),
    ];
    for (file, msg) in cases {
        let out = tmp(&format!("{file}.model.json"));
        let path = format!("{}/tests/data/malformed/{file}", env!("CARGO_MANIFEST_DIR"));
        let o = mapfit(&[
            "fit",
            &path,
            "--target",
            "y",
            "--lambda",
            "0.1",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(!o.status.success(), "{file}");
        assert!(stderr(&o).contains(msg), "{file}: {}", stderr(&o));
        assert!(!Path::new(&out).exists(), "{file}: partial output written");
    }
    let o = mapfit(&["fit", &data("diabetes.csv"), "--target", "nope"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no column 'nope'"), "{}", stderr(&o));
    let o = mapfit(&[
        "predict",
        &format!(
            "{}/tests/data/malformed/model_foreign.json",
            env!("CARGO_MANIFEST_DIR")
        ),
        &data("diabetes.csv"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("invalid model file"), "{}", stderr(&o));
}

#[test]
fn non_convergence_exits_non_zero_unless_accepted() {
    let args = [
        "fit",
        &data("diabetes.csv"),
        "--target",
        "progression",
        "--lambda",
        "0.01",
        "--max-iters",
        "1",
    ];
    let o = mapfit(&args);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("did not converge"), "{}", stderr(&o));
    let mut accepted = args.to_vec();
    accepted.push("--accept-unconverged");
    let o = mapfit(&accepted);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("NOT CONVERGED"), "{}", stdout(&o));
}
