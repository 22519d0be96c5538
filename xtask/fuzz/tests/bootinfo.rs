//! Fuzz targets for the boot-information parsers: PVH's `hvm_start_info`
//! and multiboot2's tags, laid out by the fuzzer in a buffer that plays
//! physical memory, with pointers mostly into it and sometimes anywhere.
//!
//! Properties: no loader structure makes a parser panic; whatever parses
//! is assembled into a `BootInfo` whose usable memory keeps the promises
//! the boot code relies on (page-aligned, sorted, disjoint, between 1 MiB
//! and 4 GiB, clear of the image and of every loader structure kept).

use bolero::{TypeGenerator, check};
use fuzz::PlacedMemory;
use platform::bootinfo::{
    BootInfo, IDENTITY_MAPPED_LIMIT, LOW_MEMORY_END, Loader, LoaderReport, MemoryRegion, PAGE_SIZE,
    multiboot2, pvh,
};

/// Where the fuzzer's memory starts.
const BASE: u64 = 0x1_0000;
/// Where the image is taken to lie.
const IMAGE: MemoryRegion = MemoryRegion::new(0x10_0000, 0x18_0000);

/// Mostly an address inside the buffer (`BASE + offset % length`), with a
/// first byte of 255 the raw value.
fn pointer(knob: u8, raw: u64, length: usize) -> u64 {
    match knob {
        255 => raw,
        _ => BASE + raw % (length.max(1) as u64),
    }
}

/// The promises of `BootInfo::usable_memory`, checked.
fn assert_usable_memory_sound(report: LoaderReport, loader: Loader) {
    let reserved = report.reserved;
    let Ok(info) = BootInfo::assemble(loader, BASE, 0, IMAGE, report) else {
        return;
    };
    let regions = &info.usable_memory;
    assert!(!regions.is_empty(), "assembled without usable memory");
    for (index, region) in regions.iter().enumerate() {
        assert!(!region.is_empty() && region.start % PAGE_SIZE == 0 && region.end % PAGE_SIZE == 0);
        assert!(region.start >= LOW_MEMORY_END && region.end <= IDENTITY_MAPPED_LIMIT);
        let overlaps = |other: &MemoryRegion| region.start < other.end && other.start < region.end;
        assert!(!overlaps(&IMAGE), "{region} overlaps the image");
        for structure in reserved.iter() {
            assert!(
                !overlaps(structure),
                "{region} overlaps loader structure {structure}"
            );
        }
        if index > 0 {
            assert!(
                regions[index - 1].end < region.start,
                "unsorted or touching"
            );
        }
    }
}

/// A 24-byte memory map entry (PVH and multiboot2 agree): base (the
/// fuzzer's number times two, so up to 8 GiB), length, and type 0-2 (1 is
/// RAM); a type knob of 255 makes the base a multiple of 4 GiB.
fn entry((base, length, kind): (u32, u32, u8)) -> [u8; 24] {
    let base = match kind {
        255 => u64::from(base) << 32,
        _ => u64::from(base) * 2,
    };
    let mut bytes = [0u8; 24];
    bytes[..8].copy_from_slice(&base.to_le_bytes());
    bytes[8..16].copy_from_slice(&u64::from(length).to_le_bytes());
    bytes[16..20].copy_from_slice(&u32::from(kind % 3).to_le_bytes());
    bytes
}

#[derive(Debug, TypeGenerator)]
struct PvhInput {
    /// Below 250: the right magic.
    magic_knob: u8,
    magic: u32,
    version: u32,
    modules: (u8, u64, u32),
    command_line: (u8, u64),
    rsdp: u64,
    memory_map: (u8, u64, u32),
    /// The rest of the buffer: map entries, strings, modules.
    tail: Vec<u8>,
    /// Memory map entries written at the start of `tail` (see [`entry`]).
    entries: Vec<(u32, u32, u8)>,
}

