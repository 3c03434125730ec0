//! The result file as Python sees it: open a 1D and a 2D result with h5py and check shapes,
//! attributes and values; run the policy-file snippet of docs/rl.md and read the file it writes
//! with the crate, and check the report of the validation with h5py. The interpreter is `$MFG_PYTHON`, else the `.venv` that
//! `scripts/install-deps.sh` creates (with h5py and numpy); without either the test fails,
//! saying so, rather than skipping.

mod common;

use common::examples::coarse;
use mfg::config::Config;
use mfg::io::{self, Run, WriteOptions};
use mfg::solve;
use std::process::Command;

/// The Python interpreter with h5py: `$MFG_PYTHON`, else the repository's `.venv`.
fn python() -> String {
    let venv = concat!(env!("CARGO_MANIFEST_DIR"), "/.venv/bin/python");
    let python = std::env::var("MFG_PYTHON").unwrap_or_else(|_| venv.to_string());
    let ok = Command::new(&python)
        .args(["-c", "import h5py, numpy"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        ok,
        "{python} cannot import h5py and numpy: run ./scripts/install-deps.sh (or set MFG_PYTHON)"
    );
    python
}

const SCRIPT: &str = r#"
import sys, h5py, numpy as np
path, nt, ny, nx, its = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
shape = (nt + 1, nx) if ny == 0 else (nt + 1, ny, nx)
with h5py.File(path, "r") as f:
    assert f.attrs["format"] == "mfg-solution", f.attrs["format"]
    assert int(f.attrs["format_version"]) == 1
    assert int(f.attrs["iterations"]) == its
    assert "grid" in f.attrs["config"] and "population" in f.attrs["config"]
    names = list(f.attrs["population_names"])
    assert len(names) == 2, names
    assert f["grid/x"].shape == (nx,)
    assert f["time/t"].shape == (nt + 1,)
    dx = float(f["grid/x"].attrs["h"])
    cell = dx * (float(f["grid/y"].attrs["h"]) if ny else 1.0)
    for k, name in enumerate(names):
        g = f["populations"][name]
        assert int(g.attrs["index"]) == k
        assert float(g.attrs["sigma"]) > 0
        axes = ["alpha_x"] + (["alpha_y"] if ny else [])
        for d in ["m", "u"] + axes:
            assert g[d].shape == shape, (name, d, g[d].shape, shape)
            assert g[d].chunks == (1,) + shape[1:], (name, d, g[d].chunks)
        m = g["m"][...]
        mass = m.reshape(nt + 1, -1).sum(axis=1) * cell
        assert np.allclose(mass, 1.0, atol=1e-10), mass
    assert f["history/residual"].shape == (its,)
    assert list(f["history/iteration"][...]) == list(range(1, its + 1))
print("ok")
"#;

fn check(cfg: &Config, ny: usize) {
    let (problem, settings) = cfg.build().unwrap();
    let solution = solve::solve(&problem, &settings).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.h5");
    io::write(
        &path,
        &problem,
        &Run::finished(&solution),
        Some(cfg),
        &WriteOptions::default(),
    )
    .unwrap();
    let o = Command::new(python())
        .args(["-c", SCRIPT, path.to_str().unwrap()])
        .arg(problem.time().nt.to_string())
        .arg(ny.to_string())
        .arg(problem.grid().axes()[0].n.to_string())
        .arg(solution.history.len().to_string())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "h5py check failed:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn h5py_reads_shapes_and_attributes() {
    check(&coarse("two_groups_1d.toml", 41, None, 20, Some(30)), 0);
    check(&coarse("corridor_2d.toml", 12, Some(5), 6, Some(3)), 5);
}

/// The Python snippet of docs/rl.md §5 (the code block after `<!-- policy-snippet -->`).
fn policy_snippet() -> String {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rl.md")).unwrap();
    let after = doc
        .split("<!-- policy-snippet -->")
        .nth(1)
        .expect("the marker");
    let code = after.split("```python").nth(1).expect("a python block");
    code.split("```").next().unwrap().to_string()
}

const REPORT_SCRIPT: &str = r#"
import sys, h5py, numpy as np
path, n_steps, nx = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with h5py.File(path, "r") as f:
    assert f.attrs["format"] == "mfg-rl-report", f.attrs["format"]
    assert int(f.attrs["format_version"]) == 1
    names = list(f.attrs["population_names"])
    assert int(f["game"].attrs["steps"]) == n_steps
    assert f["game/t"].shape == (n_steps + 1,)
    for k, name in enumerate(names):
        pi = f[f"policies/{name}/pi"][...]
        assert pi.shape[:2] == (n_steps, nx), pi.shape
        assert np.allclose(pi.sum(axis=2), 1.0, atol=1e-9)
        assert f[f"policies/{name}/velocities"].shape == (pi.shape[2], 1)
        for d in ["mu", "mu_pde"]:
            mu = f[f"populations/{name}/{d}"][...]
            assert mu.shape == (n_steps + 1, nx), (d, mu.shape)
            assert np.allclose(mu.sum(axis=1), 1.0, atol=1e-10), (d, mu.sum(axis=1))
        assert f[f"populations/{name}/mean_velocity"].shape == (n_steps, nx, 1)
    for d in ["exploitability", "density_l1", "w1", "control_error", "value_error"]:
        v = f[f"metrics/pde/{d}"][...]
        assert v.shape == (len(names),) and np.all(np.isfinite(v)), (d, v)
    e = f["metrics/pde/exploitability"][...]
    assert abs(e.sum() - f.attrs["exploitability"]) <= 1e-12 * abs(e.sum()), e
    assert "thresholds" in f and int(f["thresholds"].attrs["passed"]) in (0, 1)
print("ok")
"#;

fn run_python(args: &[&str], dir: &std::path::Path) {
    let o = Command::new(python())
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "python failed:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The snippet of docs/rl.md writes a policy file that `mfg validate`'s library reads (a
/// feedback played as written, a tabular policy standing still), and h5py reads the report.
#[test]
fn h5py_writes_a_policy_file() {
    use mfg::io::{read_policy, write_report, ReportContext};
    use mfg::rl::pde::VelocitySet;
    use mfg::rl::validate::{validate, EquilibriumMethod, PolicySource, Settings};
    let cfg = coarse("two_groups_1d.toml", 41, None, 20, Some(30));
    let (problem, settings) = cfg.build().unwrap();
    let solution = solve::solve(&problem, &settings).unwrap();
    let dir = tempfile::tempdir().unwrap();
    io::write(
        dir.path().join("run.h5"),
        &problem,
        &Run::finished(&solution),
        Some(&cfg),
        &WriteOptions::default(),
    )
    .unwrap();
    run_python(&["-c", &policy_snippet()], dir.path());

    let file = read_policy(dir.path().join("policy.h5")).unwrap();
    assert_eq!(
        file.source.as_deref(),
        Some("hand-written: walk towards x = 1, or stand still")
    );
    let mut s = Settings::new(2);
    s.velocities[0] = Some(VelocitySet::grid_1d(1.0, 9).unwrap());
    s.equilibrium.method = EquilibriumMethod::None;
    let v = validate(&problem, &solution, &s, &PolicySource::Imported(file)).unwrap();
    assert_eq!(v.game.steps, 200);
    let x = problem.grid().axes()[0].nodes();
    for n in [0, 57, 199] {
        for (i, xi) in x.iter().enumerate() {
            let want = (1.0 - xi).clamp(-1.0, 1.0);
            assert!((v.mean_velocity[0][n * x.len() + i] - want).abs() < 1e-12);
            assert_eq!(v.mean_velocity[1][n * x.len() + i], 0.0);
        }
    }
    let report = dir.path().join("report.h5");
    let ctx = ReportContext {
        reference: "solved now",
        config: Some(&cfg),
        checks: &[],
    };
    write_report(&report, &problem, &v, &ctx).unwrap();
    run_python(
        &["-c", REPORT_SCRIPT, report.to_str().unwrap(), "200", "41"],
        dir.path(),
    );
}
