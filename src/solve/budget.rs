//! The memory a solve needs, estimated from the sizes alone before anything is allocated: K
//! populations on N = Π_a N_a nodes and Nt + 1 time levels.
//!
//! - fields: u^k and m^k on every level, the copies the method keeps (the previous iterate,
//!   Anderson's history, Newton's step and trial point) and the controls α^k computed for the
//!   result file: 8 (Nt + 1) N K bytes each;
//! - per-population data: m0^k, V^k, g^k (8 N K bytes each), and the grid's neighbour table
//!   and node coordinates (8 · 3d N bytes);
//! - the step solver: the matrix I/Δt − Q_n of one level, its factorisation or MILU and the
//!   Krylov vectors of one population (a few tens of 8 N bytes);
//! - Newton: on the whole space-time system with 2 K (Nt + 1) N unknowns, the assembled
//!   Jacobian (nnz ≈ unknowns × (2d + 3 + K)) and either the GMRES basis (restart + a few
//!   vectors) or, for the direct solver, the LU factors (counted with a fill factor).
//!
//! Every product uses checked arithmetic, so a size that cannot exist (n = 2⁶³) is an error and
//! never an overflow or a capacity panic. The estimate is meant to refuse impossible problems
//! and to tell the user what a problem costs (`mfg check`), not to predict the peak to the byte.
//! Measured peaks (`/usr/bin/time -v mfg solve`) against the estimate: 1D Picard, N = 4001,
//! Nt = 400, K = 2: 266 MiB against 221 MiB; the 2D corridor example (60 × 20, Nt = 60, Newton):
//! 74 MiB against 104 MiB; refined to 120 × 40: 230 MiB against 416 MiB.

use super::newton::NewtonSolverKind;
use super::{MethodKind, SolverSettings};
use crate::error::{Error, Result};

/// Bytes of one f64.
const F64: u64 = 8;
/// Fill factor assumed for the sparse LU of the space-time Jacobian (1D systems only: the
/// direct solver is refused above `direct_max_unknowns`).
const LU_FILL: u64 = 12;
/// Vectors of length N the step solver of one population keeps: the five-point matrix (5),
/// its MILU (5), BiCGSTAB's work vectors (8), right-hand side and solution (2).
const STEP_VECTORS: u64 = 20;

/// The sizes of a problem that determine its memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    /// Nodes per axis (one or two).
    pub nodes: [usize; 2],
    /// Spatial dimension d (1 or 2).
    pub dim: usize,
    /// Time steps Nt (Nt + 1 levels).
    pub steps: usize,
    /// Populations K.
    pub populations: usize,
}

impl Sizes {
    /// The configuration field an error about these sizes names: the time steps when they
    /// outnumber the nodes, else the grid.
    pub fn field(&self) -> &'static str {
        let nodes = self.nodes[..self.dim]
            .iter()
            .fold(1u128, |acc, &n| acc.saturating_mul(n as u128));
        if self.steps as u128 > nodes {
            "time.steps"
        } else {
            "grid"
        }
    }

    /// Checks the estimate of solving a problem of these sizes with `settings` against their
    /// memory limit; the error names [`Sizes::field`].
    pub fn check(&self, settings: &SolverSettings) -> Result<MemoryEstimate> {
        let e = MemoryEstimate::of(self, settings)?;
        e.check_named(settings.memory_limit, self.field())?;
        Ok(e)
    }

    /// The sizes of `problem`.
    pub fn of(problem: &crate::problem::Problem) -> Self {
        let axes = problem.grid().axes();
        Sizes {
            nodes: [axes[0].n, axes.get(1).map_or(1, |a| a.n)],
            dim: axes.len(),
            steps: problem.time().nt,
            populations: problem.populations().len(),
        }
    }
}

/// The estimated memory of a solve, in bytes, by part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryEstimate {
    /// Unknowns of the discrete system, 2 K (Nt + 1) N.
    pub unknowns: u64,
    /// u, m, the method's copies of them and the controls.
    pub fields: u64,
    /// m0, V, g of every population and the step solver's matrices and vectors.
    pub step: u64,
    /// Newton's Jacobian and linear solver (0 for Picard and Anderson).
    pub newton: u64,
}

impl MemoryEstimate {
    /// The whole estimate.
    pub fn total(&self) -> u64 {
        self.fields
            .saturating_add(self.step)
            .saturating_add(self.newton)
    }

