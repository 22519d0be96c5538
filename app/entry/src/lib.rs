//! The entry of every application image, bare metal and hosted, as one
//! macro: an application writes its `run` function once and names it.
//!
//! ```ignore
//! #![cfg_attr(target_os = "none", no_std)]
//! #![cfg_attr(target_os = "none", no_main)]
//!
//! fn run(host: entry::Host) -> entry::ExitStatus {
//!     let kernel = kernel::boot(host)?; // … serve …
//! }
//!
//! entry::main!(run);
//! ```
//!
//! On bare metal (`x86_64-unknown-none`) the macro names `run` as the
//! image's main function through `hypercall-bm`, which brings the machine
//! up first and ends it with the status `run` returns. Hosted it is the
//! process's `main`: a `hypercall-posix` host from the command line and the
//! environment (`--net`, kernel parameters), and the process exits with
//! the status `run` returns. The two crate attributes above stay the
//! application's: a macro cannot set them.

#![no_std]

extern crate alloc;

/// The host as an application receives it.
pub type Host = alloc::sync::Arc<dyn hypercall::Hypercalls>;
pub use hypercall::ExitStatus;

#[doc(hidden)]
#[cfg(target_os = "none")]
pub use hypercall_bm;
#[doc(hidden)]
#[cfg(not(target_os = "none"))]
pub use hypercall_posix;
#[doc(hidden)]
pub use {alloc::sync::Arc, hypercall};

/// Makes `$run` (a `fn(Host) -> ExitStatus`) the image's main function.
#[cfg(target_os = "none")]
#[macro_export]
macro_rules! main {
    ($run:path) => {
        $crate::hypercall_bm::entry_point!(__anykernel_main);

        fn __anykernel_main(
            host: $crate::Arc<$crate::hypercall_bm::BareMetal>,
        ) -> $crate::ExitStatus {
            let run: fn($crate::Host) -> $crate::ExitStatus = $run;
            run(host)
        }
    };
}

/// Makes `$run` (a `fn(Host) -> ExitStatus`) the process's main function.
#[cfg(not(target_os = "none"))]
#[macro_export]
macro_rules! main {
    ($run:path) => {
        fn main() {
            use $crate::hypercall::Exit;
            use $crate::hypercall_posix::{Posix, PosixConfig};

            let run: fn($crate::Host) -> $crate::ExitStatus = $run;
            let host = Posix::new(PosixConfig::from_process());
            let status = run(host.clone());
            host.exit(status)
        }
    };
}
