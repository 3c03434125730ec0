//! The result file as Python sees it: open a 1D and a 2D result with h5py and check shapes,
//! attributes, values and dimension scales, and open it with xarray (named dimensions,
//! coordinates, the coupling's parameters against the configuration's); run the policy-file
//! snippet of docs/rl.md and read the file it writes with the crate, and check the report of the
//! validation with h5py. The interpreter is `$MFG_PYTHON`, else the `.venv` that
//! `scripts/install-deps.sh` creates (with h5py, numpy, xarray and h5netcdf); without either the
//! test fails, saying so, rather than skipping.

mod common;

use common::examples::coarse;
use mfg::config::Config;
use mfg::io::{self, Run, WriteOptions};
use mfg::solve;
use std::process::Command;

/// Held while a file is open through the library and while a child process starts. HDF5 opens
/// a file without close-on-exec and the library marks the descriptor close-on-exec only just
/// after: a Python child started by another test thread in between would inherit the file's
/// lock for its life, and the next open of that file fails ("unable to lock file").
static FORK_GUARD: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs `f` holding [`FORK_GUARD`] (a panicking test does not poison it for the others).
fn guarded<T>(f: impl FnOnce() -> T) -> T {
    let _guard = FORK_GUARD.lock().unwrap_or_else(|e| e.into_inner());
    f()
}

/// The Python interpreter with h5py: `$MFG_PYTHON`, else the repository's `.venv`. Call it
/// inside [`guarded`]: it starts a child.
fn python() -> String {
    let venv = concat!(env!("CARGO_MANIFEST_DIR"), "/.venv/bin/python");
    let python = std::env::var("MFG_PYTHON").unwrap_or_else(|_| venv.to_string());
    let ok = Command::new(&python)
        .args(["-c", "import h5py, numpy, xarray, h5netcdf"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        ok,
        "{python} cannot import h5py, numpy, xarray and h5netcdf: run ./scripts/install-deps.sh (or set MFG_PYTHON)"
    );
    python
}

const SCRIPT: &str = r#"
import sys, h5py, numpy as np
path, nt, ny, nx, its = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
shape = (nt + 1, nx) if ny == 0 else (nt + 1, ny, nx)
with h5py.File(path, "r") as f:
    assert f.attrs["format"] == "mfg-solution", f.attrs["format"]
    assert int(f.attrs["format_version"]) == 2
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
    # Dimension scales: every field names its coordinates, and they are the grid's nodes.
    for name in names:
        g = f["populations"][name]
        dims = ["t"] + (["y"] if ny else []) + ["x"]
        for d in ["m", "u"]:
            scales = [g[d].dims[i][0] for i in range(len(dims))]
            assert [s.name.split("/")[-1] for s in scales] == dims, (d, [s.name for s in scales])
            assert g[d].attrs["units"] and g[d].attrs["long_name"] and g[d].attrs["description"]
        assert np.array_equal(g["x"][...], f["grid/x"][...])
        assert np.array_equal(g["t"][...], f["time/t"][...])
print("ok")
"#;

/// xarray (h5netcdf engine) opens each population group with named dimensions and coordinates,
/// the history with its iteration axis, and the coupling's parameters equal the configuration's.
const XARRAY_SCRIPT: &str = r#"
import sys, tomllib, h5py, numpy as np, xarray as xr
path, ny = sys.argv[1], int(sys.argv[2])
with h5py.File(path, "r") as f:
    names = list(f.attrs["population_names"])
    x = f["grid/x"][...]
    y = f["grid/y"][...] if ny else None
    t = f["time/t"][...]
    config = tomllib.loads(f.attrs["config"])
    terms = sorted(f["coupling"].keys())
    kinds = [f["coupling"][term].attrs["kind"] for term in terms]
for name in names:
    ds = xr.open_dataset(path, group=f"populations/{name}", engine="h5netcdf")
    dims = ("t", "y", "x") if ny else ("t", "x")
    assert ds["m"].dims == dims and ds["u"].dims == dims, (ds["m"].dims, ds["u"].dims)
    assert ds["initial"].dims == dims[1:], ds["initial"].dims
    assert np.array_equal(ds["x"].values, x) and np.array_equal(ds["t"].values, t)
    if ny:
        assert np.array_equal(ds["y"].values, y)
    cell = float(x[1] - x[0]) * (float(y[1] - y[0]) if ny else 1.0)
    mass = ds["m"].sum(dim=[d for d in dims if d != "t"]).values * cell
    assert np.allclose(mass, 1.0, atol=1e-10), mass
    assert ds["m"].attrs["units"] == "1" and "density" in ds["m"].attrs["long_name"]
    # Selecting by coordinate works: the first time level is the initial density.
    assert np.allclose(ds["m"].sel(t=0.0).values, ds["initial"].values)
    ds.close()
h = xr.open_dataset(path, group="history", engine="h5netcdf")
assert h["residual"].dims == ("iteration",) and h.sizes["iteration"] >= 1
h.close()
assert len(terms) == len(config["coupling"]), (terms, config["coupling"])
for term, kind in zip(terms, kinds):
    c = xr.open_dataset(path, group=f"coupling/{term}", engine="h5netcdf")
    assert list(c["k"].values) == names and list(c["j"].values) == names
    (param,) = [v for v in c.data_vars]
    assert c[param].dims == ("k", "j"), c[param].dims
    assert np.array_equal(c[param].values, np.array(config["coupling"][kind])), (kind, c[param].values)
    c.close()
print("ok")
"#;

fn check(cfg: &Config, ny: usize) {
    let (problem, settings) = cfg.build().unwrap();
    let solution = solve::solve(&problem, &settings).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.h5");
    guarded(|| {
        io::write(
            &path,
            &problem,
            &Run::finished(&solution),
            Some(cfg),
            &WriteOptions::default(),
        )
    })
    .unwrap();
    let o = guarded(|| {
        Command::new(python())
            .args(["-c", XARRAY_SCRIPT, path.to_str().unwrap()])
            .arg(ny.to_string())
            .output()
    })
    .unwrap();
    assert!(
        o.status.success() && String::from_utf8_lossy(&o.stdout).trim() == "ok",
        "xarray check failed:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let o = guarded(|| {
        Command::new(python())
            .args(["-c", SCRIPT, path.to_str().unwrap()])
            .arg(problem.time().nt.to_string())
            .arg(ny.to_string())
            .arg(problem.grid().axes()[0].n.to_string())
            .arg(solution.history.len().to_string())
            .output()
    })
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
    let o = guarded(|| Command::new(python()).args(args).current_dir(dir).output()).unwrap();
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
    guarded(|| {
        io::write(
            dir.path().join("run.h5"),
            &problem,
            &Run::finished(&solution),
            Some(&cfg),
            &WriteOptions::default(),
        )
    })
    .unwrap();
    run_python(&["-c", &policy_snippet()], dir.path());

    let file = guarded(|| read_policy(dir.path().join("policy.h5"))).unwrap();
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
    guarded(|| write_report(&report, &problem, &v, &ctx)).unwrap();
    run_python(
        &["-c", REPORT_SCRIPT, report.to_str().unwrap(), "200", "41"],
        dir.path(),
    );
}

