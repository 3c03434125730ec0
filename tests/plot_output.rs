//! Pictures: every plot function and the `mfg plot` / `mfg solve --plots` commands produce PNG
//! and GIF files of the requested size that are not blank (their pixels vary).

use mfg::config::Config;
use mfg::plot::{self, PlotOptions, Quantity, View};
use mfg::solve::{self, Solution};
use mfg::Problem;
use std::path::Path;
use std::process::Command;

fn coarse(example: &str, nx: usize, ny: Option<usize>, steps: usize, max_it: usize) -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(example);
    let mut spec = Config::from_path(&path)
        .unwrap()
        .spec
        .with_resolution(nx, ny, steps);
    spec.solver.max_iterations = max_it;
    Config::from_toml_str(&toml::to_string(&spec).unwrap()).unwrap()
}

fn solved(cfg: &Config) -> (Problem, Solution, Vec<String>) {
    let (problem, settings) = cfg.build().unwrap();
    let solution = solve::solve(&problem, &settings).unwrap();
    let names = problem
        .populations()
        .iter()
        .map(|p| p.name().to_string())
        .collect();
    (problem, solution, names)
}

/// Variance of the grey levels of an RGB image.
fn variance(img: &image::RgbImage) -> f64 {
    let g: Vec<f64> = img
        .pixels()
        .map(|p| (f64::from(p[0]) + f64::from(p[1]) + f64::from(p[2])) / 3.0)
        .collect();
    let mean = g.iter().sum::<f64>() / g.len() as f64;
    g.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / g.len() as f64
}

/// Number of distinct colours (a blank or single-colour image has 1).
fn colours(img: &image::RgbImage) -> usize {
    let mut set = std::collections::HashSet::new();
    for p in img.pixels() {
        set.insert(p.0);
    }
    set.len()
}

fn check_png(path: &Path, size: (u32, u32)) {
    let img = image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8();
    assert_eq!(img.dimensions(), size, "{}", path.display());
    let v = variance(&img);
    assert!(v > 100.0, "{}: pixel variance {v}", path.display());
    assert!(colours(&img) > 16, "{}: too few colours", path.display());
}

fn check_gif(path: &Path, size: (u32, u32), min_frames: usize) {
    use image::AnimationDecoder;
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let frames = image::codecs::gif::GifDecoder::new(file)
        .unwrap()
        .into_frames()
        .collect_frames()
        .unwrap();
    assert!(frames.len() >= min_frames, "{} frames", frames.len());
    let first = image::DynamicImage::ImageRgba8(frames[0].buffer().clone()).to_rgb8();
    let last = image::DynamicImage::ImageRgba8(frames[frames.len() - 1].buffer().clone()).to_rgb8();
    assert_eq!(first.dimensions(), size);
    assert!(variance(&first) > 100.0 && variance(&last) > 100.0);
    assert_ne!(first, last, "the animation does not move");
}

#[test]
fn plots_1d_have_the_requested_size_and_content() {
    let cfg = coarse("two_groups_1d.toml", 41, None, 20, 50);
    let (problem, solution, names) = solved(&cfg);
    let view = View {
        grid: problem.grid(),
        time: problem.time(),
        names: &names,
        solution: &solution,
    };
    let dir = tempfile::tempdir().unwrap();
    let size = (500, 360);
    let options = PlotOptions {
        size,
        ..PlotOptions::default()
    };
    let files = plot::render_all(&view, dir.path(), &options).unwrap();
    let names_written: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for expected in [
        "walkers_m.png",
        "walkers_u.png",
        "wheelchairs_m.png",
        "wheelchairs_u.png",
        "snapshots.png",
        "convergence.png",
        "mass.png",
    ] {
        assert!(names_written.iter().any(|n| n == expected), "{expected}");
    }
    for f in &files {
        check_png(f, size);
    }
    // A single heatmap at another size.
    let p = dir.path().join("one.png");
    plot::heatmap_1d(&view, 1, Quantity::Value, &p, (300, 240)).unwrap();
    check_png(&p, (300, 240));

    // Drawn from the saved file, the picture is the same, pixel for pixel.
    let h5 = dir.path().join("run.h5");
    mfg::io::write(
        &h5,
        &problem,
        &mfg::io::Run::finished(&solution),
        Some(&cfg),
        &mfg::io::WriteOptions::default(),
    )
    .unwrap();
    let saved = mfg::io::read(&h5).unwrap();
    let saved_names = saved.header.names();
    let from_file = View {
        grid: &saved.header.grid,
        time: &saved.header.time,
        names: &saved_names,
        solution: &saved.solution,
    };
    let q = dir.path().join("two.png");
    plot::heatmap_1d(&from_file, 1, Quantity::Value, &q, (300, 240)).unwrap();
    let (a, b) = (image::open(&p).unwrap(), image::open(&q).unwrap());
    assert_eq!(a.to_rgb8(), b.to_rgb8());
}

