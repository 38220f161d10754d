//! Closed-form MAP solutions and the textbook identities behind them, public so that tests,
//! examples and users can check any solver against them.
//!
//! Conventions: sum of squares with the ½, `½‖y − Xw‖² + (λ/2)‖w‖²` for ridge (so the
//! solution is `(XᵀX + λI)⁻¹Xᵀy`, which is also scikit-learn's `Ridge(alpha = λ)`), and
//! `½‖y − Xw‖² + α‖w‖₁` for the lasso. A Gaussian prior `N(0, τ²)` with noise variance σ²
//! is `λ = σ²/τ²`; a Laplace prior of scale `b` is `α = σ²/b`.

use crate::error::{check_non_negative, Error, Result};
use crate::linalg::{add_gram, mirror_upper, Strided};
use crate::solve::coordinate::dot;
use nalgebra::{Cholesky, DMatrix, DVector, Dyn, SymmetricEigen};

/// The soft-threshold `S(z, γ) = sign(z)·max(|z| − γ, 0)`: the proximal operator of `γ|·|`,
/// and the lasso solution for an orthonormal design (`w = S(Xᵀy, α)`).
///
/// ```
/// use mapfit::closed_form::soft_threshold;
/// assert_eq!(soft_threshold(3.0, 1.0), 2.0);
/// assert_eq!(soft_threshold(-3.0, 1.0), -2.0);
/// assert_eq!(soft_threshold(0.5, 1.0), 0.0);
/// ```
#[inline]
pub fn soft_threshold(z: f64, gamma: f64) -> f64 {
    if z > gamma {
        z - gamma
    } else if z < -gamma {
        z + gamma
    } else {
        0.0
    }
}

fn check_xy(x: &DMatrix<f64>, y: &DVector<f64>) -> Result<()> {
    crate::design::Design::new(x, y).map(|_| ())
}

fn cholesky_solve(a: DMatrix<f64>, b: &DVector<f64>, what: &str) -> Result<DVector<f64>> {
    Ok(checked_cholesky(a, what)?.solve(b))
}

/// The Cholesky factor of a symmetric matrix that is numerically positive definite: every
/// pivot² above `1e-13·k` times the largest diagonal entry (`k` the size).
///
/// # Errors
/// [`Error::Singular`] naming `what` otherwise.
pub(crate) fn checked_cholesky(a: DMatrix<f64>, what: &str) -> Result<Cholesky<f64, Dyn>> {
    // Reject numerically singular systems: a tiny pivot relative to the diagonal.
    let scale = a.diagonal().iter().fold(0.0f64, |m, &d| m.max(d.abs()));
    let chol = crate::linalg::cholesky(a).ok_or_else(|| Error::Singular { what: what.into() })?;
    let l = chol.l_dirty();
    let min_pivot = (0..l.nrows()).fold(f64::INFINITY, |m, i| m.min(l[(i, i)]));
    let floor = scale * 1e-13 * l.nrows() as f64;
    if min_pivot.is_nan() || min_pivot * min_pivot <= floor {
        return Err(Error::Singular { what: what.into() });
    }
    Ok(chol)
}

/// Iteration cap of the eigen- and singular value decompositions (nalgebra's default is none,
/// and its iteration can stall on matrices whose entries span hundreds of orders of magnitude).
fn decomposition_max_iters(dim: usize) -> usize {
    10_000 + 1_000 * dim
}

/// Ridge regression `w = (XᵀX + λI)⁻¹Xᵀy` by Cholesky (no intercept).
///
/// # Errors
/// Shape or finiteness errors; `λ < 0`; [`Error::Singular`] when `XᵀX + λI` is not
/// numerically positive definite (λ = 0 with rank-deficient `X`).
///
/// ```
/// use mapfit::closed_form::ridge;
/// use nalgebra::{dmatrix, dvector};
/// # fn main() -> mapfit::Result<()> {
/// let x = dmatrix![1.0, 0.0; 0.0, 2.0; 0.0, 0.0];
/// let y = dvector![1.0, 2.0, 3.0];
/// let w = ridge(&x, &y, 1.0)?;
/// assert!((w[0] - 0.5).abs() < 1e-15 && (w[1] - 0.8).abs() < 1e-15);
/// # Ok(()) }
/// ```
pub fn ridge(x: &DMatrix<f64>, y: &DVector<f64>, lambda: f64) -> Result<DVector<f64>> {
    check_xy(x, y)?;
    let lambda = check_non_negative("lambda", lambda)?;
    let mut a = x.tr_mul(x);
    for j in 0..a.nrows() {
        a[(j, j)] += lambda;
    }
    cholesky_solve(a, &x.tr_mul(y), "XᵀX + λI")
}