    /// The estimate of solving a problem of `sizes` with `settings`. A size whose products
    /// overflow 64 bits is [`Error::Invalid`] naming `field` (the grid or the time steps).
    pub fn of(sizes: &Sizes, settings: &SolverSettings) -> Result<Self> {
        if let MethodKind::Auto(a) = settings.method {
            // The estimate of the method auto starts with (it never needs both at once).
            let plan = super::auto::Plan::of(sizes, settings, &a)?;
            let first = match plan.first {
                super::auto::Choice::Newton => MethodKind::Newton(a.newton),
                super::auto::Choice::Picard => MethodKind::Picard(a.picard),
                super::auto::Choice::Anderson => MethodKind::Anderson(a.anderson),
            };
            let first = SolverSettings {
                method: first,
                ..settings.clone()
            };
            return Self::of(sizes, &first);
        }
        let field = sizes.field();
        let too_large = |what: &str| {
            Error::invalid(
                field,
                format!(
                    "{what} overflows 64 bits ({} nodes per axis, {} steps, {} populations): \
                     no machine can hold this problem",
                    describe_nodes(sizes),
                    sizes.steps,
                    sizes.populations
                ),
            )
        };
        let mul = |a: u64, b: u64, what: &str| a.checked_mul(b).ok_or_else(|| too_large(what));
        let nodes = sizes.nodes[..sizes.dim]
            .iter()
            .try_fold(1u64, |acc, &n| acc.checked_mul(n as u64))
            .ok_or_else(|| too_large("the number of nodes"))?;
        let levels = (sizes.steps as u64)
            .checked_add(1)
            .ok_or_else(|| too_large("the number of time levels"))?;
        let k = sizes.populations as u64;
        let per_field = mul(mul(levels, nodes, "a field's size")?, k, "a field's size")?;
        let unknowns = mul(2, per_field, "the number of unknowns")?;
        let dim = sizes.dim as u64;
        // Copies of (u, m) the method holds besides the iterate itself.
        let copies = match settings.method {
            MethodKind::Picard(_) => 2,
            MethodKind::Anderson(a) => 2 + 2 * a.depth as u64,
            MethodKind::Newton(_) => 4,
            MethodKind::Auto(_) => unreachable!("auto is estimated as the method it starts with"),
        };
        // u and m (2 each) per copy, the controls (d), and the residual/work fields (2).
        let field_count = 2 * (1 + copies) + dim + 2;
        let fields = mul(
            mul(per_field, field_count, "the fields")?,
            F64,
            "the fields",
        )?;
        // m0, V, g per population, the step solver's vectors and the grid's neighbour table
        // and coordinates (3d per node).
        let step = mul(
            mul(nodes, k * 3 + STEP_VECTORS + 3 * dim, "the step solver")?,
            F64,
            "the step solver",
        )?;
        let newton = match settings.method {
            MethodKind::Newton(n) => {
                let nnz = mul(unknowns, 2 * dim + 3 + k, "the Jacobian")?;
                // Values and column indices, 16 bytes per entry.
                let jacobian = mul(nnz, 16, "the Jacobian")?;
                let solver = match n.linear_solver {
                    NewtonSolverKind::Direct => mul(jacobian, LU_FILL, "the LU factors")?,
                    NewtonSolverKind::Krylov | NewtonSolverKind::Auto => mul(
                        mul(unknowns, n.gmres_restart as u64 + 4, "the GMRES basis")?,
                        F64,
                        "the GMRES basis",
                    )?,
                };
                jacobian
                    .checked_add(solver)
                    .ok_or_else(|| too_large("Newton"))?
            }
            _ => 0,
        };
        Ok(MemoryEstimate {
            unknowns,
            fields,
            step,
            newton,
        })
    }

    /// Refuses the problem when the estimate exceeds `limit` bytes (the user's limit) or, when
    /// there is none, the memory this machine has available now. `Ok` when neither is known.
    pub fn check(&self, limit: Option<u64>) -> Result<()> {
        self.check_named(limit, "grid")
    }

    /// [`MemoryEstimate::check`] with the field the error names.
    fn check_named(&self, limit: Option<u64>, field: &str) -> Result<()> {
        let (limit, whose) = match limit {
            Some(l) => (l, "the memory limit".to_string()),
            None => match available_memory() {
                Some(a) => (a, "the memory available on this machine".to_string()),
                None => return Ok(()),
            },
        };
        if self.total() > limit {
            return Err(Error::invalid(
                field,
                format!(
                    "this problem needs about {} ({} unknowns: fields {}, step solver {}, Newton \
                     {}), more than {whose} ({}); use fewer nodes or time steps, Picard instead \
                     of Newton, or raise the limit (--memory-limit)",
                    bytes(self.total()),
                    self.unknowns,
                    bytes(self.fields),
                    bytes(self.step),
                    bytes(self.newton),
                    bytes(limit)
                ),
            ));
        }
        Ok(())
    }
}

