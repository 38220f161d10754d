//! The front door: [`Map`] builds a MAP fit, picks a solver and returns a [`Fit`].

use crate::convergence::{Convergence, Measure};
use crate::design::Design;
use crate::error::{check_positive, Error, Result};
use crate::likelihood::Likelihood;
use crate::objective::MapProblem;
use crate::prior::{Convention, Flat, Prior};
use crate::solve::coordinate::CoordinateDescent;
use crate::solve::{proximal_newton, smooth, Method};
use argmin::core::{Executor, State};
use nalgebra::{DMatrix, DVector};

/// Builder for a MAP fit: a likelihood, a prior on the coefficients and options.
///
/// ```
/// use mapfit::{likelihood, prior, Map};
/// use nalgebra::{dmatrix, dvector};
/// # fn main() -> mapfit::Result<()> {
/// let x = dmatrix![1.0, 0.5; 2.0, -1.0; 3.0, 0.0; 4.0, 1.5];
/// let y = dvector![1.1, 1.9, 3.2, 3.9];
/// let fit = Map::new(likelihood::Gaussian::default(), prior::Laplace::new(2.0)?).fit(&x, &y)?;
/// assert!(fit.convergence().converged);
/// println!("w = {}, b = {}", fit.coefficients(), fit.intercept());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Map<L, P> {
    likelihood: L,
    prior: P,
    intercept: bool,
    standardize: bool,
    method: Method,
    tolerance: Option<f64>,
    max_iters: u64,
    allow_unconverged: bool,
    weights: Option<DVector<f64>>,
    offset: Option<DVector<f64>>,
}

impl<L: Likelihood, P: Prior> Map<L, P> {
    /// A fit with an intercept, no standardization and the automatic solver choice.
    pub fn new(likelihood: L, prior: P) -> Self {
        Map {
            likelihood,
            prior,
            intercept: true,
            standardize: false,
            method: Method::Auto,
            tolerance: None,
            max_iters: 10_000,
            allow_unconverged: false,
            weights: None,
            offset: None,
        }
    }

    /// Fit an unpenalized (flat-prior) intercept (default `true`).
    pub fn intercept(mut self, yes: bool) -> Self {
        self.intercept = yes;
        self
    }

    /// glmnet's `standardize = TRUE`: fit on columns divided by their (weighted, population)
    /// standard deviation and report coefficients on the original scale. The prior then
    /// applies to the standardized coefficients `w_j·s_j`. Default `false`: the prior applies
    /// to the coefficients as given.
    pub fn standardize(mut self, yes: bool) -> Self {
        self.standardize = yes;
        self
    }

    /// Overrides the solver choice.
    pub fn method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// The solver's tolerance (relative gradient norm for smooth solvers, relative duality
    /// gap for coordinate descent, whose KKT tolerance is set 10× tighter).
    ///
    /// # Errors
    /// Not finite and > 0.
    pub fn tolerance(mut self, tol: f64) -> Result<Self> {
        self.tolerance = Some(check_positive("tolerance", tol)?);
        Ok(self)
    }

    /// Iteration cap (argmin `max_iters`, default 10 000).
    pub fn max_iters(mut self, n: u64) -> Self {
        self.max_iters = n;
        self
    }

    /// Return a fit that did not reach its tolerance (flagged in its [`Convergence`])
    /// instead of [`Error::NotConverged`].
    pub fn allow_unconverged(mut self, yes: bool) -> Self {
        self.allow_unconverged = yes;
        self
    }

    /// Observation weights (validated at `fit`).
    pub fn weights(mut self, weights: DVector<f64>) -> Self {
        self.weights = Some(weights);
        self
    }

    /// An offset added to the linear predictor (validated at `fit`).
    pub fn offset(mut self, offset: DVector<f64>) -> Self {
        self.offset = Some(offset);
        self
    }

    /// `(intercept, standardize, weights, offset)`: the settings `fit` builds its problem from.
    pub(crate) fn problem_settings(
        &self,
    ) -> (bool, bool, Option<&DVector<f64>>, Option<&DVector<f64>>) {
        (
            self.intercept,
            self.standardize,
            self.weights.as_ref(),
            self.offset.as_ref(),
        )
    }

