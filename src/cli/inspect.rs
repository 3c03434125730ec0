//! `mfg inspect FILE`: what a result file holds (provenance, the problem, the fields and their
//! shapes, the populations, how the run ended and the end of its history), for finite-horizon
//! and stationary results.

use mfg::io::{self, RunState};

/// Prints the description of the file whose (verified) header is `h`.
pub fn print(h: &io::Header, tail: usize, show_config: bool) {
    let size = std::fs::metadata(&h.path).map(|m| m.len()).unwrap_or(0);
    println!(
        "{}: mfg result (format {} v{}, written by mfg {} at {}), {}",
        h.path.display(),
        io::FORMAT_NAME,
        h.format_version,
        h.mfg_version,
        h.created,
        mfg::solve::budget::bytes(size)
    );
    if let Some(t) = &h.title {
        println!("title: {t}");
    }
    if let Some(p) = &h.config_path {
        println!("configuration: {p}");
    }
    println!("problem: {}", h.problem.lines().next().unwrap_or_default());
    let levels = h.time.map(|t| t.nt + 1);
    let shape: Vec<String> = levels
        .into_iter()
        .chain(h.grid.axes().iter().rev().map(|a| a.n))
        .map(|n| n.to_string())
        .collect();
    match &h.time {
        Some(t) => println!(
            "horizon: finite, T = {} in {} steps of {}",
            t.horizon,
            t.nt,
            t.dt()
        ),
        None => println!("horizon: stationary (fields without a time axis)"),
    }
    println!(
        "fields: /populations/<name>/{{m, u, {}}} shaped ({}), {}",
        ["alpha_x", "alpha_y"][..h.grid.dim()].join(", "),
        shape.join(", "),
        h.compression
    );
    println!("populations:");
    for p in &h.populations {
        let geometry = match (&p.live, &p.exit) {
            (Some(live), exit) => {
                let removed = live.iter().filter(|l| !**l).count();
                let exits = exit
                    .as_ref()
                    .map_or(0, |e| e.iter().filter(|v| **v).count());
                format!(
                    ", mass {}, {removed} removed nodes, {exits} exit nodes",
                    p.mass
                )
            }
            (None, _) => String::new(),
        };
        let lambda = match p.lambda {
            Some(l) if p.discount > 0.0 => {
                format!(", discounted (rho = {}): lambda = {l}", p.discount)
            }
            Some(l) => format!(", ergodic: lambda = {l}"),
            None => String::new(),
        };
        println!(
            "  {:<16} sigma = {}, H = {}{geometry}{lambda}",
            p.name, p.sigma, p.hamiltonian
        );
    }
    let state = match h.state {
        RunState::Finished(t) => t.as_str().to_string(),
        RunState::InProgress => "in progress (checkpoint written during the solve)".to_string(),
    };
    let last = h.history.last().copied().unwrap_or_default();
    println!(
        "run: {} {} after {} iterations, final residual {:.3e}, wall time {:.3} s",
        h.method,
        state,
        h.history.len(),
        last.residual,
        h.wall_time
    );
    if let Some(d) = &h.detail {
        println!("  {d}");
    }
    if !h.history.is_empty() && tail > 0 {
        println!(
            "history (last {}):\n  {:>6} {:>11} {:>11} {:>11} {:>11} {:>11} {:>7} {:>9}",
            tail.min(h.history.len()),
            "iter",
            "residual",
            "hjb",
            "fp",
            "delta_u",
            "delta_m",
            "theta",
            "seconds"
        );
        for s in &h.history[h.history.len().saturating_sub(tail)..] {
            println!(
                "  {:>6} {:>11.3e} {:>11.3e} {:>11.3e} {:>11.3e} {:>11.3e} {:>7.4} {:>9.3}",
                s.iteration,
                s.residual,
                s.residual_hjb,
                s.residual_fp,
                s.delta_u,
                s.delta_m,
                s.theta,
                s.seconds
            );
        }
    }
    if show_config {
        match &h.config_text {
            Some(text) => println!("configuration text:\n{text}"),
            None => println!("no configuration stored"),
        }
    }
}
