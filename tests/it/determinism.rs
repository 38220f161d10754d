//! Issue 8, point 4: every random choice comes from a user seed, and the same seed gives
//! bit-identical results — across rayon thread counts (1 and 2), across repeated runs in one
//! process, and across processes (the test binary re-runs itself and compares a digest).
//!
//! Compared bit for bit: the cross-validation curve (`CrossValidation` fits its folds with
//! rayon), the full sequence of SGD and Adam iterates (mini-batches drawn from the seed), and
//! prior-predictive draws.

use argmin::core::observers::{Observe, ObserverMode};
use argmin::core::{Executor, KV};
use mapfit::likelihood::{Bernoulli, Gaussian as GaussLik};
use mapfit::prior::{Gaussian, Laplace};
use mapfit::solve::{Adam, CdState, LearningRate, PriorMode, Sgd};
use mapfit::{sampling, CrossValidation, CvFit, Design, MapProblem, Path};
use nalgebra::{DMatrix, DVector};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use std::sync::{Arc, Mutex};

fn data(n: usize, p: usize, seed: u64) -> (DMatrix<f64>, DVector<f64>) {
    let mut r = StdRng::seed_from_u64(seed);
    let x = DMatrix::from_fn(n, p, |_, _| StandardNormal.sample(&mut r));
    let w = DVector::from_fn(p, |j, _| {
        if j % 3 == 0 {
            1.0 / (1.0 + j as f64)
        } else {
            0.0
        }
    });
    let mut y: DVector<f64> = &x * w;
    for v in y.iter_mut() {
        let e: f64 = StandardNormal.sample(&mut r);
        *v += 0.2 + 0.5 * e;
    }
    (x, y)
}

/// FNV-1a over the bit patterns of a sequence of floats.
#[derive(Clone, Copy)]
struct Digest(u64);

