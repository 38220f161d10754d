//! Issue 8: property tests over random shapes (n, p in 1..=60), values (ordinary, huge 1e150,
//! tiny 1e-150, zero, constant and duplicated columns, column scales from 1e-150 to 1e150)
//! and hyper-parameters (λ, elastic-net mix in [0, 1], prior scales, σ², weights, offsets)
//! for every public entry point: `Map` fits (Gaussian, Bernoulli, Poisson likelihoods;
//! Gaussian, Laplace, elastic-net and flat priors; every solver), `Path::fit`,
//! `CrossValidation`, the closed forms, and the prior and likelihood densities.
//!
//! The property: no panic; either a typed `mapfit::Error` or finite results — and when a fit
//! is returned, its optimality is re-derived here, independently of mapfit's own check: the
//! gradient of the data term is recomputed from the coefficients, and the KKT violation
//! (distance of −∇ from the penalty's subdifferential, on the standardized coordinates when
//! standardizing) must be within the tolerance the fit reports, by the measure it reports,
//! plus a bound on floating-point rounding computed from the magnitudes involved.
//!
//! Deterministic: every property runs on proptest's ChaCha generator with a fixed seed and no
//! failure persistence, so CI sees the same cases every time. `MAPFIT_PROPTEST_SCALE=k`
//! multiplies every case count (for a longer local search). The number of cases and the
//! outcomes are printed (run with `--nocapture` to see them).

use mapfit::likelihood::{Bernoulli, Gaussian as GaussLik, Likelihood, Poisson};
use mapfit::prior::{Bridge, Convention, ElasticNet, Flat, Gaussian, Laplace, Prior, StudentT};
use mapfit::{closed_form, CrossValidation, Error, Fit, Map, Measure, Method, Path};
use nalgebra::{DMatrix, DVector};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, RngSeed, TestCaseError, TestRunner};
use std::collections::BTreeMap;
use std::sync::Mutex;

const EPS: f64 = f64::EPSILON;

// ---------------------------------------------------------------------------------------
// The runner: fixed seed, counted outcomes.

/// Runs `test` on `cases` values of `strategy` from a fixed seed and prints how many cases
/// ran and how they ended (`test` returns an outcome label, e.g. "ok" or an error variant).
fn check<S: Strategy>(
    name: &str,
    cases: u32,
    seed: u64,
    strategy: S,
    test: impl Fn(S::Value) -> Result<String, TestCaseError>,
) -> BTreeMap<String, u32>
where
    S::Value: std::fmt::Debug,
{
    let scale: u32 = std::env::var("MAPFIT_PROPTEST_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let mut config = Config::with_cases(cases * scale.max(1));
    config.rng_algorithm = RngAlgorithm::ChaCha;
    config.rng_seed = RngSeed::Fixed(seed);
    config.failure_persistence = None;
    config.max_shrink_iters = 300;
    config.max_global_rejects = 0;
    let outcomes = Mutex::new(BTreeMap::<String, u32>::new());
    let started = std::time::Instant::now();
    let mut runner = TestRunner::new(config.clone());
    // MAPFIT_PROPTEST_TRACE=file writes each case before it runs (to find a case that hangs).
    let trace = std::env::var_os("MAPFIT_PROPTEST_TRACE");
    let slowest = Mutex::new(Vec::<(f64, String)>::new());
    let result = runner.run(&strategy, |v| {
        if let Some(path) = &trace {
            let _ = std::fs::write(path, format!("{name}: {v:#?}"));
        }
        let summary = format!("{v:?}");
        let t0 = std::time::Instant::now();
        let label = test(v)?;
        let mut slow = slowest.lock().unwrap();
        let tail: String = summary
            .chars()
            .rev()
            .take(160)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        slow.push((t0.elapsed().as_secs_f64(), format!("{label} …{tail}")));
        slow.sort_by(|a, b| b.0.total_cmp(&a.0));
        slow.truncate(3);
        drop(slow);
        *outcomes.lock().unwrap().entry(label).or_default() += 1;
        Ok(())
    });
    let outcomes = outcomes.into_inner().unwrap();
    let ran: u32 = outcomes.values().sum();
    eprintln!(
        "property {name}: {ran} cases (configured {}, seed {seed}) in {:.1} s: {outcomes:?}",
        config.cases,
        started.elapsed().as_secs_f64()
    );
    for (t, what) in slowest.into_inner().unwrap() {
        eprintln!("  slowest: {t:.2} s: {what}");
    }
    if let Err(e) = result {
        panic!("property {name} failed: {e}");
    }
    outcomes
}

/// The outcome label of an error: its variant.
fn variant(e: &Error) -> String {
    let s = format!("{e:?}");
    let v = s.split([' ', '(', '{']).next().unwrap_or("?");
    format!("err:{v}")
}

/// A `mapfit::Error` must carry a non-empty message; a solver error must not be an internal
/// one (those are bugs, reported as `Error::Solver("internal…")`).
fn check_error(e: &Error) -> Result<(), TestCaseError> {
    let msg = e.to_string();
    prop_assert!(!msg.is_empty());
    if let Error::Solver(s) = e {
        prop_assert!(!s.contains("internal"), "internal error: {s}");
    }
    Ok(())
}

/// Wall-clock allowance of one case (a fit, a path or a cross-validation on at most 60 × 60).
const DEADLINE: std::time::Duration = std::time::Duration::from_secs(3);

/// Runs `f` on a helper thread and waits at most [`DEADLINE`]. A case that takes longer is
/// labelled `slow` (the thread is left to finish: its iteration cap bounds it) — mapfit's
/// coordinate descent can stall for a long time on hostile data, a performance finding that
/// the properties count rather than wait for. A panic inside `f` fails the case.
fn with_deadline(
    f: impl FnOnce() -> Result<String, TestCaseError> + Send + 'static,
) -> Result<String, TestCaseError> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(DEADLINE) {
        Ok(r) => r,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Ok("slow".into()),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            Err(TestCaseError::fail("panicked (see the message above)"))
        }
    }
}

/// At most `percent`% of the cases may be `slow`.
fn assert_few_slow(outcomes: &BTreeMap<String, u32>, percent: f64) {
    let total: u32 = outcomes.values().sum();
    let slow = outcomes.get("slow").copied().unwrap_or(0);
    assert!(
        f64::from(slow) <= percent / 100.0 * f64::from(total),
        "{slow} of {total} cases exceeded {DEADLINE:?}"
    );
}

fn ok_fraction(outcomes: &BTreeMap<String, u32>) -> f64 {
    let total: u32 = outcomes.values().sum();
    let ok: u32 = outcomes
        .iter()
        .filter(|(k, _)| k.starts_with("ok"))
        .map(|(_, v)| v)
        .sum();
    f64::from(ok) / f64::from(total.max(1))
}

// ---------------------------------------------------------------------------------------
// Data.

/// How a column is made.
#[derive(Debug, Clone)]
enum Col {
    /// Values drawn per entry, times 10^exp.
    Drawn(i32),
    /// All zero.
    Zero,
    /// One value repeated (its mean is usually not exact in floating point).
    Constant(f64),
    /// A copy of an earlier column (index taken modulo the column's position).
    Duplicate(usize),
    /// 0/1 values.
    Binary,
}

fn column_kind() -> impl Strategy<Value = Col> {
    prop_oneof![
        12 => Just(Col::Drawn(0)),
        1 => Just(Col::Drawn(150)),
        1 => Just(Col::Drawn(-150)),
        2 => (-8i32..=8).prop_map(Col::Drawn),
        1 => Just(Col::Zero),
        1 => prop_oneof![Just(0.1), Just(-3.7), Just(1e150), Just(1e-150), -5.0..5.0f64]
            .prop_map(Col::Constant),
        2 => any::<usize>().prop_map(Col::Duplicate),
        1 => Just(Col::Binary),
    ]
}

