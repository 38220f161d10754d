//! Times mapfit on the anchor harness's problems (same data, same λ grids, same protocol as
//! `bench/common.py`) and prints one JSON object per line:
//!
//! ```text
//! cargo run --release --example bench -- --data DIR [--task NAME] [--dataset NAME]
//!     [--tol GAP] [--kkt-tol KKT] [--clock wall|cpu] [--bandwidth GBPS] [--no-alternatives] [--glm-method newton|lbfgs|pn] [--glm-tol TOL|default] [--glm-path-kkt ABS|relative] [--low-memory|--copy-x]
//!     [--coefs DIR]
//! ```
//!
//! `DIR` holds the harness data (`make_data.py` and `common.write_problems()`): raw
//! little-endian f64 row-major `NAME.X.f64`, `NAME.y.f64`, `NAME.json` (n, p, file names) and
//! `problems.json` (task, dataset, mix, λ grid). Conventions (common.py): X standardized with
//! the population sd outside the timed region; Gaussian tasks: y centered and scaled to unit
//! population sd, no intercept, so every tool solves
//! `(1/2n)‖y − Xb‖² + λ(a‖b‖₁ + (1−a)/2‖b‖²)` — exactly mapfit's path objective with
//! `standardize(false)`. Binomial and Poisson tasks: y as is, an unpenalized intercept,
//! `−loglik/n + λ(a‖b‖₁ + (1−a)/2‖b‖²)`.
//!
//! Tasks of `problems.json` and how mapfit solves them:
//!
//! | task | mapfit call |
//! |---|---|
//! | `lasso_path`, `enet_path` | `Path` (Gaussian, mix 1 / 0.5) on the problem's grid |
//! | `ridge` (one λ) | `RidgePath` with that one λ (a Cholesky solve); `Map` + Gaussian prior (closed form) as an alternative |
//! | `logistic_l2`, `poisson_l2` (one λ) | `Map` + Gaussian prior, `τ² = 1/(nλ)`: trust-region Newton, L-BFGS and proximal Newton all timed; the fastest that reaches the KKT target is the record |
//! | `logistic_l1_path`, `poisson_l1_path` | `Path::new(Bernoulli / Poisson, 1.0)` on the problem's grid |
//!
//! and two tasks derived here, because `problems.json` has no such entries:
//!
//! | task | definition |
//! |---|---|
//! | `ridge_path` | for every `ridge` problem: 100 λ log-spaced from `λ_max = lambda_max_lasso/0.001` (glmnet's ridge λ_max, s_y = 1) down to `ratio·λ_max`, ratio 1e-3 if n > p else 1e-2 (the harness's rule); `RidgePath` returning the coefficients as `ridge` does (no degrees of freedom: the Krylov route when it converges); with the degrees of freedom (the tridiagonal reduction) as an alternative, `with_degrees_of_freedom` |
//! | `lasso_cv` | for every `lasso_path` problem: 10-fold CV on the lasso grid with fixed fold ids `foldid[i] = (i mod 10) + 1` (1-based, R's convention), mean squared error; `CrossValidation` with one thread |
//!
//! Timing: one untimed warm-up call, then the median of 5 timed calls (3 when a call takes
//! more than 2 s); calls shorter than 50 ms are repeated in an inner loop and averaged. Only
//! the fit is timed. `--clock cpu` measures the CPU time of the whole process (all threads,
//! from `/proc/self/task/*/schedstat`, Linux), which other jobs on a shared machine disturb
//! far less than wall time; `--clock wall` (default) the elapsed time.
//!
//! Accuracy: `max_kkt_violation` is measured afterwards from the returned coefficients, as
//! `assess.py` does: `max_j dist(−∇_j f, λ·a·∂|b_j|)` with `∇f` the gradient of the smooth
//! part of the objective above, plus `|∂f/∂b₀|` when an intercept is fitted, maximized over
//! the path (for `lasso_cv`: over the full-data path).
//!
//! The limit: at start the bench measures the streaming-read bandwidth of one core (a sum
//! over a 512 MiB buffer, median of 7 passes, with the selected clock; `--bandwidth` skips
//! it) and prints it as a `{"machine": …}` line. Each task then reports `x_bytes = n·p·8`,
//! `pass_s = x_bytes / bandwidth` (one pass over X at that bandwidth) and
//! `passes_equivalent = median_s / pass_s`.
//!
//! Memory: a counting global allocator records the live heap; one extra (untimed) call per
//! task measures the peak heap during the fit above what was live before it (`fit_extra_mib`)
//! and reports `peak_mib = x_mib + y_mib + fit_extra_mib`, what a caller holding only X and y
//! needs, next to `x_mib`.
//!
//! Coefficients: with `--coefs DIR` the lasso, elastic-net and GLM paths and `lasso_cv` (its
//! full-data path) also write their coefficients in the harness's layout
//! (`DIR/<task>__<dataset>__mapfit.f64`, row-major `(L, 1 + p)`, intercept first), to compare
//! with the anchors' files in `results/coefs/`.

