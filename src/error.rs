//! Typed errors: every bad input gets one of these, never a panic.

use thiserror::Error as ThisError;

/// What a convergence measure measures (see [`crate::Convergence`]).
pub use crate::convergence::Measure;

/// Everything that can go wrong in mapfit.
///
/// Each variant names the offending quantity, so that a message alone tells the user what to
/// change. Non-convergence carries the measure that was achieved.
#[derive(Debug, Clone, PartialEq, ThisError)]
#[non_exhaustive]
pub enum Error {
    /// Two inputs whose sizes must agree do not.
    #[error("dimension mismatch: {what} has {found} entries, expected {expected}")]
    DimensionMismatch {
        /// Which input is the wrong size.
        what: &'static str,
        /// The size it should have.
        expected: usize,
        /// The size it has.
        found: usize,
    },
    /// An input that needs at least one row or column has none.
    #[error("empty data: {what}")]
    EmptyData {
        /// What is empty.
        what: &'static str,
    },
    /// NaN or ±Inf in the data.
    #[error("non-finite value {value} in {what} at row {row}, column {col}")]
    NonFinite {
        /// Which input (x, y, weights, offset).
        what: &'static str,
        /// 0-based row.
        row: usize,
        /// 0-based column (0 for vectors).
        col: usize,
        /// The value found.
        value: f64,
    },
    /// A hyper-parameter outside its valid range.
    #[error("invalid {name} = {value}: {reason}")]
    InvalidParameter {
        /// The parameter's name.
        name: &'static str,
        /// The value given.
        value: f64,
        /// What the valid range is.
        reason: &'static str,
    },
    /// Observation weights that are negative or all zero.
    #[error("invalid weights: {reason}")]
    InvalidWeights {
        /// What is wrong with them.
        reason: String,
    },
    /// A response value outside the likelihood's support.
    #[error(
        "y[{row}] = {value} is outside the support of the {likelihood} likelihood ({support})"
    )]
    InvalidResponse {
        /// The likelihood's name.
        likelihood: &'static str,
        /// 0-based row.
        row: usize,
        /// The value found.
        value: f64,
        /// The support, in words.
        support: &'static str,
    },
    /// The linear system of the fit is singular: the MAP is not unique.
    #[error(
        "singular system: {what}; the maximum-likelihood / flat-prior solution is not unique. \
         Use a proper prior (e.g. a Gaussian prior, ridge) or remove collinear columns"
    )]
    Singular {
        /// What was being solved.
        what: String,
    },
    /// The MAP does not exist (the posterior has no mode), e.g. separable data with a flat prior.
    #[error("the MAP does not exist: {reason}")]
    NoMode {
        /// Why, and what to do about it.
        reason: String,
    },
    /// A combination of likelihood, prior and solver that mapfit cannot solve.
    #[error("unsupported combination: {what}")]
    Unsupported {
        /// What was asked for.
        what: String,
    },
    /// The solver stopped before reaching its tolerance.
    #[error(
        "{solver} did not converge in {iterations} iterations: {measure} = {achieved:e} \
         (tolerance {tolerance:e}); raise max_iters or loosen the tolerance"
    )]
    NotConverged {
        /// The solver's name.
        solver: &'static str,
        /// Iterations done.
        iterations: u64,
        /// What was measured.
        measure: Measure,
        /// The value reached.
        achieved: f64,
        /// The tolerance that was asked for.
        tolerance: f64,
    },
    /// A malformed CSV file: the line (1-based, the header is line 1) and column say where.
    #[error("CSV line {line}{}: {message}", column.as_ref().map(|c| format!(", column '{c}'")).unwrap_or_default())]
    Csv {
        /// 1-based line number.
        line: u64,
        /// Column name, when known.
        column: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// A column named on the command line or in a call is not in the data.
    #[error("no column '{name}' in the data (columns: {available})")]
    MissingColumn {
        /// The name asked for.
        name: String,
        /// The columns that exist, comma-separated.
        available: String,
    },
    /// A saved model that cannot be read.
    #[error("invalid model file: {reason}")]
    InvalidModel {
        /// What is wrong with it.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// The operating system's message.
        message: String,
    },
    /// An error raised inside argmin (line search failure and the like).
    #[error("argmin solver error: {0}")]
    Solver(String),
}

/// `Result` with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl From<argmin::core::Error> for Error {
    fn from(e: argmin::core::Error) -> Self {
        // Errors of our own that crossed argmin come back typed.
        match e.downcast::<Error>() {
            Ok(inner) => inner,
            Err(other) => Error::Solver(other.to_string()),
        }
    }
}

/// Checks a scalar hyper-parameter: finite and strictly positive.
pub(crate) fn check_positive(name: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(Error::InvalidParameter {
            name,
            value,
            reason: "must be finite and > 0",
        })
    }
}

/// Checks a scalar hyper-parameter: finite and ≥ 0.
pub(crate) fn check_non_negative(name: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(Error::InvalidParameter {
            name,
            value,
            reason: "must be finite and >= 0",
        })
    }
}
