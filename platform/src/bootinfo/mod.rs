//! What the loader told the image, parsed into one [`BootInfo`].
//!
//! Both loaders are read through [`PhysicalMemory`], so everything here
//! builds and is tested on the host; only `boot::info` (image only) reads
//! real memory. The boot code parses the loader's structures before anything
//! allocates: GRUB may place them in gaps of the image's own range, and the
//! usable memory handed to the heap excludes them, the image and the first
//! MiB. Malformed structures are [`BootInfoError`]s; oddities that still
//! allow booting are [`Warning`]s the boot code prints.

pub mod command_line;
pub mod memory;
pub mod multiboot2;
pub mod physical;
pub mod pvh;

use core::fmt;

pub use command_line::{COMMAND_LINE_CAPACITY, CommandLine, CommandLineProblem};
pub use memory::{MAXIMUM_REGIONS, MemoryRegion, PAGE_SIZE, RegionList};
pub use physical::PhysicalMemory;

/// Memory below this address (real-mode structures, BIOS, VGA) is never
/// handed out.
pub const LOW_MEMORY_END: u64 = 0x10_0000;
/// The boot page tables identity-map `[0, IDENTITY_MAPPED_LIMIT)`; RAM
/// above it is left out of the usable regions (and reported).
pub const IDENTITY_MAPPED_LIMIT: u64 = 1 << 32;

/// Which loader started the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loader {
    /// PVH direct boot (QEMU `-kernel`, microvm, Firecracker-style VMMs).
    Pvh,
    /// multiboot2 (GRUB on hardware, BIOS or UEFI).
    Multiboot2,
}

impl fmt::Display for Loader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pvh => "PVH",
            Self::Multiboot2 => "multiboot2",
        })
    }
}

/// Where the RAM regions came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryMapSource {
    /// `hvm_start_info.memmap` (E820 entries).
    PvhMemoryMap,
    /// The multiboot2 memory map tag.
    Multiboot2MemoryMap,
    /// The multiboot2 basic memory tag (upper memory from 1 MiB only).
    Multiboot2BasicMemory,
}

/// A boot oddity that still allows booting; printed at boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Warning {
    /// The command line was cut or unreadable.
    CommandLine(CommandLineProblem),
    /// Boot modules could not be read, so their memory is not protected.
    ModulesUnprotected,
    /// The loader gave only the basic memory information (no map).
    BasicMemoryInformationOnly,
    /// RAM regions beyond [`MAXIMUM_REGIONS`] were left out.
    RegionsDropped(usize),
    /// Loader structures (boot modules) beyond [`MAXIMUM_REGIONS`] could
    /// not be reserved: the heap may overwrite them.
    StructuresUnprotected(usize),
    /// Bytes of RAM above [`IDENTITY_MAPPED_LIMIT`] were left out.
    MemoryAboveMappedLimit(u64),
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::CommandLine(problem) => problem.fmt(f),
            Self::ModulesUnprotected => {
                f.write_str("boot modules unreadable: their memory is not reserved")
            }
            Self::BasicMemoryInformationOnly => {
                f.write_str("no memory map from the loader: using its basic upper-memory size")
            }
            Self::RegionsDropped(count) => {
                write!(
                    f,
                    "{count} memory regions beyond the first {MAXIMUM_REGIONS} are not used"
                )
            }
            Self::StructuresUnprotected(count) => write!(
                f,
                "{count} loader structures beyond the first {MAXIMUM_REGIONS} are not reserved"
            ),
            Self::MemoryAboveMappedLimit(bytes) => {
                write!(
                    f,
                    "{} MiB of RAM above 4 GiB is not mapped and not used",
                    bytes >> 20
                )
            }
        }
    }
}

/// Up to eight warnings, in the order they arose.
#[derive(Debug, Clone, Copy, Default)]
pub struct Warnings {
    warnings: [Option<Warning>; 8],
    length: usize,
}

impl Warnings {
    /// Records `warning` (the ninth and later are not kept).
    pub fn push(&mut self, warning: Warning) {
        if let Some(slot) = self.warnings.get_mut(self.length) {
            *slot = Some(warning);
            self.length += 1;
        }
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// The warnings as a slice-like iterator.
    pub fn iter(&self) -> impl Iterator<Item = Warning> + '_ {
        self.warnings[..self.length].iter().flatten().copied()
    }

    /// The warnings, collected (host tests).
    #[cfg(test)]
    pub fn to_vec(&self) -> std::vec::Vec<Warning> {
        self.iter().collect()
    }
}

/// Why the boot information is unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootInfoError {
    /// A loader pointer leads to memory that is not readable.
    Unreadable {
        /// What the pointer should point at.
        structure: &'static str,
        /// The pointer.
        address: u64,
    },
    /// The structure does not start with its magic number.
    BadMagic {
        /// What was expected there.
        structure: &'static str,
        /// The value found instead.
        found: u32,
    },
    /// A size, count or alignment is impossible.
    Malformed {
        /// What is malformed.
        structure: &'static str,
    },
    /// The loader gave no memory map at all.
    NoMemoryMap {
        /// Which loader structure lacks one.
        loader: &'static str,
    },
    /// No usable RAM is left after removing the image, the loader's
    /// structures and the first MiB.
    NoUsableMemory,
}

impl fmt::Display for BootInfoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Unreadable { structure, address } => {
                write!(f, "{structure} at {address:#x} is not in readable memory")
            }
            Self::BadMagic { structure, found } => {
                write!(f, "{structure}: wrong magic number {found:#x}")
            }
            Self::Malformed { structure } => write!(f, "{structure} is malformed"),
            Self::NoMemoryMap { loader } => write!(f, "no memory map: {loader}"),
            Self::NoUsableMemory => f.write_str("no usable RAM above 1 MiB outside the image"),
        }
    }
}

impl core::error::Error for BootInfoError {}

/// What a loader parser found, before the usable memory is computed.
#[derive(Debug, Clone, Copy)]
pub struct LoaderReport {
    /// RAM the loader calls usable, as given (unsorted, may overlap).
    pub ram: RegionList,
    /// The loader's own structures (boot information, map, modules).
    pub reserved: RegionList,
    /// The command line (copied).
    pub command_line: CommandLine,
    /// Physical address of the ACPI RSDP, if the loader gave one.
    pub rsdp: Option<u64>,
    /// Where `ram` came from.
    pub memory_map_source: MemoryMapSource,
    /// Oddities so far.
    pub warnings: Warnings,
}

impl LoaderReport {
    /// An empty report for a map from `source`.
    pub fn new(source: MemoryMapSource) -> Self {
        Self {
            ram: RegionList::new(),
            reserved: RegionList::new(),
            command_line: CommandLine::empty(),
            rsdp: None,
            memory_map_source: source,
            warnings: Warnings::default(),
        }
    }
}

mod info;

pub use info::BootInfo;
