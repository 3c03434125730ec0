//! Performance record: Picard (θ = 0.5 and adaptive), Anderson, Newton and the default `auto` on the two-population benchmarks
//! of `data/benchmarks/` (1D crowds on a line, 2D crossing on a square, monotone couplings),
//! from the cold start to residual, Δu and Δm ≤ 1e-10. Prints a table of iterations, inner
//! iterations, seconds and peak memory.
//!
//! ```text
//! cargo run --release --example performance                 # everything (long: see below)
//! cargo run --release --example performance -- --skip-slow  # without Picard/Anderson on 128²×128
//! cargo run --release --example performance -- --only 1d --methods newton
//! cargo run --release --example performance -- --csv data/performance.csv   # the stored record
//! ```
//!
//! `--csv FILE` also appends the rows as CSV to FILE (created with its header when missing), with
//! the commit they were measured at: the record in `data/performance.csv` grows this way, one
//! block of rows per measured commit, so that a regression shows next to the earlier numbers.
//!
//! Every case runs in a child process (this executable with `--case`), so that its peak
//! resident memory (VmHWM of /proc/self/status) is its own. `--skip-slow` skips Picard and
//! Anderson on 2D 128²×128 (about 25 s each). `--methods` also takes `newton-exact` (exact
//! per-step solves in the preconditioner, the current default) for comparisons.

#[path = "../tests/common/mod.rs"]
mod common;

use common::models::benchmarks as problems;

use mfg::solve::solve;
use std::io::Write;
use std::process::Command;
use std::time::Instant;

const SIZES_1D: [(usize, usize); 5] = [(101, 50), (201, 100), (401, 200), (801, 400), (1000, 1000)];
const SIZES_2D: [usize; 3] = [32, 64, 128];
const METHODS: [&str; 5] = ["picard", "picard-adaptive", "anderson", "newton", "auto"];

fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Child: solves one case and prints one `RESULT` line.
fn run_case(method: &str, dim: &str, n: usize, nt: usize) {
    let problem = match dim {
        "1d" => problems::crowds_1d(n, nt),
        _ => problems::crossing_2d(n, nt),
    };
    let settings = problems::method(method);
    let t = Instant::now();
    let s = solve(&problem, &settings).expect("solve");
    let seconds = t.elapsed().as_secs_f64();
    let last = s.last().copied().unwrap_or_default();
    let inner: usize = s.history.iter().map(|h| h.inner_iterations).sum();
    println!(
        "RESULT {} {} {} {:.3} {} {:.3e}",
        s.termination.as_str(),
        s.history.len(),
        inner,
        seconds,
        peak_kib(),
        last.residual
    );
}

struct Row {
    termination: String,
    iterations: usize,
    inner: usize,
    seconds: f64,
    peak_mib: f64,
    residual: String,
}

fn spawn(method: &str, dim: &str, n: usize, nt: usize) -> Result<Row, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = Command::new(exe)
        .args(["--case", method, dim, &n.to_string(), &nt.to_string()])
        .output()
        .map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("RESULT "))
        .ok_or_else(|| {
            format!(
                "no result ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .take(3)
                    .collect::<Vec<_>>()
                    .join(" / ")
            )
        })?;
    let f: Vec<&str> = line.split_whitespace().collect();
    Ok(Row {
        termination: f[1].to_string(),
        iterations: f[2].parse().unwrap_or(0),
        inner: f[3].parse().unwrap_or(0),
        seconds: f[4].parse().unwrap_or(f64::NAN),
        peak_mib: f[5].parse::<f64>().unwrap_or(f64::NAN) / 1024.0,
        residual: f[6].to_string(),
    })
}

/// The commit of the working tree (`unknown` outside a git checkout), `+dirty` when modified.
fn commit() -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(c) => {
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty());
            if dirty {
                format!("{c}+dirty")
            } else {
                c
            }
        }
        None => "unknown".into(),
    }
}

const CSV_HEADER: &str = "commit,threads,case,dim,nx,nt,unknowns,method,result,iterations,inner,seconds,peak_mib,residual";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() >= 6 && args[1] == "--case" {
        run_case(
            &args[2],
            &args[3],
            args[4].parse().unwrap(),
            args[5].parse().unwrap(),
        );
        return;
    }
    let skip_slow = args.iter().any(|a| a == "--skip-slow");
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let only = value("--only");
    let csv_path = value("--csv");
    let mut csv = vec![CSV_HEADER.to_string()];
    let (commit, threads) = (commit(), rayon::current_num_threads());
    let methods: Vec<String> = value("--methods")
        .map(|m| m.split(',').map(str::to_string).collect())
        .unwrap_or_else(|| METHODS.iter().map(|m| m.to_string()).collect());
    let mut cases: Vec<(&str, usize, usize)> = Vec::new();
    if only.as_deref() != Some("2d") {
        cases.extend(SIZES_1D.iter().map(|&(n, nt)| ("1d", n, nt)));
    }
    if only.as_deref() != Some("1d") {
        cases.extend(SIZES_2D.iter().map(|&n| ("2d", n, n)));
    }
    println!(
        "mfg performance record: {} threads, residual/Δu/Δm ≤ 1e-10 from the cold start",
        rayon::current_num_threads()
    );
    println!(
        "| case | unknowns | method | result | iterations | inner | seconds | peak MiB | residual |"
    );
    println!("|---|---:|---|---|---:|---:|---:|---:|---:|");
    for (dim, n, nt) in cases {
        let (label, nodes) = match dim {
            "1d" => (format!("1D {n}×{nt}"), n),
            _ => (format!("2D {n}²×{nt}"), n * n),
        };
        let unknowns = 2 * 2 * nodes * nt;
        for method in &methods {
            if skip_slow && dim == "2d" && n >= 128 && !method.starts_with("newton") {
                println!("| {label} | {unknowns} | {method} | skipped (--skip-slow) | | | | | |");
                continue;
            }
            match spawn(method, dim, n, nt) {
                Ok(r) => {
                    println!(
                        "| {label} | {unknowns} | {method} | {} | {} | {} | {:.2} | {:.0} | {} |",
                        r.termination, r.iterations, r.inner, r.seconds, r.peak_mib, r.residual
                    );
                    csv.push(format!(
                        "{commit},{threads},{label},{dim},{n},{nt},{unknowns},{method},{},{},{},{:.3},{:.0},{}",
                        r.termination, r.iterations, r.inner, r.seconds, r.peak_mib, r.residual
                    ));
                }
                Err(e) => println!("| {label} | {unknowns} | {method} | failed: {e} | | | | | |"),
            }
            std::io::stdout().flush().ok();
        }
    }
    println!(
        "\ninner = GMRES iterations (Newton; +1 per direct solve), HJB Newton iterations \
         (Picard, Anderson)."
    );
    if let Some(path) = csv_path {
        // Appended, so that the record keeps every measured commit side by side.
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        let text = if old.is_empty() {
            csv.join("\n") + "\n"
        } else if old.lines().next() == Some(CSV_HEADER) {
            let sep = if old.ends_with('\n') { "" } else { "\n" };
            format!("{old}{sep}{}\n", csv[1..].join("\n"))
        } else {
            eprintln!("{path} does not start with the header {CSV_HEADER:?}: nothing written");
            return;
        };
        // Written next to it and renamed: an interrupted run leaves the record as it was.
        let tmp = format!("{path}.tmp");
        match std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, &path)) {
            Ok(()) => println!("appended {} rows to {path}", csv.len() - 1),
            Err(e) => eprintln!("cannot write {path}: {e}"),
        }
    }
}
