//! The symbol table embedded in the image, so that it symbolizes itself.
//!
//! Loaders (QEMU PVH, GRUB multiboot2) load only `PT_LOAD` segments, never
//! `.symtab`. So the linker script reserves a last loadable section,
//! `.symbols`, holding an empty table, and `xtask::symbols::embed` replaces
//! it after linking with the image's function symbols (see
//! `xtask/src/symbols.rs`). The format, all integers little-endian:
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0  | 4 | magic, [`MAGIC`] (the bytes `KSYM`) |
//! | 4  | 2 | format version, [`VERSION`] |
//! | 6  | 2 | entry size in bytes, [`ENTRY_SIZE`] |
//! | 8  | 4 | number of entries |
//! | 12 | 4 | offset of the string area from the table start |
//! | 16 | 4 | length of the string area |
//! | 20 | 4 | total length of the table, header included |
//!
//! The header is followed by the entries, sorted by address, each
//! `address: u64, size: u32, name: u32` where `name` is the offset of a
//! NUL-terminated UTF-8 name in the string area. Names are demangled Rust
//! paths without the hash (`platform::boot::entry64`), or raw names for
//! symbols that are not Rust. An entry covers `[address, address + size)`;
//! entries do not overlap.

/// The table's magic number (the bytes `KSYM` read as a little-endian u32).
pub const MAGIC: u32 = u32::from_le_bytes(*b"KSYM");
/// The format version this reader understands.
pub const VERSION: u16 = 1;
/// The size of the header in bytes.
pub const HEADER_SIZE: usize = 24;
/// The size of one entry in bytes.
pub const ENTRY_SIZE: u16 = 16;

/// Why a table cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolsError {
    /// Fewer bytes than the header or the length it states.
    Truncated,
    /// The magic number is not [`MAGIC`].
    BadMagic,
    /// A version or entry size this reader does not know.
    UnsupportedVersion,
    /// The entry or string areas lie outside the table.
    BadLayout,
}

impl core::fmt::Display for SymbolsError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Truncated => "symbol table truncated",
            Self::BadMagic => "symbol table magic number missing",
            Self::UnsupportedVersion => "symbol table version not supported",
            Self::BadLayout => "symbol table areas out of bounds",
        })
    }
}

impl core::error::Error for SymbolsError {}

/// A validated symbol table.
#[derive(Debug, Clone, Copy)]
pub struct Table<'a> {
    entries: &'a [u8],
    strings: &'a [u8],
}

/// The symbol an address falls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Symbol<'a> {
    /// The (demangled) name.
    pub name: &'a str,
    /// The symbol's start address.
    pub address: u64,
    /// The offset of the looked-up address from the start.
    pub offset: u64,
}

fn u16_at(bytes: &[u8], offset: usize) -> u16 {
    u16::from_le_bytes([bytes[offset], bytes[offset + 1]])
}

fn u32_at(bytes: &[u8], offset: usize) -> u32 {
    let word = bytes[offset..offset + 4].try_into().expect("four bytes");
    u32::from_le_bytes(word)
}

fn u64_at(bytes: &[u8], offset: usize) -> u64 {
    let word = bytes[offset..offset + 8].try_into().expect("eight bytes");
    u64::from_le_bytes(word)
}

/// Reads the total length a table header states, after checking the magic
/// number, so a caller knows how many bytes to hand to [`Table::parse`].
pub fn stated_length(header: &[u8]) -> Result<usize, SymbolsError> {
    if header.len() < HEADER_SIZE {
        return Err(SymbolsError::Truncated);
    }
    if u32_at(header, 0) != MAGIC {
        return Err(SymbolsError::BadMagic);
    }
    Ok(u32_at(header, 20) as usize)
}

