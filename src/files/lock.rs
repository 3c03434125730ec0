//! One writer per output path: an advisory lock (`flock`) on a sidecar file `.NAME.lock` beside
//! the target, held from the start of a solve to its last write. A second process that wants to
//! write the same path fails at once with [`Error::Locked`], which names the holder (its process
//! id and start time, read from the lock file).
//!
//! The kernel drops the lock when its holder dies, however it dies, so a stale lock file never
//! blocks anyone. Within one process the lock is shared: acquiring a path this process already
//! holds returns the same lock, so the library's `write` can lock on its own while the `mfg`
//! command holds the lock for the whole solve.

use super::{parent_dir, stale, Error, Result};
use std::collections::HashMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};

/// Locks this process holds, by absolute target path.
static HELD: Mutex<Option<HashMap<PathBuf, Weak<Held>>>> = Mutex::new(None);

fn held() -> std::sync::MutexGuard<'static, Option<HashMap<PathBuf, Weak<Held>>>> {
    HELD.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Debug)]
struct Held {
    key: PathBuf,
    target: PathBuf,
    lock_path: PathBuf,
    _file: File,
    notices: Vec<String>,
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(map) = held().as_mut() {
            if map.get(&self.key).is_some_and(|w| w.strong_count() == 0) {
                map.remove(&self.key);
            }
        }
        // Unlink before unlocking (the file closes after this): a process that opened the old
        // file meanwhile sees that its inode is no longer the path's and retries.
        let _ = std::fs::remove_file(&self.lock_path);
    }
}

/// The advisory lock of one output path (see the module documentation). Released on drop.
#[derive(Debug, Clone)]
pub struct OutputLock(Arc<Held>);

/// The sidecar lock file of `target`: `.NAME.lock` in the same directory.
pub fn lock_path(target: &Path) -> Option<PathBuf> {
    let name = target.file_name()?.to_string_lossy().into_owned();
    Some(target.with_file_name(format!(".{name}.lock")))
}

impl OutputLock {
    /// Takes the lock of `target` (whose directory must exist), or shares it when this process
    /// already holds it. A new lock also clears the temporary files that dead processes left
    /// beside `target` ([`OutputLock::notices`] says what was done).
    pub fn acquire(target: &Path) -> Result<OutputLock> {
        let key = absolute(target)?;
        let mut guard = held();
        let map = guard.get_or_insert_with(HashMap::new);
        if let Some(h) = map.get(&key).and_then(Weak::upgrade) {
            return Ok(OutputLock(h));
        }
        let lock_path = lock_path(target).ok_or_else(|| {
            Error::io(
                target,
                "cannot lock",
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"),
            )
        })?;
        let file = lock_file(target, &lock_path)?;
        let notices = stale::sweep(target);
        let h = Arc::new(Held {
            key: key.clone(),
            target: target.to_path_buf(),
            lock_path,
            _file: file,
            notices,
        });
        map.insert(key, Arc::downgrade(&h));
        Ok(OutputLock(h))
    }

    /// The locked target path, as given to [`OutputLock::acquire`].
    pub fn target(&self) -> &Path {
        &self.0.target
    }

    /// What taking the lock cleaned up: temporary files of dead processes removed, those of
    /// running processes left alone. Empty when there was nothing to say.
    pub fn notices(&self) -> &[String] {
        &self.0.notices
    }
}

/// Opens and locks the lock file, retrying when the file was replaced between the open and the
/// lock (its previous holder unlinked it on release).
fn lock_file(target: &Path, lock_path: &Path) -> Result<File> {
    let io = |action, e| Error::io(target, action, e);
    for _ in 0..16 {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(lock_path)
            .map_err(|e| io("cannot create its lock file", e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                let holder = match text.trim() {
                    "" => format!(
                        "another process (it holds the lock on {})",
                        lock_path.display()
                    ),
                    t => t.to_string(),
                };
                return Err(Error::Locked {
                    path: target.to_path_buf(),
                    holder,
                });
            }
            Err(TryLockError::Error(e)) => return Err(io("cannot lock", e)),
        }
        if !same_file(&file, lock_path) {
            continue;
        }
        let info = format!(
            "process {} (started {})\n",
            std::process::id(),
            super::now_rfc3339()
        );
        file.set_len(0)
            .and_then(|()| file.write_all(info.as_bytes()))
            .map_err(|e| io("cannot write its lock file", e))?;
        return Ok(file);
    }
    Err(io(
        "cannot lock",
        std::io::Error::other("its lock file keeps being replaced by other processes"),
    ))
}

/// Whether the open `file` is still the one at `path`.
fn same_file(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), std::fs::metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        path.exists()
    }
}

/// `target` with its directory resolved (symbolic links, `..`): two spellings of one path give
/// one key.
fn absolute(target: &Path) -> Result<PathBuf> {
    let dir = parent_dir(target);
    let dir = dir
        .canonicalize()
        .map_err(|e| Error::io(target, "cannot lock: its directory is not accessible", e))?;
    Ok(match target.file_name() {
        Some(name) => dir.join(name),
        None => dir,
    })
}

/// Unlinks the lock files of every lock this process holds (see [`super::abandon_all`]); the
/// locks themselves end with the process. The registry stays locked, so that no new lock is
/// taken between the clean-up and the exit that follows it.
pub(crate) fn release_all() {
    let guard = held();
    if let Some(map) = guard.as_ref() {
        for h in map.values().filter_map(Weak::upgrade) {
            let _ = std::fs::remove_file(&h.lock_path);
            // Never dropped: its drop would take the registry lock this function keeps.
            std::mem::forget(h);
        }
    }
    std::mem::forget(guard);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_is_shared_in_process_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("run.h5");
        let a = OutputLock::acquire(&target).unwrap();
        let lp = lock_path(&target).unwrap();
        assert!(lp.exists());
        let text = std::fs::read_to_string(&lp).unwrap();
        assert!(
            text.contains(&format!("process {}", std::process::id())),
            "{text}"
        );
        // The same path, spelled differently, is the same lock.
        let b = OutputLock::acquire(&dir.path().join(".").join("run.h5")).unwrap();
        assert!(Arc::ptr_eq(&a.0, &b.0));
        drop(a);
        assert!(lp.exists(), "still held by b");
        drop(b);
        assert!(!lp.exists(), "lock file removed on release");
        // Free again.
        let c = OutputLock::acquire(&target).unwrap();
        drop(c);
    }

    #[test]
    fn a_lock_held_through_another_open_file_is_refused() {
        // Another open file description of the same lock file behaves like another process.
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("run.h5");
        let lp = lock_path(&target).unwrap();
        let other = File::create(&lp).unwrap();
        other.try_lock().unwrap();
        std::fs::write(&lp, "process 4242 (started 2025-01-01T00:00:00Z)\n").unwrap();
        let e = OutputLock::acquire(&target).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, Error::Locked { .. }), "{e:?}");
        assert!(
            msg.contains("run.h5: is being written by process 4242 (started 2025-01-01"),
            "{msg}"
        );
        drop(other);
        let ok = OutputLock::acquire(&target).unwrap();
        drop(ok);
    }

    #[test]
    fn missing_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let e = OutputLock::acquire(&dir.path().join("nope/run.h5")).unwrap_err();
        assert!(e.to_string().contains("directory"), "{e}");
    }
}
