//! `cargo xtask hijack --server unix:PATH -- COMMAND ARGS…`: an unmodified
//! Linux program with its sockets in a running kernel.
//!
//! Checks that the kernel's server answers (a handshake with the client
//! library, with the key in `ANYKERNEL_KEY` when the kernel has one), that COMMAND is a dynamically linked program (LD_PRELOAD
//! cannot reach a static one's system calls), builds `anykernel-hijack`
//! (release) and runs COMMAND in the current directory with
//! `LD_PRELOAD` naming it and `ANYKERNEL_SERVER` naming the server. Its
//! stdin, stdout and stderr are ours; its exit status becomes ours (128 +
//! N when a signal N ended it, as shells report it).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use crate::command::{cargo, find_program, run};
use crate::paths::target_dir;

/// The environment variable the library reads the server from.
const SERVER_VARIABLE: &str = "ANYKERNEL_SERVER";

/// The environment variable the library (and the check here) reads the
/// server's key from; passed on to the program as it is.
const KEY_VARIABLE: &str = "ANYKERNEL_KEY";

/// The `hijack` verb.
pub fn hijack_verb(server: &str, command: &[String]) -> Result<ExitCode, String> {
    let (program, arguments) = command.split_first().ok_or("hijack needs a COMMAND")?;
    check_server(server)?;
    let path = resolve(program)?;
    check_dynamic(&path)?;
    let library = build_library()?;
    let mut child = Command::new(&path);
    child
        .args(arguments)
        .env("LD_PRELOAD", preload_with(&library))
        .env(SERVER_VARIABLE, server);
    let status = child
        .status()
        .map_err(|error| format!("cannot start `{program}`: {error}"))?;
    let code = match (
        status.code(),
        std::os::unix::process::ExitStatusExt::signal(&status),
    ) {
        (Some(code), _) => code,
        (None, Some(signal)) => 128 + signal,
        (None, None) => 1,
    };
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}

/// Fails with one sentence unless the kernel's server at `server` lets
/// us in (with the key in `ANYKERNEL_KEY`, if set).
fn check_server(server: &str) -> Result<(), String> {
    use anykernel_client::Error;
    use anykernel_client::proto::handshake::HandshakeRefusal;
    let key = std::env::var_os(KEY_VARIABLE);
    let key = key.as_deref().map(std::os::unix::ffi::OsStrExt::as_bytes);
    match anykernel_client::Client::connect_with_key(server, key) {
        Ok(_) => Ok(()),
        Err(Error::Handshake(HandshakeRefusal::Key)) => Err(format!(
            "the kernel at {server} wants a key: set {KEY_VARIABLE} to its sysproxy.key"
        )),
        Err(error) => Err(format!(
            "no kernel is serving at {server} ({error}): start one with \
             `cargo xtask run --hosted --server {server}`"
        )),
    }
}

/// The file `program` names: a path as it is, a name searched in PATH.
fn resolve(program: &str) -> Result<PathBuf, String> {
    if program.contains('/') {
        return Ok(PathBuf::from(program));
    }
    find_program(program).ok_or_else(|| format!("`{program}` is not a program in PATH"))
}

/// Fails for an ELF executable without a program interpreter (static).
/// Scripts and unreadable files pass: their interpreter or exec decides.
fn check_dynamic(path: &Path) -> Result<(), String> {
    let Ok(bytes) = std::fs::read(path) else {
        return Ok(());
    };
    if !bytes.starts_with(b"\x7fELF") {
        return Ok(());
    }
    if is_dynamic(&bytes) {
        Ok(())
    } else {
        Err(format!(
            "{} is statically linked: LD_PRELOAD cannot reach its socket calls",
            path.display()
        ))
    }
}

/// Whether the 64-bit ELF `bytes` ask for a program interpreter (ld.so);
/// true when that cannot be told.
fn is_dynamic(bytes: &[u8]) -> bool {
    use object::read::elf::{FileHeader, ProgramHeader};
    let Ok(header) = object::elf::FileHeader64::<object::Endianness>::parse(bytes) else {
        return true;
    };
    let Ok(endian) = header.endian() else {
        return true;
    };
    let Ok(segments) = header.program_headers(endian, bytes) else {
        return true;
    };
    segments
        .iter()
        .any(|segment| segment.p_type(endian) == object::elf::PT_INTERP)
}

/// `cargo build --release -p anykernel-hijack`; the library's path.
fn build_library() -> Result<PathBuf, String> {
    run(cargo(&["build", "--release", "-p", "anykernel-hijack"]))?;
    let library = target_dir().join("release").join("libanykernel_hijack.so");
    if !library.is_file() {
        return Err(format!("`cargo build` produced no {}", library.display()));
    }
    Ok(library)
}

/// LD_PRELOAD with `library` first and whatever the user had after it.
fn preload_with(library: &Path) -> String {
    match std::env::var("LD_PRELOAD") {
        Ok(existing) if !existing.is_empty() => format!("{}:{existing}", library.display()),
        _ => library.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dynamic_programs_pass_and_others_say_why() {
        let shell = find_program("sh").expect("sh");
        assert!(check_dynamic(&shell).is_ok());
        assert!(
            is_dynamic(b"\x7fELF but not really"),
            "what cannot be told passes"
        );
        assert!(check_dynamic(Path::new("/nonexistent/program")).is_ok());
        // Debian's ldconfig (libc-bin, always there) is static-pie.
        let error = check_dynamic(Path::new("/sbin/ldconfig")).expect_err("static");
        assert!(error.ends_with("is statically linked: LD_PRELOAD cannot reach its socket calls"));
    }

    #[test]
    fn an_absent_server_is_one_sentence_naming_the_fix() {
        let error = check_server("unix:/nonexistent/ak.sock").expect_err("nobody serves there");
        assert!(error.starts_with("no kernel is serving at unix:/nonexistent/ak.sock ("));
        assert!(error.ends_with("`cargo xtask run --hosted --server unix:/nonexistent/ak.sock`"));
        assert!(!error.contains('\n'));
    }

    #[test]
    fn programs_resolve_by_path_or_name() {
        assert_eq!(resolve("./x").unwrap(), PathBuf::from("./x"));
        assert!(resolve("sh").unwrap().is_absolute());
        assert!(resolve("surely-no-such-program-here").is_err());
    }
}
