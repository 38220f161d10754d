//! K-fold cross-validation of a regularization path, as R's `cv.glmnet`.
//!
//! # Procedure
//! 1. The path is fitted on the full data; its grid (generated or given) is the grid of
//!    every fold, so that the folds' errors refer to the same λ values (glmnet does the
//!    same). Early stopping never applies to the folds. (A given grid without early
//!    stopping is known before any fit, and the full-data path is then fitted last: see
//!    Memory below.)
//! 2. Observations are assigned to `K` folds: from a seed (every fold gets `⌊n/K⌋` or
//!    `⌈n/K⌉` observations: the labels `i mod K` shuffled with `rand`'s `StdRng` seeded by
//!    the seed), or given by the user ([`CrossValidation::fold_ids`]).
//! 3. For each fold `k`, the path is fitted on the other folds (with their observation
//!    weights and offsets) and evaluated on fold `k`: the fold error `e_k(λ)` is the weighted
//!    mean of the per-observation loss ([`Metric`]: the deviance by default, the squared
//!    error for the Gaussian likelihood) with the observation weights (a plain mean without
//!    weights), or the fold's AUC. The folds are fitted in parallel
//!    (rayon); results are collected in fold order, so they are bit-identical for a seed
//!    whatever the number of threads.
//!
//!    Memory: a Gaussian fold is fitted as zero weights on the full `X` (its coordinate
//!    descent reads `X` in place in either mode) and evaluated from the full `X` by gathering
//!    64 columns of its held-out rows at a time, so the CV keeps no copy of `X`'s rows:
//!    beyond `X` it holds, per fold running, an engine of `O(n + p)` (plus its Gram columns,
//!    `O(p²)`, in covariance mode) and the fold's path (`p × L` coefficients). The GLM
//!    likelihoods' folds are fitted on copies of their training rows. With a given grid
//!    ([`Path::lambdas`], early stopping off) the full-data path is fitted after the folds,
//!    so it is not held while they run (else it is fitted first: it defines their grid).
//! 4. With `W_k` the sum of the weights in fold `k` (its size without weights):
//!    ```text
//!    cvm(λ)  = Σ_k W_k e_k(λ) / Σ_k W_k
//!    cvsd(λ) = sqrt( Σ_k W_k (e_k(λ) − cvm(λ))² / Σ_k W_k / (K − 1) )
//!    ```
//!    exactly as `cv.glmnet` (`cvcompute` and `cvstats` in R glmnet 4.1).
//! 5. `lambda_min` is the largest λ with the smallest `cvm`; `lambda_1se` the largest λ with
//!    `cvm ≤ cvm(lambda_min) + cvsd(lambda_min)`, so `lambda_1se ≥ lambda_min`. The fit at
//!    either is the full-data path's point at that λ ([`CvFit::coefficients_min`]).
//!
//! # Example
//! ```
//! use mapfit::{likelihood, CrossValidation, Path};
//! use nalgebra::{DMatrix, DVector};
//! # fn main() -> mapfit::Result<()> {
//! let x = DMatrix::from_fn(60, 5, |i, j| (((i + 1) * (j + 2) * 7919) % 101) as f64 / 50.0 - 1.0);
//! let y = DVector::from_fn(60, |i, _| 2.0 * x[(i, 0)] - x[(i, 3)] + (((i * 31) % 7) as f64 - 3.0) / 10.0);
//! let path = Path::new(likelihood::Gaussian::default(), 1.0).n_lambda(30);
//! let cv = CrossValidation::new(path).folds(5).seed(42).fit(&x, &y)?;
//! assert!(cv.lambda_1se() >= cv.lambda_min());
//! let (w, b) = cv.coefficients_1se();
//! println!("λ_1se = {}: w = {w}, b = {b}", cv.lambda_1se());
//! # Ok(()) }
//! ```

use crate::error::{Error, Result};
use crate::likelihood::{Gaussian, Likelihood};
use crate::path::{Path, PathFit};
use nalgebra::{DMatrix, DVector, DVectorView};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rayon::prelude::*;

mod metric;
pub use metric::Metric;

/// Builder of a K-fold cross-validation of a [`Path`] (module docs).
///
/// Defaults: 10 folds from seed 0, the deviance ([`Metric::Deviance`]: the squared error for
/// the Gaussian likelihood), rayon's global thread pool.
#[derive(Debug, Clone)]
pub struct CrossValidation<L = Gaussian> {
    path: Path<L>,
    n_folds: usize,
    seed: u64,
    fold_ids: Option<Vec<usize>>,
    metric: Metric,
    threads: Option<usize>,
}

