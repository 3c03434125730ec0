//! Atomic replacement of a file: write a temporary file beside the target, flush it to disk,
//! then rename it over the target. A crash, a kill or Ctrl-C at any moment leaves either the
//! previous complete file or the new complete file under the final name, never a partial one
//! (a stray temporary `.NAME.tmp-PID-N` may remain after a hard kill).

use super::{Error, Result};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The temporary path used for `target`: hidden, in the same directory (so that the rename
/// stays on one file system), unique per process and call.
pub fn temp_path(target: &Path) -> Result<PathBuf> {
    let name = target.file_name().ok_or_else(|| Error::Io {
        path: target.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"),
    })?;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = format!(".{}.tmp-{}-{n}", name.to_string_lossy(), std::process::id());
    Ok(target.with_file_name(tmp))
}

/// Calls `write` with a temporary path beside `target`, then moves the result to `target`.
/// On any error the temporary file is removed and `target` is untouched.
pub fn replace_with<F>(target: &Path, write: F) -> Result<()>
where
    F: FnOnce(&Path) -> Result<()>,
{
    let tmp = temp_path(target)?;
    let result = write(&tmp).and_then(|()| {
        // Flush the data before the rename makes it visible under the final name.
        std::fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(|source| Error::Io {
                path: tmp.clone(),
                source,
            })?;
        std::fs::rename(&tmp, target).map_err(|source| Error::Io {
            path: target.to_path_buf(),
            source,
        })
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
        return result;
    }
    // Make the rename itself durable (best effort: not every platform can open a directory).
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_write_leaves_target_and_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a.bin");
        std::fs::write(&target, b"old").unwrap();
        let e = replace_with(&target, |tmp| {
            std::fs::write(tmp, b"partial").unwrap();
            Err(Error::Damaged {
                path: tmp.to_path_buf(),
                what: "simulated failure".into(),
            })
        });
        assert!(e.is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "temporary file left behind");
        replace_with(&target, |tmp| {
            std::fs::write(tmp, b"new").map_err(|source| Error::Io {
                path: tmp.to_path_buf(),
                source,
            })
        })
        .unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
    }
}
