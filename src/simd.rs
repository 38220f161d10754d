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
#[allow(unsafe_code)] // the crate's one `unsafe` block (lib.rs denies the rest), proven below
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
