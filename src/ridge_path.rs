//! Ridge regression along a whole grid of penalty weights λ from one factorization: the
//! Gaussian-prior MAP at every λ for the price of about one ridge fit.
//!
//! # Objective
//! At each λ of the grid, [`RidgePath::fit`] returns the exact minimizer of
//! ```text
//! (1/2n)·Σᵢ vᵢ(yᵢ − xᵢᵀw − b)² + (λ/2)·Σ_j (s_j·w_j)²
//! ```
//! with `n = Σᵢ vᵢ` (the number of rows without observation weights), `s_j` the weighted
//! population standard deviation of column j when [`RidgePath::standardize`] is on (the
//! default; `s_j = 1` otherwise) and `b` an unpenalized intercept ([`RidgePath::intercept`]).
//! This is [`crate::Path`]'s objective at mix `m = 0`, i.e. R glmnet's `alpha = 0` **without**
//! glmnet's division of the L2 part by the standard deviation of `y` (see
//! [`crate::path::from_glmnet_gaussian`] and docs/conventions.md: glmnet's ridge `lambda` is
//! this λ times `s_y`). Coefficients are reported on the original scale of `X`.
//!
//! With the Gaussian likelihood of noise variance σ² each point is the MAP under the prior
//! `s_j·w_j ~ N(0, τ²)` with `λ = σ²/(n·τ²)` ([`RidgePathFit::gaussian_scale`]).
//!
//! # Reduction to one symmetric problem
//! Centering removes the intercept: with the weighted means `x̄`, `ȳ`, the scaled, centered
//! and weighted data `X̃ᵢⱼ = √vᵢ·(xᵢⱼ − x̄_j)/s_j`, `ỹᵢ = √vᵢ·(yᵢ − ȳ)` and `u = s∘w`, the
//! objective is `(1/2n)‖ỹ − X̃u‖² + (λ/2)‖u‖²`, whose minimizer solves the normal equations
//! ```text
//! (X̃ᵀX̃ + nλ·I)·u = X̃ᵀỹ                                  (Gram form, p × p)
//! u = X̃ᵀ·(X̃X̃ᵀ + nλ·I)⁻¹·ỹ                                (kernel form, n × n; push-through)
//! ```
//! and then `w_j = u_j/s_j`, `b = ȳ − x̄ᵀw`. Both forms solve `(A + σI)z = r` with one
//! symmetric positive semi-definite `A` (`X̃ᵀX̃` or `X̃X̃ᵀ`, of order `m = p` or `n`) and many
//! shifts `σ = nλ`.
//!
//! # One factorization for the whole grid
//! `A` is reduced once to tridiagonal form by Householder reflections, `A = Q·T·Qᵀ` (`Q`
//! orthogonal, `T` symmetric tridiagonal: the first half of a symmetric eigendecomposition,
//! about `(4/3)m³` flops; forming `Q` would cost `(4/3)m³` more, and it is never formed).
//! From `m ≥ 256` the reduction works in panels of 32 reflectors, as LAPACK's `dsytrd`
//! does: the rank-2 updates of a panel are applied to the trailing triangle at once by
//! matrix products, so half of the flops run as matrix–matrix work (9–19 % faster at
//! m = 400–800; below 256 the one-step-at-a-time loop is as fast). Then, for every λ,
//! ```text
//! (A + σI)⁻¹·r = Q·(T + σI)⁻¹·(Qᵀr)
//! ```
//! and `T + σI` is tridiagonal and positive definite, so each λ costs one `O(m)` LDLᵀ
//! solve (eight λ at a time, their pivot recurrences interleaved: one alone waits on each
//! division in turn); the `m × L` solutions are mapped back by `Q·Z` (and, in the kernel
//! form, one `X̃ᵀ·(QZ)`): up to `m = 32`, `Q` is formed (`(2/3)m³` flops) and each group of
//! eight solutions is multiplied by it while still in the solver's registers; above, `Q`
//! is applied to all of `Z` in compact WY blocks by matrix products (on the 442 × 10
//! diabetes set the first takes a 100-λ path from 31.5 to 25 µs, against 14 µs for one λ).
//! From `m²·L ≥ 2¹⁸` the solves and `Q·Z` run as two halves of the grid on rayon's pool,
//! each column computed the same way either way. The
//! eigenvalues are never needed: the QR iterations of a full eigendecomposition (another
//! ~`6m³` flops with eigenvectors) would only diagonalize `T`, which the tridiagonal solve
//! does not require. The effective degrees of freedom come from
//! the same LDLᵀ pivots: with forward pivots `δ⁺ᵢ` and backward pivots `δ⁻ᵢ` of `T + σI`,
//! `[(T + σI)⁻¹]ᵢᵢ = 1/(δ⁺ᵢ + δ⁻ᵢ − Tᵢᵢ − σ)`, and
//! ```text
//! df(λ) = tr(X̃(X̃ᵀX̃ + σI)⁻¹X̃ᵀ) = Σ_k μ_k/(μ_k + σ) = m − σ·tr((T + σI)⁻¹)
//! ```
//! (`μ_k` the eigenvalues of `A`), equal to [`crate::closed_form::effective_degrees_of_freedom`]
//! of `X̃` at `nλ`.
//!
//! A grid of a single λ skips the reduction: one Cholesky factorization of `A + σI`
//! ([`Factorization::GramCholesky`], [`Factorization::KernelCholesky`]).
//!
//! # Without the degrees of freedom: one Krylov basis
//! All the systems share one right-hand side `r` (`X̃ᵀỹ` or `ỹ`), and the Krylov space
//! `span{r, Ar, A²r, …}` does not depend on the shift. With
//! [`RidgePath::degrees_of_freedom`]`(false)` and `m ≥ 128`, a grid is first solved from an
//! orthonormal basis of that space built by Lanczos steps with full reorthogonalization
//! (each step one product `A·q` and Gram–Schmidt twice against the basis; `T_j = Q_jᵀAQ_j`
//! tridiagonal): `z(σ) = Q_j·(T_j + σI)⁻¹·‖r‖e₁`, whose residual norm
//! `β_j·|e_jᵀ(T_j + σI)⁻¹‖r‖e₁|` is known at every step. The basis grows until every
//! shift's residual is at the level of rounding, `≤ ε·(‖T_j‖ + σ)·‖z(σ)‖` — on the
//! benchmark sets after 29 (500 × 5000) and 41 (20000 × 500) steps of 500 — and then the
//! true residuals of the smallest and largest shift are recomputed from `A` as a check.
//! The budget is `m/3` steps (about the reduction's flops); an ill-conditioned grid
//! (a tiny smallest λ against a spread spectrum), whose measured rate of convergence shows
//! the budget will not do, or a failed check falls back to the tridiagonal reduction
//! ([`Factorization::GramLanczos`] / [`Factorization::KernelLanczos`] tell which ran).
//! The effective degrees of freedom need the whole spectrum, not one Krylov space, so
//! asking for them (the default) always takes the reduction.
//!
//! # Which form ([`Decomposition`])
//! * [`Decomposition::Gram`] (automatic when `n ≥ p`): `A = X̃ᵀX̃` costs `n·p²` flops (one
//!   pass over `X` in cache-blocked matrix products, only the upper block triangle computed),
//!   then `O(p³)`: for `n ≫ p` far cheaper than a thin SVD of `X̃` (`~4np²` flops in
//!   vector-at-a-time Householder steps, plus the SVD's own iterations).
//! * [`Decomposition::Kernel`] (automatic when `n < p`): `A = X̃X̃ᵀ`, `n²·p` flops, then
//!   `O(n³)`, and one product `X̃ᵀ·(QZ)` of `n·p·L` flops for all λ at once.
//! * [`Decomposition::Svd`]: one thin SVD `X̃ = U·diag(d)·Vᵀ` (nalgebra's) and
//!   `u(λ) = V·diag(d_k/(d_k² + nλ))·Uᵀỹ`. Several times slower, and it needs a copy of `X̃`,
//!   but it never forms `X̃ᵀX̃`: the only choice that stays accurate when `nλ` is below about
//!   `1e-8·‖X̃‖²` (the Gram and kernel forms square the condition number of `X̃`; their error is
//!   about `ε·(‖X̃‖² + nλ)/(d_min² + nλ)` relative, as for any normal-equations solver).
//!
//! # Memory
//! Without weights, centering and scaling (`intercept(false)`, `standardize(false)`) `X` is
//! read in place. Otherwise `X̃` is formed one block of rows (Gram form) or columns (kernel
//! form) at a time, about 4 MiB each. On top of `X` a fit holds `A` and `Q` (`2m²` numbers;
//! the Krylov route at most `m²/3` for its basis instead of `Q`),
//! the block, and the `p × L` coefficients it returns; the SVD form holds a full copy of
//! `X̃` and its factors.
//!
//! # Example
//! ```
//! use mapfit::ridge_path::RidgePath;
//! use nalgebra::{DMatrix, DVector};
//! # fn main() -> mapfit::Result<()> {
//! let x = DMatrix::from_fn(40, 3, |i, j| ((i * (j + 2)) % 7) as f64 + 0.5 * j as f64);
//! let y = DVector::from_fn(40, |i, _| 1.0 + x[(i, 0)] - 2.0 * x[(i, 2)] + ((i % 5) as f64) * 0.1);
//! let path = RidgePath::new().n_lambda(50).fit(&x, &y)?;
//! assert_eq!(path.len(), 50);
//! // The last (smallest) λ: the solution of the penalized normal equations on the
//! // standardized, centered data.
//! let k = path.len() - 1;
//! println!("λ = {}: w = {}, b = {}", path.lambda(k), path.coefficients(k), path.intercept(k));
//! // Effective degrees of freedom grow from ~0 towards p = 3 as λ decreases.
//! let df = path.effective_df().expect("computed by default");
//! assert!(df[0] < df[k] && df[k] < 3.0);
//! # Ok(()) }
//! ```

