//! The configuration as the `mfg` command sees it: notes for method tables the selected method
//! does not use, old flat `[solver]` keys refused with their new place (exit code 2), the
//! `[output]` table checked by the command, and its snapshot times read back by `mfg plot` from
//! the configuration stored in a result file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BASE: &str = r#"[grid]
x = { min = 0.0, max = 1.0, n = 12 }
y = { min = 0.0, max = 1.0, n = 8 }
[time]
horizon = 0.6
steps = 6
[[population]]
name = "a"
sigma = 0.3
initial = { profile = "gaussian", mean = [0.3, 0.5], std = [0.15, 0.15] }
terminal = "(x - 0.8)^2"
"#;

fn mfg(args: &[&str], files: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mfg"))
        .args(args)
        .args(files)
        .output()
        .expect("mfg runs")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn notes_moved_keys_and_output_errors() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{BASE}[solver]\nmethod = \"newton\"\n[solver.picard]\nrelaxation = 0.8\n");
    let path = write(dir.path(), "notes.toml", &text);
    let note = "note: [solver.picard] is not used by method = \"newton\"";
    let o = mfg(&["check"], &[&path]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains(note), "{}", stderr(&o));
    let o = mfg(&["solve"], &[&path]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains(note), "{}", stderr(&o));
    // --method picard uses the table: no note.
    let o = mfg(&["solve", "--method", "picard"], &[&path]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("note:"), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("picard: converged"));

    let old = write(
        dir.path(),
        "old.toml",
        &format!("{BASE}[solver]\nmethod = \"newton\"\nwarm_start = 2\n"),
    );
    let o = mfg(&["check"], &[&old]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("line 14")
            && stderr(&o).contains(
                "solver.warm_start has moved: write it as warm_start under [solver.newton]"
            ),
        "{}",
        stderr(&o)
    );

    let bad = write(
        dir.path(),
        "output.toml",
        &format!("{BASE}[output]\ncheckpoint_evry = 3\n"),
    );
    for args in [&["check"][..], &["solve", "--quiet"][..]] {
        let o = mfg(args, &[&bad]);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&o).contains("invalid output") && stderr(&o).contains("checkpoint_evry"),
            "{}",
            stderr(&o)
        );
    }
}

#[test]
fn plot_takes_the_snapshot_times_of_the_stored_output_table() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{BASE}[output]\nsnapshot_times = [0.0, 0.2]\n");
    let path = write(dir.path(), "run.toml", &text);
    let out = dir.path().join("run.h5");
    let o = mfg(&["solve", "--quiet", "--out"], &[&out, &path]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let draw = |name: &str, times: Option<&str>| {
        let target = dir.path().join(name);
        let mut args = vec!["plot", "--size", "400x300"];
        if let Some(t) = times {
            args.extend(["--times", t]);
        }
        let o = mfg(&args, &[&out, Path::new("--out"), &target]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        image::open(target.join("snapshots.png")).unwrap().to_rgb8()
    };
    let stored = draw("stored", None);
    assert_eq!(stored, draw("explicit", Some("0,0.2")));
    assert_ne!(stored, draw("other", Some("0,0.4")));
}

/// `mfg check` states whether the coupling is Lasry–Lions monotone, the solve summary repeats
/// the test on the solution, and the result file carries both in `/coupling`'s attributes.
#[test]
fn monotonicity_in_check_summary_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let second = r#"[[population]]
name = "b"
sigma = 0.3
initial = { profile = "gaussian", mean = [0.7, 0.5], std = [0.15, 0.15] }
terminal = "(x - 0.2)^2"
"#;
    let segregating = write(
        dir.path(),
        "segregating.toml",
        &format!("{BASE}{second}[coupling]\nlinear = [[0.05, 0.5], [0.5, 0.05]]\n"),
    );
    let o = mfg(&["check"], &[&segregating]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        out.contains("coupling NOT monotone") && out.contains("-4.5000e-1"),
        "{out}"
    );
    let monotone = write(
        dir.path(),
        "monotone.toml",
        &format!("{BASE}{second}[coupling]\nlinear = [[1.0, 0.5], [0.5, 0.8]]\n"),
    );
    let o = mfg(&["check"], &[&monotone]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.contains("coupling monotone (Lasry–Lions) for all densities"),
        "{out}"
    );
    let file = dir.path().join("seg.h5");
    let o = mfg(
        &["solve", "--quiet", "--out", file.to_str().unwrap()],
        &[&segregating],
    );
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        out.contains("coupling NOT monotone") && out.contains("solution"),
        "{out}"
    );
    let f = hdf5::File::open(&file).unwrap();
    let c = f.group("coupling").unwrap();
    let text = |name: &str| -> String {
        c.attr(name)
            .unwrap()
            .read_scalar::<hdf5::types::VarLenUnicode>()
            .unwrap()
            .to_string()
    };
    assert_eq!(text("monotone_for_all_densities"), "no");
    assert_eq!(text("monotone_initial"), "no");
    assert_eq!(text("monotone_solution"), "no");
    let lambda: f64 = c
        .attr("lambda_min_solution")
        .unwrap()
        .read_scalar()
        .unwrap();
    assert!((lambda + 0.45).abs() < 1e-12, "{lambda}");
}