/// An entry: mostly ordinary, sometimes zero, huge or tiny.
fn entry() -> impl Strategy<Value = f64> {
    prop_oneof![
        24 => -3.0..3.0f64,
        2 => Just(0.0),
        1 => prop_oneof![Just(1e150), Just(-1e150), Just(1e-150), Just(-1e-150)],
    ]
}

#[derive(Debug, Clone)]
struct Data {
    x: DMatrix<f64>,
    /// Raw response values (mapped to each family's support by `response`).
    y: Vec<f64>,
    weights: Option<Vec<f64>>,
    offset: Option<Vec<f64>>,
}

fn build_x(n: usize, kinds: &[Col], values: &[f64]) -> DMatrix<f64> {
    let p = kinds.len();
    let mut x = DMatrix::zeros(n, p);
    for j in 0..p {
        for i in 0..n {
            let v = values[j * n + i];
            x[(i, j)] = match kinds[j] {
                Col::Drawn(e) => v * 10f64.powi(e),
                Col::Zero => 0.0,
                Col::Constant(c) => c,
                Col::Duplicate(k) if j > 0 => x[(i, k % j)],
                Col::Duplicate(_) => v,
                Col::Binary => f64::from(v > 0.0),
            };
        }
    }
    x
}

fn data(max_n: usize, max_p: usize) -> impl Strategy<Value = Data> {
    (1..=max_n, 1..=max_p).prop_flat_map(|(n, p)| {
        (
            prop::collection::vec(column_kind(), p),
            prop::collection::vec(entry(), n * p),
            // The response: a linear signal in the first columns plus drawn noise, or
            // all-equal (1 case in 10).
            prop::collection::vec(entry(), n),
            prop_oneof![9 => Just(None), 1 => prop_oneof![Just(0.0), Just(2.5), Just(1e150), -3.0..3.0f64].prop_map(Some)],
            proptest::option::weighted(
                0.25,
                prop::collection::vec(prop_oneof![4 => 0.1..3.0f64, 1 => Just(0.0), 1 => Just(1.0)], n),
            ),
            proptest::option::weighted(0.2, prop::collection::vec(-1.0..1.0f64, n)),
        )
            .prop_map(move |(kinds, values, noise, constant, weights, offset)| {
                let x = build_x(n, &kinds, &values);
                let y = match constant {
                    Some(c) => vec![c; n],
                    None => (0..n)
                        .map(|i| {
                            let signal: f64 = (0..p.min(3))
                                .map(|j| {
                                    let v = x[(i, j)];
                                    // Keep the signal ordinary even for extreme columns.
                                    if v.abs() > 1e3 || (v != 0.0 && v.abs() < 1e-3) {
                                        0.0
                                    } else {
                                        v / (1.0 + j as f64)
                                    }
                                })
                                .sum();
                            signal + 0.5 * noise[i]
                        })
                        .collect(),
                };
                Data {
                    x,
                    y,
                    weights,
                    offset,
                }
            })
    })
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Family {
    Gaussian(f64),
    Bernoulli,
    Poisson,
}

fn family() -> impl Strategy<Value = Family> {
    prop_oneof![
        2 => prop_oneof![Just(1.0), 1e-2..1e2f64].prop_map(Family::Gaussian),
        1 => Just(Family::Bernoulli),
        1 => Just(Family::Poisson),
    ]
}

/// The raw response mapped into the family's support.
fn response(fam: Family, y: &[f64]) -> DVector<f64> {
    DVector::from_iterator(
        y.len(),
        y.iter().map(|&v| match fam {
            Family::Gaussian(_) => v,
            Family::Bernoulli => f64::from(v > 0.0),
            Family::Poisson => {
                if v.abs() > 1e6 {
                    1e6
                } else {
                    (v.abs() * 2.0).floor()
                }
            }
        }),
    )
}

#[derive(Debug, Clone, Copy)]
enum PriorSpec {
    Gaussian(f64),
    Laplace(f64),
    /// (λ in the mean convention, mix).
    ElasticNet(f64, f64),
    Flat,
}

fn log_uniform(lo: f64, hi: f64) -> impl Strategy<Value = f64> {
    (lo..hi).prop_map(|e: f64| 10f64.powf(e))
}

fn prior_spec() -> impl Strategy<Value = PriorSpec> {
    let scale = prop_oneof![
        10 => log_uniform(-4.0, 4.0),
        1 => Just(1e-150),
        1 => Just(1e150),
    ];
    let lambda = prop_oneof![
        10 => log_uniform(-7.0, 3.0),
        1 => Just(1e-300),
        1 => Just(1e300),
    ];
    let mix = prop_oneof![3 => 0.0..=1.0f64, 1 => Just(0.0), 1 => Just(1.0)];
    prop_oneof![
        3 => scale.clone().prop_map(PriorSpec::Gaussian),
        3 => scale.prop_map(PriorSpec::Laplace),
        3 => (lambda, mix).prop_map(|(l, m)| PriorSpec::ElasticNet(l, m)),
        1 => Just(PriorSpec::Flat),
    ]
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        12 => Just(Method::Auto),
        1 => Just(Method::CoordinateDescent),
        1 => Just(Method::ProximalNewton),
        1 => Just(Method::NewtonTrustRegion),
        1 => Just(Method::Lbfgs),
        1 => Just(Method::ClosedForm),
        1 => Just(Method::OwlQn),
    ]
}

// ---------------------------------------------------------------------------------------
// The independent optimality check.

/// `(ℓ′, ℓ″)` of one observation, written out here rather than taken from mapfit (Poisson
/// beyond η = 700 follows mapfit's documented quadratic extension of exp).
fn derivatives(fam: Family, y: f64, eta: f64) -> (f64, f64) {
    match fam {
        Family::Gaussian(s2) => ((eta - y) / s2, 1.0 / s2),
        Family::Bernoulli => {
            let p = if eta >= 0.0 {
                1.0 / (1.0 + (-eta).exp())
            } else {
                let e = eta.exp();
                e / (1.0 + e)
            };
            let q = if eta >= 0.0 {
                let e = (-eta).exp();
                e / (1.0 + e)
            } else {
                1.0 / (1.0 + eta.exp())
            };
            (if y == 1.0 { -q } else { p }, p * q)
        }
        Family::Poisson => {
            if eta <= 700.0 {
                let m = eta.exp();
                (m - y, m)
            } else {
                (
                    Poisson.nll_derivative(y, eta),
                    Poisson.nll_second_derivative(y, eta),
                )
            }
        }
    }
}

/// The weighted population standard deviation (about the weighted mean with an intercept,
/// about 0 without) that standardization divides by; 0 for a column that is constant over
/// the rows of positive weight (with an intercept) or zero there (without).
fn column_scale(c: &[f64], v: &[f64], intercept: bool) -> f64 {
    let live: Vec<usize> = (0..c.len()).filter(|&i| v[i] > 0.0).collect();
    let constant = live.iter().all(|&i| c[i] == c[live[0]]);
    if (intercept && constant) || (!intercept && live.iter().all(|&i| c[i] == 0.0)) {
        return 0.0;
    }
    let sw: f64 = v.iter().sum();
    let m = if intercept {
        (0..c.len()).map(|i| v[i] * c[i]).sum::<f64>() / sw
    } else {
        0.0
    };
    let a = (0..c.len()).fold(0.0f64, |a, i| a.max((c[i] - m).abs()));
    let ss: f64 = (0..c.len()).map(|i| v[i] * ((c[i] - m) / a).powi(2)).sum();
    a * (ss / sw).sqrt()
}