mod lanczos;

use crate::design::Design;
use crate::error::{check_positive, Error, Result};
use crate::linalg::{add_gram, gemm, mirror_upper, Strided};
use crate::path::RIDGE_LAMBDA_MAX_MIX;
use crate::solve::coordinate::dot;
use nalgebra::linalg::SVD;
use nalgebra::{DMatrix, DMatrixViewMut, DVector, DVectorView};

/// Target size, in f64 values, of one block of the centered/scaled copy of `X` (4 MiB).
const BLOCK_VALUES: usize = 1 << 19;
/// Householder reflectors applied together (compact WY) when mapping the solutions back.
const WY_BLOCK: usize = 32;
/// Order up to which `Q` is formed ([`Tridiagonal::q_rows`]) and applied to the solutions as
/// they are computed, a group of shifts at a time ([`tridiagonal_solve`]); above it, `Q` in
/// compact WY blocks.
const EXPLICIT_Q_MAX: usize = 32;

/// Which symmetric problem a [`RidgePath`] factorizes (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Decomposition {
    /// [`Decomposition::Gram`] when `n ≥ p`, else [`Decomposition::Kernel`].
    #[default]
    Auto,
    /// `X̃ᵀX̃ = QTQᵀ` (p × p).
    Gram,
    /// `X̃X̃ᵀ = QTQᵀ` (n × n).
    Kernel,
    /// The thin SVD of `X̃`.
    Svd,
}

/// The factorization a fit actually used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Factorization {
    /// Cholesky of `X̃ᵀX̃ + nλI` (a single λ).
    GramCholesky,
    /// Householder tridiagonalization of `X̃ᵀX̃`.
    GramTridiagonal,
    /// Cholesky of `X̃X̃ᵀ + nλI` (a single λ).
    KernelCholesky,
    /// Householder tridiagonalization of `X̃X̃ᵀ`.
    KernelTridiagonal,
    /// Lanczos basis of the Krylov space of `X̃ᵀX̃` and `X̃ᵀỹ` (no degrees of freedom).
    GramLanczos,
    /// Lanczos basis of the Krylov space of `X̃X̃ᵀ` and `ỹ` (no degrees of freedom).
    KernelLanczos,
    /// Thin SVD of `X̃`.
    Svd,
}

impl Factorization {
    /// A readable name.
    pub fn name(&self) -> &'static str {
        match self {
            Factorization::GramCholesky => "Cholesky of XᵀX + nλI",
            Factorization::GramTridiagonal => "tridiagonalization of XᵀX",
            Factorization::KernelCholesky => "Cholesky of XXᵀ + nλI",
            Factorization::KernelTridiagonal => "tridiagonalization of XXᵀ",
            Factorization::GramLanczos => "Lanczos (Krylov) solves with XᵀX",
            Factorization::KernelLanczos => "Lanczos (Krylov) solves with XXᵀ",
            Factorization::Svd => "thin SVD of X",
        }
    }
}

/// Builder of a ridge path (module docs for the objective and the algorithm).
///
/// Defaults, as [`crate::Path`] with mix 0: 100 λ log-spaced from
/// `λ_max = max_j |x̃_jᵀỹ| / (n·0.001·s_y)` (glmnet's ridge λ_max, with `s_y` the population
/// standard deviation of `y`) down to `lambda_min_ratio·λ_max` (1e-4 when `n ≥ p`, 1e-2
/// otherwise), standardization and an intercept on, effective degrees of freedom computed.
#[derive(Debug, Clone)]
pub struct RidgePath {
    n_lambda: usize,
    lambda_min_ratio: Option<f64>,
    lambdas: Option<Vec<f64>>,
    standardize: bool,
    intercept: bool,
    weights: Option<DVector<f64>>,
    decomposition: Decomposition,
    degrees_of_freedom: bool,
}

impl Default for RidgePath {
    fn default() -> Self {
        Self::new()
    }
}

impl RidgePath {
    /// A ridge path with the defaults above.
    pub fn new() -> Self {
        RidgePath {
            n_lambda: 100,
            lambda_min_ratio: None,
            lambdas: None,
            standardize: true,
            intercept: true,
            weights: None,
            decomposition: Decomposition::Auto,
            degrees_of_freedom: true,
        }
    }

    /// Length of the generated grid (default 100; ignored with [`RidgePath::lambdas`]).
    pub fn n_lambda(mut self, n: usize) -> Self {
        self.n_lambda = n;
        self
    }

    /// Smallest λ of the generated grid as a fraction of λ_max, in `(0, 1)`. `None` (the
    /// default): 1e-4 when `n ≥ p`, 1e-2 otherwise.
    pub fn lambda_min_ratio(mut self, ratio: Option<f64>) -> Self {
        self.lambda_min_ratio = ratio;
        self
    }

    /// A user grid instead of the generated one: finite values > 0, **sorted into decreasing
    /// order** as [`crate::Path::lambdas`] does.
    pub fn lambdas(mut self, lambdas: Vec<f64>) -> Self {
        self.lambdas = Some(lambdas);
        self
    }

    /// Penalize the coefficients of the columns scaled to unit (weighted, population)
    /// standard deviation (default `true`); coefficients are reported on the original scale.
    pub fn standardize(mut self, yes: bool) -> Self {
        self.standardize = yes;
        self
    }

    /// Fit an unpenalized intercept, by centering (default `true`).
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

    /// Which symmetric problem to factorize (default [`Decomposition::Auto`]).
    pub fn decomposition(mut self, d: Decomposition) -> Self {
        self.decomposition = d;
        self
    }

    /// Compute the effective degrees of freedom at every λ (default `true`). They are free
    /// with the tridiagonal and SVD factorizations; a single-λ (Cholesky) fit pays one
    /// triangular inverse, `m³/3` flops, for them. They need the whole spectrum of `A`, so
    /// they also require the tridiagonal reduction: switching them off lets a grid of order
    /// `m ≥ 128` be solved from a Krylov basis instead (module docs, "Without the degrees of
    /// freedom"), 1.3–1.4× faster on a 500 × 5000 path.
    pub fn degrees_of_freedom(mut self, yes: bool) -> Self {
        self.degrees_of_freedom = yes;
        self
    }

