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
    Invalid {
        /// Dotted path of the offending field.
        field: String,
        /// Why the value is rejected, with the value itself.
        reason: String,
    },

    /// A configuration file could not be parsed (syntax, unknown key, wrong type).
    #[error("cannot parse {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },

    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// A non-finite number appeared where the scheme guarantees finite values.
    #[error("non-finite value in {what} (population {population}, time step {step})")]
    NonFinite {
        /// The quantity, e.g. `"u"` or `"Hamiltonian"`.
        what: &'static str,
        /// Index k of the population.
        population: usize,
        /// Time step n.
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
        /// Index k of the population.
        population: usize,
        /// Time step n.
        step: usize,
        /// Newton iterations done.
        iterations: usize,
        /// Δt‖R‖∞ at the last iterate (units of u).
        residual: f64,
        /// The stopping threshold it had to reach ([`crate::scheme::HjbStep::threshold`]).
        threshold: f64,
    },

    /// A factorisation or linear solve failed: a zero or non-finite pivot (the scheme's
    /// M-matrix structure was broken, usually by a non-finite input) or a non-finite result.
    /// A Krylov method that merely stops short of its tolerance is not an error: its `Info`
    /// says so, and the caller decides (the step solver falls back to the LU).
    #[error(
        "linear solver {solver} failed{}: {detail}{}",
        level_note(*population, *step),
        residual_note(*residual)
    )]
    LinearSolve {
        /// The method, e.g. `"sparse LU"`, `"MILU"`, `"GMRES"`.
        solver: &'static str,
        /// Population k of the system, where the caller knows it.
        population: Option<usize>,
        /// Time step n of the system, where the caller knows it.
        step: Option<usize>,
        /// Residual ‖b - A x‖₂ reached (NaN when the failure came before any residual).
        residual: f64,
        /// What went wrong, e.g. the pivot's row.
        detail: String,
    },
}

fn level_note(population: Option<usize>, step: Option<usize>) -> String {
    match (population, step) {
        (Some(k), Some(n)) => format!(" (population {k}, time step {n})"),
        (Some(k), None) => format!(" (population {k})"),
        (None, Some(n)) => format!(" (time step {n})"),
        (None, None) => String::new(),
    }
}

fn residual_note(residual: f64) -> String {
    if residual.is_nan() {
        String::new()
    } else {
        format!(" (residual {residual:.3e})")
    }
}

impl Error {
    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// An [`Error::LinearSolve`] of `solver` with no residual and no level attached yet.
    pub fn linear_solve(solver: &'static str, detail: impl Into<String>) -> Self {
        Error::LinearSolve {
            solver,
            population: None,
            step: None,
            residual: f64::NAN,
            detail: detail.into(),
        }
    }

    /// Attaches the population and time step of the failed system to an
    /// [`Error::LinearSolve`] (other errors pass unchanged).
    pub fn at_level(self, k: usize, n: usize) -> Self {
        match self {
            Error::LinearSolve {
                solver,
                residual,
                detail,
                ..
            } => Error::LinearSolve {
                solver,
                population: Some(k),
                step: Some(n),
                residual,
                detail,
            },
            other => other,
        }
    }
}

/// Result alias used across the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_solve_errors_name_solver_level_and_residual() {
        let e = Error::linear_solve("MILU", "non-positive pivot");
        assert_eq!(
            e.to_string(),
            "linear solver MILU failed: non-positive pivot"
        );
        let e = e.at_level(1, 7).to_string();
        assert_eq!(
            e,
            "linear solver MILU failed (population 1, time step 7): non-positive pivot"
        );
        let e = Error::LinearSolve {
            solver: "GMRES",
            population: None,
            step: None,
            residual: 2.5e-3,
            detail: "non-finite Newton step".into(),
        };
        assert!(e.to_string().ends_with("(residual 2.500e-3)"), "{e}");
        // Other errors pass through unchanged.
        let e = Error::invalid("grid.x.n", "too small").at_level(0, 0);
        assert!(matches!(e, Error::Invalid { .. }));
    }
}
