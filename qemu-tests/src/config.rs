//! `QemuConfig`: the builder that is the one source of QEMU command lines.
//!
//! Every command line starts with `-nodefaults -no-user-config -display none
//! -no-reboot`, COM1 on QEMU's stdio and the isa-debug-exit device, so a
//! guest's verdict always comes back as QEMU's exit status. `-no-reboot`
//! turns a guest reset (a triple fault) into a QEMU exit instead of a loop.
//! Start QEMU with [`QemuConfig::spawn`] (serial to a pipe, for tests and
//! benchmarks) or [`QemuConfig::run_in_terminal`] (serial on the terminal).

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

use crate::console::ConsoleSocket;
use crate::disk::Disk;
use crate::machine::{
    Accel, BootMedium, CPU_MODEL, ConfigError, DEFAULT_MEMORY_MIB, EXIT_DEVICE, Firmware, Machine,
    QBOOT_PATH, QEMU_PROGRAM,
};
use crate::network::Nic;

/// How to start one QEMU: built with chained calls, then spawned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QemuConfig {
    medium: BootMedium,
    machine: Machine,
    accel: Accel,
    firmware: Option<Firmware>,
    memory_mib: u32,
    kernel_params: Vec<String>,
    nics: Vec<Nic>,
    disks: Vec<Disk>,
    consoles: Vec<ConsoleSocket>,
    qmp: Option<PathBuf>,
    extra_args: Vec<OsString>,
    gdb_wait: bool,
    program: PathBuf,
    program_args: Vec<OsString>,
}

impl QemuConfig {
    /// Boots the ELF at `image` through PVH (`-kernel`), on q35 with TCG and 128 MiB.
    pub fn kernel(image: impl Into<PathBuf>) -> QemuConfig {
        QemuConfig::with_medium(BootMedium::Kernel(image.into()))
    }

    /// Boots the ISO at `iso` from a CD-ROM (SeaBIOS, GRUB), on q35 with TCG.
    pub fn iso(iso: impl Into<PathBuf>) -> QemuConfig {
        QemuConfig::with_medium(BootMedium::Cdrom(iso.into()))
    }

    fn with_medium(medium: BootMedium) -> QemuConfig {
        QemuConfig {
            medium,
            machine: Machine::Q35,
            accel: Accel::Tcg,
            firmware: None,
            memory_mib: DEFAULT_MEMORY_MIB,
            kernel_params: Vec::new(),
            nics: Vec::new(),
            disks: Vec::new(),
            consoles: Vec::new(),
            qmp: None,
            extra_args: Vec::new(),
            gdb_wait: false,
            program: PathBuf::from(QEMU_PROGRAM),
            program_args: Vec::new(),
        }
    }

    /// Makes QEMU serve its machine protocol on a Unix socket at `path`
    /// (see [`crate::qmp`]): how a host asks the guest to power down.
    pub fn qmp(mut self, path: impl Into<PathBuf>) -> QemuConfig {
        self.qmp = Some(path.into());
        self
    }

    /// The QMP socket, if there is one.
    pub fn qmp_socket(&self) -> Option<&std::path::Path> {
        self.qmp.as_deref()
    }

    /// Chooses the machine type (default q35).
    pub fn machine(mut self, machine: Machine) -> QemuConfig {
        self.machine = machine;
        self
    }

    /// Chooses the accelerator (default TCG).
    pub fn accel(mut self, accel: Accel) -> QemuConfig {
        self.accel = accel;
        self
    }

    /// Chooses the firmware of q35/pc (default: qboot for a kernel, SeaBIOS for an ISO).
    pub fn firmware(mut self, firmware: Firmware) -> QemuConfig {
        self.firmware = Some(firmware);
        self
    }

    /// Sets the guest memory in MiB (default 128).
    pub fn memory_mib(mut self, memory_mib: u32) -> QemuConfig {
        self.memory_mib = memory_mib;
        self
    }

    /// Appends one kernel parameter (`-append`), e.g. `test=sleep`.
    pub fn param(mut self, param: impl Into<String>) -> QemuConfig {
        self.kernel_params.push(param.into());
        self
    }

    /// Appends kernel parameters in order.
    pub fn params<I: IntoIterator<Item = S>, S: Into<String>>(mut self, params: I) -> QemuConfig {
        self.kernel_params
            .extend(params.into_iter().map(Into::into));
        self
    }

    /// Adds a virtio NIC (the first is `n0`, then `n1`, …).
    pub fn nic(mut self, nic: Nic) -> QemuConfig {
        self.nics.push(nic);
        self
    }

    /// The NICs, in order.
    pub fn nics(&self) -> &[Nic] {
        &self.nics
    }

    /// Adds a virtio disk (the first is drive `d0`, then `d1`, …).
    pub fn disk(mut self, disk: Disk) -> QemuConfig {
        self.disks.push(disk);
        self
    }

    /// The disks, in order.
    pub fn disks(&self) -> &[Disk] {
        &self.disks
    }

    /// Adds a Unix socket as a port of the guest's virtio console (at
    /// most [`crate::MAX_CONSOLE_SOCKETS`]; more are left out).
    pub fn console(mut self, socket: ConsoleSocket) -> QemuConfig {
        self.consoles.push(socket);
        self
    }

