//! Embeds a symbol table into a linked kernel image, for guest backtraces.
//!
//! Loaders load only `PT_LOAD` segments, so the guest cannot read `.symtab`.
//! `platform/link.ld` therefore ends the image with a section `.symbols` in
//! its own, last `PT_LOAD` segment, holding an empty table. [`embed`]:
//!
//! 1. reads the function and label symbols of executable sections from
//!    `.symtab`, keeps one per address (a sized function before a label, a
//!    global before a local), gives size-less labels the distance to the next
//!    symbol, and demangles the names (legacy and v0, without hashes);
//!    `object` reads the ELF and `rustc-demangle` demangles;
//! 2. builds the table in the format `platform/src/symbols.rs` documents and
//!    reads (magic `KSYM`, sorted 16-byte entries, NUL-terminated names);
//! 3. writes it at the first page-aligned file offset after everything
//!    else in the file, and points the `.symbols` section header and the last
//!    segment (file size = memory size = table length) at it.
//!
//! The file stays a valid ELF for QEMU's PVH loader, GRUB and gdb. Running
//! it again computes the same offset and table, so it is idempotent (and
//! leaves the file untouched when nothing changes).

mod elf;

use std::path::Path;

use elf::{FileSymbol, Layout, PT_LOAD, STB_GLOBAL, STT_FUNC, Section, Segment};

/// The section `platform/link.ld` reserves for the table.
const SECTION: &str = ".symbols";
/// Format constants; they must match `platform/src/symbols.rs` (the
/// round-trip test reads the result with the platform's reader).
const MAGIC: u32 = u32::from_le_bytes(*b"KSYM");
const VERSION: u16 = 1;
const HEADER_SIZE: usize = 24;
const ENTRY_SIZE: u16 = 16;
/// Segment alignments beyond this (2 MiB, a large page) are malformed.
const MAXIMUM_ALIGN: u64 = 2 << 20;

/// Rewrites the ELF at `elf` so the guest can symbolize its own backtraces.
/// Errors say what is wrong, not which file (the caller adds that).
pub fn embed(elf: &Path) -> Result<(), String> {
    let original = std::fs::read(elf).map_err(|error| error.to_string())?;
    let embedded = embed_in(&original)?;
    if embedded != original {
        std::fs::write(elf, embedded).map_err(|error| error.to_string())?;
    }
    Ok(())
}

/// The demangled names of the code symbols in the ELF `image`: what the
/// image contains, for checks that a component left no code behind.
pub fn code_symbol_names(image: &[u8]) -> Result<Vec<String>, String> {
    let layout = Layout::parse(image)?;
    let symbols = layout.code_symbols(image)?;
    Ok(symbols
        .iter()
        .map(|symbol| display_name(&symbol.name))
        .collect())
}

/// The code symbols of the ELF `image`, one per address, sorted, named
/// as the guest's table names them (for host-side profiles).
pub fn code_symbol_table(image: &[u8]) -> Result<Vec<Symbol>, String> {
    let layout = Layout::parse(image)?;
    Ok(select(&layout, layout.code_symbols(image)?))
}

/// Whether the ELF `image` still has its DWARF line tables (a fresh link).
pub fn has_line_tables(image: &[u8]) -> Result<bool, String> {
    Ok(Layout::parse(image)?.section(".debug_line").is_some())
}

/// Whether the ELF `image` still has its symbol table (not yet stripped).
pub fn has_symbol_table(image: &[u8]) -> Result<bool, String> {
    Ok(Layout::parse(image)?.section(".symtab").is_some())
}

/// One table entry: a function's (or label's) code range and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    pub address: u64,
    pub size: u32,
    pub name: String,
}

/// The image `image` with its symbol table embedded.
fn embed_in(image: &[u8]) -> Result<Vec<u8>, String> {
    let layout = Layout::parse(image)?;
    let section = layout
        .section(SECTION)
        .ok_or("no .symbols section: link the image with platform/link.ld")?
        .clone();
    let segment = table_segment(&layout, &section)?;
    let table = build_table(&select(&layout, layout.code_symbols(image)?))?;
    let start = table_offset(layout.content_end_without(&section), &segment, image.len())?;
    let offset = start as u64;
    let mut out = image[..image.len().min(start)].to_vec();
    out.resize(start, 0);
    out.extend_from_slice(&table);
    elf::set_section_contents(&mut out, &section, offset, table.len() as u64);
    elf::set_segment_contents(&mut out, &segment, offset, table.len() as u64);
    Ok(out)
}

/// The first file offset after `content_end` that is congruent to the
/// segment's address modulo its alignment, as loaders require.
fn table_offset(content_end: u64, segment: &Segment, file_length: usize) -> Result<usize, String> {
    if content_end > file_length as u64 {
        return Err("a section or header table lies past the end of the file".into());
    }
    if segment.align > MAXIMUM_ALIGN {
        return Err(format!(
            "the .symbols segment's alignment {:#x} exceeds 2 MiB",
            segment.align
        ));
    }
    let align = segment.align.max(1);
    let offset = content_end.next_multiple_of(align) + segment.address % align;
    usize::try_from(offset).map_err(|_| "file offset too large".into())
}

