//! The MAP objective: the negative log posterior of a likelihood, a prior and the data,
//! implemented as argmin's `CostFunction`, `Gradient` and `Hessian`.
//!
//! # Parameters and cost
//! The parameter vector is `θ = (w₁, …, w_p, b)`: the coefficients, then the intercept when
//! the problem has one (the intercept's prior is flat). With `η = offset + Xw + b`,
//! ```text
//! cost(θ) = Σᵢ vᵢ·[−ln p(yᵢ | ηᵢ)] + penalty(w)
//!         = −ln p(y | X, θ) − ln p(w) + ln Z_prior
//!         = −[ln_posterior(θ)] + ln Z_prior
//! ```
//! so the cost differs from the exact negative (unnormalized) log posterior by the prior's
//! normalizing constant `ln Z_prior = prior.ln_normalizer(p)`, which does not depend on θ.
//! [`MapProblem::ln_posterior`] returns `ln p(y | X, θ) + ln p(w)` exactly (with weights
//! `vᵢ`, each observation's log-density counted `vᵢ` times).

use crate::design::Design;
use crate::error::{Error, Result};
use crate::likelihood::Likelihood;
use crate::linalg::{add_gram, mirror_upper, Strided};
use crate::prior::Prior;
use argmin::core::{CostFunction, Gradient, Hessian};
use nalgebra::{DMatrix, DVector};

/// A likelihood, a prior and the data: the problem whose minimizer is the MAP.
#[derive(Debug, Clone)]
pub struct MapProblem<'a, L, P> {
    design: Design<'a>,
    likelihood: L,
    prior: P,
    intercept: bool,
    eta: PointCache,
    grad: PointCache,
    nll: PointCache,
    eager_gradient: bool,
}

/// The last vector computed at some θ (the linear predictor `η = Xw + b`, or the data
/// gradient `Xᵀ∂ℓ/∂η`), with the θ it belongs to. argmin's solvers ask for the cost and the
/// gradient at the same point in separate calls, and its L-BFGS asks again for the gradient
/// at the point its line search has just evaluated; a hit skips a pass over X. Keyed on θ
/// bit for bit, so a hit returns exactly what a recomputation would.
#[derive(Debug, Default)]
struct PointCache(std::sync::Mutex<Option<(DVector<f64>, DVector<f64>)>>);

impl Clone for PointCache {
    /// A clone starts empty (a cache, not state).
    fn clone(&self) -> Self {
        PointCache::default()
    }
}

impl PointCache {
    fn get(&self, theta: &DVector<f64>) -> Option<DVector<f64>> {
        let guard = self.0.lock().ok()?;
        let (t, eta) = guard.as_ref()?;
        let same = t.len() == theta.len()
            && t.iter()
                .zip(theta.iter())
                .all(|(a, b)| a.to_bits() == b.to_bits());
        same.then(|| eta.clone())
    }

    fn put(&self, theta: &DVector<f64>, eta: &DVector<f64>) {
        if let Ok(mut guard) = self.0.lock() {
            *guard = Some((theta.clone(), eta.clone()));
        }
    }
}

impl<'a, L: Likelihood, P: Prior> MapProblem<'a, L, P> {
    /// Joins the data, a likelihood and a prior.
    ///
    /// # Errors
    /// A response outside the likelihood's support, or per-coefficient prior settings whose
    /// length is not `p`.
    pub fn new(design: Design<'a>, likelihood: L, prior: P, intercept: bool) -> Result<Self> {
        likelihood.check_response(design.y().as_slice())?;
        prior.check_dimension(design.p())?;
        Ok(MapProblem {
            design,
            likelihood,
            prior,
            intercept,
            eta: PointCache::default(),
            grad: PointCache::default(),
            nll: PointCache::default(),
            eager_gradient: false,
        })
    }

