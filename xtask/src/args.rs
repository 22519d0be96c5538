//! Command-line parsing for `cargo xtask <verb>`, with clap's derive.
//!
//! Options take their value as the next word or after `=` (`--mem 64M`,
//! `--mem=64M`); a repeated option keeps its last value, but for `--net`,
//! which adds a NIC each time. Everything after
//! `--` is kernel parameters (run, gdb and iso only). A mistake comes back
//! as one line naming the offending word. `help`, `--help` and `-h` (or no
//! verb at all) ask for `main.rs`'s help text, which documents every verb.

use clap::{Args, Parser, Subcommand, value_parser};
use qemu_tests::{Accel, Firmware, Machine};

/// Which of the two images to boot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageKind {
    /// `anykernel`, the appliance.
    Appliance,
    /// `anykernel-selftest`, the in-guest tests (`-- test=<case>`).
    Selftest,
}

/// Options of `run` and `gdb`.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct RunOptions {
    #[arg(long, default_value_t = Machine::Q35, value_parser = machine)]
    pub machine: Machine,
    #[arg(long, default_value_t = Accel::Tcg, value_parser = accel)]
    pub accel: Accel,
    #[arg(long, value_parser = firmware)]
    pub firmware: Option<Firmware>,
    #[arg(long = "mem", value_name = "SIZE", value_parser = memory,
          default_value_t = qemu_tests::DEFAULT_MEMORY_MIB)]
    pub memory_mib: u32,
    #[arg(long, default_value = "appliance", value_parser = image)]
    pub image: ImageKind,
    /// Boot this application (a workspace package) instead of the appliance.
    #[arg(long, value_name = "NAME", value_parser = app_name, conflicts_with = "image")]
    pub app: Option<String>,
    /// Run the appliance as a hosted kernel (a Linux process), not in QEMU.
    #[arg(long)]
    pub hosted: bool,
    /// The NICs, one per `--net`, in order: for QEMU `user` (default),
    /// `tap:NAME`, `dgram:LOCAL:REMOTE` or `none` (alone); hosted,
    /// `tap:NAME` or `bus:PATH[,faults]` (default none). Resolved by
    /// [`RunOptions::resolve_network`]: empty is no NIC.
    #[arg(long, value_name = "SPEC", action = clap::ArgAction::Append)]
    pub net: Vec<String>,
    /// Bake this directory into the appliance, mounted read-only at /www
    /// and served under `/files/` (cpiofs).
    #[arg(long, value_name = "DIR", conflicts_with = "app")]
    pub files: Option<std::path::PathBuf>,
    /// Serve remote clients (anyctl, the client library) on this
    /// endpoint, `unix:PATH`: the hosted kernel's own socket, or in QEMU
    /// a virtio-console port behind a socket QEMU listens on (with the
    /// boot parameter `sysproxy=console`).
    #[arg(long, value_name = "unix:PATH", value_parser = server)]
    pub server: Option<String>,
    /// Where QEMU dumps the NIC's frames (pcap).
    #[arg(long, value_name = "FILE", conflicts_with = "hosted")]
    pub pcap: Option<std::path::PathBuf>,
    /// A disk image the guest sees as `vblk0`, `vblk1`, … in order: a
    /// virtio disk in QEMU, a host file disk hosted. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub disk: Vec<std::path::PathBuf>,
    #[arg(last = true, value_name = "KERNEL_PARAMETERS")]
    pub params: Vec<String>,
}

/// What the user asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verb {
    Help,
    Build,
    Run(RunOptions),
    Gdb(RunOptions),
    Test {
        quick: bool,
        /// Test this application alone, not the whole workspace.
        app: Option<String>,
    },
    /// `new NAME`: an application crate from the template.
    New {
        name: String,
    },
    Iso {
        params: Vec<String>,
    },
    Bench {
        runs: u32,
        hosted: bool,
    },
    /// `bench --scaling`: only the rows of cost as the work grows.
    BenchScaling {
        runs: u32,
    },
    /// `bench --profile`: where QEMU and the guest spend the time.
    BenchProfile,
    /// `bench --vs linux`: the appliance against a Debian Linux guest.
    BenchVersusLinux(VersusLinuxOptions),
    /// `bench --vs linux --kv`: the kv appliance against Debian's memcached.
    BenchKvVersusLinux(VersusLinuxOptions),
    Fuzz {
        seconds: u64,
    },
    /// `hijack --server unix:PATH -- COMMAND…`: a Linux program with its
    /// sockets in a running kernel.
    Hijack {
        server: String,
        command: Vec<String>,
    },
}

/// Options of `bench --vs linux`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VersusLinuxOptions {
    /// Runs per configuration (default 5, 1 with `--quick`).
    pub runs: u32,
    /// Only microvm, one run unless `--runs` says otherwise.
    pub quick: bool,
    /// TCG by default; KVM only on request.
    pub accel: Accel,
    /// Also profile QEMU (perf) while the appliance moves bulk data.
    pub profile: bool,
    /// Only the storage rows (and the image sizes).
    pub disk: bool,
}

/// A command line that does not parse; the text says what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

