//! The ELF64 headers and symbols `embed` needs, read with the `object` crate.
//!
//! `object` does the reading and its bounds checks; this file keeps what
//! `embed` works with: each program and section header with its offset in
//! the file (so it can be rewritten in place), the section names, and the
//! function and label symbols of executable sections. Every malformed
//! field is an error message, never a panic.

use object::LittleEndian;
use object::elf::{self, FileHeader64, ProgramHeader64, SectionHeader64};
use object::read::elf::{FileHeader as _, SectionHeader as _, Sym as _};

pub use object::elf::{PT_LOAD, STB_GLOBAL, STT_FUNC, STT_NOTYPE};

/// The images are x86_64, so little-endian.
const ENDIAN: LittleEndian = LittleEndian;

/// One program header and where it sits in the file.
#[derive(Debug, Clone, Copy)]
pub struct Segment {
    /// Offset of this header in the file.
    pub header_offset: u64,
    header: ProgramHeader64<LittleEndian>,
    pub kind: elf::ProgramType,
    pub offset: u64,
    pub address: u64,
    pub file_size: u64,
    pub memory_size: u64,
    pub align: u64,
}

/// One section header, its name and where it sits in the file.
#[derive(Debug, Clone)]
pub struct Section {
    /// Offset of this header in the file.
    pub header_offset: u64,
    header: SectionHeader64<LittleEndian>,
    pub name: String,
    pub kind: elf::SectionType,
    pub address: u64,
    pub offset: u64,
    pub size: u64,
}

/// A function or label symbol of an executable section.
#[derive(Debug, Clone)]
pub struct FileSymbol {
    pub name: String,
    pub kind: elf::SymbolType,
    pub binding: elf::SymbolBind,
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

/// `error` as a message saying the ELF is malformed.
fn malformed(error: object::Error) -> String {
    format!("ELF malformed: {error}")
}

/// Offset `index` entries of `size` bytes into a table at `table`.
fn entry_offset(table: u64, index: usize, size: usize) -> Result<u64, String> {
    (index as u64)
        .checked_mul(size as u64)
        .and_then(|offset| table.checked_add(offset))
        .ok_or_else(|| "ELF malformed: a header table offset overflows".into())
}

impl Layout {
    /// Reads the file header and both header tables.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let file = file_header(bytes)?;
        let program_table = file.e_phoff.get(ENDIAN);
        let section_table = file.e_shoff.get(ENDIAN);
        let program_headers = file.program_headers(ENDIAN, bytes).map_err(malformed)?;
        let table = file.sections(ENDIAN, bytes).map_err(malformed)?;
        let segment_size = size_of::<ProgramHeader64<LittleEndian>>();
        let section_size = size_of::<SectionHeader64<LittleEndian>>();
        let segments = program_headers
            .iter()
            .enumerate()
            .map(|(index, header)| {
                segment(*header, entry_offset(program_table, index, segment_size)?)
            })
            .collect::<Result<_, String>>()?;
        let sections = table
            .iter()
            .enumerate()
            .map(|(index, header)| {
                let name = table.section_name(ENDIAN, header).map_err(malformed)?;
                let at = entry_offset(section_table, index, section_size)?;
                Ok(section(*header, at, name))
            })
            .collect::<Result<_, String>>()?;
        Ok(Self {
            segments,
            sections,
            section_headers_end: entry_offset(section_table, table.len(), section_size)?,
            program_headers_end: entry_offset(program_table, program_headers.len(), segment_size)?,
        })
    }

