//! The state space of a population (docs/geometry.md): the set S^k of grid nodes
//! it lives on, given by named shapes — boxes, discs, polygons, their unions and differences —
//! or by a mask per node, minus the obstacles that remove nodes for every population.
//!
//! A [`Shape`] is a closed subset of the plane (or of the line in 1D) tested node by node:
//! boxes and discs include their boundary; polygons use the even–odd rule. The scheme sees
//! only the resulting mask of live nodes ([`super::Population::live`]): rates towards removed
//! nodes are zero, so the boundary of S^k is a no-flux wall for population k.

use crate::error::{Error, Result};
use crate::grid::Grid;
use serde::{Deserialize, Serialize};

/// A region of the domain, by named shapes (configuration: `{ shape = "box", … }`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "shape", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Shape {
    /// The box Π_a [min_a, max_a] (one number per axis; a single number in 1D).
    Box {
        /// Lower corner.
        #[serde(deserialize_with = "one_or_many")]
        min: Vec<f64>,
        /// Upper corner.
        #[serde(deserialize_with = "one_or_many")]
        max: Vec<f64>,
    },
    /// The closed disc (an interval in 1D) |x − center| ≤ radius.
    Disc {
        /// Centre, one number per axis.
        #[serde(deserialize_with = "one_or_many")]
        center: Vec<f64>,
        /// Radius > 0.
        radius: f64,
    },
    /// A polygon (2D only), its vertices in order; the even–odd rule decides inside.
    Polygon {
        /// At least three vertices [x, y].
        vertices: Vec<[f64; 2]>,
    },
    /// The union of the shapes.
    Union {
        /// The shapes (at least one).
        of: Vec<Shape>,
    },
    /// `from` without the shapes of `remove`.
    Difference {
        /// The shape to cut from.
        from: std::boxed::Box<Shape>,
        /// The shapes removed from it.
        remove: Vec<Shape>,
    },
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(de: D) -> std::result::Result<Vec<f64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(f64),
        Many(Vec<f64>),
    }
    Ok(match OneOrMany::deserialize(de)? {
        OneOrMany::One(x) => vec![x],
        OneOrMany::Many(v) => v,
    })
}

impl Shape {
    /// The box [min, max] (per axis).
    pub fn rect(min: &[f64], max: &[f64]) -> Self {
        Shape::Box {
            min: min.to_vec(),
            max: max.to_vec(),
        }
    }

    /// The disc |x − center| ≤ radius.
    pub fn disc(center: &[f64], radius: f64) -> Self {
        Shape::Disc {
            center: center.to_vec(),
            radius,
        }
    }

    /// Checks sizes and values for a `dim`-dimensional grid; `field` names the shape in errors.
    pub fn validate(&self, dim: usize, field: &str) -> Result<()> {
        let per_axis = |v: &[f64], key: &str| -> Result<()> {
            if v.len() != dim {
                return Err(Error::invalid(
                    format!("{field}.{key}"),
                    format!("{} values for a {dim}D grid: one per axis", v.len()),
                ));
            }
            if v.iter().any(|x| !x.is_finite()) {
                return Err(Error::invalid(
                    format!("{field}.{key}"),
                    "coordinates must be finite numbers",
                ));
            }
            Ok(())
        };
        match self {
            Shape::Box { min, max } => {
                per_axis(min, "min")?;
                per_axis(max, "max")?;
                if let Some(a) = (0..dim).find(|&a| max[a] < min[a]) {
                    return Err(Error::invalid(
                        format!("{field}.max"),
                        format!("max[{a}] = {} is below min[{a}] = {}", max[a], min[a]),
                    ));
                }
            }
            Shape::Disc { center, radius } => {
                per_axis(center, "center")?;
                if !(radius.is_finite() && *radius > 0.0) {
                    return Err(Error::invalid(
                        format!("{field}.radius"),
                        format!("{radius}: must be a finite number > 0"),
                    ));
                }
            }
            Shape::Polygon { vertices } => {
                if dim != 2 {
                    return Err(Error::invalid(
                        field,
                        "polygons need a 2D grid (use a box in 1D)",
                    ));
                }
                if vertices.len() < 3 || vertices.iter().flatten().any(|x| !x.is_finite()) {
                    return Err(Error::invalid(
                        format!("{field}.vertices"),
                        format!(
                            "{} vertices: at least 3 with finite coordinates are needed",
                            vertices.len()
                        ),
                    ));
                }
            }
            Shape::Union { of } => {
                if of.is_empty() {
                    return Err(Error::invalid(
                        format!("{field}.of"),
                        "a union needs at least one shape",
                    ));
                }
                for (i, s) in of.iter().enumerate() {
                    s.validate(dim, &format!("{field}.of[{i}]"))?;
                }
            }
            Shape::Difference { from, remove } => {
                from.validate(dim, &format!("{field}.from"))?;
                for (i, s) in remove.iter().enumerate() {
                    s.validate(dim, &format!("{field}.remove[{i}]"))?;
                }
            }
        }
        Ok(())
    }

