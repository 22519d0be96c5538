//! The configuration matrix (the rump papers' rumptest): the probe
//! application (`app/probe`) built with each valid set of components,
//! booted on every host it serves, and checked to hold the code of what
//! it links and none of what it does not.
//!
//! A configuration that does not build, does not boot to ready and exit
//! with success (with its disk attached, when it has one), or holds code
//! of a crate it does not link (a base-only image with a `net::` symbol, a
//! net-only one with a `block::` symbol) fails the stage, naming the
//! configuration.
//! `cargo xtask bench` reports each configuration's image size
//! ([`image_sizes`]).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use qemu_tests::{Disk, Machine, Network, Nic, Qemu, QemuConfig, Verdict};

use crate::build::{finish_image, image_build};
use crate::command::{cargo, describe, run};
use crate::paths::{image_dir, target_dir};
use crate::symbols;

/// The probe's package and binary.
const PACKAGE: &str = "probe";
const BINARY: &str = "anykernel-probe";
/// How long a probe may take to boot and end, on either host.
const DEADLINE: Duration = Duration::from_secs(60);
/// The blank disk of configurations with one: 1 MiB, 2048 sectors.
const DISK_BYTES: usize = 1024 * 1024;

/// One valid set of components and where it runs.
#[derive(Debug, Clone, Copy)]
pub struct Configuration {
    /// The configuration's name in reports.
    pub name: &'static str,
    /// The probe's (and so the kernel's) features.
    pub features: &'static [&'static str],
    /// The QEMU machine the bare-metal image boots on, with a virtio NIC
    /// on user networking when `nic`; `None`: hosted only.
    pub machine: Option<(Machine, bool)>,
    /// Whether the bare-metal boot gets a virtio disk (a blank image).
    pub disk: bool,
    /// Whether it also runs hosted.
    pub hosted: bool,
    /// Crates whose code the image must hold (so the check below is not
    /// vacuous), and crates whose code it must not.
    pub present: &'static [&'static str],
    pub absent: &'static [&'static str],
}

const NET: &[&str] = &["net", "tcp", "dhcp", "dns", "wire"];
/// The dev faction, its virtio drivers, and the block layer: what a
/// net-only image must not hold.
const DEV_AND_BLOCK: &[&str] = &[
    "dev",
    "virtio",
    "virtio_net",
    "virtio_blk",
    "virtio_drivers",
    "block",
    "ext2",
    "ext2_block",
];
/// DEV_AND_BLOCK, and the vfs faction with its file systems.
const DEV_BLOCK_AND_VFS: &[&str] = &[
    "dev",
    "virtio",
    "virtio_net",
    "virtio_blk",
    "virtio_drivers",
    "block",
    "vfs",
    "tmpfs",
    "cpiofs",
    "cpio_reader",
    "ext2",
    "ext2_block",
];
/// NET and DEV_AND_BLOCK.
const NET_DEV_AND_BLOCK: &[&str] = &[
    "net",
    "tcp",
    "dhcp",
    "dns",
    "wire",
    "dev",
    "virtio",
    "virtio_net",
    "virtio_blk",
    "virtio_drivers",
    "block",
    "ext2",
    "ext2_block",
];

