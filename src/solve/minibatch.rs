//! Mini-batches, loss scaling and the two ways of applying a prior in a stochastic optimizer.
//!
//! # The loss the optimizer sees
//! The MAP cost is a sum over the `n` observations plus the penalty,
//! ```text
//! F(θ) = Σᵢ nllᵢ(θ) + pen(θ[..n_penalized])
//! ```
//! and the stochastic optimizers minimize `J = s·F`, with `s` the [`LossScale`] factor:
//! `s = 1` ([`LossScale::Sum`], mapfit's cost) or `s = 1/n` ([`LossScale::Mean`], the mean
//! loss of neural-network practice, `(1/n)Σᵢ nllᵢ + pen/n`; the default). Both have the same
//! minimizer; for SGD, `Mean` with rate γ is `Sum` with rate `γ/n`. On a mini-batch `B` the
//! unbiased gradient estimate is
//! ```text
//! ∇J ≈ s·(n/|B|)·Σ_{i∈B} ∇nllᵢ(θ)  +  s·∇pen(θ)
//!     = (1/|B|)·Σ_{i∈B} ∇nllᵢ(θ)  +  ∇pen(θ)/n        (Mean)
//!     = (n/|B|)·Σ_{i∈B} ∇nllᵢ(θ)  +  ∇pen(θ)          (Sum)
//! ```
//! (the first term is what [`StochasticOptimizer::step`] receives as `data_gradient`).
//!
//! # Coupled or decoupled prior ([`PriorMode`])
//! * [`PriorMode::Coupled`] — "L2 regularization", PyTorch `SGD/Adam(weight_decay = λ)`: the
//!   prior's gradient `s·∇pen(θ)` is added to the data gradient before the optimizer's
//!   momentum/adaptive machinery sees it. The prior must be differentiable.
//! * [`PriorMode::Decoupled`] — "weight decay", PyTorch `AdamW`: the data gradient alone drives
//!   the optimizer's direction `d`, and the prior acts on θ directly, with the plain step γ
//!   (not through momentum or Adam's scaling). For a differentiable prior this is an explicit
//!   gradient step on the prior, which for the Gaussian prior `N(0, τ²/f_j)` is the
//!   multiplicative decay with the prior's precision:
//!   ```text
//!   θⱼ ← θⱼ − γ·s·∂pen/∂θⱼ − γ·dⱼ      = (1 − γλⱼ)·θⱼ − γ·dⱼ,    λⱼ = s·f_j/τ²
//!   ```
//!   i.e. `λ = 1/(nτ²)` with the mean loss and `λ = 1/τ²` with the sum (for a Gaussian
//!   likelihood with noise variance σ² the nll carries the 1/σ², so this λ is glmnet's
//!   `σ²/(nτ²)` divided by σ²). It needs `γλⱼ < 1`. Other differentiable priors decay the
//!   same way along their own gradient (a full-covariance Gaussian `N(μ, Σ)` pulls θ toward μ
//!   by `γ·s·Σ⁻¹(θ − μ)`; a Student-t decays large weights less). For a non-differentiable
//!   prior (Laplace, elastic net, bridge with q ≤ 1) the decoupled step is the proximal
//!   step of the scaled penalty, `θⱼ ← prox_{γ·s·pen_j}(θⱼ − γ·dⱼ)` ([`Prior::prox`] with step
//!   `γ·s`; proximal gradient / ISTA under plain SGD), which gives exact zeros for the
//!   Laplace prior. (For the Gaussian prior the prox `v/(1 + γλ)` would be the implicit
//!   version of the same decay; the explicit form is used so that plain SGD with decoupled
//!   decay is step-for-step SGD on the penalized loss.)
//!
//! Unpenalized parameters (`θ[n_penalized..]`, intercepts and biases) never see the prior.
//!
//! Under plain SGD (no momentum) and a differentiable prior the two modes give the same
//! iterates: coupled is `θ ← θ − γ(g + λθ) = (1 − γλ)θ − γg`, which is the decoupled step.
//! Under momentum or Adam they differ: coupled feeds `λθ` through the momentum and the adaptive scaling
//! (under Adam a coordinate with large gradients is barely decayed), decoupled does not
//! (Loshchilov & Hutter, "Decoupled weight decay regularization", ICLR 2019).
//!
//! # The argmin state
//! Run through argmin's `Executor`, each iteration draws one batch and takes one step. The
//! state's `param` is the new iterate, its `cost` the mini-batch estimate of `J` at the
//! iterate *before* the step (exact with full batches), its `gradient` the estimate of `∇J`
//! there. argmin's `best_param` is chosen by these noisy costs: read the result with
//! `get_param()` (or the Polyak–Ruppert `averaged()` of the solver). Stop a run with
//! `max_iters`, [`MinibatchConfig::max_epochs`] or, with full batches,
//! [`MinibatchConfig::gradient_tolerance`]; without any of them it does not stop.

