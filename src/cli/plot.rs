//! `mfg plot FILE`: redraws the pictures of a saved result, finite-horizon (x–t heatmaps,
//! snapshots, velocity fields, animation, convergence, mass) or stationary (m^k and u^k without
//! time, convergence).

use crate::cli::output::OutputSpec;
use crate::{failure, file_error, invalid, Failure};
use mfg::config::Format;
use mfg::files;
use mfg::io;
use mfg::plot::{self, PlotOptions, StationaryView, View};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Draws the pictures of `file` into `out`.
pub fn run(
    file: &Path,
    out: &Path,
    size: (u32, u32),
    times: Option<Vec<f64>>,
) -> Result<u8, Failure> {
    let header = io::read_header(file).map_err(file_error)?;
    if header.time.is_none() {
        if times.is_some() {
            return Err(invalid(anyhow::anyhow!(
                "--times: {} holds a stationary result, which has no time levels",
                file.display()
            )));
        }
        return stationary(file, out, size);
    }

    let start = Instant::now();
    let saved = io::read(file).map_err(file_error)?;
    let read_seconds = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let times = times.or_else(|| {
        let h = &saved.header;
        let format = h.config_format.unwrap_or(Format::Toml);
        OutputSpec::stored(h.config_text.as_deref()?, format)?.snapshot_times
    });
    let names = saved.header.names();
    for w in saved.solution.density_warnings(&names) {
        eprintln!("warning: {w}");
    }
    // α^k needs the Hamiltonians: rebuilt from the stored configuration (a file of a
    // problem built in code has none, and is drawn without arrows).
    let controls: Option<Vec<_>> = saved.rebuild().ok().map(|(problem, _)| {
        (0..names.len())
            .map(|k| saved.solution.controls(&problem, k))
            .collect()
    });
    let live: Option<Vec<Vec<bool>>> = saved
        .header
        .populations
        .iter()
        .map(|p| p.live.clone())
        .collect();
    let exits: Vec<Vec<bool>> = saved
        .header
        .populations
        .iter()
        .map(|p| {
            p.exit
                .clone()
                .unwrap_or_else(|| vec![false; saved.header.grid.len()])
        })
        .collect();
    let exits = exits
        .iter()
        .any(|e| e.contains(&true))
        .then_some(&exits[..]);
    let shown = mfg::plot::displayed(&saved.solution, exits);
    let view = View {
        grid: &saved.header.grid,
        time: saved
            .header
            .time
            .as_ref()
            .expect("a finite-horizon file has a time grid"),
        names: &names,
        solution: &shown,
        controls: controls.as_deref(),
        live: live.as_deref(),
        exits,
    };
    let options = PlotOptions {
        size,
        times,
        ..PlotOptions::default()
    };
    let written = draw_file(out, || plot::render_all(&view, out, &options))?;
    eprintln!(
        "read {} in {read_seconds:.3} s; {} pictures in {:.2} s",
        file.display(),
        written.len(),
        start.elapsed().as_secs_f64()
    );
    Ok(0)
}

/// The pictures of a stationary result.
fn stationary(file: &Path, out: &Path, size: (u32, u32)) -> Result<u8, Failure> {
    let start = Instant::now();
    let saved = io::read_stationary(file).map_err(file_error)?;
    let names = saved.header.names();
    let live: Option<Vec<Vec<bool>>> = saved
        .header
        .populations
        .iter()
        .map(|p| p.live.clone())
        .collect();
    let view = StationaryView {
        grid: &saved.header.grid,
        names: &names,
        solution: &saved.solution,
        live: live.as_deref(),
    };
    let options = PlotOptions {
        size,
        ..PlotOptions::default()
    };
    let written = draw_file(out, || plot::render_stationary(&view, out, &options))?;
    eprintln!(
        "{} pictures of {} in {:.2} s",
        written.len(),
        file.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(0)
}

/// `mfg plot`'s drawing: notes on stale pictures in `out`, then `render`, then the files
/// written, one per line. Bad data or options are invalid input.
fn draw_file(
    out: &Path,
    render: impl FnOnce() -> plot::Result<Vec<PathBuf>>,
) -> Result<Vec<PathBuf>, Failure> {
    for n in files::stale::sweep_dir(out) {
        eprintln!("note: {n}");
    }
    let written = render().map_err(|e| match e {
        plot::Error::Invalid { .. } | plot::Error::NotFinite { .. } => invalid(e),
        e => failure(e),
    })?;
    for p in &written {
        println!("{}", p.display());
    }
    Ok(written)
}

/// The pictures at the end of `mfg solve --plots DIR`: notes on stale pictures, `render`, and
/// a note of what was drawn. Data that cannot be drawn (a diverged run) only warn: the run
/// still ends with its own exit code and saved state.
pub fn after_solve(
    dir: &Path,
    note: &dyn Fn(&str),
    render: impl FnOnce() -> plot::Result<Vec<PathBuf>>,
) -> Result<(), Failure> {
    let start = Instant::now();
    for n in files::stale::sweep_dir(dir) {
        note(&format!("note: {n}"));
    }
    match render() {
        Ok(written) => note(&format!(
            "{} pictures in {} ({:.2} s)",
            written.len(),
            dir.display(),
            start.elapsed().as_secs_f64()
        )),
        Err(e @ plot::Error::NotFinite { .. }) => eprintln!("warning: no pictures: {e}"),
        Err(e) => return Err(failure(e)),
    }
    Ok(())
}
