//! The Poisson likelihood with the log link: Poisson regression for counts.

use super::Likelihood;
use crate::error::{Error, Result};
use statrs::function::gamma::ln_gamma;

/// `yᵢ ~ Poisson(e^{ηᵢ})` (log link), `yᵢ ∈ {0, 1, 2, …}`.
///
/// # Formula
/// ```text
/// −ln p(y | η) = e^η − y·η + ln Γ(y + 1)
/// ∂/∂η         = e^η − y
/// ∂²/∂η²       = e^η
/// E[y | η]     = e^η
/// saturated    = y − y·ln y + ln Γ(y + 1)   (0 for y = 0)
/// deviance     = 2·[y·ln(y/μ) − (y − μ)],  μ = e^η
/// ```
/// **Exposure**: for counts observed over exposures `tᵢ` (time, area, population), the rate
/// model `yᵢ ~ Poisson(tᵢ·e^{xᵢᵀw + b})` is this likelihood with the offset `ln tᵢ`
/// ([`crate::Map::offset`]).
///
/// **Numerical range**: `e^η` is exact for `η ≤` [`Poisson::EXACT_ETA_MAX`] (= 300, a mean of
/// about 2·10¹³⁰, far beyond any count). Beyond it the exponential is continued by its
/// second-order Taylor polynomial, `e^M·(1 + d + d²/2)` with `d = η − M`, in the
/// negative log-likelihood and its two derivatives, so that they stay finite, convex and
/// twice continuously differentiable for any η a solver may try (`η = 10³` included) and the
/// MAP, whose η lies far below the switch, is unchanged. [`Likelihood::mean`] is always the
/// exact `e^η`.
///
/// With a flat prior the MAP does not exist when the counts are zero wherever the linear
/// predictor can be sent to −∞ (e.g. all counts zero, with an intercept): fits then return
/// [`crate::Error::NoMode`].
///
/// # Example
/// ```
/// use mapfit::likelihood::{Likelihood, Poisson};
/// use statrs::distribution::{Discrete, Poisson as P};
/// let lik = Poisson;
/// let eta: f64 = 1.3;
/// let d = P::new(eta.exp()).unwrap();
/// for k in 0..20u64 {
///     assert!((-lik.nll(k as f64, eta) - d.ln_pmf(k)).abs() < 1e-12);
/// }
/// assert!(lik.check_response(&[0.0, 3.0, 2.5]).is_err()); // not a count
/// assert!(lik.nll(2.0, 1e3).is_finite());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Poisson;

impl Poisson {
    /// The linear predictor above which `e^η` is continued by its second-order Taylor
    /// polynomial (see the type's docs).
    pub const EXACT_ETA_MAX: f64 = 300.0;

    /// `(μ(η), μ′(η), μ″(η))` with `μ = e^η` up to [`Poisson::EXACT_ETA_MAX`] and its
    /// quadratic continuation beyond.
    #[inline]
    fn mu_and_derivatives(eta: f64) -> (f64, f64, f64) {
        if eta <= Self::EXACT_ETA_MAX {
            let m = eta.exp();
            (m, m, m)
        } else {
            let e = Self::EXACT_ETA_MAX.exp();
            let d = eta - Self::EXACT_ETA_MAX;
            (e * (1.0 + d + 0.5 * d * d), e * (1.0 + d), e)
        }
    }

    /// `ln Γ(y + 1) = ln y!`, exact 0 for y ∈ {0, 1}; read from [`CountTables`] for the
    /// counts it holds.
    #[inline]
    fn ln_factorial(y: f64) -> f64 {
        if y <= 1.0 {
            0.0
        } else if let Some(k) = CountTables::index(y) {
            CountTables::get().ln_factorial[k]
        } else {
            ln_gamma(y + 1.0)
        }
    }

    /// `ln y` (for y > 0), read from [`CountTables`] for the counts it holds.
    #[inline]
    fn ln_count(y: f64) -> f64 {
        match CountTables::index(y) {
            Some(k) => CountTables::get().ln[k],
            None => y.ln(),
        }
    }
}

/// `ln k` and `ln k!` for the counts `k < COUNT_TABLE_LEN`, computed once per process with
/// the same functions the likelihood calls otherwise (`f64::ln`, statrs' `ln_gamma`), so a
/// look-up returns the same bits. Objective and deviance evaluations along a path call them
/// for every observation: as functions they were 4 % of the Poisson L1 path's time.
struct CountTables {
    ln: Vec<f64>,
    ln_factorial: Vec<f64>,
}

const COUNT_TABLE_LEN: usize = 1024;

impl CountTables {
    fn get() -> &'static CountTables {
        static TABLES: std::sync::OnceLock<CountTables> = std::sync::OnceLock::new();
        TABLES.get_or_init(|| CountTables {
            ln: (0..COUNT_TABLE_LEN).map(|k| (k as f64).ln()).collect(),
            ln_factorial: (0..COUNT_TABLE_LEN)
                .map(|k| {
                    if k <= 1 {
                        0.0
                    } else {
                        ln_gamma(k as f64 + 1.0)
                    }
                })
                .collect(),
        })
    }

    /// The table index of `y` if it is a whole number below the tables' length.
    #[inline]
    fn index(y: f64) -> Option<usize> {
        if y >= 0.0 && y < COUNT_TABLE_LEN as f64 && y.fract() == 0.0 {
            Some(y as usize)
        } else {
            None
        }
    }
}

