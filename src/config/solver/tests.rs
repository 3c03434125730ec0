//! Tests of the `[solver]` tables: defaults, each method's keys, and the errors that name them.
use super::*;
use crate::config::Format;
use std::path::Path;

/// A file holding only `[solver]`, read through the same deserializer as a configuration.
#[derive(Debug, Deserialize)]
struct Only {
    #[serde(default, deserialize_with = "deserialize_solver")]
    solver: SolverSpec,
}

fn parse(text: &str, format: Format) -> Result<SolverSpec> {
    format
        .parse::<Only>(text, Path::new("test"))
        .map(|o| o.solver)
}

fn toml(text: &str) -> Result<SolverSpec> {
    parse(text, Format::Toml)
}

fn build_error(text: &str) -> String {
    match toml(text) {
        Err(e) => e.to_string(),
        Ok(s) => s.build().expect_err("should be rejected").to_string(),
    }
}

#[test]
fn defaults_are_the_library_defaults() {
    let s = toml("").unwrap();
    assert_eq!(s, SolverSpec::default());
    let built = s.build().unwrap();
    assert_eq!(built, SolverSettings::default());
    assert_eq!(NewtonSpec::default().settings(), NewtonSettings::default());
    assert_eq!(
        AndersonSpec::default().settings(),
        AndersonSettings::default()
    );
}

#[test]
fn every_table_reaches_its_settings() {
    let s = toml(
        r#"
[solver]
method = "newton"
max_iterations = 7
tol_residual = 1e-9
[solver.newton]
linear_solver = "krylov"
preconditioner = "multigrid"
gmres_restart = 20
gmres_max_iterations = 60
ordering = "node-interleaved"
direct_max_unknowns = 500
warm_start = 2
warm_relaxation = 0.7
fallback = "picard"
fallback_iterations = 4
fallback_relaxation = 0.3
continuation_tol = 1e-5
line_search_halvings = 6
nonmonotone_window = 1
density_update = "log"
[solver.hjb]
tol = 1e-12
max_iterations = 20
[solver.linear]
step_solver = "direct"
"#,
    )
    .unwrap();
    assert!(s.notes().is_empty(), "{:?}", s.notes());
    let b = s.build().unwrap();
    assert_eq!(b.stopping.max_iterations, 7);
    assert_eq!(b.stopping.tol_residual, 1e-9);
    assert_eq!(b.hjb.tol, 1e-12);
    assert_eq!(b.hjb.max_iterations, 20);
    assert_eq!(b.hjb.linear_solver, StepSolverKind::Direct);
    let want = NewtonSettings {
        linear_solver: NewtonSolverKind::Krylov,
        preconditioner: Preconditioner::Multigrid,
        gmres_restart: 20,
        gmres_max_iterations: 60,
        ordering: Ordering::NodeInterleaved,
        direct_max_unknowns: 500,
        warm_start: Some(2),
        warm_relaxation: 0.7,
        fallback: Fallback::Picard,
        fallback_iterations: 4,
        picard_relaxation: 0.3,
        continuation_tol: 1e-5,
        max_halvings: 6,
        nonmonotone_window: 1,
        density_update: DensityUpdate::Log,
        ..NewtonSettings::default()
    };
    assert_eq!(b.method, MethodKind::Newton(want));

    let s = toml("[solver]\nmethod = \"anderson\"\n[solver.anderson]\ndepth = 3\nmixing = 0.5\nrelaxation = 0.25\n")
        .unwrap();
    let want = AndersonSettings {
        depth: 3,
        mixing: 0.5,
        relaxation: 0.25,
        ..AndersonSettings::default()
    };
    assert_eq!(s.build().unwrap().method, MethodKind::Anderson(want));

    let s = toml("[solver]\nmethod = \"picard\"\n[solver.picard]\nrelaxation = 0.25\n").unwrap();
    assert_eq!(
        s.build().unwrap().method,
        MethodKind::Picard(Relaxation::Fixed(0.25))
    );
    let s = toml("[solver]\nmethod = \"picard\"\n[solver.picard]\nrelaxation = \"adaptive\"\n")
        .unwrap();
    assert_eq!(
        s.build().unwrap().method,
        MethodKind::Picard(Relaxation::Adaptive)
    );
    let s = toml("[solver]\nmethod = \"picard\"\nu_change = \"max\"\n").unwrap();
    let b = s.build().unwrap();
    assert_eq!(b.method, MethodKind::Picard(Relaxation::Adaptive));
    assert_eq!(b.stopping.u_change, crate::solve::UChange::Max);
    // Auto (the default) uses the Picard and Newton tables.
    let s = toml("[solver.picard]\nrelaxation = 1\n[solver.newton]\nwarm_start = 2\n").unwrap();
    assert!(s.notes().is_empty(), "{:?}", s.notes());
    match s.build().unwrap().method {
        MethodKind::Auto(a) => {
            assert_eq!(a.picard, Relaxation::Fixed(1.0));
            assert_eq!(a.newton.warm_start, Some(2));
        }
        other => panic!("{other:?}"),
    }
    let s = toml("[solver]\nmethod = \"fictitious-play\"\n").unwrap();
    assert_eq!(
        s.build().unwrap().method,
        MethodKind::Picard(Relaxation::FictitiousPlay)
    );
}

