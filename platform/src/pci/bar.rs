//! Base address registers: decoding a BAR and its sizing mask (pure).
//!
//! Sizing writes all ones to a BAR and reads back a mask whose writable
//! address bits give the size (the lowest set one). Bit 0 tells I/O from
//! memory; for memory, bits 2:1 give the width (10 = 64-bit, its upper
//! half in the next BAR) and bit 3 prefetchability. A mask with no
//! writable address bits means the BAR is not implemented.

pub use hypercall::BarKind;

/// A decoded base address register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bar {
    /// Memory or I/O, width, prefetchability.
    pub kind: BarKind,
    /// Physical address (memory) or first port (I/O); 0 if unassigned.
    pub address: u64,
    /// Length in bytes (a power of two); 0 while not sized yet.
    pub size: u64,
}

impl Bar {
    /// Whether nobody assigned an address yet.
    pub fn is_unassigned(&self) -> bool {
        self.address == 0
    }
}

/// The kind a raw BAR value announces (`None`: reserved memory type 11,
/// or all ones: a function that no longer answers).
pub fn kind_of(raw: u32) -> Option<BarKind> {
    if raw == u32::MAX {
        return None;
    }
    if raw & 1 != 0 {
        return Some(BarKind::Io);
    }
    let prefetchable = raw & (1 << 3) != 0;
    match (raw >> 1) & 0b11 {
        0b00 | 0b01 => Some(BarKind::Memory32 { prefetchable }),
        0b10 => Some(BarKind::Memory64 { prefetchable }),
        _ => None,
    }
}

/// Decodes a BAR from its value and sizing mask; for 64-bit BARs `high`
/// and `high_mask` are the next slot's value and mask (else 0). `None` if
/// the BAR is not implemented.
pub fn decode(raw: u32, mask: u32, high: u32, high_mask: u32) -> Option<Bar> {
    let kind = kind_of(raw)?;
    let (address, writable) = match kind {
        BarKind::Io => (u64::from(raw & !0x3), u64::from(mask & 0xffff & !0x3)),
        BarKind::Memory32 { .. } => (u64::from(raw & !0xf), u64::from(mask & !0xf)),
        BarKind::Memory64 { .. } => (
            u64::from(high) << 32 | u64::from(raw & !0xf),
            u64::from(high_mask) << 32 | u64::from(mask & !0xf),
        ),
    };
    if writable == 0 {
        return None;
    }
    Some(Bar {
        kind,
        address,
        size: 1 << writable.trailing_zeros(),
    })
}

/// Decodes a BAR that firmware assigned, without sizing it (size 0).
/// `None` if it holds no address: unimplemented, or not assigned.
pub fn decode_unsized(raw: u32, high: u32) -> Option<Bar> {
    let kind = kind_of(raw)?;
    let address = match kind {
        BarKind::Io => u64::from(raw & !0x3),
        BarKind::Memory32 { .. } => u64::from(raw & !0xf),
        BarKind::Memory64 { .. } => u64::from(high) << 32 | u64::from(raw & !0xf),
    };
    (address != 0).then_some(Bar {
        kind,
        address,
        size: 0,
    })
}

/// Decodes the first `count` (at most 6) BAR slots of a function.
/// `access(slot)` reads slot `slot` as `(value, mask)`, with mask 0 when
/// it is not sized (then [`decode_unsized`] applies). A 64-bit BAR takes
/// its slot and the next; one in the last slot has no upper half and
/// counts as not implemented (writing its "upper half" would hit the
/// register after the BARs).
pub fn decode_slots(count: u8, mut access: impl FnMut(u8) -> (u32, u32)) -> [Option<Bar>; 6] {
    let mut bars = [None; 6];
    let count = count.min(6);
    let mut slot = 0;
    while slot < count {
        let (raw, mask) = access(slot);
        let kind = kind_of(raw);
        if !kind.is_some_and(BarKind::is_64_bit) {
            bars[usize::from(slot)] = decoded(raw, mask, 0, 0);
            slot += 1;
            continue;
        }
        if slot + 1 < count {
            let (high, high_mask) = access(slot + 1);
            bars[usize::from(slot)] = decoded(raw, mask, high, high_mask);
        }
        slot += 2;
    }
    bars
}

/// A sized BAR by [`decode`], an unsized one (all masks 0) by
/// [`decode_unsized`].
fn decoded(raw: u32, mask: u32, high: u32, high_mask: u32) -> Option<Bar> {
    if mask == 0 && high_mask == 0 {
        decode_unsized(raw, high)
    } else {
        decode(raw, mask, high, high_mask)
    }
}

