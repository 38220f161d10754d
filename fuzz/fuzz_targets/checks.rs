//! What the fuzz targets check, shared with the stable corpus replay in
//! `tests/it/validation.rs` (which includes this file with `#[path]`), so that the committed
//! corpus runs on every `cargo test` even where cargo-fuzz cannot.
//!
//! Each function takes arbitrary bytes and panics only when mapfit misbehaves: a panic inside
//! the parser, an error of the wrong variant or without a usable location, or a value that
//! breaks the parser's documented guarantees.

use mapfit::io::Table;
use mapfit::saved::SavedModel;
use mapfit::Error;
use nalgebra::DMatrix;

/// `Table::from_reader` on the bytes: either a typed CSV error naming a 1-based line, or a
/// table whose documented invariants hold (unique non-empty names, at least one data row,
/// every cell finite, `design` and `matrix` consistent with the shape).
pub fn csv_reader(data: &[u8]) {
    match Table::from_reader(data) {
        Err(Error::Csv { line, message, .. }) => {
            assert!(
                line >= 1,
                "CSV error lines are 1-based, got line {line}: {message}"
            );
            assert!(!message.is_empty(), "a CSV error without a message");
        }
        Err(other) => panic!("Table::from_reader returned a non-CSV error: {other:?}"),
        Ok(table) => {
            let names = table.names().to_vec();
            let n = table.n_rows();
            assert!(!names.is_empty(), "a table without columns");
            assert!(n >= 1, "a table without data rows");
            for (k, name) in names.iter().enumerate() {
                assert!(!name.is_empty(), "empty column name {k}");
                assert!(
                    !names[..k].contains(name),
                    "duplicated column name '{name}'"
                );
                let c = table.column(name).expect("a listed column");
                assert_eq!(c.len(), n, "column '{name}' has {} rows, not {n}", c.len());
                assert!(
                    c.iter().all(|v| v.is_finite()),
                    "non-finite cell in '{name}'"
                );
            }
            let x = table.matrix(&names).expect("every listed column");
            assert_eq!(x.shape(), (n, names.len()));
            match table.design(&names[0], &[]) {
                Ok((rest, x, y)) => {
                    assert_eq!(rest.len(), names.len() - 1);
                    assert_eq!(x.shape(), (n, names.len() - 1));
                    assert_eq!(y.len(), n);
                }
                Err(Error::EmptyData { .. }) => assert_eq!(names.len(), 1),
                Err(other) => panic!("design: {other:?}"),
            }
        }
    }
}

/// `SavedModel::from_json` on the bytes (read as UTF-8 as `SavedModel::load` does): either
/// `Error::InvalidModel`, or a valid model (finite, lengths matching) that writes itself back
/// to JSON, reloads to an equal model and predicts finite values on a row of ones.
pub fn model_loader(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match SavedModel::from_json(text) {
        Err(Error::InvalidModel { reason }) => {
            assert!(!reason.is_empty(), "an invalid model without a reason");
        }
        Err(other) => panic!("SavedModel::from_json returned {other:?}"),
        Ok(model) => {
            let p = model.coefficients.len();
            assert!(p >= 1 && model.columns.len() == p);
            assert!(model.intercept.is_finite());
            assert!(model.coefficients.iter().all(|c| c.is_finite()));
            let json = model.to_json().expect("a loaded model serializes");
            let back = SavedModel::from_json(&json).expect("a written model reloads");
            assert_eq!(back, model, "JSON round trip changed the model");
            // Prediction validates its input and never panics; wrong widths are typed errors.
            let pred = model.predict_linear(&DMatrix::from_element(1, p, 1.0));
            assert!(pred.is_ok_and(|v| v.len() == 1), "predict on a valid row");
            let _ = model.predict(&DMatrix::from_element(1, p, 1.0));
            assert!(matches!(
                model.predict_linear(&DMatrix::from_element(1, p + 1, 1.0)),
                Err(Error::DimensionMismatch { .. })
            ));
        }
    }
}
