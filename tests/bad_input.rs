//! Bad input gets its own clear error naming the field and the reason, from the configuration
//! file, from the library API and from the command line (exit code 2).

use mfg::config::Config;
use mfg::problem::hamiltonian::Quadratic;
use mfg::{Boundary, Grid, Population, Problem, TimeGrid};

const GOOD: &str = r#"
[grid]
x = { min = 0.0, max = 1.0, n = 20 }
[time]
horizon = 1.0
steps = 10
[[population]]
name = "a"
sigma = 0.3
initial = { profile = "gaussian", mean = 0.5, std = 0.1 }
terminal = "x^2"
"#;

fn build_error(text: &str) -> String {
    match Config::from_toml_str(text) {
        Err(e) => e.to_string(),
        Ok(c) => c
            .build()
            .expect_err("the input should be rejected")
            .to_string(),
    }
}

#[test]
fn the_good_configuration_builds() {
    Config::from_toml_str(GOOD).unwrap().build().unwrap();
}

#[test]
fn negative_sigma() {
    let e = build_error(&GOOD.replace("sigma = 0.3", "sigma = -0.3"));
    assert!(
        e.contains("population[0].sigma") && e.contains("-0.3"),
        "{e}"
    );
}

#[test]
fn negative_initial_density() {
    let e = build_error(&GOOD.replace(
        r#"initial = { profile = "gaussian", mean = 0.5, std = 0.1 }"#,
        r#"initial = "x - 0.5""#,
    ));
    assert!(
        e.contains("population[0].initial") && e.contains("negative density"),
        "{e}"
    );
}

#[test]
fn zero_mass_initial_density() {
    let e = build_error(&GOOD.replace(
        r#"initial = { profile = "gaussian", mean = 0.5, std = 0.1 }"#,
        "initial = 0",
    ));
    assert!(
        e.contains("population[0].initial") && e.contains("mass 0"),
        "{e}"
    );
}

