//! The Bernoulli likelihood with the logit link: logistic regression.

use super::Likelihood;
use crate::error::{Error, Result};
use crate::fit::Fit;
use nalgebra::{DMatrix, DVector};

/// `ln(1 + eˣ)` without overflow or loss of precision for any finite `x`.
#[inline]
pub(crate) fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

/// The logistic function `1/(1 + e⁻ˣ)`, evaluated without overflow.
#[inline]
pub(crate) fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// `yᵢ ~ Bernoulli(σ(ηᵢ))` with `σ(η) = 1/(1 + e^{−η})` (logit link), `yᵢ ∈ {0, 1}`.
///
/// # Formula
/// ```text
/// −ln p(y | η) = ln(1 + e^η) − y·η          (= softplus(η) for y = 0, softplus(−η) for y = 1)
/// ∂/∂η         = σ(η) − y
/// ∂²/∂η²       = σ(η)·(1 − σ(η)) = e^{−|η|}/(1 + e^{−|η|})²
/// E[y | η]     = σ(η)
/// saturated    = 0,  deviance = 2·[−ln p(y | η)]
/// ```
/// Every quantity is written so that no exponential of a positive number is taken: the
/// negative log-likelihood and its derivatives are finite (and accurate to rounding) for any
/// finite η; for `|η| ≳ 745` the second derivative underflows to 0.
///
/// There is no normalizing constant: `p(y | η) = σ(η)^y·(1 − σ(η))^{1−y}` is a probability.
/// With the Gaussian prior `N(0, τ²)` the MAP is scikit-learn's `LogisticRegression(C = τ²)`
/// (L2); with the Laplace prior of scale `b` it is `LogisticRegression(penalty = "l1", C = b)`
/// and glmnet's `family = "binomial"` with `λ = 1/(n·b)`.
///
/// With a flat prior the MAP does not exist when the classes are separable (by a hyperplane
/// through the unpenalized coefficients and the intercept): fits then return
/// [`crate::Error::NoMode`].
///
/// # Example
/// ```
/// use mapfit::likelihood::{Bernoulli, Likelihood};
/// use statrs::distribution::{Bernoulli as B, Discrete};
/// let lik = Bernoulli;
/// let eta: f64 = 0.7;
/// let p = 1.0 / (1.0 + (-eta).exp());
/// let d = B::new(p).unwrap();
/// assert!((-lik.nll(1.0, eta) - d.ln_pmf(1)).abs() < 1e-14);
/// assert!((-lik.nll(0.0, eta) - d.ln_pmf(0)).abs() < 1e-14);
/// // stable far in the tails
/// assert_eq!(lik.nll(1.0, -1000.0), 1000.0);
/// assert_eq!(lik.nll(1.0, 1000.0), 0.0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bernoulli;

impl Likelihood for Bernoulli {
    fn name(&self) -> &'static str {
        "Bernoulli"
    }

    fn check_response(&self, y: &[f64]) -> Result<()> {
        match y.iter().position(|&v| v != 0.0 && v != 1.0) {
            Some(row) => Err(Error::InvalidResponse {
                likelihood: "Bernoulli",
                row,
                value: y[row],
                support: "0 or 1",
            }),
            None => Ok(()),
        }
    }

    #[inline]
    fn nll(&self, y: f64, eta: f64) -> f64 {
        if y == 1.0 {
            softplus(-eta)
        } else if y == 0.0 {
            softplus(eta)
        } else {
            softplus(eta) - y * eta
        }
    }

    #[inline]
    fn nll_derivative(&self, y: f64, eta: f64) -> f64 {
        if y == 1.0 {
            -sigmoid(-eta)
        } else {
            sigmoid(eta) - y
        }
    }

    /// One `exp(−|z|)` for both (`z = −η` when `y = 1`, else `η`): `softplus` and `sigmoid`
    /// each evaluate exactly that exponential on either branch, so the pair has their bits.
    #[inline]
    fn nll_and_derivative(&self, y: f64, eta: f64) -> (f64, f64) {
        let z = if y == 1.0 { -eta } else { eta };
        let t = (-z.abs()).exp();
        let sp = if z > 0.0 { z + t.ln_1p() } else { t.ln_1p() };
        let sg = if z >= 0.0 {
            1.0 / (1.0 + t)
        } else {
            t / (1.0 + t)
        };
        if y == 1.0 {
            (sp, -sg)
        } else if y == 0.0 {
            (sp, sg - y)
        } else {
            (sp - y * eta, sg - y)
        }
    }

    #[inline]
    fn nll_second_derivative(&self, _y: f64, eta: f64) -> f64 {
        let e = (-eta.abs()).exp();
        let d = 1.0 + e;
        e / (d * d)
    }

    #[inline]
    fn mean(&self, eta: f64) -> f64 {
        sigmoid(eta)
    }

    fn saturated_nll(&self, _y: f64) -> f64 {
        0.0
    }

    fn deviance(&self, y: f64, eta: f64) -> f64 {
        2.0 * self.nll(y, eta)
    }

    /// `(1 − y)·max(u, 0) + y·max(−u, 0)`: an observation stops costing anything as η moves
    /// to the side of its own class.
    fn recession_slope(&self, y: f64, u: f64) -> f64 {
        (1.0 - y) * u.max(0.0) + y * (-u).max(0.0)
    }
}

