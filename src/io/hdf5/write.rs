//! Writing one result file (layout: `docs/hdf5-layout.md`): u^k, m^k (and, for a finished run,
//! α^k) on the (t_n, [y_j,] x_i) grid, the sampled m0^k, V^k, g^k, the coupling's parameters and
//! the history, with netCDF-4 dimension scales and Fletcher-32 checksums on every array.
//!
//! Every HDF5 error is reported: datasets stay open until the whole file has been flushed
//! (closing a dataset writes its cached chunks, and an error there could not be reported), then
//! the file is flushed and closed, and both results are checked.

use super::{scales, Run, RunState, WriteOptions, AXES, FORMAT_NAME, FORMAT_VERSION};
use crate::config::{Config, Format};
use crate::files::{self, OutputLock};
use crate::io::{Error, Result};
use crate::problem::coupling::CouplingTerm;
use crate::problem::Monotonicity;
use crate::problem::{Horizon, Problem};
use crate::solve::StepStats;
use ::hdf5 as h5;
use h5::types::VarLenUnicode;
use std::path::Path;
use std::str::FromStr;

/// Adds `path` and an action to HDF5 errors.
pub(in crate::io) trait Ctx<T> {
    fn ctx(self, path: &Path, action: impl FnOnce() -> String) -> Result<T>;
}

impl<T> Ctx<T> for h5::Result<T> {
    fn ctx(self, path: &Path, action: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| match os_error(&source) {
            // The system's reason (a full disk) says more than HDF5's stack of drivers.
            Some(e) => Error::System {
                path: path.to_path_buf(),
                action: action(),
                source: e,
            },
            None => Error::Hdf5 {
                path: path.to_path_buf(),
                action: action(),
                source,
            },
        })
    }
}

/// The operating-system error behind an HDF5 file-driver error (`errno = N` in its message).
fn os_error(e: &h5::Error) -> Option<std::io::Error> {
    let msg = e.to_string();
    let at = msg.find("errno = ")? + "errno = ".len();
    let digits: String = msg[at..].chars().take_while(char::is_ascii_digit).collect();
    match digits.parse::<i32>() {
        Ok(n) if n > 0 => Some(std::io::Error::from_raw_os_error(n)),
        _ => None,
    }
}

/// Writes an HDF5 file with `write` into a temporary file beside `path`, then moves it to `path`
/// ([`files::replace_with`]: flushed to disk, renamed, directory flushed), holding the output
/// lock of `path` meanwhile (another process writing it makes this fail with
/// [`files::Error::Locked`]). On any error `path` keeps its previous content, no temporary file
/// is left, and the error names `path`, not the temporary name.
pub(in crate::io) fn replace_hdf5<T>(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<T>,
) -> Result<T> {
    let _lock = OutputLock::acquire(path)?;
    files::replace_with(path, |tmp| write(tmp).map_err(|e| e.renamed(tmp, path)))
}

/// `s` as an HDF5 variable-length string (refused: a NUL byte).
pub(in crate::io) fn vlu(path: &Path, s: &str) -> Result<VarLenUnicode> {
    VarLenUnicode::from_str(s).map_err(|e| Error::Damaged {
        path: path.to_path_buf(),
        what: format!("cannot store the string {s:?}: {e}"),
    })
}

/// Writes the scalar string attribute `name` of `loc`.
pub(in crate::io) fn attr_str(
    path: &Path,
    loc: &h5::Location,
    name: &str,
    value: &str,
) -> Result<()> {
    let v = vlu(path, value)?;
    loc.new_attr::<VarLenUnicode>()
        .create(name)
        .and_then(|a| a.write_scalar(&v))
        .ctx(path, || {
            format!("writing attribute {name} of {}", loc.name())
        })
}

/// Writes the scalar float attribute `name` of `loc`.
pub(in crate::io) fn attr_f64(
    path: &Path,
    loc: &h5::Location,
    name: &str,
    value: f64,
) -> Result<()> {
    loc.new_attr::<f64>()
        .create(name)
        .and_then(|a| a.write_scalar(&value))
        .ctx(path, || {
            format!("writing attribute {name} of {}", loc.name())
        })
}

