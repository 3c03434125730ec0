//! A full file system: a result, a checkpoint or a picture that does not fit is a non-zero exit
//! naming the path and the system's reason, the previous result stays intact, and nothing
//! partial is left under the final name or beside it. The file system is a small tmpfs, which
//! needs root to mount: as another user the test says SKIPPED on stderr and checks nothing (a
//! root user whose mount fails makes it fail).

mod cli_common;

use cli_common::{code, example_text, run, s, stderr};
use std::path::{Path, PathBuf};

/// A tmpfs of a given size, unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("SKIPPED: mounting a small tmpfs needs root; the full-disk test did not run");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let o = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size}"),
                "tmpfs",
                s(dir.path()),
            ])
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "running as root but cannot mount a tmpfs: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        Some(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills the file system up to `leave` free bytes.
    fn fill(&self, leave: u64) {
        let free = available(self.path());
        let filler = self.path().join("filler");
        let n = free.saturating_sub(leave) as usize;
        std::fs::write(&filler, vec![1u8; n]).unwrap();
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.dir.path())
            .status();
    }
}

fn available(dir: &Path) -> u64 {
    let c = std::ffi::CString::new(dir.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path and a zeroed out-parameter.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::statvfs(c.as_ptr(), &mut st) }, 0);
    st.f_bavail as u64 * st.f_frsize as u64
}

/// The 1D example at `n` nodes and `steps` steps, written into `dir`.
fn config(dir: &Path, name: &str, n: usize, steps: usize) -> PathBuf {
    let text = example_text("two_groups_1d.toml")
        .replacen("n = 201", &format!("n = {n}"), 1)
        .replacen("steps = 100", &format!("steps = {steps}"), 1);
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Names in `dir` other than `keep`.
fn others(dir: &Path, keep: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !keep.contains(&n.as_str()))
        .collect();
    v.sort();
    v
}

#[test]
fn a_full_disk_fails_loudly_and_keeps_the_previous_result() {
    let Some(fs) = Tmpfs::mount("2m") else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let small = config(work.path(), "small.toml", 21, 10);
    let large = config(work.path(), "large.toml", 201, 100);
    let out = fs.path().join("run.h5");

    let o = run(&["solve", s(&small), "--out", s(&out), "-q"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let before = std::fs::read(&out).unwrap();
    fs.fill(16 * 1024);

    // The result does not fit: exit 1, the path and the reason named, the old file intact.
    let o = run(&["solve", s(&large), "--out", s(&out), "-q"]);
    let err = stderr(&o);
    assert_eq!(code(&o), 1, "{err}");
    assert!(err.contains("run.h5"), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(
        std::fs::read(&out).unwrap(),
        before,
        "the previous result changed"
    );
    mfg::io::verify(&out).unwrap();
    assert_eq!(
        others(fs.path(), &["run.h5", "filler"]),
        Vec::<String>::new()
    );

    // A first checkpoint that does not fit: the run still ends with an error, and no file
    // (partial or not) is left under the new name.
    let ck = fs.path().join("ck.h5");
    let o = run(&[
        "solve",
        s(&large),
        "--out",
        s(&ck),
        "--checkpoint-every",
        "1",
        "-q",
    ]);
    let err = stderr(&o);
    assert_eq!(code(&o), 1, "{err}");
    assert!(
        err.contains("ck.h5") && err.contains("No space left on device"),
        "{err}"
    );
    assert!(!ck.exists());
    assert_eq!(
        others(fs.path(), &["run.h5", "filler"]),
        Vec::<String>::new()
    );

    // Pictures that do not fit: an error, and no empty or partial PNG.
    std::fs::remove_file(fs.path().join("filler")).unwrap();
    let o = run(&["solve", s(&large), "--out", s(&out), "-q"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    fs.fill(4 * 1024);
    let pics = fs.path().join("pics");
    std::fs::create_dir(&pics).unwrap();
    let o = run(&["plot", s(&out), "--out", s(&pics)]);
    let err = stderr(&o);
    assert_eq!(code(&o), 1, "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    for name in others(&pics, &[]) {
        let p = pics.join(&name);
        assert!(!name.starts_with('.'), "temporary file left: {name}");
        let bytes = std::fs::read(&p).unwrap();
        assert!(
            image::load_from_memory(&bytes).is_ok(),
            "{name}: an incomplete picture ({} bytes)",
            bytes.len()
        );
    }
}
