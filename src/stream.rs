//! Streaming MAP fits: a GLM (any [`Likelihood`]) with any prior, fitted by SGD, Adam or
//! AdamW from a stream of row chunks, without holding the rows in memory.
//!
//! # Design
//! * The data is a [`ChunkSource`]: something that can *start a pass* over the data and then
//!   yields chunks `(x_chunk, y_chunk)` (`m × p` and `m` rows; `m` may vary, `p` may not).
//!   Several passes (epochs) need the stream to restart, so the source is a factory: any
//!   closure `FnMut() -> impl IntoIterator<Item = (DMatrix<f64>, DVector<f64>)>` is one
//!   (e.g. one that reopens a file, or re-seeds a generator). Only one chunk is alive at a
//!   time: the memory is `O(chunk·p + p)`, independent of the number of rows
//!   (`benches/streaming.rs` measures it).
//! * Every chunk is cut into mini-batches of the optimizer's
//!   [`MinibatchConfig::batch_size`](crate::solve::MinibatchConfig) rows, in an order shuffled
//!   within the chunk (seeded by the optimizer's `seed`; `None` makes the chunk one batch).
//!   Chunks arrive in the source's order, so the source should deliver them in random order
//!   (or the data should be i.i.d.): a stream sorted by `y` biases SGD.
//! * Each batch `B` is one optimizer step with the gradient estimate of
//!   [`crate::solve::minibatch`]: `s·(n/|B|)·Σ_{i∈B}∇nllᵢ` for the data, the prior coupled or
//!   decoupled as the optimizer says. This needs `n`, the number of rows of the whole stream:
//!   give it with [`StreamFit::n_rows`], or a first counting pass reads the stream once (only
//!   the shapes are used).
//! * With Polyak–Ruppert averaging
//!   ([`MinibatchConfig::average_from_epoch`](crate::solve::MinibatchConfig), counted in
//!   passes) the result is the average of the iterates from that pass on; with a decaying
//!   step (`LearningRate::InverseTime`) the average converges to the full-batch MAP.
//!
//! # Example
//! ```
//! use mapfit::solve::{LearningRate, PriorMode, Sgd};
//! use mapfit::stream::StreamFit;
//! use mapfit::{likelihood, prior};
//! use nalgebra::{DMatrix, DVector};
//! # fn main() -> mapfit::Result<()> {
//! // 10 chunks of 100 rows of y = 1 + 2x + noise, regenerated on every pass.
//! let chunks = || {
//!     (0..10).map(|c| {
//!         let x = DMatrix::from_fn(100, 1, |i, _| ((c * 100 + i) as f64 * 0.7).sin());
//!         let y = DVector::from_fn(100, |i, _| 1.0 + 2.0 * x[(i, 0)] + ((i * 7) % 5) as f64 * 0.01);
//!         (x, y)
//!     })
//! };
//! let sgd = Sgd::new(LearningRate::InverseTime { initial: 0.5, t0: 100.0 }, PriorMode::Coupled)
//!     .with_batch_size(20)?
//!     .with_averaging_from_epoch(2);
//! let fit = StreamFit::new(likelihood::Gaussian::default(), prior::Gaussian::new(10.0)?)
//!     .passes(10)
//!     .fit(chunks, sgd)?;
//! assert!((fit.coefficients()[0] - 2.0).abs() < 0.05);
//! assert_eq!(fit.n_rows(), 1000);
//! # Ok(()) }
//! ```

use crate::design::Design;
use crate::error::{Error, Result};
use crate::likelihood::Likelihood;
use crate::model::Rows;
use crate::prior::Prior;
use crate::solve::minibatch::glm_nll_gradient;
use crate::solve::{PriorMode, PriorTerm, StochasticOptimizer};
use nalgebra::{DMatrix, DVector};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

/// A restartable stream of row chunks `(x, y)`.
pub trait ChunkSource {
    /// The chunks of one pass.
    type Chunks: Iterator<Item = (DMatrix<f64>, DVector<f64>)>;
    /// Starts a pass over the data from its beginning (called once per pass).
    ///
    /// # Errors
    /// Whatever prevents the source from restarting (an unreadable file, …).
    fn open(&mut self) -> Result<Self::Chunks>;
}

