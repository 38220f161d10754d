//! Adam and AdamW (PyTorch semantics), as an `argmin::core::Solver`.
//!
//! # Update
//! With `g` the mini-batch estimate (see [`super::minibatch`]), step `t = 1, 2, …`:
//! ```text
//! coupled (Adam + L2):  g ← g_data + s·∇pen(θ)       decoupled (AdamW):  g ← g_data
//! m ← β₁m + (1 − β₁)g,     v ← β₂v + (1 − β₂)g²
//! d = m̂/(√v̂ + ε),          m̂ = m/(1 − β₁ᵗ),  v̂ = v/(1 − β₂ᵗ)
//! coupled:    θ ← θ − γ_t·d
//! decoupled:  θⱼ ← θⱼ − γ_t·λⱼ·θⱼ − γ_t·dⱼ             (Gaussian prior, λⱼ = s·f_j/τ²;
//!                                                       any smooth prior: γ_t·s·∂pen/∂θⱼ)
//!             θⱼ ← prox_{γ_t·s·pen_j}(θⱼ − γ_t·dⱼ)     (non-differentiable prior)
//! ```
//! `Adam::new(lr, PriorMode::Coupled)` is `torch.optim.Adam(weight_decay = λ)`;
//! `Adam::adamw(lr)` is `torch.optim.AdamW(weight_decay = λ)` (whose decay is `γ_t·λ`, the
//! learning rate times λ).
//!
//! # AdamW does not find the MAP
//! Adam with the coupled prior stops where its direction vanishes, `m̂ = 0`, i.e. at
//! `∇J = 0`: the MAP. AdamW (full batch, `m̂ → g`, `v̂ → g²`) stops where
//! ```text
//! λⱼθⱼ = −gⱼ/(|gⱼ| + ε),   g = ∇J_data(θ)
//! ```
//! The adaptive step normalizes the data gradient to (nearly) unit size per coordinate, so
//! the decay is balanced against `sign(gⱼ)`, not against `gⱼ`: for ε → 0 a coordinate whose
//! unpenalized optimum lies inside `|θⱼ| < 1/λⱼ` ends (almost) at that optimum, undecayed,
//! and one whose optimum lies outside is clipped to `|θⱼ| = 1/λⱼ`. The fixed point is the
//! data optimum constrained to the box `‖θ‖_∞ ≤ 1/λ`, not the L2-penalized MAP. Example
//! (`tests/it/stochastic_adam.rs`): a Gaussian likelihood with orthonormal design, the least
//! squares solution `(3, 0.3)` and `λ = 1` in the sum scale; the MAP is `(1.5, 0.15)`,
//! Adam + L2 converges to it, AdamW converges to `≈ (1, 0.3)`.

use super::minibatch::{
    minibatch_builders, solver_init, solver_next_iter, solver_terminate, HasRun, LossScale,
    MinibatchConfig, PriorMode, PriorTerm, RunState, StochasticOptimizer, StochasticProblem,
};
use super::{CdState, LearningRate};
use crate::error::{check_positive, Error, Result};
use crate::prior::Prior;
use argmin::core::{Problem, Solver, TerminationStatus, KV};
use nalgebra::DVector;

/// Adam (coupled prior) or AdamW (decoupled prior); see the module docs.
#[derive(Debug, Clone)]
pub struct Adam {
    schedule: LearningRate,
    mode: PriorMode,
    beta1: f64,
    beta2: f64,
    eps: f64,
    config: MinibatchConfig,
    m: DVector<f64>,
    v: DVector<f64>,
    t: u64,
    run: RunState,
}

impl Adam {
    /// Adam with the prior applied as `mode`, β = (0.9, 0.999), ε = 1e-8 and the default
    /// [`MinibatchConfig`].
    pub fn new(lr: LearningRate, mode: PriorMode) -> Self {
        Adam {
            schedule: lr,
            mode,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            config: MinibatchConfig::default(),
            m: DVector::zeros(0),
            v: DVector::zeros(0),
            t: 0,
            run: RunState::default(),
        }
    }

    /// AdamW: Adam with [`PriorMode::Decoupled`].
    pub fn adamw(lr: LearningRate) -> Self {
        Self::new(lr, PriorMode::Decoupled)
    }

    /// The moment decay rates β₁, β₂ ∈ [0, 1).
    ///
    /// # Errors
    /// A β outside [0, 1).
    pub fn with_betas(mut self, beta1: f64, beta2: f64) -> Result<Self> {
        for (name, b) in [("beta1", beta1), ("beta2", beta2)] {
            if !(0.0..1.0).contains(&b) {
                return Err(Error::InvalidParameter {
                    name,
                    value: b,
                    reason: "must be in [0, 1)",
                });
            }
        }
        self.beta1 = beta1;
        self.beta2 = beta2;
        Ok(self)
    }

    /// ε > 0 of the denominator `√v̂ + ε`.
    ///
    /// # Errors
    /// ε not finite and > 0.
    pub fn with_epsilon(mut self, eps: f64) -> Result<Self> {
        self.eps = check_positive("Adam epsilon", eps)?;
        Ok(self)
    }

    /// ε.
    pub fn epsilon(&self) -> f64 {
        self.eps
    }
}

minibatch_builders!(Adam);

impl StochasticOptimizer for Adam {
    fn name(&self) -> &'static str {
        match self.mode {
            PriorMode::Coupled => "Adam (coupled prior, L2)",
            PriorMode::Decoupled => "AdamW (decoupled prior)",
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
    fn reset(&mut self, n_params: usize) -> Result<()> {
        self.schedule.validate()?;
        self.m = DVector::zeros(n_params);
        self.v = DVector::zeros(n_params);
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
        if self.m.len() != theta.len() {
            self.m = DVector::zeros(theta.len());
            self.v = DVector::zeros(theta.len());
        }
        let lr = self.schedule.at(self.t);
        self.t += 1;
        let mut g = data_gradient.clone();
        if self.mode == PriorMode::Coupled {
            prior.add_gradient(theta, &mut g);
        }
        let (b1, b2) = (self.beta1, self.beta2);
        let t = i32::try_from(self.t).unwrap_or(i32::MAX);
        let c1 = 1.0 - b1.powi(t);
        let c2 = 1.0 - b2.powi(t);
        let mut d = g;
        for j in 0..d.len() {
            let gj = d[j];
            self.m[j] = b1 * self.m[j] + (1.0 - b1) * gj;
            self.v[j] = b2 * self.v[j] + (1.0 - b2) * gj * gj;
            d[j] = (self.m[j] / c1) / ((self.v[j] / c2).sqrt() + self.eps);
        }
        prior.apply_step(theta, lr, &d, self.mode);
    }
}

impl HasRun for Adam {
    fn run_state(&mut self) -> &mut RunState {
        &mut self.run
    }
}

impl<O: StochasticProblem> Solver<O, CdState> for Adam {
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