use mapfit::prior::{Convention, Gaussian as GaussianPrior};
use mapfit::ridge_path::RidgePath;
use mapfit::{likelihood, CrossValidation, Error, Map, Method, Path, PathFit};
use nalgebra::{DMatrix, DVector};
use serde_json::{json, Value};
use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path as FsPath, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

// ---------------------------------------------------------------------------------------
// Peak heap: a counting allocator.
// ---------------------------------------------------------------------------------------

/// The system allocator, counting the live heap and its peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let now = LIVE.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the
// counters are plain atomics and never affect the memory handed out.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Heap in use before `f` and the peak while it ran.
fn heap_peak<T>(f: impl FnOnce() -> T) -> (usize, usize, T) {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let out = f();
    (before, PEAK.load(Ordering::Relaxed), out)
}

// ---------------------------------------------------------------------------------------
// Problems, data, settings.
// ---------------------------------------------------------------------------------------

/// The standardized data of one dataset.
struct Data {
    name: String,
    x: DMatrix<f64>,
    y: DVector<f64>,
}

/// One problem of `problems.json` (or derived from one).
#[derive(Clone)]
struct Problem {
    task: String,
    dataset: String,
    family: String,
    mix: f64,
    intercept: bool,
    lambdas: Vec<f64>,
}

/// Solver settings shared by the runners.
#[derive(Clone, Copy)]
struct Settings {
    gap_tol: f64,
    kkt_tol: f64,
    cpu_clock: bool,
    alternatives: bool,
    /// Absolute KKT violation a record must reach (the issue's 1e-7).
    kkt_target: f64,
    /// GLM paths: the KKT violation to reach in the units of `max_kkt_violation` (mean loss,
    /// as assess.py measures it); the path's relative tolerance is derived from it. `None`:
    /// `kkt_tol` as a relative tolerance, as for the Gaussian paths.
    glm_path_kkt: Option<f64>,
    /// `Map::tolerance` for the one-λ GLM fits (relative gradient norm for Newton and
    /// L-BFGS, relative KKT violation for proximal Newton); `None`: mapfit's default.
    glm_tol: Option<f64>,
    /// `logistic_l2` / `poisson_l2`: time this method only (`--glm-method`).
    glm_method: Option<Method>,
    /// [`Path::low_memory`]: `--low-memory` sets it to `true` (never copy `X`), `--copy-x`
    /// to `false` (weighted copies of `X`); default automatic.
    low_memory: Option<bool>,
}

/// What a runner reports.
struct Outcome {
    timing: Timing,
    converged: bool,
    max_kkt_violation: f64,
    n_lambda: usize,
    /// Peak heap during one fit above the heap live before it, bytes.
    fit_extra_bytes: usize,
    extra: Value,
}

/// Why a runner produced no timing.
enum Fail {
    /// mapfit rejects the problem with `Error::Unsupported`.
    Unsupported(String),
    /// Anything else.
    Error(String),
}

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        match e {
            Error::Unsupported { what } => Fail::Unsupported(what),
            other => Fail::Error(other.to_string()),
        }
    }
}

type Runner = fn(&Problem, &Data, Settings) -> Result<Outcome, Fail>;

/// The runner of a task, if mapfit supports it (add new tasks here).
fn runner(task: &str) -> Option<Runner> {
    match task {
        "lasso_path" | "enet_path" => Some(gaussian_path),
        "ridge" => Some(ridge),
        "ridge_path" => Some(ridge_path),
        "logistic_l2" | "poisson_l2" => Some(glm_l2),
        "logistic_l1_path" | "poisson_l1_path" => Some(glm_path),
        "lasso_cv" => Some(lasso_cv),
        _ => None,
    }
}

/// Times `f` (protocol above), then measures the peak heap of one more call.
fn measure<T>(s: Settings, mut f: impl FnMut() -> T) -> (Timing, usize, T) {
    let (timing, _) = time_call(s.cpu_clock, &mut f);
    let (before, peak, out) = heap_peak(&mut f);
    (timing, peak.saturating_sub(before), out)
}

// ---------------------------------------------------------------------------------------
// KKT violations (assess.py / common.kkt_violation).
// ---------------------------------------------------------------------------------------