impl<F, I> ChunkSource for F
where
    F: FnMut() -> I,
    I: IntoIterator<Item = (DMatrix<f64>, DVector<f64>)>,
{
    type Chunks = I::IntoIter;
    fn open(&mut self) -> Result<I::IntoIter> {
        Ok(self().into_iter())
    }
}

/// Builder of a streaming MAP fit (see the module docs).
#[derive(Debug, Clone)]
pub struct StreamFit<L, P> {
    likelihood: L,
    prior: P,
    intercept: bool,
    n_rows: Option<usize>,
    passes: u64,
    initial: Option<DVector<f64>>,
}

impl<L: Likelihood, P: Prior> StreamFit<L, P> {
    /// A fit with an (unpenalized) intercept, 10 passes, θ₀ = 0, and `n` counted by a first
    /// pass.
    pub fn new(likelihood: L, prior: P) -> Self {
        StreamFit {
            likelihood,
            prior,
            intercept: true,
            n_rows: None,
            passes: 10,
            initial: None,
        }
    }

    /// Fit an intercept (default `true`).
    pub fn intercept(mut self, yes: bool) -> Self {
        self.intercept = yes;
        self
    }

    /// The number of rows of one pass, if known (saves the counting pass; every pass is
    /// checked against it).
    pub fn n_rows(mut self, n: usize) -> Self {
        self.n_rows = Some(n);
        self
    }

    /// Number of passes over the stream (default 10).
    pub fn passes(mut self, passes: u64) -> Self {
        self.passes = passes;
        self
    }

    /// The starting point `θ₀ = (w, b)` (default 0).
    pub fn initial(mut self, theta0: DVector<f64>) -> Self {
        self.initial = Some(theta0);
        self
    }

    fn check_chunk(&self, x: &DMatrix<f64>, y: &DVector<f64>, p: &mut Option<usize>) -> Result<()> {
        let d = Design::new(x, y)?;
        self.likelihood.check_response(y.as_slice())?;
        match *p {
            None => {
                self.prior.check_dimension(d.p())?;
                *p = Some(d.p());
            }
            Some(q) if q != d.p() => {
                return Err(Error::DimensionMismatch {
                    what: "columns of a chunk",
                    expected: q,
                    found: d.p(),
                })
            }
            Some(_) => {}
        }
        Ok(())
    }

