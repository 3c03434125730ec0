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

/// The text of a shipped example configuration (`examples/NAME`).
pub fn example_text(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

/// Waits until `path` exists; fails the test after `timeout`.
pub fn wait_for(path: &Path, timeout: std::time::Duration) {
    let start = std::time::Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < timeout,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}
