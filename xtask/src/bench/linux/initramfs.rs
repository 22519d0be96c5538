//! What the Linux guest's initramfs holds, and its init script.
//!
//! The services of the appliance it stands beside, from Debian's packages
//! only ([`Services`]): for the web appliance, busybox `nc` runs echo (7,
//! `cat`), discard (9) and source (19, zeros) with `dd` in 64 KiB blocks
//! and lighttpd serves a static page on 80 with keep-alive; for the kv
//! appliance, memcached serves 11211 with Debian's defaults but the cache
//! size (`cache_mb=`, memcached's `-m`). The virtio-net driver is a stack
//! of modules loaded in [`MODULES`] order. The kernel command line sets
//! `guest_ip=` and `guest_gateway=`, and `guest_ip6=` for an IPv6 address
//! besides (unknown parameters become init's environment). For the
//! storage figures ([`Services::Storage`]) there is no network: the
//! virtio-blk and ext4 (which mounts ext2) modules of
//! [`STORAGE_MODULES`], and a busybox script ([`STORAGE_SCRIPT`]) that
//! times the same steps as the appliance's `test=storage`. [`plan`] only
//! names files; guest.rs reads them and writes the archive.

use std::path::{Path, PathBuf};

/// The virtio-net module stack under `lib/modules/<version>/kernel/`, in
/// the order they must be loaded.
pub const MODULES: [&str; 9] = [
    "drivers/virtio/virtio_ring",
    "drivers/virtio/virtio",
    "drivers/virtio/virtio_pci_legacy_dev",
    "drivers/virtio/virtio_pci_modern_dev",
    "drivers/virtio/virtio_pci",
    "drivers/virtio/virtio_mmio",
    "net/core/failover",
    "drivers/net/net_failover",
    "drivers/net/virtio_net",
];

/// The virtio-blk driver and ext4 (Debian's kernel mounts ext2 with it),
/// in the order they must be loaded.
pub const STORAGE_MODULES: [&str; 12] = [
    "drivers/virtio/virtio_ring",
    "drivers/virtio/virtio",
    "drivers/virtio/virtio_pci_legacy_dev",
    "drivers/virtio/virtio_pci_modern_dev",
    "drivers/virtio/virtio_pci",
    "drivers/virtio/virtio_mmio",
    "drivers/block/virtio_blk",
    "lib/crc16",
    "crypto/crc32c_generic",
    "fs/mbcache",
    "fs/jbd2/jbd2",
    "fs/ext4/ext4",
];

