//! The report of `mfg validate` (HDF5, format `mfg-rl-report` version 1; layout in
//! `docs/rl.md`): the game settings, the policy in the policy-file layout (so that a report is
//! also a policy file), its flow μ^π next to the PDE's m* h^d and the game equilibrium's flow,
//! the mean velocities ᾱ^π against α*, every metric per population against the PDE and against
//! the equilibrium, the exploitability curves and the thresholds checked.

use super::hdf5::{attr_f64, attr_str, attr_u64, dataset_1d, field_shape, replace_hdf5, Ctx};
use super::policy::{attr_strings, write_policies, POLICY_VERSION, REPORT_FORMAT};
use super::Result;
use crate::config::{Config, Format};
use crate::problem::Problem;
use crate::rl::metrics::Metrics;
use crate::rl::validate::{Check, CurvePoint, ImportedPolicy, Validation};
use crate::rl::Flow;
use ::hdf5 as h5;
use std::path::Path;

/// What the report says about its reference beyond the validation itself.
#[derive(Debug, Clone, Copy)]
pub struct ReportContext<'a> {
    /// Where the PDE solution came from, e.g. `solved now (newton, converged)`.
    pub reference: &'a str,
    /// The configuration, stored for provenance.
    pub config: Option<&'a Config>,
    /// The thresholds checked.
    pub checks: &'a [Check],
}

/// Writes the report of `v` (a validation of `problem`) to `path`, atomically.
pub fn write_report(
    path: impl AsRef<Path>,
    problem: &Problem,
    v: &Validation,
    ctx: &ReportContext<'_>,
) -> Result<()> {
    let path = path.as_ref();
    replace_hdf5(path, |tmp| write_file(tmp, problem, v, ctx))
}

fn write_file(
    path: &Path,
    problem: &Problem,
    v: &Validation,
    ctx: &ReportContext<'_>,
) -> Result<()> {
    let f = super::create_h5(path).ctx(path, || "creating the file".into())?;
    attr_str(path, &f, "format", REPORT_FORMAT)?;
    attr_u64(path, &f, "format_version", POLICY_VERSION)?;
    attr_str(path, &f, "mfg_version", env!("CARGO_PKG_VERSION"))?;
    attr_str(path, &f, "created", &crate::files::now_rfc3339())?;
    attr_f64(path, &f, "horizon", problem.time().horizon)?;
    attr_str(path, &f, "source", &v.source)?;
    attr_str(path, &f, "reference", ctx.reference)?;
    attr_str(path, &f, "problem", &problem.describe())?;
    if let Some(c) = ctx.config {
        attr_str(path, &f, "config", &c.text)?;
        let fmt = match c.format {
            Format::Toml => "toml",
            Format::Yaml => "yaml",
        };
        attr_str(path, &f, "config_format", fmt)?;
    }
    attr_strings(path, &f, "population_names", &v.names)?;
    attr_f64(path, &f, "exploitability", v.exploitability)?;
    attr_f64(
        path,
        &f,
        "relative_exploitability",
        v.relative_exploitability,
    )?;
    attr_f64(path, &f, "value_scale", v.value_scale)?;
    attr_strings(path, &f, "notes", &v.notes)?;

    // The game and the grid.
    let grid = problem.grid();
    let d = grid.dim();
    let g = f
        .create_group("game")
        .ctx(path, || "creating /game".into())?;
    attr_u64(path, &g, "steps", v.game.steps as u64)?;
    attr_f64(path, &g, "dt", v.game.dt)?;
    attr_u64(path, &g, "dimension", d as u64)?;
    let times: Vec<f64> = (0..=v.game.steps).map(|n| n as f64 * v.game.dt).collect();
    dataset_1d(path, &g, "t", &times)?;
    dataset_1d(path, &g, "cfl", &v.game.cfl)?;
    let axes = ["x", "y"];
    for (a, axis) in grid.axes().iter().enumerate() {
        dataset_1d(path, &g, axes[a], &axis.nodes())?;
    }

    // The policy, in the policy-file layout.
    let policies: Vec<ImportedPolicy> = (0..v.names.len())
        .map(|k| {
            ImportedPolicy::tabular(
                &v.names[k],
                v.policy.population(k),
                &v.game.velocities[k],
                d,
            )
        })
        .collect();
    write_policies(path, &f, &policies)?;

    // Flows and velocities per population.
    let pops = f
        .create_group("populations")
        .ctx(path, || "creating /populations".into())?;
    let flow_shape = field_shape(grid, v.game.steps + 1);
    let mut vel_shape = field_shape(grid, v.game.steps);
    vel_shape.push(d);
    for (k, name) in v.names.iter().enumerate() {
        let pg = pops
            .create_group(name)
            .ctx(path, || format!("creating /populations/{name}"))?;
        attr_f64(path, &pg, "value", v.values[k])?;
        let put = |ds: &str, shape: &[usize], data: &[f64]| -> Result<()> {
            pg.new_dataset::<f64>()
                .shape(shape)
                .create(ds)
                .and_then(|x| x.write_raw(data))
                .ctx(path, || format!("writing /populations/{name}/{ds}"))
        };
        let flow = |f: &Flow| f.population(k).to_vec();
        put("mu", &flow_shape, &flow(&v.flow))?;
        put("mu_pde", &flow_shape, &flow(&v.pde_flow))?;
        put("mean_velocity", &vel_shape, &v.mean_velocity[k])?;
        put("alpha_pde", &vel_shape, &v.pde_velocity[k])?;
        if let Some(e) = &v.equilibrium {
            put("mu_equilibrium", &flow_shape, &flow(&e.flow))?;
            put("mean_velocity_equilibrium", &vel_shape, &e.mean_velocity[k])?;
        }
    }

    // Metrics.
    let m = f
        .create_group("metrics")
        .ctx(path, || "creating /metrics".into())?;
    write_metrics(path, &m, "pde", &v.metrics.against_reference)?;
    if let Some(eq) = &v.metrics.against_equilibrium {
        write_metrics(path, &m, "equilibrium", eq)?;
    }

    // Curves.
    let c = f
        .create_group("curve")
        .ctx(path, || "creating /curve".into())?;
    write_curve(path, &c, &v.curve, v.names.len())?;
    if let Some(e) = &v.equilibrium {
        let g = f
            .create_group("equilibrium")
            .ctx(path, || "creating /equilibrium".into())?;
        attr_str(path, &g, "method", &e.method)?;
        attr_f64(path, &g, "tolerance", e.tolerance)?;
        attr_u64(path, &g, "iterations", e.iterations as u64)?;
        attr_f64(path, &g, "exploitability", e.exploitability)?;
        attr_f64(path, &g, "relative_exploitability", e.relative)?;
        attr_u64(path, &g, "reached", u64::from(e.reached))?;
        attr_f64(path, &g, "seconds", e.seconds)?;
        write_curve(path, &g, &e.curve, v.names.len())?;
    }

    // Thresholds.
    let t = f
        .create_group("thresholds")
        .ctx(path, || "creating /thresholds".into())?;
    let passed = ctx.checks.iter().all(|c| c.passed);
    attr_u64(path, &t, "passed", u64::from(passed))?;
    let mut limits: Vec<(&str, f64)> = ctx.checks.iter().map(|c| (c.name, c.limit)).collect();
    limits.sort_by_key(|l| l.0);
    limits.dedup_by_key(|l| l.0);
    for (name, limit) in limits {
        attr_f64(path, &t, name, limit)?;
    }
    let failed: Vec<String> = ctx
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(describe_check)
        .collect();
    attr_strings(path, &t, "failed", &failed)?;
    f.close().ctx(path, || "closing the file".into())
}

