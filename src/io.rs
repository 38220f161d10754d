//! Reading data: CSV files with a header row, every cell numeric. Errors name the line and
//! the column (never a panic, whatever the bytes).

use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector};
use std::io::Read;

/// A numeric table read from CSV: named columns of equal length.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    names: Vec<String>,
    columns: Vec<Vec<f64>>,
}

impl Table {
    /// Reads a CSV with a header row from any reader. Empty lines are skipped; cells are
    /// trimmed; `NaN`/`inf` spellings are rejected as non-finite.
    ///
    /// # Errors
    /// [`Error::Csv`] naming the line (and column) of: invalid UTF-8, a row with the wrong
    /// number of fields, a non-numeric or non-finite cell, a duplicated or empty header name;
    /// an empty file or a header with no data rows.
    ///
    /// ```
    /// use mapfit::io::Table;
    /// let t = Table::from_reader("a,b\n1,2\n3,4\n".as_bytes()).unwrap();
    /// assert_eq!(t.column("b").unwrap().as_slice(), &[2.0, 4.0]);
    /// let err = Table::from_reader("a,b\n1,x\n".as_bytes()).unwrap_err();
    /// assert_eq!(err.to_string(), "CSV line 2, column 'b': 'x' is not a number");
    /// ```
    pub fn from_reader<R: Read>(reader: R) -> Result<Table> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(reader);
        let mut names: Vec<String> = Vec::new();
        let mut columns: Vec<Vec<f64>> = Vec::new();
        let mut record = csv::ByteRecord::new();
        let mut header_seen = false;
        loop {
            let more = rdr
                .read_byte_record(&mut record)
                .map_err(|e| csv_error(&e))?;
            if !more {
                break;
            }
            let line = record.position().map_or(0, |p| p.line());
            if record.iter().all(|f| trim(f).is_empty()) {
                continue;
            }
            if !header_seen {
                for (k, f) in record.iter().enumerate() {
                    let name = std::str::from_utf8(trim(f)).map_err(|_| Error::Csv {
                        line,
                        column: None,
                        message: format!("header field {} is not valid UTF-8", k + 1),
                    })?;
                    if name.is_empty() {
                        return Err(Error::Csv {
                            line,
                            column: None,
                            message: format!("header field {} is empty", k + 1),
                        });
                    }
                    if names.iter().any(|n| n == name) {
                        return Err(Error::Csv {
                            line,
                            column: Some(name.to_string()),
                            message: "duplicated column name".into(),
                        });
                    }
                    names.push(name.to_string());
                }
                columns = vec![Vec::new(); names.len()];
                header_seen = true;
                continue;
            }
            if record.len() != names.len() {
                return Err(Error::Csv {
                    line,
                    column: None,
                    message: format!(
                        "{} fields, expected {} (as in the header)",
                        record.len(),
                        names.len()
                    ),
                });
            }
            for (k, f) in record.iter().enumerate() {
                let column = || Some(names[k].clone());
                if f.contains(&b'\n') || f.contains(&b'\r') {
                    return Err(Error::Csv {
                        line,
                        column: column(),
                        message: "a quoted field runs over a line end (unterminated quote?)".into(),
                    });
                }
                let text = std::str::from_utf8(trim(f)).map_err(|_| Error::Csv {
                    line,
                    column: column(),
                    message: "not valid UTF-8".into(),
                })?;
                let value: f64 = text.parse().map_err(|_| Error::Csv {
                    line,
                    column: column(),
                    message: if text.is_empty() {
                        "empty cell".into()
                    } else {
                        format!("'{}' is not a number", truncate(text))
                    },
                })?;
                if !value.is_finite() {
                    return Err(Error::Csv {
                        line,
                        column: column(),
                        message: format!("'{}' is not finite", truncate(text)),
                    });
                }
                columns[k].push(value);
            }
        }
        if !header_seen {
            return Err(Error::Csv {
                line: 1,
                column: None,
                message: "the file is empty (expected a header row)".into(),
            });
        }
        if columns.first().is_none_or(|c| c.is_empty()) {
            return Err(Error::Csv {
                line: 2,
                column: None,
                message: "no data rows after the header".into(),
            });
        }
        Ok(Table { names, columns })
    }

    /// Reads a CSV file.
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be opened; otherwise as [`Table::from_reader`].
    pub fn from_path(path: &std::path::Path) -> Result<Table> {
        let f = std::fs::File::open(path).map_err(|e| Error::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Table::from_reader(std::io::BufReader::new(f))
    }

    /// Column names, in file order.
    pub fn names(&self) -> &[String] {
        &self.names
    }
    /// Number of data rows.
    pub fn n_rows(&self) -> usize {
        self.columns.first().map_or(0, Vec::len)
    }

    fn index(&self, name: &str) -> Result<usize> {
        self.names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| Error::MissingColumn {
                name: name.to_string(),
                available: self.names.join(", "),
            })
    }

    /// One column as a vector.
    ///
    /// # Errors
    /// [`Error::MissingColumn`].
    pub fn column(&self, name: &str) -> Result<DVector<f64>> {
        Ok(DVector::from_column_slice(&self.columns[self.index(name)?]))
    }

    /// The design: every column except `target` and `exclude` (in file order), and the
    /// target. Returns `(names, X, y)`.
    ///
    /// # Errors
    /// [`Error::MissingColumn`] for an unknown target or excluded column;
    /// [`Error::EmptyData`] if no predictor column is left.
    pub fn design(
        &self,
        target: &str,
        exclude: &[&str],
    ) -> Result<(Vec<String>, DMatrix<f64>, DVector<f64>)> {
        let t = self.index(target)?;
        let mut skip = vec![t];
        for e in exclude {
            skip.push(self.index(e)?);
        }
        let keep: Vec<usize> = (0..self.names.len())
            .filter(|j| !skip.contains(j))
            .collect();
        self.matrix_of(&keep)
            .map(|(names, x)| (names, x, DVector::from_column_slice(&self.columns[t])))
    }

    /// The columns named `names`, in that order, as a matrix (for prediction with a saved
    /// model).
    ///
    /// # Errors
    /// [`Error::MissingColumn`].
    pub fn matrix(&self, names: &[String]) -> Result<DMatrix<f64>> {
        let idx: Vec<usize> = names.iter().map(|n| self.index(n)).collect::<Result<_>>()?;
        self.matrix_of(&idx).map(|(_, x)| x)
    }

    fn matrix_of(&self, idx: &[usize]) -> Result<(Vec<String>, DMatrix<f64>)> {
        if idx.is_empty() {
            return Err(Error::EmptyData {
                what: "no predictor columns",
            });
        }
        let n = self.n_rows();
        let mut data = Vec::with_capacity(n * idx.len());
        for &j in idx {
            data.extend_from_slice(&self.columns[j]);
        }
        let names = idx.iter().map(|&j| self.names[j].clone()).collect();
        Ok((names, DMatrix::from_vec(n, idx.len(), data)))
    }
}

/// Strips spaces and tabs (not line ends, which only a quoted field can contain).
fn trim(f: &[u8]) -> &[u8] {
    let start = f
        .iter()
        .position(|b| *b != b' ' && *b != b'\t')
        .unwrap_or(f.len());
    let end = f
        .iter()
        .rposition(|b| *b != b' ' && *b != b'\t')
        .map_or(start, |e| e + 1);
    &f[start..end.max(start)]
}

fn truncate(s: &str) -> String {
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s.to_string()
    }
}

fn csv_error(e: &csv::Error) -> Error {
    let line = e.position().map_or(0, |p| p.line());
    Error::Csv {
        line,
        column: None,
        message: match e.kind() {
            csv::ErrorKind::Io(io) => format!("read error: {io}"),
            other => format!("{other:?}"),
        },
    }
}
