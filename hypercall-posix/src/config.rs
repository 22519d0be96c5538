//! How a hosted kernel is configured: name, boot parameters, limits, sinks.
//!
//! [`PosixConfig::from_process`] reads the boot parameters the way a hosted
//! kernel is started: `my-kernel ip=10.0.0.2 log=debug`, plus the
//! environment variable `ANYKERNEL_PARAMS` for parameters that a test
//! harness or a wrapper script wants to add. Host options are taken out
//! first: `--net=SPEC` or `--net SPEC` adds a virtual NIC (see
//! [`crate::nic::NicSpec`]), one per option in order, followed by those in
//! `ANYKERNEL_NET` (specs separated by blanks); `--disk=SPEC` or `--disk
//! SPEC` adds a disk (see [`crate::block::DiskSpec`]: a file, attached as
//! `vblk0`, `vblk1`, … in order), followed by those in `ANYKERNEL_DISKS`;
//! `--server=unix:PATH` or `--server unix:PATH` adds a listening endpoint
//! for remote clients (see [`crate::stream::ServerSpec`]). Host options
//! never reach the kernel.
//! This split is not clap's: boot parameters are the kernel's own words,
//! passed through in order whatever they look like (a test harness's
//! `--exact` included), and clap's hyphen-accepting positional would also
//! swallow every `--net` after the first boot parameter.

use std::ffi::OsString;
use std::fmt;

use crate::block::{DiskSpec, DiskSpecError, DiskSpecErrorKind};
use crate::console::ConsoleSink;
use crate::nic::{NicSpec, NicSpecError, NicSpecErrorKind};
use crate::stream::{ServerSpec, ServerSpecError};
use hypercall::Version;

use crate::exit::ExitMode;

/// The environment variable whose value is appended to the boot parameters.
pub(crate) const PARAMETERS_VARIABLE: &str = "ANYKERNEL_PARAMS";

/// The environment variable holding more NIC specs, blank-separated.
pub(crate) const NETWORKS_VARIABLE: &str = "ANYKERNEL_NET";

/// The environment variable holding more disk specs, blank-separated.
pub(crate) const DISKS_VARIABLE: &str = "ANYKERNEL_DISKS";

/// The host option that adds a NIC.
const NET_OPTION: &str = "--net";

/// The host option that adds a disk.
const DISK_OPTION: &str = "--disk";

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
    /// The disks, attached by the kernel as `vblk0`, `vblk1`, … in this
    /// order. Empty: the block device group is still offered, with none.
    pub disks: Vec<DiskSpec>,
    /// The listening stream endpoints: unit n is `servers[n]`.
    pub servers: Vec<ServerSpec>,
}

