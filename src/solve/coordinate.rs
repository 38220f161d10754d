//! Coordinate descent for penalized least squares, as an `argmin::core::Solver`.
//!
//! # Problem
//! With observation weights `v`, an offset `o`, the σ²-scaled elastic penalty
//! (`l1_j = σ²·f_j/b`, `l2_j = σ²·f_j/τ²`) and — with an intercept — weighted centering,
//! the negative log posterior times σ² is (up to a constant)
//! ```text
//! P(w) = ½‖ỹ − X̃w‖² + Σ_j [ l1_j·|w_j| + ½·l2_j·w_j² ],
//! X̃ = √v ∘ (X − x̄)/s,   ỹ = √v ∘ (y − o − ȳ),   b = ȳ − x̄ᵀ(w/s)
//! ```
//! (`s` the column scales when standardizing, else 1). Each coordinate update is exact:
//! `w_j ← S(x̃_jᵀr + h_j·w_j, l1_j)/(h_j + l2_j)` with `h_j = ‖x̃_j‖²` and `r = ỹ − X̃w`.
//!
//! # Algorithm (Friedman, Hastie & Tibshirani 2010; Tibshirani et al. 2012)
//! * **Naive updates** keep the residual `r`; **covariance updates** keep the gradient
//!   `g = X̃ᵀr` and cache Gram columns `X̃ᵀx̃_k` of the working set's coordinates (cheaper
//!   when `n ≫ p`). Between checks only `g` on the coordinates that have been in a working
//!   set is kept current, on a compact copy of their Gram rows: a moving coordinate costs
//!   an axpy of that set's length instead of `p`; each check recomputes
//!   `g = X̃ᵀỹ − Σ_k w_k·X̃ᵀx̃_k` in full.
//! * **Active set**: after a sweep over the working set, cycle over the non-zero coefficients
//!   until they settle, then sweep the working set again.
//! * **Anderson extrapolation** (Bertrand & Massias 2021; module `solve::anderson`): a
//!   cycle over the active set that has not settled after `ANDERSON_AFTER` (10) sweeps
//!   extrapolates the active coefficients from its last six sweeps every six sweeps, and so
//!   do outer iterations (a working-set sweep and its cycle) that keep not settling; the
//!   extrapolated point is taken only if it lowers `P`, its gradient or residual updated by
//!   the step (see `extrapolate_active`). Fits whose loops settle within 10 sweeps are
//!   unchanged, bit for bit (the tall benchmark paths, the GLM paths' subproblems). On `p > n`
//!   designs with duplicated columns and λ → 0 (the property tests' slowest paths) 5–7
//!   million sweeps became a few thousand; on the benchmark paths with correlated columns,
//!   fewer sweeps to the same KKT target (diabetes lasso 13 418 → 1 651, 500 × 5000 lasso
//!   7 087 → 2 875; docs/benchmarks.md).
//! * **Active-set Newton step**: a cycle over the active set that has not settled after 40
//!   sweeps (and again after 80, 160, …) proposes the minimizer of `P` on the current face —
//!   the non-zero coefficients keep their signs, the others stay 0 — where `P` is quadratic:
//!   `(H_FF + diag(l2_F))·w_F = g_F + H_FF·w_F − l1_F∘sign(w_F)`, one Cholesky factorization
//!   of the free coordinates' Gram matrix (read from the active-set or compact Gram matrix;
//!   skipped without one, or when `|F| > 3·sweeps`). If a sign would change the step stops
//!   where the first such coefficient reaches 0; it is taken through the same test as the
//!   Anderson point. Anderson extrapolation still contracts slowly when `X̃ᵀX̃ + diag(l2)` is
//!   as ill-conditioned as a square random design (an elastic net with mix 0.12 to
//!   `10⁻⁶·λ_max` on 60 × 60: 6.8 million sweeps); once the signs are right this step lands
//!   on the optimum (15 thousand sweeps). Loops that settle within 40 sweeps — every
//!   benchmark path but the diabetes elastic net — are unchanged bit for bit.
//! * **Strong rules** (paths): the working set for λ_k keeps `j` when
//!   `|x̃_jᵀr(λ_{k−1})| ≥ 2·l1_j(λ_k) − l1_j(λ_{k−1})`; every discarded coordinate is checked
//!   against the KKT conditions at the end and added back if it violates them.
//! * **Stopping**: both the duality gap relative to the null objective `½‖ỹ‖²` and the largest
//!   KKT violation relative to `max_j |x̃_jᵀỹ|` must be below their tolerances. The gap alone
//!   cannot certify coefficients to 1e-6: it bounds the objective, and coefficient errors enter
//!   it squared, below what f64 resolves (~1e-16 of the null objective). The KKT violation is
//!   first order in the coefficient error, so it can.
//!
//! # Dual
//! With `c = X̃ᵀr` and `θ = s·r`, `s = min(1, min_{l2_j=0} l1_j/|c_j|)`:
//! `D(θ) = ỹᵀθ − ½‖θ‖² − Σ_{l2_j>0} (|θᵀx̃_j| − l1_j)₊²/(2·l2_j)`, and gap = `P(w) − D(θ) ≥ 0`.

use crate::convergence::{Convergence, Measure};
use crate::design::Design;
use crate::error::{Error, Result};
use crate::likelihood::Likelihood;
use crate::linalg::add_column_products;
use crate::objective::MapProblem;
use crate::prior::{ElasticPenalty, Prior};
use crate::simd::wide;
use crate::solve::anderson::Anderson;
use argmin::core::{IterState, Problem, Solver, State, TerminationReason, TerminationStatus, KV};
use nalgebra::{DMatrix, DVector};
use std::borrow::Cow;

/// Argmin state used by mapfit's own solvers: θ as a `DVector`, the gradient slot unused.
pub type CdState = IterState<DVector<f64>, DVector<f64>, (), (), (), f64>;

/// Default relative duality-gap tolerance.
pub const DEFAULT_GAP_TOL: f64 = 1e-12;
/// Default relative KKT tolerance.
pub const DEFAULT_KKT_TOL: f64 = 1e-11;

/// Marks a coefficient without a cached Gram column.
const NO_SLOT: usize = usize::MAX;

/// Fewest new Gram columns computed in one pass over `X̃` when the working set is screened
/// (covariance mode). A pass that computes `k` columns does `k` multiply-adds per element of
/// `X̃` it reads; below ~30 the pass is bound by memory bandwidth (about 1.5·10⁹ elements/s
/// against ~4·10¹⁰ multiply-adds/s on this project's two-core benchmark machine), so four
/// columns cost about as much time as thirty-two (synth_reg_tall's lasso path: batches of
/// 4, 4, 8, 16, 32 new columns took 6–9 ms each; with this floor the path's Gram columns
/// take five passes instead of eight, 99 → 82 ms). Applied from `n·p ≥ 2²⁰` elements
/// (8 MiB): a smaller `X` stays in cache, where a pass is not bound by memory and a batch
/// need not be wider than the working set.
const MIN_GRAM_BATCH: usize = 32;

/// Size of `X` (elements) from which [`MIN_GRAM_BATCH`] applies.
const MIN_GRAM_BATCH_X_LEN: usize = 1 << 20;

/// Largest weighted copy of `X̃` (elements; 1 MiB) that the automatic choice stores instead
/// of reading `X` in place ([`weighted_copy_pays`]).
const SMALL_COPY_LEN: usize = 1 << 17;

/// The automatic choice between a stored weighted copy of `n × cols` elements and reading
/// them in place with the residual held as `√v∘r` (naive updates with observation weights):
/// copy when the copy is at most 1 MiB. Such a copy sits in cache, where the extra
/// subtraction and multiplication of an in-place product cost time: the 569 × 30
/// L1-logistic path took 25–30 % longer in place. Beyond it the two read the same bytes per
/// product and the in-place engine saves the copy's `n × |working set|` values: on the
/// 5000-row benchmark GLM paths (copies up to 4 MiB) in place took 3–8 % longer in one run,
/// the same within the noise in another, for an eighth to a thirteenth of the extra memory
/// (docs/benchmarks.md).
pub(crate) fn weighted_copy_pays(n: usize, cols: usize) -> bool {
    n.saturating_mul(cols) <= SMALL_COPY_LEN
}

/// Sweeps of one inner loop over the active set after which its iterates are extrapolated
/// (Anderson, [`crate::solve::anderson`]) every [`crate::solve::anderson::DEPTH`] + 1
/// sweeps. A well-conditioned problem settles before this and its sweeps are as without
/// extrapolation, bit for bit; an ill-conditioned one (a lasso with λ near 0 and `p > n`,
/// where cyclic sweeps contract by `1 − 10⁻⁶`) took millions of sweeps without it.
const ANDERSON_AFTER: u64 = 10;

/// Sweeps of one inner loop over the active set after which, and after every doubling of
/// which, the minimizer on the current signs is proposed ([`CdEngine::try_newton`]): 40, 80,
/// 160, … A loop that settles within 40 sweeps runs as without it, bit for bit.
const NEWTON_AFTER: u64 = 40;

/// Whether sweep `k` of an inner loop proposes a Newton step ([`NEWTON_AFTER`]).
fn newton_due(k: u64) -> bool {
    k >= NEWTON_AFTER && k.is_multiple_of(NEWTON_AFTER) && (k / NEWTON_AFTER).is_power_of_two()
}

/// `quiet_sweep` when no sweep since the last change of `w` or `r` from outside a sweep was quiet.
const NO_QUIET_SWEEP: u64 = u64::MAX;

/// `Σ aᵢbᵢ` with sixteen independent accumulators, so that several vector registers stay in
/// flight (floating-point addition is not reassociated automatically). The accumulators are
/// four groups of four adjacent lanes, `acc[k][l]` summing elements `16t + 4k + l`, so that a
/// group is one AVX2 register (or two SSE2 registers) and no lane ever moves between
/// registers until the final reduction (with scalar accumulators reduced as `acc₀ + acc₄ …`
/// the vectorizer paired non-adjacent lanes and spent as many shuffles as multiplications:
/// 1.7× slower on cache-resident columns). The loop runs with AVX2 where the CPU has it
/// ([`wide`]); the order of the additions, hence the bits, is the same either way.
#[inline]
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    wide(
        a.len(),
        #[inline(always)]
        || dot_map(a, b, |x| x),
    )
}

/// `Σ f(aᵢ)·bᵢ` with [`dot`]'s accumulators (`f` the identity for [`dot`], an [`element`] of
/// X̃ for [`dot_centered`], so that the two agree bit for bit).
#[inline(always)]
fn dot_map(a: &[f64], b: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    lanes_sum([a, b], |[x, y]| f(x) * y)
}

/// `Σᵢ term(s₀ᵢ, s₁ᵢ, …)` over the common length `n` of the slices, in [`dot`]'s order:
/// sixteen accumulators `acc[k][l]` over the terms `16t + 4k + l`, reduced lane by lane as
/// `(acc₀ + acc₁) + (acc₂ + acc₃)`, then `(t₀ + t₂) + (t₁ + t₃)`, then the remaining
/// `n mod 16` terms in order. Every reduction of this module that must agree bit for bit
/// with another goes through it.
#[inline(always)]
#[allow(clippy::needless_range_loop)] // `S` slices indexed in lockstep
fn lanes_sum<const S: usize>(slices: [&[f64]; S], term: impl Fn([f64; S]) -> f64) -> f64 {
    let n = slices.iter().fold(usize::MAX, |m, a| m.min(a.len()));
    let n = if S == 0 { 0 } else { n };
    let blocks: [&[[f64; 16]]; S] = std::array::from_fn(|c| slices[c][..n].as_chunks::<16>().0);
    let nb = n / 16;
    let mut acc = [[0.0f64; 4]; 4];
    for t in 0..nb {
        let rows: [&[f64; 16]; S] = std::array::from_fn(|c| &blocks[c][t]);
        for (k, a) in acc.iter_mut().enumerate() {
            for (l, al) in a.iter_mut().enumerate() {
                *al += term(std::array::from_fn(|c| rows[c][4 * k + l]));
            }
        }
    }
    let mut t = [0.0f64; 4];
    for (l, tl) in t.iter_mut().enumerate() {
        *tl = (acc[0][l] + acc[1][l]) + (acc[2][l] + acc[3][l]);
    }
    let mut s = (t[0] + t[2]) + (t[1] + t[3]);
    for i in 16 * nb..n {
        s += term(std::array::from_fn(|c| slices[c][i]));
    }
    s
}

/// `Σ aᵢ` with [`dot`]'s accumulators.
#[inline]
pub(crate) fn sum(a: &[f64]) -> f64 {
    wide(
        a.len(),
        #[inline(always)]
        || lanes_sum([a], |[x]| x),
    )
}

/// One element of `X̃`: `(√vᵢ·(xᵢⱼ − x̄ⱼ))·(1/sⱼ)`. Every place that forms an element — the
/// in-place products, the Gram rows, a stored copy — uses this expression, so that a product
/// in place equals, bit for bit, the same product on a stored copy (the screening and
/// `λ_max` compare such products with thresholds exactly).
#[inline(always)]
fn element(a: f64, m: f64, inv_s: f64, sqrt_v: f64) -> f64 {
    (sqrt_v * (a - m)) * inv_s
}

/// `Σᵢ ((aᵢ − m)·inv_s)·bᵢ`: [`dot`] of the column `(a − m)·inv_s` (the [`element`]s for unit
/// weights) with `b`, with [`dot`]'s accumulators, so equal to it bit for bit.
#[inline]
fn dot_centered(a: &[f64], m: f64, inv_s: f64, b: &[f64]) -> f64 {
    wide(
        a.len(),
        #[inline(always)]
        || dot_map(a, b, |x| element(x, m, inv_s, 1.0)),
    )
}

/// [`dot_centered`] with weights: [`dot`] of the [`element`]s `(√vᵢ·(aᵢ − m))·inv_s` with `b`.
#[inline]
fn dot_centered_weighted(a: &[f64], m: f64, inv_s: f64, v: &[f64], b: &[f64]) -> f64 {
    wide(
        a.len(),
        #[inline(always)]
        || dot_centered_weighted_kernel(a, m, inv_s, v, b),
    )
}

/// [`dot_centered_weighted`]'s loop.
#[inline(always)]
fn dot_centered_weighted_kernel(a: &[f64], m: f64, inv_s: f64, v: &[f64], b: &[f64]) -> f64 {
    lanes_sum([a, v, b], |[x, w, y]| element(x, m, inv_s, w) * y)
}

/// The working design `X̃ = √v ∘ (X − x̄)/s` as a view of the caller's `X` (column-major,
/// `n` rows): `transform: None` when `X̃ = X` (unit weights, no centering, no scaling),
/// else `Some((x̄, s, √v))` applied to each element as it is read. The engine never holds an
/// `n × p` copy; a product with a column costs one subtraction (and one multiplication by
/// `√vᵢ` with weights) per element more than on a stored copy, and saves the copy's pass.
#[derive(Clone, Copy)]
struct Source<'s> {
    x: &'s [f64],
    n: usize,
    transform: Option<(&'s [f64], &'s [f64], &'s [f64])>,
    /// All `√vᵢ = 1` (the products skip them).
    unit: bool,
    /// Engine coordinate `j` reads column `cols[j]` of `x` (`None`: column `j`).
    cols: Option<&'s [usize]>,
    /// The weights `vᵢ` when the residual is held in the weighted domain, `u = √v∘r`
    /// (see [`Source::dot_res`]); `None`: the residual is `r` itself.
    v: Option<&'s [f64]>,
}

impl<'s> Source<'s> {
    fn new(
        x: &'s [f64],
        n: usize,
        in_place: bool,
        (xbar, inv_scales, sqrt_v): (&'s [f64], &'s [f64], &'s [f64]),
        unit: bool,
    ) -> Self {
        Source {
            x,
            n,
            transform: in_place.then_some((xbar, inv_scales, sqrt_v)),
            unit,
            cols: None,
            v: None,
        }
    }

    /// This source with the residual in the weighted domain, `u = √v∘r` (for `Some(v)`).
    fn weighted_residual(mut self, v: Option<&'s [f64]>) -> Self {
        self.v = v;
        self
    }

    /// `x̃_jᵀr` from the residual as the engine holds it. In the weighted domain the
    /// product needs no weight at all: `x̃_jᵀr = Σᵢ √vᵢ·((xᵢⱼ − x̄ⱼ)/sⱼ)·rᵢ =
    /// Σᵢ ((xᵢⱼ − x̄ⱼ)/sⱼ)·uᵢ`, two streams (the column and `u`) like a product on a stored
    /// copy of `X̃`, where `r` itself would need `√v` as a third.
    #[inline(always)]
    fn dot_res(&self, j: usize, u: &[f64]) -> f64 {
        match (self.transform, self.v) {
            (Some((xbar, inv, _)), Some(_)) => dot_centered(self.col(j), xbar[j], inv[j], u),
            _ => self.dot(j, u),
        }
    }

    /// `r ← r + α·x̃_j` on the residual as the engine holds it; in the weighted domain
    /// `u ← u + α·√v∘x̃_j`, i.e. `uᵢ += α·vᵢ·(xᵢⱼ − x̄ⱼ)/sⱼ` (the weights are read by the
    /// updates that move, not by every product).
    #[inline(always)]
    fn axpy_res(&self, j: usize, alpha: f64, u: &mut [f64]) {
        match (self.transform, self.v) {
            (Some((xbar, inv, _)), Some(v)) => {
                let (m, inv, c) = (xbar[j], inv[j], self.col(j));
                wide(
                    u.len(),
                    #[inline(always)]
                    || {
                        for ((ui, &x), &vi) in u.iter_mut().zip(c).zip(v) {
                            *ui += alpha * (vi * element(x, m, inv, 1.0));
                        }
                    },
                )
            }
            _ => self.axpy(j, alpha, u),
        }
    }

    /// This source reading engine coordinate `j` from column `cols[j]` of `x`.
    fn mapped(mut self, cols: Option<&'s [usize]>) -> Self {
        self.cols = cols;
        self
    }

    fn col(&self, j: usize) -> &'s [f64] {
        let c = self.cols.map_or(j, |m| m[j]);
        &self.x[c * self.n..(c + 1) * self.n]
    }

