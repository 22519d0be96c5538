//! Unit tests of xtask's command-line parsing (the clap parser).

use super::*;

fn parse_words(line: &str) -> Result<Verb, UsageError> {
    let words: Vec<String> = line.split_whitespace().map(String::from).collect();
    parse(&words)
}

fn run_options(line: &str) -> RunOptions {
    match parse_words(line) {
        Ok(Verb::Run(options)) => options,
        other => panic!("`{line}` gave {other:?}"),
    }
}

fn error_of(line: &str) -> String {
    match parse_words(line) {
        Err(UsageError(message)) => message,
        Ok(verb) => panic!("`{line}` parsed as {verb:?}"),
    }
}

#[test]
fn no_verb_and_help_flags_give_help() {
    assert_eq!(parse_words(""), Ok(Verb::Help));
    assert_eq!(parse_words("help"), Ok(Verb::Help));
    assert_eq!(parse_words("--help"), Ok(Verb::Help));
    assert_eq!(parse_words("-h"), Ok(Verb::Help));
    assert_eq!(parse_words("run --machine microvm --help"), Ok(Verb::Help));
    assert_eq!(parse_words("bench -h"), Ok(Verb::Help));
}

#[test]
fn a_repeated_option_keeps_its_last_value() {
    let options = run_options("run --machine pc --mem 64M --machine=microvm");
    assert_eq!(
        (options.machine, options.memory_mib),
        (Machine::Microvm, 64)
    );
}

#[test]
fn run_defaults_to_the_appliance_on_q35_tcg_with_128_mib() {
    let options = run_options("run");
    let expected = RunOptions {
        machine: Machine::Q35,
        accel: Accel::Tcg,
        firmware: None,
        memory_mib: 128,
        image: ImageKind::Appliance,
        app: None,
        hosted: false,
        net: vec!["user".into()],
        files: None,
        server: None,
        pcap: None,
        disk: Vec::new(),
        params: Vec::new(),
    };
    assert_eq!(options, expected);
}

#[test]
fn files_name_a_directory_for_the_appliance_only() {
    let options = run_options("run --files site -- http.writable=1");
    assert_eq!(options.files.as_deref(), Some(std::path::Path::new("site")));
    assert_eq!(options.params, ["http.writable=1"]);
    assert!(parse_words("run --app kv --files site").is_err());
}

#[test]
fn runs_serve_remote_clients_on_a_unix_socket_hosted_or_in_qemu() {
    let options = run_options("run --hosted --server unix:/tmp/k.sock");
    assert_eq!(options.server.as_deref(), Some("unix:/tmp/k.sock"));
    let options = run_options("run --server unix:/tmp/k.sock");
    assert_eq!(options.server.as_deref(), Some("unix:/tmp/k.sock"));
    assert!(parse_words("run --hosted --server tcp:1").is_err());
}

#[test]
fn hosted_runs_take_a_nic_and_a_nic_needs_hosted() {
    let options = run_options("run --hosted --net tap:ak0 -- ip=192.168.77.2/24");
    assert!(options.hosted);
    assert_eq!(options.net, ["tap:ak0"]);
    assert_eq!(options.params, ["ip=192.168.77.2/24"]);
    assert!(
        parse_words("run --net bus:/tmp/bus").is_err(),
        "a bus is hosted only"
    );
    assert!(
        parse_words("run --hosted --net user").is_err(),
        "user networking is QEMU's"
    );
    assert!(parse_words("run --hosted=yes").is_err());
    assert!(run_options("run --hosted").net.is_empty());
}

#[test]
fn qemu_runs_take_user_tap_dgram_or_no_network_and_a_pcap() {
    assert_eq!(run_options("run").net, ["user"]);
    assert_eq!(run_options("run --net tap:ak0").net, ["tap:ak0"]);
    let router = run_options("run --net tap:ak0 --net=tap:ak1");
    assert_eq!(router.net, ["tap:ak0", "tap:ak1"], "one NIC per --net");
    let options = run_options("run --net dgram:5000:5001 --pcap /tmp/x.pcap");
    assert_eq!(options.net, ["dgram:5000:5001"]);
    assert_eq!(options.pcap, Some("/tmp/x.pcap".into()));
    assert!(run_options("run --net none").net.is_empty());
    assert!(parse_words("run --net none --net user").is_err());
    assert!(parse_words("run --net dgram:x:1").is_err());
    assert!(parse_words("run --net none --pcap /tmp/x.pcap").is_err());
}

#[test]
fn run_options_in_both_spellings_and_kernel_parameters() {
    let options = run_options(
        "run --machine=microvm --accel kvm --mem 1G --image selftest -- test=sleep foo=bar",
    );
    assert_eq!(
        (options.machine, options.accel),
        (Machine::Microvm, Accel::Kvm)
    );
    assert_eq!(
        (options.memory_mib, options.image),
        (1024, ImageKind::Selftest)
    );
    assert_eq!(options.params, ["test=sleep", "foo=bar"]);
    assert_eq!(
        run_options("run --firmware seabios").firmware,
        Some(Firmware::SeaBios)
    );
}