/// `max_k max_j dist(−∇_j f_k, λ_k·a·∂|b_kj|)` (+ `|∂f_k/∂b₀|` with an intercept) over the
/// points `k` (columns of `b`, intercepts `b0`), for the family's mean negative
/// log-likelihood plus `λ(1−a)/2‖b‖²`. The gradients of all points come from two matrix
/// products, `η = XB + b₀` and `Rᵀ·X`.
fn kkt_max(pb: &Problem, d: &Data, lambdas: &[f64], b: &DMatrix<f64>, b0: &[f64]) -> f64 {
    let n = d.x.nrows() as f64;
    let mut r = &d.x * b;
    for (k, mut col) in r.column_iter_mut().enumerate() {
        for (i, e) in col.iter_mut().enumerate() {
            let eta = *e + b0[k];
            *e = match pb.family.as_str() {
                "binomial" => 0.5 * (1.0 + (0.5 * eta).tanh()) - d.y[i],
                "poisson" => eta.exp() - d.y[i],
                _ => eta - d.y[i],
            };
        }
    }
    let g = r.transpose() * &d.x; // L × p: row k is Σᵢ rᵢₖ xᵢᵀ
    let mut v = 0.0f64;
    for (k, &lambda) in lambdas.iter().enumerate() {
        let l1 = lambda * pb.mix;
        for j in 0..b.nrows() {
            let bj = b[(j, k)];
            let gj = g[(k, j)] / n + lambda * (1.0 - pb.mix) * bj;
            v = v.max(if bj != 0.0 {
                (gj + l1 * bj.signum()).abs()
            } else {
                (gj.abs() - l1).max(0.0)
            });
        }
        if pb.intercept {
            v = v.max((r.column(k).sum() / n).abs());
        }
    }
    v
}

/// [`kkt_max`] of one point.
fn kkt_violation(pb: &Problem, d: &Data, lambda: f64, b: &DVector<f64>, b0: f64) -> f64 {
    let bm = DMatrix::from_column_slice(b.len(), 1, b.as_slice());
    kkt_max(pb, d, &[lambda], &bm, &[b0])
}

