//! The settings of a validation: the exact algorithm that learns the policy (its kind and
//! parameters, with defaults scaled by the game step Δt, since the PDE game's rewards
//! r = −cost·Δt scale with it), how the game's own equilibrium is computed, and the game itself
//! (velocity sets A^k, steps N or the fraction of the CFL bound).

use crate::error::{Error, Result};
use crate::rl::algorithms::{
    Algorithm, BoltzmannIteration, DampedFixedPoint, FictitiousPlay, MirrorDescent,
};
use crate::rl::pde::VelocitySet;
use crate::rl::Game;
use std::str::FromStr;
/// The exact algorithms `mfg validate` can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlgorithmKind {
    /// [`FictitiousPlay`] (`fp`).
    FictitiousPlay,
    /// [`MirrorDescent`] (`omd`).
    MirrorDescent,
    /// [`DampedFixedPoint`] (`fixed-point`).
    FixedPoint,
    /// [`BoltzmannIteration`] (`boltzmann`).
    Boltzmann,
}

impl AlgorithmKind {
    /// The accepted names, for messages.
    pub const NAMES: &'static str = "fp (fictitious-play), omd (mirror-descent), fixed-point \
                                     (damped-fixed-point), boltzmann (boltzmann-iteration)";

    /// The long name, as the algorithm reports it.
    pub fn as_str(self) -> &'static str {
        match self {
            AlgorithmKind::FictitiousPlay => "fictitious-play",
            AlgorithmKind::MirrorDescent => "mirror-descent",
            AlgorithmKind::FixedPoint => "damped-fixed-point",
            AlgorithmKind::Boltzmann => "boltzmann-iteration",
        }
    }
}

impl FromStr for AlgorithmKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "fp" | "fictitious-play" => AlgorithmKind::FictitiousPlay,
            "omd" | "mirror-descent" => AlgorithmKind::MirrorDescent,
            "fixed-point" | "damped-fixed-point" => AlgorithmKind::FixedPoint,
            "boltzmann" | "boltzmann-iteration" => AlgorithmKind::Boltzmann,
            other => {
                return Err(Error::invalid(
                    "rl.algorithm",
                    format!("unknown algorithm {other:?}; one of {}", Self::NAMES),
                ))
            }
        })
    }
}

/// Mirror descent's default learning rate is this over Δt: the PDE game's rewards, and so the
/// gaps between the Q-values of two actions, scale with Δt.
pub const DEFAULT_LR_DT: f64 = 30.0;
/// Default temperature of the Boltzmann iteration, times Δt.
pub const DEFAULT_TEMPERATURE_DT: f64 = 0.01;
/// Default damping θ of the damped fixed point.
pub const DEFAULT_FIXED_POINT_DAMPING: f64 = 0.1;
/// Default damping θ of the Boltzmann iteration.
pub const DEFAULT_BOLTZMANN_DAMPING: f64 = 0.5;
/// Default number of iterations of an algorithm run.
pub const DEFAULT_ITERATIONS: usize = 200;

/// An algorithm with its parameters; `None` takes the defaults above.
#[derive(Debug, Clone, PartialEq)]
pub struct AlgorithmSettings {
    /// Which algorithm.
    pub kind: AlgorithmKind,
    /// Iterations to run.
    pub iterations: usize,
    /// Mirror descent's learning rate (default [`DEFAULT_LR_DT`]/Δt), or fictitious play's fixed
    /// mixing weight (default 1/(n+1)).
    pub learning_rate: Option<f64>,
    /// θ of the damped fixed point and the Boltzmann iteration.
    pub damping: Option<f64>,
    /// τ of the Boltzmann iteration (default [`DEFAULT_TEMPERATURE_DT`]·Δt), or of the damped
    /// fixed point's softmax best response (default: the greedy one).
    pub temperature: Option<f64>,
}

impl AlgorithmSettings {
    /// `kind` with its defaults and [`DEFAULT_ITERATIONS`].
    pub fn new(kind: AlgorithmKind) -> Self {
        AlgorithmSettings {
            kind,
            iterations: DEFAULT_ITERATIONS,
            learning_rate: None,
            damping: None,
            temperature: None,
        }
    }