fn describe_nodes(sizes: &Sizes) -> String {
    sizes.nodes[..sizes.dim]
        .iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(" × ")
}

/// `n` bytes in binary units, e.g. `3.2 GiB`.
pub fn bytes(n: u64) -> String {
    bytesize::ByteSize::b(n).display().iec().to_string()
}

/// The memory available to a new allocation now (`MemAvailable` of `/proc/meminfo`), or `None`
/// where the platform does not say.
pub fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// Parses a memory size such as `8 GiB`, `512MB` or `1000000` (bytes), for `--memory-limit`
/// and `[solver] memory_limit`.
pub fn parse_bytes(text: &str, field: &str) -> Result<u64> {
    text.trim()
        .parse::<bytesize::ByteSize>()
        .map(|b| b.as_u64())
        .map_err(|e| {
            Error::invalid(
                field,
                format!("{text:?} is not a memory size such as \"8 GiB\" or \"512 MB\" ({e})"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solve::NewtonSettings;

    fn sizes(nodes: [usize; 2], dim: usize, steps: usize) -> Sizes {
        Sizes {
            nodes,
            dim,
            steps,
            populations: 2,
        }
    }

    #[test]
    fn picard_fields_dominate_and_count_every_copy() {
        let picard = SolverSettings {
            method: MethodKind::Picard(crate::solve::Relaxation::Fixed(0.5)),
            ..SolverSettings::default()
        };
        let e = MemoryEstimate::of(&sizes([100, 1], 1, 9), &picard).unwrap();
        // 2 populations × 10 levels × 100 nodes, 2 (1 + 2) + 1 + 2 fields of 8 bytes.
        assert_eq!(e.unknowns, 4000);
        assert_eq!(e.fields, 2000 * 9 * 8);
        assert_eq!(e.newton, 0);
    }

    #[test]
    fn newton_adds_its_jacobian_and_basis() {
        let s = SolverSettings {
            method: MethodKind::Newton(NewtonSettings::default()),
            ..SolverSettings::default()
        };
        let picard = SolverSettings {
            method: MethodKind::Picard(crate::solve::Relaxation::Adaptive),
            ..SolverSettings::default()
        };
        let p = MemoryEstimate::of(&sizes([50, 50], 2, 20), &picard).unwrap();
        let n = MemoryEstimate::of(&sizes([50, 50], 2, 20), &s).unwrap();
        assert!(n.newton > 0 && n.total() > p.total());
    }

    #[test]
    fn impossible_sizes_are_errors_not_overflows() {
        for (nodes, dim, steps) in [
            ([usize::MAX, 1], 1, 10),
            ([1 << 62, 1], 1, 10),
            ([1_000_000_000, 1_000_000_000], 2, 10),
            ([100, 1], 1, usize::MAX),
        ] {
            let e = MemoryEstimate::of(&sizes(nodes, dim, steps), &SolverSettings::default());
            match e {
                Err(Error::Invalid { field, reason }) => {
                    assert!(field == "grid" || field == "time.steps", "{field}");
                    assert!(reason.contains("overflows"), "{reason}");
                }
                Ok(e) => assert!(e.check(Some(1 << 40)).is_err(), "{nodes:?} {steps}"),
                Err(other) => panic!("{other}"),
            }
        }
    }

    #[test]
    fn the_limit_is_enforced_with_a_reason() {
        let e =
            MemoryEstimate::of(&sizes([1000, 1000], 2, 100), &SolverSettings::default()).unwrap();
        let err = e.check(Some(1 << 30)).unwrap_err().to_string();
        assert!(err.contains("memory limit") && err.contains("GiB"), "{err}");
        assert!(e.check(Some(u64::MAX)).is_ok());
    }

    #[test]
    fn sizes_parse_in_binary_and_decimal_units() {
        assert_eq!(parse_bytes("8 GiB", "f").unwrap(), 8 << 30);
        assert_eq!(parse_bytes("512MB", "f").unwrap(), 512_000_000);
        assert!(parse_bytes("lots", "f").is_err());
    }
}