    /// The prior.
    pub fn prior(&self) -> &P {
        &self.prior
    }
    /// The likelihood.
    pub fn likelihood(&self) -> &L {
        &self.likelihood
    }

    /// The solver that `fit` would use for this likelihood and prior.
    pub fn resolved_method(&self, n_params: usize) -> Method {
        if self.method != Method::Auto {
            return self.method;
        }
        let gaussian = self.likelihood.gaussian_noise_variance().is_some();
        let p = n_params;
        match self.prior.elastic(p) {
            Some(el) if gaussian && el.l1.iter().all(|&a| a == 0.0) && p <= 5000 => {
                Method::ClosedForm
            }
            Some(_) if gaussian => Method::CoordinateDescent,
            Some(_) if !self.prior.is_smooth() => Method::ProximalNewton,
            _ if n_params > 1000 => Method::Lbfgs,
            _ => Method::NewtonTrustRegion,
        }
    }

    /// Fits the MAP to `x` (n × p) and `y` (length n).
    ///
    /// # Errors
    /// Invalid data ([`Error::DimensionMismatch`], [`Error::EmptyData`], [`Error::NonFinite`],
    /// [`Error::InvalidWeights`], [`Error::InvalidResponse`]); [`Error::Singular`] when the
    /// flat-prior problem has no unique solution; [`Error::NoMode`] when the posterior has no
    /// mode (separable classes or all-zero counts with unpenalized parameters, see
    /// [`crate::solve::proximal_newton::check_mode_exists`]); [`Error::Unsupported`] for a solver that
    /// cannot handle the prior; [`Error::NotConverged`] with the achieved measure.
    pub fn fit(&self, x: &DMatrix<f64>, y: &DVector<f64>) -> Result<Fit<L>> {
        let mut design = Design::new(x, y)?;
        if let Some(w) = &self.weights {
            design = design.with_weights(w)?;
        }
        if let Some(o) = &self.offset {
            design = design.with_offset(o)?;
        }
        let p = design.p();
        // Before `resolved_method`, which reads per-coefficient settings up to index p.
        self.prior.check_dimension(p)?;
        let scales = if self.standardize {
            Some(design.column_scales(self.intercept))
        } else {
            None
        };
        let method = self.resolved_method(p);
        // With standardization every method works on a scaled copy of X (the prior then
        // applies to the scaled coefficients); results are mapped back below. A column of
        // scale 0 is constant (all zero without an intercept): with an intercept it only
        // repeats the intercept's direction, `b + c·w_j = (b + c·w_j) + 0·w_j`, so it is
        // zeroed in the copy — only the prior then determines w_j (exactly 0 for a prior
        // centred at 0, whatever the solver) — and the intercept is mapped back as `b − c·w_j`.
        let constants: Vec<(usize, f64)> = match &scales {
            Some(s) if self.intercept => {
                let means = design.column_means();
                (0..p)
                    .filter(|&j| s[j] == 0.0)
                    .map(|j| (j, means[j]))
                    .collect()
            }
            _ => Vec::new(),
        };
        let scaled_x = scales.as_ref().map(|s| {
            let mut xs = x.clone();
            for (j, mut c) in xs.column_iter_mut().enumerate() {
                if s[j] > 0.0 {
                    c /= s[j];
                } else {
                    c.fill(0.0);
                }
            }
            xs
        });
        let work_design = match &scaled_x {
            Some(xs) => {
                let mut d = Design::new(xs, y)?;
                if let Some(w) = &self.weights {
                    d = d.with_weights(w)?;
                }
                if let Some(o) = &self.offset {
                    d = d.with_offset(o)?;
                }
                d
            }
            None => design,
        };
        let problem = MapProblem::new(
            work_design,
            self.likelihood.clone(),
            self.prior.clone(),
            self.intercept,
        )?;
        let theta0 = DVector::zeros(problem.n_params());
        // A non-convex prior (local mode from the convex surrogate's MAP), or a non-smooth one
        // without an elastic form (proximal gradient): src/nonconvex.rs.
        let special = crate::nonconvex::solve(&problem, method, self.tolerance, self.max_iters)?;
        let local_mode = special.as_ref().is_some_and(|s| s.2);
        let (theta_work, convergence) = match method {
            _ if special.is_some() => special
                .map(|s| (s.0, s.1))
                .ok_or_else(|| Error::Solver("internal".into()))?,
            Method::Auto => unreachable_auto()?,
            Method::ClosedForm => self.closed_form(&problem)?,
            Method::CoordinateDescent => {
                let mut solver = CoordinateDescent::new();
                if let Some(t) = self.tolerance {
                    solver = solver.with_gap_tolerance(t)?.with_kkt_tolerance(t * 0.1)?;
                }
                let res = Executor::new(problem.clone(), solver)
                    .configure(|s| s.param(theta0).max_iters(self.max_iters))
                    .ctrlc(false)
                    .timer(false)
                    .run()?;
                let iters = res.state.get_iter();
                let conv = res.solver.convergence(iters);
                let theta = res.state.get_param().cloned().ok_or_else(|| {
                    Error::Solver("coordinate descent returned no parameter".into())
                })?;
                (theta, conv)
            }
            Method::NewtonTrustRegion | Method::Lbfgs => {
                let tol = self.tolerance.unwrap_or(smooth::DEFAULT_GRAD_TOL);
                let out = if method == Method::Lbfgs {
                    smooth::lbfgs(&problem, theta0, tol, self.max_iters)?
                } else {
                    smooth::newton_trust_region(&problem, theta0, tol, self.max_iters)?
                };
                (out.theta, out.convergence)
            }
            Method::OwlQn => self.owlqn(&problem)?,
            Method::ProximalNewton => {
                proximal_newton::run(&problem, theta0, self.tolerance, self.max_iters)?
            }
        };
        proximal_newton::check_mode_exists(&problem, &theta_work)?;
        check_unique(&problem, &theta_work)?;
        if !convergence.converged && !self.allow_unconverged {
            return Err(Error::NotConverged {
                solver: method.name(),
                iterations: convergence.iterations,
                measure: convergence.measure,
                achieved: convergence.value,
                tolerance: convergence.tolerance,
            });
        }
        let ln_posterior = problem.ln_posterior(&theta_work);
        let objective = problem.objective(&theta_work);
        let (w_work, mut b) = problem.split(&theta_work);
        let mut coefficients = DVector::from_column_slice(w_work);
        for &(j, c) in &constants {
            b -= c * coefficients[j];
        }
        if let Some(s) = &scales {
            for j in 0..p {
                if s[j] > 0.0 {
                    coefficients[j] /= s[j];
                }
            }
        }
        let n_eff = design.weight_sum();
        let dispersion = self.likelihood.dispersion();
        Ok(Fit {
            coefficients,
            intercept: b,
            has_intercept: self.intercept,
            likelihood: self.likelihood.clone(),
            prior: self.prior.describe(),
            lambda_sum: self
                .prior
                .lambda(Convention::Sum { sigma2: dispersion })
                .ok(),
            lambda_mean: self
                .prior
                .lambda(Convention::Mean {
                    n: n_eff,
                    sigma2: dispersion,
                })
                .ok(),
            ln_posterior,
            objective,
            convergence,
            method,
            standardized: self.standardize,
            local_mode,
        })
    }

