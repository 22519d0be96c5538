//! Tests of `embed` on a small synthetic image laid out like `link.ld`'s.

use platform::symbols::Table;

use object::elf::{STB_LOCAL as LOCAL, SymbolBind, SymbolType};

use super::elf::{Layout, STB_GLOBAL, STT_FUNC, STT_NOTYPE};
use super::*;

const TEXT: u64 = 0x10_0000;
const SYMBOLS: u64 = 0x10_1000;

/// A symbol for the test image: name, type, binding, value, size.
type TestSymbol = (&'static str, SymbolType, SymbolBind, u64, u64);

fn push_u16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn push_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn push_u64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&value.to_le_bytes());
}

/// A string table with `names`, and each name's offset.
fn string_table(names: &[&str]) -> (Vec<u8>, Vec<u32>) {
    let mut table = vec![0];
    let offsets = names
        .iter()
        .map(|name| {
            let offset = table.len() as u32;
            table.extend_from_slice(name.as_bytes());
            table.push(0);
            offset
        })
        .collect();
    (table, offsets)
}

/// A section header: name, type, flags, address, offset, size, link.
fn section_header(out: &mut Vec<u8>, fields: (u32, u32, u64, u64, u64, u64, u32)) {
    let (name, kind, flags, address, offset, size, link) = fields;
    push_u32(out, name);
    push_u32(out, kind);
    push_u64(out, flags);
    push_u64(out, address);
    push_u64(out, offset);
    push_u64(out, size);
    push_u32(out, link);
    push_u32(out, 0);
    push_u64(out, 8);
    push_u64(out, if kind == 2 { 24 } else { 0 });
}

/// A program header: PT_LOAD of `size` bytes from `offset` to `address`.
fn load_segment(out: &mut Vec<u8>, flags: u32, offset: u64, address: u64, size: u64) {
    push_u32(out, 1);
    push_u32(out, flags);
    for value in [offset, address, address, size, size, 0x1000] {
        push_u64(out, value);
    }
}

/// An image with 0x100 bytes of `.text`, the linker's empty `.symbols`
/// and a `.symtab` holding `symbols` (all in `.text`).
fn image(symbols: &[TestSymbol]) -> Vec<u8> {
    let placeholder = build_table(&[]).unwrap();
    let names: Vec<&str> = symbols.iter().map(|symbol| symbol.0).collect();
    let (strings, name_offsets) = string_table(&names);
    let (section_names, section_name_offsets) =
        string_table(&[".text", ".symbols", ".symtab", ".strtab", ".shstrtab"]);
    let mut symtab = vec![0; 24];
    for (symbol, name) in symbols.iter().zip(&name_offsets) {
        push_u32(&mut symtab, *name);
        symtab.push(symbol.2.0 << 4 | symbol.1.0);
        symtab.push(0);
        push_u16(&mut symtab, 1);
        push_u64(&mut symtab, symbol.3);
        push_u64(&mut symtab, symbol.4);
    }
    let symtab_offset = 0x2000 + placeholder.len() as u64;
    let strings_offset = symtab_offset + symtab.len() as u64;
    let names_offset = strings_offset + strings.len() as u64;
    let headers_offset = (names_offset + section_names.len() as u64).next_multiple_of(8);

    let mut out = b"\x7fELF\x02\x01\x01".to_vec();
    out.resize(16, 0);
    push_u16(&mut out, 2);
    push_u16(&mut out, 62);
    push_u32(&mut out, 1);
    push_u64(&mut out, TEXT);
    push_u64(&mut out, 64);
    push_u64(&mut out, headers_offset);
    push_u32(&mut out, 0);
    for value in [64, 56, 2, 64, 6, 5] {
        push_u16(&mut out, value);
    }
    load_segment(&mut out, 5, 0x1000, TEXT, 0x100);
    load_segment(&mut out, 4, 0x2000, SYMBOLS, placeholder.len() as u64);
    out.resize(0x1000, 0);
    out.extend((0..0x100).map(|byte| byte as u8));
    out.resize(0x2000, 0);
    out.extend_from_slice(&placeholder);
    out.extend_from_slice(&symtab);
    out.extend_from_slice(&strings);
    out.extend_from_slice(&section_names);
    out.resize(headers_offset as usize, 0);
    let n = &section_name_offsets;
    section_header(&mut out, (0, 0, 0, 0, 0, 0, 0));
    section_header(&mut out, (n[0], 1, 6, TEXT, 0x1000, 0x100, 0));
    section_header(
        &mut out,
        (n[1], 1, 2, SYMBOLS, 0x2000, placeholder.len() as u64, 0),
    );
    section_header(
        &mut out,
        (n[2], 2, 0, 0, symtab_offset, symtab.len() as u64, 4),
    );
    section_header(
        &mut out,
        (n[3], 3, 0, 0, strings_offset, strings.len() as u64, 0),
    );
    section_header(
        &mut out,
        (n[4], 3, 0, 0, names_offset, section_names.len() as u64, 0),
    );
    out
}

