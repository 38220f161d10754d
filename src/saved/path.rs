//! A regularization path, with its cross-validation if it has one, as versioned JSON.

use super::{read_text, write_whole, Family, SavedModel, VERSION};
use crate::error::{Error, Result};
use crate::{CvFit, PathFit};
use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

/// The format tag written in every path file.
pub const PATH_FORMAT: &str = "mapfit-path";

/// The cross-validation part of a [`SavedPath`] (R's `cv.glmnet` fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedCv {
    /// Number of folds.
    pub folds: usize,
    /// The metric's name ([`crate::Metric::name`]).
    pub metric: String,
    /// Mean CV error per λ.
    pub cvm: Vec<f64>,
    /// Its standard error per λ.
    pub cvsd: Vec<f64>,
    /// Index of `lambda_min` in the grid.
    pub index_min: usize,
    /// Index of `lambda_1se` in the grid.
    pub index_1se: usize,
}

/// A fitted path in a file: every point's coefficients (original scale) and intercept, with
/// the grid and the path's summary, and optionally its cross-validation curve.
///
/// ```
/// use mapfit::saved::SavedPath;
/// use mapfit::{likelihood, Path};
/// use nalgebra::{DMatrix, DVector};
/// # fn main() -> mapfit::Result<()> {
/// let x = DMatrix::from_fn(40, 3, |i, j| ((i * (j + 2)) % 9) as f64 - 4.0);
/// let y = DVector::from_fn(40, |i, _| x[(i, 0)] - 0.5 * x[(i, 1)] + ((i % 5) as f64 - 2.0) / 3.0);
/// let fit = Path::new(likelihood::Gaussian::default(), 1.0).n_lambda(10).fit(&x, &y)?;
/// let names = vec!["a".to_string(), "b".to_string(), "c".to_string()];
/// let saved = SavedPath::from_path(&fit, &names)?;
/// let loaded = SavedPath::from_json(&saved.to_json()?)?;
/// let last = fit.len() - 1; // the path may stop before the end of its grid
/// assert_eq!(loaded.predict(&x, last)?, fit.predict(&x, last)?); // bit-identical
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedPath {
    /// Always `"mapfit-path"`.
    pub format: String,
    /// [`VERSION`] when written.
    pub version: u32,
    /// The likelihood family.
    pub family: Family,
    /// Predictor column names, in the order of each point's coefficients.
    pub columns: Vec<String>,
    /// The elastic-net mix.
    pub mix: f64,
    /// Whether the columns were standardized for fitting.
    pub standardized: bool,
    /// The grid (decreasing).
    pub lambdas: Vec<f64>,
    /// Intercept of each point.
    pub intercepts: Vec<f64>,
    /// Coefficients of each point (original scale), one vector per λ.
    pub coefficients: Vec<Vec<f64>>,
    /// Non-zero coefficients per point.
    pub df: Vec<usize>,
    /// Fraction of deviance explained per point.
    pub dev_ratio: Vec<f64>,
    /// Whether every point converged.
    pub converged: bool,
    /// Relative KKT violation of each point ([`PathFit::relative_kkt`]; `f64::MAX` stands
    /// for a non-finite value, which JSON cannot hold).
    pub relative_kkt: Vec<f64>,
    /// The cross-validation, if the path came from one.
    pub cv: Option<SavedCv>,
}