/// Every configuration `cargo xtask test` builds and boots.
pub const MATRIX: [Configuration; 11] = [
    Configuration {
        name: "base",
        features: &[],
        machine: Some((Machine::Microvm, false)),
        disk: false,
        hosted: true,
        present: &["base"],
        absent: &[
            "net",
            "tcp",
            "dhcp",
            "dns",
            "wire",
            "dev",
            "virtio",
            "virtio_net",
            "virtio_blk",
            "virtio_drivers",
            "block",
            "vfs",
            "tmpfs",
            "cpiofs",
            "ext2",
            "ext2_block",
        ],
    },
    Configuration {
        name: "base+net (lo0)",
        features: &["net", "lo0"],
        machine: Some((Machine::Microvm, false)),
        disk: false,
        hosted: true,
        present: NET,
        // The net-only image holds no file system or disk code.
        absent: DEV_BLOCK_AND_VFS,
    },
    Configuration {
        name: "base+vfs (tmpfs, cpiofs)",
        features: &["vfs", "tmpfs", "cpiofs"],
        machine: Some((Machine::Microvm, false)),
        disk: false,
        hosted: true,
        present: &["vfs", "tmpfs"],
        absent: NET_DEV_AND_BLOCK,
    },
    Configuration {
        name: "base+vfs+net (tmpfs, lo0)",
        features: &["vfs", "tmpfs", "net", "lo0"],
        machine: Some((Machine::Microvm, false)),
        disk: false,
        hosted: true,
        present: &["vfs", "tmpfs", "net", "tcp"],
        absent: DEV_AND_BLOCK,
    },
    Configuration {
        name: "base+net+virtif (hosted)",
        features: &["net", "lo0", "virtif"],
        machine: None,
        disk: false,
        hosted: true,
        present: NET,
        absent: DEV_BLOCK_AND_VFS,
    },
    Configuration {
        name: "base+dev",
        features: &["dev"],
        machine: Some((Machine::Q35, false)),
        disk: false,
        hosted: true,
        present: &["dev"],
        absent: &[
            "net",
            "tcp",
            "dhcp",
            "dns",
            "wire",
            "virtio",
            "virtio_net",
            "virtio_blk",
            "virtio_drivers",
            "block",
        ],
    },
    Configuration {
        name: "base+dev+net+virtio-net",
        features: &["net", "dev", "virtio-net"],
        machine: Some((Machine::Q35, true)),
        disk: false,
        hosted: true,
        present: &[
            "net",
            "tcp",
            "dev",
            "virtio",
            "virtio_net",
            "virtio_drivers",
        ],
        absent: &["virtif", "block", "virtio_blk"],
    },
    Configuration {
        name: "base+block",
        features: &["block"],
        machine: Some((Machine::Microvm, false)),
        disk: false,
        hosted: true,
        present: &["block"],
        absent: &[
            "vfs",
            "tmpfs",
            "cpiofs",
            "ext2",
            "ext2_block",
            "net",
            "tcp",
            "dhcp",
            "dns",
            "wire",
            "dev",
            "virtio",
            "virtio_blk",
            "virtio_drivers",
        ],
    },
    Configuration {
        name: "base+dev+block+virtio-blk",
        features: &["dev", "block", "virtio-blk"],
        machine: Some((Machine::Q35, false)),
        disk: true,
        hosted: true,
        present: &["dev", "block", "virtio", "virtio_blk", "virtio_drivers"],
        absent: &["net", "tcp", "dhcp", "dns", "wire", "virtio_net"],
    },
    Configuration {
        name: "base+dev+block+virtio-blk (microvm)",
        features: &["dev", "block", "virtio-blk"],
        machine: Some((Machine::Microvm, false)),
        disk: true,
        hosted: false,
        present: &["block", "virtio_blk"],
        absent: &["net", "virtio_net"],
    },
    Configuration {
        name: "everything",
        features: &[
            "net",
            "lo0",
            "virtif",
            "dev",
            "virtio-net",
            "vfs",
            "tmpfs",
            "cpiofs",
            "block",
            "virtio-blk",
            "ext2",
        ],
        machine: Some((Machine::Microvm, true)),
        disk: true,
        hosted: true,
        present: &[
            "net",
            "tcp",
            "virtif",
            "dev",
            "virtio_net",
            "vfs",
            "tmpfs",
            "block",
            "virtio_blk",
            "ext2",
            "ext2_block",
        ],
        absent: &[],
    },
];

/// Builds and boots every configuration; the first failure, named.
pub fn run_matrix() -> Result<(), String> {
    for configuration in &MATRIX {
        check(configuration)
            .map_err(|error| format!("configuration {}: {error}", configuration.name))?;
        eprintln!("matrix: {} ok", configuration.name);
    }
    Ok(())
}

fn check(configuration: &Configuration) -> Result<(), String> {
    let image = build_image(configuration)?;
    check_symbols(configuration, &image)?;
    if let Some((machine, nic)) = configuration.machine {
        boot_bare_metal(&image, machine, nic, configuration.disk)?;
    }
    if configuration.hosted {
        run_hosted(configuration)?;
    }
    Ok(())
}

/// The comma-separated feature list for cargo.
fn features(configuration: &Configuration) -> String {
    configuration.features.join(",")
}

/// Builds the bare-metal probe and keeps a copy under the configuration's
/// name (the next build overwrites cargo's).
pub fn build_image(configuration: &Configuration) -> Result<PathBuf, String> {
    let features = features(configuration);
    // As the images stage builds: the two share their dependencies.
    let selection = [
        "-p",
        PACKAGE,
        "--no-default-features",
        "--features",
        &features,
    ];
    run(image_build(&selection))?;
    let directory = target_dir().join("matrix").join(slug(configuration.name));
    std::fs::create_dir_all(&directory)
        .map_err(|error| format!("{}: {error}", directory.display()))?;
    let copy = directory.join(BINARY);
    std::fs::copy(image_dir().join(BINARY), &copy)
        .map_err(|error| format!("{}: {error}", copy.display()))?;
    finish_image(&copy)?;
    Ok(copy)
}

