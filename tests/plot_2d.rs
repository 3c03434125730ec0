//! 2D pictures read back pixel by pixel: for K = 3 every population has its panels, found from
//! the black frames in the image; each panel shows its population's field through the colour
//! map (its blob where the population starts); each colour bar spans the data's min to max in
//! absolute units; drawn domains keep their aspect ratio within a pixel or two; GIF frames keep
//! the PNG's colours; the velocity picture draws arrows where the population is.

mod plot_common;

use mfg::plot::{self, ColourMap, Figure, Quantity, Rect, Snapshot};
use plot_common::{entry, frames, open, Run, THREE_2D, THREE_2D_CENTRES};

fn snaps(run: &Run, levels: &[usize]) -> Vec<Snapshot> {
    let t = run.saved.header.time.as_ref().unwrap();
    levels
        .iter()
        .map(|&level| Snapshot {
            level,
            requested: t.t(level),
        })
        .collect()
}

/// Population k's panel at t = 0.
fn first_panel(fig: &Figure, k: usize) -> &mfg::plot::Panel {
    fig.panels
        .iter()
        .find(|p| p.population == Some(k) && p.level == Some(0))
        .unwrap()
}

/// The data's min and max of population k's field over every level.
fn data_range(run: &Run, k: usize, q: Quantity) -> (f64, f64) {
    let it = &run.saved.solution.iterate;
    let f = match q {
        Quantity::Density => &it.m[k],
        Quantity::Value => &it.u[k],
    };
    let v = f.as_slice();
    (
        v.iter().copied().fold(f64::INFINITY, f64::min),
        v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    )
}

/// The cell (ix, iy) under the centre of pixel (i, j) of a panel `rect` showing [0, lx] × [0, ly]
/// on an nx × ny grid (the test's own reading of "each pixel shows its cell").
fn cell_of(i: u32, j: u32, rect: Rect, nx: usize, ny: usize) -> (usize, usize) {
    let fx = (f64::from(i) + 0.5) / f64::from(rect.w);
    let fy = 1.0 - (f64::from(j) + 0.5) / f64::from(rect.h);
    (
        ((fx * nx as f64) as usize).min(nx - 1),
        ((fy * ny as f64) as usize).min(ny - 1),
    )
}

