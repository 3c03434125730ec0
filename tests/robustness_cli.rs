//! The `mfg` command on inputs and runs that used to end badly: a failed inner HJB solve (now a
//! recorded termination with everything saved), problems too large for the memory, results
//! holding NaN or negative densities, and configurations that were accepted too easily.

mod cli_common;
use cli_common::{code, run, s, text};

use mfg::io::{self, RunState};
use mfg::solve::Termination;
use std::path::{Path, PathBuf};

/// A small 1D two-population problem; `extra` is appended (e.g. a `[solver.hjb]` table).
fn config(dir: &Path, name: &str, max_iterations: usize, extra: &str) -> PathBuf {
    let text = format!(
        r#"[grid]
x = {{ min = -2.0, max = 2.0, n = 81 }}
[time]
horizon = 1.0
steps = 20
[[population]]
name = "a"
sigma = 0.4
initial = {{ profile = "gaussian", mean = -1.0, std = 0.3 }}
terminal = {{ profile = "quadratic", center = 1.0, weight = 2.0 }}
[[population]]
name = "b"
sigma = 0.3
initial = {{ profile = "gaussian", mean = 0.8, std = 0.2 }}
terminal = {{ profile = "quadratic", center = -0.5, weight = 2.0 }}
[coupling]
log = [[0.1, 0.05], [0.05, 0.1]]
[solver]
method = "picard"
max_iterations = {max_iterations}
[solver.picard]
relaxation = 0.5
{extra}
"#
    );
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// An HJB step whose Newton loop cannot finish ends the run as `inner-solve-failed`: exit code
/// 3, the iterate and the history of the completed iterations saved with `--out`, the detail
/// naming the population, the time step and the residual.
#[test]
fn a_failed_inner_solve_saves_state_and_history() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run.h5");
    // Three completed iterations (the cap), saved.
    let first = config(dir.path(), "a.toml", 3, "");
    let o = run(&["solve", s(&first), "--out", s(&out), "-q"]);
    assert_eq!(code(&o), 3, "{}", text(&o));
    let before = io::read(&out).unwrap();
    assert_eq!(before.solution.history.len(), 3);
    // Continued with one Newton iteration per HJB step: far from the equilibrium, one policy
    // iteration cannot reach the threshold, so the fourth iteration fails inside.
    let tight = config(
        dir.path(),
        "b.toml",
        50,
        "[solver.hjb]\nmax_iterations = 1\n",
    );
    let o = run(&["solve", s(&tight), "--resume", s(&out), "-q"]);
    let all = text(&o);
    assert_eq!(code(&o), 3, "{all}");
    assert!(all.contains("inner-solve-failed"), "{all}");
    assert!(
        all.contains("population 0 (\"a\")") || all.contains("population 1 (\"b\")"),
        "{all}"
    );
    assert!(
        all.contains("time step") && all.contains("residual"),
        "{all}"
    );

    let saved = io::read(&out).unwrap();
    assert_eq!(
        saved.header.state,
        RunState::Finished(Termination::InnerSolveFailed)
    );
    assert_eq!(saved.solution.termination, Termination::InnerSolveFailed);
    let detail = saved.header.detail.clone().expect("termination_detail");
    assert!(
        detail.contains("HJB Newton") && detail.contains("time step"),
        "{detail}"
    );
    // The failed step changed nothing: the state and history are those of the three completed
    // iterations.
    assert_eq!(saved.solution.history, before.solution.history);
    assert_eq!(saved.solution.iterate, before.solution.iterate);
    let o = run(&["inspect", s(&out)]);
    assert_eq!(code(&o), 0);
    assert!(text(&o).contains("HJB Newton"), "{}", text(&o));
}
