//! The `[rl]` table of a configuration and the `--velocities` syntax of `mfg validate`: the
//! game's velocity sets A^k, its steps N (or the fraction of the CFL bound), the algorithm and
//! its parameters, the equilibrium run and the thresholds. Every error names its key.
//!
//! A velocity set is given per axis as `{ min, max, n }` (n evenly spaced values) or as a list
//! of values; one spec applies to every axis (`{ min = -2.0, max = 2.0, n = 9 }`) or each axis
//! has its own (`{ x = { … }, y = [0.0] }`); a table keyed by population names gives each
//! population its own.

use super::{AlgorithmKind, AlgorithmSettings, EquilibriumSettings, Settings, Thresholds};
use crate::error::{Error, Result};
use crate::problem::Problem;
use crate::rl::pde::VelocitySet;
use serde::Deserialize;

/// `[rl.equilibrium]`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EquilibriumSpec {
    /// `omd` (default), `algorithm` or `none`.
    pub method: Option<String>,
    /// Relative exploitability to reach (default 1e-6).
    pub tolerance: Option<f64>,
    /// At most this many iterations (default 2000).
    pub max_iterations: Option<usize>,
}

/// `[rl.thresholds]`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdSpec {
    /// Limit on Σ_k exploitability.
    pub max_exploitability: Option<f64>,
    /// Limit on every population's sup_t L1 density distance to the PDE.
    pub max_density_error: Option<f64>,
    /// Limit on every population's mean-velocity error against α*.
    pub max_control_error: Option<f64>,
}

/// `[rl]`: every key optional.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RlSpec {
    /// Velocity sets (see the module documentation); kept as written, read by
    /// [`RlSpec::velocities`].
    pub velocities: Option<toml::Value>,
    /// Game steps N over [0, T] (default: the smallest N meeting `cfl` × the CFL bound).
    pub steps: Option<usize>,
    /// Fraction of the CFL bound (default 1).
    pub cfl: Option<f64>,
    /// `fp`, `omd`, `fixed-point` or `boltzmann`.
    pub algorithm: Option<String>,
    /// Iterations of the algorithm (default 200).
    pub iterations: Option<usize>,
    /// Mirror descent's learning rate, or fictitious play's fixed mixing weight.
    pub learning_rate: Option<f64>,
    /// Damping θ of the damped fixed point and the Boltzmann iteration.
    pub damping: Option<f64>,
    /// Temperature τ of the Boltzmann iteration or of the fixed point's softmax.
    pub temperature: Option<f64>,
    /// `[rl.equilibrium]`.
    pub equilibrium: Option<EquilibriumSpec>,
    /// `[rl.thresholds]`.
    pub thresholds: Option<ThresholdSpec>,
}

/// Per-axis velocity values; `y = None`: the x values on every axis.
#[derive(Debug, Clone, PartialEq)]
struct Axes {
    x: Vec<f64>,
    y: Option<Vec<f64>>,
}

impl Axes {
    fn set(&self, dim: usize, field: &str) -> Result<VelocitySet> {
        let y = match (dim, &self.y) {
            (1, Some(_)) => {
                return Err(Error::invalid(field, "a y axis is given for a 1D problem"))
            }
            (1, None) => vec![0.0],
            (_, Some(y)) => y.clone(),
            (_, None) => self.x.clone(),
        };
        VelocitySet::product(self.x.clone(), y).map_err(|e| match e {
            Error::Invalid { reason, .. } => Error::invalid(field, reason),
            e => e,
        })
    }
}

/// A velocity set given on the command line or in `[rl] velocities`: for one population
/// (`population = Some(name)`) or for all.
#[derive(Debug, Clone, PartialEq)]
pub struct VelocityOverride {
    /// The population it is for (`None`: every population).
    pub population: Option<String>,
    axes: Axes,
    /// Where it was given, for messages (`--velocities`, `rl.velocities.walkers`).
    field: String,
}

impl RlSpec {
    /// Reads the `[rl]` table (absent: every default).
    pub fn from_table(table: Option<&toml::Table>) -> Result<Self> {
        let Some(t) = table else {
            return Ok(RlSpec::default());
        };
        t.clone()
            .try_into()
            .map_err(|e: toml::de::Error| Error::invalid("rl", e.message().trim()))
    }

