//! Unit tests of the serial-line parsers.

use super::*;

#[test]
fn boot_lines_name_the_loader_even_after_escape_sequences() {
    assert_eq!(boot_loader("anykernel: boot via PVH"), Some("PVH"));
    assert_eq!(
        boot_loader("\x1b[2J\x1b[0;0Hanykernel: boot via multiboot2"),
        Some("multiboot2")
    );
    assert_eq!(boot_loader("anykernel: boot via "), None);
    assert_eq!(boot_loader("anykernel: ready in 5 us"), None);
}

#[test]
fn ready_lines_give_microseconds() {
    assert_eq!(ready_micros("anykernel: ready in 812 us"), Some(812));
    assert_eq!(ready_micros("anykernel: ready in 812 ms"), None);
    assert_eq!(ready_micros("anykernel: ready in lots us"), None);
    assert_eq!(ready_micros("selftest threads: PASS"), None);
}

#[test]
fn slept_lines_give_milliseconds() {
    assert_eq!(slept_millis("selftest sleep: slept 1000 ms"), Some(1000));
    assert_eq!(slept_millis("selftest sleep: slept -3 ms"), None);
    assert_eq!(slept_millis("selftest sleep: PASS"), None);
}

#[test]
fn bench_lines_give_metric_value_and_unit() {
    let figure = bench_figure("bench context_switch_cycles 150 cycles").expect("valid line");
    assert_eq!(figure.metric, "context_switch_cycles");
    assert_eq!(figure.value, 150.0);
    assert_eq!(figure.unit, "cycles");
    assert_eq!(
        bench_figure("bench yield_ns 12.5 ns").map(|figure| figure.value),
        Some(12.5)
    );
    for bad in [
        "bench x 1",
        "bench x one ns",
        "bench x 1 ns extra",
        "benchx 1 ns",
        "bench x NaN ns",
    ] {
        assert_eq!(bench_figure(bad), None, "{bad}");
    }
}

#[test]
fn frames_with_symbols_offsets_and_without() {
    let frame_line = "  #0 0x0000000000101a2c app::selftest::panic::run+0x1c";
    assert_eq!(
        frame(frame_line),
        Some(Frame {
            index: 0,
            address: 0x101a2c,
            symbol: Some("app::selftest::panic::run".into()),
            offset: Some(0x1c),
        })
    );
    let spaced = frame("  #2 0x10 <T as core::fmt::Debug>::fmt+0x4").expect("valid frame");
    assert_eq!(
        spaced.symbol.as_deref(),
        Some("<T as core::fmt::Debug>::fmt")
    );
    let unknown = frame("  #3 0x2000 ?").expect("valid frame");
    assert_eq!((unknown.symbol, unknown.offset), (None, None));
    let bare = frame("  #4 0x2000").expect("valid frame");
    assert_eq!((bare.index, bare.address, bare.symbol), (4, 0x2000, None));
    assert_eq!(frame("  #x 0x2000 f+0x1"), None);
    assert_eq!(frame("RIP=0x1000 RSP=0x2000"), None);
}

#[test]
fn backtraces_are_the_frame_lines_after_the_marker() {
    let serial = "panic: boom at app/src/selftest/panic.rs:9:5\n\
                  #9 0xdead not-a-backtrace-yet+0x1\n\
                  backtrace:\n  #0 0x1010 a+0x1\n  #1 0x2020 b+0x2\n\
                  selftest panic: after\n  #7 0x3030 c+0x3\n";
    let frames = backtrace_frames(serial);
    let symbols: Vec<_> = frames
        .iter()
        .filter_map(|frame| frame.symbol.as_deref())
        .collect();
    assert_eq!(symbols, ["a", "b"]);
}

#[test]
fn pass_lines_name_the_case() {
    assert_eq!(pass_line("threads"), "selftest threads: PASS");
}

#[test]
fn panic_lines_give_message_and_location() {
    let report = panic_report("panic: selftest: deliberate: 42 at app/src/selftest/panic.rs:12:5");
    let report = report.expect("valid line");
    assert_eq!(report.message, "selftest: deliberate: 42");
    assert_eq!(
        (report.file.as_str(), report.line, report.column),
        ("app/src/selftest/panic.rs", 12, 5)
    );
    assert_eq!(panic_report("panic: no location"), None);
    assert_eq!(panic_report("panic: bad at file.rs:x:1"), None);
}

#[test]
fn exception_lines_give_name_vector_and_error_code() {
    let report = exception_report("exception: invalid opcode (vector 6, error code 0x0)");
    let expected = ExceptionReport {
        name: "invalid opcode".into(),
        vector: 6,
        error_code: 0,
    };
    assert_eq!(report, Some(expected));
    let page_fault = exception_report("exception: page fault (vector 14, error code 0x2)");
    assert_eq!(page_fault.map(|report| report.error_code), Some(2));
    assert_eq!(exception_report("exception: page fault (vector 14)"), None);
    assert_eq!(
        exception_report("exception: x (vector 300, error code 0x0)"),
        None
    );
}