use crate::design::Design;
use crate::error::{check_positive, Error, Result};
use crate::likelihood::Likelihood;
use crate::model::Rows;
use crate::objective::MapProblem;
use crate::prior::Prior;
use crate::solve::CdState;
use argmin::core::{Problem, State, TerminationReason, TerminationStatus, KV};
use nalgebra::DVector;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

/// How the MAP cost is scaled into the loss the optimizer minimizes (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LossScale {
    /// `J = (1/n)·[Σᵢ nllᵢ + pen]`: the mean loss; the learning rate does not depend on n.
    #[default]
    Mean,
    /// `J = Σᵢ nllᵢ + pen`: mapfit's cost, the negative log posterior up to a constant.
    Sum,
}

impl LossScale {
    /// The factor `s` (`1/n` or 1).
    pub fn factor(&self, n: usize) -> f64 {
        match self {
            LossScale::Mean => 1.0 / n.max(1) as f64,
            LossScale::Sum => 1.0,
        }
    }
}

/// How a stochastic optimizer applies the prior (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriorMode {
    /// The prior's gradient is added to the data gradient ("L2 regularization").
    Coupled,
    /// The parameters are shrunk directly: multiplicative decay for a Gaussian prior, a
    /// proximal step for any other prior ("decoupled weight decay").
    Decoupled,
}

/// The prior term of the optimizer's loss, `s·pen(θ[..n_penalized])`, and the two ways of
/// applying it.
#[derive(Debug, Clone)]
pub struct PriorTerm<'a, P> {
    prior: &'a P,
    n_penalized: usize,
    scale: f64,
}

impl<'a, P: Prior> PriorTerm<'a, P> {
    /// The prior on `θ[..n_penalized]`, scaled by `scale` (the [`LossScale`] factor).
    pub fn new(prior: &'a P, n_penalized: usize, scale: f64) -> Self {
        PriorTerm {
            prior,
            n_penalized,
            scale,
        }
    }

    /// The prior.
    pub fn prior(&self) -> &P {
        self.prior
    }
    /// Number of penalized parameters (the first ones of θ).
    pub fn n_penalized(&self) -> usize {
        self.n_penalized
    }
    /// The loss scale `s`.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// `s·pen(θ[..n_penalized])`.
    pub fn value(&self, theta: &DVector<f64>) -> f64 {
        self.scale * self.prior.penalty(&theta.as_slice()[..self.n_penalized])
    }

    /// `s·∇pen(θ[..n_penalized])` (the minimum-norm subgradient for a non-smooth prior).
    pub fn gradient(&self, theta: &DVector<f64>) -> Vec<f64> {
        let np = self.n_penalized;
        let mut pg = vec![0.0; np];
        self.prior
            .penalty_gradient(&theta.as_slice()[..np], &mut pg);
        for a in &mut pg {
            *a *= self.scale;
        }
        pg
    }

    /// Adds `s·∇pen(θ)` to `g`.
    pub fn add_gradient(&self, theta: &DVector<f64>, g: &mut DVector<f64>) {
        for (gj, pj) in g.iter_mut().zip(self.gradient(theta)) {
            *gj += pj;
        }
    }

    /// The update `θ ← θ − γ·d` with the prior applied according to `mode`: nothing more
    /// for [`PriorMode::Coupled`] (the prior is already in `d`); for
    /// [`PriorMode::Decoupled`], `θⱼ ← θⱼ − γ·s·∂pen/∂θⱼ − γ·dⱼ` for a differentiable prior
    /// and `θⱼ ← prox_{γ·s·pen_j}(θⱼ − γ·dⱼ)` otherwise (see the module docs).
    pub fn apply_step(
        &self,
        theta: &mut DVector<f64>,
        lr: f64,
        direction: &DVector<f64>,
        mode: PriorMode,
    ) {
        let np = self.n_penalized;
        match mode {
            PriorMode::Coupled => theta.axpy(-lr, direction, 1.0),
            PriorMode::Decoupled if self.prior.is_smooth() => {
                let pg = self.gradient(theta);
                for (j, t) in theta.iter_mut().enumerate() {
                    let decay = if j < np { lr * pg[j] } else { 0.0 };
                    *t = *t - decay - lr * direction[j];
                }
            }
            PriorMode::Decoupled => {
                for (j, t) in theta.iter_mut().enumerate() {
                    let v = *t - lr * direction[j];
                    *t = if j < np {
                        self.prior.prox(j, v, lr * self.scale)
                    } else {
                        v
                    };
                }
            }
        }
    }
}