    fn validate(&self) -> Result<()> {
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
            Some(l) if l.is_empty() => Err(Error::EmptyData {
                what: "the lambda grid",
            }),
            Some(l) => l
                .iter()
                .try_for_each(|&v| check_positive("lambda", v).map(|_| ())),
            None if self.n_lambda == 0 => Err(Error::InvalidParameter {
                name: "n_lambda",
                value: 0.0,
                reason: "must be at least 1",
            }),
            None => Ok(()),
        }
    }

    /// Fits the path to `x` (n × p) and `y` (length n).
    ///
    /// # Errors
    /// Invalid data ([`Error::DimensionMismatch`], [`Error::EmptyData`], [`Error::NonFinite`],
    /// [`Error::InvalidWeights`]); an invalid option ([`Error::InvalidParameter`], including
    /// a generated grid when λ_max is 0, i.e. `y` constant or orthogonal to every column);
    /// [`Error::Singular`] if `A + nλI` is not numerically positive definite (λ far below
    /// the rounding of `‖X̃‖²/n`); [`Error::Solver`] if the SVD does not converge.
    pub fn fit(&self, x: &DMatrix<f64>, y: &DVector<f64>) -> Result<RidgePathFit> {
        let mut design = Design::new(x, y)?;
        if let Some(w) = &self.weights {
            design = design.with_weights(w)?;
        }
        self.validate()?;
        let (n, p) = (design.n(), design.p());
        let nw = design.weight_sum();
        let tf = Transform::new(&design, self.intercept, self.standardize);
        let y_tilde = DVector::from_fn(n, |i, _| tf.row_weight(i) * (y[i] - tf.ybar));
        let s_y = y_tilde.norm() / nw.sqrt();

        let form = match self.decomposition {
            Decomposition::Auto if n >= p => Decomposition::Gram,
            Decomposition::Auto => Decomposition::Kernel,
            d => d,
        };
        // The symmetric problem (or the SVD) and X̃ᵀỹ, which λ_max needs.
        let prepared = match form {
            Decomposition::Kernel => {
                let (k, xty) = tf.kernel(x, &y_tilde);
                Prepared::Kernel(k, xty)
            }
            Decomposition::Svd => {
                let xt = tf.copy(x);
                let svd = SVD::try_new(xt, true, true, f64::EPSILON, 0).ok_or_else(|| {
                    Error::Solver("the SVD of the centered, scaled X did not converge".into())
                })?;
                let (u, vt) = match (svd.u, svd.v_t) {
                    (Some(u), Some(vt)) => (u, vt),
                    _ => return Err(Error::Solver("the SVD returned no singular vectors".into())),
                };
                let g = u.tr_mul(&y_tilde);
                let sg = g.component_mul(&svd.singular_values);
                let xty = vt.tr_mul(&sg);
                Prepared::Svd(svd.singular_values, g, vt, xty)
            }
            _ => {
                let (g, xty) = tf.gram(x, &y_tilde);
                Prepared::Gram(g, xty)
            }
        };
        let xty = match &prepared {
            Prepared::Gram(_, c) | Prepared::Kernel(_, c) | Prepared::Svd(_, _, _, c) => c,
        };
        let lambda_max = {
            let g0 = xty.amax();
            let mut l = g0 / (nw * RIDGE_LAMBDA_MAX_MIX);
            if s_y > 0.0 && s_y.is_finite() {
                l /= s_y;
            }
            l
        };
        let grid = self.grid(lambda_max, n, p)?;
        let shifts: Vec<f64> = grid.iter().map(|&l| nw * l).collect();
        let want_df = self.degrees_of_freedom;

        let (u, df, factorization) = match prepared {
            Prepared::Gram(g, c) => {
                let (u, df, route) = solve_shifted(g, &c, &shifts, want_df)?;
                (u, df, route.factorization(false))
            }
            Prepared::Kernel(k, _) => {
                let (a, df, route) = solve_shifted(k, &y_tilde, &shifts, want_df)?;
                (tf.xt_times(x, &a), df, route.factorization(true))
            }
            Prepared::Svd(d, g, vt, _) => {
                let r = d.len();
                let f = DMatrix::from_fn(r, shifts.len(), |i, k| {
                    let di = d[i];
                    let den = di * di + shifts[k];
                    if den > 0.0 {
                        di * g[i] / den
                    } else {
                        0.0
                    }
                });
                let df = want_df.then(|| {
                    shifts
                        .iter()
                        .map(|&s| d.iter().map(|&di| di * di / (di * di + s)).sum())
                        .collect()
                });
                (vt.tr_mul(&f), df, Factorization::Svd)
            }
        };
        if !u.as_slice().iter().all(|v| v.is_finite()) {
            return Err(Error::Singular {
                what: "XᵀX + nλI (a non-finite ridge solution)".into(),
            });
        }

        // Back to the original scale: w = u/s, b = ȳ − x̄ᵀw.
        let mut coefficients = u;
        if let Some(s) = &tf.scales {
            for (j, mut row) in coefficients.row_iter_mut().enumerate() {
                row /= s[j];
            }
        }
        let intercepts: Vec<f64> = (0..grid.len())
            .map(|k| match &tf.means {
                Some(m) => tf.ybar - m.dot(&coefficients.column(k)),
                None => 0.0,
            })
            .collect();
        Ok(RidgePathFit {
            lambdas: grid,
            lambda_max,
            coefficients,
            intercepts,
            effective_df: df,
            factorization,
            weight_sum: nw,
            has_intercept: self.intercept,
            standardized: self.standardize,
        })
    }

    fn grid(&self, lambda_max: f64, n: usize, p: usize) -> Result<Vec<f64>> {
        if let Some(l) = &self.lambdas {
            let mut l = l.clone();
            l.sort_by(|a, b| b.total_cmp(a));
            return Ok(l);
        }
        if !(lambda_max > 0.0 && lambda_max.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "lambda_max",
                value: lambda_max,
                reason: "the response is orthogonal to every column (constant y?); give a \
                         lambda grid",
            });
        }
        let ratio = self
            .lambda_min_ratio
            .unwrap_or(if n >= p { 1e-4 } else { 1e-2 });
        let k = self.n_lambda;
        if k == 1 {
            return Ok(vec![lambda_max]);
        }
        let step = ratio.ln() / (k - 1) as f64;
        Ok((0..k)
            .map(|i| {
                if i == 0 {
                    lambda_max
                } else {
                    lambda_max * (step * i as f64).exp()
                }
            })
            .collect())
    }
}

/// The factorized problem before the grid is known.
enum Prepared {
    /// `X̃ᵀX̃` and `X̃ᵀỹ`.
    Gram(DMatrix<f64>, DVector<f64>),
    /// `X̃X̃ᵀ` and `X̃ᵀỹ`.
    Kernel(DMatrix<f64>, DVector<f64>),
    /// Singular values `d`, `Uᵀỹ`, `Vᵀ` and `X̃ᵀỹ`.
    Svd(DVector<f64>, DVector<f64>, DMatrix<f64>, DVector<f64>),
}

/// Columns per panel of the blocked tridiagonal reduction ([`Tridiagonal::panel`]).
const PANEL: usize = 32;
/// Width of the column blocks of a panel's trailing update.
const TRAILING_BLOCK: usize = 64;
/// Order from which the tridiagonal reduction works in panels.
const BLOCKED_TRIDIAGONAL_MIN: usize = 256;

/// Shifts solved together by [`tridiagonal_solve`].
const SHIFT_GROUP: usize = 8;

/// `m²·L` above which the solves and the back-transformation of a grid of `L` shifts run as
/// two halves on rayon's pool (below it the hand-off costs more than it saves).
const PARALLEL_SHIFTS_WORK: usize = 1 << 18;

/// Order from which a grid without degrees of freedom tries the Krylov route
/// ([`lanczos`]) before the tridiagonal reduction (below it the reduction is cheap).
const LANCZOS_MIN: usize = 128;

/// How [`solve_shifted`] solved.
enum Route {
    Cholesky,
    Tridiagonal,
    Lanczos,
}

impl Route {
    /// The factorization reported for this route of the Gram (`kernel = false`) or the
    /// kernel form.
    fn factorization(self, kernel: bool) -> Factorization {
        match (self, kernel) {
            (Route::Cholesky, false) => Factorization::GramCholesky,
            (Route::Tridiagonal, false) => Factorization::GramTridiagonal,
            (Route::Lanczos, false) => Factorization::GramLanczos,
            (Route::Cholesky, true) => Factorization::KernelCholesky,
            (Route::Tridiagonal, true) => Factorization::KernelTridiagonal,
            (Route::Lanczos, true) => Factorization::KernelLanczos,
        }
    }
}