    /// With `true`, [`CostFunction::cost`] also computes (and caches) the data gradient at the
    /// same point, by the one blocked pass over `X` of [`MapProblem::data_gradient`]; the
    /// cost alone would read `X` once for η and the gradient asked next a second time. For
    /// solvers that want the gradient at every point whose cost they ask for (L-BFGS with
    /// the Moré–Thuente line search). The values are the same bits either way.
    pub(crate) fn with_eager_gradient(mut self, eager: bool) -> Self {
        self.eager_gradient = eager;
        self
    }

    /// The data.
    pub fn design(&self) -> &Design<'a> {
        &self.design
    }
    /// The likelihood.
    pub fn likelihood(&self) -> &L {
        &self.likelihood
    }
    /// The prior on the coefficients.
    pub fn prior(&self) -> &P {
        &self.prior
    }
    /// Whether θ carries an intercept (its last entry).
    pub fn has_intercept(&self) -> bool {
        self.intercept
    }
    /// Length of θ: `p`, plus one with an intercept.
    pub fn n_params(&self) -> usize {
        self.design.p() + usize::from(self.intercept)
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

    /// Splits θ into the coefficients and the intercept (0 without one).
    pub fn split<'t>(&self, theta: &'t DVector<f64>) -> (&'t [f64], f64) {
        let p = self.design.p();
        let b = if self.intercept { theta[p] } else { 0.0 };
        (&theta.as_slice()[..p], b)
    }

    /// The linear predictor `η = offset + Xw + b`, summed over the non-zero coefficients only
    /// (a sparse `w` — most of a lasso path — costs `O(n·nnz)`, not `O(n·p)`).
    pub fn linear_predictor(&self, theta: &DVector<f64>) -> DVector<f64> {
        if let Some(eta) = self.eta.get(theta) {
            return eta;
        }
        let (w, b) = self.split(theta);
        let nonzero: Vec<usize> = (0..w.len()).filter(|&j| w[j] != 0.0).collect();
        let mut eta = DVector::zeros(self.design.n());
        self.eta_rows(w, b, &nonzero, 0, eta.as_mut_slice());
        self.eta.put(theta, &eta);
        eta
    }

    /// `η` on the rows `r0..r0 + out.len()`: `offsetᵢ + b + Σ_{j ∈ nonzero} w_j·x_ij`, each
    /// element summed over the columns in the same order whatever the row range, so a block
    /// of rows has the bits of the same rows of the whole.
    fn eta_rows(&self, w: &[f64], b: f64, nonzero: &[usize], r0: usize, out: &mut [f64]) {
        let (n, r1) = (self.design.n(), r0 + out.len());
        match self.design.offset() {
            Some(o) => {
                for (e, &oi) in out.iter_mut().zip(&o.as_slice()[r0..r1]) {
                    *e = oi + b;
                }
            }
            None => out.fill(b),
        }
        let x = self.design.x().as_slice();
        // Four columns per pass over `out` (same sums, bit for bit, as one at a time).
        let mut quads = nonzero.chunks_exact(4);
        for q in &mut quads {
            let a = [w[q[0]], w[q[1]], w[q[2]], w[q[3]]];
            let c = [q[0], q[1], q[2], q[3]].map(|j| &x[j * n + r0..j * n + r1]);
            crate::solve::coordinate::axpy4(a, c, out);
        }
        for &j in quads.remainder() {
            crate::solve::coordinate::axpy(w[j], &x[j * n + r0..j * n + r1], out);
        }
    }

    /// `−ln p(y | X, θ)`, exact, summed with Neumaier's compensation: the sum's rounding
    /// error is about one ulp of the result instead of growing with `√n`, so that a line
    /// search comparing costs can still resolve the decrease of a step near the optimum
    /// (`≈ ‖∇‖²/(2·H)`, a few ulps of the cost at a relative gradient of 10⁻⁷ on 5 000 rows).
    ///
    /// The rows are summed in the two halves of [`MapProblem::data_gradient`] (on two rayon
    /// tasks for a large `X`), each in order, and the second half's sum is then added to the
    /// first's: the same bits as the value that pass computes along with the gradient (and
    /// caches), so it does not matter which of the two computed it.
    pub fn negative_log_likelihood(&self, theta: &DVector<f64>) -> f64 {
        if let Some(v) = self.nll.get(theta) {
            return v[0];
        }
        let eta = self.linear_predictor(theta);
        let (w, _) = self.split(theta);
        let (_, mid) = self.row_split(w.iter().filter(|&&v| v != 0.0).count());
        let y = self.design.y();
        let part = |r0: usize, eta: &[f64]| {
            let mut acc = Compensated::default();
            for (k, &e) in eta.iter().enumerate() {
                let i = r0 + k;
                acc.add(weighted(self.design.weight(i), || {
                    self.likelihood.nll(y[i], e)
                }));
            }
            acc
        };
        let (lo, hi) = eta.as_slice().split_at(mid);
        let total = if hi.is_empty() {
            part(0, lo)
        } else {
            let (a, b) = rayon::join(|| part(0, lo), || part(mid, hi));
            a.merge(b)
        };
        let v = total.value();
        self.nll.put(theta, &DVector::from_element(1, v));
        v
    }

    /// `(rows per block, first row of the second half)` of a pass over `X` with `nonzero`
    /// non-zero coefficients: blocks of [`gradient_block_rows`], split into two halves of
    /// whole blocks when `X` has at least [`GRADIENT_HALVES_MIN_VALUES`] values (else the
    /// second half is empty). Depends on `n`, `p` and `nonzero` only.
    fn row_split(&self, nonzero: usize) -> (usize, usize) {
        let (n, p) = (self.design.n(), self.design.p());
        let rows = gradient_block_rows(n, nonzero);
        let blocks = n.div_ceil(rows);
        let mid = if n * p >= GRADIENT_HALVES_MIN_VALUES && blocks >= 2 {
            blocks.div_ceil(2) * rows
        } else {
            n
        };
        (rows, mid)
    }

    /// `ln p(y | X, θ) + ln p(w)`: the exact unnormalized log posterior.
    pub fn ln_posterior(&self, theta: &DVector<f64>) -> f64 {
        let (w, _) = self.split(theta);
        -self.negative_log_likelihood(theta) + self.prior.ln_density(w)
    }

    /// The cost `−ln p(y | X, θ) + penalty(w)` (see the module docs).
    pub fn objective(&self, theta: &DVector<f64>) -> f64 {
        let (w, _) = self.split(theta);
        self.negative_log_likelihood(theta) + self.prior.penalty(w)
    }

    /// Gradient of the data term `−ln p(y | X, θ)` with respect to θ: `Xᵀd` (and `Σᵢ dᵢ`
    /// for the intercept) with `dᵢ = vᵢ·ℓ′(yᵢ, ηᵢ)`.
    ///
    /// One pass over `X` in blocks of rows, η included when it is not cached: for each block,
    /// η on the block from the non-zero columns, `d` on the block (and the terms of
    /// `−ln p(y | X, θ)` with it, by [`Likelihood::nll_and_derivative`], when that value is
    /// not cached: it is cached with the same bits as
    /// [`MapProblem::negative_log_likelihood`]'s), then `x_jᵀd` on the block for every column,
    /// so the non-zero columns' blocks are read a second time from cache (the block holds at
    /// most ~64 Ki values of them) instead of in a second pass over `X`.
    /// A large `X` (`n·p ≥ 2¹⁸` values) is split into two halves of whole blocks on two
    /// rayon tasks, each summing its blocks in order, and the two partial gradients are then
    /// added. The blocks and the split depend on `n`, `p` and the number of non-zero
    /// coefficients only: the result does not depend on whether η was cached nor on the
    /// number of threads.
    pub fn data_gradient(&self, theta: &DVector<f64>) -> DVector<f64> {
        if let Some(g) = self.grad.get(theta) {
            return g;
        }
        let cached = self.eta.get(theta);
        let (w, b) = self.split(theta);
        let (n, p) = (self.design.n(), self.design.p());
        let nonzero: Vec<usize> = (0..p).filter(|&j| w[j] != 0.0).collect();
        let (rows, mid) = self.row_split(nonzero.len());
        let fill = cached.is_none();
        let with_nll = self.nll.get(theta).is_none();
        let mut eta = cached.unwrap_or_else(|| DVector::zeros(n));
        let (lo, hi) = eta.as_mut_slice().split_at_mut(mid);
        let pass = Pass {
            w,
            b,
            nonzero: &nonzero,
            rows,
            fill,
            with_nll,
        };
        let rows_of = |r0: usize, eta: &mut [f64]| self.gradient_rows(&pass, r0, eta);
        let (mut gw, dsum, nll) = if hi.is_empty() {
            rows_of(0, lo)
        } else {
            let ((mut ga, sa, na), (gb, sb, nb)) =
                rayon::join(|| rows_of(0, lo), || rows_of(mid, hi));
            for (a, b) in ga.iter_mut().zip(&gb) {
                *a += b;
            }
            (ga, sa + sb, na.merge(nb))
        };
        if self.intercept {
            gw.push(dsum);
        }
        let g = DVector::from_vec(gw);
        if fill {
            self.eta.put(theta, &eta);
        }
        if with_nll {
            self.nll.put(theta, &DVector::from_element(1, nll.value()));
        }
        self.grad.put(theta, &g);
        g
    }

    /// The part of [`MapProblem::data_gradient`] from the rows `r0..r0 + eta.len()`, in
    /// blocks of `pass.rows` rows (from `r0`): `(Σ_blocks x_jᵀd for every j, Σᵢ dᵢ, the
    /// compensated sum of the rows' nll terms in order — empty unless `pass.with_nll`)`;
    /// fills `eta` on those rows first when `pass.fill`.
    fn gradient_rows(
        &self,
        pass: &Pass<'_>,
        r0: usize,
        eta: &mut [f64],
    ) -> (Vec<f64>, f64, Compensated) {
        let (n, p) = (self.design.n(), self.design.p());
        let x = self.design.x().as_slice();
        let y = self.design.y();
        let rows = pass.rows;
        let mut d = vec![0.0; rows.min(eta.len())];
        let mut g = vec![0.0; p];
        let mut dsum = 0.0;
        let mut nll = Compensated::default();
        for (k0, block) in eta.chunks_mut(rows).enumerate() {
            let b0 = r0 + k0 * rows;
            let b1 = b0 + block.len();
            if pass.fill {
                self.eta_rows(pass.w, pass.b, pass.nonzero, b0, block);
            }
            let db = &mut d[..block.len()];
            if pass.with_nll {
                for (k, di) in db.iter_mut().enumerate() {
                    let i = b0 + k;
                    let v = self.design.weight(i);
                    let (l, dl) = if v == 0.0 {
                        (0.0, 0.0)
                    } else {
                        let (l, dl) = self.likelihood.nll_and_derivative(y[i], block[k]);
                        (v * l, v * dl)
                    };
                    nll.add(l);
                    *di = dl;
                }
            } else {
                for (k, di) in db.iter_mut().enumerate() {
                    let i = b0 + k;
                    *di = weighted(self.design.weight(i), || {
                        self.likelihood.nll_derivative(y[i], block[k])
                    });
                }
            }
            for (j, gj) in g.iter_mut().enumerate() {
                *gj += crate::solve::coordinate::dot(&x[j * n + b0..j * n + b1], db);
            }
            dsum += crate::solve::coordinate::sum(db);
        }
        (g, dsum, nll)
    }

    /// Gradient of the cost. For a non-smooth prior (Laplace) this is an error: use
    /// coordinate descent or proximal Newton, which treat the penalty exactly.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a non-differentiable prior; θ of the wrong length.
    pub fn cost_gradient(&self, theta: &DVector<f64>) -> Result<DVector<f64>> {
        self.check_theta(theta)?;
        if !self.prior.is_smooth() {
            return Err(Error::Unsupported {
                what: format!(
                    "gradient-based solvers need a differentiable prior, and {} is not; \
                     use coordinate descent (Method::CoordinateDescent) or OWL-QN",
                    self.prior.describe()
                ),
            });
        }
        let mut g = self.data_gradient(theta);
        let p = self.design.p();
        let (w, _) = self.split(theta);
        let mut pg = vec![0.0; p];
        self.prior.penalty_gradient(w, &mut pg);
        for j in 0..p {
            g[j] += pg[j];
        }
        Ok(g)
    }

    /// Hessian of the cost: `[XᵀDX, XᵀD1; 1ᵀDX, 1ᵀD1] + ∇²penalty` with
    /// `D = diag(vᵢ·ℓ″(yᵢ, ηᵢ))`.
    ///
    /// # Errors
    /// θ of the wrong length.
    pub fn cost_hessian(&self, theta: &DVector<f64>) -> Result<DMatrix<f64>> {
        self.check_theta(theta)?;
        let eta = self.linear_predictor(theta);
        let y = self.design.y();
        let (n, p) = (self.design.n(), self.design.p());
        let x = self.design.x();
        let dw: Vec<f64> = (0..n)
            .map(|i| {
                weighted(self.design.weight(i), || {
                    self.likelihood.nll_second_derivative(y[i], eta[i])
                })
            })
            .collect();
        // Xₛ = √d ∘ X, one square root per row (not per element).
        let sqrt_dw: Vec<f64> = dw.iter().map(|d| d.max(0.0).sqrt()).collect();
        let mut scaled = Vec::with_capacity(n * p);
        for src in x.as_slice().chunks_exact(n.max(1)).take(p) {
            scaled.extend(src.iter().zip(&sqrt_dw).map(|(a, s)| a * s));
        }
        let xs = DMatrix::from_vec(n, p, scaled);
        let mut h = DMatrix::zeros(self.n_params(), self.n_params());
        // XₛᵀXₛ on the tiles on and above the diagonal (`linalg::add_gram`: dot products of
        // Xₛ's columns read in place, no copy), then mirrored.
        let mut gram = DMatrix::zeros(p, p);
        add_gram(&mut gram, &Strided::of(&xs));
        mirror_upper(&mut gram);
        h.view_mut((0, 0), (p, p)).copy_from(&gram);
        if self.intercept {
            for j in 0..p {
                let s = crate::solve::coordinate::dot(x.column(j).as_slice(), &dw);
                h[(j, p)] = s;
                h[(p, j)] = s;
            }
            h[(p, p)] = dw.iter().sum();
        }
        let (w, _) = self.split(theta);
        self.prior.add_penalty_hessian(w, &mut h);
        Ok(h)
    }

    /// The largest violation of the optimality conditions at θ, in the units of the cost's
    /// gradient: `|∂_b|` for the intercept and `dist(−∂_j data, ∂pen_j(w_j))` per coefficient
    /// (for a smooth prior, simply the largest absolute gradient entry).
    pub fn kkt_violation(&self, theta: &DVector<f64>) -> f64 {
        self.kkt_violation_with(theta, &self.data_gradient(theta))
    }

    /// [`MapProblem::kkt_violation`] with the data gradient `g` at θ already computed.
    pub(crate) fn kkt_violation_with(&self, theta: &DVector<f64>, g: &DVector<f64>) -> f64 {
        let p = self.design.p();
        let (w, _) = self.split(theta);
        let mut worst = if self.intercept { g[p].abs() } else { 0.0 };
        if let Some(el) = self.prior.elastic(p) {
            for j in 0..p {
                worst = worst.max(el.kkt_violation(j, w[j], g[j]));
            }
        } else {
            let mut pg = vec![0.0; p];
            self.prior.penalty_gradient(w, &mut pg);
            for j in 0..p {
                worst = worst.max((g[j] + pg[j]).abs());
            }
        }
        worst
    }
}

