//! Regularization paths: the MAP along a decreasing grid of penalty weights λ, warm-started,
//! with the sequential strong rule, under a Gaussian, Laplace or elastic-net prior, for every
//! likelihood: coordinate descent for the Gaussian (glmnet's `family = "gaussian"`, below),
//! proximal Newton for the others (Bernoulli = `"binomial"`, Poisson = `"poisson"`, a user's
//! family: see [`glm`] — the objective is `−loglik/n + λ·pen`, glmnet's
//! `lambda` as it is).
//!
//! # Objective (Gaussian likelihood)
//! At each λ of the grid, [`Path::fit`] minimizes mapfit's documented path objective
//! ```text
//! (1/2n)·Σᵢ vᵢ(yᵢ − xᵢᵀw − b)² + λ·Σ_j f_j·[ (1−m)/2·w̃_j² + m·|w̃_j| ]
//! ```
//! with `n = Σᵢ vᵢ` (the sum of the observation weights, the number of rows without
//! weights), `m` the elastic-net mix (glmnet's `alpha`, scikit-learn's `l1_ratio`), `f_j` the
//! penalty factors (1 unless set; 0 leaves `w_j` unpenalized) and `w̃_j = s_j·w_j` the
//! coefficient on the standardized scale (`s_j` the weighted population standard deviation
//! of column j when [`Path::standardize`] is on, the default, else 1). The intercept `b` is
//! never penalized. Coefficients are always reported on the original scale of `X`.
//!
//! This is exactly the objective glmnet documents, and what glmnet computes for the lasso
//! (`m = 1`). For `m < 1` glmnet divides the L2 part by the standard deviation of `y`
//! (see [`crate::compat::glmnet_gaussian`]); [`from_glmnet_gaussian`] converts glmnet's
//! `(lambda, alpha)` into this objective's `(λ, m)`, and [`Path::glmnet_lambda`] makes a
//! path take glmnet's `(lambda, alpha)` directly (converting through that one function).
//!
//! # The Bayesian reading
//! With the Gaussian likelihood of noise variance σ², each grid point is the MAP under the
//! elastic-net prior whose Laplace scale `b` and Gaussian scale `τ` satisfy
//! `λ·m = σ²/(n·b)` and `λ·(1−m) = σ²/(n·τ²)` (per coefficient `b/f_j`, `τ/√f_j`, on the
//! standardized scale when standardizing): [`PathFit::laplace_scale`],
//! [`PathFit::gaussian_scale`].
//!
//! # Algorithm
//! One [`CdEngine`] is reused along the grid (warm starts); at each λ the sequential strong
//! rule ([`CdEngine::screen`]) chooses the working set and argmin's `Executor` runs
//! [`CoordinateDescent`] on it. Every discarded coordinate is checked against the KKT
//! conditions before a point is accepted, and every point must reach both the relative
//! duality-gap and the relative KKT tolerance (else [`Error::NotConverged`], unless
//! [`Path::allow_unconverged`]). Covariance updates are used when `n ≥ 2p` (and `p ≤ 3000`),
//! naive updates otherwise ([`Path::covariance_updates`] overrides).
//!
//! # Example
//! ```
//! use mapfit::{likelihood, Path};
//! use nalgebra::{DMatrix, DVector};
//! # fn main() -> mapfit::Result<()> {
//! let x = DMatrix::from_fn(50, 4, |i, j| ((i * (j + 3)) % 7) as f64 - 3.0 + 0.1 * j as f64);
//! let y = DVector::from_fn(50, |i, _| x[(i, 0)] - 0.5 * x[(i, 2)] + ((i * 13) % 5) as f64 * 0.3);
//! let path = Path::new(likelihood::Gaussian::default(), 1.0).n_lambda(20).fit(&x, &y)?;
//! assert_eq!(path.df()[0], 0); // λ_max: every coefficient is zero
//! assert!(path.converged());
//! let k = path.len() - 1; // the last point (glmnet's early stop may shorten the grid)
//! println!(
//!     "λ = {}: w = {}, b = {}, Laplace scale {:?}",
//!     path.lambda(k),
//!     path.coefficients(k),
//!     path.intercept(k),
//!     path.laplace_scale(k)
//! );
//! # Ok(()) }
//! ```

use crate::convergence::{Convergence, Measure};
use crate::design::Design;
use crate::error::{Error, Result};
use crate::likelihood::{Gaussian, Likelihood};
use crate::objective::MapProblem;
use crate::prior::{ElasticNet, Prior};
use crate::solve::coordinate::{CdEngine, CoordinateDescent, DEFAULT_GAP_TOL, DEFAULT_KKT_TOL};
use argmin::core::{Executor, State};
use nalgebra::{DMatrix, DVector, DVectorView};
use std::fmt;
use std::sync::Arc;

pub mod glm;

/// glmnet's fraction-of-deviance-explained change below which a generated path stops
/// (`glmnet.control(fdev)`).
pub const EARLY_STOP_DEV_CHANGE: f64 = 1e-5;
/// glmnet's fraction of deviance explained above which a generated path stops
/// (`glmnet.control(devmax)`).
pub const EARLY_STOP_DEV_MAX: f64 = 0.999;
/// Fewest grid points fitted before the early stop may apply (`glmnet.control(mnlam)`).
pub const EARLY_STOP_MIN_POINTS: usize = 5;
/// Relative margin added to λ_max when some coefficients are unpenalized: their
/// least-squares fit, on whose residual λ_max is computed, is exact to rounding only.
pub const UNPENALIZED_LAMBDA_MAX_MARGIN: f64 = 1e-13;
/// The mix used to compute λ_max when `m = 0` (ridge), as glmnet does.
pub const RIDGE_LAMBDA_MAX_MIX: f64 = 1e-3;

