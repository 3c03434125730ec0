//! Declarative problem description: one TOML (or YAML) file gives the grid, the time horizon,
//! the populations (σ_k, H^k, V^k, g^k, m0^k), the coupling f^k and the solver settings, and
//! [`Config::build`] turns it into a validated [`Problem`] and [`SolverSettings`].
//!
//! Fields (initial density, potential, terminal cost) are numbers, math expressions in `x` (and
//! `y` in 2D) parsed by `exmex`, or named profiles (`gaussian`, `uniform`, `box`, `quadratic`).
//! Unknown keys, wrong types and bad values are errors naming the key.

use crate::error::{Error, Result};
use crate::grid::{Axis, Boundary, Grid, TimeGrid};
use crate::problem::coupling::{self, Coupling};
use crate::problem::hamiltonian::{self, Hamiltonian};
use crate::problem::{Population, Problem};
use crate::scheme::{HjbSettings, StepSolverKind};
use crate::solve::newton::{DensityUpdate, Fallback, NewtonSolverKind};
use crate::solve::spacetime::{Ordering, Preconditioner};
use crate::solve::{
    AndersonSettings, MethodKind, NewtonSettings, Relaxation, SolverSettings, Stopping,
};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The whole configuration file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Optional one-line title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub grid: GridSpec,
    pub time: TimeSpec,
    #[serde(rename = "population")]
    pub populations: Vec<PopulationSpec>,
    #[serde(default)]
    pub coupling: CouplingSpec,
    #[serde(default)]
    pub solver: SolverSpec,
    #[serde(default, skip_serializing_if = "OutputSpec::is_default")]
    pub output: OutputSpec,
}

/// `[grid]`: one axis (1D) or two (2D).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridSpec {
    pub x: AxisSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<AxisSpec>,
}

/// One axis: bounds, node count and boundary kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AxisSpec {
    pub min: f64,
    pub max: f64,
    pub n: usize,
    #[serde(default = "default_boundary")]
    pub boundary: Boundary,
}

fn default_boundary() -> Boundary {
    Boundary::Reflecting
}

/// `[time]`: horizon T and number of steps Nt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeSpec {
    pub horizon: f64,
    pub steps: usize,
}

/// One `[[population]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PopulationSpec {
    pub name: String,
    pub sigma: f64,
    #[serde(default)]
    pub hamiltonian: HamiltonianSpec,
    pub initial: FieldSpec,
    #[serde(default = "FieldSpec::zero")]
    pub potential: FieldSpec,
    #[serde(default = "FieldSpec::zero")]
    pub terminal: FieldSpec,
}

/// `hamiltonian = { kind = "...", ... }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum HamiltonianSpec {
    /// |p|²/(2 cost).
    Quadratic {
        #[serde(default = "one")]
        cost: f64,
    },
    /// Σ_a p_a²/(2 costs[a]).
    Anisotropic { costs: Vec<f64> },
    /// |p|^q/(q cost).
    Power {
        q: f64,
        #[serde(default = "one")]
        cost: f64,
    },
}

fn one() -> f64 {
    1.0
}

impl Default for HamiltonianSpec {
    fn default() -> Self {
        HamiltonianSpec::Quadratic { cost: 1.0 }
    }
}

impl HamiltonianSpec {
    fn build(&self) -> Box<dyn Hamiltonian> {
        match self {
            HamiltonianSpec::Quadratic { cost } => Box::new(hamiltonian::Quadratic::new(*cost)),
            HamiltonianSpec::Anisotropic { costs } => {
                Box::new(hamiltonian::Anisotropic::new(costs.clone()))
            }
            HamiltonianSpec::Power { q, cost } => Box::new(hamiltonian::Power::new(*q, *cost)),
        }
    }
}

/// `[coupling]`: any combination of the shipped couplings, summed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CouplingSpec {
    /// A (K×K): f^k += Σ_j A_kj m^j.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linear: Option<Vec<Vec<f64>>>,
    /// κ: a K-vector (self-congestion κ_k log m^k) or a K×K matrix (Σ_j κ_kj log m^j).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<VectorOrMatrix>,
    /// f^k += κ_k (m^k)^β.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power: Option<PowerSpec>,
}

/// A vector (the diagonal) or a full matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum VectorOrMatrix {
    Vector(Vec<f64>),
    Matrix(Vec<Vec<f64>>),
}

/// `power = { kappa = [...], beta = ... }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PowerSpec {
    pub kappa: Vec<f64>,
    pub beta: f64,
}

