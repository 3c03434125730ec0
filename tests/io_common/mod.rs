//! Result files and ways to damage them, shared by the damaged-file tests and the fuzz corpus:
//! small 1D and 2D results written by the library, and mutations of their structure (a dataset
//! removed, retyped or reshaped; an attribute removed, retyped or set to a wrong value) and of
//! their bytes (bit flips, truncations, overwritten ranges).
#![allow(dead_code)]

#[path = "../common/examples.rs"]
mod examples;

use hdf5::types::VarLenUnicode;
use mfg::io::{self, Run, WriteOptions};
use mfg::solve;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

/// Held while this process has a file open through the HDF5 crate directly (these helpers) and
/// while it starts a child process. HDF5 opens files without close-on-exec and locks them: a
/// child started by another test thread while a helper holds a file would inherit the lock and
/// make the next open of that file fail ("unable to lock file"). The library's own opens are
/// close-on-exec; these helpers, which edit files in ways the library never does, are not.
static FORK_GUARD: Mutex<()> = Mutex::new(());

/// Takes [`FORK_GUARD`] (a panicking test does not poison it for the others).
pub fn fork_guard() -> MutexGuard<'static, ()> {
    FORK_GUARD.lock().unwrap_or_else(|e| e.into_inner())
}

/// Writes a small finished result (1D with `ny = None`, else 2D) to `path` and returns it.
pub fn write_result(path: &Path, ny: Option<usize>, compression: Option<u8>) -> Vec<u8> {
    let cfg = match ny {
        None => examples::coarse("two_groups_1d.toml", 21, None, 6, Some(3)),
        Some(ny) => examples::coarse("corridor_2d.toml", 9, Some(ny), 4, Some(2)),
    };
    let (problem, settings) = cfg.build().unwrap();
    let solution = solve::solve(&problem, &settings).unwrap();
    let opts = WriteOptions { compression };
    io::write(path, &problem, &Run::finished(&solution), Some(&cfg), &opts).unwrap();
    std::fs::read(path).unwrap()
}

/// A structural change made with the HDF5 library.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// The dataset is removed.
    Remove,
    /// The dataset is replaced by a string.
    Retype,
    /// The dataset is replaced by f64 data of another shape (one more entry along the last
    /// axis).
    Reshape,
}

/// Splits `a/b/c` into the group `a/b` and the name `c`.
fn split(path: &str) -> (&str, &str) {
    match path.rsplit_once('/') {
        Some((g, n)) => (if g.is_empty() { "/" } else { g }, n),
        None => ("/", path),
    }
}

/// Applies `edit` to the dataset `path` of the file.
pub fn edit_dataset(file: &Path, path: &str, edit: Edit) {
    let _guard = fork_guard();
    let f = hdf5::File::open_rw(file).unwrap();
    let (g, name) = split(path);
    let g = f.group(g).unwrap();
    let old = g.dataset(name).unwrap();
    let mut shape = old.shape();
    drop(old);
    g.unlink(name).unwrap();
    match edit {
        Edit::Remove => {}
        Edit::Retype => {
            let v: VarLenUnicode = "not numbers".parse().unwrap();
            g.new_dataset::<VarLenUnicode>()
                .create(name)
                .unwrap()
                .write_scalar(&v)
                .unwrap();
        }
        Edit::Reshape => {
            match shape.last_mut() {
                Some(n) => *n += 1,
                None => shape.push(2),
            }
            let n: usize = shape.iter().product();
            g.new_dataset::<f64>()
                .shape(shape)
                .create(name)
                .unwrap()
                .write_raw(&vec![0.5; n])
                .unwrap();
        }
    }
}

/// A new value for an attribute.
#[derive(Debug, Clone)]
pub enum AttrValue {
    Remove,
    U64(u64),
    F64(f64),
    Str(String),
}

/// Sets (or removes) the attribute `name` of the object `path` (`/` for the root).
pub fn set_attr(file: &Path, path: &str, name: &str, value: AttrValue) {
    let _guard = fork_guard();
    let f = hdf5::File::open_rw(file).unwrap();
    let loc: hdf5::Location = if path == "/" {
        (**f).clone()
    } else if let Ok(d) = f.dataset(path) {
        (**d).clone()
    } else {
        (*f.group(path).unwrap()).clone()
    };
    if loc.attr_names().unwrap().iter().any(|n| n == name) {
        loc.delete_attr(name).unwrap();
    }
    match value {
        AttrValue::Remove => {}
        AttrValue::U64(v) => loc
            .new_attr::<u64>()
            .create(name)
            .unwrap()
            .write_scalar(&v)
            .unwrap(),
        AttrValue::F64(v) => loc
            .new_attr::<f64>()
            .create(name)
            .unwrap()
            .write_scalar(&v)
            .unwrap(),
        AttrValue::Str(v) => {
            let v: VarLenUnicode = v.parse().unwrap();
            loc.new_attr::<VarLenUnicode>()
                .create(name)
                .unwrap()
                .write_scalar(&v)
                .unwrap()
        }
    }
}

/// The byte range of the first chunk of the dataset `path` in the file.
pub fn first_chunk(file: &Path, path: &str) -> std::ops::Range<usize> {
    let _guard = fork_guard();
    let f = hdf5::File::open(file).unwrap();
    let info = f.dataset(path).unwrap().chunk_info(0).unwrap();
    info.addr as usize..(info.addr + info.size) as usize
}

/// Every dataset path of the file (for the structural mutations of the fuzz corpus).
pub fn dataset_paths(file: &Path) -> Vec<String> {
    let _guard = fork_guard();
    fn walk(g: &hdf5::Group, prefix: &str, out: &mut Vec<String>) {
        for name in g.member_names().unwrap() {
            let path = format!("{prefix}/{name}");
            if let Ok(sub) = g.group(&name) {
                walk(&sub, &path, out);
            } else {
                out.push(path);
            }
        }
    }
    let f = hdf5::File::open(file).unwrap();
    let mut out = Vec::new();
    walk(&f, "", &mut out);
    out
}

/// Every (object path, attribute name) of the file.
pub fn attribute_paths(file: &Path) -> Vec<(String, String)> {
    let datasets = dataset_paths(file);
    let _guard = fork_guard();
    let f = hdf5::File::open(file).unwrap();
    let mut objects = vec!["/".to_string()];
    objects.extend(group_paths(&f, ""));
    objects.extend(datasets);
    let mut out = Vec::new();
    for o in objects {
        let loc: hdf5::Location = if o == "/" {
            (**f).clone()
        } else if let Ok(d) = f.dataset(&o) {
            (**d).clone()
        } else {
            (*f.group(&o).unwrap()).clone()
        };
        for a in loc.attr_names().unwrap() {
            out.push((o.clone(), a));
        }
    }
    out
}

fn group_paths(g: &hdf5::Group, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    for name in g.member_names().unwrap() {
        if let Ok(sub) = g.group(&name) {
            let path = format!("{prefix}/{name}");
            out.push(path.clone());
            out.extend(group_paths(&sub, &path));
        }
    }
    out
}

/// Every way of reading a file: none may panic; returns whether each refused it.
pub fn read_all_ways(path: &Path) -> [Result<(), String>; 3] {
    [
        io::read_header(path).map(drop).map_err(|e| e.to_string()),
        io::read(path).map(drop).map_err(|e| e.to_string()),
        io::verify(path).map(drop).map_err(|e| e.to_string()),
    ]
}