/// Converts R glmnet's Gaussian-family `(lambda, alpha)` into the `(λ, m)` of mapfit's path
/// objective (module docs).
///
/// glmnet (family = "gaussian") minimizes
/// `(1/2n)‖y − a₀ − Xb‖² + lambda·[alpha‖b‖₁ + (1−alpha)/2·‖b‖²/s_y]`, with `s_y` the
/// (weighted) population standard deviation of `y` — about its weighted mean with an
/// intercept, about 0 without one — because it scales `y` to unit variance internally and
/// does not scale the L2 part back. Matching both parts,
/// ```text
/// λ·m = lambda·alpha,   λ·(1−m) = lambda·(1−alpha)/s_y
/// λ = lambda·(alpha + (1−alpha)/s_y),   m = lambda·alpha/λ.
/// ```
/// `m` does not depend on `lambda`, so a glmnet path at one `alpha` is a mapfit path at one
/// mix. The lasso (`alpha = 1`) maps to itself.
///
/// # Errors
/// `lambda` or `y_sd` not finite and > 0, `alpha` outside `[0, 1]`.
///
/// ```
/// use mapfit::path::from_glmnet_gaussian;
/// # fn main() -> mapfit::Result<()> {
/// assert_eq!(from_glmnet_gaussian(0.3, 1.0, 77.0)?, (0.3, 1.0));
/// let (lambda, mix) = from_glmnet_gaussian(2.0, 0.5, 4.0)?;
/// assert!((lambda * mix - 1.0).abs() < 1e-15); // L1 part: 2·0.5
/// assert!((lambda * (1.0 - mix) - 0.25).abs() < 1e-15); // L2 part: 2·0.5/4
/// # Ok(()) }
/// ```
pub fn from_glmnet_gaussian(lambda: f64, alpha: f64, y_sd: f64) -> Result<(f64, f64)> {
    let lambda = crate::error::check_positive("glmnet lambda", lambda)?;
    let y_sd = crate::error::check_positive("population sd of y", y_sd)?;
    check_mix("glmnet alpha (elastic-net mix)", alpha)?;
    let l = lambda * (alpha + (1.0 - alpha) / y_sd);
    let m = if alpha == 1.0 {
        1.0
    } else {
        (lambda * alpha / l).min(1.0)
    };
    Ok((l, m))
}

fn check_mix(name: &'static str, m: f64) -> Result<()> {
    if (0.0..=1.0).contains(&m) {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            name,
            value: m,
            reason: "must be in [0, 1]",
        })
    }
}

/// A progress callback: called after each grid point with `(k, n_lambda)`, `k` the 0-based
/// index of the point just fitted and `n_lambda` the length of the grid.
#[derive(Clone)]
pub struct Observer(Arc<dyn Fn(usize, usize) + Send + Sync>);

impl fmt::Debug for Observer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Observer(..)")
    }
}

/// Builder of a regularization path (module docs for the objective).
///
/// Defaults (glmnet's): 100 λ log-spaced from λ_max down to `lambda_min_ratio·λ_max`
/// (1e-4 when `n ≥ p`, 1e-2 otherwise), standardization and an intercept on, early stopping
/// on for generated grids, strong rules on, relative duality-gap tolerance 1e-12 and
/// relative KKT tolerance 1e-11 at every λ.
#[derive(Debug, Clone)]
pub struct Path<L = Gaussian> {
    likelihood: L,
    mix: f64,
    n_lambda: usize,
    lambda_min_ratio: Option<f64>,
    lambdas: Option<Vec<f64>>,
    standardize: bool,
    intercept: bool,
    weights: Option<DVector<f64>>,
    offset: Option<DVector<f64>>,
    penalty_factors: Option<Vec<f64>>,
    early_stop: Option<bool>,
    gap_tol: f64,
    kkt_tol: f64,
    max_iters: u64,
    allow_unconverged: bool,
    screening: bool,
    covariance: Option<bool>,
    glmnet_lambda: bool,
    observer: Option<Observer>,
    /// Never copy `X` (`Some(true)`; cross-validation's folds), copy where it is faster
    /// (`Some(false)`), or copy only what is small (`None`): [`Path::low_memory`].
    low_memory: Option<bool>,
}

impl<L: Likelihood> Path<L> {
    /// A path for `likelihood` (any: coordinate descent for the Gaussian, proximal Newton for
    /// the others) with elastic-net mix `mix ∈ [0, 1]` (glmnet's `alpha`): 1 is the lasso (Laplace prior), 0
    /// ridge (Gaussian prior).
    pub fn new(likelihood: L, mix: f64) -> Self {
        Path {
            likelihood,
            mix,
            n_lambda: 100,
            lambda_min_ratio: None,
            lambdas: None,
            standardize: true,
            intercept: true,
            weights: None,
            offset: None,
            penalty_factors: None,
            early_stop: None,
            gap_tol: DEFAULT_GAP_TOL,
            kkt_tol: DEFAULT_KKT_TOL,
            max_iters: 100_000,
            allow_unconverged: false,
            screening: true,
            covariance: None,
            glmnet_lambda: false,
            observer: None,
            low_memory: None,
        }
    }

    /// Length of the generated grid (default 100; ignored with [`Path::lambdas`]).
    pub fn n_lambda(mut self, n: usize) -> Self {
        self.n_lambda = n;
        self
    }

    /// Smallest λ of the generated grid as a fraction of λ_max, in `(0, 1)`. `None` (the
    /// default) is glmnet's: 1e-4 when `n ≥ p`, 1e-2 otherwise (`n` rows, `p` columns).
    pub fn lambda_min_ratio(mut self, ratio: Option<f64>) -> Self {
        self.lambda_min_ratio = ratio;
        self
    }

    /// A user grid instead of the generated one. The values must be finite and > 0; they are
    /// **sorted into decreasing order** (warm starts go from strong to weak penalties), so
    /// the fit's [`PathFit::lambdas`] may list them in another order than given. A user grid
    /// is fitted in full: early stopping is off unless [`Path::early_stop`] turns it on.
    pub fn lambdas(mut self, lambdas: Vec<f64>) -> Self {
        self.lambdas = Some(lambdas);
        self
    }

    /// glmnet's `standardize` (default `true`): the penalty applies to the coefficients of
    /// the columns scaled to unit (weighted, population) standard deviation; coefficients
    /// are reported on the original scale.
    pub fn standardize(mut self, yes: bool) -> Self {
        self.standardize = yes;
        self
    }