/// Solves `(A + σ_k I) z_k = r` for every shift; returns `Z` (m × L), the effective degrees
/// of freedom `m − σ_k·tr((A + σ_k I)⁻¹)` if asked, and the route taken: one Cholesky for a
/// single shift; else, without degrees of freedom and from order [`LANCZOS_MIN`], a Krylov
/// basis of at most `m/3` Lanczos steps ([`lanczos::shifted_solves`]; at that budget about
/// the flops of the reduction, and it gives up as soon as its rate of convergence shows
/// the budget will not do); else (or when that does not converge) the tridiagonal
/// reduction.
fn solve_shifted(
    mut a: DMatrix<f64>,
    r: &DVector<f64>,
    shifts: &[f64],
    want_df: bool,
) -> Result<(DMatrix<f64>, Option<Vec<f64>>, Route)> {
    let m = a.nrows();
    if shifts.len() == 1 {
        let s = shifts[0];
        for i in 0..m {
            a[(i, i)] += s;
        }
        let chol = crate::linalg::cholesky(a).ok_or_else(|| Error::Singular {
            what: "XᵀX + nλI (or XXᵀ + nλI) is not numerically positive definite".into(),
        })?;
        let z = chol.solve(r);
        let df = if want_df {
            // tr((A + σI)⁻¹) = ‖L⁻¹‖²_F with A + σI = LLᵀ.
            let linv = chol
                .l()
                .solve_lower_triangular(&DMatrix::identity(m, m))
                .ok_or_else(|| Error::Singular {
                    what: "the Cholesky factor of XᵀX + nλI".into(),
                })?;
            Some(vec![m as f64 - s * linv.norm_squared()])
        } else {
            None
        };
        return Ok((
            DMatrix::from_column_slice(m, 1, z.as_slice()),
            df,
            Route::Cholesky,
        ));
    }
    if !want_df && m >= LANCZOS_MIN {
        if let Some((z, _)) = lanczos::shifted_solves(&a, r.as_slice(), shifts, m / 3)? {
            return Ok((z, None, Route::Lanczos));
        }
    }
    let tri = Tridiagonal::new(a);
    let mut d = r.clone();
    tri.apply_qt(d.as_mut_slice());
    let l = shifts.len();
    let mut z = DMatrix::<f64>::zeros(m, l);
    // Small orders: Q formed (its rows), applied to each group of solutions as they come out
    // of the solver; else Q in compact WY blocks, applied to a part's solutions at once.
    let (q_rows, blocks) = if m <= EXPLICIT_Q_MAX {
        (Some(tri.q_rows()), Vec::new())
    } else {
        (None, tri.wy_blocks())
    };
    // One part of the grid: its solves, then Q applied to its columns.
    let part = |sh: &[f64], zs: &mut [f64]| -> Result<Vec<f64>> {
        let mut traces = Vec::with_capacity(sh.len());
        solve_tridiagonal_shifts(
            (&tri.diag, &tri.off),
            d.as_slice(),
            sh,
            zs,
            (&mut Vec::new(), q_rows.as_deref()),
            &mut traces,
            want_df,
        )?;
        if q_rows.is_none() {
            apply_wy(&blocks, &mut DMatrixViewMut::from_slice(zs, m, sh.len()));
        }
        Ok(traces)
    };
    // Two halves of the grid on rayon's pool when there is enough work; the split (a multiple
    // of the shift group) depends on the sizes only, and every column gets the same
    // operations either way, so the result does not depend on the thread count.
    let traces = if m * m * l >= PARALLEL_SHIFTS_WORK && l >= 2 * SHIFT_GROUP {
        let h = (l / 2).div_ceil(SHIFT_GROUP) * SHIFT_GROUP;
        let (zl, zr) = z.as_mut_slice().split_at_mut(h * m);
        let (a, b) = rayon::join(|| part(&shifts[..h], zl), || part(&shifts[h..], zr));
        let mut t = a?;
        t.extend(b?);
        t
    } else {
        part(shifts, z.as_mut_slice())?
    };
    let df = want_df.then(|| {
        shifts
            .iter()
            .zip(&traces)
            .map(|(&s, &tr)| m as f64 - s * tr)
            .collect()
    });
    Ok((z, df, Route::Tridiagonal))
}

/// [`tridiagonal_solve`] of the tridiagonal `T` (diagonal `a`, off-diagonal `e`) for every
/// shift, into consecutive columns of `z`: groups of [`SHIFT_GROUP`] shifts, the last few
/// one by one (times `Q` when its rows are given). Appends the traces to `traces` (0
/// without `trace`); `work` is reused.
fn solve_tridiagonal_shifts(
    (a, e): (&[f64], &[f64]),
    d: &[f64],
    shifts: &[f64],
    z: &mut [f64],
    (work, q_rows): (&mut Vec<f64>, Option<&[f64]>),
    traces: &mut Vec<f64>,
    trace: bool,
) -> Result<()> {
    let m = d.len();
    for (s, zk) in shifts
        .chunks(SHIFT_GROUP)
        .zip(z.chunks_mut(SHIFT_GROUP * m))
    {
        if let Ok(group) = <[f64; SHIFT_GROUP]>::try_from(s) {
            traces.extend(tridiagonal_solve(
                a,
                e,
                group,
                d,
                zk,
                (work, q_rows),
                trace,
            )?);
        } else {
            for (&sc, zc) in s.iter().zip(zk.chunks_mut(m)) {
                traces.extend(tridiagonal_solve(a, e, [sc], d, zc, (work, q_rows), trace)?);
            }
        }
    }
    Ok(())
}

/// Householder reduction of a symmetric matrix to tridiagonal form, `A = Q·T·Qᵀ`, with `Q`
/// kept as its reflectors (never formed).
///
/// Step `i = 0, …, m−3` annihilates column i below the subdiagonal. With `x = A[i+1.., i]`
/// (length `r = m−i−1`), `α = −sign(x₀)·‖x‖` and `v = x − α·e₁`, the reflector
/// `Hᵢ = I − β·vvᵀ`, `β = 2/vᵀv`, maps `x` to `α·e₁` (the sign of α avoids cancellation in
/// `x₀ − α`); `α` is the subdiagonal entry `T[i+1, i]`. The trailing block `B = A[i+1.., i+1..]`
/// becomes `Hᵢ·B·Hᵢ = B − v·wᵀ − w·vᵀ` with `p = β·B·v`, `w = p − (β/2)(pᵀv)·v`, a symmetric
/// rank-2 update; both the product `B·v` and the update touch only the lower triangle of
/// `B`, so each step reads the trailing lower triangle about three times (≈ `(4/3)m³` flops in
/// total). `v` is stored in place of the annihilated column, `β` alongside. Then
/// `Qᵀ = H_{m−3}⋯H₀` and `Q = H₀⋯H_{m−3}` are applied to vectors reflector by reflector,
/// `O(m²)` per vector, instead of forming `Q` (another `(4/3)m³`).
struct Tridiagonal {
    /// `A` after the reduction: reflector `i` in `A[i+1.., i]`.
    store: DMatrix<f64>,
    beta: Vec<f64>,
    /// Diagonal of `T` (m).
    diag: Vec<f64>,
    /// Subdiagonal of `T` (m − 1).
    off: Vec<f64>,
}

impl Tridiagonal {
    fn new(mut a: DMatrix<f64>) -> Self {
        let m = a.nrows();
        let steps = m.saturating_sub(2);
        let mut beta = vec![0.0; steps];
        let mut off = vec![0.0; m.saturating_sub(1)];
        let data = a.as_mut_slice();
        // Panels of PANEL columns while at least two panels' worth remain, then the rest one
        // step at a time.
        let mut start = 0;
        if m >= BLOCKED_TRIDIAGONAL_MIN {
            let mut v = DMatrix::<f64>::zeros(m, PANEL);
            let mut w = DMatrix::<f64>::zeros(m, PANEL);
            let mut p = vec![0.0; m];
            while m - start > 2 * PANEL {
                Self::panel(data, m, start, &mut v, &mut w, &mut p, &mut off, &mut beta);
                start += PANEL;
            }
        }
        Self::unblocked(data, m, start, &mut off, &mut beta);
        if m >= 2 {
            off[m - 2] = a[(m - 1, m - 2)];
        }
        let diag = (0..m).map(|i| a[(i, i)]).collect();
        Tridiagonal {
            store: a,
            beta,
            diag,
            off,
        }
    }

    /// Steps `start..m−2` one at a time (Level-2: a symmetric product and a rank-2 update of
    /// the trailing triangle per step). Step i's rank-2 update of a column and step i+1's
    /// product with that same column run back to back, so each column of the trailing
    /// triangle is read once per step from memory (the second read hits the cache); the
    /// arithmetic, and its order, is that of the two passes done one after the other.
    fn unblocked(data: &mut [f64], m: usize, start: usize, off: &mut [f64], beta: &mut [f64]) {
        let steps = m.saturating_sub(2);
        if start >= steps {
            return;
        }
        let mut p = vec![0.0; m];
        let mut w = vec![0.0; m];
        let mut have = Self::reflector(data, m, start, off, beta);
        if have {
            for jj in 0..m - start - 1 {
                Self::product_column(data, m, start, jj, &mut p);
            }
        }
        for i in start..steps {
            let r = m - i - 1;
            let next = i + 1 < steps;
            if !have {
                // Hᵢ = I leaves B as it is.
                have = next && Self::reflector(data, m, i + 1, off, beta);
                if have {
                    p[..r - 1].fill(0.0);
                    for jj in 0..r - 1 {
                        Self::product_column(data, m, i + 1, jj, &mut p);
                    }
                }
                continue;
            }
            let v = &data[i * m + i + 1..(i + 1) * m];
            rank2_vector(beta[i], &p[..r], v, &mut w[..r]);
            // B ← B − v·wᵀ − w·vᵀ on the lower triangle, column by column; column 0 first,
            // which holds the next reflector's x, then each later column followed by its
            // share of the next step's product p = B′·v′.
            Self::update_column(data, m, i, 0, &w);
            have = next && Self::reflector(data, m, i + 1, off, beta);
            if have {
                p[..r - 1].fill(0.0);
            }
            for jj in 1..r {
                Self::update_column(data, m, i, jj, &w);
                if have {
                    Self::product_column(data, m, i + 1, jj - 1, &mut p);
                }
            }
        }
    }

