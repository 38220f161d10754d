//! Anderson extrapolation of a fixed-point iteration, for coordinate descent's slow inner
//! loops.
//!
//! # Method
//! Given the last `K + 1` iterates `x₀, …, x_K` of an iteration `x ← T(x)`, with differences
//! `u_k = x_k − x_{k−1}` (`k = 1…K`, the columns of `U`), the extrapolated point is
//! ```text
//! x_e = Σ_{k=1}^{K} c_k·x_k,   c = z / (1ᵀz),   (UᵀU + δI)·z = 1,
//! ```
//! the affine combination of the iterates whose combined step `Uc` is shortest (the
//! "regularized nonlinear acceleration" form of Anderson mixing; `δ = 10⁻¹⁴·tr(UᵀU)/K`
//! keeps the nearly collinear differences of a linearly converging iteration solvable: a
//! slow mode of rate `ρ` needs coefficients of order `1/(1 − ρ)`, and a larger `δ` caps them
//! — 10⁻¹⁰ left the 12 × 43 test path of `tests/it/path_properties.rs` at 134 257 sweeps, 10⁻¹⁴
//! at 30 112).
//! For an affine iteration `T(x) = Ax + b` in dimension `d ≤ K` it returns the fixed point
//! (up to δ and rounding), whatever the contraction rate: this is what makes coordinate
//! descent on an ill-conditioned problem — a lasso with λ near 0 and `p > n`, where cyclic
//! sweeps contract the error by `1 − 10⁻⁶` — finish in a few hundred sweeps instead of
//! millions once its support is fixed (on the support, a sweep is an affine map).
//!
//! The extrapolated point is only a proposal: [`crate::solve::CdEngine`] accepts it when it
//! lowers the objective and otherwise goes on from the last iterate, so convergence and the
//! answer are those of coordinate descent.
//!
//! # Reference
//! Bertrand & Massias (2021), *Anderson acceleration of coordinate descent*, AISTATS;
//! Scieur, d'Aspremont & Bach (2016), *Regularized nonlinear acceleration*, NeurIPS.

/// Iterates kept (`K`): each extrapolation combines `K` of them.
pub(crate) const DEPTH: usize = 5;

/// Buffer of the last `K + 1` iterates of one fixed-size vector, and the extrapolation.
/// Its allocations are kept from one use to the next (no allocation per sweep).
#[derive(Debug, Clone, Default)]
pub(crate) struct Anderson {
    dim: usize,
    count: usize,
    /// Iterate `k` at `k·dim`, `k = 0…K`.
    iterates: Vec<f64>,
    /// The extrapolated point.
    out: Vec<f64>,
}

impl Anderson {
    /// Forgets the stored iterates; the next ones have `dim` entries.
    pub(crate) fn reset(&mut self, dim: usize) {
        self.dim = dim;
        self.count = 0;
        self.iterates.resize((DEPTH + 1) * dim, 0.0);
    }

    /// The length of the iterates since the last [`Anderson::reset`].
    pub(crate) fn dim(&self) -> usize {
        self.dim
    }

    /// Stores the next iterate (its first `dim` values); returns `true` when `K + 1` are
    /// stored, i.e. when [`Anderson::extrapolate`] can be called. A full buffer that was not
    /// extrapolated drops its oldest iterate, so the buffer always holds the latest ones.
    pub(crate) fn push(&mut self, x: impl IntoIterator<Item = f64>) -> bool {
        let d = self.dim;
        if self.count == DEPTH + 1 {
            self.iterates.copy_within(d..(DEPTH + 1) * d, 0);
            self.count = DEPTH;
        }
        let slot = &mut self.iterates[self.count * d..(self.count + 1) * d];
        for (s, v) in slot.iter_mut().zip(x) {
            *s = v;
        }
        self.count += 1;
        self.count == DEPTH + 1
    }

    /// The extrapolated point from the `K + 1` stored iterates (module docs), or `None` when
    /// the iterates did not move or the combination is not finite; the buffer is emptied
    /// either way.
    #[allow(clippy::needless_range_loop)] // rows and columns of a small matrix by index
    pub(crate) fn extrapolate(&mut self) -> Option<&[f64]> {
        let (d, k) = (self.dim, DEPTH);
        if self.count != k + 1 {
            return None;
        }
        self.count = 0;
        let x = &self.iterates;
        let diff = |a: usize, i: usize| x[a * d + i] - x[(a - 1) * d + i];
        // M = UᵀU (K × K, symmetric).
        let mut m = [[0.0f64; DEPTH]; DEPTH];
        for a in 0..k {
            for b in 0..=a {
                let s: f64 = (0..d).map(|i| diff(a + 1, i) * diff(b + 1, i)).sum();
                m[a][b] = s;
                m[b][a] = s;
            }
        }
        let trace: f64 = (0..k).map(|a| m[a][a]).sum();
        if !(trace > 0.0 && trace.is_finite()) {
            return None;
        }
        let ridge = 1e-14 * trace / k as f64;
        for (a, row) in m.iter_mut().enumerate() {
            row[a] += ridge;
        }
        let z = cholesky_solve_ones(&mut m)?;
        let total: f64 = z.iter().sum();
        if !(total.is_finite() && total != 0.0) {
            return None;
        }
        self.out.clear();
        self.out.resize(d, 0.0);
        for (a, &za) in z.iter().enumerate() {
            let c = za / total;
            for (o, &v) in self.out.iter_mut().zip(&x[(a + 1) * d..(a + 2) * d]) {
                *o += c * v;
            }
        }
        self.out
            .iter()
            .all(|v| v.is_finite())
            .then_some(&self.out[..])
    }
}

