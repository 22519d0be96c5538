//! Tests of `cargo xtask new`: the templates, the names it refuses, and
//! the whole verb against a small workspace in a temporary folder (never
//! the real one).

use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::apps::parse_forwards;

/// A workspace in a fresh temporary folder, removed when dropped.
struct Scratch {
    root: PathBuf,
}

/// The scratch workspace's root manifest: comments, a dependency, members
/// around and among the applications.
const ROOT_MANIFEST: &str = r#"# The scratch workspace.
[workspace]
resolver = "3"
members = [
    # The host tool.
    "tool",
    "app",
    # The applications.
    "app/alpha",
    "app/omega", # the last
    "zed",
]

[workspace.dependencies]
# Why log is here.
log = "0.4"
"#;

impl Scratch {
    fn new() -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let unique = format!(
            "xtask-new-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let root = std::env::temp_dir().join(unique);
        let scratch = Scratch { root };
        scratch.write("Cargo.toml", ROOT_MANIFEST);
        for (member, name) in [
            ("tool", "tool"),
            ("app", "app"),
            ("app/alpha", "alpha"),
            ("app/omega", "omega"),
            ("zed", "zed-package"),
        ] {
            let manifest = format!("[package]\nname = \"{name}\"\n");
            scratch.write(&format!("{member}/Cargo.toml"), &manifest);
        }
        scratch
    }

    fn write(&self, path: &str, text: &str) {
        let path = self.root.join(path);
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.root.join(path)).expect("read")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

#[test]
fn new_writes_the_crate_and_adds_it_among_the_applications() {
    let scratch = Scratch::new();
    let directory = create(&scratch.root, "demo").expect("create demo");
    assert_eq!(directory, scratch.root.join("app/demo"));
    let expected = ROOT_MANIFEST.replace(
        "    \"app/alpha\",\n",
        "    \"app/alpha\",\n    \"app/demo\",\n",
    );
    assert_eq!(scratch.read("Cargo.toml"), expected);
    assert_eq!(
        scratch.read("app/demo/Cargo.toml"),
        render(MANIFEST_TEMPLATE, "demo")
    );
    assert_eq!(
        scratch.read("app/demo/src/main.rs"),
        render(MAIN_TEMPLATE, "demo")
    );
    create(&scratch.root, "zulu").expect("create zulu");
    let manifest = scratch.read("Cargo.toml");
    assert!(
        manifest.contains("    \"app/omega\", # the last\n    \"app/zulu\",\n    \"zed\",\n"),
        "{manifest}"
    );
}

#[test]
fn a_name_that_is_taken_is_refused_and_nothing_is_written() {
    let scratch = Scratch::new();
    scratch.write("app/stale/notes.txt", "left over");
    let cases = [
        ("alpha", "already has a package `alpha`"),
        ("zed-package", "already has a package `zed-package`"),
        ("log", "`log` is a dependency of the workspace"),
        ("kernel", "`kernel` is a reserved name"),
        ("src", "`src` is a reserved name"),
        ("fn", "`fn` is a reserved name"),
        ("stale", "app/stale already exists"),
        ("Bad", "starts with a lowercase letter"),
    ];
    for (name, expected) in cases {
        let error = create(&scratch.root, name).expect_err(name);
        assert!(error.contains(expected), "{name}: {error}");
        assert!(!error.contains('\n'), "one line: {error}");
    }
    assert_eq!(scratch.read("Cargo.toml"), ROOT_MANIFEST);
    assert!(!scratch.root.join("app/Bad").exists());
    assert_eq!(scratch.read("app/stale/notes.txt"), "left over");
}

#[test]
fn a_workspace_without_a_members_list_is_an_error() {
    let scratch = Scratch::new();
    scratch.write("Cargo.toml", "[workspace]\nresolver = \"3\"\n");
    let error = create(&scratch.root, "demo").expect_err("no members");
    assert!(error.contains("no `[workspace] members` list"), "{error}");
    assert!(!scratch.root.join("app/demo").exists());
}

#[test]
fn the_templates_name_the_application_everywhere_and_nothing_else() {
    let manifest = render(MANIFEST_TEMPLATE, "my-app");
    let main = render(MAIN_TEMPLATE, "my-app");
    for text in [&manifest, &main] {
        assert!(
            !text.contains(PLACEHOLDER),
            "a placeholder is left:\n{text}"
        );
        assert!(!text.contains("@name"), "a misspelt placeholder:\n{text}");
    }
    assert!(main.starts_with("//! my-app: "), "{main}");
    for line in [
        "#![cfg_attr(target_os = \"none\", no_std)]",
        "#![cfg_attr(target_os = \"none\", no_main)]",
        "entry::main!(run);",
    ] {
        assert!(main.contains(line), "{line}");
    }
    assert!(main.contains("say(&*host, format_args!(\"anykernel: ready in {ready_us} us\"));"));
    let document: DocumentMut = manifest.parse().expect("the manifest is TOML");
    assert_eq!(document["package"]["name"].as_str(), Some("my-app"));
    assert_eq!(document["bin"][0]["name"].as_str(), Some("my-app"));
    let features: Vec<&str> = document["dependencies"]["kernel"]["features"]
        .as_array()
        .expect("kernel features")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(features, ["net", "lo0", "virtif", "dev", "virtio-net"]);
    let forwards: Vec<serde_json::Value> = document["package"]["metadata"]["anykernel"]["forwards"]
        .as_array()
        .expect("forwards")
        .iter()
        .filter_map(Value::as_str)
        .map(serde_json::Value::from)
        .collect();
    let forwards = parse_forwards(&serde_json::Value::from(forwards)).expect("valid forwards");
    assert_eq!((forwards[0].host_port, forwards[0].guest_port), (7007, 7));
}

/// The real workspace's packages, read without touching anything.
#[test]
fn the_real_workspace_lists_its_packages() {
    let root = workspace_root();
    let text = read(&root.join("Cargo.toml")).expect("the root manifest");
    let manifest: DocumentMut = text.parse().expect("TOML");
    let packages = workspace_packages(&root, &manifest).expect("packages");
    for package in ["app", "entry", "kernel", "kv", "probe", "xtask"] {
        assert!(packages.iter().any(|name| name == package), "{package}");
    }
    let error = check_free(&root, &manifest, "kv").expect_err("kv is taken");
    assert!(error.contains("`kv`"), "{error}");
}
