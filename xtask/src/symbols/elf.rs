//! Just enough ELF64 (little-endian x86_64) to read symbols, move a section.
//!
//! Offsets follow the System V gABI: the file header (64 bytes) names the
//! program header table (56-byte entries) and the section header table
//! (64-byte entries); `.symtab` entries are 24 bytes and name strings in
//! the section its `sh_link` points at. Every read is bounds-checked and
//! fails with a message rather than a panic.

/// `PT_LOAD`.
pub const PT_LOAD: u32 = 1;
/// `SHT_SYMTAB`.
pub const SHT_SYMTAB: u32 = 2;
/// `SHT_NOBITS` (occupies no file space).
pub const SHT_NOBITS: u32 = 8;
/// `SHF_EXECINSTR`.
pub const SHF_EXECINSTR: u64 = 4;
/// `STT_NOTYPE`.
pub const STT_NOTYPE: u8 = 0;
/// `STT_FUNC`.
pub const STT_FUNC: u8 = 2;
/// `STB_GLOBAL`.
pub const STB_GLOBAL: u8 = 1;

const FILE_HEADER_SIZE: u64 = 64;
const PROGRAM_HEADER_SIZE: u64 = 56;
const SECTION_HEADER_SIZE: u64 = 64;
const SYMBOL_SIZE: usize = 24;

/// A little-endian integer at `offset`, or an error naming `what`.
fn read<const N: usize>(bytes: &[u8], offset: u64, what: &str) -> Result<[u8; N], String> {
    usize::try_from(offset)
        .ok()
        .and_then(|start| bytes.get(start..start.checked_add(N)?))
        .map(|slice| slice.try_into().expect("slice of N bytes"))
        .ok_or_else(|| format!("ELF truncated: {what} at offset {offset:#x} lies past the end"))
}

fn read_u16(bytes: &[u8], offset: u64, what: &str) -> Result<u16, String> {
    read(bytes, offset, what).map(u16::from_le_bytes)
}

fn read_u32(bytes: &[u8], offset: u64, what: &str) -> Result<u32, String> {
    read(bytes, offset, what).map(u32::from_le_bytes)
}

fn read_u64(bytes: &[u8], offset: u64, what: &str) -> Result<u64, String> {
    read(bytes, offset, what).map(u64::from_le_bytes)
}

/// The offset of entry `index` of a table at `table` with `size`-byte
/// entries, or an error naming `what` if it overflows.
fn entry_offset(table: u64, index: u64, size: u64, what: &str) -> Result<u64, String> {
    index
        .checked_mul(size)
        .and_then(|offset| table.checked_add(offset))
        .ok_or_else(|| format!("ELF malformed: {what} offset overflows"))
}

/// Overwrites the 8 bytes at `offset` (already validated by a read).
fn write_u64(bytes: &mut [u8], offset: u64, value: u64) {
    let start = offset as usize;
    bytes[start..start + 8].copy_from_slice(&value.to_le_bytes());
}

/// One program header (fields named after the `p_*` members).
#[derive(Debug, Clone, Copy)]
pub struct Segment {
    /// Offset of this header in the file.
    pub header_offset: u64,
    pub kind: u32,
    pub offset: u64,
    pub address: u64,
    pub file_size: u64,
    pub memory_size: u64,
    pub align: u64,
}

/// One section header (fields named after the `sh_*` members).
#[derive(Debug, Clone)]
pub struct Section {
    /// Offset of this header in the file.
    pub header_offset: u64,
    /// `sh_name`: offset of the name in the section name table.
    name_offset: u32,
    /// The name, read from the section name table.
    pub name: String,
    pub kind: u32,
    pub flags: u64,
    pub address: u64,
    pub offset: u64,
    pub size: u64,
    pub link: u32,
}