impl CouplingSpec {
    fn build(&self) -> Box<dyn Coupling> {
        let mut terms: Vec<Box<dyn Coupling>> = Vec::new();
        if let Some(a) = &self.linear {
            terms.push(Box::new(coupling::Linear::from_rows(a)));
        }
        match &self.log {
            Some(VectorOrMatrix::Vector(v)) => terms.push(Box::new(coupling::Log::diagonal(v))),
            Some(VectorOrMatrix::Matrix(a)) => terms.push(Box::new(coupling::Log::from_rows(a))),
            None => {}
        }
        if let Some(p) = &self.power {
            terms.push(Box::new(coupling::Power {
                kappa: p.kappa.clone(),
                beta: p.beta,
            }));
        }
        if terms.len() == 1 {
            terms.pop().expect("one term")
        } else {
            Box::new(coupling::Sum(terms))
        }
    }

    fn check_rows(&self, k: usize) -> Result<()> {
        let check = |rows: &Vec<Vec<f64>>, field: &str| -> Result<()> {
            for (r, row) in rows.iter().enumerate() {
                if row.len() != k || rows.len() != k {
                    return Err(Error::invalid(
                        format!("coupling.{field}"),
                        format!(
                            "row {r} has {} entries and there are {} rows: a {k}x{k} matrix is needed",
                            row.len(),
                            rows.len()
                        ),
                    ));
                }
            }
            if rows.len() != k {
                return Err(Error::invalid(
                    format!("coupling.{field}"),
                    format!("{} rows: a {k}x{k} matrix is needed", rows.len()),
                ));
            }
            Ok(())
        };
        if let Some(a) = &self.linear {
            check(a, "linear")?;
        }
        match &self.log {
            Some(VectorOrMatrix::Matrix(a)) => check(a, "log")?,
            Some(VectorOrMatrix::Vector(v)) if v.len() != k => {
                return Err(Error::invalid(
                    "coupling.log",
                    format!("{} values for {k} populations", v.len()),
                ))
            }
            _ => {}
        }
        Ok(())
    }
}

/// `[solver]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SolverSpec {
    #[serde(default)]
    pub method: MethodName,
    /// θ of damped Picard (ignored by fictitious play).
    #[serde(default = "default_relaxation")]
    pub relaxation: f64,
    #[serde(default = "default_max_iterations")]
    pub max_iterations: usize,
    #[serde(default = "default_tol")]
    pub tol_u: f64,
    #[serde(default = "default_tol")]
    pub tol_m: f64,
    #[serde(default = "default_tol")]
    pub tol_residual: f64,
    #[serde(default = "default_hjb_tol")]
    pub hjb_tol: f64,
    #[serde(default = "default_hjb_max")]
    pub hjb_max_iterations: usize,
    /// Linear solver of the implicit steps: `auto` (default), `direct` or `iterative`.
    #[serde(default)]
    pub linear_solver: StepSolverKind,
    /// Anderson: number of past differences kept (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anderson_depth: Option<usize>,
    /// Anderson: mixing β ∈ (0, 1] (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anderson_mixing: Option<f64>,
    /// Newton: linear solver of each Newton step, `auto` (GMRES, with the direct LU as
    /// fallback for small 1D systems), `direct`, `krylov`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newton_solver: Option<NewtonSolverKind>,
    /// Newton, direct LU: `blocked`, `time-interleaved` (default), `node-interleaved`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordering: Option<Ordering>,
    /// Newton, `auto`: largest 1D system (unknowns) solved by the direct LU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct_max_unknowns: Option<usize>,
    /// Newton-Krylov: per-time-step solves of the preconditioner, `auto` (exact in 1D and on
    /// small 2D grids, multigrid above), `exact` or `multigrid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preconditioner: Option<Preconditioner>,
    /// Newton-Krylov: GMRES basis size and iteration cap per Newton step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gmres_restart: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gmres_max_iterations: Option<usize>,
    /// Newton: Picard iterations (θ = `warm_relaxation`, default 1) before the first Newton
    /// step (default: 0, or 3 for couplings singular at m = 0 such as log m). The `relaxation`
    /// key is the θ of the Picard fallback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warm_start: Option<usize>,
    /// Newton: θ of the warm-start Picard iterations (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warm_relaxation: Option<f64>,
    /// Newton: `continuation` (default), `picard` or `none` when the line search fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<Fallback>,
    /// Newton: Picard iterations of one Picard fallback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_iterations: Option<usize>,
    /// Newton: residual at which a continuation stage counts as solved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continuation_tol: Option<f64>,
    /// Newton: halvings of the step before the line search gives up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_search_halvings: Option<usize>,
    /// Newton: steps the non-monotone line search looks back (1: monotone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonmonotone_window: Option<usize>,
    /// Newton: `auto` (log m for log couplings), `linear` or `log` update of the densities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub density_update: Option<DensityUpdate>,
}