/// Solves `M z = 1` for a symmetric positive definite `K × K` matrix by Cholesky (in place);
/// `None` when a pivot is not positive.
#[allow(clippy::needless_range_loop)] // rows and columns of a small matrix by index
fn cholesky_solve_ones(m: &mut [[f64; DEPTH]; DEPTH]) -> Option<[f64; DEPTH]> {
    let k = DEPTH;
    for j in 0..k {
        let mut pivot = m[j][j];
        for l in 0..j {
            pivot -= m[j][l] * m[j][l];
        }
        if !(pivot > 0.0 && pivot.is_finite()) {
            return None;
        }
        let pivot = pivot.sqrt();
        m[j][j] = pivot;
        for i in j + 1..k {
            let mut s = m[i][j];
            for l in 0..j {
                s -= m[i][l] * m[j][l];
            }
            m[i][j] = s / pivot;
        }
    }
    // L y = 1, then Lᵀ z = y.
    let mut z = [1.0f64; DEPTH];
    for i in 0..k {
        for l in 0..i {
            z[i] -= m[i][l] * z[l];
        }
        z[i] /= m[i][i];
    }
    for i in (0..k).rev() {
        for l in i + 1..k {
            z[i] -= m[l][i] * z[l];
        }
        z[i] /= m[i][i];
    }
    Some(z)
}

#[cfg(test)]
mod tests {
    use super::{Anderson, DEPTH};

    /// An affine contraction in 3 dimensions with rate 0.999: six iterates give its fixed
    /// point to within 10⁻⁶ of the distance the iterates still had from it (plain iteration
    /// would need ~14 000 more steps for that).
    #[test]
    fn an_affine_iteration_is_extrapolated_to_its_fixed_point() {
        let a = [[0.999, 0.0005, 0.0], [0.0, 0.7, 0.2], [0.0001, -0.1, 0.5]];
        let b = [1.0, -2.0, 0.5];
        let step = |x: &[f64; 3]| -> [f64; 3] {
            let mut y = b;
            for i in 0..3 {
                for j in 0..3 {
                    y[i] += a[i][j] * x[j];
                }
            }
            y
        };
        // The fixed point by iterating long enough.
        let mut star = [0.0; 3];
        for _ in 0..200_000 {
            star = step(&star);
        }
        let mut acc = Anderson::default();
        acc.reset(3);
        let mut x = [0.0; 3];
        let mut ready = false;
        for _ in 0..=DEPTH {
            ready = acc.push(x);
            x = step(&x);
        }
        assert!(ready);
        let dist = |v: &[f64]| -> f64 {
            v.iter()
                .zip(&star)
                .map(|(p, q)| (p - q).powi(2))
                .sum::<f64>()
                .sqrt()
        };
        let before = dist(&x);
        let e = acc.extrapolate().expect("an extrapolation").to_vec();
        let after = dist(&e);
        assert!(before > 1.0, "{before}");
        assert!(after < 1e-6 * before, "{after} vs {before}");
        // The buffer is empty again.
        assert!(acc.extrapolate().is_none());
    }

    /// Pushing onto a full buffer keeps the latest `K + 1` iterates: the extrapolation of an
    /// affine iteration pushed past the depth is that of its last `K + 1` iterates alone.
    #[test]
    fn a_full_buffer_keeps_the_latest_iterates() {
        let step = |x: &[f64; 2]| [0.9 * x[0] + 0.1 * x[1] + 1.0, 0.5 * x[1] - 0.3];
        let iterates: Vec<[f64; 2]> = std::iter::successors(Some([4.0, -1.0]), |x| Some(step(x)))
            .take(DEPTH + 4)
            .collect();
        let (mut long, mut last) = (Anderson::default(), Anderson::default());
        long.reset(2);
        last.reset(2);
        for x in &iterates {
            long.push(*x);
        }
        for x in &iterates[3..] {
            last.push(*x);
        }
        let a = long.extrapolate().expect("an extrapolation").to_vec();
        let b = last.extrapolate().expect("an extrapolation").to_vec();
        assert_eq!(a, b);
    }

    /// Iterates that do not move give no extrapolation, neither does an incomplete buffer.
    #[test]
    fn standing_iterates_give_none() {
        let mut acc = Anderson::default();
        acc.reset(2);
        assert!(!acc.push([1.0, 2.0]));
        assert!(acc.extrapolate().is_none());
        acc.reset(2);
        for _ in 0..=DEPTH {
            acc.push([1.0, 2.0]);
        }
        assert!(acc.extrapolate().is_none());
    }
}
