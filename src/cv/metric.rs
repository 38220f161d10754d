//! The held-out error of a cross-validation fold, per metric.

use crate::error::{Error, Result};
use crate::likelihood::Likelihood;

/// The error measured on each held-out fold (glmnet's `type.measure`).
///
/// Every metric but [`Metric::Auc`] is a weighted mean over the fold's observations of a
/// per-observation loss, with `η = offset + xᵀw + b` the linear predictor and `μ = g⁻¹(η)`
/// the predicted mean; the offset of a held-out observation is the one given to the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Metric {
    /// The likelihood's deviance, `2·[ℓ(y, η) − ℓ(y, η̂_sat)]` with `ℓ = −ln p(y | η)`
    /// (glmnet's default `"deviance"`). For the Gaussian likelihood it is the squared error
    /// `(y − η)²` whatever σ² (glmnet's Gaussian deviance); for the Bernoulli likelihood
    /// `−2·[y ln μ + (1−y) ln(1−μ)]`, for the Poisson `2·[y ln(y/μ) − (y − μ)]`. Unlike
    /// `cv.glmnet`, mapfit does not clamp binomial probabilities to `[10⁻⁵, 1 − 10⁻⁵]`, so
    /// the two differ where a held-out probability is beyond that range. The default.
    #[default]
    Deviance,
    /// Mean squared error `(y − μ)²` on the response scale (glmnet's `"mse"`; for the
    /// binomial family glmnet reports twice this, summing over both classes).
    MeanSquaredError,
    /// Mean absolute error `|y − μ|` (glmnet's `"mae"`).
    MeanAbsoluteError,
    /// Misclassification rate of the class `1{η > 0}` (`μ > ½`), Bernoulli likelihood only
    /// (glmnet's `"class"`).
    MisclassificationRate,
    /// Area under the ROC curve of the fold (weighted Mann–Whitney statistic; ties count
    /// ½), Bernoulli likelihood only (glmnet's `"auc"`). Higher is better: `lambda_min`
    /// maximizes it and `lambda_1se` is the largest λ within one standard error *below* the
    /// maximum. Every fold needs both classes.
    Auc,
}

impl Metric {
    /// A readable name.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Deviance => "deviance",
            Metric::MeanSquaredError => "mean squared error",
            Metric::MeanAbsoluteError => "mean absolute error",
            Metric::MisclassificationRate => "misclassification rate",
            Metric::Auc => "AUC",
        }
    }

    /// Whether larger values are better (only [`Metric::Auc`]).
    pub fn higher_is_better(self) -> bool {
        matches!(self, Metric::Auc)
    }

    /// Checks that the metric applies to the likelihood.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a classification metric with a likelihood other than the
    /// Bernoulli.
    pub(crate) fn check<L: Likelihood>(self, likelihood: &L) -> Result<()> {
        if matches!(self, Metric::MisclassificationRate | Metric::Auc)
            && likelihood.name() != "Bernoulli"
        {
            return Err(Error::Unsupported {
                what: format!(
                    "the {} needs the Bernoulli likelihood, not {}",
                    self.name(),
                    likelihood.name()
                ),
            });
        }
        Ok(())
    }

    /// The fold's value from its responses `y`, weights `w` (summing to `w_sum > 0`) and
    /// linear predictors `eta` (offset included).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for the AUC of a fold with one class only.
    pub(crate) fn fold_value<L: Likelihood>(
        self,
        likelihood: &L,
        y: &[f64],
        w: &[f64],
        w_sum: f64,
        eta: &[f64],
    ) -> Result<f64> {
        let gaussian = likelihood.gaussian_noise_variance().is_some();
        let mean = |e: f64| if gaussian { e } else { likelihood.mean(e) };
        let weighted = |loss: &dyn Fn(f64, f64) -> f64| -> f64 {
            y.iter()
                .zip(w)
                .zip(eta)
                .map(|((&yi, &wi), &ei)| if wi > 0.0 { wi * loss(yi, ei) } else { 0.0 })
                .sum::<f64>()
                / w_sum
        };
        Ok(match self {
            Metric::Deviance if gaussian => weighted(&|yi, ei| (yi - ei) * (yi - ei)),
            Metric::Deviance => weighted(&|yi, ei| likelihood.deviance(yi, ei)),
            Metric::MeanSquaredError => weighted(&|yi, ei| {
                let r = yi - mean(ei);
                r * r
            }),
            Metric::MeanAbsoluteError => weighted(&|yi, ei| (yi - mean(ei)).abs()),
            Metric::MisclassificationRate => {
                weighted(&|yi, ei| if (ei > 0.0) == (yi > 0.5) { 0.0 } else { 1.0 })
            }
            Metric::Auc => auc(y, w, eta)?,
        })
    }
}

/// Weighted area under the ROC curve of scores `s` for classes `y ∈ {0, 1}`:
/// `Σ_{i: yᵢ=1} Σ_{j: yⱼ=0} wᵢwⱼ·(1{sᵢ > sⱼ} + ½·1{sᵢ = sⱼ}) / (W₁·W₀)`, computed in
/// `O(n log n)` by sorting the scores and counting tied groups together.
///
/// # Errors
/// [`Error::InvalidParameter`] when one class has no (positive) weight.
pub(crate) fn auc(y: &[f64], w: &[f64], s: &[f64]) -> Result<f64> {
    let mut idx: Vec<usize> = (0..y.len()).filter(|&i| w[i] > 0.0).collect();
    idx.sort_by(|&a, &b| s[a].total_cmp(&s[b]));
    let (mut below_neg, mut num, mut pos, mut neg) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    let mut start = 0;
    while start < idx.len() {
        let mut end = start;
        let (mut gp, mut gn) = (0.0, 0.0);
        while end < idx.len() && s[idx[end]] == s[idx[start]] {
            let i = idx[end];
            if y[i] > 0.5 {
                gp += w[i];
            } else {
                gn += w[i];
            }
            end += 1;
        }
        num += gp * below_neg + 0.5 * gp * gn;
        below_neg += gn;
        pos += gp;
        neg += gn;
        start = end;
    }
    if !(pos > 0.0 && neg > 0.0) {
        return Err(Error::InvalidParameter {
            name: "held-out fold classes",
            value: if pos > 0.0 { 1.0 } else { 0.0 },
            reason: "the AUC needs both classes in every fold (this fold has one class only): \
                     use fewer folds or fold ids that stratify the classes",
        });
    }
    Ok(num / (pos * neg))
}