impl From<clap::Error> for UsageError {
    /// clap's report on one line, without its `error: ` prefix and the
    /// usage line (which points at clap's help, not ours): paragraphs are
    /// joined by `; `, so a `tip: ...` follows the error it is about.
    fn from(error: clap::Error) -> Self {
        let text = error.to_string();
        let paragraphs: Vec<String> = text
            .split("\n\n")
            .filter(|paragraph| !paragraph.starts_with("Usage:") && !paragraph.is_empty())
            .map(|paragraph| paragraph.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        let line = paragraphs.join("; ");
        UsageError(line.trim_start_matches("error: ").to_string())
    }
}

/// The command line as clap sees it.
#[derive(Parser, Debug)]
#[command(
    name = "cargo xtask",
    disable_help_flag = true,
    disable_help_subcommand = true,
    args_override_self = true
)]
struct CommandLine {
    #[command(subcommand)]
    verb: Option<Words>,
    /// `--help` or `-h` with any verb: the help text.
    #[arg(short, long, global = true)]
    help: bool,
}

/// The verbs and their options, before `bench` is split in two.
#[derive(Subcommand, Debug)]
enum Words {
    Help,
    Build,
    Run(RunOptions),
    Gdb(RunOptions),
    Test {
        #[arg(long)]
        quick: bool,
        #[arg(long, value_name = "NAME", value_parser = app_name)]
        app: Option<String>,
    },
    New {
        #[arg(value_name = "NAME", value_parser = app_name)]
        name: String,
    },
    Iso {
        #[arg(last = true, value_name = "KERNEL_PARAMETERS")]
        params: Vec<String>,
    },
    Bench(BenchWords),
    Fuzz {
        #[arg(long, default_value_t = 60, value_parser = value_parser!(u64).range(1..))]
        seconds: u64,
    },
    Hijack {
        #[arg(long, value_name = "unix:PATH", value_parser = server)]
        server: String,
        #[arg(last = true, required = true, value_name = "COMMAND")]
        command: Vec<String>,
    },
}

/// `bench [--runs N] [--hosted | --scaling]` or `bench --vs linux
/// [--kv | --disk] [--runs N] [--quick] [--accel tcg|kvm] [--profile]`.
#[derive(Args, Debug)]
struct BenchWords {
    #[arg(long, value_parser = value_parser!(u32).range(1..))]
    runs: Option<u32>,
    #[arg(long, conflicts_with = "vs")]
    hosted: bool,
    /// Only the scaling rows (streams, open connections, memory limits).
    #[arg(long, conflicts_with_all = ["vs", "hosted"])]
    scaling: bool,
    /// The baseline; `linux` is the only one.
    #[arg(long, value_name = "BASELINE", value_parser = ["linux"])]
    vs: Option<String>,
    #[arg(long, requires = "vs")]
    quick: bool,
    #[arg(long, requires = "vs", value_parser = accel)]
    accel: Option<Accel>,
    /// With `--vs linux`, after the table; alone, only the profile.
    #[arg(long, conflicts_with_all = ["hosted", "scaling", "runs"])]
    profile: bool,
    /// The kv appliance against Debian's memcached.
    #[arg(long, requires = "vs", conflicts_with = "profile")]
    kv: bool,
    /// Only the storage rows of `--vs linux`.
    #[arg(long, requires = "vs", conflicts_with_all = ["profile", "kv"])]
    disk: bool,
}

/// Parses the words after `cargo xtask`.
pub fn parse(words: &[String]) -> Result<Verb, UsageError> {
    let program = std::iter::once("cargo xtask");
    let line = CommandLine::try_parse_from(program.chain(words.iter().map(String::as_str)))?;
    if line.help {
        return Ok(Verb::Help);
    }
    Ok(match line.verb {
        None | Some(Words::Help) => Verb::Help,
        Some(Words::Build) => Verb::Build,
        Some(Words::Run(options)) => Verb::Run(options.resolve_network()?),
        Some(Words::Gdb(options)) => Verb::Gdb(options.resolve_network()?),
        Some(Words::Test { quick, app }) => Verb::Test { quick, app },
        Some(Words::New { name }) => Verb::New { name },
        Some(Words::Iso { params }) => Verb::Iso { params },
        Some(Words::Bench(bench)) => bench.verb(),
        Some(Words::Fuzz { seconds }) => Verb::Fuzz { seconds },
        Some(Words::Hijack { server, command }) => Verb::Hijack { server, command },
    })
}

impl BenchWords {
    fn verb(self) -> Verb {
        let Some(_linux) = self.vs else {
            if self.profile {
                return Verb::BenchProfile;
            }
            if self.scaling {
                return Verb::BenchScaling {
                    runs: self.runs.unwrap_or(3),
                };
            }
            return Verb::Bench {
                runs: self.runs.unwrap_or(5),
                hosted: self.hosted,
            };
        };
        let options = VersusLinuxOptions {
            runs: self.runs.unwrap_or(if self.quick { 1 } else { 5 }),
            quick: self.quick,
            accel: self.accel.unwrap_or(Accel::Tcg),
            profile: self.profile,
            disk: self.disk,
        };
        match self.kv {
            true => Verb::BenchKvVersusLinux(options),
            false => Verb::BenchVersusLinux(options),
        }
    }
}