/// The elastic form `(l1_j, l2_j)` of a prior spec in cost units (`n` rows, σ² of the
/// likelihood), derived here from the documented conventions.
fn elastic_weights(spec: PriorSpec, n_conv: f64, sigma2: f64) -> (f64, f64) {
    match spec {
        PriorSpec::Gaussian(tau) => (0.0, 1.0 / (tau * tau)),
        PriorSpec::Laplace(b) => (1.0 / b, 0.0),
        PriorSpec::ElasticNet(l, m) => (l * m * n_conv / sigma2, l * (1.0 - m) * n_conv / sigma2),
        PriorSpec::Flat => (0.0, 0.0),
    }
}

/// KKT violations per coordinate (the coefficients on the working scale, then the intercept),
/// a rounding bound per coordinate, and the gradient of the data term at θ = 0.
struct Kkt {
    violation: Vec<f64>,
    bound: Vec<f64>,
    grad0: Vec<f64>,
}

impl Kkt {
    /// Whether this test's own recomputation stayed finite (with entries near 1e300 and
    /// residuals near 1e150 it can overflow where mapfit's working quantities do not; such a
    /// fit is counted as unverifiable, not failed).
    fn computable(&self) -> bool {
        self.violation
            .iter()
            .chain(&self.bound)
            .chain(&self.grad0)
            .all(|a| a.is_finite())
    }
}

#[allow(clippy::too_many_arguments)]
fn kkt(
    fam: Family,
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    v: &[f64],
    o: &[f64],
    w: &[f64],
    b: f64,
    scales: &[f64],
    l1: &[f64],
    l2: &[f64],
    intercept: bool,
) -> Kkt {
    let (n, p) = x.shape();
    let sw: f64 = v.iter().sum();
    let xbar: Vec<f64> = (0..p)
        .map(|j| ((0..n).map(|i| v[i] * x[(i, j)]).sum::<f64>() / sw).abs())
        .collect();
    let mut d = vec![0.0; n];
    let mut dd = vec![0.0; n];
    let mut d0 = vec![0.0; n];
    for i in 0..n {
        let eta = o[i] + b + (0..p).map(|j| x[(i, j)] * w[j]).sum::<f64>();
        let (g, h) = derivatives(fam, y[i], eta);
        let mag = o[i].abs()
            + b.abs()
            + y[i].abs()
            + eta.abs()
            + (0..p)
                .map(|j| (x[(i, j)].abs() + xbar[j]) * w[j].abs())
                .sum::<f64>();
        d[i] = v[i] * g;
        // Error of vᵢℓ′ from the rounding of η and of ℓ′ itself.
        dd[i] = v[i] * (h * mag + g.abs()) * EPS;
        d0[i] = v[i] * derivatives(fam, y[i], o[i]).0;
    }
    let mut violation = Vec::with_capacity(p + 1);
    let mut bound = Vec::with_capacity(p + 1);
    let mut grad0 = Vec::with_capacity(p + 1);
    for j in 0..p {
        let s = if scales[j] > 0.0 { scales[j] } else { 1.0 };
        let live = scales[j] > 0.0;
        // The working column x̃_j = x_j/s_j, formed first so that huge columns do not overflow.
        let xt = |i: usize| x[(i, j)] / s;
        let g = if live {
            (0..n).map(|i| xt(i) * d[i]).sum::<f64>()
        } else {
            0.0
        };
        let wt = w[j] * s;
        let gg = g + l2[j] * wt;
        let viol = if wt > 0.0 {
            (gg + l1[j]).abs()
        } else if wt < 0.0 {
            (gg - l1[j]).abs()
        } else {
            (gg.abs() - l1[j]).max(0.0)
        };
        violation.push(viol);
        let sum_abs: f64 = (0..n).map(|i| (xt(i) * d[i]).abs()).sum();
        let err: f64 = (0..n).map(|i| (xt(i) * dd[i]).abs()).sum();
        // The last term: a coefficient is only resolved to the smallest subnormal (with a
        // precision of 1e300 the optimum can be 1e-450, which underflows to 0).
        let tiny = f64::from_bits(1) * s.max(1.0);
        bound.push(err + n as f64 * EPS * sum_abs + EPS * (l2[j] * wt).abs() + l2[j] * tiny);
        grad0.push(if live {
            (0..n).map(|i| xt(i) * d0[i]).sum::<f64>()
        } else {
            0.0
        });
    }
    if intercept {
        violation.push(d.iter().sum::<f64>().abs());
        bound
            .push(dd.iter().sum::<f64>() + n as f64 * EPS * d.iter().map(|a| a.abs()).sum::<f64>());
        grad0.push(d0.iter().sum());
    }
    Kkt {
        violation,
        bound,
        grad0,
    }
}

/// The gradient of the data term at w = 0 with the intercept at its null-model value (for
/// the Gaussian likelihood: the weighted mean of y − o), on the working columns: coordinate
/// descent's reference scale `max_j |x̃_jᵀỹ|` (in cost units).
fn null_gradient_scale(
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    v: &[f64],
    o: &[f64],
    scales: &[f64],
    sigma2: f64,
    intercept: bool,
) -> f64 {
    let (n, p) = x.shape();
    let sw: f64 = v.iter().sum();
    let b0 = if intercept {
        (0..n).map(|i| v[i] * (y[i] - o[i])).sum::<f64>() / sw
    } else {
        0.0
    };
    (0..p)
        .map(|j| {
            if scales[j] > 0.0 {
                (0..n)
                    .map(|i| x[(i, j)] / scales[j] * v[i] * (o[i] + b0 - y[i]) / sigma2)
                    .sum::<f64>()
                    .abs()
            } else {
                0.0
            }
        })
        .fold(0.0, f64::max)
}

fn norm2(v: &[f64]) -> f64 {
    v.iter().map(|a| a * a).sum::<f64>().sqrt()
}

fn amax(v: &[f64]) -> f64 {
    v.iter().fold(0.0f64, |m, a| m.max(a.abs()))
}

#[derive(Debug, Clone)]
struct MapCase {
    data: Data,
    fam: Family,
    prior: PriorSpec,
    intercept: bool,
    standardize: bool,
    method: Method,
}

fn map_case() -> impl Strategy<Value = MapCase> {
    (
        data(60, 60),
        family(),
        prior_spec(),
        prop_oneof![4 => Just(true), 1 => Just(false)],
        any::<bool>(),
        method(),
    )
        .prop_map(|(mut data, fam, prior, intercept, standardize, method)| {
            let n = data.x.nrows() as f64;
            let has_l1 = match prior {
                PriorSpec::Laplace(_) => true,
                PriorSpec::ElasticNet(_, m) => m > 0.0,
                _ => false,
            };
            let glm = !matches!(fam, Family::Gaussian(_));
            let mut prior = tame_glm_l1(fam, prior, n);
            if method == Method::ProximalNewton || (method == Method::Auto && glm && has_l1) {
                tame_data(&mut data);
                prior = tame_prior(prior, n);
            }
            MapCase {
                prior,
                data,
                fam,
                intercept,
                standardize,
                method,
            }
        })
}

/// Proximal Newton is bounded (every subproblem's sweeps are capped) but can be slow under a
/// weak prior when p ≥ n on the Bernoulli and Poisson likelihoods: without the taming below,
/// ~6% of the cases exceed the per-case deadline. The cases routed to it get a prior of total
/// weight at least 1 per coefficient (b, τ ≤ 1).
fn tame_prior(prior: PriorSpec, n: f64) -> PriorSpec {
    match prior {
        PriorSpec::Gaussian(t) => PriorSpec::Gaussian(t.min(1.0)),
        PriorSpec::Laplace(b) => PriorSpec::Laplace(b.min(1.0)),
        PriorSpec::ElasticNet(l, m) => PriorSpec::ElasticNet(l.max(1.0 / n), m),
        PriorSpec::Flat => PriorSpec::Flat,
    }
}

