//! 2D pictures of a problem with an obstacle and a restricted region: the removed nodes of
//! each population are drawn in the light grey of `colours::removed`, in `mfg solve --plots`
//! and in `mfg plot` from the file alike, and nowhere else.

mod cli_common;

use cli_common::{code, run, s, stderr};

const CONFIG: &str = r#"
obstacles = [{ shape = "disc", center = [1.0, 0.5], radius = 0.2 }]
[grid]
x = { min = 0.0, max = 2.0, n = 24 }
y = { min = 0.0, max = 1.0, n = 12 }
[time]
horizon = 0.3
steps = 4
[[population]]
name = "left"
sigma = 0.3
region = { shape = "box", min = [0.0, 0.0], max = [0.5, 1.0] }
initial = "if(x < 0.5, 1, 0)"
[[population]]
name = "all"
sigma = 0.3
initial = "if((x - 1)^2 + (y - 0.5)^2 > 0.09, 1, 0)"
[solver]
max_iterations = 2
"#;

/// The share of the picture's pixels in the removed-node grey.
fn grey_share(path: &std::path::Path) -> f64 {
    let img = image::open(path).unwrap().to_rgb8();
    let c = mfg::plot::colours::removed();
    let n = img.pixels().filter(|p| p.0 == [c.0, c.1, c.2]).count();
    n as f64 / (img.width() * img.height()) as f64
}

#[test]
fn removed_nodes_are_grey_in_solve_and_plot() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("geo.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    let out = dir.path().join("geo.h5");
    let solved = dir.path().join("solved");
    let o = run(&[
        "solve",
        s(&cfg),
        "--out",
        s(&out),
        "--plots",
        s(&solved),
        "-q",
    ]);
    assert!(code(&o) == 0 || code(&o) == 3, "{}", stderr(&o));
    let drawn = dir.path().join("drawn");
    let o = run(&["plot", s(&out), "--out", s(&drawn)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    for d in [&solved, &drawn] {
        let share = grey_share(&d.join("snapshots.png"));
        // "left" loses 3/4 of its panel, "all" the disc (~6 % of its panel): about 40 % of the
        // panels, which fill a good part of the picture.
        assert!(
            share > 0.1 && share < 0.6,
            "{}: grey share {share}",
            d.display()
        );
    }
    // Without a mask no panel is grey (a few anti-aliased text pixels may hit that grey).
    let plain = CONFIG
        .replace(
            "obstacles = [{ shape = \"disc\", center = [1.0, 0.5], radius = 0.2 }]",
            "",
        )
        .replace(
            "region = { shape = \"box\", min = [0.0, 0.0], max = [0.5, 1.0] }",
            "",
        )
        .replace("if(x < 0.5, 1, 0)", "1")
        .replace("if((x - 1)^2 + (y - 0.5)^2 > 0.09, 1, 0)", "1");
    std::fs::write(&cfg, plain).unwrap();
    let bare = dir.path().join("bare");
    let o = run(&["solve", s(&cfg), "--plots", s(&bare), "-q"]);
    assert!(code(&o) == 0 || code(&o) == 3, "{}", stderr(&o));
    let share = grey_share(&bare.join("snapshots.png"));
    assert!(share < 1e-3, "grey share without a mask {share}");
}
