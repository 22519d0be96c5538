//! Tests of the process runner with `sh` standing in for QEMU.

use super::*;

const SHORT: Duration = Duration::from_secs(10);

fn shell(script: &str) -> Qemu {
    let mut command = Command::new("sh");
    command.args(["-c", script]);
    Qemu::spawn_command(command).expect("sh starts")
}

#[test]
fn exit_status_33_with_its_lines_is_passed() {
    let outcome = shell("echo line; echo second; exit 33").wait_for_exit(SHORT);
    outcome.assert_passed();
    assert_eq!(outcome.serial, "line\nsecond\n");
    assert!(outcome.lines[0].at <= outcome.lines[1].at);
    assert!(outcome.lines[1].at <= outcome.elapsed);
}

#[test]
fn a_panic_status_is_failed_63() {
    shell("echo 'panic: boom'; exit 255")
        .wait_for_exit(SHORT)
        .assert_failed(63);
}

#[test]
fn a_qemu_error_is_a_boot_error_quoting_stderr() {
    let outcome = shell("echo 'could not open kernel file' >&2; exit 1").wait_for_exit(SHORT);
    let Verdict::BootError(reason) = outcome.verdict else {
        panic!("{outcome}")
    };
    assert!(reason.contains("could not open kernel file"), "{reason}");
}

#[test]
fn lines_are_found_in_order_and_each_only_once() {
    let mut qemu = shell("printf 'a 1\\nb\\na 2\\n'; exit 33");
    assert_eq!(qemu.wait_for_line("a", SHORT).expect("first a").text, "a 1");
    assert_eq!(
        qemu.wait_for_line("a", SHORT).expect("second a").text,
        "a 2"
    );
    assert_eq!(qemu.wait_for_line("b", SHORT), Err(WaitError::Exited));
    assert_eq!(qemu.first_line(SHORT).expect("first line").text, "a 1");
    let outcome = qemu.wait_for_exit(SHORT);
    assert_eq!(outcome.lines.len(), 3, "{outcome}");
}

#[test]
fn a_process_that_never_exits_times_out_and_is_killed() {
    let mut qemu = shell("echo started; exec tail -f /dev/null");
    qemu.expect_line("started", SHORT);
    let short = Duration::from_millis(100);
    assert_eq!(qemu.wait_for_line("never", short), Err(WaitError::Timeout));
    let outcome = qemu.wait_for_exit(short);
    assert_eq!(outcome.verdict, Verdict::Timeout, "{outcome}");
    assert_eq!(outcome.serial, "started\n");
}

#[test]
fn dropping_the_handle_kills_the_process() {
    let mut qemu = shell("echo $$; exec tail -f /dev/null");
    let pid = qemu.expect_line("", SHORT).text;
    let proc_path = std::path::PathBuf::from(format!("/proc/{pid}"));
    assert!(proc_path.exists());
    drop(qemu);
    assert!(!proc_path.exists(), "process {pid} survived the drop");
}

#[test]
fn expect_line_panics_with_the_log() {
    let mut qemu = shell("echo only line; exit 33");
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        qemu.expect_line("absent", SHORT)
    }))
    .expect_err("the line never comes");
    let message = panic.downcast_ref::<String>().expect("formatted message");
    assert!(message.contains("no line containing `absent`"), "{message}");
    assert!(message.contains("only line"), "{message}");
}

#[test]
fn a_missing_program_is_a_spawn_error() {
    let config = QemuConfig::kernel("k").program("/nonexistent/qemu");
    let error = Qemu::spawn(&config).expect_err("no such program");
    assert_eq!(error, SpawnError::Io(io::ErrorKind::NotFound));
}

#[test]
fn an_impossible_configuration_is_a_spawn_error() {
    let config = QemuConfig::iso("i").machine(crate::machine::Machine::Microvm);
    let error = Qemu::spawn(&config).expect_err("microvm has no CD-ROM");
    assert_eq!(error, SpawnError::Config(ConfigError::CdromOnMicrovm));
}

#[test]
fn an_unbounded_wait_still_ends_when_the_process_exits() {
    let mut qemu = shell("exit 33");
    assert_eq!(
        qemu.wait_for_line("never", Duration::MAX),
        Err(WaitError::Exited)
    );
    qemu.wait_for_exit(Duration::MAX).assert_passed();
}
