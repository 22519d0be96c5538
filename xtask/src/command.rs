//! Running the tools xtask drives (cargo, rustup, apt-get, grub-mkrescue).
//!
//! Every child runs in the workspace root with `CARGO_TARGET_DIR` set to
//! our absolute target directory. Failures come back as one sentence naming
//! the command, for xtask's single error line.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::paths::{target_dir, workspace_root};

/// `program args...` in the workspace root, with our target directory.
pub fn tool<S: AsRef<OsStr>>(program: &str, args: &[S]) -> Command {
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(workspace_root())
        .env("CARGO_TARGET_DIR", target_dir());
    command
}

/// `cargo args...`, as [`tool`].
pub fn cargo(args: &[&str]) -> Command {
    tool("cargo", args)
}

/// The command line of `command`, for messages.
pub fn describe(command: &Command) -> String {
    let mut words = vec![command.get_program().to_string_lossy().into_owned()];
    words.extend(
        command
            .get_args()
            .map(|arg| arg.to_string_lossy().into_owned()),
    );
    words.join(" ")
}

/// Runs `command` with our stdio; fails unless it exits with status 0.
pub fn run(mut command: Command) -> Result<(), String> {
    let status = command
        .status()
        .map_err(|error| start_error(&command, &error))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", describe(&command)))
    }
}

/// Runs `command` with its output captured; fails, showing stderr, unless it succeeds.
pub fn output(mut command: Command) -> Result<Output, String> {
    command.stdin(Stdio::null());
    let output = command
        .output()
        .map_err(|error| start_error(&command, &error))?;
    if output.status.success() {
        return Ok(output);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(format!(
        "`{}` failed ({}):\n{}",
        describe(&command),
        output.status,
        stderr.trim_end()
    ))
}

fn start_error(command: &Command, error: &std::io::Error) -> String {
    format!("cannot start `{}`: {error}", describe(command))
}

/// The file `program` would run as, searched in `$PATH`.
pub fn find_program(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|file| is_executable(file))
}

fn is_executable(file: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let metadata = std::fs::metadata(file);
    metadata.is_ok_and(|metadata| metadata.is_file() && metadata.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_are_found_in_path_and_missing_ones_are_not() {
        assert!(find_program("sh").is_some());
        assert!(find_program("surely-no-such-program-here").is_none());
    }

    #[test]
    fn failures_name_the_command() {
        let error = run(tool("sh", &["-c", "exit 3"])).expect_err("exit 3 fails");
        assert!(error.starts_with("`sh -c exit 3` failed"), "{error}");
        let error = output(tool("sh", &["-c", "echo oops >&2; exit 1"])).expect_err("fails");
        assert!(error.ends_with("\noops"), "{error}");
        let error = run(tool("/nonexistent/tool", &["x"])).expect_err("cannot start");
        assert!(
            error.starts_with("cannot start `/nonexistent/tool x`"),
            "{error}"
        );
    }
}