/// `--coefs DIR`: where the lasso, elastic-net and GLM path records (and `lasso_cv`'s full-data
/// path) write their coefficients.
static COEF_DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Writes a path's coefficients as the harness does (`common.save_coefs`): raw
/// little-endian f64, row-major `(L, 1 + p)`, intercept first, to
/// `DIR/<task>__<dataset>__mapfit.f64` when `--coefs DIR` is given.
fn save_coefs(pb: &Problem, fit: &PathFit) {
    let Some(dir) = COEF_DIR.get() else { return };
    let w = fit.coefficient_matrix();
    let mut bytes = Vec::with_capacity(8 * w.ncols() * (w.nrows() + 1));
    for (k, col) in w.column_iter().enumerate() {
        bytes.extend_from_slice(&fit.intercepts()[k].to_le_bytes());
        for v in col.iter() {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
    }
    let file = dir.join(format!("{}__{}__mapfit.f64", pb.task, pb.dataset));
    if let Err(e) = std::fs::write(&file, bytes) {
        eprintln!("warning: {}: {e}", file.display());
    }
}

fn path_kkt(pb: &Problem, d: &Data, fit: &PathFit) -> f64 {
    kkt_max(
        pb,
        d,
        fit.lambdas(),
        fit.coefficient_matrix(),
        fit.intercepts(),
    )
}

// ---------------------------------------------------------------------------------------
// Runners.
// ---------------------------------------------------------------------------------------

/// `lasso_path` / `enet_path`: a user-grid path on the standardized problem, no intercept.
fn gaussian_path(pb: &Problem, d: &Data, s: Settings) -> Result<Outcome, Fail> {
    if pb.family != "gaussian" {
        return Err(Fail::Error(format!(
            "family {} for a Gaussian path task",
            pb.family
        )));
    }
    let path = Path::new(likelihood::Gaussian::default(), pb.mix)
        .standardize(false)
        .intercept(false)
        .lambdas(pb.lambdas.clone())
        .tolerance(s.gap_tol)
        .kkt_tolerance(s.kkt_tol);
    let (t, mem, fit) = measure(s, || path.fit(&d.x, &d.y));
    let fit = fit?;
    save_coefs(pb, &fit);
    Ok(Outcome {
        timing: t,
        converged: fit.converged(),
        max_kkt_violation: path_kkt(pb, d, &fit),
        n_lambda: fit.len(),
        fit_extra_bytes: mem,
        extra: json!({
            "covariance_updates": fit.uses_covariance(),
            "sweeps": fit.sweeps(),
            "checks": fit.checks(),
            "max_rel_gap": fit.convergences().iter().map(|c| c.value).fold(0.0, f64::max),
        }),
    })
}

/// `ridge`: one λ. The record is `RidgePath` with that λ (one Cholesky factorization of
/// `XᵀX + nλI` or `XXᵀ + nλI`); `Map` with a Gaussian prior (its closed form) is timed as an
/// alternative.
fn ridge(pb: &Problem, d: &Data, s: Settings) -> Result<Outcome, Fail> {
    let lam = pb.lambdas[0];
    let (n, _) = d.x.shape();
    let rp = RidgePath::new()
        .standardize(false)
        .intercept(false)
        .degrees_of_freedom(false)
        .lambdas(vec![lam]);
    let (t, mem, fit) = measure(s, || rp.fit(&d.x, &d.y));
    let fit = fit?;
    let b = fit.coefficients(0).into_owned();
    let kkt = kkt_violation(pb, d, lam, &b, 0.0);
    let mut extra = json!({"solver": format!("RidgePath ({})", fit.factorization().name())});
    if s.alternatives {
        let prior = GaussianPrior::from_lambda(
            lam,
            Convention::Mean {
                n: n as f64,
                sigma2: 1.0,
            },
        )?;
        let map = Map::new(likelihood::Gaussian::default(), prior).intercept(false);
        let (tm, mem_m, fm) = measure(s, || map.fit(&d.x, &d.y));
        let fm = fm?;
        extra["map_closed_form"] = json!({
            "median_s": tm.median_s,
            "reps": tm.reps,
            "method": fm.method().name(),
            "max_kkt_violation": kkt_violation(pb, d, lam, fm.coefficients(), 0.0),
            "fit_extra_mib": mib(mem_m),
        });
    }
    Ok(Outcome {
        timing: t,
        converged: true,
        max_kkt_violation: kkt,
        n_lambda: 1,
        fit_extra_bytes: mem,
        extra,
    })
}

/// `ridge_path` (derived): 100 λ. The record returns what `ridge` returns, the coefficients
/// (no degrees of freedom: a Krylov basis when it converges, else one tridiagonal
/// reduction); the same path with the effective degrees of freedom (always the reduction) is
/// timed as an alternative.
fn ridge_path(pb: &Problem, d: &Data, s: Settings) -> Result<Outcome, Fail> {
    let rp = RidgePath::new()
        .standardize(false)
        .intercept(false)
        .degrees_of_freedom(false)
        .lambdas(pb.lambdas.clone());
    let (t, mem, fit) = measure(s, || rp.fit(&d.x, &d.y));
    let fit = fit?;
    let kkt = kkt_max(
        pb,
        d,
        fit.lambdas(),
        fit.coefficient_matrix(),
        &vec![0.0; fit.len()],
    );
    let mut extra = json!({"solver": format!("RidgePath ({})", fit.factorization().name())});
    if s.alternatives {
        let with_df = rp.clone().degrees_of_freedom(true);
        let (td, mem_d, fd) = measure(s, || with_df.fit(&d.x, &d.y));
        let fd = fd?;
        extra["with_degrees_of_freedom"] = json!({
            "median_s": td.median_s,
            "reps": td.reps,
            "solver": fd.factorization().name(),
            "max_kkt_violation": kkt_max(
                pb,
                d,
                fd.lambdas(),
                fd.coefficient_matrix(),
                &vec![0.0; fd.len()],
            ),
            "fit_extra_mib": mib(mem_d),
        });
    }
    Ok(Outcome {
        timing: t,
        converged: true,
        max_kkt_violation: kkt,
        n_lambda: fit.len(),
        fit_extra_bytes: mem,
        extra,
    })
}

/// `logistic_l2` / `poisson_l2`: `Map` with the Gaussian prior `τ² = 1/(nλ)` and an
/// unpenalized intercept, by each smooth-capable method; the record is the fastest one that
/// reaches the KKT target (the fastest overall if none does).
fn glm_l2(pb: &Problem, d: &Data, s: Settings) -> Result<Outcome, Fail> {
    let lam = pb.lambdas[0];
    let n = d.x.nrows() as f64;
    let prior = GaussianPrior::from_lambda(lam, Convention::Mean { n, sigma2: 1.0 })?;
    let one = s.glm_method.map(|m| [m]);
    let methods: &[Method] = if let Some(m) = &one {
        m
    } else if s.alternatives {
        &[
            Method::NewtonTrustRegion,
            Method::Lbfgs,
            Method::ProximalNewton,
        ]
    } else {
        &[Method::NewtonTrustRegion]
    };
    let mut runs: Vec<(Method, Timing, usize, f64, Value)> = Vec::new();
    for &m in methods {
        let res = match pb.family.as_str() {
            "binomial" => {
                let mut map = Map::new(likelihood::Bernoulli, prior.clone()).method(m);
                if let Some(t) = s.glm_tol {
                    map = map.tolerance(t)?;
                }
                let (t, mem, f) = measure(s, || map.fit(&d.x, &d.y));
                f.map(|f| {
                    let info = json!({"iterations": f.convergence().iterations,
                                      "measure_value": f.convergence().value});
                    (t, mem, f.coefficients().clone(), f.intercept(), info)
                })
            }
            "poisson" => {
                let mut map = Map::new(likelihood::Poisson, prior.clone()).method(m);
                if let Some(t) = s.glm_tol {
                    map = map.tolerance(t)?;
                }
                let (t, mem, f) = measure(s, || map.fit(&d.x, &d.y));
                f.map(|f| {
                    let info = json!({"iterations": f.convergence().iterations,
                                      "measure_value": f.convergence().value});
                    (t, mem, f.coefficients().clone(), f.intercept(), info)
                })
            }
            other => return Err(Fail::Error(format!("family {other} for a GLM task"))),
        };
        match res {
            Ok((t, mem, b, b0, info)) => {
                let kkt = kkt_violation(pb, d, lam, &b, b0);
                runs.push((m, t, mem, kkt, info));
            }
            Err(e) => eprintln!("{} {} {}: {e}", pb.task, pb.dataset, m.name()),
        }
    }
    let best = runs
        .iter()
        .enumerate()
        .filter(|(_, r)| r.3 <= s.kkt_target)
        .min_by(|a, b| a.1 .1.median_s.total_cmp(&b.1 .1.median_s))
        .or_else(|| {
            runs.iter()
                .enumerate()
                .min_by(|a, b| a.1 .1.median_s.total_cmp(&b.1 .1.median_s))
        })
        .map(|(i, _)| i)
        .ok_or_else(|| Fail::Error("no method succeeded".into()))?;
    let alternatives: Vec<Value> = runs
        .iter()
        .map(|(m, t, mem, kkt, info)| {
            json!({"method": m.name(), "median_s": t.median_s, "reps": t.reps,
                   "max_kkt_violation": kkt, "fit_extra_mib": mib(*mem), "info": info})
        })
        .collect();
    let (m, t, mem, kkt, _) = runs.swap_remove(best);
    Ok(Outcome {
        timing: t,
        converged: kkt <= s.kkt_target,
        max_kkt_violation: kkt,
        n_lambda: 1,
        fit_extra_bytes: mem,
        extra: json!({"solver": m.name(), "tolerance": s.glm_tol, "methods": alternatives}),
    })
}

/// `logistic_l1_path` / `poisson_l1_path`: `Path` for the Bernoulli / Poisson likelihood on
/// the problem's grid, glmnet's objective `−loglik/n + λ‖b‖₁`, unpenalized intercept.
fn glm_path(pb: &Problem, d: &Data, s: Settings) -> Result<Outcome, Fail> {
    fn run<L: likelihood::Likelihood>(
        lik: L,
        pb: &Problem,
        d: &Data,
        s: Settings,
    ) -> Result<Outcome, Fail> {
        // The path's KKT tolerance is relative to max|∇f(0)| (sum of the losses, θ = 0);
        // max_kkt_violation is in mean-loss units. A target in those units is converted
        // here (outside the timed region) so both sides agree on the accuracy asked for.
        let kkt_tol = match s.glm_path_kkt {
            Some(target) => {
                let n = d.x.nrows() as f64;
                let mu0 = lik.mean(0.0);
                let resid: Vec<f64> = d.y.iter().map(|&y| mu0 - y).collect();
                let mut scale = resid.iter().sum::<f64>().abs();
                for c in d.x.column_iter() {
                    let g: f64 = c.iter().zip(&resid).map(|(x, r)| x * r).sum();
                    scale = scale.max(g.abs());
                }
                if scale > 0.0 {
                    target / (scale / n)
                } else {
                    s.kkt_tol
                }
            }
            None => s.kkt_tol,
        };
        let mut path = Path::new(lik, pb.mix)
            .standardize(false)
            .intercept(true)
            .lambdas(pb.lambdas.clone())
            .tolerance(s.gap_tol)
            .kkt_tolerance(kkt_tol);
        if let Some(yes) = s.low_memory {
            path = path.low_memory(yes);
        }
        // Fail fast (and report "unsupported") before timing.
        path.fit(&d.x, &d.y)?;
        let (t, mem, fit) = measure(s, || path.fit(&d.x, &d.y));
        let fit = fit?;
        save_coefs(pb, &fit);
        Ok(Outcome {
            timing: t,
            converged: fit.converged(),
            max_kkt_violation: path_kkt(pb, d, &fit),
            n_lambda: fit.len(),
            fit_extra_bytes: mem,
            extra: json!({
                "kkt_tol": kkt_tol,
                "max_rel_kkt": fit.relative_kkt().iter().copied().fold(0.0, f64::max),
                "iterations": fit.convergences().iter().map(|c| c.iterations).sum::<u64>(),
                "sweeps": fit.sweeps(),
            }),
        })
    }
    match pb.family.as_str() {
        "binomial" => run(likelihood::Bernoulli, pb, d, s),
        "poisson" => run(likelihood::Poisson, pb, d, s),
        other => Err(Fail::Error(format!("family {other} for a GLM path task"))),
    }
}

/// `lasso_cv` (derived): 10-fold CV of the lasso path with fixed fold ids, one thread.
fn lasso_cv(pb: &Problem, d: &Data, s: Settings) -> Result<Outcome, Fail> {
    let n = d.x.nrows();
    let ids: Vec<usize> = (0..n).map(|i| i % 10 + 1).collect();
    let path = Path::new(likelihood::Gaussian::default(), pb.mix)
        .standardize(false)
        .intercept(false)
        .lambdas(pb.lambdas.clone())
        .tolerance(s.gap_tol)
        .kkt_tolerance(s.kkt_tol);
    let cv = CrossValidation::new(path).fold_ids(ids).threads(Some(1));
    let (t, mem, fit) = measure(s, || cv.fit(&d.x, &d.y));
    let fit = fit?;
    save_coefs(pb, fit.path());
    Ok(Outcome {
        timing: t,
        converged: fit.path().converged(),
        max_kkt_violation: path_kkt(pb, d, fit.path()),
        n_lambda: fit.lambdas().len(),
        fit_extra_bytes: mem,
        extra: json!({
            "folds": fit.n_folds(),
            "threads": 1,
            "lambda_min": fit.lambda_min(),
            "lambda_1se": fit.lambda_1se(),
            "kkt_note": "full-data path only",
        }),
    })
}

// ---------------------------------------------------------------------------------------
// Timing.
// ---------------------------------------------------------------------------------------

struct Timing {
    median_s: f64,
    reps: usize,
    inner_loops: usize,
}

/// A clock: wall time, or (with `cpu`) the CPU time of every thread of the process, summed
/// from `/proc/self/task/*/schedstat` (Linux; nanoseconds on CPU). Threads that exit take
/// their time with them; mapfit's rayon pool threads live as long as the process.
struct Clock {
    cpu: bool,
    wall: Instant,
    cpu0: f64,
}

fn process_cpu_seconds() -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return f64::NAN;
    };
    let mut ns = 0.0;
    for entry in dir.flatten() {
        if let Some(v) = std::fs::read_to_string(entry.path().join("schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        {
            ns += v;
        }
    }
    ns * 1e-9
}