/// Checks a sheet of panels against the data: frames found in the image, one per panel and per
/// bar; aspect kept; every panel pixel the colour of its cell's value; bars spanning min..max.
fn check_sheet(run: &Run, fig: &Figure, path: &std::path::Path, q: Quantity, levels: &[usize]) {
    let img = open(path);
    let grid = &run.saved.header.grid;
    let (nx, ny) = (grid.axes()[0].n, grid.axes()[1].n);
    let (lx, ly) = (
        grid.axes()[0].max - grid.axes()[0].min,
        grid.axes()[1].max - grid.axes()[1].min,
    );
    let k_count = run.names.len();
    let found = frames(&img);
    assert_eq!(fig.panels.len(), k_count * levels.len());
    assert_eq!(fig.bars.len(), k_count);

    // Every panel the figure reports is a frame in the picture, with the domain's aspect.
    for p in &fig.panels {
        assert!(
            found.contains(&p.rect),
            "{:?} not framed in the image",
            p.rect
        );
        let off = f64::from(p.rect.w) - f64::from(p.rect.h) * lx / ly;
        assert!(
            off.abs() <= 2.0,
            "panel {:?}: aspect off by {off} px",
            p.rect
        );
    }
    // And the picture has no other panel-sized frames: three populations, three bars.
    let panel_like = found.iter().filter(|r| r.w > 30 && r.h > 10).count();
    let bar_like = found.iter().filter(|r| r.w <= 20 && r.h > 30).count();
    assert_eq!(panel_like, fig.panels.len(), "{found:?}");
    assert_eq!(bar_like, k_count, "{found:?}");

    let table = q.map().table();
    for (k, bar) in fig.bars.iter().enumerate() {
        assert_eq!(bar.population, k);
        // The bar's range is the data's range, exactly.
        assert_eq!(bar.range, data_range(run, k, q));
        assert!(found.contains(&bar.rect));
        // Its ends are the colour map's ends (checked against the map itself, not the table).
        let gradient = match q.map() {
            ColourMap::Viridis => colorous::VIRIDIS,
            ColourMap::Magma => colorous::MAGMA,
            ColourMap::Diverging => colorous::RED_BLUE,
        };
        let end = |t: f64| {
            let c = gradient.eval_continuous(t);
            [c.r, c.g, c.b]
        };
        let mid = (bar.rect.x + bar.rect.w as i32 / 2) as u32;
        assert_eq!(img.get_pixel(mid, bar.rect.y as u32).0, end(1.0));
        assert_eq!(
            img.get_pixel(mid, (bar.rect.bottom() - 1) as u32).0,
            end(0.0)
        );
        // Monotone from bottom to top.
        let idx: Vec<usize> = (bar.rect.y..bar.rect.bottom())
            .map(|y| entry(table, img.get_pixel(mid, y as u32).0).unwrap())
            .collect();
        assert!(idx.windows(2).all(|w| w[0] >= w[1]), "bar not monotone");
        assert!(!bar.ticks.is_empty() && bar.ticks.iter().all(|t| !t.ends_with('.')));
    }

    // Each panel shows its own population's field at its level through the bar's scale.
    for p in &fig.panels {
        let (k, n) = (p.population.unwrap(), p.level.unwrap());
        let it = &run.saved.solution.iterate;
        let field = match q {
            Quantity::Density => &it.m[k],
            Quantity::Value => &it.u[k],
        };
        let level = field.level(n);
        let (lo, hi) = data_range(run, k, q);
        let last = (table.len() - 1) as f64;
        let (mut total, mut wrong) = (0usize, 0usize);
        for j in 0..p.rect.h {
            for i in 0..p.rect.w {
                let px = img
                    .get_pixel((p.rect.x + i as i32) as u32, (p.rect.y + j as i32) as u32)
                    .0;
                let Some(got) = entry(table, px) else {
                    // Arrows of the velocity picture are drawn over the colours.
                    assert_eq!(q, Quantity::Value, "{px:?} is not a colour of the map");
                    continue;
                };
                let (ix, iy) = cell_of(i, j, p.rect, nx, ny);
                let want = ((level[ix + nx * iy] - lo) / (hi - lo) * last).round() as usize;
                total += 1;
                wrong += usize::from(got != want);
            }
        }
        // Pixel centres exactly on a cell edge may fall either way.
        assert!(
            total > 0 && wrong * 200 <= total,
            "panel {k}/{n}: {wrong} of {total} pixels off"
        );
    }
}

#[test]
fn three_populations_have_their_panels_bars_and_blobs() {
    let run = Run::solve(THREE_2D);
    let view = run.view();
    let levels = [0, 2, 5];
    let path = run.path("snapshots.png");
    let fig = plot::snapshots_2d(&view, &snaps(&run, &levels), &path, (800, 560)).unwrap();
    check_sheet(&run, &fig, &path, Quantity::Density, &levels);

    // Each population's t = 0 panel has its brightest pixels around its own starting point.
    let img = open(&path);
    let table = ColourMap::Viridis.table();
    for (k, &(cx, cy)) in THREE_2D_CENTRES.iter().enumerate() {
        let p = first_panel(&fig, k);
        let (mut sx, mut sy, mut count) = (0.0, 0.0, 0.0);
        for j in 0..p.rect.h {
            for i in 0..p.rect.w {
                let px = img.get_pixel((p.rect.x + i as i32) as u32, (p.rect.y + j as i32) as u32);
                if entry(table, px.0).unwrap() >= table.len() * 3 / 4 {
                    sx += f64::from(i) + 0.5;
                    sy += f64::from(j) + 0.5;
                    count += 1.0;
                }
            }
        }
        assert!(count > 0.0, "population {k}: no bright pixels at t = 0");
        let (w, h) = (f64::from(p.rect.w), f64::from(p.rect.h));
        let (x, y) = (2.0 * sx / count / w, 1.0 - sy / count / h);
        // Within one cell (0.1) of the centre.
        assert!(
            (x - cx).abs() <= 0.1 && (y - cy).abs() <= 0.1,
            "population {k}: blob at ({x:.2}, {y:.2}), expected ({cx}, {cy})"
        );
    }
    // Absolute units: the wide population's bar tops out lower.
    assert!(
        fig.bars[2].range.1 < 0.6 * fig.bars[0].range.1,
        "{:?}",
        fig.bars
    );
}