    /// `x̃_jᵀa`.
    #[inline(always)]
    fn dot(&self, j: usize, a: &[f64]) -> f64 {
        let c = self.col(j);
        match self.transform {
            None => dot(c, a),
            Some((xbar, inv, sqrt_v)) => {
                if self.unit {
                    dot_centered(c, xbar[j], inv[j], a)
                } else {
                    dot_centered_weighted(c, xbar[j], inv[j], sqrt_v, a)
                }
            }
        }
    }

    /// `a ← a + α·x̃_j`.
    #[inline(always)]
    fn axpy(&self, j: usize, alpha: f64, a: &mut [f64]) {
        let c = self.col(j);
        match self.transform {
            None => axpy(alpha, c, a),
            Some((xbar, inv, sqrt_v)) => {
                let (m, inv) = (xbar[j], inv[j]);
                if self.unit {
                    wide(
                        a.len(),
                        #[inline(always)]
                        || {
                            for (ai, &x) in a.iter_mut().zip(c) {
                                *ai += alpha * element(x, m, inv, 1.0);
                            }
                        },
                    )
                } else {
                    wide(
                        a.len(),
                        #[inline(always)]
                        || {
                            for ((ai, &x), &v) in a.iter_mut().zip(c).zip(sqrt_v) {
                                *ai += alpha * element(x, m, inv, v);
                            }
                        },
                    )
                }
            }
        }
    }

    /// `out ← x̃_j`.
    fn fill(&self, j: usize, out: &mut [f64]) {
        let c = self.col(j);
        match self.transform {
            None => out.copy_from_slice(c),
            Some((xbar, inv, sqrt_v)) => {
                let (m, inv) = (xbar[j], inv[j]);
                wide(
                    out.len(),
                    #[inline(always)]
                    || {
                        for ((o, &a), &v) in out.iter_mut().zip(c).zip(sqrt_v) {
                            *o = element(a, m, inv, v);
                        }
                    },
                )
            }
        }
    }
}

/// [`Source`] over the engine's fields (a macro, so that the borrow covers those fields only
/// and the residual or gradient can be updated through it).
macro_rules! source {
    ($e:expr) => {
        Source::new(
            &$e.x[..],
            $e.n,
            $e.in_place,
            (&$e.xbar, &$e.inv_scales, &$e.sqrt_v),
            $e.unit_weights,
        )
        .mapped($e.xcols.as_deref())
        .weighted_residual($e.v.as_deref())
    };
}

/// The blocked branch of [`CdEngine::ensure_gram`]: Gram columns of `X̃` for a batch of
/// columns, written into a `p × |batch|` column-major slice.
///
/// Only products not known otherwise are computed. Rows of cached columns come from the
/// cache by symmetry (`G[i, m] = G[m, i]`), and within the batch only the lower block
/// triangle is multiplied: the batch `M` is cut into blocks of [`GRAM_BLOCK`] columns, and
/// block `b` is multiplied against the rows of `M`'s later blocks and of the other uncached
/// columns, the rest of its column being copied from the earlier blocks' products. Over a
/// path whose batches end up covering X that is about half of a full `XᵀX` (the flops of a
/// `syrk`), where multiplying every batch against all `p` rows costs up to twice as much.
struct GramJob<'s> {
    src: Source<'s>,
    /// The columns whose Gram column is not cached (those whose rows are multiplied).
    rest: &'s [usize],
    cached: &'s [f64],
    slots: &'s [usize],
}

/// Columns of one block of a Gram batch's triangle ([`GramJob`]): narrow enough that the
/// products multiplied twice (a block against itself) are a few percent of a large batch,
/// wide enough for whole 3 × 4 tiles.
const GRAM_BLOCK: usize = 16;

/// Rows per step of a Gram batch: every block of the batch is multiplied over these rows
/// before the next, so the rows of the left factor are read from memory once per step and
/// from the cache by the other blocks (256 rows of 500 columns: 1 MiB).
const GRAM_ROWS: usize = 256;

impl GramJob<'_> {
    /// `out[:, c] = X̃ᵀx̃_{missing[c]}`.
    fn columns(&self, missing: &[usize], out: &mut [f64]) {
        let src = self.src;
        let (n, p, k) = (src.n, self.slots.len(), missing.len());
        // The rows multiplied, in the order of the left factor: the batch first, then every
        // other uncached column.
        let mut in_batch = vec![false; p];
        for &m in missing {
            in_batch[m] = true;
        }
        let mut order = missing.to_vec();
        order.extend(self.rest.iter().copied().filter(|&j| !in_batch[j]));
        let m = order.len();
        // Block `b` (batch columns j0 .. j0 + bj) holds the products of `order[j0..]`
        // with its columns, an (m − j0) × bj column-major matrix at `offset`.
        let blocks: Vec<(usize, usize, usize)> = (0..k)
            .step_by(GRAM_BLOCK)
            .scan(0, |offset, j0| {
                let bj = GRAM_BLOCK.min(k - j0);
                let b = (j0, bj, *offset);
                *offset += (m - j0) * bj;
                Some(b)
            })
            .collect();
        let total = blocks.last().map_or(0, |&(j0, bj, o)| o + (m - j0) * bj);
        // A large batch runs on two rayon tasks, halves of the rows summed at the end: the
        // split depends on the size only, so the bits do not depend on the thread count.
        let tri = if n * total >= 8_000_000 && n >= 2 * GRAM_ROWS {
            let half = n / 2 / GRAM_ROWS * GRAM_ROWS;
            let (mut a, b) = rayon::join(
                || triangle(src, &order, &blocks, total, 0..half),
                || triangle(src, &order, &blocks, total, half..n),
            );
            for (u, v) in a.iter_mut().zip(&b) {
                *u += v;
            }
            a
        } else {
            triangle(src, &order, &blocks, total, 0..n)
        };
        for &(j0, bj, offset) in &blocks {
            let ld = m - j0;
            for t in 0..bj {
                let col = &mut out[(j0 + t) * p..(j0 + t + 1) * p];
                let products = &tri[offset + t * ld..offset + (t + 1) * ld];
                for (&i, &g) in order[j0..].iter().zip(products) {
                    col[i] = g;
                }
            }
        }
        for (c, &mc) in missing.iter().enumerate() {
            // Rows of the batch's earlier blocks, from their own columns.
            for a in 0..c / GRAM_BLOCK * GRAM_BLOCK {
                out[c * p + missing[a]] = out[a * p + mc];
            }
            for i in 0..p {
                let s = self.slots[i];
                if s != NO_SLOT {
                    out[c * p + i] = self.cached[s * p + mc];
                }
            }
        }
    }
}

/// The products of [`GramJob::columns`]' block triangle over the rows `rows`: block
/// `(j0, bj, offset)` gets `X̃_{R, order[j0..]}ᵀ·X̃_{R, order[j0..j0+bj]}` at `offset`.
/// Columns of a stored `X̃` are read in place; a transformed one (centered, scaled, weighted
/// on the fly) is written out [`GRAM_ROWS`] rows at a time.
fn triangle(
    src: Source<'_>,
    order: &[usize],
    blocks: &[(usize, usize, usize)],
    total: usize,
    rows: std::ops::Range<usize>,
) -> Vec<f64> {
    let m = order.len();
    let mut tri = vec![0.0; total];
    let mut products = |cols: &[&[f64]], r0: usize, rb: usize| {
        for &(j0, bj, offset) in blocks {
            let ld = m - j0;
            let part = &mut tri[offset..offset + ld * bj];
            add_column_products(part, ld, &cols[j0..], &cols[j0..j0 + bj], r0, rb);
        }
    };
    match src.transform {
        None => {
            let cols: Vec<&[f64]> = order.iter().map(|&j| src.col(j)).collect();
            for r0 in rows.clone().step_by(GRAM_ROWS) {
                products(&cols, r0, GRAM_ROWS.min(rows.end - r0));
            }
        }
        Some(_) => {
            let mut block = DMatrix::<f64>::zeros(GRAM_ROWS.min(rows.len()), m);
            for r0 in rows.clone().step_by(GRAM_ROWS) {
                let rb = GRAM_ROWS.min(rows.end - r0);
                gather_rows(src, order, r0, rb, &mut block);
                let ld = block.nrows();
                let data = block.as_slice();
                let cols: Vec<&[f64]> = (0..m).map(|c| &data[c * ld..c * ld + rb]).collect();
                products(&cols, 0, rb);
            }
        }
    }
    tri
}

/// The engine's response `ỹᵢ = √vᵢ·(yᵢ − offsetᵢ − ȳ)` into `y`, with `ȳ` the weighted mean
/// of `y − offset` (returned; `weighted_mean` gives a constant response exactly, so a
/// rounded `Σvᵢyᵢ/Σvᵢ` leaves no residual of noise for the slopes to fit) with an intercept,
/// 0 without.
fn centered_response(design: &Design<'_>, sqrt_v: &[f64], intercept: bool, y: &mut [f64]) -> f64 {
    let ybar = if intercept {
        design.weighted_mean(|i| design.y()[i] - design.offset_at(i))
    } else {
        0.0
    };
    for (i, yi) in y.iter_mut().enumerate() {
        *yi = sqrt_v[i] * (design.y()[i] - design.offset_at(i) - ybar);
    }
    ybar
}

/// `max_j |x̃_jᵀỹ|`, the KKT scale (1 when it is 0).
fn gradient_scale_of(xty: &[f64]) -> f64 {
    let s = xty.iter().fold(0.0f64, |m, a| m.max(a.abs()));
    if s > 0.0 {
        s
    } else {
        1.0
    }
}

/// Writes rows `r0..r0 + rb` of the `X̃` columns `cols` into the first `rb` rows of the
/// columns of `block` (column `c` of `block` ← column `cols[c]`).
fn gather_rows(src: Source<'_>, cols: &[usize], r0: usize, rb: usize, block: &mut DMatrix<f64>) {
    let rows = block.nrows();
    for (c, &j) in cols.iter().enumerate() {
        let col = &src.col(j)[r0..r0 + rb];
        let dst = &mut block.as_mut_slice()[c * rows..c * rows + rb];
        match src.transform {
            None => dst.copy_from_slice(col),
            Some((xbar, inv, sqrt_v)) => {
                let (m, inv) = (xbar[j], inv[j]);
                let pairs = col.iter().zip(&sqrt_v[r0..r0 + rb]);
                for (d, (&a, &v)) in dst.iter_mut().zip(pairs) {
                    *d = element(a, m, inv, v);
                }
            }
        }
    }
}

/// `h[t] = ‖x̃_j‖²` and `xty[t] = x̃_jᵀy` for the columns `j = j0 + t` of `src`. A pass over
/// a large `X` (`n·p ≥ 2²⁰`) runs on two rayon tasks, halves of the columns: it is bound by
/// memory bandwidth, which two cores share better than one (each column's products are the
/// same on either task).
fn column_products(src: Source<'_>, y: &[f64], j0: usize, h: &mut [f64], xty: &mut [f64]) {
    let (n, k) = (src.n, h.len());
    if n * k >= 1 << 20 && k >= 2 {
        let half = k / 2;
        let (h0, h1) = h.split_at_mut(half);
        let (x0, x1) = xty.split_at_mut(half);
        rayon::join(
            || column_products_seq(src, y, j0, h0, x0),
            || column_products_seq(src, y, j0 + half, h1, x1),
        );
    } else {
        column_products_seq(src, y, j0, h, xty);
    }
}

fn column_products_seq(src: Source<'_>, y: &[f64], j0: usize, h: &mut [f64], xty: &mut [f64]) {
    let mut buf = vec![0.0; if src.transform.is_some() { src.n } else { 0 }];
    for (t, (ht, xt)) in h.iter_mut().zip(xty.iter_mut()).enumerate() {
        let col: &[f64] = if src.transform.is_some() {
            src.fill(j0 + t, &mut buf);
            &buf
        } else {
            src.col(j0 + t)
        };
        *ht = dot(col, col);
        *xt = dot(col, y);
    }
}

/// `[Σᵢ (aᵢ − m)·b₀ᵢ, …, Σᵢ (aᵢ − m)·b_{K−1,i}]` in one pass over `a` (four accumulators per
/// column; `m = 0` gives plain dot products, bit for bit).
#[inline(always)]
fn dot_shifted<const K: usize>(a: &[f64], m: f64, b: [&[f64]; K]) -> [f64; K] {
    let n = a.len();
    let b: [&[f64]; K] = std::array::from_fn(|c| &b[c][..n]);
    let mut acc = [[0.0f64; 4]; K];
    let q = n - n % 4;
    let mut i = 0;
    while i < q {
        let a4 = &a[i..i + 4];
        let d = [a4[0] - m, a4[1] - m, a4[2] - m, a4[3] - m];
        for c in 0..K {
            let bc = &b[c][i..i + 4];
            for l in 0..4 {
                acc[c][l] += d[l] * bc[l];
            }
        }
        i += 4;
    }
    let mut out = [0.0; K];
    for c in 0..K {
        let mut s = (acc[c][0] + acc[c][2]) + (acc[c][1] + acc[c][3]);
        for k in q..n {
            s += (a[k] - m) * b[c][k];
        }
        out[c] = s;
    }
    out
}

/// Column `c` of the `p × K` column-major `out` ← `[(Σᵢ (x_ij − m_j)·b_ci)·(1/s_j)]_j` (with
/// `shift = Some((m, 1/s))`; plain `x_jᵀb_c` without), for the `p` columns `x[j]` (each of
/// length `n`: the engine's columns of X, a subset of X's in any order).
///
/// For `n·p·K ≥ 4·10⁶` the columns of `X` are split into two halves on rayon's pool (the
/// second half's results go through a buffer); every entry is the same dot product either
/// way, so the result does not depend on the thread count.
fn gram_chunk<const K: usize>(
    x: &[&[f64]],
    n: usize,
    shift: Option<(&[f64], &[f64])>,
    b: [&[f64]; K],
    out: &mut [f64],
) {
    let p = x.len();
    if n * p * K < 4_000_000 || p < 16 {
        gram_chunk_range(x, shift, b, out, p);
        return;
    }
    let h = p / 2;
    let (x0, x1) = x.split_at(h);
    let (s0, s1) = match shift {
        Some((m, inv)) => (Some((&m[..h], &inv[..h])), Some((&m[h..], &inv[h..]))),
        None => (None, None),
    };
    let mut tail = vec![0.0; K * (p - h)];
    rayon::join(
        || gram_chunk_range(x0, s0, b, out, p),
        || gram_chunk_range(x1, s1, b, &mut tail, p - h),
    );
    for c in 0..K {
        out[c * p + h..(c + 1) * p].copy_from_slice(&tail[c * (p - h)..(c + 1) * (p - h)]);
    }
}

/// [`gram_chunk`] on one thread for the columns `x[j]`, entry `(j, c)` at `out[c·ld + j]`.
fn gram_chunk_range<const K: usize>(
    x: &[&[f64]],
    shift: Option<(&[f64], &[f64])>,
    b: [&[f64]; K],
    out: &mut [f64],
    ld: usize,
) {
    for (j, &xj) in x.iter().enumerate() {
        let (m, inv) = shift.map_or((0.0, 1.0), |(m, inv)| (m[j], inv[j]));
        let d = wide(
            xj.len(),
            #[inline(always)]
            || dot_shifted(xj, m, b),
        );
        for c in 0..K {
            out[c * ld + j] = d[c] * inv;
        }
    }
}

/// `y ← y + αx`.
#[inline]
pub(crate) fn axpy(alpha: f64, x: &[f64], y: &mut [f64]) {
    wide(
        y.len(),
        #[inline(always)]
        || axpy_kernel(alpha, x, y),
    )
}

/// [`axpy`]'s loop.
#[inline(always)]
fn axpy_kernel(alpha: f64, x: &[f64], y: &mut [f64]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += alpha * xi;
    }
}

/// Four [`axpy`]s in one pass, `y ← (((y + α₀x₀) + α₁x₁) + α₂x₂) + α₃x₃` element by element:
/// the same roundings in the same order as four successive calls, bit for bit, with `y`
/// loaded and stored once instead of four times. Like [`axpy`], it stops at the shortest
/// slice.
#[inline]
pub(crate) fn axpy4(alpha: [f64; 4], x: [&[f64]; 4], y: &mut [f64]) {
    wide(
        y.len(),
        #[inline(always)]
        || axpy4_kernel(alpha, x, y),
    )
}

/// [`axpy4`]'s loop.
#[inline(always)]
fn axpy4_kernel(alpha: [f64; 4], x: [&[f64]; 4], y: &mut [f64]) {
    let m = x.iter().fold(y.len(), |m, c| m.min(c.len()));
    let y = &mut y[..m];
    let [x0, x1, x2, x3] = x.map(|c| &c[..m]);
    for i in 0..m {
        y[i] =
            (((y[i] + alpha[0] * x0[i]) + alpha[1] * x1[i]) + alpha[2] * x2[i]) + alpha[3] * x3[i];
    }
}