/// Writes the scalar unsigned attribute `name` of `loc`.
pub(in crate::io) fn attr_u64(
    path: &Path,
    loc: &h5::Location,
    name: &str,
    value: u64,
) -> Result<()> {
    loc.new_attr::<u64>()
        .create(name)
        .and_then(|a| a.write_scalar(&value))
        .ctx(path, || {
            format!("writing attribute {name} of {}", loc.name())
        })
}

/// Writes a small 1-D dataset (contiguous, no filters).
pub(in crate::io) fn dataset_1d<T: h5::H5Type>(
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

/// How an array is stored.
#[derive(Clone, Copy)]
pub(super) enum Storage {
    /// Chunked as given, with the optional deflate level (after the shuffle filter).
    Chunked(Option<u8>),
    /// One chunk for the whole array.
    Whole,
    /// Contiguous, without filters: variable-length strings, which HDF5 cannot filter.
    Plain,
}

/// The metadata every array carries for netCDF/CF readers.
pub(super) struct Meta<'a> {
    pub(super) long_name: &'a str,
    pub(super) units: &'a str,
    pub(super) description: &'a str,
}

/// The file being written: its path (for errors) and every dataset opened so far, kept open
/// until the final flush.
pub(super) struct Writer<'a> {
    pub(super) path: &'a Path,
    pub(super) open: Vec<h5::Dataset>,
}

impl Writer<'_> {
    fn vlu(&self, s: &str) -> Result<VarLenUnicode> {
        vlu(self.path, s)
    }

    pub(super) fn attr_str(&self, loc: &h5::Location, name: &str, value: &str) -> Result<()> {
        attr_str(self.path, loc, name, value)
    }

    pub(super) fn attr_f64(&self, loc: &h5::Location, name: &str, value: f64) -> Result<()> {
        attr_f64(self.path, loc, name, value)
    }

    pub(super) fn attr_u64(&self, loc: &h5::Location, name: &str, value: u64) -> Result<()> {
        attr_u64(self.path, loc, name, value)
    }

    pub(super) fn meta(&self, d: &h5::Dataset, meta: &Meta<'_>) -> Result<()> {
        self.attr_str(d, "long_name", meta.long_name)?;
        self.attr_str(d, "units", meta.units)?;
        self.attr_str(d, "description", meta.description)
    }

    pub(super) fn group(&self, parent: &h5::Group, name: &str) -> Result<h5::Group> {
        parent.create_group(name).ctx(self.path, || {
            format!("creating group {name} in {}", parent.name())
        })
    }

    /// An array of `shape`, with checksums; kept open until the end.
    pub(super) fn array<T: h5::H5Type>(
        &mut self,
        g: &h5::Group,
        name: &str,
        shape: &[usize],
        data: &[T],
        storage: Storage,
    ) -> Result<h5::Dataset> {
        let b = g.new_dataset::<T>().shape(shape.to_vec());
        // A chunk cannot be empty: empty arrays (a run of zero iterations) stay contiguous.
        let b = if shape.contains(&0) {
            b
        } else {
            match storage {
                Storage::Plain => b,
                Storage::Whole => b.chunk(shape.to_vec()).fletcher32(),
                Storage::Chunked(deflate) => {
                    let mut chunk = shape.to_vec();
                    chunk[0] = 1;
                    let b = b.chunk(chunk);
                    match deflate {
                        Some(l) => b.shuffle().deflate(l).fletcher32(),
                        None => b.fletcher32(),
                    }
                }
            }
        };
        let d = b
            .create(name)
            .and_then(|d| d.write_raw(data).map(|()| d))
            .ctx(self.path, || format!("writing {}/{name}", g.name()))?;
        self.open.push(d.clone());
        Ok(d)
    }

    /// A 1-D coordinate marked as the dimension scale `name` (netCDF dimension and coordinate).
    pub(super) fn scale<T: h5::H5Type>(
        &mut self,
        g: &h5::Group,
        name: &str,
        data: &[T],
        meta: &Meta<'_>,
        axis: Option<&str>,
    ) -> Result<h5::Dataset> {
        let storage = match T::type_descriptor() {
            h5::types::TypeDescriptor::VarLenUnicode => Storage::Plain,
            _ => Storage::Whole,
        };
        let d = self.array(g, name, &[data.len()], data, storage)?;
        scales::set_scale(self.path, &d, name)?;
        self.meta(&d, meta)?;
        if let Some(a) = axis {
            self.attr_str(&d, "axis", a)?;
        }
        Ok(d)
    }
}

