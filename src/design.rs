//! Validated data: the design matrix `X`, the response `y`, optional observation weights and
//! an optional offset. Everything is checked once here, at the boundary; solvers trust it.

use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector};

/// Borrowed, validated data for a fit.
///
/// * `x`: `n × p`, column-major (nalgebra's storage), finite.
/// * `y`: length `n`, finite.
/// * `weights` (optional): length `n`, finite, `≥ 0`, not all zero. A weight multiplies the
///   observation's log-likelihood term, so an integer weight `k` is the same as repeating the
///   row `k` times. (glmnet rescales weights to sum to `n`; see [`crate::Convention`] for how
///   that moves λ.)
/// * `offset` (optional): length `n`, finite, added to the linear predictor
///   `η = offset + Xw + b` (for Poisson exposure `t`, `offset = ln t`).
///
/// Nothing is copied: a `Design` borrows the caller's data and never mutates it.
#[derive(Debug, Clone, Copy)]
pub struct Design<'a> {
    x: &'a DMatrix<f64>,
    y: &'a DVector<f64>,
    weights: Option<&'a DVector<f64>>,
    offset: Option<&'a DVector<f64>>,
}

/// The index of the first non-finite value of `v`. Each block of 1024 values is first tested
/// as a whole by an OR over `!is_finite` (no early exit, so the compiler vectorizes it; an
/// element-wise search with early exit is not vectorized and ran at about one value per
/// cycle, 8 % of a wide ridge fit); only a block that fails is searched.
fn first_non_finite(v: &[f64]) -> Option<usize> {
    // A large matrix is read on two rayon tasks (the pass is bound by memory bandwidth, and
    // two cores read faster than one: 80 MB in 5.5–6 ms instead of 9 here); the left half's
    // answer comes first, so the index is the same whatever the thread count.
    if v.len() >= 1 << 20 {
        let h = v.len() / 2;
        let (a, b) = rayon::join(
            || first_non_finite_seq(&v[..h]),
            || first_non_finite_seq(&v[h..]),
        );
        return a.or(b.map(|i| i + h));
    }
    first_non_finite_seq(v)
}

fn first_non_finite_seq(v: &[f64]) -> Option<usize> {
    const BLOCK: usize = 1024;
    v.chunks(BLOCK).enumerate().find_map(|(k, c)| {
        let bad = c.iter().fold(false, |acc, a| acc | !a.is_finite());
        if bad {
            c.iter().position(|a| !a.is_finite()).map(|i| k * BLOCK + i)
        } else {
            None
        }
    })
}

pub(crate) fn check_finite_vector(what: &'static str, v: &DVector<f64>) -> Result<()> {
    match first_non_finite(v.as_slice()) {
        Some(row) => Err(Error::NonFinite {
            what,
            row,
            col: 0,
            value: v[row],
        }),
        None => Ok(()),
    }
}

pub(crate) fn check_finite_matrix(what: &'static str, x: &DMatrix<f64>) -> Result<()> {
    let n = x.nrows().max(1);
    match first_non_finite(x.as_slice()) {
        Some(k) => Err(Error::NonFinite {
            what,
            row: k % n,
            col: k / n,
            value: x.as_slice()[k],
        }),
        None => Ok(()),
    }
}

/// `Xw + b` for new rows, after checking the column count and finiteness: the one place every
/// fitted or saved model predicts through, so their predictions agree bit for bit.
pub(crate) fn linear_predictor(x: &DMatrix<f64>, w: &DVector<f64>, b: f64) -> Result<DVector<f64>> {
    if x.ncols() != w.len() {
        return Err(Error::DimensionMismatch {
            what: "columns of x",
            expected: w.len(),
            found: x.ncols(),
        });
    }
    check_finite_matrix("x", x)?;
    Ok((x * w).add_scalar(b))
}

impl<'a> Design<'a> {
    /// Checks shapes and finiteness of `x` and `y`.
    ///
    /// # Errors
    /// [`Error::EmptyData`] if `x` has no rows or no columns, [`Error::DimensionMismatch`] if
    /// `y` has a different number of rows, [`Error::NonFinite`] naming the first NaN/±Inf.
    pub fn new(x: &'a DMatrix<f64>, y: &'a DVector<f64>) -> Result<Self> {
        if x.nrows() == 0 {
            return Err(Error::EmptyData {
                what: "x has no rows",
            });
        }
        if x.ncols() == 0 {
            return Err(Error::EmptyData {
                what: "x has no columns",
            });
        }
        if y.len() != x.nrows() {
            return Err(Error::DimensionMismatch {
                what: "y",
                expected: x.nrows(),
                found: y.len(),
            });
        }
        check_finite_matrix("x", x)?;
        check_finite_vector("y", y)?;
        Ok(Design {
            x,
            y,
            weights: None,
            offset: None,
        })
    }

