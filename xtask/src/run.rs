//! `cargo xtask run` and `cargo xtask gdb`: boot an image on this terminal.
//!
//! The image is the appliance (or its selftest), or with `--app NAME` the
//! application NAME, forwarded the ports its `Cargo.toml` names (apps.rs).
//! The exit status reflects the guest: 0 when it passed (an orderly stop
//! after Ctrl-C included) or when Ctrl-C ended QEMU, the guest's failure
//! code (1..=63) when it failed, and [`NO_VERDICT_STATUS`] when QEMU ended
//! without a guest verdict. Ctrl-C asks the guest to power down (the ACPI
//! power button, through QMP), and kills QEMU only on a second Ctrl-C or
//! after [`qemu_tests::POWER_DOWN_GRACE`] (`qemu_tests::power_down`).

use std::process::ExitCode;

use qemu_tests::{
    ConsoleSocket, Disk, Forward, GDB_PORT, Network, Nic, QemuConfig, TerminalRun, Verdict,
};

use crate::apps::{self, App};
use crate::args::{ImageKind, RunOptions};
use crate::build::build_images_with;
use crate::setup::{Need, ensure};

/// xtask's status when QEMU ends without a guest verdict (as `docker run` uses 125).
pub const NO_VERDICT_STATUS: u8 = 125;

/// The host ports `run` forwards into the appliance with user networking.
pub const USER_FORWARDS: [Forward; 2] = [
    Forward {
        host_port: 8080,
        guest_port: 80,
    },
    Forward {
        host_port: 7777,
        guest_port: 7,
    },
];

/// What `run` boots: the image, the forwards of user networking, and the
/// boot parameters the application names (before the user's).
pub struct Target {
    pub image: std::path::PathBuf,
    pub forwards: Vec<Forward>,
    pub params: Vec<String>,
}

/// The QEMU configuration `options` ask for, booting `target`: one NIC per
/// `--net` (the first dumped to `--pcap`), the forwards on user
/// networking, the application's parameters and then the user's.
pub fn config_for(options: &RunOptions, target: &Target) -> QemuConfig {
    let mut config = QemuConfig::kernel(&target.image)
        .machine(options.machine)
        .accel(options.accel)
        .memory_mib(options.memory_mib)
        .params(target.params.iter().chain(&options.params).cloned());
    if let Some(firmware) = options.firmware {
        config = config.firmware(firmware);
    }
    for (index, text) in options.net.iter().enumerate() {
        if let Some(network) = Network::parse(text, &target.forwards) {
            let mut nic = Nic::new(network);
            nic.pcap = options.pcap.clone().filter(|_| index == 0);
            config = config.nic(nic);
        }
    }
    for disk in &options.disk {
        config = config.disk(Disk::new(disk));
    }
    if let Some(path) = options
        .server
        .as_deref()
        .and_then(|s| s.strip_prefix("unix:"))
    {
        config = config
            .console(ConsoleSocket::new(path))
            .param(ConsoleSocket::PARAMETER);
    }
    config
}

/// What to tell the user about reaching the guest.
fn network_hint(options: &RunOptions, forwards: &[Forward]) -> Option<String> {
    match (options.net.first()?.as_str(), &options.app) {
        ("user", None) => Some(
            "xtask: the appliance is at http://127.0.0.1:8080/ (and echo on 127.0.0.1:7777) once it has its DHCP lease".into(),
        ),
        ("user", Some(name)) => Some(forwards_hint(name, forwards)),
        (other, _) => Some(format!("xtask: the guest's NIC is on {other}")),
    }
}

/// Where application `name`'s forwarded ports are, or how to get some.
fn forwards_hint(name: &str, forwards: &[Forward]) -> String {
    if forwards.is_empty() {
        return format!(
            "xtask: {name} has no forwarded ports (its Cargo.toml may name some: \
             `[package.metadata.anykernel] forwards = [\"HOST:GUEST\"]`)"
        );
    }
    let ports: Vec<String> = forwards
        .iter()
        .map(|forward| {
            format!(
                "127.0.0.1:{} -> port {}",
                forward.host_port, forward.guest_port
            )
        })
        .collect();
    format!(
        "xtask: {name}: {} once it has its DHCP lease",
        ports.join(", ")
    )
}

