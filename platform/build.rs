//! Links the platform's bare-metal examples with the image linker script.

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo::rerun-if-changed=link.ld");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("none") {
        println!("cargo::rustc-link-arg-examples=-T{manifest}/link.ld");
        println!("cargo::rustc-link-arg-examples=--no-pie");
    }
}
