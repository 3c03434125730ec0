//! The HDF5 result file of a solve (layout: `docs/hdf5-layout.md`).
//!
//! [`write`] stores a finished [`Solution`] or a checkpoint of a running solve together with the
//! configuration text, the grids, per-population fields (u, m and the optimal controls) and the
//! whole iteration history; [`read`] gives back the same [`Solution`], bit for bit, and
//! [`Saved::rebuild`] recreates the [`Problem`] from the stored configuration.

use super::{atomic, Error, Result};
use crate::config::{Config, Format};
use crate::field::Field;
use crate::grid::{Axis, Boundary, Grid, TimeGrid};
use crate::problem::Problem;
use crate::solve::{Iterate, Resume, Solution, SolverSettings, StepStats, Termination};
use ::hdf5 as h5;
use h5::types::VarLenUnicode;
use std::path::{Path, PathBuf};
use std::str::FromStr;

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

/// Writes `run` of `problem` to `path`, atomically (a temporary file beside it, then a rename).
/// `config` supplies the configuration text stored for provenance and rebuilding.
pub fn write(
    path: impl AsRef<Path>,
    problem: &Problem,
    run: &Run<'_>,
    config: Option<&Config>,
    options: &WriteOptions,
) -> Result<()> {
    let path = path.as_ref();
    run.iterate.check_shape(problem)?;
    replace_hdf5(path, |tmp| write_file(tmp, problem, run, config, options))
}

