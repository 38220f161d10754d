//! Any differentiable model: a user-supplied negative log-likelihood over the parameters,
//! combined with any mapfit prior.
//!
//! A [`Model`] gives `−ln p(y | θ) = Σᵢ nllᵢ(θ)`, a sum over `n` observations, and its
//! gradient, over all rows or over a mini-batch of row indices ([`Rows`]). A
//! [`ModelProblem`] joins it with a [`Prior`] on the first [`Model::n_penalized`] entries of
//! θ (the remaining entries — biases, intercepts — have the flat prior):
//! ```text
//! cost(θ) = Σᵢ nllᵢ(θ) + penalty(θ[..n_penalized])
//! ```
//! whose minimizer is the MAP. A `ModelProblem` is an argmin `CostFunction` + `Gradient`
//! (so argmin's L-BFGS, or any gradient solver, finds the MAP) and a
//! [`StochasticProblem`](crate::solve::StochasticProblem) (so [`crate::solve::Sgd`] and
//! [`crate::solve::Adam`] find it from mini-batches).
//!
//! [`Mlp`] is a worked example: a one-hidden-layer tanh network for binary classification
//! with hand-written back-propagation.
//!
//! ```
//! use argmin::core::{Executor, State};
//! use argmin::solver::{linesearch::MoreThuenteLineSearch, quasinewton::LBFGS};
//! use mapfit::model::{Mlp, ModelProblem};
//! use mapfit::prior::Gaussian;
//! use nalgebra::{dmatrix, dvector};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let x = dmatrix![0.0, 0.0; 1.0, 1.0; 1.0, 0.0; 0.0, 1.0];
//! let y = dvector![0.0, 0.0, 1.0, 1.0]; // XOR
//! let mlp = Mlp::new(&x, &y, 4)?;
//! let theta0 = mlp.initial_parameters(7);
//! let problem = ModelProblem::new(mlp, Gaussian::new(3.0)?)?;
//! let res = Executor::new(problem, LBFGS::new(MoreThuenteLineSearch::new(), 7))
//!     .configure(|s| s.param(theta0).max_iters(500))
//!     .run()?;
//! let theta = res.state.get_best_param().unwrap();
//! assert!(res.problem.problem.unwrap().model().error_rate(theta, &x, &y)? == 0.0);
//! # Ok(()) }
//! ```

use crate::error::{Error, Result};
use crate::prior::Prior;
use argmin::core::{CostFunction, Gradient};
use nalgebra::{DMatrix, DVector};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use std::fmt::Debug;

/// Which observations a likelihood term is summed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows<'a> {
    /// All `n` observations, in order.
    All,
    /// A mini-batch of 0-based row indices (repeats count repeatedly).
    Subset(&'a [usize]),
}

impl<'a> Rows<'a> {
    /// Number of rows selected out of `n`.
    pub fn len(&self, n: usize) -> usize {
        match self {
            Rows::All => n,
            Rows::Subset(r) => r.len(),
        }
    }

    /// Whether no row is selected.
    pub fn is_empty(&self, n: usize) -> bool {
        self.len(n) == 0
    }

    /// The selected row indices, out of `n`.
    pub fn iter(&self, n: usize) -> RowIter<'a> {
        match *self {
            Rows::All => RowIter::Range(0..n),
            Rows::Subset(r) => RowIter::Slice(r.iter()),
        }
    }

    /// Checks that every index is `< n`.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] for an index out of range.
    pub fn check(&self, n: usize) -> Result<()> {
        if let Rows::Subset(r) = self {
            if let Some(&bad) = r.iter().find(|&&i| i >= n) {
                return Err(Error::DimensionMismatch {
                    what: "mini-batch row index (found = index)",
                    expected: n,
                    found: bad,
                });
            }
        }
        Ok(())
    }
}

/// Iterator over the row indices of a [`Rows`].
#[derive(Debug, Clone)]
pub enum RowIter<'a> {
    /// `0..n`.
    Range(std::ops::Range<usize>),
    /// A mini-batch.
    Slice(std::slice::Iter<'a, usize>),
}

