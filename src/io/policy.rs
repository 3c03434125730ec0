//! Policy files (HDF5, format `mfg-policy` version 1; layout in `docs/rl.md`): a policy made
//! elsewhere for the game of a problem, per population either tabular π^k_t(a | s) with the
//! velocity of every action, or a feedback α^k(t, x) on the problem's grid. [`read_policy`]
//! reads one into an [`ImportedFile`] (checked against the problem by
//! [`crate::rl::validate::validate`]); [`write_policy`] writes one. The report of
//! `mfg validate` ([`super::report`]) stores its policy in the same layout, so that a report is
//! also a policy file.

use super::hdf5::{attr_f64, attr_str, attr_u64, open_hdf5, replace_hdf5, vlu, Checker, Ctx};
use super::{Error, Result};
use crate::rl::validate::{Imported, ImportedFile, ImportedPolicy};
use ::hdf5 as h5;
use h5::types::VarLenUnicode;
use std::path::Path;

/// Value of the root attribute `format` of a policy file.
pub const POLICY_FORMAT: &str = "mfg-policy";
/// Version of the policy layout this crate writes and reads.
pub const POLICY_VERSION: u64 = 1;
/// The `format` of a validation report, whose `/policies` group is a policy file's.
pub const REPORT_FORMAT: &str = "mfg-rl-report";

/// Datasets larger than this many entries are refused before reading.
const MAX_ENTRIES: usize = 1 << 31;

/// Writes `file` as a policy file at `path` (atomically).
pub fn write_policy(path: impl AsRef<Path>, file: &ImportedFile) -> Result<()> {
    let path = path.as_ref();
    replace_hdf5(path, |tmp| {
        let f = super::create_h5(tmp).ctx(tmp, || "creating the file".into())?;
        attr_str(tmp, &f, "format", POLICY_FORMAT)?;
        attr_u64(tmp, &f, "format_version", POLICY_VERSION)?;
        attr_str(tmp, &f, "mfg_version", env!("CARGO_PKG_VERSION"))?;
        attr_f64(tmp, &f, "horizon", file.horizon)?;
        if let Some(s) = &file.source {
            attr_str(tmp, &f, "source", s)?;
        }
        write_policies(tmp, &f, &file.policies)?;
        f.close().ctx(tmp, || "closing the file".into())
    })
}

/// Writes the `/policies` group.
pub(super) fn write_policies(path: &Path, f: &h5::File, policies: &[ImportedPolicy]) -> Result<()> {
    let root = f
        .create_group("policies")
        .ctx(path, || "creating /policies".into())?;
    for p in policies {
        let g = root
            .create_group(&p.population)
            .ctx(path, || format!("creating /policies/{}", p.population))?;
        let put = |name: &str, shape: &[usize], data: &[f64]| -> Result<()> {
            g.new_dataset::<f64>()
                .shape(shape)
                .create(name)
                .and_then(|d| d.write_raw(data))
                .ctx(path, || {
                    format!("writing /policies/{}/{name}", p.population)
                })
        };
        match &p.data {
            Imported::Tabular {
                shape,
                pi,
                velocities_shape,
                velocities,
                ..
            } => {
                put("pi", shape, pi)?;
                put("velocities", velocities_shape, velocities)?;
            }
            Imported::Feedback { shape, alpha, .. } => put("alpha", shape, alpha)?,
        }
    }
    Ok(())
}

/// Reads an integer attribute written as unsigned (this crate) or signed (h5py, NumPy).
fn attr_int(r: &Checker<'_>, loc: &h5::Location, name: &str) -> Result<u64> {
    match loc.attr(name).and_then(|a| a.read_scalar::<u64>()) {
        Ok(v) => Ok(v),
        Err(_) => loc
            .attr(name)
            .and_then(|a| a.read_scalar::<i64>())
            .map_err(|e| r.damaged(format!("attribute {name}: {e}")))
            .and_then(|v| {
                u64::try_from(v).map_err(|_| r.damaged(format!("attribute {name} is {v}")))
            }),
    }
}