    fn closed_form(&self, problem: &MapProblem<'_, L, P>) -> Result<(DVector<f64>, Convergence)> {
        let sigma2 =
            self.likelihood
                .gaussian_noise_variance()
                .ok_or_else(|| Error::Unsupported {
                    what: format!(
                        "the closed form needs the Gaussian likelihood, not {}",
                        self.likelihood.name()
                    ),
                })?;
        let p = problem.design().p();
        let el = self
            .prior
            .elastic(p)
            .filter(|e| e.l1.iter().all(|&a| a == 0.0));
        let el = el.ok_or_else(|| Error::Unsupported {
            what: format!(
                "the closed form needs a Gaussian or flat prior, not {}",
                self.prior.describe()
            ),
        })?;
        let (w, b) =
            crate::closed_form::weighted_ridge(problem.design(), &el.l2, sigma2, self.intercept)?;
        let mut theta = DVector::zeros(problem.n_params());
        theta.rows_mut(0, p).copy_from(&w);
        if self.intercept {
            theta[p] = b;
        }
        let g = problem.cost_gradient(&theta)?;
        let scale = crate::convergence::stable_norm(
            &problem.data_gradient(&DVector::zeros(problem.n_params())),
        )
        .max(f64::MIN_POSITIVE);
        Ok((
            theta,
            Convergence {
                converged: true,
                measure: Measure::ClosedFormResidual,
                value: crate::convergence::stable_norm(&g) / scale,
                tolerance: f64::INFINITY,
                kkt_violation: g.amax(),
                iterations: 1,
            },
        ))
    }