    /// Fit an unpenalized intercept (default `true`).
    pub fn intercept(mut self, yes: bool) -> Self {
        self.intercept = yes;
        self
    }

    /// Observation weights (finite, ≥ 0, not all 0; validated at `fit`). `n` in the
    /// objective is their sum.
    pub fn weights(mut self, weights: DVector<f64>) -> Self {
        self.weights = Some(weights);
        self
    }

    /// An offset added to the linear predictor, `η = offset + Xw + b` (finite; validated at
    /// `fit`): the log exposure `ln t` of a Poisson rate model, a fixed part of the model
    /// for any family. Predictions from the fit ([`PathFit::predict`]) do not include it.
    pub fn offset(mut self, offset: DVector<f64>) -> Self {
        self.offset = Some(offset);
        self
    }

    /// Per-coefficient penalty factors `f_j ≥ 0` (glmnet's `penalty.factor`; 0 leaves a
    /// coefficient unpenalized). Unlike glmnet, mapfit does not rescale them to sum to `p`:
    /// to reproduce glmnet, multiply them by `p/Σf` yourself.
    pub fn penalty_factors(mut self, factors: Vec<f64>) -> Self {
        self.penalty_factors = Some(factors);
        self
    }

    /// glmnet's early stop: after at least [`EARLY_STOP_MIN_POINTS`] points, stop the path
    /// once the fraction of deviance explained changed by less than
    /// [`EARLY_STOP_DEV_CHANGE`] (relative to its value) from the previous point, or exceeds
    /// [`EARLY_STOP_DEV_MAX`]. The point that triggers it is kept; the fit's grid is then
    /// shorter than requested ([`PathFit::stopped_early`]). Default: on for generated grids,
    /// off for user grids (as glmnet).
    pub fn early_stop(mut self, yes: bool) -> Self {
        self.early_stop = Some(yes);
        self
    }

    /// Relative duality-gap tolerance (gap / null objective) that every point must reach;
    /// the KKT tolerance is set to the same value (see [`Path::kkt_tolerance`]). Default
    /// 1e-12. Validated at `fit` (finite and > 0).
    pub fn tolerance(mut self, tol: f64) -> Self {
        self.gap_tol = tol;
        self.kkt_tol = tol;
        self
    }

    /// Relative KKT tolerance (largest violation / `max_j |x̃_jᵀỹ|`) that every point must
    /// reach. Default 1e-11.
    pub fn kkt_tolerance(mut self, tol: f64) -> Self {
        self.kkt_tol = tol;
        self
    }

    /// Outer coordinate-descent iterations allowed per point (argmin `max_iters`, default
    /// 100 000).
    pub fn max_iters(mut self, n: u64) -> Self {
        self.max_iters = n;
        self
    }

    /// Keep points that missed a tolerance (flagged in their [`Convergence`]) instead of
    /// returning [`Error::NotConverged`].
    pub fn allow_unconverged(mut self, yes: bool) -> Self {
        self.allow_unconverged = yes;
        self
    }

    /// The sequential strong rule (default on). Off, every coordinate is swept at every λ —
    /// slower, and useful to test the rule.
    pub fn screening(mut self, yes: bool) -> Self {
        self.screening = yes;
        self
    }

    /// Forces covariance (`true`) or naive (`false`) coordinate updates (default: covariance
    /// when `n ≥ 2p` and `p ≤ 3000`; on a GLM path each proximal-Newton subproblem chooses by
    /// the sweeps of the one before it, see [`crate::solve::ProximalNewton`]).
    pub fn covariance_updates(mut self, yes: bool) -> Self {
        self.covariance = Some(yes);
        self
    }

    /// Read λ and the mix as R glmnet's Gaussian-family `lambda` and `alpha`: each point is
    /// converted with [`from_glmnet_gaussian`], using the standard deviation of the `y`
    /// being fitted (so a cross-validation fold uses its own, as glmnet's does). Identical to
    /// the default for the lasso. Default `false`.
    pub fn glmnet_lambda(mut self, yes: bool) -> Self {
        self.glmnet_lambda = yes;
        self
    }

    /// A progress callback, called after each point with `(k, n_lambda)` (`k` 0-based).
    pub fn observer(mut self, f: impl Fn(usize, usize) + Send + Sync + 'static) -> Self {
        self.observer = Some(Observer(Arc::new(f)));
        self
    }

    pub(crate) fn without_observer(mut self) -> Self {
        self.observer = None;
        self
    }

    /// Whether a cross-validation fold can be given as zero weights on the full `X` instead
    /// of a copy of its rows: the Gaussian family, whose engine then reads `X` in place in
    /// either mode ([`Path::fold_in_place`]). Its products sum over the fold's zero rows too,
    /// `K/(K−1)` times the flops: the tall 10-fold CV (covariance mode) measured 7–12 %
    /// slower than with row copies, for a seventh of the memory. The GLM paths evaluate `η`
    /// over every row at each step and keep their row copies.
    pub(crate) fn fits_rows_in_place(&self) -> bool {
        self.likelihood.gaussian_noise_variance().is_some()
    }

    /// This path for a cross-validation fold given as zero `weights` on the full `X`: the
    /// engine reads `X` in place in naive mode too ([`CdEngine::new_in_place`]).
    pub(crate) fn fold_in_place(mut self, weights: DVector<f64>) -> Self {
        self.weights = Some(weights);
        self.low_memory = Some(true);
        self
    }

