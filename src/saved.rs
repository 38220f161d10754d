//! Saved models: a fit ([`SavedModel`]), a path or a cross-validation ([`SavedPath`]) as
//! versioned JSON, loaded back with bit-identical predictions.

use crate::error::{Error, Result};
use crate::likelihood::Likelihood;
use crate::Fit;
use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

mod path;
pub use path::{SavedCv, SavedPath};

/// Writes `text` to `path` whole or not at all (a temporary file is renamed).
fn write_whole(path: &std::path::Path, text: &str) -> Result<()> {
    let io = |e: std::io::Error| Error::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let tmp = path.with_extension("json.partial");
    std::fs::write(&tmp, text).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// Reads a file as UTF-8 text (invalid UTF-8 is an invalid model).
fn read_text(path: &std::path::Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    String::from_utf8(bytes).map_err(|_| Error::InvalidModel {
        reason: "the file is not UTF-8 text".into(),
    })
}

/// The format tag written in every model file.
pub const FORMAT: &str = "mapfit-model";
/// The current format version.
pub const VERSION: u32 = 1;

/// The family of a saved model (its inverse link for prediction).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "lowercase")]
pub enum Family {
    /// Identity link, noise variance σ².
    Gaussian {
        /// σ².
        sigma2: f64,
    },
    /// Logit link.
    Bernoulli,
    /// Log link.
    Poisson,
}

impl Family {
    /// The family of a likelihood, from its name and Gaussian noise variance.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a likelihood without a saved form.
    pub(crate) fn of(name: &str, sigma2: Option<f64>) -> Result<Self> {
        match (name, sigma2) {
            (_, Some(sigma2)) => Ok(Family::Gaussian { sigma2 }),
            ("Bernoulli", None) => Ok(Family::Bernoulli),
            ("Poisson", None) => Ok(Family::Poisson),
            (other, None) => Err(Error::Unsupported {
                what: format!("saving a model of the {other} likelihood"),
            }),
        }
    }

    /// Checks a loaded family's parameters.
    fn validate(&self) -> Result<()> {
        if let Family::Gaussian { sigma2 } = *self {
            if !(sigma2.is_finite() && sigma2 > 0.0) {
                return Err(Error::InvalidModel {
                    reason: format!("noise variance {sigma2} is not positive"),
                });
            }
        }
        Ok(())
    }

    /// The mean for a linear predictor.
    pub fn mean(&self, eta: f64) -> f64 {
        match self {
            Family::Gaussian { .. } => eta,
            Family::Bernoulli => {
                if eta >= 0.0 {
                    1.0 / (1.0 + (-eta).exp())
                } else {
                    let e = eta.exp();
                    e / (1.0 + e)
                }
            }
            Family::Poisson => eta.exp(),
        }
    }
}

/// A fitted model in a file: everything prediction needs, and how it was fitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedModel {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`] when written.
    pub version: u32,
    /// The likelihood family.
    pub family: Family,
    /// Predictor column names, in the order of `coefficients`.
    pub columns: Vec<String>,
    /// Coefficients on the original scale.
    pub coefficients: Vec<f64>,
    /// Intercept (0 without one).
    pub intercept: f64,
    /// The prior, described.
    pub prior: String,
    /// λ in glmnet's mean convention, if the prior has one.
    pub lambda: Option<f64>,
    /// Whether the solver converged.
    pub converged: bool,
    /// The convergence measure's name and value.
    pub convergence: (String, f64),
    /// Whether the columns were standardized for fitting.
    pub standardized: bool,
}

impl SavedModel {
    /// Captures a fit (with its column names).
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] if `columns` does not match the coefficients;
    /// [`Error::Unsupported`] for a likelihood without a saved form.
    pub fn from_fit<L: Likelihood>(fit: &Fit<L>, columns: &[String]) -> Result<Self> {
        if columns.len() != fit.coefficients().len() {
            return Err(Error::DimensionMismatch {
                what: "column names",
                expected: fit.coefficients().len(),
                found: columns.len(),
            });
        }
        let lik = fit.likelihood();
        let family = Family::of(lik.name(), lik.gaussian_noise_variance())?;
        let c = fit.convergence();
        Ok(SavedModel {
            format: FORMAT.into(),
            version: VERSION,
            family,
            columns: columns.to_vec(),
            coefficients: fit.coefficients().iter().copied().collect(),
            intercept: fit.intercept(),
            prior: fit.prior().to_string(),
            lambda: fit.lambda_mean(),
            converged: c.converged,
            convergence: (c.measure.to_string(), c.value),
            standardized: fit.standardized(),
        })
    }

    /// JSON text (f64 written in shortest round-trip form, so loading is exact).
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
    /// version, mismatched lengths or non-finite numbers.
    pub fn from_json(text: &str) -> Result<Self> {
        let m: SavedModel = serde_json::from_str(text).map_err(|e| Error::InvalidModel {
            reason: format!("not a mapfit model ({e})"),
        })?;
        if m.format != FORMAT {
            return Err(Error::InvalidModel {
                reason: format!("format is '{}', expected '{FORMAT}'", m.format),
            });
        }
        if m.version == 0 || m.version > VERSION {
            return Err(Error::InvalidModel {
                reason: format!(
                    "format version {} (this mapfit reads up to {VERSION})",
                    m.version
                ),
            });
        }
        if m.columns.len() != m.coefficients.len() {
            return Err(Error::InvalidModel {
                reason: format!(
                    "{} column names for {} coefficients",
                    m.columns.len(),
                    m.coefficients.len()
                ),
            });
        }
        if m.coefficients.is_empty() {
            return Err(Error::InvalidModel {
                reason: "no coefficients".into(),
            });
        }
        if !m.intercept.is_finite() || m.coefficients.iter().any(|c| !c.is_finite()) {
            return Err(Error::InvalidModel {
                reason: "non-finite coefficient".into(),
            });
        }
        m.family.validate()?;
        Ok(m)
    }

    /// Writes the model to a file (whole, or not at all: a temporary file is renamed).
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn save(&self, path: &std::path::Path) -> Result<()> {
        write_whole(path, &self.to_json()?)
    }

    /// Reads a model file.
    ///
    /// # Errors
    /// [`Error::Io`], or as [`SavedModel::from_json`] (invalid UTF-8 is an invalid model).
    pub fn load(path: &std::path::Path) -> Result<Self> {
        Self::from_json(&read_text(path)?)
    }

    /// The linear predictor `Xw + b`.
    ///
    /// # Errors
    /// Wrong number of columns or non-finite values.
    pub fn predict_linear(&self, x: &DMatrix<f64>) -> Result<DVector<f64>> {
        let w = DVector::from_column_slice(&self.coefficients);
        crate::design::linear_predictor(x, &w, self.intercept)
    }

    /// The predicted mean.
    ///
    /// # Errors
    /// As [`SavedModel::predict_linear`].
    pub fn predict(&self, x: &DMatrix<f64>) -> Result<DVector<f64>> {
        Ok(self.predict_linear(x)?.map(|e| self.family.mean(e)))
    }
}
