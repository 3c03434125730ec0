//! The HDF5 result file of a solve (layout: `docs/hdf5-layout.md`): the discrete solution
//! (u^k, m^k on every time level t_n and node x_i), the controls α^k = -∂p H^k, the grids and
//! the iteration history, laid out as netCDF-4 (dimension scales `t`, `y`, `x`).
//!
//! [`write()`] stores a finished [`Solution`] or a checkpoint of a running solve, atomically and
//! under the output lock (`crate::files`), and checks the new file against the schema before
//! it replaces the old one; [`read`] gives back the same [`Solution`], bit for bit;
//! [`read_header`] validates a file against the schema without reading its fields; [`verify`]
//! also reads every field, so that damaged data (checksums) are found; [`Saved::rebuild`]
//! recreates the [`Problem`] from the stored configuration.

mod populations;
mod read;
mod scales;
mod schema;
mod stationary;
mod write;

// For the policy files and reports of `mfg validate` (io/policy.rs, io/report.rs).
pub(super) use read::open_hdf5;
pub(super) use schema::Checker;
pub(super) use write::{
    attr_f64, attr_str, attr_u64, dataset_1d, field_shape, replace_hdf5, vlu, Ctx,
};

pub use stationary::{read_stationary, write_stationary, SavedStationary};

use super::{Error, Result};
use crate::config::{Config, Format};
use crate::grid::{Grid, TimeGrid};
use crate::problem::coupling::CouplingTerm;
use crate::problem::{Horizon, Problem};
use crate::solve::{Iterate, Resume, Solution, SolverSettings, StepStats, Termination};
use std::path::{Path, PathBuf};

/// Value of the root attribute `format`.
pub const FORMAT_NAME: &str = "mfg-solution";
/// Value of the root attribute `format_version` written by this version; files of this or an
/// older version can be read.
/// Version 2 added the netCDF-4 dimension scales, the `/coupling` group, the `units`,
/// `long_name` and `description` attributes and the checksums; version 1 files are still read.
pub const FORMAT_VERSION: u32 = 2;

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
    /// [`Solution::events`] (`solver_events`, one per line).
    pub events: &'a [String],
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
            events: &solution.events,
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
            events: &[],
        }
    }
}

/// One population as the file describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedPopulation {
    /// Population name.
    pub name: String,
    /// Its mass: Σ m h^d on every level (1 in version-1 files), the mass that has left
    /// included.
    pub mass: f64,
    /// Its exit nodes, when the problem has exits.
    pub exit: Option<Vec<bool>>,
    /// Its state space: false at removed nodes (obstacles, outside its region); `None` in
    /// version-1 files, where every node belongs to every population.
    pub live: Option<Vec<bool>>,
    /// Volatility σ (ν = σ²/2).
    pub sigma: f64,
    /// Discount rate ρ_k (0 in files written before discounting existed).
    pub discount: f64,
    /// Human-readable Hamiltonian, e.g. `quadratic(cost=1)`.
    pub hamiltonian: String,
    /// Hamiltonian kind, e.g. `quadratic`.
    pub hamiltonian_kind: String,
    /// Hamiltonian parameters by name.
    pub parameters: Vec<(String, f64)>,
    /// The ergodic constant λ^k of a stationary result (0 for a discounted population);
    /// `None` on a finite horizon.
    pub lambda: Option<f64>,
}

/// The coupling as stored in `/coupling` (format version 2 and later).
#[derive(Debug, Clone, PartialEq)]
pub enum SavedCoupling {
    /// A version-1 file: only the `coupling` description string was stored.
    NotStored,
    /// The coupling did not report its parameters (a coupling defined in code outside the
    /// library): only its description is stored.
    Opaque,
    /// Its terms with their parameters, in the order of the sum.
    Terms(Vec<CouplingTerm>),
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
    /// The solver's events, e.g. a switch of method and its reason (`solver_events`).
    pub events: Vec<String>,
    /// The configuration text the run was built from (absent for problems built in code).
    pub config_text: Option<String>,
    /// TOML or YAML, for `config_text`.
    pub config_format: Option<Format>,
    /// Where the configuration was read from, as given on the command line.
    pub config_path: Option<String>,
    /// [`Problem::describe`] of the solved problem.
    pub problem: String,
    /// The coupling's description, e.g. `linear(A=[[0.05, 0.5], [0.5, 0.05]])`.
    pub coupling: String,
    /// The coupling's parameters as numbers.
    pub coupling_terms: SavedCoupling,
    /// The spatial grid.
    pub grid: Grid,
    /// The time grid; `None` for a stationary result, whose fields have no time axis.
    pub time: Option<TimeGrid>,
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
        let time = (problem.horizon() == Horizon::Finite).then(|| *problem.time());
        if problem.grid().axes() != self.grid.axes() || time != self.time {
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

/// Writes `run` of `problem` to `path`, atomically: a temporary file beside it, checked against
/// the schema, flushed to disk, then renamed over `path` (and the directory flushed). On any
/// error `path` keeps its previous content and no temporary file is left. The output lock of
/// `path` is held during the write (shared with a lock this process already holds, see
/// [`crate::files::OutputLock`]); another process writing `path` makes this fail with
/// [`crate::files::Error::Locked`]. `config` supplies the configuration text stored for provenance and
/// rebuilding.
pub fn write(
    path: impl AsRef<Path>,
    problem: &Problem,
    run: &Run<'_>,
    config: Option<&Config>,
    options: &WriteOptions,
) -> Result<()> {
    let path = path.as_ref();
    run.iterate.check_shape(problem)?;
    replace_hdf5(path, |tmp| {
        write::write_file(tmp, problem, run, config, options)
            .and_then(|()| read::read_header_of(tmp).map(drop))
    })
}

/// Reads everything but the per-population fields, after checking the whole file against the
/// schema (every promised group, dataset and attribute present with its type and shape). Cheap
/// even for large runs; damaged field data are found by [`read`] or [`verify`].
pub fn read_header(path: impl AsRef<Path>) -> Result<Header> {
    read::read_header_of(path.as_ref())
}

/// Reads a result file back: the same [`Solution`] that was written, bit for bit.
pub fn read(path: impl AsRef<Path>) -> Result<Saved> {
    read::read_saved(path.as_ref())
}

/// Checks a whole file: the schema as [`read_header`] does, then every field dataset read one
/// time level at a time (memory stays that of one level), so that data failing their checksum
/// or decompression are reported. Returns the header.
pub fn verify(path: impl AsRef<Path>) -> Result<Header> {
    read::verify(path.as_ref())
}