/// A MAP problem that a stochastic optimizer can sample: a sum of per-observation negative
/// log-likelihoods and a prior on the first `n_penalized` parameters. Implemented by
/// [`MapProblem`] (any GLM) and [`crate::model::ModelProblem`] (any differentiable model).
pub trait StochasticProblem {
    /// The prior's type.
    type Prior: Prior;
    /// Length of θ.
    fn n_params(&self) -> usize;
    /// Number of observations `n`.
    fn n_obs(&self) -> usize;
    /// The prior applies to `θ[..n_penalized]`.
    fn n_penalized(&self) -> usize;
    /// The prior.
    fn prior(&self) -> &Self::Prior;
    /// `Σ_{i∈rows} nllᵢ(θ)`, writing `Σ_{i∈rows} ∇nllᵢ(θ)` into `grad` (resized if needed).
    ///
    /// # Errors
    /// θ of the wrong length, indices out of range, or the model's error.
    fn batch_nll_gradient(
        &self,
        theta: &DVector<f64>,
        rows: Rows<'_>,
        grad: &mut DVector<f64>,
    ) -> Result<f64>;
}

/// `Σ_{i∈rows} vᵢ·nll(yᵢ, ηᵢ)` and its gradient in θ = (w, b) for a GLM on `design`.
pub(crate) fn glm_nll_gradient<L: Likelihood>(
    design: &Design<'_>,
    likelihood: &L,
    intercept: bool,
    theta: &[f64],
    rows: Rows<'_>,
    grad: &mut [f64],
) -> f64 {
    let (n, p) = (design.n(), design.p());
    let (x, y) = (design.x(), design.y());
    let b = if intercept { theta[p] } else { 0.0 };
    let w = &theta[..p];
    grad.fill(0.0);
    let mut total = 0.0;
    for i in rows.iter(n) {
        let mut eta = b + design.offset_at(i);
        for (j, &wj) in w.iter().enumerate() {
            eta += x[(i, j)] * wj;
        }
        let v = design.weight(i);
        if v == 0.0 {
            // Absent, even if its terms are infinite (0·∞ would be NaN).
            continue;
        }
        total += v * likelihood.nll(y[i], eta);
        let d = v * likelihood.nll_derivative(y[i], eta);
        for (j, gj) in grad[..p].iter_mut().enumerate() {
            *gj += d * x[(i, j)];
        }
        if intercept {
            grad[p] += d;
        }
    }
    total
}

impl<L: Likelihood, P: Prior> StochasticProblem for MapProblem<'_, L, P> {
    type Prior = P;
    fn n_params(&self) -> usize {
        MapProblem::n_params(self)
    }
    fn n_obs(&self) -> usize {
        self.design().n()
    }
    fn n_penalized(&self) -> usize {
        self.design().p()
    }
    fn prior(&self) -> &P {
        MapProblem::prior(self)
    }
    fn batch_nll_gradient(
        &self,
        theta: &DVector<f64>,
        rows: Rows<'_>,
        grad: &mut DVector<f64>,
    ) -> Result<f64> {
        let k = MapProblem::n_params(self);
        if theta.len() != k {
            return Err(Error::DimensionMismatch {
                what: "parameter vector",
                expected: k,
                found: theta.len(),
            });
        }
        rows.check(self.design().n())?;
        if grad.len() != k {
            *grad = DVector::zeros(k);
        }
        Ok(glm_nll_gradient(
            self.design(),
            self.likelihood(),
            self.has_intercept(),
            theta.as_slice(),
            rows,
            grad.as_mut_slice(),
        ))
    }
}

/// Seeded mini-batches: epochs of shuffled batches of rows (`rand`'s `StdRng`).
///
/// Each epoch is a fresh permutation of `0..n` cut into `⌈n/b⌉` consecutive batches of `b`
/// rows (the last one smaller when `b` does not divide `n`; every row is used exactly once
/// per epoch). When `b ≥ n` every batch is the full data, in order ([`Rows::All`]), and no
/// random numbers are drawn. The same seed gives the same batches.
#[derive(Debug, Clone)]
pub struct MinibatchSampler {
    n: usize,
    batch_size: usize,
    rng: StdRng,
    order: Vec<usize>,
    pos: usize,
    epochs: u64,
}

