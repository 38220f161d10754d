//! Stochastic gradient descent with optional momentum and Nesterov momentum (PyTorch
//! semantics), as an `argmin::core::Solver`.
//!
//! # Update
//! With `g` the mini-batch estimate of `∇J` (see [`super::minibatch`] for the scaling),
//! `γ_t` the learning rate, μ the momentum and `δ` the dampening:
//! ```text
//! coupled:    g ← g_data + s·∇pen(θ)          decoupled:  g ← g_data
//! b ← g                         (first step)
//! b ← μ·b + (1 − δ)·g           (later steps)
//! d ← g + μ·b   (Nesterov)  or  d ← b   (μ > 0)  or  d ← g   (μ = 0)
//! coupled:    θ ← θ − γ_t·d
//! decoupled:  θⱼ ← θⱼ − γ_t·λⱼ·θⱼ − γ_t·dⱼ     (Gaussian prior, λⱼ = s·f_j/τ²;
//!                                               any smooth prior: γ_t·s·∂pen/∂θⱼ)
//!             θⱼ ← prox_{γ_t·s·pen_j}(θⱼ − γ_t·dⱼ)   (non-differentiable prior)
//! ```
//! This is `torch.optim.SGD(momentum = μ, dampening = δ, nesterov, weight_decay = λ)` for the
//! coupled mode.
//!
//! # Weight decay ≡ L2 under plain SGD
//! Without momentum, coupled is `θ ← θ − γ(g_data + λθ) = (1 − γλ)θ − γ·g_data`, the decoupled
//! step: SGD with decoupled weight decay λ is SGD on the L2-penalized loss `J_data + (λ/2)‖θ‖²`,
//! iterate for iterate, when both see the same batches (tested to 1e-12 in
//! `tests/it/stochastic_sgd.rs`; the same holds for any differentiable prior, whose decoupled
//! step is `γ·s·∇pen`). With momentum they differ: the coupled decay term goes through the
//! momentum buffer.
//!
//! # Example: ridge by full-batch gradient descent
//! ```
//! use argmin::core::{Executor, State};
//! use mapfit::solve::{LearningRate, LossScale, PriorMode, Sgd};
//! use mapfit::{likelihood, prior, Design, MapProblem};
//! use nalgebra::{dmatrix, dvector, DVector};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let x = dmatrix![1.0, 0.0; 0.0, 2.0; 1.0, 1.0];
//! let y = dvector![1.0, 2.0, 3.0];
//! let problem = MapProblem::new(
//!     Design::new(&x, &y)?,
//!     likelihood::Gaussian::default(),
//!     prior::Gaussian::new(1.0)?, // λ = σ²/τ² = 1
//!     false,
//! )?;
//! let sgd = Sgd::new(LearningRate::Constant(0.1), PriorMode::Decoupled)
//!     .full_batch()
//!     .with_loss_scale(LossScale::Sum)
//!     .with_gradient_tolerance(1e-12)?;
//! let res = Executor::new(problem, sgd)
//!     .configure(|s| s.param(DVector::zeros(2)).max_iters(10_000))
//!     .run()?;
//! let w = res.state.get_param().unwrap();
//! let ridge = mapfit::closed_form::ridge(&x, &y, 1.0)?;
//! assert!((w - ridge).amax() < 1e-10);
//! # Ok(()) }
//! ```

use super::minibatch::{
    minibatch_builders, solver_init, solver_next_iter, solver_terminate, HasRun, LossScale,
    MinibatchConfig, PriorMode, PriorTerm, RunState, StochasticOptimizer, StochasticProblem,
};
use super::{CdState, LearningRate};
use crate::error::{Error, Result};
use crate::prior::Prior;
use argmin::core::{Problem, Solver, TerminationStatus, KV};
use nalgebra::DVector;

/// Stochastic gradient descent (see the module docs for the update).
#[derive(Debug, Clone)]
pub struct Sgd {
    schedule: LearningRate,
    mode: PriorMode,
    momentum: f64,
    dampening: f64,
    nesterov: bool,
    config: MinibatchConfig,
    buffer: Option<DVector<f64>>,
    t: u64,
    run: RunState,
}