    fn owlqn(&self, problem: &MapProblem<'_, L, P>) -> Result<(DVector<f64>, Convergence)> {
        let p = problem.design().p();
        let el = self.prior.elastic(p);
        let l1 = match el {
            Some(e)
                if !self.intercept
                    && e.l2.iter().all(|&a| a == 0.0)
                    && e.l1.iter().all(|&a| a == e.l1[0] && a > 0.0) =>
            {
                e.l1[0]
            }
            _ => {
                return Err(Error::Unsupported {
                    what: "OWL-QN (argmin) applies one L1 weight to every parameter: it needs a \
                           uniform Laplace prior and no intercept"
                        .into(),
                })
            }
        };
        let data_only = MapProblem::new(*problem.design(), self.likelihood.clone(), Flat, false)?;
        let tol = self.tolerance.unwrap_or(smooth::DEFAULT_GRAD_TOL);
        let (theta, iters) = smooth::owlqn(&data_only, l1, DVector::zeros(p), tol, self.max_iters)?;
        let kkt = problem.kkt_violation(&theta);
        let scale = problem
            .data_gradient(&DVector::zeros(p))
            .amax()
            .max(f64::MIN_POSITIVE);
        let rel = kkt / scale;
        Ok((
            theta,
            Convergence {
                converged: rel <= tol.sqrt(),
                measure: Measure::RelativeKkt,
                value: rel,
                tolerance: tol.sqrt(),
                kkt_violation: kkt,
                iterations: iters,
            },
        ))
    }
}

/// Largest number of unpenalized parameters [`check_unique`] factorizes (beyond it the check
/// is skipped: the closed form and the solvers' own failures remain).
const UNIQUENESS_CHECK_MAX: usize = 2000;

/// The MAP is unique along the parameters the prior leaves unpenalized (the flat prior,
/// penalty factor 0, the intercept) only if the data term curves in every direction of
/// them: the Hessian of the negative log-likelihood restricted to them, `X_Uᵀ D X_U` with
/// `D = diag(vᵢ ℓ″(ηᵢ)) > 0`, must be positive definite, i.e. `X_U` (with the column of
/// ones) of full column rank on the rows of positive weight. Otherwise a whole line of
/// parameters is optimal and any solver's answer is one arbitrary point of it: the flat
/// prior on a rank-deficient design is [`Error::Singular`] (the closed form's error) for every
/// solver. Priors without an elastic form are not checked.
fn check_unique<L: Likelihood, P: Prior>(
    problem: &MapProblem<'_, L, P>,
    theta: &DVector<f64>,
) -> Result<()> {
    let p = problem.design().p();
    let Some(el) = problem.prior().elastic(p) else {
        return Ok(());
    };
    let mut free: Vec<usize> = (0..p)
        .filter(|&j| el.l1[j] == 0.0 && el.l2[j] == 0.0)
        .collect();
    if free.is_empty() || free.len() >= UNIQUENESS_CHECK_MAX {
        return Ok(());
    }
    if problem.has_intercept() {
        free.push(p);
    }
    let h = problem.cost_hessian(theta)?;
    let k = free.len();
    let block = DMatrix::from_fn(k, k, |a, b| h[(free[a], free[b])]);
    crate::closed_form::checked_cholesky(
        block,
        "the Hessian of the likelihood in the unpenalized coefficients (collinear columns, \
         or more unpenalized coefficients than observations)",
    )
    .map(|_| ())
}