/// Proximal Newton can be slow on extreme data (entries near 1e300, counts near 1e6: each
/// outer iteration may spend its whole sweep budget, see
/// `proximal_newton_on_extreme_data_finishes`), which would stall the property; the cases
/// routed to it get ordinary magnitudes instead (the map is elementwise, so zero, constant and
/// duplicated columns keep their structure).
fn tame_data(d: &mut Data) {
    let tame = |v: f64| {
        if v.abs() > 1e3 {
            2.5f64.copysign(v)
        } else if v != 0.0 && v.abs() < 1e-3 {
            0.5f64.copysign(v)
        } else {
            v
        }
    };
    d.x.apply(|v| *v = tame(*v));
    for v in &mut d.y {
        *v = tame(*v).clamp(-50.0, 50.0);
    }
}

/// Proximal Newton can take long (up to its outer cap × the inner sweep cap) on a Bernoulli or
/// Poisson likelihood under a very weak L1 prior, see
/// `proximal_newton_under_a_weak_laplace_prior_finishes`; such cases would stall the
/// property, so for those likelihoods the L1 rate is kept at least 0.1 (b ≤ 10, λ·mix·n ≥ 0.1).
fn tame_glm_l1(fam: Family, prior: PriorSpec, n: f64) -> PriorSpec {
    match (fam, prior) {
        (Family::Gaussian(_), p) => p,
        (_, PriorSpec::Laplace(b)) => PriorSpec::Laplace(b.min(10.0)),
        (_, PriorSpec::ElasticNet(l, m)) if m > 0.0 && l * m * n < 0.1 => {
            PriorSpec::ElasticNet(0.1 / (m * n), m)
        }
        (_, p) => p,
    }
}

/// Iteration cap of the property fits (see `fit_one`).
const MAX_ITERS: u64 = 300;

fn fit_one<L: Likelihood, P: Prior>(
    c: &MapCase,
    lik: L,
    prior: P,
    y: &DVector<f64>,
) -> mapfit::Result<Fit<L>> {
    // The cap bounds the time on hostile data: coordinate descent can spend ~70 ms per outer
    // iteration on 44 × 52 entries near 1e300 whose duality gap overflows (so it can never
    // certify), i.e. ~12 minutes with the default cap of 10 000 before `NotConverged`.
    let mut m = Map::new(lik, prior)
        .intercept(c.intercept)
        .standardize(c.standardize)
        .method(c.method)
        .max_iters(MAX_ITERS);
    if let Some(w) = &c.data.weights {
        m = m.weights(DVector::from_vec(w.clone()));
    }
    if let Some(o) = &c.data.offset {
        m = m.offset(DVector::from_vec(o.clone()));
    }
    m.fit(&c.data.x, y)
}

/// Checks a returned fit: finite, converged, and optimal by its own measure.
fn check_fit<L: Likelihood>(
    c: &MapCase,
    fit: &Fit<L>,
    y: &DVector<f64>,
) -> Result<String, TestCaseError> {
    let (n, p) = c.data.x.shape();
    let w = fit.coefficients();
    prop_assert_eq!(w.len(), p);
    prop_assert!(
        w.iter().all(|a| a.is_finite()),
        "non-finite coefficients {}",
        w
    );
    prop_assert!(fit.intercept().is_finite());
    prop_assert!(c.intercept || fit.intercept() == 0.0);
    prop_assert!(fit.objective().is_finite(), "objective {}", fit.objective());
    prop_assert!(!fit.ln_posterior().is_nan());
    let conv = fit.convergence();
    prop_assert!(conv.converged, "an Ok fit that is not converged: {}", conv);
    prop_assert!(conv.value.is_finite() && conv.value >= 0.0, "{}", conv);
    prop_assert!(
        conv.kkt_violation.is_finite() && conv.kkt_violation >= 0.0,
        "{}",
        conv
    );
    let eta = fit
        .predict_linear(&c.data.x)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert!(eta.iter().all(|a| !a.is_nan()));

    let v: Vec<f64> = c.data.weights.clone().unwrap_or_else(|| vec![1.0; n]);
    let o: Vec<f64> = c.data.offset.clone().unwrap_or_else(|| vec![0.0; n]);
    let scales: Vec<f64> = if c.standardize {
        (0..p)
            .map(|j| column_scale(c.data.x.column(j).as_slice(), &v, c.intercept))
            .collect()
    } else {
        vec![1.0; p]
    };
    let sigma2 = match c.fam {
        Family::Gaussian(s) => s,
        _ => 1.0,
    };
    let (l1, l2) = elastic_weights(c.prior, n as f64, sigma2);
    let k = kkt(
        c.fam,
        &c.data.x,
        y,
        &v,
        &o,
        w.as_slice(),
        fit.intercept(),
        &scales,
        &vec![l1; p],
        &vec![l2; p],
        c.intercept,
    );
    if !k.computable() {
        return Ok("ok:unverifiable".into());
    }
    let slack = 16.0 * (n + p + 10) as f64;
    let label = format!("ok:{:?}", conv.measure);
    match conv.measure {
        Measure::RelativeGradientNorm => {
            let g0 = norm2(&k.grad0);
            let g0 = if g0 > 0.0 && g0.is_finite() { g0 } else { 1.0 };
            let got = norm2(&k.violation);
            let allowed = conv.tolerance * g0 * 1.01 + slack * norm2(&k.bound);
            prop_assert!(
                got <= allowed,
                "gradient norm {:e} > {:e} (tol {:e} × ‖∇f(0)‖ {:e}, rounding {:e}); reported {}",
                got,
                allowed,
                conv.tolerance,
                g0,
                norm2(&k.bound),
                conv
            );
        }
        Measure::RelativeKkt => {
            let s0 = amax(&k.grad0);
            let s0 = if s0 > 0.0 && s0.is_finite() { s0 } else { 1.0 };
            for j in 0..k.violation.len() {
                let allowed = conv.tolerance * s0 * 1.01 + slack * k.bound[j];
                prop_assert!(
                    k.violation[j] <= allowed,
                    "KKT[{}] {:e} > {:e} (tol {:e} × max|∇f(0)| {:e}); reported {}",
                    j,
                    k.violation[j],
                    allowed,
                    conv.tolerance,
                    s0,
                    conv
                );
            }
        }
        Measure::RelativeDualityGap => {
            // Coordinate descent certifies the gap and a KKT violation at most 10× the gap
            // tolerance, relative to max_j |x̃_jᵀỹ| (the default 1e-11 vs 1e-12, or 0.1·t).
            let s0 = null_gradient_scale(&c.data.x, y, &v, &o, &scales, sigma2, c.intercept);
            let s0 = if s0 > 0.0 { s0 } else { 1.0 };
            for j in 0..k.violation.len() {
                let allowed = 10.0 * conv.tolerance * s0 * 1.01 + slack * k.bound[j];
                prop_assert!(
                    k.violation[j] <= allowed,
                    "KKT[{}] {:e} > {:e} (10 × gap tol {:e} × scale {:e}); reported {}",
                    j,
                    k.violation[j],
                    allowed,
                    conv.tolerance,
                    s0,
                    conv
                );
            }
        }
        Measure::ClosedFormResidual => {
            // Exact up to the backward error of a Cholesky solve.
            let slack = 64.0 * (n + p + 10) as f64;
            for j in 0..k.violation.len() {
                prop_assert!(
                    k.violation[j] <= slack * k.bound[j] + 1e-300,
                    "closed form: gradient[{}] {:e} > rounding bound {:e}",
                    j,
                    k.violation[j],
                    slack * k.bound[j]
                );
            }
        }
    }
    Ok(label)
}

