//! `cargo xtask iso`: a hybrid BIOS + UEFI GRUB ISO booting the appliance.
//!
//! The ISO tree is `boot/anykernel` (the appliance ELF, booted through its
//! multiboot2 header) and `boot/grub/grub.cfg`, which puts GRUB on COM1 at
//! 115200 baud, boots at once and passes the kernel parameters given after
//! `--`. `grub-mkrescue` (grub-pc-bin, grub-efi-amd64-bin, xorriso, mtools)
//! builds it in about 0.6 s.

use std::fs;
use std::path::{Path, PathBuf};

use crate::build::build_images;
use crate::command::{output, tool};
use crate::paths::{iso_path, target_dir};
use crate::setup::{Need, ensure};

/// grub.cfg for an ISO whose kernel gets `params`.
pub fn grub_config(params: &[String]) -> String {
    let mut command = String::from("multiboot2 /boot/anykernel");
    for param in params {
        command.push(' ');
        command.push_str(&grub_quote(param));
    }
    format!(
        "serial --unit=0 --speed=115200\n\
         terminal_input serial\n\
         terminal_output serial\n\
         set timeout=0\n\
         menuentry \"anykernel\" {{\n    {command}\n    boot\n}}\n"
    )
}

/// `word` as one GRUB script word: single-quoted unless it is plain.
fn grub_quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_=,./:+@%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Builds the ISO for the appliance at `appliance`; returns its path.
pub fn make_iso(appliance: &Path, params: &[String]) -> Result<PathBuf, String> {
    let tree = target_dir().join("iso-tree");
    let io_error =
        |what: &str, error: std::io::Error| format!("{what} {}: {error}", tree.display());
    if tree.exists() {
        fs::remove_dir_all(&tree).map_err(|error| io_error("cannot clear", error))?;
    }
    fs::create_dir_all(tree.join("boot/grub")).map_err(|error| io_error("cannot create", error))?;
    fs::copy(appliance, tree.join("boot/anykernel"))
        .map_err(|error| io_error("cannot fill", error))?;
    fs::write(tree.join("boot/grub/grub.cfg"), grub_config(params))
        .map_err(|error| io_error("cannot fill", error))?;
    let iso = iso_path();
    let mut command = tool("grub-mkrescue", &["-o"]);
    command.arg(&iso).arg(&tree);
    output(command)?;
    Ok(iso)
}

/// The `iso` verb: builds the images and the ISO, prints the ISO's path.
pub fn iso_verb(params: &[String]) -> Result<(), String> {
    ensure(&[Need::Target, Need::IsoTools])?;
    let images = build_images()?;
    println!("{}", make_iso(&images.appliance, params)?.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grub_talks_on_com1_and_boots_at_once_through_multiboot2() {
        let config = grub_config(&[]);
        assert!(config.starts_with(
            "serial --unit=0 --speed=115200\nterminal_input serial\nterminal_output serial\n"
        ));
        assert!(config.contains("set timeout=0\n"), "{config}");
        assert!(
            config.contains("    multiboot2 /boot/anykernel\n    boot\n}"),
            "{config}"
        );
    }

    #[test]
    fn parameters_follow_the_kernel_and_odd_ones_are_quoted() {
        let params = [
            "ip=10.0.0.2/24".to_string(),
            "msg=a b".to_string(),
            "it's".to_string(),
        ];
        let config = grub_config(&params);
        assert!(
            config.contains(r"multiboot2 /boot/anykernel ip=10.0.0.2/24 'msg=a b' 'it'\''s'"),
            "{config}"
        );
    }
}