/// Ridge in its dual (kernel) form `w = Xᵀ(XXᵀ + λI)⁻¹y`, the cheap one when `p > n`.
/// Identical to [`ridge`] for λ > 0 (push-through identity).
///
/// # Errors
/// As [`ridge`]; with λ = 0 it needs `XXᵀ` invertible (rank n).
pub fn ridge_dual(x: &DMatrix<f64>, y: &DVector<f64>, lambda: f64) -> Result<DVector<f64>> {
    check_xy(x, y)?;
    let lambda = check_non_negative("lambda", lambda)?;
    let mut k = x * x.transpose();
    for i in 0..k.nrows() {
        k[(i, i)] += lambda;
    }
    let alpha = cholesky_solve(k, y, "XXᵀ + λI")?;
    Ok(x.tr_mul(&alpha))
}

/// Ridge with an unpenalized intercept: center `X` and `y`, solve, and recover
/// `b = ȳ − x̄ᵀw`. Returns `(w, b)`.
///
/// # Errors
/// As [`ridge`].
pub fn ridge_with_intercept(
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    lambda: f64,
) -> Result<(DVector<f64>, f64)> {
    check_xy(x, y)?;
    let n = x.nrows() as f64;
    let xbar = DVector::from_iterator(x.ncols(), x.column_iter().map(|c| c.sum() / n));
    let ybar = y.sum() / n;
    let mut xc = x.clone();
    for (j, mut c) in xc.column_iter_mut().enumerate() {
        c.add_scalar_mut(-xbar[j]);
    }
    let yc = y.add_scalar(-ybar);
    let w = ridge(&xc, &yc, lambda)?;
    let b = ybar - xbar.dot(&w);
    Ok((w, b))
}

/// The L1-penalized solution for a quadratic with diagonal Hessian `H`:
/// `argmin_w ½(w − w*)ᵀH(w − w*) + α‖w‖₁` is `wᵢ = sign(w*ᵢ)·max(|w*ᵢ| − α/Hᵢᵢ, 0)`
/// (Goodfellow, Bengio & Courville, *Deep Learning*, §7.1.2).
///
/// # Errors
/// Length mismatch, `α < 0`, or a diagonal entry ≤ 0.
pub fn diagonal_hessian_l1(
    w_star: &DVector<f64>,
    h: &DVector<f64>,
    alpha: f64,
) -> Result<DVector<f64>> {
    let alpha = check_non_negative("alpha", alpha)?;
    if h.len() != w_star.len() {
        return Err(Error::DimensionMismatch {
            what: "Hessian diagonal",
            expected: w_star.len(),
            found: h.len(),
        });
    }
    if let Some(&bad) = h.iter().find(|&&d| !(d > 0.0 && d.is_finite())) {
        return Err(Error::InvalidParameter {
            name: "Hessian diagonal entry",
            value: bad,
            reason: "must be finite and > 0",
        });
    }
    Ok(w_star.zip_map(h, |w, d| soft_threshold(w, alpha / d)))
}