/// Workspace of coordinate descent on one (weighted, centered, scaled) least-squares design.
/// Reused along a λ path, so that every fit after the first is warm-started.
///
/// The working design `X̃` is not stored: the engine borrows the caller's column-major `X`
/// and applies the weights, centering and scaling as it reads a column, so its
/// memory is `O(n + p)` plus the Gram columns it caches (issue #9's budget). With
/// observation weights in naive mode, the residual is held in the weighted domain, `√v∘r`,
/// so that a coordinate's product reads the column and the residual only;
/// [`CdEngine::new`] and [`CdEngine::on_columns`] store a weighted copy there instead, the
/// in-place constructors do not. A coordinate
/// update is a dot product and an axpy over one contiguous column (naive updates), or an axpy
/// over a column of the compact Gram matrix of the coordinates that have been in the working
/// set (covariance updates). Gram columns are computed in batches when the working set is
/// screened, each batch's products not known by symmetry as dot products of columns read in
/// place (lower block triangles, the rows of cached columns copied).
#[derive(Debug, Clone)]
pub struct CdEngine<'a> {
    n: usize,
    p: usize,
    /// The caller's `X`, borrowed — `X̃ = √v ∘ (X − x̄)/s` is applied as columns are read
    /// ([`Source`]) — or, for naive updates with observation weights, a stored copy of `X̃`.
    x: Cow<'a, [f64]>,
    /// `x` is the caller's `X` and `X̃ ≠ X` (weights, centering or scaling to apply).
    in_place: bool,
    /// In place on a subset of `X`'s columns: engine coordinate `j` is column `xcols[j]`
    /// (naive mode only; covariance mode and a stored copy index their own columns).
    xcols: Option<Vec<usize>>,
    /// All observation weights are 1.
    unit_weights: bool,
    /// `1/sⱼ` (the [`element`]s multiply by it).
    inv_scales: Vec<f64>,
    /// One column of `X̃` (naive mode's active-set Gram rows when `X̃ ≠ X`).
    colbuf: Vec<f64>,
    y: Vec<f64>,
    xbar: Vec<f64>,
    /// `√vᵢ`, the square roots of the observation weights.
    sqrt_v: Vec<f64>,
    /// `Some(v)`, the weights themselves, when `r` holds the residual in the weighted
    /// domain, `u = √v∘(ỹ − X̃w)` (naive mode in place with weights): a product
    /// `x̃_jᵀ(ỹ − X̃w)` then reads the column and `u` only, as on a stored copy, and only a
    /// moving update reads the weights ([`Source::dot_res`]).
    v: Option<Vec<f64>>,
    ybar: f64,
    scales: Vec<f64>,
    h: Vec<f64>,
    xty: Vec<f64>,
    yy: f64,
    grad_scale: f64,
    l1: Vec<f64>,
    l2: Vec<f64>,
    w: Vec<f64>,
    r: Vec<f64>,
    g: Vec<f64>,
    /// `g = X̃ᵀr` is exact for the current `w` on every coordinate. Naive mode: false once
    /// the residual moved; covariance mode: false once a coordinate moved (`g` stays
    /// current on the compact set `C`, see `cidx`, but not outside it).
    g_fresh: bool,
    gram: Vec<f64>,
    gram_slot: Vec<usize>,
    covariance: bool,
    /// Covariance mode: the compact set `C`, every coordinate that has been in the working
    /// set (in order of entry). Sweeps only visit the working set, so only `g` on `C` is
    /// kept current between checks: a moving coordinate costs an axpy of length `|C|`
    /// instead of `p`. `cgram` is the Gram matrix restricted to `C` (`ccap × ccap`, column
    /// `u` at `u·ccap`), `gc` is `g` on `C`, and `cpos[j]` is `j`'s position in `C`.
    cidx: Vec<usize>,
    cpos: Vec<usize>,
    cgram: Vec<f64>,
    ccap: usize,
    gc: Vec<f64>,
    strong: Vec<bool>,
    strong_list: Vec<usize>,
    active: Vec<usize>,
    in_active: Vec<bool>,
    /// Naive mode: Gram matrix of the active set (`acap × acap`, column t at `t·acap`), so
    /// that cycles over the active set cost `O(|A|)` per moving coordinate and `O(1)` per
    /// coordinate that stays put; `None` once the active set outgrows [`CdEngine::AG_LIMIT`].
    agram: Option<Vec<f64>>,
    acap: usize,
    /// Naive mode: `X_Aᵀr` and the accumulated changes of the active coordinates during a
    /// cycle over the active set.
    ga: Vec<f64>,
    dw: Vec<f64>,
    /// Naive mode: whether a check recomputes `r = ỹ − X̃w` from scratch first.
    exact_residual: bool,
    /// Naive mode: checks after a quiet sweep take `g_j` from that sweep's own products for
    /// the coordinates it visited ([`CdEngine::checks_from_sweeps`]).
    sweep_checks: bool,
    /// The sweep in which each `g_j` was last set by an update (naive mode).
    g_stamp: Vec<u64>,
    /// The last sweep whose largest `h_j·Δ²` was within the threshold.
    quiet_sweep: u64,
    thresh: f64,
    sweeps: u64,
    checks: u64,
    updates: u64,
    violations: u64,
    /// The active coefficients of the last sweeps of a long inner loop, for Anderson
    /// extrapolation ([`ANDERSON_AFTER`]).
    anderson: Anderson,
    /// The same across outer iterations that do not settle, and the number of such
    /// iterations in a row.
    outer_anderson: Anderson,
    unsettled: u64,
    /// Scratch of an extrapolation: the step `d` on the active set, the gradient (or, naive
    /// mode without the active-set Gram, the residual) before it, the active gradient before
    /// it.
    trial_step: Vec<f64>,
    trial_save: Vec<f64>,
    trial_grad: Vec<f64>,
    /// Scratch of a Newton step: the proposed active coefficients.
    trial_point: Vec<f64>,
}

/// Where an inner loop over the active set keeps the active coordinates' gradient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ActiveGradient {
    /// `ga`, on the active-set Gram matrix (naive mode, small active sets).
    ActiveGram,
    /// `gc`, on the compact Gram matrix (covariance mode).
    Compact,
    /// Products with the residual `r` (naive mode, large active sets).
    Residual,
}

/// Outcome of one convergence check.
#[derive(Debug, Clone, Copy)]
pub struct Check {
    /// Duality gap / null objective.
    pub rel_gap: f64,
    /// Largest KKT violation (σ²-scaled objective units).
    pub kkt: f64,
    /// Largest KKT violation / max_j |x̃_jᵀỹ|.
    pub rel_kkt: f64,
    /// Coordinates outside the working set that violated the KKT conditions (added back).
    pub strong_violations: usize,
}

/// Result of one outer iteration followed (when the sweep was quiet) by a check.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    /// Largest `h_j·Δ²` of the sweep over the working set.
    pub full_sweep_change: f64,
    /// The check, if one ran.
    pub check: Option<Check>,
    /// Whether the check certified both tolerances (and found no strong-rule violation).
    pub converged: bool,
}

impl<'a> CdEngine<'a> {
    /// Builds the working design for least squares on `(x, y)` with optional observation
    /// weights, an optional intercept (weighted centering) and optional column scales
    /// (standardization; a scale of 0 marks a constant column, kept at 0).
    ///
    /// `covariance`: `None` chooses covariance updates by [`CdEngine::covariance_rule`] on
    /// the rows of positive weight. The engine keeps no copy of `X` (memory `O(n + p)`, plus
    /// `p·|cached|` Gram entries in covariance mode), except in naive mode with weights.
    pub fn new(
        design: &Design<'a>,
        intercept: bool,
        scales: Option<&[f64]>,
        covariance: Option<bool>,
    ) -> Self {
        Self::on_all_columns(design, intercept, scales, covariance, false)
    }

    /// [`CdEngine::new`] reading `X` in place in naive mode with observation weights too,
    /// where `new` stores a weighted copy: memory `O(n + p)` instead of `n·p`. The residual
    /// is held as `u = √v∘r`, so that a product `x̃_jᵀr = Σᵢ ((xᵢⱼ − x̄ⱼ)/sⱼ)·uᵢ` reads the
    /// column and `u` (as on the copy) and only an update that moves reads `v` as well; the
    /// solutions agree with the copy's to the solver's tolerance (the products round
    /// differently). Paths ([`Path::low_memory`](crate::path::Path::low_memory), the default)
    /// and cross-validation folds (zero weights on the full `X`) build their engine this
    /// way.
    pub fn new_in_place(
        design: &Design<'a>,
        intercept: bool,
        scales: Option<&[f64]>,
        covariance: Option<bool>,
    ) -> Self {
        Self::on_all_columns(design, intercept, scales, covariance, true)
    }

    fn on_all_columns(
        design: &Design<'a>,
        intercept: bool,
        scales: Option<&[f64]>,
        covariance: Option<bool>,
        weights_in_place: bool,
    ) -> Self {
        Self::build(
            design,
            design.x().as_slice(),
            None,
            intercept,
            scales,
            covariance,
            (!weights_in_place).then(Vec::new),
        )
    }

    /// [`CdEngine::new`] on the columns `cols` of the design's `X` only (engine coordinate
    /// `k` is column `cols[k]`; no scales): the working columns are stored, transformed, in
    /// one copy made straight from `X` (proximal Newton's subproblem on its working set).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a column index out of range.
    pub fn on_columns(
        design: &Design<'a>,
        cols: &[usize],
        intercept: bool,
        covariance: Option<bool>,
    ) -> Result<Self> {
        Self::on_columns_reusing(design, Some(cols), intercept, covariance, Vec::new())
    }

    /// [`CdEngine::on_columns`] (all columns for `None`, as [`CdEngine::new`] without
    /// scales) writing a stored copy of the working columns into `storage`'s allocation: a
    /// solver that builds one engine per step hands back [`CdEngine::into_storage`] and the
    /// copy reuses memory already mapped (a fresh `n × |cols|` buffer per step is page faults
    /// and zeroing by the kernel: 3.7 % of the Poisson L1 path's profile).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a column index out of range.
    pub fn on_columns_reusing(
        design: &Design<'a>,
        cols: Option<&[usize]>,
        intercept: bool,
        covariance: Option<bool>,
        storage: Vec<f64>,
    ) -> Result<Self> {
        let x = design.x().as_slice();
        Self::on_subset(design, x, cols, intercept, covariance, Some(storage))
    }

    /// [`CdEngine::on_columns`] reading the columns in place, the observation weights
    /// applied as by [`CdEngine::new_in_place`] (naive mode: the residual held as `√v∘r`):
    /// no copy, memory `O(n + p)` (plus the Gram columns' `O(p·|A|)` in covariance mode,
    /// whose products transform blocks of rows as they are read).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a column index out of range.
    pub fn on_columns_in_place(
        design: &Design<'a>,
        cols: Option<&[usize]>,
        intercept: bool,
        covariance: Option<bool>,
    ) -> Result<Self> {
        let x = design.x().as_slice();
        Self::on_subset(design, x, cols, intercept, covariance, None)
    }

    /// [`CdEngine::on_columns_reusing`] (`in_place` false) or
    /// [`CdEngine::on_columns_in_place`] (`in_place` true) with `X` borrowed for the engine's
    /// lifetime on its own: `design`, whose `X` must be `x`, is read only while the engine is
    /// built (its response and weights are copied), so the engine can outlive them — proximal
    /// Newton carries its IRLS model from one λ of a path to the next.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a column index out of range; [`Error::Solver`] when
    /// `design`'s `X` is not `x`.
    pub(crate) fn on_columns_of(
        x: &'a DMatrix<f64>,
        design: &Design<'_>,
        cols: Option<&[usize]>,
        intercept: bool,
        covariance: Option<bool>,
        storage: Vec<f64>,
        in_place: bool,
    ) -> Result<Self> {
        if !std::ptr::eq(x, design.x()) {
            return Err(Error::Solver(
                "internal: a coordinate-descent engine on another design's X".into(),
            ));
        }
        let copy_into = (!in_place).then_some(storage);
        Self::on_subset(design, x.as_slice(), cols, intercept, covariance, copy_into)
    }

    /// The engines on a subset of the columns (no scales), after checking the indices.
    fn on_subset(
        design: &Design<'_>,
        xd: &'a [f64],
        cols: Option<&[usize]>,
        intercept: bool,
        covariance: Option<bool>,
        copy_into: Option<Vec<f64>>,
    ) -> Result<Self> {
        Self::check_columns(design, cols)?;
        Ok(Self::build(
            design, xd, cols, intercept, None, covariance, copy_into,
        ))
    }

    /// The allocation of the engine's stored copy of `X̃` (empty when it reads `X` in place),
    /// for [`CdEngine::on_columns_reusing`].
    pub fn into_storage(self) -> Vec<f64> {
        match self.x {
            Cow::Owned(v) => v,
            Cow::Borrowed(_) => Vec::new(),
        }
    }

    fn check_columns(design: &Design<'_>, cols: Option<&[usize]>) -> Result<()> {
        match cols.into_iter().flatten().find(|&&j| j >= design.p()) {
            Some(&j) => Err(Error::InvalidParameter {
                name: "working column",
                value: j as f64,
                reason: "must be < p",
            }),
            None => Ok(()),
        }
    }