fn sample() -> Vec<u8> {
    image(&[
        ("multiboot2_header_start", STT_NOTYPE, LOCAL, TEXT, 0),
        ("_start32", STT_NOTYPE, STB_GLOBAL, TEXT + 0x18, 0),
        ("multiboot2_header_end", STT_NOTYPE, LOCAL, TEXT + 0x18, 0),
        (
            "_ZN8platform4boot7entry6417ha0093410a9a1af5aE",
            STT_FUNC,
            LOCAL,
            TEXT + 0x40,
            0x30,
        ),
        (
            "_RNvNtCsg3SjgaGcPXb_4core9panicking9panic_fmt",
            STT_FUNC,
            LOCAL,
            TEXT + 0x80,
            0x100,
        ),
        (".Ltmp0", STT_NOTYPE, LOCAL, TEXT + 0x90, 0),
    ])
}

/// The embedded table's bytes, found through the segment as a loader would.
fn loaded_table(image: &[u8]) -> Vec<u8> {
    let layout = Layout::parse(image).unwrap();
    let segment = layout
        .segments
        .iter()
        .find(|segment| segment.address == SYMBOLS)
        .unwrap();
    assert_eq!(segment.file_size, segment.memory_size);
    assert_eq!(
        segment.offset % 0x1000,
        0,
        "offset congruent to the page-aligned address"
    );
    let section = layout.section(SECTION).unwrap();
    assert_eq!(
        (section.offset, section.size),
        (segment.offset, segment.file_size)
    );
    image[segment.offset as usize..(segment.offset + segment.file_size) as usize].to_vec()
}

#[test]
fn the_guest_reader_finds_demangled_symbols() {
    let embedded = embed_in(&sample()).unwrap();
    let bytes = loaded_table(&embedded);
    let table = Table::parse(&bytes).unwrap();
    assert_eq!(table.len(), 4);
    let at = |address| {
        table
            .lookup(address)
            .map(|symbol| (symbol.name, symbol.offset))
    };
    assert_eq!(at(TEXT + 4), Some(("multiboot2_header_start", 4)));
    assert_eq!(
        at(TEXT + 0x20),
        Some(("_start32", 8)),
        "global label wins, sized to the next symbol"
    );
    assert_eq!(at(TEXT + 0x45), Some(("platform::boot::entry64", 5)));
    assert_eq!(at(TEXT + 0x75), None, "past entry64's size");
    assert_eq!(
        at(TEXT + 0x95),
        Some(("core::panicking::panic_fmt", 0x15)),
        ".L labels are skipped"
    );
    assert_eq!(at(TEXT + 0x100), None, "clipped at the end of .text");
}

