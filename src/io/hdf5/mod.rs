//! The HDF5 result file of a solve (layout: `docs/hdf5-layout.md`).
//!
//! [`write`] stores a finished [`Solution`] or a checkpoint of a running solve together with the
//! configuration text, the grids, per-population fields (u, m and the optimal controls) and the
//! whole iteration history; [`read`] gives back the same [`Solution`], bit for bit, and
//! [`Saved::rebuild`] recreates the [`Problem`] from the stored configuration.

mod read;
mod write;

pub use read::{read, read_header};
pub use write::write;
// For the policy files and reports of `mfg validate` (io/policy.rs, io/report.rs).
pub(super) use read::{open_hdf5, Reader};
pub(super) use write::{attr_f64, attr_str, attr_u64, dataset_1d, replace_hdf5, vlu};

use super::{Error, Result};
use crate::config::{Config, Format};
use crate::grid::{Grid, TimeGrid};
use crate::problem::Problem;
use crate::solve::{Iterate, Resume, Solution, SolverSettings, StepStats, Termination};
use ::hdf5 as h5;
use std::path::{Path, PathBuf};

/// Value of the root attribute `format`.
pub const FORMAT_NAME: &str = "mfg-solution";
/// Value of the root attribute `format_version` written by this version; files of this or an
/// older version can be read.
pub const FORMAT_VERSION: u32 = 1;

/// Value of `termination` for a checkpoint written while the solve was still running.
const IN_PROGRESS: &str = "in-progress";
const AXES: [&str; 2] = ["x", "y"];

/// How to write the large per-population datasets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteOptions {
    /// Deflate level 0-9 (with the shuffle filter) for u, m and the controls, when the HDF5
    /// library has the deflate filter; `None` stores them uncompressed. Chunks are one time
    /// level either way.
    pub compression: Option<u8>,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            compression: Some(4),
        }
    }
}

/// Whether the run the file describes had ended when it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    /// The solve ended this way.
    Finished(Termination),
    /// A checkpoint written during the solve (`termination = "in-progress"` in the file).
    InProgress,
}

impl RunState {
    /// The string stored in the `termination` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Finished(t) => t.as_str(),
            RunState::InProgress => IN_PROGRESS,
        }
    }

    fn parse(s: &str) -> Option<Self> {
        if s == IN_PROGRESS {
            Some(RunState::InProgress)
        } else {
            Termination::parse(s).map(RunState::Finished)
        }
    }
}

/// What to write: a finished solution or the state of a running solve.
#[derive(Debug, Clone, Copy)]
pub struct Run<'a> {
    /// The (u, m) of every population.
    pub iterate: &'a Iterate,
    /// One entry per outer iteration.
    pub history: &'a [StepStats],
    /// Name of the method that produced it.
    pub method: &'a str,
    /// Finished (with its termination) or in progress.
    pub state: RunState,
    /// What ended the run, when the termination alone does not say.
    pub detail: Option<&'a str>,
}

impl<'a> Run<'a> {
    /// A finished solve.
    pub fn finished(solution: &'a Solution) -> Self {
        Run {
            iterate: &solution.iterate,
            history: &solution.history,
            method: &solution.method,
            state: RunState::Finished(solution.termination),
            detail: solution.detail.as_deref(),
        }
    }

    /// A checkpoint of a running solve.
    pub fn checkpoint(iterate: &'a Iterate, history: &'a [StepStats], method: &'a str) -> Self {
        Run {
            iterate,
            history,
            method,
            state: RunState::InProgress,
            detail: None,
        }
    }
}

/// One population as the file describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedPopulation {
    /// Population name.
    pub name: String,
    /// Volatility σ (ν = σ²/2).
    pub sigma: f64,
    /// Human-readable Hamiltonian, e.g. `quadratic(cost=1)`.
    pub hamiltonian: String,
    /// Hamiltonian kind, e.g. `quadratic`.
    pub hamiltonian_kind: String,
    /// Hamiltonian parameters by name.
    pub parameters: Vec<(String, f64)>,
}

