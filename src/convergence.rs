//! How converged a fit is: every fit carries one [`Convergence`].

use nalgebra::DVector;
use std::fmt;

/// The Euclidean norm `‖v‖₂` computed as `m·‖v/m‖₂` with `m = max|vᵢ|`, so that entries
/// near 1e300 (whose squares overflow) still give a finite norm.
pub(crate) fn stable_norm(v: &DVector<f64>) -> f64 {
    let m = v.amax();
    if m > 0.0 && m.is_finite() {
        m * (v / m).norm()
    } else {
        v.norm()
    }
}

/// The quantity a solver's stopping rule measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Duality gap of the convex problem divided by the null objective (the data term at
    /// `w = 0` with the intercept fitted). Zero at the optimum; bounds the relative excess cost.
    RelativeDualityGap,
    /// Largest violation of the optimality (KKT) conditions over all coefficients, in the
    /// units of the objective's gradient (`max_j dist(−∇_j f, ∂pen_j(w_j))`), divided by the
    /// largest absolute gradient of the data term at `w = 0`.
    RelativeKkt,
    /// Euclidean norm of the gradient of the negative log posterior divided by its norm at
    /// the starting point.
    RelativeGradientNorm,
    /// The solution was computed in closed form (a Cholesky solve); the value is the
    /// relative residual of the normal equations.
    ClosedFormResidual,
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Measure::RelativeDualityGap => "relative duality gap",
            Measure::RelativeKkt => "relative KKT violation",
            Measure::RelativeGradientNorm => "relative gradient norm",
            Measure::ClosedFormResidual => "closed-form relative residual",
        })
    }
}

/// How far from optimal a returned solution is, and by which measure.
#[derive(Debug, Clone, PartialEq)]
pub struct Convergence {
    /// Whether `value <= tolerance` (and any secondary check held).
    pub converged: bool,
    /// The stopping measure.
    pub measure: Measure,
    /// Its value at the returned solution.
    pub value: f64,
    /// The tolerance it was held to.
    pub tolerance: f64,
    /// The largest KKT violation (absolute, in the units of the negative log posterior's
    /// gradient), reported by every solver as a second certificate.
    pub kkt_violation: f64,
    /// Iterations the solver used (outer iterations of argmin's `Executor`).
    pub iterations: u64,
}

impl fmt::Display for Convergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} = {:.2e} (tol {:.0e}), KKT {:.2e}, {} iterations{}",
            self.measure,
            self.value,
            self.tolerance,
            self.kkt_violation,
            self.iterations,
            if self.converged {
                ""
            } else {
                " — NOT CONVERGED"
            }
        )
    }
}
