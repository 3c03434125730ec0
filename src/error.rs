//! The one error type of the library.
//!
//! Errors are broken invariants or invalid input: a field that is out of range, a density that
//! does not integrate, a non-finite value, a linear solve that failed. A solve that simply does
//! not converge is *not* an error: it is a [`crate::solve::Termination`] recorded in the
//! [`crate::solve::Solution`], which keeps its history.

use std::path::PathBuf;

/// Every failure the library reports, with the field or place it concerns.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value in the problem or configuration is invalid. `field` is a dotted path such as
    /// `population[1].sigma` or `grid.x.n`.
    #[error("invalid {field}: {reason}")]
    Invalid { field: String, reason: String },

    /// A configuration file could not be parsed (syntax, unknown key, wrong type).
    #[error("cannot parse {path}: {message}")]
    Parse { path: PathBuf, message: String },

    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A non-finite number appeared where the scheme guarantees finite values.
    #[error("non-finite value in {what} (population {population}, time step {step})")]
    NonFinite {
        what: &'static str,
        population: usize,
        step: usize,
    },

    /// The Newton (policy-iteration) loop of one implicit HJB step did not reach its tolerance.
    /// The outer methods turn it into the termination
    /// [`crate::solve::Termination::InnerSolveFailed`], which keeps the iterate and history.
    #[error(
        "HJB Newton iteration did not converge for population {population} at time step {step}: \
         residual Δt‖R‖∞ = {residual:.3e} above its threshold {threshold:.3e} after {iterations} \
         iterations"
    )]
    HjbNewton {
        population: usize,
        step: usize,
        iterations: usize,
        /// Δt‖R‖∞ at the last iterate (units of u).
        residual: f64,
        /// The stopping threshold it had to reach ([`crate::scheme::HjbStep::threshold`]).
        threshold: f64,
    },

    /// A sparse factorisation or solve failed (a singular matrix: the scheme's M-matrix
    /// structure was broken, usually by a non-finite input).
    #[error("linear solver failed: {0}")]
    LinearSolve(String),
}

impl Error {
    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Result alias used across the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;
