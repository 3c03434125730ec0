//! A guide to using the crate from Rust: the repository's `docs/guide.md`, included here so that
//! every example on that page is compiled and run as a doctest (`cargo test --doc`) and cannot
//! drift from the library. It builds a problem, chooses and tunes a method, reads u, m and α
//! out of a `Solution`, writes and reads result files, implements a Hamiltonian and a coupling
//! and observes a run.
#![doc = include_str!("../docs/guide.md")]
