//! Runtime dispatch of the hot loops to the CPU's wider vector instructions.
//!
//! A default `x86_64` build targets the baseline instruction set (SSE2, two `f64` lanes per
//! register). The kernels of coordinate descent and of the GLM objective — dot products,
//! axpys, centered products of a column read in place — are written as plain loops over
//! slices; [`wide`] runs such a loop compiled with AVX2 (four lanes) when the CPU has it, so
//! a library user gets the wider registers without `-C target-cpu`.
//!
//! The results do not depend on the dispatch: Rust never contracts `a·b + c` into a fused
//! multiply-add and never reassociates floating-point sums, so the AVX2 copy of a loop
//! performs the same roundings in the same order as the SSE2 copy — the same bits (tested
//! below on every kernel). Only the speed differs: measured in docs/benchmarks.md
//! ("AVX2 by runtime dispatch").
//!
//! The one exception is [`add_dot_products`], the tile kernel of dense `AᵀB` products (Gram
//! columns, `XᵀX`): written with AVX2 and FMA intrinsics, because neither matrixmultiply
//! (9.6 GFLOP/s a core on the benchmark machine) nor an auto-vectorized loop (5–7.5) came
//! near the machine's peak (OpenBLAS: 16.6). Its bits differ from the portable route's (a
//! fused multiply-add rounds once), as matrixmultiply's own FMA kernel already made them
//! depend on the CPU; on a given CPU they depend only on the two columns multiplied.
//!
//! `unsafe` in this module, and nowhere else in the crate (`lib.rs` denies it): the calls
//! into functions compiled with `#[target_feature]`, each after the feature check, and the
//! kernel's unaligned loads and stores, each within a slice whose length is checked.

/// Loops shorter than this run as compiled: the dispatched copy is a call that cannot be
/// inlined into its caller, which costs more than the wider registers save on a few
/// elements (the covariance updates' axpys over a handful of Gram entries measured 15–20 %
/// slower through it on the 10-column diabetes path).
const MIN_LEN: usize = 64;

/// Runs `f` — a loop over `len` elements — compiled for AVX2 when the CPU supports it
/// (detected once, then a load of a cached flag per call) and `len ≥ 64`, and as compiled
/// otherwise. `f` must be inlined into the dispatch for its loops to get the wider
/// instructions: pass an `#[inline(always)]` closure whose body calls `#[inline(always)]`
/// kernels.
#[inline(always)]
#[allow(unsafe_code)] // proven below (lib.rs denies `unsafe` outside this module's items)
pub(crate) fn wide<R>(len: usize, f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        if len >= MIN_LEN && std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the one precondition of calling a function compiled with
            // `#[target_feature(enable = "avx2")]` is that the running CPU supports AVX2,
            // which `is_x86_feature_detected!` has just confirmed. `avx2` itself only calls
            // `f`, safe code.
            return unsafe { avx2(f) };
        }
    }
    f()
}

/// `f()` compiled with AVX2 enabled (`f` inlined into it).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// Rows of one block of [`add_dot_products`]: a tile's columns (4 × 512 × 8 bytes = 16 KiB)
/// stay in the L1/L2 cache while every column of the other factor streams past them.
const DOT_BLOCK_ROWS: usize = 512;

/// Tile of [`add_dot_products`]: `DOT_MR` columns of `A` against `DOT_NR` of `B`, 12
/// accumulators of four lanes plus 3 + 1 registers for the loads (16 `ymm` registers).
const DOT_MR: usize = 3;
const DOT_NR: usize = 4;

/// `out[i + j·ldo] += a_iᵀb_j` over rows `r0 .. r0 + rows` for every column `a_i` of `A` and
/// `b_j` of `B`, each given as a slice (`a[i][r0 .. r0 + rows]` is read: a column may belong
/// to any matrix, in any order — a subset of `X`'s columns needs no copy), computed with AVX2
/// fused multiply-adds — or `false` (nothing called) when the CPU lacks AVX2 or FMA or the
/// target is not `x86_64`, for the caller to take its portable route. `out` is a
/// column-major `m × k` block with leading dimension `ldo ≥ m`.
///
/// The products of a dense `AᵀB` (Gram columns, `XᵀX`) are read column by column in place:
/// no packing. Rows are taken in blocks of 512; within a block a 3 × 4 tile of dot products
/// is summed in 4 lanes (row `r` into lane `r mod 4`, each lane a chain of fused
/// multiply-adds), the lanes combined as `(l₀ + l₂) + (l₁ + l₃)`, then the block's last
/// `rows mod 4` rows added one fused multiply-add at a time; `out` receives one partial sum
/// per block, in block order. Every pair `(i, j)` goes through exactly these operations
/// wherever it sits (a full tile or an edge), so a product's bits depend only on its two
/// columns (and the rows): `a_iᵀa_j` and `a_jᵀa_i` agree, and the result does not depend on
/// how a caller splits the columns between calls or threads. Measured on a 20000 × 500
/// `XᵀX` (one core of the 2-core AMD EPYC benchmark machine): 16.5 GFLOP/s, against 9.6
/// through matrixmultiply and 16.6 for OpenBLAS's `dsyrk` (docs/benchmarks.md).
#[allow(unsafe_code)] // the call into the kernel, proven below
pub(crate) fn add_dot_products(
    a: &[&[f64]],
    b: &[&[f64]],
    r0: usize,
    rows: usize,
    out: &mut [f64],
    ldo: usize,
) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: `dot::blocks` is compiled with `#[target_feature(enable =
            // "avx2,fma")]`; its one precondition is that the running CPU has both, which
            // `is_x86_feature_detected!` has just confirmed.
            unsafe { dot::blocks(a, b, r0, rows, out, ldo) };
            return true;
        }
    }
    let _ = (a, b, r0, rows, out, ldo);
    false
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)] // the tile kernel's loads and stores, each proven below
mod dot {
    use super::{DOT_BLOCK_ROWS, DOT_MR, DOT_NR};
    use std::arch::x86_64::{
        __m256d, _mm256_fmadd_pd, _mm256_loadu_pd, _mm256_setzero_pd, _mm256_storeu_pd,
    };

