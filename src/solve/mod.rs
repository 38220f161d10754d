//! Solvers. mapfit's own methods are `argmin::core::Solver` implementations, so every fit
//! runs through argmin's `Executor` (observers, iteration caps, termination reasons):
//!
//! | method | problems | stopping rule |
//! |---|---|---|
//! | closed form | Gaussian likelihood, Gaussian/flat prior | exact (Cholesky) |
//! | [`CoordinateDescent`] | Gaussian likelihood, Gaussian/Laplace/elastic-net/flat prior | duality gap and KKT |
//! | Newton trust region (argmin `TrustRegion<Steihaug>`) | any likelihood, smooth prior | relative gradient norm |
//! | L-BFGS (argmin `LBFGS`) | any likelihood, smooth prior | relative gradient norm |
//! | OWL-QN (argmin `LBFGS::with_l1_regularization`) | uniform Laplace prior, no intercept (a cross-check) | relative pseudo-gradient norm |

pub mod coordinate;
pub mod smooth;

pub use coordinate::{CdEngine, CdState, CoordinateDescent};
pub use smooth::GradientStop;

/// Which solver [`crate::Map::fit`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// Closed form for Gaussian × Gaussian, coordinate descent for Gaussian × Laplace /
    /// elastic net, Newton trust region for other smooth problems (L-BFGS above 1000
    /// parameters).
    #[default]
    Auto,
    /// The ridge closed form (Gaussian likelihood, Gaussian or flat prior).
    ClosedForm,
    /// Coordinate descent (Gaussian likelihood, elastic-net-type prior).
    CoordinateDescent,
    /// argmin's trust-region Newton method (smooth priors).
    NewtonTrustRegion,
    /// argmin's L-BFGS (smooth priors).
    Lbfgs,
    /// argmin's OWL-QN (uniform Laplace prior, no intercept; for cross-checks).
    OwlQn,
}

impl Method {
    /// A readable name.
    pub fn name(&self) -> &'static str {
        match self {
            Method::Auto => "auto",
            Method::ClosedForm => "closed form (Cholesky)",
            Method::CoordinateDescent => "coordinate descent",
            Method::NewtonTrustRegion => "Newton trust region (argmin)",
            Method::Lbfgs => "L-BFGS (argmin)",
            Method::OwlQn => "OWL-QN (argmin)",
        }
    }
}
