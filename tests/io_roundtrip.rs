//! HDF5 result files: write → read round trips (1D and 2D, several populations) are exact to
//! the bit, the documented attributes and layout are present, and files that are missing, not
//! HDF5, not ours or truncated give clear errors.

mod common;

use common::examples::coarse;
use mfg::config::Config;
use mfg::io::{self, Run, RunState, WriteOptions};
use mfg::solve::{self, Iterate, Solution, Termination};
use std::path::Path;

fn bits(it: &Iterate) -> Vec<u64> {
    it.u.iter()
        .chain(&it.m)
        .flat_map(|f| f.as_slice().iter().map(|v| v.to_bits()))
        .collect()
}

fn root_attrs(path: &Path) -> Vec<String> {
    let f = hdf5::File::open(path).unwrap();
    f.attr_names().unwrap()
}

fn roundtrip(cfg: &Config) -> (Solution, io::Saved, tempfile::TempDir) {
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
    let saved = io::read(&path).unwrap();
    (solution, saved, dir)
}

fn check_roundtrip(cfg: &Config) {
    let (solution, saved, dir) = roundtrip(cfg);
    let path = dir.path().join("run.h5");
    // The same Solution, bit for bit (history included).
    assert_eq!(bits(&saved.solution.iterate), bits(&solution.iterate));
    assert_eq!(saved.solution, solution);
    assert_eq!(saved.header.state, RunState::Finished(solution.termination));
    // Documented root attributes.
    let attrs = root_attrs(&path);
    for a in [
        "format",
        "format_version",
        "mfg_version",
        "created",
        "config",
        "config_format",
        "title",
        "problem",
        "coupling",
        "dimension",
        "method",
        "termination",
        "iterations",
        "final_residual",
        "wall_time_seconds",
        "compression",
        "population_names",
    ] {
        assert!(attrs.iter().any(|n| n == a), "root attribute {a} missing");
    }
    assert_eq!(saved.header.config_text.as_deref(), Some(cfg.text.as_str()));
    // The stored configuration rebuilds the same problem.
    let (problem, _) = cfg.build().unwrap();
    let (rebuilt, _) = saved.rebuild().unwrap();
    assert_eq!(rebuilt.grid().axes(), problem.grid().axes());
    assert_eq!(rebuilt.time(), problem.time());
    for (a, b) in rebuilt.populations().iter().zip(problem.populations()) {
        assert_eq!(a.name(), b.name());
        assert_eq!(a.initial(), b.initial());
    }
    // Layout: shapes (Nt+1, [Ny,] Nx), chunked by time level, compressed; population attributes.
    let f = hdf5::File::open(&path).unwrap();
    let levels = problem.time().nt + 1;
    let mut shape = vec![levels];
    shape.extend(problem.grid().axes().iter().rev().map(|a| a.n));
    let mut chunk = shape.clone();
    chunk[0] = 1;
    for (k, p) in problem.populations().iter().enumerate() {
        let g = f.group(&format!("populations/{}", p.name())).unwrap();
        let mut names = vec!["m", "u", "alpha_x"];
        if problem.grid().dim() == 2 {
            names.push("alpha_y");
        }
        for name in names {
            let d = g.dataset(name).unwrap();
            assert_eq!(d.shape(), shape, "{}/{name}", p.name());
            assert_eq!(d.chunk(), Some(chunk.clone()), "{}/{name}", p.name());
            if hdf5::filters::deflate_available() {
                assert!(
                    d.filters()
                        .iter()
                        .any(|f| matches!(f, hdf5::filters::Filter::Deflate(_))),
                    "{}/{name} is not compressed",
                    p.name()
                );
            }
        }
        assert_eq!(
            g.attr("sigma").unwrap().read_scalar::<f64>().unwrap(),
            p.sigma()
        );
        assert_eq!(
            g.attr("index").unwrap().read_scalar::<u64>().unwrap(),
            k as u64
        );
        for a in ["hamiltonian", "hamiltonian_kind", "nu"] {
            assert!(g.attr(a).is_ok(), "attribute {a} of {} missing", p.name());
        }
        for (name, value) in p.hamiltonian().parameters() {
            let a = g.attr(&format!("hamiltonian_{name}")).unwrap();
            assert_eq!(a.read_scalar::<f64>().unwrap(), value);
        }
        // alpha_x as stored equals Solution::controls.
        let alpha: Vec<f64> = g.dataset("alpha_x").unwrap().read_raw().unwrap();
        assert_eq!(alpha, solution.controls(&problem, k)[0].as_slice());
    }
    let n = solution.history.len();
    for name in [
        "iteration",
        "delta_u",
        "delta_m",
        "residual",
        "residual_hjb",
        "residual_fp",
        "seconds",
        "inner_iterations",
        "theta",
    ] {
        let d = f.dataset(&format!("history/{name}")).unwrap();
        assert_eq!(d.shape(), vec![n], "history/{name}");
    }
    assert_eq!(f.dataset("time/t").unwrap().shape(), vec![levels]);
    assert_eq!(
        f.dataset("grid/x").unwrap().read_raw::<f64>().unwrap(),
        problem.grid().axes()[0].nodes()
    );
}

