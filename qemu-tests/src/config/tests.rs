//! Unit tests of QEMU command-line construction.

use super::*;

fn words(config: &QemuConfig) -> Vec<String> {
    let line = config.command_line().expect("configuration is valid");
    line.iter()
        .map(|arg| arg.to_str().expect("UTF-8").to_string())
        .collect()
}

/// The value following `option` in `line`, if the option is there.
fn value_of<'a>(line: &'a [String], option: &str) -> Option<&'a str> {
    let position = line.iter().position(|word| word == option)?;
    line.get(position + 1).map(String::as_str)
}

#[test]
fn kernel_on_q35_uses_qboot_tcg_default_memory_and_the_exit_device() {
    let line = words(&QemuConfig::kernel("/images/anykernel"));
    let expected = [
        "-nodefaults",
        "-no-user-config",
        "-display",
        "none",
        "-no-reboot",
        "-M",
        "q35",
        "-accel",
        "tcg",
        "-cpu",
        CPU_MODEL,
        "-m",
        "128M",
        "-bios",
        QBOOT_PATH,
        "-serial",
        "stdio",
        "-device",
        EXIT_DEVICE,
        "-kernel",
        "/images/anykernel",
    ];
    assert_eq!(line, expected);
}

#[test]
fn microvm_enables_pit_pic_rtc_and_serial_and_loads_no_bios() {
    let line = words(&QemuConfig::kernel("k").machine(Machine::Microvm));
    assert_eq!(
        value_of(&line, "-M"),
        Some("microvm,pit=on,pic=on,rtc=on,isa-serial=on")
    );
    assert!(!line.contains(&"-bios".to_string()));
    assert_eq!(value_of(&line, "-device"), Some(EXIT_DEVICE));
}

#[test]
fn pc_with_seabios_loads_no_bios_file() {
    let line = words(
        &QemuConfig::kernel("k")
            .machine(Machine::Pc)
            .firmware(Firmware::SeaBios),
    );
    assert_eq!(value_of(&line, "-M"), Some("pc"));
    assert!(!line.contains(&"-bios".to_string()));
}

#[test]
fn kernel_parameters_become_one_append_argument_in_order() {
    let config = QemuConfig::kernel("k")
        .param("test=params")
        .params(["foo=bar", "ip=10.0.0.2/24"]);
    let line = words(&config);
    assert_eq!(
        value_of(&line, "-append"),
        Some("test=params foo=bar ip=10.0.0.2/24")
    );
}

#[test]
fn no_append_without_parameters() {
    assert!(!words(&QemuConfig::kernel("k")).contains(&"-append".to_string()));
}

#[test]
fn kvm_memory_gdb_and_extra_arguments() {
    let config = QemuConfig::kernel("k")
        .accel(Accel::Kvm)
        .memory_mib(16)
        .gdb_wait(true)
        .args(["-netdev", "user,id=n0"]);
    let line = words(&config);
    assert_eq!(value_of(&line, "-accel"), Some("kvm"));
    assert_eq!(value_of(&line, "-m"), Some("16M"));
    assert_eq!(
        value_of(&line, "-cpu"),
        Some(CPU_MODEL),
        "never -cpu host with KVM here"
    );
    assert_eq!(
        &line[line.len() - 4..],
        ["-s", "-S", "-netdev", "user,id=n0"]
    );
}

#[test]
fn iso_boots_from_cdrom_with_seabios() {
    let line = words(&QemuConfig::iso("/out/anykernel.iso"));
    assert_eq!(value_of(&line, "-cdrom"), Some("/out/anykernel.iso"));
    assert!(!line.contains(&"-bios".to_string()));
    assert!(!line.contains(&"-kernel".to_string()));
}

#[test]
fn impossible_configurations_are_errors() {
    let cases = [
        (
            QemuConfig::iso("i").machine(Machine::Microvm),
            ConfigError::CdromOnMicrovm,
        ),
        (
            QemuConfig::iso("i").firmware(Firmware::Qboot),
            ConfigError::CdromNeedsSeaBios,
        ),
        (
            QemuConfig::iso("i").param("a=b"),
            ConfigError::ParamsWithCdrom,
        ),
        (
            QemuConfig::kernel("k")
                .machine(Machine::Microvm)
                .firmware(Firmware::Qboot),
            ConfigError::FirmwareOnMicrovm,
        ),
    ];
    for (config, error) in cases {
        assert_eq!(config.command_line(), Err(error), "{config:?}");
    }
}

#[test]
fn display_quotes_words_a_shell_would_split() {
    let shown = QemuConfig::kernel("/my images/k")
        .param("a=b")
        .param("c")
        .display();
    let shown = shown.expect("configuration is valid");
    assert!(
        shown.starts_with("qemu-system-x86_64 -nodefaults "),
        "{shown}"
    );
    assert!(
        shown.contains("-kernel '/my images/k' -append 'a=b c'"),
        "{shown}"
    );
    assert_eq!(quote("it's"), r"'it'\''s'");
}

#[test]
fn machine_and_accel_names_round_trip() {
    for machine in Machine::ALL {
        assert_eq!(Machine::from_name(machine.name()), Some(machine));
    }
    assert_eq!(Machine::from_name("virt"), None);
    assert_eq!(Accel::from_name("kvm"), Some(Accel::Kvm));
    assert_eq!(Accel::from_name("hvf"), None);
}