    /// With `true`, the fit never copies `X`: coordinate descent with observation weights
    /// in naive mode reads `X` in place, the weights applied per element
    /// ([`CdEngine::new_in_place`]), and the GLM paths' proximal-Newton subproblems read their
    /// working columns in place instead of a copy of them with the IRLS weights applied (up
    /// to the size of `X`;
    /// [`ProximalNewton::with_x_in_place`](crate::solve::ProximalNewton::with_x_in_place)).
    /// The extra memory is then `O(n + p)` (plus `O(p²)` Gram columns in covariance mode and
    /// the returned path). In place, the residual is held in the weighted domain, `√v∘r`, so
    /// that a coordinate's product reads the column and the residual only, as on a copy, and
    /// only the updates that move read the weights as well. With `false`, those two places
    /// store the weighted copy, faster when it fits in cache. By default a copy of at most
    /// 1 MiB is stored and a larger one is not: on the benchmark GLM paths of 5000 rows
    /// (copies up to 4 MiB) the fit's extra memory is 1.58 / 1.49 MiB against 7.94 / 4.13
    /// with `false` (0.62 / 0.51 with `true`), in the same time within the noise (in place
    /// throughout measured 3–8 % longer in one run), and the 569-row one runs on its copy
    /// (docs/benchmarks.md). The ways agree to the solvers'
    /// tolerance, not bit for bit (their products round differently). Unweighted Gaussian
    /// paths never copy `X`.
    pub fn low_memory(mut self, yes: bool) -> Self {
        self.low_memory = Some(yes);
        self
    }

    pub(crate) fn weights_ref(&self) -> Option<&DVector<f64>> {
        self.weights.as_ref()
    }

    pub(crate) fn set_weights(&mut self, w: Option<DVector<f64>>) {
        self.weights = w;
    }

    pub(crate) fn offset_ref(&self) -> Option<&DVector<f64>> {
        self.offset.as_ref()
    }

    pub(crate) fn set_offset(&mut self, o: Option<DVector<f64>>) {
        self.offset = o;
    }

    /// The likelihood.
    pub fn likelihood(&self) -> &L {
        &self.likelihood
    }

    /// The elastic-net mix.
    pub fn mix(&self) -> f64 {
        self.mix
    }

    fn validate(&self) -> Result<()> {
        check_mix("elastic-net mix", self.mix)?;
        crate::error::check_positive("gap tolerance", self.gap_tol)?;
        crate::error::check_positive("KKT tolerance", self.kkt_tol)?;
        if let Some(r) = self.lambda_min_ratio {
            if !(r > 0.0 && r < 1.0) {
                return Err(Error::InvalidParameter {
                    name: "lambda_min_ratio",
                    value: r,
                    reason: "must be in (0, 1)",
                });
            }
        }
        match &self.lambdas {
            Some(l) if l.is_empty() => {
                return Err(Error::EmptyData {
                    what: "the lambda grid",
                })
            }
            Some(l) => {
                for &v in l {
                    crate::error::check_positive("lambda", v)?;
                }
            }
            None if self.n_lambda == 0 => {
                return Err(Error::InvalidParameter {
                    name: "n_lambda",
                    value: 0.0,
                    reason: "must be at least 1",
                })
            }
            None => {}
        }
        if self.max_iters == 0 {
            return Err(Error::InvalidParameter {
                name: "max_iters",
                value: 0.0,
                reason: "must be at least 1",
            });
        }
        Ok(())
    }

    fn factors(&self, p: usize) -> Result<Vec<f64>> {
        let f = match &self.penalty_factors {
            None => return Ok(vec![1.0; p]),
            Some(f) => f,
        };
        if f.len() != p {
            return Err(Error::DimensionMismatch {
                what: "penalty factors",
                expected: p,
                found: f.len(),
            });
        }
        if let Some(&bad) = f.iter().find(|a| !(a.is_finite() && **a >= 0.0)) {
            return Err(Error::InvalidParameter {
                name: "penalty factor",
                value: bad,
                reason: "must be finite and >= 0",
            });
        }
        if f.iter().all(|&a| a == 0.0) {
            return Err(Error::InvalidParameter {
                name: "penalty factors",
                value: 0.0,
                reason: "at least one must be > 0 (nothing would be penalized)",
            });
        }
        Ok(f.clone())
    }

