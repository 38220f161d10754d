//! Calibration of the exact Gaussian posterior: when the coefficients are drawn from the prior
//! and the data from the likelihood, 95% credible intervals contain the true coefficient 95%
//! of the time (Bayesian coverage, exact here). The intercept has a flat prior and cannot be
//! drawn; it is fixed, which leaves the coverage of w exact (integrating a flat-prior
//! intercept is centering, and the centered data do not depend on it).

use crate::common;

use common::{correlated_design, rng};
use mapfit::posterior::Posterior;
use mapfit::sampling::{sample_response, SampleCoefficients};
use mapfit::{likelihood, prior, Design, MapProblem};

#[test]
fn credible_intervals_cover_at_their_level() {
    let (n, p, reps) = (15, 3, 4000);
    let lik = likelihood::Gaussian::new(0.8).unwrap();
    let prior = prior::Gaussian::new(1.5).unwrap();
    let x = correlated_design(n, p, 0.5, 20);
    let mut r = rng(21);
    let (mut covered, mut covered_90, mut total) = (0usize, 0usize, 0usize);
    let mut per_coef = vec![0usize; p];
    for _ in 0..reps {
        let w = prior.sample_coefficients(p, &mut r).unwrap();
        let y = sample_response(&lik, &x, &w, 0.7, &mut r).unwrap();
        let problem =
            MapProblem::new(Design::new(&x, &y).unwrap(), lik, prior.clone(), true).unwrap();
        let post = Posterior::exact_gaussian(&problem).unwrap();
        for j in 0..p {
            let ci = post.credible_interval(j, 0.95).unwrap().unwrap();
            let ci90 = post.credible_interval(j, 0.90).unwrap().unwrap();
            total += 1;
            if ci.lower <= w[j] && w[j] <= ci.upper {
                covered += 1;
                per_coef[j] += 1;
            }
            if ci90.lower <= w[j] && w[j] <= ci90.upper {
                covered_90 += 1;
            }
        }
    }
    let rate = covered as f64 / total as f64;
    let rate90 = covered_90 as f64 / total as f64;
    println!(
        "{reps} replications × {p} coefficients: 95% intervals cover {rate:.4} (per coefficient \
         {:?}), 90% intervals cover {rate90:.4}",
        per_coef
            .iter()
            .map(|&c| c as f64 / reps as f64)
            .collect::<Vec<_>>()
    );
    assert!((0.94..=0.96).contains(&rate), "coverage {rate}");
    assert!((0.885..=0.915).contains(&rate90), "coverage {rate90}");
}
