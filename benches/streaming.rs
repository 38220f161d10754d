//! Streaming logistic MAP: peak heap memory does not grow with the number of rows.
//!
//! A counting global allocator records the peak of live heap bytes. For each number of rows
//! the stream (chunks of 1000 rows regenerated from a seed on every pass; SGD with a 1/t step
//! and Polyak–Ruppert averaging, 30 passes) is fitted first, its peak measured, then the
//! batch MAP (`Map::fit` with all rows in memory) for comparison.
//!
//! ```sh
//! cargo bench --bench streaming          # 10k, 100k and 1M rows
//! ```
//! Without `--bench` (e.g. `cargo test --benches`) only a 10k-row smoke run is made.

use mapfit::solve::{LearningRate, PriorMode, Sgd};
use mapfit::stream::StreamFit;
use mapfit::{likelihood, prior, Map};
use nalgebra::{DMatrix, DVector};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// The system allocator, counting live bytes and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to `System`; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let now = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size
                    - layout.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Resets the peak to the current live bytes and returns them (the baseline).
fn reset_peak() -> usize {
    let live = LIVE.load(Ordering::Relaxed);
    PEAK.store(live, Ordering::Relaxed);
    live
}

fn peak_above(baseline: usize) -> usize {
    PEAK.load(Ordering::Relaxed).saturating_sub(baseline)
}

const P: usize = 5;
const CHUNK: usize = 1000;

/// Chunk `c` of a seeded logistic data set (the same `c` always gives the same rows).
fn logistic_chunk(c: usize, m: usize) -> (DMatrix<f64>, DVector<f64>) {
    let mut rng = StdRng::seed_from_u64(1000 + c as u64);
    let w = [1.0, -0.5, 0.25, 0.0, 0.75];
    let mut x = DMatrix::zeros(m, P);
    let mut y = DVector::zeros(m);
    for i in 0..m {
        let z: f64 = StandardNormal.sample(&mut rng);
        let mut eta = 0.5;
        for j in 0..P {
            let e: f64 = StandardNormal.sample(&mut rng);
            x[(i, j)] = 0.5 * z + 0.8 * e;
            eta += w[j] * x[(i, j)];
        }
        y[i] = if rng.random::<f64>() < 1.0 / (1.0 + (-eta).exp()) {
            1.0
        } else {
            0.0
        };
    }
    (x, y)
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let full = std::env::args().any(|a| a == "--bench");
    let sizes: &[usize] = if full {
        &[10_000, 100_000, 1_000_000]
    } else {
        &[10_000]
    };
    let tau = 0.5;
    println!(
        "streaming logistic MAP, p = {P}, chunks of {CHUNK} rows, SGD 1/t + averaging, 30 passes"
    );
    println!(
        "{:>10} {:>16} {:>10} {:>16} {:>10} {:>14}",
        "rows", "stream peak MiB", "stream s", "batch peak MiB", "batch s", "rel. error"
    );
    for &n in sizes {
        let chunks = n / CHUNK;
        let base = reset_peak();
        let t = Instant::now();
        let sgd = Sgd::new(
            LearningRate::InverseTime {
                initial: 0.5,
                t0: 200.0,
            },
            PriorMode::Coupled,
        )
        .with_batch_size(50)?
        .with_seed(9)
        .with_averaging_from_epoch(5);
        let fit = StreamFit::new(likelihood::Bernoulli, prior::Gaussian::new(tau)?)
            .n_rows(n)
            .passes(30)
            .fit(|| (0..chunks).map(|c| logistic_chunk(c, CHUNK)), sgd)?;
        let stream_s = t.elapsed().as_secs_f64();
        let stream_peak = peak_above(base);
        let theta = fit.theta().clone();
        drop(fit);

        let base = reset_peak();
        let t = Instant::now();
        let mut x = DMatrix::zeros(n, P);
        let mut y = DVector::zeros(n);
        for c in 0..chunks {
            let (xc, yc) = logistic_chunk(c, CHUNK);
            x.view_mut((c * CHUNK, 0), (CHUNK, P)).copy_from(&xc);
            y.rows_mut(c * CHUNK, CHUNK).copy_from(&yc);
        }
        let batch = Map::new(likelihood::Bernoulli, prior::Gaussian::new(tau)?).fit(&x, &y)?;
        let batch_s = t.elapsed().as_secs_f64();
        let batch_peak = peak_above(base);
        let mut map = DVector::zeros(P + 1);
        map.rows_mut(0, P).copy_from(batch.coefficients());
        map[P] = batch.intercept();
        let err = (&theta - &map).amax() / map.amax();
        println!(
            "{:>10} {:>16.3} {:>10.2} {:>16.3} {:>10.2} {:>14.2e}",
            n,
            mib(stream_peak),
            stream_s,
            mib(batch_peak),
            batch_s,
            err
        );
    }
    println!(
        "stream peak = one chunk ({CHUNK}×{P} + {CHUNK} doubles ≈ {:.3} MiB) plus the shuffled \
         row order and the parameters: independent of the number of rows.",
        mib(CHUNK * (P + 1) * 8)
    );
    Ok(())
}