    /// Fits the path to `x` (n × p) and `y` (length n).
    ///
    /// # Errors
    /// Invalid data ([`Error::DimensionMismatch`], [`Error::EmptyData`], [`Error::NonFinite`],
    /// [`Error::InvalidWeights`]); an invalid option ([`Error::InvalidParameter`]);
    /// [`Error::InvalidResponse`] for `y` outside the likelihood's support; [`Error::NoMode`]
    /// when the null model (intercept and unpenalized coefficients) has no mode (one class
    /// only, all counts zero);
    /// [`Error::InvalidParameter`] when λ_max is 0 (a response orthogonal to every penalized
    /// column) and the grid must be generated from it; [`Error::NotConverged`] if a point
    /// misses its tolerance (unless [`Path::allow_unconverged`]).
    pub fn fit(&self, x: &DMatrix<f64>, y: &DVector<f64>) -> Result<PathFit> {
        let sigma2 = match self.likelihood.gaussian_noise_variance() {
            Some(s2) => s2,
            None => return self.fit_glm(x, y),
        };
        self.validate()?;
        let mut design = Design::new(x, y)?;
        if let Some(w) = &self.weights {
            design = design.with_weights(w)?;
        }
        if let Some(o) = &self.offset {
            design = design.with_offset(o)?;
        }
        self.likelihood.check_response(y.as_slice())?;
        let (n, p) = (design.n(), design.p());
        let factors = self.factors(p)?;
        let sw = design.weight_sum();
        let scales = if self.standardize {
            Some(design.column_scales(self.intercept))
        } else {
            None
        };
        // (Without weights both constructors read X in place.)
        let in_place = self
            .low_memory
            .unwrap_or_else(|| !crate::solve::coordinate::weighted_copy_pays(n, p));
        let new_engine = if in_place {
            CdEngine::new_in_place
        } else {
            CdEngine::new
        };
        let mut engine = new_engine(
            &design,
            self.intercept,
            scales.as_ref().map(|s| s.as_slice()),
            self.covariance,
        );
        let y_sd = if self.glmnet_lambda {
            Some(response_sd(&design, self.intercept))
        } else {
            None
        };
        // Penalty of the documented objective, (λ·m, λ·(1−m)), for a grid value.
        let mean_weights = |lambda: f64| -> Result<(f64, f64)> {
            let (l, m) = match y_sd {
                Some(s) if s > 0.0 => from_glmnet_gaussian(lambda, self.mix, s)?,
                _ => (lambda, self.mix),
            };
            Ok((l * m, l * (1.0 - m)))
        };
        // Engine weights exactly as the prior → set_penalty route computes them.
        let rates = |lm: (f64, f64)| (sw * lm.0 / sigma2, sw * lm.1 / sigma2);
        let engine_l1 = |rate: f64, out: &mut Vec<f64>| {
            out.clear();
            out.extend(factors.iter().map(|&f| sigma2 * (f * rate)));
        };

        let g0 = self.null_fit(&mut engine, &factors)?;
        let lambda_max = {
            let m_eff = if self.mix > 0.0 {
                self.mix
            } else {
                RIDGE_LAMBDA_MAX_MIX
            };
            let mut lmax = 0.0f64;
            for j in 0..p {
                if factors[j] > 0.0 {
                    lmax = lmax.max(g0[j].abs() / (sw * m_eff * factors[j]));
                }
            }
            if self.mix == 0.0 && !self.glmnet_lambda {
                // glmnet's ridge grid is computed on y scaled to unit variance and its L2 part
                // is not scaled back (compat::glmnet_gaussian): in this objective's units its
                // penalties are 1/s_y of its reported λ. Dividing by s_y makes the automatic
                // ridge grid cover the same effective penalties as glmnet's.
                let s_y = response_sd(&design, self.intercept);
                if s_y > 0.0 && s_y.is_finite() {
                    lmax /= s_y;
                }
            }
            if self.mix > 0.0 && lmax > 0.0 {
                // Round up until every penalized coordinate is certainly zero at λ_max.
                let mut l1 = Vec::with_capacity(p);
                for _ in 0..64 {
                    engine_l1(rates(mean_weights(lmax)?).0, &mut l1);
                    let ok = (0..p).all(|j| factors[j] == 0.0 || g0[j].abs() <= l1[j]);
                    if ok {
                        break;
                    }
                    lmax = lmax.next_up();
                }
                if factors.contains(&0.0) {
                    // The unpenalized part is a least-squares fit known to rounding only.
                    lmax *= 1.0 + UNPENALIZED_LAMBDA_MAX_MARGIN;
                }
            }
            lmax
        };

        let mut grid = self.grid(lambda_max, n, p)?;
        let early_stop = self.early_stop.unwrap_or(self.lambdas.is_none());
        let n_grid = grid.len();

        let null_deviance = engine.null_deviance();
        let mut coefficients = DMatrix::<f64>::zeros(p, n_grid);
        let mut intercepts = Vec::with_capacity(n_grid);
        let mut df = Vec::with_capacity(n_grid);
        let mut dev_ratio = Vec::with_capacity(n_grid);
        let mut convergence = Vec::with_capacity(n_grid);
        let mut relative_kkt = Vec::with_capacity(n_grid);
        let mut penalty = Vec::with_capacity(n_grid);
        let mut stopped_early = false;

        let mut l1_prev = Vec::with_capacity(p);
        engine_l1(
            rates(mean_weights(
                grid[0].max(lambda_max).max(f64::MIN_POSITIVE),
            )?)
            .0,
            &mut l1_prev,
        );
        let mut engine = Some(engine);
        for k in 0..n_grid {
            let lm = mean_weights(grid[k])?;
            let (rate, precision) = rates(lm);
            let prior =
                ElasticNet::with_weights(rate, precision)?.with_penalty_factors(factors.clone())?;
            let mut eng = engine
                .take()
                .ok_or_else(|| Error::Solver("regularization path: the engine was lost".into()))?;
            if let Some(pen) = prior.elastic(p) {
                eng.set_penalty(&pen, sigma2);
            }
            eng.screen(if self.screening { Some(&l1_prev) } else { None });
            l1_prev.clear();
            l1_prev.extend_from_slice(eng.l1());
            let problem = MapProblem::new(design, self.likelihood.clone(), prior, self.intercept)?;
            let solver = CoordinateDescent::new()
                .with_engine(eng)
                .with_gap_tolerance(self.gap_tol)?
                .with_kkt_tolerance(self.kkt_tol)?;
            let max_iters = self.max_iters;
            let res = Executor::new(problem, solver)
                .configure(|s| s.max_iters(max_iters))
                .ctrlc(false)
                .timer(false)
                .run()?;
            let iterations = res.state.get_iter();
            let conv = res.solver.convergence(iterations);
            let check = res.solver.last_check();
            let eng = res
                .solver
                .into_engine()
                .ok_or_else(|| Error::Solver("coordinate descent returned no engine".into()))?;
            let rel_kkt = check.map_or(f64::INFINITY, |c| c.rel_kkt);
            if !conv.converged && !self.allow_unconverged {
                // The measure missed: the gap, or the KKT conditions once the gap is met.
                return Err(Error::NotConverged {
                    solver: "coordinate descent (regularization path)",
                    iterations,
                    measure: conv.measure,
                    achieved: conv.value,
                    tolerance: conv.tolerance,
                });
            }
            let b = eng.coefficients_into(coefficients.column_mut(k).as_mut_slice());
            intercepts.push(b);
            df.push(coefficients.column(k).iter().filter(|&&a| a != 0.0).count());
            let dr = if null_deviance > 0.0 {
                1.0 - eng.residual_sum_of_squares() / null_deviance
            } else {
                0.0
            };
            dev_ratio.push(dr);
            convergence.push(Convergence {
                kkt_violation: conv.kkt_violation / sigma2,
                ..conv
            });
            relative_kkt.push(rel_kkt);
            penalty.push(lm);
            engine = Some(eng);
            if let Some(obs) = &self.observer {
                (obs.0)(k, n_grid);
            }
            if early_stop && stops_early(&dev_ratio, n_grid, true) {
                stopped_early = true;
                grid.truncate(k + 1);
                break;
            }
        }
        let fitted = grid.len();
        let coefficients = if fitted < n_grid {
            coefficients.columns(0, fitted).into_owned()
        } else {
            coefficients
        };
        let (sweeps, checks, covariance_updates, updates, violations) =
            engine.as_ref().map_or((0, 0, false, 0, 0), |e| {
                (
                    e.sweeps(),
                    e.checks(),
                    e.uses_covariance(),
                    e.coordinate_updates(),
                    e.strong_rule_violations(),
                )
            });
        Ok(PathFit {
            lambdas: grid,
            mix: self.mix,
            lambda_max,
            glmnet_lambda: self.glmnet_lambda,
            penalty,
            coefficients,
            intercepts,
            df,
            dev_ratio,
            null_deviance,
            convergence,
            relative_kkt,
            gap_tolerance: self.gap_tol,
            kkt_tolerance: self.kkt_tol,
            weight_sum: sw,
            sigma2,
            noise_variance: Some(sigma2),
            has_intercept: self.intercept,
            standardized: self.standardize,
            stopped_early,
            covariance_updates,
            sweeps,
            checks,
            updates,
            violations,
            family: self.likelihood.name(),
            inverse_link: {
                let lik = self.likelihood.clone();
                InverseLink::new(move |eta| lik.mean(eta))
            },
        })
    }

