//! The schema of a result file: every group, dataset and attribute the layout promises, with its
//! type and its shape in terms of the sizes the file declares (Nt + 1 levels, Nx, Ny, K
//! populations, I iterations). [`check`] validates a file against it before any array is read:
//! sizes are read from attributes and compared with the datasets' shapes, the products are
//! computed with checked arithmetic, and every dataset's declared size is bounded by what its
//! storage in the file can hold, so that no damaged file makes the reader allocate more than
//! the file could decompress to.

use crate::io::{Error, Result};
use ::hdf5 as h5;
use h5::types::{FloatSize, IntSize, TypeDescriptor};
use std::path::Path;

/// deflate cannot expand data by more than about 1032:1; with margin, no honest dataset of
/// ours declares more than this many bytes per stored byte.
const MAX_EXPANSION: u64 = 1100;
/// Small arrays may sit in an object header (compact storage) or be tiny chunks: this many
/// declared bytes are accepted whatever the storage.
const SLACK_BYTES: u64 = 1 << 16;

/// The value types of the layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::io) enum Kind {
    F64,
    U64,
    /// A byte (masks: 1 for a node of the population's state space, 0 for a removed one).
    U8,
    Str,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::F64 => "a 64-bit float",
            Kind::U64 => "a 64-bit unsigned integer",
            Kind::U8 => "an 8-bit unsigned integer",
            Kind::Str => "a variable-length UTF-8 string",
        }
    }

    fn matches(self, t: &TypeDescriptor) -> bool {
        matches!(
            (self, t),
            (Kind::F64, TypeDescriptor::Float(FloatSize::U8))
                | (Kind::U64, TypeDescriptor::Unsigned(IntSize::U8))
                | (Kind::U8, TypeDescriptor::Unsigned(IntSize::U1))
                | (Kind::Str, TypeDescriptor::VarLenUnicode)
        )
    }
}

fn type_name(t: &TypeDescriptor) -> String {
    match t {
        TypeDescriptor::Integer(s) => format!("a {}-bit signed integer", *s as usize * 8),
        TypeDescriptor::Unsigned(s) => format!("a {}-bit unsigned integer", *s as usize * 8),
        TypeDescriptor::Float(s) => format!("a {}-bit float", *s as usize * 8),
        TypeDescriptor::Boolean => "a boolean".into(),
        TypeDescriptor::Enum(_) => "an enumeration".into(),
        TypeDescriptor::Compound(_) => "a compound type".into(),
        TypeDescriptor::FixedArray(..) | TypeDescriptor::VarLenArray(_) => "an array type".into(),
        TypeDescriptor::FixedAscii(_) | TypeDescriptor::FixedUnicode(_) => {
            "a fixed-length string".into()
        }
        TypeDescriptor::VarLenAscii => "an ASCII string".into(),
        TypeDescriptor::VarLenUnicode => "a string".into(),
        TypeDescriptor::Reference(_) => "a reference".into(),
    }
}

fn shape_name(shape: &[usize]) -> String {
    if shape.is_empty() {
        "a scalar".into()
    } else {
        format!("shape {shape:?}")
    }
}

/// Checks against the schema, naming what is wrong.
pub(in crate::io) struct Checker<'a> {
    pub path: &'a Path,
    /// Size of the file in bytes (bounds every dataset's storage).
    pub file_size: u64,
}

