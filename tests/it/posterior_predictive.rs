//! Prior-predictive sampling: coefficients drawn from the prior, responses from the
//! likelihood (Gaussian, Bernoulli, Poisson), seeded; the MAP recovers the drawn coefficients
//! with an error that decreases with n.

use crate::common;

use common::{correlated_design, rng};
use mapfit::likelihood::Likelihood;
use mapfit::sampling::{prior_predictive, sample_response, SampleCoefficients, SampleResponse};
use mapfit::{likelihood, prior, Map};
use nalgebra::DVector;

/// Mean ‖ŵ − w‖₂ over `reps` draws `w ~ prior`, `y ~ p(y | Xw + b)`, at each n.
fn recovery<L, P>(lik: &L, prior: &P, ns: &[usize], p: usize, reps: u64) -> Vec<f64>
where
    L: SampleResponse,
    P: SampleCoefficients,
{
    ns.iter()
        .map(|&n| {
            let mut total = 0.0;
            for rep in 0..reps {
                let x = correlated_design(n, p, 0.3, 1000 * n as u64 + rep);
                let mut r = rng(7 + 31 * rep + n as u64);
                let draw = prior_predictive(lik, prior, &x, 0.2, &mut r).unwrap();
                // relative gradient 1e-6 is ample next to errors of 1e-2; argmin's trust region
                // can stall above 1e-8 on the larger GLM problems (cost rounding)
                let fit = Map::new(lik.clone(), prior.clone())
                    .tolerance(1e-6)
                    .unwrap()
                    .fit(&x, &draw.response)
                    .unwrap();
                total += (fit.coefficients() - &draw.coefficients).norm();
            }
            total / reps as f64
        })
        .collect()
}

fn check(name: &str, errs: &[f64], ns: &[usize]) {
    println!(
        "{name}: mean ‖ŵ − w‖ at n = {ns:?}: {:?}",
        errs.iter().map(|e| format!("{e:.4}")).collect::<Vec<_>>()
    );
    for k in 1..errs.len() {
        assert!(errs[k] < errs[k - 1], "{name}: error not decreasing");
    }
    // √n consistency: 64× the data, about 1/8 of the error
    let ratio = errs[errs.len() - 1] / errs[0];
    assert!(ratio < 0.25, "{name}: ratio {ratio}");
}

#[test]
fn map_recovers_prior_draws_as_n_grows() {
    let ns = [25, 100, 400, 1600];
    let p = 4;
    let g = recovery(
        &likelihood::Gaussian::new(1.0).unwrap(),
        &prior::Gaussian::new(1.0).unwrap(),
        &ns,
        p,
        20,
    );
    check("Gaussian likelihood, Gaussian prior", &g, &ns);
    let b = recovery(
        &likelihood::Bernoulli,
        &prior::Gaussian::new(1.0).unwrap(),
        &ns,
        p,
        20,
    );
    check("Bernoulli likelihood, Gaussian prior", &b, &ns);
    let c = recovery(
        &likelihood::Poisson,
        &prior::Gaussian::new(0.4).unwrap(),
        &ns,
        p,
        20,
    );
    check("Poisson likelihood, Gaussian prior", &c, &ns);
    let s = recovery(
        &likelihood::Gaussian::new(1.0).unwrap(),
        &prior::StudentT::new(4.0, 0.7).unwrap(),
        &ns,
        p,
        20,
    );
    check("Gaussian likelihood, Student-t prior", &s, &ns);
}

/// Same seed, same draw; the response samplers have the likelihood's mean.
#[test]
fn samplers_are_seeded_and_have_the_likelihood_mean() {
    let x = correlated_design(30, 3, 0.3, 50);
    let pr = prior::Laplace::new(0.5).unwrap();
    let lik = likelihood::Gaussian::new(2.0).unwrap();
    let a = prior_predictive(&lik, &pr, &x, 1.0, &mut rng(51)).unwrap();
    let b = prior_predictive(&lik, &pr, &x, 1.0, &mut rng(51)).unwrap();
    assert_eq!(a, b);
    let m = 200_000;
    let one = nalgebra::DMatrix::from_element(m, 1, 1.0);
    for eta in [-1.5, 0.0, 0.8] {
        let w = DVector::from_element(1, eta);
        let yb = sample_response(&likelihood::Bernoulli, &one, &w, 0.0, &mut rng(52)).unwrap();
        let yp = sample_response(&likelihood::Poisson, &one, &w, 0.0, &mut rng(53)).unwrap();
        let yg = sample_response(&lik, &one, &w, 0.0, &mut rng(54)).unwrap();
        let (mb, mp, mg) = (yb.mean(), yp.mean(), yg.mean());
        let vg = yg.iter().map(|v| (v - mg) * (v - mg)).sum::<f64>() / m as f64;
        println!(
            "η = {eta}: Bernoulli mean {mb:.4} vs {:.4}, Poisson mean {mp:.4} vs {:.4}, \
             Gaussian mean {mg:.4} var {vg:.4}",
            likelihood::Bernoulli.mean(eta),
            likelihood::Poisson.mean(eta)
        );
        assert!((mb - likelihood::Bernoulli.mean(eta)).abs() < 0.005);
        assert!((mp - likelihood::Poisson.mean(eta)).abs() < 0.01 * eta.exp().max(1.0));
        assert!((mg - eta).abs() < 0.01 && (vg - 2.0).abs() < 0.03);
        assert!(yb.iter().all(|&v| v == 0.0 || v == 1.0));
        assert!(yp.iter().all(|&v| v >= 0.0 && v.fract() == 0.0));
    }
}
