//! Hosted kernels boot, run components in init-level order, report bad
//! parameters and failing components, and coexist in one process.

mod common;

use std::sync::{Arc, Mutex as StdMutex};

use base::component::{Component, ComponentError, InitLevel};
use base::{BootConfig, BootError, Context, Kernel};
use common::{boot, boot_with, try_boot};
use hypercall_posix::{ConsoleCapture, ConsoleSink, Posix, PosixConfig};

static ORDER: StdMutex<Vec<&'static str>> = StdMutex::new(Vec::new());

fn record(context: &Context<'_>, name: &'static str) -> Result<(), ComponentError> {
    assert!(context.kernel().uptime_ns() < u64::MAX);
    ORDER.lock().unwrap().push(name);
    Ok(())
}

static DEV: Component = Component {
    name: "dev",
    level: InitLevel::Dev,
    requires: &[],
    init: |c| record(c, "dev"),
};
static NET: Component = Component {
    name: "net",
    level: InitLevel::Net,
    requires: &[],
    init: |c| record(c, "net"),
};
static KERN: Component = Component {
    name: "kern",
    level: InitLevel::Kern,
    requires: &[],
    init: |c| record(c, "kern"),
};
static BROKEN: Component = Component {
    name: "broken",
    level: InitLevel::NetIf,
    requires: &[],
    init: |_| Err(ComponentError::Failed("no such device")),
};

#[test]
fn components_run_by_init_level_and_a_failure_names_the_component() {
    let kernel = boot_with("", &[&DEV, &NET, &KERN]);
    assert_eq!(*ORDER.lock().unwrap(), ["kern", "net", "dev"]);
    drop(kernel);

    let error = try_boot("", &[&BROKEN]).err().expect("boot fails");
    assert_eq!(
        error,
        BootError::Component {
            name: "broken",
            error: ComponentError::Failed("no such device")
        }
    );
    assert_eq!(error.to_string(), "component broken failed: no such device");
}

#[test]
fn bad_parameters_are_reported_and_defaults_used() {
    let kernel = boot("mem=lots =oops log=info");
    let log = kernel.console.text();
    assert!(
        log.contains("error base::kernel: boot parameter `mem=lots`: expected a size"),
        "{log}"
    );
    assert!(log.contains("boot parameter `=oops` is malformed"), "{log}");
    let limit = kernel.kernel.memory().stats().limit;
    assert_eq!(limit, 256 << 20, "the host's size is the default limit");
}

#[test]
fn the_memory_limit_parameter_caps_the_kernel() {
    let kernel = boot("mem=1M");
    assert_eq!(kernel.kernel.memory().stats().limit, 1 << 20);
}

#[test]
fn two_kernels_in_one_process_are_independent() {
    let first = boot("");
    let second = boot("");
    assert_ne!(first.kernel.id(), second.kernel.id());
    let a = first.kernel.enter().unwrap();
    // The second kernel's CPU is free while this thread holds the first's.
    let b = second.kernel.enter().unwrap();
    assert_ne!(a.lwp_id(), b.lwp_id());
    drop(b);
    drop(a);
}

#[test]
fn a_failed_boot_leaves_no_kernel_or_thread_behind() {
    let host = Posix::new(PosixConfig {
        console: ConsoleSink::Capture(ConsoleCapture::new()),
        ..PosixConfig::default()
    });
    let config = BootConfig {
        components: &[&BROKEN],
    };
    let error = Kernel::boot(host.clone(), config).err();
    assert!(matches!(error, Some(BootError::Component { .. })));
    assert_eq!(
        Arc::strong_count(&host),
        1,
        "the kernel (held by its clock thread) still holds the host"
    );
}

// These two record nothing: other tests check the order ORDER records.
static QUIET_NET: Component = Component {
    name: "net",
    level: InitLevel::Net,
    requires: &[],
    init: |_| Ok(()),
};
static NEEDS_NET: Component = Component {
    name: "needs-net",
    level: InitLevel::Dev,
    requires: &["net"],
    init: |_| Ok(()),
};

#[test]
fn a_component_whose_need_is_not_linked_stops_the_boot_naming_both() {
    let error = try_boot("", &[&NEEDS_NET]).err();
    assert_eq!(
        error,
        Some(BootError::MissingComponent {
            name: "needs-net",
            needs: "net"
        })
    );
    assert_eq!(
        error.unwrap().to_string(),
        "component needs-net needs component net, which is not linked"
    );
    assert!(try_boot("", &[&QUIET_NET, &NEEDS_NET]).is_ok());
}

#[test]
fn a_host_speaking_another_interface_version_is_refused() {
    use hypercall::{VERSION, Version};
    let newer_minor = Version::new(VERSION.major, VERSION.minor + 1);
    assert!(common::try_boot_speaking("", &[], newer_minor).is_ok());
    // Every 1.x host predates the 2.0 contract (unsafe memory traits,
    // opaque device tokens) and every 2.x host the 3.0 one (block
    // segments): none may run this kernel; nor may a host of an older
    // minor version, which lacks calls the kernel may make.
    let older =
        [(1, 0), (1, 1), (1, 9), (2, 0), (2, 4)].map(|(major, minor)| Version::new(major, minor));
    let older_minor = VERSION
        .minor
        .checked_sub(1)
        .map(|minor| Version::new(VERSION.major, minor));
    for host in older
        .into_iter()
        .chain(older_minor)
        .chain([Version::new(VERSION.major + 1, 0)])
    {
        let error = common::try_boot_speaking("", &[], host).err();
        assert_eq!(
            error,
            Some(BootError::VersionMismatch {
                kernel: VERSION,
                host
            })
        );
        let expected =
            format!("hypercall interface mismatch: kernel needs {VERSION}, host speaks {host}");
        assert_eq!(error.unwrap().to_string(), expected);
    }
}

#[test]
fn shutdown_hooks_run_stage_by_stage_in_registration_order() {
    use base::ShutdownStage;
    let ran: Arc<StdMutex<Vec<&'static str>>> = Arc::default();
    let test = boot("");
    let hook = |name: &'static str| {
        let ran = ran.clone();
        Box::new(move || ran.lock().unwrap().push(name))
    };
    test.kernel.on_shutdown(hook("device a"));
    let file_systems = ShutdownStage::FileSystems;
    test.kernel.on_shutdown_at(file_systems, hook("unmount a"));
    test.kernel.on_shutdown(hook("device b"));
    test.kernel.on_shutdown_at(file_systems, hook("unmount b"));
    test.kernel.shutdown();
    assert_eq!(
        *ran.lock().unwrap(),
        ["unmount a", "unmount b", "device a", "device b"]
    );
}
