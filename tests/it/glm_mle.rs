//! As the prior flattens (λ → 0) the MAP tends to the maximum-likelihood estimate, computed
//! here by a plain IRLS (Newton) loop written in the test.
use crate::common;

use mapfit::likelihood::{Bernoulli, Likelihood, Poisson};
use mapfit::prior::{Flat, Gaussian, Laplace, Prior};
use mapfit::Map;
use nalgebra::{DMatrix, DVector};

/// Newton–Raphson on the negative log-likelihood with an intercept: θ = (w, b).
fn irls_mle<L: Likelihood>(lik: &L, x: &DMatrix<f64>, y: &DVector<f64>) -> DVector<f64> {
    let (n, p) = (x.nrows(), x.ncols());
    let xa = DMatrix::from_fn(n, p + 1, |i, j| if j < p { x[(i, j)] } else { 1.0 });
    let mut theta = DVector::zeros(p + 1);
    if lik.name() == "Poisson" {
        theta[p] = y.mean().ln();
    }
    for _ in 0..100 {
        let eta = &xa * &theta;
        let d1 = DVector::from_fn(n, |i, _| lik.nll_derivative(y[i], eta[i]));
        let d2 = DVector::from_fn(n, |i, _| lik.nll_second_derivative(y[i], eta[i]));
        let g = xa.tr_mul(&d1);
        let mut xw = xa.clone();
        for (i, mut row) in xw.row_iter_mut().enumerate() {
            row *= d2[i];
        }
        let h = xa.tr_mul(&xw);
        let step = h.cholesky().expect("positive definite").solve(&g);
        theta -= &step;
        if step.amax() <= 1e-14 * theta.amax().max(1.0) {
            break;
        }
    }
    theta
}

fn rel(a: &DVector<f64>, b: &DVector<f64>) -> f64 {
    common::max_rel_diff(a.as_slice(), b.as_slice())
}

fn run<L: Likelihood>(lik: L, csv: &str) {
    let (_, x, y) = common::read_csv(
        &format!("{}/tests/data/{csv}", env!("CARGO_MANIFEST_DIR")),
        "y",
    );
    let p = x.ncols();
    let mle = irls_mle(&lik, &x, &y);
    let theta = |fit: &mapfit::Fit<L>| {
        let mut t = DVector::zeros(p + 1);
        t.rows_mut(0, p).copy_from(fit.coefficients());
        t[p] = fit.intercept();
        t
    };
    let flat = Map::new(lik.clone(), Flat).fit(&x, &y).unwrap();
    let d_flat = rel(&theta(&flat), &mle);
    eprintln!("{}: flat prior vs IRLS MLE {d_flat:.1e}", lik.name());
    assert!(d_flat < 1e-9);
    let mut last = (f64::INFINITY, f64::INFINITY);
    for &strength in &[1e-2, 1e-4, 1e-6] {
        let g = Map::new(lik.clone(), Gaussian::with_precision(strength).unwrap())
            .fit(&x, &y)
            .unwrap();
        let l = Map::new(lik.clone(), Laplace::with_rate(strength).unwrap())
            .fit(&x, &y)
            .unwrap();
        let (dg, dl) = (rel(&theta(&g), &mle), rel(&theta(&l), &mle));
        eprintln!(
            "{}: strength {strength:.0e}: Gaussian prior vs MLE {dg:.1e} [{}], Laplace prior vs MLE {dl:.1e} [{}]",
            lik.name(),
            g.method().name(),
            l.method().name()
        );
        assert!(g.convergence().converged && l.convergence().converged);
        // the distance shrinks in proportion to the prior's strength
        assert!(
            dg < last.0 * 0.05 && dl < last.1 * 0.05,
            "{dg} {dl} {last:?}"
        );
        last = (dg, dl);
        let _ = g.prior();
    }
    assert!(last.0 < 1e-5 && last.1 < 1e-5, "{last:?}");
    let _ = Flat.describe();
}

#[test]
fn logistic_map_tends_to_mle() {
    run(Bernoulli, "logit_small.csv");
}

#[test]
fn poisson_map_tends_to_mle() {
    run(Poisson, "poisson_small.csv");
}
