//! QEMU's own start: an empty guest that exits at once, so the boot rows
//! can say which part of spawn → ready is QEMU's and which is ours.
//!
//! The guest is a 32-bit ELF built here, byte by byte: one loadable
//! segment at 1 MiB with six instructions (write 0x10, "success", to
//! isa-debug-exit at port 0xf4, then halt) and the Xen note that makes
//! QEMU's `-kernel` enter it through PVH in 32-bit protected mode, as it
//! enters the appliance. So spawn → exit is QEMU's start, machine set-up,
//! firmware (qboot on q35) and teardown, with no guest work.

use std::fs;
use std::path::{Path, PathBuf};

use qemu_tests::{BOOT_DEADLINE, Machine, Qemu, QemuConfig, Verdict};

use crate::paths::target_dir;

use super::report::Series;

/// Where the image is loaded and entered.
const LOAD_ADDRESS: u32 = 0x10_0000;
/// ELF header, two program headers.
const HEADERS: usize = 52 + 2 * 32;
/// `mov dx, 0xf4; mov al, 0x10; out dx, al; cli; hlt; jmp hlt`.
const CODE: [u8; 11] = [
    0x66, 0xba, 0xf4, 0x00, // mov dx, 0xf4
    0xb0, 0x10, // mov al, 0x10
    0xee, // out dx, al
    0xfa, // cli
    0xf4, // hlt
    0xeb, 0xfd, // jmp back to hlt
];
/// XEN_ELFNOTE_PHYS32_ENTRY.
const PHYS32_ENTRY: u32 = 18;

/// Spawn → exit of the empty guest, ms, on each of `machines`.
pub fn figures(machines: &[Machine], runs: u32) -> Vec<Series> {
    let image = match write_image() {
        Ok(image) => image,
        Err(error) => {
            eprintln!("xtask: no empty guest: {error}");
            return Vec::new();
        }
    };
    machines
        .iter()
        .map(|&machine| Series {
            name: format!("{machine} QEMU alone (empty PVH guest): spawn -> exit"),
            unit: "ms".into(),
            values: (0..runs)
                .filter_map(|_| spawn_to_exit(&image, machine))
                .collect(),
        })
        .collect()
}

/// One boot of the empty guest, ms; `None` (said on stderr) if it failed.
pub fn spawn_to_exit(image: &Path, machine: Machine) -> Option<f64> {
    let config = QemuConfig::kernel(image).machine(machine);
    let outcome = match Qemu::spawn(&config) {
        Ok(qemu) => qemu.wait_for_exit(BOOT_DEADLINE),
        Err(error) => {
            eprintln!("xtask: empty guest on {machine}: {error}");
            return None;
        }
    };
    if outcome.verdict != Verdict::Passed {
        eprintln!(
            "xtask: empty guest on {machine} ended `{}`",
            outcome.verdict
        );
        return None;
    }
    Some(outcome.elapsed.as_secs_f64() * 1e3)
}

/// Writes the empty guest into the target directory; its path.
pub fn write_image() -> Result<PathBuf, String> {
    let path = target_dir().join("empty-pvh-guest");
    fs::write(&path, empty_guest()).map_err(|error| format!("{}: {error}", path.display()))?;
    Ok(path)
}

/// The ELF: header, a `PT_LOAD` of the whole file at [`LOAD_ADDRESS`]
/// (code at [`HEADERS`]), a `PT_NOTE` of the Xen entry note after it.
fn empty_guest() -> Vec<u8> {
    let entry = LOAD_ADDRESS + HEADERS as u32;
    let note_offset = HEADERS + CODE.len().next_multiple_of(4);
    let note = xen_entry_note(entry);
    let length = (note_offset + note.len()) as u32;
    let mut image = Vec::new();
    // e_ident: ELF, 32-bit, little-endian, version 1, System V.
    image.extend_from_slice(&[0x7f, b'E', b'L', b'F', 1, 1, 1, 0]);
    image.extend_from_slice(&[0; 8]);
    push16(&mut image, &[2, 3]); // ET_EXEC, EM_386
    push32(&mut image, &[1, entry, 52, 0, 0]); // version, entry, phoff, shoff, flags
    push16(&mut image, &[52, 32, 2, 40, 0, 0]); // sizes and counts, no sections
    // PT_LOAD: type, offset, vaddr, paddr, filesz, memsz, flags (R X), align.
    push32(
        &mut image,
        &[1, 0, LOAD_ADDRESS, LOAD_ADDRESS, length, length, 5, 0x1000],
    );
    // PT_NOTE over the note.
    let note_address = LOAD_ADDRESS + note_offset as u32;
    let note_length = note.len() as u32;
    push32(
        &mut image,
        &[4, note_offset as u32, note_address, note_address],
    );
    push32(&mut image, &[note_length, note_length, 4, 4]);
    image.extend_from_slice(&CODE);
    image.resize(note_offset, 0);
    image.extend_from_slice(&note);
    image
}

/// The note `Xen` / PHYS32_ENTRY whose value is `entry`.
fn xen_entry_note(entry: u32) -> Vec<u8> {
    let mut note = Vec::new();
    push32(&mut note, &[4, 4, PHYS32_ENTRY]); // namesz, descsz, type
    note.extend_from_slice(b"Xen\0");
    push32(&mut note, &[entry]);
    note
}

fn push16(bytes: &mut Vec<u8>, values: &[u16]) {
    values
        .iter()
        .for_each(|value| bytes.extend_from_slice(&value.to_le_bytes()));
}

fn push32(bytes: &mut Vec<u8>, values: &[u32]) {
    values
        .iter()
        .for_each(|value| bytes.extend_from_slice(&value.to_le_bytes()));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(bytes: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(bytes[at..at + 4].try_into().expect("four bytes"))
    }

    #[test]
    fn the_empty_guest_is_an_elf_entered_at_its_code() {
        let image = empty_guest();
        assert_eq!(&image[..4], b"\x7fELF");
        assert_eq!(image[4], 1, "32-bit");
        let entry = word(&image, 24);
        assert_eq!(entry, LOAD_ADDRESS + HEADERS as u32);
        let code_at = (entry - LOAD_ADDRESS) as usize;
        assert_eq!(&image[code_at..code_at + CODE.len()], &CODE);
        // The load segment covers the whole file.
        assert_eq!(word(&image, 52), 1);
        assert_eq!(word(&image, 52 + 16) as usize, image.len());
    }

    #[test]
    fn the_note_names_xen_and_the_entry() {
        let image = empty_guest();
        assert_eq!(word(&image, 84), 4, "PT_NOTE");
        let (offset, size) = (word(&image, 88) as usize, word(&image, 100) as usize);
        let note = &image[offset..offset + size];
        assert_eq!(word(note, 8), PHYS32_ENTRY);
        assert_eq!(&note[12..16], b"Xen\0");
        assert_eq!(word(note, 16), word(&image, 24));
    }
}
