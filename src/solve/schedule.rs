//! Learning-rate schedules `γ_t` for the stochastic optimizers ([`super::Sgd`],
//! [`super::Adam`]) and the streaming fit ([`crate::stream`]).
//!
//! `t = 0, 1, 2, …` counts optimizer steps (one step per mini-batch), so the first step uses
//! `γ_0 = initial`.
//!
//! | schedule | `γ_t` |
//! |---|---|
//! | [`LearningRate::Constant`] | `γ₀` |
//! | [`LearningRate::Step`] | `γ₀ · factor^⌊t / every⌋` |
//! | [`LearningRate::Cosine`] | `γ_min + ½(γ₀ − γ_min)(1 + cos(π·min(t, T)/T))` |
//! | [`LearningRate::InverseTime`] | `γ₀ / (1 + t/t₀)` |
//!
//! The inverse-time schedule satisfies the Robbins–Monro conditions `Σγ_t = ∞`, `Σγ_t² < ∞`,
//! under which SGD converges to the minimizer itself (not to a neighbourhood of it, as with
//! a constant step). With a strongly convex cost of curvature ≥ μ (in the units of the loss
//! the optimizer sees, see [`super::LossScale`]), `γ₀·t₀ ≥ 1/μ` gives the `O(1/t)` rate.

use crate::error::{check_positive, Error, Result};

/// A learning-rate schedule `γ_t` (see the module docs for the formulas).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LearningRate {
    /// `γ_t = γ₀`.
    Constant(f64),
    /// `γ_t = γ₀ · factor^⌊t / every⌋` (PyTorch `StepLR`).
    Step {
        /// `γ₀`.
        initial: f64,
        /// Multiplier applied every `every` steps (0 < factor ≤ 1 usually).
        factor: f64,
        /// Number of steps between decays (≥ 1).
        every: u64,
    },
    /// Cosine annealing from `γ₀` to `γ_min` over `period` steps, then `γ_min`
    /// (PyTorch `CosineAnnealingLR` without restarts).
    Cosine {
        /// `γ₀`.
        initial: f64,
        /// `γ_min ≥ 0`.
        min: f64,
        /// `T`, the number of steps of the decay (≥ 1).
        period: u64,
    },
    /// `γ_t = γ₀ / (1 + t/t₀)`: the Robbins–Monro `1/t` decay.
    InverseTime {
        /// `γ₀`.
        initial: f64,
        /// `t₀ > 0`, the number of steps after which the rate has halved.
        t0: f64,
    },
}

impl LearningRate {
    /// Checks the parameters: rates finite and > 0 (`γ_min ≥ 0`, `γ_min ≤ γ₀`), `factor`
    /// finite and > 0, `every` and `period` ≥ 1, `t₀` finite and > 0.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the offending parameter.
    pub fn validate(&self) -> Result<()> {
        match *self {
            LearningRate::Constant(g) => check_positive("learning rate", g).map(|_| ()),
            LearningRate::Step {
                initial,
                factor,
                every,
            } => {
                check_positive("learning rate", initial)?;
                check_positive("step decay factor", factor)?;
                check_at_least_one("step decay interval", every)
            }
            LearningRate::Cosine {
                initial,
                min,
                period,
            } => {
                check_positive("learning rate", initial)?;
                if !(min.is_finite() && (0.0..=initial).contains(&min)) {
                    return Err(Error::InvalidParameter {
                        name: "minimum learning rate",
                        value: min,
                        reason: "must be finite, >= 0 and <= the initial rate",
                    });
                }
                check_at_least_one("cosine period", period)
            }
            LearningRate::InverseTime { initial, t0 } => {
                check_positive("learning rate", initial)?;
                check_positive("t0", t0).map(|_| ())
            }
        }
    }

    /// The rate `γ_t` of step `t` (0-based).
    pub fn at(&self, t: u64) -> f64 {
        match *self {
            LearningRate::Constant(g) => g,
            LearningRate::Step {
                initial,
                factor,
                every,
            } => {
                let k = t / every.max(1);
                initial * factor.powi(i32::try_from(k).unwrap_or(i32::MAX))
            }
            LearningRate::Cosine {
                initial,
                min,
                period,
            } => {
                let period = period.max(1);
                let frac = t.min(period) as f64 / period as f64;
                min + 0.5 * (initial - min) * (1.0 + (std::f64::consts::PI * frac).cos())
            }
            LearningRate::InverseTime { initial, t0 } => initial / (1.0 + t as f64 / t0),
        }
    }

    /// The initial rate `γ₀`.
    pub fn initial(&self) -> f64 {
        match *self {
            LearningRate::Constant(g) => g,
            LearningRate::Step { initial, .. }
            | LearningRate::Cosine { initial, .. }
            | LearningRate::InverseTime { initial, .. } => initial,
        }
    }
}

fn check_at_least_one(name: &'static str, v: u64) -> Result<()> {
    if v == 0 {
        return Err(Error::InvalidParameter {
            name,
            value: 0.0,
            reason: "must be >= 1",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas() {
        assert_eq!(LearningRate::Constant(0.1).at(1000), 0.1);
        let s = LearningRate::Step {
            initial: 1.0,
            factor: 0.5,
            every: 10,
        };
        assert_eq!(s.at(9), 1.0);
        assert_eq!(s.at(10), 0.5);
        assert_eq!(s.at(25), 0.25);
        let c = LearningRate::Cosine {
            initial: 1.0,
            min: 0.1,
            period: 100,
        };
        assert!((c.at(0) - 1.0).abs() < 1e-15);
        assert!((c.at(50) - 0.55).abs() < 1e-15);
        assert!((c.at(100) - 0.1).abs() < 1e-15);
        assert!((c.at(1000) - 0.1).abs() < 1e-15);
        let i = LearningRate::InverseTime {
            initial: 2.0,
            t0: 10.0,
        };
        assert_eq!(i.at(0), 2.0);
        assert_eq!(i.at(10), 1.0);
        assert!(LearningRate::Constant(0.0).validate().is_err());
        assert!(LearningRate::Cosine {
            initial: 1.0,
            min: 2.0,
            period: 1
        }
        .validate()
        .is_err());
    }
}
