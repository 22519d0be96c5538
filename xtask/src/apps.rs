//! Applications other than the appliance: what `--app NAME` of `run`,
//! `gdb` and `test` boots.
//!
//! An application is a workspace package whose binary starts with
//! `entry::main!`: the binary named like the package, or its only one. Its
//! `Cargo.toml` may name the TCP ports `run` forwards from 127.0.0.1 into
//! the guest with user networking (none when it names none), and boot
//! parameters it always gets, before the user's (which win):
//!
//! ```toml
//! [package.metadata.anykernel]
//! forwards = ["7007:7"] # "HOST:GUEST"
//! params = ["ip.forwarding=1"]
//! ```
//!
//! [`check_name`] is the rule for an application's name, also `new`'s.

use std::path::PathBuf;

use qemu_tests::Forward;
use serde_json::Value;

use crate::build::{finish_image, image_build};
use crate::command::{cargo, output, run};
use crate::paths::{image_dir, target_dir};

/// The longest name an application may have (crates.io's limit).
const MAX_NAME_LENGTH: usize = 64;

/// One application, as `cargo metadata` describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct App {
    /// Its package.
    pub package: String,
    /// The binary that is its image.
    pub binary: String,
    /// What `run` forwards into it with user networking.
    pub forwards: Vec<Forward>,
    /// Boot parameters it always gets, before the user's.
    pub params: Vec<String>,
}

impl App {
    /// The workspace's package `name`, from `cargo metadata`.
    pub fn find(name: &str) -> Result<App, String> {
        let args = ["metadata", "--format-version", "1", "--no-deps"];
        let listing = output(cargo(&args))?;
        let metadata: Value = serde_json::from_slice(&listing.stdout)
            .map_err(|error| format!("`cargo metadata` printed no JSON: {error}"))?;
        App::from_metadata(&metadata, name)
    }

    /// Package `name` in `cargo metadata`'s JSON.
    fn from_metadata(metadata: &Value, name: &str) -> Result<App, String> {
        if name == "app" {
            return Err("`--app app`: the appliance is the default; leave `--app` out".into());
        }
        let packages = metadata["packages"].as_array().into_iter().flatten();
        let Some(package) = packages.into_iter().find(|package| package["name"] == name) else {
            return Err(format!(
                "the workspace has no package `{name}` (`cargo xtask new {name}` makes one)"
            ));
        };
        let metadata = &package["metadata"]["anykernel"];
        let forwards = parse_forwards(&metadata["forwards"])
            .map_err(|error| format!("{name}'s [package.metadata.anykernel] forwards: {error}"))?;
        let params = parse_params(&metadata["params"])
            .map_err(|error| format!("{name}'s [package.metadata.anykernel] params: {error}"))?;
        Ok(App {
            package: name.to_string(),
            binary: binary_of(package, name)?,
            forwards,
            params,
        })
    }
}

/// The binary of `package` (named `name`) that is its image.
fn binary_of(package: &Value, name: &str) -> Result<String, String> {
    let targets = package["targets"].as_array().into_iter().flatten();
    let is_binary = |target: &&Value| {
        target["kind"]
            .as_array()
            .is_some_and(|kinds| kinds.contains(&"bin".into()))
    };
    let binaries: Vec<&str> = targets
        .filter(is_binary)
        .filter_map(|target| target["name"].as_str())
        .collect();
    match binaries.as_slice() {
        _ if binaries.contains(&name) => Ok(name.to_string()),
        [only] => Ok((*only).to_string()),
        [] => Err(format!(
            "package `{name}` has no binary (an application's src/main.rs calls `entry::main!`)"
        )),
        many => Err(format!(
            "package `{name}` has binaries {} and none is named `{name}`",
            many.join(", ")
        )),
    }
}

/// The forwards of `[package.metadata.anykernel] forwards`: absent is none.
pub fn parse_forwards(value: &Value) -> Result<Vec<Forward>, String> {
    if value.is_null() {
        return Ok(Vec::new());
    }
    let items = value
        .as_array()
        .ok_or("expected a list of \"HOST:GUEST\" strings")?;
    let mut forwards: Vec<Forward> = Vec::new();
    for item in items {
        let forward = item
            .as_str()
            .and_then(parse_forward)
            .ok_or_else(|| format!("{item} is not \"HOST:GUEST\" (two TCP ports, 1 to 65535)"))?;
        if forwards
            .iter()
            .any(|other| other.host_port == forward.host_port)
        {
            return Err(format!(
                "host port {} is forwarded twice",
                forward.host_port
            ));
        }
        forwards.push(forward);
    }
    Ok(forwards)
}

/// The boot parameters of `[package.metadata.anykernel] params`: absent
/// is none; each one `key=value` word or a bare `key`.
pub fn parse_params(value: &Value) -> Result<Vec<String>, String> {
    if value.is_null() {
        return Ok(Vec::new());
    }
    let items = value
        .as_array()
        .ok_or("expected a list of \"key=value\" strings")?;
    items
        .iter()
        .map(|item| match item.as_str() {
            Some(word) if !word.is_empty() && !word.contains(char::is_whitespace) => {
                Ok(word.to_string())
            }
            _ => Err(format!("{item} is not one boot parameter word")),
        })
        .collect()
}

/// `HOST:GUEST`, two non-zero TCP ports in decimal.
fn parse_forward(text: &str) -> Option<Forward> {
    let port = |text: &str| {
        let digits = !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit());
        text.parse::<u16>().ok().filter(|&port| digits && port != 0)
    };
    let (host, guest) = text.split_once(':')?;
    Some(Forward {
        host_port: port(host)?,
        guest_port: port(guest)?,
    })
}

/// Fails, saying why, unless `name` can name an application: a lowercase
/// letter, then lowercase letters, digits and `-`, at most 64 in all.
pub fn check_name(name: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    match name.chars().next() {
        None => Err("an application needs a name".into()),
        Some(first) if !first.is_ascii_lowercase() => Err(format!(
            "`{name}`: an application's name starts with a lowercase letter"
        )),
        _ if !name.chars().all(allowed) => Err(format!(
            "`{name}`: an application's name has only lowercase letters, digits and `-`"
        )),
        _ if name.len() > MAX_NAME_LENGTH => Err(format!(
            "`{name}`: an application's name has at most {MAX_NAME_LENGTH} characters"
        )),
        _ => Ok(()),
    }
}

/// Builds `app`'s bare-metal image (release) and finishes it as the
/// appliance's is (see [`finish_image`]); returns its path.
pub fn build_image(app: &App) -> Result<PathBuf, String> {
    run(image_build(&["-p", &app.package, "--bin", &app.binary]))?;
    let image = image_dir().join(&app.binary);
    if !image.is_file() {
        return Err(format!("`cargo build` produced no {}", image.display()));
    }
    finish_image(&image)?;
    Ok(image)
}

/// Builds `package`'s `binary` for this host (release); returns its path.
pub fn build_hosted(package: &str, binary: &str) -> Result<PathBuf, String> {
    build_hosted_with(package, binary, None)
}

/// [`build_hosted`] with the directory `files` baked in (the appliance).
pub fn build_hosted_with(
    package: &str,
    binary: &str,
    files: Option<&std::path::Path>,
) -> Result<PathBuf, String> {
    let mut build = cargo(&["build", "--release", "-p", package, "--bin", binary]);
    crate::build::bake_files(&mut build, files)?;
    run(build)?;
    let program = target_dir().join("release").join(binary);
    if !program.is_file() {
        return Err(format!("`cargo build` produced no {}", program.display()));
    }
    Ok(program)
}

#[cfg(test)]
mod tests;
