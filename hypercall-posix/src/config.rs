//! How a hosted kernel is configured: name, boot parameters, limits, sinks.
//!
//! [`PosixConfig::from_process`] reads the boot parameters the way a hosted
//! kernel is started: `my-kernel ip=10.0.0.2 log=debug`, plus the
//! environment variable `ANYKERNEL_PARAMS` for parameters that a test
//! harness or a wrapper script wants to add.

use std::ffi::OsString;

use crate::console::ConsoleSink;
use hypercall::Version;

use crate::exit::ExitMode;

/// The environment variable whose value is appended to the boot parameters.
pub(crate) const PARAMETERS_VARIABLE: &str = "ANYKERNEL_PARAMS";

/// The default of [`PosixConfig::memory_limit`]: 256 MiB.
const DEFAULT_MEMORY_LIMIT: usize = 256 * 1024 * 1024;

/// The configuration of one [`crate::Posix`] host.
#[derive(Debug, Clone)]
pub struct PosixConfig {
    /// The kernel instance's name. When not empty, every console line
    /// starts with `"[name] "`, so that two kernels in one test can be told
    /// apart.
    pub name: String,
    /// The boot parameters, space-separated `key=value` words.
    pub boot_parameters: String,
    /// Bytes that `memory_allocate` may hand out in total; also what
    /// `memory_size` reports.
    pub memory_limit: usize,
    /// Where console output goes.
    pub console: ConsoleSink,
    /// What the exit hypercall does.
    pub exit: ExitMode,
    /// The interface version the host claims in the boot handshake.
    /// [`SPEAKS`] unless a test plays an older or newer host.
    pub speaks: Version,
}

/// The interface version this implementation was written against: a
/// literal, so that the kernel's handshake compares two independent facts.
pub const SPEAKS: Version = Version::new(1, 1);

impl Default for PosixConfig {
    /// No name, no parameters, 256 MiB, standard error, process exit.
    fn default() -> Self {
        Self {
            name: String::new(),
            boot_parameters: String::new(),
            memory_limit: DEFAULT_MEMORY_LIMIT,
            console: ConsoleSink::Stderr,
            exit: ExitMode::Process,
            speaks: SPEAKS,
        }
    }
}

impl PosixConfig {
    /// The default configuration with the boot parameters of this process:
    /// its arguments after the program name, then the value of
    /// `ANYKERNEL_PARAMS` if set, all joined by single spaces. Arguments
    /// that are not UTF-8 are converted lossily (the kernel then rejects
    /// the parameter instead of the host panicking).
    pub fn from_process() -> Self {
        let arguments = std::env::args_os().skip(1);
        let environment = std::env::var_os(PARAMETERS_VARIABLE);
        Self {
            boot_parameters: join_parameters(arguments, environment),
            ..Self::default()
        }
    }
}

/// Joins command-line arguments and the environment value into one
/// parameter string, in that order. Empty pieces and surrounding blanks are
/// dropped, so that no double or trailing spaces appear.
pub(crate) fn join_parameters(
    arguments: impl IntoIterator<Item = OsString>,
    environment: Option<OsString>,
) -> String {
    let pieces: Vec<String> = arguments
        .into_iter()
        .chain(environment)
        .map(|piece| piece.to_string_lossy().trim().to_owned())
        .filter(|piece| !piece.is_empty())
        .collect();
    pieces.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    #[test]
    fn arguments_then_environment_joined_by_spaces() {
        let joined = join_parameters(
            os(&["ip=10.0.0.2", "gw=10.0.0.1"]),
            Some("log=debug".into()),
        );
        assert_eq!(joined, "ip=10.0.0.2 gw=10.0.0.1 log=debug");
    }

    #[test]
    fn empty_pieces_leave_no_stray_spaces() {
        assert_eq!(join_parameters(os(&[]), None), "");
        assert_eq!(join_parameters(os(&["", " a=1 "]), Some("".into())), "a=1");
        assert_eq!(
            join_parameters(os(&[]), Some(" mem=64M b=2".into())),
            "mem=64M b=2"
        );
    }

    #[test]
    fn non_utf8_argument_is_kept_lossily_not_a_panic() {
        use std::os::unix::ffi::OsStringExt;
        let bad = OsString::from_vec(vec![b'k', b'=', 0xff]);
        assert_eq!(join_parameters([bad], None), "k=\u{fffd}");
    }

    #[test]
    fn default_is_the_documented_one() {
        let config = PosixConfig::default();
        assert_eq!(config.memory_limit, 256 * 1024 * 1024);
        assert!(config.name.is_empty() && config.boot_parameters.is_empty());
        assert!(matches!(config.console, ConsoleSink::Stderr));
        assert_eq!(config.exit, ExitMode::Process);
    }
}