    /// Steps `i0..i0+PANEL` as one panel (LAPACK's `dsytrd`/`dlatrd` scheme): the panel's
    /// reflectors `V` and their `W` (`B ← B − vwᵀ − wvᵀ` per step) are accumulated without
    /// updating the trailing triangle; step j's symmetric product reads the stale triangle
    /// and subtracts the panel's earlier updates, `p = A·v − V(Wᵀv) − W(Vᵀv)`, and each panel
    /// column takes its own share of those updates just before its reflector is formed.
    /// The trailing triangle then takes them all at once, `A −= VWᵀ + WVᵀ`, by matrix
    /// products on blocks of columns: half of the flops move from matrix–vector to
    /// matrix–matrix work.
    #[allow(clippy::too_many_arguments)]
    fn panel(
        data: &mut [f64],
        m: usize,
        i0: usize,
        v: &mut DMatrix<f64>,
        w: &mut DMatrix<f64>,
        p: &mut [f64],
        off: &mut [f64],
        beta: &mut [f64],
    ) {
        v.fill(0.0);
        w.fill(0.0);
        for t in 0..PANEL {
            let j = i0 + t;
            // Column j (rows j..) takes the panel's earlier updates.
            {
                let (vs, ws) = (v.as_slice(), w.as_slice());
                let col = &mut data[j * m + j..(j + 1) * m];
                for s in 0..t {
                    let (vc, wc) = (&vs[s * m + j..(s + 1) * m], &ws[s * m + j..(s + 1) * m]);
                    sub_rank2(col, vc, wc, wc[0], vc[0]);
                }
            }
            if !Self::reflector(data, m, j, off, beta) {
                continue;
            }
            let r = m - j - 1;
            p[..r].fill(0.0);
            for jj in 0..r {
                Self::product_column(data, m, j, jj, p);
            }
            let x = &data[j * m + j + 1..(j + 1) * m];
            {
                let (vs, ws) = (v.as_slice(), w.as_slice());
                for s in 0..t {
                    let (vc, wc) = (
                        &vs[s * m + j + 1..(s + 1) * m],
                        &ws[s * m + j + 1..(s + 1) * m],
                    );
                    sub_rank2(&mut p[..r], vc, wc, dot(wc, x), dot(vc, x));
                }
            }
            rank2_vector(
                beta[j],
                &p[..r],
                x,
                &mut w.as_mut_slice()[t * m + j + 1..(t + 1) * m],
            );
            v.as_mut_slice()[t * m + j + 1..(t + 1) * m].copy_from_slice(x);
        }
        // The trailing triangle, rows/columns i1.., by blocks of columns (each block's
        // rows from its first column down: the lower triangle and the diagonal blocks).
        let i1 = i0 + PANEL;
        let (vt, wt) = (Strided::of(v).t(), Strided::of(w).t());
        for c0 in (i1..m).step_by(TRAILING_BLOCK) {
            let (nr, nc) = (m - c0, TRAILING_BLOCK.min(m - c0));
            let mut c =
                DMatrixViewMut::from_slice_with_strides_mut(&mut data[c0 * m + c0..], nr, nc, 1, m);
            for (left, right) in [(&*v, &wt), (&*w, &vt)] {
                gemm(
                    &mut c,
                    -1.0,
                    &left.rows(c0, nr),
                    &right.view(0, PANEL, c0, nc),
                    1.0,
                );
            }
        }
    }

    /// Forms reflector `i` from `x = A[i+1.., i]` (stored in its place as `v`, `β` and `α`
    /// into `beta[i]`, `off[i]`); `false` when `x` is already zero below its first entry
    /// (`Hᵢ = I`).
    fn reflector(data: &mut [f64], m: usize, i: usize, off: &mut [f64], beta: &mut [f64]) -> bool {
        let col = &mut data[i * m + i + 1..(i + 1) * m];
        let tail: f64 = col[1..].iter().map(|v| v * v).sum();
        let x0 = col[0];
        if tail == 0.0 {
            off[i] = x0;
            beta[i] = 0.0;
            col[0] = 0.0;
            return false;
        }
        let norm = (x0 * x0 + tail).sqrt();
        let alpha = if x0 >= 0.0 { -norm } else { norm };
        col[0] = x0 - alpha;
        let vtv = col[0] * col[0] + tail;
        off[i] = alpha;
        beta[i] = 2.0 / vtv;
        true
    }

    /// Column `jj` of step `i`'s trailing block `B = A[i+1.., i+1..]` (its lower part) added
    /// into `p = B·v` (`v` reflector `i`): both halves of the symmetric product.
    #[inline]
    fn product_column(data: &[f64], m: usize, i: usize, jj: usize, p: &mut [f64]) {
        let r = m - i - 1;
        let c = i + 1 + jj;
        let v = &data[i * m + i + 1..(i + 1) * m];
        let bcol = &data[c * m + c..(c + 1) * m];
        let vj = v[jj];
        let (pj, ptail) = p[jj..r].split_at_mut(1);
        let dot = axpy_dot(&bcol[1..], vj, ptail, &v[jj + 1..]);
        pj[0] += bcol[0] * vj + dot;
    }

    /// Column `jj` of step `i`'s trailing block (its lower part) ← itself `− v·w_jj − w·v_jj`.
    #[inline]
    fn update_column(data: &mut [f64], m: usize, i: usize, jj: usize, w: &[f64]) {
        let c = i + 1 + jj;
        let (left, right) = data.split_at_mut(c * m);
        let v = &left[i * m + i + 1..(i + 1) * m];
        let bcol = &mut right[c..m];
        sub_rank2(bcol, &v[jj..], &w[jj..], w[jj], v[jj]);
    }

    /// `Hᵢ` applied to `z[i+1..]`: `z ← z − β·(vᵀz)·v`.
    #[inline]
    fn reflect(&self, i: usize, z: &mut [f64]) {
        let b = self.beta[i];
        if b == 0.0 {
            return;
        }
        let m = self.store.nrows();
        let v = &self.store.as_slice()[i * m + i + 1..(i + 1) * m];
        let zt = &mut z[i + 1..];
        let s = b * dot(v, zt);
        for (zk, &vk) in zt.iter_mut().zip(v) {
            *zk -= s * vk;
        }
    }

    /// `z ← Qᵀz = H_{m−3}⋯H₀·z`.
    fn apply_qt(&self, z: &mut [f64]) {
        for i in 0..self.beta.len() {
            self.reflect(i, z);
        }
    }

    /// The rows of `Q = H₀⋯H_{m−3}`, row-major (`Q[r, c]` at `r·m + c`). `Q` is accumulated
    /// backwards from `I`, `H_{m−3}` first: before `Hᵢ` is applied, the columns and rows
    /// `≤ i` are still those of `I`, so `Hᵢ` ([`Tridiagonal::reflect`]) only changes the
    /// trailing block `Q[i+1.., i+1..]` (about `(2/3)m³` flops).
    fn q_rows(&self) -> Vec<f64> {
        let m = self.store.nrows();
        let mut q = DMatrix::<f64>::identity(m, m);
        for i in (0..self.beta.len()).rev() {
            for mut col in q.column_iter_mut().skip(i + 1) {
                self.reflect(i, col.as_mut_slice());
            }
        }
        q.transpose().as_slice().to_vec()
    }

    /// `Q = H₀⋯H_{m−3}` as blocks of [`WY_BLOCK`] reflectors for [`apply_wy`], last block
    /// first, so that `Z ← Q·Z` applies each block to all columns of `Z` at once in the
    /// compact WY form (Schreiber & Van Loan): the product
    /// `Hⱼ⋯Hⱼ₊ₖ₋₁ = I − Y·T·Yᵀ` with `Y = [vⱼ … vⱼ₊ₖ₋₁]` (zero-padded above each reflector's
    /// first row) and `T` upper triangular, built column by column from
    /// `(I − YTYᵀ)(I − βvvᵀ) = I − [Y v]·[[T, −β·T·Yᵀv], [0, β]]·[Y v]ᵀ`. Applying a block is
    /// then two matrix products, `W = T·(YᵀZ)` and `Z −= Y·W`, instead of `k` rank-1 updates.
    fn wy_blocks(&self) -> Vec<WyBlock> {
        let m = self.store.nrows();
        let steps = self.beta.len();
        let store = self.store.as_slice();
        let mut blocks = Vec::with_capacity(steps.div_ceil(WY_BLOCK));
        let mut b0 = steps.div_ceil(WY_BLOCK) * WY_BLOCK;
        while b0 > 0 {
            b0 -= WY_BLOCK;
            let k = WY_BLOCK.min(steps - b0);
            let r0 = b0 + 1;
            let rows = m - r0;
            let mut y = DMatrix::<f64>::zeros(rows, k);
            for t in 0..k {
                let i = b0 + t;
                y.column_mut(t).as_mut_slice()[t..]
                    .copy_from_slice(&store[i * m + i + 1..(i + 1) * m]);
            }
            let mut tm = DMatrix::<f64>::zeros(k, k);
            for t in 0..k {
                let b = self.beta[b0 + t];
                tm[(t, t)] = b;
                if t > 0 && b != 0.0 {
                    let ys = y.as_slice();
                    let vt = &ys[t * rows + t..(t + 1) * rows];
                    let u: Vec<f64> = (0..t)
                        .map(|c| dot(&ys[c * rows + t..(c + 1) * rows], vt))
                        .collect();
                    for r in 0..t {
                        let s: f64 = (r..t).map(|c| tm[(r, c)] * u[c]).sum();
                        tm[(r, t)] = -b * s;
                    }
                }
            }
            let yt = &y * &tm;
            blocks.push(WyBlock { r0, y, yt });
        }
        blocks
    }
}

