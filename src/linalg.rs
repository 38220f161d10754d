//! Dense products on strided views, shared by the ridge path, the Gram cache of coordinate
//! descent and the Newton Hessian.
//!
//! A transpose is a [`Strided`] view (element `(i, j)` at `i·rs + j·cs`), not a copy.
//! Products `AᵀB` of column-major factors ([`add_at_b`], behind [`add_gram`] and the Gram
//! columns) are dot products of columns read in place on CPUs with AVX2 and FMA
//! ([`crate::simd::add_dot_products`]); every other product goes through [`gemm`], where
//! nalgebra hands the strides to matrixmultiply's cache-blocked kernel. One caveat
//! shapes this module: nalgebra 0.34 sends a product with any dimension ≤ 5 to its `gemv`
//! fallback, whose `axcpy` loops over a strided column's *memory span* instead of its
//! length, reading and writing out of bounds for views with a row stride > 1. [`gemm`]
//! therefore only calls nalgebra's when every dimension exceeds 5, and uses a plain
//! bounds-checked loop otherwise (`tests/it/degenerate.rs` and `linalg`'s unit tests exercise
//! both sides).

use nalgebra::{DMatrix, Dyn, Matrix, MatrixView, Storage, StorageMut};

/// A view with run-time row and column strides.
pub(crate) type StridedView<'a> = MatrixView<'a, f64, Dyn, Dyn, Dyn, Dyn>;

/// Width of the column tiles of the blocked `AᵀA` products (only tiles on or above the
/// diagonal are computed).
const TILE: usize = 128;

/// A matrix laid out in a slice with arbitrary strides: element `(i, j)` at
/// `i·rs + j·cs`. Lets a transpose be a view (for nalgebra's `gemm`, which hands strides to
/// `matrixmultiply`) instead of a copy.
#[derive(Clone, Copy)]
pub(crate) struct Strided<'a> {
    pub(crate) data: &'a [f64],
    pub(crate) rows: usize,
    pub(crate) cols: usize,
    pub(crate) rs: usize,
    pub(crate) cs: usize,
}

impl<'a> Strided<'a> {
    pub(crate) fn new(data: &'a [f64], rows: usize, cols: usize, rs: usize, cs: usize) -> Self {
        Strided {
            data,
            rows,
            cols,
            rs,
            cs,
        }
    }
    pub(crate) fn of(x: &'a DMatrix<f64>) -> Self {
        Strided::new(x.as_slice(), x.nrows(), x.ncols(), 1, x.nrows())
    }
    pub(crate) fn t(self) -> Self {
        Strided::new(self.data, self.cols, self.rows, self.cs, self.rs)
    }
    /// The `nr × nc` block at `(r0, c0)`, as a `Strided` over the same data.
    pub(crate) fn block(&self, r0: usize, nr: usize, c0: usize, nc: usize) -> Self {
        let start = r0 * self.rs + c0 * self.cs;
        Strided::new(&self.data[start..], nr, nc, self.rs, self.cs)
    }
    /// The `nr × nc` block at `(r0, c0)` (both > 0).
    pub(crate) fn view(&self, r0: usize, nr: usize, c0: usize, nc: usize) -> StridedView<'a> {
        let start = r0 * self.rs + c0 * self.cs;
        StridedView::from_slice_with_strides(&self.data[start..], nr, nc, self.rs, self.cs)
    }
}

