//! The generalized Gaussian (bridge, exponential-power) prior `p(w) ∝ exp(−|w/s|^q)`.

use super::{unsupported_convention, Convention, ElasticPenalty, Prior};
use crate::closed_form::soft_threshold;
use crate::error::{check_positive, Result};
use nalgebra::DMatrix;
use statrs::function::gamma::ln_gamma;

/// Where [`Bridge::add_penalty_hessian`] evaluates the curvature of `|w/s|^q` for `q < 2` at
/// `w = 0` (where it is infinite): `|w| = HESSIAN_FLOOR·s`.
const HESSIAN_FLOOR: f64 = 1e-8;

/// Independent generalized Gaussian ("bridge", exponential-power) prior
/// `w_j ~ GG(0, s, q)`, `q > 0`.
///
/// # Formula
/// ```text
/// p(w_j)      = q / (2·s·Γ(1/q)) · exp(−|w_j/s|^q)
/// ln p(w)     = Σ_j [ ln q − ln 2 − ln s − ln Γ(1/q) − |w_j/s|^q ]
/// penalty(w)  = Σ_j |w_j/s|^q  =  s^{−q}·‖w‖_q^q
/// ∂penalty/∂w = q·s^{−q}·|w|^{q−1}·sign(w)            (0 at w = 0)
/// ∂²penalty   = q(q−1)·s^{−q}·|w|^{q−2}
/// ```
/// # The penalty it gives
/// The MAP is *bridge regression* (Frank & Friedman 1993), `½‖y − Xw‖² + λ‖w‖_q^q` with
/// `λ = σ²/s^q` in the sum convention and `λ = σ²/(n·s^q)` in the mean convention
/// ([`Convention`]). `q = 1` is the [`Laplace`](super::Laplace) prior of scale `b = s` (the
/// lasso) and `q = 2` the [`Gaussian`](super::Gaussian) prior with `τ² = s²/2` (ridge, whose
/// usual convention `(λ/2)‖w‖²` has a ½ that this one does not: ridge's λ is twice the
/// bridge λ at `q = 2`). The penalty is convex for `q ≥ 1` and non-convex for `q < 1`, where
/// it is the closest of the family to best-subset selection (`q → 0` counts non-zeros).
/// For `q ≤ 1` the density has a kink (`q = 1`) or a cusp (`q < 1`) at 0 and the MAP has exact
/// zeros; for `q > 1` it is differentiable and coefficients are not set exactly to zero; for
/// `q > 2` large coefficients cost more than under ridge, so the MAP spreads weight evenly.
///
/// # Proximal operator
/// `prox_j(v, t) = argmin_u (u − v)²/(2t) + |u/s|^q` keeps the sign of `v` and solves, with
/// `c = t·s^{−q}` and `a = |v|`, `min_{u ≥ 0} ½(u − a)² + c·u^q`:
/// * `q = 1`: the soft-threshold `S(v, t/s)`; `q = 2`: `v/(1 + 2t/s²)` (closed forms);
/// * `q > 1`: the unique root of `u − a + c·q·u^{q−1} = 0` in `(0, a)`, by Newton's method
///   safeguarded by bisection (to machine precision);
/// * `q < 1`: the objective is non-convex in `u`; its derivative is convex, so the only local
///   minimizer other than 0 is the larger root of the same equation, which exists when the
///   derivative is negative at the inflection point `u₀ = (c·q(1−q))^{1/(2−q)}`. It is found
///   by Newton from `u = a` (monotone convergence) and returned if its objective is strictly
///   below that of `u = 0`; otherwise the prox is exactly 0 (a hard-threshold-like jump).
///
/// # Non-convexity
/// For `q < 1` the posterior can have several modes: [`crate::Map::fit`] starts from the MAP
/// under the Laplace prior of the same scale (the convex relaxation, [`Prior::convex_surrogate`])
/// and then runs proximal gradient with this prox; the fit is flagged as a local mode
/// ([`crate::Fit::local_mode`]).
///
/// # Smoothness and solvers
/// [`Prior::is_smooth`] is `true` only for `q ≥ 2`. For `1 < q < 2` the penalty is
/// differentiable but its curvature `∝ |w|^{q−2}` is infinite at 0, which stalls Newton-type
/// methods on coefficients near 0 (their quadratic model is wrong there); [`crate::Map::fit`]
/// therefore solves every `q < 2` except `q = 1` (coordinate descent, through the elastic form,
/// as `q = 2`) by proximal gradient with the exact prox, from 0 (the global MAP for `q > 1`)
/// or from the Laplace solution (`q < 1`, a local mode). `add_penalty_hessian` evaluates the
/// curvature at `|w| = 10⁻⁸·s` when `w = 0`, so that it stays finite; for the Laplace
/// approximation ([`crate::posterior`]) coefficients near 0 then have a tiny variance, a
/// symptom of the Gaussian approximation being poor there.
///
/// # Example
/// ```
/// use mapfit::prior::{Bridge, Convention, Prior};
/// # fn main() -> mapfit::Result<()> {
/// let prior = Bridge::new(0.5, 2.0)?; // q = 1/2, s = 2
/// assert!((prior.penalty(&[8.0]) - 2.0).abs() < 1e-15); // (8/2)^0.5
/// assert_eq!(prior.prox(0, 0.3, 1.0), 0.0); // thresholded to an exact zero
/// let conv = Convention::Sum { sigma2: 1.0 };
/// let back = Bridge::from_lambda(0.5, prior.lambda(conv)?, conv)?;
/// assert!((back.scale() - 2.0).abs() < 1e-12);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Bridge {
    q: f64,
    scale: f64,
}