    /// The grid a fit will use when it does not depend on the data: the given λ in
    /// decreasing order, with early stopping off (the default for a given grid), so that
    /// every point is fitted or the fit fails. `None` when the grid comes from `λ_max` or may
    /// be cut short.
    pub(crate) fn fixed_grid(&self) -> Option<Vec<f64>> {
        if self.early_stop == Some(true) {
            return None;
        }
        self.lambdas.as_deref().map(decreasing)
    }

    /// The grid of the fit: the user's values sorted into decreasing order, or `n_lambda`
    /// values log-spaced from `lambda_max` down to `lambda_min_ratio·lambda_max`.
    fn grid(&self, lambda_max: f64, n: usize, p: usize) -> Result<Vec<f64>> {
        Ok(match &self.lambdas {
            Some(l) => decreasing(l),
            None => {
                if !(lambda_max > 0.0 && lambda_max.is_finite()) {
                    return Err(Error::InvalidParameter {
                        name: "lambda_max",
                        value: lambda_max,
                        reason: "the response is orthogonal to every penalized column (constant \
                             y?); give a lambda grid",
                    });
                }
                let ratio = self
                    .lambda_min_ratio
                    .unwrap_or(if n >= p { 1e-4 } else { 1e-2 });
                let k = self.n_lambda;
                if k == 1 {
                    vec![lambda_max]
                } else {
                    let step = ratio.ln() / (k - 1) as f64;
                    (0..k)
                        .map(|i| {
                            if i == 0 {
                                lambda_max
                            } else {
                                lambda_max * (step * i as f64).exp()
                            }
                        })
                        .collect()
                }
            }
        })
    }

    /// Fits the unpenalized coordinates (penalty factor 0) with every penalized one held at
    /// zero and returns `X̃ᵀr` there: the numerator of λ_max. Without unpenalized
    /// coordinates this is `X̃ᵀỹ`.
    fn null_fit(&self, engine: &mut CdEngine, factors: &[f64]) -> Result<Vec<f64>> {
        if factors.iter().all(|&f| f > 0.0) {
            return Ok(engine.null_gradient().to_vec());
        }
        let p = factors.len();
        let l1: Vec<f64> = factors
            .iter()
            .map(|&f| if f > 0.0 { f64::MAX } else { 0.0 })
            .collect();
        engine.set_weights(&l1, &vec![0.0; p]);
        engine.screen(None);
        if engine.threshold() == 0.0 {
            let null = engine.null_objective().max(f64::MIN_POSITIVE);
            engine.set_threshold(null * (1e-2 * self.gap_tol).min(1e-14));
        }
        // Polished well beyond the tolerances (λ_max is read off this gradient), accepting
        // the requested tolerances when rounding prevents the polish.
        let (mut converged, check, iterations) = engine.solve(
            self.gap_tol.min(1e-15),
            self.kkt_tol.min(1e-15),
            self.max_iters.min(1000),
        );
        if !converged {
            if let Some(c) = check {
                converged = c.strong_violations == 0
                    && c.rel_gap <= self.gap_tol
                    && c.rel_kkt <= self.kkt_tol;
            }
        }
        if !converged && !self.allow_unconverged {
            return Err(Error::NotConverged {
                solver: "coordinate descent (unpenalized part of the null model)",
                iterations,
                measure: Measure::RelativeKkt,
                achieved: check.map_or(f64::INFINITY, |c| c.rel_kkt),
                tolerance: self.kkt_tol,
            });
        }
        Ok(engine.gradient().to_vec())
    }
}

/// glmnet's early stop after the last point of `dev_ratio` (of a grid of `n_grid` points):
/// at least [`EARLY_STOP_MIN_POINTS`] points fitted, not the last one, and the fraction of
/// deviance explained exceeds [`EARLY_STOP_DEV_MAX`] or changed from the previous point by
/// less than [`EARLY_STOP_DEV_CHANGE`] — of its value for the Gaussian family (`relative`),
/// in absolute terms for the others, as glmnet's Fortran (`elnet` vs `lognet`/`fishnet`).
fn stops_early(dev_ratio: &[f64], n_grid: usize, relative: bool) -> bool {
    let k = dev_ratio.len();
    if k < EARLY_STOP_MIN_POINTS.max(2) || k >= n_grid {
        return false;
    }
    let (dr, prev) = (dev_ratio[k - 1], dev_ratio[k - 2]);
    let change = if relative {
        EARLY_STOP_DEV_CHANGE * dr
    } else {
        EARLY_STOP_DEV_CHANGE
    };
    dr - prev < change || dr > EARLY_STOP_DEV_MAX
}

/// Weighted population standard deviation of `y` (about its weighted mean with an intercept,
/// about 0 without), as glmnet scales `y`.
fn response_sd(design: &Design<'_>, intercept: bool) -> f64 {
    let sw = design.weight_sum();
    let y = design.y();
    let mean = if intercept {
        (0..design.n())
            .map(|i| design.weight(i) * y[i])
            .sum::<f64>()
            / sw
    } else {
        0.0
    };
    let ss: f64 = (0..design.n())
        .map(|i| design.weight(i) * (y[i] - mean).powi(2))
        .sum();
    (ss / sw).sqrt()
}