/// A stationary result as Python sees it: `horizon = "stationary"`, no `/time`, fields shaped
/// (y, x) with their coordinates in xarray, λ per population, the same numbers as in Rust.
const STATIONARY_SCRIPT: &str = r#"
import sys, h5py, numpy as np, xarray as xr
path, lam0 = sys.argv[1], float(sys.argv[2])
with h5py.File(path, "r") as f:
    assert f.attrs["horizon"] == "stationary", f.attrs["horizon"]
    assert "time" not in f
    names = [str(n) for n in f.attrs["population_names"]]
    ny, nx = f["grid/y"].shape[0], f["grid/x"].shape[0]
    for name in names:
        g = f["populations"][name]
        for field in ["m", "u", "alpha_x", "alpha_y", "live", "potential"]:
            assert g[field].shape == (ny, nx), (name, field, g[field].shape)
        assert "initial" not in g and "terminal" not in g
        h = g["x"][1] - g["x"][0]
        mass = g["m"][...].sum() * h * (g["y"][1] - g["y"][0])
        assert abs(mass - g.attrs["mass"]) < 1e-12, mass
    assert f["populations"][names[0]].attrs["lambda"] == lam0
ds = xr.open_dataset(path, group=f"populations/{names[0]}", engine="h5netcdf")
assert ds["m"].dims == ("y", "x"), ds["m"].dims
assert float(ds.attrs["lambda"]) == lam0
ds.close()
print("ok")
"#;

#[test]
fn h5py_and_xarray_read_a_stationary_result() {
    let cfg = coarse("hall_stationary_2d.toml", 16, Some(8), 1, None);
    let (problem, _) = cfg.build().unwrap();
    let sol = mfg::solve::stationary::solve_stationary(
        &problem,
        &cfg.spec.stationary_settings().unwrap(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.h5");
    guarded(|| io::write_stationary(&path, &problem, &sol, Some(&cfg))).unwrap();
    let o = guarded(|| {
        Command::new(python())
            .args(["-c", STATIONARY_SCRIPT, path.to_str().unwrap()])
            .arg(format!("{:e}", sol.lambda[0]))
            .output()
    })
    .unwrap();
    assert!(
        o.status.success() && String::from_utf8_lossy(&o.stdout).trim() == "ok",
        "stationary check failed:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}