/// Rows per block of [`MapProblem::data_gradient`]: about 64 Ki values (512 KiB) of the
/// non-zero columns per block, so they are still in the core's cache when the gradient reads
/// them again; at least 256 rows.
fn gradient_block_rows(n: usize, nonzero: usize) -> usize {
    ((1usize << 16) / nonzero.max(1)).max(256).min(n.max(1))
}

/// The settings of one blocked pass of [`MapProblem::data_gradient`].
struct Pass<'p> {
    w: &'p [f64],
    b: f64,
    nonzero: &'p [usize],
    rows: usize,
    /// Form η on each block (it was not cached).
    fill: bool,
    /// Sum the nll terms too (the value was not cached).
    with_nll: bool,
}

/// A running sum by Neumaier's compensated summation (Kahan's, also exact when a term is
/// larger than the running sum): error `≤ 2ε·Σ|aᵢ|` plus one rounding, independent of the
/// count.
#[derive(Debug, Clone, Copy, Default)]
struct Compensated {
    s: f64,
    c: f64,
}

impl Compensated {
    fn add(&mut self, a: f64) {
        let t = self.s + a;
        self.c += if self.s.abs() >= a.abs() {
            (self.s - t) + a
        } else {
            (a - t) + self.s
        };
        self.s = t;
    }

