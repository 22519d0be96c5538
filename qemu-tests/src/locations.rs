//! File and line of guest backtrace frames, resolved on the host.
//!
//! The guest names the function of each frame from the symbol table in its
//! image; it has no line tables (the image's size is measured, so DWARF
//! stays out of it). `cargo xtask build` keeps them beside each image in
//! `<image>.debug`, the same link before its debug sections were stripped,
//! and a failing outcome lists each frame's `file:line` from there with
//! the `addr2line` crate. Without that file there is nothing to add.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::protocol::{backtrace_frames, exception_report};

/// The file with the line tables of `image`: `<image>.debug`.
pub fn debug_file(image: &Path) -> PathBuf {
    let mut name = image.as_os_str().to_owned();
    name.push(".debug");
    PathBuf::from(name)
}

/// One line per backtrace frame of `serial` that the line tables of
/// `image` place: `  #N 0xADDRESS file:line`. Empty when there are no
/// frames or no readable `<image>.debug`.
pub fn frame_locations(serial: &str, image: &Path) -> String {
    let frames = backtrace_frames(serial);
    if frames.is_empty() {
        return String::new();
    }
    let Ok(loader) = addr2line::Loader::new(debug_file(image)) else {
        return String::new();
    };
    // After an exception the first frame is the faulting instruction
    // itself; every other frame is a return address, just after its call.
    let exact_first = serial.lines().any(|line| exception_report(line).is_some());
    let mut text = String::new();
    for frame in frames {
        let exact = exact_first && frame.index == 0;
        let probe = frame.address - u64::from(!exact && frame.address > 0);
        let Ok(Some(location)) = loader.find_location(probe) else {
            continue;
        };
        if let (Some(file), Some(line)) = (location.file, location.line) {
            let _ = writeln!(
                text,
                "  #{} {:#018x} {file}:{line}",
                frame.index, frame.address
            );
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_debug_file_sits_beside_the_image() {
        let image = Path::new("target/x86_64-unknown-none/release/anykernel");
        assert_eq!(
            debug_file(image),
            Path::new("target/x86_64-unknown-none/release/anykernel.debug")
        );
    }

    #[test]
    fn without_frames_or_a_debug_file_nothing_is_added() {
        let missing = Path::new("/nonexistent/anykernel");
        assert_eq!(frame_locations("panic: x\n", missing), "");
        let serial = "backtrace:\n  #0 0x0000000000101000 main+0x10\n";
        assert_eq!(frame_locations(serial, missing), "");
    }

    /// Where this (position-independent) test binary was loaded: the start
    /// of its mapping at file offset 0, from /proc/self/maps.
    fn load_base(executable: &Path) -> u64 {
        let maps = std::fs::read_to_string("/proc/self/maps").expect("maps");
        let line = maps
            .lines()
            .find(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                fields.get(2) == Some(&"00000000") && fields.get(5) == executable.to_str().as_ref()
            })
            .expect("the executable's first mapping");
        let start = line.split('-').next().expect("a range");
        u64::from_str_radix(start, 16).expect("hex")
    }

    /// This test binary's own line tables stand in for an image's: the
    /// return address just after a function's start resolves to this file.
    #[test]
    fn frames_resolve_to_file_and_line() {
        let executable = std::env::current_exe().expect("the test binary");
        let directory = std::env::temp_dir().join(format!("qemu-tests-{}", std::process::id()));
        std::fs::create_dir_all(&directory).expect("a temporary directory");
        let image = directory.join("image");
        std::fs::copy(&executable, debug_file(&image)).expect("a copy");
        let function = frames_resolve_to_file_and_line as fn() as usize as u64;
        let address = function - load_base(&executable) + 1;
        let serial = format!("backtrace:\n  #0 {address:#018x} here+0x0\n");
        let text = frame_locations(&serial, &image);
        std::fs::remove_dir_all(&directory).expect("cleaned up");
        assert!(text.contains("locations.rs:"), "{text}");
    }
}