/// Writes an HDF5 file with `write` into a temporary file, then renames it to `path`
/// ([`atomic::replace_with`]); HDF5 errors are reported under the final name.
pub(super) fn replace_hdf5(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    atomic::replace_with(path, |tmp| {
        write(tmp).map_err(|e| match e {
            // Report errors under the final name: the temporary name means nothing to users.
            Error::Hdf5 { action, source, .. } => Error::Hdf5 {
                path: path.to_path_buf(),
                action,
                source,
            },
            e => e,
        })
    })
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

pub(super) fn vlu(path: &Path, s: &str) -> Result<VarLenUnicode> {
    VarLenUnicode::from_str(s).map_err(|e| Error::Damaged {
        path: path.to_path_buf(),
        what: format!("cannot store the string {s:?}: {e}"),
    })
}

pub(super) fn attr_str(path: &Path, loc: &h5::Location, name: &str, value: &str) -> Result<()> {
    let v = vlu(path, value)?;
    loc.new_attr::<VarLenUnicode>()
        .create(name)
        .and_then(|a| a.write_scalar(&v))
        .ctx(path, || format!("writing attribute {name}"))
}

pub(super) fn attr_f64(path: &Path, loc: &h5::Location, name: &str, value: f64) -> Result<()> {
    loc.new_attr::<f64>()
        .create(name)
        .and_then(|a| a.write_scalar(&value))
        .ctx(path, || format!("writing attribute {name}"))
}

pub(super) fn attr_u64(path: &Path, loc: &h5::Location, name: &str, value: u64) -> Result<()> {
    loc.new_attr::<u64>()
        .create(name)
        .and_then(|a| a.write_scalar(&value))
        .ctx(path, || format!("writing attribute {name}"))
}

pub(super) fn dataset_1d<T: h5::H5Type>(
    path: &Path,
    g: &h5::Group,
    name: &str,
    data: &[T],
) -> Result<()> {
    g.new_dataset::<T>()
        .shape([data.len()])
        .create(name)
        .and_then(|d| d.write_raw(data))
        .ctx(path, || format!("writing {}/{name}", g.name()))
}

/// Shape (levels, [Ny,] Nx) of a field: row-major, x fastest, as [`Field`] stores it.
pub(super) fn field_shape(grid: &Grid, levels: usize) -> Vec<usize> {
    let mut s = vec![levels];
    s.extend(grid.axes().iter().rev().map(|a| a.n));
    s
}

fn level_shape(grid: &Grid) -> Vec<usize> {
    grid.axes().iter().rev().map(|a| a.n).collect()
}

fn write_file(
    path: &Path,
    problem: &Problem,
    run: &Run<'_>,
    config: Option<&Config>,
    options: &WriteOptions,
) -> Result<()> {
    let file = h5::File::create(path).ctx(path, || "creating the file".into())?;
    let grid = &problem.grid();
    let levels = problem.time().nt + 1;
    let last = run.history.last();
    let deflate = options
        .compression
        .filter(|_| h5::filters::deflate_available())
        .map(|l| l.min(9));

    // Root attributes: identification, provenance, outcome.
    attr_str(path, &file, "format", FORMAT_NAME)?;
    attr_u64(path, &file, "format_version", FORMAT_VERSION.into())?;
    attr_str(path, &file, "mfg_version", env!("CARGO_PKG_VERSION"))?;
    attr_str(path, &file, "created", &now_rfc3339())?;
    if let Some(c) = config {
        attr_str(path, &file, "config", &c.text)?;
        let fmt = match c.format {
            Format::Toml => "toml",
            Format::Yaml => "yaml",
        };
        attr_str(path, &file, "config_format", fmt)?;
        if let Some(p) = &c.path {
            attr_str(path, &file, "config_path", &p.display().to_string())?;
        }
        if let Some(t) = &c.spec.title {
            attr_str(path, &file, "title", t)?;
        }
    }
    attr_str(path, &file, "problem", &problem.describe())?;
    attr_str(path, &file, "coupling", &problem.coupling().describe())?;
    attr_u64(path, &file, "dimension", grid.dim() as u64)?;
    attr_str(path, &file, "method", run.method)?;
    attr_str(path, &file, "termination", run.state.as_str())?;
    if let Some(detail) = run.detail {
        attr_str(path, &file, "termination_detail", detail)?;
    }
    attr_u64(path, &file, "iterations", run.history.len() as u64)?;
    attr_f64(
        path,
        &file,
        "final_residual",
        last.map_or(f64::NAN, |s| s.residual),
    )?;
    attr_f64(
        path,
        &file,
        "wall_time_seconds",
        last.map_or(0.0, |s| s.seconds),
    )?;
    let compression = match deflate {
        Some(l) => format!("shuffle+deflate({l})"),
        None => "none".to_string(),
    };
    attr_str(path, &file, "compression", &compression)?;
    let names: Vec<VarLenUnicode> = problem
        .populations()
        .iter()
        .map(|p| vlu(path, p.name()))
        .collect::<Result<_>>()?;
    file.new_attr::<VarLenUnicode>()
        .shape([names.len()])
        .create("population_names")
        .and_then(|a| a.write_raw(&names))
        .ctx(path, || "writing attribute population_names".into())?;

    // Grids.
    let g = file
        .create_group("grid")
        .ctx(path, || "creating /grid".into())?;
    attr_u64(path, &g, "dimension", grid.dim() as u64)?;
    for (a, axis) in grid.axes().iter().enumerate() {
        let name = AXES[a];
        dataset_1d(path, &g, name, &axis.nodes())?;
        let d = g
            .dataset(name)
            .ctx(path, || format!("opening /grid/{name}"))?;
        attr_f64(path, &d, "min", axis.min)?;
        attr_f64(path, &d, "max", axis.max)?;
        attr_u64(path, &d, "n", axis.n as u64)?;
        attr_f64(path, &d, "h", axis.h())?;
        attr_str(path, &d, "boundary", axis.boundary.as_str())?;
    }
    let t = file
        .create_group("time")
        .ctx(path, || "creating /time".into())?;
    dataset_1d(path, &t, "t", &problem.time().levels())?;
    let d = t.dataset("t").ctx(path, || "opening /time/t".into())?;
    attr_f64(path, &d, "horizon", problem.time().horizon)?;
    attr_u64(path, &d, "steps", problem.time().nt as u64)?;
    attr_f64(path, &d, "dt", problem.time().dt())?;

    // Populations.
    let pops = file
        .create_group("populations")
        .ctx(path, || "creating /populations".into())?;
    let shape = field_shape(grid, levels);
    let mut chunk = shape.clone();
    chunk[0] = 1;
    // Controls come from the solution: a `Solution` view of the iterate (no copy of history).
    let view = Solution {
        iterate: run.iterate.clone(),
        history: Vec::new(),
        termination: Termination::Interrupted,
        detail: None,
        method: String::new(),
    };
    for (k, p) in problem.populations().iter().enumerate() {
        let pg = pops
            .create_group(p.name())
            .ctx(path, || format!("creating /populations/{}", p.name()))?;
        attr_u64(path, &pg, "index", k as u64)?;
        attr_f64(path, &pg, "sigma", p.sigma())?;
        attr_f64(path, &pg, "nu", p.nu())?;
        attr_str(path, &pg, "hamiltonian", &p.hamiltonian().describe())?;
        attr_str(path, &pg, "hamiltonian_kind", p.hamiltonian().name())?;
        for (name, value) in p.hamiltonian().parameters() {
            attr_f64(path, &pg, &format!("hamiltonian_{name}"), value)?;
        }
        let write_field = |name: &str, data: &[f64]| -> Result<()> {
            let b = pg
                .new_dataset::<f64>()
                .shape(shape.clone())
                .chunk(chunk.clone());
            let b = match deflate {
                Some(l) => b.shuffle().deflate(l),
                None => b,
            };
            b.create(name)
                .and_then(|d| d.write_raw(data))
                .ctx(path, || format!("writing /populations/{}/{name}", p.name()))
        };
        write_field("m", run.iterate.m[k].as_slice())?;
        write_field("u", run.iterate.u[k].as_slice())?;
        for (a, alpha) in view.controls(problem, k).iter().enumerate() {
            write_field(&format!("alpha_{}", AXES[a]), alpha.as_slice())?;
        }
        let lshape = level_shape(grid);
        for (name, data) in [
            ("initial", p.initial()),
            ("potential", p.potential()),
            ("terminal", p.terminal()),
        ] {
            pg.new_dataset::<f64>()
                .shape(lshape.clone())
                .create(name)
                .and_then(|d| d.write_raw(data))
                .ctx(path, || format!("writing /populations/{}/{name}", p.name()))?;
        }
    }

    // History: one entry per outer iteration.
    let h = file
        .create_group("history")
        .ctx(path, || "creating /history".into())?;
    let col = |f: fn(&StepStats) -> f64| -> Vec<f64> { run.history.iter().map(f).collect() };
    let ints = |f: fn(&StepStats) -> usize| -> Vec<u64> {
        run.history.iter().map(|s| f(s) as u64).collect()
    };
    dataset_1d(path, &h, "iteration", &ints(|s| s.iteration))?;
    dataset_1d(path, &h, "delta_u", &col(|s| s.delta_u))?;
    dataset_1d(path, &h, "delta_m", &col(|s| s.delta_m))?;
    dataset_1d(path, &h, "residual", &col(|s| s.residual))?;
    dataset_1d(path, &h, "residual_hjb", &col(|s| s.residual_hjb))?;
    dataset_1d(path, &h, "residual_fp", &col(|s| s.residual_fp))?;
    dataset_1d(path, &h, "seconds", &col(|s| s.seconds))?;
    dataset_1d(path, &h, "inner_iterations", &ints(|s| s.inner_iterations))?;
    dataset_1d(path, &h, "theta", &col(|s| s.theta))?;
    file.close().ctx(path, || "closing the file".into())?;
    Ok(())
}

/// The 8-byte signature every HDF5 file carries at offset 0, 512, 1024, 2048, …
const SIGNATURE: [u8; 8] = [0x89, b'H', b'D', b'F', b'\r', b'\n', 0x1a, b'\n'];

/// Checks that `path` exists and carries the HDF5 signature.
pub(super) fn check_hdf5(path: &Path) -> Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            Error::Missing {
                path: path.to_path_buf(),
            }
        } else {
            Error::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    })?;
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let len = f.metadata().map_err(io)?.len();
    let mut offset = 0u64;
    let mut buf = [0u8; 8];
    while offset + 8 <= len {
        f.seek(SeekFrom::Start(offset)).map_err(io)?;
        f.read_exact(&mut buf).map_err(io)?;
        if buf == SIGNATURE {
            return Ok(());
        }
        offset = if offset == 0 { 512 } else { offset * 2 };
    }
    Err(Error::NotHdf5 {
        path: path.to_path_buf(),
    })
}