/// One block of reflectors in compact WY form (see [`Tridiagonal::wy_blocks`]): rows `r0..`
/// of `Z` take `Z −= (Y·T)·(YᵀZ)`.
struct WyBlock {
    r0: usize,
    y: DMatrix<f64>,
    /// `Y·T`.
    yt: DMatrix<f64>,
}

/// `Z ← Q·Z` from [`Tridiagonal::wy_blocks`] (in their order: the last reflectors first).
fn apply_wy(blocks: &[WyBlock], z: &mut DMatrixViewMut<'_, f64>) {
    let l = z.ncols();
    for b in blocks {
        let (rows, k) = b.y.shape();
        let mut w = DMatrix::<f64>::zeros(k, l);
        {
            let zr = z.rows(b.r0, rows);
            let yt = Strided::of(&b.y).t();
            gemm(&mut w, 1.0, &yt.view(0, k, 0, rows), &zr, 0.0);
        }
        let mut zr = z.rows_mut(b.r0, rows);
        gemm(&mut zr, -1.0, &b.yt, &w, 1.0);
    }
}

/// `x ← x − (v·a + w·b)`, element by element: one column of the symmetric rank-2 update
/// `B − v·wᵀ − w·vᵀ` (`a = w_j`, `b = v_j`), and a panel's correction of a product.
#[inline]
fn sub_rank2(x: &mut [f64], v: &[f64], w: &[f64], a: f64, b: f64) {
    for ((xk, &vk), &wk) in x.iter_mut().zip(v).zip(w) {
        *xk -= vk * a + wk * b;
    }
}

/// `w ← β·p − (β/2)(β·pᵀv)·v`: the vector of the update `B − v·wᵀ − w·vᵀ = HBH` for the
/// reflector `H = I − β·vvᵀ`, from `p = B·v`.
#[inline]
fn rank2_vector(beta: f64, p: &[f64], v: &[f64], w: &mut [f64]) {
    for (wk, &pk) in w.iter_mut().zip(p) {
        *wk = pk * beta;
    }
    let k = 0.5 * beta * dot(w, v);
    for (wk, &vk) in w.iter_mut().zip(v) {
        *wk -= k * vk;
    }
}