impl<L: Likelihood> CrossValidation<L> {
    /// Cross-validates `path` (its options — mix, grid, standardization, weights, penalty
    /// factors, tolerances — apply to the full-data fit and to every fold).
    pub fn new(path: Path<L>) -> Self {
        CrossValidation {
            path,
            n_folds: 10,
            seed: 0,
            fold_ids: None,
            metric: Metric::Deviance,
            threads: None,
        }
    }

    /// Number of folds `K ≥ 2` for the seeded assignment (default 10; ignored with
    /// [`CrossValidation::fold_ids`]).
    pub fn folds(mut self, k: usize) -> Self {
        self.n_folds = k;
        self
    }

    /// Seed of the fold assignment (default 0). The same seed gives the same folds on every
    /// platform and thread count.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Fold of each observation, given by the user. If any id is 0 the ids are read as
    /// 0-based (`0..K`); otherwise as 1-based (`1..=K`, R's `foldid`). Every fold of the
    /// range must be non-empty, and `K ≥ 2`.
    pub fn fold_ids(mut self, ids: Vec<usize>) -> Self {
        self.fold_ids = Some(ids);
        self
    }

    /// The held-out error (default [`Metric::Deviance`]). The classification metrics
    /// ([`Metric::MisclassificationRate`], [`Metric::Auc`]) need the Bernoulli likelihood.
    pub fn metric(mut self, metric: Metric) -> Self {
        self.metric = metric;
        self
    }

    /// Fit the folds on a dedicated pool of `n` threads (`None`: rayon's global pool; 1:
    /// sequentially). Results do not depend on it.
    pub fn threads(mut self, n: Option<usize>) -> Self {
        self.threads = n;
        self
    }

    /// The 0-based fold of each of `n` observations and the number of folds.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for fewer than 2 folds, more folds than observations,
    /// or user ids with an empty fold; [`Error::DimensionMismatch`] for user ids of the
    /// wrong length.
    pub fn assignment(&self, n: usize) -> Result<(Vec<usize>, usize)> {
        match &self.fold_ids {
            Some(ids) => {
                if ids.len() != n {
                    return Err(Error::DimensionMismatch {
                        what: "fold ids",
                        expected: n,
                        found: ids.len(),
                    });
                }
                let base = usize::from(!ids.contains(&0));
                let k = ids.iter().copied().max().unwrap_or(0) + 1 - base;
                if k < 2 {
                    return Err(Error::InvalidParameter {
                        name: "number of folds",
                        value: k as f64,
                        reason: "fold ids must name at least 2 folds",
                    });
                }
                let ids: Vec<usize> = ids.iter().map(|&i| i - base).collect();
                let mut count = vec![0usize; k];
                for &i in &ids {
                    count[i] += 1;
                }
                if let Some(empty) = count.iter().position(|&c| c == 0) {
                    return Err(Error::InvalidParameter {
                        name: "fold id",
                        value: (empty + base) as f64,
                        reason: "fold ids must cover every fold of their range (this one is empty)",
                    });
                }
                Ok((ids, k))
            }
            None => {
                let k = self.n_folds;
                if k < 2 || k > n {
                    return Err(Error::InvalidParameter {
                        name: "number of folds",
                        value: k as f64,
                        reason: "must be at least 2 and at most the number of observations",
                    });
                }
                let mut ids: Vec<usize> = (0..n).map(|i| i % k).collect();
                ids.shuffle(&mut StdRng::seed_from_u64(self.seed));
                Ok((ids, k))
            }
        }
    }