#[test]
fn plots_2d_snapshots_and_gif() {
    let cfg = coarse("corridor_2d.toml", 15, Some(6), 8, 5);
    let (problem, solution, names) = solved(&cfg);
    let view = View {
        grid: problem.grid(),
        time: problem.time(),
        names: &names,
        solution: &solution,
    };
    let dir = tempfile::tempdir().unwrap();
    let size = (420, 300);
    let options = PlotOptions {
        size,
        times: Some(vec![0.0, 0.75, 1.5]),
        max_frames: 5,
        ..PlotOptions::default()
    };
    let files = plot::render_all(&view, dir.path(), &options).unwrap();
    assert_eq!(files.len(), 4, "{files:?}");
    for f in &files {
        if f.extension().unwrap() == "gif" {
            check_gif(f, size, 5);
        } else {
            check_png(f, size);
        }
    }
    // Both populations' colours appear in the first snapshot panel (distinct hues).
    let img = image::open(dir.path().join("snapshots.png"))
        .unwrap()
        .to_rgb8();
    let (b, r) = (
        |p: &image::Rgb<u8>| i32::from(p[2]),
        |p: &image::Rgb<u8>| i32::from(p[0]),
    );
    let bluish = img.pixels().filter(|p| b(p) > r(p) + 60).count();
    let orangish = img.pixels().filter(|p| r(p) > b(p) + 60).count();
    assert!(bluish > 100 && orangish > 100, "{bluish} {orangish}");
}

#[test]
fn bad_options_are_refused() {
    let cfg = coarse("two_groups_1d.toml", 21, None, 5, 2);
    let (problem, solution, names) = solved(&cfg);
    let view = View {
        grid: problem.grid(),
        time: problem.time(),
        names: &names,
        solution: &solution,
    };
    let dir = tempfile::tempdir().unwrap();
    let tiny = PlotOptions {
        size: (20, 10),
        ..PlotOptions::default()
    };
    assert!(matches!(
        plot::render_all(&view, dir.path(), &tiny),
        Err(plot::Error::Invalid { .. })
    ));
    let late = PlotOptions {
        times: Some(vec![7.0]),
        ..PlotOptions::default()
    };
    let e = plot::render_all(&view, dir.path(), &late).unwrap_err();
    assert!(e.to_string().contains("outside"), "{e}");
}

#[test]
fn cli_plot_from_file_and_solve_with_plots() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = coarse("corridor_2d.toml", 12, Some(5), 6, 3);
    let cfg_path = dir.path().join("c.toml");
    std::fs::write(&cfg_path, &cfg.text).unwrap();
    let out = dir.path().join("c.h5");
    let plots = dir.path().join("solve-plots");
    let o = Command::new(env!("CARGO_BIN_EXE_mfg"))
        .args(["solve", cfg_path.to_str().unwrap(), "--out"])
        .arg(&out)
        .arg("--plots")
        .arg(&plots)
        .args(["--size", "360x260", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    check_png(&plots.join("snapshots.png"), (360, 260));
    check_gif(&plots.join("evolution.gif"), (360, 260), 2);

    let from_file = dir.path().join("from-file");
    let o = Command::new(env!("CARGO_BIN_EXE_mfg"))
        .arg("plot")
        .arg(&out)
        .arg("--out")
        .arg(&from_file)
        .args(["--size", "400x300", "--times", "0,1.5"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let listed = String::from_utf8_lossy(&o.stdout);
    for name in [
        "snapshots.png",
        "evolution.gif",
        "convergence.png",
        "mass.png",
    ] {
        assert!(listed.contains(name), "{listed}");
        let p = from_file.join(name);
        if name.ends_with(".gif") {
            check_gif(&p, (400, 300), 2);
        } else {
            check_png(&p, (400, 300));
        }
    }
    // Bad size: invalid input.
    let o = Command::new(env!("CARGO_BIN_EXE_mfg"))
        .arg("plot")
        .arg(&out)
        .arg("--out")
        .arg(&from_file)
        .args(["--size", "10x10"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}
