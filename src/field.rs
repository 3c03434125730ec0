//! Space-time fields: one value per (time level n = 0..=Nt, grid node i), stored level by level
//! (row-major `(Nt+1, [Ny,] Nx)`), the layout of u^k and m^k.

/// A scalar field on the space-time grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    nodes: usize,
    data: Vec<f64>,
}

impl Field {
    /// A field of `levels` time levels × `nodes` nodes filled with `value`.
    pub fn filled(levels: usize, nodes: usize, value: f64) -> Self {
        Field {
            nodes,
            data: vec![value; levels * nodes],
        }
    }

    /// A field whose every level is a copy of `level`.
    pub fn constant_in_time(levels: usize, level: &[f64]) -> Self {
        let mut data = Vec::with_capacity(levels * level.len());
        for _ in 0..levels {
            data.extend_from_slice(level);
        }
        Field {
            nodes: level.len(),
            data,
        }
    }

    /// Wraps level-major data; `data.len()` must be a multiple of `nodes`.
    pub fn from_vec(nodes: usize, data: Vec<f64>) -> Self {
        assert!(
            nodes > 0 && data.len().is_multiple_of(nodes),
            "field shape mismatch"
        );
        Field { nodes, data }
    }

    /// Number of grid nodes per level.
    pub fn nodes(&self) -> usize {
        self.nodes
    }

    /// Number of time levels (Nt + 1).
    pub fn levels(&self) -> usize {
        self.data.len() / self.nodes
    }

    /// Values at level n.
    #[inline]
    pub fn level(&self, n: usize) -> &[f64] {
        &self.data[n * self.nodes..(n + 1) * self.nodes]
    }

    /// Mutable values at level n.
    #[inline]
    pub fn level_mut(&mut self, n: usize) -> &mut [f64] {
        &mut self.data[n * self.nodes..(n + 1) * self.nodes]
    }

    /// Level n (read) and level n+1 (write) at once.
    pub fn level_pair_mut(&mut self, n: usize) -> (&[f64], &mut [f64]) {
        let (a, b) = self.data.split_at_mut((n + 1) * self.nodes);
        (&a[n * self.nodes..], &mut b[..self.nodes])
    }

    /// Level n (write) and level n+1 (read) at once.
    pub fn level_mut_and_next(&mut self, n: usize) -> (&mut [f64], &[f64]) {
        let (a, b) = self.data.split_at_mut((n + 1) * self.nodes);
        (&mut a[n * self.nodes..], &b[..self.nodes])
    }

    /// All values, level-major.
    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }

    /// All values, level-major, mutable.
    pub fn as_mut_slice(&mut self) -> &mut [f64] {
        &mut self.data
    }

    /// Consumes the field into its level-major values.
    pub fn into_vec(self) -> Vec<f64> {
        self.data
    }

    /// max |self - other| over all levels and nodes.
    pub fn max_abs_diff(&self, other: &Field) -> f64 {
        self.data
            .iter()
            .zip(&other.data)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max)
    }

    /// max over levels of Σ_i |self - other| · weight (an L∞-in-time, L1-in-space distance).
    pub fn max_level_l1_diff(&self, other: &Field, weight: f64) -> f64 {
        (0..self.levels())
            .map(|n| {
                self.level(n)
                    .iter()
                    .zip(other.level(n))
                    .map(|(a, b)| (a - b).abs())
                    .sum::<f64>()
                    * weight
            })
            .fold(0.0, f64::max)
    }

    /// True when every value is finite.
    pub fn is_finite(&self) -> bool {
        self.data.iter().all(|v| v.is_finite())
    }
}