impl Iterator for RowIter<'_> {
    type Item = usize;
    #[inline]
    fn next(&mut self) -> Option<usize> {
        match self {
            RowIter::Range(r) => r.next(),
            RowIter::Slice(s) => s.next().copied(),
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            RowIter::Range(r) => r.size_hint(),
            RowIter::Slice(s) => s.size_hint(),
        }
    }
}

/// A differentiable negative log-likelihood `Σᵢ nllᵢ(θ)` over `n` observations.
///
/// Implement [`Model::nll_gradient`]; everything else has a default. The value is the exact
/// `−ln p(y | θ)` summed over the selected rows (not averaged: the mini-batch solvers do the
/// scaling, see [`crate::solve::LossScale`]).
pub trait Model {
    /// Length of θ.
    fn n_params(&self) -> usize;

    /// Number of observations `n`.
    fn n_obs(&self) -> usize;

    /// The prior applies to `θ[..n_penalized()]`; the rest (biases) have the flat prior.
    /// Default: all of θ.
    fn n_penalized(&self) -> usize {
        self.n_params()
    }

    /// `Σ_{i∈rows} nllᵢ(θ)`, writing `Σ_{i∈rows} ∇nllᵢ(θ)` into `grad` (overwritten, length
    /// `n_params`).
    ///
    /// # Errors
    /// Whatever the model reports (wrong lengths, indices out of range).
    fn nll_gradient(&self, theta: &[f64], rows: Rows<'_>, grad: &mut [f64]) -> Result<f64>;

    /// `Σ_{i∈rows} nllᵢ(θ)` (default: through [`Model::nll_gradient`]).
    ///
    /// # Errors
    /// As [`Model::nll_gradient`].
    fn nll(&self, theta: &[f64], rows: Rows<'_>) -> Result<f64> {
        let mut g = vec![0.0; self.n_params()];
        self.nll_gradient(theta, rows, &mut g)
    }
}

/// A [`Model`] and a [`Prior`] on `θ[..model.n_penalized()]`: the MAP problem
/// `min_θ Σᵢ nllᵢ(θ) + penalty(θ[..n_penalized])` (see the module docs).
#[derive(Debug, Clone)]
pub struct ModelProblem<M, P> {
    model: M,
    prior: P,
}

impl<M: Model, P: Prior> ModelProblem<M, P> {
    /// Joins a model and a prior.
    ///
    /// # Errors
    /// A model with no observations or no parameters, `n_penalized > n_params`, or
    /// per-coefficient prior settings whose length is not `n_penalized`.
    pub fn new(model: M, prior: P) -> Result<Self> {
        if model.n_obs() == 0 {
            return Err(Error::EmptyData {
                what: "the model has no observations",
            });
        }
        if model.n_params() == 0 {
            return Err(Error::EmptyData {
                what: "the model has no parameters",
            });
        }
        if model.n_penalized() > model.n_params() {
            return Err(Error::DimensionMismatch {
                what: "penalized parameters",
                expected: model.n_params(),
                found: model.n_penalized(),
            });
        }
        prior.check_dimension(model.n_penalized())?;
        Ok(ModelProblem { model, prior })
    }

    /// The model.
    pub fn model(&self) -> &M {
        &self.model
    }
    /// The prior.
    pub fn prior(&self) -> &P {
        &self.prior
    }
    /// Length of θ.
    pub fn n_params(&self) -> usize {
        self.model.n_params()
    }

    fn check_theta(&self, theta: &DVector<f64>) -> Result<()> {
        if theta.len() != self.n_params() {
            return Err(Error::DimensionMismatch {
                what: "parameter vector",
                expected: self.n_params(),
                found: theta.len(),
            });
        }
        Ok(())
    }

    /// `−ln p(y | θ)` over all observations.
    ///
    /// # Errors
    /// θ of the wrong length, or the model's error.
    pub fn negative_log_likelihood(&self, theta: &DVector<f64>) -> Result<f64> {
        self.check_theta(theta)?;
        self.model.nll(theta.as_slice(), Rows::All)
    }