#[test]
fn velocity_picture_draws_u_and_arrows_where_the_population_is() {
    let run = Run::solve(THREE_2D);
    let view = run.view();
    let levels = [0, 5];
    let path = run.path("velocity.png");
    let fig = plot::velocity_2d(&view, &snaps(&run, &levels), &path, (800, 560)).unwrap();
    check_sheet(&run, &fig, &path, Quantity::Value, &levels);
    assert_eq!(fig.arrow_scales.len(), 3);
    assert!(
        fig.arrow_scales.iter().all(|v| *v > 0.0),
        "{:?}",
        fig.arrow_scales
    );
    // White arrow cores inside each t = 0 panel, centred near the population's start.
    let img = open(&path);
    for (k, &(cx, cy)) in THREE_2D_CENTRES.iter().enumerate() {
        let p = first_panel(&fig, k);
        let white: Vec<(f64, f64)> = (0..p.rect.h)
            .flat_map(|j| (0..p.rect.w).map(move |i| (i, j)))
            .filter(|&(i, j)| {
                img.get_pixel((p.rect.x + i as i32) as u32, (p.rect.y + j as i32) as u32)
                    .0
                    == [255, 255, 255]
            })
            .map(|(i, j)| {
                (
                    2.0 * (f64::from(i) + 0.5) / f64::from(p.rect.w),
                    1.0 - (f64::from(j) + 0.5) / f64::from(p.rect.h),
                )
            })
            .collect();
        assert!(white.len() > 10, "population {k}: no arrows");
        let n = white.len() as f64;
        let (x, y) = (
            white.iter().map(|p| p.0).sum::<f64>() / n,
            white.iter().map(|p| p.1).sum::<f64>() / n,
        );
        assert!(
            (x - cx).abs() <= 0.3 && (y - cy).abs() <= 0.3,
            "population {k}: arrows around ({x:.2}, {y:.2}), population at ({cx}, {cy})"
        );
    }
    // Without the controls: u alone, no arrows, and the title says so.
    let bare = mfg::plot::View {
        controls: None,
        live: None,
        exits: None,
        ..view
    };
    let path = run.path("bare.png");
    let fig = plot::velocity_2d(&bare, &snaps(&run, &levels), &path, (800, 560)).unwrap();
    assert!(fig.arrow_scales.is_empty());
    let img = open(&path);
    for p in &fig.panels {
        let r = p.rect;
        let whites = (r.y..r.bottom())
            .flat_map(|y| (r.x..r.right()).map(move |x| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x as u32, y as u32).0 == [255, 255, 255])
            .count();
        assert_eq!(whites, 0);
    }
}

