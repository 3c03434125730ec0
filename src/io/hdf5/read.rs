//! Reading a result file back: its signature, format version and schema are checked, and a
//! missing or misshapen part is reported as [`Error::Damaged`] naming it.

use super::{
    field_shape, Header, RunState, Saved, SavedPopulation, AXES, FORMAT_NAME, FORMAT_VERSION,
};
use crate::config::Format;
use crate::field::Field;
use crate::grid::{Axis, Boundary, Grid, TimeGrid};
use crate::io::{Error, Result};
use crate::solve::{Iterate, Solution, StepStats, Termination};
use ::hdf5 as h5;
use h5::types::VarLenUnicode;
use std::path::Path;

/// The 8-byte signature every HDF5 file carries at offset 0, 512, 1024, 2048, …
const SIGNATURE: [u8; 8] = [0x89, b'H', b'D', b'F', b'\r', b'\n', 0x1a, b'\n'];

/// Checks that `path` exists and carries the HDF5 signature.
fn check_hdf5(path: &Path) -> Result<()> {
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

/// Opens `path` read-only after checking that it exists and carries the HDF5 signature; a file
/// the HDF5 library then refuses is [`Error::Corrupt`].
pub(in crate::io) fn open_hdf5(path: &Path) -> Result<h5::File> {
    check_hdf5(path)?;
    crate::io::open_h5(path).map_err(|e| Error::Corrupt {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })
}

/// Opens `path` and checks that it is an mfg result file of a supported version.
fn open(path: &Path) -> Result<(h5::File, u32)> {
    let file = open_hdf5(path)?;
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
pub(in crate::io) struct Reader<'a> {
    pub(in crate::io) path: &'a Path,
}

impl Reader<'_> {
    pub(in crate::io) fn damaged(&self, what: String) -> Error {
        Error::Damaged {
            path: self.path.to_path_buf(),
            what,
        }
    }

    pub(in crate::io) fn attr_str(&self, loc: &h5::Location, name: &str) -> Result<String> {
        self.opt_str(loc, name)?
            .ok_or_else(|| self.damaged(format!("attribute {name} of {} is missing", loc.name())))
    }

    pub(in crate::io) fn opt_str(&self, loc: &h5::Location, name: &str) -> Result<Option<String>> {
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

    pub(in crate::io) fn attr_f64(&self, loc: &h5::Location, name: &str) -> Result<f64> {
        loc.attr(name)
            .and_then(|a| a.read_scalar::<f64>())
            .map_err(|e| self.damaged(format!("attribute {name} of {}: {e}", loc.name())))
    }

    pub(in crate::io) fn attr_u64(&self, loc: &h5::Location, name: &str) -> Result<u64> {
        loc.attr(name)
            .and_then(|a| a.read_scalar::<u64>())
            .map_err(|e| self.damaged(format!("attribute {name} of {}: {e}", loc.name())))
    }

    pub(in crate::io) fn group(&self, parent: &h5::Group, name: &str) -> Result<h5::Group> {
        parent
            .group(name)
            .map_err(|_| self.damaged(format!("group {}/{name} is missing", parent.name())))
    }

    pub(in crate::io) fn dataset(&self, g: &h5::Group, name: &str) -> Result<h5::Dataset> {
        g.dataset(name)
            .map_err(|_| self.damaged(format!("dataset {}/{name} is missing", g.name())))
    }

    /// Reads a dataset and checks its shape.
    pub(in crate::io) fn data<T: h5::H5Type>(
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
