//! `cargo xtask build`: both images, release, with embedded symbol tables.
//!
//! `cargo build --release -p app --target x86_64-unknown-none --bins` links
//! `anykernel` and `anykernel-selftest` with DWARF line tables. Each image
//! is copied to `<image>.debug` (where the host finds file:line for guest
//! backtraces, see `qemu_tests::locations`, and the code an image holds),
//! rewritten in place by `symbols::embed` so the guest can symbolize its
//! backtraces, and stripped of everything a loader does not load (DWARF,
//! `.symtab`, `.strtab`: the image's size is measured). Cargo may leave an
//! image untouched when nothing changed; an image without `.symtab` is one
//! already finished and stays as it is.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::command::{cargo, run, tool};
use crate::paths::{APPLIANCE, IMAGE_TARGET, KV, SELFTEST, image_dir};
use crate::setup::{Need, ensure};
use crate::symbols;

/// The bootable ELF images the tests boot.
#[derive(Clone, Debug)]
pub struct Images {
    /// `anykernel`, the appliance.
    pub appliance: PathBuf,
    /// `anykernel-selftest`, the in-guest tests.
    pub selftest: PathBuf,
    /// `kv`, the memcached-protocol appliance.
    pub kv: PathBuf,
}

/// The variable naming the directory `app/build.rs` bakes into the
/// appliance (`run --files DIR`).
pub const FILES_ENV: &str = "ANYKERNEL_FILES";

/// Builds the images (the appliance with no files) and embeds their
/// symbols.
pub fn build_images() -> Result<Images, String> {
    build_images_with(None)
}

/// Sets [`FILES_ENV`] on `build` to `files` (absolute), or clears it.
pub fn bake_files(build: &mut Command, files: Option<&Path>) -> Result<(), String> {
    match files {
        Some(directory) => {
            let absolute = directory
                .canonicalize()
                .map_err(|error| format!("--files {}: {error}", directory.display()))?;
            if !absolute.is_dir() {
                return Err(format!("--files {}: not a directory", directory.display()));
            }
            build.env(FILES_ENV, absolute);
        }
        None => {
            build.env_remove(FILES_ENV);
        }
    }
    Ok(())
}

/// Builds the images, the appliance with the directory `files` baked in,
/// and embeds their symbols.
pub fn build_images_with(files: Option<&Path>) -> Result<Images, String> {
    let mut build = image_build(&["-p", "app", "-p", "kv", "--bins"]);
    bake_files(&mut build, files)?;
    run(build)?;
    let images = Images {
        appliance: image_dir().join(APPLIANCE),
        selftest: image_dir().join(SELFTEST),
        kv: image_dir().join(KV),
    };
    for image in [&images.appliance, &images.selftest, &images.kv] {
        if !image.is_file() {
            return Err(format!(
                "`cargo build` produced no {} (app must define the binaries `{APPLIANCE}` and `{SELFTEST}`, kv the binary `{KV}`)",
                image.display()
            ));
        }
        finish_image(image)?;
    }
    Ok(images)
}

/// `cargo build` of the bare-metal images `selection` names (`-p app
/// --bins`), release, with the line tables [`finish_image`] moves out.
pub fn image_build(selection: &[&str]) -> Command {
    let mut build = cargo(&["build", "--release", "--target", IMAGE_TARGET]);
    build.args(selection);
    // Only the image build: host tools keep the profile as it is.
    build.env("CARGO_PROFILE_RELEASE_DEBUG", "line-tables-only");
    build
}

/// Makes a freshly linked image what we ship: the whole link kept as
/// `<image>.debug`, the symbol table embedded for guest backtraces, and
/// what no loader loads stripped. An image already finished stays as it is.
pub fn finish_image(image: &Path) -> Result<(), String> {
    let in_file = |error: String| format!("{}: {error}", image.display());
    let bytes = std::fs::read(image).map_err(|error| in_file(error.to_string()))?;
    if symbols::has_line_tables(&bytes).map_err(in_file)? {
        let debug = qemu_tests::locations::debug_file(image);
        std::fs::write(&debug, &bytes).map_err(|error| format!("{}: {error}", debug.display()))?;
    }
    if !symbols::has_symbol_table(&bytes).map_err(in_file)? {
        return Ok(());
    }
    symbols::embed(image).map_err(in_file)?;
    run(tool("objcopy", &[Path::new("--strip-all"), image]))
        .map_err(|error| format!("{error} (objcopy comes with binutils)"))
}

/// The `build` verb: prints the appliance's path on stdout.
pub fn build_verb() -> Result<(), String> {
    ensure(&[Need::Target])?;
    let images = build_images()?;
    println!("{}", images.appliance.display());
    Ok(())
}