    /// A design on an `x` that an earlier [`Design::new`] already validated (finite, non-empty)
    /// with a new response (checked: length and finiteness): the working response of a
    /// Newton step, without another pass over `x`.
    ///
    /// # Errors
    /// As [`Design::new`] for `y`.
    pub(crate) fn with_validated_x(x: &'a DMatrix<f64>, y: &'a DVector<f64>) -> Result<Self> {
        if y.len() != x.nrows() {
            return Err(Error::DimensionMismatch {
                what: "y",
                expected: x.nrows(),
                found: y.len(),
            });
        }
        check_finite_vector("y", y)?;
        Ok(Design {
            x,
            y,
            weights: None,
            offset: None,
        })
    }

    /// Adds observation weights.
    ///
    /// # Errors
    /// Wrong length, non-finite, negative or all-zero weights.
    pub fn with_weights(mut self, weights: &'a DVector<f64>) -> Result<Self> {
        if weights.len() != self.n() {
            return Err(Error::DimensionMismatch {
                what: "weights",
                expected: self.n(),
                found: weights.len(),
            });
        }
        check_finite_vector("weights", weights)?;
        if let Some(i) = weights.iter().position(|&w| w < 0.0) {
            return Err(Error::InvalidWeights {
                reason: format!("weights[{i}] = {} is negative", weights[i]),
            });
        }
        if weights.iter().all(|&w| w == 0.0) {
            return Err(Error::InvalidWeights {
                reason: "all weights are zero".into(),
            });
        }
        self.weights = Some(weights);
        Ok(self)
    }

    /// Adds an offset to the linear predictor.
    ///
    /// # Errors
    /// Wrong length or non-finite values.
    pub fn with_offset(mut self, offset: &'a DVector<f64>) -> Result<Self> {
        if offset.len() != self.n() {
            return Err(Error::DimensionMismatch {
                what: "offset",
                expected: self.n(),
                found: offset.len(),
            });
        }
        check_finite_vector("offset", offset)?;
        self.offset = Some(offset);
        Ok(self)
    }