impl Bridge {
    /// `GG(0, scale, q)` on every coefficient.
    ///
    /// # Errors
    /// `q` or `scale` not finite and > 0.
    pub fn new(q: f64, scale: f64) -> Result<Self> {
        Ok(Bridge {
            q: check_positive("bridge exponent q", q)?,
            scale: check_positive("prior scale", scale)?,
        })
    }

    /// The prior whose penalty is `λ‖w‖_q^q` in `convention`: `s = (factor/λ)^{1/q}`, with the
    /// factor σ² (sum) or σ²/n (mean). scikit-learn's Ridge convention `‖y−Xw‖² + α‖w‖²`
    /// applies only to `q = 2`, where `α = 2σ²/s²`.
    ///
    /// # Errors
    /// `q` or `lambda` not > 0, an invalid convention, or the Ridge convention with `q ≠ 2`.
    pub fn from_lambda(q: f64, lambda: f64, convention: Convention) -> Result<Self> {
        let q = check_positive("bridge exponent q", q)?;
        let lambda = check_positive("lambda", lambda)?;
        let factor = match convention {
            Convention::SklearnRidge { .. } if q != 2.0 => {
                return Err(unsupported_convention("bridge (q ≠ 2)"))
            }
            Convention::SklearnRidge { .. } => 2.0 * convention.factor()?,
            _ => convention.factor()?,
        };
        Self::new(q, (factor / lambda).powf(1.0 / q))
    }

    /// The exponent `q`.
    pub fn exponent(&self) -> f64 {
        self.q
    }
    /// The scale `s`.
    pub fn scale(&self) -> f64 {
        self.scale
    }
    /// Whether the penalty is convex (`q ≥ 1`).
    pub fn is_convex(&self) -> bool {
        self.q >= 1.0
    }

    /// `|w/s|^q` for one coefficient.
    #[inline]
    fn pen1(&self, w: f64) -> f64 {
        (w.abs() / self.scale).powf(self.q)
    }

    /// `min_{u ≥ 0} ½(u − a)² + c·u^q` for `a ≥ 0`.
    fn prox_abs(&self, a: f64, c: f64) -> f64 {
        let q = self.q;
        if a == 0.0 || c == 0.0 {
            return a;
        }
        let dh = |u: f64| u - a + c * q * u.powf(q - 1.0);
        let d2h = |u: f64| 1.0 + c * q * (q - 1.0) * u.powf(q - 2.0);
        if q > 1.0 {
            // h' is increasing with h'(0) = −a < 0 < h'(a).
            return safeguarded_newton(dh, d2h, 0.0, a, a);
        }
        // q < 1: h' is convex, decreasing on (0, u₀) and increasing after.
        let u0 = (c * q * (1.0 - q)).powf(1.0 / (2.0 - q));
        if u0 >= a || dh(u0) >= 0.0 {
            return 0.0;
        }
        let u = safeguarded_newton(dh, d2h, u0, a, a);
        let h = |u: f64| 0.5 * (u - a) * (u - a) + c * u.powf(q);
        if h(u) < 0.5 * a * a {
            u
        } else {
            0.0
        }
    }
}

