//! How a hosted kernel is configured: name, boot parameters, limits, sinks.
//!
//! [`PosixConfig::from_process`] reads the boot parameters the way a hosted
//! kernel is started: `my-kernel ip=10.0.0.2 log=debug`, plus the
//! environment variable `ANYKERNEL_PARAMS` for parameters that a test
//! harness or a wrapper script wants to add. Host options are taken out
//! first: `--net=SPEC` or `--net SPEC` adds a virtual NIC (see
//! [`crate::nic::NicSpec`]), one per option in order, followed by those in
//! `ANYKERNEL_NET` (specs separated by blanks); `--server=unix:PATH` or
//! `--server unix:PATH` adds a listening endpoint for remote clients (see
//! [`crate::stream::ServerSpec`]). Neither reaches the kernel.
//! This split is not clap's: boot parameters are the kernel's own words,
//! passed through in order whatever they look like (a test harness's
//! `--exact` included), and clap's hyphen-accepting positional would also
//! swallow every `--net` after the first boot parameter.

use std::ffi::OsString;
use std::fmt;

use crate::console::ConsoleSink;
use crate::nic::{NicSpec, NicSpecError, NicSpecErrorKind};
use crate::stream::{ServerSpec, ServerSpecError};
use hypercall::Version;

use crate::exit::ExitMode;

/// The environment variable whose value is appended to the boot parameters.
pub(crate) const PARAMETERS_VARIABLE: &str = "ANYKERNEL_PARAMS";

/// The environment variable holding more NIC specs, blank-separated.
pub(crate) const NETWORKS_VARIABLE: &str = "ANYKERNEL_NET";

/// The host option that adds a NIC.
const NET_OPTION: &str = "--net";

/// The host option that adds a listening endpoint for remote clients.
const SERVER_OPTION: &str = "--server";

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
    /// The virtual NICs: unit n is `nics[n]`. Empty: the virtual NIC group
    /// is still offered, with no units.
    pub nics: Vec<NicSpec>,
    /// The listening stream endpoints: unit n is `servers[n]`.
    pub servers: Vec<ServerSpec>,
}

/// A host option that did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// A NIC spec (`--net`, `ANYKERNEL_NET`).
    Net(NicSpecError),
    /// A server spec (`--server`), or the option without its value.
    Server(ServerSpecError),
}