impl MinibatchSampler {
    /// Batches of `batch_size` out of `n` rows.
    ///
    /// # Errors
    /// `n = 0` or `batch_size = 0`.
    pub fn new(n: usize, batch_size: usize, seed: u64) -> Result<Self> {
        if n == 0 {
            return Err(Error::EmptyData {
                what: "no observations to sample",
            });
        }
        if batch_size == 0 {
            return Err(Error::InvalidParameter {
                name: "batch size",
                value: 0.0,
                reason: "must be >= 1",
            });
        }
        let full = batch_size >= n;
        Ok(MinibatchSampler {
            n,
            batch_size: batch_size.min(n),
            rng: StdRng::seed_from_u64(seed),
            order: if full { Vec::new() } else { (0..n).collect() },
            pos: 0,
            epochs: 0,
        })
    }

    /// Whether every batch is the full data.
    pub fn is_full_batch(&self) -> bool {
        self.batch_size >= self.n
    }
    /// Batches per epoch, `⌈n/b⌉`.
    pub fn batches_per_epoch(&self) -> usize {
        self.n.div_ceil(self.batch_size)
    }
    /// Epochs completed so far.
    pub fn epochs_completed(&self) -> u64 {
        self.epochs
    }

    /// The next batch and the (0-based) epoch it belongs to.
    pub fn next_batch(&mut self) -> (u64, Rows<'_>) {
        let epoch = self.epochs;
        if self.is_full_batch() {
            self.epochs += 1;
            return (epoch, Rows::All);
        }
        if self.pos == 0 {
            self.order.shuffle(&mut self.rng);
        }
        let start = self.pos;
        let end = (start + self.batch_size).min(self.n);
        if end == self.n {
            self.pos = 0;
            self.epochs += 1;
        } else {
            self.pos = end;
        }
        (epoch, Rows::Subset(&self.order[start..end]))
    }
}

/// Mini-batch settings shared by [`super::Sgd`] and [`super::Adam`] (and the streaming fit,
/// which takes the batch size, seed, loss scale, averaging and epochs from here).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MinibatchConfig {
    /// Rows per batch; `None` for the full batch (gradient descent). Default 32.
    pub batch_size: Option<usize>,
    /// Seed of the batch sampler. Default 0.
    pub seed: u64,
    /// How the MAP cost is scaled (default [`LossScale::Mean`]).
    pub loss_scale: LossScale,
    /// Polyak–Ruppert averaging: average the iterates of every step from this (0-based)
    /// epoch on. Default `None` (no averaging).
    pub average_from_epoch: Option<u64>,
    /// Stop when the full-batch gradient norm `‖∇J‖₂` (in the loss-scale units) is at most
    /// this. Only checked with full batches and a differentiable prior. Default `None`.
    pub gradient_tolerance: Option<f64>,
    /// Stop after this many epochs. Default `None` (argmin's `max_iters` still applies).
    pub max_epochs: Option<u64>,
}

impl Default for MinibatchConfig {
    fn default() -> Self {
        MinibatchConfig {
            batch_size: Some(32),
            seed: 0,
            loss_scale: LossScale::Mean,
            average_from_epoch: None,
            gradient_tolerance: None,
            max_epochs: None,
        }
    }
}

impl MinibatchConfig {
    /// Checks the settings.
    ///
    /// # Errors
    /// A batch size of 0, or a gradient tolerance that is not finite and > 0.
    pub fn validate(&self) -> Result<()> {
        if self.batch_size == Some(0) {
            return Err(Error::InvalidParameter {
                name: "batch size",
                value: 0.0,
                reason: "must be >= 1",
            });
        }
        if let Some(t) = self.gradient_tolerance {
            check_positive("gradient tolerance", t)?;
        }
        Ok(())
    }
}