/// L2 eigen-shrinkage: `argmin_w ½(w − w*)ᵀH(w − w*) + (α/2)‖w‖²` is
/// `w̃ = Q(Λ + αI)⁻¹ΛQᵀw*`, i.e. the component of `w*` along the eigenvector `qᵢ` of `H`
/// is multiplied by `λᵢ/(λᵢ + α)` (Goodfellow et al., §7.1.1). With `H = XᵀX` and `w*` the OLS
/// solution, `w̃` is the ridge solution.
///
/// # Errors
/// Shape mismatch, `α < 0`, or `H` not symmetric positive semi-definite with `λᵢ + α > 0`;
/// [`Error::Solver`] if the eigen-decomposition breaks down (entries spanning hundreds of
/// orders of magnitude).
pub fn eigen_shrinkage(
    h: &DMatrix<f64>,
    w_star: &DVector<f64>,
    alpha: f64,
) -> Result<DVector<f64>> {
    let (q, factors) = shrinkage_factors(h, alpha)?;
    if w_star.len() != h.nrows() {
        return Err(Error::DimensionMismatch {
            what: "w*",
            expected: h.nrows(),
            found: w_star.len(),
        });
    }
    let coords = q.tr_mul(w_star).component_mul(&factors);
    Ok(&q * coords)
}

/// The eigenvectors `Q` of the symmetric `H` and the shrinkage factor `λᵢ/(λᵢ + α)` of each.
///
/// # Errors
/// As [`eigen_shrinkage`].
pub fn shrinkage_factors(h: &DMatrix<f64>, alpha: f64) -> Result<(DMatrix<f64>, DVector<f64>)> {
    let alpha = check_non_negative("alpha", alpha)?;
    if h.nrows() != h.ncols() || h.nrows() == 0 {
        return Err(Error::DimensionMismatch {
            what: "Hessian columns",
            expected: h.nrows(),
            found: h.ncols(),
        });
    }
    crate::design::check_finite_matrix("Hessian", h)?;
    // The decomposition of H/m (m its largest entry) has the same eigenvectors and
    // eigenvalues λᵢ/m, and cannot overflow for entries near f64::MAX; the factor is then
    // (λᵢ/m)/((λᵢ/m) + α/m).
    let m = h.amax();
    let m = if m > 0.0 { m } else { 1.0 };
    // nalgebra's iteration can break down (or, without a cap, loop forever) on entries
    // spanning hundreds of orders of magnitude: capped, and checked.
    let eig = SymmetricEigen::try_new(h / m, f64::EPSILON, decomposition_max_iters(h.nrows()))
        .filter(|e| {
            e.eigenvalues
                .iter()
                .chain(e.eigenvectors.iter())
                .all(|a| a.is_finite())
        });
    let Some(eig) = eig else {
        return Err(Error::Solver(
            "the symmetric eigen-decomposition of H produced non-finite values (its entries \
             span too many orders of magnitude); rescale the problem"
                .into(),
        ));
    };
    let mut f = DVector::zeros(h.nrows());
    for (i, &l) in eig.eigenvalues.iter().enumerate() {
        let l = l.max(0.0);
        let a = alpha / m;
        if l + a <= 0.0 {
            return Err(Error::Singular {
                what: "H + αI has a zero eigenvalue".into(),
            });
        }
        f[i] = l / (l + a);
    }
    Ok((eig.eigenvectors, f))
}

/// Effective degrees of freedom of ridge, `df(λ) = Σᵢ dᵢ²/(dᵢ² + λ)` with `dᵢ` the singular
/// values of `X` (Hastie, Tibshirani & Friedman, *ESL* §3.4.1): the trace of the hat matrix,
/// `p` at λ = 0 (full column rank) and → 0 as λ → ∞.
///
/// # Errors
/// Empty or non-finite `X`, `λ < 0`; [`Error::Solver`] if the singular value decomposition
/// breaks down (entries spanning hundreds of orders of magnitude).
pub fn effective_degrees_of_freedom(x: &DMatrix<f64>, lambda: f64) -> Result<f64> {
    let lambda = check_non_negative("lambda", lambda)?;
    if x.nrows() == 0 || x.ncols() == 0 {
        return Err(Error::EmptyData { what: "x" });
    }
    crate::design::check_finite_matrix("x", x)?;
    // Singular values of X/m (m its largest entry), so that neither the decomposition nor
    // dᵢ² overflows: dᵢ²/(dᵢ² + λ) = sᵢ²/(sᵢ² + λ/m²) with sᵢ = dᵢ/m.
    let m = x.amax();
    let m = if m > 0.0 { m } else { 1.0 };
    let sv = (x / m)
        .try_svd(
            false,
            false,
            f64::EPSILON,
            decomposition_max_iters(x.ncols().max(x.nrows())),
        )
        .map(|s| s.singular_values)
        .filter(|sv| sv.iter().all(|d| d.is_finite()));
    let Some(sv) = sv else {
        return Err(Error::Solver(
            "the singular value decomposition of X produced non-finite values (its entries \
             span too many orders of magnitude); rescale the problem"
                .into(),
        ));
    };
    let lam = lambda / m / m;
    Ok(sv
        .iter()
        .map(|&d| {
            let d2 = d * d;
            if d2 + lam > 0.0 {
                d2 / (d2 + lam)
            } else {
                0.0
            }
        })
        .sum())
}