impl From<NicSpecError> for ConfigError {
    fn from(error: NicSpecError) -> Self {
        Self::Net(error)
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Net(error) => error.fmt(f),
            Self::Server(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for ConfigError {}

/// The interface version this implementation was written against: a
/// literal, so that the kernel's handshake compares two independent facts.
pub const SPEAKS: Version = Version::new(2, 1);

impl Default for PosixConfig {
    /// No name, no parameters, 256 MiB, standard error, process exit, no
    /// NICs.
    fn default() -> Self {
        Self {
            name: String::new(),
            boot_parameters: String::new(),
            memory_limit: DEFAULT_MEMORY_LIMIT,
            console: ConsoleSink::Stderr,
            exit: ExitMode::Process,
            speaks: SPEAKS,
            nics: Vec::new(),
            servers: Vec::new(),
        }
    }
}

impl PosixConfig {
    /// The default configuration with the boot parameters and NICs of this
    /// process: its arguments after the program name less the `--net`
    /// options, then the value of `ANYKERNEL_PARAMS` if set, all joined by
    /// single spaces. Arguments that are not UTF-8 are converted lossily
    /// (the kernel then rejects the parameter instead of the host
    /// panicking). A bad NIC spec is a usage error: the process prints it
    /// and exits with status 2 (use [`PosixConfig::try_from_arguments`] to
    /// handle it instead).
    pub fn from_process() -> Self {
        let arguments = std::env::args_os().skip(1);
        let parameters = std::env::var_os(PARAMETERS_VARIABLE);
        let networks = std::env::var_os(NETWORKS_VARIABLE);
        Self::try_from_arguments(arguments, parameters, networks).unwrap_or_else(|error| {
            eprintln!("anykernel: {error}");
            std::process::exit(2)
        })
    }

    /// The default configuration for the command-line `arguments` (without
    /// the program name) and the values of `ANYKERNEL_PARAMS` and
    /// `ANYKERNEL_NET`, as [`PosixConfig::from_process`] reads them.
    ///
    /// # Errors
    /// The first NIC or server spec that does not parse, or an option
    /// without its value.
    pub fn try_from_arguments(
        arguments: impl IntoIterator<Item = OsString>,
        parameters: Option<OsString>,
        networks: Option<OsString>,
    ) -> Result<Self, ConfigError> {
        let HostOptions {
            kernel_arguments,
            mut nics,
            servers,
        } = split_host_options(arguments)?;
        let networks = networks.map(|value| value.to_string_lossy().into_owned());
        for spec in networks.iter().flat_map(|value| value.split_whitespace()) {
            nics.push(spec.parse()?);
        }
        Ok(Self {
            boot_parameters: join_parameters(kernel_arguments, parameters),
            nics,
            servers,
            ..Self::default()
        })
    }
}

/// The command line split: the kernel's words and the host's options.
struct HostOptions {
    kernel_arguments: Vec<OsString>,
    nics: Vec<NicSpec>,
    servers: Vec<ServerSpec>,
}

/// The value of host option `name` in `text` (`--name=VALUE`), or in the
/// next argument (`--name VALUE`); `Ok(None)` when `text` is not it.
fn option_value(
    name: &str,
    text: &str,
    arguments: &mut impl Iterator<Item = OsString>,
) -> Result<Option<String>, String> {
    if text == name {
        let value = arguments.next().ok_or_else(|| name.to_owned())?;
        return Ok(Some(value.to_string_lossy().into_owned()));
    }
    let with_equals = text
        .strip_prefix(name)
        .and_then(|rest| rest.strip_prefix('='));
    Ok(with_equals.map(str::to_owned))
}

/// Separates the `--net` and `--server` host options (`--name=VALUE` or
/// `--name VALUE`) from the kernel parameters, keeping the order of all.
fn split_host_options(
    arguments: impl IntoIterator<Item = OsString>,
) -> Result<HostOptions, ConfigError> {
    let mut options = HostOptions {
        kernel_arguments: Vec::new(),
        nics: Vec::new(),
        servers: Vec::new(),
    };
    let mut arguments = arguments.into_iter();
    while let Some(argument) = arguments.next() {
        let text = argument.to_string_lossy().into_owned();
        let net = option_value(NET_OPTION, &text, &mut arguments)
            .map_err(|name| NicSpecError::new(NicSpecErrorKind::MissingValue, &name))?;
        if let Some(spec) = net {
            options.nics.push(spec.parse()?);
            continue;
        }
        let server = option_value(SERVER_OPTION, &text, &mut arguments)
            .map_err(|spec| ConfigError::Server(ServerSpecError { spec }))?;
        match server {
            Some(spec) => options
                .servers
                .push(spec.parse().map_err(ConfigError::Server)?),
            None => options.kernel_arguments.push(argument),
        }
    }
    Ok(options)
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

    fn parse(arguments: &[&str], networks: Option<&str>) -> Result<PosixConfig, NicSpecError> {
        parse_any(arguments, networks).map_err(|error| match error {
            ConfigError::Net(error) => error,
            ConfigError::Server(error) => panic!("not a NIC error: {error}"),
        })
    }

    fn parse_any(arguments: &[&str], networks: Option<&str>) -> Result<PosixConfig, ConfigError> {
        PosixConfig::try_from_arguments(
            os(arguments),
            Some("log=debug".into()),
            networks.map(OsString::from),
        )
    }

    #[test]
    fn server_options_are_taken_out_in_both_spellings() {
        let arguments = ["--server=unix:/tmp/a", "ip=1", "--server", "unix:/tmp/b"];
        let config = parse_any(&arguments, None).expect("valid");
        assert_eq!(config.boot_parameters, "ip=1 log=debug");
        let servers: Vec<String> = config.servers.iter().map(ToString::to_string).collect();
        assert_eq!(servers, ["unix:/tmp/a", "unix:/tmp/b"]);
        let bad = parse_any(&["--server=tcp:1"], None).expect_err("not unix");
        assert!(bad.to_string().contains("unix:PATH"), "{bad}");
        assert!(parse_any(&["--server"], None).is_err());
        let kept = parse_any(&["--servers=x"], None).expect("a kernel word");
        assert!(kept.servers.is_empty());
    }

    #[test]
    fn net_options_are_taken_out_of_the_kernel_parameters() {
        let arguments = [
            "ip=10.0.0.2",
            "--net=bus:/tmp/a",
            "gw=10.0.0.1",
            "--net",
            "tap:tap0,loss=0.5",
        ];
        let config = parse(&arguments, Some(" bus:/tmp/b  bus:/tmp/c,seed=1 ")).expect("valid");
        assert_eq!(config.boot_parameters, "ip=10.0.0.2 gw=10.0.0.1 log=debug");
        let targets: Vec<String> = config.nics.iter().map(ToString::to_string).collect();
        assert_eq!(
            targets,
            [
                "bus:/tmp/a",
                "tap:tap0,loss=0.5",
                "bus:/tmp/b",
                "bus:/tmp/c,seed=1"
            ]
        );
    }

    #[test]
    fn without_net_options_nothing_changes() {
        let config = parse(&["a=1", "--network=x", "-net"], None).expect("valid");
        assert_eq!(config.boot_parameters, "a=1 --network=x -net log=debug");
        assert!(config.nics.is_empty());
    }

    #[test]
    fn bad_net_options_are_errors_naming_the_part() {
        let error = parse(&["--net=bus:/x,loss=7"], None).expect_err("bad probability");
        assert_eq!(
            (error.kind, error.part.as_str()),
            (NicSpecErrorKind::BadProbability, "loss=7")
        );
        let error = parse(&["a=1", "--net"], None).expect_err("no value");
        assert_eq!(error.kind, NicSpecErrorKind::MissingValue);
        assert!(error.to_string().contains("--net"), "{error}");
        let error = parse(&[], Some("bus:/ok wire:/x")).expect_err("bad backend");
        assert_eq!(
            (error.kind, error.part.as_str()),
            (NicSpecErrorKind::UnknownBackend, "wire:/x")
        );
    }

    #[test]
    fn default_is_the_documented_one() {
        let config = PosixConfig::default();
        assert_eq!(config.memory_limit, 256 * 1024 * 1024);
        assert!(config.name.is_empty() && config.boot_parameters.is_empty());
        assert!(matches!(config.console, ConsoleSink::Stderr));
        assert_eq!(config.exit, ExitMode::Process);
        assert!(config.nics.is_empty() && config.servers.is_empty());
    }
}