/// A fitted regularization path: one MAP per grid point, in grid order (decreasing λ).
#[derive(Debug, Clone)]
pub struct PathFit {
    lambdas: Vec<f64>,
    mix: f64,
    lambda_max: f64,
    glmnet_lambda: bool,
    penalty: Vec<(f64, f64)>,
    coefficients: DMatrix<f64>,
    intercepts: Vec<f64>,
    df: Vec<usize>,
    dev_ratio: Vec<f64>,
    null_deviance: f64,
    convergence: Vec<Convergence>,
    relative_kkt: Vec<f64>,
    gap_tolerance: f64,
    kkt_tolerance: f64,
    weight_sum: f64,
    sigma2: f64,
    noise_variance: Option<f64>,
    has_intercept: bool,
    standardized: bool,
    stopped_early: bool,
    covariance_updates: bool,
    sweeps: u64,
    checks: u64,
    updates: u64,
    violations: u64,
    family: &'static str,
    inverse_link: InverseLink,
}

/// The likelihood's inverse link `η ↦ E[y | η]`, kept by a fit for predictions of the mean.
#[derive(Clone)]
pub(crate) struct InverseLink(Arc<dyn Fn(f64) -> f64 + Send + Sync>);

impl InverseLink {
    pub(crate) fn new(f: impl Fn(f64) -> f64 + Send + Sync + 'static) -> Self {
        InverseLink(Arc::new(f))
    }
    #[inline]
    pub(crate) fn apply(&self, eta: f64) -> f64 {
        (self.0)(eta)
    }
}

impl fmt::Debug for InverseLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InverseLink(..)")
    }
}

