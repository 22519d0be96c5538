//! Tests of what `--app NAME` finds: names, binaries, forwards.

use serde_json::json;

use super::*;

/// `cargo metadata`'s JSON for a few packages, as much as `App` reads.
fn metadata() -> Value {
    let binary = |name: &str| json!({ "name": name, "kind": ["bin"] });
    let library = |name: &str| json!({ "name": name, "kind": ["lib"] });
    json!({ "packages": [
        { "name": "demo", "targets": [binary("demo")],
          "metadata": { "anykernel": { "forwards": ["7007:7", "8080:80"] } } },
        { "name": "probe", "targets": [binary("anykernel-probe")], "metadata": null },
        { "name": "kv", "targets": [library("kv"), binary("kv")],
          "metadata": { "anykernel": { "forwards": ["11211:11211"] } } },
        { "name": "twins", "targets": [binary("one"), binary("two")] },
        { "name": "library", "targets": [library("library")] },
        { "name": "broken", "targets": [binary("broken")],
          "metadata": { "anykernel": { "forwards": "7007:7" } } },
        { "name": "router", "targets": [binary("router")],
          "metadata": { "anykernel": { "params": ["ip.forwarding=1", "ip6.forwarding=1"] } } },
        { "name": "spaced", "targets": [binary("spaced")],
          "metadata": { "anykernel": { "params": ["ip=1.2.3.4 gw=1.2.3.1"] } } },
    ]})
}

fn forward(host_port: u16, guest_port: u16) -> Forward {
    Forward {
        host_port,
        guest_port,
    }
}

#[test]
fn an_application_is_its_package_binary_and_forwards() {
    let demo = App::from_metadata(&metadata(), "demo").expect("demo");
    assert_eq!(
        demo,
        App {
            package: "demo".into(),
            binary: "demo".into(),
            forwards: vec![forward(7007, 7), forward(8080, 80)],
            params: Vec::new(),
        }
    );
    let kv = App::from_metadata(&metadata(), "kv").expect("kv");
    assert_eq!(
        (kv.binary.as_str(), kv.forwards),
        ("kv", vec![forward(11211, 11211)])
    );
    let probe = App::from_metadata(&metadata(), "probe").expect("probe");
    assert_eq!(probe.binary, "anykernel-probe", "its only binary");
    assert!(probe.forwards.is_empty());
}

#[test]
fn packages_that_are_no_application_are_named_with_the_reason() {
    let error = |name: &str| App::from_metadata(&metadata(), name).expect_err(name);
    assert!(error("nothing").contains("no package `nothing` (`cargo xtask new nothing`"));
    assert!(error("app").contains("the appliance is the default"));
    assert!(error("twins").contains("binaries one, two and none is named `twins`"));
    assert!(error("library").contains("has no binary"));
    assert!(error("broken").contains("broken's [package.metadata.anykernel] forwards"));
    assert!(error("spaced").contains("spaced's [package.metadata.anykernel] params"));
}

#[test]
fn an_application_names_the_boot_parameters_it_always_gets() {
    let router = App::from_metadata(&metadata(), "router").expect("router");
    assert_eq!(router.params, ["ip.forwarding=1", "ip6.forwarding=1"]);
    assert_eq!(parse_params(&Value::Null), Ok(Vec::new()));
    assert!(parse_params(&json!("ip=1.2.3.4")).is_err(), "a list");
    assert!(parse_params(&json!([""])).is_err());
    assert!(parse_params(&json!([7])).is_err());
}

#[test]
fn forwards_are_pairs_of_non_zero_ports_each_host_port_once() {
    assert_eq!(parse_forwards(&Value::Null), Ok(Vec::new()));
    assert_eq!(parse_forwards(&json!([])), Ok(Vec::new()));
    assert_eq!(
        parse_forwards(&json!(["1:65535", "65535:1"])),
        Ok(vec![forward(1, 65535), forward(65535, 1)])
    );
    let bad = [
        "0:7", "7:0", "7007", "7007:7:1", "+1:2", "1:+2", "70000:1", ":7", "7:", "a:b", " 1:2",
    ];
    for text in bad {
        let error = parse_forwards(&json!([text])).expect_err(text);
        assert!(error.contains("is not \"HOST:GUEST\""), "{text}: {error}");
    }
    assert!(parse_forwards(&json!([7007])).is_err());
    assert!(parse_forwards(&json!({ "7007": 7 })).is_err());
    let twice = parse_forwards(&json!(["7007:7", "7007:8"]));
    assert_eq!(twice, Err("host port 7007 is forwarded twice".into()));
}

#[test]
fn names_are_lowercase_letters_digits_and_dashes_after_a_letter() {
    for good in ["demo", "kv", "my-app2", "a", &"a".repeat(64)] {
        assert_eq!(check_name(good), Ok(()), "{good}");
    }
    let cases = [
        ("", "needs a name"),
        ("Demo", "starts with a lowercase letter"),
        ("2fast", "starts with a lowercase letter"),
        ("-x", "starts with a lowercase letter"),
        ("évian", "starts with a lowercase letter"),
        ("my_app", "only lowercase letters, digits and `-`"),
        ("myApp", "only lowercase letters, digits and `-`"),
        ("a/b", "only lowercase letters, digits and `-`"),
        ("a b", "only lowercase letters, digits and `-`"),
        ("cafés", "only lowercase letters, digits and `-`"),
        (&"a".repeat(65), "at most 64 characters"),
    ];
    for (name, expected) in cases {
        let error = check_name(name).expect_err(name);
        assert!(error.contains(expected), "{name}: {error}");
        assert!(!error.contains('\n'), "{error}");
    }
}
