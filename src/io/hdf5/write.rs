//! Writing a result file: a finished solution or a checkpoint, atomically (a temporary file
//! beside the target, then a rename), in the layout of `docs/hdf5-layout.md`.

use super::{
    field_shape, level_shape, now_rfc3339, Ctx, Run, WriteOptions, AXES, FORMAT_NAME,
    FORMAT_VERSION,
};
use crate::config::{Config, Format};
use crate::io::{atomic, Error, Result};
use crate::problem::Problem;
use crate::solve::{Solution, StepStats, Termination};
use ::hdf5 as h5;
use h5::types::VarLenUnicode;
use std::path::Path;
use std::str::FromStr;

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
pub(in crate::io) fn replace_hdf5(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
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

pub(in crate::io) fn vlu(path: &Path, s: &str) -> Result<VarLenUnicode> {
    VarLenUnicode::from_str(s).map_err(|e| Error::Damaged {
        path: path.to_path_buf(),
        what: format!("cannot store the string {s:?}: {e}"),
    })
}

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
        .ctx(path, || format!("writing attribute {name}"))
}

pub(in crate::io) fn attr_f64(
    path: &Path,
    loc: &h5::Location,
    name: &str,
    value: f64,
) -> Result<()> {
    loc.new_attr::<f64>()
        .create(name)
        .and_then(|a| a.write_scalar(&value))
        .ctx(path, || format!("writing attribute {name}"))
}

pub(in crate::io) fn attr_u64(
    path: &Path,
    loc: &h5::Location,
    name: &str,
    value: u64,
) -> Result<()> {
    loc.new_attr::<u64>()
        .create(name)
        .and_then(|a| a.write_scalar(&value))
        .ctx(path, || format!("writing attribute {name}"))
}

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

fn write_file(
    path: &Path,
    problem: &Problem,
    run: &Run<'_>,
    config: Option<&Config>,
    options: &WriteOptions,
) -> Result<()> {
    let file = crate::io::create_h5(path).ctx(path, || "creating the file".into())?;
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
