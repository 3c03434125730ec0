//! `mfg solve CONFIG --method NAME` runs every method on the shipped examples and reports
//! convergence (exit code 0) with the same summary fields.

use std::process::Command;

fn solve(config: &str, method: &str) -> String {
    let path = format!("{}/examples/{config}", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_mfg"))
        .args(["solve", &path, "--method", method])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{config} --method {method}: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn every_method_solves_the_1d_example() {
    for method in ["picard", "anderson", "newton"] {
        let s = solve("two_groups_1d.toml", method);
        assert!(s.starts_with(&format!("{method}: converged after")), "{s}");
        assert!(s.contains("final residual"), "{s}");
    }
}

#[test]
fn newton_solves_the_2d_example() {
    let s = solve("corridor_2d.toml", "newton");
    assert!(s.starts_with("newton: converged after"), "{s}");
}

#[test]
fn unknown_method_is_an_invalid_input() {
    let path = format!("{}/examples/two_groups_1d.toml", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_mfg"))
        .args(["solve", &path, "--method", "gauss-seidel"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("solver.method"));
}