/// Opens `path` and checks that it is an mfg result file of a supported version.
fn open(path: &Path) -> Result<(h5::File, u32)> {
    check_hdf5(path)?;
    let file = h5::File::open(path).map_err(|e| Error::Corrupt {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    let not_ours = |reason: String| Error::NotMfg {
        path: path.to_path_buf(),
        reason,
    };
    let format = match file.attr("format") {
        Ok(a) => a
            .read_scalar::<VarLenUnicode>()
            .map(|s| s.as_str().to_string())
            .map_err(|_| not_ours("its `format` attribute is not a string".into()))?,
        Err(_) => return Err(not_ours("it has no `format` attribute".into())),
    };
    if format != FORMAT_NAME {
        return Err(not_ours(format!(
            "its format is {format:?}, not {FORMAT_NAME:?}"
        )));
    }
    let version = file
        .attr("format_version")
        .and_then(|a| a.read_scalar::<u64>())
        .map_err(|_| not_ours("it has no integer `format_version` attribute".into()))?;
    if version == 0 || version > u64::from(FORMAT_VERSION) {
        return Err(Error::UnsupportedVersion {
            path: path.to_path_buf(),
            found: version.min(u64::from(u32::MAX)) as u32,
            supported: FORMAT_VERSION,
        });
    }
    Ok((file, version as u32))
}

/// Reads one part of the file; a missing or ill-typed part is [`Error::Damaged`].
pub(super) struct Reader<'a> {
    pub(super) path: &'a Path,
}

impl Reader<'_> {
    pub(super) fn damaged(&self, what: String) -> Error {
        Error::Damaged {
            path: self.path.to_path_buf(),
            what,
        }
    }

    pub(super) fn attr_str(&self, loc: &h5::Location, name: &str) -> Result<String> {
        self.opt_str(loc, name)?
            .ok_or_else(|| self.damaged(format!("attribute {name} of {} is missing", loc.name())))
    }

    pub(super) fn opt_str(&self, loc: &h5::Location, name: &str) -> Result<Option<String>> {
        if !loc
            .attr_names()
            .unwrap_or_default()
            .iter()
            .any(|n| n == name)
        {
            return Ok(None);
        }
        loc.attr(name)
            .and_then(|a| a.read_scalar::<VarLenUnicode>())
            .map(|s| Some(s.as_str().to_string()))
            .map_err(|e| self.damaged(format!("attribute {name} of {}: {e}", loc.name())))
    }

    pub(super) fn attr_f64(&self, loc: &h5::Location, name: &str) -> Result<f64> {
        loc.attr(name)
            .and_then(|a| a.read_scalar::<f64>())
            .map_err(|e| self.damaged(format!("attribute {name} of {}: {e}", loc.name())))
    }

    pub(super) fn attr_u64(&self, loc: &h5::Location, name: &str) -> Result<u64> {
        loc.attr(name)
            .and_then(|a| a.read_scalar::<u64>())
            .map_err(|e| self.damaged(format!("attribute {name} of {}: {e}", loc.name())))
    }

    pub(super) fn group(&self, parent: &h5::Group, name: &str) -> Result<h5::Group> {
        parent
            .group(name)
            .map_err(|_| self.damaged(format!("group {}/{name} is missing", parent.name())))
    }

    pub(super) fn dataset(&self, g: &h5::Group, name: &str) -> Result<h5::Dataset> {
        g.dataset(name)
            .map_err(|_| self.damaged(format!("dataset {}/{name} is missing", g.name())))
    }

    /// Reads a dataset and checks its shape.
    pub(super) fn data<T: h5::H5Type>(
        &self,
        g: &h5::Group,
        name: &str,
        shape: &[usize],
    ) -> Result<Vec<T>> {
        let d = self.dataset(g, name)?;
        if d.shape() != shape {
            return Err(self.damaged(format!(
                "dataset {}/{name} has shape {:?}, expected {shape:?}",
                g.name(),
                d.shape()
            )));
        }
        d.read_raw::<T>()
            .map_err(|e| self.damaged(format!("dataset {}/{name}: {e}", g.name())))
    }
}