impl Clock {
    fn start(cpu: bool) -> Self {
        Clock {
            cpu,
            wall: Instant::now(),
            cpu0: if cpu { process_cpu_seconds() } else { 0.0 },
        }
    }
    fn elapsed(&self) -> f64 {
        if self.cpu {
            process_cpu_seconds() - self.cpu0
        } else {
            self.wall.elapsed().as_secs_f64()
        }
    }
}

/// common.time_call: warm-up, then 5 timed repetitions (3 if the first takes > 2 s); calls
/// under 50 ms are looped so that one repetition lasts about 50 ms.
fn time_call<T>(cpu: bool, mut f: impl FnMut() -> T) -> (Timing, T) {
    let _ = f();
    let t0 = Clock::start(cpu);
    let mut out = f();
    let first = t0.elapsed();
    let inner = if first < 0.05 {
        ((0.05 / first.max(1e-7)).ceil() as usize).clamp(1, 1000)
    } else {
        1
    };
    let reps = if first < 2.0 { 5 } else { 3 };
    let mut times = Vec::with_capacity(reps);
    if inner == 1 {
        times.push(first);
    }
    while times.len() < reps {
        let t0 = Clock::start(cpu);
        for _ in 0..inner {
            out = f();
        }
        times.push(t0.elapsed() / inner as f64);
    }
    times.sort_by(f64::total_cmp);
    let median_s = if reps % 2 == 1 {
        times[reps / 2]
    } else {
        0.5 * (times[reps / 2 - 1] + times[reps / 2])
    };
    (
        Timing {
            median_s,
            reps,
            inner_loops: inner,
        },
        out,
    )
}

