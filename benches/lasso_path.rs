//! Criterion benchmark: a 100-λ lasso path (and an elastic-net path) on a synthetic 1000 × 100
//! problem with AR(1)-correlated columns (ρ = 0.5) and 10 non-zero coefficients, as the
//! anchor harness's `synth_reg_small`. Run with `cargo bench --bench lasso_path`.
use criterion::{criterion_group, criterion_main, Criterion};
use mapfit::{likelihood, Path};
use nalgebra::{DMatrix, DVector};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use std::hint::black_box;

fn problem(n: usize, p: usize, seed: u64) -> (DMatrix<f64>, DVector<f64>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut z = || -> f64 { StandardNormal.sample(&mut rng) };
    let mut x = DMatrix::zeros(n, p);
    for i in 0..n {
        let mut prev: f64 = z();
        x[(i, 0)] = prev;
        for j in 1..p {
            prev = 0.5 * prev + 0.75f64.sqrt() * z();
            x[(i, j)] = prev;
        }
    }
    let w = DVector::from_fn(p, |j, _| {
        if j % 10 == 3 {
            1.0 - 0.1 * (j / 10) as f64
        } else {
            0.0
        }
    });
    let y = &x * &w + DVector::from_fn(n, |_, _| z()).add_scalar(1.0);
    (x, y)
}

fn bench(c: &mut Criterion) {
    let (x, y) = problem(1000, 100, 42);
    let mut g = c.benchmark_group("path_1000x100");
    for (name, mix) in [("lasso", 1.0), ("enet_0.5", 0.5)] {
        let path = Path::new(likelihood::Gaussian::default(), mix)
            .n_lambda(100)
            .lambda_min_ratio(Some(1e-3))
            .early_stop(false);
        g.bench_function(name, |b| b.iter(|| black_box(path.fit(&x, &y).unwrap())));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
