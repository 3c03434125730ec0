//! A fuzz corpus over the result-file reader, generated from small 1D and 2D results written by
//! the library: every dataset removed, retyped and reshaped, every attribute removed and
//! retyped, the bytes truncated at many lengths, and single bits and byte ranges flipped at
//! seeded random positions (outside the global heap collections, which libhdf5 does not
//! protect: see `global_heaps`). Every reader (`read_header`, `read`, `verify`) must return,
//! never panic or abort; a file whose structure was damaged must be refused; a refusal names
//! the file.

mod io_common;

use io_common::{
    attribute_paths, dataset_paths, edit_dataset, read_all_ways, set_attr, write_result, AttrValue,
    Edit,
};
use rand::{Rng, SeedableRng};
use std::path::Path;

/// Runs every reader on `path` (a panic fails the test through the hook-less catch) and returns
/// whether all of them refused it.
fn read_refuses(path: &Path, label: &str, panics: &mut Vec<String>) -> Option<bool> {
    match std::panic::catch_unwind(|| read_all_ways(path)) {
        Err(_) => {
            panics.push(label.to_string());
            None
        }
        Ok(results) => {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            for r in results.iter().flatten_err() {
                assert!(
                    r.contains(&name),
                    "{label}: the refusal does not name the file: {r}"
                );
            }
            Some(results.iter().all(Result::is_err))
        }
    }
}

trait FlattenErr<'a> {
    fn flatten_err(self) -> Vec<&'a String>;
}

impl<'a, I: Iterator<Item = &'a Result<(), String>>> FlattenErr<'a> for I {
    fn flatten_err(self) -> Vec<&'a String> {
        self.filter_map(|r| r.as_ref().err()).collect()
    }
}

#[test]
fn structural_damage_is_always_refused_and_nothing_panics() {
    let dir = tempfile::tempdir().unwrap();
    let mut panics = Vec::new();
    let mut cases = 0;
    let mut accepted = Vec::new();
    for (tag, ny) in [("1d", None), ("2d", Some(4))] {
        let good = dir.path().join(format!("good_{tag}.h5"));
        let bytes = write_result(&good, ny, Some(4));
        let copy = |name: &str| {
            let p = dir.path().join(format!("{tag}_{name}.h5"));
            std::fs::write(&p, &bytes).unwrap();
            p
        };
        for (i, d) in dataset_paths(&good).iter().enumerate() {
            for edit in [Edit::Remove, Edit::Retype, Edit::Reshape] {
                let p = copy(&format!("d{i}_{edit:?}"));
                edit_dataset(&p, d, edit);
                cases += 1;
                if read_refuses(&p, &format!("{d} {edit:?}"), &mut panics) == Some(false) {
                    accepted.push(format!("{tag}: {d} {edit:?}"));
                }
                std::fs::remove_file(&p).unwrap();
            }
        }
        for (i, (obj, a)) in attribute_paths(&good).iter().enumerate() {
            for (j, value) in [AttrValue::Remove, AttrValue::Str("?".into())]
                .into_iter()
                .enumerate()
            {
                let p = copy(&format!("a{i}_{j}"));
                set_attr(&p, obj, a, value);
                cases += 1;
                let refused = read_refuses(&p, &format!("{obj} @{a} #{j}"), &mut panics);
                // Descriptive attributes (units, long names, the creation time…) may go; what
                // the reader interprets may not. Either way no reader may panic.
                // An attribute added within a format version may be absent (older files):
                // its removal is accepted, a wrong type is not.
                let may_be_absent = j == 0 && added_later(a);
                if refused == Some(false) && !descriptive(a) && !may_be_absent {
                    accepted.push(format!("{tag}: {obj} @{a} #{j}"));
                }
                std::fs::remove_file(&p).unwrap();
            }
        }
    }
    eprintln!("{cases} structural mutations, {} panics", panics.len());
    assert!(cases >= 200, "{cases}");
    assert!(panics.is_empty(), "readers panicked on {panics:#?}");
    assert!(
        accepted.is_empty(),
        "damaged files accepted:\n{}",
        accepted.join("\n")
    );
}

/// Attributes added within format version 2, which files written before them lack (the reader
/// then takes their default: no discount).
fn added_later(name: &str) -> bool {
    // `horizon`: files written before stationary results existed are finite-horizon ones; the
    // monotonicity diagnostic of `/coupling` came later too.
    matches!(name, "discount" | "horizon" | "monotone_for_all_densities")
        || name.starts_with("monotone_")
        || name.starts_with("lambda_min_")
}