    /// The velocity overrides of `velocities`, checked against the problem's populations.
    pub fn velocities(&self, problem: &Problem) -> Result<Vec<VelocityOverride>> {
        let Some(v) = &self.velocities else {
            return Ok(Vec::new());
        };
        let field = "rl.velocities";
        if let Some(axes) = try_axes(v, field)? {
            return Ok(vec![VelocityOverride {
                population: None,
                axes,
                field: field.into(),
            }]);
        }
        let table = v.as_table().expect("try_axes accepts every non-table");
        let mut out = Vec::new();
        for (name, spec) in table {
            let f = format!("{field}.{name}");
            if !problem.populations().iter().any(|p| p.name() == name) {
                return Err(Error::invalid(
                    f,
                    format!(
                        "no population is called {name:?} (populations: {}); a velocity spec \
                         is {{ min, max, n }}, a list of values, or {{ x = …, y = … }}",
                        names(problem)
                    ),
                ));
            }
            let axes = try_axes(spec, &f)?.ok_or_else(|| {
                Error::invalid(
                    f.clone(),
                    "expected { min, max, n }, a list of values, or { x = …, y = … }",
                )
            })?;
            out.push(VelocityOverride {
                population: Some(name.clone()),
                axes,
                field: f,
            });
        }
        Ok(out)
    }

    /// The game and equilibrium settings, with `overrides` (e.g. from the command line) applied
    /// after the table's velocity sets.
    pub fn settings(&self, problem: &Problem, overrides: &[VelocityOverride]) -> Result<Settings> {
        let mut s = Settings::new(problem.k());
        let dim = problem.grid().dim();
        for o in self.velocities(problem)?.iter().chain(overrides) {
            let set = o.axes.set(dim, &o.field)?;
            match &o.population {
                None => s.velocities.iter_mut().for_each(|v| *v = Some(set.clone())),
                Some(name) => {
                    let k = problem
                        .populations()
                        .iter()
                        .position(|p| p.name() == name)
                        .ok_or_else(|| {
                            Error::invalid(
                                o.field.clone(),
                                format!(
                                    "no population is called {name:?} (populations: {})",
                                    names(problem)
                                ),
                            )
                        })?;
                    s.velocities[k] = Some(set);
                }
            }
        }
        s.steps = self.steps;
        if self.steps == Some(0) {
            return Err(Error::invalid("rl.steps", "at least one game step"));
        }
        if let Some(c) = self.cfl {
            if !(c > 0.0 && c <= 1.0) {
                return Err(Error::invalid(
                    "rl.cfl",
                    format!("{c}: the fraction of the CFL bound lies in (0, 1]"),
                ));
            }
            s.cfl = c;
        }
        if let Some(e) = &self.equilibrium {
            let d = EquilibriumSettings::default();
            s.equilibrium = EquilibriumSettings {
                method: match &e.method {
                    Some(m) => m.parse()?,
                    None => d.method,
                },
                tolerance: e.tolerance.unwrap_or(d.tolerance),
                max_iterations: e.max_iterations.unwrap_or(d.max_iterations),
                every: d.every,
            };
            if !(s.equilibrium.tolerance.is_finite() && s.equilibrium.tolerance > 0.0) {
                return Err(Error::invalid(
                    "rl.equilibrium.tolerance",
                    format!("{}: must be a positive number", s.equilibrium.tolerance),
                ));
            }
            if s.equilibrium.max_iterations == 0 {
                return Err(Error::invalid(
                    "rl.equilibrium.max_iterations",
                    "at least one iteration",
                ));
            }
        }
        Ok(s)
    }

    /// The algorithm (default `omd`) with its parameters.
    pub fn algorithm(&self) -> Result<AlgorithmSettings> {
        let kind = match &self.algorithm {
            Some(a) => a.parse()?,
            None => AlgorithmKind::MirrorDescent,
        };
        let mut a = AlgorithmSettings::new(kind);
        if let Some(n) = self.iterations {
            if n == 0 {
                return Err(Error::invalid("rl.iterations", "at least one iteration"));
            }
            a.iterations = n;
        }
        a.learning_rate = self.learning_rate;
        a.damping = self.damping;
        a.temperature = self.temperature;
        Ok(a)
    }