/// Outer method names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MethodName {
    #[default]
    Picard,
    FictitiousPlay,
    /// Anderson-accelerated Picard.
    Anderson,
    /// Newton's method on the whole space-time system.
    Newton,
}

impl std::str::FromStr for MethodName {
    type Err = Error;
    /// Parses the configuration spelling (`picard`, `fictitious-play`, …).
    fn from_str(s: &str) -> Result<Self> {
        use serde::de::IntoDeserializer;
        let de: serde::de::value::StrDeserializer<'_, serde::de::value::Error> =
            s.into_deserializer();
        MethodName::deserialize(de).map_err(|e| Error::invalid("solver.method", e.to_string()))
    }
}

fn default_relaxation() -> f64 {
    0.5
}
fn default_max_iterations() -> usize {
    Stopping::default().max_iterations
}
fn default_tol() -> f64 {
    1e-10
}
fn default_hjb_tol() -> f64 {
    HjbSettings::default().tol
}
fn default_hjb_max() -> usize {
    HjbSettings::default().max_iterations
}

impl Default for SolverSpec {
    fn default() -> Self {
        SolverSpec {
            method: MethodName::default(),
            relaxation: default_relaxation(),
            max_iterations: default_max_iterations(),
            tol_u: default_tol(),
            tol_m: default_tol(),
            tol_residual: default_tol(),
            hjb_tol: default_hjb_tol(),
            hjb_max_iterations: default_hjb_max(),
            linear_solver: StepSolverKind::default(),
            anderson_depth: None,
            anderson_mixing: None,
            newton_solver: None,
            ordering: None,
            direct_max_unknowns: None,
            preconditioner: None,
            gmres_restart: None,
            gmres_max_iterations: None,
            warm_start: None,
            warm_relaxation: None,
            fallback: None,
            fallback_iterations: None,
            continuation_tol: None,
            line_search_halvings: None,
            nonmonotone_window: None,
            density_update: None,
        }
    }
}

impl SolverSpec {
    /// The solver settings this section describes.
    pub fn build(&self) -> Result<SolverSettings> {
        for (v, name) in [
            (self.tol_u, "tol_u"),
            (self.tol_m, "tol_m"),
            (self.tol_residual, "tol_residual"),
            (self.hjb_tol, "hjb_tol"),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::invalid(
                    format!("solver.{name}"),
                    format!("{v}: a tolerance must be a positive number"),
                ));
            }
        }
        if self.hjb_max_iterations == 0 {
            return Err(Error::invalid(
                "solver.hjb_max_iterations",
                "must be at least 1",
            ));
        }
        if self.method != MethodName::FictitiousPlay
            && !(self.relaxation > 0.0 && self.relaxation <= 1.0)
        {
            return Err(Error::invalid(
                "solver.relaxation",
                format!("{}: θ must lie in (0, 1]", self.relaxation),
            ));
        }
        self.check_method_keys()?;
        let method = match self.method {
            MethodName::Picard => MethodKind::Picard(Relaxation::Fixed(self.relaxation)),
            MethodName::FictitiousPlay => MethodKind::Picard(Relaxation::FictitiousPlay),
            MethodName::Anderson => {
                let d = AndersonSettings::default();
                let a = AndersonSettings {
                    depth: self.anderson_depth.unwrap_or(d.depth),
                    mixing: self.anderson_mixing.unwrap_or(d.mixing),
                    relaxation: self.relaxation,
                    ..d
                };
                a.validate()?;
                MethodKind::Anderson(a)
            }
            MethodName::Newton => {
                let d = NewtonSettings::default();
                let n = NewtonSettings {
                    linear_solver: self.newton_solver.unwrap_or(d.linear_solver),
                    ordering: self.ordering.unwrap_or(d.ordering),
                    direct_max_unknowns: self.direct_max_unknowns.unwrap_or(d.direct_max_unknowns),
                    preconditioner: self.preconditioner.unwrap_or(d.preconditioner),
                    gmres_restart: self.gmres_restart.unwrap_or(d.gmres_restart),
                    gmres_max_iterations: self
                        .gmres_max_iterations
                        .unwrap_or(d.gmres_max_iterations),
                    warm_start: self.warm_start.or(d.warm_start),
                    warm_relaxation: self.warm_relaxation.unwrap_or(d.warm_relaxation),
                    picard_relaxation: self.relaxation,
                    fallback: self.fallback.unwrap_or(d.fallback),
                    fallback_iterations: self.fallback_iterations.unwrap_or(d.fallback_iterations),
                    continuation_tol: self.continuation_tol.unwrap_or(d.continuation_tol),
                    max_halvings: self.line_search_halvings.unwrap_or(d.max_halvings),
                    nonmonotone_window: self.nonmonotone_window.unwrap_or(d.nonmonotone_window),
                    density_update: self.density_update.unwrap_or(d.density_update),
                    ..d
                };
                n.validate()?;
                MethodKind::Newton(n)
            }
        };
        Ok(SolverSettings {
            method,
            stopping: Stopping {
                max_iterations: self.max_iterations,
                tol_u: self.tol_u,
                tol_m: self.tol_m,
                tol_residual: self.tol_residual,
                ..Stopping::default()
            },
            hjb: HjbSettings {
                tol: self.hjb_tol,
                max_iterations: self.hjb_max_iterations,
                linear_solver: self.linear_solver,
            },
        })
    }
}