/// `C += AᵀA` on the tiles of `C` on and above the diagonal (`C` is k × k for `A` rows × k):
/// one matrix product per band of `b` columns, `C[..j₀+b, band] += A[:, ..j₀+b]ᵀ·A[:, band]`,
/// about `(t+1)/(2t)` of the full product's flops for `t` bands. The strictly lower tiles
/// are left as they were ([`mirror_upper`] completes `C`).
///
/// Large products run on rayon's pool: the bands are disjoint column ranges of `C`
/// (contiguous, column-major), split recursively into halves of equal work (a band's work
/// grows with its position). Each entry is summed in the same order whatever the thread
/// count, so the result does not depend on it.
pub(crate) fn add_gram(c: &mut DMatrix<f64>, a: &Strided<'_>) {
    let k = a.cols;
    if a.rows == 0 || k == 0 {
        return;
    }
    // Below ~4·10⁶ multiply-adds a thread hand-off costs more than it saves. Large products
    // take narrower bands, so that the halves can be balanced (the width depends on the size
    // only, never on the thread count).
    let large = a.rows * k * k >= 8_000_000;
    let width = if large { TILE / 2 } else { TILE };
    let parallel = large && rayon::current_num_threads() > 1;
    let mut bands: Vec<(usize, &mut [f64])> = c
        .as_mut_slice()
        .chunks_mut(width * k)
        .enumerate()
        .map(|(t, d)| (t * width, d))
        .collect();
    gram_bands(&mut bands, k, a, parallel);
}

/// The bands of [`add_gram`], halved by work onto two rayon tasks while `parallel`.
fn gram_bands(bands: &mut [(usize, &mut [f64])], k: usize, a: &Strided<'_>, parallel: bool) {
    let work = |b: &(usize, &mut [f64])| (b.0 + b.1.len() / k) * (b.1.len() / k);
    if parallel && bands.len() > 1 {
        let total: usize = bands.iter().map(work).sum();
        let (mut acc, mut split) = (0, 1);
        for (i, b) in bands.iter().enumerate() {
            acc += work(b);
            if 2 * acc >= total {
                // Band i goes to whichever half leaves the two closer to equal.
                split = if 2 * acc - total <= total - 2 * (acc - work(b)) {
                    i + 1
                } else {
                    i
                };
                break;
            }
        }
        let split = split.clamp(1, bands.len() - 1);
        let (left, right) = bands.split_at_mut(split);
        rayon::join(
            || gram_bands(left, k, a, true),
            || gram_bands(right, k, a, true),
        );
        return;
    }
    for (j0, data) in bands.iter_mut() {
        let (j0, bj) = (*j0, data.len() / k);
        add_at_b(
            data,
            k,
            a.block(0, a.rows, 0, j0 + bj),
            a.block(0, a.rows, j0, bj),
        );
    }
}

/// `C += AᵀB` for `A` (rows × m) and `B` (rows × k) with the same rows, `C` the column-major
/// `m × k` block of `c` with leading dimension `ldc ≥ m`. When `A` and `B` store their
/// columns contiguously (row stride 1) and the CPU has AVX2 and FMA, the products are dot
/// products of columns read in place ([`crate::simd::add_dot_products`]: no packing, 1.7×
/// matrixmultiply's speed on the benchmark machine); otherwise one [`gemm`].
pub(crate) fn add_at_b<'a>(c: &mut [f64], ldc: usize, a: Strided<'a>, b: Strided<'a>) {
    let (m, k) = (a.cols, b.cols);
    assert!(
        a.rows == b.rows && ldc >= m && (k == 0 || c.len() >= (k - 1) * ldc + m),
        "internal: add_at_b dimensions"
    );
    if a.rows == 0 || m == 0 || k == 0 {
        return;
    }
    if a.rs == 1 && b.rs == 1 {
        let columns = |s: &Strided<'a>| -> Vec<&'a [f64]> {
            (0..s.cols)
                .map(|j| &s.data[j * s.cs..j * s.cs + s.rows])
                .collect()
        };
        if crate::simd::add_dot_products(&columns(&a), &columns(&b), 0, a.rows, c, ldc) {
            return;
        }
    }
    let mut cv = nalgebra::DMatrixViewMut::from_slice_with_strides_mut(c, m, k, 1, ldc);
    gemm(
        &mut cv,
        1.0,
        &a.t().view(0, m, 0, a.rows),
        &b.view(0, b.rows, 0, k),
        1.0,
    );
}

