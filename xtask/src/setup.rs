//! Set-up checks: the Rust target and the host tools each verb needs.
//!
//! `RUSTUP_AUTO_INSTALL=0` on our machines means rust-toolchain.toml does
//! not fetch the bare-metal target, so we add it. Missing host tools are
//! installed with apt-get when we are root on Debian; otherwise we name the
//! packages and stop. Each check prints one line (to stderr, so `build`
//! keeps stdout for the image path) and costs little when all is present.

use std::path::Path;

use crate::command::{find_program, output, run, tool};
use crate::paths::IMAGE_TARGET;

/// Something a verb needs before it can start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// The `x86_64-unknown-none` Rust target.
    Target,
    /// QEMU with qboot.
    Qemu,
    /// grub-mkrescue with BIOS and UEFI modules, xorriso and mtools.
    IsoTools,
    /// gdb.
    Gdb,
    /// The Linux peers of the network tests: ip, ping, curl, dnsmasq,
    /// openssl (the TLS server embedded-tls talks to), iptables (the path
    /// MTU test's router filters ICMP), nc (OpenBSD's) and python3 (its web
    /// server), which also run hijacked.
    NetTools,
    /// The kv appliance's real clients: memccapable (the protocol
    /// conformance suite) and memcslap (load), from libmemcached-tools.
    KvClients,
    /// `bench --vs linux`: apt-get and dpkg to unpack the Linux guest's
    /// Debian packages, gzip for its initramfs, wrk as the HTTP load.
    LinuxBaseline,
    /// `bench --vs linux --profile`: perf.
    Profiler,
    /// The ext2 tests' judges and image maker: mke2fs, e2fsck, debugfs.
    FsTools,
    /// `bench --vs linux`'s chart of the ratios: gnuplot (optional: the
    /// table stands without it).
    Chart,
}

