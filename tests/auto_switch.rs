//! `method = "auto"` switching methods: the switch and its reason are a solver event of the
//! solution, kept in the result file (`solver_events`) and printed in the `mfg solve` summary;
//! a run that still fails says which method to try next; `mfg check` says what auto will run.

mod cli_common;
mod common;

use cli_common::{code, run, s, text};
use mfg::config::Config;
use mfg::io::{self, Run, WriteOptions};
use mfg::Termination;

/// The 1D example with no `[solver]` table and a cap of 5 iterations: auto starts with Newton,
/// whose share is 40% of the cap (2 iterations), then Anderson takes over and the cap ends the
/// run.
fn capped() -> Config {
    let mut spec = common::examples::coarse("two_groups_1d.toml", 41, None, 12, None).spec;
    spec.solver = Default::default();
    spec.solver.max_iterations = 5;
    Config::from_toml_str(&toml::to_string(&spec).unwrap()).unwrap()
}

#[test]
fn a_switch_is_an_event_in_the_solution_the_file_and_the_summary() {
    let cfg = capped();
    let (problem, settings) = cfg.build().unwrap();
    let sol = mfg::solve(&problem, &settings).unwrap();
    assert_eq!(sol.termination, Termination::MaxIterations);
    assert_eq!(sol.method, "anderson");
    assert_eq!(sol.events.len(), 1, "{:?}", sol.events);
    let e = &sol.events[0];
    assert!(
        e.starts_with(
            "iteration 2: switched to anderson: newton did not converge in its share of 2"
        ),
        "{e}"
    );
    let detail = sol.detail.as_deref().unwrap_or_default();
    assert!(detail.contains("try method = \"newton\""), "{detail}");

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run.h5");
    io::write(
        &out,
        &problem,
        &Run::finished(&sol),
        Some(&cfg),
        &WriteOptions::default(),
    )
    .unwrap();
    let saved = io::read(&out).unwrap();
    assert_eq!(saved.solution.events, sol.events);
    assert_eq!(saved.header.events, sol.events);
    assert_eq!(saved.solution.detail, sol.detail);

    let path = dir.path().join("capped.toml");
    std::fs::write(&path, toml::to_string(&cfg.spec).unwrap()).unwrap();
    let o = run(&["solve", s(&path), "-q"]);
    let all = text(&o);
    assert_eq!(code(&o), 3, "{all}");
    assert!(all.contains("iteration 2: switched to anderson"), "{all}");
    assert!(all.contains("try method"), "{all}");
}

#[test]
fn check_prints_what_auto_will_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("capped.toml");
    std::fs::write(&path, toml::to_string(&capped().spec).unwrap()).unwrap();
    let o = run(&["check", s(&path)]);
    let all = text(&o);
    assert_eq!(code(&o), 0, "{all}");
    assert!(
        all.contains("method: auto: newton (1D: Newton's Jacobian is exact")
            && all.contains("switching to anderson if it fails"),
        "{all}"
    );
}
