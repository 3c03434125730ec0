//! `mfg solve` of a stationary configuration end to end: the summary with λ, the result file
//! without a time axis (read back bit for bit: the same u, m, λ and history as a library solve), `mfg
//! inspect`, `mfg plot` of the file, and the clear refusals (a horizon given with
//! kind = "stationary", a finite-horizon method, --resume, reading it as a finite result).

use mfg::config::Config;
use mfg::solve::stationary::solve_stationary;
use std::process::Command;

const CONFIG: &str = r#"
[grid]
x = { min = 0.0, max = 1.0, n = 60, boundary = "periodic" }
[time]
kind = "stationary"
[[population]]
name = "a"
sigma = 0.4
potential = "cos(6.283185307179586*x)"
[[population]]
name = "b"
sigma = 0.5
discount = 0.5
potential = "-cos(6.283185307179586*x)"
[coupling]
log = [0.3, 0.3]
"#;

fn mfg() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mfg"))
}

#[test]
fn a_stationary_configuration_is_solved_saved_inspected_and_drawn() {
    let dir = tempfile::tempdir().unwrap();
    let cfg_path = dir.path().join("s.toml");
    std::fs::write(&cfg_path, CONFIG).unwrap();
    let out = dir.path().join("s.h5");
    let plots = dir.path().join("pics");
    let r = mfg()
        .args(["solve", "--quiet", "--out"])
        .arg(&out)
        .arg("--plots")
        .arg(&plots)
        .arg(&cfg_path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(
        r.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(stdout.contains("converged"), "{stdout}");
    assert!(stdout.contains("ergodic, lambda = "), "{stdout}");

    // The library solve of the same configuration gives the same fields, bit for bit.
    let cfg = Config::from_path(&cfg_path).unwrap();
    let (problem, _) = cfg.build().unwrap();
    let expected = solve_stationary(&problem, &cfg.spec.stationary_settings().unwrap()).unwrap();
    let saved = mfg::io::read_stationary(&out).unwrap();
    assert!(saved.header.time.is_none());
    assert_eq!(saved.solution.u, expected.u);
    assert_eq!(saved.solution.m, expected.m);
    assert_eq!(saved.solution.lambda, expected.lambda);
    // The history is the same but for the wall times.
    let untimed = |h: &[mfg::solve::StepStats]| -> Vec<_> {
        h.iter()
            .map(|s| mfg::solve::StepStats { seconds: 0.0, ..*s })
            .collect()
    };
    assert_eq!(untimed(&saved.solution.history), untimed(&expected.history));
    assert_eq!(saved.header.populations[0].lambda, Some(expected.lambda[0]));
    assert_eq!(saved.header.populations[1].lambda, Some(0.0));
    let e = mfg::io::read(&out).unwrap_err().to_string();
    assert!(e.contains("stationary result"), "{e}");

    let r = mfg().arg("inspect").arg(&out).output().unwrap();
    let text = String::from_utf8_lossy(&r.stdout);
    assert!(r.status.success());
    assert!(text.contains("horizon: stationary"), "{text}");
    assert!(text.contains("shaped (60)"), "{text}");
    assert!(text.contains("ergodic: lambda = "), "{text}");

    for name in ["stationary.png", "convergence.png"] {
        assert!(plots.join(name).is_file(), "{name} missing");
    }
    let again = dir.path().join("again");
    let r = mfg()
        .arg("plot")
        .arg(&out)
        .arg("--out")
        .arg(&again)
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(again.join("stationary.png").is_file());
}

#[test]
fn stationary_configurations_refuse_what_has_no_meaning_without_time() {
    let refused = |text: &str, field: &str| {
        let cfg = Config::from_toml_str(text).unwrap();
        let e = cfg
            .build()
            .map(drop)
            .and_then(|()| cfg.spec.stationary_settings().map(drop))
            .unwrap_err()
            .to_string();
        assert!(e.contains(field), "{field}: {e}");
    };
    let with_horizon = CONFIG.replace(
        "kind = \"stationary\"",
        "kind = \"stationary\"\nhorizon = 1.0",
    );
    refused(&with_horizon, "time.horizon");
    refused(
        &format!("{CONFIG}[solver]\nmethod = \"newton\"\n"),
        "solver.method",
    );
    let finite_without_steps = CONFIG.replace("kind = \"stationary\"", "horizon = 1.0");
    refused(&finite_without_steps, "time.steps");
    let no_initial = CONFIG.replace("kind = \"stationary\"", "horizon = 1.0\nsteps = 4");
    refused(&no_initial, "population[0].initial");
    let with_exit = format!(
        "{}\n[[exit]]\nside = \"x-max\"\n",
        CONFIG.replace("boundary = \"periodic\"", "boundary = \"reflecting\"")
    );
    refused(&with_exit, "exit");

    let dir = tempfile::tempdir().unwrap();
    let cfg_path = dir.path().join("s.toml");
    std::fs::write(&cfg_path, CONFIG).unwrap();
    let r = mfg()
        .args(["solve", "--quiet", "--checkpoint-every", "2", "--out"])
        .arg(dir.path().join("s.h5"))
        .arg(&cfg_path)
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("stationary problem"));
    // `[output]` keys that have no meaning without time are refused, not ignored.
    for (table, key) in [
        ("compression = 4", "output.compression"),
        ("snapshot_times = [0.5]", "output.snapshot_times"),
    ] {
        std::fs::write(&cfg_path, format!("{CONFIG}[output]\n{table}\n")).unwrap();
        let r = mfg()
            .args(["solve", "--quiet"])
            .arg(&cfg_path)
            .output()
            .unwrap();
        assert_eq!(r.status.code(), Some(2), "{key}");
        assert!(String::from_utf8_lossy(&r.stderr).contains(key), "{key}");
    }
}