    /// The engine on `design` (whose `X` is `xd`), over its columns `cols` (`None`: all).
    /// `copy_into`: `None` reads `X` in place wherever it can (observation weights applied
    /// per element); `Some(storage)` stores `X̃` where the updates read it weighted (naive
    /// updates with observation weights, or a subset of the columns), in `storage`'s
    /// allocation.
    fn build(
        design: &Design<'_>,
        xd: &'a [f64],
        cols: Option<&[usize]>,
        intercept: bool,
        scales: Option<&[f64]>,
        covariance: Option<bool>,
        copy_into: Option<Vec<f64>>,
    ) -> Self {
        let weights_in_place = copy_into.is_none();
        let storage = copy_into.unwrap_or_default();
        let n = design.n();
        let p = cols.map_or(design.p(), |c| c.len());
        // Column of X behind engine coordinate j.
        let source_col = |j: usize| cols.map_or(j, |c| c[j]);
        let sqrt_v: Vec<f64> = (0..n).map(|i| design.weight(i).sqrt()).collect();
        let unit_weights = sqrt_v.iter().all(|&v| v == 1.0);
        // With unit weights the means decide whether X̃ = X (borrowed), so they come first;
        // otherwise X̃ is a copy and each column's mean is taken while it is being copied.
        let fused_means = intercept && !unit_weights;
        let mut xbar: Vec<f64> = if intercept && !fused_means {
            let means = design.column_means();
            (0..p).map(|j| means[source_col(j)]).collect()
        } else {
            vec![0.0; p]
        };
        let scales: Vec<f64> = match scales {
            Some(s) => s.iter().map(|&a| if a > 0.0 { a } else { 1.0 }).collect(),
            None => vec![1.0; p],
        };
        let mut y = vec![0.0; n];
        let ybar = centered_response(design, &sqrt_v, intercept, &mut y);
        let (mut h, mut xty) = (Vec::with_capacity(p), Vec::with_capacity(p));
        let n_positive = sqrt_v.iter().filter(|&&v| v > 0.0).count();
        let covariance = covariance.unwrap_or(Self::covariance_rule(n_positive, p));
        // Without weights, centering or scaling X̃ is X itself and its products skip the
        // transformation.
        let identity = cols.is_none()
            && unit_weights
            && xbar.iter().all(|&m| m == 0.0)
            && scales.iter().all(|&s| s == 1.0);
        // X̃ is applied in place, except for naive updates with observation weights unless
        // `weights_in_place` (the residual then held as √v∘r), and for a subset of the columns
        // unless `weights_in_place`.
        let in_place = !identity
            && if cols.is_none() {
                covariance || unit_weights || weights_in_place
            } else {
                weights_in_place
            };
        let inv_scales: Vec<f64> = scales.iter().map(|&s| 1.0 / s).collect();
        let v: Option<Vec<f64>> = (in_place && !unit_weights && !covariance)
            .then(|| (0..n).map(|i| design.weight(i)).collect());
        let x: Cow<'a, [f64]> = if identity || (in_place && !fused_means) {
            // `h_j = ‖x̃_j‖²` and `x̃_jᵀỹ`, each column formed (in place: in an O(n) buffer)
            // and read twice while it is in cache.
            h.resize(p, 0.0);
            xty.resize(p, 0.0);
            let src = Source::new(
                xd,
                n,
                !identity,
                (&xbar, &inv_scales, &sqrt_v),
                unit_weights,
            )
            .mapped(cols);
            column_products(src, &y, 0, &mut h, &mut xty);
            Cow::Borrowed(xd)
        } else {
            // Each column of X̃ is formed once — in an O(n) buffer, or in place in the copy —
            // for its h_j and x̃_jᵀỹ (its mean, when needed, read just before, while the
            // column is in cache).
            let sw = design.weight_sum();
            // In place: one column buffer. Stored: the copy grows column by column (written
            // once, no zero-fill first).
            let mut buf = vec![0.0; if in_place { n } else { 0 }];
            // (A smaller allocation is replaced, not grown: growing would copy its old
            // contents.)
            let mut copy = if !in_place && storage.capacity() >= n * p {
                storage
            } else {
                drop(storage);
                Vec::with_capacity(if in_place { 0 } else { n * p })
            };
            copy.clear();
            for j in 0..p {
                let c = source_col(j);
                let src = &xd[c * n..(c + 1) * n];
                if fused_means {
                    xbar[j] = design.slice_weighted_mean(src, sw);
                }
                let col: &[f64] = if in_place {
                    Source::new(xd, n, true, (&xbar, &inv_scales, &sqrt_v), unit_weights)
                        .mapped(cols)
                        .fill(j, &mut buf);
                    &buf
                } else {
                    let (m, inv) = (xbar[j], inv_scales[j]);
                    let pairs = src.iter().zip(&sqrt_v);
                    copy.extend(pairs.map(|(&a, &v)| element(a, m, inv, v)));
                    &copy[j * n..]
                };
                h.push(dot(col, col));
                xty.push(dot(col, &y));
            }
            if in_place {
                Cow::Borrowed(xd)
            } else {
                Cow::Owned(copy)
            }
        };
        let yy = dot(&y, &y);
        let grad_scale = gradient_scale_of(&xty);
        let strong_list: Vec<usize> = (0..p).filter(|&j| h[j] > 0.0).collect();
        CdEngine {
            n,
            p,
            r: if v.is_some() {
                y.iter().zip(&sqrt_v).map(|(a, s)| s * a).collect()
            } else {
                y.clone()
            },
            g: xty.clone(),
            g_fresh: true,
            x,
            in_place,
            xcols: cols.filter(|_| in_place).map(<[usize]>::to_vec),
            unit_weights,
            inv_scales,
            colbuf: Vec::new(),
            y,
            xbar,
            sqrt_v,
            v,
            ybar,
            scales,
            h,
            xty,
            yy,
            grad_scale,
            l1: vec![0.0; p],
            l2: vec![0.0; p],
            w: vec![0.0; p],
            gram: Vec::new(),
            gram_slot: vec![NO_SLOT; p],
            covariance,
            cidx: Vec::new(),
            cpos: vec![NO_SLOT; p],
            cgram: Vec::new(),
            ccap: 0,
            gc: Vec::new(),
            strong: vec![true; p],
            strong_list,
            active: Vec::new(),
            in_active: vec![false; p],
            agram: if covariance { None } else { Some(Vec::new()) },
            acap: 0,
            ga: Vec::new(),
            dw: Vec::new(),
            exact_residual: true,
            sweep_checks: false,
            g_stamp: vec![0; p],
            quiet_sweep: NO_QUIET_SWEEP,
            thresh: 0.0,
            sweeps: 0,
            checks: 0,
            updates: 0,
            violations: 0,
            anderson: Anderson::default(),
            outer_anderson: Anderson::default(),
            unsettled: 0,
            trial_step: Vec::new(),
            trial_save: Vec::new(),
            trial_grad: Vec::new(),
            trial_point: Vec::new(),
        }
    }

    /// The default choice of covariance updates for `n` rows (of positive weight) and `p`
    /// columns: `n ≥ 2p` and `p ≤ 3000` (beyond that the `p × |A|` Gram cache outgrows its
    /// savings).
    pub fn covariance_rule(n: usize, p: usize) -> bool {
        n >= 2 * p && p <= 3000
    }

    /// `max_j |x̃_jᵀỹ|` (1 if 0), the scale of [`Check::rel_kkt`].
    pub fn gradient_scale(&self) -> f64 {
        self.grad_scale
    }

    /// The largest curvature `h_j = ‖x̃_j‖²` of the working design.
    pub fn max_curvature(&self) -> f64 {
        self.h.iter().fold(0.0f64, |m, &h| m.max(h))
    }

    /// Number of coefficients.
    pub fn p(&self) -> usize {
        self.p
    }
    /// Number of observations.
    pub fn n(&self) -> usize {
        self.n
    }
    /// `x̃_jᵀỹ` for every j: the gradient of the data term at `w = 0` (λ_max's numerator).
    pub fn null_gradient(&self) -> &[f64] {
        &self.xty
    }
    /// The current `X̃ᵀr` (exact after a [`CdEngine::check`]).
    pub fn gradient(&self) -> &[f64] {
        &self.g
    }
    /// The null objective `½‖ỹ‖²`.
    pub fn null_objective(&self) -> f64 {
        0.5 * self.yy
    }
    /// The null deviance `‖ỹ‖²` (weighted residual sum of squares of the intercept-only
    /// model, or of the zero model without an intercept).
    pub fn null_deviance(&self) -> f64 {
        self.yy
    }
    /// The (weighted) residual sum of squares `‖ỹ − X̃w‖²` of the current coefficients.
    pub fn residual_sum_of_squares(&self) -> f64 {
        self.residual_products().0.max(0.0)
    }
    /// Whether covariance updates are used.
    pub fn uses_covariance(&self) -> bool {
        self.covariance
    }
    /// Total coordinate sweeps so far.
    pub fn sweeps(&self) -> u64 {
        self.sweeps
    }
    /// Total convergence checks (full gradient passes) so far.
    pub fn checks(&self) -> u64 {
        self.checks
    }
    /// Total coordinate updates so far (coordinates visited by the sweeps).
    pub fn coordinate_updates(&self) -> u64 {
        self.updates
    }
    /// Total coordinates that the strong rule discarded but the KKT check added back.
    pub fn strong_rule_violations(&self) -> u64 {
        self.violations
    }
    /// Coefficients on the working (scaled) coordinates.
    pub fn working_coefficients(&self) -> &[f64] {
        &self.w
    }
    /// The column scales of the working design (1 where none).
    pub fn column_scales(&self) -> &[f64] {
        &self.scales
    }
    /// The current L1 weights (σ²-scaled).
    pub fn l1(&self) -> &[f64] {
        &self.l1
    }
    /// The inner-loop threshold on `h_j·Δ²` (0 until the first iteration sets it).
    pub fn threshold(&self) -> f64 {
        self.thresh
    }
    /// Sets the inner-loop threshold (0 lets the next iteration choose).
    pub fn set_threshold(&mut self, t: f64) {
        self.thresh = t.max(0.0);
    }

    /// Sets the σ²-scaled penalty (`pen.l1/l2` multiplied by `sigma2`).
    pub fn set_penalty(&mut self, pen: &ElasticPenalty, sigma2: f64) {
        for j in 0..self.p {
            self.l1[j] = sigma2 * pen.l1[j];
            self.l2[j] = sigma2 * pen.l2[j];
        }
    }

    /// Sets the σ²-scaled penalty weights directly.
    pub fn set_weights(&mut self, l1: &[f64], l2: &[f64]) {
        self.l1.copy_from_slice(l1);
        self.l2.copy_from_slice(l2);
    }

    /// Sequential strong rule: keep coordinate j when `|x̃_jᵀr| ≥ 2·l1_j − l1_prev_j`
    /// (with the current residual, i.e. the previous solution), plus every coordinate that
    /// was ever non-zero or is unpenalized. `None` keeps every coordinate.
    ///
    /// With covariance updates, the missing Gram columns of the working set are computed here
    /// in one block.
    pub fn screen(&mut self, l1_prev: Option<&[f64]>) {
        let (n, p) = (self.n, self.p);
        if l1_prev.is_some() && !self.g_fresh {
            if self.covariance {
                self.recompute_gradient_covariance();
            } else {
                self.refresh_gradient();
            }
        }
        match l1_prev {
            None => self.strong.iter_mut().for_each(|s| *s = true),
            Some(prev) => {
                for (j, &lp) in prev.iter().enumerate().take(p) {
                    self.strong[j] = self.in_active[j]
                        || self.l1[j] == 0.0
                        || self.g[j].abs() >= 2.0 * self.l1[j] - lp;
                }
            }
        }
        self.strong_list.clear();
        self.strong_list
            .extend((0..p).filter(|&j| self.strong[j] && self.h[j] > 0.0));
        if self.covariance {
            let mut missing: Vec<usize> = self
                .strong_list
                .iter()
                .copied()
                .filter(|&j| self.gram_slot[j] == NO_SLOT)
                .collect();
            if !missing.is_empty() {
                // Geometric prefetch: compute at least as many new columns as are cached (and
                // on a large X at least MIN_GRAM_BATCH), the extra ones those closest to
                // entering (largest |x̃_jᵀr|/l1_j), so that a path passes over X̃ O(log p)
                // times for its Gram columns, at most twice the work.
                let cached = self.gram.len() / p.max(1);
                let floor = if n * p >= MIN_GRAM_BATCH_X_LEN {
                    MIN_GRAM_BATCH
                } else {
                    0
                };
                let batch = cached.max(floor);
                if missing.len() < batch {
                    let mut extra: Vec<(f64, usize)> = (0..p)
                        .filter(|&j| {
                            self.gram_slot[j] == NO_SLOT && !self.strong[j] && self.h[j] > 0.0
                        })
                        .map(|j| {
                            let l1 = self.l1[j];
                            let s = if l1 > 0.0 {
                                self.g[j].abs() / l1
                            } else {
                                f64::INFINITY
                            };
                            (s, j)
                        })
                        .collect();
                    let want = (batch - missing.len()).min(extra.len());
                    if want > 0 && want < extra.len() {
                        extra.select_nth_unstable_by(want - 1, |a, b| b.0.total_cmp(&a.0));
                    }
                    missing.extend(extra[..want].iter().map(|e| e.1));
                }
                self.ensure_gram(&missing);
            }
            self.compact_strong();
        }
    }

    /// Covariance mode: adds the working set's coordinates that are not in the compact set
    /// `C` to it.
    fn compact_strong(&mut self) {
        let new: Vec<usize> = (self.strong_list.iter())
            .copied()
            .filter(|&j| self.cpos[j] == NO_SLOT)
            .collect();
        self.compact_add(&new);
    }

    /// Covariance mode: appends `new` (coordinates not in `C`) to the compact set: their rows
    /// and columns of the Gram matrix into `cgram` (from the cached Gram columns, computed
    /// first if missing) and their `g_j = x̃_jᵀỹ − Σ_k G_jk·w_k`, exact for the current `w`
    /// (summed in the order of [`CdEngine::recompute_gradient_covariance`], so the same bits).
    fn compact_add(&mut self, new: &[usize]) {
        if new.is_empty() {
            return;
        }
        self.ensure_gram(new);
        let p = self.p;
        let m0 = self.cidx.len();
        let m1 = m0 + new.len();
        if m1 > self.ccap {
            let cap = m1.max(2 * self.ccap).max(16).min(p);
            let mut cg = vec![0.0; cap * cap];
            for u in 0..m0 {
                cg[u * cap..u * cap + m0]
                    .copy_from_slice(&self.cgram[u * self.ccap..u * self.ccap + m0]);
            }
            self.cgram = cg;
            self.ccap = cap;
        }
        for &j in new {
            self.cpos[j] = self.cidx.len();
            self.cidx.push(j);
        }
        let cap = self.ccap;
        for u in 0..m1 {
            let s = self.gram_slot[self.cidx[u]];
            let col = &self.gram[s * p..(s + 1) * p];
            // Old columns gain the new rows; new columns are filled whole.
            let t0 = if u < m0 { m0 } else { 0 };
            for t in t0..m1 {
                self.cgram[u * cap + t] = col[self.cidx[t]];
            }
        }
        for &j in new {
            let mut gj = self.xty[j];
            for &k in &self.active {
                let wk = self.w[k];
                if wk != 0.0 {
                    gj -= wk * self.gram[self.gram_slot[k] * p + j];
                }
            }
            self.gc.push(gj);
        }
    }

    /// Naive mode without the active-set Gram matrix: every update goes through the residual
    /// (`O(n)` per coordinate). For a subproblem solved once, in a few sweeps (a Newton step
    /// of [`crate::solve::ProximalNewton`]), building that matrix (`O(n·|A|²)`) would cost
    /// more than it saves. Call before [`CdEngine::set_working_coefficients`].
    pub fn without_active_gram(&mut self) {
        self.agram = None;
    }

    /// Naive mode: a check right after a quiet sweep (largest `h_j·Δ_j²` within the
    /// threshold) takes `g_j = x̃_jᵀr` of every coordinate that sweep visited from the update's
    /// own product, corrected for its own step (`x̃_jᵀr − h_jΔ_j`), and computes it only for
    /// the others: the check then costs a pass over the unvisited columns instead of all.
    /// Such a `g_j` is stale by the later steps of the same sweep, at most
    /// `Σ_k |Δ_k|·|x̃_jᵀx̃_k| ≤ √(h_j·thresh)` per step, so the KKT violation it measures is
    /// approximate at that scale: for a solver that verifies the true problem's KKT conditions
    /// itself (proximal Newton's outer loop), not for a final certificate. The duality gap
    /// of such a check uses the same `g`.
    pub fn checks_from_sweeps(&mut self) {
        self.sweep_checks = true;
    }

    /// Replaces the response by `design`'s (its `y − offset`; same `X`, columns and
    /// observation weights as the engine was built with — proximal Newton's next model on the
    /// same IRLS weights), keeping `X̃`, its means and curvatures and the cached Gram columns:
    /// `ȳ` (with `intercept`), `ỹ`, `X̃ᵀỹ`, `‖ỹ‖²` and the KKT scale are recomputed (one
    /// pass over the columns). The coefficients are the caller's to set next
    /// ([`CdEngine::set_working_coefficients`] or `…_with_fit`), which brings the residual or
    /// the gradient up to date; the sweep and Anderson state restart.
    pub(crate) fn set_response(&mut self, design: &Design<'_>, intercept: bool) {
        self.ybar = centered_response(design, &self.sqrt_v, intercept, &mut self.y);
        let mut h = vec![0.0; self.p];
        column_products(source!(self), &self.y, 0, &mut h, &mut self.xty);
        self.response_replaced();
    }

    /// After `ỹ` and `X̃ᵀỹ` were replaced: `‖ỹ‖²` and the KKT scale from them, and the sweep
    /// and Anderson state restart.
    fn response_replaced(&mut self) {
        self.yy = dot(&self.y, &self.y);
        self.grad_scale = gradient_scale_of(&self.xty);
        self.unsettled = 0;
        self.quiet_sweep = NO_QUIET_SWEEP;
        self.g_fresh = false;
    }

    /// [`CdEngine::set_response`] for proximal Newton's next model on the same IRLS weights
    /// `a` (a chord step), from what the caller knows at its point θ = (w, b) instead of a
    /// pass over the columns: `w` on the engine's coordinates (θ non-zero nowhere else),
    /// and the true problem's data gradient there, `grad` on the engine's columns
    /// (`g_j = Σᵢ vᵢ·xᵢⱼ·ℓ′ᵢ`) and `grad_b = Σᵢ vᵢ·ℓ′ᵢ`. The new response is
    /// `zᵢ = ηᵢ − offsetᵢ − vᵢ·ℓ′ᵢ/aᵢ` with `η − offset = Xw + b`, so with `X̃ = √a∘(X − x̄)`
    /// (`Σᵢ aᵢ(xᵢⱼ − x̄ⱼ) = 0` with an intercept; `x̄ = 0`, `b = 0` without)
    /// `x̃_jᵀz̃ = Σᵢ aᵢ(xᵢⱼ − x̄ⱼ)zᵢ = Σ_k G_jk·w_k − (g_j − x̄ⱼ·grad_b)`: the Gram columns of
    /// w's non-zero coordinates (computed if missing) instead of a pass over `X`. Rows with
    /// `aᵢ = 0` have `vᵢ·ℓ′ᵢ = 0` (the IRLS weights' floor), so they add nothing to either
    /// side. Covariance mode with unit scales and a finite gradient only; otherwise the
    /// pass of `set_response`.
    pub(crate) fn set_response_at(
        &mut self,
        design: &Design<'_>,
        intercept: bool,
        w: &[f64],
        grad: &[f64],
        grad_b: f64,
    ) {
        let usable = self.covariance
            && w.len() == self.p
            && grad.len() == self.p
            && self.scales.iter().all(|&s| s == 1.0)
            && grad.iter().all(|g| g.is_finite())
            && grad_b.is_finite();
        if !usable {
            self.set_response(design, intercept);
            return;
        }
        self.ybar = centered_response(design, &self.sqrt_v, intercept, &mut self.y);
        let nz: Vec<usize> = (0..self.p).filter(|&k| w[k] != 0.0).collect();
        self.ensure_gram(&nz);
        let p = self.p;
        for ((t, &m), &g) in self.xty.iter_mut().zip(&self.xbar).zip(grad) {
            *t = m * grad_b - g;
        }
        for &k in &nz {
            let s = self.gram_slot[k];
            axpy(w[k], &self.gram[s * p..(s + 1) * p], &mut self.xty);
        }
        self.response_replaced();
    }

    /// Naive mode: checks use the incrementally updated residual instead of recomputing it
    /// from the coefficients (saves a pass over the active columns per check).
    pub fn incremental_residual(&mut self) {
        self.exact_residual = false;
    }

    /// Naive mode: sets `X̃ᵀr` for the current coefficients from a gradient the caller already
    /// has (the data gradient at the current point of a Newton step, see
    /// [`crate::solve::ProximalNewton`]), instead of a pass over `X̃`. Only screening reads it
    /// before the next [`CdEngine::check`] recomputes it exactly, so rounding differences
    /// cannot change a solution. Ignored in covariance mode or for a wrong length.
    pub fn set_gradient(&mut self, g: &[f64]) {
        if !self.covariance && g.len() == self.p {
            self.g.copy_from_slice(g);
            self.g_fresh = true;
        }
    }

    /// The weighted column means subtracted from `X` (0 without an intercept).
    pub fn column_means(&self) -> &[f64] {
        &self.xbar
    }

    /// Sets the coefficients (working coordinates) and recomputes the residual or gradient.
    pub fn set_working_coefficients(&mut self, w: &[f64]) {
        self.assign_coefficients(w);
        if self.covariance {
            let nz: Vec<usize> = (0..self.p).filter(|&j| self.w[j] != 0.0).collect();
            self.ensure_gram(&nz);
            self.recompute_gradient_covariance();
        } else {
            self.recompute_residual();
            self.g_fresh = false;
        }
    }

    /// Naive mode: sets the coefficients (working coordinates) given `fitted = X·(w/s)`, the
    /// fit of the raw columns that the caller already has (proximal Newton: `η − offset − b`),
    /// so the residual `r = ỹ − √v∘(fitted − x̄ᵀ(w/s))` costs `O(n)` instead of a pass over the
    /// non-zero columns. Same as [`CdEngine::set_working_coefficients`] in covariance mode or
    /// for a `fitted` of the wrong length.
    pub fn set_working_coefficients_with_fit(&mut self, w: &[f64], fitted: &[f64]) {
        if self.covariance || fitted.len() != self.n {
            self.set_working_coefficients(w);
            return;
        }
        self.assign_coefficients(w);
        let c: f64 = (0..self.p)
            .map(|j| self.xbar[j] * self.w[j] / self.scales[j])
            .sum();
        let rows = self.r.iter_mut().zip(&self.y).zip(&self.sqrt_v).zip(fitted);
        if let Some(weights) = &self.v {
            for ((((u, &y), &s), &f), &v) in rows.zip(weights) {
                *u = s * y - v * (f - c);
            }
        } else {
            for (((r, &y), &s), &f) in rows {
                *r = y - s * (f - c);
            }
        }
        self.g_fresh = false;
    }

    /// Copies `w` into the coefficients and activates its non-zero coordinates (the residual
    /// or gradient is the caller's to bring up to date).
    fn assign_coefficients(&mut self, w: &[f64]) {
        self.quiet_sweep = NO_QUIET_SWEEP;
        self.w.copy_from_slice(w);
        for (j, &a) in w.iter().enumerate() {
            if a != 0.0 && !self.in_active[j] {
                self.activate(j);
            }
        }
    }

    /// Computes and caches the Gram columns `X̃ᵀx̃_j` of `cols` that are not cached yet: one
    /// blocked matrix product for several columns, dot products for a few.
    fn ensure_gram(&mut self, cols: &[usize]) {
        let (n, p) = (self.n, self.p);
        let missing: Vec<usize> = cols
            .iter()
            .copied()
            .filter(|&j| self.gram_slot[j] == NO_SLOT)
            .collect();
        if missing.is_empty() {
            return;
        }
        let first = self.gram.len() / p.max(1);
        self.gram.reserve(missing.len() * p);
        let src = source!(self);
        if missing.len() < 8 || n < 8 || p < 8 {
            // Up to four new columns per pass over X. In place, the new columns enter as
            // `bᵢ = √vᵢ·x̃ᵢₖ` (one O(n) buffer each) and each column of X is centered and
            // scaled inside the dot product: Σᵢ x̃ᵢⱼx̃ᵢₖ = Σᵢ (xᵢⱼ − x̄ⱼ)·bᵢ / sⱼ.
            let shift = src.transform.map(|(m, s, _)| (m, s));
            let xcols: Vec<&[f64]> = (0..p).map(|j| src.col(j)).collect();
            let mut buf = if src.transform.is_some() {
                vec![0.0; 4.min(missing.len()) * n]
            } else {
                Vec::new()
            };
            for chunk in missing.chunks(4) {
                let start = self.gram.len();
                self.gram.resize(start + chunk.len() * p, 0.0);
                let out = &mut self.gram[start..];
                if let Some((xbar, inv, sqrt_v)) = src.transform {
                    for (c, &k) in chunk.iter().enumerate() {
                        let (m, inv) = (xbar[k], inv[k]);
                        let col = src.col(k);
                        for ((b, &a), &v) in buf[c * n..(c + 1) * n].iter_mut().zip(col).zip(sqrt_v)
                        {
                            *b = v * element(a, m, inv, v);
                        }
                    }
                }
                let column = |c: usize| -> &[f64] {
                    if src.transform.is_some() {
                        &buf[c * n..(c + 1) * n]
                    } else {
                        src.col(chunk[c])
                    }
                };
                match chunk.len() {
                    4 => gram_chunk(
                        &xcols,
                        n,
                        shift,
                        std::array::from_fn::<_, 4, _>(column),
                        out,
                    ),
                    3 => gram_chunk(
                        &xcols,
                        n,
                        shift,
                        std::array::from_fn::<_, 3, _>(column),
                        out,
                    ),
                    2 => gram_chunk(
                        &xcols,
                        n,
                        shift,
                        std::array::from_fn::<_, 2, _>(column),
                        out,
                    ),
                    _ => gram_chunk(&xcols, n, shift, [column(0)], out),
                }
            }
        } else {
            let k = missing.len();
            let start = self.gram.len();
            self.gram.resize(start + k * p, 0.0);
            let rest: Vec<usize> = (0..p).filter(|&j| self.gram_slot[j] == NO_SLOT).collect();
            let (cached, new_part) = self.gram.split_at_mut(start);
            GramJob {
                src,
                rest: &rest,
                cached,
                slots: &self.gram_slot,
            }
            .columns(&missing, new_part);
        }
        for (i, &j) in missing.iter().enumerate() {
            self.gram_slot[j] = first + i;
        }
    }

    /// Recomputes `g = X̃ᵀr` from the residual (naive mode): one pass over X̃.
    fn refresh_gradient(&mut self) {
        let n = self.n;
        if n > 0 {
            let src = source!(self);
            for (j, gj) in self.g.iter_mut().enumerate() {
                *gj = src.dot_res(j, &self.r);
            }
        }
        self.g_fresh = true;
    }

    /// Recomputes `r = ỹ − X̃w` exactly (naive mode).
    fn recompute_residual(&mut self) {
        self.quiet_sweep = NO_QUIET_SWEEP;
        if self.v.is_some() {
            for ((u, &y), &s) in self.r.iter_mut().zip(&self.y).zip(&self.sqrt_v) {
                *u = s * y;
            }
        } else {
            self.r.copy_from_slice(&self.y);
        }
        for j in 0..self.p {
            let wj = self.w[j];
            if wj != 0.0 {
                source!(self).axpy_res(j, -wj, &mut self.r);
            }
        }
    }

    /// Recomputes `g = X̃ᵀỹ − Σ_k G_k w_k` exactly (covariance mode).
    fn recompute_gradient_covariance(&mut self) {
        self.g.copy_from_slice(&self.xty);
        for &k in &self.active {
            let wk = self.w[k];
            if wk != 0.0 {
                let s = self.gram_slot[k];
                axpy(-wk, &self.gram[s * self.p..(s + 1) * self.p], &mut self.g);
            }
        }
        for (gc, &j) in self.gc.iter_mut().zip(&self.cidx) {
            *gc = self.g[j];
        }
        self.g_fresh = true;
    }

    /// One exact coordinate update; returns `h_j·Δ²`.
    #[inline]
    fn update(&mut self, j: usize) -> f64 {
        let hj = self.h[j];
        let wj = self.w[j];
        let gj = if self.covariance {
            if self.cpos[j] == NO_SLOT {
                self.compact_add(&[j]);
            }
            self.gc[self.cpos[j]]
        } else {
            source!(self).dot_res(j, &self.r)
        };
        let c = gj + hj * wj;
        let new = crate::closed_form::soft_threshold(c, self.l1[j]) / (hj + self.l2[j]);
        let delta = new - wj;
        if self.sweep_checks && !self.covariance {
            self.g[j] = gj - hj * delta;
            self.g_stamp[j] = self.sweeps;
        }
        if delta == 0.0 {
            return 0.0;
        }
        self.w[j] = new;
        if !self.in_active[j] {
            self.activate(j);
        }
        if self.covariance {
            let (u, cap) = (self.cpos[j], self.ccap);
            let m = self.cidx.len();
            axpy(-delta, &self.cgram[u * cap..u * cap + m], &mut self.gc);
        } else {
            source!(self).axpy_res(j, -delta, &mut self.r);
        }
        self.g_fresh = false;
        hj * delta * delta
    }

    /// Largest active set for which naive mode keeps the active-set Gram matrix: beyond
    /// `max(2n, 64)` a moving coordinate costs more through it than through the residual.
    fn ag_limit(&self) -> usize {
        (2 * self.n).max(64)
    }

    /// Adds `j` to the active set (and, in naive mode, its row of the active-set Gram).
    fn activate(&mut self, j: usize) {
        self.in_active[j] = true;
        let t = self.active.len();
        if !self.covariance && self.agram.is_some() {
            if t + 1 > self.ag_limit() {
                self.agram = None;
            } else {
                let n = self.n;
                if t + 1 > self.acap {
                    let cap = (2 * self.acap).max(16).min(self.ag_limit());
                    let old = self.agram.take().unwrap_or_default();
                    let mut ag = vec![0.0; cap * cap];
                    for c in 0..t {
                        ag[c * cap..c * cap + t]
                            .copy_from_slice(&old[c * self.acap..c * self.acap + t]);
                    }
                    self.agram = Some(ag);
                    self.acap = cap;
                }
                let cap = self.acap;
                let src = source!(self);
                let xj: &[f64] = if src.transform.is_some() {
                    self.colbuf.resize(n, 0.0);
                    src.fill(j, &mut self.colbuf);
                    &self.colbuf
                } else {
                    src.col(j)
                };
                if let Some(ag) = self.agram.as_mut() {
                    for (s, &k) in self.active.iter().enumerate() {
                        let d = src.dot(k, xj);
                        ag[t * cap + s] = d;
                        ag[s * cap + t] = d;
                    }
                    ag[t * cap + t] = self.h[j];
                }
            }
        }
        self.active.push(j);
    }

    /// Naive mode: cycles over the active set with covariance-style updates on the
    /// active-set Gram matrix until the largest `h_j·Δ²` of a cycle is ≤ the threshold (at
    /// most `max_inner` cycles), then brings the residual up to date. Returns `false` (doing
    /// nothing) when there is no active-set Gram matrix.
    fn cycle_active_gram(&mut self, max_inner: u64) -> bool {
        if self.agram.is_none() {
            return false;
        }
        let (na, cap) = (self.active.len(), self.acap);
        self.ga.clear();
        self.dw.clear();
        self.dw.resize(na, 0.0);
        for &j in &self.active {
            self.ga.push(source!(self).dot_res(j, &self.r));
        }
        let mut k = 0;
        while k < max_inner {
            let Some(ag) = self.agram.as_ref() else {
                break;
            };
            self.sweeps += 1;
            self.updates += na as u64;
            let mut m = 0.0f64;
            for t in 0..na {
                let j = self.active[t];
                if !self.strong[j] {
                    continue;
                }
                let (hj, wj) = (self.h[j], self.w[j]);
                let c = self.ga[t] + hj * wj;
                let new = crate::closed_form::soft_threshold(c, self.l1[j]) / (hj + self.l2[j]);
                let delta = new - wj;
                if delta == 0.0 {
                    continue;
                }
                self.w[j] = new;
                self.dw[t] += delta;
                axpy(-delta, &ag[t * cap..t * cap + na], &mut self.ga);
                m = m.max(hj * delta * delta);
            }
            k += 1;
            if m <= self.thresh {
                break;
            }
            if k == ANDERSON_AFTER {
                self.anderson.reset(na);
            }
            if k >= ANDERSON_AFTER {
                let w = &self.w;
                if self.anderson.push(self.active.iter().map(|&j| w[j])) {
                    self.extrapolate_active(ActiveGradient::ActiveGram, false);
                }
            }
            if newton_due(k) && self.try_newton(ActiveGradient::ActiveGram, k) {
                self.anderson.reset(na);
            }
        }
        self.quiet_sweep = NO_QUIET_SWEEP;
        for t in 0..na {
            let d = self.dw[t];
            if d != 0.0 {
                let j = self.active[t];
                source!(self).axpy_res(j, -d, &mut self.r);
                self.g_fresh = false;
            }
        }
        true
    }

    /// Proposes the Anderson point of the active coefficients' last sweeps
    /// ([`crate::solve::anderson`]) and moves there if that lowers the objective
    /// `½‖r‖² + Σ l1_j|w_j| + ½ l2_j w_j²`, otherwise leaves everything as it was. For a step
    /// `d` on the active set the change of `½‖r‖²` is `−dᵀX_Aᵀr + ½dᵀX_AᵀX_A d =
    /// −½·dᵀ(g_A + g_A′)`, with `g_A′` the active gradient after the step, so the test costs
    /// what updating the gradient costs: `O(|A|²)` on the active-set Gram matrix, `O(|A|·|C|)`
    /// on the compact Gram matrix, and three passes over the active columns on the residual
    /// (four when the step is refused). Coordinates outside the active set stay at 0.
    fn extrapolate_active(&mut self, mode: ActiveGradient, outer: bool) {
        let mut acc = std::mem::take(if outer {
            &mut self.outer_anderson
        } else {
            &mut self.anderson
        });
        self.try_extrapolation(&mut acc, mode);
        if outer {
            self.outer_anderson = acc;
        } else {
            self.anderson = acc;
        }
    }

    fn try_extrapolation(&mut self, acc: &mut Anderson, mode: ActiveGradient) {
        if let Some(xe) = acc.extrapolate() {
            self.try_point(xe, mode);
        }
    }

    /// Proposes the minimizer of the objective on the current face — every free coordinate
    /// of the working active set (non-zero, or unpenalized) keeps its sign `s_j`, the others
    /// stay at 0 — and moves there through [`CdEngine::try_point`] (so only if that lowers
    /// the objective). On the face the objective is quadratic,
    /// `½wᵀHw − bᵀw + Σ l1_j·s_j·w_j + ½Σ l2_j·w_j²` with `H = X̃ᵀX̃` and `b = X̃ᵀỹ`, and its
    /// minimizer solves `(H_FF + diag(l2_F))·w_F = b_F − l1_F∘s_F = g_F + H_FF·w_F` (with
    /// `g = X̃ᵀr` at the current `w`, which is 0 outside `F`): one Cholesky factorization of
    /// the free coordinates' Gram matrix, read from the active-set or compact Gram matrix.
    /// When the solution changes a penalized sign, the step stops where the first such
    /// coordinate reaches 0 (the objective decreases all along). Cyclic sweeps contract the
    /// error of an ill-conditioned quadratic by a factor near 1 per sweep (a square
    /// 60 × 60 design at λ near 0: millions of sweeps); once the signs are right, this step
    /// lands on the optimum. Returns whether the step was taken; nothing is proposed
    /// without a Gram matrix (`Residual`), or when the factorization (`|F|³/3`
    /// multiply-adds) would cost more than the `sweeps` sweeps already spent (each at least
    /// `|F|²`): `|F| > 3·sweeps`. It allocates its `|F| × |F|` matrix — at most `log₂` of
    /// a loop's sweeps times, not per sweep.
    fn try_newton(&mut self, mode: ActiveGradient, sweeps: u64) -> bool {
        let na = self.active.len();
        let free: Vec<usize> = (0..na)
            .filter(|&t| {
                let j = self.active[t];
                self.strong[j] && self.h[j] > 0.0 && (self.w[j] != 0.0 || self.l1[j] == 0.0)
            })
            .collect();
        let f = free.len();
        if f == 0 || f as u64 > 3 * sweeps {
            return false;
        }
        // Entry (t, u) of H and g_t, by positions in the active set.
        let (active, cpos) = (&self.active, &self.cpos);
        let hess = |t: usize, u: usize| -> Option<f64> {
            match mode {
                ActiveGradient::ActiveGram => {
                    let ag = self.agram.as_ref()?;
                    Some(ag[u * self.acap + t])
                }
                ActiveGradient::Compact => {
                    Some(self.cgram[cpos[active[u]] * self.ccap + cpos[active[t]]])
                }
                ActiveGradient::Residual => None,
            }
        };
        let grad = |t: usize| -> f64 {
            match mode {
                ActiveGradient::Compact => self.gc[cpos[active[t]]],
                _ => self.ga[t],
            }
        };
        let mut a = DMatrix::<f64>::zeros(f, f);
        let mut rhs = DVector::<f64>::zeros(f);
        for (c, &u) in free.iter().enumerate() {
            for (r, &t) in free.iter().enumerate() {
                let Some(h) = hess(t, u) else {
                    return false;
                };
                a[(r, c)] = h;
                rhs[r] += h * self.w[active[u]];
            }
            let j = active[u];
            a[(c, c)] += self.l2[j];
        }
        for (r, &t) in free.iter().enumerate() {
            let j = active[t];
            rhs[r] += grad(t) - self.l1[j] * self.w[j].signum();
        }
        let Some(chol) = crate::linalg::cholesky(a) else {
            return false;
        };
        let sol = chol.solve(&rhs);
        if !sol.iter().all(|v| v.is_finite()) {
            return false;
        }
        // The largest step towards the solution that keeps every penalized sign: the
        // objective is a convex quadratic along it, decreasing up to the solution.
        let mut step = 1.0f64;
        let mut stop = None;
        for (r, &t) in free.iter().enumerate() {
            let wj = self.w[active[t]];
            if self.l1[active[t]] > 0.0 && sol[r] * wj <= 0.0 {
                let s = wj / (wj - sol[r]);
                if s < step {
                    step = s;
                    stop = Some(r);
                }
            }
        }
        let mut point = std::mem::take(&mut self.trial_point);
        point.clear();
        point.extend(self.active.iter().map(|&j| self.w[j]));
        for (r, &t) in free.iter().enumerate() {
            let wj = point[t];
            // (A full step to a solution of 0 gives `wj − wj`, exactly 0; a shortened step
            // sets its stopping coordinate to 0 against rounding.)
            point[t] = if stop == Some(r) {
                0.0
            } else {
                wj + step * (sol[r] - wj)
            };
        }
        let taken = self.try_point(&point, mode);
        self.trial_point = point;
        taken
    }

    /// Moves the active coefficients to `xe` (in the order of the active set) if that lowers
    /// the objective, otherwise leaves everything as it was ([`CdEngine::extrapolate_active`]
    /// for the test); returns whether it moved.
    fn try_point(&mut self, xe: &[f64], mode: ActiveGradient) -> bool {
        self.trial_step.clear();
        let (w, active) = (&self.w, &self.active);
        self.trial_step
            .extend(active.iter().zip(xe).map(|(&j, &e)| e - w[j]));
        if self.trial_step.iter().all(|&d| d == 0.0) {
            return false;
        }
        let (na, m) = (self.active.len(), self.cidx.len());
        // The active gradient before the step, and what to restore if it is refused.
        self.trial_grad.clear();
        self.trial_save.clear();
        match mode {
            // (`trial_grad` is all of `ga`: it is also what a refused step restores.)
            ActiveGradient::ActiveGram => self.trial_grad.extend_from_slice(&self.ga),
            ActiveGradient::Compact => {
                let (gc, cpos) = (&self.gc, &self.cpos);
                self.trial_grad
                    .extend(self.active.iter().map(|&j| gc[cpos[j]]));
                self.trial_save.extend_from_slice(&self.gc);
            }
            ActiveGradient::Residual => {
                for t in 0..na {
                    let gj = source!(self).dot_res(self.active[t], &self.r);
                    self.trial_grad.push(gj);
                }
                self.trial_save.extend_from_slice(&self.r);
            }
        }
        // The step.
        for t in 0..na {
            let d = self.trial_step[t];
            if d == 0.0 {
                continue;
            }
            match mode {
                ActiveGradient::ActiveGram => {
                    if let Some(ag) = self.agram.as_ref() {
                        let cap = self.acap;
                        axpy(-d, &ag[t * cap..t * cap + na], &mut self.ga);
                    }
                }
                ActiveGradient::Compact => {
                    let (u, cap) = (self.cpos[self.active[t]], self.ccap);
                    axpy(-d, &self.cgram[u * cap..u * cap + m], &mut self.gc);
                }
                ActiveGradient::Residual => {
                    source!(self).axpy_res(self.active[t], -d, &mut self.r);
                }
            }
        }
        // The change of the objective.
        let mut change = 0.0;
        for t in 0..na {
            let d = self.trial_step[t];
            if d == 0.0 {
                continue;
            }
            let j = self.active[t];
            let g_new = match mode {
                ActiveGradient::ActiveGram => self.ga[t],
                ActiveGradient::Compact => self.gc[self.cpos[j]],
                ActiveGradient::Residual => source!(self).dot_res(j, &self.r),
            };
            let (wj, nj) = (self.w[j], self.w[j] + d);
            change += -0.5 * d * (self.trial_grad[t] + g_new)
                + self.l1[j] * (nj.abs() - wj.abs())
                + 0.5 * self.l2[j] * (nj * nj - wj * wj);
        }
        if change < 0.0 {
            for t in 0..na {
                let d = self.trial_step[t];
                if d != 0.0 {
                    let j = self.active[t];
                    self.w[j] += d;
                    if mode == ActiveGradient::ActiveGram {
                        self.dw[t] += d;
                    }
                }
            }
            self.g_fresh = false;
            self.quiet_sweep = NO_QUIET_SWEEP;
            true
        } else {
            match mode {
                ActiveGradient::ActiveGram => self.ga.copy_from_slice(&self.trial_grad),
                ActiveGradient::Compact => self.gc.copy_from_slice(&self.trial_save),
                ActiveGradient::Residual => self.r.copy_from_slice(&self.trial_save),
            }
            false
        }
    }

    /// Closes a sweep whose largest `h_j·Δ²` was `m`: records it as quiet when `m` is within
    /// the threshold (for [`CdEngine::checks_from_sweeps`]); returns `m`.
    fn end_sweep(&mut self, m: f64) -> f64 {
        if m <= self.thresh {
            self.quiet_sweep = self.sweeps;
        }
        m
    }

    fn sweep_strong(&mut self) -> f64 {
        self.sweeps += 1;
        self.updates += self.strong_list.len() as u64;
        let mut m = 0.0f64;
        for idx in 0..self.strong_list.len() {
            let j = self.strong_list[idx];
            m = m.max(self.update(j));
        }
        self.end_sweep(m)
    }

    fn sweep_active(&mut self) -> f64 {
        self.sweeps += 1;
        self.updates += self.active.len() as u64;
        let mut m = 0.0f64;
        for idx in 0..self.active.len() {
            let j = self.active[idx];
            if self.strong[j] && self.h[j] > 0.0 {
                m = m.max(self.update(j));
            }
        }
        self.end_sweep(m)
    }

    /// One outer iteration: a sweep over the working set and, if anything moved, cycles over
    /// the active set until it settles (at most `max_inner` sweeps). Returns the largest
    /// `h_j·Δ²` of the full sweep.
    pub fn outer_iteration(&mut self, max_inner: u64) -> f64 {
        if self.thresh == 0.0 {
            self.thresh = 1e-14 * self.null_objective().max(f64::MIN_POSITIVE);
        }
        let full = self.sweep_strong();
        // Naive mode cycles over the active set on its Gram matrix when it has one.
        if full > self.thresh && (self.covariance || !self.cycle_active_gram(max_inner)) {
            let mut k = 0;
            // Naive mode here has an active set too large for its Gram matrix: a trial step
            // would cost three passes over the active columns every few sweeps, and on such
            // sets (|A| > 2n, a flat subspace of dimension |A| − n) the extrapolation from
            // five iterates gained little where measured; only the outer iterations are
            // extrapolated there.
            while k < max_inner && self.sweep_active() > self.thresh {
                k += 1;
                if !self.covariance {
                    continue;
                }
                if k == ANDERSON_AFTER {
                    self.anderson.reset(self.active.len());
                }
                if k >= ANDERSON_AFTER {
                    let w = &self.w;
                    if self.anderson.push(self.active.iter().map(|&j| w[j])) {
                        self.extrapolate_active(ActiveGradient::Compact, false);
                    }
                }
                if newton_due(k) && self.try_newton(ActiveGradient::Compact, k) {
                    self.anderson.reset(self.active.len());
                }
            }
        }
        // Outer iterations whose sweeps over the working set do not settle are extrapolated
        // too: a full sweep and a short cycle over the active set, in different orders, can
        // each contract the error only slightly (duplicated columns under a small L2 weight),
        // and then no inner loop is long enough to be extrapolated.
        if full > self.thresh {
            self.unsettled += 1;
            let na = self.active.len();
            if self.unsettled == ANDERSON_AFTER || self.outer_anderson.dim() != na {
                self.outer_anderson.reset(na);
            }
            if self.unsettled >= ANDERSON_AFTER {
                let w = &self.w;
                if self.outer_anderson.push(self.active.iter().map(|&j| w[j])) {
                    let mode = if self.covariance {
                        ActiveGradient::Compact
                    } else {
                        ActiveGradient::Residual
                    };
                    self.extrapolate_active(mode, true);
                }
            }
        } else {
            self.unsettled = 0;
        }
        if self.covariance {
            for (&gc, &j) in self.gc.iter().zip(&self.cidx) {
                self.g[j] = gc;
            }
        }
        full
    }

    /// Tightens the inner threshold by 10⁻³ (after a check that failed on accuracy alone).
    pub fn tighten(&mut self) {
        self.thresh = (self.thresh * 1e-3).max(1e-30 * self.null_objective());
    }

    /// Tightens the inner threshold after a check that missed its tolerances, by a factor
    /// estimated from how far it missed: the KKT violation scales like √thresh and the gap
    /// like thresh.
    pub fn tighten_for(&mut self, check: &Check, gap_tol: f64, kkt_tol: f64) {
        let mut f = 1e-1f64;
        if check.rel_kkt > kkt_tol {
            f = f.min(0.25 * (kkt_tol / check.rel_kkt).powi(2));
        }
        if check.rel_gap > gap_tol {
            f = f.min(0.25 * gap_tol / check.rel_gap);
        }
        let f = f.clamp(1e-6, 1e-1);
        self.thresh = (self.thresh * f).max(1e-30 * self.null_objective());
    }

    /// One outer iteration, then — if its sweep was quiet — a check against the tolerances;
    /// a check that misses them tightens the inner threshold.
    pub fn step(&mut self, gap_tol: f64, kkt_tol: f64, max_inner: u64) -> Step {
        let full = self.outer_iteration(max_inner);
        let mut out = Step {
            full_sweep_change: full,
            check: None,
            converged: false,
        };
        if full <= self.thresh {
            let c = self.check();
            if c.strong_violations == 0 {
                if c.rel_gap <= gap_tol && c.rel_kkt <= kkt_tol {
                    out.converged = true;
                } else {
                    self.tighten_for(&c, gap_tol, kkt_tol);
                }
            }
            out.check = Some(c);
        }
        out
    }

    /// Computes `X̃ᵀr` for every coordinate (after recomputing the residual, or in covariance
    /// mode the gradient, exactly from the coefficients), adds KKT violators outside the
    /// working set to it, and measures the duality gap and the KKT violation.
    pub fn check(&mut self) -> Check {
        self.checks += 1;
        if self.covariance {
            self.recompute_gradient_covariance();
        } else {
            if self.exact_residual {
                self.recompute_residual();
            }
            if self.sweep_checks && !self.exact_residual && self.quiet_sweep == self.sweeps {
                // The last sweep was quiet and nothing moved since: its products stand.
                let last = self.sweeps;
                let src = source!(self);
                for j in 0..self.p {
                    if self.g_stamp[j] != last {
                        self.g[j] = src.dot_res(j, &self.r);
                    }
                }
                self.g_fresh = false;
            } else {
                self.refresh_gradient();
            }
        }
        let mut strong_violations = 0;
        let mut kkt = 0.0f64;
        for j in 0..self.p {
            if self.h[j] == 0.0 {
                continue;
            }
            let v = kkt_violation(self.l1[j], self.l2[j], self.w[j], -self.g[j]);
            if !self.strong[j] && v > 0.0 {
                self.strong[j] = true;
                self.strong_list.push(j);
                strong_violations += 1;
                self.violations += 1;
            }
            kkt = kkt.max(v);
        }
        if strong_violations > 0 && self.covariance {
            let add: Vec<usize> = (0..self.p)
                .filter(|&j| self.strong[j] && self.gram_slot[j] == NO_SLOT)
                .filter(|&j| self.g[j].abs() > self.l1[j])
                .collect();
            self.ensure_gram(&add);
            self.compact_strong();
        }
        let gap = self.duality_gap();
        let null = self.null_objective();
        let rel_gap = if null > 0.0 { gap / null } else { gap };
        Check {
            rel_gap,
            kkt,
            rel_kkt: kkt / self.grad_scale,
            strong_violations,
        }
    }

    /// The duality gap `P(w) − D(θ)` (needs `g = X̃ᵀr` up to date).
    pub fn duality_gap(&self) -> f64 {
        let (rr, yr) = self.residual_products();
        let mut pen = 0.0;
        let mut s = 1.0f64;
        // `g_j = x̃_jᵀr` carries rounding of order ε·‖x̃_j‖·‖ỹ‖; an excess of |g_j| over l1_j
        // within that bound is rounding, not infeasibility. Without this allowance a tiny
        // l1_j (λ → 0) makes `1 − s ≈ rounding/l1_j` and the gap can never certify the fit.
        let round = 1e-13 * self.yy.sqrt();
        for j in 0..self.p {
            let (l1, l2, w, g) = (self.l1[j], self.l2[j], self.w[j], self.g[j]);
            pen += l1 * w.abs() + 0.5 * l2 * w * w;
            let excess = g.abs() - round * self.h[j].sqrt();
            if l2 == 0.0 && l1 > 0.0 && excess > l1 * s {
                s = l1 / excess;
            }
        }
        let mut hstar = 0.0;
        for j in 0..self.p {
            if self.l2[j] > 0.0 {
                let e = (s * self.g[j].abs() - self.l1[j]).max(0.0);
                hstar += e * e / (2.0 * self.l2[j]);
            }
        }
        let gap = 0.5 * rr + pen - s * yr + 0.5 * s * s * rr + hstar;
        gap.max(0.0)
    }

    /// `(‖r‖², ỹᵀr)`.
    fn residual_products(&self) -> (f64, f64) {
        if self.covariance {
            let wy = dot(&self.w, &self.xty);
            let wg = dot(&self.w, &self.g);
            let yr = self.yy - wy;
            (yr - wg, yr)
        } else if self.v.is_some() {
            // rᵢ = uᵢ/√vᵢ (a row of weight 0 has uᵢ = 0 and contributes nothing).
            let (mut rr, mut yr) = (0.0, 0.0);
            for ((&u, &y), &s) in self.r.iter().zip(&self.y).zip(&self.sqrt_v) {
                if s > 0.0 {
                    let r = u / s;
                    rr += r * r;
                    yr += y * r;
                }
            }
            (rr, yr)
        } else {
            (dot(&self.r, &self.r), dot(&self.y, &self.r))
        }
    }

    /// The primal objective `½‖r‖² + penalty` (σ²-scaled).
    pub fn primal(&self) -> f64 {
        let (rr, _) = self.residual_products();
        let pen: f64 = (0..self.p)
            .map(|j| self.l1[j] * self.w[j].abs() + 0.5 * self.l2[j] * self.w[j] * self.w[j])
            .sum();
        0.5 * rr + pen
    }

    /// Coefficients and intercept on the original scale of the data.
    pub fn coefficients(&self) -> (DVector<f64>, f64) {
        let w = DVector::from_iterator(self.p, (0..self.p).map(|j| self.w[j] / self.scales[j]));
        let b = self.ybar - w.iter().zip(&self.xbar).map(|(a, m)| a * m).sum::<f64>();
        (w, b)
    }

    /// Writes the coefficients on the original scale into `out` and returns the intercept.
    pub fn coefficients_into(&self, out: &mut [f64]) -> f64 {
        let mut b = self.ybar;
        for (j, o) in out.iter_mut().enumerate().take(self.p) {
            let a = self.w[j] / self.scales[j];
            *o = a;
            b -= a * self.xbar[j];
        }
        b
    }

    /// Converts original-scale coefficients to working coordinates.
    pub fn to_working(&self, w: &[f64]) -> Vec<f64> {
        w.iter().zip(&self.scales).map(|(a, s)| a * s).collect()
    }

    /// Runs [`CdEngine::step`] until it converges or `max_iters` outer iterations are done
    /// (a solve outside argmin's executor, for auxiliary fits such as the unpenalized part
    /// of a null model). Returns whether it converged, the last check and the iterations.
    pub fn solve(
        &mut self,
        gap_tol: f64,
        kkt_tol: f64,
        max_iters: u64,
    ) -> (bool, Option<Check>, u64) {
        let mut last = None;
        for it in 1..=max_iters {
            let s = self.step(gap_tol, kkt_tol, 100_000);
            if s.check.is_some() {
                last = s.check;
            }
            if s.converged {
                return (true, last, it);
            }
        }
        (false, last, max_iters)
    }
}

