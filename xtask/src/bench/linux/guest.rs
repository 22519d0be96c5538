//! Builds the Linux guest once, from Debian packages only, under
//! `$TARGET/linux-guest/`: Debian's kernel (bzImage) and an initramfs per
//! [`Services`] (lighttpd's, memcached's).
//!
//! `apt-get download` fetches the packages into `debs/` (the Debian mirror
//! is the only network used), `dpkg -x` unpacks them into `root/`, and the
//! initramfs is written from initramfs.rs's plan (newc cpio, then
//! `gzip -9 -n`). The server's shared libraries are found by running the
//! packages' own loader with `--list` on it, so each must come from the
//! packages; add its package to [`PACKAGES`] if one is missing. A stamp
//! file per step says what was built, so a second run does nothing.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::cpio::{self, Entry, Node};
use super::initramfs::{self, Library, Planned, Services, Source};
use crate::command::{describe, output, tool};
use crate::paths::target_dir;

/// The kernel's metapackage; it depends on the versioned image package.
const KERNEL_METAPACKAGE: &str = "linux-image-amd64";
/// Everything else: busybox, lighttpd and memcached with their libraries'
/// packages (the storage guest takes busybox and the kernel's modules).
const PACKAGES: [&str; 10] = [
    "busybox-static",
    "lighttpd",
    "libc6",
    "libnettle8",
    "libpcre2-8-0",
    "libxxhash0",
    "memcached",
    "libevent-2.1-7",
    "libsasl2-2",
    "libssl3",
];

/// What QEMU loads for the Linux guest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinuxGuest {
    /// Debian's bzImage (`-kernel`).
    pub kernel: PathBuf,
    /// Our initramfs, cpio + gzip (`-initrd`).
    pub initramfs: PathBuf,
}

impl LinuxGuest {
    /// Bytes QEMU loads: the kernel and the initramfs.
    pub fn image_bytes(&self) -> Result<u64, String> {
        let size = |path: &Path| {
            fs::metadata(path)
                .map(|metadata| metadata.len())
                .map_err(|error| format!("{}: {error}", path.display()))
        };
        Ok(size(&self.kernel)? + size(&self.initramfs)?)
    }
}

/// The guest serving `services`, built now unless it already is.
pub fn linux_guest(services: Services) -> Result<LinuxGuest, String> {
    let directory = target_dir().join("linux-guest");
    let root = directory.join("root");
    let kernel_package = kernel_package()?;
    let packages: Vec<&str> = [kernel_package.as_str()]
        .into_iter()
        .chain(PACKAGES)
        .collect();
    unpack(&directory, &root, &packages)?;
    let version = kernel_version(&root)?;
    let guest = LinuxGuest {
        kernel: directory.join("bzImage"),
        initramfs: directory.join(services.archive()),
    };
    let libraries = match services.program() {
        Some(program) => libraries(&root, program)?,
        None => Vec::new(),
    };
    let plan = initramfs::plan(&root, &version, services, &libraries);
    let recipe = format!("{version}\n{plan:#?}\n");
    let name = services.archive().trim_end_matches(".cpio.gz");
    let stamp = directory.join(format!("{name}.recipe"));
    let built = guest.kernel.is_file() && guest.initramfs.is_file();
    if built && fs::read_to_string(&stamp).is_ok_and(|old| old == recipe) {
        eprintln!(
            "xtask: Linux guest {version} (cached) in {}",
            directory.display()
        );
        return Ok(guest);
    }
    let vmlinuz = root.join("boot").join(format!("vmlinuz-{version}"));
    fs::copy(&vmlinuz, &guest.kernel).map_err(|error| format!("{}: {error}", vmlinuz.display()))?;
    write_initramfs(&plan, &guest.initramfs)?;
    write(&stamp, recipe.as_bytes())?;
    eprintln!(
        "xtask: built the Linux guest {version} in {}",
        directory.display()
    );
    Ok(guest)
}

/// The versioned kernel package `linux-image-amd64` stands for.
fn kernel_package() -> Result<String, String> {
    let depends = || output(tool("apt-cache", &["depends", KERNEL_METAPACKAGE]));
    let listed = depends()
        .ok()
        .and_then(|out| versioned_kernel(&String::from_utf8_lossy(&out.stdout)));
    if let Some(package) = listed {
        return Ok(package);
    }
    eprintln!("xtask: no package list names {KERNEL_METAPACKAGE}; running `apt-get update`");
    output(tool("apt-get", &["update"]))?;
    let text = String::from_utf8_lossy(&depends()?.stdout).into_owned();
    versioned_kernel(&text)
        .ok_or_else(|| format!("`apt-cache depends {KERNEL_METAPACKAGE}` names no kernel"))
}

/// `linux-image-6.1.0-57-amd64` from `apt-cache depends linux-image-amd64`.
pub fn versioned_kernel(text: &str) -> Option<String> {
    text.lines()
        .filter_map(|line| line.trim().strip_prefix("Depends: "))
        .find(|package| package.starts_with("linux-image-") && package.ends_with("-amd64"))
        .map(str::to_string)
}