/// Writes the whole file at `path` (a new file; an existing one is truncated).
pub(super) fn write_file(
    path: &Path,
    problem: &Problem,
    run: &Run<'_>,
    config: Option<&Config>,
    options: &WriteOptions,
) -> Result<()> {
    with_new_file(path, |w, file| {
        contents(w, file, problem, run, config, options)
    })
}

/// Creates the file at `path`, lets `contents` fill it, then flushes and closes it, checking
/// both (every dataset stays open until the flush, see the module documentation).
pub(super) fn with_new_file(
    path: &Path,
    contents: impl FnOnce(&mut Writer<'_>, &h5::File) -> Result<()>,
) -> Result<()> {
    let file = crate::io::create_h5(path).ctx(path, || "creating the file".into())?;
    let mut w = Writer {
        path,
        open: Vec::new(),
    };
    contents(&mut w, &file)?;
    file.flush().ctx(path, || "flushing the file".into())?;
    drop(w);
    file.close().ctx(path, || "closing the file".into())
}

/// The deflate level the options ask for, if this HDF5 library has the filter.
pub(super) fn deflate_of(options: &WriteOptions) -> Option<u8> {
    options
        .compression
        .filter(|_| h5::filters::deflate_available())
        .map(|l| l.min(9))
}

fn contents(
    w: &mut Writer<'_>,
    file: &h5::File,
    problem: &Problem,
    run: &Run<'_>,
    config: Option<&Config>,
    options: &WriteOptions,
) -> Result<()> {
    let deflate = deflate_of(options);
    root_attributes(w, file, problem, &Ending::of(run), config, deflate)?;
    grids(w, file, problem)?;
    coupling(
        w,
        file,
        problem,
        &Monotonicity::at_solution(problem, &run.iterate.m),
    )?;
    super::populations::populations(w, file, problem, run, deflate)?;
    history(w, file, run.history)
}

/// How a run ended, as the root attributes and `/history` record it.
pub(super) struct Ending<'a> {
    pub(super) history: &'a [StepStats],
    pub(super) method: &'a str,
    pub(super) state: RunState,
    pub(super) detail: Option<&'a str>,
    pub(super) events: &'a [String],
}

impl<'a> Ending<'a> {
    fn of(run: &Run<'a>) -> Self {
        Ending {
            history: run.history,
            method: run.method,
            state: run.state,
            detail: run.detail,
            events: run.events,
        }
    }
}

/// The root attributes: provenance, the problem, how the run ended, the population names.
pub(super) fn root_attributes(
    w: &Writer<'_>,
    file: &h5::File,
    problem: &Problem,
    end: &Ending<'_>,
    config: Option<&Config>,
    deflate: Option<u8>,
) -> Result<()> {
    let last = end.history.last();
    w.attr_str(file, "format", FORMAT_NAME)?;
    w.attr_u64(file, "format_version", FORMAT_VERSION.into())?;
    w.attr_str(file, "mfg_version", env!("CARGO_PKG_VERSION"))?;
    w.attr_str(file, "created", &crate::files::now_rfc3339())?;
    if let Some(c) = config {
        w.attr_str(file, "config", &c.text)?;
        let fmt = match c.format {
            Format::Toml => "toml",
            Format::Yaml => "yaml",
        };
        w.attr_str(file, "config_format", fmt)?;
        if let Some(p) = &c.path {
            w.attr_str(file, "config_path", &p.display().to_string())?;
        }
        if let Some(t) = &c.spec.title {
            w.attr_str(file, "title", t)?;
        }
    }
    w.attr_str(file, "horizon", problem.horizon().as_str())?;
    w.attr_str(file, "problem", &problem.describe())?;
    w.attr_str(file, "coupling", &problem.coupling().describe())?;
    w.attr_u64(file, "dimension", problem.grid().dim() as u64)?;
    w.attr_str(file, "method", end.method)?;
    w.attr_str(file, "termination", end.state.as_str())?;
    if let Some(detail) = end.detail {
        w.attr_str(file, "termination_detail", detail)?;
    }
    if !end.events.is_empty() {
        w.attr_str(file, "solver_events", &end.events.join("\n"))?;
    }
    w.attr_u64(file, "iterations", end.history.len() as u64)?;
    let residual = last.map_or(f64::NAN, |s| s.residual);
    w.attr_f64(file, "final_residual", residual)?;
    w.attr_f64(file, "wall_time_seconds", last.map_or(0.0, |s| s.seconds))?;
    let compression = match deflate {
        Some(l) => format!("shuffle+deflate({l})+fletcher32"),
        None => "fletcher32".to_string(),
    };
    w.attr_str(file, "compression", &compression)?;
    let names: Vec<VarLenUnicode> = problem
        .populations()
        .iter()
        .map(|p| w.vlu(p.name()))
        .collect::<Result<_>>()?;
    file.new_attr::<VarLenUnicode>()
        .shape([names.len()])
        .create("population_names")
        .and_then(|a| a.write_raw(&names))
        .ctx(w.path, || "writing attribute population_names".into())?;
    let scales = match problem.horizon() {
        Horizon::Stationary => "y, x",
        _ => "t, y, x",
    };
    w.attr_str(
        file,
        "Conventions",
        &format!("mfg-solution; netCDF-4 dimension scales {scales} in every population group"),
    )
}

