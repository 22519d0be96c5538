//! Hands the image's linker script to every image that links the platform.
//!
//! A library's build script cannot add link arguments to its dependents,
//! but its link search path reaches them: the script is copied into this
//! crate's output directory, which joins the search path of every binary
//! that links `platform`, and `.cargo/config.toml` names it (`-T
//! anykernel.ld`) for the bare-metal target. So an application crate,
//! the appliance's or a user's, needs no build script of its own.

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let script = std::path::Path::new(&manifest).join("link.ld");
    println!("cargo::rerun-if-changed={}", script.display());
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("none") {
        return;
    }
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let copy = std::path::Path::new(&out).join("anykernel.ld");
    std::fs::copy(&script, &copy).expect("the linker script can be copied to OUT_DIR");
    println!("cargo::rustc-link-search=native={out}");
}
