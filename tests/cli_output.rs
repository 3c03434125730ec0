//! The `mfg` binary: exit codes, `inspect`, Ctrl-C (SIGINT) saving the state and exiting 130,
//! `--resume` reaching the result of an uninterrupted run, and atomic writes surviving `kill -9`.

mod cli_common;
use cli_common::{code, mfg, run, s, stderr, wait_for};

use mfg::io::{self, RunState};
use mfg::solve::{StepStats, Termination};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// A 1D two-population problem; `relaxation` small makes Picard slow (many cheap iterations).
/// `max_it = 0` means "no cap": a huge cap and unreachable tolerances, only a signal ends it;
/// `max_it = usize::MAX - k`: a cap of k iterations with unreachable tolerances.
fn config(
    dir: &Path,
    name: &str,
    nx: usize,
    steps: usize,
    relaxation: f64,
    max_it: usize,
) -> PathBuf {
    let (max_it, tol) = if max_it == 0 {
        (1_000_000_000, 1e-300)
    } else if max_it > usize::MAX / 2 {
        (usize::MAX - max_it, 1e-300)
    } else {
        (max_it, 1e-10)
    };
    let text = format!(
        r#"title = "test"
[grid]
x = {{ min = -2.0, max = 2.0, n = {nx} }}
[time]
horizon = 1.0
steps = {steps}
[[population]]
name = "a"
sigma = 0.4
initial = {{ profile = "gaussian", mean = -1.0, std = 0.3 }}
terminal = {{ profile = "quadratic", center = 1.0, weight = 2.0 }}
[[population]]
name = "b"
sigma = 0.3
hamiltonian = {{ kind = "quadratic", cost = 2.0 }}
initial = {{ profile = "gaussian", mean = 0.8, std = 0.2 }}
terminal = {{ profile = "quadratic", center = -0.5, weight = 2.0 }}
[coupling]
log = [[0.1, 0.05], [0.05, 0.1]]
[solver]
method = "picard"
max_iterations = {max_it}
tol_u = {tol:e}
tol_m = {tol:e}
tol_residual = {tol:e}
[solver.picard]
relaxation = {relaxation}
"#
    );
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn help_documents_exit_codes() {
    for args in [&["--help"][..], &["solve", "--help"][..]] {
        let o = run(args);
        assert_eq!(code(&o), 0);
        let out = String::from_utf8_lossy(&o.stdout);
        for needle in ["Exit codes", "130", "without converging", "invalid input"] {
            assert!(
                out.contains(needle),
                "{args:?}: {needle:?} missing in\n{out}"
            );
        }
    }
}

#[test]
fn exit_codes_converged_invalid_not_converged() {
    let dir = tempfile::tempdir().unwrap();
    // Converged: 0, file saved, inspect works.
    let cfg = config(dir.path(), "ok.toml", 31, 10, 1.0, 300);
    let out = dir.path().join("ok.h5");
    let o = run(&["solve", s(&cfg), "--out", s(&out), "--quiet"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).is_empty(), "--quiet: {}", stderr(&o));
    let h = io::read_header(&out).unwrap();
    assert_eq!(h.state, RunState::Finished(Termination::Converged));
    let o = run(&["inspect", s(&out)]);
    assert_eq!(code(&o), 0);
    let text = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "mfg result",
        "converged",
        "populations:",
        "history (last",
        "grid x: 31 nodes",
    ] {
        assert!(text.contains(needle), "{needle:?} missing in\n{text}");
    }

    // Not converged: 3, results saved.
    let cfg3 = config(dir.path(), "short.toml", 31, 10, 0.5, 2);
    let out3 = dir.path().join("short.h5");
    let o = run(&["solve", s(&cfg3), "--out", s(&out3), "--quiet"]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    let h = io::read_header(&out3).unwrap();
    assert_eq!(h.state, RunState::Finished(Termination::MaxIterations));
    assert_eq!(h.history.len(), 2);

    // Invalid input: 2, with the reason.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[grid]\nx = { min = 0.0, max = 1.0, n = 2 }\n").unwrap();
    let o = run(&["solve", s(&bad)]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("error"), "{}", stderr(&o));
    let o = run(&["solve", s(&dir.path().join("missing.toml"))]);
    assert_eq!(code(&o), 2);
    let o = run(&["solve", s(&cfg), "--checkpoint-every", "5"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--out"), "{}", stderr(&o));
    // A missing output directory is created; one that cannot be (a file is in the way) is an
    // error before any solving.
    let nested = dir.path().join("new/sub/x.h5");
    let o = run(&["solve", s(&cfg), "--out", s(&nested)]);
    assert!(matches!(code(&o), 0 | 3), "{}", stderr(&o));
    assert!(io::read_header(&nested).is_ok());
    let blocker = dir.path().join("blocker");
    std::fs::write(&blocker, "a file").unwrap();
    let o = run(&["solve", s(&cfg), "--out", s(&blocker.join("x.h5"))]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("cannot create"), "{}", stderr(&o));
    // An existing file that is not an mfg result is never overwritten.
    let precious = dir.path().join("precious.h5");
    std::fs::write(&precious, "my thesis").unwrap();
    let o = run(&["solve", s(&cfg), "--out", s(&precious)]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("refusing to overwrite"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "my thesis");
}

#[test]
fn inspect_and_plot_refuse_foreign_files() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.h5");
    std::fs::write(&text, "hello").unwrap();
    let other = dir.path().join("other.h5");
    hdf5::File::create(&other)
        .unwrap()
        .create_group("stuff")
        .unwrap();
    let missing = dir.path().join("missing.h5");
    for (file, needle) in [
        (&text, "not an HDF5 file"),
        (&other, "not an mfg result file"),
        (&missing, "no such file"),
    ] {
        for cmd in [
            vec!["inspect", s(file)],
            vec!["plot", s(file), "--out", s(dir.path())],
            vec!["solve", "--resume", s(file)],
        ] {
            let o = run(&cmd);
            assert_eq!(code(&o), 2, "{cmd:?}");
            assert!(stderr(&o).contains(needle), "{cmd:?}: {}", stderr(&o));
        }
    }
}

fn without_seconds(h: &[StepStats]) -> Vec<StepStats> {
    h.iter().map(|s| StepStats { seconds: 0.0, ..*s }).collect()
}

#[test]
fn ctrl_c_saves_and_exits_130_then_resume_matches_uninterrupted() {
    let dir = tempfile::tempdir().unwrap();
    // Slow Picard (θ = 0.02) with an unreachable cap: only SIGINT ends this run.
    let long = config(dir.path(), "long.toml", 41, 20, 0.02, 0);
    let part = dir.path().join("part.h5");
    let child = mfg()
        .args([
            "solve",
            s(&long),
            "--out",
            s(&part),
            "--checkpoint-every",
            "3",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(&part, Duration::from_secs(60));
    std::thread::sleep(Duration::from_millis(100));
    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(code(&o), 130, "{}", stderr(&o));
    assert!(stderr(&o).contains("interrupt"), "{}", stderr(&o));
    let saved = io::read(&part).unwrap();
    assert_eq!(
        saved.header.state,
        RunState::Finished(Termination::Interrupted)
    );
    let j = saved.solution.history.len();
    assert!(j >= 3, "{j} iterations");

    // The same problem, capped at j + 25 iterations: resumed and uninterrupted runs agree.
    // (tolerances unreachable, so both runs end at the cap whatever j is)
    let short = config(
        dir.path(),
        "short.toml",
        41,
        20,
        0.02,
        usize::MAX - (j + 25),
    );
    let resumed = dir.path().join("resumed.h5");
    let o = run(&[
        "solve",
        s(&short),
        "--resume",
        s(&part),
        "--out",
        s(&resumed),
        "--quiet",
    ]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    let full = dir.path().join("full.h5");
    let o = run(&["solve", s(&short), "--out", s(&full), "--quiet"]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    let (a, b) = (io::read(&resumed).unwrap(), io::read(&full).unwrap());
    assert_eq!(a.solution.history.len(), j + 25);
    assert_eq!(
        without_seconds(&a.solution.history),
        without_seconds(&b.solution.history)
    );
    let diff = a
        .solution
        .iterate
        .u
        .iter()
        .chain(&a.solution.iterate.m)
        .zip(b.solution.iterate.u.iter().chain(&b.solution.iterate.m))
        .map(|(x, y)| x.max_abs_diff(y))
        .fold(0.0, f64::max);
    assert!(diff <= 1e-12, "resumed differs by {diff:e}");
    assert_eq!(a.solution.iterate, b.solution.iterate, "not bitwise equal");

    // `--resume` alone uses the stored configuration and writes back to the same file.
    let o = run(&["solve", "--resume", s(&resumed), "--quiet"]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
}

/// Kills (SIGKILL) runs that checkpoint every iteration at various moments: the file under the
/// final name is always absent or complete, and a previous complete file is never damaged.
#[test]
fn kill_9_never_leaves_a_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "k.toml", 301, 150, 0.02, 0);
    let target = dir.path().join("run.h5");
    // A previous complete result under the final name.
    let small = config(dir.path(), "small.toml", 31, 10, 1.0, 300);
    assert_eq!(
        code(&run(&["solve", s(&small), "--out", s(&target), "--quiet"])),
        0
    );
    let mut leftovers = 0;
    let mut kills_after_checkpoint = 0;
    for delay_ms in [30u64, 170, 260, 410, 555, 720, 905, 1130] {
        let mut child = mfg()
            .args([
                "solve",
                s(&cfg),
                "--out",
                s(&target),
                "--checkpoint-every",
                "1",
                "--quiet",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // The final name always holds a complete mfg file: the earlier one or a checkpoint.
        let saved =
            io::read(&target).unwrap_or_else(|e| panic!("after a kill at {delay_ms} ms: {e}"));
        if saved.header.state == RunState::InProgress {
            kills_after_checkpoint += 1;
        }
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if name.starts_with(".run.h5.tmp-") {
                leftovers += 1;
                std::fs::remove_file(dir.path().join(&name)).unwrap();
            }
        }
    }
    eprintln!(
        "kill -9: {kills_after_checkpoint}/8 kills after a checkpoint, {leftovers} interrupted \
         writes left a temporary file (never the final name)"
    );
}