    /// This sum followed by `other`'s terms, carried as its sum and its compensation.
    fn merge(mut self, other: Compensated) -> Compensated {
        self.add(other.s);
        self.add(other.c);
        self
    }

    fn value(self) -> f64 {
        self.s + self.c
    }
}

/// Size of `X` (values) from which [`MapProblem::data_gradient`] runs in two halves.
const GRADIENT_HALVES_MIN_VALUES: usize = 1 << 18;

/// `v·f()`, and exactly 0 for a zero weight: an observation of weight 0 is absent, even where
/// its term is infinite (an extreme row overflowing the linear predictor), which would
/// otherwise turn the sum into NaN (`0·∞`).
#[inline]
fn weighted(v: f64, f: impl FnOnce() -> f64) -> f64 {
    if v == 0.0 {
        0.0
    } else {
        v * f()
    }
}

impl<L: Likelihood, P: Prior> CostFunction for MapProblem<'_, L, P> {
    type Param = DVector<f64>;
    type Output = f64;
    fn cost(&self, theta: &Self::Param) -> std::result::Result<f64, argmin::core::Error> {
        self.check_theta(theta)?;
        if self.eager_gradient && self.prior.is_smooth() {
            self.data_gradient(theta);
        }
        Ok(self.objective(theta))
    }
}