impl Digest {
    fn new() -> Self {
        Digest(0xcbf2_9ce4_8422_2325)
    }
    fn add(&mut self, v: f64) {
        for b in v.to_bits().to_le_bytes() {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn add_all<'a>(&mut self, vs: impl IntoIterator<Item = &'a f64>) {
        for v in vs {
            self.add(*v);
        }
    }
}

/// Everything a CV fit reports that a seed could influence, as raw bits.
fn cv_bits(cv: &CvFit) -> Vec<u64> {
    let mut out: Vec<u64> = Vec::new();
    let mut push = |v: f64| out.push(v.to_bits());
    cv.lambdas().iter().for_each(|&v| push(v));
    cv.cvm().iter().for_each(|&v| push(v));
    cv.cvsd().iter().for_each(|&v| push(v));
    cv.fold_errors().iter().for_each(|&v| push(v));
    cv.fold_weights().iter().for_each(|&v| push(v));
    cv.fold_ids().iter().for_each(|&i| push(i as f64));
    cv.path().coefficient_matrix().iter().for_each(|&v| push(v));
    cv.path().intercepts().iter().for_each(|&v| push(v));
    push(cv.lambda_min());
    push(cv.lambda_1se());
    out
}

fn cross_validate(seed: u64, threads: Option<usize>) -> CvFit {
    let (x, y) = data(90, 12, 1);
    let w = DVector::from_fn(90, |i, _| 0.5 + (i % 4) as f64 * 0.25);
    CrossValidation::new(Path::new(GaussLik::default(), 0.7).n_lambda(25).weights(w))
        .folds(7)
        .seed(seed)
        .threads(threads)
        .fit(&x, &y)
        .expect("cross-validation")
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool")
        .install(f)
}

#[test]
fn cv_curve_is_bit_identical_for_one_and_two_threads_and_across_runs() {
    let reference = cv_bits(&in_pool(1, || cross_validate(7, None)));
    let runs = [
        (
            "2-thread pool",
            cv_bits(&in_pool(2, || cross_validate(7, None))),
        ),
        (
            "1-thread pool again",
            cv_bits(&in_pool(1, || cross_validate(7, None))),
        ),
        (
            "2-thread pool again",
            cv_bits(&in_pool(2, || cross_validate(7, None))),
        ),
        ("threads(Some(1))", cv_bits(&cross_validate(7, Some(1)))),
        ("threads(Some(2))", cv_bits(&cross_validate(7, Some(2)))),
        ("global pool", cv_bits(&cross_validate(7, None))),
    ];
    for (label, bits) in &runs {
        assert_eq!(bits.len(), reference.len(), "{label}");
        let diff = bits.iter().zip(&reference).filter(|(a, b)| a != b).count();
        assert_eq!(diff, 0, "{label}: {diff} of {} values differ", bits.len());
    }
    // Two folds fitted concurrently on the same pool as two other CVs: still identical.
    let (a, b) = in_pool(2, || {
        rayon::join(|| cross_validate(7, None), || cross_validate(7, None))
    });
    assert_eq!(cv_bits(&a), reference);
    assert_eq!(cv_bits(&b), reference);
    // The seed is what decides: another seed gives other folds and another curve.
    let other = cross_validate(8, Some(2));
    let cv7 = cross_validate(7, Some(2));
    assert_ne!(other.fold_ids(), cv7.fold_ids());
    assert_ne!(cv_bits(&other), reference);
    eprintln!(
        "CV: {} values compared bit for bit over {} runs",
        reference.len(),
        runs.len() + 3
    );
}

/// Records θ after every argmin iteration.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<DVector<f64>>>>);

impl Observe<CdState> for Recorder {
    fn observe_iter(&mut self, state: &CdState, _kv: &KV) -> Result<(), argmin::core::Error> {
        use argmin::core::State;
        if let Some(p) = state.get_param() {
            self.0.lock().unwrap().push(p.clone());
        }
        Ok(())
    }
}

/// Every iterate of seeded mini-batch SGD (momentum, Gaussian prior coupled), SGD with a
/// decoupled Laplace prior (proximal steps) and AdamW, on the Gaussian and Bernoulli
/// likelihoods, flattened.
fn stochastic_iterates(seed: u64) -> Vec<f64> {
    let (x, y) = data(137, 6, 3);
    let labels = y.map(|v| f64::from(v > 0.2));
    let mut all = Vec::new();
    let mut run = |problem_kind: usize, solver_kind: usize| {
        let design = Design::new(&x, if problem_kind == 0 { &y } else { &labels }).unwrap();
        let rec = Recorder::default();
        macro_rules! go {
            ($problem:expr, $solver:expr) => {{
                Executor::new($problem, $solver)
                    .configure(|s| s.param(DVector::zeros(7)).max_iters(300))
                    .add_observer(rec.clone(), ObserverMode::Always)
                    .ctrlc(false)
                    .timer(false)
                    .run()
                    .expect("stochastic run");
            }};
        }
        let sgd = Sgd::new(
            LearningRate::InverseTime {
                initial: 0.05,
                t0: 40.0,
            },
            PriorMode::Coupled,
        )
        .with_momentum(0.9)
        .unwrap()
        .with_batch_size(16)
        .unwrap()
        .with_seed(seed);
        let prox = Sgd::new(LearningRate::Constant(0.02), PriorMode::Decoupled)
            .with_batch_size(10)
            .unwrap()
            .with_seed(seed);
        let adam = Adam::new(LearningRate::Constant(0.01), PriorMode::Decoupled)
            .with_batch_size(25)
            .unwrap()
            .with_seed(seed);
        let gauss = Gaussian::new(0.7).unwrap();
        let laplace = Laplace::new(0.3).unwrap();
        match (problem_kind, solver_kind) {
            (0, 0) => go!(
                MapProblem::new(design, GaussLik::default(), gauss, true).unwrap(),
                sgd
            ),
            (0, 1) => go!(
                MapProblem::new(design, GaussLik::default(), laplace, true).unwrap(),
                prox
            ),
            (0, _) => go!(
                MapProblem::new(design, GaussLik::default(), gauss, true).unwrap(),
                adam
            ),
            (_, 0) => go!(
                MapProblem::new(design, Bernoulli, gauss, true).unwrap(),
                sgd
            ),
            (_, 1) => go!(
                MapProblem::new(design, Bernoulli, laplace, true).unwrap(),
                prox
            ),
            (_, _) => go!(
                MapProblem::new(design, Bernoulli, gauss, true).unwrap(),
                adam
            ),
        }
        let iterates = rec.0.lock().unwrap().clone();
        assert_eq!(iterates.len(), 300, "one iterate per step");
        for th in iterates {
            all.extend(th.iter().copied());
        }
    };
    for problem_kind in 0..2 {
        for solver_kind in 0..3 {
            run(problem_kind, solver_kind);
        }
    }
    all
}

#[test]
fn sgd_and_adam_iterates_are_bit_identical_for_one_and_two_threads_and_across_runs() {
    let reference = in_pool(1, || stochastic_iterates(11));
    let two = in_pool(2, || stochastic_iterates(11));
    let again = stochastic_iterates(11);
    let (c, d) = in_pool(2, || {
        rayon::join(|| stochastic_iterates(11), || stochastic_iterates(11))
    });
    for (label, run) in [
        ("2 threads", &two),
        ("again", &again),
        ("joined a", &c),
        ("joined b", &d),
    ] {
        assert_eq!(run.len(), reference.len());
        let diff = run
            .iter()
            .zip(&reference)
            .filter(|(a, b)| a.to_bits() != b.to_bits())
            .count();
        assert_eq!(
            diff,
            0,
            "{label}: {diff} of {} iterate entries differ",
            run.len()
        );
    }
    // Another seed draws other batches: the iterates differ.
    let other = stochastic_iterates(12);
    let diff = other
        .iter()
        .zip(&reference)
        .filter(|(a, b)| a.to_bits() != b.to_bits())
        .count();
    assert!(
        diff > reference.len() / 2,
        "seed 12 vs 11: only {diff} differ"
    );
    eprintln!(
        "SGD/Adam: {} iterate entries (6 runs × 300 steps × 7 parameters) compared bit for bit",
        reference.len()
    );
}

fn prior_predictive_draws(seed: u64) -> Vec<f64> {
    let (x, _) = data(40, 5, 5);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Vec::new();
    for _ in 0..20 {
        let d =
            sampling::prior_predictive(&Bernoulli, &Laplace::new(0.5).unwrap(), &x, -0.3, &mut rng)
                .unwrap();
        out.extend(d.coefficients.iter().chain(d.response.iter()).copied());
        let d = sampling::prior_predictive(
            &GaussLik::new(0.3).unwrap(),
            &Gaussian::new(2.0).unwrap(),
            &x,
            1.0,
            &mut rng,
        )
        .unwrap();
        out.extend(d.coefficients.iter().chain(d.response.iter()).copied());
    }
    out
}

#[test]
fn prior_predictive_draws_depend_only_on_the_seed() {
    let a = in_pool(1, || prior_predictive_draws(3));
    let b = in_pool(2, || prior_predictive_draws(3));
    assert_eq!(
        a.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        b.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
    assert_ne!(a, prior_predictive_draws(4));
}

/// A 100-λ ridge path with p = 96 (its solves and back-transformation run as two halves of
/// the grid on rayon's pool) and one with p = 12 (one part): coefficients, intercepts and
/// degrees of freedom.
fn ridge_paths() -> Vec<f64> {
    let mut out = Vec::new();
    for (n, p) in [(300, 96), (80, 12)] {
        let (x, y) = data(n, p, 9);
        let fit = mapfit::RidgePath::new().n_lambda(100).fit(&x, &y).unwrap();
        out.extend(fit.coefficient_matrix().iter().copied());
        out.extend(fit.intercepts().iter().copied());
        out.extend(fit.effective_df().unwrap().iter().copied());
    }
    out
}

#[test]
fn ridge_path_is_bit_identical_for_one_and_two_threads() {
    let a = in_pool(1, ridge_paths);
    let b = in_pool(2, ridge_paths);
    assert_eq!(a.len(), 100 * (96 + 1 + 1) + 100 * (12 + 1 + 1));
    let diff = a
        .iter()
        .zip(&b)
        .filter(|(u, v)| u.to_bits() != v.to_bits())
        .count();
    assert_eq!(diff, 0, "{diff} of {} values differ", a.len());
}

/// The digest of everything above, for the cross-process comparison.
fn full_digest() -> u64 {
    let mut d = Digest::new();
    let cv = cross_validate(7, None);
    for b in cv_bits(&cv) {
        d.add(f64::from_bits(b));
    }
    d.add_all(&stochastic_iterates(11));
    d.add_all(&prior_predictive_draws(3));
    d.add_all(&ridge_paths());
    d.0
}

const CHILD_ENV: &str = "MAPFIT_DETERMINISM_CHILD";

/// Run by the parent test in a fresh process (with `CHILD_ENV` set): prints the digest.
/// Run directly, it checks that two digests in one process agree.
#[test]
fn digest_child() {
    let d = full_digest();
    if std::env::var_os(CHILD_ENV).is_some() {
        println!("MAPFIT-DIGEST {d:016x}");
    } else {
        assert_eq!(d, full_digest());
    }
}

/// A second process (another address-space layout, another hash seed, another thread
/// count for rayon's global pool) computes the same digest.
#[test]
fn identical_in_a_fresh_process() {
    let mine = in_pool(2, full_digest);
    let exe = std::env::current_exe().expect("test binary");
    for threads in ["1", "2"] {
        let out = std::process::Command::new(&exe)
            .args([
                "--exact",
                "determinism::digest_child",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env(CHILD_ENV, "1")
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .expect("re-run the test binary");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout
            .lines()
            .find_map(|l| l.split("MAPFIT-DIGEST ").nth(1))
            .unwrap_or_else(|| panic!("no digest in the child's output:\n{stdout}"));
        assert_eq!(
            u64::from_str_radix(line.trim(), 16).unwrap(),
            mine,
            "RAYON_NUM_THREADS={threads}"
        );
        eprintln!("fresh process, RAYON_NUM_THREADS={threads}: digest {mine:016x} matches");
    }
}