impl Likelihood for Poisson {
    fn name(&self) -> &'static str {
        "Poisson"
    }

    fn check_response(&self, y: &[f64]) -> Result<()> {
        match y.iter().position(|&v| !(v >= 0.0 && v.fract() == 0.0)) {
            Some(row) => Err(Error::InvalidResponse {
                likelihood: "Poisson",
                row,
                value: y[row],
                support: "non-negative integer counts",
            }),
            None => Ok(()),
        }
    }

    #[inline]
    fn nll(&self, y: f64, eta: f64) -> f64 {
        let (mu, _, _) = Self::mu_and_derivatives(eta);
        // y·η is skipped for y = 0 so that η = −∞-like values never give 0·∞.
        let yeta = if y == 0.0 { 0.0 } else { y * eta };
        mu - yeta + Self::ln_factorial(y)
    }

    #[inline]
    fn nll_derivative(&self, y: f64, eta: f64) -> f64 {
        Self::mu_and_derivatives(eta).1 - y
    }

    #[inline]
    fn nll_second_derivative(&self, _y: f64, eta: f64) -> f64 {
        Self::mu_and_derivatives(eta).2
    }

    #[inline]
    fn mean(&self, eta: f64) -> f64 {
        eta.exp()
    }

    fn saturated_nll(&self, y: f64) -> f64 {
        if y == 0.0 {
            0.0
        } else {
            y - y * Self::ln_count(y) + Self::ln_factorial(y)
        }
    }

    /// `2·[y·ln(y/μ) − (y − μ)]`, computed directly (no cancellation of the `ln y!` terms).
    fn deviance(&self, y: f64, eta: f64) -> f64 {
        let (mu, _, _) = Self::mu_and_derivatives(eta);
        if y == 0.0 {
            2.0 * mu
        } else {
            2.0 * (y * (Self::ln_count(y) - eta) - y + mu)
        }
    }

    /// `+∞` for `u > 0` (the mean explodes), `y·|u|` for `u < 0` (0 for a zero count).
    fn recession_slope(&self, y: f64, u: f64) -> f64 {
        if u > 0.0 {
            f64::INFINITY
        } else {
            -y * u
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_is_c2_at_the_switch() {
        let m = Poisson::EXACT_ETA_MAX;
        let l = Poisson;
        // value, first and second derivative continuous across the switch
        let h = 1e-4;
        let fd = (l.nll(3.0, m + h) - l.nll(3.0, m - h)) / (2.0 * h);
        assert!((fd / l.nll_derivative(3.0, m) - 1.0).abs() < 1e-7);
        let fd2 = (l.nll_derivative(3.0, m + h) - l.nll_derivative(3.0, m - h)) / (2.0 * h);
        // (the third derivative jumps, so the central difference is only first-order here)
        assert!((fd2 / l.nll_second_derivative(3.0, m) - 1.0).abs() < 1e-4);
        let (a, b) = (l.nll(3.0, m - 1e-12), l.nll(3.0, m + 1e-12));
        assert!((a - b).abs() / a < 1e-9);
        let (d1, d2) = (
            l.nll_derivative(3.0, m - 1e-12),
            l.nll_derivative(3.0, m + 1e-12),
        );
        assert!((d1 - d2).abs() / d1 < 1e-9);
        assert!(l.nll(1.0, 1e3).is_finite() && l.nll_second_derivative(1.0, 1e3).is_finite());
    }

    /// The tables hold exactly what the functions return, and counts beyond them (or
    /// non-integers, which only a direct call can pass) take the functions.
    #[test]
    fn count_tables_equal_the_functions() {
        for k in 0..COUNT_TABLE_LEN + 5 {
            let y = k as f64;
            let lf = if k <= 1 { 0.0 } else { ln_gamma(y + 1.0) };
            assert_eq!(Poisson::ln_factorial(y).to_bits(), lf.to_bits(), "{k}");
            if k > 0 {
                assert_eq!(Poisson::ln_count(y).to_bits(), y.ln().to_bits(), "{k}");
            }
        }
        assert_eq!(CountTables::index(3.5), None);
        assert_eq!(CountTables::index(-1.0), None);
        assert_eq!(CountTables::index(1023.0), Some(1023));
        assert_eq!(CountTables::index(1024.0), None);
        assert_eq!(Poisson::ln_factorial(2.5), ln_gamma(3.5));
        assert_eq!(Poisson::ln_count(2.5), 2.5f64.ln());
    }

    #[test]
    fn response_checks() {
        assert!(Poisson.check_response(&[0.0, 1.0, 7.0, 1e6]).is_ok());
        let e = Poisson.check_response(&[0.0, -1.0]).unwrap_err();
        assert!(matches!(e, Error::InvalidResponse { row: 1, .. }), "{e}");
        let e = Poisson.check_response(&[2.5]).unwrap_err();
        assert!(e.to_string().contains("non-negative integer"), "{e}");
    }

    #[test]
    fn deviance_matches_definition() {
        let l = Poisson;
        for &(y, eta) in &[(0.0, 0.3), (4.0, 1.1), (17.0, 3.0)] {
            let direct = l.deviance(y, eta);
            let generic = 2.0 * (l.nll(y, eta) - l.saturated_nll(y));
            assert!(
                (direct - generic).abs() < 1e-10 * (1.0 + direct),
                "{direct} {generic}"
            );
        }
    }
}