#[test]
fn roundtrip_1d_two_populations_is_exact() {
    let cfg = coarse("two_groups_1d.toml", 41, None, 20, Some(300));
    check_roundtrip(&cfg);
}

#[test]
fn roundtrip_2d_two_populations_is_exact() {
    // Few iterations: an unconverged run round-trips too (termination max-iterations).
    let cfg = coarse("corridor_2d.toml", 12, Some(5), 8, Some(4));
    let (solution, saved, _dir) = roundtrip(&cfg);
    assert_eq!(solution.termination, Termination::MaxIterations);
    assert_eq!(saved.solution, solution);
    check_roundtrip(&cfg);
}

#[test]
fn roundtrip_with_exits_is_exact() {
    // The file's m is the density inside (0 on the doors), `absorbed` the mass that has left
    // per door node and `exited` its total per level: reading them back gives the iterate bit
    // for bit, and the stored totals add up to the mass.
    let cfg = coarse("evacuation_2d.toml", 16, Some(8), 8, None);
    let (solution, saved, dir) = roundtrip(&cfg);
    assert_eq!(bits(&saved.solution.iterate), bits(&solution.iterate));
    check_roundtrip(&cfg);
    let (problem, _) = cfg.build().unwrap();
    let file = hdf5::File::open(dir.path().join("run.h5")).unwrap();
    for (k, p) in problem.populations().iter().enumerate() {
        let g = file.group(&format!("populations/{}", p.name())).unwrap();
        let m: Vec<f64> = g.dataset("m").unwrap().read_raw().unwrap();
        let exited: Vec<f64> = g.dataset("exited").unwrap().read_raw().unwrap();
        let exit: Vec<u8> = g.dataset("exit").unwrap().read_raw().unwrap();
        let nodes = problem.grid().len();
        let want = p.exits().iter().filter(|e| **e).count();
        assert!(want > 0);
        assert_eq!(
            exit.iter().filter(|e| **e != 0).count(),
            want,
            "{}",
            p.name()
        );
        for (n, level) in m.chunks(nodes).enumerate() {
            assert!(level.iter().zip(&exit).all(|(v, e)| *e == 0 || *v == 0.0));
            let inside = problem.grid().integrate(level);
            assert!(
                (inside + exited[n] - p.mass()).abs() < 1e-12,
                "level {n} of {k}"
            );
        }
        assert!(exited[exited.len() - 1] > 0.1 * p.mass());
    }
}