fn unreachable_auto() -> Result<(DVector<f64>, Convergence)> {
    Err(Error::Solver(
        "internal: the automatic method was not resolved".into(),
    ))
}

/// A fitted MAP estimate.
#[derive(Debug, Clone)]
pub struct Fit<L> {
    coefficients: DVector<f64>,
    intercept: f64,
    has_intercept: bool,
    likelihood: L,
    prior: String,
    lambda_sum: Option<f64>,
    lambda_mean: Option<f64>,
    ln_posterior: f64,
    objective: f64,
    convergence: Convergence,
    method: Method,
    standardized: bool,
    local_mode: bool,
}

impl<L: Likelihood> Fit<L> {
    /// The coefficients `w` on the original scale of `X`.
    pub fn coefficients(&self) -> &DVector<f64> {
        &self.coefficients
    }
    /// The intercept (0 for a fit without one).
    pub fn intercept(&self) -> f64 {
        self.intercept
    }
    /// Whether an intercept was fitted.
    pub fn has_intercept(&self) -> bool {
        self.has_intercept
    }
    /// The likelihood that was fitted.
    pub fn likelihood(&self) -> &L {
        &self.likelihood
    }
    /// Description of the prior (with its scale).
    pub fn prior(&self) -> &str {
        &self.prior
    }
    /// λ in the sum convention `½‖y−Xw‖² + λ·pen₀` (σ² of the likelihood; `None` if the
    /// prior has no single λ in it).
    pub fn lambda_sum(&self) -> Option<f64> {
        self.lambda_sum
    }
    /// λ in glmnet's mean convention, with `n` the sum of the weights.
    pub fn lambda_mean(&self) -> Option<f64> {
        self.lambda_mean
    }
    /// The exact log posterior `ln p(y | X, θ) + ln p(w)` at the fit (for a standardized fit,
    /// with the prior on the standardized coefficients).
    pub fn ln_posterior(&self) -> f64 {
        self.ln_posterior
    }
    /// The minimized cost `−ln p(y | X, θ) + penalty(w)`.
    pub fn objective(&self) -> f64 {
        self.objective
    }
    /// How converged the fit is.
    pub fn convergence(&self) -> &Convergence {
        &self.convergence
    }
    /// The solver that produced the fit.
    pub fn method(&self) -> Method {
        self.method
    }
    /// Whether the fit was standardized.
    pub fn standardized(&self) -> bool {
        self.standardized
    }
    /// Whether the prior is non-convex, so that the fit is a local mode of the posterior
    /// (reached from the MAP under the prior's convex surrogate, see
    /// [`crate::prior::Prior::convex_surrogate`]) and not certified to be the global MAP. For
    /// a non-smooth prior without an elastic form (bridge with `q < 2`, `q ≠ 1`) the solver is
    /// proximal gradient whatever [`Fit::method`] says.
    pub fn local_mode(&self) -> bool {
        self.local_mode
    }
    /// Number of non-zero coefficients.
    pub fn nonzeros(&self) -> usize {
        self.coefficients.iter().filter(|&&a| a != 0.0).count()
    }

    /// The linear predictor `Xw + b` for new rows (add an offset yourself).
    ///
    /// # Errors
    /// Wrong number of columns, or non-finite entries.
    pub fn predict_linear(&self, x: &DMatrix<f64>) -> Result<DVector<f64>> {
        crate::design::linear_predictor(x, &self.coefficients, self.intercept)
    }

    /// The predicted mean `E[y | x]` (the inverse link of the linear predictor).
    ///
    /// # Errors
    /// As [`Fit::predict_linear`].
    pub fn predict(&self, x: &DMatrix<f64>) -> Result<DVector<f64>> {
        Ok(self.predict_linear(x)?.map(|e| self.likelihood.mean(e)))
    }
}
