//! `mfg validate` as a CI gate: exit 0 when the thresholds hold, 4 when one fails (the report
//! and the pictures are written either way), 2 for bad input — a policy file with a NaN, a bad
//! `--velocities`, an unknown `[rl]` key, too few steps for the CFL condition — with the error
//! naming the dataset or the key; `--solution FILE` reuses a saved PDE solution; the pictures
//! (1D heatmaps, 2D density panels, the exploitability curve) have the requested size.

mod cli_common;
use cli_common::{code, run as mfg, s, text};

mod common;

use common::examples::coarse;
use mfg::io::{read_policy, write_policy};
use mfg::rl::validate::Imported;
use std::path::Path;

/// The two-group example on 41 nodes and 20 time steps, with `extra` appended.
fn config(dir: &Path, extra: &str) -> String {
    let cfg = coarse("two_groups_1d.toml", 41, None, 20, Some(60));
    let path = dir.join(format!("coarse{}.toml", extra.len()));
    std::fs::write(&path, format!("{}\n{extra}", cfg.text)).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn thresholds_set_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    let (report, plots) = (dir.path().join("report.h5"), dir.path().join("plots"));
    let base = [
        "validate",
        &cfg,
        "--pde-policy",
        "--equilibrium",
        "none",
        "--out",
        s(&report),
        "--plots",
        s(&plots),
    ];
    let o = mfg(&[
        &base[..],
        &["--max-exploitability", "1", "--max-density-error", "1"],
    ]
    .concat());
    assert_eq!(code(&o), 0, "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("thresholds: all 3 hold"), "{out}");
    assert!(out.contains("the PDE feedback α*"), "{out}");
    assert!(read_policy(&report).unwrap().policies.len() == 2);
    for p in ["walkers_density.png", "wheelchairs_velocity.png"] {
        assert!(plots.join(p).is_file(), "{p}");
    }

    std::fs::remove_file(&report).unwrap();
    let o = mfg(&[&base[..], &["--max-exploitability", "1e-12"]].concat());
    assert_eq!(code(&o), 4, "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("thresholds: 1 of 1 fail: max_exploitability"),
        "{out}"
    );
    assert!(
        report.is_file(),
        "the report is written when a threshold fails"
    );

    // The same limit from the configuration's [rl.thresholds], and an OMD run reaching it.
    let cfg = config(
        dir.path(),
        "[rl]\nalgorithm = \"omd\"\niterations = 40\nthresholds = { max_exploitability = 1e-2 }",
    );
    let o = mfg(&["validate", &cfg, "--equilibrium", "none"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(text(&o).contains("mirror-descent"), "{}", text(&o));
    let o = mfg(&[
        "validate",
        &cfg,
        "--equilibrium",
        "none",
        "--max-exploitability",
        "1e-12",
    ]);
    assert_eq!(code(&o), 4, "{}", text(&o));
}

#[test]
fn a_saved_solution_is_reused() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    let run = dir.path().join("run.h5");
    let o = mfg(&["solve", &cfg, "--out", s(&run), "--quiet"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let o = mfg(&[
        "validate",
        "--solution",
        s(&run),
        "--pde-policy",
        "--equilibrium",
        "none",
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(text(&o).contains("read from"), "{}", text(&o));
    assert!(!text(&o).contains("solving"), "{}", text(&o));
}

#[test]
fn bad_input_exits_2_naming_the_culprit() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    let report = dir.path().join("report.h5");
    let o = mfg(&[
        "validate",
        &cfg,
        "--pde-policy",
        "--equilibrium",
        "none",
        "--out",
        s(&report),
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));

    // The report is a policy file: spoil one entry.
    let mut file = read_policy(&report).unwrap();
    if let Imported::Tabular { pi, .. } = &mut file.policies[1].data {
        pi[3] = f64::NAN;
    }
    let bad = dir.path().join("bad.h5");
    write_policy(&bad, &file).unwrap();
    let o = mfg(&[
        "validate",
        &cfg,
        "--policy",
        s(&bad),
        "--equilibrium",
        "none",
    ]);
    assert_eq!(code(&o), 2, "{}", text(&o));
    let e = text(&o);
    assert!(
        e.contains("/policies/wheelchairs/pi") && e.contains("[0, 0, 3]") && e.contains("NaN"),
        "{e}"
    );

    for (args, want) in [
        (vec!["--velocities", "walkers=-1:1"], "--velocities"),
        (vec!["--velocities", "runners=-1:1:3"], "\"runners\""),
        (vec!["--steps", "2", "--pde-policy"], "CFL violated"),
        (vec!["--algo", "sgd"], "rl.algorithm"),
        (vec!["--algo", "omd", "--damping", "0.5"], "rl.damping"),
        (vec!["--max-density-error=-1"], "max_density_error"),
    ] {
        let o = mfg(&[&["validate", cfg.as_str()][..], &args[..]].concat());
        assert_eq!(code(&o), 2, "{args:?}: {}", text(&o));
        assert!(text(&o).contains(want), "{args:?}: {}", text(&o));
    }
    let cfg = config(dir.path(), "[rl]\nvelocity = 3");
    for cmd in ["validate", "check"] {
        let o = mfg(&[cmd, &cfg]);
        assert_eq!(code(&o), 2, "{cmd}: {}", text(&o));
        assert!(text(&o).contains("invalid rl:"), "{cmd}: {}", text(&o));
    }
    let cfg = config(dir.path(), "[rl]\nvelocities = { runners = [0.0] }");
    let o = mfg(&["check", &cfg]);
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(text(&o).contains("rl.velocities.runners"), "{}", text(&o));
}

#[test]
fn help_documents_exit_code_4() {
    let o = mfg(&["validate", "--help"]);
    let out = text(&o);
    assert!(out.contains("4    mfg validate: a threshold"), "{out}");
    assert!(out.contains("--max-exploitability"), "{out}");
}

/// A picture of the requested size that is not blank.
fn check_picture(path: &Path, size: (u32, u32)) {
    let img = image::open(path).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), size, "{}", path.display());
    let first = *img.get_pixel(0, 0);
    let other = img.pixels().filter(|p| **p != first).count();
    assert!(other > 1000, "{}: nearly blank", path.display());
}

/// In 2D (the corridor on 24 × 8 nodes): the PDE policy is validated (no W1, a control error per
/// axis pair) and drawn as density panels of the policy and the PDE.
#[test]
fn two_dimensional_validation_and_pictures() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = coarse("corridor_2d.toml", 24, Some(8), 10, None);
    let path = dir.path().join("c2d.toml");
    std::fs::write(&path, &cfg.text).unwrap();
    let plots = dir.path().join("plots");
    let o = mfg(&[
        "validate",
        s(&path),
        "--pde-policy",
        "--equilibrium",
        "none",
        "--velocities",
        "-6:6:9/-1:1:5",
        "--plots",
        s(&plots),
        "--size",
        "640x480",
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("x: 9 values on [-6, 6], y: 5 values on [-1, 1] (45 actions)"),
        "{out}"
    );
    // No W1 in 2D, no equilibrium asked for.
    let east = out
        .lines()
        .rfind(|l| l.trim_start().starts_with("east "))
        .unwrap();
    assert!(
        east.contains(" — ") && east.contains("(not computed)"),
        "{east}"
    );
    check_picture(&plots.join("densities.png"), (640, 480));
    assert!(
        !plots.join("exploitability.png").exists(),
        "no run, no curve"
    );

    // 1D: every picture, of the requested size.
    let cfg = config(dir.path(), "");
    let plots = dir.path().join("plots1d");
    let o = mfg(&[
        "validate",
        &cfg,
        "--algo",
        "fp",
        "--iterations",
        "20",
        "--equilibrium",
        "none",
        "--plots",
        s(&plots),
        "--size",
        "720x400",
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    for name in ["walkers", "wheelchairs"] {
        for what in ["density", "velocity"] {
            check_picture(&plots.join(format!("{name}_{what}.png")), (720, 400));
        }
    }
    check_picture(&plots.join("exploitability.png"), (720, 400));
}
