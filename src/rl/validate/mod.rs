//! Validation of a policy profile against the PDE solution of its problem (RL.md §4), the
//! library side of `mfg validate`: the game of the problem ([`crate::rl::pde::PdeGame`]: the
//! Kushner–Dupuis chain P = I + Δt Q(α) on the grid, one velocity set A^k per population,
//! rewards r = −(L^k + f^k + V^k)Δt), a policy π^k_t(a | s) from one of three sources (an exact
//! algorithm run here, the PDE's own feedback α* projected on the velocity sets, or a policy
//! imported from a file), and per population
//!
//! - the exploitability μ0^k · (V^{k,BR}_0 − V^{k,π}_0) against the flow μ^π of the profile;
//! - sup_t ‖μ^{π,k}_t − μ^{ref,k}_t‖_1, sup_t W1 (1D), the mean-velocity error
//!   (Σ_t Δt Σ_s μ^{ref}_t(s) |ᾱ^π_t(s) − α^{ref}_t(s)|²)^{1/2} and the value error
//!   μ0 · (V^π_0 − V^{ref}_0),
//!
//! measured twice: against the PDE solution (μ^ref = m* h^d, V^ref = −u*(0), α^ref = α*), and
//! against the game's own equilibrium computed here to a tolerance. The first distance is
//! learning plus discretisation error, the second the learning error alone.
//!
//! [`Thresholds`] turn the metrics into a pass/fail verdict (the exit code of the command).

mod import;
mod settings;
mod spec;
mod thresholds;

pub use import::{Imported, ImportedFile, ImportedPolicy};
pub use settings::{
    AlgorithmKind, AlgorithmSettings, EquilibriumMethod, EquilibriumSettings, Settings,
    DEFAULT_BOLTZMANN_DAMPING, DEFAULT_FIXED_POINT_DAMPING, DEFAULT_ITERATIONS, DEFAULT_LR_DT,
    DEFAULT_TEMPERATURE_DT,
};
pub use spec::{parse_velocities, EquilibriumSpec, RlSpec, ThresholdSpec, VelocityOverride};
pub use thresholds::{Check, Thresholds};

use super::algorithms::{run, run_to_tolerance, Record};
use super::exact::assess;
use super::metrics::{
    cross_validate, mean_velocities, pde_layout, pde_reference, policy_reference, CrossValidation,
};
use super::pde::{policy_from_solution, PdeGame, PdeGameSettings, VelocitySet};
use super::policy::{Flow, Policy};
use super::Game;
use crate::error::{Error, Result};
use crate::problem::Problem;
use crate::solve::Solution;
use std::time::Instant;

/// Where the policy comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum PolicySource {
    /// An exact algorithm run on the game.
    Algorithm(AlgorithmSettings),
    /// The PDE's feedback α*(t, x), projected on each velocity set.
    Pde,
    /// A policy file (tabular π or feedback α per population).
    Imported(ImportedFile),
}

/// One point of an exploitability curve.
#[derive(Debug, Clone, PartialEq)]
pub struct CurvePoint {
    /// Iterations done.
    pub iteration: usize,
    /// Wall time of the iterations so far (without the exploitability measurements).
    pub seconds: f64,
    /// Σ_k exploitability.
    pub exploitability: f64,
    /// Per population.
    pub per_population: Vec<f64>,
}

fn curve(records: &[Record]) -> Vec<CurvePoint> {
    let mut seconds = 0.0;
    records
        .iter()
        .map(|r| {
            seconds += r.seconds;
            CurvePoint {
                iteration: r.iteration,
                seconds,
                exploitability: r.exploitability,
                per_population: r.per_population.clone(),
            }
        })
        .collect()
}

