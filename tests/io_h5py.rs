//! The result file as Python sees it: open a 1D and a 2D result with h5py and check shapes,
//! attributes and values. The interpreter is `$MFG_PYTHON`, else the `.venv` that
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
