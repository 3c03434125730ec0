//! `[solver]`: which outer method solves the coupled HJB–FP system (MATH.md §3), when it stops,
//! and one table per method, so that every key has one meaning and serde itself rejects a key
//! written in the wrong table:
//!
//! - `method`: `auto` (the default: Newton or adaptive Picard from the problem's sizes, switching
//!   to the other when it fails), `picard`, `fictitious-play`, `anderson` or `newton`;
//! - `[solver.picard]`: θ of the damped Picard update m ← (1−θ) m + θ m_BR, a number in (0, 1]
//!   or `"adaptive"` (the default: θ halved when the residual grows or m oscillates, grown back
//!   after successful steps); fictitious play, θ_n = 1/(n+1), has no parameter;
//! - `[solver.anderson]`: depth and mixing β of Anderson acceleration on u, θ of its density
//!   update;
//! - `[solver.newton]`: Newton's method on the whole space-time system: its linear solver and
//!   preconditioner, line search, warm start and fallback;
//! - `[solver.hjb]`: the Newton (policy) iteration of each implicit HJB step;
//! - `[solver.linear]`: the linear solves of the implicit time steps, I/Δt − Q and its
//!   transpose.
//!
//! Defaults are those of the library's settings types ([`Stopping`], [`HjbSettings`],
//! [`AndersonSettings`], [`NewtonSettings`]). A table of a method other than the selected one
//! is kept — it configures that method when `method` is switched, e.g. by
//! `mfg solve --method` — and reported by [`SolverSpec::notes`]. The flat keys of earlier
//! versions (`[solver] gmres_restart = 40`) are errors that say where each key moved.

use crate::error::{Error, Result};
use crate::scheme::{HjbSettings, StepSolverKind};
use crate::solve::newton::{DensityUpdate, Fallback, NewtonSolverKind};
use crate::solve::spacetime::{Ordering, Preconditioner};
use crate::solve::{
    AndersonSettings, AutoSettings, MethodKind, NewtonSettings, Relaxation, SolverSettings,
    Stopping, UChange,
};
use serde::de::{self, DeserializeSeed, MapAccess};
use serde::{Deserialize, Deserializer, Serialize};

/// `[solver]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SolverSpec {
    /// The outer method.
    pub method: MethodName,
    /// Iteration cap.
    pub max_iterations: usize,
    /// Tolerance of max_k ‖Δu‖∞.
    pub tol_u: f64,
    /// Tolerance of max_k max_n ‖Δm‖_{L1}.
    pub tol_m: f64,
    /// Tolerance of the residual of the discrete system.
    pub tol_residual: f64,
    /// Which change of u `tol_u` bounds: `weighted` (by m, the default) or `max` (L∞).
    pub u_change: UChange,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// `[solver.picard]`.
    pub picard: Option<PicardSpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// `[solver.anderson]`.
    pub anderson: Option<AndersonSpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// `[solver.newton]`.
    pub newton: Option<NewtonSpec>,
    /// `[solver.hjb]`.
    pub hjb: HjbSpec,
    /// `[solver.linear]`.
    pub linear: LinearSpec,
    /// Memory a solve may use, e.g. `"8 GiB"`; absent: what the machine has available.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_limit: Option<String>,
}

impl Default for SolverSpec {
    fn default() -> Self {
        let s = Stopping::default();
        SolverSpec {
            method: MethodName::default(),
            max_iterations: s.max_iterations,
            tol_u: s.tol_u,
            tol_m: s.tol_m,
            tol_residual: s.tol_residual,
            u_change: s.u_change,
            picard: None,
            anderson: None,
            newton: None,
            hjb: HjbSpec::default(),
            linear: LinearSpec::default(),
            memory_limit: None,
        }
    }
}

/// Outer method names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MethodName {
    #[default]
    /// Newton or adaptive Picard, chosen from the problem's sizes, switching to the other when
    /// it fails.
    Auto,
    /// Damped Picard (best response, relaxed densities).
    Picard,
    /// Fictitious play (θ_n = 1/(n+1)).
    FictitiousPlay,
    /// Anderson-accelerated Picard.
    Anderson,
    /// Newton's method on the whole space-time system.
    Newton,
}

impl MethodName {
    /// Configuration spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MethodName::Auto => "auto",
            MethodName::Picard => "picard",
            MethodName::FictitiousPlay => "fictitious-play",
            MethodName::Anderson => "anderson",
            MethodName::Newton => "newton",
        }
    }

    /// Whether a run with this method uses the table `[solver.<table>]`.
    fn uses(self, table: MethodName) -> bool {
        self == table
            || (self == MethodName::Auto
                && matches!(table, MethodName::Picard | MethodName::Newton))
    }
}

