//! Damaged and foreign-but-HDF5 files are refused, by the library and by `mfg inspect` (exit
//! code 2), each with the name of what is wrong: a missing, string-typed or wrongly shaped `m`,
//! bit-flipped compressed data, `grid/x` of the wrong length or with `n = 10^12`, `dimension = 3`,
//! a string `final_residual`, an in-progress file without `u`; non-regular files (a FIFO, a
//! directory) are refused without blocking. A version-1 file (written by mfg 0.1.0) still reads.

mod io_common;

use io_common::{
    edit_dataset, first_chunk, fork_guard, read_all_ways, set_attr, write_result, AttrValue, Edit,
};
use mfg::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `mfg inspect PATH`, killed (and the test failed) if it runs longer than 30 s.
fn inspect(path: &Path) -> (i32, String) {
    let guard = fork_guard();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mfg"))
        .args(["inspect", path.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(guard);
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            use std::io::Read;
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            return (status.code().unwrap_or(-1), err);
        }
        if start.elapsed() > Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("mfg inspect {} hangs", path.display());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A fresh copy of a good 1D result (compressed) in `dir`.
fn good(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    write_result(&p, None, Some(4));
    p
}

/// The library refuses the file in all three readers (header, fields, verify) or, with
/// `header_ok`, only in the ones that read the fields; the message names `what`.
fn refused(path: &Path, what: &str, header_ok: bool) {
    let [header, fields, verify] = read_all_ways(path);
    if header_ok {
        assert!(header.is_ok(), "{}: {header:?}", path.display());
    } else {
        let e = header.expect_err("read_header accepted a damaged file");
        assert!(e.contains(what), "read_header: {e}");
    }
    for (name, r) in [("read", fields), ("verify", verify)] {
        let e = r.expect_err(&format!("{name} accepted a damaged file"));
        assert!(e.contains(what), "{name}: {e} (expected {what:?})");
    }
    let (code, err) = inspect(path);
    assert_eq!(code, 2, "inspect exit code; stderr: {err}");
    assert!(err.contains(what), "inspect: {err}");
    assert!(
        err.contains(path.file_name().unwrap().to_str().unwrap()),
        "{err}"
    );
}

#[test]
fn a_good_file_passes_every_reader() {
    let dir = tempfile::tempdir().unwrap();
    let p = good(dir.path(), "ok.h5");
    for r in read_all_ways(&p) {
        r.unwrap();
    }
    let (code, err) = inspect(&p);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn missing_string_typed_or_reshaped_m_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (edit, what) in [
        (Edit::Remove, "dataset /populations/walkers/m is missing"),
        (
            Edit::Retype,
            "dataset /populations/walkers/m holds a string, expected a 64-bit float",
        ),
        (
            Edit::Reshape,
            "dataset /populations/walkers/m has shape [7, 22], expected shape [7, 21]",
        ),
    ] {
        let p = good(dir.path(), &format!("{edit:?}.h5"));
        edit_dataset(&p, "populations/walkers/m", edit);
        refused(&p, what, false);
    }
}

#[test]
fn bit_flipped_compressed_data_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = good(dir.path(), "flip.h5");
    let chunk = first_chunk(&p, "populations/walkers/m");
    let mut bytes = std::fs::read(&p).unwrap();
    for at in [chunk.start + chunk.len() / 2, chunk.start + 3] {
        let mut b = bytes.clone();
        b[at] ^= 0x10;
        std::fs::write(&p, &b).unwrap();
        // The header does not read the fields; reading them finds the flipped bit.
        refused(&p, "/populations/walkers/m", true);
    }
    // A flip in the uncompressed data of a file without compression: the checksum finds it.
    let q = dir.path().join("plain.h5");
    write_result(&q, None, None);
    let chunk = first_chunk(&q, "populations/wheelchairs/u");
    bytes = std::fs::read(&q).unwrap();
    bytes[chunk.start + 8] ^= 0x01;
    std::fs::write(&q, &bytes).unwrap();
    refused(&q, "/populations/wheelchairs/u", true);
}

#[test]
fn grid_attributes_that_disagree_with_the_data_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    // grid/x one node too long (its attribute n says 21).
    let p = good(dir.path(), "len.h5");
    edit_dataset(&p, "grid/x", Edit::Reshape);
    refused(&p, "attribute n of /grid/x is missing", false);
    let p = good(dir.path(), "n.h5");
    set_attr(&p, "grid/x", "n", AttrValue::U64(22));
    refused(
        &p,
        "attribute n of /grid/x is 22, but the dataset has 21 nodes",
        false,
    );
    // n = 10^12 must not allocate anything of that size.
    let p = good(dir.path(), "huge.h5");
    set_attr(&p, "grid/x", "n", AttrValue::U64(1_000_000_000_000));
    refused(&p, "attribute n of /grid/x is 1000000000000", false);
    // Coordinates that are not the cell centres of min, max, n.
    let p = good(dir.path(), "min.h5");
    set_attr(&p, "grid/x", "min", AttrValue::F64(-7.0));
    refused(&p, "/grid/x[0]", false);
    // dimension = 3.
    let p = good(dir.path(), "dim.h5");
    set_attr(&p, "/", "dimension", AttrValue::U64(3));
    refused(&p, "attribute dimension is 3", false);
    // steps that do not match /time/t.
    let p = good(dir.path(), "steps.h5");
    set_attr(&p, "time/t", "steps", AttrValue::U64(u64::MAX));
    refused(&p, "attribute steps of /time/t", false);
}