/// Downloads and unpacks `packages` into `root` unless its stamp lists them.
fn unpack(directory: &Path, root: &Path, packages: &[&str]) -> Result<(), String> {
    let stamp = root.join(".unpacked");
    let wanted = packages.join("\n");
    if fs::read_to_string(&stamp).is_ok_and(|old| old == wanted) {
        return Ok(());
    }
    let debs = directory.join("debs");
    let _ = fs::remove_dir_all(&debs);
    let _ = fs::remove_dir_all(root);
    create_dir(&debs)?;
    eprintln!("xtask: apt-get download {}", packages.join(" "));
    let download = || {
        let mut download = tool("apt-get", &["download"]);
        download.args(packages).current_dir(&debs);
        output(download)
    };
    if let Err(error) = download() {
        // Stale package lists name versions the mirror no longer has.
        eprintln!("xtask: {error}\nxtask: running `apt-get update` and trying again");
        output(tool("apt-get", &["update"]))?;
        download()?;
    }
    for deb in fs::read_dir(&debs).map_err(|error| format!("{}: {error}", debs.display()))? {
        let deb = deb.map_err(|error| error.to_string())?.path();
        let mut extract = tool("dpkg", &["-x"]);
        extract.arg(&deb).arg(root);
        output(extract)?;
    }
    write(&stamp, wanted.as_bytes())
}

/// The one folder under `root/lib/modules`.
fn kernel_version(root: &Path) -> Result<String, String> {
    let modules = root.join("lib/modules");
    let entries =
        fs::read_dir(&modules).map_err(|error| format!("{}: {error}", modules.display()))?;
    let names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    match names.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(format!(
            "expected one kernel in {}, found {names:?}",
            modules.display()
        )),
    }
}

/// `program`'s libraries and the loader, as the packages' loader resolves
/// them.
fn libraries(root: &Path, program: &str) -> Result<Vec<Library>, String> {
    let loader = inside(root, &root.join("lib64/ld-linux-x86-64.so.2"))?;
    let path = ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu"].map(|dir| root.join(dir));
    let mut command = Command::new(&loader);
    command
        .arg("--library-path")
        .arg(std::env::join_paths(path).map_err(|error| error.to_string())?)
        .arg("--list")
        .arg(root.join(program));
    let listing = output(command)?;
    let text = String::from_utf8_lossy(&listing.stdout);
    let mut libraries = initramfs::parse_library_list(&text, root)?;
    for library in &mut libraries {
        library.from = inside(root, &library.from)?;
    }
    Ok(libraries)
}

/// `path` with its symbolic links followed inside `root`: the packages'
/// absolute links (`/lib64/ld-linux…` -> `/lib/…`) point into `root`,
/// not into the host.
fn inside(root: &Path, path: &Path) -> Result<PathBuf, String> {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        let Ok(target) = fs::read_link(&current) else {
            return Ok(current);
        };
        current = match target.strip_prefix("/") {
            Ok(absolute) => root.join(absolute),
            Err(_) => current.parent().unwrap_or(root).join(target),
        };
    }
    Err(format!("{}: too many symbolic links", path.display()))
}

/// Reads every planned file and writes the gzipped archive to `file`.
fn write_initramfs(plan: &[Planned], file: &Path) -> Result<(), String> {
    let entries = plan.iter().map(entry).collect::<Result<Vec<_>, _>>()?;
    let archive = cpio::archive(&entries).map_err(|error| error.to_string())?;
    let out = fs::File::create(file).map_err(|error| format!("{}: {error}", file.display()))?;
    let mut gzip = Command::new("gzip");
    gzip.args(["-9", "-n"]).stdin(Stdio::piped()).stdout(out);
    let mut child = gzip
        .spawn()
        .map_err(|error| format!("{}: {error}", describe(&gzip)))?;
    let written = child
        .stdin
        .take()
        .expect("stdin was piped")
        .write_all(&archive);
    let status = child.wait().map_err(|error| error.to_string())?;
    match (written, status.success()) {
        (Ok(()), true) => Ok(()),
        (written, _) => Err(format!(
            "gzip of the initramfs failed: {status}, {written:?}"
        )),
    }
}

fn entry(planned: &Planned) -> Result<Entry, String> {
    let node = match &planned.source {
        Source::Directory => Node::Directory,
        Source::Console => Node::CharDevice { major: 5, minor: 1 },
        Source::Text { text, permissions } => Node::File {
            permissions: *permissions,
            data: text.clone().into_bytes(),
        },
        Source::Copy { from, permissions } => Node::File {
            permissions: *permissions,
            data: fs::read(from).map_err(|error| format!("{}: {error}", from.display()))?,
        },
    };
    Ok(Entry {
        path: planned.path.clone(),
        node,
    })
}

fn create_dir(path: &Path) -> Result<(), String> {
    fs::create_dir_all(path).map_err(|error| format!("{}: {error}", path.display()))
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    fs::write(path, bytes).map_err(|error| format!("{}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metapackage_names_the_versioned_kernel() {
        let text = "linux-image-amd64\n  Depends: linux-image-6.1.0-57-amd64\n";
        assert_eq!(
            versioned_kernel(text).as_deref(),
            Some("linux-image-6.1.0-57-amd64")
        );
        assert_eq!(versioned_kernel("linux-image-amd64\n"), None);
    }

    #[test]
    fn absolute_links_are_followed_inside_the_root() {
        let root = std::env::temp_dir().join(format!("xtask-inside-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        create_dir(&root.join("lib/x86_64-linux-gnu")).expect("temporary folder");
        create_dir(&root.join("lib64")).expect("temporary folder");
        let real = root.join("lib/x86_64-linux-gnu/ld.so.real");
        write(&real, b"loader").expect("a file");
        let link = root.join("lib64/ld.so");
        std::os::unix::fs::symlink("/lib/x86_64-linux-gnu/short", &link).expect("a link");
        std::os::unix::fs::symlink("ld.so.real", root.join("lib/x86_64-linux-gnu/short"))
            .expect("a link");
        assert_eq!(inside(&root, &link), Ok(real.clone()));
        assert_eq!(inside(&root, &real), Ok(real));
        fs::remove_dir_all(&root).expect("cleanup");
    }
}