#[test]
fn gdb_takes_the_options_of_run() {
    let Ok(Verb::Gdb(options)) = parse_words("gdb --machine pc -- log=debug") else {
        panic!("gdb did not parse");
    };
    assert_eq!(
        (options.machine, options.params),
        (Machine::Pc, vec!["log=debug".to_string()])
    );
}

#[test]
fn other_verbs_and_their_options() {
    assert_eq!(parse_words("build"), Ok(Verb::Build));
    assert_eq!(
        parse_words("test"),
        Ok(Verb::Test {
            quick: false,
            app: None
        })
    );
    assert_eq!(
        parse_words("test --quick"),
        Ok(Verb::Test {
            quick: true,
            app: None
        })
    );
    assert_eq!(
        parse_words("bench"),
        Ok(Verb::Bench {
            runs: 5,
            hosted: false
        })
    );
    assert_eq!(
        parse_words("bench --runs 9"),
        Ok(Verb::Bench {
            runs: 9,
            hosted: false
        })
    );
    assert_eq!(
        parse_words("bench --hosted --runs 2"),
        Ok(Verb::Bench {
            runs: 2,
            hosted: true
        })
    );
    assert_eq!(
        parse_words("bench --scaling"),
        Ok(Verb::BenchScaling { runs: 3 })
    );
    assert!(parse_words("bench --scaling --hosted").is_err());
    assert_eq!(
        parse_words("iso -- ip=10.0.0.2/24"),
        Ok(Verb::Iso {
            params: vec!["ip=10.0.0.2/24".into()]
        })
    );
}

#[test]
fn run_gdb_and_test_take_an_application() {
    let options = run_options("run --app demo --machine microvm -- ip=10.0.2.15/24");
    assert_eq!(options.app.as_deref(), Some("demo"));
    assert_eq!(options.image, ImageKind::Appliance);
    assert_eq!(options.net, ["user"]);
    assert_eq!(options.params, ["ip=10.0.2.15/24"]);
    let hosted = run_options("run --hosted --app=kv --net bus:/tmp/bus");
    assert_eq!((hosted.app.as_deref(), hosted.hosted), (Some("kv"), true));
    let Ok(Verb::Gdb(options)) = parse_words("gdb --app demo") else {
        panic!("gdb --app did not parse");
    };
    assert_eq!(options.app.as_deref(), Some("demo"));
    assert_eq!(
        parse_words("test --app my-app"),
        Ok(Verb::Test {
            quick: false,
            app: Some("my-app".into())
        })
    );
    assert_eq!(
        parse_words("test --quick --app kv"),
        Ok(Verb::Test {
            quick: true,
            app: Some("kv".into())
        })
    );
}

#[test]
fn new_takes_one_application_name() {
    assert_eq!(
        parse_words("new demo"),
        Ok(Verb::New {
            name: "demo".into()
        })
    );
    assert_eq!(
        parse_words("new my-app2"),
        Ok(Verb::New {
            name: "my-app2".into()
        })
    );
    let missing = error_of("new");
    assert!(
        missing.contains("required arguments were not provided: <NAME>"),
        "{missing}"
    );
    assert!(error_of("new a b").contains("unexpected argument 'b'"));
}

#[test]
fn bench_versus_linux_takes_runs_quick_and_an_accelerator() {
    let versus = |runs, quick, accel| {
        Ok(Verb::BenchVersusLinux(VersusLinuxOptions {
            runs,
            quick,
            accel,
            profile: false,
            disk: false,
        }))
    };
    assert_eq!(
        parse_words("bench --vs linux"),
        versus(5, false, Accel::Tcg)
    );
    assert_eq!(
        parse_words("bench --vs=linux --quick"),
        versus(1, true, Accel::Tcg)
    );
    assert_eq!(
        parse_words("bench --vs linux --quick --runs 3 --accel kvm"),
        versus(3, true, Accel::Kvm)
    );
    assert!(error_of("bench --vs windows").starts_with("invalid value 'windows' for '--vs"));
    assert!(error_of("bench --vs linux --hosted").contains("cannot be used with '--hosted'"));
    let disk = parse_words("bench --vs linux --disk --quick");
    assert!(matches!(disk, Ok(Verb::BenchVersusLinux(options)) if options.disk && options.quick));
    assert!(error_of("bench --vs linux --disk --kv").contains("cannot be used with"));
    let profiled = parse_words("bench --vs linux --profile");
    assert!(matches!(profiled, Ok(Verb::BenchVersusLinux(options)) if options.profile));
    assert!(matches!(
        parse_words("bench --profile"),
        Ok(Verb::BenchProfile)
    ));
    assert!(error_of("bench --profile --scaling").contains("cannot be used with"));
    for needs_linux in ["bench --quick", "bench --accel kvm"] {
        let error = error_of(needs_linux);
        let expected = "the following required arguments were not provided: --vs <BASELINE>";
        assert_eq!(error, expected);
    }
}