/// The storage figures on `/dev/vda` (ext2), as `bench <metric> <value>
/// <unit>` lines like the appliance's `test=storage`: a sequential write
/// of `storage_mib` MiB (default 64) with `dd bs=1M conv=fsync`, the page
/// cache dropped, the same file read back with `dd bs=1M`, then
/// `storage_files` (default 1000) files of 4 KiB made by the shell's own
/// `echo` (no process per file) and one `sync`. Times come from
/// /proc/uptime (10 ms steps), converted to microseconds.
pub const STORAGE_SCRIPT: &str = r#"mib=${storage_mib:-64}
files=${storage_files:-1000}
stamp() { read up rest < /proc/uptime; cs=${up%.*}${up#*.}; cs=${cs#"${cs%%[!0]*}"}; cs=${cs:-0}; }
mkdir -p /mnt
if ! mount -t ext2 /dev/vda /mnt; then echo "linux-guest: storage failed: no ext2 on /dev/vda"; exec sleep 2147483647; fi
block=$(dd if=/dev/zero bs=4096 count=1 2>/dev/null | tr '\0' x)
stamp; t0=$cs
dd if=/dev/zero of=/mnt/seq bs=1048576 count=$mib conv=fsync 2>/dev/null
stamp; t1=$cs
sync; echo 3 > /proc/sys/vm/drop_caches
stamp; t2=$cs
dd if=/mnt/seq of=/dev/null bs=1048576 2>/dev/null
stamp; t3=$cs
mkdir /mnt/small
i=0
while [ $i -lt $files ]; do echo -n "$block" > /mnt/small/f$i; i=$((i+1)); done
sync
stamp; t4=$cs
umount /mnt
echo "bench disk_bytes $((mib * 1048576)) bytes"
echo "bench disk_files $files files"
echo "bench disk_write_us $(((t1 - t0) * 10000)) us"
echo "bench disk_read_us $(((t3 - t2) * 10000)) us"
echo "bench disk_small_us $(((t4 - t3) * 10000)) us""#;

/// The line init prints once every service has started.
pub const READY_LINE: &str = "linux-guest: ready";

/// lighttpd's configuration: no modules, keep-alive without a small cap;
/// port 80 on IPv4 and on IPv6 (busybox `nc` listens on both already).
const LIGHTTPD_CONF: &str = "\
server.document-root = \"/www\"
server.port = 80
$SERVER[\"socket\"] == \"[::]:80\" { }
server.upload-dirs = (\"/tmp\")
server.max-keep-alive-requests = 1000000
server.max-keep-alive-idle = 60
index-file.names = (\"index.html\")
mimetype.assign = (\".html\" => \"text/html\")
";

/// memcached refuses to run as root without `-u`, which it looks up.
const PASSWD: &str = "root:x:0:0:root:/:/bin/sh\n";

/// The page, about the size of the appliance's.
const INDEX: &str = "<!doctype html>\n<html><head><title>linux</title></head>\n\
<body><h1>linux</h1>\n<p>This page is served by lighttpd on Debian's kernel, \
the baseline the appliance is measured against.</p>\n</body></html>\n";

/// Where an initramfs entry's bytes come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Directory,
    /// A file of the unpacked packages, with these permission bits.
    Copy {
        from: PathBuf,
        permissions: u32,
    },
    /// Text written here, with these permission bits.
    Text {
        text: String,
        permissions: u32,
    },
    /// /dev/console, so init has its stdio before devtmpfs is mounted.
    Console,
}

/// One entry to be: its path in the archive (no leading `/`) and source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    pub path: String,
    pub source: Source,
}

/// Which appliance the guest stands beside: what it serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Services {
    /// echo, discard, source and lighttpd (`bench --vs linux`).
    Web,
    /// memcached (`bench --vs linux --kv`).
    Memcached,
    /// No network: [`STORAGE_SCRIPT`] on the disk (`bench --vs linux`'s
    /// disk rows).
    Storage,
}

impl Services {
    /// The server program, in the packages and in the guest (busybox
    /// alone for the storage script).
    pub fn program(self) -> Option<&'static str> {
        match self {
            Services::Web => Some("usr/sbin/lighttpd"),
            Services::Memcached => Some("usr/bin/memcached"),
            Services::Storage => None,
        }
    }

    /// The kernel modules it loads, in order.
    pub fn modules(self) -> &'static [&'static str] {
        match self {
            Services::Web | Services::Memcached => &MODULES,
            Services::Storage => &STORAGE_MODULES,
        }
    }

    /// The archive's file name under the guest's folder.
    pub fn archive(self) -> &'static str {
        match self {
            Services::Web => "initramfs.cpio.gz",
            Services::Memcached => "initramfs-memcached.cpio.gz",
            Services::Storage => "initramfs-storage.cpio.gz",
        }
    }

    /// The program's own files beside it.
    fn files(self) -> Vec<(&'static str, String)> {
        match self {
            Services::Web => vec![
                ("etc/lighttpd.conf", LIGHTTPD_CONF.into()),
                ("www/index.html", INDEX.into()),
            ],
            Services::Memcached => vec![("etc/passwd", PASSWD.into())],
            Services::Storage => Vec::new(),
        }
    }

    /// The lines of init that start the services.
    fn start(self) -> &'static str {
        match self {
            Services::Web => {
                "nc -ll -p 7 -e cat &
nc -ll -p 9 -e dd of=/dev/null bs=65536 &
nc -ll -p 19 -e dd if=/dev/zero bs=65536 &
lighttpd -f /etc/lighttpd.conf"
            }
            Services::Memcached => "memcached -d -u root -p 11211 -m ${cache_mb:-64}",
            Services::Storage => STORAGE_SCRIPT,
        }
    }
}