impl Checker<'_> {
    pub fn damaged(&self, what: String) -> Error {
        Error::Damaged {
            path: self.path.to_path_buf(),
            what,
        }
    }

    fn has_attr(&self, loc: &h5::Location, name: &str) -> bool {
        loc.attr_names()
            .map(|names| names.iter().any(|n| n == name))
            .unwrap_or(false)
    }

    /// The attribute `name` of `loc`, of `kind` and `shape` (`[]`: a scalar).
    pub fn attr(
        &self,
        loc: &h5::Location,
        name: &str,
        kind: Kind,
        shape: &[usize],
    ) -> Result<h5::Attribute> {
        let owner = loc.name();
        if !self.has_attr(loc, name) {
            return Err(self.damaged(format!("attribute {name} of {owner} is missing")));
        }
        let a = loc
            .attr(name)
            .map_err(|e| self.damaged(format!("attribute {name} of {owner}: {e}")))?;
        let t = a
            .dtype()
            .and_then(|t| t.to_descriptor())
            .map_err(|e| self.damaged(format!("attribute {name} of {owner}: {e}")))?;
        if !kind.matches(&t) {
            return Err(self.damaged(format!(
                "attribute {name} of {owner} is {}, expected {}",
                type_name(&t),
                kind.name()
            )));
        }
        if a.shape() != shape {
            return Err(self.damaged(format!(
                "attribute {name} of {owner} has {}, expected {}",
                shape_name(&a.shape()),
                shape_name(shape)
            )));
        }
        Ok(a)
    }

    /// Checks an optional attribute: absent, or of `kind` and scalar.
    pub fn opt_attr(&self, loc: &h5::Location, name: &str, kind: Kind) -> Result<bool> {
        if !self.has_attr(loc, name) {
            return Ok(false);
        }
        self.attr(loc, name, kind, &[]).map(|_| true)
    }

    pub fn u64(&self, loc: &h5::Location, name: &str) -> Result<u64> {
        self.attr(loc, name, Kind::U64, &[])?
            .read_scalar::<u64>()
            .map_err(|e| self.damaged(format!("attribute {name} of {}: {e}", loc.name())))
    }

    pub fn f64(&self, loc: &h5::Location, name: &str) -> Result<f64> {
        self.attr(loc, name, Kind::F64, &[])?
            .read_scalar::<f64>()
            .map_err(|e| self.damaged(format!("attribute {name} of {}: {e}", loc.name())))
    }

    pub fn string(&self, loc: &h5::Location, name: &str) -> Result<String> {
        self.attr(loc, name, Kind::Str, &[])?
            .read_scalar::<h5::types::VarLenUnicode>()
            .map(|s| s.as_str().to_string())
            .map_err(|e| self.damaged(format!("attribute {name} of {}: {e}", loc.name())))
    }

    pub fn opt_string(&self, loc: &h5::Location, name: &str) -> Result<Option<String>> {
        if self.opt_attr(loc, name, Kind::Str)? {
            self.string(loc, name).map(Some)
        } else {
            Ok(None)
        }
    }

    pub fn group(&self, parent: &h5::Group, name: &str) -> Result<h5::Group> {
        let full = format!("{}/{name}", parent.name().trim_end_matches('/'));
        if !parent.link_exists(name) {
            return Err(self.damaged(format!("group {full} is missing")));
        }
        parent
            .group(name)
            .map_err(|_| self.damaged(format!("{full} is not a group")))
    }

    /// The dataset `name` of `g`, whatever its type and shape.
    pub fn any_dataset(&self, g: &h5::Group, name: &str) -> Result<h5::Dataset> {
        let full = format!("{}/{name}", g.name().trim_end_matches('/'));
        if !g.link_exists(name) {
            return Err(self.damaged(format!("dataset {full} is missing")));
        }
        g.dataset(name)
            .map_err(|_| self.damaged(format!("{full} is not a dataset")))
    }

    /// The dataset `name` of `g`, of `kind` and exactly `shape`, whose declared size its
    /// storage can hold.
    pub fn dataset(
        &self,
        g: &h5::Group,
        name: &str,
        kind: Kind,
        shape: &[usize],
    ) -> Result<h5::Dataset> {
        let full = format!("{}/{name}", g.name().trim_end_matches('/'));
        let d = self.any_dataset(g, name)?;
        let t = d
            .dtype()
            .and_then(|t| t.to_descriptor())
            .map_err(|e| self.damaged(format!("dataset {full}: {e}")))?;
        if !kind.matches(&t) {
            return Err(self.damaged(format!(
                "dataset {full} holds {}, expected {}",
                type_name(&t),
                kind.name()
            )));
        }
        if d.shape() != shape {
            return Err(self.damaged(format!(
                "dataset {full} has {}, expected {}",
                shape_name(&d.shape()),
                shape_name(shape)
            )));
        }
        self.storage_holds(&d, &full, shape)?;
        Ok(d)
    }

    /// The shape of a dataset, checked to be of `kind` and rank `rank` (its sizes unknown yet).
    pub fn dataset_shape(
        &self,
        g: &h5::Group,
        name: &str,
        kind: Kind,
        rank: usize,
    ) -> Result<Vec<usize>> {
        let full = format!("{}/{name}", g.name().trim_end_matches('/'));
        let shape = self.any_dataset(g, name)?.shape();
        if shape.len() != rank {
            return Err(self.damaged(format!(
                "dataset {full} has {} dimensions, expected {rank}",
                shape.len()
            )));
        }
        self.dataset(g, name, kind, &shape)?;
        Ok(shape)
    }

    /// Refuses a dataset that declares more data than its storage can decompress to.
    fn storage_holds(&self, d: &h5::Dataset, full: &str, shape: &[usize]) -> Result<()> {
        let elems = shape
            .iter()
            .try_fold(1u64, |acc, &n| acc.checked_mul(n as u64));
        let bytes = elems.and_then(|e| e.checked_mul(8));
        let storage = d.storage_size();
        let limit = storage
            .saturating_mul(MAX_EXPANSION)
            .saturating_add(SLACK_BYTES);
        match bytes {
            Some(b) if b <= limit && storage <= self.file_size => Ok(()),
            Some(b) => Err(self.damaged(format!(
                "dataset {full} declares {b} bytes of data, more than its {storage} bytes of \
                 storage in a {}-byte file can hold",
                self.file_size
            ))),
            None => Err(self.damaged(format!(
                "dataset {full} has shape {shape:?}, too large to exist"
            ))),
        }
    }
}

/// `a * b`, or the error that the file's sizes overflow.
pub(super) fn product(c: &Checker<'_>, sizes: &[usize]) -> Result<usize> {
    sizes
        .iter()
        .try_fold(1usize, |acc, &n| acc.checked_mul(n))
        .ok_or_else(|| c.damaged(format!("sizes {sizes:?} overflow")))
}
