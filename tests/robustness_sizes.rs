//! Impossible sizes are refused before anything is allocated, by `mfg check` and `mfg solve`
//! alike, with exit code 2 and an error naming the field: node counts whose products overflow
//! (2⁶³ − 1, 2⁶², 2⁶⁴ − 1), sizes that no machine of today holds (1D n = 10⁹, 2D n = 10⁴ per
//! axis, 10⁸ time steps, i64::MAX steps), and any problem above `--memory-limit`.

mod cli_common;

use cli_common::{code, example_text, run, s, stderr};
use std::path::{Path, PathBuf};

/// `text` with its first occurrence of `from` replaced by `to`.
fn edited(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "{from:?} not in the example");
    text.replacen(from, to, 1)
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Both commands refuse `path` with exit code 2, naming `field`, without a panic or an abort.
fn refused(path: &Path, field: &str, extra: &[&str]) {
    for command in ["check", "solve"] {
        let mut args = vec![command, s(path)];
        args.extend_from_slice(extra);
        let o = run(&args);
        let err = stderr(&o);
        assert_eq!(code(&o), 2, "{command} {}: {err}", path.display());
        assert!(
            err.contains(&format!("invalid {field}")),
            "{command}: {err}"
        );
        assert!(!err.contains("panicked"), "{command}: {err}");
    }
}

#[test]
fn node_counts_that_overflow_or_cannot_fit_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let one_d = example_text("two_groups_1d.toml");
    for n in [
        "9223372036854775807",
        "4611686018427387904",
        "18446744073709551615",
        "1000000000",
    ] {
        let text = edited(&one_d, "n = 201", &format!("n = {n}"));
        let p = write(dir.path(), &format!("n{n}.toml"), &text);
        refused(&p, "grid", &[]);
    }
    let two_d = example_text("corridor_2d.toml");
    let text = edited(&two_d, "n = 60,", "n = 10000,");
    let text = edited(&text, "n = 20,", "n = 10000,");
    let p = write(dir.path(), "2d.toml", &text);
    refused(&p, "grid", &[]);
}

#[test]
fn step_counts_that_overflow_or_cannot_fit_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let one_d = example_text("two_groups_1d.toml");
    for steps in ["9223372036854775807", "100000000"] {
        let text = edited(&one_d, "steps = 100", &format!("steps = {steps}"));
        let p = write(dir.path(), &format!("s{steps}.toml"), &text);
        refused(&p, "time.steps", &[]);
    }
}

#[test]
fn the_memory_limit_refuses_a_problem_that_would_fit_the_machine() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "ok.toml", &example_text("two_groups_1d.toml"));
    refused(&p, "grid", &["--memory-limit", "1 MiB"]);
    let o = run(&["check", s(&p), "--memory-limit", "64 MiB"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(out.contains("unknowns: 81204"), "{out}");
    assert!(out.contains("limit 64.0 MiB"), "{out}");
    let o = run(&["check", s(&p), "--memory-limit", "lots"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("not a memory size"), "{}", stderr(&o));
}