/// A dataset's shape and values (any floating-point type, converted to f64).
fn read_f64(r: &Checker<'_>, g: &h5::Group, name: &str) -> Result<(Vec<usize>, Vec<f64>)> {
    let d = r.any_dataset(g, name)?;
    let shape = d.shape();
    let n = shape
        .iter()
        .try_fold(1usize, |a, &b| a.checked_mul(b))
        .filter(|&n| n <= MAX_ENTRIES)
        .ok_or_else(|| {
            r.damaged(format!(
                "dataset {}/{name} has shape {shape:?}: too large",
                g.name()
            ))
        })?;
    let data = d.read_raw::<f64>().map_err(|e| {
        r.damaged(format!(
            "dataset {}/{name}: {e} (expected floating point)",
            g.name()
        ))
    })?;
    debug_assert_eq!(data.len(), n);
    Ok((shape, data))
}

/// Reads a policy file (or a validation report, whose `/policies` group has the same layout).
pub fn read_policy(path: impl AsRef<Path>) -> Result<ImportedFile> {
    let path = path.as_ref();
    let (file, file_size) = open_hdf5(path)?;
    let r = Checker { path, file_size };
    let not_policy = |reason: String| Error::NotMfg {
        path: path.to_path_buf(),
        reason,
    };
    let format = r.opt_string(&file, "format").map_err(|_| {
        not_policy(format!(
            "its `format` attribute is not a string; a policy file has format {POLICY_FORMAT:?}"
        ))
    })?;
    match format.as_deref() {
        Some(POLICY_FORMAT) | Some(REPORT_FORMAT) => {}
        Some(other) => {
            return Err(not_policy(format!(
                "its format is {other:?}; a policy file has format {POLICY_FORMAT:?} (an mfg \
                 result file is read with --solution)"
            )))
        }
        None => {
            return Err(not_policy(format!(
                "it has no `format` attribute; a policy file has format {POLICY_FORMAT:?}"
            )))
        }
    }
    let version = attr_int(&r, &file, "format_version")?;
    if version == 0 || version > POLICY_VERSION {
        return Err(Error::UnsupportedVersion {
            path: path.to_path_buf(),
            found: version.min(u64::from(u32::MAX)) as u32,
            supported: POLICY_VERSION as u32,
        });
    }
    let horizon = r.f64(&file, "horizon")?;
    let source = r.opt_string(&file, "source")?;
    let root = r.group(&file, "policies")?;
    let names = root
        .member_names()
        .map_err(|e| r.damaged(format!("/policies: {e}")))?;
    let mut policies = Vec::new();
    for name in names {
        let g = r.group(&root, &name)?;
        let members = g.member_names().unwrap_or_default();
        let has = |d: &str| members.iter().any(|m| m == d);
        let dataset = |d: &str| format!("/policies/{name}/{d}");
        if has("pi") {
            let (shape, pi) = read_f64(&r, &g, "pi")?;
            if !has("velocities") {
                return Err(r.damaged(format!(
                    "{} is missing: a tabular policy lists the velocity of every action",
                    dataset("velocities")
                )));
            }
            let (velocities_shape, velocities) = read_f64(&r, &g, "velocities")?;
            policies.push(ImportedPolicy {
                population: name.clone(),
                data: Imported::Tabular {
                    dataset: dataset("pi"),
                    shape,
                    pi,
                    velocities_dataset: dataset("velocities"),
                    velocities_shape,
                    velocities,
                },
            });
        }
        if has("alpha") {
            let (shape, alpha) = read_f64(&r, &g, "alpha")?;
            policies.push(ImportedPolicy {
                population: name.clone(),
                data: Imported::Feedback {
                    dataset: dataset("alpha"),
                    shape,
                    alpha,
                },
            });
        }
        if !has("pi") && !has("alpha") {
            return Err(r.damaged(format!(
                "/policies/{name} holds neither pi (tabular) nor alpha (feedback)"
            )));
        }
    }
    Ok(ImportedFile {
        path: path.display().to_string(),
        source,
        horizon,
        policies,
    })
}

/// Writes a string-array attribute.
pub(super) fn attr_strings(
    path: &Path,
    loc: &h5::Location,
    name: &str,
    values: &[String],
) -> Result<()> {
    let v: Vec<VarLenUnicode> = values.iter().map(|s| vlu(path, s)).collect::<Result<_>>()?;
    loc.new_attr::<VarLenUnicode>()
        .shape([v.len()])
        .create(name)
        .and_then(|a| a.write_raw(&v))
        .ctx(path, || format!("writing attribute {name}"))
}