#[test]
fn uncompressed_and_empty_history_roundtrip() {
    let mut cfg = coarse("two_groups_1d.toml", 21, None, 5, Some(0));
    cfg.spec.solver.max_iterations = 0;
    let (problem, settings) = cfg.build().unwrap();
    let solution = solve::solve(&problem, &settings).unwrap();
    assert!(solution.history.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.h5");
    let opts = WriteOptions { compression: None };
    io::write(&path, &problem, &Run::finished(&solution), None, &opts).unwrap();
    let saved = io::read(&path).unwrap();
    assert_eq!(saved.solution, solution);
    assert_eq!(saved.header.config_text, None);
    assert_eq!(saved.header.compression, "fletcher32");
    assert!(saved.rebuild().is_err(), "no configuration stored");
}

#[test]
fn checkpoint_state_is_recorded() {
    let cfg = coarse("two_groups_1d.toml", 21, None, 5, Some(3));
    let (problem, settings) = cfg.build().unwrap();
    let solution = solve::solve(&problem, &settings).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ck.h5");
    let run = Run::checkpoint(&solution.iterate, &solution.history, "picard");
    io::write(&path, &problem, &run, Some(&cfg), &WriteOptions::default()).unwrap();
    let saved = io::read(&path).unwrap();
    assert_eq!(saved.header.state, RunState::InProgress);
    assert_eq!(saved.solution.termination, Termination::Interrupted);
    assert_eq!(saved.solution.iterate, solution.iterate);
    // Rewriting replaces the file atomically and leaves no temporary file behind.
    io::write(
        &path,
        &problem,
        &Run::finished(&solution),
        Some(&cfg),
        &WriteOptions::default(),
    )
    .unwrap();
    assert_eq!(
        io::read_header(&path).unwrap().state,
        RunState::Finished(Termination::MaxIterations)
    );
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(files.len(), 1);
}

#[test]
fn missing_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.h5");
    let e = io::read(&path).unwrap_err();
    assert!(matches!(e, io::Error::Missing { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains("nope.h5") && msg.contains("no such file"),
        "{msg}"
    );
}

#[test]
fn text_file_is_not_hdf5() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.h5");
    std::fs::write(&path, "just some text, not HDF5 at all\n".repeat(100)).unwrap();
    let e = io::read(&path).unwrap_err();
    assert!(matches!(e, io::Error::NotHdf5 { .. }), "{e:?}");
    assert!(e.to_string().contains("not an HDF5 file"), "{e}");
    // An empty file too.
    std::fs::write(&path, b"").unwrap();
    assert!(matches!(io::read(&path), Err(io::Error::NotHdf5 { .. })));
}

#[test]
fn foreign_hdf5_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.h5");
    {
        let f = hdf5::File::create(&path).unwrap();
        f.new_dataset::<f64>()
            .shape([3])
            .create("data")
            .unwrap()
            .write_raw(&[1.0, 2.0, 3.0])
            .unwrap();
    }
    let e = io::read(&path).unwrap_err();
    assert!(matches!(e, io::Error::NotMfg { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("not an mfg result file"), "{msg}");
    assert!(msg.contains("format"), "{msg}");

    // A file that claims another format.
    {
        let f = hdf5::File::create(&path).unwrap();
        let v: hdf5::types::VarLenUnicode = "netcdf-thing".parse().unwrap();
        f.new_attr::<hdf5::types::VarLenUnicode>()
            .create("format")
            .unwrap()
            .write_scalar(&v)
            .unwrap();
    }
    let e = io::read_header(&path).unwrap_err();
    assert!(e.to_string().contains("netcdf-thing"), "{e}");
}

#[test]
fn newer_format_version_is_refused() {
    let cfg = coarse("two_groups_1d.toml", 21, None, 5, Some(1));
    let (problem, settings) = cfg.build().unwrap();
    let solution = solve::solve(&problem, &settings).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.h5");
    io::write(
        &path,
        &problem,
        &Run::finished(&solution),
        Some(&cfg),
        &WriteOptions::default(),
    )
    .unwrap();
    {
        let f = hdf5::File::open_rw(&path).unwrap();
        f.attr("format_version")
            .unwrap()
            .write_scalar(&(io::FORMAT_VERSION as u64 + 1))
            .unwrap();
    }
    let e = io::read(&path).unwrap_err();
    assert!(matches!(e, io::Error::UnsupportedVersion { .. }), "{e:?}");
}

#[test]
fn truncated_file_is_a_clear_error() {
    let cfg = coarse("two_groups_1d.toml", 41, None, 20, Some(5));
    let (problem, settings) = cfg.build().unwrap();
    let solution = solve::solve(&problem, &settings).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.h5");
    io::write(
        &path,
        &problem,
        &Run::finished(&solution),
        Some(&cfg),
        &WriteOptions::default(),
    )
    .unwrap();
    let bytes = std::fs::read(&path).unwrap();
    for keep in [bytes.len() / 2, bytes.len() - 1, 2048] {
        std::fs::write(&path, &bytes[..keep]).unwrap();
        let e = io::read(&path).unwrap_err();
        assert!(
            matches!(e, io::Error::Corrupt { .. } | io::Error::Damaged { .. }),
            "{keep} bytes: {e:?}"
        );
        let msg = e.to_string();
        assert!(
            msg.contains("truncated or corrupt") || msg.contains("damaged"),
            "{msg}"
        );
    }
}

#[test]
fn masses_state_spaces_and_drifts_are_stored() {
    let cfg = Config::from_toml_str(
        r#"
[grid]
x = { min = 0.0, max = 1.0, n = 16, boundary = "periodic" }
[time]
horizon = 0.5
steps = 6
[[population]]
name = "a"
sigma = 0.3
mass = 2.0
region = "x < 0.5"
initial = "if(x < 0.5, 1, 0)"
[[population]]
name = "b"
sigma = 0.3
drift = [0.25]
initial = { profile = "gaussian", mean = 0.5, std = 0.1 }
[solver]
max_iterations = 3
"#,
    )
    .unwrap();
    let (problem, settings) = cfg.build().unwrap();
    let solution = solve::solve(&problem, &settings).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("geo.h5");
    let opts = WriteOptions::default();
    io::write(
        &path,
        &problem,
        &Run::finished(&solution),
        Some(&cfg),
        &opts,
    )
    .unwrap();
    let saved = io::read(&path).unwrap();
    assert_eq!(saved.solution, solution);
    let masses: Vec<f64> = saved.header.populations.iter().map(|p| p.mass).collect();
    assert_eq!(masses, [2.0, 1.0]);
    io::verify(&path).unwrap();
    let f = hdf5::File::open(&path).unwrap();
    let live: Vec<u8> = f.dataset("populations/a/live").unwrap().read_raw().unwrap();
    let want: Vec<u8> = problem.populations()[0]
        .live()
        .iter()
        .map(|&l| u8::from(l))
        .collect();
    assert_eq!(live, want);
    assert_eq!(live.iter().filter(|&&l| l == 1).count(), 8);
    let drift: Vec<f64> = f
        .dataset("populations/b/drift_x")
        .unwrap()
        .read_raw()
        .unwrap();
    assert_eq!(drift, vec![0.25; 16]);
    assert!(!f.link_exists("populations/a/drift_x"));
}

#[test]
fn roundtrip_with_a_potential_and_a_drift_in_time() {
    // V(t, x) and b(t, x) are stored at every level (potential_t, drift_x_t) next to their
    // level 0 (potential, drift_x), and the file reads back bit for bit.
    let text = r#"
title = "A potential and a drift that change in time"

[grid]
x = { min = -2.0, max = 2.0, n = 24 }

[time]
horizon = 0.5
steps = 6

[[population]]
name = "a"
sigma = 0.3
hamiltonian = { kind = "quadratic", cost = 1.0 }
initial = { profile = "gaussian", mean = 0.0, std = 0.3 }
potential = "x^2 + if(t < 0.25, 1, 0)"
drift = ["0.5 - t"]
"#;
    let cfg = Config::from_toml_str(text).unwrap();
    check_roundtrip(&cfg);
    let (_, _, dir) = roundtrip(&cfg);
    let (problem, _) = cfg.build().unwrap();
    let pop = problem.population(0);
    let file = hdf5::File::open(dir.path().join("run.h5")).unwrap();
    let g = file.group("populations/a").unwrap();
    let v = g.dataset("potential_t").unwrap();
    assert_eq!(v.shape(), vec![7, 24]);
    let v: Vec<f64> = v.read_raw().unwrap();
    assert_eq!(v, pop.potential_levels().unwrap());
    let b: Vec<f64> = g.dataset("drift_x_t").unwrap().read_raw().unwrap();
    assert_eq!(b, pop.drift_levels().unwrap());
    let b0: Vec<f64> = g.dataset("drift_x").unwrap().read_raw().unwrap();
    assert_eq!(b0, b[..24]);
}