fn run_map_case(c: &MapCase) -> Result<String, TestCaseError> {
    let y = response(c.fam, &c.data.y);
    let n = c.data.x.nrows();
    macro_rules! with_lik {
        ($lik:expr, $sigma2:expr) => {{
            let conv = Convention::Mean {
                n: n as f64,
                sigma2: $sigma2,
            };
            let r = match c.prior {
                PriorSpec::Gaussian(s) => Gaussian::new(s)
                    .and_then(|p| fit_one(c, $lik, p, &y).map(|f| check_fit(c, &f, &y))),
                PriorSpec::Laplace(s) => Laplace::new(s)
                    .and_then(|p| fit_one(c, $lik, p, &y).map(|f| check_fit(c, &f, &y))),
                PriorSpec::ElasticNet(l, m) => ElasticNet::from_lambda(l, m, conv)
                    .and_then(|p| fit_one(c, $lik, p, &y).map(|f| check_fit(c, &f, &y))),
                PriorSpec::Flat => fit_one(c, $lik, Flat, &y).map(|f| check_fit(c, &f, &y)),
            };
            match r {
                Ok(checked) => checked,
                Err(e) => {
                    check_error(&e)?;
                    Ok(variant(&e))
                }
            }
        }};
    }
    match c.fam {
        Family::Gaussian(s2) => with_lik!(GaussLik::new(s2).unwrap(), s2),
        Family::Bernoulli => with_lik!(Bernoulli, 1.0),
        Family::Poisson => with_lik!(Poisson, 1.0),
    }
}

#[test]
fn map_fits_are_typed_errors_or_certified_optima() {
    let outcomes = check("map_fit", 700, 0x8a11_0001, map_case(), |c| {
        with_deadline(move || run_map_case(&c))
    });
    assert_few_slow(&outcomes, 2.0);
    let f = ok_fraction(&outcomes);
    assert!(
        f > 0.4,
        "only {:.0}% of the cases produced a fit: {outcomes:?}",
        100.0 * f
    );
}

/// Ordinary data only (no extreme values, no weights or offsets), every family and prior:
/// nearly every case must fit (the property above tolerates typed errors on hostile data;
/// here an error is a finding unless it is the documented one for the case).
#[test]
fn map_fits_on_ordinary_data_succeed() {
    let ordinary = (
        1usize..=60,
        1usize..=40,
        0u64..u64::MAX,
        family(),
        prior_spec(),
        any::<bool>(),
    )
        .prop_map(|(n, p, seed, fam, prior, standardize)| {
            // A deterministic, well-spread design from the seed (no special values).
            let mut s = seed | 1;
            let mut next = move || {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 11) as f64 / (1u64 << 53) as f64 * 4.0 - 2.0
            };
            let x = DMatrix::from_fn(n, p, |_, _| next());
            let y: Vec<f64> = (0..n).map(|i| x[(i, 0)] + next()).collect();
            let prior = match prior {
                PriorSpec::Gaussian(s) => PriorSpec::Gaussian(s.clamp(1e-3, 1e3)),
                PriorSpec::Laplace(s) => PriorSpec::Laplace(s.clamp(1e-3, 1e3)),
                PriorSpec::ElasticNet(l, m) => PriorSpec::ElasticNet(l.clamp(1e-5, 1e2), m),
                PriorSpec::Flat => PriorSpec::Gaussian(1.0),
            };
            let prior = tame_glm_l1(fam, prior, n as f64);
            MapCase {
                data: Data {
                    x,
                    y,
                    weights: None,
                    offset: None,
                },
                fam,
                prior,
                intercept: true,
                standardize,
                method: Method::Auto,
            }
        });
    let outcomes = check("map_fit_ordinary", 300, 0x8a11_0002, ordinary, |c| {
        let label = run_map_case(&c)?;
        if label.starts_with("err") {
            // The one legal failure on such data: a Bernoulli/Poisson MAP that does not exist
            // (all labels equal, all counts zero) — only possible for tiny n.
            prop_assert!(
                label == "err:NoMode" && c.data.x.nrows() <= 12,
                "{} on ordinary data (n = {}, p = {})",
                label,
                c.data.x.nrows(),
                c.data.x.ncols()
            );
        }
        Ok(label)
    });
    assert!(ok_fraction(&outcomes) > 0.95, "{outcomes:?}");
}

// ---------------------------------------------------------------------------------------
// Paths and cross-validation.

#[derive(Debug, Clone)]
struct PathCase {
    data: Data,
    sigma2: f64,
    mix: f64,
    n_lambda: usize,
    grid: Option<Vec<f64>>,
    factors: Option<Vec<f64>>,
    standardize: bool,
    intercept: bool,
}

fn path_case(max_n: usize, max_p: usize) -> impl Strategy<Value = PathCase> {
    (
        data(max_n, max_p),
        prop_oneof![Just(1.0), 1e-2..1e2f64],
        prop_oneof![3 => 0.0..=1.0f64, 1 => Just(0.0), 2 => Just(1.0)],
    )
        .prop_flat_map(|(data, sigma2, mix)| {
            let p = data.x.ncols();
            (
                Just(data),
                Just(sigma2),
                Just(mix),
                1usize..15,
                proptest::option::weighted(
                    0.3,
                    prop::collection::vec(log_uniform(-6.0, 2.0), 1..8),
                ),
                proptest::option::weighted(
                    0.2,
                    prop::collection::vec(prop_oneof![3 => 0.1..3.0f64, 1 => Just(0.0)], p),
                ),
                prop_oneof![3 => Just(true), 1 => Just(false)],
                prop_oneof![4 => Just(true), 1 => Just(false)],
            )
        })
        .prop_map(
            |(data, sigma2, mix, n_lambda, grid, factors, standardize, intercept)| PathCase {
                data,
                sigma2,
                mix,
                n_lambda,
                grid,
                factors,
                standardize,
                intercept,
            },
        )
}

fn path_of(c: &PathCase) -> Path {
    let mut path = Path::new(GaussLik::new(c.sigma2).unwrap(), c.mix)
        .max_iters(2 * MAX_ITERS)
        .n_lambda(c.n_lambda)
        .standardize(c.standardize)
        .intercept(c.intercept);
    if let Some(g) = &c.grid {
        path = path.lambdas(g.clone());
    }
    if let Some(f) = &c.factors {
        path = path.penalty_factors(f.clone());
    }
    if let Some(w) = &c.data.weights {
        path = path.weights(DVector::from_vec(w.clone()));
    }
    path
}

