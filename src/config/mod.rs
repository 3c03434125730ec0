//! Declarative problem description: one TOML (or YAML) file gives the grid, the time horizon,
//! the populations (σ_k, H^k, V^k, g^k, m0^k), the coupling f^k and the solver settings, and
//! [`Config::build`] turns it into a validated [`Problem`] and [`SolverSettings`].
//!
//! - [`fields`]: fields on the grid (numbers, expressions in `x` and `y`, named profiles);
//! - [`problem`]: `[grid]`, `[time]`, `[[population]]`, `[coupling]` → [`Problem::builder`];
//! - [`solver`]: `[solver]` with one table per method → [`SolverSettings`].
//!
//! An `[output]` table (checkpoints, compression, snapshot times) is read by the `mfg` command
//! line, not by the library, and an `[rl]` table by `mfg validate` ([`crate::rl::validate`]):
//! both are kept here as they are written. Unknown keys, wrong types and
//! bad values are errors naming the key.

pub mod fields;
mod notes;
pub mod problem;
pub mod solver;

pub use fields::{FieldSpec, OneOrMany, Profile, RegionSpec};
pub use problem::{
    AxisSpec, CouplingSpec, ExitSpec, GridSpec, HamiltonianSpec, PopulationSpec, PowerSpec,
    TimeKind, TimeSpec, VectorOrMatrix,
};
pub use solver::{
    AndersonSpec, HjbSpec, LinearSpec, MethodName, NewtonSpec, PicardSpec, SolverSpec,
};

use crate::error::{Error, Result};
pub use crate::expr::Parameters;
use crate::problem::Problem;
use crate::solve::stationary::StationarySettings;
use crate::solve::SolverSettings;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The whole configuration file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Optional one-line title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// `[grid]`.
    pub grid: GridSpec,
    /// `[time]`.
    pub time: TimeSpec,
    /// `[parameters]`: named numbers every expression of the file may use (e.g. `door = 0.4`,
    /// then `potential = "if(x < door, 0, 1)"`).
    #[serde(default, skip_serializing_if = "Parameters::is_empty")]
    pub parameters: Parameters,
    #[serde(rename = "population")]
    /// `[[population]]`, in order.
    pub populations: Vec<PopulationSpec>,
    /// `obstacles = [ … ]`: regions removed for every population (shapes or expressions).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub obstacles: Vec<RegionSpec>,
    /// `[[exit]]`: where agents leave (a side, a door in a side, or a region).
    #[serde(rename = "exit", default, skip_serializing_if = "Vec::is_empty")]
    pub exits: Vec<ExitSpec>,
    #[serde(default)]
    /// `[coupling]` (absent: uncoupled).
    pub coupling: CouplingSpec,
    #[serde(default, deserialize_with = "solver::deserialize_solver")]
    /// `[solver]` (absent: the defaults).
    pub solver: SolverSpec,
    /// `[output]`, uninterpreted: the `mfg` command line reads and checks it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<toml::Table>,
    /// `[rl]`, uninterpreted here: the game, algorithm and thresholds of `mfg validate`, read
    /// by [`crate::rl::validate::RlSpec::from_table`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rl: Option<toml::Table>,
}

/// File formats a configuration can be read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.toml`.
    Toml,
    /// `.yaml` or `.yml`.
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

    /// Deserializes `text` written in this format; `origin` names it in errors.
    pub fn parse<T: DeserializeOwned>(self, text: &str, origin: &Path) -> Result<T> {
        let parsed = match self {
            Format::Toml => toml::from_str(text).map_err(|e| e.to_string()),
            Format::Yaml => serde_norway::from_str(text).map_err(|e| e.to_string()),
        };
        parsed.map_err(|message| Error::Parse {
            path: origin.to_path_buf(),
            message,
        })
    }
}

