//! Pictures of a stationary solution: in 2D one panel per population whose colour bar spans
//! exactly the field's min and max over the population's state space, panels that do not
//! overlap, and the removed nodes (an obstacle) in the grey of `colours::removed`; in 1D one
//! panel per population and field.

use mfg::config::Config;
use mfg::plot::{stationary_1d, stationary_2d, Quantity, StationaryView};
use mfg::solve::stationary::solve_stationary;

const CONFIG_2D: &str = r#"
obstacles = [{ shape = "disc", center = [1.0, 0.5], radius = 0.25 }]
[grid]
x = { min = 0.0, max = 2.0, n = 20 }
y = { min = 0.0, max = 1.0, n = 10 }
[time]
kind = "stationary"
[[population]]
name = "a"
sigma = 0.5
potential = "(1 - y)^2"
[[population]]
name = "b"
sigma = 0.5
discount = 1.0
potential = "(x - 0.2)^2"
[coupling]
log = [0.2, 0.2]
"#;

fn solved(text: &str) -> (mfg::Problem, mfg::solve::stationary::StationarySolution) {
    let cfg = Config::from_toml_str(text).unwrap();
    let (problem, _) = cfg.build().unwrap();
    let sol = solve_stationary(&problem, &cfg.spec.stationary_settings().unwrap()).unwrap();
    assert_eq!(sol.termination, mfg::Termination::Converged);
    (problem, sol)
}

#[test]
fn two_d_panels_show_each_population_on_its_own_exact_scale_with_the_obstacle_grey() {
    let (problem, sol) = solved(CONFIG_2D);
    let names = problem.names();
    let live = problem.live_masks();
    let view = StationaryView {
        grid: problem.grid(),
        names: &names,
        solution: &sol,
        live: Some(&live),
    };
    let dir = tempfile::tempdir().unwrap();
    for q in [Quantity::Density, Quantity::Value] {
        let path = dir.path().join("p.png");
        let fig = stationary_2d(&view, q, &path, (800, 400)).unwrap();
        assert_eq!(fig.panels.len(), 2);
        assert!(!fig.panels[0].rect.overlaps(&fig.panels[1].rect));
        for (k, bar) in fig.bars.iter().enumerate() {
            let field = match q {
                Quantity::Density => &sol.m[k],
                Quantity::Value => &sol.u[k],
            };
            let on_live = (0..field.len()).filter(|&i| live[k][i]).map(|i| field[i]);
            let lo = on_live.clone().fold(f64::INFINITY, f64::min);
            let hi = on_live.fold(f64::NEG_INFINITY, f64::max);
            assert_eq!(bar.range, (lo, hi), "population {k}");
        }
        // The centre of the pillar, in each panel, is drawn grey.
        let img = image::open(&path).unwrap().to_rgb8();
        let grey = mfg::plot::colours::removed();
        for p in &fig.panels {
            let (cx, cy) = (
                p.rect.x + p.rect.w as i32 / 2,
                p.rect.y + p.rect.h as i32 / 2,
            );
            assert_eq!(
                img.get_pixel(cx as u32, cy as u32).0,
                [grey.0, grey.1, grey.2],
                "{}",
                p.title
            );
        }
    }
}

#[test]
fn one_d_has_a_panel_per_population_and_field_with_lambda_in_the_title() {
    let text = CONFIG_2D
        .replace(
            "obstacles = [{ shape = \"disc\", center = [1.0, 0.5], radius = 0.25 }]",
            "",
        )
        .replace("y = { min = 0.0, max = 1.0, n = 10 }\n", "")
        .replace("(1 - y)^2", "(1 - x)^2");
    let (problem, sol) = solved(&text);
    let names = vec!["a".to_string(), "b".to_string()];
    let view = StationaryView {
        grid: problem.grid(),
        names: &names,
        solution: &sol,
        live: None,
    };
    let dir = tempfile::tempdir().unwrap();
    let fig = stationary_1d(&view, &dir.path().join("s.png"), (800, 600)).unwrap();
    assert_eq!(fig.panels.len(), 4);
    assert!(
        fig.panels[1].title.starts_with("u of a (λ = "),
        "{}",
        fig.panels[1].title
    );
    assert_eq!(fig.panels[3].title, "u of b");
}
