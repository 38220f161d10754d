#![doc = include_str!("../README.md")]
#![deny(unsafe_code)]
#![deny(missing_docs)]
#![deny(missing_debug_implementations)]

pub mod closed_form;
pub mod compat;
mod convergence;
pub mod cv;
mod design;
pub mod error;
pub mod evidence;
mod fit;
pub mod io;
pub mod likelihood;
mod linalg;
pub mod model;
mod nonconvex;
pub mod objective;
pub mod path;
#[cfg(feature = "plot")]
pub mod plot;
pub mod posterior;
pub mod prior;
pub mod ridge_path;
pub mod sampling;
pub mod saved;
mod simd;
pub mod solve;
pub mod stream;

pub use convergence::{Convergence, Measure};
pub use cv::{CrossValidation, CvFit, Metric};
pub use design::Design;
pub use error::{Error, Result};
pub use fit::{Fit, Map};
pub use objective::MapProblem;
pub use path::{Path, PathFit};
pub use prior::Convention;
pub use ridge_path::{RidgePath, RidgePathFit};
pub use solve::Method;
