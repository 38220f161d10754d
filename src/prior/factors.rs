//! Per-coefficient penalty factors (glmnet's `penalty.factor`).

use crate::error::{Error, Result};

/// Per-coefficient multipliers of a prior's strength: coefficient `j` gets `f_j/τ²` (Gaussian)
/// or `f_j/b` (Laplace), i.e. the penalty `λ·f_j·pen₀(w_j)`. `f_j = 0` leaves `w_j` unpenalized
/// (an improper flat prior on that coefficient); `f_j = ∞` is not allowed.
///
/// Unlike glmnet, mapfit does not rescale the factors to sum to `p`: the prior you write is
/// the prior you get. To reproduce glmnet with factors, multiply them by `p / Σf`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PenaltyFactors(Option<Vec<f64>>);

impl PenaltyFactors {
    /// All factors 1.
    pub fn uniform() -> Self {
        PenaltyFactors(None)
    }

    /// Given factors.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a negative or non-finite factor; [`Error::EmptyData`]
    /// for an empty vector.
    pub fn new(factors: Vec<f64>) -> Result<Self> {
        if factors.is_empty() {
            return Err(Error::EmptyData {
                what: "penalty factors",
            });
        }
        if let Some(&f) = factors.iter().find(|f| !(f.is_finite() && **f >= 0.0)) {
            return Err(Error::InvalidParameter {
                name: "penalty factor",
                value: f,
                reason: "must be finite and >= 0",
            });
        }
        Ok(PenaltyFactors(Some(factors)))
    }

    /// Factor of coefficient `j`.
    #[inline]
    pub fn get(&self, j: usize) -> f64 {
        self.0.as_ref().map_or(1.0, |f| f[j])
    }

    /// The explicit factors, if any were given.
    pub fn as_slice(&self) -> Option<&[f64]> {
        self.0.as_deref()
    }

    /// Checks the length against `p`.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`].
    pub fn check_dimension(&self, p: usize) -> Result<()> {
        match &self.0 {
            Some(f) if f.len() != p => Err(Error::DimensionMismatch {
                what: "penalty factors",
                expected: p,
                found: f.len(),
            }),
            _ => Ok(()),
        }
    }

    /// Whether every factor is 1.
    pub fn is_uniform(&self) -> bool {
        self.0.as_ref().is_none_or(|f| f.iter().all(|&a| a == 1.0))
    }
}
