//! `cargo xtask`: builds, runs, tests and measures the Anykernel images.
//!
//! Verbs: help, build, run, gdb, test, new, iso, bench, fuzz, hijack (see
//! [`HELP`]). Each verb first runs the set-up checks it needs (setup.rs).
//! QEMU is only ever started through the `qemu_tests` library. Errors end in one line on
//! stderr and a non-zero status (2 for a command line that does not parse).

mod apps;
mod args;
mod bench;
mod build;
mod command;
mod fuzz;
mod hijack;
mod hosted;
mod iso;
mod matrix;
mod new;
mod paths;
mod run;
mod setup;
mod symbols;
mod test;

use std::process::ExitCode;

use args::Verb;

const HELP: &str = "\
usage: cargo xtask <verb> [options] [-- kernel parameters]

verbs:
  build                 build both images (release, x86_64-unknown-none), embed
                        symbols; print the appliance's path
  run [options]         boot an image with serial on this terminal; Ctrl-C
                        stops the guest in order (QEMU: the ACPI power button
                        through QMP; the appliance unmounts its disks clean),
                        a second Ctrl-C or 30 s later kills QEMU
  gdb [options]         like run, but QEMU waits for gdb on :1234
  test [--quick]        fmt, clippy (host, bare metal), docs, host tests, fuzz
                        targets, images + ISO, QEMU tests, root-only tests
                        (--quick skips what boots QEMU)
  test --app NAME [--quick]
                        fmt, clippy, docs, `cargo test -p NAME`, its image booted
                        to ready on q35 and microvm (--quick: no boots)
  new NAME              a new application crate app/NAME from the template (echo
                        on TCP port 7), added to the workspace members
  iso [-- params]       build a BIOS + UEFI GRUB ISO of the appliance; print its path
  bench [--runs N]      image sizes, boot times, guest figures (N runs, default 5);
                        raw figures in $TARGET/bench.json
  bench --hosted        TCP between hosted kernels on a bus and, as root, from
                        Linux over a tap: throughput, round trips, connections,
                        allocations per packet; per hosted configuration: boot
                        time (in process, and process spawn -> ready), memory
                        per kernel, kernels in 1 GiB; raw figures in
                        bench-hosted.json
  bench --scaling [--runs N]
                        as root, microvm over a tap: bulk with 1, 10, 100
                        streams; HTTP and kernel memory with 10, 1,000, 10,000
                        idle connections; bulk under mem=2M, 3M, 8M (default 3
                        runs); once, 100,000 idle connections in 1 GiB
                        (`bench` includes these rows)
  bench --profile        the appliance on microvm over user networking: perf on
                        QEMU during bulk, and the guest's own stacks sampled
                        through QEMU's gdb stub during bulk and echoes (the
                        functions it runs, from <image>.debug)
  bench --vs linux [--runs N] [--quick] [--accel tcg|kvm] [--profile]
                        the appliance against a minimal Debian Linux guest (built
                        once from Debian packages into $TARGET/linux-guest): same
                        QEMU, machine, virtio NIC, memory; q35 and microvm, user
                        networking and (as root) a tap; ratios against the goals;
                        raw figures in bench-vs-linux.json (+ .png with gnuplot).
                        --quick: microvm, 1 run; --profile: perf on QEMU while
                        the appliance moves bulk data. Also ext2 on virtio-blk
                        (same mke2fs image): sequential write/read MiB/s and
                        4 KiB file creates/s, timed in each guest; image sizes
                        with vfs and net only (kv)
  bench --vs linux --disk [--runs N] [--quick] [--accel tcg|kvm]
                        the storage rows alone (--quick: 32 MiB, 500 files)
  bench --vs linux --kv [--runs N] [--quick] [--accel tcg|kvm]
                        the kv appliance against Debian's memcached in the Linux
                        guest: same QEMU (microvm), 64 MiB cache, memaslap load;
                        smallest memory; kv by mem= limit; raw figures in
                        bench-kv.json (--quick: 1 run)
  fuzz [--seconds N]    run every fuzz target N seconds (default 60): the fuzz
                        crate's (coverage-guided with cargo-bolero and nightly)
                        and the hosted frame fuzzer; `test` runs them ~45 s
  hijack --server unix:PATH -- COMMAND [ARGS...]
                        run an unmodified, dynamically linked Linux program with
                        its TCP and UDP sockets in the kernel serving at PATH
                        (`run --hosted --server unix:PATH`): LD_PRELOAD of
                        anykernel-hijack, built here; exits with its status
  help                  this text

