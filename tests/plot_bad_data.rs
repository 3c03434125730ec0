//! Pictures of data that are not a solution: a result holding NaN (a diverged run) is refused
//! by `mfg plot` and by the library with an error naming the population, the field and the
//! level (before, plotters panicked on it); an iterate with negative densities (an unconverged
//! Newton iterate) is drawn, with a warning that it is not a density.

mod cli_common;
mod common;

use cli_common::{code, run, s, stderr};
use common::examples::coarse;
use mfg::io::{self, Run, WriteOptions};
use mfg::plot::{self, PlotOptions, View};

/// A solved coarse 1D example with `edit` applied to its iterate, written to `path`.
fn written(path: &std::path::Path, edit: impl FnOnce(&mut mfg::Solution)) -> mfg::Solution {
    let cfg = coarse("two_groups_1d.toml", 21, None, 6, Some(3));
    let (problem, settings) = cfg.build().unwrap();
    let mut solution = mfg::solve(&problem, &settings).unwrap();
    edit(&mut solution);
    io::write(
        path,
        &problem,
        &Run::finished(&solution),
        Some(&cfg),
        &WriteOptions::default(),
    )
    .unwrap();
    solution
}

#[test]
fn nan_data_are_refused_with_the_place_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nan.h5");
    let solution = written(&file, |s| s.iterate.m[1].level_mut(3)[5] = f64::NAN);
    let saved = io::read(&file).unwrap();
    let names = saved.header.names();
    let view = View {
        grid: &saved.header.grid,
        time: saved.header.time.as_ref().unwrap(),
        names: &names,
        solution: &solution,
        controls: None,
        live: None,
        exits: None,
    };
    let pics = dir.path().join("pics");
    match plot::render_all(&view, &pics, &PlotOptions::default()) {
        Err(plot::Error::NotFinite {
            population,
            field,
            level,
            value,
        }) => {
            assert_eq!(
                (population.as_str(), field.as_str(), level),
                ("wheelchairs", "m", Some(3))
            );
            assert!(value.is_nan());
        }
        other => panic!("{other:?}"),
    }
    assert!(
        !pics.exists(),
        "nothing is created for data that cannot be drawn"
    );
    let o = run(&["plot", s(&file), "--out", s(&pics)]);
    let err = stderr(&o);
    assert_eq!(code(&o), 2, "{err}");
    assert!(err.contains("cannot draw m of wheelchairs"), "{err}");
    assert!(err.contains("level 3"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn negative_densities_are_drawn_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("negative.h5");
    let solution = written(&file, |s| s.iterate.m[0].level_mut(2)[4] = -3.08);
    let names = vec!["walkers".to_string(), "wheelchairs".to_string()];
    let w = solution.density_warnings(&names);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains("population walkers: min m = -3.080e0"),
        "{w:?}"
    );
    let pics = dir.path().join("pics");
    let o = run(&["plot", s(&file), "--out", s(&pics)]);
    let err = stderr(&o);
    assert_eq!(code(&o), 0, "{err}");
    assert!(err.contains("warning: population walkers") && err.contains("not a density"));
    // A solution of the scheme has no warning.
    let clean = written(&dir.path().join("clean.h5"), |_| {});
    assert!(clean.density_warnings(&names).is_empty());
}
