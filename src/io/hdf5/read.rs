//! Reading a result file: refuse what is not a regular file, not HDF5, not ours or of a newer
//! version; check the whole layout against the schema ([`super::schema`]) before reading any
//! array; then read the header, the fields (u^k, m^k on every level), or everything
//! ([`verify`]).

use super::schema::{product, Checker, Kind};
use super::write::field_shape;
use super::{
    Header, RunState, Saved, SavedCoupling, SavedPopulation, AXES, FORMAT_NAME, FORMAT_VERSION,
};
use crate::config::Format;
use crate::field::Field;
use crate::grid::{Axis, Boundary, Grid, TimeGrid};
use crate::io::{Error, Result};
use crate::problem::coupling::{CouplingTerm, Parameter};
use crate::solve::{Iterate, Solution, StepStats, Termination};
use ::hdf5 as h5;
use h5::types::VarLenUnicode;
use std::path::Path;

/// The 8-byte signature every HDF5 file carries at offset 0, 512, 1024, 2048, …
const SIGNATURE: [u8; 8] = [0x89, b'H', b'D', b'F', b'\r', b'\n', 0x1a, b'\n'];

/// What kind of file system object a non-regular file is.
fn kind_of(t: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_block_device() || t.is_char_device() {
            return "a device";
        }
    }
    if t.is_dir() {
        "a directory"
    } else {
        "not a plain file"
    }
}

/// Checks that `path` is a regular file carrying the HDF5 signature; returns its size. The
/// type is checked before anything opens the path: opening a FIFO would block.
fn check_hdf5(path: &Path) -> Result<u64> {
    use std::io::{Read, Seek, SeekFrom};
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            Error::Missing {
                path: path.to_path_buf(),
            }
        } else {
            io(source)
        }
    })?;
    if !meta.is_file() {
        return Err(Error::NotRegular {
            path: path.to_path_buf(),
            kind: kind_of(meta.file_type()),
        });
    }
    let mut f = std::fs::File::open(path).map_err(io)?;
    let len = f.metadata().map_err(io)?.len();
    let mut offset = 0u64;
    let mut buf = [0u8; 8];
    while offset + 8 <= len {
        f.seek(SeekFrom::Start(offset)).map_err(io)?;
        f.read_exact(&mut buf).map_err(io)?;
        if buf == SIGNATURE {
            return Ok(len);
        }
        offset = if offset == 0 { 512 } else { offset * 2 };
    }
    Err(Error::NotHdf5 {
        path: path.to_path_buf(),
    })
}

/// An open file that is an mfg result of a supported version.
struct Opened<'a> {
    file: h5::File,
    version: u32,
    c: Checker<'a>,
}