    /// The section called `name`.
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|section| section.name == name)
    }

    /// The function and label symbols of `.symtab` in executable sections.
    pub fn code_symbols(&self, bytes: &[u8]) -> Result<Vec<FileSymbol>, String> {
        let file = file_header(bytes)?;
        let table = file.sections(ENDIAN, bytes).map_err(malformed)?;
        let symbols = table
            .symbols(ENDIAN, bytes, elf::SHT_SYMTAB)
            .map_err(malformed)?;
        if symbols.is_empty() {
            return Err("the image has no .symtab (was it stripped?)".into());
        }
        let mut found = Vec::new();
        for symbol in symbols.iter() {
            let Some(index) = symbol.st_shndx(ENDIAN).index().filter(|&index| index != 0) else {
                continue;
            };
            let executable = table
                .section(object::SectionIndex(usize::from(index)))
                .is_ok_and(|section| section.sh_flags(ENDIAN).contains(elf::SHF_EXECINSTR));
            if !executable || !matches!(symbol.st_type(), STT_FUNC | STT_NOTYPE) {
                continue;
            }
            let name = symbol.name(ENDIAN, symbols.strings()).map_err(malformed)?;
            found.push(FileSymbol {
                name: String::from_utf8_lossy(name).into_owned(),
                kind: symbol.st_type(),
                binding: symbol.st_bind(),
                section: index,
                value: symbol.st_value(ENDIAN),
                size: symbol.st_size(ENDIAN),
            });
        }
        Ok(found)
    }

    /// The end of everything in the file except section `skip`'s contents
    /// (`u64::MAX` if a section claims to end past it).
    pub fn content_end_without(&self, skip: &Section) -> u64 {
        let file_header = size_of::<FileHeader64<LittleEndian>>() as u64;
        let sections = self
            .sections
            .iter()
            .filter(|section| {
                section.header_offset != skip.header_offset && section.kind != elf::SHT_NOBITS
            })
            .map(|section| section.offset.saturating_add(section.size));
        sections
            .chain([
                file_header,
                self.section_headers_end,
                self.program_headers_end,
            ])
            .max()
            .unwrap_or(file_header)
    }
}

/// The file header of a little-endian ELF64 for x86_64.
fn file_header(bytes: &[u8]) -> Result<&FileHeader64<LittleEndian>, String> {
    let file =
        FileHeader64::<LittleEndian>::parse(bytes).map_err(|_| "not an ELF64 file".to_string())?;
    let little_endian = file.endian().is_ok_and(|endian| endian == ENDIAN);
    if !little_endian || file.e_machine(ENDIAN) != elf::EM_X86_64 {
        return Err("not a little-endian ELF64 x86_64 file".into());
    }
    Ok(file)
}

fn segment(header: ProgramHeader64<LittleEndian>, at: u64) -> Result<Segment, String> {
    Ok(Segment {
        header_offset: at,
        header,
        kind: header.p_type.get(ENDIAN),
        offset: header.p_offset.get(ENDIAN),
        address: header.p_vaddr.get(ENDIAN),
        file_size: header.p_filesz.get(ENDIAN),
        memory_size: header.p_memsz.get(ENDIAN),
        align: header.p_align.get(ENDIAN),
    })
}

fn section(header: SectionHeader64<LittleEndian>, at: u64, name: &[u8]) -> Section {
    Section {
        header_offset: at,
        header,
        name: String::from_utf8_lossy(name).into_owned(),
        kind: header.sh_type(ENDIAN),
        address: header.sh_addr.get(ENDIAN),
        offset: header.sh_offset.get(ENDIAN),
        size: header.sh_size.get(ENDIAN),
    }
}

/// Copies `header` over the bytes at `offset` (a header read from there).
fn write_header(bytes: &mut [u8], offset: u64, header: &[u8]) {
    let start = offset as usize;
    bytes[start..start + header.len()].copy_from_slice(header);
}

/// Points `section` at `length` bytes at file `offset`.
pub fn set_section_contents(bytes: &mut [u8], section: &Section, offset: u64, length: u64) {
    let mut header = section.header;
    header.sh_offset.set(ENDIAN, offset);
    header.sh_size.set(ENDIAN, length);
    write_header(bytes, section.header_offset, object::bytes_of(&header));
}

/// Makes `segment` load `length` bytes from file `offset` (memory size
/// equal to file size).
pub fn set_segment_contents(bytes: &mut [u8], segment: &Segment, offset: u64, length: u64) {
    let mut header = segment.header;
    header.p_offset.set(ENDIAN, offset);
    header.p_filesz.set(ENDIAN, length);
    header.p_memsz.set(ENDIAN, length);
    write_header(bytes, segment.header_offset, object::bytes_of(&header));
}
