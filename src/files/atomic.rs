//! Atomic replacement of a file: the new content goes to a temporary file beside the target
//! (same directory, so the rename stays on one file system), which is flushed to disk, renamed
//! over the target, and the directory is flushed so that the rename itself survives a power
//! cut. Until the rename the target is untouched; after it, it is the complete new file.
//!
//! Every temporary file in progress is registered, so that `remove_pending` (called by a
//! second Ctrl-C just before the process exits) can delete them.

use super::{parent_dir, Error, Result};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Temporary files of this process that exist or are about to be created.
static PENDING: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

fn pending() -> std::sync::MutexGuard<'static, BTreeSet<PathBuf>> {
    // A panic while holding the lock cannot leave the set inconsistent (single inserts and
    // removes): keep using it.
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

/// The prefix of the temporary files of `target`'s file name: `.NAME.tmp-`.
pub(crate) fn temp_prefix(file_name: &str) -> String {
    format!(".{file_name}.tmp-")
}

/// A temporary file beside `target` that becomes `target` on [`Pending::commit`] and is removed
/// when dropped uncommitted (an error, a panic).
#[derive(Debug)]
pub struct Pending {
    target: PathBuf,
    tmp: PathBuf,
    committed: bool,
}

impl Pending {
    /// Reserves a temporary name for `target`: `.NAME.tmp-PID-N` in the same directory, unique
    /// per process and call. Nothing is created yet.
    pub fn new(target: &Path) -> Result<Self> {
        let name = target
            .file_name()
            .ok_or_else(|| {
                Error::io(
                    target,
                    "cannot write",
                    std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"),
                )
            })?
            .to_string_lossy()
            .into_owned();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp =
            target.with_file_name(format!("{}{}-{n}", temp_prefix(&name), std::process::id()));
        pending().insert(tmp.clone());
        Ok(Pending {
            target: target.to_path_buf(),
            tmp,
            committed: false,
        })
    }

    /// The temporary path to write to.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// The final path.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flushes the temporary file to disk, renames it over the target and flushes the
    /// directory. On an error before the rename the temporary file is removed and the target
    /// is untouched.
    pub fn commit(mut self) -> Result<()> {
        std::fs::File::open(&self.tmp)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io(&self.target, "cannot flush the new file to disk", e))?;
        std::fs::rename(&self.tmp, &self.target)
            .map_err(|e| Error::io(&self.target, "cannot rename the new file into place", e))?;
        // The rename is done: the inode now belongs to the target and must not be deleted.
        pending().remove(&self.tmp);
        self.committed = true;
        sync_dir(&parent_dir(&self.target))
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
            pending().remove(&self.tmp);
        }
    }
}

/// Flushes a directory's entries (after a rename) to disk. File systems that cannot sync a
/// directory (EINVAL) are accepted: there the rename is as durable as the platform allows.
fn sync_dir(dir: &Path) -> Result<()> {
    let r = std::fs::File::open(dir).and_then(|d| d.sync_all());
    match r {
        Ok(()) => Ok(()),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::InvalidInput | std::io::ErrorKind::Unsupported
            ) =>
        {
            Ok(())
        }
        Err(e) => Err(Error::io(
            dir,
            "the new file is in place, but its directory cannot be flushed to disk",
            e,
        )),
    }
}

/// Calls `write` with a temporary path beside `target` (which it must create), then moves the
/// result to `target` as [`Pending::commit`] does. On any error the temporary file is removed
/// and `target` is untouched.
pub fn replace_with<T, E, F>(target: &Path, write: F) -> Result<T, E>
where
    F: FnOnce(&Path) -> Result<T, E>,
    E: From<Error>,
{
    let pending = Pending::new(target)?;
    let value = write(pending.path())?;
    pending.commit()?;
    Ok(value)
}

/// Writes `bytes` to `target` atomically.
pub fn write_bytes(target: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = AtomicFile::create(target)?;
    f.write_all(bytes)
        .map_err(|e| Error::io(target, "cannot write", e))?;
    f.commit()
}

/// A file written through [`Write`] and moved into place by [`AtomicFile::commit`]; dropping
/// it uncommitted removes it.
#[derive(Debug)]
pub struct AtomicFile {
    file: std::io::BufWriter<std::fs::File>,
    pending: Pending,
}

impl AtomicFile {
    /// Creates the temporary file of `target`.
    pub fn create(target: &Path) -> Result<Self> {
        let pending = Pending::new(target)?;
        let file = std::fs::File::create_new(pending.path())
            .map_err(|e| Error::io(target, "cannot create a temporary file beside it", e))?;
        Ok(AtomicFile {
            file: std::io::BufWriter::new(file),
            pending,
        })
    }

    /// Flushes the buffer, flushes the file to disk and renames it over the target.
    pub fn commit(self) -> Result<()> {
        let AtomicFile { file, pending } = self;
        let target = pending.target().to_path_buf();
        let file = file
            .into_inner()
            .map_err(|e| Error::io(&target, "cannot write", e.into_error()))?;
        file.sync_all()
            .map_err(|e| Error::io(&target, "cannot flush the new file to disk", e))?;
        drop(file);
        pending.commit()
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Deletes every temporary file this process is writing (see [`super::abandon_all`]). The set
/// stays locked afterwards, so that no new temporary file of this process is registered
/// between the clean-up and the exit that follows it.
pub(crate) fn remove_pending() {
    let guard = pending();
    for tmp in guard.iter() {
        let _ = std::fs::remove_file(tmp);
    }
    std::mem::forget(guard);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn failed_write_leaves_target_and_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a.bin");
        std::fs::write(&target, b"old").unwrap();
        let e: Result<()> = replace_with(&target, |tmp| {
            std::fs::write(tmp, b"partial").unwrap();
            Err(Error::io(
                tmp,
                "simulated failure",
                std::io::ErrorKind::Other.into(),
            ))
        });
        assert!(e.is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        assert_eq!(entries(dir.path()), ["a.bin"], "temporary file left behind");
        replace_with(&target, |tmp| {
            std::fs::write(tmp, b"new").map_err(|e| Error::io(tmp, "write", e))
        })
        .unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        assert_eq!(entries(dir.path()), ["a.bin"]);
    }

    #[test]
    fn uncommitted_atomic_file_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("p.png");
        {
            let mut f = AtomicFile::create(&target).unwrap();
            f.write_all(b"half a picture").unwrap();
            // Dropped without commit, as on an encoder error.
        }
        assert!(entries(dir.path()).is_empty());
        write_bytes(&target, b"picture").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"picture");
        assert_eq!(entries(dir.path()), ["p.png"]);
    }

    #[test]
    fn temp_names_carry_the_pid_and_are_registered() {
        let dir = tempfile::tempdir().unwrap();
        let p = Pending::new(&dir.path().join("run.h5")).unwrap();
        let name = p.path().file_name().unwrap().to_string_lossy().into_owned();
        let prefix = format!(".run.h5.tmp-{}-", std::process::id());
        assert!(name.starts_with(&prefix), "{name}");
        assert!(pending().contains(p.path()));
        let tmp = p.path().to_path_buf();
        drop(p);
        assert!(!pending().contains(&tmp));
    }

    #[test]
    fn missing_directory_is_an_error_naming_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("no/such/dir/x.png");
        let e = write_bytes(&target, b"x").unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("x.png") && msg.contains("temporary file"),
            "{msg}"
        );
    }
}