impl<'a> Table<'a> {
    /// Validates the table at the start of `bytes`.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, SymbolsError> {
        let total = stated_length(bytes)?;
        if u16_at(bytes, 4) != VERSION || u16_at(bytes, 6) != ENTRY_SIZE {
            return Err(SymbolsError::UnsupportedVersion);
        }
        let table = bytes.get(..total).ok_or(SymbolsError::Truncated)?;
        let count = u32_at(bytes, 8) as usize;
        let strings_offset = u32_at(bytes, 12) as usize;
        let strings_length = u32_at(bytes, 16) as usize;
        let entries_end = count
            .checked_mul(usize::from(ENTRY_SIZE))
            .and_then(|length| length.checked_add(HEADER_SIZE))
            .filter(|&end| end <= strings_offset)
            .ok_or(SymbolsError::BadLayout)?;
        let strings_end = strings_offset
            .checked_add(strings_length)
            .ok_or(SymbolsError::BadLayout)?;
        Ok(Self {
            entries: table
                .get(HEADER_SIZE..entries_end)
                .ok_or(SymbolsError::BadLayout)?,
            strings: table
                .get(strings_offset..strings_end)
                .ok_or(SymbolsError::BadLayout)?,
        })
    }

    /// The number of symbols.
    pub fn len(&self) -> usize {
        self.entries.len() / usize::from(ENTRY_SIZE)
    }

    /// Whether the table holds no symbol (the image was not post-processed).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry at `index`: address, size, name offset.
    fn entry(&self, index: usize) -> (u64, u32, u32) {
        let base = index * usize::from(ENTRY_SIZE);
        (
            u64_at(self.entries, base),
            u32_at(self.entries, base + 8),
            u32_at(self.entries, base + 12),
        )
    }

    /// The NUL-terminated name at `offset` in the string area, if valid.
    fn name(&self, offset: u32) -> Option<&'a str> {
        let rest = self.strings.get(offset as usize..)?;
        let length = rest.iter().position(|&byte| byte == 0)?;
        core::str::from_utf8(&rest[..length]).ok()
    }

    /// The symbol containing `address`, if any.
    pub fn lookup(&self, address: u64) -> Option<Symbol<'a>> {
        // The number of entries starting at or below `address`.
        let below = self.partition_point(|start| start <= address);
        let (start, size, name) = self.entry(below.checked_sub(1)?);
        let offset = address - start;
        if offset >= u64::from(size) {
            return None;
        }
        Some(Symbol {
            name: self.name(name)?,
            address: start,
            offset,
        })
    }

    /// Binary search: the first index whose address fails `predicate`.
    fn partition_point(&self, predicate: impl Fn(u64) -> bool) -> usize {
        let (mut low, mut high) = (0, self.len());
        while low < high {
            let middle = low + (high - low) / 2;
            if predicate(self.entry(middle).0) {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        low
    }
}

#[cfg(target_os = "none")]
mod embedded {
    use super::{HEADER_SIZE, Table, stated_length};

    /// A bound on the stated length, so a corrupted header cannot make the
    /// slice reach unmapped memory (real tables are a few hundred KiB).
    const MAXIMUM_LENGTH: usize = 64 << 20;

    unsafe extern "C" {
        /// Start of the `.symbols` section (see `link.ld`).
        static __symbols_start: u8;
    }

    /// The address of the embedded table.
    pub fn start() -> u64 {
        (&raw const __symbols_start) as u64
    }

    /// The bytes of the embedded table: the header alone when it is
    /// malformed, so that callers still get a bounded slice.
    pub fn bytes() -> &'static [u8] {
        let start = (&raw const __symbols_start).cast::<u8>();
        // SAFETY: the linker script places a header of HEADER_SIZE bytes at
        // `__symbols_start` in a loaded segment; nothing writes it.
        let header = unsafe { core::slice::from_raw_parts(start, HEADER_SIZE) };
        let length = stated_length(header)
            .unwrap_or(HEADER_SIZE)
            .clamp(HEADER_SIZE, MAXIMUM_LENGTH);
        // SAFETY: `xtask::symbols::embed` grew the loaded segment to the
        // length the header states (or the header is the linker's
        // placeholder, whose stated length is HEADER_SIZE); the loader
        // loaded all of it and nothing writes it.
        unsafe { core::slice::from_raw_parts(start, length) }
    }

    /// The embedded table, if the image was post-processed correctly.
    pub fn table() -> Option<Table<'static>> {
        Table::parse(bytes()).ok()
    }
}

#[cfg(target_os = "none")]
pub use embedded::{bytes as embedded_bytes, start as embedded_start, table as embedded};

#[cfg(test)]
mod tests {
    use std::vec::Vec;

    use super::*;

