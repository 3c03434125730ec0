//! Parts of the `mfg` command line that the library does not need: the `[output]` table of a
//! configuration (what `mfg solve` writes besides the summary, and the snapshot times of the
//! pictures), which the library keeps uninterpreted; what `mfg check` reports about the solve ([`check`]); and `mfg validate`
//! ([`validate`]).

pub mod check;
pub mod inspect;
pub mod output;
pub mod plot;
pub mod stationary;
pub mod validate;