    /// The cost `Σᵢ nllᵢ(θ) + penalty(θ[..n_penalized])`.
    ///
    /// # Errors
    /// As [`ModelProblem::negative_log_likelihood`].
    pub fn objective(&self, theta: &DVector<f64>) -> Result<f64> {
        let nll = self.negative_log_likelihood(theta)?;
        Ok(nll
            + self
                .prior
                .penalty(&theta.as_slice()[..self.model.n_penalized()]))
    }

    /// `ln p(y | θ) + ln p(θ[..n_penalized])`, the exact unnormalized log posterior (when the
    /// model's nll is exact).
    ///
    /// # Errors
    /// As [`ModelProblem::negative_log_likelihood`].
    pub fn ln_posterior(&self, theta: &DVector<f64>) -> Result<f64> {
        let nll = self.negative_log_likelihood(theta)?;
        Ok(-nll
            + self
                .prior
                .ln_density(&theta.as_slice()[..self.model.n_penalized()]))
    }

    /// The full-batch gradient of the cost.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a non-differentiable prior (use a decoupled, proximal
    /// stochastic solver instead); θ of the wrong length; the model's error.
    pub fn cost_gradient(&self, theta: &DVector<f64>) -> Result<DVector<f64>> {
        self.check_theta(theta)?;
        if !self.prior.is_smooth() {
            return Err(Error::Unsupported {
                what: format!(
                    "a gradient of the cost needs a differentiable prior, and {} is not; use \
                     Sgd or Adam with PriorMode::Decoupled (a proximal step)",
                    self.prior.describe()
                ),
            });
        }
        let mut g = DVector::zeros(self.n_params());
        self.model
            .nll_gradient(theta.as_slice(), Rows::All, g.as_mut_slice())?;
        let np = self.model.n_penalized();
        let mut pg = vec![0.0; np];
        self.prior
            .penalty_gradient(&theta.as_slice()[..np], &mut pg);
        for (gj, pj) in g.iter_mut().zip(&pg) {
            *gj += pj;
        }
        Ok(g)
    }
}

impl<M: Model, P: Prior> CostFunction for ModelProblem<M, P> {
    type Param = DVector<f64>;
    type Output = f64;
    fn cost(&self, theta: &Self::Param) -> std::result::Result<f64, argmin::core::Error> {
        Ok(self.objective(theta)?)
    }
}

impl<M: Model, P: Prior> Gradient for ModelProblem<M, P> {
    type Param = DVector<f64>;
    type Gradient = DVector<f64>;
    fn gradient(
        &self,
        theta: &Self::Param,
    ) -> std::result::Result<Self::Gradient, argmin::core::Error> {
        Ok(self.cost_gradient(theta)?)
    }
}

impl<M: Model, P: Prior> crate::solve::StochasticProblem for ModelProblem<M, P> {
    type Prior = P;
    fn n_params(&self) -> usize {
        self.model.n_params()
    }
    fn n_obs(&self) -> usize {
        self.model.n_obs()
    }
    fn n_penalized(&self) -> usize {
        self.model.n_penalized()
    }
    fn prior(&self) -> &P {
        &self.prior
    }
    fn batch_nll_gradient(
        &self,
        theta: &DVector<f64>,
        rows: Rows<'_>,
        grad: &mut DVector<f64>,
    ) -> Result<f64> {
        self.check_theta(theta)?;
        rows.check(self.model.n_obs())?;
        if grad.len() != self.n_params() {
            *grad = DVector::zeros(self.n_params());
        }
        self.model
            .nll_gradient(theta.as_slice(), rows, grad.as_mut_slice())
    }
}

/// `ln(1 + eᶻ)` without overflow.
#[inline]
pub(crate) fn softplus(z: f64) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

/// The logistic function `1/(1 + e⁻ᶻ)`, stable for large `|z|`.
#[inline]
pub(crate) fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// A multilayer perceptron with one hidden layer of `tanh` units and a logistic output, for
/// binary classification (`yᵢ ∈ {0, 1}`), with hand-written back-propagation.
///
/// # Model
/// For an input `x ∈ ℝᵈ` and `h` hidden units:
/// ```text
/// a = tanh(W₁x + b₁)          W₁: h × d,  b₁ ∈ ℝʰ
/// z = w₂ᵀa + b₂               w₂ ∈ ℝʰ,    b₂ ∈ ℝ
/// P(y = 1 | x) = σ(z) = 1/(1 + e⁻ᶻ)
/// nllᵢ = ln(1 + e^{zᵢ}) − yᵢzᵢ                      (Bernoulli)
/// ```
/// # Back-propagation
/// ```text
/// δ = ∂nll/∂z = σ(z) − y
/// ∂/∂w₂ = δ·a,   ∂/∂b₂ = δ
/// ∂/∂(W₁x + b₁)ₖ = δ·w₂ₖ·(1 − aₖ²)  =: δₖ
/// ∂/∂W₁ₖⱼ = δₖ·xⱼ,   ∂/∂b₁ₖ = δₖ
/// ```
/// # Parameter layout
/// `θ = (W₁ row-major, w₂, b₁, b₂)`, length `hd + h + h + 1`. The weights `(W₁, w₂)` come
/// first and are the [`Model::n_penalized`] ones: a Gaussian prior on them is weight decay,
/// and the biases keep the flat prior (as mapfit's intercepts do).
#[derive(Debug, Clone, Copy)]
pub struct Mlp<'a> {
    x: &'a DMatrix<f64>,
    y: &'a DVector<f64>,
    hidden: usize,
}