/// The value to write into a BAR's low slot to place it at `address`,
/// and the high slot value for 64-bit BARs.
pub fn encode(kind: BarKind, address: u64) -> (u32, u32) {
    match kind {
        BarKind::Io => (address as u32 & !0x3, 0),
        BarKind::Memory32 { .. } => (address as u32 & !0xf, 0),
        BarKind::Memory64 { .. } => (address as u32 & !0xf, (address >> 32) as u32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory32_unassigned_4k() {
        let bar = decode(0x0000_0000, 0xffff_f000, 0, 0).unwrap();
        assert_eq!(
            bar,
            Bar {
                kind: BarKind::Memory32 {
                    prefetchable: false
                },
                address: 0,
                size: 4096
            }
        );
        assert!(bar.is_unassigned());
    }

    #[test]
    fn memory64_prefetchable_assigned() {
        // virtio-pci modern BAR 4: 64-bit prefetchable 16 KiB at 0x8_0000_0000.
        let bar = decode(0x0000_000c, 0xffff_c00c, 0x8, 0xffff_ffff).unwrap();
        assert_eq!(bar.kind, BarKind::Memory64 { prefetchable: true });
        assert_eq!(bar.address, 0x8_0000_0000);
        assert_eq!(bar.size, 16 * 1024);
        assert!(bar.kind.is_64_bit());
    }

    #[test]
    fn memory64_larger_than_4g() {
        let bar = decode(0x4, 0x4, 0, 0xffff_fffe).unwrap();
        assert_eq!(bar.size, 8 << 30);
    }

    #[test]
    fn io_bar_with_16_bit_decoder() {
        let bar = decode(0x0000_c041, 0x0000_ffe1, 0, 0).unwrap();
        assert_eq!(
            bar,
            Bar {
                kind: BarKind::Io,
                address: 0xc040,
                size: 32
            }
        );
        let upper_bits_set = decode(0x1, 0xffff_ffe1, 0, 0).unwrap();
        assert_eq!(upper_bits_set.size, 32);
    }

    #[test]
    fn unimplemented_and_reserved() {
        assert_eq!(decode(0, 0, 0, 0), None);
        assert_eq!(decode(0x1, 0x1, 0, 0), None);
        assert_eq!(decode(0x6, 0xffff_fff6, 0, 0), None);
    }

    #[test]
    fn unsized_keeps_kind_and_address() {
        let bar = decode_unsized(0xfebf_800c, 0).unwrap();
        assert_eq!(
            bar,
            Bar {
                kind: BarKind::Memory64 { prefetchable: true },
                address: 0xfebf_8000,
                size: 0
            }
        );
        assert_eq!(decode_unsized(0xc001, 0).unwrap().address, 0xc000);
        assert_eq!(decode_unsized(0x4, 0x80).unwrap().address, 0x80_0000_0000);
        assert_eq!(decode_unsized(0, 0), None);
        assert_eq!(decode_unsized(0x1, 0), None);
    }

    /// Slots as `(value, mask)`, read through `decode_slots`; also
    /// returns which slots were read.
    fn slots(values: &[(u32, u32)]) -> ([Option<Bar>; 6], std::vec::Vec<u8>) {
        let mut read = std::vec::Vec::new();
        let bars = decode_slots(values.len() as u8, |slot| {
            read.push(slot);
            values[usize::from(slot)]
        });
        (bars, read)
    }

    #[test]
    fn slots_pair_64_bit_bars_with_their_upper_half() {
        let (bars, read) = slots(&[
            (0xc001, 0xffff_ffe1),
            (0x4, 0xffff_c004),
            (0x1, 0xffff_ffff),
            (0, 0),
            (0, 0xffff_f000),
            (0, 0),
        ]);
        assert_eq!(read, [0, 1, 2, 3, 4, 5]);
        assert_eq!(bars[0].unwrap().kind, BarKind::Io);
        let wide = bars[1].unwrap();
        assert_eq!(
            wide.kind,
            BarKind::Memory64 {
                prefetchable: false
            }
        );
        assert_eq!((wide.address, wide.size), (0x1_0000_0000, 0x4000));
        assert_eq!(bars[2], None, "the upper half is no BAR of its own");
        assert_eq!(bars[3], None, "not implemented");
        assert_eq!(bars[4].unwrap().size, 0x1000);
    }

    #[test]
    fn a_64_bit_bar_in_the_last_slot_is_not_implemented() {
        let mut values = [(0u32, 0u32); 6];
        values[5] = (0x4, 0xffff_c004);
        let (bars, read) = slots(&values);
        assert_eq!(bars, [None; 6]);
        assert_eq!(read, [0, 1, 2, 3, 4, 5], "no read past the last slot");
        // A bridge has two slots: a 64-bit BAR in slot 1 would otherwise
        // take the bus-number register as its upper half.
        let (bars, read) = slots(&[(0, 0), (0xe000_000c, 0)]);
        assert_eq!(bars, [None; 6]);
        assert_eq!(read, [0, 1]);
    }

    #[test]
    fn all_ones_is_a_function_that_no_longer_answers() {
        assert_eq!(kind_of(u32::MAX), None);
        assert_eq!(decode(u32::MAX, u32::MAX, 0, 0), None);
        assert_eq!(decode_unsized(u32::MAX, u32::MAX), None);
        let (bars, _) = slots(&[(u32::MAX, u32::MAX); 6]);
        assert_eq!(bars, [None; 6]);
    }

    #[test]
    fn unsized_slots_keep_firmware_addresses() {
        let (bars, _) = slots(&[(0xfebf_1000, 0), (0xc041, 0), (0, 0)]);
        assert_eq!(bars[0].unwrap().address, 0xfebf_1000);
        assert_eq!(bars[0].unwrap().size, 0);
        assert_eq!(bars[1].unwrap().address, 0xc040);
        assert_eq!(bars[2], None);
    }

    #[test]
    fn encode_round_trips() {
        let kind = BarKind::Memory64 { prefetchable: true };
        assert_eq!(encode(kind, 0x12_3456_7000), (0x3456_7000, 0x12));
        assert_eq!(encode(BarKind::Io, 0xc040), (0xc040, 0));
        let (low, high) = encode(kind, 0x8_0000_0000);
        assert_eq!(
            decode(low | 0xc, 0xffff_c00c, high, 0xffff_ffff)
                .unwrap()
                .address,
            0x8_0000_0000
        );
    }
}
