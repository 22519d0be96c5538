//! Host options: `--net` specs and `ANYKERNEL_NET` become NICs, not parameters.

use std::ffi::OsString;

use hypercall::Hypercalls;
use hypercall_posix::nic::{NicBackend, NicSpec, NicSpecErrorKind};
use hypercall_posix::{ConfigError, HostEnvironment, Posix, PosixConfig};

fn arguments(words: &[&str]) -> Vec<OsString> {
    words.iter().map(OsString::from).collect()
}

#[test]
fn net_options_become_units_in_order_and_leave_the_parameters() {
    let config = PosixConfig::try_from_arguments(
        arguments(&[
            "--net",
            "bus:/tmp/one",
            "ip=10.0.0.2",
            "--net=tap:akt9,mac=02:00:00:00:00:09",
        ]),
        HostEnvironment {
            parameters: Some("log=debug".into()),
            networks: Some("bus:/tmp/three,loss=0.5,seed=3".into()),
            disks: None,
        },
    )
    .expect("valid");
    assert_eq!(config.boot_parameters, "ip=10.0.0.2 log=debug");
    let backends: Vec<&NicBackend> = config.nics.iter().map(|spec| &spec.backend).collect();
    assert_eq!(
        backends,
        [
            &NicBackend::Bus("/tmp/one".into()),
            &NicBackend::Tap("akt9".into()),
            &NicBackend::Bus("/tmp/three".into())
        ]
    );
    assert_eq!(config.nics[1].mac, Some([2, 0, 0, 0, 0, 9]));
    assert_eq!(
        (config.nics[2].faults.loss, config.nics[2].faults.seed),
        (0.5, Some(3))
    );
    let posix = Posix::new(config);
    assert_eq!(posix.boot_parameters(), "ip=10.0.0.2 log=debug");
}

#[test]
fn a_bad_spec_is_an_error_naming_the_part() {
    let error = PosixConfig::try_from_arguments(
        arguments(&["--net=bus:/x,mac=01:00:00:00:00:01"]),
        HostEnvironment::default(),
    )
    .expect_err("multicast MAC");
    let ConfigError::Net(error) = error else {
        panic!("not a NIC spec error: {error}");
    };
    assert_eq!(
        (error.kind, error.part.as_str()),
        (NicSpecErrorKind::BadMac, "mac=01:00:00:00:00:01")
    );
    let error = "tap:".parse::<NicSpec>().expect_err("empty name");
    assert!(error.to_string().contains("`tap:`"), "{error}");
}

/// Set in the child run of the test below.
const CHILD_VARIABLE: &str = "ANYKERNEL_TEST_FROM_PROCESS";

#[test]
fn from_process_reads_arguments_and_both_variables() {
    let name = "config::from_process_reads_arguments_and_both_variables";
    if std::env::var_os(CHILD_VARIABLE).is_some() {
        let config = PosixConfig::from_process();
        let expected = format!("--exact {name} --test-threads=1 a=1 b=2");
        assert_eq!(config.boot_parameters, expected);
        let specs: Vec<String> = config.nics.iter().map(ToString::to_string).collect();
        assert_eq!(specs, ["bus:/tmp/n0", "tap:akt7,loss=0.25"]);
        return;
    }
    let child = std::process::Command::new(std::env::current_exe().expect("the test binary"))
        .args(["--exact", name, "--test-threads=1"])
        .env(CHILD_VARIABLE, "1")
        .env("ANYKERNEL_PARAMS", "a=1 b=2")
        .env("ANYKERNEL_NET", "bus:/tmp/n0  tap:akt7,loss=0.25")
        .output()
        .expect("the child runs");
    let report = String::from_utf8_lossy(&child.stdout);
    assert!(child.status.success(), "{report}");
    assert!(
        report.contains("1 passed"),
        "the child ran the test: {report}"
    );
}