/// Streaming-read bandwidth of one core, bytes/s: the median over 7 timed sums of a 512 MiB
/// buffer (after one untimed pass), 16 independent partial sums so that the loop is bound by
/// memory, not by the latency of one floating-point addition chain (as membw.c).
fn stream_bandwidth(cpu: bool) -> f64 {
    const BYTES: usize = 512 << 20;
    let buf: Vec<f64> = (0..BYTES / 8)
        .map(|i| 1.0 + (i & 1023) as f64 * 1e-3)
        .collect();
    let sum = |a: &[f64]| -> f64 {
        let mut acc = [0.0f64; 16];
        let chunks = a.chunks_exact(16);
        let rest: f64 = chunks.remainder().iter().sum();
        for c in chunks {
            for k in 0..16 {
                acc[k] += c[k];
            }
        }
        acc.iter().sum::<f64>() + rest
    };
    let mut sink = std::hint::black_box(sum(&buf));
    let mut rates = Vec::with_capacity(7);
    for _ in 0..7 {
        let c = Clock::start(cpu);
        sink += std::hint::black_box(sum(std::hint::black_box(&buf)));
        rates.push(BYTES as f64 / c.elapsed());
    }
    std::hint::black_box(sink);
    rates.sort_by(f64::total_cmp);
    rates[3]
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1u64 << 20) as f64
}

// ---------------------------------------------------------------------------------------
// Data.
// ---------------------------------------------------------------------------------------

