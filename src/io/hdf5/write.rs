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
use crate::problem::Problem;
use crate::solve::{Solution, StepStats, Termination};
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
enum Storage {
    /// Chunked as given, with the optional deflate level (after the shuffle filter).
    Chunked(Option<u8>),
    /// One chunk for the whole array.
    Whole,
    /// Contiguous, without filters: variable-length strings, which HDF5 cannot filter.
    Plain,
}

/// The metadata every array carries for netCDF/CF readers.
struct Meta<'a> {
    long_name: &'a str,
    units: &'a str,
    description: &'a str,
}

/// The file being written: its path (for errors) and every dataset opened so far, kept open
/// until the final flush.
struct Writer<'a> {
    path: &'a Path,
    open: Vec<h5::Dataset>,
}

impl Writer<'_> {
    fn vlu(&self, s: &str) -> Result<VarLenUnicode> {
        vlu(self.path, s)
    }

    fn attr_str(&self, loc: &h5::Location, name: &str, value: &str) -> Result<()> {
        attr_str(self.path, loc, name, value)
    }

    fn attr_f64(&self, loc: &h5::Location, name: &str, value: f64) -> Result<()> {
        attr_f64(self.path, loc, name, value)
    }

    fn attr_u64(&self, loc: &h5::Location, name: &str, value: u64) -> Result<()> {
        attr_u64(self.path, loc, name, value)
    }

    fn meta(&self, d: &h5::Dataset, meta: &Meta<'_>) -> Result<()> {
        self.attr_str(d, "long_name", meta.long_name)?;
        self.attr_str(d, "units", meta.units)?;
        self.attr_str(d, "description", meta.description)
    }

    fn group(&self, parent: &h5::Group, name: &str) -> Result<h5::Group> {
        parent.create_group(name).ctx(self.path, || {
            format!("creating group {name} in {}", parent.name())
        })
    }

    /// An array of `shape`, with checksums; kept open until the end.
    fn array<T: h5::H5Type>(
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
    fn scale<T: h5::H5Type>(
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
    let file = crate::io::create_h5(path).ctx(path, || "creating the file".into())?;
    let mut w = Writer {
        path,
        open: Vec::new(),
    };
    contents(&mut w, &file, problem, run, config, options)?;
    file.flush().ctx(path, || "flushing the file".into())?;
    drop(w);
    file.close().ctx(path, || "closing the file".into())
}

fn contents(
    w: &mut Writer<'_>,
    file: &h5::File,
    problem: &Problem,
    run: &Run<'_>,
    config: Option<&Config>,
    options: &WriteOptions,
) -> Result<()> {
    let deflate = options
        .compression
        .filter(|_| h5::filters::deflate_available())
        .map(|l| l.min(9));
    root_attributes(w, file, problem, run, config, deflate)?;
    grids(w, file, problem)?;
    coupling(w, file, problem)?;
    populations(w, file, problem, run, deflate)?;
    history(w, file, run.history)
}

fn root_attributes(
    w: &Writer<'_>,
    file: &h5::File,
    problem: &Problem,
    run: &Run<'_>,
    config: Option<&Config>,
    deflate: Option<u8>,
) -> Result<()> {
    let last = run.history.last();
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
    w.attr_str(file, "problem", &problem.describe())?;
    w.attr_str(file, "coupling", &problem.coupling().describe())?;
    w.attr_u64(file, "dimension", problem.grid().dim() as u64)?;
    w.attr_str(file, "method", run.method)?;
    w.attr_str(file, "termination", run.state.as_str())?;
    if let Some(detail) = run.detail {
        w.attr_str(file, "termination_detail", detail)?;
    }
    if !run.events.is_empty() {
        w.attr_str(file, "solver_events", &run.events.join("\n"))?;
    }
    w.attr_u64(file, "iterations", run.history.len() as u64)?;
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
    w.attr_str(
        file,
        "Conventions",
        "mfg-solution; netCDF-4 dimension scales t, y, x in every population group",
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
const T_META: Meta<'static> = Meta {
    long_name: "time",
    units: "1",
    description: "time levels t_n = n dt, n = 0..Nt",
};

fn axis_meta(a: usize) -> &'static Meta<'static> {
    [&X_META, &Y_META][a]
}

fn grids(w: &mut Writer<'_>, file: &h5::File, problem: &Problem) -> Result<()> {
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
fn coupling(w: &mut Writer<'_>, file: &h5::File, problem: &Problem) -> Result<()> {
    let c = w.group(file, "coupling")?;
    w.attr_str(&c, "description", &problem.coupling().describe())?;
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

fn populations(
    w: &mut Writer<'_>,
    file: &h5::File,
    problem: &Problem,
    run: &Run<'_>,
    deflate: Option<u8>,
) -> Result<()> {
    let grid = problem.grid();
    let levels = problem.time().nt + 1;
    let shape = field_shape(grid, levels);
    let pops = w.group(file, "populations")?;
    // Controls are derived data: a checkpoint stores only what resuming needs (u, m), the
    // final write adds α. They come from a `Solution` view of the iterate.
    let view = match run.state {
        RunState::Finished(_) => Some(Solution {
            iterate: run.iterate.clone(),
            history: Vec::new(),
            termination: Termination::Interrupted,
            detail: None,
            method: String::new(),
            events: Vec::new(),
        }),
        RunState::InProgress => None,
    };
    for (k, p) in problem.populations().iter().enumerate() {
        let name = p.name();
        let pg = w.group(&pops, name)?;
        w.attr_u64(&pg, "index", k as u64)?;
        w.attr_f64(&pg, "sigma", p.sigma())?;
        w.attr_f64(&pg, "nu", p.nu())?;
        w.attr_f64(&pg, "mass", p.mass())?;
        w.attr_f64(&pg, "discount", p.discount())?;
        w.attr_str(&pg, "hamiltonian", &p.hamiltonian().describe())?;
        w.attr_str(&pg, "hamiltonian_kind", p.hamiltonian().name())?;
        for (param, value) in p.hamiltonian().parameters() {
            w.attr_f64(&pg, &format!("hamiltonian_{param}"), value)?;
        }
        // The coordinates again, inside the group: a netCDF group sees the dimensions of its
        // ancestors only, so `xarray.open_dataset(file, group=...)` needs them here.
        let t = w.scale(&pg, "t", &problem.time().levels(), &T_META, Some("T"))?;
        let mut space = Vec::new();
        for (a, axis) in grid.axes().iter().enumerate().rev() {
            let axis_name = AXES[a].to_uppercase();
            space.push(w.scale(&pg, AXES[a], &axis.nodes(), axis_meta(a), Some(&axis_name))?);
        }
        let mut dims: Vec<&h5::Dataset> = vec![&t];
        dims.extend(space.iter());
        let storage = Storage::Chunked(deflate);
        let field = |w: &mut Writer<'_>, f: &str, data: &[f64], meta: Meta<'_>| {
            let d = w.array(&pg, f, &shape, data, storage)?;
            scales::attach(w.path, &d, &dims)?;
            w.meta(&d, &meta)
        };
        let m_desc = format!(
            "density m^k(t_n, x) of {name}, normalised so that sum(m) h^d = mass on every level"
        );
        let u_desc = format!("value function u^k(t_n, x) of {name}");
        let m_desc = if p.has_exits() {
            format!(
                "{m_desc} minus the mass that has left; 0 on exit nodes (the mass that has left \
                 is in `exited`)"
            )
        } else {
            m_desc
        };
        field(
            w,
            "m",
            run.iterate.density(problem, k).as_slice(),
            Meta {
                long_name: &format!("density of {name}"),
                units: "1",
                description: &m_desc,
            },
        )?;
        field(
            w,
            "u",
            run.iterate.u[k].as_slice(),
            Meta {
                long_name: &format!("value function of {name}"),
                units: "1",
                description: &u_desc,
            },
        )?;
        if let Some(view) = &view {
            for (a, alpha) in view.controls(problem, k).iter().enumerate() {
                let desc = format!(
                    "optimal feedback alpha = -dH/dp along {} of {name} (upwind, as the scheme \
                     uses it); level Nt repeats level Nt-1",
                    AXES[a]
                );
                field(
                    w,
                    &format!("alpha_{}", AXES[a]),
                    alpha.as_slice(),
                    Meta {
                        long_name: &format!("velocity of {name} along {}", AXES[a]),
                        units: "1",
                        description: &desc,
                    },
                )?;
            }
        }
        let lshape = &shape[1..];
        let live: Vec<u8> = p.live().iter().map(|&l| u8::from(l)).collect();
        let d = w.array(&pg, "live", lshape, &live, Storage::Whole)?;
        scales::attach(w.path, &d, &dims[1..])?;
        w.meta(
            &d,
            &Meta {
                long_name: &format!("state space of {name}"),
                units: "1",
                description: "1 at the nodes of the population's state space (its region minus \
                              the obstacles), 0 at removed nodes, where u = m = 0",
            },
        )?;
        if p.has_exits() {
            let exit: Vec<u8> = p.exits().iter().map(|&e| u8::from(e)).collect();
            let d = w.array(&pg, "exit", lshape, &exit, Storage::Whole)?;
            scales::attach(w.path, &d, &dims[1..])?;
            w.meta(
                &d,
                &Meta {
                    long_name: &format!("exits of {name}"),
                    units: "1",
                    description: "1 at the exit nodes of the population's state space, where \
                                  u = exit_cost and the density is absorbed",
                },
            )?;
            let d = w.array(&pg, "exit_cost", lshape, p.exit_cost(), Storage::Whole)?;
            scales::attach(w.path, &d, &dims[1..])?;
            w.meta(
                &d,
                &Meta {
                    long_name: &format!("exit cost of {name}"),
                    units: "1",
                    description: "psi^k(x): the value of u on exit nodes (meaningful there only)",
                },
            )?;
            if let Some(absorbed) = run.iterate.absorbed(problem, k) {
                field(
                    w,
                    "absorbed",
                    absorbed.as_slice(),
                    Meta {
                        long_name: &format!("mass of {name} that has left, per exit node"),
                        units: "1",
                        description: "cumulative mass density that has left through each exit \
                                      node by t_n (0 off the exits); m + absorbed is the density \
                                      of the absorbed chain, sum(m + absorbed) h^d = mass",
                    },
                )?;
            }
            let (_, exited) = run.iterate.inside_and_exited(problem, k);
            let d = w.array(&pg, "exited", &shape[..1], &exited, Storage::Whole)?;
            scales::attach(w.path, &d, &dims[..1])?;
            w.meta(
                &d,
                &Meta {
                    long_name: &format!("mass of {name} that has left"),
                    units: "1",
                    description: "cumulative mass that has left through the exits by t_n; \
                                  sum(m) h^d + exited = mass on every level",
                },
            )?;
        }
        if let Some(v) = p.potential_levels() {
            field(
                w,
                "potential_t",
                v,
                Meta {
                    long_name: &format!("running potential of {name} over time"),
                    units: "1",
                    description: "V^k(t_n, x), the potential of HJB step n; `potential` is its \
                                  level 0",
                },
            )?;
        }
        if let Some(b) = p.drift_levels() {
            let dim = grid.dim();
            for (a, axis) in AXES.iter().enumerate().take(dim) {
                let component: Vec<f64> = b.iter().skip(a).step_by(dim).copied().collect();
                field(
                    w,
                    &format!("drift_{axis}_t"),
                    &component,
                    Meta {
                        long_name: &format!("drift of {name} along {axis} over time"),
                        units: "1",
                        description: &format!(
                            "b(t_n, x) of the dynamics dX = (alpha + b) dt + sigma dW; \
                             drift_{axis} is its level 0"
                        ),
                    },
                )?;
            }
        }
        if let Some(b) = p.drift() {
            let dim = grid.dim();
            for (a, axis) in AXES.iter().enumerate().take(dim) {
                let component: Vec<f64> = b.iter().skip(a).step_by(dim).copied().collect();
                let f = format!("drift_{axis}");
                let d = w.array(&pg, &f, lshape, &component, Storage::Whole)?;
                scales::attach(w.path, &d, &dims[1..])?;
                w.meta(
                    &d,
                    &Meta {
                        long_name: &format!("drift of {name} along {axis}"),
                        units: "1",
                        description: "b(x) of the dynamics dX = (alpha + b) dt + sigma dW",
                    },
                )?;
            }
        }
        for (f, data, what) in [
            (
                "initial",
                p.initial(),
                "initial density m0^k as sampled and normalised",
            ),
            ("potential", p.potential(), "running potential V^k"),
            ("terminal", p.terminal(), "terminal cost g^k"),
        ] {
            let d = w.array(&pg, f, lshape, data, Storage::Whole)?;
            scales::attach(w.path, &d, &dims[1..])?;
            w.meta(
                &d,
                &Meta {
                    long_name: &format!("{what} of {name}"),
                    units: "1",
                    description: what,
                },
            )?;
        }
    }
    Ok(())
}

/// A history column: its name, how to read it from a step, its description.
type Column = (&'static str, fn(&StepStats) -> f64, &'static str);

/// `/history`: one entry per outer iteration, indexed by the dimension scale `iteration`.
fn history(w: &mut Writer<'_>, file: &h5::File, history: &[StepStats]) -> Result<()> {
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
