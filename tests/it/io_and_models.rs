//! CSV reading and saved models: every malformed input is an error naming where, never a
//! panic; a saved model predicts bit-identically after loading.
use crate::common;

use mapfit::io::Table;
use mapfit::prior::{Convention, Laplace};
use mapfit::saved::SavedModel;
use mapfit::{likelihood, Error, Map};
use std::path::PathBuf;

fn malformed(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/malformed")
        .join(name)
}

#[test]
fn each_malformed_csv_names_line_and_column() {
    let cases: &[(&str, u64, Option<&str>, &str)] = &[
        ("csv_short_row.csv", 3, None, "2 fields, expected 3"),
        ("csv_long_row.csv", 3, None, "4 fields, expected 3"),
        ("csv_text_cell.csv", 2, Some("b"), "'two' is not a number"),
        ("csv_enormous.csv", 2, Some("b"), "not finite"),
        ("csv_nan.csv", 2, Some("b"), "not finite"),
        ("csv_empty.csv", 1, None, "empty"),
        ("csv_header_only.csv", 2, None, "no data rows"),
        ("csv_invalid_utf8.csv", 2, Some("b"), "UTF-8"),
        ("csv_duplicate_header.csv", 1, Some("a"), "duplicated"),
        ("csv_empty_header.csv", 1, None, "empty"),
        ("csv_empty_cell.csv", 2, Some("b"), "empty cell"),
    ];
    for &(file, line, column, text) in cases {
        match Table::from_path(&malformed(file)) {
            Err(Error::Csv {
                line: l,
                column: c,
                message,
            }) => {
                assert_eq!(l, line, "{file}: line");
                assert_eq!(c.as_deref(), column, "{file}: column");
                assert!(
                    message.contains(text),
                    "{file}: message '{message}' lacks '{text}'"
                );
            }
            other => panic!("{file}: expected a CSV error, got {other:?}"),
        }
    }
    // A quote left open at the end of the file swallows the line end: an error, not a panic.
    match Table::from_path(&malformed("csv_truncated_quote.csv")) {
        Err(Error::Csv {
            line,
            column,
            message,
        }) => {
            assert_eq!((line, column.as_deref()), (3, Some("y")));
            assert!(message.contains("unterminated quote"), "{message}");
        }
        other => panic!("expected a CSV error, got {other:?}"),
    }
}

#[test]
fn missing_column_and_missing_file_are_typed() {
    let t = Table::from_reader("a,b,y\n1,2,3\n".as_bytes()).unwrap();
    match t.design("target", &[]) {
        Err(Error::MissingColumn { name, available }) => {
            assert_eq!(name, "target");
            assert_eq!(available, "a, b, y");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        Table::from_path(&malformed("does_not_exist.csv")),
        Err(Error::Io { .. })
    ));
    let (names, x, y) = t.design("y", &["a"]).unwrap();
    assert_eq!(names, vec!["b".to_string()]);
    assert_eq!((x[(0, 0)], y[0]), (2.0, 3.0));
}

#[test]
fn every_malformed_model_file_is_an_invalid_model() {
    for file in [
        "model_truncated.json",
        "model_foreign.json",
        "model_wrong_format.json",
        "model_future_version.json",
        "model_length_mismatch.json",
        "model_wrong_type.json",
        "model_bad_sigma.json",
        "model_invalid_utf8.json",
        "model_empty.json",
    ] {
        match SavedModel::load(&malformed(file)) {
            Err(Error::InvalidModel { reason }) => assert!(!reason.is_empty()),
            other => panic!("{file}: expected InvalidModel, got {other:?}"),
        }
    }
}

#[test]
fn save_load_round_trip_predicts_bit_identically() {
    let (names, x, y) = common::diabetes();
    let prior = Laplace::from_lambda(
        0.5,
        Convention::Mean {
            n: x.nrows() as f64,
            sigma2: 1.0,
        },
    )
    .unwrap();
    let fit = Map::new(likelihood::Gaussian::default(), prior)
        .standardize(true)
        .fit(&x, &y)
        .unwrap();
    let model = SavedModel::from_fit(&fit, &names).unwrap();
    let dir = std::env::temp_dir().join(format!("mapfit-roundtrip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.json");
    model.save(&path).unwrap();
    let loaded = SavedModel::load(&path).unwrap();
    assert_eq!(loaded, model);
    let a = fit.predict(&x).unwrap();
    let b = loaded.predict(&x).unwrap();
    for (u, v) in a.iter().zip(b.iter()) {
        assert_eq!(u.to_bits(), v.to_bits());
    }
    assert!(!dir.join("model.json.partial").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