impl<'a> Mlp<'a> {
    /// A network with `hidden` tanh units for the rows of `x` (n × d) and labels `y ∈ {0,1}`.
    ///
    /// # Errors
    /// Empty or non-finite data, a length mismatch, a label not 0 or 1, `hidden = 0`.
    pub fn new(x: &'a DMatrix<f64>, y: &'a DVector<f64>, hidden: usize) -> Result<Self> {
        crate::design::Design::new(x, y)?;
        if let Some(i) = y.iter().position(|&v| v != 0.0 && v != 1.0) {
            return Err(Error::InvalidResponse {
                likelihood: "Bernoulli (MLP)",
                row: i,
                value: y[i],
                support: "0 or 1",
            });
        }
        if hidden == 0 {
            return Err(Error::InvalidParameter {
                name: "hidden units",
                value: 0.0,
                reason: "must be >= 1",
            });
        }
        Ok(Mlp { x, y, hidden })
    }

    /// Number of hidden units `h`.
    pub fn hidden(&self) -> usize {
        self.hidden
    }
    /// Number of inputs `d`.
    pub fn inputs(&self) -> usize {
        self.x.ncols()
    }

    /// Seeded initial parameters: `W₁ ~ N(0, 1/d)`, `w₂ ~ N(0, 1/h)` (LeCun scaling), biases
    /// 0. (θ = 0 is a saddle of the network: every hidden unit would stay identical.)
    pub fn initial_parameters(&self, seed: u64) -> DVector<f64> {
        let (d, h) = (self.inputs(), self.hidden);
        let mut rng = StdRng::seed_from_u64(seed);
        let mut theta = DVector::zeros(self.n_params());
        let s1 = 1.0 / (d as f64).sqrt();
        let s2 = 1.0 / (h as f64).sqrt();
        for k in 0..h * d {
            let e: f64 = StandardNormal.sample(&mut rng);
            theta[k] = s1 * e;
        }
        for k in 0..h {
            let e: f64 = StandardNormal.sample(&mut rng);
            theta[h * d + k] = s2 * e;
        }
        theta
    }

    /// The logit `z` for one input row, writing the hidden activations into `a`.
    #[inline]
    fn forward_row(&self, theta: &[f64], x: &DMatrix<f64>, i: usize, a: &mut [f64]) -> f64 {
        let (d, h) = (self.inputs(), self.hidden);
        let (w1, rest) = theta.split_at(h * d);
        let (w2, rest) = rest.split_at(h);
        let (b1, b2) = rest.split_at(h);
        let mut z = b2[0];
        for k in 0..h {
            let mut s = b1[k];
            let row = &w1[k * d..(k + 1) * d];
            for (j, &wkj) in row.iter().enumerate() {
                s += wkj * x[(i, j)];
            }
            a[k] = s.tanh();
            z += w2[k] * a[k];
        }
        z
    }