/// A shared library the server program needs: where the guest's loader looks for it
/// (no leading `/`) and the file in the unpacked packages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Library {
    pub guest_path: String,
    pub from: PathBuf,
}

/// Every entry, parents before children: `root` holds the unpacked
/// packages, `kernel_version` names its `lib/modules` folder.
pub fn plan(
    root: &Path,
    kernel_version: &str,
    services: Services,
    libraries: &[Library],
) -> Vec<Planned> {
    let copy = |path: &str, from: PathBuf, permissions: u32| Planned {
        path: path.to_string(),
        source: Source::Copy { from, permissions },
    };
    let text = |path: &str, text: String, permissions: u32| Planned {
        path: path.to_string(),
        source: Source::Text { text, permissions },
    };
    let mut files = vec![
        text("init", init_script(services), 0o755),
        copy("bin/busybox", root.join("bin/busybox"), 0o755),
    ];
    if let Some(program) = services.program() {
        files.push(copy(program, root.join(program), 0o755));
    }
    for (path, contents) in services.files() {
        files.push(text(path, contents, 0o644));
    }
    let modules = root.join("lib/modules").join(kernel_version).join("kernel");
    for module in services.modules() {
        let from = modules.join(format!("{module}.ko"));
        files.push(copy(&module_path(module), from, 0o644));
    }
    for library in libraries {
        files.push(copy(&library.guest_path, library.from.clone(), 0o755));
    }
    files.push(Planned {
        path: "dev/console".into(),
        source: Source::Console,
    });
    with_directories(files, &["proc", "sys", "tmp", "var/tmp"])
}

/// Where a module of [`MODULES`] goes in the initramfs.
fn module_path(module: &str) -> String {
    let name = module.rsplit('/').next().unwrap_or(module);
    format!("lib/modules/{name}.ko")
}

/// `files` with every parent directory, and `extra` ones, placed first.
fn with_directories(files: Vec<Planned>, extra: &[&str]) -> Vec<Planned> {
    let mut directories: Vec<String> = Vec::new();
    let parents = files.iter().flat_map(|file| {
        let path = file.path.as_str();
        path.match_indices('/').map(move |(at, _)| &path[..at])
    });
    for directory in parents.chain(extra.iter().copied()) {
        // Parents of an extra (`var` of `var/tmp`) come first.
        let ancestors = directory.match_indices('/').map(|(at, _)| &directory[..at]);
        for one in ancestors.chain([directory]) {
            if !directories.iter().any(|known| known == one) {
                directories.push(one.to_string());
            }
        }
    }
    let mut entries: Vec<Planned> = directories
        .into_iter()
        .map(|path| Planned {
            path,
            source: Source::Directory,
        })
        .collect();
    entries.extend(files);
    entries
}