impl std::str::FromStr for MethodName {
    type Err = Error;
    /// Parses the configuration spelling (`picard`, `fictitious-play`, …).
    fn from_str(s: &str) -> Result<Self> {
        use serde::de::IntoDeserializer;
        let de: de::value::StrDeserializer<'_, de::value::Error> = s.into_deserializer();
        MethodName::deserialize(de).map_err(|e| Error::invalid("solver.method", e.to_string()))
    }
}

/// `[solver.picard]`: damped Picard.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PicardSpec {
    /// θ ∈ (0, 1] of m ← (1−θ) m + θ m_BR, or `"adaptive"` (the default).
    pub relaxation: RelaxationSpec,
}

/// `relaxation = 0.5` or `relaxation = "adaptive"`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum RelaxationSpec {
    /// θ chosen from the residual's decrease ([`crate::solve::damping`]).
    #[default]
    Adaptive,
    /// A fixed θ.
    Fixed(f64),
}

impl RelaxationSpec {
    /// The library's relaxation.
    pub fn relaxation(self) -> Relaxation {
        match self {
            RelaxationSpec::Adaptive => Relaxation::Adaptive,
            RelaxationSpec::Fixed(t) => Relaxation::Fixed(t),
        }
    }
}

impl Serialize for RelaxationSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match *self {
            RelaxationSpec::Adaptive => s.serialize_str("adaptive"),
            RelaxationSpec::Fixed(t) => s.serialize_f64(t),
        }
    }
}