impl PathFit {
    /// The likelihood's name (`"Gaussian"`, `"Bernoulli"`, `"Poisson"`, …).
    pub fn family(&self) -> &'static str {
        self.family
    }

    /// Predicted means `E[y | x] = g⁻¹(xᵀw + b)` of point `k` for new rows (probabilities for
    /// the Bernoulli likelihood, rates for the Poisson; the offset is not included: add it to
    /// [`PathFit::predict`] and apply the inverse link yourself).
    ///
    /// # Errors
    /// As [`PathFit::predict`].
    pub fn predict_mean(&self, x: &DMatrix<f64>, k: usize) -> Result<DVector<f64>> {
        Ok(self.predict(x, k)?.map(|e| self.inverse_link.apply(e)))
    }

    /// Number of fitted points.
    pub fn len(&self) -> usize {
        self.lambdas.len()
    }
    /// Whether no point was fitted (never the case for a successful fit).
    pub fn is_empty(&self) -> bool {
        self.lambdas.is_empty()
    }
    /// The grid (decreasing), in the units requested (glmnet's with [`Path::glmnet_lambda`]).
    pub fn lambdas(&self) -> &[f64] {
        &self.lambdas
    }
    /// λ of point `k`.
    pub fn lambda(&self, k: usize) -> f64 {
        self.lambdas[k]
    }
    /// The elastic-net mix the path was built with.
    pub fn mix(&self) -> f64 {
        self.mix
    }
    /// Whether λ and the mix are glmnet's ([`Path::glmnet_lambda`]).
    pub fn glmnet_lambda(&self) -> bool {
        self.glmnet_lambda
    }
    /// λ_max: the smallest λ at which every penalized coefficient is zero,
    /// `max_{f_j>0} |x̃_jᵀr₀|/(n·m·f_j)` with `r₀` the residual of the least-squares fit of
    /// the unpenalized coefficients (`ỹ` when there are none), rounded up to the next float
    /// where needed so that every penalized coefficient is exactly zero at λ_max (and up by
    /// [`UNPENALIZED_LAMBDA_MAX_MARGIN`] relative when some coefficients are unpenalized).
    /// For `m = 0` (no such λ) glmnet's convention is used: the same formula with
    /// `m = 0.001` ([`RIDGE_LAMBDA_MAX_MIX`]), divided by the standard deviation of `y`
    /// (unless [`Path::glmnet_lambda`]) so that the grid spans the same effective ridge
    /// penalties as glmnet's, whose L2 part carries `1/s_y`.
    pub fn lambda_max(&self) -> f64 {
        self.lambda_max
    }
    /// The `(L1, L2)` weights `(λ·m, λ·(1−m))` of point `k` in mapfit's path objective
    /// (after the glmnet conversion when λ is glmnet's).
    pub fn penalty_weights(&self, k: usize) -> (f64, f64) {
        self.penalty[k]
    }
    /// All coefficients on the original scale, `p × len()` (column `k` is point `k`).
    pub fn coefficient_matrix(&self) -> &DMatrix<f64> {
        &self.coefficients
    }
    /// Coefficients of point `k` on the original scale.
    pub fn coefficients(&self, k: usize) -> DVectorView<'_, f64> {
        self.coefficients.column(k)
    }
    /// Intercept of point `k` (0 without an intercept).
    pub fn intercept(&self, k: usize) -> f64 {
        self.intercepts[k]
    }
    /// Intercepts of every point.
    pub fn intercepts(&self) -> &[f64] {
        &self.intercepts
    }
    /// Number of non-zero coefficients at each point.
    pub fn df(&self) -> &[usize] {
        &self.df
    }
    /// Fraction of (weighted) deviance explained at each point, `1 − dev/nulldev` (glmnet's
    /// `dev.ratio`).
    pub fn dev_ratio(&self) -> &[f64] {
        &self.dev_ratio
    }
    /// The null deviance: the weighted residual sum of squares of the intercept-only model
    /// (of the zero model without an intercept).
    pub fn null_deviance(&self) -> f64 {
        self.null_deviance
    }
    /// The convergence record of point `k`: relative duality gap (`value`, against
    /// `tolerance`), absolute KKT violation in the units of the negative log posterior's
    /// gradient on the working (standardized) coordinates, outer iterations.
    pub fn convergence(&self, k: usize) -> &Convergence {
        &self.convergence[k]
    }
    /// The convergence records of every point.
    pub fn convergences(&self) -> &[Convergence] {
        &self.convergence
    }
    /// Relative KKT violation of each point (largest violation / `max_j |x̃_jᵀỹ|`).
    pub fn relative_kkt(&self) -> &[f64] {
        &self.relative_kkt
    }
    /// The relative duality-gap tolerance every point was held to.
    pub fn gap_tolerance(&self) -> f64 {
        self.gap_tolerance
    }
    /// The relative KKT tolerance every point was held to.
    pub fn kkt_tolerance(&self) -> f64 {
        self.kkt_tolerance
    }
    /// Whether every point reached both tolerances.
    pub fn converged(&self) -> bool {
        self.convergence.iter().all(|c| c.converged)
    }
    /// `n`: the sum of the observation weights.
    pub fn weight_sum(&self) -> f64 {
        self.weight_sum
    }
    /// Scale `b` of the Laplace prior equivalent to point `k`, `σ²/(n·λ·m)` (`None` for
    /// `m = 0`). It applies to the standardized coefficients when standardizing, and is
    /// `b/f_j` for a coefficient with penalty factor `f_j`.
    pub fn laplace_scale(&self, k: usize) -> Option<f64> {
        let l1 = self.penalty[k].0;
        (l1 > 0.0).then(|| self.sigma2 / (self.weight_sum * l1))
    }
    /// Scale (standard deviation) `τ` of the Gaussian prior equivalent to point `k`,
    /// `√(σ²/(n·λ·(1−m)))` (`None` for `m = 1`); `τ/√f_j` with penalty factors.
    pub fn gaussian_scale(&self, k: usize) -> Option<f64> {
        let l2 = self.penalty[k].1;
        (l2 > 0.0).then(|| (self.sigma2 / (self.weight_sum * l2)).sqrt())
    }
    /// Whether an intercept was fitted.
    pub fn has_intercept(&self) -> bool {
        self.has_intercept
    }
    /// Whether the columns were standardized.
    pub fn standardized(&self) -> bool {
        self.standardized
    }
    /// Whether glmnet's early stop shortened the grid.
    pub fn stopped_early(&self) -> bool {
        self.stopped_early
    }
    /// Whether covariance updates were used (on a GLM path: by at least one proximal-Newton
    /// subproblem, which choose step by step unless [`Path::covariance_updates`] forces them).
    pub fn uses_covariance(&self) -> bool {
        self.covariance_updates
    }
    /// Coordinate sweeps over the whole path.
    pub fn sweeps(&self) -> u64 {
        self.sweeps
    }
    /// Convergence checks (full gradient passes) over the whole path.
    pub fn checks(&self) -> u64 {
        self.checks
    }
    /// Coordinate updates over the whole path.
    pub fn coordinate_updates(&self) -> u64 {
        self.updates
    }
    /// Coordinates the strong rule discarded that the KKT check then added back, over the
    /// whole path (0 without screening).
    pub fn strong_rule_violations(&self) -> u64 {
        self.violations
    }

    /// The linear predictor `Xw + b` of point `k` for new rows (without any offset; for the
    /// Gaussian likelihood this is the prediction, see [`PathFit::predict_mean`] for the
    /// others).
    ///
    /// # Errors
    /// Wrong number of columns, non-finite entries, `k` out of range.
    pub fn predict(&self, x: &DMatrix<f64>, k: usize) -> Result<DVector<f64>> {
        if x.ncols() != self.coefficients.nrows() {
            return Err(Error::DimensionMismatch {
                what: "columns of x",
                expected: self.coefficients.nrows(),
                found: x.ncols(),
            });
        }
        check_point_index(k, self.len())?;
        crate::design::linear_predictor(
            x,
            &self.coefficients.column(k).into_owned(),
            self.intercepts[k],
        )
    }

    /// The Gaussian noise variance σ² of the fitted likelihood (`None` for the others).
    pub fn noise_variance(&self) -> Option<f64> {
        self.noise_variance
    }

    /// Predictions of every point on the rows `rows` of `x`, `rows.len() × len()`, without
    /// validation (cross-validation's held-out fold). The rows are not copied out of `x`:
    /// [`PREDICT_COLUMN_BLOCK`] columns at a time are gathered into a `rows.len()`-row buffer
    /// and multiplied by those coefficient rows (blocks whose coefficients are all 0 are
    /// skipped), so the extra memory is `O(|rows|)`, not `|rows|·p`.
    pub(crate) fn predict_rows_all(&self, x: &DMatrix<f64>, rows: &[usize]) -> DMatrix<f64> {
        let (m, p) = (rows.len(), x.ncols());
        let l = self.coefficients.ncols();
        let mut out = DMatrix::zeros(m, l);
        let mut buf = DMatrix::zeros(m, PREDICT_COLUMN_BLOCK.min(p));
        for j0 in (0..p).step_by(PREDICT_COLUMN_BLOCK) {
            let width = PREDICT_COLUMN_BLOCK.min(p - j0);
            let coef = self.coefficients.rows(j0, width);
            if coef.iter().all(|&c| c == 0.0) {
                continue;
            }
            for c in 0..width {
                let col = x.column(j0 + c);
                for (t, &i) in rows.iter().enumerate() {
                    buf[(t, c)] = col[i];
                }
            }
            crate::linalg::gemm(&mut out, 1.0, &buf.columns(0, width), &coef, 1.0);
        }
        for (mut c, &b) in out.column_iter_mut().zip(&self.intercepts) {
            c.add_scalar_mut(b);
        }
        out
    }
}

/// Columns of `X` gathered per block by [`PathFit::predict_rows_all`].
const PREDICT_COLUMN_BLOCK: usize = 64;

/// `Ok` when `k` indexes one of a path's `len` points; an early-stopped path has fewer points
/// than its grid, so an index past the end is an invalid parameter, not a size mismatch.
pub(crate) fn check_point_index(k: usize, len: usize) -> Result<()> {
    if k >= len {
        return Err(Error::InvalidParameter {
            name: "path index",
            value: k as f64,
            reason: "must be below the number of points of the path (len(); a path that stops \
                     early has fewer points than its grid)",
        });
    }
    Ok(())
}

/// A copy of `l` sorted in decreasing order (the order of every path's grid).
fn decreasing(l: &[f64]) -> Vec<f64> {
    let mut l = l.to_vec();
    l.sort_by(|a, b| b.total_cmp(a));
    l
}
