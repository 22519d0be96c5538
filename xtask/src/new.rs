//! `cargo xtask new NAME`: a new application crate, from the template.
//!
//! Writes `app/NAME/Cargo.toml` and `app/NAME/src/main.rs` from
//! `xtask/templates/app/` (built into xtask; `@name@` becomes NAME) and
//! adds `"app/NAME"` to the root `Cargo.toml`'s `[workspace] members`,
//! next to the other applications; `toml_edit` keeps the file's comments
//! and layout. A name that is taken (a workspace package, a dependency of
//! the workspace, a name cargo or the project reserves, an existing
//! folder) is refused before anything is written.

use std::path::{Path, PathBuf};

use toml_edit::{Array, Decor, DocumentMut, Item, Value};

use crate::apps::check_name;
use crate::paths::workspace_root;

/// The application crate's manifest and main file.
const MANIFEST_TEMPLATE: &str = include_str!("../templates/app/Cargo.toml.template");
const MAIN_TEMPLATE: &str = include_str!("../templates/app/main.rs.template");
/// What the templates say where the application's name goes.
const PLACEHOLDER: &str = "@name@";
/// The error of a root manifest without members.
const NO_MEMBERS: &str = "the root Cargo.toml has no `[workspace] members` list";

/// Names an application cannot have: the project's crates, binaries and
/// folders under `app/`, Rust's own crates, cargo's folders in `target/`.
const RESERVED: [&str; 15] = [
    "app",
    "kernel",
    "entry",
    "probe",
    "anykernel",
    "src",
    "tests",
    "std",
    "core",
    "alloc",
    "test",
    "build",
    "deps",
    "examples",
    "incremental",
];

