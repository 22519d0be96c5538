//! Command-line parsing for `cargo xtask <verb>`, by hand (no clap).
//!
//! Options take their value as the next word or after `=` (`--mem 64M`,
//! `--mem=64M`). Everything after `--` is kernel parameters. Unknown verbs,
//! options and values are errors naming the offending word.

use std::fmt;

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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOptions {
    pub machine: Machine,
    pub accel: Accel,
    pub firmware: Option<Firmware>,
    pub memory_mib: u32,
    pub image: ImageKind,
    /// Run the appliance as a hosted kernel (a Linux process), not in QEMU.
    pub hosted: bool,
    /// The NIC: for QEMU `user` (default), `tap:NAME`, `dgram:LOCAL:REMOTE`
    /// or `none`; hosted, `tap:NAME` or `bus:PATH[,faults]` (default none).
    pub net: Option<String>,
    /// Where QEMU dumps the NIC's frames (pcap).
    pub pcap: Option<std::path::PathBuf>,
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
    },
    Iso {
        params: Vec<String>,
    },
    Bench {
        runs: u32,
        hosted: bool,
    },
    /// `bench --vs linux`: the appliance against a Debian Linux guest.
    BenchVersusLinux(VersusLinuxOptions),
    Fuzz {
        seconds: u64,
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
}

/// A command line that does not parse; the text says what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn usage(message: impl Into<String>) -> UsageError {
    UsageError(message.into())
}

/// Parses the words after `cargo xtask`.
pub fn parse(words: &[String]) -> Result<Verb, UsageError> {
    let Some((verb, rest)) = words.split_first() else {
        return Ok(Verb::Help);
    };
    let before_params = rest.iter().take_while(|word| *word != "--");
    if before_params
        .into_iter()
        .any(|word| word == "--help" || word == "-h")
    {
        return Ok(Verb::Help);
    }
    let (options, params) = match rest.iter().position(|word| word == "--") {
        Some(split) => (&rest[..split], rest[split + 1..].to_vec()),
        None => (rest, Vec::new()),
    };
    let options = Options::split(options)?;
    let verb = match verb.as_str() {
        "help" | "--help" | "-h" => Verb::Help,
        "build" => Verb::Build,
        "run" => Verb::Run(run_options(&options, params.clone())?),
        "gdb" => Verb::Gdb(run_options(&options, params.clone())?),
        "test" => Verb::Test {
            quick: options.flag("quick"),
        },
        "iso" => Verb::Iso {
            params: params.clone(),
        },
        "bench" => bench_verb(&options)?,
        "fuzz" => Verb::Fuzz {
            seconds: options.value(
                "seconds",
                60,
                |text| text.parse().ok().filter(|seconds| *seconds > 0),
                "a positive number of seconds",
            )?,
        },
        other => return Err(usage(format!("unknown verb `{other}`"))),
    };
    options.reject_unused(verb_name(&verb))?;
    let takes_params = matches!(verb, Verb::Run(_) | Verb::Gdb(_) | Verb::Iso { .. });
    if !takes_params && !params.is_empty() {
        return Err(usage(format!(
            "`{}` takes no kernel parameters",
            verb_name(&verb)
        )));
    }
    Ok(verb)
}

fn verb_name(verb: &Verb) -> &'static str {
    match verb {
        Verb::Help => "help",
        Verb::Build => "build",
        Verb::Run(_) => "run",
        Verb::Gdb(_) => "gdb",
        Verb::Test { .. } => "test",
        Verb::Iso { .. } => "iso",
        Verb::Bench { .. } | Verb::BenchVersusLinux(_) => "bench",
        Verb::Fuzz { .. } => "fuzz",
    }
}

/// `bench [--runs N] [--hosted]` or `bench --vs linux [--runs N] [--quick]
/// [--accel tcg|kvm] [--profile]`.
fn bench_verb(options: &Options) -> Result<Verb, UsageError> {
    let linux = |text: &str| (text == "linux").then_some(true);
    if !options.value("vs", false, linux, "linux (the only baseline)")? {
        return Ok(Verb::Bench {
            runs: options.runs(5)?,
            hosted: options.flag("hosted"),
        });
    }
    if options.flag("hosted") {
        return Err(usage(
            "`--vs linux` compares QEMU guests; it has no `--hosted`",
        ));
    }
    let quick = options.flag("quick");
    Ok(Verb::BenchVersusLinux(VersusLinuxOptions {
        runs: options.runs(if quick { 1 } else { 5 })?,
        quick,
        accel: options.value("accel", Accel::Tcg, Accel::from_name, "tcg, kvm")?,
        profile: options.flag("profile"),
    }))
}

fn run_options(options: &Options, params: Vec<String>) -> Result<RunOptions, UsageError> {
    let machine = options.value(
        "machine",
        Machine::Q35,
        Machine::from_name,
        "q35, microvm, pc",
    )?;
    let accel = options.value("accel", Accel::Tcg, Accel::from_name, "tcg, kvm")?;
    let firmware = options.value("firmware", None, firmware_from_name, "qboot, seabios")?;
    let image = options.value(
        "image",
        ImageKind::Appliance,
        image_from_name,
        "appliance, selftest",
    )?;
    let memory_mib = options.value(
        "mem",
        qemu_tests::DEFAULT_MEMORY_MIB,
        |text| parse_size(text).ok().and_then(memory_mib),
        "a whole number of MiB such as 64M, 1G or 512 (MiB)",
    )?;
    let hosted = options.flag("hosted");
    let net = network_option(options, hosted)?;
    let pcap = options.value("pcap", None, |text| Some(Some(text.into())), "a file name")?;
    if pcap.is_some() && (hosted || net.is_none()) {
        return Err(usage(
            "`--pcap` dumps the QEMU guest's NIC: it needs a QEMU run with a network",
        ));
    }
    Ok(RunOptions {
        machine,
        accel,
        firmware,
        memory_mib,
        image,
        hosted,
        net,
        pcap,
        params,
    })
}