/// A key of another method's table (or a misspelt one) is a parse error naming it.
#[test]
fn unknown_keys_in_a_table_are_named() {
    for (table, key) in [
        ("picard", "depth"),
        ("anderson", "gmres_restart"),
        ("newton", "mixing"),
        ("newton", "relaxation"),
        ("hjb", "hjb_tol"),
        ("linear", "linear_solver"),
    ] {
        let e = toml(&format!("[solver.{table}]\n{key} = 1\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field") && e.contains(key), "{e}");
    }
    let e = toml("[solver]\nmethd = \"newton\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown field") && e.contains("methd"), "{e}");
    let e = toml("[solver.newton]\nlinear_solver = \"lu\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("lu"), "{e}");
    // A relaxation is a number or "adaptive"; anything else names the key.
    for bad in ["\"fast\"", "[0.5]", "true"] {
        let e = toml(&format!("[solver.picard]\nrelaxation = {bad}\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("relaxation"), "{bad}: {e}");
    }
}

/// Every old flat key is refused with a message naming it and its new place, in TOML and
/// YAML.
#[test]
fn every_moved_flat_key_says_where_it_went() {
    for (old, new) in MOVED {
        let want = format!("solver.{old} has moved: write it as {new}");
        let e = toml(&format!("[solver]\nmethod = \"newton\"\n{old} = 1\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains(&want), "{e}");
        let e = parse(
            &format!("solver:\n  method: newton\n  {old}: 1\n"),
            Format::Yaml,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains(&want), "{e}");
    }
    let e = toml("[solver]\nrelaxation = 0.5\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("[solver.picard]")
            && e.contains("[solver.anderson]")
            && e.contains("fallback_relaxation under [solver.newton]"),
        "{e}"
    );
    // TOML points at the line.
    assert!(e.contains("line 2"), "{e}");
}

#[test]
fn tables_of_other_methods_are_notes() {
    let text = "[solver]\nmethod = \"picard\"\n[solver.picard]\nrelaxation = 1.0\n\
                [solver.anderson]\ndepth = 2\n[solver.newton]\nwarm_start = 1\n";
    let mut s = toml(text).unwrap();
    let notes = s.notes();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(
        notes[0].starts_with("[solver.anderson] is not used by method = \"picard\""),
        "{notes:?}"
    );
    assert!(notes[1].starts_with("[solver.newton]"), "{notes:?}");
    // Switching the method (as `--method` does) uses the table and moves the notes.
    s.method = MethodName::Newton;
    assert_eq!(s.notes().len(), 2);
    match s.build().unwrap().method {
        MethodKind::Newton(n) => assert_eq!(n.warm_start, Some(1)),
        other => panic!("{other:?}"),
    }
    s.method = MethodName::FictitiousPlay;
    assert_eq!(s.notes().len(), 3);
    let yaml = "solver:\n  method: anderson\n  newton: { fallback: none }\n";
    let s = parse(yaml, Format::Yaml).unwrap();
    assert_eq!(s.notes().len(), 1);
    assert!(s.notes()[0].contains("--method newton"), "{:?}", s.notes());
}

/// Bad values name the key by its dotted path, also in the table of a method that is not
/// selected.
#[test]
fn bad_values_name_the_dotted_key() {
    for (text, field) in [
        (
            "[solver.picard]\nrelaxation = 1.5\n",
            "solver.picard.relaxation",
        ),
        ("[solver.anderson]\nmixing = 0\n", "solver.anderson.mixing"),
        (
            "[solver.anderson]\nrelaxation = -1\n",
            "solver.anderson.relaxation",
        ),
        (
            "[solver.newton]\ngmres_restart = 0\n",
            "solver.newton.gmres_restart",
        ),
        (
            "[solver.newton]\ngmres_max_iterations = 0\n",
            "solver.newton.gmres_max_iterations",
        ),
        (
            "[solver.newton]\nfallback_relaxation = 2\n",
            "solver.newton.fallback_relaxation",
        ),
        (
            "[solver.newton]\nwarm_relaxation = 0\n",
            "solver.newton.warm_relaxation",
        ),
        (
            "[solver.newton]\ncontinuation_tol = -1\n",
            "solver.newton.continuation_tol",
        ),
        ("[solver.hjb]\ntol = 0\n", "solver.hjb.tol"),
        (
            "[solver.hjb]\nmax_iterations = 0\n",
            "solver.hjb.max_iterations",
        ),
        ("[solver]\ntol_u = -1\n", "solver.tol_u"),
    ] {
        let e = build_error(text);
        assert!(e.contains(&format!("invalid {field}:")), "{text}: {e}");
    }
}
