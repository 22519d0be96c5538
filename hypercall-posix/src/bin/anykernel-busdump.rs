//! anykernel-busdump: the frames on a shared-memory bus as a pcap file.
//!
//! `anykernel-busdump BUSFILE OUT.pcap [--follow] [--count N]` writes every
//! frame still in the bus's ring, oldest first, as classic pcap
//! (LINKTYPE_ETHERNET, the senders' timestamps to the microsecond), then
//! with `--follow` appends new frames as they are sent until killed.
//! `--count N` stops after N frames in all. `OUT` may be `-` for standard
//! output: `anykernel-busdump bus - | tcpdump -r -`. Like shmif_dumpbus it
//! never locks the bus, and timestamps from several senders need not be
//! monotonic. Exit status 2 for usage errors, 1 for a bus or output error.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use hypercall_posix::nic::BusReader;
use hypercall_posix::nic::pcap::PcapWriter;

/// The synopsis, in clap's help and after every usage error.
const USAGE: &str = "anykernel-busdump BUSFILE OUT.pcap [--follow] [--count N]";

/// How long `--follow` sleeps between checks when no frame wakes it.
const FOLLOW_POLL: Duration = Duration::from_millis(100);

/// The frames on a shared-memory bus as a pcap file.
#[derive(clap::Parser, Debug)]
#[command(name = "anykernel-busdump", override_usage = USAGE)]
struct Options {
    /// The shared-memory bus file.
    #[arg(value_name = "BUSFILE")]
    bus: PathBuf,
    /// The pcap file to write; `-` for standard output.
    #[arg(value_name = "OUT.pcap")]
    output: PathBuf,
    /// Keep appending frames as they are sent, until killed.
    #[arg(long)]
    follow: bool,
    /// Stop after this many frames in all.
    #[arg(long, value_name = "N")]
    count: Option<u64>,
}

/// clap's report of a usage error on one line: its paragraphs (the error,
/// then any tip) without the `error: ` prefix, the usage and the hint.
fn one_line(error: &clap::Error) -> String {
    let text = error.to_string();
    let paragraphs: Vec<String> = text
        .split("\n\n")
        .filter(|part| !part.is_empty() && !part.starts_with("Usage:"))
        .filter(|part| !part.starts_with("For more information"))
        .map(|part| part.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    paragraphs
        .join("; ")
        .trim_start_matches("error: ")
        .to_owned()
}

fn open_output(path: &PathBuf) -> io::Result<Box<dyn Write>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(io::stdout().lock()));
    }
    Ok(Box::new(BufWriter::new(File::create(path)?)))
}

/// Copies frames until the ring is drained (and, following, forever or
/// until `count`); returns how many were written.
fn dump(
    options: &Options,
    reader: &mut BusReader,
    pcap: &mut PcapWriter<Box<dyn Write>>,
) -> io::Result<u64> {
    let mut written = 0u64;
    let done = |written: u64| options.count.is_some_and(|count| written >= count);
    loop {
        while !done(written) {
            let Some(frame) = reader.next_frame() else {
                break;
            };
            pcap.write_frame(frame.timestamp_ns, &frame.bytes)?;
            written += 1;
        }
        pcap.flush()?;
        if !options.follow || done(written) {
            return Ok(written);
        }
        reader.wait(FOLLOW_POLL);
    }
}

fn run(options: &Options) -> Result<(), String> {
    let mut reader = BusReader::open(&options.bus).map_err(|failure| failure.reason)?;
    let output_error = |error: io::Error| format!("{}: {error}", options.output.display());
    let output = open_output(&options.output).map_err(output_error)?;
    let mut pcap = PcapWriter::new(output).map_err(output_error)?;
    dump(options, &mut reader, &mut pcap).map_err(output_error)?;
    if reader.lapped() > 0 {
        eprintln!(
            "anykernel-busdump: {} frames were overwritten before they were read",
            reader.lapped()
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    let options = match <Options as clap::Parser>::try_parse() {
        Ok(options) => options,
        Err(error) if !error.use_stderr() => error.exit(),
        Err(error) => {
            eprintln!("anykernel-busdump: {}\nusage: {USAGE}", one_line(&error));
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("anykernel-busdump: {message}");
            ExitCode::FAILURE
        }
    }
}