    /// Number of observations `n`.
    pub fn n(&self) -> usize {
        self.x.nrows()
    }
    /// Number of coefficients `p` (columns of `X`).
    pub fn p(&self) -> usize {
        self.x.ncols()
    }
    /// The design matrix.
    pub fn x(&self) -> &'a DMatrix<f64> {
        self.x
    }
    /// The response.
    pub fn y(&self) -> &'a DVector<f64> {
        self.y
    }
    /// Observation weights, if any.
    pub fn weights(&self) -> Option<&'a DVector<f64>> {
        self.weights
    }
    /// The offset, if any.
    pub fn offset(&self) -> Option<&'a DVector<f64>> {
        self.offset
    }
    /// Weight of observation `i` (1 without weights).
    #[inline]
    pub fn weight(&self, i: usize) -> f64 {
        self.weights.map_or(1.0, |w| w[i])
    }
    /// Offset of observation `i` (0 without an offset).
    #[inline]
    pub fn offset_at(&self, i: usize) -> f64 {
        self.offset.map_or(0.0, |o| o[i])
    }
    /// Sum of the weights (`n` without weights): the effective sample size used by the
    /// mean-loss convention.
    pub fn weight_sum(&self) -> f64 {
        self.weights.map_or(self.n() as f64, |w| w.sum())
    }

    /// Weighted column means `x̄_j = Σ vᵢ xᵢⱼ / Σ vᵢ`, exact for a constant column
    /// (whose mean is returned as the constant itself, not a rounded sum over `n`).
    pub fn column_means(&self) -> DVector<f64> {
        let sw = self.weight_sum();
        DVector::from_iterator(
            self.p(),
            self.x
                .column_iter()
                .map(|c| self.slice_weighted_mean(c.as_slice(), sw)),
        )
    }

    /// [`Design::weighted_mean`] of a contiguous slice (a column of `x`), summed with several
    /// accumulators (vectorized) instead of a closure call and a weight lookup per element.
    pub(crate) fn slice_weighted_mean(&self, a: &[f64], sw: f64) -> f64 {
        let (sum, first) = match self.weights {
            None => (crate::solve::coordinate::sum(a), a.first().copied()),
            Some(w) => {
                let w = w.as_slice();
                let sum = crate::solve::coordinate::dot(w, a);
                (
                    sum,
                    a.iter().zip(w).find(|(_, v)| **v > 0.0).map(|(x, _)| *x),
                )
            }
        };
        let Some(c) = first else {
            return sum / sw;
        };
        let constant = match self.weights {
            None => a.iter().all(|&x| x == c),
            Some(w) => a.iter().zip(w.iter()).all(|(&x, &v)| v <= 0.0 || x == c),
        };
        if constant {
            c
        } else {
            sum / sw
        }
    }

    /// The weighted mean `Σ vᵢ aᵢ / Σ vᵢ` of `aᵢ = value(i)`. When every `aᵢ` of positive
    /// weight is the same value `c`, the result is `c` exactly (the rounded sum `Σ vᵢ c` need
    /// not be `c·Σ vᵢ`), so that a constant column or response centers to exact zeros and is
    /// recognized as constant.
    pub(crate) fn weighted_mean(&self, value: impl Fn(usize) -> f64) -> f64 {
        let mut sum = 0.0;
        let mut common: Option<f64> = None;
        let mut constant = true;
        for i in 0..self.n() {
            let (v, a) = (self.weight(i), value(i));
            sum += v * a;
            if v > 0.0 {
                match common {
                    None => common = Some(a),
                    Some(c) => constant &= a == c,
                }
            }
        }
        match common {
            Some(c) if constant => c,
            _ => sum / self.weight_sum(),
        }
    }

    /// Weighted population standard deviations of the columns,
    /// `s_j = sqrt(Σ vᵢ (xᵢⱼ − x̄_j)² / Σ vᵢ)` (glmnet's `standardize = TRUE` scale; 1/n, not
    /// 1/(n−1)). With `center = false` the root weighted mean square about zero is returned
    /// instead (glmnet without an intercept).
    pub fn column_scales(&self, center: bool) -> DVector<f64> {
        let sw = self.weight_sum();
        let means = self.column_means();
        DVector::from_iterator(
            self.p(),
            self.x.column_iter().enumerate().map(|(j, c)| {
                let m = if center { means[j] } else { 0.0 };
                // Two-pass with a scaled sum, so that columns of size 1e±150 neither overflow
                // nor underflow.
                let amax = c.iter().fold(0.0f64, |a, &b| a.max((b - m).abs()));
                if amax == 0.0 || !amax.is_finite() {
                    return 0.0;
                }
                let ss: f64 = c
                    .iter()
                    .enumerate()
                    .map(|(i, &a)| {
                        let d = (a - m) / amax;
                        self.weight(i) * d * d
                    })
                    .sum();
                amax * (ss / sw).sqrt()
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The block test finds the first non-finite value in any block, after clean blocks, and
    /// in a partial last block; a clean slice has none.
    #[test]
    fn first_non_finite_finds_the_first_in_any_block() {
        let mut v = vec![1.5; 5000];
        assert_eq!(first_non_finite(&v), None);
        assert_eq!(first_non_finite(&[]), None);
        v[4999] = f64::NEG_INFINITY;
        assert_eq!(first_non_finite(&v), Some(4999));
        v[2100] = f64::NAN;
        assert_eq!(first_non_finite(&v), Some(2100));
        v[1023] = f64::INFINITY;
        assert_eq!(first_non_finite(&v), Some(1023));
        v[0] = f64::NAN;
        assert_eq!(first_non_finite(&v), Some(0));
        // Large enough for the two halves: the first bad value wins wherever it is.
        let mut w = vec![0.25; 3 << 20];
        assert_eq!(first_non_finite(&w), None);
        w[(3 << 20) - 1] = f64::NAN;
        assert_eq!(first_non_finite(&w), Some((3 << 20) - 1));
        w[(3 << 19) + 5] = f64::INFINITY;
        assert_eq!(first_non_finite(&w), Some((3 << 19) + 5));
        w[(3 << 19) - 1] = f64::NAN;
        assert_eq!(first_non_finite(&w), Some((3 << 19) - 1));
        w[7] = f64::NEG_INFINITY;
        assert_eq!(first_non_finite(&w), Some(7));
        let x = DMatrix::from_fn(
            1500,
            3,
            |i, j| if (i, j) == (1400, 2) { f64::NAN } else { 0.0 },
        );
        assert!(matches!(
            check_finite_matrix("x", &x),
            Err(Error::NonFinite {
                row: 1400,
                col: 2,
                ..
            })
        ));
    }
}
