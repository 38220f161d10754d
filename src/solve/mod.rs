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
//! | [`ProximalNewton`] | any likelihood, Gaussian/Laplace/elastic-net/flat prior | relative KKT violation |
//! | [`Sgd`], [`Adam`] (AdamW) | any [`StochasticProblem`] (GLMs, [`crate::model`]); prior coupled or decoupled ([`PriorMode`]) | epochs, iterations, or a full-batch gradient norm |

pub mod adam;
pub(crate) mod anderson;
pub mod coordinate;
pub mod minibatch;
pub mod proximal_newton;
pub mod schedule;
pub mod sgd;
pub mod smooth;

pub use adam::Adam;
pub use coordinate::{CdEngine, CdState, CoordinateDescent};
pub use minibatch::{
    LossScale, MinibatchConfig, MinibatchSampler, PriorMode, PriorTerm, StochasticOptimizer,
    StochasticProblem,
};
pub use proximal_newton::ProximalNewton;
pub use schedule::LearningRate;
pub use sgd::Sgd;
pub use smooth::GradientStop;

/// Which solver [`crate::Map::fit`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// Closed form for Gaussian × Gaussian, coordinate descent for Gaussian × Laplace /
    /// elastic net, proximal Newton for other likelihoods with a Laplace / elastic-net prior,
    /// Newton trust region for other smooth problems (L-BFGS above 1000 parameters).
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
    /// Proximal Newton with coordinate-descent subproblems (any likelihood, elastic-net-type
    /// prior; the automatic choice for non-Gaussian likelihoods with a Laplace or
    /// elastic-net prior).
    ProximalNewton,
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
            Method::ProximalNewton => "proximal Newton",
        }
    }
}