    /// The algorithm on `game` (of step `dt`) and a description with every parameter's value.
    /// A parameter the algorithm does not take is an error naming it.
    pub fn build(&self, game: &dyn Game, dt: f64) -> Result<(Box<dyn Algorithm>, String)> {
        let unused = |name: &str, takes: &str| -> Result<()> {
            Err(Error::invalid(
                format!("rl.{name}"),
                format!("{} does not take it ({takes})", self.kind.as_str()),
            ))
        };
        let name = self.kind.as_str();
        Ok(match self.kind {
            AlgorithmKind::FictitiousPlay => {
                let takes = "it takes learning_rate, a fixed mixing weight in (0, 1]";
                if self.damping.is_some() {
                    unused("damping", takes)?;
                }
                if self.temperature.is_some() {
                    unused("temperature", takes)?;
                }
                match self.learning_rate {
                    None => (
                        Box::new(FictitiousPlay::new(game)) as Box<dyn Algorithm>,
                        format!("{name} (weight 1/(n+1))"),
                    ),
                    Some(w) => (
                        Box::new(FictitiousPlay::with_learning_rate(game, w)?),
                        format!("{name} (fixed weight {w})"),
                    ),
                }
            }
            AlgorithmKind::MirrorDescent => {
                let takes = "it takes learning_rate";
                if self.damping.is_some() {
                    unused("damping", takes)?;
                }
                if self.temperature.is_some() {
                    unused("temperature", takes)?;
                }
                let lr = self.learning_rate.unwrap_or(DEFAULT_LR_DT / dt);
                (
                    Box::new(MirrorDescent::new(game, lr)?),
                    format!("{name} (learning rate {lr:.4e} = {:.4}/Δt)", lr * dt),
                )
            }
            AlgorithmKind::FixedPoint => {
                if self.learning_rate.is_some() {
                    unused("learning_rate", "it takes damping and temperature")?;
                }
                let theta = self.damping.unwrap_or(DEFAULT_FIXED_POINT_DAMPING);
                match self.temperature {
                    None => (
                        Box::new(DampedFixedPoint::new(game, theta)?),
                        format!("{name} (damping {theta}, greedy best response)"),
                    ),
                    Some(tau) => (
                        Box::new(DampedFixedPoint::with_temperature(game, theta, tau)?),
                        format!("{name} (damping {theta}, softmax best response, τ = {tau:.4e})"),
                    ),
                }
            }
            AlgorithmKind::Boltzmann => {
                if self.learning_rate.is_some() {
                    unused("learning_rate", "it takes damping and temperature")?;
                }
                let theta = self.damping.unwrap_or(DEFAULT_BOLTZMANN_DAMPING);
                let tau = self.temperature.unwrap_or(DEFAULT_TEMPERATURE_DT * dt);
                (
                    Box::new(BoltzmannIteration::new(game, tau, theta)?),
                    format!(
                        "{name} (temperature {tau:.4e} = {:.4}·Δt, damping {theta})",
                        tau / dt
                    ),
                )
            }
        })
    }
}

/// How the game's own equilibrium (the reference that isolates the learning error) is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EquilibriumMethod {
    /// Mirror descent (learning rate [`DEFAULT_LR_DT`]/Δt, or the run's own when it is mirror
    /// descent): the fastest of the exact algorithms on monotone games.
    MirrorDescent,
    /// The algorithm of the policy source, with its parameters (mirror descent when the policy
    /// is not learnt here).
    Algorithm,
    /// No equilibrium: only the metrics against the PDE are reported.
    None,
}

impl FromStr for EquilibriumMethod {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "omd" | "mirror-descent" => EquilibriumMethod::MirrorDescent,
            "algorithm" | "algo" => EquilibriumMethod::Algorithm,
            "none" => EquilibriumMethod::None,
            other => {
                return Err(Error::invalid(
                    "rl.equilibrium.method",
                    format!("unknown method {other:?}; one of omd, algorithm, none"),
                ))
            }
        })
    }
}

/// The equilibrium run: until the relative exploitability is at most `tolerance` (measured every
/// `every` iterations), at most `max_iterations`.
#[derive(Debug, Clone, PartialEq)]
pub struct EquilibriumSettings {
    /// Which algorithm finds it.
    pub method: EquilibriumMethod,
    /// Relative exploitability to reach.
    pub tolerance: f64,
    /// At most this many iterations.
    pub max_iterations: usize,
    /// Exploitability measured every this many iterations.
    pub every: usize,
}

impl Default for EquilibriumSettings {
    fn default() -> Self {
        EquilibriumSettings {
            method: EquilibriumMethod::MirrorDescent,
            tolerance: 1e-6,
            max_iterations: 2000,
            every: 25,
        }
    }
}

/// The game and the reference: per population a velocity set (`None`: chosen from the PDE
/// solution, see [`super::default_velocities`]), the game steps N (`None`: the CFL bound scaled by
/// `cfl`), and the equilibrium run.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Velocity set per population (`None`: [`super::default_velocities`]).
    pub velocities: Vec<Option<VelocitySet>>,
    /// Game steps N (`None`: the smallest N meeting `cfl` × the CFL bound).
    pub steps: Option<usize>,
    /// Fraction of the CFL bound, in (0, 1].
    pub cfl: f64,
    /// The run that finds the game's own equilibrium.
    pub equilibrium: EquilibriumSettings,
}

impl Settings {
    /// Defaults for a problem of `k` populations.
    pub fn new(k: usize) -> Self {
        Settings {
            velocities: vec![None; k],
            steps: None,
            cfl: 1.0,
            equilibrium: EquilibriumSettings::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_names_and_unused_parameters() {
        assert_eq!(
            "omd".parse::<AlgorithmKind>().unwrap(),
            AlgorithmKind::MirrorDescent
        );
        assert_eq!(
            "fictitious-play".parse::<AlgorithmKind>().unwrap(),
            AlgorithmKind::FictitiousPlay
        );
        let e = "sgd".parse::<AlgorithmKind>().unwrap_err().to_string();
        assert!(
            e.contains("rl.algorithm") && e.contains("fixed-point"),
            "{e}"
        );
        let g = crate::rl::benchmarks::CrowdModelling::default();
        let mut a = AlgorithmSettings::new(AlgorithmKind::MirrorDescent);
        a.damping = Some(0.5);
        let e = a.build(&g, 1.0).err().unwrap().to_string();
        assert!(
            e.contains("rl.damping") && e.contains("learning_rate"),
            "{e}"
        );
        let mut a = AlgorithmSettings::new(AlgorithmKind::Boltzmann);
        a.learning_rate = Some(0.5);
        assert!(a.build(&g, 1.0).is_err());
        let (_, text) = AlgorithmSettings::new(AlgorithmKind::MirrorDescent)
            .build(&g, 0.5)
            .unwrap();
        assert!(text.contains("30.0000/Δt"), "{text}");
    }
}
