//! The flat (improper, uniform) prior: no penalty.

use super::{Convention, ElasticPenalty, Prior};
use crate::error::Result;
use nalgebra::DMatrix;

/// The improper uniform prior `p(w) ∝ 1`: the MAP is the maximum-likelihood estimate.
///
/// `ln_density` is 0 (the improper constant is dropped). It is the intercept's prior, and the
/// prior of any coefficient with penalty factor 0. With a flat prior the MAP may not exist
/// (rank-deficient `X`, separable classes): fits then return [`crate::Error::Singular`] or
/// [`crate::Error::NoMode`].
///
/// ```
/// use mapfit::prior::{Flat, Prior};
/// assert_eq!(Flat.ln_density(&[1.0, -2.0]), 0.0);
/// assert_eq!(Flat.prox(0, 3.0, 10.0), 3.0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Flat;

impl Prior for Flat {
    fn describe(&self) -> String {
        "Flat (no penalty)".into()
    }
    fn check_dimension(&self, _p: usize) -> Result<()> {
        Ok(())
    }
    fn penalty(&self, _w: &[f64]) -> f64 {
        0.0
    }
    fn ln_normalizer(&self, _p: usize) -> f64 {
        0.0
    }
    fn is_smooth(&self) -> bool {
        true
    }
    fn penalty_gradient(&self, _w: &[f64], out: &mut [f64]) {
        out.fill(0.0);
    }
    fn add_penalty_hessian(&self, _w: &[f64], _h: &mut DMatrix<f64>) {}
    fn elastic(&self, p: usize) -> Option<ElasticPenalty> {
        Some(ElasticPenalty {
            l1: vec![0.0; p],
            l2: vec![0.0; p],
        })
    }
    fn prox(&self, _j: usize, v: f64, _t: f64) -> f64 {
        v
    }
    fn lambda(&self, convention: Convention) -> Result<f64> {
        convention.factor()?;
        Ok(0.0)
    }
}