fn read_f64(path: &FsPath, len: usize) -> Result<Vec<f64>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() != 8 * len {
        return Err(format!(
            "{}: {} bytes, expected {}",
            path.display(),
            bytes.len(),
            8 * len
        ));
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect())
}

/// Reads NAME and standardizes as common.load_problem_data (Gaussian: y centered, unit sd).
fn load(dir: &FsPath, name: &str, gaussian: bool) -> Result<Data, String> {
    let meta: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(format!("{name}.json"))).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let n = meta["n"].as_u64().ok_or("n")? as usize;
    let p = meta["p"].as_u64().ok_or("p")? as usize;
    let xf = meta["X_file"]
        .as_str()
        .unwrap_or(&format!("{name}.X.f64"))
        .to_string();
    let yf = meta["y_file"]
        .as_str()
        .unwrap_or(&format!("{name}.y.f64"))
        .to_string();
    let xr = read_f64(&dir.join(xf), n * p)?;
    let yr = read_f64(&dir.join(yf), n)?;
    let mut x = DMatrix::from_row_slice(n, p, &xr);
    drop(xr);
    for mut c in x.column_iter_mut() {
        let m = c.sum() / n as f64;
        c.add_scalar_mut(-m);
        let sd = (c.norm_squared() / n as f64).sqrt();
        if sd > 0.0 {
            c /= sd;
        }
    }
    let mut y = DVector::from_vec(yr);
    if gaussian {
        let m = y.sum() / n as f64;
        y.add_scalar_mut(-m);
        let sd = (y.norm_squared() / n as f64).sqrt();
        y /= sd;
    }
    Ok(Data {
        name: name.to_string(),
        x,
        y,
    })
}

/// The problems of `problems.json` in file order, each followed by the tasks derived from
/// it (`ridge` → `ridge_path`, `lasso_path` → `lasso_cv`).
fn problems(spec: &Value) -> Vec<Problem> {
    let mut out = Vec::new();
    for s in spec["problems"].as_array().into_iter().flatten() {
        let pb = Problem {
            task: s["task"].as_str().unwrap_or_default().to_string(),
            dataset: s["dataset"].as_str().unwrap_or_default().to_string(),
            family: s["family"].as_str().unwrap_or_default().to_string(),
            mix: s["alpha_mix"].as_f64().unwrap_or(f64::NAN),
            intercept: s["fit_intercept"].as_bool().unwrap_or(false),
            lambdas: s["lambdas"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_f64)
                .collect(),
        };
        let (n, p) = (s["n"].as_u64().unwrap_or(0), s["p"].as_u64().unwrap_or(0));
        let derived = match pb.task.as_str() {
            "ridge" => s["lambda_max_lasso"].as_f64().map(|l| {
                let lmax = l / mapfit::path::RIDGE_LAMBDA_MAX_MIX;
                let ratio: f64 = if n > p { 1e-3 } else { 1e-2 };
                let step = ratio.ln() / 99.0;
                Problem {
                    task: "ridge_path".into(),
                    lambdas: (0..100).map(|i| lmax * (step * i as f64).exp()).collect(),
                    ..pb.clone()
                }
            }),
            "lasso_path" => Some(Problem {
                task: "lasso_cv".into(),
                ..pb.clone()
            }),
            _ => None,
        };
        out.push(pb);
        out.extend(derived);
    }
    out
}