    /// Builds a table the way `xtask::symbols::embed` does.
    fn build(symbols: &[(u64, u32, &str)]) -> Vec<u8> {
        let mut strings = Vec::new();
        let mut entries = Vec::new();
        for &(address, size, name) in symbols {
            entries.extend_from_slice(&address.to_le_bytes());
            entries.extend_from_slice(&size.to_le_bytes());
            entries.extend_from_slice(&(strings.len() as u32).to_le_bytes());
            strings.extend_from_slice(name.as_bytes());
            strings.push(0);
        }
        let strings_offset = HEADER_SIZE + entries.len();
        let total = strings_offset + strings.len();
        let mut table = Vec::new();
        table.extend_from_slice(&MAGIC.to_le_bytes());
        table.extend_from_slice(&VERSION.to_le_bytes());
        table.extend_from_slice(&ENTRY_SIZE.to_le_bytes());
        table.extend_from_slice(&(symbols.len() as u32).to_le_bytes());
        table.extend_from_slice(&(strings_offset as u32).to_le_bytes());
        table.extend_from_slice(&(strings.len() as u32).to_le_bytes());
        table.extend_from_slice(&(total as u32).to_le_bytes());
        table.extend_from_slice(&entries);
        table.extend_from_slice(&strings);
        table
    }

    fn sample() -> Vec<u8> {
        build(&[
            (0x10_0000, 0x10, "_start32"),
            (0x10_0010, 0x20, "platform::boot::entry64"),
            (0x10_0040, 0x08, "<&str as core::fmt::Display>::fmt"),
        ])
    }

    #[test]
    fn finds_the_symbol_containing_an_address() {
        let bytes = sample();
        let table = Table::parse(&bytes).unwrap();
        assert_eq!(table.len(), 3);
        let symbol = table.lookup(0x10_0025).unwrap();
        assert_eq!(symbol.name, "platform::boot::entry64");
        assert_eq!((symbol.address, symbol.offset), (0x10_0010, 0x15));
        assert_eq!(table.lookup(0x10_0000).unwrap().name, "_start32");
        assert_eq!(table.lookup(0x10_0047).unwrap().offset, 7);
    }

    #[test]
    fn addresses_outside_every_symbol_have_none() {
        let bytes = sample();
        let table = Table::parse(&bytes).unwrap();
        assert_eq!(table.lookup(0xf_ffff), None);
        assert_eq!(table.lookup(0x10_0030), None, "gap after entry64");
        assert_eq!(table.lookup(0x10_0048), None, "past the last symbol");
        assert_eq!(table.lookup(u64::MAX), None);
    }

    #[test]
    fn the_linker_placeholder_is_an_empty_table() {
        let bytes = build(&[]);
        assert_eq!(bytes.len(), HEADER_SIZE);
        let table = Table::parse(&bytes).unwrap();
        assert!(table.is_empty());
        assert_eq!(table.lookup(0x10_0000), None);
    }

    #[test]
    fn malformed_tables_are_errors() {
        let good = sample();
        assert_eq!(
            Table::parse(&good[..10]).unwrap_err(),
            SymbolsError::Truncated
        );
        assert_eq!(
            Table::parse(&good[..good.len() - 1]).unwrap_err(),
            SymbolsError::Truncated
        );
        let mut bad = good.clone();
        bad[0] = b'X';
        assert_eq!(Table::parse(&bad).unwrap_err(), SymbolsError::BadMagic);
        let mut bad = good.clone();
        bad[4] = 9;
        assert_eq!(
            Table::parse(&bad).unwrap_err(),
            SymbolsError::UnsupportedVersion
        );
        let mut bad = good.clone();
        bad[8..12].copy_from_slice(&1000u32.to_le_bytes());
        assert_eq!(Table::parse(&bad).unwrap_err(), SymbolsError::BadLayout);
        let mut bad = good;
        bad[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(Table::parse(&bad).unwrap_err(), SymbolsError::BadLayout);
    }

    #[test]
    fn a_name_without_terminator_is_not_returned() {
        let mut bytes = sample();
        let last = bytes.len() - 1;
        bytes[last] = b'x';
        let table = Table::parse(&bytes).unwrap();
        assert_eq!(table.lookup(0x10_0040), None);
        assert_eq!(table.lookup(0x10_0000).unwrap().name, "_start32");
    }
}