/// Everything in a file except the large per-population fields.
#[derive(Debug, Clone)]
pub struct Header {
    /// The file read.
    pub path: PathBuf,
    /// Layout version of the file (`format_version`).
    pub format_version: u32,
    /// `mfg` version that wrote the file.
    pub mfg_version: String,
    /// Creation time, RFC 3339 UTC.
    pub created: String,
    /// The configuration's title.
    pub title: Option<String>,
    /// What ended the run, when the termination alone does not say (`termination_detail`).
    pub detail: Option<String>,
    /// The configuration text the run was built from (absent for problems built in code).
    pub config_text: Option<String>,
    /// TOML or YAML, for `config_text`.
    pub config_format: Option<Format>,
    /// Where the configuration was read from, as given on the command line.
    pub config_path: Option<String>,
    /// [`Problem::describe`] of the solved problem.
    pub problem: String,
    /// Human-readable coupling.
    pub coupling: String,
    /// The spatial grid.
    pub grid: Grid,
    /// The time grid.
    pub time: TimeGrid,
    /// The populations, in order.
    pub populations: Vec<SavedPopulation>,
    /// Name of the method that produced the file.
    pub method: String,
    /// Finished (with its termination) or in progress.
    pub state: RunState,
    /// One entry per outer iteration.
    pub history: Vec<StepStats>,
    /// Seconds of the solve.
    pub wall_time: f64,
    /// Filters of the field datasets, e.g. `shuffle+deflate(4)` or `none`.
    pub compression: String,
}

impl Header {
    /// Population names in order.
    pub fn names(&self) -> Vec<String> {
        self.populations.iter().map(|p| p.name.clone()).collect()
    }

    /// The stored configuration, parsed.
    pub fn config(&self) -> Result<Config> {
        let text = self.config_text.as_deref().ok_or_else(|| Error::Damaged {
            path: self.path.clone(),
            what: "no configuration stored (the problem was built in code)".into(),
        })?;
        let format = self.config_format.unwrap_or(Format::Toml);
        let origin = self.path.join("@config");
        let mut c = Config::parse(text, format, &origin)?;
        c.path = self.config_path.as_ref().map(PathBuf::from);
        Ok(c)
    }

    /// Rebuilds the problem and solver settings from the stored configuration and checks that
    /// the grids match the ones stored.
    pub fn rebuild(&self) -> Result<(Problem, SolverSettings)> {
        let (problem, settings) = self.config()?.build()?;
        if problem.grid().axes() != self.grid.axes() || *problem.time() != self.time {
            return Err(Error::Damaged {
                path: self.path.clone(),
                what: "the stored configuration does not describe the stored grids".into(),
            });
        }
        Ok((problem, settings))
    }
}

/// A file read back: its header and the solution (for a checkpoint, `solution.termination` is
/// [`Termination::Interrupted`] and `header.state` is [`RunState::InProgress`]).
#[derive(Debug, Clone)]
pub struct Saved {
    /// Everything but the fields.
    pub header: Header,
    /// The fields, history and termination.
    pub solution: Solution,
}

impl Saved {
    /// See [`Header::rebuild`].
    pub fn rebuild(&self) -> Result<(Problem, SolverSettings)> {
        self.header.rebuild()
    }

    /// The iterate and history to hand to [`crate::solve::solve_with`] to continue the run.
    pub fn resume_state(&self) -> Resume {
        Resume {
            iterate: self.solution.iterate.clone(),
            history: self.solution.history.clone(),
        }
    }
}

/// Adds `path` and an action to HDF5 errors.
pub(super) trait Ctx<T> {
    fn ctx(self, path: &Path, action: impl FnOnce() -> String) -> Result<T>;
}

impl<T> Ctx<T> for h5::Result<T> {
    fn ctx(self, path: &Path, action: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| Error::Hdf5 {
            path: path.to_path_buf(),
            action: action(),
            source,
        })
    }
}

/// Shape (levels, [Ny,] Nx) of a field: row-major, x fastest, as [`Field`](crate::field::Field) stores it.
pub(super) fn field_shape(grid: &Grid, levels: usize) -> Vec<usize> {
    let mut s = vec![levels];
    s.extend(grid.axes().iter().rev().map(|a| a.n));
    s
}

/// Shape of one time level: ([ny,] nx).
fn level_shape(grid: &Grid) -> Vec<usize> {
    grid.axes().iter().rev().map(|a| a.n).collect()
}

/// Current time as RFC 3339 UTC, e.g. `2025-01-31T12:00:00Z`.
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    rfc3339(secs)
}

fn rfc3339(unix_seconds: u64) -> String {
    let days = (unix_seconds / 86_400) as i64;
    let rem = unix_seconds % 86_400;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }
}