/// `y += a·x` and, in the same pass, `Σ bₖ·wₖ` (`b` the column read, `w` the vector):
/// the two halves of a symmetric matrix–vector product from its lower triangle.
fn axpy_dot(b: &[f64], a: f64, y: &mut [f64], w: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let n = b.len();
    let (b4, w4, y4) = (&b[..n / 4 * 4], &w[..n / 4 * 4], &mut y[..n / 4 * 4]);
    for ((bc, wc), yc) in b4
        .chunks_exact(4)
        .zip(w4.chunks_exact(4))
        .zip(y4.chunks_exact_mut(4))
    {
        for l in 0..4 {
            yc[l] += a * bc[l];
            acc[l] += bc[l] * wc[l];
        }
    }
    let mut tail = 0.0;
    for k in n / 4 * 4..n {
        y[k] += a * b[k];
        tail += b[k] * w[k];
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// Solves `(T + σₖI)zₖ = d` for the symmetric tridiagonal `T` (diagonal `a`, off-diagonal
/// `e`) and `K` shifts at once, by LDLᵀ without pivoting (exact for a positive definite
/// `T + σI`: every pivot is at least its smallest eigenvalue, `≥ σ` here). With the forward
/// pivots `δ⁺₀ = a₀ + σ`, `δ⁺ᵢ = aᵢ + σ − e²ᵢ₋₁/δ⁺ᵢ₋₁` and the backward pivots
/// `δ⁻ₘ₋₁ = aₘ₋₁ + σ`, `δ⁻ᵢ = aᵢ + σ − e²ᵢ/δ⁻ᵢ₊₁`, the diagonal of the inverse is
/// `1/(δ⁺ᵢ + δ⁻ᵢ − aᵢ − σ)` (both Schur complements of entry i); its sum is returned for each
/// shift when `trace` is set (else 0).
///
/// Each pivot recurrence is a chain of dependent divisions, so one shift at a time runs at
/// the division's latency; the `K` shifts are interleaved row by row (`K` independent
/// chains, stored row-major in `work`), which runs at its throughput instead. Every shift
/// gets exactly the operations, in the same order, of a solve on its own. `z` holds the `K`
/// solutions as consecutive columns of length `m` — times `Q` when the rows of an `m × m`
/// matrix `Q` are given (row-major), each entry `Σᵢ Q[r, i]·zᵢ` summed in order of `i` with
/// the `K` solutions in lanes; `work` is resized to `4·m·K` values.
fn tridiagonal_solve<const K: usize>(
    a: &[f64],
    e: &[f64],
    sigma: [f64; K],
    d: &[f64],
    z: &mut [f64],
    (work, q_rows): (&mut Vec<f64>, Option<&[f64]>),
    trace: bool,
) -> Result<[f64; K]> {
    let m = a.len();
    work.resize(4 * m * K, 0.0);
    // fwd, inv: forward pivots δ⁺ᵢ and their reciprocals (the back substitution multiplies);
    // bwd: backward pivots δ⁻ᵢ; zt: the solutions, row-major.
    let (fwd, rest) = work.split_at_mut(m * K);
    let (inv, rest) = rest.split_at_mut(m * K);
    let (bwd, zt) = rest.split_at_mut(m * K);
    // Each row's K values are formed in registers ([f64; K], which the compiler maps onto
    // vector lanes) and stored row by row.
    fn lanes<const K: usize>(f: impl Fn(usize) -> f64) -> [f64; K] {
        std::array::from_fn(f)
    }
    let mut piv = lanes::<K>(|k| a[0] + sigma[k]);
    let mut ok = piv.iter().all(|&p| p > 0.0);
    let mut inv_prev = lanes::<K>(|k| 1.0 / piv[k]);
    let mut z_prev = [d[0]; K];
    fwd[..K].copy_from_slice(&piv);
    inv[..K].copy_from_slice(&inv_prev);
    zt[..K].copy_from_slice(&z_prev);
    for i in 1..m {
        let (ei, ai, di) = (e[i - 1], a[i], d[i]);
        let l = lanes::<K>(|k| ei * inv_prev[k]);
        piv = lanes::<K>(|k| ai + sigma[k] - l[k] * ei);
        ok &= piv.iter().all(|&p| p > 0.0);
        inv_prev = lanes::<K>(|k| 1.0 / piv[k]);
        z_prev = lanes::<K>(|k| di - l[k] * z_prev[k]);
        fwd[i * K..(i + 1) * K].copy_from_slice(&piv);
        inv[i * K..(i + 1) * K].copy_from_slice(&inv_prev);
        zt[i * K..(i + 1) * K].copy_from_slice(&z_prev);
    }
    // A non-positive or NaN pivot: not numerically positive definite (NaN fails `> 0`).
    if !ok || piv.iter().any(|p| !p.is_finite()) {
        return Err(Error::Singular {
            what: "the tridiagonal form of XᵀX + nλI (or XXᵀ + nλI) has a non-positive pivot"
                .into(),
        });
    }
    let mut z_next = lanes::<K>(|k| zt[(m - 1) * K + k] * inv[(m - 1) * K + k]);
    zt[(m - 1) * K..].copy_from_slice(&z_next);
    for i in (0..m - 1).rev() {
        let (row, ir) = (&zt[i * K..(i + 1) * K], &inv[i * K..(i + 1) * K]);
        let ei = e[i];
        z_next = lanes::<K>(|k| (row[k] - ei * z_next[k]) * ir[k]);
        zt[i * K..(i + 1) * K].copy_from_slice(&z_next);
    }
    if let Some(q) = q_rows {
        for (r, qr) in q.chunks_exact(m).enumerate() {
            let mut acc = [0.0; K];
            for (&qi, row) in qr.iter().zip(zt.chunks_exact(K)) {
                acc = lanes::<K>(|k| acc[k] + qi * row[k]);
            }
            for (k, &v) in acc.iter().enumerate() {
                z[k * m + r] = v;
            }
        }
    } else {
        for (k, col) in z.chunks_exact_mut(m).take(K).enumerate() {
            for (zi, row) in col.iter_mut().zip(zt.chunks_exact(K)) {
                *zi = row[k];
            }
        }
    }
    let mut tr = [0.0; K];
    if !trace {
        return Ok(tr);
    }
    let mut b_next = lanes::<K>(|k| a[m - 1] + sigma[k]);
    bwd[(m - 1) * K..].copy_from_slice(&b_next);
    for i in (0..m - 1).rev() {
        let (ai, ei) = (a[i], e[i]);
        b_next = lanes::<K>(|k| ai + sigma[k] - ei * ei / b_next[k]);
        bwd[i * K..(i + 1) * K].copy_from_slice(&b_next);
    }
    // 1/(δ⁺ᵢ + δ⁻ᵢ − aᵢ − σ).
    for (i, (f, b)) in fwd.chunks_exact(K).zip(bwd.chunks_exact(K)).enumerate() {
        let ai = a[i];
        let t = lanes::<K>(|k| 1.0 / (f[k] + b[k] - ai - sigma[k]));
        for k in 0..K {
            tr[k] += t[k];
        }
    }
    Ok(tr)
}

/// The map `X → X̃` (centering, scaling, row weights) applied block by block, never to all
/// of `X` at once.
struct Transform {
    means: Option<DVector<f64>>,
    /// Column scales with 0 replaced by 1.
    scales: Option<DVector<f64>>,
    sqrt_w: Option<Vec<f64>>,
    ybar: f64,
}

impl Transform {
    fn new(design: &Design<'_>, intercept: bool, standardize: bool) -> Self {
        let means = intercept.then(|| design.column_means());
        let scales = standardize.then(|| {
            design
                .column_scales(intercept)
                .map(|s| if s > 0.0 && s.is_finite() { s } else { 1.0 })
        });
        let sqrt_w = design
            .weights()
            .map(|w| w.iter().map(|v| v.sqrt()).collect());
        let y = design.y();
        let ybar = if intercept {
            design.weighted_mean(|i| y[i])
        } else {
            0.0
        };
        Transform {
            means,
            scales,
            sqrt_w,
            ybar,
        }
    }

    fn identity(&self) -> bool {
        self.means.is_none() && self.scales.is_none() && self.sqrt_w.is_none()
    }

    #[inline]
    fn row_weight(&self, i: usize) -> f64 {
        self.sqrt_w.as_ref().map_or(1.0, |w| w[i])
    }

    /// Writes `X̃[r0..r0+nr, c0..c0+nc]` into `out` (column-major, nr × nc).
    fn fill(&self, x: &DMatrix<f64>, r0: usize, nr: usize, c0: usize, nc: usize, out: &mut [f64]) {
        for jj in 0..nc {
            let j = c0 + jj;
            let m = self.means.as_ref().map_or(0.0, |m| m[j]);
            let inv_s = self.scales.as_ref().map_or(1.0, |s| 1.0 / s[j]);
            let n = x.nrows();
            let src = &x.as_slice()[j * n + r0..j * n + r0 + nr];
            let dst = &mut out[jj * nr..(jj + 1) * nr];
            match &self.sqrt_w {
                None => {
                    for (o, &v) in dst.iter_mut().zip(src) {
                        *o = (v - m) * inv_s;
                    }
                }
                Some(w) => {
                    for ((o, &v), &wi) in dst.iter_mut().zip(src).zip(&w[r0..r0 + nr]) {
                        *o = wi * (v - m) * inv_s;
                    }
                }
            }
        }
    }

    /// A full copy of `X̃` (the SVD form).
    fn copy(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        let (n, p) = x.shape();
        let mut out = vec![0.0; n * p];
        self.fill(x, 0, n, 0, p, &mut out);
        DMatrix::from_vec(n, p, out)
    }

    /// `(X̃ᵀX̃, X̃ᵀỹ)`, accumulated over blocks of rows.
    fn gram(&self, x: &DMatrix<f64>, y_tilde: &DVector<f64>) -> (DMatrix<f64>, DVector<f64>) {
        let (n, p) = x.shape();
        let mut g = DMatrix::<f64>::zeros(p, p);
        if self.identity() {
            add_gram(&mut g, &Strided::of(x));
            mirror_upper(&mut g);
            return (g, x.tr_mul(y_tilde));
        }
        let rows = (BLOCK_VALUES / p).max(64).min(n);
        let mut buf = vec![0.0; rows * p];
        let mut c = DVector::<f64>::zeros(p);
        let mut r0 = 0;
        while r0 < n {
            let nr = rows.min(n - r0);
            let block = &mut buf[..nr * p];
            self.fill(x, r0, nr, 0, p, block);
            let z = Strided::new(block, nr, p, 1, nr);
            add_gram(&mut g, &z);
            let yb = &y_tilde.as_slice()[r0..r0 + nr];
            for (j, cj) in c.iter_mut().enumerate() {
                *cj += dot(&block[j * nr..(j + 1) * nr], yb);
            }
            r0 += nr;
        }
        mirror_upper(&mut g);
        (g, c)
    }

    /// `(X̃X̃ᵀ, X̃ᵀỹ)`, accumulated over blocks of columns.
    fn kernel(&self, x: &DMatrix<f64>, y_tilde: &DVector<f64>) -> (DMatrix<f64>, DVector<f64>) {
        let (n, p) = x.shape();
        let mut k = DMatrix::<f64>::zeros(n, n);
        if self.identity() {
            add_gram(&mut k, &Strided::of(x).t());
            mirror_upper(&mut k);
            return (k, x.tr_mul(y_tilde));
        }
        let cols = (BLOCK_VALUES / n).clamp(1, p);
        let mut buf = vec![0.0; n * cols];
        let mut c = DVector::<f64>::zeros(p);
        let mut c0 = 0;
        while c0 < p {
            let nc = cols.min(p - c0);
            let block = &mut buf[..n * nc];
            self.fill(x, 0, n, c0, nc, block);
            let z = Strided::new(block, n, nc, 1, n);
            add_gram(&mut k, &z.t());
            for jj in 0..nc {
                c[c0 + jj] = dot(&block[jj * n..(jj + 1) * n], y_tilde.as_slice());
            }
            c0 += nc;
        }
        mirror_upper(&mut k);
        (k, c)
    }

    /// `X̃ᵀA` (p × L) for an n × L matrix `A`.
    fn xt_times(&self, x: &DMatrix<f64>, a: &DMatrix<f64>) -> DMatrix<f64> {
        let (n, p) = x.shape();
        let l = a.ncols();
        let mut out = DMatrix::<f64>::zeros(p, l);
        if self.identity() {
            gemm(&mut out, 1.0, &Strided::of(x).t().view(0, p, 0, n), a, 0.0);
            return out;
        }
        let cols = (BLOCK_VALUES / n).clamp(1, p);
        let mut buf = vec![0.0; n * cols];
        let mut c0 = 0;
        while c0 < p {
            let nc = cols.min(p - c0);
            let block = &mut buf[..n * nc];
            self.fill(x, 0, n, c0, nc, block);
            let z = Strided::new(block, n, nc, 1, n);
            let mut ob = out.rows_mut(c0, nc);
            gemm(&mut ob, 1.0, &z.t().view(0, nc, 0, n), a, 0.0);
            c0 += nc;
        }
        out
    }
}

/// A fitted ridge path: one exact MAP per grid point, in grid order (decreasing λ).
#[derive(Debug, Clone)]
pub struct RidgePathFit {
    lambdas: Vec<f64>,
    lambda_max: f64,
    coefficients: DMatrix<f64>,
    intercepts: Vec<f64>,
    effective_df: Option<Vec<f64>>,
    factorization: Factorization,
    weight_sum: f64,
    has_intercept: bool,
    standardized: bool,
}

impl RidgePathFit {
    /// Number of grid points.
    pub fn len(&self) -> usize {
        self.lambdas.len()
    }
    /// Whether the grid is empty (never, for a successful fit).
    pub fn is_empty(&self) -> bool {
        self.lambdas.is_empty()
    }
    /// The grid, decreasing.
    pub fn lambdas(&self) -> &[f64] {
        &self.lambdas
    }
    /// λ of point `k`.
    pub fn lambda(&self, k: usize) -> f64 {
        self.lambdas[k]
    }
    /// λ_max of the generated grid (computed for user grids too).
    pub fn lambda_max(&self) -> f64 {
        self.lambda_max
    }
    /// Coefficients, `p × L`, on the original scale of `X`; column k is point k.
    pub fn coefficient_matrix(&self) -> &DMatrix<f64> {
        &self.coefficients
    }
    /// Coefficients of point `k`.
    pub fn coefficients(&self, k: usize) -> DVectorView<'_, f64> {
        self.coefficients.column(k)
    }
    /// Intercept of point `k` (0 without an intercept).
    pub fn intercept(&self, k: usize) -> f64 {
        self.intercepts[k]
    }
    /// All intercepts.
    pub fn intercepts(&self) -> &[f64] {
        &self.intercepts
    }
    /// Effective degrees of freedom `tr(X̃(X̃ᵀX̃ + nλI)⁻¹X̃ᵀ)` at every point (the intercept not
    /// counted), unless turned off with [`RidgePath::degrees_of_freedom`].
    pub fn effective_df(&self) -> Option<&[f64]> {
        self.effective_df.as_deref()
    }
    /// The factorization used.
    pub fn factorization(&self) -> Factorization {
        self.factorization
    }
    /// `n` of the objective: the sum of the observation weights.
    pub fn weight_sum(&self) -> f64 {
        self.weight_sum
    }
    /// Whether an intercept was fitted.
    pub fn has_intercept(&self) -> bool {
        self.has_intercept
    }
    /// Whether the penalty applied to standardized coefficients.
    pub fn standardized(&self) -> bool {
        self.standardized
    }
    /// The scale τ of the Gaussian prior on each (standardized, if standardizing)
    /// coefficient that point `k` is the MAP of, for noise variance `sigma2`:
    /// `τ = sqrt(σ²/(n·λ))`.
    ///
    /// # Errors
    /// `sigma2` not finite and > 0.
    pub fn gaussian_scale(&self, k: usize, sigma2: f64) -> Result<f64> {
        let sigma2 = check_positive("sigma2", sigma2)?;
        Ok((sigma2 / (self.weight_sum * self.lambdas[k])).sqrt())
    }
    /// Predictions `Xw + b` of point `k` for new rows.
    ///
    /// # Errors
    /// Wrong number of columns or non-finite `x`.
    pub fn predict(&self, x: &DMatrix<f64>, k: usize) -> Result<DVector<f64>> {
        let w = self.coefficients.column(k).into_owned();
        crate::design::linear_predictor(x, &w, self.intercepts[k])
    }
}

#[cfg(test)]
mod tests {
    use super::{apply_wy, tridiagonal_solve, Tridiagonal};
    use nalgebra::{DMatrix, DVector};

    /// `Q·T·Qᵀ` rebuilds `A` (Q from the stored reflectors by the blocked back-transformation),
    /// for orders across the WY block size and for matrices whose columns are already zero
    /// below the subdiagonal at some step (reflectors skipped), so every branch of the fused
    /// update/product loop runs.
    #[test]
    fn tridiagonal_reduction_reconstructs_the_matrix() {
        for (m, zero_from) in [
            (1, None),
            (2, None),
            (3, None),
            (9, Some(5)),
            (40, None),
            (70, Some(3)),
            (130, None),
            (200, Some(70)),
            (300, Some(140)),
        ] {
            let mut a = DMatrix::from_fn(m, m, |i, j| {
                let (i, j) = (i.max(j), i.min(j));
                ((i * 7 + j * 3) % 11) as f64 / 5.0 - 1.0 + if i == j { 4.0 } else { 0.0 }
            });
            if let Some(z) = zero_from {
                // Block diagonal: rows/columns ≥ z do not couple with the first z (columns
                // z-1.. of the reduction meet zeros below the subdiagonal).
                for i in z..m {
                    for j in 0..z {
                        a[(i, j)] = 0.0;
                        a[(j, i)] = 0.0;
                    }
                }
            }
            let tri = Tridiagonal::new(a.clone());
            if m >= 3 {
                assert!(tri.beta.iter().any(|&b| b != 0.0) || zero_from.is_some());
            }
            if zero_from.is_some() {
                assert!(tri.beta.contains(&0.0), "m = {m}: no reflector was skipped");
            }
            let mut t = DMatrix::<f64>::zeros(m, m);
            for i in 0..m {
                t[(i, i)] = tri.diag[i];
                if i + 1 < m {
                    t[(i + 1, i)] = tri.off[i];
                    t[(i, i + 1)] = tri.off[i];
                }
            }
            let blocks = tri.wy_blocks();
            let mut qt = t.clone();
            apply_wy(&blocks, &mut qt.as_view_mut());
            let mut qtqt = qt.transpose();
            apply_wy(&blocks, &mut qtqt.as_view_mut());
            let err = (&qtqt - &a).amax();
            assert!(
                err <= 1e-12 * a.amax().max(1.0),
                "m = {m}: |QTQᵀ − A| = {err:e}"
            );
            // The explicit Q (its rows) is the Q of the WY blocks.
            let mut q = DMatrix::<f64>::identity(m, m);
            apply_wy(&blocks, &mut q.as_view_mut());
            let rows = DMatrix::from_row_slice(m, m, &tri.q_rows());
            let err = (&rows - &q).amax();
            assert!(err <= 1e-13, "m = {m}: |Q (rows) − Q (WY)| = {err:e}");
        }
    }

    /// A group of shifts solved together gives, bit for bit, the solutions and traces of the
    /// solves on their own, with or without `Q` applied in the solver; a non-positive pivot
    /// in any one of them is an error.
    #[test]
    fn grouped_shifts_equal_single_solves() {
        let m = 37;
        let a: Vec<f64> = (0..m).map(|i| 2.0 + ((i * 7) % 5) as f64 * 0.3).collect();
        let e: Vec<f64> = (0..m - 1)
            .map(|i| 0.4 - ((i * 3) % 4) as f64 * 0.25)
            .collect();
        let d: Vec<f64> = (0..m).map(|i| ((i * 11) % 9) as f64 - 4.0).collect();
        let shifts = [1e-3, 0.5, 7.0, 123.0];
        let mut work = Vec::new();
        let mut z4 = vec![0.0; 4 * m];
        let t4 = tridiagonal_solve(&a, &e, shifts, &d, &mut z4, (&mut work, None), true).unwrap();
        for (k, &s) in shifts.iter().enumerate() {
            let mut z1 = vec![0.0; m];
            let [t1] =
                tridiagonal_solve(&a, &e, [s], &d, &mut z1, (&mut work, None), true).unwrap();
            assert_eq!(t1.to_bits(), t4[k].to_bits(), "trace of shift {k}");
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(&z1),
                bits(&z4[k * m..(k + 1) * m]),
                "solution of shift {k}"
            );
            // And it solves the system: (T + σI)z = d.
            for i in 0..m {
                let mut r = (a[i] + s) * z1[i] - d[i];
                if i > 0 {
                    r += e[i - 1] * z1[i - 1];
                }
                if i + 1 < m {
                    r += e[i] * z1[i + 1];
                }
                assert!(r.abs() <= 1e-12, "row {i} of shift {k}: residual {r:e}");
            }
        }
        // Without traces: the same solutions, traces 0.
        let mut z = vec![0.0; 4 * m];
        let t = tridiagonal_solve(&a, &e, shifts, &d, &mut z, (&mut work, None), false).unwrap();
        assert_eq!(t, [0.0; 4]);
        assert_eq!(z, z4);
        // With Q (any orthogonal matrix will do: a rotation in each plane (i, i+1)) applied
        // in the solver: the product Q·z of each solution, bit for bit the same in the group
        // as alone.
        let mut q = DMatrix::<f64>::identity(m, m);
        for i in 0..m - 1 {
            let (c, sn) = ((i as f64 * 0.7).cos(), (i as f64 * 0.7).sin());
            let (ci, cj) = (q.column(i).clone_owned(), q.column(i + 1).clone_owned());
            q.set_column(i, &(&ci * c - &cj * sn));
            q.set_column(i + 1, &(&ci * sn + &cj * c));
        }
        let q_rows = q.transpose().as_slice().to_vec();
        let mut zq = vec![0.0; 4 * m];
        tridiagonal_solve(
            &a,
            &e,
            shifts,
            &d,
            &mut zq,
            (&mut work, Some(&q_rows)),
            false,
        )
        .unwrap();
        for (k, &s) in shifts.iter().enumerate() {
            let mut z1 = vec![0.0; m];
            tridiagonal_solve(&a, &e, [s], &d, &mut z1, (&mut work, Some(&q_rows)), false).unwrap();
            assert_eq!(z1, zq[k * m..(k + 1) * m], "Q·z of shift {k}");
            let want = &q * DVector::from_column_slice(&z4[k * m..(k + 1) * m]);
            let err = (want - DVector::from_column_slice(&z1)).amax();
            assert!(err <= 1e-12, "Q·z of shift {k}: error {err:e}");
        }
        // A shift that makes T + σI indefinite fails the whole group.
        let bad = [0.5, -10.0, 1.0, 2.0];
        assert!(tridiagonal_solve(&a, &e, bad, &d, &mut z, (&mut work, None), true).is_err());
    }
}
