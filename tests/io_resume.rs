//! Checkpoints and resume at the library level: a run stopped after j iterations (as Ctrl-C
//! does, through an observer returning `Control::Stop`), saved, read back and continued with
//! `solve_with` ends exactly where the uninterrupted run ends.

mod common;

use common::examples::coarse;
use mfg::config::Config;
use mfg::io::{self, Run, RunState, WriteOptions};
use mfg::observe::{Chain, Checkpoint, Interrupt};
use mfg::solve::{self, Control, Iterate, Observer, StepStats, Termination};
use std::sync::atomic::Ordering;

/// Stops the solve after `at` iterations.
struct StopAfter(usize);
impl Observer for StopAfter {
    fn step(&mut self, _: &Iterate, history: &[StepStats]) -> Control {
        if history.len() >= self.0 {
            Control::Stop
        } else {
            Control::Continue
        }
    }
}

fn same_history(a: &[StepStats], b: &[StepStats]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        // Wall time differs between runs; everything else is identical.
        let (x, y) = (
            StepStats { seconds: 0.0, ..*x },
            StepStats { seconds: 0.0, ..*y },
        );
        assert_eq!(x, y);
    }
}

fn resume_matches(cfg: &Config, stop_at: usize) {
    let (problem, settings) = cfg.build().unwrap();
    let full = solve::solve(&problem, &settings).unwrap();
    assert!(
        full.history.len() > stop_at + 1,
        "the run must outlast the stop"
    );

    let stopped = solve::solve_with(&problem, &settings, None, &mut StopAfter(stop_at)).unwrap();
    assert_eq!(stopped.termination, Termination::Interrupted);
    assert_eq!(stopped.history.len(), stop_at);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("part.h5");
    io::write(
        &path,
        &problem,
        &Run::finished(&stopped),
        Some(cfg),
        &WriteOptions::default(),
    )
    .unwrap();
    let saved = io::read(&path).unwrap();
    let (problem2, settings2) = saved.rebuild().unwrap();
    let resumed = solve::solve_with(
        &problem2,
        &settings2,
        Some(saved.resume_state()),
        &mut solve::Silent,
    )
    .unwrap();
    assert_eq!(resumed.termination, full.termination);
    same_history(&resumed.history, &full.history);
    // Bitwise equal.
    assert_eq!(resumed.iterate, full.iterate);
    for (a, b) in resumed.iterate.m.iter().zip(&full.iterate.m) {
        assert_eq!(a.max_abs_diff(b), 0.0);
    }
}

#[test]
fn resume_equals_uninterrupted_1d() {
    resume_matches(&coarse("two_groups_1d.toml", 41, None, 20, None), 5);
}

#[test]
fn resume_equals_uninterrupted_2d() {
    let mut cfg = coarse("corridor_2d.toml", 12, Some(5), 8, None);
    cfg.spec.solver.max_iterations = 12;
    let cfg = Config::from_toml_str(&toml::to_string(&cfg.spec).unwrap()).unwrap();
    resume_matches(&cfg, 4);
}

#[test]
fn checkpoint_observer_writes_every_n_and_interrupt_stops() {
    let cfg = coarse("two_groups_1d.toml", 41, None, 20, None);
    let (problem, settings) = cfg.build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ck.h5");
    let mut ck = Checkpoint::new(
        &path,
        3,
        &problem,
        Some(&cfg),
        "picard",
        WriteOptions::default(),
    );
    // No time budget: every due checkpoint is written.
    ck.budget = f64::INFINITY;
    let mut stop = StopAfter(7);
    let solution = {
        let mut chain = Chain(vec![&mut stop, &mut ck]);
        solve::solve_with(&problem, &settings, None, &mut chain).unwrap()
    };
    assert_eq!(solution.termination, Termination::Interrupted);
    // Checkpoints after iterations 3 and 6.
    assert_eq!(ck.written, 2);
    assert!(ck.error.is_none());
    let saved = io::read(&path).unwrap();
    assert_eq!(saved.header.state, RunState::InProgress);
    assert_eq!(saved.solution.history.len(), 6);

    // A zero budget writes the first due checkpoint (its cost is unknown before) and skips the
    // others.
    let mut ck = Checkpoint::new(
        &path,
        3,
        &problem,
        Some(&cfg),
        "picard",
        WriteOptions::default(),
    );
    ck.budget = 0.0;
    let mut stop = StopAfter(7);
    {
        let mut chain = Chain(vec![&mut stop, &mut ck]);
        solve::solve_with(&problem, &settings, None, &mut chain).unwrap();
    }
    assert_eq!((ck.written, ck.skipped), (1, 1));
    assert_eq!(io::read(&path).unwrap().solution.history.len(), 3);

    // The interrupt flag (what Ctrl-C sets) stops the solve after the current iteration.
    let mut interrupt = Interrupt::new();
    interrupt.flag().store(true, Ordering::SeqCst);
    let s = solve::solve_with(&problem, &settings, None, &mut interrupt).unwrap();
    assert_eq!(s.termination, Termination::Interrupted);
    assert_eq!(s.history.len(), 1);
}

#[test]
fn resume_with_the_wrong_problem_is_refused() {
    let cfg = coarse("two_groups_1d.toml", 41, None, 20, None);
    let (problem, settings) = cfg.build().unwrap();
    let s = solve::solve_with(&problem, &settings, None, &mut StopAfter(2)).unwrap();
    let other = coarse("two_groups_1d.toml", 31, None, 20, None);
    let (p2, s2) = other.build().unwrap();
    let e = solve::solve_with(
        &p2,
        &s2,
        Some(solve::Resume {
            iterate: s.iterate,
            history: s.history,
        }),
        &mut solve::Silent,
    )
    .unwrap_err();
    assert!(e.to_string().contains("shape"), "{e}");
}