/// A host option that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// A `--net` spec or one in `ANYKERNEL_NET`.
    Net(NicSpecError),
    /// A `--disk` spec or one in `ANYKERNEL_DISKS`.
    Disk(DiskSpecError),
    /// A `--server` spec, or the option without its value.
    Server(ServerSpecError),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Net(error) => error.fmt(f),
            Self::Disk(error) => error.fmt(f),
            Self::Server(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for ConfigError {}

impl From<NicSpecError> for ConfigError {
    fn from(error: NicSpecError) -> Self {
        Self::Net(error)
    }
}

impl From<DiskSpecError> for ConfigError {
    fn from(error: DiskSpecError) -> Self {
        Self::Disk(error)
    }
}

impl From<ServerSpecError> for ConfigError {
    fn from(error: ServerSpecError) -> Self {
        Self::Server(error)
    }
}

/// The environment variables a hosted kernel reads, by value.
#[derive(Debug, Clone, Default)]
pub struct HostEnvironment {
    /// `ANYKERNEL_PARAMS`: more boot parameters.
    pub parameters: Option<OsString>,
    /// `ANYKERNEL_NET`: more NIC specs.
    pub networks: Option<OsString>,
    /// `ANYKERNEL_DISKS`: more disk specs.
    pub disks: Option<OsString>,
}

impl HostEnvironment {
    /// This process's values.
    pub fn of_process() -> Self {
        Self {
            parameters: std::env::var_os(PARAMETERS_VARIABLE),
            networks: std::env::var_os(NETWORKS_VARIABLE),
            disks: std::env::var_os(DISKS_VARIABLE),
        }
    }
}

/// The interface version this implementation was written against: a
/// literal, so that the kernel's handshake compares two independent facts.
pub const SPEAKS: Version = Version::new(3, 0);

impl Default for PosixConfig {
    /// No name, no parameters, 256 MiB, standard error, process exit, no
    /// NICs, no disks, no servers.
    fn default() -> Self {
        Self {
            name: String::new(),
            boot_parameters: String::new(),
            memory_limit: DEFAULT_MEMORY_LIMIT,
            console: ConsoleSink::Stderr,
            exit: ExitMode::Process,
            speaks: SPEAKS,
            nics: Vec::new(),
            disks: Vec::new(),
            servers: Vec::new(),
        }
    }
}

impl PosixConfig {
    /// The default configuration with the boot parameters, NICs, disks and
    /// servers of this process: its arguments after the program name less
    /// the `--net`, `--disk` and `--server` options, then the value of `ANYKERNEL_PARAMS` if
    /// set, all joined by single spaces. Arguments that are not UTF-8 are
    /// converted lossily (the kernel then rejects the parameter instead of
    /// the host panicking). A bad NIC, disk or server spec is a usage error: the
    /// process prints it and exits with status 2 (use
    /// [`PosixConfig::try_from_arguments`] to handle it instead).
    pub fn from_process() -> Self {
        let arguments = std::env::args_os().skip(1);
        Self::try_from_arguments(arguments, HostEnvironment::of_process()).unwrap_or_else(|error| {
            eprintln!("anykernel: {error}");
            std::process::exit(2)
        })
    }

    /// The default configuration for the command-line `arguments` (without
    /// the program name) and the environment's values, as
    /// [`PosixConfig::from_process`] reads them.
    ///
    /// # Errors
    /// The first NIC, disk or server spec that does not parse, or a
    /// `--net`, `--disk` or `--server` without value.
    pub fn try_from_arguments(
        arguments: impl IntoIterator<Item = OsString>,
        environment: HostEnvironment,
    ) -> Result<Self, ConfigError> {
        let mut options = split_host_options(arguments)?;
        for spec in words(environment.networks) {
            options.nics.push(spec.parse()?);
        }
        for spec in words(environment.disks) {
            options.disks.push(spec.parse()?);
        }
        Ok(Self {
            boot_parameters: join_parameters(options.kernel_arguments, environment.parameters),
            nics: options.nics,
            disks: options.disks,
            servers: options.servers,
            ..Self::default()
        })
    }
}

/// The blank-separated words of a variable's value.
fn words(value: Option<OsString>) -> Vec<String> {
    let value = value.map(|value| value.to_string_lossy().into_owned());
    let words = value.iter().flat_map(|value| value.split_whitespace());
    words.map(str::to_owned).collect()
}

/// The command line, host options taken out.
#[derive(Debug, Default)]
struct HostOptions {
    kernel_arguments: Vec<OsString>,
    nics: Vec<NicSpec>,
    disks: Vec<DiskSpec>,
    servers: Vec<ServerSpec>,
}

/// Separates the `--net`, `--disk` and `--server` host options
/// (`--net=SPEC` or `--net SPEC`, likewise for the others) from the kernel parameters, keeping
/// the order of each.
fn split_host_options(
    arguments: impl IntoIterator<Item = OsString>,
) -> Result<HostOptions, ConfigError> {
    let mut options = HostOptions::default();
    let mut arguments = arguments.into_iter();
    while let Some(argument) = arguments.next() {
        let text = argument.to_string_lossy().into_owned();
        if let Some(spec) = option_value(&text, NET_OPTION, &mut arguments) {
            let missing = NicSpecError::new(NicSpecErrorKind::MissingValue, NET_OPTION);
            options.nics.push(spec.ok_or(missing)?.parse()?);
        } else if let Some(spec) = option_value(&text, DISK_OPTION, &mut arguments) {
            let missing = DiskSpecError::new(DiskSpecErrorKind::MissingValue, DISK_OPTION);
            options.disks.push(spec.ok_or(missing)?.parse()?);
        } else if let Some(spec) = option_value(&text, SERVER_OPTION, &mut arguments) {
            let missing = ServerSpecError {
                spec: SERVER_OPTION.into(),
            };
            options.servers.push(spec.ok_or(missing)?.parse()?);
        } else {
            options.kernel_arguments.push(argument);
        }
    }
    Ok(options)
}

/// `Some(value)` when `text` is `OPTION=value`, or `OPTION` followed by a
/// value; `Some(None)` for `OPTION` at the end; `None` for anything else.
fn option_value(
    text: &str,
    option: &str,
    rest: &mut impl Iterator<Item = OsString>,
) -> Option<Option<String>> {
    if text == option {
        return Some(
            rest.next()
                .map(|value| value.to_string_lossy().into_owned()),
        );
    }
    let value = text.strip_prefix(option)?.strip_prefix('=')?;
    Some(Some(value.to_owned()))
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

    fn parse(arguments: &[&str], networks: Option<&str>) -> Result<PosixConfig, ConfigError> {
        let environment = HostEnvironment {
            parameters: Some("log=debug".into()),
            networks: networks.map(OsString::from),
            disks: None,
        };
        PosixConfig::try_from_arguments(os(arguments), environment)
    }

    fn net_error(error: ConfigError) -> NicSpecError {
        match error {
            ConfigError::Net(error) => error,
            other => panic!("not a NIC spec error: {other}"),
        }
    }

    #[test]
    fn server_options_are_taken_out_in_both_spellings() {
        let arguments = ["--server=unix:/tmp/a", "ip=1", "--server", "unix:/tmp/b"];
        let config = parse(&arguments, None).expect("valid");
        assert_eq!(config.boot_parameters, "ip=1 log=debug");
        let servers: Vec<String> = config.servers.iter().map(ToString::to_string).collect();
        assert_eq!(servers, ["unix:/tmp/a", "unix:/tmp/b"]);
        let bad = parse(&["--server=tcp:1"], None).expect_err("not unix");
        assert!(bad.to_string().contains("unix:PATH"), "{bad}");
        assert!(parse(&["--server"], None).is_err());
        let kept = parse(&["--servers=x"], None).expect("a kernel word");
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
        let error = net_error(parse(&["--net=bus:/x,loss=7"], None).expect_err("bad probability"));
        assert_eq!(
            (error.kind, error.part.as_str()),
            (NicSpecErrorKind::BadProbability, "loss=7")
        );
        let error = net_error(parse(&["a=1", "--net"], None).expect_err("no value"));
        assert_eq!(error.kind, NicSpecErrorKind::MissingValue);
        assert!(error.to_string().contains("--net"), "{error}");
        let error = net_error(parse(&[], Some("bus:/ok wire:/x")).expect_err("bad backend"));
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
        assert!(config.nics.is_empty() && config.disks.is_empty() && config.servers.is_empty());
    }

    #[test]
    fn disk_options_and_the_variable_become_disks_in_order() {
        let environment = HostEnvironment {
            parameters: None,
            networks: None,
            disks: Some(" /tmp/c.img,ro ".into()),
        };
        let arguments = os(&["--disk", "/tmp/a.img", "ip=10.0.0.2", "--disk=/tmp/b.img"]);
        let config = PosixConfig::try_from_arguments(arguments, environment).expect("valid");
        assert_eq!(config.boot_parameters, "ip=10.0.0.2");
        let disks: Vec<String> = config.disks.iter().map(ToString::to_string).collect();
        assert_eq!(disks, ["/tmp/a.img", "/tmp/b.img", "/tmp/c.img,ro"]);
    }

    #[test]
    fn bad_disk_options_are_errors_naming_the_part() {
        let error = parse(&["--disk"], None).expect_err("no value");
        assert!(
            error.to_string().contains("--disk needs a value"),
            "{error}"
        );
        let error = parse(&["--disk=/x,rw"], None).expect_err("unknown option");
        assert!(error.to_string().contains("`rw`"), "{error}");
        let config = parse(&["--disks=/x", "--disk-x"], None).expect("kernel words");
        assert_eq!(config.boot_parameters, "--disks=/x --disk-x log=debug");
    }
}