fn gaussian_sigma2<L: Likelihood>(lik: &L) -> std::result::Result<f64, argmin::core::Error> {
    lik.gaussian_noise_variance().ok_or_else(|| {
        argmin::core::Error::from(Error::Unsupported {
            what: format!(
                "coordinate descent solves least squares: it needs the Gaussian likelihood, not {}",
                lik.name()
            ),
        })
    })
}

/// KKT violation of one coordinate with data-term gradient `g`.
#[inline]
fn kkt_violation(l1: f64, l2: f64, w: f64, g: f64) -> f64 {
    let g = g + l2 * w;
    if w > 0.0 {
        (g + l1).abs()
    } else if w < 0.0 {
        (g - l1).abs()
    } else {
        (g.abs() - l1).max(0.0)
    }
}

/// # Coordinate descent
/// Pathwise coordinate descent for a Gaussian likelihood with a Gaussian, Laplace,
/// elastic-net or flat prior (any prior with an [`ElasticPenalty`] form), with penalty
/// factors, observation weights, offsets and an unpenalized intercept. See the module docs
/// for the algorithm and the stopping rule.
///
/// One argmin iteration is one outer iteration (a sweep over the working set, then the
/// active set to convergence, then a KKT and duality-gap check when the sweep moved nothing
/// beyond the threshold). The state's parameter is θ = (w, b) on the original scale.
///
/// ## Requirements on the optimization problem
/// [`MapProblem`] with the Gaussian likelihood and a prior whose `elastic()` is `Some`.
///
/// ## Reference
/// Friedman, Hastie & Tibshirani (2010), *Regularization paths for generalized linear models
/// via coordinate descent*, J. Stat. Softw. 33(1). Tibshirani et al. (2012), *Strong rules
/// for discarding predictors in lasso-type problems*, JRSS B 74(2).
#[derive(Debug, Clone)]
pub struct CoordinateDescent<'a> {
    engine: Option<CdEngine<'a>>,
    gap_tol: f64,
    kkt_tol: f64,
    standardize: Option<Vec<f64>>,
    covariance: Option<bool>,
    max_inner: u64,
    last: Option<Check>,
    converged: bool,
}

