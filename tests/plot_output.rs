//! Pictures as files: `render_all` and the `mfg plot` / `mfg solve --plots` commands write the
//! PNG and GIF files they list, of the requested size and not blank; a picture drawn from a
//! saved file is the one drawn right after the solve, pixel for pixel; bad options are refused.

mod plot_common;

use mfg::plot::{self, PlotOptions};
use plot_common::{open, Run, THREE_1D, THREE_2D};
use std::path::Path;
use std::process::Command;

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
    let img = open(path);
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
    let rgb = |i: usize| image::DynamicImage::ImageRgba8(frames[i].buffer().clone()).to_rgb8();
    let (first, last) = (rgb(0), rgb(frames.len() - 1));
    assert_eq!(first.dimensions(), size);
    assert!(variance(&first) > 100.0 && variance(&last) > 100.0);
    assert_ne!(first, last, "the animation does not move");
}

fn file_names(files: &[std::path::PathBuf]) -> Vec<String> {
    files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn plots_1d_have_the_requested_size_and_content() {
    let run = Run::solve(THREE_1D);
    let size = (500, 360);
    let options = PlotOptions {
        size,
        ..PlotOptions::default()
    };
    let out = run.path("pictures");
    let files = plot::render_all(&run.view(), &out, &options).unwrap();
    let mut expected: Vec<String> = run
        .names
        .iter()
        .flat_map(|n| [format!("{n}_m.png"), format!("{n}_u.png")])
        .collect();
    expected.extend(["snapshots.png", "convergence.png", "mass.png"].map(String::from));
    assert_eq!(file_names(&files), expected);
    for f in &files {
        check_png(f, size);
    }
}

#[test]
fn plots_2d_snapshots_velocity_and_gif() {
    let run = Run::solve(THREE_2D);
    let size = (420, 300);
    let options = PlotOptions {
        size,
        times: Some(vec![0.0, 0.25, 0.5]),
        max_frames: 4,
        ..PlotOptions::default()
    };
    let out = run.path("pictures");
    let files = plot::render_all(&run.view(), &out, &options).unwrap();
    assert_eq!(
        file_names(&files),
        [
            "snapshots.png",
            "velocity.png",
            "evolution.gif",
            "convergence.png",
            "mass.png"
        ]
    );
    for f in &files {
        if f.extension().unwrap() == "gif" {
            check_gif(f, size, 4);
        } else {
            check_png(f, size);
        }
    }
}

#[test]
fn bad_options_are_refused() {
    let run = Run::solve(THREE_1D);
    let view = run.view();
    let dir = run.path("bad");
    let tiny = PlotOptions {
        size: (20, 10),
        ..PlotOptions::default()
    };
    assert!(matches!(
        plot::render_all(&view, &dir, &tiny),
        Err(plot::Error::Invalid { .. })
    ));
    let late = PlotOptions {
        times: Some(vec![7.0]),
        ..PlotOptions::default()
    };
    let e = plot::render_all(&view, &dir, &late).unwrap_err();
    assert!(e.to_string().contains("outside"), "{e}");
    // Controls of the wrong shape are refused, not indexed out of bounds.
    let two_d = Run::solve(THREE_2D);
    let wrong = vec![two_d.controls[0].clone()];
    let bad_2d = plot::View {
        controls: Some(&wrong),
        live: None,
        exits: None,
        ..two_d.view()
    };
    let s = plot::snapshot_levels(two_d.view().time, None).unwrap();
    let e = plot::velocity_2d(&bad_2d, &s, &dir.join("v.png"), (400, 300)).unwrap_err();
    assert!(e.to_string().contains("controls"), "{e}");
    // Too many panels for the picture: a clear error naming the size.
    let many: Vec<f64> = (0..=5).map(|n| n as f64 * 0.1).collect();
    let s = plot::snapshot_levels(two_d.view().time, Some(&many)).unwrap();
    let e = plot::snapshots_2d(&two_d.view(), &s, &dir.join("m.png"), (240, 180)).unwrap_err();
    assert!(e.to_string().contains("too small"), "{e}");
}

#[test]
fn cli_plot_from_file_matches_solve_with_plots() {
    let run = Run::solve(THREE_2D);
    let cfg_path = run.path("c.toml");
    std::fs::write(&cfg_path, &run.text).unwrap();
    let out = run.path("c.h5");
    let plots = run.path("solve-plots");
    let o = Command::new(env!("CARGO_BIN_EXE_mfg"))
        .args(["solve", cfg_path.to_str().unwrap(), "--out"])
        .arg(&out)
        .arg("--plots")
        .arg(&plots)
        .args(["--size", "400x300", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let from_file = run.path("from-file");
    let o = Command::new(env!("CARGO_BIN_EXE_mfg"))
        .arg("plot")
        .arg(&out)
        .arg("--out")
        .arg(&from_file)
        .args(["--size", "400x300"])
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
        "velocity.png",
        "evolution.gif",
        "convergence.png",
        "mass.png",
    ] {
        assert!(listed.contains(name), "{listed}");
        let (a, b) = (plots.join(name), from_file.join(name));
        if name.ends_with(".gif") {
            check_gif(&b, (400, 300), 2);
            assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        } else {
            check_png(&b, (400, 300));
            // Drawn from the file (α rebuilt from the stored configuration), the same picture.
            assert_eq!(open(&a), open(&b), "{name}");
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
