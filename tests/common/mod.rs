//! What the integration tests, the benches and the examples share: test models (a problem and
//! what is known about its answer), the shipped examples at coarse resolutions, and small
//! numerical helpers. Benches and examples include this module with
//! `#[path = "../tests/common/mod.rs"] mod common;`.
#![allow(dead_code, unused_imports)]

pub mod examples;
pub mod models;
pub mod ode;

pub use ode::{dense_solve, order, rk4};