#[test]
fn expression_that_yields_nan() {
    let e = build_error(&GOOD.replace(r#"terminal = "x^2""#, r#"terminal = "ln(x - 0.5)""#));
    assert!(
        e.contains("population[0].terminal") && e.contains("NaN"),
        "{e}"
    );
}

#[test]
fn unknown_key() {
    let e = build_error(&GOOD.replace("steps = 10", "steps = 10\ndt = 0.1"));
    assert!(e.contains("unknown field") && e.contains("dt"), "{e}");
}

#[test]
fn grid_with_too_few_nodes() {
    let e = build_error(&GOOD.replace("n = 20", "n = 2"));
    assert!(e.contains("grid.x.n") && e.contains("at least 3"), "{e}");
}

#[test]
fn unknown_variable_in_expression() {
    let e = build_error(&GOOD.replace(r#"terminal = "x^2""#, r#"terminal = "y^2""#));
    assert!(
        e.contains("population[0].terminal") && e.contains("\"y\""),
        "{e}"
    );
}

#[test]
fn coupling_of_the_wrong_size() {
    let e = build_error(&format!(
        "{GOOD}\n[coupling]\nlinear = [[1.0, 0.0], [0.0, 1.0]]\n"
    ));
    assert!(e.contains("coupling.linear"), "{e}");
}

#[test]
fn library_api_rejects_the_same_inputs() {
    let grid = Grid::new_1d(0.0, 1.0, 10, Boundary::Reflecting).unwrap();
    let time = TimeGrid::new(1.0, 5).unwrap();
    let make = |sigma: f64, init: f64| {
        Population::builder("a", sigma, Quadratic::new(1.0)).initial(move |_| init)
    };
    let err = |pop| {
        Problem::builder(grid.clone(), time)
            .population(pop)
            .build()
            .unwrap_err()
            .to_string()
    };
    assert!(err(make(-1.0, 1.0)).contains("population[0].sigma"));
    assert!(err(make(1.0, -1.0)).contains("negative density"));
    assert!(err(make(1.0, 0.0)).contains("mass 0"));
    assert!(err(make(1.0, f64::NAN)).contains("NaN"));
    let e = Problem::builder(grid.clone(), time).build().unwrap_err();
    assert!(e.to_string().contains("population"), "{e}");
    assert!(TimeGrid::new(-1.0, 5)
        .unwrap_err()
        .to_string()
        .contains("time.horizon"));
    assert!(Grid::new_1d(0.0, 1.0, 1, Boundary::Periodic)
        .unwrap_err()
        .to_string()
        .contains("grid.x.n"));
}

#[cfg(feature = "cli")]
#[test]
fn cli_check_reports_the_field_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, GOOD.replace("sigma = 0.3", "sigma = -0.3")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mfg"))
        .arg("check")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("population[0].sigma"), "{stderr}");
    let path = dir.path().join("bad.ini");
    std::fs::write(&path, GOOD).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mfg"))
        .arg("check")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(".toml"));
}

#[cfg(feature = "cli")]
#[cfg(unix)]
#[test]
fn a_closed_stdout_pipe_is_not_a_panic() {
    use std::process::{Command, Stdio};
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/two_groups_1d.toml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mfg"))
        .args(["check", example])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away before mfg prints
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn an_empty_box_is_refused_not_read_as_zero() {
    let e = build_error(&GOOD.replace(
        "terminal = \"x^2\"",
        "terminal = { profile = \"box\", min = 1.0, max = 0.0 }",
    ));
    assert!(
        e.contains("population[0].terminal.max") && e.contains("the box is empty"),
        "{e}"
    );
}

#[test]
fn a_name_with_a_nul_or_a_control_character_is_refused_at_check() {
    for bad in ["a\\u0000b", "a\\tb", "a\\\\b"] {
        let e = build_error(&GOOD.replace("name = \"a\"", &format!("name = \"{bad}\"")));
        assert!(
            e.contains("population[0].name") && e.contains("control"),
            "{bad}: {e}"
        );
    }
}

#[test]
fn uniform_may_be_named_alone_and_other_profiles_get_a_hint() {
    let c = Config::from_toml_str(&GOOD.replace(
        "initial = { profile = \"gaussian\", mean = 0.5, std = 0.1 }",
        "initial = \"uniform\"",
    ))
    .unwrap();
    let (problem, _) = c.build().unwrap();
    let m0 = problem.populations()[0].initial();
    assert!(m0.iter().all(|&v| (v - m0[0]).abs() < 1e-14 && v > 0.0));
    let e = build_error(&GOOD.replace(
        "initial = { profile = \"gaussian\", mean = 0.5, std = 0.1 }",
        "initial = \"gaussian\"",
    ));
    assert!(
        e.contains("population[0].initial") && e.contains("needs its parameters"),
        "{e}"
    );
}

#[test]
fn ignored_amplitudes_and_non_periodic_data_on_a_periodic_axis_get_notes() {
    let c = Config::from_toml_str(&GOOD.replace("std = 0.1 }", "std = 0.1, amplitude = 3.0 }"))
        .unwrap();
    let (problem, _) = c.build().unwrap();
    let notes = c.notes_for(&problem);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("population[0].initial.amplitude = 3 has no effect")),
        "{notes:?}"
    );
    // x² on a periodic [0, 1] jumps by ~1 across the boundary: noted. cos(2πx) does not.
    let periodic = GOOD.replace("n = 20 }", "n = 20, boundary = \"periodic\" }");
    let c = Config::from_toml_str(&periodic).unwrap();
    let (problem, _) = c.build().unwrap();
    let notes = c.notes_for(&problem);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("population[0].terminal is not periodic along x")),
        "{notes:?}"
    );
    let c = Config::from_toml_str(&periodic.replace("\"x^2\"", "\"cos(2 * PI * x)\"")).unwrap();
    let (problem, _) = c.build().unwrap();
    assert!(
        c.notes_for(&problem).is_empty(),
        "{:?}",
        c.notes_for(&problem)
    );
    // Without the periodic axis there is nothing to say.
    let c = Config::from_toml_str(GOOD).unwrap();
    let (problem, _) = c.build().unwrap();
    assert!(c.notes_for(&problem).is_empty());
}

#[test]
fn a_first_order_population_in_2d_gets_an_early_note() {
    let text = GOOD.replace(
        "x = { min = 0.0, max = 1.0, n = 20 }",
        "x = { min = 0.0, max = 1.0, n = 8 }\ny = { min = 0.0, max = 1.0, n = 8 }",
    );
    let text = text
        .replace("sigma = 0.3", "sigma = 0.0")
        .replace(
            "mean = 0.5, std = 0.1",
            "mean = [0.5, 0.5], std = [0.1, 0.1]",
        )
        .replace("\"x^2\"", "\"x^2 + y^2\"");
    let c = Config::from_toml_str(&text).unwrap();
    let (problem, _) = c.build().unwrap();
    let notes = c.notes_for(&problem);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("population[0].sigma = 0: a first-order problem")),
        "{notes:?}"
    );
}