impl Default for CoordinateDescent<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> CoordinateDescent<'a> {
    /// Default tolerances ([`DEFAULT_GAP_TOL`], [`DEFAULT_KKT_TOL`]).
    pub fn new() -> Self {
        CoordinateDescent {
            engine: None,
            gap_tol: DEFAULT_GAP_TOL,
            kkt_tol: DEFAULT_KKT_TOL,
            standardize: None,
            covariance: None,
            max_inner: 100_000,
            last: None,
            converged: false,
        }
    }

    /// Starts from a prepared engine (a λ path passes the previous fit's engine).
    pub fn with_engine(mut self, engine: CdEngine<'a>) -> Self {
        self.engine = Some(engine);
        self
    }

    /// Relative duality-gap tolerance.
    ///
    /// # Errors
    /// Not finite and > 0.
    pub fn with_gap_tolerance(mut self, tol: f64) -> Result<Self> {
        self.gap_tol = crate::error::check_positive("gap tolerance", tol)?;
        Ok(self)
    }

    /// Relative KKT tolerance.
    ///
    /// # Errors
    /// Not finite and > 0.
    pub fn with_kkt_tolerance(mut self, tol: f64) -> Result<Self> {
        self.kkt_tol = crate::error::check_positive("KKT tolerance", tol)?;
        Ok(self)
    }

    /// Fits on columns divided by `scales` (glmnet's standardization); the prior then applies
    /// to the scaled coefficients and results are reported on the original scale.
    pub fn with_column_scales(mut self, scales: Vec<f64>) -> Self {
        self.standardize = Some(scales);
        self
    }

    /// Forces covariance (`true`) or naive (`false`) updates.
    pub fn with_covariance_updates(mut self, covariance: bool) -> Self {
        self.covariance = Some(covariance);
        self
    }

    /// Takes the engine back (to warm-start the next fit of a path).
    pub fn into_engine(self) -> Option<CdEngine<'a>> {
        self.engine
    }

    /// The last convergence check, if one ran.
    pub fn last_check(&self) -> Option<Check> {
        self.last
    }

    /// The convergence record of the last run.
    pub fn convergence(&self, iterations: u64) -> Convergence {
        let c = self.last.unwrap_or(Check {
            rel_gap: f64::INFINITY,
            kkt: f64::INFINITY,
            rel_kkt: f64::INFINITY,
            strong_violations: 0,
        });
        // Not converged with the gap within its tolerance: the KKT conditions (or the check
        // of the discarded coordinates) were missed, and that is the measure to report.
        let (measure, value, tolerance) = if !self.converged && c.rel_gap <= self.gap_tol {
            (Measure::RelativeKkt, c.rel_kkt, self.kkt_tol)
        } else {
            (Measure::RelativeDualityGap, c.rel_gap, self.gap_tol)
        };
        Convergence {
            converged: self.converged,
            measure,
            value,
            tolerance,
            kkt_violation: c.kkt,
            iterations,
        }
    }

    fn engine_mut(&mut self) -> std::result::Result<&mut CdEngine<'a>, argmin::core::Error> {
        self.engine.as_mut().ok_or_else(|| {
            argmin::core::Error::from(Error::Solver(
                "coordinate descent: engine not initialized".into(),
            ))
        })
    }
}

