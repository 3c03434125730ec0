//! Limits on the metrics of a [`Validation`] (exploitability, sup_t L1 density error and
//! control error against the PDE): the verdict behind the exit code of `mfg validate`.

use super::Validation;
use crate::error::{Error, Result};
/// Limits a validation must meet; `None` checks nothing.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Thresholds {
    /// On Σ_k exploitability.
    pub max_exploitability: Option<f64>,
    /// On every population's sup_t ‖μ^π_t − m*_t h^d‖_1 (against the PDE).
    pub max_density_error: Option<f64>,
    /// On every population's mean-velocity error against α* (against the PDE).
    pub max_control_error: Option<f64>,
}

/// One checked limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// `max_exploitability`, `max_density_error` or `max_control_error`.
    pub name: &'static str,
    /// The population checked (`None`: the total).
    pub population: Option<String>,
    /// The measured value.
    pub value: f64,
    /// The limit.
    pub limit: f64,
    /// Whether the value is finite and at most the limit.
    pub passed: bool,
}

impl Thresholds {
    /// Checks every limit given; a non-finite value fails.
    pub fn check(&self, v: &Validation) -> Vec<Check> {
        let mut out = Vec::new();
        let mut push = |name, population: Option<&String>, value: f64, limit: f64| {
            out.push(Check {
                name,
                population: population.cloned(),
                value,
                limit,
                passed: value.is_finite() && value <= limit,
            })
        };
        if let Some(l) = self.max_exploitability {
            push("max_exploitability", None, v.exploitability, l);
        }
        for (k, m) in v.metrics.against_reference.iter().enumerate() {
            if let Some(l) = self.max_density_error {
                push("max_density_error", Some(&v.names[k]), m.density_l1, l);
            }
            if let Some(l) = self.max_control_error {
                let c = m.control_error.unwrap_or(f64::NAN);
                push("max_control_error", Some(&v.names[k]), c, l);
            }
        }
        out
    }

    /// Checks that every limit is a non-negative number (`field` prefixes the names).
    pub fn validate(&self, field: &str) -> Result<()> {
        for (name, v) in [
            ("max_exploitability", self.max_exploitability),
            ("max_density_error", self.max_density_error),
            ("max_control_error", self.max_control_error),
        ] {
            if let Some(v) = v {
                if !(v.is_finite() && v >= 0.0) {
                    return Err(Error::invalid(
                        format!("{field}{name}"),
                        format!("{v}: a limit must be a finite number ≥ 0"),
                    ));
                }
            }
        }
        Ok(())
    }
}
