//! 1D pictures and line charts read back: heatmap colour bars with whole tick labels that span
//! the data's range, nothing cut at the picture's edges, one snapshot panel per population with
//! a time legend, and legends that never sit over a plotting rectangle.

mod plot_common;

use mfg::plot::{self, ColourMap, Figure, Quantity};
use plot_common::{blank_border, entry, frames, open, Run, THREE_1D};

fn check_legends_outside(fig: &Figure, img: &image::RgbImage) {
    assert!(!fig.legends.is_empty());
    let pic = mfg::plot::Rect::new(0, 0, img.width(), img.height());
    for l in &fig.legends {
        assert!(pic.contains(l), "legend {l:?} leaves the picture");
        for p in &fig.panels {
            assert!(
                !l.overlaps(&p.rect),
                "legend {l:?} over the plot {:?}",
                p.rect
            );
        }
        // It is drawn: its box holds ink.
        let ink = (l.y..l.bottom())
            .flat_map(|y| (l.x..l.right()).map(move |x| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x as u32, y as u32).0 != [255, 255, 255])
            .count();
        assert!(ink > 20, "legend {l:?} is empty");
    }
}

#[test]
fn heatmap_bars_span_the_data_with_whole_labels() {
    let run = Run::solve(THREE_1D);
    let view = run.view();
    for size in [(800, 600), (300, 240)] {
        for q in [Quantity::Density, Quantity::Value] {
            let path = run.path("h.png");
            let fig = plot::heatmap_1d(&view, 1, q, &path, size).unwrap();
            let img = open(&path);
            assert_eq!(img.dimensions(), size);
            assert!(blank_border(&img, 2), "{q:?} at {size:?}: ink at the edge");
            let bar = &fig.bars[0];
            let it = &run.saved.solution.iterate;
            let data = match q {
                Quantity::Density => it.m[1].as_slice(),
                Quantity::Value => it.u[1].as_slice(),
            };
            let lo = data.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = data.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            assert_eq!(bar.range, (lo, hi));
            // Tick labels: numbers inside the range, increasing, one precision, no stray '.'.
            assert!(bar.ticks.len() >= 2, "{:?}", bar.ticks);
            let values: Vec<f64> = bar.ticks.iter().map(|t| t.parse().unwrap()).collect();
            assert!(values.windows(2).all(|w| w[0] < w[1]), "{:?}", bar.ticks);
            assert!(values.iter().all(|v| *v >= lo - 1e-9 && *v <= hi + 1e-9));
            let decimals = |t: &String| t.split('.').nth(1).map_or(0, str::len);
            assert!(bar.ticks.iter().all(|t| !t.ends_with('.')));
            assert!(bar
                .ticks
                .iter()
                .all(|t| decimals(t) == decimals(&bar.ticks[0])));
            // The strip and the heatmap are framed, the strip runs from the map's top to its
            // bottom, and the heatmap's pixels are colours of the map.
            let found = frames(&img);
            assert!(found.contains(&bar.rect) && found.contains(&fig.panels[0].rect));
            let table = q.map().table();
            let x = (bar.rect.x + 3) as u32;
            assert_eq!(
                entry(table, img.get_pixel(x, bar.rect.y as u32).0),
                Some(table.len() - 1)
            );
            assert_eq!(
                entry(table, img.get_pixel(x, (bar.rect.bottom() - 1) as u32).0),
                Some(0)
            );
            let p = fig.panels[0].rect;
            assert!((p.y..p.bottom()).all(|y| entry(
                table,
                img.get_pixel((p.x + 1) as u32, y as u32).0
            )
            .is_some()));
        }
    }
    // m and u use different maps, so that one is never read as the other.
    assert_ne!(
        Quantity::Density.map().table()[100],
        Quantity::Value.map().table()[100]
    );
    assert_eq!(Quantity::Density.map(), ColourMap::Viridis);
}

#[test]
fn snapshots_have_a_panel_and_a_time_legend_per_population() {
    let run = Run::solve(THREE_1D);
    let view = run.view();
    let time = run.saved.header.time.as_ref().unwrap();
    let snaps = plot::snapshot_levels(time, Some(&[0.0, 0.3, 0.6, 1.0])).unwrap();
    assert_eq!(snaps.len(), 4);
    let path = run.path("snapshots.png");
    let fig = plot::profiles_1d(&view, &snaps, &path, (800, 600)).unwrap();
    let img = open(&path);
    assert!(blank_border(&img, 2));
    assert_eq!(fig.panels.len(), 3);
    assert_eq!(fig.legends.len(), 3);
    for (k, p) in fig.panels.iter().enumerate() {
        assert_eq!(p.population, Some(k));
        assert_eq!(p.title, run.names[k]);
        assert!(p.rect.h > 60, "{:?}", p.rect);
        for q in &fig.panels[k + 1..] {
            assert!(!p.rect.overlaps(&q.rect));
        }
        // The panel holds its population's curves: pixels of its hue.
        let hue = plot::colour(k);
        let near = |c: [u8; 3]| {
            // Any shade of the hue mixed with white keeps the channel order.
            let (r, g, b) = (i32::from(c[0]), i32::from(c[1]), i32::from(c[2]));
            let (hr, hg, hb) = (i32::from(hue.0), i32::from(hue.1), i32::from(hue.2));
            c != [255, 255, 255]
                && (r - g).signum() == (hr - hg).signum()
                && (g - b).signum() == (hg - hb).signum()
        };
        let r = p.rect;
        let hits = (r.y..r.bottom())
            .flat_map(|y| (r.x..r.right()).map(move |x| (x, y)))
            .filter(|&(x, y)| near(img.get_pixel(x as u32, y as u32).0))
            .count();
        assert!(hits > 200, "population {k}: {hits} curve pixels");
    }
    check_legends_outside(&fig, &img);
}

#[test]
fn line_chart_legends_sit_outside_the_curves() {
    let run = Run::solve(THREE_1D);
    let view = run.view();
    let path = run.path("convergence.png");
    let fig = plot::convergence(&run.saved.solution.history, &path, (640, 420)).unwrap();
    let img = open(&path);
    assert!(blank_border(&img, 2));
    check_legends_outside(&fig, &img);
    let path = run.path("mass.png");
    let fig = plot::mass(&view, &path, (640, 420)).unwrap();
    let img = open(&path);
    assert!(blank_border(&img, 2));
    check_legends_outside(&fig, &img);
}
