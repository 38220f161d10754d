//! The integration tests, one module per subject, compiled as one test binary.
//!
//! One crate instead of one per file: a release build of the tests compiles the generic code
//! they instantiate (nalgebra, argmin, serde) and links against the whole dependency tree once
//! rather than thirty-three times. Run a subject alone with a filter on its module name, e.g.
//! `cargo test --release --test it equivalence_ridge::`. `tests/examples.rs` (runs the
//! examples) and `tests/properties.rs` (random cases under a wall-clock allowance, best run
//! without the rest competing for the cores) stay separate binaries.

mod common;
mod stochastic_support;

mod cli;
mod conventions;
mod cv_glmnet;
mod cv_properties;
mod degenerate;
mod determinism;
mod equivalence_lasso;
mod equivalence_ridge;
mod equivalence_theorems;
mod errors;
mod evidence_sklearn;
mod glm_existence;
mod glm_glmnet;
mod glm_likelihood;
mod glm_mle;
mod glm_path_cv;
mod glm_sklearn;
mod glm_solvers;
mod glmnet_reference;
mod io_and_models;
mod path_glmnet;
mod path_properties;
mod plots;
mod posterior_coverage;
mod posterior_laplace;
mod posterior_predictive;
mod priors_and_likelihood;
mod priors_extra;
mod ridge_path;
mod stochastic_adam;
mod stochastic_model;
mod stochastic_sgd;
mod stochastic_stream;
mod validation;