fn check_path(c: &PathCase) -> Result<String, TestCaseError> {
    let y = DVector::from_vec(c.data.y.clone());
    let fit = match path_of(c).fit(&c.data.x, &y) {
        Ok(f) => f,
        Err(e) => {
            check_error(&e)?;
            return Ok(variant(&e));
        }
    };
    let (n, p) = c.data.x.shape();
    prop_assert!(!fit.is_empty() && fit.converged());
    let l = fit.lambdas();
    prop_assert!(l.iter().all(|a| a.is_finite() && *a > 0.0));
    prop_assert!(
        l.windows(2).all(|w| w[0] >= w[1]),
        "grid not decreasing: {:?}",
        l
    );
    prop_assert!(fit.coefficient_matrix().iter().all(|a| a.is_finite()));
    prop_assert!(fit.intercepts().iter().all(|a| a.is_finite()));
    prop_assert!(fit.dev_ratio().iter().all(|a| a.is_finite()));
    let v: Vec<f64> = c.data.weights.clone().unwrap_or_else(|| vec![1.0; n]);
    let o = vec![0.0; n];
    let sw: f64 = v.iter().sum();
    let scales: Vec<f64> = if c.standardize {
        (0..p)
            .map(|j| column_scale(c.data.x.column(j).as_slice(), &v, c.intercept))
            .collect()
    } else {
        // Without standardization a constant (with an intercept) or zero column is still
        // excluded from the working set; scale 1 keeps it in the check.
        vec![1.0; p]
    };
    let factors = c.factors.clone().unwrap_or_else(|| vec![1.0; p]);
    // The path objective's reference scale, max_j |x̃_jᵀỹ| / n (centered, standardized).
    let s0 = null_gradient_scale(&c.data.x, &y, &v, &o, &scales, 1.0, c.intercept) / sw;
    let s0 = if s0 > 0.0 { s0 } else { 1.0 };
    let generated = c.grid.is_none();
    for k in 0..fit.len() {
        let w = fit.coefficients(k);
        prop_assert_eq!(fit.df()[k], w.iter().filter(|a| **a != 0.0).count());
        prop_assert!(fit.relative_kkt()[k] <= fit.kkt_tolerance());
        if generated && k == 0 && c.mix > 0.0 {
            for j in 0..p {
                prop_assert!(
                    factors[j] == 0.0 || w[j] == 0.0,
                    "nonzero w[{}] at λ_max",
                    j
                );
            }
        }
        // KKT of (1/2n)Σvᵢrᵢ² + λΣf_j[(1−m)/2 w̃_j² + m|w̃_j|]: per coordinate, with the data
        // gradient in mean units (Gaussian likelihood with σ² = 1 gives Σvᵢ(ηᵢ − yᵢ)).
        let lambda = fit.lambda(k);
        let l1: Vec<f64> = factors.iter().map(|f| lambda * c.mix * f * sw).collect();
        let l2: Vec<f64> = factors
            .iter()
            .map(|f| lambda * (1.0 - c.mix) * f * sw)
            .collect();
        let kk = kkt(
            Family::Gaussian(1.0),
            &c.data.x,
            &y,
            &v,
            &o,
            w.as_slice(),
            fit.intercept(k),
            &scales,
            &l1,
            &l2,
            c.intercept,
        );
        if !kk.computable() {
            return Ok("ok:unverifiable".into());
        }
        let slack = 16.0 * (n + p + 10) as f64;
        for j in 0..p {
            let allowed = fit.kkt_tolerance() * s0 * sw * 1.01 + slack * kk.bound[j];
            prop_assert!(
                kk.violation[j] <= allowed,
                "point {} (λ {:e}) KKT[{}] {:e} > {:e}; relative KKT reported {:e}",
                k,
                lambda,
                j,
                kk.violation[j],
                allowed,
                fit.relative_kkt()[k]
            );
        }
        if c.intercept {
            prop_assert!(
                kk.violation[p] <= slack * kk.bound[p] + 1e-300,
                "point {}: intercept gradient {:e}",
                k,
                kk.violation[p]
            );
        }
    }
    Ok("ok".into())
}

#[test]
fn paths_are_typed_errors_or_certified_at_every_point() {
    let outcomes = check("path_fit", 140, 0x8a11_0003, path_case(60, 60), |c| {
        with_deadline(move || check_path(&c))
    });
    assert_few_slow(&outcomes, 3.0);
    assert!(ok_fraction(&outcomes) > 0.4, "{outcomes:?}");
}

#[test]
fn cross_validation_is_a_typed_error_or_a_finite_curve() {
    // Two cases in three on ordinary magnitudes (the extreme ones mostly end in overflowing
    // held-out errors, see `cv_statistics_overflow_on_huge_held_out_errors`).
    let cv_case = (
        path_case(40, 15),
        prop_oneof![6 => 2usize..8, 1 => 0usize..2, 1 => 40usize..50],
        any::<u64>(),
        prop_oneof![2 => Just(true), 1 => Just(false)],
    )
        .prop_map(|(mut c, folds, seed, tame)| {
            if tame {
                tame_data(&mut c.data);
            }
            (c, folds, seed)
        });
    let outcomes = check(
        "cross_validation",
        60,
        0x8a11_0004,
        cv_case,
        |(c, folds, seed)| with_deadline(move || cv_property(c, folds, seed)),
    );
    assert_few_slow(&outcomes, 5.0);
    assert!(ok_fraction(&outcomes) > 0.3, "{outcomes:?}");
}