/// The game's equilibrium as found.
#[derive(Debug, Clone, PartialEq)]
pub struct Equilibrium {
    /// The algorithm and its parameters.
    pub method: String,
    /// The relative exploitability it was run to.
    pub tolerance: f64,
    /// Iterations run.
    pub iterations: usize,
    /// Σ_k exploitability reached.
    pub exploitability: f64,
    /// The same relative to the value scale max_k |μ0^k · V^{k,π}_0|.
    pub relative: f64,
    /// Whether the relative exploitability reached the tolerance.
    pub reached: bool,
    /// Exploitability every `every` iterations.
    pub curve: Vec<CurvePoint>,
    /// The equilibrium profile found.
    pub policy: Policy,
    /// Its flow.
    pub flow: Flow,
    /// Mean velocity ᾱ_t(s) per population (N × S × d).
    pub mean_velocity: Vec<Vec<f64>>,
    /// Wall time of the run, measurements included.
    pub seconds: f64,
}

/// The game the policy was checked on.
#[derive(Debug, Clone, PartialEq)]
pub struct GameInfo {
    /// Decision steps N.
    pub steps: usize,
    /// Their length Δt = T/N.
    pub dt: f64,
    /// Space dimension d.
    pub dim: usize,
    /// Velocity of every action, per population.
    pub velocities: Vec<Vec<[f64; 2]>>,
    /// Δt · max|Q_ii| per population.
    pub cfl: Vec<f64>,
}

/// Everything `mfg validate` reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Validation {
    /// Population names, in the problem's order.
    pub names: Vec<String>,
    /// Where the policy came from, e.g. `mirror-descent (learning rate …), 200 iterations`.
    pub source: String,
    /// The game the policy was checked on.
    pub game: GameInfo,
    /// The policy checked.
    pub policy: Policy,
    /// The flow μ^π of the policy.
    pub flow: Flow,
    /// The PDE flow m* h^d at the game's times.
    pub pde_flow: Flow,
    /// Mean velocity ᾱ^π_t(s) = Σ_a π_t(a|s) a of the policy at the game's steps, per
    /// population (N × S × d).
    pub mean_velocity: Vec<Vec<f64>>,
    /// α*_t(s) of the PDE at the game's steps, per population (N × S × d).
    pub pde_velocity: Vec<Vec<f64>>,
    /// Σ_k exploitability.
    pub exploitability: f64,
    /// The value scale max_k |μ0^k · V^{k,π}_0|.
    pub value_scale: f64,
    /// Σ_k exploitability over the value scale.
    pub relative_exploitability: f64,
    /// μ0^k · V^{k,π}_0 per population.
    pub values: Vec<f64>,
    /// The metrics against the PDE and against the equilibrium.
    pub metrics: CrossValidation,
    /// Exploitability after every iteration of the algorithm (empty for other sources).
    pub curve: Vec<CurvePoint>,
    /// The game's own equilibrium (`None` when not asked for).
    pub equilibrium: Option<Equilibrium>,
    /// Remarks: defaults chosen, feedback values clamped to a velocity set, …
    pub notes: Vec<String>,
    /// Wall time of the policy (the algorithm run or the import).
    pub policy_seconds: f64,
    /// Wall time of the metrics.
    pub metrics_seconds: f64,
}

/// Fraction of each level's largest density above which a node counts as occupied when the
/// default velocity range is taken from α*.
const OCCUPIED: f64 = 1e-3;
/// Default number of velocities per axis (1D, 2D).
pub const DEFAULT_VELOCITIES: [usize; 2] = [33, 9];

/// The default velocity set of population k: per axis, [DEFAULT_VELOCITIES] values evenly spread
/// on [−a, a], with a = 1.1 max |α*_axis| over the nodes the population occupies (density at
/// least 10⁻³ of its largest value at that time) rounded up to two significant digits; an axis
/// along which α* vanishes gets the single velocity 0.
pub fn default_velocities(problem: &Problem, solution: &Solution, k: usize) -> VelocitySet {
    let d = problem.grid().dim();
    let c = solution.controls(problem, k);
    let m = &solution.iterate.m[k];
    let nt = problem.time().nt;
    let range = |axis: usize| -> f64 {
        let mut a: f64 = 0.0;
        for n in 0..nt {
            let (mu, al) = (m.level(n), c[axis].level(n));
            let top = mu.iter().cloned().fold(0.0, f64::max);
            for (v, w) in al.iter().zip(mu) {
                if *w >= OCCUPIED * top && v.is_finite() {
                    a = a.max(v.abs());
                }
            }
        }
        round_up(1.1 * a)
    };
    let n = DEFAULT_VELOCITIES[d - 1];
    let axis = |a: f64| {
        if a > 0.0 {
            VelocitySet::uniform_axis(-a, a, n)
        } else {
            vec![0.0]
        }
    };
    let x = axis(range(0));
    let y = if d > 1 { axis(range(1)) } else { vec![0.0] };
    VelocitySet::product(x, y).expect("increasing finite axes")
}

