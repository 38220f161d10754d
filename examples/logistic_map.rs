//! Logistic regression as a MAP estimate: the Bernoulli likelihood (logit link) with a Gaussian
//! prior (L2) and a Laplace prior (L1), and how the prior scale maps to scikit-learn's `C`.
//!
//! Data: simulated (seeded), 8 standard-normal features, true coefficients
//! `(2, −1.5, 1, 0, 0, 0.5, 0, 0)` and intercept −0.5; 200 training rows, 5000 test rows.
//!
//! Conventions. mapfit minimizes the negative log posterior (the **sum** of the log-losses):
//! ```text
//! Gaussian prior N(0, τ²):  Σᵢ logloss(yᵢ, ηᵢ) + ‖w‖²/(2τ²)
//! Laplace prior (0, b):     Σᵢ logloss(yᵢ, ηᵢ) + ‖w‖₁/b
//! ```
//! scikit-learn's `LogisticRegression(C)` minimizes `C·Σ logloss + ½‖w‖²` (L2) or
//! `C·Σ logloss + ‖w‖₁` (L1): the same problems multiplied by `C = τ²` (L2) or `C = b` (L1).
//! So the sum-convention λ is `1/C` (`½‖w‖²` or `‖w‖₁` penalty), and glmnet's
//! (`−loglik/n + λ·pen`) is `1/(nC)`. The intercept is never penalized (as glmnet; scikit-learn's
//! lbfgs solver does not penalize it either).
//!
//! The example checks the mapping without scikit-learn: at mapfit's MAP, the gradient of
//! scikit-learn's L2 objective is ≈ 0 and the L1 objective's optimality (KKT) conditions hold.
//! It prints predicted probabilities and classes, accuracies, and the exact zeros of the
//! Laplace prior (the Gaussian prior has none).
//!
//! ```sh
//! cargo run --release --example logistic_map
//! ```

use mapfit::likelihood::Bernoulli;
use mapfit::prior::{Convention, Gaussian, Laplace, Prior};
use mapfit::sampling::sample_response;
use mapfit::{Fit, Map};
use nalgebra::{DMatrix, DVector};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const INTERCEPT: f64 = -0.5;

fn true_w() -> DVector<f64> {
    DVector::from_vec(vec![2.0, -1.5, 1.0, 0.0, 0.0, 0.5, 0.0, 0.0])
}

fn simulate(n: usize, seed: u64) -> Res<(DMatrix<f64>, DVector<f64>)> {
    let mut rng = StdRng::seed_from_u64(seed);
    let x = DMatrix::from_fn(n, true_w().len(), |_, _| StandardNormal.sample(&mut rng));
    let y = sample_response(&Bernoulli, &x, &true_w(), INTERCEPT, &mut rng)?;
    Ok((x, y))
}

fn sigmoid(t: f64) -> f64 {
    1.0 / (1.0 + (-t).exp())
}

/// `Xᵀ(p − y)` and `Σ(p − y)`: the gradient of `Σ logloss` in `w` and in the intercept.
fn loss_gradient(fit: &Fit<Bernoulli>, x: &DMatrix<f64>, y: &DVector<f64>) -> (DVector<f64>, f64) {
    let eta = (x * fit.coefficients()).add_scalar(fit.intercept());
    let r = eta.map(sigmoid) - y;
    (x.tr_mul(&r), r.sum())
}

fn logloss_sum(fit: &Fit<Bernoulli>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
    let eta = (x * fit.coefficients()).add_scalar(fit.intercept());
    eta.iter()
        .zip(y.iter())
        .map(|(&e, &t)| (1.0 + e.exp()).ln() - t * e)
        .sum()
}

fn accuracy(fit: &Fit<Bernoulli>, x: &DMatrix<f64>, y: &DVector<f64>) -> Res<f64> {
    let c = fit.predict_class(x)?;
    Ok(c.iter().zip(y.iter()).filter(|(a, b)| a == b).count() as f64 / y.len() as f64)
}

fn zeros(fit: &Fit<Bernoulli>) -> usize {
    fit.coefficients().iter().filter(|&&w| w == 0.0).count()
}