/// "max_density_error of walkers: 0.083 > 0.05".
pub fn describe_check(c: &Check) -> String {
    let who = c
        .population
        .as_ref()
        .map_or(String::new(), |p| format!(" of {p}"));
    let op = if c.passed { "≤" } else { ">" };
    format!("{}{who}: {:.4e} {op} {:.4e}", c.name, c.value, c.limit)
}

fn write_metrics(path: &Path, parent: &h5::Group, name: &str, m: &[Metrics]) -> Result<()> {
    let g = parent
        .create_group(name)
        .ctx(path, || format!("creating /metrics/{name}"))?;
    let col = |f: fn(&Metrics) -> f64| -> Vec<f64> { m.iter().map(f).collect() };
    dataset_1d(path, &g, "exploitability", &col(|m| m.exploitability))?;
    dataset_1d(path, &g, "density_l1", &col(|m| m.density_l1))?;
    dataset_1d(path, &g, "w1", &col(|m| m.w1.unwrap_or(f64::NAN)))?;
    dataset_1d(
        path,
        &g,
        "control_error",
        &col(|m| m.control_error.unwrap_or(f64::NAN)),
    )?;
    dataset_1d(path, &g, "value_error", &col(|m| m.value_error))
}

fn write_curve(path: &Path, g: &h5::Group, c: &[CurvePoint], k: usize) -> Result<()> {
    let it: Vec<u64> = c.iter().map(|p| p.iteration as u64).collect();
    dataset_1d(path, g, "iteration", &it)?;
    dataset_1d(
        path,
        g,
        "seconds",
        &c.iter().map(|p| p.seconds).collect::<Vec<_>>(),
    )?;
    let e: Vec<f64> = c.iter().map(|p| p.exploitability).collect();
    dataset_1d(path, g, "exploitability", &e)?;
    let per: Vec<f64> = c.iter().flat_map(|p| p.per_population.clone()).collect();
    g.new_dataset::<f64>()
        .shape([c.len(), k])
        .create("per_population")
        .and_then(|d| d.write_raw(&per))
        .ctx(path, || format!("writing {}/per_population", g.name()))
}