/// `--net`: for QEMU `user` (the default), `tap:NAME`, `dgram:L:R` or
/// `none`; hosted, `tap:NAME` or `bus:PATH[,options]` (default none).
fn network_option(options: &Options, hosted: bool) -> Result<Option<String>, UsageError> {
    if hosted {
        let hosted_nic = |text: &str| {
            let known = text.starts_with("tap:") || text.starts_with("bus:");
            known.then(|| Some(text.to_string()))
        };
        return options.value("net", None, hosted_nic, "tap:NAME or bus:PATH[,options]");
    }
    let qemu_nic = |text: &str| match text {
        "none" => Some(None),
        _ => qemu_tests::Network::parse(text, &[]).map(|_| Some(text.to_string())),
    };
    let expected = "user, tap:NAME, dgram:LOCALPORT:REMOTEPORT or none";
    options.value("net", Some("user".to_string()), qemu_nic, expected)
}

fn firmware_from_name(name: &str) -> Option<Option<Firmware>> {
    match name {
        "qboot" => Some(Some(Firmware::Qboot)),
        "seabios" => Some(Some(Firmware::SeaBios)),
        _ => None,
    }
}

fn image_from_name(name: &str) -> Option<ImageKind> {
    match name {
        "appliance" | "anykernel" => Some(ImageKind::Appliance),
        "selftest" | "anykernel-selftest" => Some(ImageKind::Selftest),
        _ => None,
    }
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
            return Err(usage(format!(
                "`{text}` is not a size (use e.g. 64M or 1G)"
            )));
        }
    };
    let number: u64 = digits
        .parse()
        .map_err(|_| usage(format!("`{text}` is not a size")))?;
    number
        .checked_mul(1 << shift)
        .ok_or_else(|| usage(format!("`{text}` is too large")))
}

/// `bytes` as whole MiB for QEMU, if it is a non-zero whole number of them.
pub fn memory_mib(bytes: u64) -> Option<u32> {
    let mebibyte = 1 << 20;
    if bytes == 0 || !bytes.is_multiple_of(mebibyte) {
        return None;
    }
    u32::try_from(bytes / mebibyte).ok()
}

/// The `--name value` and `--name=value` options of one command line.
#[derive(Debug)]
struct Options {
    pairs: Vec<(String, Option<String>)>,
    used: std::cell::RefCell<Vec<String>>,
}

/// Options that take no value.
const FLAGS: [&str; 3] = ["quick", "hosted", "profile"];

impl Options {
    fn split(words: &[String]) -> Result<Options, UsageError> {
        let mut pairs = Vec::new();
        let mut words = words.iter();
        while let Some(word) = words.next() {
            let Some(option) = word.strip_prefix("--") else {
                return Err(usage(format!(
                    "unexpected argument `{word}` (kernel parameters go after `--`)"
                )));
            };
            let (name, value) = match option.split_once('=') {
                Some((name, _)) if FLAGS.contains(&name) => {
                    return Err(usage(format!("`--{name}` takes no value")));
                }
                Some((name, value)) => (name.to_string(), Some(value.to_string())),
                None if FLAGS.contains(&option) => (option.to_string(), None),
                None => (option.to_string(), words.next().cloned()),
            };
            pairs.push((name, value));
        }
        Ok(Options {
            pairs,
            used: Default::default(),
        })
    }

    fn find(&self, name: &str) -> Option<&(String, Option<String>)> {
        self.used.borrow_mut().push(name.to_string());
        self.pairs.iter().rev().find(|(key, _)| key == name)
    }

    fn flag(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    /// The value of `--name` through `convert`, or `default` if absent.
    fn value<T>(
        &self,
        name: &str,
        default: T,
        convert: impl Fn(&str) -> Option<T>,
        expected: &str,
    ) -> Result<T, UsageError> {
        match self.find(name) {
            None => Ok(default),
            Some((_, None)) => Err(usage(format!("`--{name}` needs a value: {expected}"))),
            Some((_, Some(text))) => convert(text).ok_or_else(|| {
                usage(format!(
                    "`--{name} {text}` is not valid; expected {expected}"
                ))
            }),
        }
    }

    fn runs(&self, default: u32) -> Result<u32, UsageError> {
        let convert = |text: &str| text.parse().ok().filter(|runs| *runs > 0);
        self.value("runs", default, convert, "a positive number of runs")
    }

    /// Fails on any option the verb did not look at.
    fn reject_unused(&self, verb: &str) -> Result<(), UsageError> {
        let used = self.used.borrow();
        match self.pairs.iter().find(|(name, _)| !used.contains(name)) {
            Some((name, _)) => Err(usage(format!("`{verb}` has no option `--{name}`"))),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;
