//! Fuzz target for the TCP engine: forged segments, lost segments, time
//! and socket calls against an engine holding a socket in every state.
//!
//! Forged segments start from a segment one of the engines really sent on
//! one of the connections (reversed when A sent it), then change its
//! flags, sequence and acknowledgment numbers (mostly by a little, so they
//! land near the windows), window, options and payload. Properties, after
//! every step: neither engine panics; both keep their invariants
//! (`Tcp::check_invariants`); everything either sends is a well-formed
//! segment within the MTU; once its timers ran, no engine has a deadline
//! in the past; and a run's heap stays bounded and is all given back.

mod states;
mod world;

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use bolero::{TypeGenerator, check};
use fuzz::{CountingAllocator, measure};
use tcp::header::{Flags, HEADER_LENGTH, HeaderFields, Segment};
use tcp::sequence::Sequence;
use tcp::{Shutdown, State};
use wire::Checksum;

use states::{CLOSED_PORT, PEER_PORT, Sockets, setup};
use world::{A, B, MILLISECOND, Sent, World, address};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// How far a run's heap may rise: two engines of at most 64 sockets with
/// 16 KiB buffers each, the templates and the queue, with room to spare.
const HEAP_BOUND: usize = 32 << 20;

/// How to change a template into a forged segment.
#[derive(Debug, TypeGenerator)]
struct Forge {
    /// Which template: an index into the newest first.
    template: u8,
    /// With `flags_knob` below 128 the template's flags are kept.
    flags_knob: u8,
    flags: u8,
    sequence: i32,
    acknowledgment: i32,
    /// With `window_knob` below 128 the template's window is kept.
    window_knob: u8,
    window: u16,
    /// Raw option bytes (at most 40); the template's with `keep_options`.
    options: Vec<u8>,
    keep_options: bool,
    payload: u16,
    /// 255: a wrong checksum.
    checksum_knob: u8,
}

/// One step, chosen by `action`.
#[derive(Debug, TypeGenerator)]
struct Step {
    action: u8,
    forge: Forge,
    milliseconds: u16,
    socket: u8,
    length: u16,
}

/// Mostly a small change, sometimes a large one.
fn shifted(value: u32, change: i32) -> u32 {
    let change = match change & 3 {
        0 => 0,
        1 => (change >> 2) % 64,
        2 => (change >> 2) % 70_000,
        _ => change,
    };
    value.wrapping_add_signed(change)
}

/// The forged segment: (source, destination, bytes) as if from B.
fn forge(template: &Sent, forge: &Forge) -> Option<(Ipv4Addr, Ipv4Addr, Vec<u8>)> {
    let segment = Segment::parse(&template.bytes).ok()?;
    let reversed = template.from == A;
    let (source, destination) = match reversed {
        true => (template.destination, template.source),
        false => (template.source, template.destination),
    };
    let (sequence, acknowledgment) = match reversed {
        true => (
            segment.acknowledgment.0,
            segment.sequence.0.wrapping_add(segment.sequence_length()),
        ),
        false => (segment.sequence.0, segment.acknowledgment.0),
    };
    let ports = (segment.source_port, segment.destination_port);
    let (source_port, destination_port) = if reversed { (ports.1, ports.0) } else { ports };
    let mut options = match forge.keep_options {
        true => {
            template.bytes[HEADER_LENGTH..template.bytes.len() - segment.payload.len()].to_vec()
        }
        false => forge.options.iter().copied().take(40).collect(),
    };
    options.resize(options.len().next_multiple_of(4), 0);
    let fields = HeaderFields {
        source_port,
        destination_port,
        sequence: Sequence(shifted(sequence, forge.sequence)),
        acknowledgment: Sequence(shifted(acknowledgment, forge.acknowledgment)),
        flags: if forge.flags_knob < 128 {
            segment.flags
        } else {
            Flags(forge.flags)
        },
        window: if forge.window_knob < 128 {
            segment.window
        } else {
            forge.window
        },
    };
    let payload = usize::from(forge.payload) % 1_400;
    let mut bytes = vec![0x33u8; HEADER_LENGTH + options.len() + payload];
    fields.write(&mut bytes, options.len());
    bytes[HEADER_LENGTH..HEADER_LENGTH + options.len()].copy_from_slice(&options);
    let length = u16::try_from(bytes.len()).expect("under 1,500 bytes");
    let mut sum = Checksum::new();
    sum.add_ipv4_pseudo_header(source, destination, 6, length)
        .add(&bytes);
    let checksum = sum.finish() ^ u16::from(forge.checksum_knob == 255);
    bytes[16..18].copy_from_slice(&checksum.to_be_bytes());
    Some((source, destination, bytes))
}