/// `C += AᵀB` over rows `r0 .. r0 + rows` for `A` and `B` given as lists of column slices
/// (`a[i][r0 .. r0 + rows]` is column `i`'s part: columns picked from anywhere, in any
/// order, without a copy), `C` the column-major `a.len() × b.len()` block of `c` with
/// leading dimension `ldc ≥ a.len()`. Through [`crate::simd::add_dot_products`] where the CPU
/// has AVX2 and FMA, else plain dot products.
pub(crate) fn add_column_products(
    c: &mut [f64],
    ldc: usize,
    a: &[&[f64]],
    b: &[&[f64]],
    r0: usize,
    rows: usize,
) {
    let (m, k) = (a.len(), b.len());
    assert!(
        ldc >= m && (k == 0 || c.len() >= (k - 1) * ldc + m),
        "internal: add_column_products dimensions"
    );
    if rows == 0 || m == 0 || k == 0 || crate::simd::add_dot_products(a, b, r0, rows, c, ldc) {
        return;
    }
    for (j, bj) in b.iter().enumerate() {
        let bj = &bj[r0..r0 + rows];
        for (i, ai) in a.iter().enumerate() {
            c[j * ldc + i] += crate::solve::coordinate::dot(&ai[r0..r0 + rows], bj);
        }
    }
}

/// `C = α·A·B + β·C` through nalgebra's `gemm` (which hands the strides to `matrixmultiply`)
/// when every dimension exceeds 5, else by a plain bounds-checked loop. nalgebra 0.34 takes
/// its `gemv` fallback for products with a dimension ≤ 5, and that fallback reads and writes
/// out of bounds for views whose row stride is not 1 (`axcpy` iterates over the view's
/// memory span instead of its length), so it must not see the transposed views used here.
pub(crate) fn gemm<SC, SA, SB>(
    c: &mut Matrix<f64, Dyn, Dyn, SC>,
    alpha: f64,
    a: &Matrix<f64, Dyn, Dyn, SA>,
    b: &Matrix<f64, Dyn, Dyn, SB>,
    beta: f64,
) where
    SC: StorageMut<f64, Dyn, Dyn>,
    SA: Storage<f64, Dyn, Dyn>,
    SB: Storage<f64, Dyn, Dyn>,
{
    let (m, k) = a.shape();
    let n = b.ncols();
    assert!(
        b.nrows() == k && c.shape() == (m, n),
        "internal: gemm dimensions"
    );
    if m > 5 && n > 5 && k > 5 {
        c.gemm(alpha, a, b, beta);
        return;
    }
    for j in 0..n {
        for i in 0..m {
            let mut sum = 0.0;
            for l in 0..k {
                sum += a[(i, l)] * b[(l, j)];
            }
            c[(i, j)] = if beta == 0.0 {
                alpha * sum
            } else {
                alpha * sum + beta * c[(i, j)]
            };
        }
    }
}

/// Copies the upper triangle of a square matrix onto its lower triangle.
pub(crate) fn mirror_upper(c: &mut DMatrix<f64>) {
    let k = c.nrows();
    for j in 0..k {
        for i in 0..j {
            c[(j, i)] = c[(i, j)];
        }
    }
}

/// Columns per block of [`cholesky`].
const CHOLESKY_BLOCK: usize = 64;

