//! Shifted solves `(A + σ_k I)·z_k = r` for a whole grid of shifts from one Krylov basis
//! (Lanczos with full reorthogonalization), used when the effective degrees of freedom are
//! not wanted.
//!
//! The Krylov space `𝒦_j(A, r) = span{r, Ar, …, A^{j−1}r}` does not depend on the shift, so
//! one orthonormal basis `Q_j = [q₀ … q_{j−1}]` (`q₀ = r/‖r‖`) serves every `σ`. Lanczos
//! builds it with `A·Q_j = Q_j·T_j + β_j·q_j·e_jᵀ`, `T_j = Q_jᵀAQ_j` tridiagonal (diagonal
//! `α`, off-diagonal `β`), and the Galerkin solution for each shift is
//! ```text
//! z_k ≈ Q_j·y_k,   (T_j + σ_k I)·y_k = ‖r‖·e₁,
//! residual (A + σ_k I)·Q_j·y_k − r = β_j·(e_jᵀy_k)·q_j,   so ‖res_k‖ = β_j·|y_k[j−1]|.
//! ```
//! Each step costs one product `A·q` (`2m²` flops) and the reorthogonalization of the new
//! vector against the whole basis by classical Gram–Schmidt applied twice (`8m·j` flops;
//! "twice is enough": orthogonal to working precision), so the basis stays orthonormal as in
//! a Householder reduction. The iteration stops when, for every shift, the residual is at
//! the level of rounding, `β_j·|y_k[j−1]| ≤ ε·(‖T_j‖ + σ_k)·‖y_k‖` (`‖T_j‖` by Gershgorin, a
//! bound of the spectrum seen so far), or when `β_j` vanishes (the space is invariant: the
//! solutions are exact).
//!
//! When `A + σI` is well conditioned for every shift (the usual ridge grid, whose smallest
//! `σ` is a sizeable fraction of the spectrum), this takes tens of steps instead of the
//! `(4/3)m³` flops of the tridiagonal reduction. It is tried with a budget of steps; a grid
//! that needs more (an ill-conditioned `A` with a tiny smallest shift) returns `None` and the
//! caller reduces `A` by Householder after all. The result is checked: the true residual of
//! the smallest and the largest shift is recomputed from `A` and must be within
//! [`VERIFY_FACTOR`]`·ε·(‖T_j‖ + σ)·‖z‖`, else `None` as well.

use super::solve_tridiagonal_shifts;
use crate::error::Result;
use crate::linalg::gemm;
use crate::solve::coordinate::{axpy, dot};
use nalgebra::DMatrix;
use std::cmp::Ordering;

/// Steps over which the rate of convergence is measured (and the budget checked).
const RATE_WINDOW: usize = 8;

/// Factor on `ε·(‖T‖ + σ)·‖z‖` that the recomputed residual may reach (rounding in `A·z`
/// and in the basis itself is of order `√m·ε`).
const VERIFY_FACTOR: f64 = 1024.0;

