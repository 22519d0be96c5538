//! CPUID feature queries, read once and cached.
//!
//! Frequencies are taken only from leaves that state them exactly: the
//! hypervisor timing leaf 0x4000_0010 (TSC and APIC bus kHz; QEMU with
//! `invtsc`, VMware) or leaf 0x15 (TSC/crystal ratio and crystal Hz; Intel
//! since Skylake). Leaf 0x16's base MHz is nominal and kept only as a hint.

use core::arch::x86_64::__cpuid;

use spin::Once;

use super::cpuid;

/// What the processor (or hypervisor) says it supports, read once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Features {
    /// Highest standard CPUID leaf.
    pub max_leaf: u32,
    /// Highest extended CPUID leaf (0x8000_00xx).
    pub max_extended_leaf: u32,
    /// RDRAND instruction.
    pub rdrand: bool,
    /// RDSEED instruction.
    pub rdseed: bool,
    /// An on-chip local APIC.
    pub apic: bool,
    /// x2APIC mode is available.
    pub x2apic: bool,
    /// The local APIC timer has TSC-deadline mode.
    pub tsc_deadline: bool,
    /// The TSC runs at a constant rate in all states (CPUID 0x8000_0007).
    pub invariant_tsc: bool,
    /// Running under a hypervisor (CPUID.1:ECX bit 31).
    pub hypervisor: Option<Hypervisor>,
    /// Initial local APIC ID of this CPU (CPUID.1:EBX bits 31:24).
    pub initial_apic_id: u8,
    /// Physical address width in bits (CPUID 0x8000_0008, else 36).
    pub physical_address_bits: u8,
    /// Exact TSC frequency the processor (leaf 0x15) or hypervisor (leaf
    /// 0x4000_0010) states, if any.
    pub stated_tsc_hz: Option<u64>,
    /// Nominal base frequency (leaf 0x16): close to the TSC rate on Intel
    /// parts but not exact, so only a hint.
    pub nominal_base_hz: Option<u64>,
    /// Local APIC timer (bus/crystal) frequency stated by CPUID, if any.
    pub stated_apic_timer_hz: Option<u64>,
}

/// A hypervisor recognised by its CPUID vendor signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hypervisor {
    /// QEMU's TCG emulator ("TCGTCGTCGTCG").
    QemuTcg,
    /// Linux KVM ("KVMKVMKVM"), as used by QEMU, Firecracker, Cloud Hypervisor.
    Kvm,
    /// Any other hypervisor.
    Other,
}

impl Hypervisor {
    /// Whether the local APIC timer is emulated with a 1 GHz bus clock, as
    /// QEMU's TCG and KVM's in-kernel APIC do.
    pub fn apic_timer_is_1ghz(self) -> bool {
        matches!(self, Self::QemuTcg | Self::Kvm)
    }
}

static FEATURES: Once<Features> = Once::new();

/// The processor's features (queried on first use, then cached).
pub fn features() -> &'static Features {
    FEATURES.call_once(query_features)
}

fn query_features() -> Features {
    let max_leaf = __cpuid(0).eax;
    let max_extended_leaf = __cpuid(0x8000_0000).eax;
    let basic = __cpuid(1);
    let leaf7 = (max_leaf >= 7).then(|| cpuid(7, 0));
    let power = (max_extended_leaf >= 0x8000_0007).then(|| __cpuid(0x8000_0007));
    let address = (max_extended_leaf >= 0x8000_0008).then(|| __cpuid(0x8000_0008));
    let hypervisor = (basic.ecx & (1 << 31) != 0).then(query_hypervisor);
    let (stated_tsc_hz, stated_apic_timer_hz) = stated_frequencies(max_leaf, hypervisor);
    let base_mhz = (max_leaf >= 0x16).then(|| __cpuid(0x16).eax & 0xffff);
    Features {
        max_leaf,
        max_extended_leaf,
        rdrand: basic.ecx & (1 << 30) != 0,
        rdseed: leaf7.is_some_and(|leaf| leaf.ebx & (1 << 18) != 0),
        apic: basic.edx & (1 << 9) != 0,
        x2apic: basic.ecx & (1 << 21) != 0,
        tsc_deadline: basic.ecx & (1 << 24) != 0,
        invariant_tsc: power.is_some_and(|leaf| leaf.edx & (1 << 8) != 0),
        hypervisor,
        initial_apic_id: (basic.ebx >> 24) as u8,
        physical_address_bits: address.map_or(36, |leaf| (leaf.eax & 0xff) as u8),
        stated_tsc_hz,
        nominal_base_hz: base_mhz
            .filter(|&mhz| mhz != 0)
            .map(|mhz| u64::from(mhz) * 1_000_000),
        stated_apic_timer_hz,
    }
}

fn query_hypervisor() -> Hypervisor {
    let leaf = __cpuid(0x4000_0000);
    let mut vendor = [0u8; 12];
    vendor[0..4].copy_from_slice(&leaf.ebx.to_le_bytes());
    vendor[4..8].copy_from_slice(&leaf.ecx.to_le_bytes());
    vendor[8..12].copy_from_slice(&leaf.edx.to_le_bytes());
    match &vendor {
        b"TCGTCGTCGTCG" => Hypervisor::QemuTcg,
        b"KVMKVMKVM\0\0\0" => Hypervisor::Kvm,
        _ => Hypervisor::Other,
    }
}

/// Exact TSC and APIC timer frequencies from CPUID: the hypervisor timing
/// leaf 0x4000_0010 (TSC and bus kHz) or leaf 0x15 (TSC/crystal ratio and
/// crystal Hz; the APIC timer runs at the crystal clock).
fn stated_frequencies(max_leaf: u32, hypervisor: Option<Hypervisor>) -> (Option<u64>, Option<u64>) {
    if hypervisor.is_some() && __cpuid(0x4000_0000).eax >= 0x4000_0010 {
        let timing = __cpuid(0x4000_0010);
        if timing.eax != 0 {
            let bus = (timing.ebx != 0).then(|| u64::from(timing.ebx) * 1000);
            return (Some(u64::from(timing.eax) * 1000), bus);
        }
    }
    let crystal = (max_leaf >= 0x15).then(|| __cpuid(0x15));
    if let Some(leaf) = crystal.filter(|leaf| leaf.eax != 0 && leaf.ebx != 0 && leaf.ecx != 0) {
        let tsc = u64::from(leaf.ecx) * u64::from(leaf.ebx) / u64::from(leaf.eax);
        return (Some(tsc), Some(u64::from(leaf.ecx)));
    }
    (None, None)
}