impl Sgd {
    /// SGD with the learning-rate schedule `lr`, the prior applied as `mode`, no momentum
    /// and the default [`MinibatchConfig`] (batches of 32, seed 0, mean loss).
    pub fn new(lr: LearningRate, mode: PriorMode) -> Self {
        Sgd {
            schedule: lr,
            mode,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            config: MinibatchConfig::default(),
            buffer: None,
            t: 0,
            run: RunState::default(),
        }
    }

    /// Heavy-ball momentum μ ∈ [0, 1).
    ///
    /// # Errors
    /// μ outside [0, 1).
    pub fn with_momentum(mut self, momentum: f64) -> Result<Self> {
        if !(0.0..1.0).contains(&momentum) {
            return Err(Error::InvalidParameter {
                name: "momentum",
                value: momentum,
                reason: "must be in [0, 1)",
            });
        }
        self.momentum = momentum;
        Ok(self)
    }

    /// Dampening δ ∈ [0, 1] of the momentum buffer (PyTorch's `dampening`, default 0).
    ///
    /// # Errors
    /// δ outside [0, 1].
    pub fn with_dampening(mut self, dampening: f64) -> Result<Self> {
        if !(0.0..=1.0).contains(&dampening) {
            return Err(Error::InvalidParameter {
                name: "dampening",
                value: dampening,
                reason: "must be in [0, 1]",
            });
        }
        self.dampening = dampening;
        Ok(self)
    }

    /// Nesterov momentum (needs μ > 0 and no dampening, as in PyTorch; checked at the start
    /// of a run).
    pub fn with_nesterov(mut self, yes: bool) -> Self {
        self.nesterov = yes;
        self
    }

    /// The momentum μ.
    pub fn momentum(&self) -> f64 {
        self.momentum
    }
}

minibatch_builders!(Sgd);

impl StochasticOptimizer for Sgd {
    fn name(&self) -> &'static str {
        match (self.momentum > 0.0, self.nesterov) {
            (false, _) => "SGD",
            (true, false) => "SGD (momentum)",
            (true, true) => "SGD (Nesterov momentum)",
        }
    }
    fn config(&self) -> &MinibatchConfig {
        &self.config
    }
    fn prior_mode(&self) -> PriorMode {
        self.mode
    }
    fn learning_rate(&self) -> &LearningRate {
        &self.schedule
    }
    fn reset(&mut self, _n_params: usize) -> Result<()> {
        self.schedule.validate()?;
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(Error::Unsupported {
                what: "Nesterov momentum needs momentum > 0 and zero dampening".into(),
            });
        }
        self.buffer = None;
        self.t = 0;
        Ok(())
    }
    fn steps(&self) -> u64 {
        self.t
    }
    fn step<P: Prior>(
        &mut self,
        theta: &mut DVector<f64>,
        data_gradient: &DVector<f64>,
        prior: &PriorTerm<'_, P>,
    ) {
        let lr = self.schedule.at(self.t);
        let mut g = data_gradient.clone();
        if self.mode == PriorMode::Coupled {
            prior.add_gradient(theta, &mut g);
        }
        let direction = if self.momentum > 0.0 {
            let mu = self.momentum;
            let b = match self.buffer.take() {
                None => g.clone(),
                Some(mut b) => {
                    b.axpy(1.0 - self.dampening, &g, mu);
                    b
                }
            };
            let d = if self.nesterov {
                let mut d = g;
                d.axpy(mu, &b, 1.0);
                d
            } else {
                b.clone()
            };
            self.buffer = Some(b);
            d
        } else {
            g
        };
        prior.apply_step(theta, lr, &direction, self.mode);
        self.t += 1;
    }
}

impl HasRun for Sgd {
    fn run_state(&mut self) -> &mut RunState {
        &mut self.run
    }
}

impl<O: StochasticProblem> Solver<O, CdState> for Sgd {
    fn name(&self) -> &str {
        StochasticOptimizer::name(self)
    }
    fn init(
        &mut self,
        problem: &mut Problem<O>,
        state: CdState,
    ) -> std::result::Result<(CdState, Option<KV>), argmin::core::Error> {
        solver_init(self, problem, state)
    }
    fn next_iter(
        &mut self,
        problem: &mut Problem<O>,
        state: CdState,
    ) -> std::result::Result<(CdState, Option<KV>), argmin::core::Error> {
        solver_next_iter(self, problem, state)
    }
    fn terminate(&mut self, _state: &CdState) -> TerminationStatus {
        solver_terminate(self)
    }
}