    fn check_theta(&self, theta: &[f64]) -> Result<()> {
        if theta.len() != self.n_params() {
            return Err(Error::DimensionMismatch {
                what: "MLP parameter vector",
                expected: self.n_params(),
                found: theta.len(),
            });
        }
        Ok(())
    }

    /// `P(y = 1 | x)` for each row of `x` (d columns).
    ///
    /// # Errors
    /// θ or `x` of the wrong shape.
    pub fn predict_proba(&self, theta: &DVector<f64>, x: &DMatrix<f64>) -> Result<DVector<f64>> {
        self.check_theta(theta.as_slice())?;
        if x.ncols() != self.inputs() {
            return Err(Error::DimensionMismatch {
                what: "columns of x",
                expected: self.inputs(),
                found: x.ncols(),
            });
        }
        let mut a = vec![0.0; self.hidden];
        Ok(DVector::from_fn(x.nrows(), |i, _| {
            sigmoid(self.forward_row(theta.as_slice(), x, i, &mut a))
        }))
    }

    /// The fraction of rows of `(x, y)` misclassified at the threshold `P(y = 1 | x) = ½`.
    ///
    /// # Errors
    /// As [`Mlp::predict_proba`], or `y` of the wrong length.
    pub fn error_rate(
        &self,
        theta: &DVector<f64>,
        x: &DMatrix<f64>,
        y: &DVector<f64>,
    ) -> Result<f64> {
        let p = self.predict_proba(theta, x)?;
        if y.len() != x.nrows() {
            return Err(Error::DimensionMismatch {
                what: "y",
                expected: x.nrows(),
                found: y.len(),
            });
        }
        let wrong = p
            .iter()
            .zip(y.iter())
            .filter(|(&pi, &yi)| (pi > 0.5) != (yi > 0.5))
            .count();
        Ok(wrong as f64 / y.len() as f64)
    }
}

impl Model for Mlp<'_> {
    fn n_params(&self) -> usize {
        let (d, h) = (self.inputs(), self.hidden);
        h * d + 2 * h + 1
    }
    fn n_obs(&self) -> usize {
        self.x.nrows()
    }
    fn n_penalized(&self) -> usize {
        self.hidden * self.inputs() + self.hidden
    }
    fn nll_gradient(&self, theta: &[f64], rows: Rows<'_>, grad: &mut [f64]) -> Result<f64> {
        self.check_theta(theta)?;
        if grad.len() != theta.len() {
            return Err(Error::DimensionMismatch {
                what: "MLP gradient buffer",
                expected: theta.len(),
                found: grad.len(),
            });
        }
        let n = self.n_obs();
        rows.check(n)?;
        let (d, h) = (self.inputs(), self.hidden);
        grad.fill(0.0);
        let w2 = &theta[h * d..h * d + h];
        let mut a = vec![0.0; h];
        let mut total = 0.0;
        for i in rows.iter(n) {
            let z = self.forward_row(theta, self.x, i, &mut a);
            let y = self.y[i];
            total += softplus(z) - y * z;
            let delta = sigmoid(z) - y;
            let (g1, rest) = grad.split_at_mut(h * d);
            let (g2, rest) = rest.split_at_mut(h);
            let (gb1, gb2) = rest.split_at_mut(h);
            gb2[0] += delta;
            for k in 0..h {
                g2[k] += delta * a[k];
                let dk = delta * w2[k] * (1.0 - a[k] * a[k]);
                gb1[k] += dk;
                let row = &mut g1[k * d..(k + 1) * d];
                for (j, gkj) in row.iter_mut().enumerate() {
                    *gkj += dk * self.x[(i, j)];
                }
            }
        }
        Ok(total)
    }
}