fn main() {
    let mut data: Option<PathBuf> = None;
    let mut task: Option<String> = None;
    let mut dataset: Option<String> = None;
    let mut bandwidth: Option<f64> = None;
    let mut settings = Settings {
        gap_tol: 1e-8,
        kkt_tol: 5e-8,
        cpu_clock: false,
        alternatives: true,
        kkt_target: 1e-7,
        glm_path_kkt: Some(5e-8),
        low_memory: None,
        glm_tol: Some(1e-7),
        glm_method: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{a} needs a value")))
        };
        match a.as_str() {
            "--data" => data = Some(PathBuf::from(val())),
            "--task" => task = Some(val()),
            "--dataset" => dataset = Some(val()),
            "--tol" => settings.gap_tol = val().parse().unwrap_or_else(|_| usage("--tol")),
            "--kkt-tol" => settings.kkt_tol = val().parse().unwrap_or_else(|_| usage("--kkt-tol")),
            "--bandwidth" => {
                bandwidth = Some(
                    val()
                        .parse::<f64>()
                        .map(|g| g * 1e9)
                        .unwrap_or_else(|_| usage("--bandwidth GBPS")),
                )
            }
            "--no-alternatives" => settings.alternatives = false,
            "--glm-method" => {
                settings.glm_method = Some(match val().as_str() {
                    "newton" => Method::NewtonTrustRegion,
                    "lbfgs" => Method::Lbfgs,
                    "pn" => Method::ProximalNewton,
                    _ => usage("--glm-method newton|lbfgs|pn"),
                })
            }
            "--copy-x" => settings.low_memory = Some(false),
            "--low-memory" => settings.low_memory = Some(true),
            "--glm-path-kkt" => {
                settings.glm_path_kkt = match val().as_str() {
                    "relative" => None,
                    v => Some(
                        v.parse()
                            .unwrap_or_else(|_| usage("--glm-path-kkt ABS|relative")),
                    ),
                }
            }
            "--glm-tol" => {
                settings.glm_tol = match val().as_str() {
                    "default" => None,
                    v => Some(v.parse().unwrap_or_else(|_| usage("--glm-tol TOL|default"))),
                }
            }
            "--clock" => {
                settings.cpu_clock = match val().as_str() {
                    "wall" => false,
                    "cpu" => true,
                    _ => usage("--clock wall|cpu"),
                }
            }
            "--coefs" => {
                let dir = PathBuf::from(val());
                if let Err(e) = std::fs::create_dir_all(&dir) {
                    usage(&format!("--coefs {}: {e}", dir.display()));
                }
                let _ = COEF_DIR.set(dir);
            }
            "-h" | "--help" => usage(""),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    let dir = data.unwrap_or_else(|| usage("--data DIR is required"));
    let spec: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("problems.json"))
            .unwrap_or_else(|e| usage(&format!("{}/problems.json: {e}", dir.display()))),
    )
    .unwrap_or_else(|e| usage(&format!("problems.json: {e}")));
    let clock_name = if settings.cpu_clock {
        "process cpu"
    } else {
        "wall"
    };
    let bw = bandwidth.unwrap_or_else(|| stream_bandwidth(settings.cpu_clock));
    println!(
        "{}",
        json!({"machine": {
            "stream_read_GBps": bw / 1e9,
            "measured": bandwidth.is_none(),
            "method": "sum over a 512 MiB f64 buffer, 16 partial sums, median of 7 passes",
            "clock": clock_name,
        }})
    );
    let mut cache: Option<Data> = None;
    for pb in problems(&spec) {
        if task.as_ref().is_some_and(|t| *t != pb.task)
            || dataset.as_ref().is_some_and(|d| *d != pb.dataset)
        {
            continue;
        }
        let base = json!({"task": pb.task, "dataset": pb.dataset});
        let Some(run) = runner(&pb.task) else {
            println!("{}", merge(base, json!({"unsupported": true})));
            continue;
        };
        if cache.as_ref().is_none_or(|d| d.name != pb.dataset) {
            cache = None;
            match load(&dir, &pb.dataset, pb.family == "gaussian") {
                Ok(d) => cache = Some(d),
                Err(e) => {
                    println!("{}", merge(base, json!({"error": e})));
                    continue;
                }
            }
        }
        let d = cache.as_ref().expect("loaded above");
        let (n, p) = d.x.shape();
        let base = merge(base, json!({"n": n, "p": p}));
        match run(&pb, d, settings) {
            Ok(o) => {
                let x_bytes = n * p * 8;
                let pass_s = x_bytes as f64 / bw;
                println!(
                    "{}",
                    merge(
                        base,
                        json!({
                            "n_lambda": o.n_lambda,
                            "median_s": o.timing.median_s,
                            "reps": o.timing.reps,
                            "inner_loops": o.timing.inner_loops,
                            "converged": o.converged,
                            "max_kkt_violation": o.max_kkt_violation,
                            "gap_tol": settings.gap_tol,
                            "kkt_tol": settings.kkt_tol,
                            "clock": clock_name,
                            "x_bytes": x_bytes,
                            "pass_s": pass_s,
                            "passes_equivalent": o.timing.median_s / pass_s,
                            "x_mib": mib(x_bytes),
                            "fit_extra_mib": mib(o.fit_extra_bytes),
                            "peak_mib": mib(x_bytes + 8 * n + o.fit_extra_bytes),
                            "solver": o.extra,
                        })
                    )
                )
            }
            Err(Fail::Unsupported(what)) => println!(
                "{}",
                merge(base, json!({"unsupported": true, "reason": what}))
            ),
            Err(Fail::Error(e)) => println!("{}", merge(base, json!({"error": e}))),
        }
    }
}

fn merge(mut a: Value, b: Value) -> Value {
    if let (Some(a), Value::Object(b)) = (a.as_object_mut(), b) {
        a.extend(b);
    }
    a
}

fn usage(msg: &str) -> ! {
    if !msg.is_empty() {
        eprintln!("error: {msg}");
    }
    eprintln!(
        "usage: cargo run --release --example bench -- --data DIR [--task NAME] [--dataset NAME] \
         [--tol GAP] [--kkt-tol KKT] [--clock wall|cpu] [--bandwidth GBPS] [--no-alternatives] [--glm-method newton|lbfgs|pn] [--glm-path-kkt ABS|relative] [--low-memory|--copy-x] \
         [--glm-tol TOL|default] [--coefs DIR]"
    );
    std::process::exit(2)
}
