//! `cargo xtask build`: both images, release, with embedded symbol tables.
//!
//! `cargo build --release -p app --target x86_64-unknown-none --bins` links
//! `anykernel` and `anykernel-selftest`; each is then rewritten in place by
//! `symbols::embed` so the guest can symbolize its backtraces. Cargo may
//! leave an image untouched when nothing changed, so embedding must accept
//! an image it already processed.

use std::path::PathBuf;

use crate::command::{cargo, run};
use crate::paths::{APPLIANCE, IMAGE_TARGET, SELFTEST, image_dir};
use crate::setup::{Need, ensure};
use crate::symbols;

/// The two bootable ELF images.
#[derive(Clone, Debug)]
pub struct Images {
    /// `anykernel`, the appliance.
    pub appliance: PathBuf,
    /// `anykernel-selftest`, the in-guest tests.
    pub selftest: PathBuf,
}

/// Builds both images and embeds their symbols.
pub fn build_images() -> Result<Images, String> {
    let args = [
        "build",
        "--release",
        "-p",
        "app",
        "--target",
        IMAGE_TARGET,
        "--bins",
    ];
    run(cargo(&args))?;
    let images = Images {
        appliance: image_dir().join(APPLIANCE),
        selftest: image_dir().join(SELFTEST),
    };
    for image in [&images.appliance, &images.selftest] {
        if !image.is_file() {
            return Err(format!(
                "`cargo build` produced no {} (app must define the binaries `{APPLIANCE}` and `{SELFTEST}`)",
                image.display()
            ));
        }
        // embed's errors already name the image.
        symbols::embed(image)?;
    }
    Ok(images)
}

/// The `build` verb: prints the appliance's path on stdout.
pub fn build_verb() -> Result<(), String> {
    ensure(&[Need::Target])?;
    let images = build_images()?;
    println!("{}", images.appliance.display());
    Ok(())
}