/// A file name for a configuration's name.
fn slug(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// Fails unless the image holds code of every `present` crate and of no
/// `absent` one (its link, `<image>.debug`, names the code).
fn check_symbols(configuration: &Configuration, image: &Path) -> Result<(), String> {
    let linked = qemu_tests::locations::debug_file(image);
    let bytes = std::fs::read(&linked).map_err(|error| format!("{}: {error}", linked.display()))?;
    let names = symbols::code_symbol_names(&bytes)?;
    for krate in configuration.present {
        if !names.iter().any(|name| of_crate(name, krate)) {
            return Err(format!(
                "the image holds no code of `{krate}`, which it links"
            ));
        }
    }
    for krate in configuration.absent {
        if let Some(name) = names.iter().find(|name| of_crate(name, krate)) {
            return Err(format!(
                "the image holds `{name}` of `{krate}`, which it does not link"
            ));
        }
    }
    Ok(())
}

/// Whether the demangled symbol `name` is code of crate `krate`: a path
/// that starts with it, anywhere in the name (generic instances too).
fn of_crate(name: &str, krate: &str) -> bool {
    let path = format!("{krate}::");
    name.match_indices(&path).any(|(at, _)| {
        let before = name[..at].chars().next_back();
        before.is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == ':'))
    })
}

/// Boots `image` on `machine` and requires ready and a clean exit, and
/// with `disk` the disk attached as `vblk0`.
fn boot_bare_metal(image: &Path, machine: Machine, nic: bool, disk: bool) -> Result<(), String> {
    let mut config = QemuConfig::kernel(image).machine(machine);
    if nic {
        config = config.nic(Nic::new(Network::User { forwards: vec![] }));
    }
    let blank = image.with_extension("disk");
    if disk {
        std::fs::write(&blank, vec![0u8; DISK_BYTES])
            .map_err(|error| format!("{}: {error}", blank.display()))?;
        config = config.disk(Disk::new(&blank));
    }
    let qemu = Qemu::spawn(&config).map_err(|error| error.to_string())?;
    let outcome = qemu.wait_for_exit(DEADLINE);
    let _ = std::fs::remove_file(&blank);
    let ready = outcome.line_containing("anykernel: ready").is_some();
    let attached = !disk || outcome.line_containing("vblk0: 2048 sectors").is_some();
    if outcome.verdict == Verdict::Passed && ready && attached {
        return Ok(());
    }
    Err(format!(
        "on {machine:?} it did not boot to ready{} and end: {outcome}",
        if disk { " with vblk0" } else { "" }
    ))
}

/// Builds and runs the hosted probe; requires ready and exit status 0.
fn run_hosted(configuration: &Configuration) -> Result<(), String> {
    let features = features(configuration);
    let mut build = cargo(&[
        "build",
        "-p",
        PACKAGE,
        "--no-default-features",
        "--features",
    ]);
    build.arg(&features);
    run(build)?;
    let program = target_dir().join("debug").join(BINARY);
    // coreutils' timeout ends it at the deadline (status 124).
    let mut command = Command::new("timeout");
    command.arg(DEADLINE.as_secs().to_string()).arg(&program);
    command.stdin(Stdio::null());
    let shown = describe(&command);
    let output = command
        .output()
        .map_err(|error| format!("cannot start `{shown}`: {error}"))?;
    let text = String::from_utf8_lossy(&output.stdout) + String::from_utf8_lossy(&output.stderr);
    if output.status.success() && text.contains("anykernel: ready") {
        return Ok(());
    }
    Err(format!(
        "hosted, `{shown}` did not boot to ready and end ({}): {text}",
        output.status
    ))
}

/// Each configuration with a bare-metal image, and the image's size in
/// bytes, finished as the appliance's is (debug information split off,
/// symbol table embedded).
pub fn image_sizes() -> Result<Vec<(&'static str, u64)>, String> {
    let mut sizes = Vec::new();
    for configuration in MATRIX.iter().filter(|c| c.machine.is_some()) {
        let image = build_image(configuration)?;
        let size = std::fs::metadata(&image)
            .map_err(|error| error.to_string())?
            .len();
        sizes.push((configuration.name, size));
    }
    Ok(sizes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_symbol_belongs_to_the_crates_its_paths_start_with() {
        assert!(of_crate("net::stack::Stack::input", "net"));
        assert!(of_crate("<net::Net as core::fmt::Debug>::fmt", "net"));
        assert!(of_crate(
            "alloc::vec::Vec<net::buffer::PacketBuffer>::push",
            "net"
        ));
        assert!(!of_crate("virtio_net::nic::VirtioNic::service", "net"));
        assert!(!of_crate("base::kernel::Kernel::boot", "net"));
        assert!(!of_crate("dev::magnet::x", "net"));
        assert!(of_crate(
            "virtio_net::nic::VirtioNic::service",
            "virtio_net"
        ));
    }

    #[test]
    fn every_configuration_builds_somewhere_and_names_distinct() {
        for configuration in &MATRIX {
            assert!(configuration.machine.is_some() || configuration.hosted);
            let same = MATRIX
                .iter()
                .filter(|other| slug(other.name) == slug(configuration.name));
            assert_eq!(same.count(), 1, "{}", configuration.name);
        }
    }
}
