//! Times mapfit on the anchor harness's problems (same data, same λ grids, same protocol as
//! `bench/common.py`) and prints one JSON object per line:
//!
//! ```text
//! cargo run --release --example bench -- --data DIR [--task NAME] [--dataset NAME]
//!     [--tol GAP] [--kkt-tol KKT] [--clock wall|cpu]
//! ```
//!
//! `DIR` holds the harness data (`make_data.py` and `common.write_problems()`): raw
//! little-endian f64 row-major `NAME.X.f64`, `NAME.y.f64`, `NAME.json` (n, p, file names) and
//! `problems.json` (task, dataset, mix, λ grid). Conventions (common.py): X standardized with
//! the population sd outside the timed region; Gaussian tasks: y centered and scaled to unit
//! population sd, no intercept, so every tool solves
//! `(1/2n)‖y − Xb‖² + λ(a‖b‖₁ + (1−a)/2‖b‖²)` — exactly mapfit's path objective with
//! `standardize(false)`.
//!
//! Timing: one untimed warm-up call, then the median of 5 timed calls (3 when a call takes
//! more than 2 s); calls shorter than 50 ms are repeated in an inner loop and averaged. Only
//! the fit is timed. `max_kkt_violation` is measured afterwards from the returned
//! coefficients, as `assess.py` does: `max_j dist(−∇_j f, λ·a·∂|b_j|)` with
//! `∇f = Xᵀ(Xb − y)/n + λ(1−a)b`, maximized over the path.
//!
//! Tasks are looked up in [`runner`]; a task without a runner prints an `"unsupported"` line.

use mapfit::{likelihood, Path};
use nalgebra::{DMatrix, DVector};
use serde_json::{json, Value};
use std::path::{Path as FsPath, PathBuf};
use std::time::Instant;

/// The standardized data of one dataset.
struct Data {
    name: String,
    x: DMatrix<f64>,
    y: DVector<f64>,
}

/// One problem of `problems.json`.
struct Problem {
    task: String,
    dataset: String,
    family: String,
    mix: f64,
    lambdas: Vec<f64>,
}

/// Solver settings shared by the runners.
#[derive(Clone, Copy)]
struct Settings {
    gap_tol: f64,
    kkt_tol: f64,
    cpu_clock: bool,
}

/// What a runner reports.
struct Outcome {
    median_s: f64,
    reps: usize,
    inner_loops: usize,
    converged: bool,
    max_kkt_violation: f64,
    n_lambda: usize,
    extra: Value,
}

type Runner = fn(&Problem, &Data, Settings) -> Result<Outcome, String>;

/// The runner of a task, if mapfit supports it (add new tasks here).
fn runner(task: &str) -> Option<Runner> {
    match task {
        "lasso_path" | "enet_path" => Some(gaussian_path),
        _ => None,
    }
}

/// `lasso_path` / `enet_path`: a user-grid path on the standardized problem, no intercept.
fn gaussian_path(pb: &Problem, d: &Data, s: Settings) -> Result<Outcome, String> {
    if pb.family != "gaussian" {
        return Err(format!("family {} for a Gaussian path task", pb.family));
    }
    let path = Path::new(likelihood::Gaussian::default(), pb.mix)
        .standardize(false)
        .intercept(false)
        .lambdas(pb.lambdas.clone())
        .tolerance(s.gap_tol)
        .kkt_tolerance(s.kkt_tol);
    let (t, fit) = time_call(s.cpu_clock, || path.fit(&d.x, &d.y));
    let fit = fit.map_err(|e| e.to_string())?;
    let (n, _) = d.x.shape();
    let mut max_kkt = 0.0f64;
    for k in 0..fit.len() {
        let lam = fit.lambda(k);
        let b = fit.coefficients(k).into_owned();
        let r = &d.x * &b - &d.y;
        let g = d.x.tr_mul(&r) / n as f64 + &b * (lam * (1.0 - pb.mix));
        let l1 = lam * pb.mix;
        for j in 0..b.len() {
            let v = if b[j] != 0.0 {
                (g[j] + l1 * b[j].signum()).abs()
            } else {
                (g[j].abs() - l1).max(0.0)
            };
            max_kkt = max_kkt.max(v);
        }
    }
    Ok(Outcome {
        median_s: t.median_s,
        reps: t.reps,
        inner_loops: t.inner_loops,
        converged: fit.converged(),
        max_kkt_violation: max_kkt,
        n_lambda: fit.len(),
        extra: json!({
            "covariance_updates": fit.uses_covariance(),
            "sweeps": fit.sweeps(),
            "checks": fit.checks(),
            "max_rel_gap": fit.convergences().iter().map(|c| c.value).fold(0.0, f64::max),
        }),
    })
}