/// A host tool: the need it serves, its name, the file or program that
/// shows it is installed, and the Debian package that provides it.
type HostTool = (Need, &'static str, &'static str, &'static str);

const HOST_TOOLS: [HostTool; 29] = [
    (Need::Qemu, "QEMU", "qemu-system-x86_64", "qemu-system-x86"),
    (
        Need::Qemu,
        "qboot",
        qemu_tests::QBOOT_PATH,
        "qemu-system-x86",
    ),
    (
        Need::IsoTools,
        "grub-mkrescue",
        "grub-mkrescue",
        "grub-pc-bin",
    ),
    (
        Need::IsoTools,
        "GRUB BIOS modules",
        "/usr/lib/grub/i386-pc",
        "grub-pc-bin",
    ),
    (
        Need::IsoTools,
        "GRUB UEFI modules",
        "/usr/lib/grub/x86_64-efi",
        "grub-efi-amd64-bin",
    ),
    (Need::IsoTools, "xorriso", "xorriso", "xorriso"),
    (Need::IsoTools, "mtools", "mformat", "mtools"),
    (Need::Gdb, "gdb", "gdb", "gdb"),
    (Need::NetTools, "ip", "ip", "iproute2"),
    (Need::NetTools, "ping", "ping", "iputils-ping"),
    (Need::NetTools, "curl", "curl", "curl"),
    (Need::NetTools, "dnsmasq", "dnsmasq", "dnsmasq-base"),
    (Need::NetTools, "openssl", "openssl", "openssl"),
    (Need::NetTools, "iptables", "iptables", "iptables"),
    (Need::NetTools, "radvd", "radvd", "radvd"),
    (Need::NetTools, "nc", "nc.openbsd", "netcat-openbsd"),
    (Need::NetTools, "ncat", "ncat", "ncat"),
    (Need::NetTools, "python3", "python3", "python3"),
    (
        Need::KvClients,
        "memccapable",
        "memccapable",
        "libmemcached-tools",
    ),
    (
        Need::KvClients,
        "memcslap",
        "memcslap",
        "libmemcached-tools",
    ),
    (Need::LinuxBaseline, "apt-get", "apt-get", "apt"),
    (Need::LinuxBaseline, "dpkg", "dpkg", "dpkg"),
    (Need::LinuxBaseline, "gzip", "gzip", "gzip"),
    (Need::LinuxBaseline, "wrk", "wrk", "wrk"),
    (Need::Profiler, "perf", "perf", "linux-perf"),
    (Need::Chart, "gnuplot", "gnuplot", "gnuplot-nox"),
    (Need::FsTools, "mke2fs", "/usr/sbin/mke2fs", "e2fsprogs"),
    (Need::FsTools, "e2fsck", "/usr/sbin/e2fsck", "e2fsprogs"),
    (Need::FsTools, "debugfs", "/usr/sbin/debugfs", "e2fsprogs"),
];

/// Makes sure everything in `needs` is there, installing what we can.
pub fn ensure(needs: &[Need]) -> Result<(), String> {
    for need in needs {
        match need {
            Need::Target => ensure_target()?,
            // Only the root-only tests and anykernel-hijack's (curl and nc
            // hijacked) need these peers; they fail with the reason when
            // they are missing.
            Need::NetTools => {
                if let Err(error) = ensure_host_tools(Need::NetTools) {
                    eprintln!(
                        "setup: {error}; the root-only tests and anykernel-hijack's \
                         will fail without them"
                    );
                }
            }
            Need::Chart => {
                if let Err(error) = ensure_host_tools(Need::Chart) {
                    eprintln!("setup: {error}; the bench prints its table without the chart");
                }
            }
            tools => ensure_host_tools(*tools)?,
        }
    }
    Ok(())
}

fn ensure_target() -> Result<(), String> {
    let installed = output(tool("rustup", &["target", "list", "--installed"]))?;
    let installed = String::from_utf8_lossy(&installed.stdout);
    if installed.lines().any(|line| line.trim() == IMAGE_TARGET) {
        eprintln!("setup: Rust target {IMAGE_TARGET} is installed");
        return Ok(());
    }
    eprintln!(
        "setup: Rust target {IMAGE_TARGET} is missing; running `rustup target add {IMAGE_TARGET}`"
    );
    run(tool("rustup", &["target", "add", IMAGE_TARGET]))?;
    eprintln!("setup: installed Rust target {IMAGE_TARGET}");
    Ok(())
}

fn is_present(file: &str) -> bool {
    if file.starts_with('/') {
        Path::new(file).exists()
    } else {
        find_program(file).is_some()
    }
}

fn ensure_host_tools(need: Need) -> Result<(), String> {
    let tools = HOST_TOOLS.iter().filter(|tool| tool.0 == need);
    let missing: Vec<&HostTool> = tools.clone().filter(|tool| !is_present(tool.2)).collect();
    if missing.is_empty() {
        let names: Vec<&str> = tools.map(|tool| tool.1).collect();
        eprintln!("setup: found {}", names.join(", "));
        return Ok(());
    }
    let names = missing
        .iter()
        .map(|tool| tool.1)
        .collect::<Vec<_>>()
        .join(", ");
    let mut packages: Vec<&str> = Vec::new();
    for tool in &missing {
        if !packages.contains(&tool.3) {
            packages.push(tool.3);
        }
    }
    let packages = packages.join(" ");
    if !(is_root() && find_program("apt-get").is_some()) {
        return Err(format!(
            "{names} missing: install the Debian packages {packages} \
             (e.g. `sudo apt-get install {packages}`)"
        ));
    }
    eprintln!("setup: {names} missing; running `apt-get install -y {packages}`");
    apt_install(&packages)?;
    eprintln!("setup: installed {packages}");
    Ok(())
}

/// `apt-get install -y packages`, refreshing the package lists once if that fails.
fn apt_install(packages: &str) -> Result<(), String> {
    let install = || {
        let mut command = tool("apt-get", &["install", "-y"]);
        command
            .args(packages.split(' '))
            .env("DEBIAN_FRONTEND", "noninteractive");
        output(command)
    };
    if install().is_ok() {
        return Ok(());
    }
    output(tool("apt-get", &["update"]))?;
    install().map(|_| ())
}

/// Whether we run as root (uid 0), read from /proc/self/status.
fn is_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .is_some_and(|uids| uids.split_whitespace().next() == Some("0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presence_is_checked_by_path_or_program_name() {
        assert!(is_present("/"));
        assert!(is_present("sh"));
        assert!(!is_present("/nonexistent/file"));
        assert!(!is_present("surely-no-such-program-here"));
    }

    #[test]
    fn every_need_but_the_target_has_host_tools() {
        for need in [
            Need::Qemu,
            Need::IsoTools,
            Need::Gdb,
            Need::LinuxBaseline,
            Need::Profiler,
            Need::FsTools,
        ] {
            assert!(HOST_TOOLS.iter().any(|tool| tool.0 == need), "{need:?}");
        }
    }
}