/// `[output]`: what `mfg solve` writes besides the result file.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    /// Write a checkpoint (current iterate and history) to the output file every this many
    /// outer iterations; 0 or absent: only the final result. `--checkpoint-every` overrides it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_every: Option<usize>,
    /// Deflate level 0-9 of the field datasets in the HDF5 file, or `false` for none
    /// (default 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<Compression>,
    /// Times of the 2D snapshot plots (default: 0, T/3, 2T/3, T).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_times: Option<Vec<f64>>,
}

/// `compression = 4` or `compression = false`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Compression {
    Level(u8),
    Enabled(bool),
}

impl OutputSpec {
    fn is_default(&self) -> bool {
        *self == OutputSpec::default()
    }

    /// Checks the values; `Spec::build` calls it.
    pub fn validate(&self, horizon: f64) -> Result<()> {
        if let Some(Compression::Level(l)) = self.compression {
            if l > 9 {
                return Err(Error::invalid(
                    "output.compression",
                    format!("{l}: the deflate level lies in 0..=9 (or false for none)"),
                ));
            }
        }
        if let Some(Compression::Enabled(true)) = self.compression {
            return Err(Error::invalid(
                "output.compression",
                "true: give a deflate level 0..=9, or false for none",
            ));
        }
        if let Some(times) = &self.snapshot_times {
            if let Some(t) = times
                .iter()
                .find(|t| !(t.is_finite() && **t >= 0.0 && **t <= horizon))
            {
                return Err(Error::invalid(
                    "output.snapshot_times",
                    format!("{t}: times must lie in [0, {horizon}]"),
                ));
            }
        }
        Ok(())
    }

    /// The deflate level of the field datasets (`None`: uncompressed).
    pub fn deflate_level(&self) -> Option<u8> {
        match self.compression {
            None => Some(4),
            Some(Compression::Level(l)) => Some(l),
            Some(Compression::Enabled(_)) => None,
        }
    }
}