    /// The thresholds, checked.
    pub fn thresholds(&self) -> Result<Thresholds> {
        let t = self.thresholds.clone().unwrap_or_default();
        let t = Thresholds {
            max_exploitability: t.max_exploitability,
            max_density_error: t.max_density_error,
            max_control_error: t.max_control_error,
        };
        t.validate("rl.thresholds.")?;
        Ok(t)
    }

    /// `other`'s keys where it has them, ours elsewhere (`other` is the command line).
    pub fn overridden_by(&self, other: &RlSpec) -> RlSpec {
        let th = |a: &Option<ThresholdSpec>, b: &Option<ThresholdSpec>| {
            let (a, b) = (a.clone().unwrap_or_default(), b.clone().unwrap_or_default());
            Some(ThresholdSpec {
                max_exploitability: b.max_exploitability.or(a.max_exploitability),
                max_density_error: b.max_density_error.or(a.max_density_error),
                max_control_error: b.max_control_error.or(a.max_control_error),
            })
        };
        let eq = |a: &Option<EquilibriumSpec>, b: &Option<EquilibriumSpec>| {
            let (a, b) = (a.clone().unwrap_or_default(), b.clone().unwrap_or_default());
            Some(EquilibriumSpec {
                method: b.method.or(a.method),
                tolerance: b.tolerance.or(a.tolerance),
                max_iterations: b.max_iterations.or(a.max_iterations),
            })
        };
        RlSpec {
            velocities: other.velocities.clone().or_else(|| self.velocities.clone()),
            steps: other.steps.or(self.steps),
            cfl: other.cfl.or(self.cfl),
            algorithm: other.algorithm.clone().or_else(|| self.algorithm.clone()),
            iterations: other.iterations.or(self.iterations),
            learning_rate: other.learning_rate.or(self.learning_rate),
            damping: other.damping.or(self.damping),
            temperature: other.temperature.or(self.temperature),
            equilibrium: eq(&self.equilibrium, &other.equilibrium),
            thresholds: th(&self.thresholds, &other.thresholds),
        }
    }
}