/// Attributes that only describe (for people and netCDF tools) and that the reader does not
/// need to interpret the data: their absence or another string does not make the data wrong.
/// The configuration text is optional (problems built in code have none); a damaged one is
/// refused when the problem is rebuilt from it. Hamiltonian parameters are a description of the
/// stored configuration's Hamiltonian. The termination detail and the solver events are
/// free text for people (what ended the run, which method took over and why).
fn descriptive(name: &str) -> bool {
    name.starts_with("hamiltonian")
        || matches!(
            name,
            "problem" | "method" | "coupling" | "config" | "config_format" | "compression" | "kind"
        )
        || matches!(
            name,
            "units"
                | "long_name"
                | "description"
                | "axis"
                | "Conventions"
                | "created"
                | "mfg_version"
                | "title"
                | "termination_detail"
                | "solver_events"
                | "config_path"
                | "formula"
                | "CLASS"
                | "NAME"
                | "REFERENCE_LIST"
                | "DIMENSION_LIST"
                | "_Netcdf4Dimid"
                | "_Netcdf4Coordinates"
        )
}

#[test]
fn truncated_and_bit_flipped_files_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.h5");
    let bytes = write_result(&good, None, Some(4));
    let heaps = global_heaps(&bytes);
    // The collection of the variable-length strings, a few KiB of a ~48 KiB file.
    assert!(!heaps.is_empty() && heaps.iter().map(|r| r.len()).sum::<usize>() < bytes.len() / 4);
    let mut rng = rand::rngs::StdRng::seed_from_u64(20261201);
    let mut panics = Vec::new();
    let mut cases = 0;
    let mut refused = 0;
    let mut truncated_refused = 0;
    let p = dir.path().join("mutated.h5");
    for i in 0..60 {
        let len = bytes.len() * i / 60;
        std::fs::write(&p, &bytes[..len]).unwrap();
        cases += 1;
        if read_refuses(&p, &format!("truncated to {len}"), &mut panics) == Some(true) {
            truncated_refused += 1;
        }
    }
    for i in 0..300 {
        let mut b = bytes.clone();
        let flips = if i % 3 == 0 {
            1
        } else {
            rng.random_range(2..64)
        };
        for _ in 0..flips {
            // Flips inside a global heap collection are left out (see `global_heaps`).
            let at = loop {
                let at = rng.random_range(0..b.len());
                if !heaps.iter().any(|r| r.contains(&at)) {
                    break at;
                }
            };
            b[at] ^= 1 << rng.random_range(0..8);
        }
        std::fs::write(&p, &b).unwrap();
        cases += 1;
        if read_refuses(&p, &format!("bit flips #{i}"), &mut panics) == Some(true) {
            refused += 1;
        }
    }
    eprintln!(
        "{cases} byte mutations: {truncated_refused}/60 truncations and {refused}/300 bit-flipped \
         files refused by every reader, {} panics",
        panics.len()
    );
    assert!(panics.is_empty(), "readers panicked on {panics:#?}");
    // Truncation always damages a file (the superblock's end-of-file address is checked).
    assert_eq!(truncated_refused, 60);
}

/// The byte ranges of the file's global heap collections (signature `GCOL`, version, three
/// reserved bytes, then the collection's size as a little-endian u64): where HDF5 keeps the
/// variable-length strings of the attributes. Unlike object headers, B-trees and local heaps,
/// which the latest file format checksums (a flip there is refused), global heap collections
/// carry no checksum, and libhdf5 trusts the sizes in them: one flipped bit in an object's size
/// field (e.g. byte 26 of the first collection) makes `H5Aread` of a string attribute crash in
/// `H5T__conv_vlen` (a segmentation fault in the C library, which no Rust code can catch). The
/// fuzzing of those bytes is therefore left out; docs/hdf5-layout.md states the limitation.
fn global_heaps(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = bytes[from..].windows(4).position(|w| w == b"GCOL") {
        let at = from + i;
        let size = bytes
            .get(at + 8..at + 16)
            .map(|s| u64::from_le_bytes(s.try_into().unwrap()) as usize)
            .unwrap_or(0);
        out.push(at..(at + size.max(16)).min(bytes.len()));
        from = at + 4;
    }
    out
}