const X_META: Meta<'static> = Meta {
    long_name: "x",
    units: "1",
    description: "node coordinate along x (cell centres x_i = min + (i + 1/2) h)",
};
const Y_META: Meta<'static> = Meta {
    long_name: "y",
    units: "1",
    description: "node coordinate along y (cell centres y_j = min + (j + 1/2) h)",
};
pub(super) const T_META: Meta<'static> = Meta {
    long_name: "time",
    units: "1",
    description: "time levels t_n = n dt, n = 0..Nt",
};

pub(super) fn axis_meta(a: usize) -> &'static Meta<'static> {
    [&X_META, &Y_META][a]
}

/// `/grid` and, for a finite horizon, `/time`.
pub(super) fn grids(w: &mut Writer<'_>, file: &h5::File, problem: &Problem) -> Result<()> {
    let grid = problem.grid();
    let g = w.group(file, "grid")?;
    w.attr_u64(&g, "dimension", grid.dim() as u64)?;
    for (a, axis) in grid.axes().iter().enumerate() {
        let name = AXES[a];
        let d = w.scale(
            &g,
            name,
            &axis.nodes(),
            axis_meta(a),
            Some(&name.to_uppercase()),
        )?;
        w.attr_f64(&d, "min", axis.min)?;
        w.attr_f64(&d, "max", axis.max)?;
        w.attr_u64(&d, "n", axis.n as u64)?;
        w.attr_f64(&d, "h", axis.h())?;
        w.attr_str(&d, "boundary", axis.boundary.as_str())?;
    }
    if problem.horizon() == Horizon::Stationary {
        return Ok(());
    }
    let time = problem.time();
    let t = w.group(file, "time")?;
    let d = w.scale(&t, "t", &time.levels(), &T_META, Some("T"))?;
    w.attr_f64(&d, "horizon", time.horizon)?;
    w.attr_u64(&d, "steps", time.nt as u64)?;
    w.attr_f64(&d, "dt", time.dt())
}

/// `/coupling`: the description and one group per term with its parameters as arrays indexed
/// by the population names (`k`: the population paying the cost, `j`: the one whose density
/// enters).
///
/// Its attributes also hold the Lasry–Lions monotonicity diagnostic
/// ([`crate::problem::Monotonicity`]) at the initial densities and at `solution`.
pub(super) fn coupling(
    w: &mut Writer<'_>,
    file: &h5::File,
    problem: &Problem,
    solution: &Monotonicity,
) -> Result<()> {
    let c = w.group(file, "coupling")?;
    w.attr_str(&c, "description", &problem.coupling().describe())?;
    let initial = Monotonicity::at_initial(problem);
    let all = match initial.for_all_densities {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    };
    w.attr_str(&c, "monotone_for_all_densities", all)?;
    for (what, m) in [("initial", &initial), ("solution", solution)] {
        w.attr_str(&c, &format!("monotone_{what}"), m.verdict.as_str())?;
        w.attr_f64(&c, &format!("lambda_min_{what}"), m.lambda_min)?;
    }
    let Some(terms) = problem.coupling().terms() else {
        return w.attr_str(&c, "parameters", "not reported");
    };
    w.attr_str(&c, "parameters", "complete")?;
    w.attr_u64(&c, "terms", terms.len() as u64)?;
    let names: Vec<VarLenUnicode> = problem
        .populations()
        .iter()
        .map(|p| w.vlu(p.name()))
        .collect::<Result<_>>()?;
    for (i, term) in terms.iter().enumerate() {
        coupling_term(w, &c, i, term, &names)?;
    }
    Ok(())
}