/// A parsed configuration with the text it came from (kept for provenance in output files).
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The parsed file.
    pub spec: Spec,
    /// The text it was parsed from (stored in result files).
    pub text: String,
    /// Its format.
    pub format: Format,
    /// The file it was read from, if any.
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
        Ok(Config {
            spec: format.parse(text, origin)?,
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

    /// Remarks that are not errors: method tables the selected method does not use.
    pub fn notes(&self) -> Vec<String> {
        self.spec.solver.notes()
    }

    /// [`Config::notes`] and the remarks on the problem built from this configuration: an
    /// initial amplitude that normalisation ignores, a potential or terminal cost that is not
    /// periodic on a periodic axis, a first-order population in 2D.
    pub fn notes_for(&self, problem: &Problem) -> Vec<String> {
        let mut n = self.notes();
        n.extend(notes::field_notes(&self.spec, problem));
        n
    }
}

impl Spec {
    /// Builds and validates the problem and the solver settings.
    pub fn build(&self) -> Result<(Problem, SolverSettings)> {
        let settings = self.solver.build()?;
        Ok((self.build_problem_for(&settings)?, settings))
    }

    /// The settings of the stationary relaxation from `[solver]` (for `[time] kind =
    /// "stationary"`): `max_iterations`, `tol_m`, `tol_residual` and the `[solver.hjb]`
    /// tolerance and iteration cap of its policy iterations. The finite-horizon methods other
    /// than the relaxation do not apply and are refused.
    pub fn stationary_settings(&self) -> Result<StationarySettings> {
        self.solver.build()?;
        match self.solver.method {
            MethodName::Auto | MethodName::Picard => {}
            other => {
                return Err(Error::invalid(
                    "solver.method",
                    format!(
                        "{}: a stationary problem is solved by the damped relaxation (method = \
                         \"auto\" or \"picard\"); Newton on the bordered stationary system \
                         and the other finite-horizon methods do not apply to it",
                        other.as_str()
                    ),
                ))
            }
        }
        Ok(StationarySettings {
            max_iterations: self.solver.max_iterations,
            tol_m: self.solver.tol_m,
            tol_residual: self.solver.tol_residual,
            hjb_tol: self.solver.hjb.tol,
            hjb_max_iterations: self.solver.hjb.max_iterations,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheme::StepSolverKind;

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
    fn step_solver_key() {
        let (_, s) = Config::from_toml_str(MINIMAL).unwrap().build().unwrap();
        assert_eq!(s.hjb.linear_solver, StepSolverKind::Auto);
        let direct = format!("{MINIMAL}[solver.linear]\nstep_solver = \"direct\"\n");
        let (_, s) = Config::from_toml_str(&direct).unwrap().build().unwrap();
        assert_eq!(s.hjb.linear_solver, StepSolverKind::Direct);
        let bad = format!("{MINIMAL}[solver.linear]\nstep_solver = \"gauss\"\n");
        let e = Config::from_toml_str(&bad).unwrap_err().to_string();
        assert!(e.contains("step_solver") && e.contains("gauss"), "{e}");
        assert_eq!(
            "iterative".parse::<StepSolverKind>().unwrap(),
            StepSolverKind::Iterative
        );
        let e = "lu".parse::<StepSolverKind>().unwrap_err().to_string();
        assert!(e.contains("solver.linear.step_solver"), "{e}");
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
            assert_eq!(m.as_str(), name);
        }
        let e = "gauss-newton"
            .parse::<MethodName>()
            .unwrap_err()
            .to_string();
        assert!(e.contains("solver.method"), "{e}");
    }

    /// The moved-key message and the notes reach the user through `Config::parse`, in TOML
    /// and YAML alike.
    #[test]
    fn moved_keys_and_notes_through_config() {
        let old = MINIMAL.to_string() + "[solver]\nmethod = \"newton\"\ngmres_restart = 40\n";
        let e = Config::from_toml_str(&old).unwrap_err().to_string();
        assert!(
            e.contains(
                "solver.gmres_restart has moved: write it as gmres_restart under [solver.newton]"
            ),
            "{e}"
        );
        let table = MINIMAL.to_string()
            + "[solver]\nmethod = \"newton\"\n[solver.picard]\nrelaxation = 0.8\n";
        let c = Config::from_toml_str(&table).unwrap();
        assert_eq!(c.notes().len(), 1, "{:?}", c.notes());
        assert!(c.notes()[0].contains("[solver.picard]"), "{:?}", c.notes());
        let yaml =
            "grid:\n  x: { min: -1.0, max: 1.0, n: 21 }\ntime: { horizon: 0.5, steps: 10 }\n\
                    population:\n  - { name: a, sigma: 0.2, initial: 1 }\n\
                    solver:\n  method: picard\n  anderson_depth: 3\n";
        let e = Config::parse(yaml, Format::Yaml, Path::new("t.yaml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(
                "solver.anderson_depth has moved: write it as depth under [solver.anderson]"
            ),
            "{e}"
        );
        let yaml = yaml.replace("anderson_depth: 3", "anderson: { depth: 3 }");
        let c = Config::parse(&yaml, Format::Yaml, Path::new("t.yaml")).unwrap();
        assert!(
            c.notes()[0].contains("[solver.anderson]"),
            "{:?}",
            c.notes()
        );
        c.build().unwrap();
    }

    /// `[output]` belongs to the command line: the library keeps it uninterpreted (unknown keys
    /// in it are the command line's errors), and a round trip through TOML keeps it.
    #[test]
    fn output_table_is_kept_as_written() {
        let text = MINIMAL.to_string() + "[output]\nsnapshot_times = [0.1]\nnot_a_key = 1\n";
        let c = Config::from_toml_str(&text).unwrap();
        c.build().unwrap();
        let output = c.spec.output.as_ref().unwrap();
        assert_eq!(output["not_a_key"].as_integer(), Some(1));
        let again = Config::from_toml_str(&toml::to_string(&c.spec).unwrap()).unwrap();
        assert_eq!(again.spec, c.spec);
    }

    #[test]
    fn parameters_are_shared_between_populations() {
        let text = MINIMAL
            .replace(
                "[[population]]\nname = \"a\"",
                "[parameters]\ndoor = 0.4\nwall = -0.25\n[[population]]\nname = \"a\"",
            )
            .replace(
                "potential = \"x^2\"",
                "potential = \"if(x < door, 1, wall)\"",
            )
            .replace("initial = \"1 + 0*x\"", "initial = \"1 + (x >= wall)\"");
        let (p, _) = Config::from_toml_str(&text).unwrap().build().unwrap();
        for i in 0..p.grid().len() {
            let x = p.grid().point(i)[0];
            let v = if x < 0.4 { 1.0 } else { -0.25 };
            assert_eq!(p.population(0).potential()[i], v);
        }
        let m0 = p.population(1).initial();
        let (lo, hi) = (m0[0], m0[20]);
        assert!((hi / lo - 2.0).abs() < 1e-12, "{lo} {hi}");
        let bad = text.replace("door = 0.4", "sin = 0.4");
        let e = Config::from_toml_str(&bad).unwrap().build().unwrap_err();
        assert!(e.to_string().contains("parameters.sin"), "{e}");
        let unknown = text.replace("x < door", "x < dor");
        let e = Config::from_toml_str(&unknown)
            .unwrap()
            .build()
            .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("population[0].potential") && msg.contains("dor"),
            "{msg}"
        );
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
