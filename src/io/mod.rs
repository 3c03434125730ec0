//! Result files: HDF5 output of a solve ([`hdf5`]), written atomically and under an output
//! lock ([`crate::files`]), read back only after validation against the layout's schema.
//!
//! This layer sits above the core (`grid`, `problem`, `scheme`, `solve`): it reads a
//! [`crate::Solution`] and the [`crate::Problem`] it solves and never the other way round. The
//! layout of the files is documented in `docs/hdf5-layout.md`.

pub mod hdf5;

pub use self::hdf5::{
    read, read_header, verify, write, Header, Run, RunState, Saved, SavedCoupling, SavedPopulation,
    WriteOptions, FORMAT_NAME, FORMAT_VERSION,
};

use std::path::PathBuf;

/// Everything that can go wrong reading or writing a result file. Each variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file does not exist.
    #[error("{}: no such file", path.display())]
    Missing { path: PathBuf },

    /// The path exists but is not a regular file (a directory, a FIFO, a device): refused
    /// before opening, so that a FIFO cannot block the reader.
    #[error("{}: not a regular file ({kind}); mfg reads the .h5 files written by `mfg solve --out`", path.display())]
    NotRegular { path: PathBuf, kind: &'static str },

    /// The file exists but is not HDF5 at all.
    #[error(
        "{}: not an HDF5 file (no HDF5 signature); mfg reads the .h5 files written by \
         `mfg solve --out`",
        path.display()
    )]
    NotHdf5 { path: PathBuf },

    /// An HDF5 file, but not one written by mfg.
    #[error("{}: not an mfg result file ({reason})", path.display())]
    NotMfg { path: PathBuf, reason: String },

    /// An mfg file of a newer format version than this program reads.
    #[error(
        "{}: written in mfg format version {found}; this mfg reads versions up to {supported}",
        path.display()
    )]
    UnsupportedVersion {
        path: PathBuf,
        found: u32,
        supported: u32,
    },

    /// The HDF5 library cannot open the file: usually a truncated or damaged file.
    #[error(
        "{}: cannot be opened as HDF5: the file is truncated or corrupt ({detail})",
        path.display()
    )]
    Corrupt { path: PathBuf, detail: String },

    /// An mfg file that lacks a part of the layout or has a part of the wrong shape.
    #[error("{}: damaged mfg result file: {what}", path.display())]
    Damaged { path: PathBuf, what: String },

    /// Writing, locking or replacing the file failed (disk full, permissions, another writer).
    #[error(transparent)]
    File(#[from] crate::files::Error),

    /// An operating-system error while reading (permissions…).
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A system error the HDF5 library met while writing (no space left on device…).
    #[error("{}: {action}: {source}", path.display())]
    System {
        path: PathBuf,
        action: String,
        #[source]
        source: std::io::Error,
    },

    /// An error reported by the HDF5 library while reading or writing.
    #[error("{}: HDF5 error while {action}: {source}", path.display())]
    Hdf5 {
        path: PathBuf,
        action: String,
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