/// The update rule of a stochastic optimizer, independent of where the gradient comes from
/// (an argmin `Executor` over a [`StochasticProblem`], or the streaming fit).
pub trait StochasticOptimizer {
    /// A readable name.
    fn name(&self) -> &'static str;
    /// The mini-batch settings.
    fn config(&self) -> &MinibatchConfig;
    /// How the prior is applied.
    fn prior_mode(&self) -> PriorMode;
    /// The learning-rate schedule.
    fn learning_rate(&self) -> &super::LearningRate;
    /// Validates the settings and clears the optimizer's memory (momentum, moments, step
    /// count) for `n_params` parameters.
    ///
    /// # Errors
    /// Invalid settings.
    fn reset(&mut self, n_params: usize) -> Result<()>;
    /// Steps taken since the last reset.
    fn steps(&self) -> u64;
    /// One step from the data-gradient estimate `s·(n/|B|)·Σ_{i∈B}∇nllᵢ(θ)` (see the module
    /// docs), applying the prior as [`StochasticOptimizer::prior_mode`] says.
    fn step<P: Prior>(
        &mut self,
        theta: &mut DVector<f64>,
        data_gradient: &DVector<f64>,
        prior: &PriorTerm<'_, P>,
    );
}

/// Per-run state of an optimizer driven by argmin's `Executor`.
#[derive(Debug, Clone, Default)]
pub(crate) struct RunState {
    sampler: Option<MinibatchSampler>,
    average: Option<DVector<f64>>,
    n_averaged: u64,
    converged: bool,
    grad: DVector<f64>,
}

impl RunState {
    pub(crate) fn average(&self) -> Option<&DVector<f64>> {
        self.average.as_ref()
    }
    pub(crate) fn epochs_completed(&self) -> u64 {
        self.sampler.as_ref().map_or(0, |s| s.epochs_completed())
    }
}

/// Access to the run state, for the shared `Solver` implementation.
pub(crate) trait HasRun: StochasticOptimizer {
    fn run_state(&mut self) -> &mut RunState;
}

fn solver_error(what: impl Into<String>) -> argmin::core::Error {
    argmin::core::Error::from(Error::Unsupported { what: what.into() })
}

/// `Solver::init` of the stochastic optimizers.
pub(crate) fn solver_init<O: StochasticProblem, S: HasRun>(
    solver: &mut S,
    problem: &mut Problem<O>,
    state: CdState,
) -> std::result::Result<(CdState, Option<KV>), argmin::core::Error> {
    let pb = problem
        .problem
        .as_ref()
        .ok_or_else(|| solver_error("the problem is missing"))?;
    let theta = state.get_param().ok_or_else(|| {
        solver_error(format!(
            "{} needs an initial parameter vector (configure the state with .param(θ₀))",
            solver.name()
        ))
    })?;
    if theta.len() != pb.n_params() {
        return Err(Error::DimensionMismatch {
            what: "initial parameter vector",
            expected: pb.n_params(),
            found: theta.len(),
        }
        .into());
    }
    if solver.prior_mode() == PriorMode::Coupled && !pb.prior().is_smooth() {
        return Err(solver_error(format!(
            "PriorMode::Coupled adds the prior's gradient, and {} is not differentiable; use \
             PriorMode::Decoupled (a proximal step)",
            pb.prior().describe()
        )));
    }
    let cfg = *solver.config();
    cfg.validate()?;
    let n = pb.n_obs();
    let k = pb.n_params();
    solver.reset(k)?;
    let run = solver.run_state();
    *run = RunState {
        sampler: Some(MinibatchSampler::new(
            n,
            cfg.batch_size.unwrap_or(n),
            cfg.seed,
        )?),
        average: None,
        n_averaged: 0,
        converged: false,
        grad: DVector::zeros(k),
    };
    Ok((state, None))
}

/// `Solver::next_iter` of the stochastic optimizers: one mini-batch, one step.
pub(crate) fn solver_next_iter<O: StochasticProblem, S: HasRun>(
    solver: &mut S,
    problem: &mut Problem<O>,
    mut state: CdState,
) -> std::result::Result<(CdState, Option<KV>), argmin::core::Error> {
    let cfg = *solver.config();
    let mut theta = state
        .take_param()
        .ok_or_else(|| solver_error("the state has no parameter vector"))?;
    let mut run = std::mem::take(solver.run_state());
    let RunState {
        sampler,
        average,
        n_averaged,
        converged,
        grad,
    } = &mut run;
    let sampler = sampler
        .as_mut()
        .ok_or_else(|| solver_error("the solver was not initialized"))?;
    let full_batch = sampler.is_full_batch();
    let (epoch, rows) = sampler.next_batch();
    let lr_now = solver.learning_rate().at(solver.steps());
    let (cost, estimate, stop) = problem.problem("gradient", |pb| {
        let n = pb.n_obs();
        let m = rows.len(n);
        let nll = pb.batch_nll_gradient(&theta, rows, grad)?;
        let s = cfg.loss_scale.factor(n);
        let c = s * n as f64 / m as f64;
        *grad *= c;
        let pen = PriorTerm::new(pb.prior(), pb.n_penalized(), s);
        let cost = c * nll + pen.value(&theta);
        let mut estimate = grad.clone();
        let smooth = pb.prior().is_smooth();
        if smooth {
            pen.add_gradient(&theta, &mut estimate);
        }
        let stop =
            full_batch && smooth && cfg.gradient_tolerance.is_some_and(|t| estimate.norm() <= t);
        if !stop {
            solver.step(&mut theta, grad, &pen);
        }
        Ok((cost, estimate, stop))
    })?;
    *converged = stop;
    if !stop && cfg.average_from_epoch.is_some_and(|e| epoch >= e) {
        *n_averaged += 1;
        match average {
            Some(a) => {
                let k = *n_averaged as f64;
                a.axpy(1.0 / k, &theta, 1.0 - 1.0 / k);
            }
            None => *average = Some(theta.clone()),
        }
    }
    let kv = argmin::kv!(
        "learning_rate" => lr_now;
        "epoch" => epoch;
        "gradient_estimate_norm" => estimate.norm();
    );
    *solver.run_state() = run;
    Ok((state.param(theta).gradient(estimate).cost(cost), Some(kv)))
}