#[test]
fn population_mass_zero_or_negative() {
    let e = build_error(&GOOD.replace("sigma = 0.3", "sigma = 0.3\nmass = 0"));
    assert!(
        e.contains("population[0].mass") && e.contains("starts empty") && e.contains("\"a\""),
        "{e}"
    );
    let e = build_error(&GOOD.replace("sigma = 0.3", "sigma = 0.3\nmass = -2"));
    assert!(e.contains("population[0].mass") && e.contains("-2"), "{e}");
}

const ROOM: &str = r#"
[grid]
x = { min = 0.0, max = 1.0, n = 20 }
y = { min = 0.0, max = 1.0, n = 20 }
[time]
horizon = 1.0
steps = 10
[[obstacles]]
shape = "disc"
center = [0.5, 0.5]
radius = 0.2
[[population]]
name = "walkers"
sigma = 0.3
initial = "if((x-0.5)^2 + (y-0.5)^2 <= 0.04, 0, 1)"
region = { shape = "box", min = [0.0, 0.0], max = [1.0, 0.8] }
"#;

#[test]
fn room_with_a_pillar_builds() {
    let (p, _) = Config::from_toml_str(
        ROOM.replace("max = [1.0, 0.8]", "max = [1.0, 1.0]")
            .as_str(),
    )
    .unwrap()
    .build()
    .unwrap();
    let pop = p.population(0);
    assert!(pop.is_masked());
    assert_eq!(
        p.obstacles().iter().filter(|o| **o).count(),
        pop.live().iter().filter(|l| !**l).count()
    );
}

#[test]
fn region_that_selects_no_node() {
    let e = build_error(&ROOM.replace(
        "region = { shape = \"box\", min = [0.0, 0.0], max = [1.0, 0.8] }",
        "region = \"x > 2\"",
    ));
    assert!(
        e.contains("population[0].region") && e.contains("selects no node"),
        "{e}"
    );
}

#[test]
fn initial_density_inside_an_obstacle_or_outside_the_region() {
    let e = build_error(&ROOM.replace(
        "initial = \"if((x-0.5)^2 + (y-0.5)^2 <= 0.04, 0, 1)\"",
        "initial = \"if(y > 0.8, 0, 1)\"",
    ));
    assert!(
        e.contains("population[0].initial") && e.contains("inside an obstacle"),
        "{e}"
    );
    let e = build_error(ROOM);
    assert!(
        e.contains("population[0].initial") && e.contains("outside the population's region"),
        "{e}"
    );
}

#[test]
fn unknown_shape_and_bad_shape_values() {
    let e = build_error(&ROOM.replace("shape = \"disc\"", "shape = \"hexagon\""));
    assert!(e.contains("hexagon") && e.contains("disc"), "{e}");
    let e = build_error(&ROOM.replace("radius = 0.2", "radius = -0.2"));
    assert!(e.contains("obstacles[0].radius"), "{e}");
    let e = build_error(&ROOM.replace("min = [0.0, 0.0]", "min = [0.0]"));
    assert!(e.contains("population[0].region.min"), "{e}");
}

#[test]
fn drift_that_is_not_finite_or_has_the_wrong_size() {
    let e = build_error(&GOOD.replace("sigma = 0.3", "sigma = 0.3\ndrift = [\"log(x - 0.5)\"]"));
    assert!(
        e.contains("population[0].drift[0]") && e.contains("NaN"),
        "{e}"
    );
    let e = build_error(&GOOD.replace("sigma = 0.3", "sigma = 0.3\ndrift = [1.0, 0.0]"));
    assert!(
        e.contains("population[0].drift") && e.contains("one per axis"),
        "{e}"
    );
}