/// The `PT_LOAD` segment that holds `section` and nothing else, and is the
/// last one loaded (so growing it overlaps nothing).
fn table_segment(layout: &Layout, section: &Section) -> Result<Segment, String> {
    let loads = || {
        layout
            .segments
            .iter()
            .filter(|segment| segment.kind == PT_LOAD)
    };
    let segment = loads()
        .find(|segment| segment.address == section.address)
        .ok_or(".symbols does not start its own PT_LOAD segment (see platform/link.ld)")?;
    if loads().any(|other| other.address > segment.address) {
        return Err("the .symbols segment is not the last PT_LOAD segment".into());
    }
    if segment.offset != section.offset {
        return Err("the .symbols section and its segment start at different file offsets".into());
    }
    if segment.memory_size != section.size || segment.file_size != section.size {
        return Err(
            "the .symbols segment holds more than .symbols (orphan sections after it?)".into(),
        );
    }
    Ok(*segment)
}

/// One symbol per address, with sizes that end before the next symbol.
fn select(layout: &Layout, mut symbols: Vec<FileSymbol>) -> Vec<Symbol> {
    symbols.retain(|symbol| {
        !symbol.name.is_empty() && !symbol.name.starts_with(".L") && !symbol.name.starts_with('$')
    });
    symbols.sort_by_key(|symbol| {
        (
            symbol.value,
            symbol.kind != STT_FUNC,
            symbol.size == 0,
            symbol.binding != STB_GLOBAL,
        )
    });
    symbols.dedup_by_key(|symbol| symbol.value);
    let mut selected = Vec::new();
    for (index, symbol) in symbols.iter().enumerate() {
        let section = &layout.sections[usize::from(symbol.section)];
        let next = symbols.get(index + 1).map_or(u64::MAX, |next| next.value);
        let limit = next.min(section.address.saturating_add(section.size));
        let end = if symbol.size > 0 {
            symbol.value.saturating_add(symbol.size).min(limit)
        } else {
            limit
        };
        let size = u32::try_from(end.saturating_sub(symbol.value)).unwrap_or(u32::MAX);
        if size > 0 {
            selected.push(Symbol {
                address: symbol.value,
                size,
                name: display_name(&symbol.name),
            });
        }
    }
    selected
}

/// The readable form of symbol `name`: demangled (legacy or v0) without
/// hashes or the `.N` suffixes LTO appends, or `name` itself when it is
/// not a Rust symbol.
fn display_name(name: &str) -> String {
    let shown = |name: &str| rustc_demangle::try_demangle(name).map(|name| format!("{name:#}"));
    let Ok(whole) = shown(name) else {
        return name.to_owned();
    };
    // rustc-demangle prints a suffix after the name as it is; the suffix
    // starts at the first `.` before which the name alone demangles.
    let suffix = name
        .match_indices('.')
        .map(|(at, _)| &name[at..])
        .find(|suffix| {
            let head = &name[..name.len() - suffix.len()];
            shown(head).is_ok_and(|head| whole == head + suffix)
        });
    match suffix {
        Some(suffix) => whole[..whole.len() - suffix.len()].to_owned(),
        None => whole,
    }
}

/// The table bytes for `symbols` (sorted by address).
fn build_table(symbols: &[Symbol]) -> Result<Vec<u8>, String> {
    let too_large = || "symbol table larger than 4 GiB".to_owned();
    let mut entries = Vec::with_capacity(symbols.len() * usize::from(ENTRY_SIZE));
    let mut strings = Vec::new();
    for symbol in symbols {
        entries.extend_from_slice(&symbol.address.to_le_bytes());
        entries.extend_from_slice(&symbol.size.to_le_bytes());
        let name = u32::try_from(strings.len()).map_err(|_| too_large())?;
        entries.extend_from_slice(&name.to_le_bytes());
        strings.extend_from_slice(symbol.name.as_bytes());
        strings.push(0);
    }
    let count = u32::try_from(symbols.len()).map_err(|_| too_large())?;
    let strings_offset = u32::try_from(HEADER_SIZE + entries.len()).map_err(|_| too_large())?;
    let strings_length = u32::try_from(strings.len()).map_err(|_| too_large())?;
    let total = strings_offset
        .checked_add(strings_length)
        .ok_or_else(too_large)?;
    let mut table = Vec::with_capacity(total as usize);
    table.extend_from_slice(&MAGIC.to_le_bytes());
    table.extend_from_slice(&VERSION.to_le_bytes());
    table.extend_from_slice(&ENTRY_SIZE.to_le_bytes());
    for field in [count, strings_offset, strings_length, total] {
        table.extend_from_slice(&field.to_le_bytes());
    }
    table.extend_from_slice(&entries);
    table.extend_from_slice(&strings);
    Ok(table)
}

#[cfg(test)]
mod tests;