impl<L: Likelihood, P: Prior> Gradient for MapProblem<'_, L, P> {
    type Param = DVector<f64>;
    type Gradient = DVector<f64>;
    fn gradient(
        &self,
        theta: &Self::Param,
    ) -> std::result::Result<Self::Gradient, argmin::core::Error> {
        Ok(self.cost_gradient(theta)?)
    }
}

impl<L: Likelihood, P: Prior> Hessian for MapProblem<'_, L, P> {
    type Param = DVector<f64>;
    type Hessian = DMatrix<f64>;
    fn hessian(
        &self,
        theta: &Self::Param,
    ) -> std::result::Result<Self::Hessian, argmin::core::Error> {
        Ok(self.cost_hessian(theta)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Σ aᵢ` by [`Compensated`] summation, in order.
    fn compensated_sum(terms: impl Iterator<Item = f64>) -> f64 {
        let mut acc = Compensated::default();
        terms.for_each(|a| acc.add(a));
        acc.value()
    }
    use crate::likelihood::Bernoulli;
    use crate::prior::Gaussian;

    /// The caches of η and of the gradient return, bit for bit, what a fresh problem
    /// computes, after the cache has moved to another point and back, and never a stale value.
    #[test]
    fn cached_values_equal_fresh_ones() {
        let x = DMatrix::from_fn(7, 3, |i, j| ((i * 5 + j * 3) % 7) as f64 / 3.0 - 1.0);
        let y = DVector::from_fn(7, |i, _| f64::from(i % 3 == 0));
        let make = || {
            MapProblem::new(
                Design::new(&x, &y).unwrap(),
                Bernoulli,
                Gaussian::new(2.0).unwrap(),
                true,
            )
            .unwrap()
        };
        let pb = make();
        let t1 = DVector::from_vec(vec![0.3, -0.2, 0.1, 0.05]);
        let t2 = DVector::from_vec(vec![-0.1, 0.4, 0.0, -0.3]);
        let same = |a: &DVector<f64>, b: &DVector<f64>| {
            a.iter()
                .zip(b.iter())
                .all(|(u, v)| u.to_bits() == v.to_bits())
        };
        let c1 = pb.objective(&t1);
        let g1 = pb.data_gradient(&t1);
        let g2 = pb.data_gradient(&t2);
        assert!(!same(&g1, &g2));
        assert!(same(&pb.data_gradient(&t1), &make().data_gradient(&t1)));
        assert!(same(&pb.data_gradient(&t2), &make().data_gradient(&t2)));
        assert_eq!(pb.objective(&t1).to_bits(), c1.to_bits());
        assert!(same(
            &pb.linear_predictor(&t2),
            &make().linear_predictor(&t2)
        ));
        // An eager problem's cost fills the gradient cache; cost and gradient keep their bits.
        let eager = make().with_eager_gradient(true);
        assert_eq!(eager.cost(&t1).unwrap().to_bits(), c1.to_bits());
        assert!(eager.grad.get(&t1).is_some_and(|g| same(&g, &g1)));
        assert!(same(
            &eager.gradient(&t1).unwrap(),
            &make().gradient(&t1).unwrap()
        ));
        let lazy = make();
        lazy.cost(&t1).unwrap();
        assert!(lazy.grad.get(&t1).is_none());
    }

    /// Neumaier's sum is exact where the naive one loses everything, and within a few ulps
    /// on a long sum whose naive rounding error grows with the count.
    #[test]
    fn compensated_sum_keeps_the_small_terms() {
        let a = [1e16, 1.0, -1e16, 3.0];
        assert_eq!(a.iter().sum::<f64>(), 3.0);
        assert_eq!(compensated_sum(a.into_iter()), 4.0);
        // 10⁶ copies of fl(0.1) then −10⁵: in exact arithmetic 10⁶·(fl(0.1) − 0.1) = 5.55e-12.
        let terms = || std::iter::repeat_n(0.1, 1_000_000).chain([-1e5]);
        let exact = 5.551_115_123_125_783e-12;
        let naive: f64 = terms().sum();
        let comp = compensated_sum(terms());
        assert!((naive - exact).abs() > 1e-7, "naive {naive}");
        assert!(
            (comp - exact).abs() <= 1e-13,
            "compensated {comp} vs {exact}"
        );
    }

    /// The blocked gradient pass (several row blocks here: 1100 rows, 300 non-zero columns)
    /// equals `Xᵀd` and `Σd` written from the definition, with an offset and weights (zeros
    /// included), and the same bits whether η was cached before or formed in the pass, and on
    /// one thread or two; the η it leaves in the cache equals `linear_predictor`'s.
    #[test]
    fn blocked_gradient_matches_the_definition() {
        use crate::likelihood::Poisson;
        let (n, p) = (1100, 310);
        assert!(gradient_block_rows(n, 300) < n / 3);
        let x = DMatrix::from_fn(n, p, |i, j| (((i * 7 + j * 13) % 29) as f64 - 14.0) / 40.0);
        let y = DVector::from_fn(n, |i, _| ((i * 11) % 5) as f64);
        let v = DVector::from_fn(n, |i, _| {
            if i % 17 == 0 {
                0.0
            } else {
                0.5 + (i % 3) as f64
            }
        });
        let o = DVector::from_fn(n, |i, _| ((i % 7) as f64 - 3.0) / 10.0);
        let make = || {
            let d = Design::new(&x, &y)
                .unwrap()
                .with_weights(&v)
                .unwrap()
                .with_offset(&o)
                .unwrap();
            MapProblem::new(d, Poisson, Gaussian::new(1.0).unwrap(), true).unwrap()
        };
        // 300 non-zero coefficients, 10 zeros, and the intercept.
        let theta = DVector::from_fn(p + 1, |j, _| {
            if j % 31 == 5 {
                0.0
            } else {
                ((j % 9) as f64 - 4.0) / 200.0
            }
        });
        let fresh = make();
        let g = fresh.data_gradient(&theta);
        let cached = make();
        let eta = cached.linear_predictor(&theta);
        let g_after_eta = cached.data_gradient(&theta);
        for j in 0..=p {
            assert_eq!(g[j].to_bits(), g_after_eta[j].to_bits(), "{j}");
        }
        let eta_from_pass = fresh.linear_predictor(&theta);
        for i in 0..n {
            assert_eq!(eta[i].to_bits(), eta_from_pass[i].to_bits(), "{i}");
            let mut e = o[i] + theta[p];
            for j in 0..p {
                e += x[(i, j)] * theta[j];
            }
            assert!((e - eta[i]).abs() <= 1e-13, "{i}: {e} vs {}", eta[i]);
        }
        let d: Vec<f64> = (0..n).map(|i| v[i] * (eta[i].exp() - y[i])).collect();
        let scale = d.iter().map(|a| a.abs()).sum::<f64>();
        for j in 0..p {
            let want: f64 = (0..n).map(|i| x[(i, j)] * d[i]).sum();
            assert!(
                (g[j] - want).abs() <= 1e-13 * scale,
                "{j}: {} vs {want}",
                g[j]
            );
        }
        let want_b: f64 = d.iter().sum();
        assert!((g[p] - want_b).abs() <= 1e-13 * scale);
        // X is large enough for the two halves; they give the same bits on one thread as on two.
        assert!(n * p >= GRADIENT_HALVES_MIN_VALUES);
        let on = |t| crate::linalg::on_threads(t, || make().data_gradient(&theta));
        let (g1, g2) = (on(1), on(2));
        for j in 0..=p {
            assert_eq!(g1[j].to_bits(), g[j].to_bits(), "{j}");
            assert_eq!(g2[j].to_bits(), g[j].to_bits(), "{j}");
        }
        // −ln p(y | X, θ): the value the pass cached (`fresh`) has the bits of the one summed on
        // its own from η (`cached` computed η before the pass, so its pass had η and summed the
        // nll terms all the same; `alone` never ran the pass), on one thread and on two, and
        // equals the definition (a compensated sum: within a few ulps of the exact value).
        let nll = fresh.negative_log_likelihood(&theta);
        let alone = |t| crate::linalg::on_threads(t, || make().negative_log_likelihood(&theta));
        assert_eq!(nll.to_bits(), alone(1).to_bits());
        assert_eq!(nll.to_bits(), alone(2).to_bits());
        assert_eq!(
            nll.to_bits(),
            cached.negative_log_likelihood(&theta).to_bits()
        );
        let terms: Vec<f64> = (0..n)
            .filter(|&i| v[i] != 0.0)
            .map(|i| v[i] * Poisson.nll(y[i], eta[i]))
            .collect();
        let want = compensated_sum(terms.iter().copied());
        let abs: f64 = terms.iter().map(|t| t.abs()).sum();
        assert!(
            (nll - want).abs() <= 4.0 * f64::EPSILON * abs,
            "{nll} vs {want}"
        );
        // The gradient asked after the cost (η and the nll cached) keeps its bits.
        let after_cost = make();
        after_cost.negative_log_likelihood(&theta);
        let g3 = after_cost.data_gradient(&theta);
        for j in 0..=p {
            assert_eq!(g3[j].to_bits(), g[j].to_bits(), "{j}");
        }
    }
}