#[test]
fn exits_that_cannot_be_built_name_their_key() {
    let with_exit = |exit: &str| {
        ROOM.replace("max = [1.0, 0.8]", "max = [1.0, 1.0]")
            .replace("[[population]]", &format!("{exit}\n[[population]]"))
    };
    let ok = Config::from_toml_str(&with_exit("[[exit]]\nside = \"x-max\"\nspan = [0.4, 0.6]"))
        .unwrap()
        .build()
        .unwrap()
        .0;
    assert_eq!(ok.exits().iter().filter(|e| **e).count(), 4);
    let cases = [
        ("[[exit]]\nspan = [0.4, 0.6]", "exit[0]", "needs `side`"),
        (
            "[[exit]]\nside = \"x-max\"\nregion = \"x > 0.9\"",
            "exit[0]",
            "not both",
        ),
        (
            "[[exit]]\nside = \"x-max\"\nspan = [0.6, 0.4]",
            "exit[0].span",
            "first not above",
        ),
        (
            "[[exit]]\nregion = \"x > 0.9\"\nspan = [0.1, 0.2]",
            "exit[0].span",
            "goes with a side",
        ),
        (
            "[[exit]]\nside = \"y-max\"\nspan = [2.0, 3.0]",
            "exit[0]",
            "selects no node",
        ),
        ("[[exit]]\nside = \"top\"", "side", "x-max"),
        (
            "[[exit]]\nregion = { shape = \"disc\", center = [0.5, 0.5], radius = 0.1 }",
            "exit",
            "obstacle share",
        ),
    ];
    for (exit, field, reason) in cases {
        let e = build_error(&with_exit(exit));
        assert!(e.contains(field) && e.contains(reason), "{exit}: {e}");
    }
    let e = build_error(&GOOD.replace("sigma = 0.3", "sigma = 0.3\nexit_cost = \"log(x - 2)\""));
    assert!(e.contains("exit_cost"), "{e}");
}

#[test]
fn an_exit_on_a_periodic_axis_and_a_negative_discount_are_refused() {
    let periodic = GOOD.replace("n = 20 }", "n = 20, boundary = \"periodic\" }");
    let e = build_error(&periodic.replace(
        "[[population]]",
        "[[exit]]\nside = \"x-min\"\n[[population]]",
    ));
    assert!(e.contains("exit[0].side") && e.contains("periodic"), "{e}");
    // An exit region inside a periodic domain is fine.
    let inside = periodic.replace(
        "[[population]]",
        "[[exit]]\nregion = \"x > 0.9\"\n[[population]]",
    );
    Config::from_toml_str(&inside).unwrap().build().unwrap();
    for bad in ["-0.1", "nan"] {
        let e =
            build_error(&GOOD.replace("sigma = 0.3", &format!("sigma = 0.3\ndiscount = {bad}")));
        assert!(e.contains("population[0].discount"), "{bad}: {e}");
    }
}

#[test]
fn congestion_parameters_are_checked_by_key() {
    let with = |h: &str| GOOD.replace("sigma = 0.3", &format!("sigma = 0.3\nhamiltonian = {h}"));
    let cases = [
        // Beyond 4(q−1)/q = 2 for the quadratic base: not monotone.
        (
            r#"{ kind = "congestion", alpha = 2.5, epsilon = 1.0 }"#,
            "population[0].hamiltonian.alpha",
        ),
        // The power-law variant q = 1.5 allows α ≤ 4/3 only.
        (
            r#"{ kind = "congestion", q = 1.5, alpha = 1.5, epsilon = 1.0 }"#,
            "population[0].hamiltonian.alpha",
        ),
        (
            r#"{ kind = "congestion", alpha = 1.0, epsilon = 0.0 }"#,
            "population[0].hamiltonian.epsilon",
        ),
        (
            r#"{ kind = "congestion", alpha = 1.0, epsilon = 1.0, weights = [-1.0] }"#,
            "population[0].hamiltonian.weights[0]",
        ),
        (
            r#"{ kind = "congestion", alpha = 1.0, epsilon = 1.0, weights = [1.0, 1.0] }"#,
            "population[0].hamiltonian.weights",
        ),
        (r#"{ kind = "congestion", alpha = 1.0 }"#, "epsilon"),
    ];
    for (h, field) in cases {
        let e = build_error(&with(h));
        assert!(e.contains(field), "{h}: {e}");
    }
    // The good one builds, with the default self-congestion weights.
    Config::from_toml_str(&with(
        r#"{ kind = "congestion", alpha = 1.0, epsilon = 1.0 }"#,
    ))
    .unwrap()
    .build()
    .unwrap();
}
