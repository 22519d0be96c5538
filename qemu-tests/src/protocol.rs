//! Parsers for the guest's serial lines (written by `app/src/report.rs`).
//!
//! All parsers look for their marker anywhere in a line: under GRUB the
//! first kernel line can follow terminal escape sequences on the same line.
//! A parser returns `None` for a line that is not its kind or is malformed.

/// The first line of every boot: `anykernel: boot via <PVH|multiboot2>`.
pub const BOOT_MARKER: &str = "anykernel: boot via ";
/// Readiness: `anykernel: ready in <N> us`.
pub const READY_MARKER: &str = "anykernel: ready in ";
/// Starts a backtrace after a panic or an exception.
pub const BACKTRACE_MARKER: &str = "backtrace:";

/// The loader named by a boot line (`PVH`, `multiboot2`).
pub fn boot_loader(line: &str) -> Option<&str> {
    let (_, rest) = line.split_once(BOOT_MARKER)?;
    let loader = rest.trim();
    (!loader.is_empty() && !loader.contains(' ')).then_some(loader)
}

/// The guest-measured microseconds from entry to readiness.
pub fn ready_micros(line: &str) -> Option<u64> {
    let (_, rest) = line.split_once(READY_MARKER)?;
    rest.trim().strip_suffix(" us")?.parse().ok()
}

/// The line a selftest case prints when it passes.
pub fn pass_line(case: &str) -> String {
    format!("selftest {case}: PASS")
}

/// The cumulative milliseconds of a `selftest sleep: slept <N> ms` line.
pub fn slept_millis(line: &str) -> Option<u64> {
    let (_, rest) = line.split_once("selftest sleep: slept ")?;
    rest.trim().strip_suffix(" ms")?.parse().ok()
}

/// One `bench <metric> <value> <unit>` figure.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchFigure {
    /// What was measured, e.g. `context_switch_cycles`.
    pub metric: String,
    /// The measured value.
    pub value: f64,
    /// The unit, e.g. `cycles`, `ns`.
    pub unit: String,
}

/// The figure on a `bench <metric> <value> <unit>` line.
pub fn bench_figure(line: &str) -> Option<BenchFigure> {
    let mut words = line.strip_prefix("bench ")?.split_whitespace();
    let (metric, value, unit) = (words.next()?, words.next()?, words.next()?);
    if words.next().is_some() {
        return None;
    }
    let value = value
        .parse::<f64>()
        .ok()
        .filter(|value| value.is_finite())?;
    Some(BenchFigure {
        metric: metric.into(),
        value,
        unit: unit.into(),
    })
}

/// The parts of a `panic: <message> at <file>:<line>:<col>` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PanicReport {
    /// The panic message.
    pub message: String,
    /// The source file of the panic.
    pub file: String,
    /// The source line.
    pub line: u32,
    /// The source column.
    pub column: u32,
}

/// The panic reported on a `panic: ...` line.
pub fn panic_report(line: &str) -> Option<PanicReport> {
    let (_, rest) = line.split_once("panic: ")?;
    let (message, location) = rest.rsplit_once(" at ")?;
    let mut parts = location.trim().rsplitn(3, ':');
    let (column, line, file) = (parts.next()?, parts.next()?, parts.next()?);
    Some(PanicReport {
        message: message.to_string(),
        file: file.to_string(),
        line: line.parse().ok()?,
        column: column.parse().ok()?,
    })
}

/// The parts of an `exception: <name> (vector <n>, error code 0x<e>)` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExceptionReport {
    /// The exception's name, e.g. `invalid opcode`.
    pub name: String,
    /// The interrupt vector, 0..=31 for CPU exceptions.
    pub vector: u8,
    /// The error code the CPU pushed (0 when it pushes none).
    pub error_code: u64,
}

/// The exception reported on an `exception: ...` line.
pub fn exception_report(line: &str) -> Option<ExceptionReport> {
    let (_, rest) = line.split_once("exception: ")?;
    let (name, details) = rest
        .trim_end()
        .strip_suffix(')')?
        .rsplit_once(" (vector ")?;
    let (vector, error_code) = details.split_once(", error code 0x")?;
    Some(ExceptionReport {
        name: name.to_string(),
        vector: vector.parse().ok()?,
        error_code: u64::from_str_radix(error_code, 16).ok()?,
    })
}

/// One backtrace frame: `  #<n> 0x<addr> <symbol>+0x<off>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The frame number, 0 innermost.
    pub index: u32,
    /// The return address.
    pub address: u64,
    /// The symbol the address falls in, when the guest could name it.
    pub symbol: Option<String>,
    /// The offset of `address` into `symbol`.
    pub offset: Option<u64>,
}

/// The frames of every backtrace in `serial` (lines after a `backtrace:` line).
pub fn backtrace_frames(serial: &str) -> Vec<Frame> {
    let mut frames = Vec::new();
    let mut in_backtrace = false;
    for line in serial.lines() {
        if line.trim() == BACKTRACE_MARKER {
            in_backtrace = true;
        } else if in_backtrace {
            match frame(line) {
                Some(parsed) => frames.push(parsed),
                None => in_backtrace = false,
            }
        }
    }
    frames
}

/// The frame on one backtrace line.
pub fn frame(line: &str) -> Option<Frame> {
    let rest = line.trim().strip_prefix('#')?;
    let (index, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let rest = rest.trim_start();
    let (address, symbol_part) = rest.split_once(' ').unwrap_or((rest, ""));
    let address = u64::from_str_radix(address.strip_prefix("0x")?, 16).ok()?;
    let (symbol, offset) = symbol_and_offset(symbol_part.trim());
    Some(Frame {
        index: index.parse().ok()?,
        address,
        symbol,
        offset,
    })
}

fn symbol_and_offset(text: &str) -> (Option<String>, Option<u64>) {
    if text.is_empty() || text == "?" || text.starts_with("<unknown") {
        return (None, None);
    }
    match text.rsplit_once("+0x") {
        Some((symbol, offset)) => match u64::from_str_radix(offset, 16) {
            Ok(offset) => (Some(symbol.to_string()), Some(offset)),
            Err(_) => (Some(text.to_string()), None),
        },
        None => (Some(text.to_string()), None),
    }
}

#[cfg(test)]
mod tests;