#[test]
fn embedding_keeps_the_rest_of_the_image() {
    let original = sample();
    let embedded = embed_in(&original).unwrap();
    assert_eq!(embedded[0x1000..0x1100], original[0x1000..0x1100]);
    let before = Layout::parse(&original).unwrap();
    let after = Layout::parse(&embedded).unwrap();
    assert_eq!(
        before.section(".symtab").unwrap().offset,
        after.section(".symtab").unwrap().offset
    );
    assert_eq!(after.segments[0].offset, 0x1000);
}

#[test]
fn embedding_twice_changes_nothing() {
    let once = embed_in(&sample()).unwrap();
    let twice = embed_in(&once).unwrap();
    assert_eq!(once, twice);
}

#[test]
fn embed_rewrites_the_file_once() {
    let path = std::env::temp_dir().join(format!("anykernel-symbols-{}.elf", std::process::id()));
    std::fs::write(&path, sample()).unwrap();
    embed(&path).unwrap();
    let once = std::fs::read(&path).unwrap();
    embed(&path).unwrap();
    let twice = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_ne!(once, sample());
    assert_eq!(once, twice);
}

#[test]
fn images_without_the_reserved_section_or_symbols_are_errors() {
    let mut renamed = sample();
    let at = renamed
        .windows(9)
        .position(|window| window == b".symbols\0")
        .unwrap();
    renamed[at + 1] = b'S';
    assert!(
        embed_in(&renamed)
            .unwrap_err()
            .contains("no .symbols section")
    );
    assert!(embed_in(b"not an elf").is_err());
    let truncated = &sample()[..0x1800];
    assert!(embed_in(truncated).is_err());
}

#[test]
fn a_segment_shared_with_other_sections_is_an_error() {
    let mut image = sample();
    let layout = Layout::parse(&image).unwrap();
    let segment = layout.segments[1];
    let grown = segment.memory_size + 16;
    image[segment.header_offset as usize + 40..][..8].copy_from_slice(&grown.to_le_bytes());
    assert!(embed_in(&image).unwrap_err().contains("more than .symbols"));
}

#[test]
fn offsets_near_the_top_of_the_address_space_are_errors_not_panics() {
    let original = sample();
    let layout = Layout::parse(&original).unwrap();
    let symtab = layout.section(".symtab").unwrap().header_offset as usize;
    let strtab = layout.section(".strtab").unwrap().header_offset as usize;
    // e_phoff, e_shoff; then sh_offset of .symtab and of .strtab.
    for (at, value) in [
        (32, u64::MAX - 8),
        (40, u64::MAX - 8),
        (symtab + 24, u64::MAX - 8),
        (strtab + 24, u64::MAX - 8),
        (strtab + 32, u64::MAX),
    ] {
        let mut image = original.clone();
        image[at..at + 8].copy_from_slice(&value.to_le_bytes());
        assert!(embed_in(&image).is_err(), "field at {at:#x}");
    }
}

#[test]
fn names_are_demangled_without_hashes_or_lto_suffixes() {
    let legacy = "_ZN8platform4boot7entry6417ha0093410a9a1af5aE";
    assert_eq!(display_name(legacy), "platform::boot::entry64");
    assert_eq!(
        display_name(&format!("{legacy}.12")),
        "platform::boot::entry64"
    );
    let escaped = "_ZN4core3ptr42drop_in_place$LT$alloc..string..String$GT$17h0123456789abcdefE.3";
    assert_eq!(
        display_name(escaped),
        "core::ptr::drop_in_place<alloc::string::String>"
    );
    let v0 = "_RNvNtCsg3SjgaGcPXb_4core9panicking9panic_fmt";
    assert_eq!(display_name(v0), "core::panicking::panic_fmt");
    assert_eq!(
        display_name(&format!("{v0}.llvm.1234")),
        "core::panicking::panic_fmt"
    );
    assert_eq!(display_name("_start32"), "_start32");
    assert_eq!(display_name("memcpy.part.0"), "memcpy.part.0");
}
