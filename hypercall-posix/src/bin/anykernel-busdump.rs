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

const USAGE: &str = "usage: anykernel-busdump BUSFILE OUT.pcap [--follow] [--count N]";

/// How long `--follow` sleeps between checks when no frame wakes it.
const FOLLOW_POLL: Duration = Duration::from_millis(100);

/// The command line, parsed.
#[derive(Debug)]
struct Options {
    bus: PathBuf,
    output: PathBuf,
    follow: bool,
    count: Option<u64>,
}

fn parse_options(arguments: impl IntoIterator<Item = String>) -> Result<Options, String> {
    let mut positional = Vec::new();
    let (mut follow, mut count) = (false, None);
    let mut arguments = arguments.into_iter();
    while let Some(argument) = arguments.next() {
        match argument.as_str() {
            "--follow" => follow = true,
            "--count" => {
                let value = arguments.next().ok_or("--count needs a number")?;
                count = Some(
                    value
                        .parse()
                        .map_err(|_| format!("bad --count `{value}`"))?,
                );
            }
            option if option.starts_with("--") => return Err(format!("unknown option `{option}`")),
            _ => positional.push(PathBuf::from(argument)),
        }
    }
    let [bus, output] = <[PathBuf; 2]>::try_from(positional).map_err(|_| USAGE.to_owned())?;
    Ok(Options {
        bus,
        output,
        follow,
        count,
    })
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
    let options = match parse_options(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("anykernel-busdump: {message}\n{USAGE}");
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