fn cv_property(c: PathCase, folds: usize, seed: u64) -> Result<String, TestCaseError> {
    let y = DVector::from_vec(c.data.y.clone());
    match CrossValidation::new(path_of(&c).n_lambda(c.n_lambda.min(8)))
        .folds(folds)
        .seed(seed)
        .fit(&c.data.x, &y)
    {
        Err(e) => {
            check_error(&e)?;
            if folds < 2 || folds > c.data.x.nrows() {
                prop_assert!(matches!(e, Error::InvalidParameter { .. }), "{:?}", e);
            }
            Ok(variant(&e))
        }
        Ok(cv) => {
            let n = c.data.x.nrows();
            prop_assert!((2..=n).contains(&folds));
            prop_assert_eq!(cv.n_folds(), folds);
            prop_assert!(cv.fold_ids().iter().all(|&f| f < folds));
            prop_assert_eq!(cv.cvm().len(), cv.lambdas().len());
            prop_assert!(cv.lambda_1se() >= cv.lambda_min());
            prop_assert!(cv.index_1se() <= cv.index_min());
            let finite = |v: &[f64]| v.iter().all(|a| a.is_finite() && *a >= 0.0);
            let errors = cv.fold_errors().as_slice();
            if finite(cv.cvm()) && finite(cv.cvsd()) && finite(errors) {
                let cmin = cv.cvm().iter().copied().fold(f64::INFINITY, f64::min);
                prop_assert_eq!(cv.cvm()[cv.index_min()], cmin);
                Ok("ok".into())
            } else {
                // Known (cv_statistics_overflow_on_huge_held_out_errors): a held-out
                // error near or beyond 1e300 overflows the squares of cvm/cvsd (and a
                // zero weight times an infinite error is NaN). Tolerated only when such
                // an error is there.
                let worst =
                    errors.iter().fold(
                        0.0f64,
                        |m, a| {
                            if a.is_nan() {
                                f64::INFINITY
                            } else {
                                m.max(*a)
                            }
                        },
                    );
                prop_assert!(
                    worst > 1e150,
                    "non-finite CV statistics with fold errors ≤ {:e}",
                    worst
                );
                Ok("ok:overflow".into())
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Closed forms and densities.

#[test]
fn closed_forms_are_typed_errors_or_solve_their_equations() {
    let lambda = prop_oneof![
        6 => log_uniform(-8.0, 4.0),
        1 => Just(0.0),
        1 => prop_oneof![Just(-1.0), Just(f64::NAN), Just(f64::INFINITY), Just(1e300)],
    ];
    let outcomes = check(
        "closed_forms",
        400,
        0x8a11_0005,
        (data(60, 60), lambda),
        |(d, lambda)| {
            let (x, y) = (&d.x, DVector::from_vec(d.y.clone()));
            let (n, p) = x.shape();
            let mut label = String::new();
            match closed_form::ridge(x, &y, lambda) {
                Ok(w) => {
                    prop_assert!(w.iter().all(|a| a.is_finite()));
                    // (XᵀX + λI)w = Xᵀy up to the backward error of the solve.
                    let mut a = x.tr_mul(x);
                    for j in 0..p {
                        a[(j, j)] += lambda;
                    }
                    let r = &a * &w - x.tr_mul(&y);
                    let a_norm = a
                        .row_iter()
                        .map(|row| row.iter().map(|v| v.abs()).sum::<f64>())
                        .fold(0.0, f64::max);
                    let bound =
                        64.0 * (n + p) as f64 * EPS * (a_norm * w.amax() + x.tr_mul(&y).amax());
                    prop_assert!(
                        r.amax() <= bound,
                        "ridge residual {:e} > {:e}",
                        r.amax(),
                        bound
                    );
                    label.push_str("ridge:ok ");
                }
                Err(e) => {
                    check_error(&e)?;
                    prop_assert!(
                        lambda >= 0.0 && lambda.is_finite()
                            || matches!(e, Error::InvalidParameter { .. }),
                        "{:?}",
                        e
                    );
                    label.push_str(&format!("ridge:{} ", variant(&e)));
                }
            }
            for r in [
                closed_form::ridge_dual(x, &y, lambda),
                closed_form::ridge_with_intercept(x, &y, lambda).map(|t| t.0),
            ] {
                match r {
                    Ok(w) => prop_assert!(w.iter().all(|a| a.is_finite())),
                    Err(e) => check_error(&e)?,
                }
            }
            match closed_form::effective_degrees_of_freedom(x, lambda) {
                Ok(df) => {
                    prop_assert!(df.is_finite() && df >= 0.0);
                    prop_assert!(
                        df <= n.min(p) as f64 * (1.0 + 1e-12),
                        "df {} > min(n, p)",
                        df
                    );
                }
                Err(e) => {
                    check_error(&e)?;
                    prop_assert!(
                        matches!(e, Error::InvalidParameter { .. } | Error::Solver(_)),
                        "{:?}",
                        e
                    );
                }
            }
            let h = x.tr_mul(x);
            if h.iter().all(|a| a.is_finite()) {
                match closed_form::shrinkage_factors(&h, lambda) {
                    Ok((q, f)) => {
                        prop_assert!(q.iter().all(|a| a.is_finite()));
                        prop_assert!(f.iter().all(|a| (0.0..=1.0).contains(a)), "factors {}", f);
                    }
                    Err(e) => check_error(&e)?,
                }
            }
            let z = DVector::from_vec(d.y.clone());
            match closed_form::diagonal_hessian_l1(&z, &z.map(|a| a.abs() + 1.0), lambda) {
                Ok(w) => {
                    for (a, b) in w.iter().zip(z.iter()) {
                        prop_assert!(!a.is_nan() && a.abs() <= b.abs() && a * b >= 0.0);
                    }
                }
                Err(e) => {
                    check_error(&e)?;
                }
            }
            for &zz in &d.y {
                let s = closed_form::soft_threshold(zz, lambda);
                prop_assert!(
                    lambda.is_nan()
                        || lambda < 0.0
                        || (!s.is_nan() && s.abs() <= zz.abs() && s * zz >= 0.0)
                );
            }
            Ok(label.trim_end().to_string())
        },
    );
    assert!(
        outcomes.keys().any(|k| k.starts_with("ridge:ok")),
        "{outcomes:?}"
    );
}

#[test]
fn prior_log_densities_are_never_nan_and_finite_in_range() {
    let strategy = (
        prop::collection::vec(entry(), 1..=60),
        prop_oneof![8 => log_uniform(-6.0, 6.0), 1 => Just(1e-150), 1 => Just(1e150)],
        log_uniform(-3.0, 3.0),
        0.3..4.0f64,
        0.5..30.0f64,
    );
    check(
        "prior_densities",
        1500,
        0x8a11_0006,
        strategy,
        |(w, scale, scale2, q, nu)| {
            let priors: Vec<(String, DensityTriple)> = vec![
                ("gaussian".into(), boxed(Gaussian::new(scale).unwrap())),
                ("laplace".into(), boxed(Laplace::new(scale).unwrap())),
                (
                    "elastic net".into(),
                    boxed(ElasticNet::new(scale, scale2).unwrap()),
                ),
                ("flat".into(), boxed(Flat)),
                ("bridge".into(), boxed(Bridge::new(q, scale).unwrap())),
                ("student t".into(), boxed(StudentT::new(nu, scale).unwrap())),
            ];
            let wmax = amax(&w);
            for (name, f) in &priors {
                let (pen, norm, dens) = f(&w);
                prop_assert!(!pen.is_nan() && pen >= 0.0, "{}: penalty {}", name, pen);
                prop_assert!(norm.is_finite(), "{}: normalizer {}", name, norm);
                prop_assert!(!dens.is_nan(), "{}: density NaN", name);
                prop_assert!(
                    dens <= norm + 1e-9 * norm.abs().max(1.0),
                    "{}: {} > {}",
                    name,
                    dens,
                    norm
                );
                // In range (|w|/scale ≤ 1e100, so that even a square stays finite) all are finite.
                if wmax / scale.min(scale2) <= 1e100 {
                    prop_assert!(
                        pen.is_finite() && dens.is_finite(),
                        "{}: {} {}",
                        name,
                        pen,
                        dens
                    );
                }
            }
            // Gradients and proximal steps: never NaN; a prox shrinks towards 0 (convex priors).
            let g = Gaussian::new(scale).unwrap();
            let l = Laplace::new(scale).unwrap();
            let e = ElasticNet::new(scale, scale2).unwrap();
            let mut out = vec![0.0; w.len()];
            for prior in [&g as &dyn PriorDyn, &l, &e] {
                prior.grad(&w, &mut out);
                prop_assert!(out.iter().all(|a| !a.is_nan()));
                for (j, &v) in w.iter().enumerate() {
                    let u = prior.prox(j, v, 0.7);
                    prop_assert!(
                        !u.is_nan() && u.abs() <= v.abs() && u * v >= 0.0,
                        "prox({}) = {}",
                        v,
                        u
                    );
                }
            }
            Ok("ok".into())
        },
    );
}

/// Object-safe view of the three convex priors' gradient and prox.
trait PriorDyn {
    fn grad(&self, w: &[f64], out: &mut [f64]);
    fn prox(&self, j: usize, v: f64, t: f64) -> f64;
}

impl<P: Prior> PriorDyn for P {
    fn grad(&self, w: &[f64], out: &mut [f64]) {
        self.penalty_gradient(w, out);
    }
    fn prox(&self, j: usize, v: f64, t: f64) -> f64 {
        Prior::prox(self, j, v, t)
    }
}

/// A prior's (penalty, log-normalizer, log-density) at a point, behind one type.
type DensityTriple = Box<dyn Fn(&[f64]) -> (f64, f64, f64)>;

fn boxed<P: Prior + 'static>(p: P) -> DensityTriple {
    Box::new(move |w: &[f64]| (p.penalty(w), p.ln_normalizer(w.len()), p.ln_density(w)))
}

#[test]
fn likelihood_values_are_never_nan_and_finite_in_range() {
    let eta = prop_oneof![
        6 => -40.0..40.0f64,
        2 => -800.0..800.0f64,
        1 => prop_oneof![Just(1e150), Just(-1e150), Just(0.0), Just(-0.0), Just(745.2), Just(-745.2)],
    ];
    let strategy = (eta, entry(), prop_oneof![Just(1.0), 1e-2..1e2f64]);
    check(
        "likelihood_values",
        5000,
        0x8a11_0007,
        strategy,
        |(eta, y, s2)| {
            let lik_g = GaussLik::new(s2).unwrap();
            let yb = f64::from(y > 0.0);
            let yp = (y.abs() * 2.0).floor().min(1e6);
            macro_rules! family_check {
                ($lik:expr, $y:expr, $mean_ok:expr) => {{
                    let (l, yy) = ($lik, $y);
                    let nll = l.nll(yy, eta);
                    let d1 = l.nll_derivative(yy, eta);
                    let d2 = l.nll_second_derivative(yy, eta);
                    let mu = l.mean(eta);
                    let sat = l.saturated_nll(yy);
                    let dev = l.deviance(yy, eta);
                    prop_assert!(
                        !nll.is_nan()
                            && !d1.is_nan()
                            && !d2.is_nan()
                            && !mu.is_nan()
                            && !sat.is_nan()
                            && !dev.is_nan(),
                        "{}: NaN at y = {}, η = {}: {} {} {} {} {} {}",
                        l.name(),
                        yy,
                        eta,
                        nll,
                        d1,
                        d2,
                        mu,
                        sat,
                        dev
                    );
                    prop_assert!(d2 >= 0.0, "{}: ℓ″ = {} < 0", l.name(), d2);
                    prop_assert!(
                        dev >= -1e-9 * nll.abs().max(1.0),
                        "{}: deviance {} < 0 at y = {}, η = {}",
                        l.name(),
                        dev,
                        yy,
                        eta
                    );
                    prop_assert!($mean_ok(mu), "{}: mean {} at η = {}", l.name(), mu, eta);
                    if eta.abs() <= 700.0 && yy.abs() <= 1e100 {
                        prop_assert!(
                            nll.is_finite() && d1.is_finite() && d2.is_finite() && sat.is_finite(),
                            "{}: non-finite at y = {}, η = {}",
                            l.name(),
                            yy,
                            eta
                        );
                    }
                }};
            }
            family_check!(lik_g, y, |m: f64| m == eta);
            family_check!(Bernoulli, yb, |m: f64| (0.0..=1.0).contains(&m));
            family_check!(Poisson, yp, |m: f64| m >= 0.0);
            prop_assert!(
                Bernoulli.check_response(&[yb]).is_ok() && Poisson.check_response(&[yp]).is_ok()
            );
            Ok("ok".into())
        },
    );
}

/// The cross-validation statistics of representable fold errors are representable:
/// `cvsd = sqrt(Σ W_k (e_k − cvm)² / …)` squares the errors, so a fold error of 1e300 (a
/// held-out row with x = 1e150 predicted by a fold whose training rows had no such value)
/// gives `cvsd = +∞` although every fold error and cvm are finite. Scaling the deviations by
/// the largest before squaring would keep it finite (as `Design::column_scales` does).
#[test]
fn cv_statistics_overflow_on_huge_held_out_errors() {
    let x = DMatrix::from_column_slice(8, 1, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 1e150]);
    let y = DVector::from_column_slice(&[1.1, 1.9, 3.2, 3.9, 5.1, 6.0, 7.1, 0.5]);
    let ids = vec![0, 0, 1, 1, 2, 2, 3, 3];
    let cv = CrossValidation::new(Path::new(GaussLik::default(), 0.0).lambdas(vec![0.1]))
        .fold_ids(ids)
        .fit(&x, &y)
        .unwrap();
    assert!(
        cv.fold_errors().iter().all(|e| e.is_finite()),
        "{}",
        cv.fold_errors()
    );
    assert!(cv.cvm()[0].is_finite());
    assert!(cv.cvsd()[0].is_finite(), "cvsd = {}", cv.cvsd()[0]);
    // A held-out prediction whose square overflows: the fold error is +∞, and with it cvsd
    // becomes NaN (∞ − ∞) rather than an error or +∞.
    let x = DMatrix::from_column_slice(8, 1, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 1e200]);
    let cv = CrossValidation::new(Path::new(GaussLik::default(), 0.0).lambdas(vec![0.1]))
        .fold_ids(vec![0, 0, 1, 1, 2, 2, 3, 3])
        .fit(&x, &y);
    match cv {
        Err(e) => eprintln!("typed error: {e}"),
        Ok(cv) => assert!(
            !cv.cvsd()[0].is_nan(),
            "cvm {:?}, cvsd {:?}",
            cv.cvm(),
            cv.cvsd()
        ),
    }
}

/// Proximal Newton on a 3 × 3 Poisson problem with large counts under a weak Laplace prior
/// (b ≈ 2848, standardized). It used not to finish: the coordinate-descent subproblems of
/// `proximal_newton::outer_step` ran without a bound that `max_iters` could not reach. Now
/// every subproblem's sweeps are capped and the fit converges in ~30 outer iterations.
/// Found by `map_fits_are_typed_errors_or_certified_optima` (41 × 42 data, then reduced by
/// hand).
#[test]
fn proximal_newton_under_a_weak_laplace_prior_finishes() {
    let x = DMatrix::from_row_slice(
        3,
        3,
        &[
            -1.2091612735846309,
            -7.942638451510443e-05,
            1.7212063083107818,
            -2.163759352233007,
            2.9124424238221048e-05,
            2.3915509703497126,
            -0.5468408787229792,
            1.0,
            -0.36481369769432176,
        ],
    );
    let y = DVector::from_vec(vec![971.0, 100.0, 1e6]);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let r = Map::new(Poisson, Laplace::new(2847.655295021206).unwrap())
            .standardize(true)
            .fit(&x, &y)
            .map(|f| f.convergence().clone());
        let _ = tx.send(r);
    });
    match rx.recv_timeout(std::time::Duration::from_secs(10)) {
        Ok(Ok(c)) => assert!(c.converged && c.value <= c.tolerance, "{c:?}"),
        Ok(Err(e)) => panic!("a proper prior has a mode here, got {e}"),
        Err(_) => panic!("Map::fit (Poisson, Laplace b = 2848, 3 × 3) still running after 10 s"),
    }
}

