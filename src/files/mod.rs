//! Files that can be trusted after a crash: atomic replacement ([`atomic`]), one writer per
//! output path ([`lock`]) and the clean-up of temporary files that dead processes left behind
//! ([`stale`]).
//!
//! Nothing here knows about HDF5 or pictures: [`crate::io`] (result files) and [`crate::plot`]
//! (PNG and GIF) write through it. The guarantees, stated once for all writers:
//! - a crash, `kill -9` or Ctrl-C at any moment leaves under the final name either the previous
//!   complete file or the new complete file, never a partial one;
//! - a write reports success only once the data and the directory entry are on disk (`fsync` of
//!   the file, rename, `fsync` of the directory); every failure (a full disk, a read-only or
//!   vanished directory) is an [`Error`] naming the path, and the previous file stays;
//! - temporary files are named `.NAME.tmp-PID-N` beside the target; a failed write removes its
//!   own, a second Ctrl-C removes them before the process exits ([`abandon_all`]), and the next
//!   writer of the same target removes those of processes that no longer exist.

pub mod atomic;
pub mod lock;
pub mod stale;

pub use atomic::{replace_with, write_bytes, AtomicFile, Pending};
pub use lock::OutputLock;

use std::path::{Path, PathBuf};

/// What went wrong with a file: the path, what was being done, and the system's reason.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An operating-system error (no space left, permission denied, no such directory…).
    #[error("{}: {action}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done, e.g. `cannot flush the new file to disk`.
        action: &'static str,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// Another process holds the output lock of this path.
    #[error(
        "{}: is being written by {holder}; wait for it to finish (or stop it) or write to \
         another file",
        path.display()
    )]
    Locked {
        /// The output path.
        path: PathBuf,
        /// Who holds it: the process id and start time read from the lock file.
        holder: String,
    },
}

/// Result alias of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: &Path, action: &'static str, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            action,
            source,
        }
    }
}

/// The directory holding `path` (`.` for a bare file name).
pub(crate) fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Removes every temporary file this process is writing and every output lock it holds. Meant
/// for a process that is about to exit without unwinding (a second Ctrl-C): the files under
/// their final names are untouched, and nothing of this process is left beside them.
pub fn abandon_all() {
    atomic::remove_pending();
    lock::release_all();
}

/// Whether process `pid` exists on this machine (`kill(pid, 0)`; a process of another user
/// counts as existing). `None` when this platform cannot tell.
pub fn process_exists(pid: u32) -> Option<bool> {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return Some(false);
        };
        if pid <= 0 {
            return Some(false);
        }
        // SAFETY: signal 0 only checks that the process exists; it sends nothing.
        let r = unsafe { libc::kill(pid, 0) };
        if r == 0 {
            return Some(true);
        }
        Some(std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH))
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        None
    }
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

/// Held by the unit tests that start a child process or that need a freshly opened HDF5 file
/// to be inherited by none: HDF5 opens without `O_CLOEXEC` and the descriptor is marked
/// close-on-exec just after (`crate::io`), so a child started by another test thread in between
/// would hold the file's lock for its life.
#[cfg(test)]
pub(crate) fn fork_guard() -> std::sync::MutexGuard<'static, ()> {
    static GUARD: std::sync::Mutex<()> = std::sync::Mutex::new(());
    GUARD.lock().unwrap_or_else(|e| e.into_inner())
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