/// A symbol of `.symtab` (`kind` and `binding` are the `STT_*` and
/// `STB_*` values from `st_info`).
#[derive(Debug, Clone)]
pub struct FileSymbol {
    pub name: String,
    pub kind: u8,
    pub binding: u8,
    pub section: u16,
    pub value: u64,
    pub size: u64,
}

/// The headers of an ELF64 file.
#[derive(Debug, Clone)]
pub struct Layout {
    pub segments: Vec<Segment>,
    pub sections: Vec<Section>,
    /// End of the section header table in the file.
    pub section_headers_end: u64,
    /// End of the program header table in the file.
    pub program_headers_end: u64,
}

impl Layout {
    /// Reads the file header and both header tables.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        if bytes.get(..4) != Some(b"\x7fELF".as_slice()) {
            return Err("not an ELF file".into());
        }
        if bytes.get(4..6) != Some([2, 1].as_slice()) || read_u16(bytes, 18, "e_machine")? != 62 {
            return Err("not a little-endian ELF64 x86_64 file".into());
        }
        let program_headers = read_u64(bytes, 32, "e_phoff")?;
        let section_headers = read_u64(bytes, 40, "e_shoff")?;
        let program_count = u64::from(read_u16(bytes, 56, "e_phnum")?);
        let section_count = u64::from(read_u16(bytes, 60, "e_shnum")?);
        let names_index = u64::from(read_u16(bytes, 62, "e_shstrndx")?);
        if read_u16(bytes, 54, "e_phentsize")? as u64 != PROGRAM_HEADER_SIZE
            || read_u16(bytes, 58, "e_shentsize")? as u64 != SECTION_HEADER_SIZE
        {
            return Err("unexpected ELF header entry sizes".into());
        }
        let program_header = |index| {
            entry_offset(
                program_headers,
                index,
                PROGRAM_HEADER_SIZE,
                "program header",
            )
        };
        let section_header = |index| {
            entry_offset(
                section_headers,
                index,
                SECTION_HEADER_SIZE,
                "section header",
            )
        };
        let segments = (0..program_count)
            .map(|index| segment(bytes, program_header(index)?))
            .collect::<Result<_, _>>()?;
        let mut sections: Vec<Section> = (0..section_count)
            .map(|index| section(bytes, section_header(index)?))
            .collect::<Result<_, _>>()?;
        name_sections(bytes, &mut sections, names_index)?;
        Ok(Self {
            segments,
            sections,
            section_headers_end: section_header(section_count)?,
            program_headers_end: program_header(program_count)?,
        })
    }

    /// The section called `name`.
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|section| section.name == name)
    }

    /// The function and label symbols of `.symtab` in executable sections.
    pub fn code_symbols(&self, bytes: &[u8]) -> Result<Vec<FileSymbol>, String> {
        let table = self
            .sections
            .iter()
            .find(|section| section.kind == SHT_SYMTAB)
            .ok_or("the image has no .symtab (was it stripped?)")?;
        let strings = self
            .sections
            .get(table.link as usize)
            .ok_or(".symtab links to no string table")?;
        let mut symbols = Vec::new();
        for index in 0..table.size / SYMBOL_SIZE as u64 {
            let at = entry_offset(table.offset, index, SYMBOL_SIZE as u64, "symbol")?;
            let symbol = file_symbol(bytes, at, strings)?;
            let executable = self
                .sections
                .get(usize::from(symbol.section))
                .is_some_and(|section| section.flags & SHF_EXECINSTR != 0);
            if executable && symbol.section != 0 && matches!(symbol.kind, STT_FUNC | STT_NOTYPE) {
                symbols.push(symbol);
            }
        }
        Ok(symbols)
    }

    /// The end of everything in the file except section `skip`'s contents
    /// (`u64::MAX` if a section claims to end past it).
    pub fn content_end_without(&self, skip: &Section) -> u64 {
        let sections = self
            .sections
            .iter()
            .filter(|section| {
                section.header_offset != skip.header_offset && section.kind != SHT_NOBITS
            })
            .map(|section| section.offset.saturating_add(section.size));
        sections
            .chain([
                FILE_HEADER_SIZE,
                self.section_headers_end,
                self.program_headers_end,
            ])
            .max()
            .unwrap_or(FILE_HEADER_SIZE)
    }
}