/// `Solver::terminate` of the stochastic optimizers.
pub(crate) fn solver_terminate<S: HasRun>(solver: &mut S) -> TerminationStatus {
    let max_epochs = solver.config().max_epochs;
    let run = solver.run_state();
    if run.converged {
        return TerminationStatus::Terminated(TerminationReason::SolverConverged);
    }
    if max_epochs.is_some_and(|m| run.epochs_completed() >= m) {
        return TerminationStatus::Terminated(TerminationReason::SolverExit(
            "maximum number of epochs reached".into(),
        ));
    }
    TerminationStatus::NotTerminated
}

/// Builder methods for the [`MinibatchConfig`] of an optimizer with a `config` field and a
/// `run` field.
macro_rules! minibatch_builders {
    ($ty:ty) => {
        impl $ty {
            /// Rows per mini-batch (`batch_size ≥ n` is the full batch).
            ///
            /// # Errors
            /// `batch_size = 0`.
            pub fn with_batch_size(mut self, batch_size: usize) -> $crate::Result<Self> {
                if batch_size == 0 {
                    return Err($crate::Error::InvalidParameter {
                        name: "batch size",
                        value: 0.0,
                        reason: "must be >= 1",
                    });
                }
                self.config.batch_size = Some(batch_size);
                Ok(self)
            }
            /// Every step uses all rows, in order: deterministic gradient descent.
            pub fn full_batch(mut self) -> Self {
                self.config.batch_size = None;
                self
            }
            /// Seed of the mini-batch sampler.
            pub fn with_seed(mut self, seed: u64) -> Self {
                self.config.seed = seed;
                self
            }
            /// How the MAP cost is scaled into the loss ([`LossScale`], default `Mean`).
            pub fn with_loss_scale(mut self, scale: LossScale) -> Self {
                self.config.loss_scale = scale;
                self
            }
            /// Polyak–Ruppert averaging of the iterates from this (0-based) epoch on; read
            /// the average with `averaged()`.
            pub fn with_averaging_from_epoch(mut self, epoch: u64) -> Self {
                self.config.average_from_epoch = Some(epoch);
                self
            }
            /// Stop at a full-batch gradient norm `‖∇J‖₂ ≤ tol` (full batches and smooth
            /// priors only).
            ///
            /// # Errors
            /// `tol` not finite and > 0.
            pub fn with_gradient_tolerance(mut self, tol: f64) -> $crate::Result<Self> {
                self.config.gradient_tolerance =
                    Some($crate::error::check_positive("gradient tolerance", tol)?);
                Ok(self)
            }
            /// Stop after this many epochs.
            pub fn with_max_epochs(mut self, epochs: u64) -> Self {
                self.config.max_epochs = Some(epochs);
                self
            }
            /// Replaces all mini-batch settings.
            pub fn with_config(mut self, config: MinibatchConfig) -> Self {
                self.config = config;
                self
            }
            /// The Polyak–Ruppert average of the iterates (after a run with averaging).
            pub fn averaged(&self) -> Option<&nalgebra::DVector<f64>> {
                self.run.average()
            }
            /// Epochs completed in the last run.
            pub fn epochs_completed(&self) -> u64 {
                self.run.epochs_completed()
            }
        }
    };
}
pub(crate) use minibatch_builders;