    /// Runs the cross-validation.
    ///
    /// # Errors
    /// Everything [`Path::fit`] returns (for the full data or a fold), invalid folds
    /// ([`CrossValidation::assignment`]), [`Error::InvalidWeights`] for a fold whose weights
    /// sum to zero, [`Error::Solver`] if the thread pool cannot be built.
    pub fn fit(&self, x: &DMatrix<f64>, y: &DVector<f64>) -> Result<CvFit> {
        let (n, p) = x.shape();
        if y.len() != n {
            return Err(Error::DimensionMismatch {
                what: "y",
                expected: n,
                found: y.len(),
            });
        }
        let (ids, k) = self.assignment(n)?;
        self.metric.check(self.path.likelihood())?;
        // The full-data path is fitted first when it defines the folds' grid; with a fixed
        // grid it is fitted after the folds, so that a fold's path (p × L coefficients) and
        // the full path are never held at once.
        let (first, lambdas) = match self.path.fixed_grid() {
            Some(grid) => (None, grid),
            None => {
                let full = self.path.fit(x, y)?;
                let lambdas = full.lambdas().to_vec();
                (Some(full), lambdas)
            }
        };
        let fold_path = self
            .path
            .clone()
            .without_observer()
            .lambdas(lambdas.clone())
            .early_stop(false);
        let weights: Option<&DVector<f64>> = self.path.weights_ref();
        let offset: Option<&DVector<f64>> = self.path.offset_ref();
        let metric = self.metric;
        let likelihood = self.path.likelihood();
        let run_fold = |f: usize| -> Result<(Vec<f64>, f64)> {
            let train: Vec<usize> = (0..n).filter(|&i| ids[i] != f).collect();
            let test: Vec<usize> = (0..n).filter(|&i| ids[i] == f).collect();
            let mut fp = fold_path.clone();
            let fit = if fold_path.fits_rows_in_place() {
                // The fold as zero weights on the full data: no copy of its rows.
                let v = DVector::from_fn(n, |i, _| {
                    if ids[i] == f {
                        0.0
                    } else {
                        weights.map_or(1.0, |w| w[i])
                    }
                });
                fp.fold_in_place(v).fit(x, y)?
            } else {
                let xt = DMatrix::from_fn(train.len(), p, |i, j| x[(train[i], j)]);
                let yt = DVector::from_fn(train.len(), |i, _| y[train[i]]);
                fp.set_weights(weights.map(|w| DVector::from_fn(train.len(), |i, _| w[train[i]])));
                fp.set_offset(offset.map(|o| DVector::from_fn(train.len(), |i, _| o[train[i]])));
                fp.fit(&xt, &yt)?
            };
            let mut eta = fit.predict_rows_all(x, &test);
            if let Some(o) = offset {
                for mut c in eta.column_iter_mut() {
                    for (t, &i) in test.iter().enumerate() {
                        c[t] += o[i];
                    }
                }
            }
            let yv: Vec<f64> = test.iter().map(|&i| y[i]).collect();
            let wv: Vec<f64> = test
                .iter()
                .map(|&i| weights.map_or(1.0, |w| w[i]))
                .collect();
            let wsum: f64 = wv.iter().sum();
            if wsum <= 0.0 {
                return Err(Error::InvalidWeights {
                    reason: format!("the weights of fold {f} (0-based) sum to zero"),
                });
            }
            let errs = eta
                .column_iter()
                .take(fit.len())
                .map(|c| metric.fold_value(likelihood, &yv, &wv, wsum, c.as_slice()))
                .collect::<Result<Vec<f64>>>()?;
            Ok((errs, wsum))
        };
        let results: Vec<Result<(Vec<f64>, f64)>> = match self.threads {
            Some(1) => (0..k).map(run_fold).collect(),
            Some(t) => rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .map_err(|e| Error::Solver(format!("cannot build the thread pool: {e}")))?
                .install(|| (0..k).into_par_iter().map(run_fold).collect()),
            None => (0..k).into_par_iter().map(run_fold).collect(),
        };
        let full = match first {
            Some(full) => full,
            None => self.path.fit(x, y)?,
        };
        if full.lambdas() != lambdas.as_slice() {
            return Err(Error::Solver(
                "cross-validation: the full-data path's grid differs from the folds' grid".into(),
            ));
        }
        let n_lambda = lambdas.len();
        let mut fold_errors = DMatrix::<f64>::zeros(k, n_lambda);
        let mut fold_weights = Vec::with_capacity(k);
        for (f, r) in results.into_iter().enumerate() {
            let (errs, wsum) = r?;
            for (l, e) in errs.into_iter().enumerate() {
                fold_errors[(f, l)] = e;
            }
            fold_weights.push(wsum);
        }
        let wtot: f64 = fold_weights.iter().sum();
        let mut cvm = Vec::with_capacity(n_lambda);
        let mut cvsd = Vec::with_capacity(n_lambda);
        for l in 0..n_lambda {
            let errs: Vec<f64> = (0..k).map(|f| fold_errors[(f, l)]).collect();
            if let Some(f) = errs.iter().position(|e| e.is_nan()) {
                return Err(Error::Solver(format!(
                    "cross-validation: the held-out {} of fold {f} at λ = {} is NaN",
                    metric.name(),
                    lambdas[l]
                )));
            }
            let (m, sd) = weighted_mean_and_se(&errs, &fold_weights, wtot);
            cvm.push(m);
            cvsd.push(sd);
        }
        // With a higher-is-better metric (AUC) the same rules apply to −cvm.
        let sign = if metric.higher_is_better() { -1.0 } else { 1.0 };
        let best = cvm.iter().map(|&c| sign * c).fold(f64::INFINITY, f64::min);
        let index_min = cvm.iter().position(|&c| sign * c <= best).unwrap_or(0);
        let bound = sign * cvm[index_min] + cvsd[index_min];
        let index_1se = cvm
            .iter()
            .position(|&c| sign * c <= bound)
            .unwrap_or(index_min);
        Ok(CvFit {
            path: full,
            lambdas,
            cvm,
            cvsd,
            fold_errors,
            fold_weights,
            fold_ids: ids,
            n_folds: k,
            metric,
            index_min,
            index_1se,
        })
    }
}