impl Fit<Bernoulli> {
    /// The predicted class, 1.0 where `P(y = 1 | x) > ½` (the linear predictor `Xw + b > 0`)
    /// and 0.0 elsewhere (ties go to 0, as in scikit-learn). Add an offset yourself: use
    /// [`Fit::predict_linear`] and threshold at `−offset`.
    ///
    /// # Errors
    /// As [`Fit::predict_linear`].
    ///
    /// ```
    /// use mapfit::{likelihood::Bernoulli, prior::Gaussian, Map};
    /// use nalgebra::{dmatrix, dvector};
    /// # fn main() -> mapfit::Result<()> {
    /// let x = dmatrix![-2.0; -1.0; -0.5; 0.5; 1.0; 2.0];
    /// let y = dvector![0.0, 0.0, 1.0, 0.0, 1.0, 1.0];
    /// let fit = Map::new(Bernoulli, Gaussian::new(10.0)?).fit(&x, &y)?;
    /// assert_eq!(fit.predict_class(&dmatrix![-3.0; 3.0])?, dvector![0.0, 1.0]);
    /// # Ok(()) }
    /// ```
    pub fn predict_class(&self, x: &DMatrix<f64>) -> Result<DVector<f64>> {
        Ok(self
            .predict_linear(x)?
            .map(|e| if e > 0.0 { 1.0 } else { 0.0 }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fused pair has the bits of `nll` and `nll_derivative`, for every family, on both
    /// sides of 0 (signed zeros included), in the tails and at fractional responses.
    #[test]
    fn nll_and_derivative_equal_the_separate_calls() {
        use crate::likelihood::{Gaussian, Poisson};
        let etas = [
            -800.0, -40.0, -3.5, -1.0, -1e-300, -0.0, 0.0, 1e-300, 0.25, 2.0, 37.0, 800.0,
        ];
        fn check<L: crate::likelihood::Likelihood>(l: L, ys: &[f64], etas: &[f64]) {
            for &e in etas {
                for &y in ys {
                    let (a, b) = l.nll_and_derivative(y, e);
                    assert_eq!(
                        a.to_bits(),
                        l.nll(y, e).to_bits(),
                        "{} nll({y}, {e})",
                        l.name()
                    );
                    assert_eq!(
                        b.to_bits(),
                        l.nll_derivative(y, e).to_bits(),
                        "{} d({y}, {e})",
                        l.name()
                    );
                }
            }
        }
        check(Bernoulli, &[0.0, 1.0, 0.3], &etas);
        check(Poisson, &[0.0, 1.0, 7.0], &etas);
        check(Gaussian::new(0.7).unwrap(), &[1.5], &etas);
    }

    #[test]
    fn tails_are_finite_and_accurate() {
        let l = Bernoulli;
        for &eta in &[-1e3, -745.0, -40.0, 0.0, 40.0, 745.0, 1e3] {
            for &y in &[0.0, 1.0] {
                assert!(l.nll(y, eta).is_finite());
                assert!(l.nll_derivative(y, eta).is_finite());
                assert!(l.nll_second_derivative(y, eta).is_finite());
            }
        }
        // ln(1 + e^{-40}) ≈ e^{-40}
        assert!((l.nll(1.0, 40.0) / (-40f64).exp() - 1.0).abs() < 1e-15);
        assert_eq!(l.nll_derivative(1.0, 1e3), 0.0);
        assert_eq!(l.nll_derivative(0.0, 1e3), 1.0);
        assert_eq!(l.nll_derivative(1.0, -1e3), -1.0);
    }

    #[test]
    fn rejects_non_binary_response() {
        let e = Bernoulli.check_response(&[0.0, 1.0, 0.5]).unwrap_err();
        assert!(matches!(e, Error::InvalidResponse { row: 2, .. }), "{e}");
        assert!(e.to_string().contains("y[2] = 0.5"));
    }
}