impl<'a, L: Likelihood, P: Prior> Solver<MapProblem<'a, L, P>, CdState> for CoordinateDescent<'a> {
    fn name(&self) -> &str {
        "coordinate descent"
    }

    fn init(
        &mut self,
        problem: &mut Problem<MapProblem<'a, L, P>>,
        state: CdState,
    ) -> std::result::Result<(CdState, Option<KV>), argmin::core::Error> {
        let scales = self.standardize.clone();
        let covariance = self.covariance;
        let has_engine = self.engine.is_some();
        let (pen, sigma2, engine) = problem.problem("cd_prepare", |pb| {
            let p = pb.design().p();
            let pen = pb.prior().elastic(p).ok_or_else(|| {
                argmin::core::Error::from(Error::Unsupported {
                    what: format!(
                        "coordinate descent needs an elastic-net-type prior, not {}",
                        pb.prior().describe()
                    ),
                })
            })?;
            let engine = if has_engine {
                None
            } else {
                Some(CdEngine::new(
                    pb.design(),
                    pb.has_intercept(),
                    scales.as_deref(),
                    covariance,
                ))
            };
            let sigma2 = gaussian_sigma2(pb.likelihood())?;
            Ok((pen, sigma2, engine))
        })?;
        if let Some(e) = engine {
            self.engine = Some(e);
        }
        let gap_tol = self.gap_tol;
        let engine = self.engine_mut()?;
        engine.set_penalty(&pen, sigma2);
        if engine.threshold() == 0.0 {
            let null = engine.null_objective().max(f64::MIN_POSITIVE);
            engine.set_threshold(null * (1e-2 * gap_tol).min(1e-14));
        }
        if let Some(theta) = state.get_param() {
            let p = engine.p();
            let w = engine.to_working(&theta.as_slice()[..p]);
            engine.set_working_coefficients(&w);
        }
        self.converged = false;
        self.last = None;
        Ok((state, None))
    }

    fn next_iter(
        &mut self,
        problem: &mut Problem<MapProblem<'a, L, P>>,
        state: CdState,
    ) -> std::result::Result<(CdState, Option<KV>), argmin::core::Error> {
        let (gap_tol, kkt_tol, max_inner) = (self.gap_tol, self.kkt_tol, self.max_inner);
        let engine = self.engine_mut()?;
        let step = engine.step(gap_tol, kkt_tol, max_inner);
        let (full, check, converged) = (step.full_sweep_change, step.check, step.converged);
        let (w, b) = engine.coefficients();
        let (sigma2, intercept, n_const) = problem.problem("cd_state", |pb| {
            let d = pb.design();
            let sw = d.weight_sum();
            let s2 = gaussian_sigma2(pb.likelihood())?;
            Ok((
                s2,
                pb.has_intercept(),
                0.5 * sw * (2.0 * std::f64::consts::PI * s2).ln(),
            ))
        })?;
        let cost = engine.primal() / sigma2 + n_const;
        let mut theta = DVector::zeros(w.len() + usize::from(intercept));
        theta.rows_mut(0, w.len()).copy_from(&w);
        if intercept {
            theta[w.len()] = b;
        }
        if let Some(c) = check {
            self.last = Some(c);
        }
        self.converged = converged;
        let kv = match check {
            Some(c) => argmin::kv!("rel_gap" => c.rel_gap; "rel_kkt" => c.rel_kkt;),
            None => argmin::kv!("full_sweep_change" => full;),
        };
        Ok((state.param(theta).cost(cost), Some(kv)))
    }

    fn terminate(&mut self, _state: &CdState) -> TerminationStatus {
        if self.converged {
            TerminationStatus::Terminated(TerminationReason::SolverConverged)
        } else {
            TerminationStatus::NotTerminated
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Batches large enough for the two-half splits on rayon's pool (a 4-column chunk with
    /// n·p·4 ≥ 4·10⁶; blocked batches whose block triangle has n·(products) ≥ 8·10⁶, split
    /// into halves of the rows, one with nothing cached and one with cached rows filled by
    /// symmetry) give the same bits on one thread as on two, and the Gram entries of `X̃`
    /// (with and without weights and centering, scales).
    #[test]
    fn large_gram_batches_are_split_without_changing_a_bit() {
        let (n, p) = (1800, 600);
        // Column means that differ (centering must use each column's own).
        let x = DMatrix::from_fn(n, p, |i, j| {
            (((i * 7 + j * 13) % 29) as f64 - 14.0) / 7.0 + 0.01 * j as f64
        });
        let y = DVector::from_fn(n, |i, _| ((i * 5) % 11) as f64 - 5.0);
        let v = DVector::from_fn(n, |i, _| 0.5 + (i % 3) as f64);
        let scales: Vec<f64> = (0..p).map(|j| 0.5 + 0.01 * j as f64).collect();
        let batches: [Vec<usize>; 3] = [
            vec![3, 100, 401, 599],
            (0..p).step_by(3).collect(),
            (1..p).step_by(3).take(30).collect(),
        ];
        // Both blocked batches are split (their triangles' products, a lower bound: each
        // column against the uncached columns after it), over several blocks of the triangle.
        let mut cached = batches[0].len();
        for batch in &batches[1..] {
            let k = batch.len();
            let uncached = p - cached;
            assert!(k > GRAM_BLOCK && n * (k * uncached - k * k / 2) >= 8_000_000 && n >= 512);
            cached += k;
        }
        for weights in [None, Some(&v)] {
            let mut design = Design::new(&x, &y).unwrap();
            if let Some(w) = weights {
                design = design.with_weights(w).unwrap();
            }
            let run = |threads: usize| {
                crate::linalg::on_threads(threads, || {
                    let sc = weights.map(|_| &scales[..]);
                    let mut e = CdEngine::new(&design, weights.is_some(), sc, Some(true));
                    for batch in &batches {
                        e.ensure_gram(batch);
                    }
                    e
                })
            };
            let (one, two) = (run(1), run(2));
            assert_eq!(one.gram, two.gram);
            assert_eq!(one.gram_slot, two.gram_slot);
            let src = source!(two);
            let mut col = vec![0.0; n];
            for &m in batches.iter().flatten() {
                src.fill(m, &mut col);
                let s = two.gram_slot[m];
                for i in (0..p).step_by(7) {
                    let want = src.dot(i, &col);
                    let got = two.gram[s * p + i];
                    assert!((got - want).abs() <= 1e-12 * want.abs().max(1.0), "{i},{m}");
                }
            }
        }
    }

    /// The fused axpy rounds exactly as four successive ones (η of the GLM objectives is
    /// summed through it, and must not depend on how columns are grouped).
    #[test]
    fn axpy4_equals_four_axpys_bit_for_bit() {
        for m in [0usize, 1, 7, 33, 100] {
            let x: Vec<Vec<f64>> = (0..4)
                .map(|t| {
                    (0..m + 3)
                        .map(|i| ((i * 7 + t * 3) as f64 * 0.37).sin() * 10f64.powi(t as i32))
                        .collect()
                })
                .collect();
            let a = [0.3, -1.7e-3, 2.5e2, -0.9];
            let y0: Vec<f64> = (0..m).map(|i| (i as f64 * 1.3).cos()).collect();
            let mut one_by_one = y0.clone();
            for t in 0..4 {
                axpy(a[t], &x[t], &mut one_by_one);
            }
            let mut fused = y0.clone();
            axpy4(a, [&x[0], &x[1], &x[2], &x[3]], &mut fused);
            assert_eq!(one_by_one, fused, "m = {m}");
        }
    }

    /// The kernels dispatched to AVX2 ([`wide`]) return the bits of the same loops compiled
    /// for the baseline (this test's own code): the sums in [`dot`]'s order, with lengths
    /// around the 16-element blocks, and the axpys. On a CPU without AVX2 both sides run the
    /// baseline loop and the test checks the order alone. The order itself is checked
    /// against a scalar re-implementation of it.
    #[test]
    fn dispatched_kernels_equal_the_baseline_loops_bit_for_bit() {
        let f = |i: usize, t: usize| ((i * 7 + t * 3) as f64 * 0.37).sin() * 10f64.powi(t as i32);
        for n in [0usize, 1, 15, 16, 17, 33, 100, 1029] {
            let a: Vec<f64> = (0..n).map(|i| f(i, 0)).collect();
            let b: Vec<f64> = (0..n).map(|i| f(i, 2)).collect();
            let v: Vec<f64> = (0..n).map(|i| f(i, 1).abs()).collect();
            let (m, inv) = (0.3, 1.0 / 1.7);
            let bits = |x: f64| x.to_bits();
            assert_eq!(bits(dot(&a, &b)), bits(dot_map(&a, &b, |x| x)), "n = {n}");
            assert_eq!(bits(sum(&a)), bits(lanes_sum([&a], |[x]| x)));
            assert_eq!(
                bits(dot_centered(&a, m, inv, &b)),
                bits(dot_map(&a, &b, |x| element(x, m, inv, 1.0)))
            );
            assert_eq!(
                bits(dot_centered_weighted(&a, m, inv, &v, &b)),
                bits(dot_centered_weighted_kernel(&a, m, inv, &v, &b))
            );
            // The documented order, written out term by term.
            let q = n - n % 16;
            let mut acc = [[0.0f64; 4]; 4];
            for i in 0..q {
                let (k, l) = ((i % 16) / 4, i % 4);
                acc[k][l] += a[i] * b[i];
            }
            let t: Vec<f64> = (0..4)
                .map(|l| (acc[0][l] + acc[1][l]) + (acc[2][l] + acc[3][l]))
                .collect();
            let mut want = (t[0] + t[2]) + (t[1] + t[3]);
            for i in q..n {
                want += a[i] * b[i];
            }
            assert_eq!(bits(dot(&a, &b)), bits(want), "n = {n}");
            let mut y = b.clone();
            let mut want_y = b.clone();
            axpy(-0.7, &a, &mut y);
            axpy_kernel(-0.7, &a, &mut want_y);
            assert_eq!(y, want_y);
            axpy4([0.3, -1.1, 2.0, 0.5], [&a, &b, &v, &a], &mut y);
            axpy4_kernel([0.3, -1.1, 2.0, 0.5], [&a, &b, &v, &a], &mut want_y);
            assert_eq!(y, want_y);
        }
    }

    /// Covariance mode keeps `g` current only on the compact set between checks: after every
    /// outer iteration `g` on `C` equals `X̃ᵀ(ỹ − X̃w)` computed from the data, a screen after
    /// sweeps (no check in between) recomputes the rest first, and the path's solutions equal
    /// naive mode's. Coordinates enter `C` through screening and through sweeps run without
    /// a screen.
    #[test]
    fn covariance_mode_keeps_the_gradient_exact_on_the_compact_set() {
        let (n, p) = (400, 40);
        let x = DMatrix::from_fn(n, p, |i, j| {
            (((i * 11 + j * 7 + (i * j) % 13) % 23) as f64 - 11.0) / 6.0
        });
        let y = DVector::from_fn(n, |i, _| {
            x[(i, 0)] - 0.8 * x[(i, 5)] + 0.6 * x[(i, 9)] + ((i % 5) as f64 - 2.0)
        });
        let d = Design::new(&x, &y).unwrap();
        let exact = |e: &CdEngine<'_>| -> Vec<f64> {
            let r = &y - &x * DVector::from_column_slice(&e.w);
            (0..p).map(|j| x.column(j).dot(&r)).collect()
        };
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * (1.0 + b.abs());
        let mut cov = CdEngine::new(&d, false, None, Some(true));
        let mut naive = CdEngine::new(&d, false, None, Some(false));
        let lmax = cov.xty.iter().fold(0.0f64, |m, a| m.max(a.abs()));
        // Sweeps without a screen: every coordinate is in the working set and enters C
        // when it is first updated.
        cov.set_weights(&vec![0.5 * lmax; p], &vec![0.0; p]);
        for _ in 0..3 {
            cov.outer_iteration(5);
            let g = exact(&cov);
            for (u, &j) in cov.cidx.iter().enumerate() {
                assert_eq!(cov.cpos[j], u);
                assert!(close(cov.g[j], g[j]) && close(cov.gc[u], g[j]), "{j}");
            }
        }
        assert_eq!(cov.cidx.len(), p);
        // A path with sequential strong rules from λ_max.
        let mut cov = CdEngine::new(&d, false, None, Some(true));
        let mut prev = Some(vec![lmax; p]);
        for (k, f) in [0.9, 0.7, 0.5, 0.3, 0.1, 0.03].into_iter().enumerate() {
            let l1 = vec![f * lmax; p];
            for e in [&mut cov, &mut naive] {
                e.set_weights(&l1, &vec![0.0; p]);
                e.screen(prev.as_deref());
            }
            let g = exact(&cov);
            assert!((0..p).all(|j| close(cov.g[j], g[j])), "screen at {f}");
            assert!(cov.strong_list.iter().all(|&j| cov.cpos[j] != NO_SLOT));
            if k <= 1 {
                // The compact set is the working set, not all of p.
                assert!(cov.cidx.len() < p / 2, "{}", cov.cidx.len());
            }
            if k == 1 {
                // One outer iteration, no check: the next screen starts from stale g.
                cov.outer_iteration(2);
                naive.outer_iteration(2);
            } else {
                assert!(cov.solve(1e-12, 1e-12, 1000).0 && naive.solve(1e-12, 1e-12, 1000).0);
                let a = cov.coefficients().0;
                let b = naive.coefficients().0;
                assert!((a - b).amax() <= 1e-8, "{f}");
            }
            prev = Some(l1);
        }
    }

    /// [`CdEngine::new_in_place`]: naive mode with observation weights (zeros included, as
    /// for a cross-validation fold) reads `X` in place — no stored copy, the residual held in
    /// the weighted domain — and solves a path to the solutions of [`CdEngine::new`] on its
    /// copy (to the solver's accuracy: the products round differently), with an intercept and
    /// scales; the duality gap it certifies is the copy's.
    #[test]
    fn naive_mode_with_weights_in_place_equals_the_stored_copy() {
        let (n, p) = (300, 24);
        let x = DMatrix::from_fn(n, p, |i, j| {
            (((i * 11 + j * 7 + (i * j) % 13) % 23) as f64 - 11.0) / 6.0
        });
        let y = DVector::from_fn(n, |i, _| {
            x[(i, 0)] - 0.8 * x[(i, 5)] + ((i % 5) as f64 - 2.0)
        });
        let v = DVector::from_fn(n, |i, _| {
            if i % 10 == 3 {
                0.0
            } else {
                1.0 + (i % 3) as f64
            }
        });
        let d = Design::new(&x, &y).unwrap().with_weights(&v).unwrap();
        let scales: Vec<f64> = (0..p).map(|j| 0.5 + 0.1 * j as f64).collect();
        let mut stored = CdEngine::new(&d, true, Some(&scales), Some(false));
        let mut lean = CdEngine::new_in_place(&d, true, Some(&scales), Some(false));
        assert!(!stored.in_place && lean.in_place);
        assert!(lean.v.is_some() && stored.v.is_none());
        let lmax = stored.xty.iter().fold(0.0f64, |m, a| m.max(a.abs()));
        let mut prev: Option<Vec<f64>> = None;
        for f in [0.8, 0.4, 0.1, 0.02] {
            let l1 = vec![f * lmax; p];
            for e in [&mut stored, &mut lean] {
                e.set_weights(&l1, &vec![0.0; p]);
                e.screen(prev.as_deref());
                assert!(e.solve(1e-14, 1e-13, 10_000).0);
            }
            let (a, b) = (stored.coefficients(), lean.coefficients());
            let scale = a.0.amax().max(1.0);
            assert!(
                (&a.0 - &b.0).amax() <= 1e-10 * scale,
                "{f}: {}",
                (&a.0 - &b.0).amax()
            );
            assert!((a.1 - b.1).abs() <= 1e-10 * scale);
            // The same residual, seen through both representations.
            let (ra, rb) = (stored.residual_products(), lean.residual_products());
            assert!(
                (ra.0 - rb.0).abs() <= 1e-10 * ra.0.max(1e-300),
                "{ra:?} {rb:?}"
            );
            assert!((ra.1 - rb.1).abs() <= 1e-10 * ra.1.abs().max(1e-300));
            let gap = (stored.duality_gap() - lean.duality_gap()).abs();
            assert!(gap <= 1e-10 * stored.null_objective(), "{gap}");
            prev = Some(l1);
        }
        assert!(stored.into_storage().len() == n * p && lean.into_storage().is_empty());
    }

    /// Screening on an `X` of 2²⁰ elements or more computes at least [`MIN_GRAM_BATCH`] Gram
    /// columns in its pass: the strong set's, then the other columns closest to entering
    /// (largest `|x̃_jᵀr|`). On a smaller `X`, only the strong set's.
    #[test]
    fn screening_a_large_x_computes_a_minimum_batch_of_gram_columns() {
        for (n, p) in [(4100, 256), (300, 40)] {
            let x = DMatrix::from_fn(n, p, |i, j| {
                (((i * 7 + j * 13 + (i * j) % 17) % 31) as f64 - 15.0) / 9.0
            });
            // y leans on the first three columns, so that the strong set is small.
            let y = DVector::from_fn(n, |i, _| {
                3.0 * x[(i, 0)] - 2.5 * x[(i, 1)] + 2.0 * x[(i, 2)] + ((i % 7) as f64 - 3.0)
            });
            let design = Design::new(&x, &y).unwrap();
            let mut e = CdEngine::new(&design, false, None, Some(true));
            let lmax = e.xty.iter().fold(0.0f64, |m, a| m.max(a.abs()));
            let (prev, l1) = (vec![lmax; p], vec![0.97 * lmax; p]);
            e.set_weights(&l1, &vec![0.0; p]);
            e.screen(Some(&prev));
            let strong: Vec<usize> = (0..p).filter(|&j| e.strong[j]).collect();
            assert!(!strong.is_empty() && strong.len() < 8, "{strong:?}");
            let cached: Vec<usize> = (0..p).filter(|&j| e.gram_slot[j] != NO_SLOT).collect();
            assert!(strong.iter().all(|&j| e.gram_slot[j] != NO_SLOT));
            if n * p >= MIN_GRAM_BATCH_X_LEN {
                assert_eq!(cached.len(), MIN_GRAM_BATCH);
                // The extra columns are those with the largest |g_j| outside the strong set.
                let smallest_in = cached
                    .iter()
                    .filter(|j| !e.strong[**j])
                    .map(|&j| e.g[j].abs())
                    .fold(f64::INFINITY, f64::min);
                let largest_out = (0..p)
                    .filter(|&j| e.gram_slot[j] == NO_SLOT)
                    .map(|j| e.g[j].abs())
                    .fold(0.0, f64::max);
                assert!(smallest_in >= largest_out);
            } else {
                assert_eq!(cached, strong);
            }
        }
    }

    /// Gram columns computed in batches — the first one's block triangle with nothing
    /// cached, a later one with the rows of cached columns filled in by symmetry, and batches
    /// of one to four columns by dot products — equal direct dot products of the working
    /// columns written out from their definition: with X̃ = X, and with an intercept, scales and weights (X̃ formed in
    /// place), some of the weights zero.
    #[test]
    fn gram_batches_match_dot_products() {
        let (n, p) = (300, 30);
        let x = DMatrix::from_fn(n, p, |i, j| (((i * 7 + j * 13) % 29) as f64 - 14.0) / 7.0);
        let y = DVector::from_fn(n, |i, _| ((i * 5) % 11) as f64 - 5.0);
        let v = DVector::from_fn(n, |i, _| 0.5 + (i % 3) as f64);
        let v0 = DVector::from_fn(n, |i, _| if i % 5 == 2 { 0.0 } else { v[i] });
        let scales: Vec<f64> = (0..p).map(|j| 0.5 + 0.1 * j as f64).collect();
        let batches: [Vec<usize>; 4] = [
            (0..10).collect(),
            (10..p).step_by(2).collect(),
            vec![11, 13, 15],
            vec![17, 19, 21, 23, 25],
        ];
        for (weights, intercept, sc) in [
            (None, false, None),
            (Some(&v), true, None),
            (Some(&v0), true, Some(&scales[..])),
            (Some(&v0), false, Some(&scales[..])),
        ] {
            let mut design = Design::new(&x, &y).unwrap();
            if let Some(w) = weights {
                design = design.with_weights(w).unwrap();
            }
            let mut e = CdEngine::new(&design, intercept, sc, Some(true));
            assert_eq!(e.in_place, weights.is_some());
            // X̃ written out from its definition, √v ∘ (X − x̄)/s.
            let xt: Vec<Vec<f64>> = (0..p)
                .map(|j| {
                    (0..n)
                        .map(|i| {
                            let v = weights.map_or(1.0, |w| w[i]).sqrt();
                            v * (x[(i, j)] - e.xbar[j]) / e.scales[j]
                        })
                        .collect()
                })
                .collect();
            for (j, c) in xt.iter().enumerate() {
                let want = dot(c, c);
                assert!(
                    (e.h[j] - want).abs() <= 1e-12 * want,
                    "h[{j}] = {} vs {want}",
                    e.h[j]
                );
            }
            for (b, batch) in batches.iter().enumerate() {
                if b == 1 {
                    assert!(4 * batches[0].len() >= p, "batch 1 must be symmetric");
                }
                e.ensure_gram(batch);
            }
            for &m in batches.iter().flatten() {
                let s = e.gram_slot[m];
                for i in 0..p {
                    let want = dot(&xt[i], &xt[m]);
                    let got = e.gram[s * p + i];
                    assert!(
                        (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                        "G[{i}, {m}] = {got} vs {want} (weights: {}, intercept {intercept})",
                        weights.is_some()
                    );
                }
            }
        }
    }

    /// The in-place products of naive mode — `x̃_jᵀa`, `a + α·x̃_j` and the column itself —
    /// equal the same products on `X̃` written out from its definition, for X̃ = X, unit
    /// weights with centering and scaling, and weights (some zero) with centering; and
    /// equal bit for bit the products on a stored copy of the column.
    #[test]
    fn in_place_column_products_match_the_definition() {
        let (n, p) = (203, 7);
        let x = DMatrix::from_fn(n, p, |i, j| (((i * 11 + j * 5) % 23) as f64 - 3.0) / 3.0);
        let y = DVector::from_fn(n, |i, _| ((i * 3) % 13) as f64);
        let v = DVector::from_fn(n, |i, _| {
            if i % 6 == 1 {
                0.0
            } else {
                0.25 + (i % 5) as f64
            }
        });
        let scales: Vec<f64> = (0..p).map(|j| 0.3 + 0.2 * j as f64).collect();
        let a: Vec<f64> = (0..n).map(|i| ((i * 7) % 17) as f64 - 8.0).collect();
        for (weights, intercept, sc) in [
            (None, false, None),
            (None, true, Some(&scales[..])),
            (Some(&v), true, None),
        ] {
            let mut design = Design::new(&x, &y).unwrap();
            if let Some(w) = weights {
                design = design.with_weights(w).unwrap();
            }
            let e = CdEngine::new(&design, intercept, sc, Some(false));
            // Naive mode stores X̃ when there are weights; the in-place products are checked
            // for them all the same (covariance mode's Gram rows use the same `fill`).
            assert_eq!(e.in_place, weights.is_none() && intercept);
            let transformed = weights.is_some() || intercept;
            let src = Source::new(
                x.as_slice(),
                n,
                transformed,
                (&e.xbar, &e.inv_scales, &e.sqrt_v),
                e.unit_weights,
            );
            let mut stored = vec![0.0; n];
            for j in 0..p {
                let xt: Vec<f64> = (0..n)
                    .map(|i| {
                        let sv = weights.map_or(1.0, |w| w[i]).sqrt();
                        sv * (x[(i, j)] - e.xbar[j]) / e.scales[j]
                    })
                    .collect();
                let want = dot(&xt, &a);
                let got = src.dot(j, &a);
                assert!(
                    (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                    "{got} vs {want}"
                );
                let mut b = a.clone();
                src.axpy(j, -0.75, &mut b);
                let mut col = vec![0.0; n];
                src.fill(j, &mut col);
                // In place and on a stored copy, the products are the same bits (λ_max and
                // the screening compare them with thresholds exactly).
                stored.copy_from_slice(&col);
                assert_eq!(got.to_bits(), dot(&stored, &a).to_bits(), "dot, column {j}");
                let mut c = a.clone();
                axpy(-0.75, &stored, &mut c);
                assert_eq!(b, c, "axpy, column {j}");
                for i in 0..n {
                    let w = a[i] - 0.75 * xt[i];
                    assert!((b[i] - w).abs() <= 1e-13 * w.abs().max(1.0), "axpy[{i}]");
                    assert!(
                        (col[i] - xt[i]).abs() <= 1e-14 * xt[i].abs().max(1.0),
                        "fill"
                    );
                }
            }
        }
    }

    /// 150 × 12 design, response and observation weights for the column-subset tests.
    fn weighted_columns_data() -> (DMatrix<f64>, DVector<f64>, DVector<f64>) {
        let (n, p) = (150, 12);
        let x = DMatrix::from_fn(n, p, |i, j| (((i * 13 + j * 7) % 31) as f64 - 15.0) / 5.0);
        let y = DVector::from_fn(n, |i, _| ((i * 5) % 9) as f64 - 4.0);
        let v = DVector::from_fn(n, |i, _| 0.2 + (i % 7) as f64 * 0.3);
        (x, y, v)
    }

    /// Solves both engines (`k` coordinates each) under L1 weight 3 and L2 weight 0.5 and
    /// returns their coefficients and intercepts.
    #[allow(clippy::type_complexity)]
    fn solve_both(
        a: &mut CdEngine<'_>,
        b: &mut CdEngine<'_>,
        k: usize,
    ) -> ((DVector<f64>, f64), (DVector<f64>, f64)) {
        let pen = ElasticPenalty {
            l1: vec![3.0; k],
            l2: vec![0.5; k],
        };
        a.set_penalty(&pen, 1.0);
        b.set_penalty(&pen, 1.0);
        let (ca, _, _) = a.solve(1e-14, 1e-12, 1000);
        let (cb, _, _) = b.solve(1e-14, 1e-12, 1000);
        assert!(ca && cb);
        (a.coefficients(), b.coefficients())
    }

    /// An engine on a subset of the columns equals, bit for bit, an engine on a copy of those
    /// columns (same h, X̃ᵀỹ, means and, in naive mode where both store a weighted copy,
    /// solution; in covariance mode the engine on the copy reads it in place and the
    /// solutions agree to rounding), and rejects an index out of range.
    #[test]
    fn engine_on_columns_equals_engine_on_their_copy() {
        let (x, y, v) = weighted_columns_data();
        let cols = [9, 2, 5, 11];
        let xs = x.select_columns(cols.iter());
        let full = Design::new(&x, &y).unwrap().with_weights(&v).unwrap();
        let sub = Design::new(&xs, &y).unwrap().with_weights(&v).unwrap();
        for covariance in [false, true] {
            let mut a = CdEngine::on_columns(&full, &cols, true, Some(covariance)).unwrap();
            let mut b = CdEngine::new(&sub, true, None, Some(covariance));
            assert_eq!(a.h, b.h);
            assert_eq!(a.xty, b.xty);
            assert_eq!(a.xbar, b.xbar);
            let ((wa, ba), (wb, bb)) = solve_both(&mut a, &mut b, 4);
            if covariance {
                // The copy's Gram entries are products of stored elements, the in-place
                // engine's are formed from X as read: the same to rounding.
                assert!((&wa - &wb).amax() <= 1e-13 * wa.amax(), "{wa} {wb}");
                assert!((ba - bb).abs() <= 1e-13 * ba.abs().max(1.0));
            } else {
                assert_eq!((wa, ba), (wb, bb));
            }
        }
        assert!(CdEngine::on_columns(&full, &[3, 12], true, None).is_err());
    }

    /// An engine reading a subset of the columns in place (weights applied per element)
    /// solves the same problem as one on a copy of those columns, in naive and in covariance
    /// mode, through the Gram's small-batch route (4 columns) and its blocked route (9): the
    /// engine's coordinate `k` is column `cols[k]` of X in every product.
    #[test]
    fn engine_on_columns_in_place_equals_engine_on_their_copy() {
        let (x, y, v) = weighted_columns_data();
        let full = Design::new(&x, &y).unwrap().with_weights(&v).unwrap();
        let subsets: [&[usize]; 2] = [&[9, 2, 5, 11], &[11, 0, 7, 3, 9, 1, 5, 10, 2]];
        for cols in subsets {
            let xs = x.select_columns(cols.iter());
            let sub = Design::new(&xs, &y).unwrap().with_weights(&v).unwrap();
            for covariance in [false, true] {
                let mut a =
                    CdEngine::on_columns_in_place(&full, Some(cols), true, Some(covariance))
                        .unwrap();
                let mut b = CdEngine::new(&sub, true, None, Some(covariance));
                assert_eq!(a.uses_covariance(), covariance);
                let ((wa, ba), (wb, bb)) = solve_both(&mut a, &mut b, cols.len());
                assert!(wa.iter().any(|&w| w != 0.0));
                let what = format!("{} columns, covariance {covariance}", cols.len());
                assert!((&wa - &wb).amax() <= 1e-12 * wa.amax(), "{what}: {wa} {wb}");
                assert!((ba - bb).abs() <= 1e-12 * ba.abs().max(1.0), "{what}");
            }
        }
    }

    /// `set_response_at` forms `X̃ᵀỹ` of a chord step's response from the Gram columns and
    /// the true gradient (no pass over X), `set_response` by a pass: the same products,
    /// with and without an intercept, on a column subset in place and on a copy.
    #[test]
    fn response_from_the_gradient_equals_the_pass_over_x() {
        let (x, _, a) = weighted_columns_data();
        let (n, p) = x.shape();
        let cols: &[usize] = &[1, 4, 5, 8, 10];
        // θ non-zero on the engine's columns only; d = v·ℓ′ any values.
        let mut w = DVector::zeros(p);
        for (k, &j) in cols.iter().enumerate().take(3) {
            w[j] = 0.3 - 0.25 * k as f64;
        }
        let d = DVector::from_fn(n, |i, _| ((i * 7) % 11) as f64 / 4.0 - 1.2);
        for intercept in [true, false] {
            let b = if intercept { 0.7 } else { 0.0 };
            let z = DVector::from_fn(n, |i, _| (x.row(i) * &w)[0] + b - d[i] / a[i]);
            let design = Design::new(&x, &z).unwrap().with_weights(&a).unwrap();
            let grad: Vec<f64> = cols.iter().map(|&j| x.column(j).dot(&d)).collect();
            let grad_b = d.sum();
            let w_sub: Vec<f64> = cols.iter().map(|&j| w[j]).collect();
            for in_place in [true, false] {
                let make = || {
                    let e = CdEngine::on_columns_of(
                        &x,
                        &design,
                        Some(cols),
                        intercept,
                        Some(true),
                        Vec::new(),
                        in_place,
                    );
                    e.unwrap()
                };
                let (mut by_pass, mut by_gradient) = (make(), make());
                by_pass.set_response(&design, intercept);
                by_gradient.set_response_at(&design, intercept, &w_sub, &grad, grad_b);
                let what = format!("intercept {intercept}, in place {in_place}");
                let scale = by_pass.xty.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                assert!(scale > 0.0, "{what}");
                for (u, v) in by_pass.xty.iter().zip(&by_gradient.xty) {
                    assert!((u - v).abs() <= 1e-12 * scale, "{what}: {u} {v}");
                }
                assert_eq!(by_pass.ybar, by_gradient.ybar, "{what}");
                assert_eq!(by_pass.yy, by_gradient.yy, "{what}");
            }
        }
    }

    /// A check after a quiet sweep with `checks_from_sweeps` measures the gradient within
    /// the documented staleness of the exact one (and leaves the iterates as they are); once
    /// the coefficients are set from outside, the next check computes every product again.
    #[test]
    fn checks_from_sweeps_are_exact_up_to_one_sweep() {
        let (n, p) = (300, 15);
        let x = DMatrix::from_fn(n, p, |i, j| {
            (((i * 13 + j * 7) % 31) as f64 - 15.0) / 5.0 + ((i * j) % 5) as f64 / 3.0
        });
        let y = DVector::from_fn(n, |i, _| ((i * 5) % 9) as f64 - 4.0 + x[(i, 3)]);
        let v = DVector::from_fn(n, |i, _| 0.2 + (i % 7) as f64 * 0.3);
        let d = Design::new(&x, &y).unwrap().with_weights(&v).unwrap();
        let pen = ElasticPenalty {
            l1: vec![20.0; p],
            l2: vec![0.0; p],
        };
        let make = |from_sweeps: bool| {
            let mut e = CdEngine::new(&d, true, None, Some(false));
            e.without_active_gram();
            e.incremental_residual();
            if from_sweeps {
                e.checks_from_sweeps();
            }
            e.set_penalty(&pen, 1.0);
            e.set_threshold(1e-6);
            e
        };
        let (mut a, mut b) = (make(true), make(false));
        let (mut quiet_checks, mut stale) = (0, 0.0f64);
        for _ in 0..6 {
            a.outer_iteration(1000);
            b.outer_iteration(1000);
            assert_eq!(a.w, b.w);
            let quiet = a.quiet_sweep == a.sweeps;
            let (ca, cb) = (a.check(), b.check());
            let h_max = a.h.iter().fold(0.0f64, |m, &h| m.max(h));
            let bound = p as f64 * (h_max * a.threshold()).sqrt();
            for j in 0..p {
                let err = (a.g[j] - b.g[j]).abs();
                assert!(err <= bound, "{j}: {err} > {bound}");
                stale = stale.max(err);
            }
            assert!((ca.kkt - cb.kkt).abs() <= bound);
            quiet_checks += usize::from(quiet);
        }
        assert!(quiet_checks > 0, "no check followed a quiet sweep");
        assert!(stale > 0.0, "the sweeps' products were never used");
        // Coefficients set from outside (with the fit, so no residual recomputation): the
        // next check recomputes every product, bit for bit as the exact engine.
        let w: Vec<f64> = (0..p)
            .map(|j| if j % 4 == 0 { 0.05 } else { 0.0 })
            .collect();
        let fitted: Vec<f64> = (0..n)
            .map(|i| (0..p).map(|j| x[(i, j)] * w[j]).sum())
            .collect();
        a.set_working_coefficients_with_fit(&w, &fitted);
        b.set_working_coefficients_with_fit(&w, &fitted);
        a.check();
        b.check();
        assert_eq!(a.g, b.g);
    }
}