struct Timing {
    median_s: f64,
    reps: usize,
    inner_loops: usize,
}

/// A clock: wall time, or (with `cpu`) the calling thread's on-CPU time from
/// `/proc/thread-self/schedstat` (Linux), which a busy machine disturbs less.
struct Clock {
    cpu: bool,
    wall: Instant,
    cpu0: f64,
}

fn thread_cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |ns| ns * 1e-9)
}

impl Clock {
    fn start(cpu: bool) -> Self {
        Clock {
            cpu,
            wall: Instant::now(),
            cpu0: if cpu { thread_cpu_seconds() } else { 0.0 },
        }
    }
    fn elapsed(&self) -> f64 {
        if self.cpu {
            thread_cpu_seconds() - self.cpu0
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

fn main() {
    let mut data: Option<PathBuf> = None;
    let mut task: Option<String> = None;
    let mut dataset: Option<String> = None;
    let mut settings = Settings {
        gap_tol: 1e-8,
        kkt_tol: 5e-8,
        cpu_clock: false,
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
            "--clock" => {
                settings.cpu_clock = match val().as_str() {
                    "wall" => false,
                    "cpu" => true,
                    _ => usage("--clock wall|cpu"),
                }
            }
            "-h" | "--help" => usage(""),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    let dir = data.unwrap_or_else(|| usage("--data DIR is required"));
    let problems: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("problems.json"))
            .unwrap_or_else(|e| usage(&format!("{}/problems.json: {e}", dir.display()))),
    )
    .unwrap_or_else(|e| usage(&format!("problems.json: {e}")));
    let mut cache: Option<Data> = None;
    for s in problems["problems"].as_array().into_iter().flatten() {
        let pb = Problem {
            task: s["task"].as_str().unwrap_or_default().to_string(),
            dataset: s["dataset"].as_str().unwrap_or_default().to_string(),
            family: s["family"].as_str().unwrap_or_default().to_string(),
            mix: s["alpha_mix"].as_f64().unwrap_or(f64::NAN),
            lambdas: s["lambdas"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_f64)
                .collect(),
        };
        if task.as_ref().is_some_and(|t| *t != pb.task)
            || dataset.as_ref().is_some_and(|d| *d != pb.dataset)
        {
            continue;
        }
        let (n, p) = (s["n"].as_u64().unwrap_or(0), s["p"].as_u64().unwrap_or(0));
        let base = json!({"task": pb.task, "dataset": pb.dataset, "n": n, "p": p});
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
        match run(&pb, d, settings) {
            Ok(o) => println!(
                "{}",
                merge(
                    base,
                    json!({
                        "n_lambda": o.n_lambda,
                        "median_s": o.median_s,
                        "reps": o.reps,
                        "inner_loops": o.inner_loops,
                        "converged": o.converged,
                        "max_kkt_violation": o.max_kkt_violation,
                        "gap_tol": settings.gap_tol,
                        "kkt_tol": settings.kkt_tol,
                        "clock": if settings.cpu_clock { "thread cpu" } else { "wall" },
                        "solver": o.extra,
                    })
                )
            ),
            Err(e) => println!("{}", merge(base, json!({"error": e}))),
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
         [--tol GAP] [--kkt-tol KKT] [--clock wall|cpu]"
    );
    std::process::exit(2)
}