/// Reads everything but the per-population fields (cheap even for large runs).
pub fn read_header(path: impl AsRef<Path>) -> Result<Header> {
    let path = path.as_ref();
    let (file, version) = open(path)?;
    header_of(path, &file, version)
}

fn header_of(path: &Path, file: &h5::File, format_version: u32) -> Result<Header> {
    let r = Reader { path };
    let config_format = match r.opt_str(file, "config_format")?.as_deref() {
        None => None,
        Some("toml") => Some(Format::Toml),
        Some("yaml") => Some(Format::Yaml),
        Some(other) => return Err(r.damaged(format!("unknown config_format {other:?}"))),
    };
    let termination = r.attr_str(file, "termination")?;
    let state = RunState::parse(&termination)
        .ok_or_else(|| r.damaged(format!("unknown termination {termination:?}")))?;

    // Grids.
    let g = r.group(file, "grid")?;
    let dim = r.attr_u64(&g, "dimension")? as usize;
    if !(1..=2).contains(&dim) {
        return Err(r.damaged(format!("/grid has dimension {dim}")));
    }
    let mut axes = Vec::with_capacity(dim);
    for name in &AXES[..dim] {
        let d = r.dataset(&g, name)?;
        let boundary = match r.attr_str(&d, "boundary")?.as_str() {
            "periodic" => Boundary::Periodic,
            "reflecting" => Boundary::Reflecting,
            other => return Err(r.damaged(format!("unknown boundary {other:?} of /grid/{name}"))),
        };
        axes.push(Axis::new(
            r.attr_f64(&d, "min")?,
            r.attr_f64(&d, "max")?,
            r.attr_u64(&d, "n")? as usize,
            boundary,
        ));
    }
    let grid = Grid::new(axes).map_err(|e| r.damaged(format!("/grid: {e}")))?;
    let t = r.group(file, "time")?;
    let td = r.dataset(&t, "t")?;
    let time = TimeGrid::new(
        r.attr_f64(&td, "horizon")?,
        r.attr_u64(&td, "steps")? as usize,
    )
    .map_err(|e| r.damaged(format!("/time: {e}")))?;

    // Populations, in the order of `population_names`.
    let names: Vec<String> = file
        .attr("population_names")
        .and_then(|a| a.read_raw::<VarLenUnicode>())
        .map_err(|e| r.damaged(format!("attribute population_names: {e}")))?
        .iter()
        .map(|s| s.as_str().to_string())
        .collect();
    if names.is_empty() {
        return Err(r.damaged("no populations".into()));
    }
    let pops = r.group(file, "populations")?;
    let mut populations = Vec::with_capacity(names.len());
    for name in &names {
        let pg = r.group(&pops, name)?;
        let mut parameters = Vec::new();
        for a in pg.attr_names().unwrap_or_default() {
            if let Some(p) = a.strip_prefix("hamiltonian_") {
                if p != "kind" {
                    parameters.push((p.to_string(), r.attr_f64(&pg, &a)?));
                }
            }
        }
        populations.push(SavedPopulation {
            name: name.clone(),
            sigma: r.attr_f64(&pg, "sigma")?,
            hamiltonian: r.attr_str(&pg, "hamiltonian")?,
            hamiltonian_kind: r.attr_str(&pg, "hamiltonian_kind")?,
            parameters,
        });
    }

    // History.
    let h = r.group(file, "history")?;
    let n = r.attr_u64(file, "iterations")? as usize;
    let f = |name: &str| r.data::<f64>(&h, name, &[n]);
    let u = |name: &str| r.data::<u64>(&h, name, &[n]);
    let (iteration, inner) = (u("iteration")?, u("inner_iterations")?);
    let (delta_u, delta_m, residual) = (f("delta_u")?, f("delta_m")?, f("residual")?);
    let (residual_hjb, residual_fp) = (f("residual_hjb")?, f("residual_fp")?);
    let (seconds, theta) = (f("seconds")?, f("theta")?);
    let history: Vec<StepStats> = (0..n)
        .map(|i| StepStats {
            iteration: iteration[i] as usize,
            delta_u: delta_u[i],
            delta_m: delta_m[i],
            residual: residual[i],
            residual_hjb: residual_hjb[i],
            residual_fp: residual_fp[i],
            seconds: seconds[i],
            inner_iterations: inner[i] as usize,
            theta: theta[i],
        })
        .collect();

    Ok(Header {
        path: path.to_path_buf(),
        format_version,
        mfg_version: r.attr_str(file, "mfg_version")?,
        created: r.attr_str(file, "created")?,
        title: r.opt_str(file, "title")?,
        detail: r.opt_str(file, "termination_detail")?,
        config_text: r.opt_str(file, "config")?,
        config_format,
        config_path: r.opt_str(file, "config_path")?,
        problem: r.attr_str(file, "problem")?,
        coupling: r.attr_str(file, "coupling")?,
        grid,
        time,
        populations,
        method: r.attr_str(file, "method")?,
        state,
        history,
        wall_time: r.attr_f64(file, "wall_time_seconds")?,
        compression: r.opt_str(file, "compression")?.unwrap_or_default(),
    })
}

/// Reads a result file back: the same [`Solution`] that was written, bit for bit.
pub fn read(path: impl AsRef<Path>) -> Result<Saved> {
    let path = path.as_ref();
    let (file, version) = open(path)?;
    let header = header_of(path, &file, version)?;
    let r = Reader { path };
    let pops = r.group(&file, "populations")?;
    let shape = field_shape(&header.grid, header.time.nt + 1);
    let nodes = header.grid.len();
    let (mut u, mut m) = (Vec::new(), Vec::new());
    for p in &header.populations {
        let pg = r.group(&pops, &p.name)?;
        m.push(Field::from_vec(nodes, r.data::<f64>(&pg, "m", &shape)?));
        u.push(Field::from_vec(nodes, r.data::<f64>(&pg, "u", &shape)?));
    }
    let termination = match header.state {
        RunState::Finished(t) => t,
        RunState::InProgress => Termination::Interrupted,
    };
    let solution = Solution {
        iterate: Iterate { u, m },
        history: header.history.clone(),
        termination,
        detail: header.detail.clone(),
        method: header.method.clone(),
    };
    Ok(Saved { header, solution })
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