/// `v` rounded up to two significant digits.
fn round_up(v: f64) -> f64 {
    if !(v.is_finite() && v > 0.0) {
        return 0.0;
    }
    // Dividing by 10^-e rather than multiplying by 10^e keeps 0.013 exactly the literal 0.013.
    let e = v.log10().floor() as i32 - 1;
    if e >= 0 {
        (v / 10f64.powi(e)).ceil() * 10f64.powi(e)
    } else {
        (v * 10f64.powi(-e)).ceil() / 10f64.powi(-e)
    }
}

/// Builds the game, the policy and every metric (see the module documentation).
pub fn validate(
    problem: &Problem,
    solution: &Solution,
    settings: &Settings,
    source: &PolicySource,
) -> Result<Validation> {
    solution.iterate.check_shape(problem)?;
    let k_n = problem.k();
    if settings.velocities.len() != k_n {
        return Err(Error::invalid(
            "rl.velocities",
            format!(
                "{} velocity sets for {k_n} populations",
                settings.velocities.len()
            ),
        ));
    }
    let names = problem.names();
    let mut notes = Vec::new();
    let file = match source {
        PolicySource::Imported(f) => Some(import::Resolved::new(f, problem, settings)?),
        _ => None,
    };

    // The game: velocity sets and steps (a tabular policy file fixes both for its populations).
    let mut velocities = Vec::with_capacity(k_n);
    for (k, (name, given)) in names.iter().zip(&settings.velocities).enumerate() {
        let v = match (file.as_ref().and_then(|f| f.velocities(k)), given) {
            (Some(v), _) => v.clone(),
            (None, Some(v)) => v.clone(),
            (None, None) => {
                let v = default_velocities(problem, solution, k);
                notes.push(format!(
                    "velocities of {}: {} (default: 1.1 max |α*| where it is, rounded up)",
                    name,
                    describe_velocities(&v, problem.grid().dim())
                ));
                v
            }
        };
        velocities.push(v);
    }
    let steps = match file.as_ref().and_then(|f| f.steps()) {
        Some(n) => Some(n),
        None => settings.steps,
    };
    let game_settings = PdeGameSettings {
        velocities,
        steps,
        cfl: settings.cfl,
    };
    let game = PdeGame::new(problem, &game_settings).map_err(|e| match &file {
        Some(f) => f.explain_game_error(e),
        None => e,
    })?;
    let layout = pde_layout(&game);

    // The policy.
    let t0 = Instant::now();
    let mut records = Vec::new();
    let (policy, source_text) = match source {
        PolicySource::Algorithm(a) => {
            let (mut algo, text) = a.build(&game, game.dt())?;
            records = run(&game, algo.as_mut(), a.iterations)?;
            (
                algo.policy().clone(),
                format!("{text}, {} iterations", a.iterations),
            )
        }
        PolicySource::Pde => (
            policy_from_solution(&game, solution)?,
            "the PDE feedback α* projected on the velocity sets".to_string(),
        ),
        PolicySource::Imported(_) => {
            let f = file.as_ref().expect("resolved above");
            let (policy, more) = f.policy(&game)?;
            notes.extend(more);
            (policy, f.describe())
        }
    };
    let policy_seconds = t0.elapsed().as_secs_f64();

    // The game's equilibrium.
    let equilibrium = equilibrium(&game, &layout, settings, source)?;

    // The metrics.
    let t0 = Instant::now();
    let reference = pde_reference(&game, solution)?;
    let eq_reference = equilibrium
        .as_ref()
        .map(|e| policy_reference(&game, &e.policy, &layout))
        .transpose()?;
    let metrics = cross_validate(&game, &policy, &layout, &reference, eq_reference.as_ref())?;
    let a = assess(&game, &policy)?;
    let mean_velocity = mean_velocities(&game, &policy, &layout).expect("velocity game");
    let metrics_seconds = t0.elapsed().as_secs_f64();
    if let Some(e) = equilibrium.as_ref().filter(|e| !e.reached) {
        notes.push(format!(
            "the equilibrium run stopped at relative exploitability {:.3e} after {} iterations, \
             above its tolerance {:.1e}: the metrics against it include its own learning error",
            e.relative, e.iterations, e.tolerance
        ));
    }
    let game_info = GameInfo {
        steps: game.horizon(),
        dt: game.dt(),
        dim: problem.grid().dim(),
        velocities: (0..k_n)
            .map(|k| game.velocities(k).velocities().to_vec())
            .collect(),
        cfl: (0..k_n).map(|k| game.cfl_number(k)).collect(),
    };
    Ok(Validation {
        names,
        source: source_text,
        game: game_info,
        values: a.populations.iter().map(|p| p.value).collect(),
        exploitability: a.total(),
        value_scale: a.value_scale(),
        relative_exploitability: a.relative(),
        pde_flow: reference.flow,
        pde_velocity: reference.controls.expect("the PDE reference has controls"),
        flow: a.flow,
        policy,
        mean_velocity,
        metrics,
        curve: curve(&records),
        equilibrium,
        notes,
        policy_seconds,
        metrics_seconds,
    })
}