/// Rust's keywords (of the characters a name may have): cargo refuses them.
const KEYWORDS: [&str; 51] = [
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// The `new` verb: creates the application and says what to do next.
pub fn new_verb(name: &str) -> Result<(), String> {
    let directory = create(&workspace_root(), name)?;
    eprintln!(
        "xtask: created {} (Cargo.toml, src/main.rs), a member of the workspace; next:\n\
         \x20 cargo xtask run --app {name}            boot it in QEMU (nc 127.0.0.1 7007 talks to it)\n\
         \x20 cargo xtask run --hosted --app {name}   run it as a Linux process\n\
         \x20 cargo xtask test --app {name}           lints, its tests, boots on q35 and microvm",
        directory.display()
    );
    Ok(())
}

/// Creates application `name` in the workspace at `root`; returns its folder.
pub fn create(root: &Path, name: &str) -> Result<PathBuf, String> {
    check_name(name)?;
    let manifest_path = root.join("Cargo.toml");
    let text = read(&manifest_path)?;
    let mut manifest: DocumentMut = text
        .parse()
        .map_err(|error| format!("{}: {error}", manifest_path.display()))?;
    check_free(root, &manifest, name)?;
    add_member(&mut manifest, &format!("app/{name}"))?;
    let directory = root.join("app").join(name);
    let written =
        write_crate(&directory, name).and_then(|()| write(&manifest_path, &manifest.to_string()));
    if written.is_err() {
        // Ours alone: check_free found no such folder.
        let _ = std::fs::remove_dir_all(&directory);
    }
    written.map(|()| directory)
}

/// `template` for the application `name`.
pub fn render(template: &str, name: &str) -> String {
    template.replace(PLACEHOLDER, name)
}

/// Fails, naming the reason, if `name` is taken in the workspace at `root`.
fn check_free(root: &Path, manifest: &DocumentMut, name: &str) -> Result<(), String> {
    if RESERVED.contains(&name) || KEYWORDS.contains(&name) {
        return Err(format!("`{name}` is a reserved name; choose another"));
    }
    let dependencies = manifest
        .get("workspace")
        .and_then(|workspace| workspace.get("dependencies"))
        .and_then(Item::as_table_like);
    if dependencies.is_some_and(|table| table.contains_key(name)) {
        return Err(format!(
            "`{name}` is a dependency of the workspace (`-p {name}` would be ambiguous); choose another"
        ));
    }
    if workspace_packages(root, manifest)?
        .iter()
        .any(|package| package == name)
    {
        return Err(format!("the workspace already has a package `{name}`"));
    }
    let directory = Path::new("app").join(name);
    if root.join(&directory).exists() {
        return Err(format!("{} already exists", directory.display()));
    }
    Ok(())
}

/// `[workspace] members`, which the root manifest must have.
fn members(manifest: &DocumentMut) -> Result<&Array, String> {
    manifest
        .get("workspace")
        .and_then(|workspace| workspace.get("members"))
        .and_then(Item::as_array)
        .ok_or_else(|| NO_MEMBERS.into())
}

/// [`members`], to change.
fn members_mut(manifest: &mut DocumentMut) -> Result<&mut Array, String> {
    manifest
        .get_mut("workspace")
        .and_then(|workspace| workspace.get_mut("members"))
        .and_then(Item::as_array_mut)
        .ok_or_else(|| NO_MEMBERS.into())
}

/// The package names of the workspace's members (globs are left out).
fn workspace_packages(root: &Path, manifest: &DocumentMut) -> Result<Vec<String>, String> {
    let mut packages = Vec::new();
    for member in members(manifest)?.iter().filter_map(Value::as_str) {
        if member.contains(['*', '?', '[']) {
            continue;
        }
        let path = root.join(member).join("Cargo.toml");
        let text = read(&path)?;
        let document: DocumentMut = text
            .parse()
            .map_err(|error| format!("{}: {error}", path.display()))?;
        let name = document
            .get("package")
            .and_then(|package| package.get("name"));
        if let Some(name) = name.and_then(Item::as_str) {
            packages.push(name.to_string());
        }
    }
    Ok(packages)
}

/// Adds `member` to `[workspace] members` in order among the other `app`
/// entries (at the end if there are none), formatted like its neighbour.
fn add_member(manifest: &mut DocumentMut, member: &str) -> Result<(), String> {
    let array = members_mut(manifest)?;
    let entries: Vec<&str> = array
        .iter()
        .map(|value| value.as_str().unwrap_or(""))
        .collect();
    let is_app = |entry: &str| entry == "app" || entry.starts_with("app/");
    let last_app = entries.iter().rposition(|entry| is_app(entry));
    let index = match last_app {
        Some(last) => (0..=last)
            .find(|&index| entries[index].starts_with("app/") && entries[index] > member)
            .unwrap_or(last + 1),
        None => entries.len(),
    };
    insert_laid_out(array, index, member);
    Ok(())
}

/// Inserts `text` at `index` of the multi-line `array`, indented like the
/// entry before it. A comment at the end of the line before the new entry
/// stays on that line (it is the start of the next entry's prefix, or of
/// the array's trailing space).
fn insert_laid_out(array: &mut Array, index: usize, text: &str) {
    let indentation = array
        .get(index.saturating_sub(1))
        .and_then(|neighbour| neighbour.decor().prefix()?.as_str())
        .and_then(|prefix| Some(prefix[prefix.rfind('\n')?..].to_string()))
        .unwrap_or_else(|| " ".to_string());
    let following = match array.get(index) {
        Some(next) => next.decor().prefix().and_then(|raw| raw.as_str()),
        None => array.trailing().as_str(),
    };
    let following = following.unwrap_or("").to_string();
    let (same_line, rest) = following.split_at(following.find('\n').unwrap_or(0));
    match array.get_mut(index) {
        Some(next) => next.decor_mut().set_prefix(rest),
        None => array.set_trailing(rest),
    }
    let mut value = Value::from(text);
    *value.decor_mut() = Decor::new(format!("{same_line}{indentation}"), "");
    array.insert_formatted(index, value);
}

/// Writes the application crate into `directory`, which must not exist.
fn write_crate(directory: &Path, name: &str) -> Result<(), String> {
    let source = directory.join("src");
    std::fs::create_dir_all(&source).map_err(|error| format!("{}: {error}", source.display()))?;
    write(
        &directory.join("Cargo.toml"),
        &render(MANIFEST_TEMPLATE, name),
    )?;
    write(&source.join("main.rs"), &render(MAIN_TEMPLATE, name))
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|error| format!("{}: {error}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|error| format!("{}: {error}", path.display()))
}

#[cfg(test)]
mod tests;