    /// The column slices of one row block, each exactly `len` long.
    fn column<'a>(m: &[&'a [f64]], c: usize, r0: usize, len: usize) -> &'a [f64] {
        &m[c][r0..r0 + len]
    }

    /// The tiles of [`super::add_dot_products`], row block by row block.
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn blocks(
        a: &[&[f64]],
        b: &[&[f64]],
        first: usize,
        rows: usize,
        out: &mut [f64],
        ldo: usize,
    ) {
        let (ma, mb) = (a.len(), b.len());
        for r0 in (first..first + rows).step_by(DOT_BLOCK_ROWS) {
            let len = DOT_BLOCK_ROWS.min(first + rows - r0);
            let mut j0 = 0;
            while j0 < mb {
                let nb = DOT_NR.min(mb - j0);
                let mut i0 = 0;
                while i0 < ma {
                    let na = DOT_MR.min(ma - i0);
                    if na == DOT_MR && nb == DOT_NR {
                        let ac = std::array::from_fn(|i| column(a, i0 + i, r0, len));
                        let bc = std::array::from_fn(|j| column(b, j0 + j, r0, len));
                        let s = tile(ac, bc);
                        for (i, si) in s.iter().enumerate() {
                            for (j, &v) in si.iter().enumerate() {
                                out[(j0 + j) * ldo + i0 + i] += v;
                            }
                        }
                    } else {
                        for i in i0..i0 + na {
                            for j in j0..j0 + nb {
                                let v = single(column(a, i, r0, len), column(b, j, r0, len));
                                out[j * ldo + i] += v;
                            }
                        }
                    }
                    i0 += na;
                }
                j0 += nb;
            }
        }
    }

    /// `a_iᵀb_j` for a 3 × 4 tile of equally long columns.
    #[target_feature(enable = "avx2,fma")]
    fn tile(a: [&[f64]; DOT_MR], b: [&[f64]; DOT_NR]) -> [[f64; DOT_NR]; DOT_MR] {
        let len = a[0].len();
        let quads = len / 4;
        let mut acc = [[_mm256_setzero_pd(); DOT_NR]; DOT_MR];
        for q in 0..quads {
            let o = 4 * q;
            // SAFETY: every column slice is `len` long (`column` slices with bounds checks)
            // and `o + 4 ≤ 4·quads ≤ len`, so each unaligned 4-lane load reads
            // `col[o..o + 4]`, inside the slice.
            let av: [__m256d; DOT_MR] =
                std::array::from_fn(|i| unsafe { _mm256_loadu_pd(a[i].as_ptr().add(o)) });
            for j in 0..DOT_NR {
                debug_assert!(b[j].len() == len);
                // SAFETY: as above (`b[j]` is `len` long too).
                let bv = unsafe { _mm256_loadu_pd(b[j].as_ptr().add(o)) };
                for i in 0..DOT_MR {
                    acc[i][j] = _mm256_fmadd_pd(av[i], bv, acc[i][j]);
                }
            }
        }
        let mut s = [[0.0; DOT_NR]; DOT_MR];
        for i in 0..DOT_MR {
            for j in 0..DOT_NR {
                let mut l = [0.0; 4];
                // SAFETY: `l` holds four f64, the width of the store.
                unsafe { _mm256_storeu_pd(l.as_mut_ptr(), acc[i][j]) };
                let mut v = (l[0] + l[2]) + (l[1] + l[3]);
                for r in 4 * quads..len {
                    v = a[i][r].mul_add(b[j][r], v);
                }
                s[i][j] = v;
            }
        }
        s
    }

    /// One dot product in the same operations as an entry of [`tile`] (four lanes of fused
    /// multiply-adds, `(l₀ + l₂) + (l₁ + l₃)`, the remainder one at a time): the same bits.
    #[target_feature(enable = "avx2,fma")]
    fn single(a: &[f64], b: &[f64]) -> f64 {
        let quads = a.len() / 4;
        let mut l = [0.0f64; 4];
        for (qa, qb) in a.chunks_exact(4).zip(b.chunks_exact(4)) {
            for t in 0..4 {
                l[t] = qa[t].mul_add(qb[t], l[t]);
            }
        }
        let mut v = (l[0] + l[2]) + (l[1] + l[3]);
        for r in 4 * quads..a.len() {
            v = a[r].mul_add(b[r], v);
        }
        v
    }
}