/// A socket call on one of A's sockets (errors are fine, panics are not).
fn call(world: &mut World, sockets: &Sockets, step: &Step) {
    let handle = sockets.states[usize::from(step.socket) % sockets.states.len()].1;
    let length = usize::from(step.length) % 20_000;
    world.with(A, |tcp, now, tx| match step.socket % 8 {
        0 => drop(tcp.send(now, handle, &vec![0x77; length], tx)),
        1 => drop(tcp.recv(now, handle, &mut vec![0; length], tx)),
        2 => drop(tcp.shutdown(now, handle, Shutdown::Write, tx)),
        3 => drop(tcp.shutdown(now, handle, Shutdown::Read, tx)),
        4 => tcp.close(now, handle, tx),
        5 => tcp.abort(now, handle, tx),
        6 => drop(tcp.accept(sockets.listener)),
        _ => {
            let port = if step.length.is_multiple_of(2) {
                PEER_PORT
            } else {
                CLOSED_PORT
            };
            let remote = SocketAddr::V4(SocketAddrV4::new(address(B), port));
            if let Ok(new) = tcp.open() {
                let _ = tcp.connect(now, new, remote, tx);
            }
        }
    });
}

fn step(world: &mut World, sockets: &Sockets, step: &Step) {
    match step.action {
        0..=119 => {
            let templates: Vec<&Sent> = world.sent.iter().flatten().collect();
            let Some(template) = templates
                .get(usize::from(step.forge.template) % templates.len().max(1))
                .map(|sent| (*sent).clone())
            else {
                return;
            };
            if let Some((source, destination, bytes)) = forge(&template, &step.forge) {
                world.deliver(A, source, destination, &bytes);
            }
        }
        120..=164 => world.pump(),
        165..=184 => world.drop_in_flight(),
        185..=224 => world.advance(world.now + u64::from(step.milliseconds) * MILLISECOND),
        225..=249 => call(world, sockets, step),
        _ => world.deliver(A, address(B), address(A), &step.forge.options),
    }
}

#[test]
fn segments_time_and_calls_never_break_the_engine() {
    check!().with_type::<Vec<Step>>().for_each(|steps| {
        let ((), usage) = measure(|| {
            let mut world = World::new();
            let sockets = setup(&mut world);
            for each in steps.iter().take(48) {
                step(&mut world, &sockets, each);
            }
            world.advance(world.now + 600 * world::SECOND);
        });
        assert!(usage.peak_bytes <= HEAP_BOUND, "{usage:?}");
        assert_eq!(usage.kept_bytes, 0, "a run kept heap memory: {usage:?}");
    });
}

#[test]
fn the_setup_holds_a_socket_in_every_state() {
    let mut world = World::new();
    let sockets = setup(&mut world);
    for (expected, handle) in &sockets.states {
        let status = world.engines[A].status(*handle).expect("a live socket");
        assert_eq!(status.state, *expected);
    }
    let covered: Vec<State> = sockets.states.iter().map(|(state, _)| *state).collect();
    assert_eq!(covered.len(), 11, "every RFC 9293 state: {covered:?}");
}