/// Builds what `options` boot.
fn build_target(options: &RunOptions) -> Result<Target, String> {
    let Some(name) = &options.app else {
        let images = build_images_with(options.files.as_deref())?;
        let image = match options.image {
            ImageKind::Appliance => images.appliance,
            ImageKind::Selftest => images.selftest,
        };
        let forwards = USER_FORWARDS.to_vec();
        let params = Vec::new();
        return Ok(Target {
            image,
            forwards,
            params,
        });
    };
    let app = App::find(name)?;
    Ok(Target {
        image: apps::build_image(&app)?,
        forwards: app.forwards,
        params: app.params,
    })
}

/// The `run` verb (`gdb` false) or the `gdb` verb (`gdb` true).
pub fn run_verb(options: &RunOptions, gdb: bool) -> Result<ExitCode, String> {
    if options.hosted {
        return crate::hosted::run_hosted(options, gdb);
    }
    let needs: &[Need] = if gdb {
        &[Need::Target, Need::Qemu, Need::Gdb]
    } else {
        &[Need::Target, Need::Qemu]
    };
    ensure(needs)?;
    let target = build_target(options)?;
    let (image, forwards) = (&target.image, &target.forwards);
    let config = config_for(options, &target).gdb_wait(gdb);
    let shown = config.display().map_err(|error| error.to_string())?;
    eprintln!(
        "xtask: booting {} on {} ({}, {} MiB); serial on this terminal, Ctrl-C stops the guest \
         in order (power button; again: kill)\nxtask: {shown}",
        image.display(),
        options.machine,
        options.accel,
        options.memory_mib
    );
    if let Some(hint) = network_hint(options, forwards) {
        eprintln!("{hint}");
    }
    if let Some(server) = &options.server {
        eprintln!(
            "xtask: remote clients (virtio-console): cargo run --bin anyctl -- --server {server} ifconfig"
        );
    }
    if gdb {
        eprintln!("xtask: QEMU waits for gdb; in another terminal run:");
        // The image is stripped; its link beside it has symbols and lines.
        let symbols = qemu_tests::locations::debug_file(image);
        println!("gdb {} -ex 'target remote :{GDB_PORT}'", symbols.display());
    }
    let run = config
        .run_in_terminal()
        .map_err(|error| error.to_string())?;
    Ok(ExitCode::from(report(&run)))
}

/// Prints how the run ended and returns xtask's exit status for it.
fn report(run: &TerminalRun) -> u8 {
    let seconds = run.elapsed.as_secs_f64();
    let (message, status) = exit_status(run);
    eprintln!("xtask: {message} after {seconds:.2} s");
    status
}