/// Each mistake is one line that names the offending word.
#[test]
fn mistakes_are_named() {
    let cases = [
        ("boot", "unrecognized subcommand 'boot'"),
        (
            "bnech",
            "subcommand 'bnech'; tip: a similar subcommand exists: 'bench'",
        ),
        (
            "run --machine virt",
            "'virt' for '--machine <MACHINE>': expected q35, microvm, pc",
        ),
        ("run --accel", "a value is required for '--accel <ACCEL>'"),
        ("run --quick", "unexpected argument '--quick'"),
        ("build --machine q35", "unexpected argument '--machine'"),
        ("test --quick=yes", "unexpected value 'yes' for '--quick'"),
        ("bench --runs 0", "invalid value '0' for '--runs <RUNS>'"),
        ("build -- foo=bar", "unexpected argument 'foo=bar'"),
        ("run test=sleep", "unexpected argument 'test=sleep'"),
        ("run --mem 1500K", "whole number of MiB"),
        ("run --mem 0", "whole number of MiB"),
        (
            "run --net dgram:x:1",
            "invalid value 'dgram:x:1' for '--net'",
        ),
        (
            "run --app My_App",
            "invalid value 'My_App' for '--app <NAME>': `My_App`: an application's name starts with a lowercase letter",
        ),
        (
            "test --app a_b",
            "`a_b`: an application's name has only lowercase letters, digits and `-`",
        ),
        ("new 9lives", "invalid value '9lives' for '<NAME>'"),
        (
            "run --app demo --image selftest",
            "'--app <NAME>' cannot be used with '--image <IMAGE>'",
        ),
        ("test --app", "a value is required for '--app <NAME>'"),
        ("build --app demo", "unexpected argument '--app'"),
    ];
    for (line, expected) in cases {
        let error = error_of(line);
        assert!(error.contains(expected), "`{line}`: {error}");
        assert!(
            !error.contains('\n') && !error.starts_with("error"),
            "{error}"
        );
    }
}

#[test]
fn sizes_with_and_without_suffixes() {
    assert_eq!(parse_size("8M"), Ok(8 << 20));
    assert_eq!(parse_size("8m"), Ok(8 << 20));
    assert_eq!(parse_size("1G"), Ok(1 << 30));
    assert_eq!(parse_size("512"), Ok(512 << 20));
    assert_eq!(parse_size("64K"), Ok(64 << 10));
    assert_eq!(parse_size("2T"), Ok(2 << 40));
    for bad in [
        "",
        "M",
        "1.5G",
        "8MB",
        "-1M",
        "99999999999999999999T",
        "20000000T",
    ] {
        assert!(parse_size(bad).is_err(), "{bad}");
    }
}

#[test]
fn memory_must_be_whole_non_zero_mebibytes() {
    assert_eq!(memory_mib(16 << 20), Some(16));
    assert_eq!(memory_mib(0), None);
    assert_eq!(memory_mib(1536 << 10), None);
}

#[test]
fn fuzz_takes_a_positive_duration() {
    assert_eq!(parse_words("fuzz"), Ok(Verb::Fuzz { seconds: 60 }));
    assert_eq!(
        parse_words("fuzz --seconds 5"),
        Ok(Verb::Fuzz { seconds: 5 })
    );
    assert!(parse_words("fuzz --seconds 0").is_err());
    assert!(parse_words("fuzz --seconds soon").is_err());
}

/// `--kv` picks the kv appliance's comparison, with the same options.
#[test]
fn bench_versus_linux_kv() {
    let kv = parse_words("bench --vs linux --kv --runs 3");
    assert!(matches!(kv, Ok(Verb::BenchKvVersusLinux(options)) if options.runs == 3));
    let quick = parse_words("bench --vs linux --kv --quick");
    assert!(matches!(quick, Ok(Verb::BenchKvVersusLinux(options)) if options.runs == 1));
    let expected = "the following required arguments were not provided: --vs <BASELINE>";
    assert_eq!(error_of("bench --kv"), expected);
    assert!(error_of("bench --vs linux --kv --profile").contains("cannot be used with"));
}

#[test]
fn hijack_takes_a_server_and_a_command_after_the_dashes() {
    let verb = parse_words("hijack --server unix:/tmp/ak.sock -- curl -h http://10.0.0.1/");
    let expected = Verb::Hijack {
        server: "unix:/tmp/ak.sock".into(),
        command: vec!["curl".into(), "-h".into(), "http://10.0.0.1/".into()],
    };
    assert_eq!(verb, Ok(expected));
    assert!(error_of("hijack -- curl").contains("--server"));
    assert!(error_of("hijack --server unix:/tmp/ak.sock").contains("COMMAND"));
    assert!(error_of("hijack --server tcp:1 -- curl").contains("unix:PATH"));
}
