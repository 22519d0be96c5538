//! Machines, accelerators, firmware and boot media QEMU is started with.
//!
//! [`crate::QemuConfig`] turns these into `qemu-system-x86_64` arguments.
//! Choices measured on QEMU 7.2 here (see /work/shared/FACTS.md):
//! - q35 and pc boot the ELF through PVH with qboot (`-bios qboot.rom`), the
//!   fastest firmware; SeaBIOS stays available and is required for `-cdrom`.
//! - microvm needs `pit=on,pic=on` for the PIT/PIC the platform uses and
//!   `rtc=on` for the CMOS clock. `isa-serial` is already on by default in 7.2
//!   and isa-debug-exit works on its ISA bus; we still say `isa-serial=on` so
//!   a changed default cannot silently drop COM1.
//! - TCG is the default; KVM is opt-in and never combined with `-cpu host`
//!   (it aborts QEMU on these machines).

use std::fmt;
use std::path::PathBuf;

/// The QEMU binary; a test may substitute another program ([`crate::QemuConfig::program`]).
pub const QEMU_PROGRAM: &str = "qemu-system-x86_64";
/// qboot, the minimal firmware that starts a PVH kernel in ~40 ms.
pub const QBOOT_PATH: &str = "/usr/share/qemu/qboot.rom";
/// Guest memory unless a caller asks for another size.
pub const DEFAULT_MEMORY_MIB: u32 = 128;
/// The TCP port QEMU's gdb stub listens on with `-s`.
pub const GDB_PORT: u16 = 1234;
/// The test-exit device: the guest writes v to port 0xf4, QEMU exits (v << 1) | 1.
pub const EXIT_DEVICE: &str = "isa-debug-exit,iobase=0xf4,iosize=0x04";

/// The CPU model: QEMU's baseline plus RDRAND, so that the guest has a
/// hardware random source under TCG (which emulates RDRAND but not RDSEED)
/// and KVM alike. Never `-cpu host` (see FACTS.md).
pub const CPU_MODEL: &str = "qemu64,+rdrand";

/// The QEMU machine type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Machine {
    /// Q35 chipset (PCIe), booted by qboot unless told otherwise.
    Q35,
    /// Firecracker-like minimal machine, no PCI, its own firmware.
    Microvm,
    /// i440FX PC, booted by qboot unless told otherwise.
    Pc,
}

impl Machine {
    /// Every machine, in the order tools list them.
    pub const ALL: [Machine; 3] = [Machine::Q35, Machine::Microvm, Machine::Pc];

    /// The name used on xtask's command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Machine::Q35 => "q35",
            Machine::Microvm => "microvm",
            Machine::Pc => "pc",
        }
    }

    /// The machine called `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Machine> {
        Machine::ALL
            .into_iter()
            .find(|machine| machine.name() == name)
    }

    /// The value of QEMU's `-M` option.
    pub(crate) fn qemu_spec(self) -> &'static str {
        match self {
            Machine::Q35 => "q35",
            Machine::Microvm => "microvm,pit=on,pic=on,rtc=on,isa-serial=on",
            Machine::Pc => "pc",
        }
    }
}

impl fmt::Display for Machine {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// How QEMU executes guest code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accel {
    /// Binary translation; the default, and faster than the nested KVM here.
    Tcg,
    /// Hardware virtualisation through /dev/kvm; opt-in.
    Kvm,
}

impl Accel {
    /// The name used on the command line (both xtask's and QEMU's).
    pub fn name(self) -> &'static str {
        match self {
            Accel::Tcg => "tcg",
            Accel::Kvm => "kvm",
        }
    }

    /// The accelerator called `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Accel> {
        [Accel::Tcg, Accel::Kvm]
            .into_iter()
            .find(|accel| accel.name() == name)
    }
}

impl fmt::Display for Accel {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// The firmware of q35 and pc (microvm always uses its own).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Firmware {
    /// /usr/share/qemu/qboot.rom: PVH direct boot only, fastest.
    Qboot,
    /// QEMU's default BIOS: slower, but boots CD-ROMs and assigns PCI BARs.
    SeaBios,
}

/// What QEMU boots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BootMedium {
    /// An ELF with a PVH note, loaded with `-kernel`.
    Kernel(PathBuf),
    /// A bootable ISO (GRUB), inserted with `-cdrom`.
    Cdrom(PathBuf),
}

/// A configuration QEMU cannot honour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// microvm has no disk controller to boot a CD-ROM from.
    CdromOnMicrovm,
    /// qboot only starts `-kernel` images; a CD-ROM needs SeaBIOS.
    CdromNeedsSeaBios,
    /// microvm brings its own firmware.
    FirmwareOnMicrovm,
    /// Kernel parameters of a CD-ROM are baked into its grub.cfg.
    ParamsWithCdrom,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            ConfigError::CdromOnMicrovm => "microvm cannot boot a CD-ROM (no disk controller)",
            ConfigError::CdromNeedsSeaBios => "a CD-ROM boots only with SeaBIOS, not qboot",
            ConfigError::FirmwareOnMicrovm => "microvm uses its own firmware; do not choose one",
            ConfigError::ParamsWithCdrom => {
                "kernel parameters of an ISO go into its grub.cfg (`cargo xtask iso -- ...`)"
            }
        })
    }
}

impl std::error::Error for ConfigError {}