/// A root of the increasing function `f` on `[lo, hi]` (`f(lo) ≤ 0 ≤ f(hi)`), by Newton's
/// method from `start`, falling back to bisection whenever a Newton step leaves the bracket;
/// converged to machine precision (or 200 steps).
pub(crate) fn safeguarded_newton(
    f: impl Fn(f64) -> f64,
    df: impl Fn(f64) -> f64,
    mut lo: f64,
    mut hi: f64,
    start: f64,
) -> f64 {
    let mut u = start.clamp(lo, hi);
    for _ in 0..200 {
        let fu = f(u);
        if fu == 0.0 {
            return u;
        }
        if fu < 0.0 {
            lo = u;
        } else {
            hi = u;
        }
        let d = df(u);
        let mut next = u - fu / d;
        if !(next > lo && next < hi && next.is_finite()) {
            next = 0.5 * (lo + hi);
        }
        if (next - u).abs() <= 4.0 * f64::EPSILON * u.abs().max(f64::MIN_POSITIVE)
            || hi - lo <= 4.0 * f64::EPSILON * hi.abs()
        {
            return next;
        }
        u = next;
    }
    u
}

impl Prior for Bridge {
    fn describe(&self) -> String {
        format!("Bridge(q = {}, s = {:.6})", self.q, self.scale)
    }
    fn check_dimension(&self, _p: usize) -> Result<()> {
        Ok(())
    }
    fn penalty(&self, w: &[f64]) -> f64 {
        w.iter().map(|&a| self.pen1(a)).sum()
    }
    fn ln_normalizer(&self, p: usize) -> f64 {
        p as f64 * (self.q.ln() - std::f64::consts::LN_2 - self.scale.ln() - ln_gamma(1.0 / self.q))
    }
    fn is_smooth(&self) -> bool {
        self.q >= 2.0
    }
    fn penalty_gradient(&self, w: &[f64], out: &mut [f64]) {
        let (q, s) = (self.q, self.scale);
        for (o, &a) in out.iter_mut().zip(w) {
            *o = if a == 0.0 {
                0.0
            } else {
                q / s * (a.abs() / s).powf(q - 1.0) * a.signum()
            };
        }
    }
    fn add_penalty_hessian(&self, w: &[f64], h: &mut DMatrix<f64>) {
        let (q, s) = (self.q, self.scale);
        if q == 1.0 {
            return;
        }
        for (j, &a) in w.iter().enumerate() {
            let r = if q < 2.0 {
                (a.abs() / s).max(HESSIAN_FLOOR)
            } else {
                a.abs() / s
            };
            let c = if q == 2.0 { 1.0 } else { r.powf(q - 2.0) };
            h[(j, j)] += q * (q - 1.0) / (s * s) * c;
        }
    }
    fn elastic(&self, p: usize) -> Option<ElasticPenalty> {
        let s = self.scale;
        if self.q == 1.0 {
            Some(ElasticPenalty {
                l1: vec![1.0 / s; p],
                l2: vec![0.0; p],
            })
        } else if self.q == 2.0 {
            Some(ElasticPenalty {
                l1: vec![0.0; p],
                l2: vec![2.0 / (s * s); p],
            })
        } else {
            None
        }
    }
    fn convex_surrogate(&self, p: usize) -> Option<ElasticPenalty> {
        (self.q < 1.0).then(|| ElasticPenalty {
            l1: vec![1.0 / self.scale; p],
            l2: vec![0.0; p],
        })
    }
    fn prox(&self, _j: usize, v: f64, t: f64) -> f64 {
        let s = self.scale;
        if self.q == 1.0 {
            return soft_threshold(v, t / s);
        }
        if self.q == 2.0 {
            return v / (1.0 + 2.0 * t / (s * s));
        }
        let c = t * s.powf(-self.q);
        v.signum() * self.prox_abs(v.abs(), c)
    }
    fn lambda(&self, convention: Convention) -> Result<f64> {
        let sq = self.scale.powf(self.q);
        match convention {
            Convention::SklearnRidge { .. } if self.q != 2.0 => {
                Err(unsupported_convention("bridge (q ≠ 2)"))
            }
            Convention::SklearnRidge { .. } => Ok(2.0 * convention.factor()? / sq),
            _ => Ok(convention.factor()? / sq),
        }
    }
}