    /// Whether the point x (length d) lies in the shape.
    pub fn contains(&self, x: &[f64]) -> bool {
        match self {
            Shape::Box { min, max } => x
                .iter()
                .zip(min.iter().zip(max))
                .all(|(v, (lo, hi))| *v >= *lo && *v <= *hi),
            Shape::Disc { center, radius } => {
                let r2: f64 = x.iter().zip(center).map(|(a, c)| (a - c) * (a - c)).sum();
                r2 <= radius * radius
            }
            Shape::Polygon { vertices } => in_polygon(vertices, x[0], x[1]),
            Shape::Union { of } => of.iter().any(|s| s.contains(x)),
            Shape::Difference { from, remove } => {
                from.contains(x) && !remove.iter().any(|s| s.contains(x))
            }
        }
    }

    /// The mask of the nodes of `grid` inside the shape.
    pub fn mask(&self, grid: &Grid) -> Vec<bool> {
        let d = grid.dim();
        (0..grid.len())
            .map(|i| self.contains(&grid.point(i)[..d]))
            .collect()
    }
}

/// Even–odd rule: a horizontal ray from (x, y) crosses the boundary an odd number of times.
fn in_polygon(v: &[[f64; 2]], x: f64, y: f64) -> bool {
    let mut inside = false;
    let mut j = v.len() - 1;
    for i in 0..v.len() {
        let ([xi, yi], [xj, yj]) = (v[i], v[j]);
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

/// Where a mask comes from: shapes, or one flag per node (e.g. an expression sampled by the
/// configuration).
#[derive(Debug, Clone, PartialEq)]
pub enum Region {
    /// The nodes inside a shape.
    Shape(Shape),
    /// One flag per node (true: inside).
    Nodes(Vec<bool>),
}

impl Region {
    /// The mask on `grid`; `field` names the region in errors.
    pub fn mask(&self, grid: &Grid, field: &str) -> Result<Vec<bool>> {
        match self {
            Region::Shape(s) => {
                s.validate(grid.dim(), field)?;
                Ok(s.mask(grid))
            }
            Region::Nodes(v) if v.len() == grid.len() => Ok(v.clone()),
            Region::Nodes(v) => Err(Error::invalid(
                field,
                format!("{} flags for a grid of {} nodes", v.len(), grid.len()),
            )),
        }
    }
}

impl From<Shape> for Region {
    fn from(s: Shape) -> Self {
        Region::Shape(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::{Axis, Boundary};

    #[test]
    fn shapes_contain_what_they_should() {
        let b = Shape::rect(&[0.0, 0.0], &[1.0, 2.0]);
        assert!(b.contains(&[0.5, 2.0]) && !b.contains(&[1.01, 1.0]));
        let d = Shape::disc(&[0.0, 0.0], 1.0);
        assert!(d.contains(&[0.6, 0.8]) && !d.contains(&[0.8, 0.8]));
        // An L-shaped (non-convex) polygon.
        let l = Shape::Polygon {
            vertices: vec![
                [0.0, 0.0],
                [2.0, 0.0],
                [2.0, 1.0],
                [1.0, 1.0],
                [1.0, 2.0],
                [0.0, 2.0],
            ],
        };
        assert!(l.contains(&[0.5, 1.5]) && l.contains(&[1.5, 0.5]) && !l.contains(&[1.5, 1.5]));
        let u = Shape::Union {
            of: vec![b.clone(), d.clone()],
        };
        assert!(u.contains(&[-0.5, 0.0]) && u.contains(&[0.9, 1.9]) && !u.contains(&[-0.9, 0.9]));
        let ring = Shape::Difference {
            from: std::boxed::Box::new(Shape::disc(&[0.0, 0.0], 2.0)),
            remove: vec![d],
        };
        assert!(ring.contains(&[1.5, 0.0]) && !ring.contains(&[0.5, 0.0]));
        let interval = Shape::rect(&[0.25], &[0.5]);
        assert!(interval.contains(&[0.3]) && !interval.contains(&[0.6]));
    }

    #[test]
    fn masks_and_errors() {
        let grid = Grid::new_2d(
            Axis::new(0.0, 1.0, 4, Boundary::Reflecting),
            Axis::new(0.0, 1.0, 4, Boundary::Reflecting),
        )
        .unwrap();
        let m = Shape::rect(&[0.0, 0.0], &[0.5, 0.5]).mask(&grid);
        assert_eq!(m.iter().filter(|v| **v).count(), 4);
        let e = Region::Shape(Shape::rect(&[0.0], &[1.0]))
            .mask(&grid, "population[0].region")
            .unwrap_err();
        assert!(e.to_string().contains("population[0].region.min"), "{e}");
        let e = Shape::disc(&[0.0, 0.0], -1.0)
            .validate(2, "obstacles[1]")
            .unwrap_err();
        assert!(e.to_string().contains("obstacles[1].radius"), "{e}");
        let e = Shape::Polygon {
            vertices: vec![[0.0, 0.0], [1.0, 0.0]],
        }
        .validate(2, "r")
        .unwrap_err();
        assert!(e.to_string().contains("r.vertices"), "{e}");
        let e = Region::Nodes(vec![true; 3]).mask(&grid, "r").unwrap_err();
        assert!(e.to_string().contains("3 flags"), "{e}");
    }
}
