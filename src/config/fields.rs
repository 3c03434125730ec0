//! Fields on the grid — the initial densities m0^k, the potentials V^k and the terminal costs
//! g^k of MATH.md §1 — as a configuration writes them: a number, a math expression in `x` (and
//! `y` in 2D) parsed by `crate::expr`, or a named profile (`gaussian`, `uniform`, `box`,
//! `quadratic`). [`FieldSpec::sample`] evaluates one at every node of the grid and rejects
//! non-finite values, naming the field and the node.

use crate::error::{Error, Result};
use crate::expr::Parameters;
use crate::grid::Grid;
use serde::{Deserialize, Serialize};

/// The default of amplitudes, values, weights and costs.
pub(super) fn one() -> f64 {
    1.0
}

/// A field on the grid: a number, an expression in x (and y), or a named profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum FieldSpec {
    /// The same value at every node.
    Constant(f64),
    /// An expression in `x` (and `y`).
    Expression(String),
    /// A named profile.
    Profile(Profile),
}

/// Named profiles. Vectors have one entry per axis; a single number is accepted in 1D.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "profile", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Profile {
    /// amplitude · exp(-Σ_a (x_a - mean_a)²/(2 std_a²)).
    Gaussian {
        /// Centre, per axis.
        mean: OneOrMany,
        /// Standard deviation, per axis.
        std: OneOrMany,
        #[serde(default = "one")]
        /// Height of the peak (for potentials and terminal costs: initial densities are normalised).
        amplitude: f64,
    },
    /// `value` everywhere (1 by default).
    Uniform {
        #[serde(default = "one")]
        /// The value.
        value: f64,
    },
    /// `value` inside the box [min, max] (per axis), 0 outside.
    Box {
        /// Lower corner, per axis.
        min: OneOrMany,
        /// Upper corner, per axis.
        max: OneOrMany,
        #[serde(default = "one")]
        /// Value inside the box.
        value: f64,
    },
    /// (weight/2) |x - center|².
    Quadratic {
        /// Centre c, per axis.
        center: OneOrMany,
        #[serde(default = "one")]
        /// Weight w of (w/2)|x − c|².
        weight: f64,
    },
}

/// A number or a list of numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged, expecting = "a number or a list of numbers (one per axis)")]
pub enum OneOrMany {
    /// One number for every axis.
    One(f64),
    /// One number per axis.
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
    pub(super) fn zero() -> Self {
        FieldSpec::Constant(0.0)
    }

    /// For a field that may depend on time (V^k, b^k): when it is an expression in t, its values
    /// at every time `times[n]` and node, level-major (None when it does not use t: then
    /// [`FieldSpec::sample`] gives it).
    pub fn sample_in_time(
        &self,
        grid: &Grid,
        times: &[f64],
        field: &str,
        parameters: &Parameters,
    ) -> Result<Option<Vec<f64>>> {
        let FieldSpec::Expression(text) = self else {
            return Ok(None);
        };
        let expr = crate::expr::Expression::parse_with(text, field, parameters)?;
        if !expr.var_names().iter().any(|v| v == "t") {
            return Ok(None);
        }
        sample_expression(grid, text, field, parameters, Some(times)).map(Some)
    }

