//! netCDF-4 dimension scales: the coordinate datasets `t`, `y`, `x` (and `iteration`, `k`, `j`)
//! are marked as HDF5 dimension scales and attached to every dimension of the fields they index,
//! with the semantics of the HDF5 high-level library's `H5DSset_scale` / `H5DSattach_scale`
//! (attributes `CLASS`, `NAME`, `REFERENCE_LIST`, `DIMENSION_LIST`). That is what makes netCDF
//! readers (xarray with h5netcdf or netcdf4, ncdump) show named dimensions with coordinates.
//!
//! hdf5-metno has no binding of these functions, so they are declared here and linked from
//! `libhdf5_hl` (the `hl` feature of `hdf5-sys`); every call holds hdf5-metno's library lock,
//! as its own calls do.

use super::super::{Error, Result};
use ::hdf5 as h5;
use hdf5_sys::h5::herr_t;
use hdf5_sys::h5i::hid_t;
use std::ffi::CString;
use std::os::raw::{c_char, c_uint};
use std::path::Path;

extern "C" {
    fn H5DSset_scale(dsid: hid_t, dimname: *const c_char) -> herr_t;
    fn H5DSattach_scale(did: hid_t, dsid: hid_t, idx: c_uint) -> herr_t;
}

fn check(path: &Path, r: herr_t, action: impl FnOnce() -> String) -> Result<()> {
    if r < 0 {
        return Err(Error::Hdf5 {
            path: path.to_path_buf(),
            action: action(),
            source: h5::Error::from("the HDF5 high-level library reported an error"),
        });
    }
    Ok(())
}

/// Marks `scale` as the dimension scale (coordinate variable) of the dimension `name`.
pub(super) fn set_scale(path: &Path, scale: &h5::Dataset, name: &str) -> Result<()> {
    let c = CString::new(name).map_err(|_| Error::Damaged {
        path: path.to_path_buf(),
        what: format!("dimension name {name:?} contains a NUL byte"),
    })?;
    // SAFETY: `scale` is an open dataset for the whole call and `c` a NUL-terminated string;
    // the HDF5 library lock serialises this call with every other HDF5 call of the process.
    let r = h5::sync::sync(|| unsafe { H5DSset_scale(scale.id(), c.as_ptr()) });
    check(path, r, || {
        format!("marking {} as dimension scale", scale.name())
    })
}

/// Attaches the dimension scales `scales[i]` to dimension `i` of `data`.
pub(super) fn attach(path: &Path, data: &h5::Dataset, scales: &[&h5::Dataset]) -> Result<()> {
    if data.ndim() != scales.len() {
        return Err(Error::Damaged {
            path: path.to_path_buf(),
            what: format!(
                "{} has {} dimensions but {} scales were given",
                data.name(),
                data.ndim(),
                scales.len()
            ),
        });
    }
    for (i, s) in scales.iter().enumerate() {
        let idx = i as c_uint;
        // SAFETY: both datasets are open for the whole call, `idx` is below the rank of `data`
        // (checked above); the library lock serialises the call.
        let r = h5::sync::sync(|| unsafe { H5DSattach_scale(data.id(), s.id(), idx) });
        check(path, r, || {
            format!("attaching {} to dimension {i} of {}", s.name(), data.name())
        })?;
    }
    Ok(())
}