/// "33 values on [−4.4, 4.4]" (per axis in 2D), or the count for explicit lists.
pub fn describe_velocities(v: &VelocitySet, dim: usize) -> String {
    let axis = |a: usize| -> String {
        let mut vals: Vec<f64> = v.velocities().iter().map(|w| w[a]).collect();
        vals.sort_by(f64::total_cmp);
        vals.dedup();
        match vals.len() {
            1 => format!("{{{}}}", vals[0]),
            n => format!("{n} values on [{}, {}]", vals[0], vals[n - 1]),
        }
    };
    if dim == 1 {
        axis(0)
    } else {
        format!("x: {}, y: {} ({} actions)", axis(0), axis(1), v.len())
    }
}

fn equilibrium(
    game: &PdeGame,
    layout: &super::metrics::Layout,
    settings: &Settings,
    source: &PolicySource,
) -> Result<Option<Equilibrium>> {
    let e = &settings.equilibrium;
    let omd = |lr: Option<f64>| AlgorithmSettings {
        learning_rate: lr,
        ..AlgorithmSettings::new(AlgorithmKind::MirrorDescent)
    };
    let algo = match (e.method, source) {
        (EquilibriumMethod::None, _) => return Ok(None),
        (EquilibriumMethod::Algorithm, PolicySource::Algorithm(a)) => a.clone(),
        (_, PolicySource::Algorithm(a)) if a.kind == AlgorithmKind::MirrorDescent => {
            omd(a.learning_rate)
        }
        _ => omd(None),
    };
    let (mut run, method) = algo.build(game, game.dt())?;
    let t0 = Instant::now();
    let r = run_to_tolerance(game, run.as_mut(), e.tolerance, e.every, e.max_iterations)?;
    let seconds = t0.elapsed().as_secs_f64();
    let policy = run.policy().clone();
    let a = assess(game, &policy)?;
    Ok(Some(Equilibrium {
        method,
        tolerance: e.tolerance,
        iterations: r.iterations,
        exploitability: a.total(),
        relative: r.relative,
        reached: r.reached,
        curve: curve(&r.records),
        mean_velocity: mean_velocities(game, &policy, layout).expect("velocity game"),
        policy,
        flow: a.flow,
        seconds,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_up_keeps_two_digits() {
        assert_eq!(round_up(3.872 * 1.1), 4.3);
        assert_eq!(round_up(0.01234), 0.013);
        assert_eq!(round_up(0.0), 0.0);
        assert!((round_up(123.0) - 130.0).abs() < 1e-12);
    }
}