/// The message and the exit status for `run`.
fn exit_status(run: &TerminalRun) -> (String, u8) {
    match &run.verdict {
        Verdict::Passed if run.interrupted => ("guest stopped in order after Ctrl-C".into(), 0),
        Verdict::Passed => ("guest passed".to_string(), 0),
        Verdict::Failed(code) => (format!("guest failed with code {code}"), *code),
        _ if run.killed => ("QEMU killed after Ctrl-C".to_string(), 0),
        _ if run.interrupted => ("stopped by Ctrl-C".to_string(), 0),
        other => (other.to_string(), NO_VERDICT_STATUS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qemu_tests::{Accel, Machine};
    use std::time::Duration;

    fn run_with(verdict: Verdict, interrupted: bool) -> TerminalRun {
        TerminalRun {
            verdict,
            interrupted,
            killed: false,
            elapsed: Duration::from_millis(10),
        }
    }

    #[test]
    fn exit_statuses_follow_the_guest_verdict() {
        assert_eq!(exit_status(&run_with(Verdict::Passed, false)).1, 0);
        let stopped = exit_status(&run_with(Verdict::Passed, true));
        assert_eq!(stopped, ("guest stopped in order after Ctrl-C".into(), 0));
        let mut killed = run_with(Verdict::BootError("signal".into()), true);
        killed.killed = true;
        assert_eq!(exit_status(&killed), ("QEMU killed after Ctrl-C".into(), 0));
        assert_eq!(exit_status(&run_with(Verdict::Failed(63), false)).1, 63);
        assert_eq!(
            exit_status(&run_with(Verdict::BootError("x".into()), true)).1,
            0
        );
        assert_eq!(
            exit_status(&run_with(Verdict::BootError("x".into()), false)).1,
            NO_VERDICT_STATUS
        );
    }

    #[test]
    fn options_become_the_qemu_configuration() {
        let options = RunOptions {
            machine: Machine::Microvm,
            accel: Accel::Kvm,
            firmware: None,
            memory_mib: 64,
            image: ImageKind::Selftest,
            app: None,
            hosted: false,
            net: Vec::new(),
            files: None,
            server: None,
            pcap: None,
            disk: vec!["/tmp/disk.img".into()],
            params: vec!["test=sleep".into()],
        };
        let expected = QemuConfig::kernel("/k")
            .machine(Machine::Microvm)
            .accel(Accel::Kvm)
            .memory_mib(64)
            .param("test=sleep")
            .disk(Disk::new("/tmp/disk.img"));
        let target = Target {
            image: "/k".into(),
            forwards: USER_FORWARDS.to_vec(),
            params: Vec::new(),
        };
        assert_eq!(config_for(&options, &target), expected);
    }

    #[test]
    fn a_router_gets_a_nic_per_net_and_its_parameters_before_the_users() {
        let words = "run --app router --net tap:ak0 --net tap:ak1 -- ip6.forwarding=0";
        let words: Vec<String> = words.split(' ').map(String::from).collect();
        let Ok(crate::args::Verb::Run(options)) = crate::args::parse(&words) else {
            panic!("does not parse");
        };
        let target = Target {
            image: "/k".into(),
            forwards: Vec::new(),
            params: vec!["ip.forwarding=1".into(), "ip6.forwarding=1".into()],
        };
        let tap = |name: &str| Nic::new(Network::Tap { name: name.into() });
        let expected = QemuConfig::kernel("/k")
            .params(["ip.forwarding=1", "ip6.forwarding=1", "ip6.forwarding=0"])
            .nic(tap("ak0"))
            .nic(tap("ak1"));
        assert_eq!(config_for(&options, &target), expected);
    }

    #[test]
    fn a_server_in_qemu_is_a_console_socket_and_its_boot_parameter() {
        let words = "run --net none --server unix:/tmp/ak.sock -- ip=10.0.0.2/24";
        let words: Vec<String> = words.split(' ').map(String::from).collect();
        let Ok(crate::args::Verb::Run(options)) = crate::args::parse(&words) else {
            panic!("does not parse");
        };
        let target = Target {
            image: "/k".into(),
            forwards: Vec::new(),
            params: Vec::new(),
        };
        let expected = QemuConfig::kernel("/k")
            .param("ip=10.0.0.2/24")
            .console(ConsoleSocket::new("/tmp/ak.sock"))
            .param(ConsoleSocket::PARAMETER);
        assert_eq!(config_for(&options, &target), expected);
    }

    #[test]
    fn an_application_gets_its_own_forwards_and_says_where_they_are() {
        let mut options = crate::args::parse(&["run".into(), "--app".into(), "demo".into()])
            .map(|verb| match verb {
                crate::args::Verb::Run(options) => options,
                other => panic!("{other:?}"),
            })
            .expect("parses");
        let forwards = [Forward {
            host_port: 7007,
            guest_port: 7,
        }];
        let expected = QemuConfig::kernel("/k").nic(Nic::new(Network::User {
            forwards: forwards.to_vec(),
        }));
        let target = Target {
            image: "/k".into(),
            forwards: forwards.to_vec(),
            params: Vec::new(),
        };
        assert_eq!(config_for(&options, &target), expected);
        let hint = network_hint(&options, &forwards).expect("a hint");
        assert!(hint.contains("127.0.0.1:7007 -> port 7"), "{hint}");
        assert!(
            network_hint(&options, &[])
                .expect("a hint")
                .contains("forwards = [")
        );
        options.net.clear();
        assert_eq!(network_hint(&options, &forwards), None);
    }
}