#[test]
fn drawn_domains_keep_their_aspect_ratio() {
    for &((lx, ly, nx, ny), size) in &[
        ((3.0, 1.0, 15, 5), (800, 600)),
        ((1.0, 1.0, 8, 8), (500, 700)),
        ((1.0, 1.0, 8, 8), (900, 400)),
        ((1.0, 2.5, 4, 10), (640, 480)),
    ] {
        let run = Run::solve(&plot_common::one_2d(lx, ly, nx, ny));
        let path = run.path("s.png");
        let fig = plot::snapshots_2d(&run.view(), &snaps(&run, &[0, 3]), &path, size).unwrap();
        let found = frames(&open(&path));
        for p in &fig.panels {
            assert!(found.contains(&p.rect), "{:?} not in {found:?}", p.rect);
            let off = f64::from(p.rect.w) - f64::from(p.rect.h) * lx / ly;
            assert!(
                off.abs() <= 2.0,
                "{lx}x{ly} at {size:?}: {:?} off by {off} px",
                p.rect
            );
            // The panels use the picture: at least a third of its width or height.
            assert!(
                p.rect.w * 3 >= size.0 / 2 || p.rect.h * 3 >= size.1 / 2,
                "{:?} is tiny in {size:?}",
                p.rect
            );
        }
        assert!(plot_common::blank_border(&open(&path), 2));
    }
}

#[test]
fn titles_name_the_level_drawn() {
    let run = Run::solve(THREE_2D);
    let time = run.saved.header.time.as_ref().unwrap();
    // dt = 0.1: 0.25 is drawn at level 2 or 3, 0.3 at level 3 exactly.
    let s = plot::snapshot_levels(time, Some(&[0.26, 0.3])).unwrap();
    let path = run.path("t.png");
    let fig = plot::snapshots_2d(&run.view(), &s, &path, (800, 560)).unwrap();
    assert!(
        fig.panels[0]
            .title
            .contains("t = 0.30 (nearest level to 0.26)"),
        "{}",
        fig.panels[0].title
    );
    assert!(fig
        .panels
        .iter()
        .all(|p| p.title.starts_with(&run.names[p.population.unwrap()])));
}

#[test]
fn gif_frames_have_the_png_colours() {
    use image::AnimationDecoder;
    let run = Run::solve(THREE_2D);
    let view = run.view();
    let size = (640, 480);
    let gif = run.path("evolution.gif");
    let options = plot::PlotOptions {
        size,
        max_frames: 3,
        ..plot::PlotOptions::default()
    };
    let levels = plot::animation_2d(&view, &gif, &options).unwrap();
    assert_eq!(levels, vec![0, 3, 5]);
    let file = std::io::BufReader::new(std::fs::File::open(&gif).unwrap());
    let frames = image::codecs::gif::GifDecoder::new(file)
        .unwrap()
        .into_frames()
        .collect_frames()
        .unwrap();
    assert_eq!(frames.len(), levels.len());
    let table = ColourMap::Viridis.table();
    for (frame, &n) in frames.iter().zip(&levels) {
        let got = image::DynamicImage::ImageRgba8(frame.buffer().clone()).to_rgb8();
        let png = run.path(&format!("frame{n}.png"));
        let fig = plot::snapshots_2d(&view, &snaps(&run, &[n]), &png, size).unwrap();
        let want = open(&png);
        assert_eq!(got.dimensions(), want.dimensions());
        // Colour-map pixels are exact; anti-aliased text and lines within half a grey step.
        let mut exact = 0;
        for (a, b) in got.pixels().zip(want.pixels()) {
            if entry(table, b.0).is_some() {
                assert_eq!(a.0, b.0);
                exact += 1;
            } else {
                let d = (0..3)
                    .map(|c| (i32::from(a[c]) - i32::from(b[c])).abs())
                    .max()
                    .unwrap();
                assert!(d <= 4, "frame {n}: {:?} vs {:?}", a.0, b.0);
            }
        }
        let panel_pixels: u32 = fig.panels.iter().map(|p| p.rect.w * p.rect.h).sum();
        assert!(exact >= panel_pixels as usize, "{exact} < {panel_pixels}");
    }
    let first = image::DynamicImage::ImageRgba8(frames[0].buffer().clone()).to_rgb8();
    let last = image::DynamicImage::ImageRgba8(frames[2].buffer().clone()).to_rgb8();
    assert_ne!(first, last, "the animation does not move");
}