fn main() -> Res<()> {
    let (x, y) = simulate(200, 11)?;
    let (xt, yt) = simulate(5000, 12)?;
    let n = x.nrows() as f64;
    println!(
        "Simulated logistic data: {} training rows ({} positives), {} test rows, {} features.",
        x.nrows(),
        y.sum(),
        xt.nrows(),
        x.ncols()
    );
    println!(
        "True coefficients {:?}, intercept {INTERCEPT}.\n",
        true_w().as_slice()
    );

    // ---- One C in detail.
    let c: f64 = 0.1;
    let l2 = Map::new(Bernoulli, Gaussian::new(c.sqrt())?).fit(&x, &y)?;
    let l1 = Map::new(Bernoulli, Laplace::new(c)?).fit(&x, &y)?;
    println!("== scikit-learn C = {c}: Gaussian prior τ² = C, Laplace prior b = C\n");
    let lambda_sum = Gaussian::new(c.sqrt())?.lambda(Convention::Sum { sigma2: 1.0 })?;
    println!("lambda_sum = {lambda_sum:.6}   (= 1/C)");
    println!("lambda_glmnet = {:.6}   (= 1/(nC))", lambda_sum / n);
    println!(
        "  Laplace prior from glmnet's λ: b = 1/(nλ) = {:.6}\n",
        Laplace::from_lambda(lambda_sum / n, Convention::Mean { n, sigma2: 1.0 })?.scale()
    );
    println!(
        "{:>10} {:>8} {:>14} {:>14}",
        "", "truth", "Gaussian (L2)", "Laplace (L1)"
    );
    println!(
        "{:>10} {:>8.3} {:>14.6} {:>14.6}",
        "intercept",
        INTERCEPT,
        l2.intercept(),
        l1.intercept()
    );
    for j in 0..x.ncols() {
        let cell = |v: f64| {
            if v == 0.0 {
                format!("{:>14}", "0 (exact)")
            } else {
                format!("{v:>14.6}")
            }
        };
        println!(
            "{:>10} {:>8.3} {} {}",
            format!("w{}", j + 1),
            true_w()[j],
            cell(l2.coefficients()[j]),
            cell(l1.coefficients()[j])
        );
    }
    println!(
        "  solvers: L2 {} ({}); L1 {} ({})\n",
        l2.method().name(),
        l2.convergence(),
        l1.method().name(),
        l1.convergence()
    );
    println!("exact_zeros_gaussian = {}", zeros(&l2));
    println!("exact_zeros_laplace = {}", zeros(&l1));

    // scikit-learn's objectives at mapfit's MAP.
    let (g, g0) = loss_gradient(&l2, &x, &y);
    let grad = (g * c + l2.coefficients()).amax().max((c * g0).abs());
    println!(
        "max_abs_grad sklearn_l2_objective = {grad:.3e}   (∇ of C·Σlogloss + ½‖w‖² at the MAP)"
    );
    let sk_l2 = c * logloss_sum(&l2, &x, &y) + 0.5 * l2.coefficients().norm_squared();
    println!(
        "  sklearn L2 objective {sk_l2:.9};  C × mapfit's minimized cost (Fit::objective) {:.9}",
        c * l2.objective()
    );
    let (g, g0) = loss_gradient(&l1, &x, &y);
    let mut kkt = (c * g0).abs();
    for (j, &w) in l1.coefficients().iter().enumerate() {
        let v = if w == 0.0 {
            ((c * g[j]).abs() - 1.0).max(0.0) // |C·∂loss| ≤ 1 at a zero
        } else {
            (c * g[j] + w.signum()).abs() // C·∂loss + sign(w) = 0 elsewhere
        };
        kkt = kkt.max(v);
    }
    println!(
        "max_kkt_violation sklearn_l1_objective = {kkt:.3e}   (C·Σlogloss + ‖w‖₁: zeros need |C·xⱼᵀ(p − y)| ≤ 1)\n"
    );

    // Predictions.
    let p2 = l2.predict(&xt)?;
    let p1 = l1.predict(&xt)?;
    let c2 = l2.predict_class(&xt)?;
    let c1 = l1.predict_class(&xt)?;
    println!("First test rows: P(y = 1 | x) and the class (P > ½):");
    println!(
        "{:>4} {:>10} {:>6} {:>10} {:>6} {:>6}",
        "row", "P (L2)", "class", "P (L1)", "class", "y"
    );
    for i in 0..6 {
        println!(
            "{i:>4} {:>10.4} {:>6} {:>10.4} {:>6} {:>6}",
            p2[i], c2[i], p1[i], c1[i], yt[i]
        );
    }
    println!();
    println!("train_accuracy_gaussian = {:.4}", accuracy(&l2, &x, &y)?);
    println!("test_accuracy_gaussian = {:.4}", accuracy(&l2, &xt, &yt)?);
    println!("train_accuracy_laplace = {:.4}", accuracy(&l1, &x, &y)?);
    println!("test_accuracy_laplace = {:.4}", accuracy(&l1, &xt, &yt)?);

    // ---- Across C.
    println!("\n== Across C (λ_sum = 1/C, glmnet λ = 1/(nC))\n");
    println!(
        "{:>8} {:>10} {:>11} {:>10} {:>9} {:>10} {:>9}",
        "C", "λ_sum", "λ_glmnet", "L2 acc", "L2 zeros", "L1 acc", "L1 nnz"
    );
    for c in [0.003, 0.01, 0.03, 0.1, 1.0, 10.0] {
        let l2 = Map::new(Bernoulli, Gaussian::new(f64::sqrt(c))?).fit(&x, &y)?;
        let l1 = Map::new(Bernoulli, Laplace::new(c)?).fit(&x, &y)?;
        println!(
            "{c:>8} {:>10.3} {:>11.5} {:>10.4} {:>9} {:>10.4} {:>9}",
            1.0 / c,
            1.0 / (n * c),
            accuracy(&l2, &xt, &yt)?,
            zeros(&l2),
            accuracy(&l1, &xt, &yt)?,
            l1.nonzeros()
        );
    }
    println!(
        "\nA smaller C is a tighter prior: the Laplace prior zeroes more coefficients exactly, the \
         Gaussian prior only shrinks them."
    );
    Ok(())
}