#[test]
fn wrongly_typed_or_missing_attributes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "/",
            "final_residual",
            AttrValue::Str("small".into()),
            "attribute final_residual of / is a string, expected a 64-bit float",
        ),
        (
            "/",
            "iterations",
            AttrValue::F64(3.0),
            "attribute iterations of / is a 64-bit float, expected a 64-bit unsigned integer",
        ),
        (
            "/",
            "termination",
            AttrValue::Remove,
            "attribute termination of / is missing",
        ),
        (
            "/",
            "iterations",
            AttrValue::U64(4),
            "dataset /history/iteration has shape [3], expected shape [4]",
        ),
        (
            "populations/walkers",
            "sigma",
            AttrValue::Remove,
            "attribute sigma of /populations/walkers is missing",
        ),
        (
            "populations/walkers",
            "index",
            AttrValue::U64(1),
            "attribute index of /populations/walkers is not 0",
        ),
        (
            "coupling",
            "parameters",
            AttrValue::Str("some".into()),
            "attribute parameters of /coupling",
        ),
    ];
    for (i, (obj, name, value, what)) in cases.into_iter().enumerate() {
        let p = good(dir.path(), &format!("attr{i}.h5"));
        set_attr(&p, obj, name, value);
        refused(&p, what, false);
    }
}

#[test]
fn missing_history_or_coupling_datasets_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (path, edit, what) in [
        (
            "history/residual",
            Edit::Remove,
            "dataset /history/residual is missing",
        ),
        (
            "history/iteration",
            Edit::Retype,
            "dataset /history/iteration holds a string",
        ),
        (
            "populations/wheelchairs/x",
            Edit::Reshape,
            "dataset /populations/wheelchairs/x has shape [22]",
        ),
        (
            "coupling/term_0/kappa",
            Edit::Reshape,
            "parameter /coupling/term_0/kappa has shape [2, 3]",
        ),
    ] {
        let p = good(dir.path(), &format!("{}.h5", path.replace('/', "_")));
        edit_dataset(&p, path, edit);
        refused(&p, what, false);
    }
}

#[test]
fn non_regular_files_are_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.h5");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo only creates a directory entry.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    for p in [fifo.clone(), dir.path().to_path_buf()] {
        let e = io::read_header(&p).unwrap_err();
        assert!(matches!(e, io::Error::NotRegular { .. }), "{e:?}");
        let (code, err) = inspect(&p);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("not a regular file"), "{err}");
    }
    let (code, err) = inspect(&fifo);
    assert!(err.contains("a FIFO"), "{code}: {err}");
    // Nor does `mfg plot` or `--resume` block on it.
    let o = {
        let _guard = fork_guard();
        Command::new(env!("CARGO_BIN_EXE_mfg"))
            .args(["solve", "--resume", fifo.to_str().unwrap()])
            .output()
            .unwrap()
    };
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a regular file"));
}

#[test]
fn format_version_1_files_still_read() {
    let v1 = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/format_v1.h5");
    let saved = io::read(&v1).unwrap();
    assert_eq!(saved.header.format_version, 1);
    assert_eq!(saved.header.coupling_terms, io::SavedCoupling::NotStored);
    assert_eq!(saved.header.names(), ["a", "b"]);
    assert_eq!(saved.solution.history.len(), 4);
    // The fields are the stored bits.
    {
        let _guard = fork_guard();
        let f = hdf5::File::open(&v1).unwrap();
        for (k, name) in ["a", "b"].iter().enumerate() {
            let m: Vec<f64> = f
                .dataset(&format!("populations/{name}/m"))
                .unwrap()
                .read_raw()
                .unwrap();
            assert_eq!(saved.solution.iterate.m[k].as_slice(), &m[..]);
        }
    }
    let (problem, _) = saved.rebuild().unwrap();
    assert_eq!(problem.grid().axes()[0].n, 12);
    io::verify(&v1).unwrap();
    let (code, err) = inspect(&v1);
    assert_eq!(code, 0, "{err}");
}