/// The `hvm_start_info` the input describes, followed by its memory map
/// (when `memory_map.0` is below 128) and the rest of the tail.
fn start_info(input: &PvhInput) -> Vec<u8> {
    let mut tail = Vec::new();
    for fields in input.entries.iter().take(80) {
        tail.extend_from_slice(&entry(*fields));
    }
    tail.extend_from_slice(&input.tail);
    let length = 56 + tail.len();
    let magic = match input.magic_knob {
        0..250 => pvh::START_INFO_MAGIC,
        _ => input.magic,
    };
    let (map_knob, map_raw, map_entries) = input.memory_map;
    let (map, count) = match map_knob {
        0..128 => (BASE + 56, input.entries.len().min(80) as u32),
        _ => (pointer(map_knob, map_raw, length), map_entries),
    };
    let words: [&[u8]; 11] = [
        &magic.to_le_bytes(),
        &(input.version % 3).to_le_bytes(),
        &0u32.to_le_bytes(),
        &input.modules.2.to_le_bytes(),
        &pointer(input.modules.0, input.modules.1, length).to_le_bytes(),
        &pointer(input.command_line.0, input.command_line.1, length).to_le_bytes(),
        &input.rsdp.to_le_bytes(),
        &map.to_le_bytes(),
        &count.to_le_bytes(),
        &0u32.to_le_bytes(),
        &tail,
    ];
    words.concat()
}

#[test]
fn pvh_start_info_parses_into_sound_usable_memory() {
    check!().with_type::<PvhInput>().for_each(|input| {
        let memory = PlacedMemory::new(BASE, &start_info(input));
        if let Ok(report) = pvh::parse(&memory, BASE) {
            assert_usable_memory_sound(report, Loader::Pvh);
        }
    });
}

/// One multiboot2 tag: `kind` below 200 picks a type the parser reads.
#[derive(Debug, TypeGenerator)]
struct Tag {
    kind: u8,
    raw_kind: u32,
    payload: Vec<u8>,
    /// A memory map tag's entries (see [`entry`]).
    entries: Vec<(u32, u32, u8)>,
}

const KNOWN_TAGS: [u32; 6] = [1, 3, 4, 6, 14, 15];

fn tag_bytes(tag: &Tag, information: &mut Vec<u8>) {
    let kind = match tag.kind {
        0..200 => KNOWN_TAGS[usize::from(tag.kind) % KNOWN_TAGS.len()],
        _ => tag.raw_kind,
    };
    let mut payload = Vec::new();
    if kind == 6 {
        payload.extend_from_slice(&24u32.to_le_bytes());
        payload.extend_from_slice(&0u32.to_le_bytes());
        for fields in tag.entries.iter().take(80) {
            payload.extend_from_slice(&entry(*fields));
        }
    } else {
        payload.extend_from_slice(&tag.payload);
    }
    let size = u32::try_from(8 + payload.len()).unwrap_or(u32::MAX);
    information.extend_from_slice(&kind.to_le_bytes());
    information.extend_from_slice(&size.to_le_bytes());
    information.extend_from_slice(&payload);
    information.resize(information.len().next_multiple_of(8), 0);
}

#[test]
fn multiboot2_tags_parse_into_sound_usable_memory() {
    check!()
        .with_type::<(Vec<Tag>, bool, Option<u32>)>()
        .for_each(|(tags, end_tag, size)| {
            let mut information = vec![0u8; 8];
            for tag in tags.iter().take(16) {
                tag_bytes(tag, &mut information);
            }
            if *end_tag {
                information.extend_from_slice(&[0, 0, 0, 0, 8, 0, 0, 0]);
            }
            let total = size.unwrap_or(information.len() as u32);
            information[..4].copy_from_slice(&total.to_le_bytes());
            let memory = PlacedMemory::new(BASE, &information);
            if let Ok(report) = multiboot2::parse(&memory, BASE) {
                assert_usable_memory_sound(report, Loader::Multiboot2);
            }
        });
}