/// Result of a cross-validation: the CV curve, the chosen λ values and the full-data path.
#[derive(Debug, Clone)]
pub struct CvFit {
    path: PathFit,
    lambdas: Vec<f64>,
    cvm: Vec<f64>,
    cvsd: Vec<f64>,
    fold_errors: DMatrix<f64>,
    fold_weights: Vec<f64>,
    fold_ids: Vec<usize>,
    n_folds: usize,
    metric: Metric,
    index_min: usize,
    index_1se: usize,
}

impl CvFit {
    /// The full-data path (its grid is the CV grid).
    pub fn path(&self) -> &PathFit {
        &self.path
    }
    /// The λ grid (decreasing).
    pub fn lambdas(&self) -> &[f64] {
        &self.lambdas
    }
    /// Mean CV error per λ (`cvm`).
    pub fn cvm(&self) -> &[f64] {
        &self.cvm
    }
    /// Standard error of `cvm` per λ (`cvsd`, module docs).
    pub fn cvsd(&self) -> &[f64] {
        &self.cvsd
    }
    /// `cvm + cvsd` per λ (`cvup`).
    pub fn cvup(&self) -> Vec<f64> {
        self.cvm
            .iter()
            .zip(&self.cvsd)
            .map(|(m, s)| m + s)
            .collect()
    }
    /// `cvm − cvsd` per λ (`cvlo`).
    pub fn cvlo(&self) -> Vec<f64> {
        self.cvm
            .iter()
            .zip(&self.cvsd)
            .map(|(m, s)| m - s)
            .collect()
    }
    /// Per-fold errors, `K × len` (row `k` is fold `k`, 0-based).
    pub fn fold_errors(&self) -> &DMatrix<f64> {
        &self.fold_errors
    }
    /// Sum of the observation weights in each fold.
    pub fn fold_weights(&self) -> &[f64] {
        &self.fold_weights
    }
    /// The 0-based fold of each observation.
    pub fn fold_ids(&self) -> &[usize] {
        &self.fold_ids
    }
    /// Number of folds.
    pub fn n_folds(&self) -> usize {
        self.n_folds
    }
    /// The metric.
    pub fn metric(&self) -> Metric {
        self.metric
    }
    /// Index of `lambda_min` in the grid.
    pub fn index_min(&self) -> usize {
        self.index_min
    }
    /// Index of `lambda_1se` in the grid.
    pub fn index_1se(&self) -> usize {
        self.index_1se
    }
    /// The largest λ with the smallest mean CV error (the largest AUC for [`Metric::Auc`]).
    pub fn lambda_min(&self) -> f64 {
        self.lambdas[self.index_min]
    }
    /// The largest λ whose mean CV error is within one standard error of the minimum (of the
    /// maximum for [`Metric::Auc`]).
    pub fn lambda_1se(&self) -> f64 {
        self.lambdas[self.index_1se]
    }
    /// Coefficients (original scale) and intercept of the full-data fit at `lambda_min`.
    pub fn coefficients_min(&self) -> (DVectorView<'_, f64>, f64) {
        (
            self.path.coefficients(self.index_min),
            self.path.intercept(self.index_min),
        )
    }
    /// Coefficients (original scale) and intercept of the full-data fit at `lambda_1se`.
    pub fn coefficients_1se(&self) -> (DVectorView<'_, f64>, f64) {
        (
            self.path.coefficients(self.index_1se),
            self.path.intercept(self.index_1se),
        )
    }
}

/// `(cvm, cvsd)` of one λ from the fold errors `e_k` and fold weights `W_k` (module docs).
/// The deviations are divided by the largest before squaring, so that representable fold
/// errors give a representable standard error (1e300 squared would overflow); a fold error of
/// +∞ (a held-out prediction whose square overflows) gives `cvm = cvsd = +∞`, not NaN.
fn weighted_mean_and_se(errs: &[f64], weights: &[f64], wtot: f64) -> (f64, f64) {
    let k = errs.len() as f64;
    let m = errs.iter().zip(weights).map(|(e, w)| w * e).sum::<f64>() / wtot;
    if !m.is_finite() {
        return (m, f64::INFINITY);
    }
    let scale = errs.iter().fold(0.0f64, |a, e| a.max((e - m).abs()));
    if scale == 0.0 || !scale.is_finite() {
        return (m, if scale == 0.0 { 0.0 } else { f64::INFINITY });
    }
    let v = errs
        .iter()
        .zip(weights)
        .map(|(e, w)| w * ((e - m) / scale).powi(2))
        .sum::<f64>()
        / wtot;
    (m, scale * (v / (k - 1.0)).sqrt())
}