/// The Cholesky factorization `A = LLᵀ` of a symmetric positive definite `a` (its lower
/// triangle is read; the strict upper triangle of the result is left as it was, which
/// nalgebra's `Cholesky` ignores), or `None` when a pivot is not positive (or NaN).
///
/// Right-looking by blocks of 64 columns: a block column is factored left-looking (each of its
/// columns, diagonal block and panel below together, updated by the block's earlier columns,
/// then scaled by its pivot), and the trailing lower triangle is updated by `−P·Pᵀ` (`P` the
/// panel) in matrix products of 64-column strips. Same flops as nalgebra's column-by-column
/// `cholesky()` (`m³/3`), but the bulk of them in cache-blocked products: 4× faster at
/// `m = 500` (the wide ridge fit's `XXᵀ + nλI`).
pub(crate) fn cholesky(mut a: DMatrix<f64>) -> Option<nalgebra::Cholesky<f64, Dyn>> {
    let m = a.nrows();
    if a.ncols() != m {
        return None;
    }
    let mut k0 = 0;
    while k0 < m {
        let kb = CHOLESKY_BLOCK.min(m - k0);
        let data = a.as_mut_slice();
        for j in k0..k0 + kb {
            let (left, right) = data.split_at_mut(j * m);
            let col_j = &mut right[j..m];
            for k in k0..j {
                let col_k = &left[k * m + j..(k + 1) * m];
                crate::solve::coordinate::axpy(-col_k[0], col_k, col_j);
            }
            let d = col_j[0];
            if d.is_nan() || d <= 0.0 {
                return None;
            }
            let s = d.sqrt();
            col_j[0] = s;
            for v in &mut col_j[1..] {
                *v /= s;
            }
        }
        let r = k0 + kb;
        if r < m {
            let panel = a.view((r, k0), (m - r, kb)).clone_owned();
            let mut c0 = r;
            while c0 < m {
                let cb = CHOLESKY_BLOCK.min(m - c0);
                let top = panel.rows(c0 - r, cb).transpose();
                gemm(
                    &mut a.view_mut((c0, c0), (m - c0, cb)),
                    -1.0,
                    &panel.rows(c0 - r, m - c0),
                    &top,
                    1.0,
                );
                c0 += cb;
            }
        }
        k0 = r;
    }
    Some(nalgebra::Cholesky::pack_dirty(a))
}

