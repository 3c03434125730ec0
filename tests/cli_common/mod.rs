//! What the tests of the `mfg` command share: running the built binary and reading its exit
//! code and output. Only integration tests see the binary (`CARGO_BIN_EXE_mfg`), so this is
//! not part of `tests/common`, which the benches and examples include too.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// The built `mfg` command, not yet started.
pub fn mfg() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mfg"))
}

/// Runs `mfg args…` to completion.
pub fn run(args: &[&str]) -> Output {
    mfg().args(args).output().expect("mfg runs")
}

/// The exit code (the command must have exited, not been killed).
pub fn code(o: &Output) -> i32 {
    o.status.code().expect("exited normally")
}

/// Standard output and standard error, together.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Standard error alone.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A path as a command-line argument.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}