fn segment(bytes: &[u8], at: u64) -> Result<Segment, String> {
    Ok(Segment {
        header_offset: at,
        kind: read_u32(bytes, at, "p_type")?,
        offset: read_u64(bytes, at + 8, "p_offset")?,
        address: read_u64(bytes, at + 16, "p_vaddr")?,
        file_size: read_u64(bytes, at + 32, "p_filesz")?,
        memory_size: read_u64(bytes, at + 40, "p_memsz")?,
        align: read_u64(bytes, at + 48, "p_align")?,
    })
}

fn section(bytes: &[u8], at: u64) -> Result<Section, String> {
    Ok(Section {
        header_offset: at,
        name_offset: read_u32(bytes, at, "sh_name")?,
        name: String::new(),
        kind: read_u32(bytes, at + 4, "sh_type")?,
        flags: read_u64(bytes, at + 8, "sh_flags")?,
        address: read_u64(bytes, at + 16, "sh_addr")?,
        offset: read_u64(bytes, at + 24, "sh_offset")?,
        size: read_u64(bytes, at + 32, "sh_size")?,
        link: read_u32(bytes, at + 40, "sh_link")?,
    })
}

/// Reads each section's name from the section name table.
fn name_sections(bytes: &[u8], sections: &mut [Section], names_index: u64) -> Result<(), String> {
    let names = sections
        .get(names_index as usize)
        .ok_or("e_shstrndx names no section")?
        .clone();
    for section in sections {
        section.name = string_at(bytes, &names, u64::from(section.name_offset))?;
    }
    Ok(())
}

/// The NUL-terminated string at `offset` of string table `table`.
fn string_at(bytes: &[u8], table: &Section, offset: u64) -> Result<String, String> {
    let start = table
        .offset
        .checked_add(offset)
        .filter(|_| offset < table.size);
    let end = table.offset.checked_add(table.size);
    let tail = start.zip(end).and_then(|(start, end)| {
        bytes.get(usize::try_from(start).ok()?..usize::try_from(end).ok()?)
    });
    let tail = tail.ok_or_else(|| format!("string offset {offset:#x} outside its table"))?;
    let end = tail
        .iter()
        .position(|&byte| byte == 0)
        .ok_or("unterminated string")?;
    Ok(String::from_utf8_lossy(&tail[..end]).into_owned())
}

fn file_symbol(bytes: &[u8], at: u64, strings: &Section) -> Result<FileSymbol, String> {
    let name_offset = u64::from(read_u32(bytes, at, "st_name")?);
    let [info] = read::<1>(bytes, at + 4, "st_info")?;
    Ok(FileSymbol {
        name: string_at(bytes, strings, name_offset)?,
        kind: info & 0xf,
        binding: info >> 4,
        section: read_u16(bytes, at + 6, "st_shndx")?,
        value: read_u64(bytes, at + 8, "st_value")?,
        size: read_u64(bytes, at + 16, "st_size")?,
    })
}

/// Points `section` at `length` bytes at file `offset`.
pub fn set_section_contents(bytes: &mut [u8], section: &Section, offset: u64, length: u64) {
    write_u64(bytes, section.header_offset + 24, offset);
    write_u64(bytes, section.header_offset + 32, length);
}

/// Makes `segment` load `length` bytes from file `offset` (memory size
/// equal to file size).
pub fn set_segment_contents(bytes: &mut [u8], segment: &Segment, offset: u64, length: u64) {
    write_u64(bytes, segment.header_offset + 8, offset);
    write_u64(bytes, segment.header_offset + 32, length);
    write_u64(bytes, segment.header_offset + 40, length);
}