/// General Gaussian-likelihood, Gaussian-prior MAP (what [`crate::Map`] uses for ridge):
/// minimizes `Σᵢ vᵢ(yᵢ − oᵢ − b − xᵢᵀw)²/(2σ²) + Σⱼ ½·qⱼ·wⱼ²` with per-coefficient
/// precisions `qⱼ ≥ 0` (0 = unpenalized), observation weights `v`, offset `o` and an optional
/// unpenalized intercept (by weighted centering). Returns `(w, b)`.
pub(crate) fn weighted_ridge(
    design: &crate::Design<'_>,
    precisions: &[f64],
    sigma2: f64,
    intercept: bool,
) -> Result<(DVector<f64>, f64)> {
    let (n, p) = (design.n(), design.p());
    let xbar = if intercept {
        design.column_means()
    } else {
        DVector::zeros(p)
    };
    let ybar = if intercept {
        // Exact for a constant response, which then centers to exact zeros.
        design.weighted_mean(|i| design.y()[i] - design.offset_at(i))
    } else {
        0.0
    };
    // X̃ = √v (X − x̄), ỹ = √v (y − o − ȳ)
    let mut xt = design.x().clone();
    for (j, mut c) in xt.column_iter_mut().enumerate() {
        for (i, a) in c.iter_mut().enumerate() {
            *a = design.weight(i).sqrt() * (*a - xbar[j]);
        }
    }
    let yt = DVector::from_iterator(
        n,
        (0..n).map(|i| design.weight(i).sqrt() * (design.y()[i] - design.offset_at(i) - ybar)),
    );
    let c: Vec<f64> = precisions.iter().map(|&q| sigma2 * q).collect();
    let w = if p > n && c.iter().all(|&cj| cj > 0.0 && cj.is_finite()) {
        // Dual form (push-through identity), n × n instead of p × p: with Z = X̃C^{-1/2},
        // w = (X̃ᵀX̃ + C)⁻¹X̃ᵀỹ = C^{-1/2}·Zᵀ(ZZᵀ + I)⁻¹ỹ.
        let mut z = xt;
        for (j, mut col) in z.column_iter_mut().enumerate() {
            col *= 1.0 / c[j].sqrt();
        }
        let mut k = DMatrix::<f64>::zeros(n, n);
        add_gram(&mut k, &Strided::of(&z).t());
        mirror_upper(&mut k);
        for i in 0..n {
            k[(i, i)] += 1.0;
        }
        let alpha = cholesky_solve(k, &yt, "X̃C⁻¹X̃ᵀ + I")?;
        DVector::from_iterator(
            p,
            z.column_iter()
                .zip(&c)
                .map(|(col, &cj)| dot(col.as_slice(), alpha.as_slice()) / cj.sqrt()),
        )
    } else {
        // Primal form: the Gram matrix on the upper block triangle (`linalg::add_gram`).
        let mut a = DMatrix::<f64>::zeros(p, p);
        add_gram(&mut a, &Strided::of(&xt));
        mirror_upper(&mut a);
        for j in 0..p {
            a[(j, j)] += c[j];
        }
        let xty = DVector::from_iterator(
            p,
            xt.column_iter()
                .map(|col| dot(col.as_slice(), yt.as_slice())),
        );
        cholesky_solve(a, &xty, "XᵀVX/σ² + prior precision")?
    };
    let b = if intercept { ybar - xbar.dot(&w) } else { 0.0 };
    Ok((w, b))
}