    /// Appends raw QEMU arguments after the generated ones (devices, netdevs).
    pub fn args<I: IntoIterator<Item = S>, S: Into<OsString>>(mut self, args: I) -> QemuConfig {
        self.extra_args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Starts the gdb stub on port 1234 and holds the CPU until gdb continues.
    pub fn gdb_wait(mut self, wait: bool) -> QemuConfig {
        self.gdb_wait = wait;
        self
    }

    /// Runs `program` instead of qemu-system-x86_64 (for fakes in tests).
    pub fn program(mut self, program: impl Into<PathBuf>) -> QemuConfig {
        self.program = program.into();
        self
    }

    /// Puts `args` before QEMU's own arguments: for a wrapper program (e.g.
    /// `taskset -c 1 qemu-system-x86_64`) or a fake (`sh -c SCRIPT name`).
    pub fn program_args<I: IntoIterator<Item = S>, S: Into<OsString>>(
        mut self,
        args: I,
    ) -> QemuConfig {
        self.program_args.extend(args.into_iter().map(Into::into));
        self
    }

    /// The machine this configuration boots.
    pub fn machine_type(&self) -> Machine {
        self.machine
    }

    /// The image or ISO this configuration boots.
    pub fn medium(&self) -> &BootMedium {
        &self.medium
    }

    /// QEMU's arguments (without the program name), or why QEMU cannot run this.
    pub fn command_line(&self) -> Result<Vec<OsString>, ConfigError> {
        let mut line: Vec<OsString> = Vec::new();
        let mut push = |words: &[&str]| line.extend(words.iter().map(OsString::from));
        push(&[
            "-nodefaults",
            "-no-user-config",
            "-display",
            "none",
            "-no-reboot",
        ]);
        push(&["-M", self.machine.qemu_spec(), "-accel", self.accel.name()]);
        // The default model has no RDRAND; TCG emulates it (not RDSEED).
        push(&["-cpu", CPU_MODEL]);
        push(&["-m", &format!("{}M", self.memory_mib)]);
        if self.effective_firmware()? == Some(Firmware::Qboot) {
            push(&["-bios", QBOOT_PATH]);
        }
        push(&["-serial", "stdio", "-device", EXIT_DEVICE]);
        self.push_medium(&mut line)?;
        for (index, nic) in self.nics.iter().enumerate() {
            line.extend(nic.arguments(index, self.machine));
        }
        for (index, disk) in self.disks.iter().enumerate() {
            line.extend(disk.arguments(index, self.machine));
        }
        line.extend(ConsoleSocket::arguments(&self.consoles, self.machine));
        if let Some(socket) = &self.qmp {
            line.extend(crate::qmp::arguments(socket));
        }
        if self.gdb_wait {
            line.extend(["-s", "-S"].map(OsString::from));
        }
        line.extend(self.extra_args.iter().cloned());
        Ok(line)
    }

    /// The firmware QEMU loads: `None` means the machine's own default.
    fn effective_firmware(&self) -> Result<Option<Firmware>, ConfigError> {
        let cdrom = matches!(self.medium, BootMedium::Cdrom(_));
        match (self.machine, self.firmware, cdrom) {
            (Machine::Microvm, _, true) => Err(ConfigError::CdromOnMicrovm),
            (Machine::Microvm, Some(_), false) => Err(ConfigError::FirmwareOnMicrovm),
            (Machine::Microvm, None, false) => Ok(None),
            (_, Some(Firmware::Qboot), true) => Err(ConfigError::CdromNeedsSeaBios),
            (_, Some(Firmware::SeaBios), _) | (_, None, true) => Ok(None),
            (_, None | Some(Firmware::Qboot), false) => Ok(Some(Firmware::Qboot)),
        }
    }

    fn push_medium(&self, line: &mut Vec<OsString>) -> Result<(), ConfigError> {
        match &self.medium {
            BootMedium::Kernel(image) => {
                line.extend([OsString::from("-kernel"), image.clone().into_os_string()]);
                if !self.kernel_params.is_empty() {
                    line.push("-append".into());
                    line.push(self.kernel_params.join(" ").into());
                }
            }
            BootMedium::Cdrom(_) if !self.kernel_params.is_empty() => {
                return Err(ConfigError::ParamsWithCdrom);
            }
            BootMedium::Cdrom(iso) => {
                line.extend([OsString::from("-cdrom"), iso.clone().into_os_string()]);
            }
        }
        Ok(())
    }

    /// The program and arguments, ready to spawn (stdio not yet chosen).
    pub fn command(&self) -> Result<Command, ConfigError> {
        let mut command = Command::new(&self.program);
        command.args(&self.program_args).args(self.command_line()?);
        Ok(command)
    }

    /// The command line as one shell-like string, for messages.
    pub fn display(&self) -> Result<String, ConfigError> {
        let mut words = vec![quote(&self.program.to_string_lossy())];
        let line = self.command_line()?;
        let arguments = self.program_args.iter().chain(&line);
        words.extend(arguments.map(|arg| quote(&arg.to_string_lossy())));
        Ok(words.join(" "))
    }
}

/// Quotes `word` for a POSIX shell when it holds anything but plain characters.
fn quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_=,./:+@%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests;
