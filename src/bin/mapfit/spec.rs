//! Parsing of the command line's family, prior and λ specifications.

use mapfit::{Error, Result};

/// The likelihood family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Gaussian,
    Binomial,
    Poisson,
}

impl Family {
    pub fn parse(s: &str) -> Result<Family> {
        match s.to_ascii_lowercase().as_str() {
            "gaussian" | "normal" => Ok(Family::Gaussian),
            "binomial" | "bernoulli" | "logistic" => Ok(Family::Binomial),
            "poisson" => Ok(Family::Poisson),
            other => Err(Error::Unsupported {
                what: format!("family '{other}' (use gaussian, binomial or poisson)"),
            }),
        }
    }
}

/// The prior, as an elastic-net mix (`None` for flat).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PriorSpec {
    pub mix: Option<f64>,
}

impl PriorSpec {
    pub fn parse(s: &str) -> Result<PriorSpec> {
        let s = s.to_ascii_lowercase();
        let mix = match s.as_str() {
            "gaussian" | "ridge" | "normal" | "l2" => Some(0.0),
            "laplace" | "lasso" | "l1" => Some(1.0),
            "flat" | "none" => None,
            other => {
                let m = other
                    .strip_prefix("elastic-net=")
                    .or_else(|| other.strip_prefix("enet="))
                    .ok_or_else(|| Error::Unsupported {
                        what: format!(
                            "prior '{other}' (use gaussian, laplace, elastic-net=M or flat)"
                        ),
                    })?;
                let m: f64 = m.parse().map_err(|_| Error::Unsupported {
                    what: format!("elastic-net mix '{m}' is not a number"),
                })?;
                if !(0.0..=1.0).contains(&m) {
                    return Err(Error::InvalidParameter {
                        name: "elastic-net mix",
                        value: m,
                        reason: "must be in [0, 1]",
                    });
                }
                Some(m)
            }
        };
        Ok(PriorSpec { mix })
    }

    pub fn name(&self) -> String {
        match self.mix {
            None => "flat".into(),
            Some(0.0) => "gaussian".into(),
            Some(1.0) => "laplace".into(),
            Some(m) => format!("elastic-net={m}"),
        }
    }
}

/// How λ is chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LambdaSpec {
    Value(f64),
    CvMin,
    Cv1se,
    Evidence,
}

impl LambdaSpec {
    pub fn parse(s: &str) -> Result<LambdaSpec> {
        match s.to_ascii_lowercase().as_str() {
            "cv" | "cv-min" => Ok(LambdaSpec::CvMin),
            "cv1se" | "cv-1se" => Ok(LambdaSpec::Cv1se),
            "evidence" => Ok(LambdaSpec::Evidence),
            other => {
                let v: f64 = other.parse().map_err(|_| Error::Unsupported {
                    what: format!("--lambda '{other}' (a number, cv, cv1se or evidence)"),
                })?;
                if !(v.is_finite() && v >= 0.0) {
                    return Err(Error::InvalidParameter {
                        name: "lambda",
                        value: v,
                        reason: "must be finite and >= 0",
                    });
                }
                Ok(LambdaSpec::Value(v))
            }
        }
    }
}