impl<'de> Deserialize<'de> for RelaxationSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = RelaxationSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a relaxation θ in (0, 1] or \"adaptive\"")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Self::Value, E> {
                Ok(RelaxationSpec::Fixed(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Self::Value, E> {
                Ok(RelaxationSpec::Fixed(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Self::Value, E> {
                Ok(RelaxationSpec::Fixed(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Self::Value, E> {
                if v == "adaptive" {
                    Ok(RelaxationSpec::Adaptive)
                } else {
                    Err(E::custom(format!(
                        "solver.picard.relaxation: {v:?} is neither a number θ in (0, 1] nor \
                         \"adaptive\""
                    )))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// `[solver.anderson]`: Anderson-accelerated Picard.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AndersonSpec {
    /// Number of past differences kept (default 5).
    pub depth: usize,
    /// Mixing β ∈ (0, 1] (default 1).
    pub mixing: f64,
    /// θ ∈ (0, 1] of the density update (default 1).
    pub relaxation: f64,
}

impl Default for AndersonSpec {
    fn default() -> Self {
        let d = AndersonSettings::default();
        AndersonSpec {
            depth: d.depth,
            mixing: d.mixing,
            relaxation: d.relaxation,
        }
    }
}

impl AndersonSpec {
    /// The settings this table describes (parameters it does not expose keep their defaults).
    pub fn settings(&self) -> AndersonSettings {
        AndersonSettings {
            depth: self.depth,
            mixing: self.mixing,
            relaxation: self.relaxation,
            ..AndersonSettings::default()
        }
    }
}

/// `[solver.newton]`: Newton's method on the whole space-time system (docs/newton.md).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewtonSpec {
    /// Linear solver of each Newton step: `auto` (GMRES, with the direct LU as fallback for
    /// small 1D systems), `direct` or `krylov`.
    pub linear_solver: NewtonSolverKind,
    /// Newton-Krylov: per-time-step solves of the preconditioner, `auto` (exact in 1D and on
    /// small 2D grids, multigrid above), `exact` or `multigrid`.
    pub preconditioner: Preconditioner,
    /// Newton-Krylov: GMRES basis size per Newton step.
    pub gmres_restart: usize,
    /// Newton-Krylov: GMRES iteration cap per Newton step.
    pub gmres_max_iterations: usize,
    /// Direct LU: `blocked`, `time-interleaved` (default) or `node-interleaved`.
    pub ordering: Ordering,
    /// `auto`: largest 1D system (unknowns) the direct LU takes over when GMRES fails.
    pub direct_max_unknowns: usize,
    /// Picard iterations before the first Newton step (absent: 0, or 3 for couplings singular
    /// at m = 0 such as log m).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warm_start: Option<usize>,
    /// θ of the warm-start Picard iterations (default 1).
    pub warm_relaxation: f64,
    /// `continuation` (default), `picard` or `none` when the line search fails.
    pub fallback: Fallback,
    /// Picard iterations of one Picard fallback.
    pub fallback_iterations: usize,
    /// θ of the Picard fallback iterations (default 0.5).
    pub fallback_relaxation: f64,
    /// Residual at which a continuation stage counts as solved.
    pub continuation_tol: f64,
    /// Halvings of the step before the line search gives up.
    pub line_search_halvings: usize,
    /// Steps the non-monotone line search looks back (1: monotone).
    pub nonmonotone_window: usize,
    /// `auto` (log m for log couplings), `linear` or `log` update of the densities.
    pub density_update: DensityUpdate,
}

impl Default for NewtonSpec {
    fn default() -> Self {
        let d = NewtonSettings::default();
        NewtonSpec {
            linear_solver: d.linear_solver,
            preconditioner: d.preconditioner,
            gmres_restart: d.gmres_restart,
            gmres_max_iterations: d.gmres_max_iterations,
            ordering: d.ordering,
            direct_max_unknowns: d.direct_max_unknowns,
            warm_start: d.warm_start,
            warm_relaxation: d.warm_relaxation,
            fallback: d.fallback,
            fallback_iterations: d.fallback_iterations,
            fallback_relaxation: d.picard_relaxation,
            continuation_tol: d.continuation_tol,
            line_search_halvings: d.max_halvings,
            nonmonotone_window: d.nonmonotone_window,
            density_update: d.density_update,
        }
    }
}

impl NewtonSpec {
    /// The settings this table describes (parameters it does not expose keep their defaults).
    pub fn settings(&self) -> NewtonSettings {
        NewtonSettings {
            linear_solver: self.linear_solver,
            preconditioner: self.preconditioner,
            gmres_restart: self.gmres_restart,
            gmres_max_iterations: self.gmres_max_iterations,
            ordering: self.ordering,
            direct_max_unknowns: self.direct_max_unknowns,
            warm_start: self.warm_start,
            warm_relaxation: self.warm_relaxation,
            fallback: self.fallback,
            fallback_iterations: self.fallback_iterations,
            picard_relaxation: self.fallback_relaxation,
            continuation_tol: self.continuation_tol,
            max_halvings: self.line_search_halvings,
            nonmonotone_window: self.nonmonotone_window,
            density_update: self.density_update,
            ..NewtonSettings::default()
        }
    }
}

/// `[solver.hjb]`: Newton (policy iteration) of each implicit HJB step, stopped when
/// Δt·|R|∞ ≤ tol·(1 + |u|∞).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HjbSpec {
    /// Tolerance of each HJB step's Newton iteration.
    pub tol: f64,
    /// Its iteration cap.
    pub max_iterations: usize,
}

impl Default for HjbSpec {
    fn default() -> Self {
        let d = HjbSettings::default();
        HjbSpec {
            tol: d.tol,
            max_iterations: d.max_iterations,
        }
    }
}

/// `[solver.linear]`: the linear solves of the implicit time steps (I/Δt − Q for the HJB
/// Newton steps, its transpose for FP).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinearSpec {
    /// `auto` (tridiagonal in 1D, iterative in 2D), `direct` or `iterative`.
    pub step_solver: StepSolverKind,
}

impl SolverSpec {
    /// The solver settings this section describes. Every method table given is checked, also
    /// one of another method: it is used as soon as `method` selects that method.
    pub fn build(&self) -> Result<SolverSettings> {
        for (v, name) in [
            (self.tol_u, "tol_u"),
            (self.tol_m, "tol_m"),
            (self.tol_residual, "tol_residual"),
            (self.hjb.tol, "hjb.tol"),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::invalid(
                    format!("solver.{name}"),
                    format!("{v}: a tolerance must be a positive number"),
                ));
            }
        }
        if self.hjb.max_iterations == 0 {
            return Err(Error::invalid(
                "solver.hjb.max_iterations",
                "must be at least 1",
            ));
        }
        let picard = self.picard.unwrap_or_default().relaxation.relaxation();
        picard.validate()?;
        let anderson = self.anderson.unwrap_or_default().settings();
        anderson.validate()?;
        let newton = self.newton.unwrap_or_default().settings();
        newton.validate()?;
        let method = match self.method {
            MethodName::Auto => MethodKind::Auto(AutoSettings {
                newton,
                picard,
                anderson,
            }),
            MethodName::Picard => MethodKind::Picard(picard),
            MethodName::FictitiousPlay => MethodKind::Picard(Relaxation::FictitiousPlay),
            MethodName::Anderson => MethodKind::Anderson(anderson),
            MethodName::Newton => MethodKind::Newton(newton),
        };
        let memory_limit = self
            .memory_limit
            .as_deref()
            .map(|t| crate::solve::budget::parse_bytes(t, "solver.memory_limit"))
            .transpose()?;
        Ok(SolverSettings {
            memory_limit,
            method,
            stopping: Stopping {
                max_iterations: self.max_iterations,
                tol_u: self.tol_u,
                tol_m: self.tol_m,
                tol_residual: self.tol_residual,
                u_change: self.u_change,
                ..Stopping::default()
            },
            hjb: HjbSettings {
                tol: self.hjb.tol,
                max_iterations: self.hjb.max_iterations,
                linear_solver: self.linear.step_solver,
            },
        })
    }

    /// One line for each method table that the selected method does not use.
    pub fn notes(&self) -> Vec<String> {
        [
            (MethodName::Picard, self.picard.is_some()),
            (MethodName::Anderson, self.anderson.is_some()),
            (MethodName::Newton, self.newton.is_some()),
        ]
        .into_iter()
        .filter(|&(table, given)| given && !self.method.uses(table))
        .map(|(table, _)| {
            let name = table.as_str();
            format!(
                "[solver.{name}] is not used by method = \"{}\" (it applies when method = \
                 \"{name}\", e.g. with --method {name})",
                self.method.as_str()
            )
        })
        .collect()
    }
}

/// The flat `[solver]` keys of earlier versions and where each one lives now.
const MOVED: [(&str, &str); 20] = [
    (
        "relaxation",
        "relaxation under [solver.picard] or [solver.anderson], or as fallback_relaxation \
         under [solver.newton] (the θ of Newton's Picard fallback)",
    ),
    ("hjb_tol", "tol under [solver.hjb]"),
    ("hjb_max_iterations", "max_iterations under [solver.hjb]"),
    ("linear_solver", "step_solver under [solver.linear]"),
    ("anderson_depth", "depth under [solver.anderson]"),
    ("anderson_mixing", "mixing under [solver.anderson]"),
    ("newton_solver", "linear_solver under [solver.newton]"),
    ("ordering", "ordering under [solver.newton]"),
    (
        "direct_max_unknowns",
        "direct_max_unknowns under [solver.newton]",
    ),
    ("preconditioner", "preconditioner under [solver.newton]"),
    ("gmres_restart", "gmres_restart under [solver.newton]"),
    (
        "gmres_max_iterations",
        "gmres_max_iterations under [solver.newton]",
    ),
    ("warm_start", "warm_start under [solver.newton]"),
    ("warm_relaxation", "warm_relaxation under [solver.newton]"),
    ("fallback", "fallback under [solver.newton]"),
    (
        "fallback_iterations",
        "fallback_iterations under [solver.newton]",
    ),
    ("continuation_tol", "continuation_tol under [solver.newton]"),
    (
        "line_search_halvings",
        "line_search_halvings under [solver.newton]",
    ),
    (
        "nonmonotone_window",
        "nonmonotone_window under [solver.newton]",
    ),
    ("density_update", "density_update under [solver.newton]"),
];

/// The message for an old flat `[solver]` key, if `key` is one.
fn moved(key: &str) -> Option<String> {
    MOVED
        .iter()
        .find(|(old, _)| *old == key)
        .map(|(old, new)| format!("solver.{old} has moved: write it as {new}"))
}

/// Deserializes the `[solver]` of a configuration file: as [`SolverSpec`]'s own
/// `Deserialize`, except that an old flat key is an error saying where it moved (serde's
/// message would only list the keys `[solver]` now accepts).
pub(super) fn deserialize_solver<'de, D: Deserializer<'de>>(
    de: D,
) -> std::result::Result<SolverSpec, D::Error> {
    struct Visitor;
    impl<'de> de::Visitor<'de> for Visitor {
        type Value = SolverSpec;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a [solver] table")
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> std::result::Result<SolverSpec, A::Error> {
            SolverSpec::deserialize(de::value::MapAccessDeserializer::new(MovedKeys(map)))
        }
    }
    de.deserialize_map(Visitor)
}

/// A map whose keys are checked against [`MOVED`] before the derived visitor sees them.
struct MovedKeys<A>(A);

impl<'de, A: MapAccess<'de>> MapAccess<'de> for MovedKeys<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> std::result::Result<Option<K::Value>, A::Error> {
        let Some(key) = self.0.next_key::<String>()? else {
            return Ok(None);
        };
        if let Some(message) = moved(&key) {
            // Refused while reading the value, so that TOML points at the key's line.
            return match self.0.next_value_seed(Refuse(message)) {
                Ok(never) => match never {},
                Err(e) => Err(e),
            };
        }
        seed.deserialize(de::value::StringDeserializer::<A::Error>::new(key))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> std::result::Result<V::Value, A::Error> {
        self.0.next_value_seed(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

/// A value that is an error whatever it holds.
struct Refuse(String);

impl<'de> DeserializeSeed<'de> for Refuse {
    type Value = std::convert::Infallible;

    fn deserialize<D: Deserializer<'de>>(self, _: D) -> std::result::Result<Self::Value, D::Error> {
        Err(de::Error::custom(self.0))
    }
}

#[cfg(test)]
mod tests;