options of run and gdb:
  --machine q35|microvm|pc   default q35 (qboot firmware)
  --accel tcg|kvm            default tcg
  --firmware qboot|seabios   q35 and pc only; default qboot
  --mem SIZE                 e.g. 64M, 1G; default 128M
  --image appliance|selftest default appliance; the selftest takes -- test=<case>
  --app NAME                 boot the application NAME (a workspace package, e.g.
                             one `new` made, or kv), bare metal or --hosted; user
                             networking forwards the ports its Cargo.toml names
                             ([package.metadata.anykernel] forwards = [\"7007:7\"])
  --net user|tap:NAME|dgram:LOCALPORT:REMOTEPORT|none
                             the guest's virtio NIC; default user networking with
                             127.0.0.1:8080 -> guest 80 and 127.0.0.1:7777 -> guest 7
  --pcap FILE                dump the guest NIC's frames to FILE (QEMU filter-dump)
  --files DIR                bake DIR into the appliance: mounted read-only at /www,
                             served at http://127.0.0.1:8080/files/ (uploads under
                             /files/tmp/ with -- http.writable=1)
  --hosted                   run the appliance as a hosted kernel in a Linux process;
                             --net tap:NAME (root) or bus:PATH[,loss=P,duplicate=P,
                             reorder=P,corrupt=P,seed=N,mac=M] gives it a NIC
                             (a tap takes checksum offload and TSO unless
                             offload=off or a fault is asked for)

run and gdb exit with 0 when the guest passed, stopped in order on Ctrl-C or
was killed after Ctrl-C, with the guest's failure code (1-63) when it failed,
and with 125 without a verdict.
";

fn main() -> ExitCode {
    let words: Result<Vec<String>, _> = std::env::args_os()
        .skip(1)
        .map(|word| word.into_string())
        .collect();
    let Ok(words) = words else {
        eprintln!("xtask: arguments must be UTF-8");
        return ExitCode::from(2);
    };
    let verb = match args::parse(&words) {
        Ok(verb) => verb,
        Err(error) => {
            eprintln!("xtask: {error} (`cargo xtask help` lists verbs and options)");
            return ExitCode::from(2);
        }
    };
    match dispatch(&verb) {
        Ok(status) => status,
        Err(error) => {
            eprintln!("xtask: {error}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(verb: &Verb) -> Result<ExitCode, String> {
    match verb {
        Verb::Help => print!("{HELP}"),
        Verb::Build => build::build_verb()?,
        Verb::Run(options) => return run::run_verb(options, false),
        Verb::Gdb(options) => return run::run_verb(options, true),
        Verb::Test { quick, app: None } => test::test_verb(*quick)?,
        Verb::Test {
            quick,
            app: Some(name),
        } => test::app_test_verb(name, *quick)?,
        Verb::New { name } => new::new_verb(name)?,
        Verb::Iso { params } => iso::iso_verb(params)?,
        Verb::Bench {
            runs,
            hosted: false,
        } => bench::bench_verb(*runs)?,
        Verb::Bench { runs, hosted: true } => bench::hosted_bench_verb(*runs)?,
        Verb::BenchScaling { runs } => bench::scaling_bench_verb(*runs)?,
        Verb::BenchProfile => bench::profile_verb()?,
        Verb::BenchVersusLinux(options) => bench::versus_linux_verb(options)?,
        Verb::BenchKvVersusLinux(options) => bench::kv_versus_linux_verb(options)?,
        Verb::Fuzz { seconds } => fuzz_verb(*seconds)?,
        Verb::Hijack { server, command } => return hijack::hijack_verb(server, command),
    }
    Ok(ExitCode::SUCCESS)
}

/// The `fuzz` verb: every fuzz target, longer (see fuzz.rs).
fn fuzz_verb(seconds: u64) -> Result<(), String> {
    fuzz::fuzz_verb(seconds)
}