impl SavedPath {
    /// Captures a path (with its column names).
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] if `columns` does not match the coefficients;
    /// [`Error::Unsupported`] for a likelihood without a saved form.
    pub fn from_path(path: &PathFit, columns: &[String]) -> Result<Self> {
        let p = path.coefficient_matrix().nrows();
        if columns.len() != p {
            return Err(Error::DimensionMismatch {
                what: "column names",
                expected: p,
                found: columns.len(),
            });
        }
        Ok(SavedPath {
            format: PATH_FORMAT.into(),
            version: VERSION,
            family: Family::of(path.family(), path.noise_variance())?,
            columns: columns.to_vec(),
            mix: path.mix(),
            standardized: path.standardized(),
            lambdas: path.lambdas().to_vec(),
            intercepts: path.intercepts().to_vec(),
            coefficients: (0..path.len())
                .map(|k| path.coefficients(k).iter().copied().collect())
                .collect(),
            df: path.df().to_vec(),
            dev_ratio: path.dev_ratio().to_vec(),
            converged: path.converged(),
            relative_kkt: path
                .relative_kkt()
                .iter()
                .map(|&v| if v.is_finite() { v } else { f64::MAX })
                .collect(),
            cv: None,
        })
    }

    /// Captures a cross-validation: its full-data path and its curve.
    ///
    /// # Errors
    /// As [`SavedPath::from_path`].
    pub fn from_cv(cv: &CvFit, columns: &[String]) -> Result<Self> {
        let mut saved = Self::from_path(cv.path(), columns)?;
        saved.cv = Some(SavedCv {
            folds: cv.n_folds(),
            metric: cv.metric().name().into(),
            cvm: cv.cvm().to_vec(),
            cvsd: cv.cvsd().to_vec(),
            index_min: cv.index_min(),
            index_1se: cv.index_1se(),
        });
        Ok(saved)
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.lambdas.len()
    }

    /// Whether the path has no point (never true of a validated path).
    pub fn is_empty(&self) -> bool {
        self.lambdas.is_empty()
    }

    /// JSON text (f64 in shortest round-trip form, so loading is exact).
    ///
    /// # Errors
    /// Serialization failure (non-finite numbers cannot be written).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| Error::InvalidModel {
            reason: format!("cannot serialize: {e}"),
        })
    }

    /// Parses and validates JSON text.
    ///
    /// # Errors
    /// [`Error::InvalidModel`] for malformed JSON, a foreign file (wrong `format`), a newer
    /// version, inconsistent lengths, a grid that is not positive and decreasing, an index
    /// outside the grid, or non-finite numbers.
    pub fn from_json(text: &str) -> Result<Self> {
        let m: SavedPath = serde_json::from_str(text).map_err(|e| Error::InvalidModel {
            reason: format!("not a mapfit path ({e})"),
        })?;
        let bad = |reason: String| Err(Error::InvalidModel { reason });
        if m.format != PATH_FORMAT {
            return bad(format!(
                "format is '{}', expected '{PATH_FORMAT}'",
                m.format
            ));
        }
        if m.version == 0 || m.version > VERSION {
            return bad(format!(
                "format version {} (this mapfit reads up to {VERSION})",
                m.version
            ));
        }
        m.family.validate()?;
        let (k, p) = (m.lambdas.len(), m.columns.len());
        if k == 0 || p == 0 {
            return bad("a path needs at least one point and one column".into());
        }
        if m.intercepts.len() != k || m.coefficients.len() != k || m.df.len() != k {
            return bad(format!(
                "{k} lambdas but {} intercepts, {} coefficient vectors, {} df",
                m.intercepts.len(),
                m.coefficients.len(),
                m.df.len()
            ));
        }
        if m.dev_ratio.len() != k || m.relative_kkt.len() != k {
            return bad(format!(
                "{k} lambdas but {} dev ratios and {} KKT values",
                m.dev_ratio.len(),
                m.relative_kkt.len()
            ));
        }
        if let Some(c) = m.coefficients.iter().position(|c| c.len() != p) {
            return bad(format!(
                "point {c} has {} coefficients for {p} columns",
                m.coefficients[c].len()
            ));
        }
        if !(0.0..=1.0).contains(&m.mix) {
            return bad(format!("mix {} is outside [0, 1]", m.mix));
        }
        if m.lambdas.iter().any(|l| !(l.is_finite() && *l > 0.0))
            || m.lambdas.windows(2).any(|w| w[1] > w[0])
        {
            return bad("the lambdas must be finite, positive and decreasing".into());
        }
        let finite = |v: &[f64]| v.iter().all(|a| a.is_finite());
        if !finite(&m.intercepts) || !m.coefficients.iter().all(|c| finite(c)) {
            return bad("non-finite coefficient".into());
        }
        if let Some(cv) = &m.cv {
            if cv.cvm.len() != k || cv.cvsd.len() != k {
                return bad(format!(
                    "{k} lambdas but a CV curve of {} / {} points",
                    cv.cvm.len(),
                    cv.cvsd.len()
                ));
            }
            if cv.index_min >= k || cv.index_1se >= k {
                return bad("a CV index is outside the grid".into());
            }
            if cv.folds < 2 {
                return bad(format!("{} folds (at least 2)", cv.folds));
            }
        }
        Ok(m)
    }

    /// Writes the path to a file (whole, or not at all).
    ///
    /// # Errors
    /// [`Error::Io`], or as [`SavedPath::to_json`].
    pub fn save(&self, path: &std::path::Path) -> Result<()> {
        write_whole(path, &self.to_json()?)
    }

    /// Reads a path file.
    ///
    /// # Errors
    /// [`Error::Io`], or as [`SavedPath::from_json`].
    pub fn load(path: &std::path::Path) -> Result<Self> {
        Self::from_json(&read_text(path)?)
    }

    fn check_point(&self, k: usize) -> Result<()> {
        crate::path::check_point_index(k, self.len())
    }

    /// The linear predictor `Xw + b` of point `k` (bit-identical to
    /// [`PathFit::predict`] of the path it was saved from).
    ///
    /// # Errors
    /// `k` out of range, wrong number of columns or non-finite values.
    pub fn predict_linear(&self, x: &DMatrix<f64>, k: usize) -> Result<DVector<f64>> {
        self.check_point(k)?;
        let w = DVector::from_column_slice(&self.coefficients[k]);
        crate::design::linear_predictor(x, &w, self.intercepts[k])
    }

    /// The predicted mean of point `k`.
    ///
    /// # Errors
    /// As [`SavedPath::predict_linear`].
    pub fn predict(&self, x: &DMatrix<f64>, k: usize) -> Result<DVector<f64>> {
        Ok(self.predict_linear(x, k)?.map(|e| self.family.mean(e)))
    }

    /// Point `k` as a single [`SavedModel`] (for `mapfit predict`), with λ in the path's
    /// convention.
    ///
    /// # Errors
    /// `k` out of range.
    pub fn model(&self, k: usize) -> Result<SavedModel> {
        self.check_point(k)?;
        Ok(SavedModel {
            format: super::FORMAT.into(),
            version: VERSION,
            family: self.family,
            columns: self.columns.clone(),
            coefficients: self.coefficients[k].clone(),
            intercept: self.intercepts[k],
            prior: format!("elastic net, mix {} (point {k} of a path)", self.mix),
            lambda: Some(self.lambdas[k]),
            converged: self.converged,
            convergence: (
                crate::Measure::RelativeKkt.to_string(),
                self.relative_kkt[k],
            ),
            standardized: self.standardized,
        })
    }
}