impl RunOptions {
    /// Checks each `--net` against `--hosted` and fills in the default: for
    /// QEMU `user` (the default), `tap:NAME`, `dgram:L:R` or `none`; hosted,
    /// `tap:NAME` or `bus:PATH[,options]` (default none).
    fn resolve_network(mut self) -> Result<Self, UsageError> {
        let invalid = |text: &str, expected: &str| {
            UsageError(format!(
                "invalid value '{text}' for '--net': expected {expected}"
            ))
        };
        let given = std::mem::take(&mut self.net);
        if given.is_empty() && !self.hosted {
            self.net = vec!["user".to_string()];
        }
        for text in given {
            let valid = match self.hosted {
                true => text.starts_with("tap:") || text.starts_with("bus:"),
                false => text == "none" || qemu_tests::Network::parse(&text, &[]).is_some(),
            };
            if !valid && self.hosted {
                return Err(invalid(&text, "tap:NAME or bus:PATH[,options]"));
            }
            if !valid {
                let expected = "user, tap:NAME, dgram:LOCALPORT:REMOTEPORT or none";
                return Err(invalid(&text, expected));
            }
            self.net.push(text);
        }
        if self.net.len() > 1 && self.net.iter().any(|net| net == "none") {
            return Err(UsageError(
                "`--net none` means no NIC: give it alone".into(),
            ));
        }
        self.net.retain(|net| net != "none");
        if self.pcap.is_some() && self.net.is_empty() {
            return Err(UsageError(
                "`--pcap` dumps the QEMU guest's NIC: it needs a QEMU run with a network".into(),
            ));
        }
        if let Some(missing) = self.disk.iter().find(|disk| !disk.is_file()) {
            return Err(UsageError(format!(
                "`--disk {}`: no such file (a disk is an image file; create one with e.g. `truncate -s 64M FILE`)",
                missing.display()
            )));
        }
        Ok(self)
    }
}

/// A `--server` endpoint: `unix:PATH`.
fn server(text: &str) -> Result<String, String> {
    match text.strip_prefix("unix:") {
        Some(path) if !path.is_empty() => Ok(text.to_string()),
        _ => Err("expected unix:PATH".to_string()),
    }
}

/// `found`, or an error listing what was `expected`.
fn one_of<T>(found: Option<T>, expected: &str) -> Result<T, String> {
    found.ok_or_else(|| format!("expected {expected}"))
}

fn machine(name: &str) -> Result<Machine, String> {
    one_of(Machine::from_name(name), "q35, microvm, pc")
}

fn accel(name: &str) -> Result<Accel, String> {
    one_of(Accel::from_name(name), "tcg, kvm")
}

fn firmware(name: &str) -> Result<Firmware, String> {
    let found = match name {
        "qboot" => Some(Firmware::Qboot),
        "seabios" => Some(Firmware::SeaBios),
        _ => None,
    };
    one_of(found, "qboot, seabios")
}

/// `--app` and `new`'s NAME: see [`crate::apps::check_name`].
fn app_name(name: &str) -> Result<String, String> {
    crate::apps::check_name(name).map(|()| name.to_string())
}

fn image(name: &str) -> Result<ImageKind, String> {
    let found = match name {
        "appliance" | "anykernel" => Some(ImageKind::Appliance),
        "selftest" | "anykernel-selftest" => Some(ImageKind::Selftest),
        _ => None,
    };
    one_of(found, "appliance, selftest")
}

/// `--mem`: a size (see [`parse_size`]) that is a whole number of MiB.
fn memory(text: &str) -> Result<u32, String> {
    let expected = "a whole number of MiB such as 64M, 1G or 512 (MiB)";
    one_of(parse_size(text).ok().and_then(memory_mib), expected)
}

/// Bytes in `text`: digits with an optional K, M, G or T suffix (powers of
/// 1024, case-insensitive); a bare number means MiB, as for QEMU's `-m`.
pub fn parse_size(text: &str) -> Result<u64, UsageError> {
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, suffix) = text.split_at(digits_end);
    let shift = match suffix.to_ascii_uppercase().as_str() {
        "K" => 10,
        "" | "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => {
            return Err(UsageError(format!(
                "`{text}` is not a size (use e.g. 64M or 1G)"
            )));
        }
    };
    let number: u64 = digits
        .parse()
        .map_err(|_| UsageError(format!("`{text}` is not a size")))?;
    number
        .checked_mul(1 << shift)
        .ok_or_else(|| UsageError(format!("`{text}` is too large")))
}

/// `bytes` as whole MiB for QEMU, if it is a non-zero whole number of them.
pub fn memory_mib(bytes: u64) -> Option<u32> {
    let mebibyte = 1 << 20;
    if bytes == 0 || !bytes.is_multiple_of(mebibyte) {
        return None;
    }
    u32::try_from(bytes / mebibyte).ok()
}

#[cfg(test)]
mod tests;