/// Proximal Newton on a 3 × 2 Poisson problem whose columns hold ±1e150 (elastic net,
/// λ = 0.04, mix 0.65, not standardized). A single outer iteration used not to return
/// (> 30 s in the inner coordinate descent); now the capped subproblems keep each iteration
/// bounded and the iteration cap is reported with the achieved KKT measure. Found by the
/// map-fit property (60 × 41, reduced automatically).
#[test]
fn proximal_newton_on_extreme_data_finishes() {
    let x = DMatrix::from_column_slice(
        3,
        2,
        &[
            -1e150,
            1e150,
            -2.375949587036782,
            1e150,
            1.4122162709929051,
            -0.845249369937191,
        ],
    );
    let y = DVector::from_vec(vec![2.0, 0.0, 1.0]);
    let prior = ElasticNet::from_lambda(
        0.03995266195850869,
        0.6537185304282259,
        Convention::Mean {
            n: 3.0,
            sigma2: 1.0,
        },
    )
    .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let r = Map::new(Poisson, prior)
            .max_iters(100)
            .fit(&x, &y)
            .map(|f| f.convergence().clone());
        let _ = tx.send(r);
    });
    match rx.recv_timeout(std::time::Duration::from_secs(10)) {
        // Converged, or the iteration cap reported with the achieved measure.
        Ok(Ok(c)) => assert!(c.converged, "{c:?}"),
        Ok(Err(Error::NotConverged {
            iterations,
            achieved,
            ..
        })) => assert!(iterations == 100 && achieved.is_finite(), "{achieved}"),
        Ok(Err(e)) => panic!("unexpected error {e}"),
        Err(_) => {
            panic!("Map::fit (Poisson, elastic net, 3 × 2, max_iters 100) still running after 10 s")
        }
    }
}
