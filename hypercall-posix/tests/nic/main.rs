//! Integration tests of the virtual NICs: bus, processes, faults, tools, tap.
//!
//! One test binary, so that the helpers in `common` are shared without
//! dead code, and so that the two-process test can re-run this binary as
//! its peer.

mod bus;
mod busdump;
mod common;
mod config;
mod faults;
mod processes;
mod tap;