fn names(problem: &Problem) -> String {
    problem
        .populations()
        .iter()
        .map(|p| p.name().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// One axis: `{ min, max, n }` or a list of numbers.
fn axis(v: &toml::Value, field: &str) -> Result<Vec<f64>> {
    let num = |v: &toml::Value, f: &str| -> Result<f64> {
        match v {
            toml::Value::Float(x) => Ok(*x),
            toml::Value::Integer(i) => Ok(*i as f64),
            _ => Err(Error::invalid(f, format!("{v}: expected a number"))),
        }
    };
    match v {
        toml::Value::Array(a) => {
            if a.is_empty() {
                return Err(Error::invalid(field, "an empty list of velocities"));
            }
            a.iter()
                .enumerate()
                .map(|(i, x)| num(x, &format!("{field}[{i}]")))
                .collect()
        }
        toml::Value::Table(t) => {
            if let Some(k) = t
                .keys()
                .find(|k| !["min", "max", "n"].contains(&k.as_str()))
            {
                return Err(Error::invalid(
                    format!("{field}.{k}"),
                    "unknown key; an axis is { min, max, n } or a list of values",
                ));
            }
            let get = |k: &str| {
                t.get(k)
                    .ok_or_else(|| Error::invalid(format!("{field}.{k}"), "missing"))
            };
            let (lo, hi) = (
                num(get("min")?, &format!("{field}.min"))?,
                num(get("max")?, &format!("{field}.max"))?,
            );
            let n = match get("n")? {
                toml::Value::Integer(n) if *n >= 1 => *n as usize,
                other => {
                    return Err(Error::invalid(
                        format!("{field}.n"),
                        format!("{other}: the number of velocities is an integer ≥ 1"),
                    ))
                }
            };
            range(lo, hi, n, field)
        }
        other => Err(Error::invalid(
            field,
            format!("{other}: expected {{ min, max, n }} or a list of values"),
        )),
    }
}

fn range(lo: f64, hi: f64, n: usize, field: &str) -> Result<Vec<f64>> {
    if !(lo.is_finite() && hi.is_finite()) || (n > 1 && hi <= lo) {
        return Err(Error::invalid(
            field,
            format!("min = {lo}, max = {hi}: need finite bounds with min < max"),
        ));
    }
    if n > 1001 {
        return Err(Error::invalid(
            field,
            format!("{n} velocities per axis: at most 1001"),
        ));
    }
    Ok(VelocitySet::uniform_axis(lo, hi, n))
}

/// A velocity spec for all axes or per axis; `None` when `v` is a table of other keys (a
/// table by population).
fn try_axes(v: &toml::Value, field: &str) -> Result<Option<Axes>> {
    match v {
        toml::Value::Table(t) if t.contains_key("min") || t.contains_key("n") => Ok(Some(Axes {
            x: axis(v, field)?,
            y: None,
        })),
        toml::Value::Table(t)
            if !t.is_empty() && t.keys().all(|k| k == "x" || k == "y") && t.contains_key("x") =>
        {
            Ok(Some(Axes {
                x: axis(&t["x"], &format!("{field}.x"))?,
                y: t.get("y")
                    .map(|y| axis(y, &format!("{field}.y")))
                    .transpose()?,
            }))
        }
        toml::Value::Table(_) => Ok(None),
        other => Ok(Some(Axes {
            x: axis(other, field)?,
            y: None,
        })),
    }
}

/// Parses `--velocities`: comma-separated `[NAME=]AXIS[/AXIS]`, AXIS being `MIN:MAX:N` or a
/// single value; without a name the set applies to every population, a second AXIS is y.
/// E.g. `walkers=-4:4:33,wheelchairs=-1.5:1.5:13` or `-1:1:5/0`.
pub fn parse_velocities(text: &str) -> Result<Vec<VelocityOverride>> {
    let field = "--velocities";
    let err = |part: &str, why: &str| {
        Error::invalid(
            field,
            format!("{part:?}: {why}; expected [NAME=]MIN:MAX:N[/MIN:MAX:N], e.g. a=-2:2:9"),
        )
    };
    let parse_axis = |part: &str, s: &str| -> Result<Vec<f64>> {
        let nums: Vec<&str> = s.split(':').collect();
        let f = |x: &str| -> Result<f64> {
            x.trim()
                .parse::<f64>()
                .map_err(|_| err(part, &format!("{x:?} is not a number")))
        };
        match nums.as_slice() {
            [v] => Ok(vec![f(v)?]),
            [lo, hi, n] => {
                let n: usize = n
                    .trim()
                    .parse()
                    .ok()
                    .filter(|&n| n >= 1)
                    .ok_or_else(|| err(part, &format!("{n:?} is not a count ≥ 1")))?;
                range(f(lo)?, f(hi)?, n, field)
            }
            _ => Err(err(part, "an axis is MIN:MAX:N or one value")),
        }
    };
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, spec) = match part.split_once('=') {
            Some((n, s)) => (Some(n.trim().to_string()), s),
            None => (None, part),
        };
        if name.as_deref() == Some("") {
            return Err(err(part, "an empty population name"));
        }
        let mut axes = spec.split('/');
        let x = parse_axis(part, axes.next().unwrap_or_default())?;
        let y = axes.next().map(|s| parse_axis(part, s)).transpose()?;
        if axes.next().is_some() {
            return Err(err(part, "at most two axes"));
        }
        out.push(VelocityOverride {
            population: name,
            axes: Axes { x, y },
            field: field.into(),
        });
    }
    if out.is_empty() {
        return Err(err(text, "no velocity set given"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    const BASE: &str = r#"
[grid]
x = { min = 0.0, max = 1.0, n = 10 }
[time]
horizon = 0.5
steps = 10
[[population]]
name = "a"
sigma = 0.3
initial = 1
[[population]]
name = "b"
sigma = 0.3
initial = 1
"#;

    fn spec(rl: &str) -> (Problem, Result<RlSpec>) {
        let cfg = Config::from_toml_str(&format!("{BASE}[rl]\n{rl}\n")).unwrap();
        let (p, _) = cfg.build().unwrap();
        let s = RlSpec::from_table(cfg.spec.rl.as_ref());
        (p, s)
    }

    fn settings(rl: &str) -> Result<Settings> {
        let (p, s) = spec(rl);
        s?.settings(&p, &[])
    }

    #[test]
    fn velocity_forms() {
        let s = settings("velocities = { min = -1.0, max = 1.0, n = 5 }").unwrap();
        assert_eq!(s.velocities[1].as_ref().unwrap().len(), 5);
        let s = settings("velocities = [-1, 0, 1]").unwrap();
        assert_eq!(
            s.velocities[0].as_ref().unwrap().velocities()[2],
            [1.0, 0.0]
        );
        let s = settings("velocities = { b = { min = -2.0, max = 2.0, n = 3 } }").unwrap();
        assert!(s.velocities[0].is_none());
        assert_eq!(
            s.velocities[1].as_ref().unwrap().velocities()[0],
            [-2.0, 0.0]
        );
        let s = settings("velocities = { a = { x = [0.5, 1.0] } }").unwrap();
        assert_eq!(s.velocities[0].as_ref().unwrap().len(), 2);
    }

    #[test]
    fn errors_name_the_key() {
        for (rl, field) in [
            ("velocity = 1", "rl"),
            ("velocities = { c = [1.0] }", "rl.velocities.c"),
            (
                "velocities = { min = 1.0, max = 0.0, n = 3 }",
                "rl.velocities",
            ),
            (
                "velocities = { min = -1.0, max = 1.0, n = 0 }",
                "rl.velocities.n",
            ),
            ("velocities = { min = -1.0, max = 1.0 }", "rl.velocities.n"),
            (
                "velocities = { a = { min = -1.0, max = 1.0, step = 2 } }",
                "rl.velocities.a.step",
            ),
            ("velocities = { x = [1.0], y = [0.0] }", "rl.velocities"),
            ("velocities = [1.0, 0.0]", "rl.velocities"),
            ("velocities = [1.0, true]", "rl.velocities[1]"),
            ("cfl = 1.5", "rl.cfl"),
            ("steps = 0", "rl.steps"),
            (
                "equilibrium = { method = \"best\" }",
                "rl.equilibrium.method",
            ),
            (
                "equilibrium = { tolerance = -1.0 }",
                "rl.equilibrium.tolerance",
            ),
        ] {
            let e = settings(rl).unwrap_err().to_string();
            assert!(e.starts_with(&format!("invalid {field}:")), "{rl}: {e}");
        }
        let (_, s) = spec("algorithm = \"sgd\"");
        let e = s.unwrap().algorithm().unwrap_err().to_string();
        assert!(e.starts_with("invalid rl.algorithm:"), "{e}");
        let (_, s) = spec("thresholds = { max_exploitability = -1.0 }");
        let e = s.unwrap().thresholds().unwrap_err().to_string();
        assert!(
            e.starts_with("invalid rl.thresholds.max_exploitability:"),
            "{e}"
        );
    }

    #[test]
    fn command_line_velocities() {
        let o = parse_velocities("a=-2:2:9, b=-1:1:5").unwrap();
        assert_eq!(o.len(), 2);
        assert_eq!(o[1].population.as_deref(), Some("b"));
        assert_eq!(o[0].axes.x.len(), 9);
        let o = parse_velocities("-1:1:5/0").unwrap();
        assert_eq!(
            (o[0].axes.x.len(), o[0].axes.y.clone()),
            (5, Some(vec![0.0]))
        );
        for bad in [
            "a=-2:2", "a=x:2:3", "=1:2:3", "a=-1:1:0", "a=1:0:3", "", "a=1/2/3",
        ] {
            let e = parse_velocities(bad).unwrap_err().to_string();
            assert!(e.starts_with("invalid --velocities:"), "{bad}: {e}");
        }
        let (p, s) = spec("");
        let e = s
            .unwrap()
            .settings(&p, &parse_velocities("c=-1:1:3").unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains("--velocities") && e.contains("\"c\""), "{e}");
        // The command line wins over the table.
        let (p, s) = spec("velocities = { min = -1.0, max = 1.0, n = 3 }");
        let st = s
            .unwrap()
            .settings(&p, &parse_velocities("a=-2:2:7").unwrap())
            .unwrap();
        assert_eq!(st.velocities[0].as_ref().unwrap().len(), 7);
        assert_eq!(st.velocities[1].as_ref().unwrap().len(), 3);
    }
}