/// Opens `path` read-only after checking that it is a regular file carrying the HDF5 signature;
/// a file the HDF5 library then refuses is [`Error::Corrupt`]. Returns the file and its size.
pub(in crate::io) fn open_hdf5(path: &Path) -> Result<(h5::File, u64)> {
    let file_size = check_hdf5(path)?;
    let file = crate::io::open_h5(path).map_err(|e| Error::Corrupt {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    Ok((file, file_size))
}

fn open(path: &Path) -> Result<Opened<'_>> {
    let (file, file_size) = open_hdf5(path)?;
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
    Ok(Opened {
        file,
        version: version as u32,
        c: Checker { path, file_size },
    })
}

/// The optional drift datasets of a population, per axis.
const DRIFTS: [&str; 2] = ["drift_x", "drift_y"];

/// The sizes the file declares, checked against every dataset of the schema.
struct Layout {
    grid: Grid,
    /// `None` for a stationary result (no time axis).
    time: Option<TimeGrid>,
    state: RunState,
    names: Vec<String>,
    iterations: usize,
    /// The per-population arrays the schema checked, as (population, dataset).
    arrays: Vec<(String, &'static str)>,
}

/// The root attributes every file has (besides `format` and `format_version`).
const ROOT_STRINGS: [&str; 7] = [
    "mfg_version",
    "created",
    "problem",
    "coupling",
    "method",
    "termination",
    "compression",
];
const OPTIONAL_STRINGS: [&str; 6] = [
    "config",
    "config_format",
    "config_path",
    "title",
    "termination_detail",
    "solver_events",
];
const HISTORY_F64: [&str; 7] = [
    "delta_u",
    "delta_m",
    "residual",
    "residual_hjb",
    "residual_fp",
    "seconds",
    "theta",
];
const HISTORY_U64: [&str; 2] = ["iteration", "inner_iterations"];

/// Validates the whole file against the schema without reading any field.
fn layout(o: &Opened<'_>) -> Result<Layout> {
    let (c, file) = (&o.c, &o.file);
    for name in ROOT_STRINGS {
        c.attr(file, name, Kind::Str, &[])?;
    }
    for name in OPTIONAL_STRINGS {
        c.opt_attr(file, name, Kind::Str)?;
    }
    c.f64(file, "final_residual")?;
    c.f64(file, "wall_time_seconds")?;
    let termination = c.string(file, "termination")?;
    let state = RunState::parse(&termination)
        .ok_or_else(|| c.damaged(format!("unknown termination {termination:?}")))?;

    let grid = grid(c, file)?;
    // Files written before stationary results existed have no `horizon`: they are finite.
    let stationary = match c.opt_string(file, "horizon")?.as_deref() {
        None | Some("finite") => false,
        Some("stationary") => true,
        Some(other) => return Err(c.damaged(format!("unknown horizon {other:?}"))),
    };
    let time = if stationary {
        None
    } else {
        Some(time(c, file)?)
    };
    let iterations = usize::try_from(c.u64(file, "iterations")?)
        .map_err(|_| c.damaged("attribute iterations is too large".into()))?;
    let names = population_names(c, file)?;

    // Every population's fields, of shape (Nt+1, [Ny,] Nx), or ([Ny,] Nx) when stationary.
    let levels = time.map_or(0, |t| t.nt + 1);
    let full = field_shape(&grid, levels);
    let shape = if stationary {
        full[1..].to_vec()
    } else {
        full.clone()
    };
    // The shape of the fields that do not depend on time.
    let space = &full[1..];
    product(c, &shape)?;
    let pops = c.group(file, "populations")?;
    // Version 1 wrote the controls into every file; later versions into finished runs only.
    let controls = o.version == 1 || matches!(state, RunState::Finished(_));
    let mut arrays = Vec::new();
    for (k, name) in names.iter().enumerate() {
        let pg = c.group(&pops, name)?;
        if c.u64(&pg, "index")? != k as u64 {
            return Err(c.damaged(format!(
                "attribute index of /populations/{name} is not {k}, its place in \
                 population_names"
            )));
        }
        for a in ["sigma", "nu"] {
            c.f64(&pg, a)?;
        }
        for a in ["hamiltonian", "hamiltonian_kind"] {
            c.attr(&pg, a, Kind::Str, &[])?;
        }
        let mut fields = vec!["m", "u"];
        if controls {
            fields.extend(["alpha_x", "alpha_y"].iter().take(grid.dim()));
        }
        for f in fields {
            c.dataset(&pg, f, Kind::F64, &shape)?;
            arrays.push((name.clone(), f));
        }
        if stationary {
            c.f64(&pg, "lambda")?;
        }
        let statics: &[&'static str] = if stationary {
            &["potential"]
        } else {
            &["initial", "potential", "terminal"]
        };
        for &f in statics {
            c.dataset(&pg, f, Kind::F64, space)?;
            arrays.push((name.clone(), f));
        }
        if o.version >= 2 {
            // The state space and the mass of the population (since the regions landed).
            c.f64(&pg, "mass")?;
            c.dataset(&pg, "live", Kind::U8, space)?;
            if pg.link_exists("exit") {
                c.dataset(&pg, "exit", Kind::U8, space)?;
                c.dataset(&pg, "exit_cost", Kind::F64, space)?;
                c.dataset(&pg, "absorbed", Kind::F64, &full)?;
                c.dataset(&pg, "exited", Kind::F64, &full[..1])?;
                for f in ["exit_cost", "absorbed", "exited"] {
                    arrays.push((name.clone(), f));
                }
            }
            for drift in DRIFTS.iter().take(grid.dim()) {
                if pg.link_exists(drift) {
                    c.dataset(&pg, drift, Kind::F64, space)?;
                    arrays.push((name.clone(), drift));
                }
            }
            // Written when V^k or b^k depends on time.
            for f in ["potential_t", "drift_x_t", "drift_y_t"] {
                if pg.link_exists(f) {
                    c.dataset(&pg, f, Kind::F64, &full)?;
                    arrays.push((name.clone(), f));
                }
            }
            if !stationary {
                c.dataset(&pg, "t", Kind::F64, &[levels])?;
                arrays.push((name.clone(), "t"));
            }
            for (a, axis) in grid.axes().iter().enumerate() {
                c.dataset(&pg, AXES[a], Kind::F64, &[axis.n])?;
                arrays.push((name.clone(), AXES[a]));
            }
        }
    }

    let h = c.group(file, "history")?;
    for name in HISTORY_U64 {
        c.dataset(&h, name, Kind::U64, &[iterations])?;
    }
    for name in HISTORY_F64 {
        c.dataset(&h, name, Kind::F64, &[iterations])?;
    }
    if o.version >= 2 {
        coupling(c, file, names.len())?;
    }
    Ok(Layout {
        grid,
        time,
        state,
        names,
        iterations,
        arrays,
    })
}

/// `/grid`: the dimension, then per axis its attributes and its node dataset, whose length must
/// be `n` and whose values must be the cell centres of [min, max].
fn grid(c: &Checker<'_>, file: &h5::File) -> Result<Grid> {
    let dim = c.u64(file, "dimension")?;
    if !(1..=2).contains(&dim) {
        return Err(c.damaged(format!(
            "attribute dimension is {dim}: result files are 1D or 2D"
        )));
    }
    let g = c.group(file, "grid")?;
    let gdim = c.u64(&g, "dimension")?;
    if gdim != dim {
        return Err(c.damaged(format!(
            "attribute dimension of /grid is {gdim}, but the file's is {dim}"
        )));
    }
    let mut axes = Vec::new();
    for name in &AXES[..dim as usize] {
        let full = format!("/grid/{name}");
        let shape = c.dataset_shape(&g, name, Kind::F64, 1)?;
        let d = c.dataset(&g, name, Kind::F64, &shape)?;
        let n = c.u64(&d, "n")?;
        if n != shape[0] as u64 {
            return Err(c.damaged(format!(
                "attribute n of {full} is {n}, but the dataset has {} nodes",
                shape[0]
            )));
        }
        let boundary = match c.string(&d, "boundary")?.as_str() {
            "periodic" => Boundary::Periodic,
            "reflecting" => Boundary::Reflecting,
            other => return Err(c.damaged(format!("unknown boundary {other:?} of {full}"))),
        };
        c.f64(&d, "h")?;
        let axis = Axis::new(c.f64(&d, "min")?, c.f64(&d, "max")?, shape[0], boundary);
        let nodes = d
            .read_raw::<f64>()
            .map_err(|e| c.damaged(format!("dataset {full}: {e}")))?;
        close_to(
            c,
            &full,
            &nodes,
            &axis.nodes(),
            "the cell centres of min, max, n",
        )?;
        axes.push(axis);
    }
    Grid::new(axes).map_err(|e| c.damaged(format!("/grid: {e}")))
}

/// `/time/t`: Nt + 1 levels 0, Δt, …, T.
fn time(c: &Checker<'_>, file: &h5::File) -> Result<TimeGrid> {
    let t = c.group(file, "time")?;
    let shape = c.dataset_shape(&t, "t", Kind::F64, 1)?;
    let d = c.dataset(&t, "t", Kind::F64, &shape)?;
    let steps = c.u64(&d, "steps")?;
    if steps.checked_add(1) != Some(shape[0] as u64) {
        return Err(c.damaged(format!(
            "attribute steps of /time/t is {steps}, but the dataset has {} levels",
            shape[0]
        )));
    }
    c.f64(&d, "dt")?;
    let time = TimeGrid::new(c.f64(&d, "horizon")?, shape[0] - 1)
        .map_err(|e| c.damaged(format!("/time: {e}")))?;
    let levels = d
        .read_raw::<f64>()
        .map_err(|e| c.damaged(format!("dataset /time/t: {e}")))?;
    close_to(
        c,
        "/time/t",
        &levels,
        &time.levels(),
        "n dt for n = 0..steps",
    )?;
    Ok(time)
}

/// Stored coordinates must be the ones their attributes describe (up to round-off).
fn close_to(c: &Checker<'_>, what: &str, got: &[f64], want: &[f64], rule: &str) -> Result<()> {
    let scale = want.iter().fold(1.0f64, |s, v| s.max(v.abs()));
    let bad = got.iter().zip(want).position(|(a, b)| {
        let d = (a - b).abs();
        d.is_nan() || d > 1e-9 * scale
    });
    match bad {
        None => Ok(()),
        Some(i) => Err(c.damaged(format!(
            "{what}[{i}] is {}, but its attributes give {} ({rule})",
            got[i], want[i]
        ))),
    }
}

/// `population_names`: K ≥ 1 distinct, non-empty names.
fn population_names(c: &Checker<'_>, file: &h5::File) -> Result<Vec<String>> {
    let a = file
        .attr("population_names")
        .map_err(|_| c.damaged("attribute population_names of / is missing".into()))?;
    let k = a.shape();
    if k.len() != 1 || k[0] == 0 {
        return Err(c.damaged(format!(
            "attribute population_names has {}, expected a list of at least one name",
            if k.is_empty() {
                "a scalar".to_string()
            } else {
                format!("shape {k:?}")
            }
        )));
    }
    let names: Vec<String> = c
        .attr(file, "population_names", Kind::Str, &k)?
        .read_raw::<VarLenUnicode>()
        .map_err(|e| c.damaged(format!("attribute population_names: {e}")))?
        .iter()
        .map(|s| s.as_str().to_string())
        .collect();
    for (i, n) in names.iter().enumerate() {
        if n.is_empty() || n.contains('/') || names[..i].contains(n) {
            return Err(c.damaged(format!(
                "population name {n:?} is empty, repeated or has a /"
            )));
        }
    }
    Ok(names)
}

/// `/coupling` (version 2): its description, and each term's kind and parameter arrays.
/// The monotonicity diagnostic's attributes of `/coupling`, checked when present (files written
/// before the diagnostic existed lack them): verdicts from their fixed sets, λ_min a number.
fn monotonicity(c: &Checker<'_>, g: &h5::Group) -> Result<()> {
    let names = g.attr_names().unwrap_or_default();
    let has = |n: &str| names.iter().any(|a| a == n);
    let one_of = |name: &str, allowed: &[&str]| -> Result<()> {
        if !has(name) {
            return Ok(());
        }
        let v = c.string(g, name)?;
        if allowed.contains(&v.as_str()) {
            Ok(())
        } else {
            Err(c.damaged(format!(
                "attribute {name} of /coupling is {v:?}, not one of {allowed:?}"
            )))
        }
    };
    one_of("monotone_for_all_densities", &["yes", "no", "unknown"])?;
    for what in ["initial", "solution"] {
        one_of(&format!("monotone_{what}"), &["strict", "weak", "no"])?;
        let lambda = format!("lambda_min_{what}");
        if has(&lambda) {
            c.f64(g, &lambda)?;
        }
    }
    Ok(())
}

fn coupling(c: &Checker<'_>, file: &h5::File, k: usize) -> Result<SavedCoupling> {
    let g = c.group(file, "coupling")?;
    c.attr(&g, "description", Kind::Str, &[])?;
    monotonicity(c, &g)?;
    match c.string(&g, "parameters")?.as_str() {
        "not reported" => return Ok(SavedCoupling::Opaque),
        "complete" => {}
        other => return Err(c.damaged(format!("attribute parameters of /coupling is {other:?}"))),
    }
    let n = c.u64(&g, "terms")?;
    let mut terms = Vec::new();
    for i in 0..n {
        let name = format!("term_{i}");
        let tg = c.group(&g, &name)?;
        let kind = c.string(&tg, "kind")?;
        let formula = c.string(&tg, "formula")?;
        c.dataset(&tg, "k", Kind::Str, &[k])?;
        c.dataset(&tg, "j", Kind::Str, &[k])?;
        let mut parameters = Vec::new();
        let members = tg
            .member_names()
            .map_err(|e| c.damaged(format!("/coupling/{name}: {e}")))?;
        for p in members.iter().filter(|m| *m != "k" && *m != "j") {
            let d = tg
                .dataset(p)
                .map_err(|_| c.damaged(format!("/coupling/{name}/{p} is not a dataset")))?;
            let shape = d.shape();
            if shape.len() > 2 || shape.iter().any(|&s| s != k) {
                return Err(c.damaged(format!(
                    "parameter /coupling/{name}/{p} has shape {shape:?}: parameters are \
                     numbers, K-vectors or KxK matrices (K = {k})"
                )));
            }
            let d = c.dataset(&tg, p, Kind::F64, &shape)?;
            let values = if shape.is_empty() {
                d.read_scalar::<f64>().map(|v| vec![v])
            } else {
                d.read_raw::<f64>()
            }
            .map_err(|e| c.damaged(format!("/coupling/{name}/{p}: {e}")))?;
            parameters.push(Parameter {
                name: p.clone(),
                shape,
                values,
            });
        }
        // Every coupling term of the library has at least one parameter (its strength).
        if parameters.is_empty() {
            return Err(c.damaged(format!(
                "/coupling/{name} ({kind}) has no parameter dataset"
            )));
        }
        terms.push(CouplingTerm {
            kind,
            formula,
            parameters,
        });
    }
    Ok(SavedCoupling::Terms(terms))
}

/// Reads a dataset already checked against the schema.
fn data<T: h5::H5Type>(c: &Checker<'_>, g: &h5::Group, name: &str) -> Result<Vec<T>> {
    g.dataset(name)
        .and_then(|d| d.read_raw::<T>())
        .map_err(|e| c.damaged(format!("dataset {}/{name}: {e}", g.name())))
}

fn header(o: &Opened<'_>, l: &Layout) -> Result<Header> {
    let (c, file) = (&o.c, &o.file);
    let config_format = match c.opt_string(file, "config_format")?.as_deref() {
        None => None,
        Some("toml") => Some(Format::Toml),
        Some("yaml") => Some(Format::Yaml),
        Some(other) => return Err(c.damaged(format!("unknown config_format {other:?}"))),
    };
    let pops = c.group(file, "populations")?;
    let mut populations = Vec::with_capacity(l.names.len());
    for name in &l.names {
        let pg = c.group(&pops, name)?;
        let mut parameters = Vec::new();
        for a in pg.attr_names().unwrap_or_default() {
            if let Some(p) = a.strip_prefix("hamiltonian_") {
                if p != "kind" {
                    parameters.push((p.to_string(), c.f64(&pg, &a)?));
                }
            }
        }
        populations.push(SavedPopulation {
            name: name.clone(),
            mass: if o.version >= 2 {
                c.f64(&pg, "mass")?
            } else {
                1.0
            },
            live: if o.version >= 2 {
                Some(
                    data::<u8>(c, &pg, "live")?
                        .iter()
                        .map(|&v| v != 0)
                        .collect(),
                )
            } else {
                None
            },
            exit: if pg.link_exists("exit") {
                Some(
                    data::<u8>(c, &pg, "exit")?
                        .iter()
                        .map(|&v| v != 0)
                        .collect(),
                )
            } else {
                None
            },
            sigma: c.f64(&pg, "sigma")?,
            discount: if pg
                .attr_names()
                .unwrap_or_default()
                .iter()
                .any(|a| a == "discount")
            {
                c.f64(&pg, "discount")?
            } else {
                0.0
            },
            hamiltonian: c.string(&pg, "hamiltonian")?,
            hamiltonian_kind: c.string(&pg, "hamiltonian_kind")?,
            parameters,
            lambda: if l.time.is_none() {
                Some(c.f64(&pg, "lambda")?)
            } else {
                None
            },
        });
    }

    let h = c.group(file, "history")?;
    let f = |name: &str| data::<f64>(c, &h, name);
    let u = |name: &str| data::<u64>(c, &h, name);
    let (iteration, inner) = (u("iteration")?, u("inner_iterations")?);
    let (delta_u, delta_m, residual) = (f("delta_u")?, f("delta_m")?, f("residual")?);
    let (residual_hjb, residual_fp) = (f("residual_hjb")?, f("residual_fp")?);
    let (seconds, theta) = (f("seconds")?, f("theta")?);
    let history: Vec<StepStats> = (0..l.iterations)
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
    let coupling_terms = if o.version >= 2 {
        coupling(c, file, l.names.len())?
    } else {
        SavedCoupling::NotStored
    };

    Ok(Header {
        path: c.path.to_path_buf(),
        format_version: o.version,
        mfg_version: c.string(file, "mfg_version")?,
        created: c.string(file, "created")?,
        title: c.opt_string(file, "title")?,
        detail: c.opt_string(file, "termination_detail")?,
        events: c
            .opt_string(file, "solver_events")?
            .map(|t| t.lines().map(str::to_string).collect())
            .unwrap_or_default(),
        config_text: c.opt_string(file, "config")?,
        config_format,
        config_path: c.opt_string(file, "config_path")?,
        problem: c.string(file, "problem")?,
        coupling: c.string(file, "coupling")?,
        coupling_terms,
        grid: l.grid.clone(),
        time: l.time,
        populations,
        method: c.string(file, "method")?,
        state: l.state,
        history,
        wall_time: c.f64(file, "wall_time_seconds")?,
        compression: c.string(file, "compression")?,
    })
}

/// See [`super::read_header`].
pub(super) fn read_header_of(path: &Path) -> Result<Header> {
    let o = open(path)?;
    let l = layout(&o)?;
    header(&o, &l)
}

/// See [`super::read`].
pub(super) fn read_saved(path: &Path) -> Result<Saved> {
    let o = open(path)?;
    let l = layout(&o)?;
    if l.time.is_none() {
        return Err(Error::Stationary {
            path: path.to_path_buf(),
        });
    }
    let header = header(&o, &l)?;
    let pops = o.c.group(&o.file, "populations")?;
    let nodes = header.grid.len();
    let (mut u, mut m) = (Vec::new(), Vec::new());
    for name in &l.names {
        let pg = o.c.group(&pops, name)?;
        let mut density = data::<f64>(&o.c, &pg, "m")?;
        // The iterate's m holds the absorbed mass on exit nodes (where the file's m is 0).
        if pg.link_exists("exit") {
            let exit = data::<u8>(&o.c, &pg, "exit")?;
            let absorbed = data::<f64>(&o.c, &pg, "absorbed")?;
            for (i, (v, a)) in density.iter_mut().zip(&absorbed).enumerate() {
                if exit[i % nodes] != 0 {
                    *v = *a;
                }
            }
        }
        m.push(Field::from_vec(nodes, density));
        u.push(Field::from_vec(nodes, data::<f64>(&o.c, &pg, "u")?));
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
        events: header.events.clone(),
    };
    Ok(Saved { header, solution })
}

/// See [`super::verify`].
pub(super) fn verify(path: &Path) -> Result<Header> {
    let o = open(path)?;
    let l = layout(&o)?;
    let header = header(&o, &l)?;
    let pops = o.c.group(&o.file, "populations")?;
    for (name, array) in &l.arrays {
        let full = format!("/populations/{name}/{array}");
        let bad = |e: h5::Error| o.c.damaged(format!("dataset {full}: {e}"));
        let d = o.c.group(&pops, name)?.dataset(array).map_err(bad)?;
        // One time level at a time: memory stays that of one level.
        match d.ndim() {
            3 => (0..d.shape()[0]).try_for_each(|n| {
                d.read_slice_2d::<f64, _>((n, .., ..))
                    .map(drop)
                    .map_err(bad)
            })?,
            2 => (0..d.shape()[0])
                .try_for_each(|n| d.read_slice_1d::<f64, _>((n, ..)).map(drop).map_err(bad))?,
            _ => d.read_raw::<f64>().map(drop).map_err(bad)?,
        }
    }
    Ok(header)
}