fn coupling_term(
    w: &mut Writer<'_>,
    c: &h5::Group,
    i: usize,
    term: &CouplingTerm,
    names: &[VarLenUnicode],
) -> Result<()> {
    let g = w.group(c, &format!("term_{i}"))?;
    w.attr_str(&g, "kind", &term.kind)?;
    w.attr_str(&g, "formula", &term.formula)?;
    let k = w.scale(
        &g,
        "k",
        names,
        &Meta {
            long_name: "population k",
            units: "1",
            description: "the population whose cost f^k the parameter enters",
        },
        None,
    )?;
    let j = w.scale(
        &g,
        "j",
        names,
        &Meta {
            long_name: "population j",
            units: "1",
            description: "the population whose density m^j the parameter multiplies",
        },
        None,
    )?;
    for p in &term.parameters {
        let d = if p.shape.is_empty() {
            let d = g
                .new_dataset::<f64>()
                .shape(())
                .create(p.name.as_str())
                .and_then(|d| d.write_scalar(&p.values[0]).map(|()| d))
                .ctx(w.path, || format!("writing {}/{}", g.name(), p.name))?;
            w.open.push(d.clone());
            d
        } else {
            w.array(&g, &p.name, &p.shape, &p.values, Storage::Whole)?
        };
        let dims = [&k, &j];
        scales::attach(w.path, &d, &dims[..p.shape.len()])?;
        w.attr_str(&d, "long_name", &p.name)?;
    }
    Ok(())
}

/// Shape (levels, [Ny,] Nx) of a field: row-major, x fastest, as [`crate::Field`] stores it.
pub(in crate::io) fn field_shape(grid: &crate::Grid, levels: usize) -> Vec<usize> {
    let mut s = vec![levels];
    s.extend(grid.axes().iter().rev().map(|a| a.n));
    s
}

/// A history column: its name, how to read it from a step, its description.
type Column = (&'static str, fn(&StepStats) -> f64, &'static str);

/// `/history`: one entry per outer iteration, indexed by the dimension scale `iteration`.
pub(super) fn history(w: &mut Writer<'_>, file: &h5::File, history: &[StepStats]) -> Result<()> {
    let h = w.group(file, "history")?;
    let ints =
        |f: fn(&StepStats) -> usize| -> Vec<u64> { history.iter().map(|s| f(s) as u64).collect() };
    let n = [history.len()];
    let it = w.scale(
        &h,
        "iteration",
        &ints(|s| s.iteration),
        &Meta {
            long_name: "outer iteration",
            units: "1",
            description: "1-based outer iteration number (continues over resumed runs)",
        },
        None,
    )?;
    let inner = w.array(
        &h,
        "inner_iterations",
        &n,
        &ints(|s| s.inner_iterations),
        Storage::Whole,
    )?;
    scales::attach(w.path, &inner, &[&it])?;
    w.meta(
        &inner,
        &Meta {
            long_name: "inner iterations",
            units: "1",
            description: "inner (Newton) iterations of the step",
        },
    )?;
    let columns: [Column; 7] = [
        ("delta_u", |s| s.delta_u, "max_k ||u_new - u_old||_inf"),
        ("delta_m", |s| s.delta_m, "max_k max_n ||m_new - m_old||_L1"),
        (
            "residual",
            |s| s.residual,
            "residual of the discrete system after the iteration",
        ),
        (
            "residual_hjb",
            |s| s.residual_hjb,
            "HJB part of the residual",
        ),
        ("residual_fp", |s| s.residual_fp, "FP part of the residual"),
        (
            "seconds",
            |s| s.seconds,
            "wall time since the start of the solve",
        ),
        ("theta", |s| s.theta, "relaxation weight used"),
    ];
    for (name, f, description) in columns {
        let data: Vec<f64> = history.iter().map(f).collect();
        let d = w.array(&h, name, &n, &data, Storage::Whole)?;
        scales::attach(w.path, &d, &[&it])?;
        let units = if name == "seconds" { "s" } else { "1" };
        w.meta(
            &d,
            &Meta {
                long_name: name,
                units,
                description,
            },
        )?;
    }
    Ok(())
}