/// The lines that bring the network up (none for the storage script).
const NETWORK: &str = "ip link set lo up
ip link set eth0 up
ip addr add ${guest_ip:-10.0.2.15/24} dev eth0
ip route add default via ${guest_gateway:-10.0.2.2}
[ -n \"$guest_ip6\" ] && ip addr add $guest_ip6 dev eth0
";

/// PID 1: mounts, modules, the address, the services, then sleeps forever.
pub fn init_script(services: Services) -> String {
    let modules: Vec<String> = services
        .modules()
        .iter()
        .map(|module| format!("insmod /{}", module_path(module)))
        .collect();
    let network = match services {
        Services::Storage => "",
        Services::Web | Services::Memcached => NETWORK,
    };
    format!(
        "#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
{}
{network}{}
echo {READY_LINE}
exec sleep 2147483647
",
        modules.join("\n"),
        services.start()
    )
}

/// The libraries in the output of `ld.so --list` run with `--library-path`
/// inside `root`; each must resolve inside `root`. The loader is the line
/// named by an absolute path (the program's interpreter): it goes where
/// the program looks for it, the others where the loader found them.
pub fn parse_library_list(text: &str, root: &Path) -> Result<Vec<Library>, String> {
    let mut libraries = Vec::new();
    for line in text.lines().map(str::trim) {
        let line = line.split(" (0x").next().unwrap_or(line);
        let (name, path) = match line.split_once(" => ") {
            Some((name, path)) => (name, path),
            None if line.starts_with('/') => (line, ""),
            None => continue,
        };
        let from = match path {
            "" => root.join(name.trim_start_matches('/')),
            path => PathBuf::from(path),
        };
        let relative = from.strip_prefix(root).map_err(|_| {
            format!("the server needs `{line}`, which is not in the Debian packages")
        })?;
        let guest_path = match name.strip_prefix('/') {
            Some(interpreter) => interpreter.to_string(),
            None => relative.to_string_lossy().into_owned(),
        };
        libraries.push(Library { guest_path, from });
    }
    if !libraries
        .iter()
        .any(|library| library.guest_path.starts_with("lib64/"))
    {
        return Err(format!("the server names no loader in `{}`", text.trim()));
    }
    Ok(libraries)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTING: &str = "\tlinux-vdso.so.1 (0x00007ffd)\n\
\tlibpcre2-8.so.0 => /cache/root/usr/lib/x86_64-linux-gnu/libpcre2-8.so.0 (0x7f01)\n\
\tlibc.so.6 => /cache/root/lib/x86_64-linux-gnu/libc.so.6 (0x7f02)\n\
\t/lib64/ld-linux-x86-64.so.2 => /cache/root/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 (0x7f03)\n";

    #[test]
    fn libraries_come_from_the_unpacked_packages() {
        let root = Path::new("/cache/root");
        let libraries = parse_library_list(LISTING, root).expect("all inside root");
        let guest: Vec<&str> = libraries.iter().map(|l| l.guest_path.as_str()).collect();
        assert_eq!(
            guest,
            [
                "usr/lib/x86_64-linux-gnu/libpcre2-8.so.0",
                "lib/x86_64-linux-gnu/libc.so.6",
                "lib64/ld-linux-x86-64.so.2"
            ]
        );
        assert_eq!(
            libraries[1].from,
            root.join("lib/x86_64-linux-gnu/libc.so.6")
        );
        assert_eq!(
            libraries[2].from,
            root.join("lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")
        );
        // The host's loader lists itself without a resolved path.
        let host_loader = "\tlibc.so.6 => /cache/root/lib/libc.so.6 (0x1)\n\t/lib64/ld.so (0x2)\n";
        let libraries = parse_library_list(host_loader, root).expect("inside root");
        assert_eq!(libraries[1].from, root.join("lib64/ld.so"));
        let host = "\tlibfoo.so.1 => /usr/lib/libfoo.so.1 (0x1)\n";
        let error = parse_library_list(host, root).expect_err("a host library");
        assert!(error.contains("libfoo"), "{error}");
        let no_loader = "\tlibc.so.6 => /cache/root/lib/libc.so.6 (0x1)\n";
        assert!(parse_library_list(no_loader, root).is_err());
    }

    #[test]
    fn the_plan_holds_services_modules_libraries_and_parents_first() {
        let root = Path::new("/r");
        let libraries = [Library {
            guest_path: "lib/x86_64-linux-gnu/libc.so.6".into(),
            from: "/r/lib/x86_64-linux-gnu/libc.so.6".into(),
        }];
        let plan = plan(root, "6.1.0-57-amd64", Services::Web, &libraries);
        let paths: Vec<&str> = plan.iter().map(|entry| entry.path.as_str()).collect();
        for wanted in [
            "init",
            "bin/busybox",
            "usr/sbin/lighttpd",
            "etc/lighttpd.conf",
            "www/index.html",
            "lib/modules/virtio_net.ko",
            "lib/x86_64-linux-gnu/libc.so.6",
            "dev/console",
            "var/tmp",
        ] {
            assert!(paths.contains(&wanted), "{wanted} missing from {paths:?}");
        }
        for (index, path) in paths.iter().enumerate() {
            if let Some((parent, _)) = path.rsplit_once('/') {
                let at = paths.iter().position(|other| *other == parent);
                assert!(at.is_some_and(|at| at < index), "{parent} before {path}");
            }
        }
        let failover = plan
            .iter()
            .find(|entry| entry.path == "lib/modules/failover.ko");
        let from = Path::new("/r/lib/modules/6.1.0-57-amd64/kernel/net/core/failover.ko");
        assert!(matches!(
            &failover.expect("failover").source,
            Source::Copy { from: path, .. } if path == from
        ));
    }

    #[test]
    fn init_loads_the_modules_in_order_then_starts_every_service() {
        let script = init_script(Services::Web);
        let at = |text: &str| script.find(text).unwrap_or_else(|| panic!("{text}"));
        assert!(at("insmod /lib/modules/virtio_ring.ko") < at("insmod /lib/modules/virtio.ko"));
        assert!(at("/failover.ko") < at("/net_failover.ko"));
        assert!(at("/net_failover.ko") < at("/virtio_net.ko"));
        assert!(at("/virtio_net.ko") < at("ip link set eth0 up"));
        for service in ["-p 7 ", "-p 9 ", "-p 19 ", "lighttpd -f"] {
            assert!(at(service) < at(READY_LINE), "{service}");
        }
        assert!(script.starts_with("#!/bin/busybox sh\n"));
        assert!(script.contains("${guest_ip:-10.0.2.15/24}"));
        assert!(script.contains("[ -n \"$guest_ip6\" ] && ip addr add $guest_ip6"));
        assert!(!script.contains("memcached"));
    }

    #[test]
    fn the_memcached_guest_serves_memcached_alone() {
        let plan = plan(Path::new("/r"), "6.1.0-57-amd64", Services::Memcached, &[]);
        let paths: Vec<&str> = plan.iter().map(|entry| entry.path.as_str()).collect();
        for wanted in [
            "usr/bin/memcached",
            "etc/passwd",
            "lib/modules/virtio_net.ko",
        ] {
            assert!(paths.contains(&wanted), "{wanted} missing from {paths:?}");
        }
        assert!(!paths.iter().any(|path| path.contains("lighttpd")));
        let script = init_script(Services::Memcached);
        let at = |text: &str| script.find(text).unwrap_or_else(|| panic!("{text}"));
        assert!(at("/virtio_net.ko") < at("memcached -d -u root -p 11211"));
        assert!(at("-m ${cache_mb:-64}") < at(READY_LINE));
        assert!(!script.contains("nc -ll"));
        assert_ne!(Services::Web.archive(), Services::Memcached.archive());
    }

    #[test]
    fn the_storage_guest_mounts_ext2_without_a_network() {
        let plan = plan(Path::new("/r"), "6.1.0-57-amd64", Services::Storage, &[]);
        let paths: Vec<&str> = plan.iter().map(|entry| entry.path.as_str()).collect();
        for wanted in [
            "lib/modules/virtio_blk.ko",
            "lib/modules/ext4.ko",
            "bin/busybox",
        ] {
            assert!(paths.contains(&wanted), "{wanted} missing from {paths:?}");
        }
        assert!(!paths.iter().any(|path| path.contains("virtio_net")));
        assert!(!paths.iter().any(|path| path.contains("lighttpd")));
        let script = init_script(Services::Storage);
        let at = |text: &str| script.find(text).unwrap_or_else(|| panic!("{text}"));
        assert!(at("/virtio_blk.ko") < at("/ext4.ko"));
        assert!(at("/jbd2.ko") < at("/ext4.ko"));
        assert!(at("/ext4.ko") < at("mount -t ext2 /dev/vda /mnt"));
        assert!(at("conv=fsync") < at("drop_caches"));
        assert!(at("umount /mnt") < at("bench disk_small_us"));
        assert!(at("bench disk_small_us") < at(READY_LINE));
        assert!(!script.contains("ip addr"));
    }
}
