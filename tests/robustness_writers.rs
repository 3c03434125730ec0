//! Who may write an output file, and what is left beside it: a second writer of the same
//! `--out` (a solve or a resume) fails at once with a message naming the holder, while the
//! first one finishes normally; temporary files of processes that no longer exist are removed
//! (and said so) by the next writer; a second Ctrl-C exits at once and leaves no temporary or
//! lock file; without `--out`, the first Ctrl-C does not promise to save anything.

mod cli_common;

use cli_common::{code, mfg, run, s, stderr, wait_for};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// A 1D problem that only a signal ends: slow Picard (θ = 0.02), tolerances unreachable. With
/// `nx` nodes a checkpoint write takes long enough to be interrupted.
fn endless(dir: &Path, nx: usize) -> PathBuf {
    let text = format!(
        r#"[grid]
x = {{ min = -2.0, max = 2.0, n = {nx} }}
[time]
horizon = 1.0
steps = 40
[[population]]
name = "a"
sigma = 0.4
initial = {{ profile = "gaussian", mean = -1.0, std = 0.3 }}
[[population]]
name = "b"
sigma = 0.3
initial = {{ profile = "gaussian", mean = 1.0, std = 0.3 }}
[coupling]
linear = [[0.5, 0.2], [0.2, 0.5]]
[solver]
method = "picard"
max_iterations = 1000000000
tol_u = 1e-300
tol_m = 1e-300
tol_residual = 1e-300
[solver.picard]
relaxation = 0.02
"#
    );
    let p = dir.join(format!("endless{nx}.toml"));
    std::fs::write(&p, text).unwrap();
    p
}

/// A started `mfg` that is killed if the test ends (or panics) before it exits: the endless
/// solves of these tests must never outlive them.
struct Running(Option<Child>);

impl Running {
    fn id(&self) -> u32 {
        self.0.as_ref().map_or(0, Child::id)
    }

    fn wait_with_output(mut self) -> std::process::Output {
        self.0.take().unwrap().wait_with_output().unwrap()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn spawn(args: &[&str]) -> Running {
    Running(Some(
        mfg()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    ))
}

fn signal(child: &Running, sig: &str) {
    let st = std::process::Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
}

/// Names in `dir` that start with a dot: temporary and lock files.
fn hidden(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

#[test]
fn a_second_writer_of_the_same_output_fails_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = endless(dir.path(), 41);
    let out = dir.path().join("run.h5");
    let first = spawn(&[
        "solve",
        s(&cfg),
        "--out",
        s(&out),
        "--checkpoint-every",
        "2",
    ]);
    // The lock is taken before the solve starts; the first checkpoint proves it is running.
    wait_for(&out, Duration::from_secs(120));
    for args in [
        vec!["solve", s(&cfg), "--out", s(&out), "-q"],
        vec!["solve", "--resume", s(&out), "-q"],
    ] {
        let start = Instant::now();
        let o = run(&args);
        let err = stderr(&o);
        assert_eq!(code(&o), 1, "{args:?}: {err}");
        assert!(err.contains("is being written by"), "{args:?}: {err}");
        assert!(
            err.contains(&first.id().to_string()),
            "names the holder: {err}"
        );
        assert!(start.elapsed() < Duration::from_secs(60), "it waited");
    }
    signal(&first, "-INT");
    let o = first.wait_with_output();
    assert_eq!(code(&o), 130, "{}", stderr(&o));
    mfg::io::verify(&out).unwrap();
    assert_eq!(hidden(dir.path()), Vec::<String>::new());
    // Once the first writer is gone, the path is free again.
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("max_iterations = 1000000000", "max_iterations = 2");
    let finite = dir.path().join("finite.toml");
    std::fs::write(&finite, text).unwrap();
    let o = run(&["solve", s(&finite), "--out", s(&out), "-q"]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
}

#[test]
fn temporary_files_of_dead_processes_are_removed_by_the_next_writer() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = endless(dir.path(), 21);
    let out = dir.path().join("run.h5");
    // Above the kernel's largest pid (2^22): no such process exists.
    let dead = dir.path().join(".run.h5.tmp-4194305-0");
    std::fs::write(&dead, vec![0u8; 4096]).unwrap();
    // One of this (live) test process: left alone.
    let live = dir
        .path()
        .join(format!(".run.h5.tmp-{}-0", std::process::id()));
    std::fs::write(&live, b"x").unwrap();
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("max_iterations = 1000000000", "max_iterations = 2");
    std::fs::write(&cfg, text).unwrap();
    let o = run(&["solve", s(&cfg), "--out", s(&out)]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    assert!(
        !dead.exists(),
        "the dead process's temporary file is still there"
    );
    assert!(live.exists(), "a live process's temporary file was removed");
    let err = stderr(&o);
    assert!(err.contains(".run.h5.tmp-4194305-0"), "{err}");
}

#[test]
fn a_second_ctrl_c_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    // Large enough that a checkpoint takes a while: the second signal often lands mid-write.
    let cfg = endless(dir.path(), 4001);
    let out = dir.path().join("run.h5");
    let child = spawn(&[
        "solve",
        s(&cfg),
        "--out",
        s(&out),
        "--checkpoint-every",
        "1",
    ]);
    wait_for(&dir.path().join(".run.h5.lock"), Duration::from_secs(120));
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, "-INT");
    std::thread::sleep(Duration::from_millis(20));
    signal(&child, "-INT");
    let o = child.wait_with_output();
    assert_eq!(code(&o), 130, "{}", stderr(&o));
    assert_eq!(hidden(dir.path()), Vec::<String>::new());
    if out.exists() {
        mfg::io::verify(&out).unwrap();
    }
}

#[test]
fn without_out_the_interrupt_message_does_not_promise_a_save() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = endless(dir.path(), 21);
    let child = spawn(&["solve", s(&cfg)]);
    std::thread::sleep(Duration::from_millis(500));
    signal(&child, "-INT");
    let o = child.wait_with_output();
    let err = stderr(&o);
    assert_eq!(code(&o), 130, "{err}");
    assert!(err.contains("interrupt"), "{err}");
    assert!(!err.contains("saving the state"), "{err}");
    assert!(err.contains("nothing is saved"), "{err}");
}
