//! Temporary files of processes that no longer exist: a `kill -9` (or a power cut) during a
//! write leaves `.NAME.tmp-PID-N` beside the target. The next writer of the same target removes
//! those whose process is gone and mentions those of running processes (left alone: they may
//! still be writing).

use super::atomic::temp_prefix;
use super::{parent_dir, process_exists};
use std::path::Path;

/// The process id in a temporary name's tail `PID-N`.
fn pid_of(tail: &str) -> Option<u32> {
    let (pid, n) = tail.split_once('-')?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

/// Removes the temporary files of `target` left by processes that no longer exist. Returns one
/// notice per file found (removed, or left alone because its process is running).
pub fn sweep(target: &Path) -> Vec<String> {
    let Some(name) = target.file_name() else {
        return Vec::new();
    };
    let prefix = temp_prefix(&name.to_string_lossy());
    sweep_matching(&parent_dir(target), |file| {
        file.strip_prefix(prefix.as_str()).and_then(pid_of)
    })
}

/// Like [`sweep`], for the temporary files of every target in `dir` (a directory of pictures).
pub fn sweep_dir(dir: &Path) -> Vec<String> {
    sweep_matching(dir, |file| {
        let rest = file.strip_prefix('.')?;
        let at = rest.rfind(".tmp-")?;
        pid_of(&rest[at + ".tmp-".len()..])
    })
}

fn sweep_matching(dir: &Path, pid_in: impl Fn(&str) -> Option<u32>) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let me = std::process::id();
    let mut notices = Vec::new();
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = pid_in(&file) else { continue };
        if pid == me {
            continue;
        }
        let path = entry.path();
        let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
        match process_exists(pid) {
            Some(false) => match std::fs::remove_file(&path) {
                Ok(()) => notices.push(format!(
                    "removed {} ({size} bytes), a temporary file of process {pid}, which no \
                     longer runs (killed while writing)",
                    path.display()
                )),
                Err(e) => notices.push(format!(
                    "{} is a temporary file of process {pid}, which no longer runs, and cannot \
                     be removed: {e}",
                    path.display()
                )),
            },
            Some(true) => notices.push(format!(
                "{} ({size} bytes) is a temporary file of process {pid}, which is still \
                 running: left alone",
                path.display()
            )),
            None => notices.push(format!(
                "{} ({size} bytes) is a temporary file of process {pid}: left alone (this \
                 platform cannot tell whether that process runs)",
                path.display()
            )),
        }
    }
    notices.sort();
    notices
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A process id that is certainly not running: a child that has exited and been reaped.
    fn dead_pid() -> u32 {
        let _guard = crate::files::fork_guard();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    #[test]
    fn temp_files_of_dead_processes_are_removed_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("run.h5");
        let dead = dir.path().join(format!(".run.h5.tmp-{}-0", dead_pid()));
        let live = dir.path().join(format!(
            ".run.h5.tmp-{}-3",
            std::os::unix::process::parent_id()
        ));
        let other = dir.path().join(format!(".other.h5.tmp-{}-0", dead_pid()));
        let unrelated = dir.path().join(".run.h5.tmp-notes");
        for p in [&dead, &live, &other, &unrelated] {
            std::fs::write(p, b"x").unwrap();
        }
        let notices = sweep(&target);
        assert!(!dead.exists() && live.exists() && other.exists() && unrelated.exists());
        assert_eq!(notices.len(), 2, "{notices:?}");
        assert!(notices
            .iter()
            .any(|n| n.contains("removed") && n.contains("no longer runs")));
        assert!(notices.iter().any(|n| n.contains("still running")));
        // The directory sweep finds the other target's file too.
        let notices = sweep_dir(dir.path());
        assert!(
            !other.exists() && live.exists() && unrelated.exists(),
            "{notices:?}"
        );
    }

    #[test]
    fn names_are_parsed_strictly() {
        assert_eq!(pid_of("123-4"), Some(123));
        assert_eq!(pid_of("123-"), None);
        assert_eq!(pid_of("123"), None);
        assert_eq!(pid_of("x-1"), None);
        assert_eq!(pid_of("12-1a"), None);
    }
}
