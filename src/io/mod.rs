//! Result files: HDF5 output of a solve ([`hdf5`]), written atomically and under an output
//! lock ([`crate::files`]), read back only after validation against the layout's schema.
//!
//! This layer sits above the core (`grid`, `problem`, `scheme`, `solve`): it reads a
//! [`crate::Solution`] and the [`crate::Problem`] it solves and never the other way round. The
//! layout of the files is documented in `docs/hdf5-layout.md`; policy files and the reports of
//! `mfg validate` ([`policy`], [`report`]) in `docs/rl.md`.

pub mod hdf5;
pub mod policy;
pub mod report;

pub use self::hdf5::{
    read, read_header, read_stationary, verify, write, write_stationary, Header, Run, RunState,
    Saved, SavedCoupling, SavedPopulation, SavedStationary, WriteOptions, FORMAT_NAME,
    FORMAT_VERSION,
};
pub use policy::{read_policy, write_policy};
pub use report::{write_report, ReportContext};

use std::path::{Path, PathBuf};

/// Everything that can go wrong reading or writing a result file. Each variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file does not exist.
    #[error("{}: no such file", path.display())]
    Missing {
        /// The file.
        path: PathBuf,
    },

    /// The path exists but is not a regular file (a directory, a FIFO, a device): refused
    /// before opening, so that a FIFO cannot block the reader.
    #[error(
        "{}: not a regular file ({kind}); mfg reads the .h5 files written by `mfg solve --out`",
        path.display()
    )]
    NotRegular {
        /// The path.
        path: PathBuf,
        /// What it is, e.g. `a FIFO`.
        kind: &'static str,
    },

    /// The file exists but is not HDF5 at all.
    #[error(
        "{}: not an HDF5 file (no HDF5 signature); mfg reads the .h5 files written by \
         `mfg solve --out`",
        path.display()
    )]
    NotHdf5 {
        /// The file.
        path: PathBuf,
    },

    /// An HDF5 file, but not one written by mfg.
    #[error("{}: not an mfg result file ({reason})", path.display())]
    NotMfg {
        /// The file.
        path: PathBuf,
        /// The mfg attribute or group that is missing.
        reason: String,
    },

    /// An mfg file of a newer format version than this program reads.
    #[error(
        "{}: written in mfg format version {found}; this mfg reads versions up to {supported}",
        path.display()
    )]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The file's `format_version`.
        found: u32,
        /// The newest version this program reads.
        supported: u32,
    },

    /// The HDF5 library cannot open the file: usually a truncated or damaged file.
    #[error(
        "{}: cannot be opened as HDF5: the file is truncated or corrupt ({detail})",
        path.display()
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The HDF5 library's message.
        detail: String,
    },

    /// A stationary result (no time axis) where a finite-horizon one was expected.
    #[error(
        "{}: holds a stationary result (fields without a time axis): read it with \
         io::read_stationary",
        path.display()
    )]
    Stationary {
        /// The file.
        path: PathBuf,
    },

    /// An mfg file that lacks a part of the layout or has a part of the wrong shape.
    #[error("{}: damaged mfg result file: {what}", path.display())]
    Damaged {
        /// The file.
        path: PathBuf,
        /// The missing or misshapen part, e.g. `population_1/m: shape [3, 10], expected [11, 10]`.
        what: String,
    },

    /// Writing, locking or replacing the file failed (disk full, permissions, another writer).
    #[error(transparent)]
    File(#[from] crate::files::Error),

    /// An operating-system error while reading (permissions…).
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// A system error the HDF5 library met while writing (no space left on device…).
    #[error("{}: {action}: {source}", path.display())]
    System {
        /// The file.
        path: PathBuf,
        /// What was being done, e.g. `writing /populations/a/u`.
        action: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// An error reported by the HDF5 library while reading or writing.
    #[error("{}: HDF5 error while {action}: {source}", path.display())]
    Hdf5 {
        /// The file.
        path: PathBuf,
        /// What was being done, e.g. `writing population_0/u`.
        action: String,
        /// The HDF5 library's error.
        #[source]
        source: ::hdf5::Error,
    },

    /// The problem or solution handed to the writer is inconsistent, or the configuration stored
    /// in a file cannot be rebuilt.
    #[error(transparent)]
    Problem(#[from] crate::Error),
}

impl Error {
    /// The same error reported under `to` where it named `from` (a temporary file).
    pub(crate) fn renamed(self, from: &std::path::Path, to: &std::path::Path) -> Self {
        let fix = |p: PathBuf| if p == from { to.to_path_buf() } else { p };
        match self {
            Error::Hdf5 {
                path,
                action,
                source,
            } => Error::Hdf5 {
                path: fix(path),
                action,
                source,
            },
            Error::Damaged { path, what } => Error::Damaged {
                path: fix(path),
                what: format!("the file just written does not pass its own checks: {what}"),
            },
            Error::Corrupt { path, detail } => Error::Corrupt {
                path: fix(path),
                detail,
            },
            Error::Io { path, source } => Error::Io {
                path: fix(path),
                source,
            },
            Error::System {
                path,
                action,
                source,
            } => Error::System {
                path: fix(path),
                action,
                source,
            },
            e => e,
        }
    }
}

/// Result alias of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Creates (truncating) an HDF5 file whose descriptor is not inherited by child processes. The
/// newest object formats carry checksums on all metadata (object headers, B-trees, heaps, chunk
/// indexes), so that a flipped bit is found when the file is read.
pub(crate) fn create_h5(path: &Path) -> ::hdf5::Result<::hdf5::File> {
    let file = ::hdf5::File::with_options()
        .with_fapl(|p| p.libver_latest())
        .create(path)?;
    close_on_exec(&file);
    Ok(file)
}

/// Opens an HDF5 file read-only, its descriptor not inherited by child processes.
pub(crate) fn open_h5(path: &Path) -> ::hdf5::Result<::hdf5::File> {
    let file = ::hdf5::File::open(path)?;
    close_on_exec(&file);
    Ok(file)
}

/// Marks the descriptor of `file` close-on-exec. HDF5 opens files without `O_CLOEXEC` and
/// locks them with `flock`, which belongs to the open file description: a child process started
/// while the file is open (by another thread, e.g. `mfg` spawned by a test or a workflow) would
/// inherit the descriptor and keep the lock for its whole life, and the next open of the file
/// would fail with "unable to lock file". Best effort: a driver without a descriptor is left as
/// it is.
#[cfg(unix)]
fn close_on_exec(file: &::hdf5::File) {
    let mut handle: *mut std::ffi::c_void = std::ptr::null_mut();
    // SAFETY: `file.id()` is a valid open file identifier for the duration of the call; for the
    // default (sec2) driver H5Fget_vfd_handle stores a pointer to the driver's `int` descriptor,
    // which stays valid while the file is open; fcntl(F_SETFD) only changes descriptor flags.
    unsafe {
        let status =
            hdf5_sys::h5f::H5Fget_vfd_handle(file.id(), hdf5_sys::h5p::H5P_DEFAULT, &mut handle);
        if status >= 0 && !handle.is_null() {
            let fd = *(handle as *const libc::c_int);
            let flags = libc::fcntl(fd, libc::F_GETFD);
            if flags >= 0 {
                libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
            }
        }
    }
}

#[cfg(not(unix))]
fn close_on_exec(_file: &::hdf5::File) {}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// A child started while a file is open must not keep its lock: before the descriptors were
    /// marked close-on-exec, the child (here `sleep`) inherited the exclusive lock of the newly
    /// created file and the reopen failed with "unable to lock file".
    #[test]
    fn a_child_process_does_not_inherit_the_file_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("locked.h5");
        // No other test thread may start a child while the file is being created.
        let _guard = crate::files::fork_guard();
        let file = create_h5(&path).unwrap();
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        drop(file);
        let reopened = open_h5(&path);
        child.kill().unwrap();
        child.wait().unwrap();
        reopened.unwrap();
    }
}