impl SolverSpec {
    /// Method-specific keys given for another method are errors naming the key (they would
    /// otherwise be silently ignored).
    fn check_method_keys(&self) -> Result<()> {
        let anderson = [
            ("anderson_depth", self.anderson_depth.is_some()),
            ("anderson_mixing", self.anderson_mixing.is_some()),
        ];
        let newton = [
            ("newton_solver", self.newton_solver.is_some()),
            ("ordering", self.ordering.is_some()),
            ("direct_max_unknowns", self.direct_max_unknowns.is_some()),
            ("preconditioner", self.preconditioner.is_some()),
            ("gmres_restart", self.gmres_restart.is_some()),
            ("gmres_max_iterations", self.gmres_max_iterations.is_some()),
            ("warm_start", self.warm_start.is_some()),
            ("warm_relaxation", self.warm_relaxation.is_some()),
            ("fallback", self.fallback.is_some()),
            ("fallback_iterations", self.fallback_iterations.is_some()),
            ("continuation_tol", self.continuation_tol.is_some()),
            ("line_search_halvings", self.line_search_halvings.is_some()),
            ("nonmonotone_window", self.nonmonotone_window.is_some()),
            ("density_update", self.density_update.is_some()),
        ];
        for (keys, method, name) in [
            (&anderson[..], MethodName::Anderson, "anderson"),
            (&newton[..], MethodName::Newton, "newton"),
        ] {
            if self.method != method {
                if let Some((key, _)) = keys.iter().find(|(_, set)| *set) {
                    return Err(Error::invalid(
                        format!("solver.{key}"),
                        format!("only used by method = \"{name}\""),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A field on the grid: a number, an expression in x (and y), or a named profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum FieldSpec {
    Constant(f64),
    Expression(String),
    Profile(Profile),
}

/// Named profiles. Vectors have one entry per axis; a single number is accepted in 1D.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "profile", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Profile {
    /// amplitude · exp(-Σ_a (x_a - mean_a)²/(2 std_a²)).
    Gaussian {
        mean: OneOrMany,
        std: OneOrMany,
        #[serde(default = "one")]
        amplitude: f64,
    },
    /// `value` everywhere (1 by default).
    Uniform {
        #[serde(default = "one")]
        value: f64,
    },
    /// `value` inside the box [min, max] (per axis), 0 outside.
    Box {
        min: OneOrMany,
        max: OneOrMany,
        #[serde(default = "one")]
        value: f64,
    },
    /// (weight/2) |x - center|².
    Quadratic {
        center: OneOrMany,
        #[serde(default = "one")]
        weight: f64,
    },
}

/// A number or a list of numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(f64),
    Many(Vec<f64>),
}

impl OneOrMany {
    fn per_axis(&self, dim: usize, field: &str) -> Result<Vec<f64>> {
        let v = match self {
            OneOrMany::One(x) => vec![*x; dim],
            OneOrMany::Many(v) => v.clone(),
        };
        if v.len() != dim {
            return Err(Error::invalid(
                field,
                format!(
                    "{} values for a {dim}D grid: one per axis is needed",
                    v.len()
                ),
            ));
        }
        Ok(v)
    }
}

impl FieldSpec {
    fn zero() -> Self {
        FieldSpec::Constant(0.0)
    }

    /// Samples the field on every node of `grid`; `field` names it in errors.
    pub fn sample(&self, grid: &Grid, field: &str) -> Result<Vec<f64>> {
        let d = grid.dim();
        let values = match self {
            FieldSpec::Constant(c) => vec![*c; grid.len()],
            FieldSpec::Expression(text) => sample_expression(grid, text, field)?,
            FieldSpec::Profile(p) => match p {
                Profile::Gaussian {
                    mean,
                    std,
                    amplitude,
                } => {
                    let mean = mean.per_axis(d, &format!("{field}.mean"))?;
                    let std = std.per_axis(d, &format!("{field}.std"))?;
                    if let Some(s) = std.iter().find(|s| !(**s > 0.0 && s.is_finite())) {
                        return Err(Error::invalid(
                            format!("{field}.std"),
                            format!("{s}: must be positive"),
                        ));
                    }
                    grid.sample(|x| {
                        let r2: f64 = (0..d).map(|a| ((x[a] - mean[a]) / std[a]).powi(2)).sum();
                        amplitude * (-0.5 * r2).exp()
                    })
                }
                Profile::Uniform { value } => vec![*value; grid.len()],
                Profile::Box { min, max, value } => {
                    let lo = min.per_axis(d, &format!("{field}.min"))?;
                    let hi = max.per_axis(d, &format!("{field}.max"))?;
                    grid.sample(|x| {
                        if (0..d).all(|a| x[a] >= lo[a] && x[a] <= hi[a]) {
                            *value
                        } else {
                            0.0
                        }
                    })
                }
                Profile::Quadratic { center, weight } => {
                    let c = center.per_axis(d, &format!("{field}.center"))?;
                    grid.sample(|x| {
                        0.5 * weight * (0..d).map(|a| (x[a] - c[a]).powi(2)).sum::<f64>()
                    })
                }
            },
        };
        if let Some((i, v)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            let p = grid.point(i);
            return Err(Error::invalid(
                field,
                format!("the field is {v} at {:?}", &p[..d]),
            ));
        }
        Ok(values)
    }
}

fn sample_expression(grid: &Grid, text: &str, field: &str) -> Result<Vec<f64>> {
    let expr = crate::expr::Expression::parse(text, field)?;
    let d = grid.dim();
    let allowed = &["x", "y"][..d];
    // exmex orders variables alphabetically; map each to its axis.
    let mut axes = Vec::new();
    for name in expr.var_names() {
        match allowed.iter().position(|a| a == name) {
            Some(a) => axes.push(a),
            None => {
                return Err(Error::invalid(
                    field,
                    format!(
                        "unknown variable {name:?} in {text:?}: expressions may use {}",
                        allowed.join(" and ")
                    ),
                ))
            }
        }
    }
    let mut vars = vec![0.0; axes.len()];
    let mut out = Vec::with_capacity(grid.len());
    for i in 0..grid.len() {
        let p = grid.point(i);
        for (v, &a) in vars.iter_mut().zip(&axes) {
            *v = p[a];
        }
        let value = expr.eval(&vars).map_err(|e| {
            Error::invalid(
                field,
                format!("cannot evaluate {text:?} at {:?}: {e}", &p[..d]),
            )
        })?;
        out.push(value);
    }
    Ok(out)
}

impl<'de> Deserialize<'de> for FieldSpec {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = FieldSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number, an expression in x (and y), or a table with `profile`")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<FieldSpec, E> {
                Ok(FieldSpec::Constant(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<FieldSpec, E> {
                Ok(FieldSpec::Constant(v as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<FieldSpec, E> {
                Ok(FieldSpec::Constant(v as f64))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<FieldSpec, E> {
                Ok(FieldSpec::Expression(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<FieldSpec, A::Error> {
                Profile::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(FieldSpec::Profile)
            }
        }
        de.deserialize_any(V)
    }
}

/// File formats a configuration can be read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Toml,
    Yaml,
}

impl Format {
    /// From a file extension: `.toml`, `.yaml` or `.yml`.
    pub fn from_path(path: &Path) -> Result<Self> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("toml") => Ok(Format::Toml),
            Some("yaml") | Some("yml") => Ok(Format::Yaml),
            _ => Err(Error::Parse {
                path: path.to_path_buf(),
                message: "unknown configuration format: use a .toml, .yaml or .yml file".into(),
            }),
        }
    }
}

/// A parsed configuration with the text it came from (kept for provenance in output files).
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub spec: Spec,
    pub text: String,
    pub format: Format,
    pub path: Option<PathBuf>,
}

impl Config {
    /// Reads and parses a configuration file (format from the extension).
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let format = Format::from_path(path)?;
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut c = Self::parse(&text, format, path)?;
        c.path = Some(path.to_path_buf());
        Ok(c)
    }

    /// Parses configuration text; `origin` names it in errors.
    pub fn parse(text: &str, format: Format, origin: &Path) -> Result<Self> {
        let spec: Spec = match format {
            Format::Toml => toml::from_str(text).map_err(|e| Error::Parse {
                path: origin.to_path_buf(),
                message: e.to_string(),
            })?,
            Format::Yaml => serde_norway::from_str(text).map_err(|e| Error::Parse {
                path: origin.to_path_buf(),
                message: e.to_string(),
            })?,
        };
        Ok(Config {
            spec,
            text: text.to_string(),
            format,
            path: None,
        })
    }

    /// Parses TOML text.
    pub fn from_toml_str(text: &str) -> Result<Self> {
        Self::parse(text, Format::Toml, Path::new("<string>"))
    }

    /// Builds and validates the problem and the solver settings.
    pub fn build(&self) -> Result<(Problem, SolverSettings)> {
        self.spec.build()
    }
}

impl Spec {
    /// Builds and validates the problem and the solver settings.
    pub fn build(&self) -> Result<(Problem, SolverSettings)> {
        let g = &self.grid;
        let axis = |a: &AxisSpec| Axis::new(a.min, a.max, a.n, a.boundary);
        let mut axes = vec![axis(&g.x)];
        if let Some(y) = &g.y {
            axes.push(axis(y));
        }
        let grid = Grid::new(axes)?;
        let time = TimeGrid::new(self.time.horizon, self.time.steps)?;
        if self.populations.is_empty() {
            return Err(Error::invalid(
                "population",
                "at least one [[population]] is needed",
            ));
        }
        self.coupling.check_rows(self.populations.len())?;
        let mut builder = Problem::builder(grid.clone(), time);
        for (k, p) in self.populations.iter().enumerate() {
            let field = format!("population[{k}]");
            builder = builder.population(
                Population::boxed_builder(p.name.clone(), p.sigma, p.hamiltonian.build())
                    .potential_values(p.potential.sample(&grid, &format!("{field}.potential"))?)
                    .terminal_values(p.terminal.sample(&grid, &format!("{field}.terminal"))?)
                    .initial_values(p.initial.sample(&grid, &format!("{field}.initial"))?),
            );
        }
        let problem = builder.boxed_coupling(self.coupling.build()).build()?;
        let settings = self.solver.build()?;
        self.output.validate(self.time.horizon)?;
        Ok((problem, settings))
    }

    /// Replaces the resolution (nodes per axis, time steps): used to run shipped examples
    /// on coarse grids in CI, or to refine them.
    pub fn with_resolution(mut self, nx: usize, ny: Option<usize>, steps: usize) -> Self {
        self.grid.x.n = nx;
        if let (Some(y), Some(n)) = (self.grid.y.as_mut(), ny) {
            y.n = n;
        }
        self.time.steps = steps;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[grid]
x = { min = -1.0, max = 1.0, n = 21 }
[time]
horizon = 0.5
steps = 10
[[population]]
name = "a"
sigma = 0.2
initial = { profile = "gaussian", mean = 0.0, std = 0.2 }
potential = "x^2"
[[population]]
name = "b"
sigma = 0.3
hamiltonian = { kind = "power", q = 1.5 }
initial = "1 + 0*x"
terminal = { profile = "quadratic", center = 0.5, weight = 2.0 }
[coupling]
linear = [[0.0, 1.0], [1.0, 0.0]]
log = [0.1, 0.2]
"#;

    #[test]
    fn minimal_config_builds() {
        let c = Config::from_toml_str(MINIMAL).unwrap();
        let (p, s) = c.build().unwrap();
        assert_eq!(p.k(), 2);
        assert_eq!(p.grid().len(), 21);
        assert_eq!(s.stopping.max_iterations, 500);
        let x = p.grid().point(3)[0];
        assert!((p.populations()[0].potential()[3] - x * x).abs() < 1e-15);
        assert!((p.populations()[1].terminal()[3] - (x - 0.5).powi(2)).abs() < 1e-14);
    }

    #[test]
    fn expressions_use_conventional_precedence() {
        // exmex alone reads -(x-0.3)^2 as +(x-0.3)^2 and rejects 2e-2: both are handled.
        let text = MINIMAL.replace(
            "potential = \"x^2\"",
            "potential = \"exp(-(x-0.3)^2/2e-2)\"",
        );
        let (p, _) = Config::from_toml_str(&text).unwrap().build().unwrap();
        let v = &p.populations()[0].potential();
        let (imax, _) = v
            .iter()
            .enumerate()
            .fold((0, f64::MIN), |a, (i, &x)| if x > a.1 { (i, x) } else { a });
        assert!((p.grid().point(imax)[0] - 0.3).abs() < 0.1);
        assert!(v.iter().all(|&x| x <= 1.0));
    }

    #[test]
    fn unknown_key_is_named() {
        let bad = MINIMAL.replace("sigma = 0.2", "sigma = 0.2\nsgima = 1");
        let e = Config::from_toml_str(&bad).unwrap_err().to_string();
        assert!(e.contains("sgima"), "{e}");
        let bad = MINIMAL.replace("q = 1.5", "q = 1.5, exponent = 2");
        let e = Config::from_toml_str(&bad).unwrap_err().to_string();
        assert!(e.contains("exponent"), "{e}");
        let bad = MINIMAL.replace("std = 0.2", "std = 0.2, widht = 1");
        let e = Config::from_toml_str(&bad).unwrap_err().to_string();
        assert!(e.contains("widht"), "{e}");
    }

    #[test]
    fn linear_solver_key() {
        let (_, s) = Config::from_toml_str(MINIMAL).unwrap().build().unwrap();
        assert_eq!(s.hjb.linear_solver, StepSolverKind::Auto);
        let direct = format!("{MINIMAL}[solver]\nlinear_solver = \"direct\"\n");
        let (_, s) = Config::from_toml_str(&direct).unwrap().build().unwrap();
        assert_eq!(s.hjb.linear_solver, StepSolverKind::Direct);
        let bad = format!("{MINIMAL}[solver]\nlinear_solver = \"gauss\"\n");
        let e = Config::from_toml_str(&bad).unwrap_err().to_string();
        assert!(e.contains("linear_solver") && e.contains("gauss"), "{e}");
        assert_eq!(
            "iterative".parse::<StepSolverKind>().unwrap(),
            StepSolverKind::Iterative
        );
        let e = "lu".parse::<StepSolverKind>().unwrap_err().to_string();
        assert!(e.contains("solver.linear_solver"), "{e}");
    }

    #[test]
    fn every_method_is_selectable() {
        for (name, want) in [
            ("picard", "picard"),
            ("fictitious-play", "fictitious-play"),
            ("anderson", "anderson"),
            ("newton", "newton"),
        ] {
            let text = MINIMAL.to_string() + &format!("[solver]\nmethod = \"{name}\"\n");
            let (p, s) = Config::from_toml_str(&text).unwrap().build().unwrap();
            assert_eq!(s.build(&p).unwrap().name(), want);
            let m: MethodName = name.parse().unwrap();
            assert_eq!(m, Config::from_toml_str(&text).unwrap().spec.solver.method);
        }
        let e = "gauss-newton"
            .parse::<MethodName>()
            .unwrap_err()
            .to_string();
        assert!(e.contains("solver.method"), "{e}");
    }

    #[test]
    fn newton_and_anderson_keys_are_checked() {
        let text = MINIMAL.to_string()
            + "[solver]\nmethod = \"newton\"\nnewton_solver = \"krylov\"\nwarm_start = 2\n\
               fallback = \"picard\"\ndensity_update = \"log\"\nordering = \"node-interleaved\"\n";
        let (_, s) = Config::from_toml_str(&text).unwrap().build().unwrap();
        match s.method {
            MethodKind::Newton(n) => {
                assert_eq!(n.linear_solver, NewtonSolverKind::Krylov);
                assert_eq!(n.warm_start, Some(2));
                assert_eq!(n.fallback, Fallback::Picard);
                assert_eq!(n.density_update, DensityUpdate::Log);
                assert_eq!(n.ordering, Ordering::NodeInterleaved);
            }
            other => panic!("{other:?}"),
        }
        // A Newton key with another method names the key.
        let text = MINIMAL.to_string() + "[solver]\nmethod = \"anderson\"\nwarm_start = 2\n";
        let e = Config::from_toml_str(&text)
            .unwrap()
            .build()
            .unwrap_err()
            .to_string();
        assert!(e.contains("solver.warm_start"), "{e}");
        // Bad values name the key.
        let text = MINIMAL.to_string() + "[solver]\nmethod = \"newton\"\nnewton_solver = \"lu\"\n";
        let e = Config::from_toml_str(&text).unwrap_err().to_string();
        assert!(e.contains("newton_solver") || e.contains("lu"), "{e}");
        let text = MINIMAL.to_string() + "[solver]\nmethod = \"anderson\"\nanderson_mixing = 1.5\n";
        let e = Config::from_toml_str(&text)
            .unwrap()
            .build()
            .unwrap_err()
            .to_string();
        assert!(e.contains("solver.anderson_mixing"), "{e}");
        let text = MINIMAL.to_string() + "[solver]\nmethod = \"newton\"\ngmres_restart = 0\n";
        let e = Config::from_toml_str(&text)
            .unwrap()
            .build()
            .unwrap_err()
            .to_string();
        assert!(e.contains("solver.gmres_restart"), "{e}");
    }

    #[test]
    fn yaml_loads_the_same_schema() {
        let yaml = r#"
grid:
  x: { min: -1.0, max: 1.0, n: 21 }
time: { horizon: 0.5, steps: 10 }
population:
  - name: a
    sigma: 0.2
    initial: { profile: gaussian, mean: 0.0, std: 0.2 }
    potential: "x^2"
"#;
        let c = Config::parse(yaml, Format::Yaml, Path::new("t.yaml")).unwrap();
        let (p, _) = c.build().unwrap();
        assert_eq!(p.k(), 1);
    }

    #[test]
    fn bad_variable_and_nan_are_named() {
        let bad = MINIMAL.replace("potential = \"x^2\"", "potential = \"z^2\"");
        let e = Config::from_toml_str(&bad)
            .unwrap()
            .build()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("population[0].potential") && e.contains("\"z\""),
            "{e}"
        );
        let bad = MINIMAL.replace("potential = \"x^2\"", "potential = \"sqrt(x)\"");
        let e = Config::from_toml_str(&bad)
            .unwrap()
            .build()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("population[0].potential") && e.contains("NaN"),
            "{e}"
        );
    }
}