/// `Z` (m × L) with `(A + σ_k I)·Z[:, k] = r` for every shift, from at most `max_steps`
/// Lanczos steps; `None` when that is not enough or the check of the residual fails.
/// `A` is symmetric and stored whole (both triangles); `shifts` positive.
pub(super) fn shifted_solves(
    a: &DMatrix<f64>,
    r: &[f64],
    shifts: &[f64],
    max_steps: usize,
) -> Result<Option<(DMatrix<f64>, usize)>> {
    let m = a.nrows();
    let l = shifts.len();
    let beta0 = dot(r, r).sqrt();
    if beta0 == 0.0 || l == 0 {
        return Ok(Some((DMatrix::zeros(m, l), 0)));
    }
    if !beta0.is_finite() {
        return Ok(None);
    }
    let cap = max_steps.min(m).max(1);
    // The basis, column after column.
    let mut q = vec![0.0; m * (cap + 1)];
    for (qi, &ri) in q[..m].iter_mut().zip(r) {
        *qi = ri / beta0;
    }
    let (mut alpha, mut beta) = (Vec::with_capacity(cap), Vec::with_capacity(cap));
    let mut w = vec![0.0; m];
    let mut h = vec![0.0; cap];
    let mut y = vec![0.0; l * cap];
    let mut rhs = vec![0.0; cap];
    let (mut work, mut traces) = (Vec::new(), Vec::with_capacity(l));
    let mut steps = None;
    let mut history = Vec::with_capacity(cap);
    for j in 0..cap {
        let (basis, rest) = q.split_at_mut((j + 1) * m);
        let qj = &basis[j * m..];
        // w = A·q_j (A symmetric: row i is column i).
        for (wi, col) in w.iter_mut().zip(a.as_slice().chunks_exact(m)) {
            *wi = dot(col, qj);
        }
        // Gram–Schmidt against q₀…q_j, twice; α_j is w's component along q_j.
        let mut a_j = 0.0;
        for _ in 0..2 {
            for (hi, qi) in h.iter_mut().zip(basis.chunks_exact(m)) {
                *hi = dot(qi, &w);
            }
            for (&hi, qi) in h.iter().zip(basis.chunks_exact(m)).take(j + 1) {
                axpy(-hi, qi, &mut w);
            }
            a_j += h[j];
        }
        alpha.push(a_j);
        let b_j = dot(&w, &w).sqrt();
        if !(a_j.is_finite() && b_j.is_finite()) {
            return Ok(None);
        }
        // Gershgorin bound of T_{j+1} (its last row's off-diagonal to come is b_j).
        let t_norm = (0..=j)
            .map(|i| {
                let left = if i > 0 { beta[i - 1] } else { 0.0 };
                let right = if i < j { beta[i] } else { 0.0 };
                alpha[i].abs() + f64::abs(left) + f64::abs(right)
            })
            .fold(0.0, f64::max);
        // The Galerkin solutions of T_{j+1} for every shift and their residual norms.
        let k = j + 1;
        rhs[..k].fill(0.0);
        rhs[0] = beta0;
        let ys = &mut y[..l * k];
        traces.clear();
        let solved = solve_tridiagonal_shifts(
            (&alpha, &beta),
            &rhs[..k],
            shifts,
            ys,
            (&mut work, None),
            &mut traces,
            false,
        );
        if solved.is_err() {
            return Ok(None);
        }
        // The largest residual in units of its rounding level: converged at ≤ 1.
        let worst = shifts
            .iter()
            .zip(ys.chunks_exact(k))
            .map(|(&s, yk)| {
                b_j * yk[k - 1].abs() / (f64::EPSILON * (t_norm + s) * dot(yk, yk).sqrt())
            })
            .fold(0.0, f64::max);
        if b_j <= f64::EPSILON * t_norm || worst <= 1.0 {
            steps = Some((k, t_norm));
            break;
        }
        // The convergence is linear; from the decrease over the last RATE_WINDOW steps,
        // give up early when the budget will not be enough (the fallback pays less).
        history.push(worst.ln());
        if k > RATE_WINDOW && k % RATE_WINDOW == 0 {
            let rate = (history[k - 1 - RATE_WINDOW] - history[k - 1]) / RATE_WINDOW as f64;
            let slow = rate.partial_cmp(&0.0) != Some(Ordering::Greater);
            if slow || k as f64 + history[k - 1] / rate > cap as f64 {
                return Ok(None);
            }
        }
        beta.push(b_j);
        for (qi, &wi) in rest[..m].iter_mut().zip(&w) {
            *qi = wi / b_j;
        }
    }
    let Some((k, t_norm)) = steps else {
        return Ok(None);
    };
    // Z = Q_k·Y.
    let basis = DMatrix::from_column_slice(m, k, &q[..m * k]);
    let ym = DMatrix::from_column_slice(k, l, &y[..l * k]);
    let mut z = DMatrix::zeros(m, l);
    gemm(&mut z, 1.0, &basis, &ym, 0.0);
    // The true residuals of the extreme shifts.
    for c in [0, l - 1] {
        let zc = z.column(c);
        let s = shifts[c];
        let mut res2 = 0.0;
        for (i, col) in a.as_slice().chunks_exact(m).enumerate() {
            let ri = dot(col, zc.as_slice()) + s * zc[i] - r[i];
            res2 += ri * ri;
        }
        let bound = VERIFY_FACTOR * f64::EPSILON * (t_norm + s) * zc.norm();
        if matches!(
            res2.sqrt().partial_cmp(&bound),
            Some(Ordering::Greater) | None
        ) {
            return Ok(None);
        }
    }
    Ok(Some((z, k)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `A = BᵀB` of a random-looking `B` (n × m) plus a spike: symmetric positive
    /// semi-definite.
    fn spd(n: usize, m: usize, seed: u64) -> DMatrix<f64> {
        let mut s = seed;
        let mut next = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) - 0.5
        };
        let b = DMatrix::from_fn(n, m, |_, _| next());
        b.transpose() * b
    }

    fn direct(a: &DMatrix<f64>, r: &[f64], s: f64) -> Vec<f64> {
        let m = a.nrows();
        let shifted = a + DMatrix::identity(m, m) * s;
        let chol = shifted.cholesky().expect("positive definite");
        chol.solve(&nalgebra::DVector::from_column_slice(r))
            .as_slice()
            .to_vec()
    }

    /// max |z[:, c] − d| / max |d|.
    fn relative_error(z: &DMatrix<f64>, c: usize, d: &[f64]) -> f64 {
        let err = z
            .column(c)
            .iter()
            .zip(d)
            .map(|(u, v)| (u - v).abs())
            .fold(0.0, f64::max);
        err / d.iter().fold(0.0f64, |m, v| m.max(v.abs()))
    }

    #[test]
    fn krylov_solutions_equal_direct_solves_for_every_shift() {
        let a = spd(400, 150, 7);
        let r: Vec<f64> = (0..150).map(|i| ((i * 37 % 11) as f64) - 5.0).collect();
        let top = 400.0 * 150.0 / 12.0;
        let shifts: Vec<f64> = (0..10).map(|k| top * 0.6f64.powi(k)).collect();
        let (z, steps) = shifted_solves(&a, &r, &shifts, 150)
            .unwrap()
            .expect("converges");
        assert!(steps < 150, "{steps} steps");
        for (c, &s) in shifts.iter().enumerate() {
            let err = relative_error(&z, c, &direct(&a, &r, s));
            assert!(err <= 1e-12, "shift {s}: {err:e}");
        }
    }

    #[test]
    fn a_budget_too_small_for_an_ill_conditioned_grid_returns_none() {
        // Rank 20 of order 150 and a tiny shift: the Krylov space must grow to the rank.
        let a = spd(20, 150, 3);
        let r: Vec<f64> = (0..150).map(|i| (i as f64).sin()).collect();
        let out = shifted_solves(&a, &r, &[1.0, 1e-9], 5).unwrap();
        assert!(out.is_none());
        // With enough steps the exact solution is found (the space becomes invariant).
        let (z, steps) = shifted_solves(&a, &r, &[1.0, 1e-3], 150)
            .unwrap()
            .expect("converges");
        assert!(steps <= 22, "{steps} steps");
        let err = relative_error(&z, 1, &direct(&a, &r, 1e-3));
        assert!(err <= 1e-9, "{err:e}");
    }

    #[test]
    fn a_zero_right_hand_side_gives_zero_solutions() {
        let a = spd(30, 10, 1);
        let (z, steps) = shifted_solves(&a, &[0.0; 10], &[1.0, 0.5], 10)
            .unwrap()
            .unwrap();
        assert_eq!(steps, 0);
        assert!(z.iter().all(|&v| v == 0.0));
    }
}