    /// Samples the field on every node of `grid`, with the named `parameters` available to
    /// expressions; `field` names it in errors.
    pub fn sample(&self, grid: &Grid, field: &str, parameters: &Parameters) -> Result<Vec<f64>> {
        let d = grid.dim();
        let values = match self {
            FieldSpec::Constant(c) => vec![*c; grid.len()],
            FieldSpec::Expression(text) => sample_expression(grid, text, field, parameters, None)?,
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
                    if let Some(a) =
                        (0..d).find(|&a| lo[a].is_nan() || hi[a].is_nan() || lo[a] > hi[a])
                    {
                        return Err(Error::invalid(
                            format!("{field}.max"),
                            format!(
                                "{} is below min = {} along {}: the box is empty",
                                hi[a],
                                lo[a],
                                ["x", "y"][a]
                            ),
                        ));
                    }
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

/// The values of an expression at every node of `grid` — and, with `times`, at every time
/// t_n too (level-major: all nodes of t_0, then of t_1, …), `t` then being a variable.
fn sample_expression(
    grid: &Grid,
    text: &str,
    field: &str,
    parameters: &Parameters,
    times: Option<&[f64]>,
) -> Result<Vec<f64>> {
    let expr = crate::expr::Expression::parse_with(text, field, parameters)?;
    let d = grid.dim();
    let allowed: Vec<&str> = ["x", "y"][..d]
        .iter()
        .copied()
        .chain(times.map(|_| "t"))
        .collect();
    // exmex orders variables alphabetically; map each to its coordinate (d = time).
    let mut axes = Vec::new();
    for name in expr.var_names() {
        match allowed.iter().position(|a| a == name) {
            Some(a) => axes.push(a),
            None => {
                let hint = match name.as_str() {
                    "gaussian" | "box" | "quadratic" => format!(
                        "; the profile {name} needs its parameters, e.g. {}",
                        match name.as_str() {
                            "gaussian" => "{ profile = \"gaussian\", mean = 0.0, std = 0.5 }",
                            "box" => "{ profile = \"box\", min = -0.5, max = 0.5 }",
                            _ => "{ profile = \"quadratic\", center = 0.0, weight = 1.0 }",
                        }
                    ),
                    "t" => "; t may appear in the potential and the drift only".to_string(),
                    _ => String::new(),
                };
                return Err(Error::invalid(
                    field,
                    format!(
                        "unknown variable {name:?} in {text:?}: expressions may use {}{hint}",
                        allowed.join(" and ")
                    ),
                ));
            }
        }
    }
    let mut vars = vec![0.0; axes.len()];
    let levels = times.unwrap_or(&[0.0]);
    let mut out = Vec::with_capacity(grid.len() * levels.len());
    for &t in levels {
        for i in 0..grid.len() {
            let p = grid.point(i);
            for (v, &a) in vars.iter_mut().zip(&axes) {
                *v = if a == d { t } else { p[a] };
            }
            let value = expr.eval(&vars).map_err(|e| {
                Error::invalid(
                    field,
                    format!("cannot evaluate {text:?} at {:?}: {e}", &p[..d]),
                )
            })?;
            if !value.is_finite() {
                let at = if times.is_some() {
                    format!(" (t = {t})")
                } else {
                    String::new()
                };
                return Err(Error::invalid(
                    field,
                    format!("the field is {value} at {:?}{at}", &p[..d]),
                ));
            }
            out.push(value);
        }
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
                // The one profile without parameters may be named alone.
                if v.trim() == "uniform" {
                    return Ok(FieldSpec::Profile(Profile::Uniform { value: 1.0 }));
                }
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

/// A region of the grid as a configuration writes it: a shape table (`{ shape = "box", … }`,
/// see [`crate::problem::Shape`]) or an expression in `x` (and `y`) that is non-zero inside.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum RegionSpec {
    /// Nodes where the expression is non-zero (e.g. `"y < 0.5"`).
    Expression(String),
    /// A named shape.
    Shape(crate::problem::Shape),
}

impl RegionSpec {
    /// The region on `grid`; `field` names it in errors.
    pub fn build(
        &self,
        grid: &Grid,
        field: &str,
        parameters: &Parameters,
    ) -> Result<crate::problem::Region> {
        Ok(match self {
            RegionSpec::Shape(s) => crate::problem::Region::Shape(s.clone()),
            RegionSpec::Expression(text) => crate::problem::Region::Nodes(
                sample_expression(grid, text, field, parameters, None)?
                    .iter()
                    .map(|v| *v != 0.0)
                    .collect(),
            ),
        })
    }
}

impl<'de> Deserialize<'de> for RegionSpec {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RegionSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an expression in x (and y) or a table with `shape`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<RegionSpec, E> {
                Ok(RegionSpec::Expression(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<RegionSpec, A::Error> {
                crate::problem::Shape::deserialize(serde::de::value::MapAccessDeserializer::new(
                    map,
                ))
                .map(RegionSpec::Shape)
            }
        }
        de.deserialize_any(V)
    }
}
