//! Every shipped example configuration is parsed, built and solved on a coarse grid.

use mfg::config::Config;
use mfg::problem::Horizon;
use mfg::solve::stationary::solve_stationary;
use mfg::Termination;

#[test]
fn every_shipped_example_solves_on_a_coarse_grid() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut seen = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let ext = path.extension().and_then(|e| e.to_str());
        if !matches!(ext, Some("toml") | Some("yaml") | Some("yml")) {
            continue;
        }
        let cfg = Config::from_path(&path).unwrap();
        let (fine, _) = cfg
            .build()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let two_d = fine.grid().dim() == 2;
        let spec =
            cfg.spec
                .clone()
                .with_resolution(if two_d { 24 } else { 50 }, two_d.then_some(10), 16);
        let (problem, settings) = spec.build().unwrap();
        let (termination, iterations) = if problem.horizon() == Horizon::Stationary {
            let s = spec.stationary_settings().unwrap();
            let sol = solve_stationary(&problem, &s).unwrap();
            (sol.termination, sol.history.len())
        } else {
            let sol = mfg::solve(&problem, &settings).unwrap();
            (sol.termination, sol.history.len())
        };
        assert_eq!(
            termination,
            Termination::Converged,
            "{}: {termination:?} after {iterations} iterations",
            path.display()
        );
        seen += 1;
    }
    assert!(
        seen >= 2,
        "expected at least the 1D and the 2D example, found {seen}"
    );
}