/// Runs `f` on a dedicated rayon pool of `threads` threads (tests that results do not
/// depend on the thread count).
#[cfg(test)]
pub(crate) fn on_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a rayon pool for a test")
        .install(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The blocked factor equals nalgebra's column-by-column one (sizes around the block
    /// width, a single block, one element), solves agree, and a matrix that is not positive
    /// definite, or has a NaN, is refused.
    #[test]
    fn blocked_cholesky_matches_nalgebra() {
        for m in [1usize, 5, 63, 64, 65, 130, 200] {
            let b = filled(m + 3, m, 0.37);
            let mut a = b.transpose() * &b;
            for i in 0..m {
                a[(i, i)] += 0.5;
            }
            // Garbage above the diagonal must not be read.
            let mut lower_only = a.clone();
            for j in 0..m {
                for i in 0..j {
                    lower_only[(i, j)] = f64::NAN;
                }
            }
            let ours = cholesky(lower_only).unwrap();
            let theirs = a.clone().cholesky().unwrap();
            let (l1, l2) = (ours.l(), theirs.l());
            let err = (&l1 - &l2).amax() / l2.amax();
            assert!(err <= 1e-13, "m = {m}: {err}");
            let rhs = DMatrix::from_fn(m, 2, |i, j| ((i + 3 * j) as f64).cos());
            let x = ours.solve(&rhs);
            assert!((&a * &x - &rhs).amax() <= 1e-10 * rhs.amax(), "m = {m}");
        }
        let mut bad = DMatrix::<f64>::identity(70, 70);
        bad[(66, 66)] = -1.0;
        assert!(cholesky(bad.clone()).is_none());
        bad[(66, 66)] = f64::NAN;
        assert!(cholesky(bad).is_none());
        assert!(cholesky(DMatrix::zeros(3, 4)).is_none());
    }

    /// `add_at_b` against plain dot products, on shapes around the 3 × 4 tile, rows around
    /// the 4 lanes and the 512-row block, column-major blocks of larger matrices (leading
    /// dimensions above the rows) and a transposed (row-stride > 1) factor that takes the
    /// portable route. Entries outside `C`'s block stay untouched.
    #[test]
    fn add_at_b_matches_dot_products() {
        for (rows, m, k) in [
            (1, 1, 1),
            (3, 2, 5),
            (4, 3, 4),
            (7, 7, 9),
            (513, 6, 8),
            (1030, 13, 5),
        ] {
            let a = filled(rows + 2, m + 1, 0.37);
            let b = filled(rows + 3, k, 0.91);
            // A = a[1..1+rows, 1..1+m], B = b[2..2+rows, ..].
            let sa = Strided::of(&a).block(1, rows, 1, m);
            let sb = Strided::of(&b).block(2, rows, 0, k);
            let ldc = m + 3;
            let mut c = vec![7.0; ldc * k];
            add_at_b(&mut c, ldc, sa, sb);
            for j in 0..k {
                for i in 0..ldc {
                    let got = c[j * ldc + i];
                    if i < m {
                        let want: f64 = 7.0
                            + (0..rows)
                                .map(|r| a[(1 + r, 1 + i)] * b[(2 + r, j)])
                                .sum::<f64>();
                        let tol = 1e-13 * (rows as f64) * (1.0 + want.abs());
                        assert!((got - want).abs() <= tol, "{rows}×{m}×{k} ({i}, {j})");
                    } else {
                        assert_eq!(got, 7.0, "wrote outside C at ({i}, {j})");
                    }
                }
            }
            // The same product with A given as the transpose of a row-major view.
            let at = a.transpose();
            let st = Strided::of(&at).t().block(1, rows, 1, m);
            let mut c2 = vec![7.0; ldc * k];
            add_at_b(&mut c2, ldc, st, sb);
            for (u, v) in c.iter().zip(&c2) {
                assert!((u - v).abs() <= 1e-12 * (1.0 + u.abs()));
            }
        }
    }

    /// A product's bits depend on its two columns only: `a_iᵀa_j = a_jᵀa_i` exactly, and a
    /// column's products are the same in a full tile, at an edge, or computed alone.
    #[test]
    fn add_at_b_bits_do_not_depend_on_the_tile() {
        // The claim is the AVX2/FMA kernel's; elsewhere the product is matrixmultiply's.
        if !kernel_runs() {
            return;
        }
        let rows = 1001;
        let a = filled(rows, 11, 0.53);
        let s = Strided::of(&a);
        let mut g = vec![0.0; 11 * 11];
        add_at_b(&mut g, 11, s, s);
        for i in 0..11 {
            for j in 0..11 {
                assert_eq!(
                    g[j * 11 + i].to_bits(),
                    g[i * 11 + j].to_bits(),
                    "({i}, {j})"
                );
            }
        }
        for j in [0usize, 5, 10] {
            let mut col = vec![0.0; 11];
            add_at_b(&mut col, 11, s, s.block(0, rows, j, 1));
            for i in 0..11 {
                assert_eq!(col[i].to_bits(), g[j * 11 + i].to_bits(), "({i}, {j})");
            }
        }
    }

    /// `add_column_products` reads exactly rows `r0 .. r0 + rows` of columns picked from two
    /// matrices in any order (repeats included), adds to `C`'s block and nothing else, and
    /// gives the bits of `add_at_b` on the same columns stored side by side (where both run
    /// the AVX2 kernel; the portable routes differ: dot products against matrixmultiply).
    #[test]
    fn add_column_products_reads_the_given_rows_of_any_columns() {
        let kernel = kernel_runs();
        let (x, z) = (filled(1100, 9, 0.41), filled(1100, 4, 0.77));
        let col =
            |m: &DMatrix<f64>, j: usize| -> Vec<f64> { m.column(j).iter().copied().collect() };
        let picks: Vec<Vec<f64>> = [8, 2, 2, 5, 0].iter().map(|&j| col(&x, j)).collect();
        let a: Vec<&[f64]> = picks.iter().map(|c| &c[..]).collect();
        let zc: Vec<Vec<f64>> = [3, 1, 0, 2, 3, 1, 0].iter().map(|&j| col(&z, j)).collect();
        let b: Vec<&[f64]> = zc.iter().map(|c| &c[..]).collect();
        for (r0, rows) in [(0, 1100), (7, 1), (13, 530), (1099, 1), (300, 0)] {
            let ldc = a.len() + 2;
            let mut c = vec![-3.0; ldc * b.len()];
            add_column_products(&mut c, ldc, &a, &b, r0, rows);
            // The same columns' rows side by side, through add_at_b.
            let am = DMatrix::from_fn(rows, a.len(), |r, i| a[i][r0 + r]);
            let bm = DMatrix::from_fn(rows, b.len(), |r, j| b[j][r0 + r]);
            let mut d = vec![-3.0; ldc * b.len()];
            if rows > 0 {
                add_at_b(&mut d, ldc, Strided::of(&am), Strided::of(&bm));
            }
            for j in 0..b.len() {
                for i in 0..ldc {
                    let got = c[j * ldc + i];
                    if i < a.len() {
                        let want = -3.0 + (r0..r0 + rows).map(|r| a[i][r] * b[j][r]).sum::<f64>();
                        let tol = 1e-13 * (rows as f64 + 1.0) * (1.0 + want.abs());
                        assert!((got - want).abs() <= tol, "{r0}+{rows} ({i}, {j})");
                        if kernel {
                            assert_eq!(got.to_bits(), d[j * ldc + i].to_bits(), "({i}, {j})");
                        }
                    } else {
                        assert_eq!(got, -3.0, "wrote outside C at ({i}, {j})");
                    }
                }
            }
        }
    }

    /// The CPU runs `simd::add_dot_products`' AVX2/FMA kernel.
    fn kernel_runs() -> bool {
        #[cfg(target_arch = "x86_64")]
        return std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma");
        #[cfg(not(target_arch = "x86_64"))]
        return false;
    }

    fn filled(r: usize, c: usize, seed: f64) -> DMatrix<f64> {
        DMatrix::from_fn(r, c, |i, j| ((i * 31 + j * 17) as f64 * seed).sin())
    }

    /// Every side of the size threshold, with the transposed (row-stride > 1) views that
    /// nalgebra's small-matrix fallback mishandles: the result equals the plain product and
    /// nothing outside `C` changes.
    #[test]
    fn gemm_on_transposed_views_matches_the_plain_product() {
        for (m, k, n) in [
            (1, 1, 1),
            (3, 7, 2),
            (5, 5, 5),
            (6, 5, 6),
            (6, 6, 6),
            (9, 40, 7),
        ] {
            let at = filled(k, m, 0.37); // A = atᵀ (m × k), a strided view of at
            let b = filled(k, n, 0.91);
            let want = at.transpose() * &b;
            // C is the top-left block of a larger matrix, to catch writes past it.
            let mut big = DMatrix::from_element(m + 2, n + 2, 7.0);
            let a = Strided::of(&at).t();
            gemm(
                &mut big.view_mut((0, 0), (m, n)),
                1.0,
                &a.view(0, m, 0, k),
                &b,
                0.0,
            );
            let diff = (big.view((0, 0), (m, n)) - &want).amax();
            assert!(
                diff <= 1e-12 * want.amax().max(1.0),
                "{m}×{k}×{n}: {diff:e}"
            );
            assert!(big
                .row(m)
                .iter()
                .chain(big.column(n).iter())
                .all(|&v| v == 7.0));
        }
    }

    #[test]
    fn add_gram_and_mirror_give_the_gram_matrix() {
        // The last two are large enough for the parallel, work-balanced bands.
        for (r, c) in [
            (1, 1),
            (4, 3),
            (5, 5),
            (7, 6),
            (300, 9),
            (40, 130),
            (500, 130),
            (130, 300),
        ] {
            let a = filled(r, c, 0.53);
            let mut g = DMatrix::zeros(c, c);
            add_gram(&mut g, &Strided::of(&a));
            mirror_upper(&mut g);
            let want = a.transpose() * &a;
            let diff = (&g - &want).amax();
            assert!(diff <= 1e-12 * want.amax().max(1.0), "{r}×{c}: {diff:e}");
        }
    }

    /// The parallel bands give the same bits on one thread and on several.
    #[test]
    fn add_gram_does_not_depend_on_the_thread_count() {
        let a = filled(400, 200, 0.37);
        let run = |threads: usize| {
            on_threads(threads, || {
                let mut g = DMatrix::zeros(200, 200);
                add_gram(&mut g, &Strided::of(&a));
                mirror_upper(&mut g);
                g
            })
        };
        let one = run(1);
        for threads in [2, 3] {
            assert_eq!(one, run(threads), "{threads} threads");
        }
    }
}
