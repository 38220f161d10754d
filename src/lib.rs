#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(missing_debug_implementations)]

pub mod closed_form;
pub mod compat;
mod convergence;
mod design;
pub mod error;
mod fit;
pub mod io;
pub mod likelihood;
pub mod objective;
#[cfg(feature = "plot")]
pub mod plot;
pub mod prior;
pub mod saved;
pub mod solve;

pub use convergence::{Convergence, Measure};
pub use design::Design;
pub use error::{Error, Result};
pub use fit::{Fit, Map};
pub use objective::MapProblem;
pub use prior::Convention;
pub use solve::Method;