    /// Fits the MAP from `source` with `optimizer` (its schedule, prior mode, batch size,
    /// seed, loss scale and averaging; its `max_epochs` and `gradient_tolerance` are not
    /// used: [`StreamFit::passes`] sets the number of passes).
    ///
    /// # Errors
    /// An empty stream, a chunk with invalid data or a different number of columns, a pass
    /// whose number of rows differs from `n`, a coupled non-differentiable prior, or invalid
    /// optimizer settings.
    pub fn fit<S: ChunkSource, O: StochasticOptimizer>(
        &self,
        mut source: S,
        mut optimizer: O,
    ) -> Result<StreamOutcome> {
        let cfg = *optimizer.config();
        cfg.validate()?;
        if optimizer.prior_mode() == PriorMode::Coupled && !self.prior.is_smooth() {
            return Err(Error::Unsupported {
                what: format!(
                    "PriorMode::Coupled adds the prior's gradient, and {} is not \
                     differentiable; use PriorMode::Decoupled (a proximal step)",
                    self.prior.describe()
                ),
            });
        }
        let mut p: Option<usize> = None;
        let n = match self.n_rows {
            Some(n) => n,
            None => {
                let mut n = 0usize;
                for (x, y) in source.open()? {
                    self.check_chunk(&x, &y, &mut p)?;
                    n += x.nrows();
                }
                n
            }
        };
        if n == 0 {
            return Err(Error::EmptyData {
                what: "the stream has no rows",
            });
        }
        let s = cfg.loss_scale.factor(n);
        let mut rng = StdRng::seed_from_u64(cfg.seed);
        let mut theta: Option<DVector<f64>> = None;
        let mut average: Option<DVector<f64>> = None;
        let mut n_averaged = 0u64;
        let mut grad = DVector::zeros(0);
        let mut order: Vec<usize> = Vec::new();
        let mut pass_mean_nll = Vec::with_capacity(self.passes as usize);
        for pass in 0..self.passes {
            let mut rows = 0usize;
            let mut nll_sum = 0.0;
            for (x, y) in source.open()? {
                self.check_chunk(&x, &y, &mut p)?;
                let pp = x.ncols();
                let k = pp + usize::from(self.intercept);
                if theta.is_none() {
                    let t0 = match &self.initial {
                        Some(t0) if t0.len() != k => {
                            return Err(Error::DimensionMismatch {
                                what: "initial parameter vector",
                                expected: k,
                                found: t0.len(),
                            })
                        }
                        Some(t0) => t0.clone(),
                        None => DVector::zeros(k),
                    };
                    optimizer.reset(k)?;
                    grad = DVector::zeros(k);
                    theta = Some(t0);
                }
                let th = theta.as_mut().ok_or_else(|| {
                    Error::Solver("internal: streaming parameters not initialized".into())
                })?;
                let design = Design::new(&x, &y)?;
                let m = x.nrows();
                rows += m;
                order.clear();
                order.extend(0..m);
                order.shuffle(&mut rng);
                let b = cfg.batch_size.unwrap_or(m).clamp(1, m.max(1));
                let pen = PriorTerm::new(&self.prior, pp, s);
                for batch in order.chunks(b) {
                    let nll = glm_nll_gradient(
                        &design,
                        &self.likelihood,
                        self.intercept,
                        th.as_slice(),
                        Rows::Subset(batch),
                        grad.as_mut_slice(),
                    );
                    nll_sum += nll;
                    grad *= s * n as f64 / batch.len() as f64;
                    optimizer.step(th, &grad, &pen);
                    if cfg.average_from_epoch.is_some_and(|e| pass >= e) {
                        n_averaged += 1;
                        match average.as_mut() {
                            Some(a) => {
                                let w = 1.0 / n_averaged as f64;
                                a.axpy(w, th, 1.0 - w);
                            }
                            None => average = Some(th.clone()),
                        }
                    }
                }
            }
            if rows != n {
                return Err(Error::DimensionMismatch {
                    what: "rows in a pass of the stream (does the source restart?)",
                    expected: n,
                    found: rows,
                });
            }
            pass_mean_nll.push(nll_sum / n as f64);
        }
        let theta = theta.ok_or(Error::EmptyData {
            what: "no pass over the stream (passes = 0)",
        })?;
        let p = p.unwrap_or(theta.len());
        Ok(StreamOutcome {
            last: theta,
            average,
            p,
            intercept: self.intercept,
            n_rows: n,
            steps: optimizer.steps(),
            pass_mean_nll,
        })
    }
}

/// The result of a streaming fit.
#[derive(Debug, Clone)]
pub struct StreamOutcome {
    last: DVector<f64>,
    average: Option<DVector<f64>>,
    p: usize,
    intercept: bool,
    n_rows: usize,
    steps: u64,
    pass_mean_nll: Vec<f64>,
}

impl StreamOutcome {
    /// The estimate `θ = (w, b)`: the Polyak–Ruppert average when averaging was on, else the
    /// last iterate.
    pub fn theta(&self) -> &DVector<f64> {
        self.average.as_ref().unwrap_or(&self.last)
    }
    /// The last iterate.
    pub fn last_iterate(&self) -> &DVector<f64> {
        &self.last
    }
    /// The Polyak–Ruppert average, if averaging was on.
    pub fn averaged(&self) -> Option<&DVector<f64>> {
        self.average.as_ref()
    }
    /// The coefficients `w` of [`StreamOutcome::theta`].
    pub fn coefficients(&self) -> DVector<f64> {
        self.theta().rows(0, self.p).into_owned()
    }
    /// The intercept of [`StreamOutcome::theta`] (0 without one).
    pub fn intercept(&self) -> f64 {
        if self.intercept {
            self.theta()[self.p]
        } else {
            0.0
        }
    }
    /// Rows per pass, `n`.
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }
    /// Optimizer steps taken.
    pub fn steps(&self) -> u64 {
        self.steps
    }
    /// Per pass, the mean negative log-likelihood `(1/n)·Σᵢ nllᵢ` of each row evaluated at the
    /// iterate just before the step that used it (progressive validation: a cheap running
    /// estimate of the training loss).
    pub fn pass_mean_nll(&self) -> &[f64] {
        &self.pass_mean_nll
    }
}
