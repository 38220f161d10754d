//! Helpers shared by the `tests/it/stochastic_*.rs` suites.
#![allow(dead_code)]

use argmin::core::observers::{Observe, ObserverMode};
use argmin::core::{Executor, Solver, State, KV};
use mapfit::solve::CdState;
use nalgebra::DVector;
use std::sync::{Arc, Mutex};

/// An argmin observer that records θ after every iteration.
#[derive(Clone, Default)]
pub struct Recorder(pub Arc<Mutex<Vec<DVector<f64>>>>);

impl Observe<CdState> for Recorder {
    fn observe_iter(&mut self, state: &CdState, _kv: &KV) -> Result<(), argmin::core::Error> {
        if let Some(p) = state.get_param() {
            self.0.lock().unwrap().push(p.clone());
        }
        Ok(())
    }
}

/// Runs `solver` on `problem` from `theta0` for at most `iters` iterations and returns every
/// iterate, the final state and the solver.
pub fn run_recorded<O, S>(
    problem: O,
    solver: S,
    theta0: DVector<f64>,
    iters: u64,
) -> (Vec<DVector<f64>>, CdState, S)
where
    S: Solver<O, CdState>,
{
    let rec = Recorder::default();
    let res = Executor::new(problem, solver)
        .configure(|s| s.param(theta0).max_iters(iters))
        .add_observer(rec.clone(), ObserverMode::Always)
        .ctrlc(false)
        .timer(false)
        .run()
        .expect("solver run");
    let path = rec.0.lock().unwrap().clone();
    (path, res.state, res.solver)
}

/// Largest `|aᵢ − bᵢ| / max(1, |bᵢ|)` over the whole path.
pub fn max_path_diff(a: &[DVector<f64>], b: &[DVector<f64>]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| {
            x.iter()
                .zip(y.iter())
                .map(|(u, v)| (u - v).abs() / v.abs().max(1.0))
                .fold(0.0, f64::max)
        })
        .fold(0.0, f64::max)
}

/// `max|a − b| / max|b|`.
pub fn rel_err(a: &DVector<f64>, b: &DVector<f64>) -> f64 {
    (a - b).amax() / b.amax()
}
