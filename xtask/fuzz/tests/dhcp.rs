//! Fuzz targets for DHCP: the message codec, and the client driven by a
//! server whose replies the fuzzer writes.
//!
//! Properties: parsing never panics or allocates, and a parsed message
//! written again with the crate's writer parses to the same header, type
//! and options. The client never panics or allocates, whatever arrives and
//! whenever; everything it sends is a well-formed request from its own
//! address; it holds a lease exactly in BOUND, RENEWING and REBINDING, every
//! lease keeps T1 <= T2 <= expiry, and after its timers ran it is never
//! left with a deadline in the past (the glue would spin).

use std::net::Ipv4Addr;

use bolero::{TypeGenerator, check};
use dhcp::message::{
    Header, MessageType, MessageView, MessageWriter, OP_REPLY, OP_REQUEST, option,
};
use dhcp::{ClientConfig, DhcpClient, Event, MINIMUM_BUFFER, State};
use fuzz::{CountingAllocator, measure};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

const MAC: [u8; 6] = [0x52, 0x54, 0, 0x12, 0x34, 0x56];
const SECOND_NS: u64 = 1_000_000_000;

#[test]
fn messages_written_again_parse_the_same() {
    check!().for_each(|bytes: &[u8]| {
        let (parsed, usage) = measure(|| MessageView::parse(bytes));
        assert_eq!(usage.allocations, 0, "parsing allocated");
        let Ok(view) = parsed else { return };
        let kind = view.message_type();
        let mut rest: Vec<(u8, &[u8])> = view.options().collect();
        let first_type = rest
            .iter()
            .position(|(code, _)| *code == option::MESSAGE_TYPE);
        rest.remove(first_type.expect("parse found option 53"));
        let mut buffer = vec![0u8; bytes.len() + 512];
        let mut writer =
            MessageWriter::new(&mut buffer, &view.header(), kind).expect("the buffer fits");
        for (code, data) in &rest {
            writer.option(*code, data).expect("the buffer fits");
        }
        let length = writer.finish().expect("the buffer fits");
        let again = MessageView::parse(&buffer[..length]).expect("what we wrote parses");
        assert_eq!(again.header(), view.header());
        assert_eq!(again.message_type(), kind);
        let type_byte = [kind as u8];
        let mut expected = vec![(option::MESSAGE_TYPE, &type_byte[..])];
        expected.extend(rest);
        assert_eq!(again.options().collect::<Vec<_>>(), expected);
    });
}

/// A reply of the fuzzer's server to the client's last message. Random
/// bytes seldom make a reply the client takes, so most values of each
/// knob give the answer a server would send and a few give garbage.
#[derive(Debug, TypeGenerator)]
struct Reply {
    /// Below 200: the type the client awaits; else option 53 = `kind % 9`.
    kind: u8,
    /// `address[0]` below 200: 10.0.2.x; else the four bytes as they are.
    address: [u8; 4],
    /// Below 200: a lease of 1-600 s; below 230: `lease_seconds` s; below
    /// 250: no lease time; else infinite.
    lease_knob: u8,
    lease_seconds: u32,
    renewal_seconds: Option<u32>,
    rebinding_seconds: Option<u32>,
    mask: Option<[u8; 4]>,
    /// Any further options.
    extra: Vec<(u8, Vec<u8>)>,
    /// 255: answer with another xid; 254: from another server.
    stranger: u8,
    /// With a first byte of 0, flip byte `.1` with the mask `.2`.
    corrupt: (u8, u16, u8),
}

/// One thing that happens to the client, by `action`: mostly replies and
/// timers; rarely a release, which ends the client's work for good.
#[derive(Debug, TypeGenerator)]
struct Step {
    action: u8,
    reply: Reply,
    bytes: Vec<u8>,
    milliseconds: u32,
}

/// The client, its clock and what it sent last.
struct Run {
    client: DhcpClient,
    now: u64,
    last_sent: Option<Vec<u8>>,
    allocations: usize,
}

impl Run {
    /// Calls into the client, counting its allocations.
    fn call<R>(&mut self, call: impl FnOnce(&mut DhcpClient, u64) -> R) -> R {
        let now = self.now;
        let (result, usage) = measure(|| call(&mut self.client, now));
        self.allocations += usage.allocations;
        result
    }

    fn step(&mut self, step: &Step) {
        let event = match step.action {
            0..=111 => {
                let Some(payload) = self.reply(&step.reply) else {
                    return;
                };
                self.call(|client, now| client.receive(now, &payload))
            }
            112..=207 => self.timer(),
            208..=239 => {
                self.now += u64::from(step.milliseconds) * 1_000_000;
                None
            }
            240..=254 => self.call(|client, now| client.receive(now, &step.bytes)),
            255 => {
                let mut buffer = [0u8; MINIMUM_BUFFER];
                let sent = self.call(|client, _| client.release(&mut buffer));
                if let Some(outgoing) = sent {
                    self.check_sent(&buffer[..outgoing.length], MessageType::Release);
                }
                None
            }
        };
        self.check_event(event);
        self.drain();
        self.check_state();
    }

    /// Moves the clock to the next deadline and runs the timer there.
    fn timer(&mut self) -> Option<Event> {
        let deadline = self.call(|client, _| client.next_deadline())?;
        self.now = self.now.max(deadline.min(self.now + 1_000_000 * SECOND_NS));
        let event = self.call(|client, now| client.on_timer(now));
        self.check_event(event);
        self.drain();
        let next = self.call(|client, _| client.next_deadline());
        assert!(
            next.is_none_or(|next| next > self.now),
            "a deadline in the past after the timer ran: {next:?} at {}",
            self.now
        );
        None
    }

    /// Sends whatever is due, checking each message.
    fn drain(&mut self) {
        for _ in 0..8 {
            let mut buffer = [0u8; MINIMUM_BUFFER];
            let Some(outgoing) = self.call(|client, now| client.poll_transmit(now, &mut buffer))
            else {
                return;
            };
            let bytes = &buffer[..outgoing.length];
            let kind = MessageView::parse(bytes).map(|view| view.message_type());
            assert!(
                matches!(kind, Ok(MessageType::Discover | MessageType::Request)),
                "{kind:?}"
            );
            self.check_sent(bytes, kind.expect("checked above"));
            let leased = self.client.lease().map(|lease| lease.address);
            let from = leased.unwrap_or(Ipv4Addr::UNSPECIFIED);
            assert!(outgoing.source == from || outgoing.source.is_unspecified());
            self.last_sent = Some(bytes.to_vec());
        }
        panic!("the client sent eight messages at one instant");
    }

    fn check_sent(&self, bytes: &[u8], kind: MessageType) {
        let view = MessageView::parse(bytes).expect("the client sends well-formed messages");
        assert_eq!(view.message_type(), kind);
        let header = view.header();
        assert_eq!((header.op, header.hardware_address), (OP_REQUEST, MAC));
    }

    fn check_event(&self, event: Option<Event>) {
        match event {
            Some(Event::Bound(lease) | Event::Renewed(lease)) => {
                assert_eq!(self.client.lease(), Some(&lease));
            }
            Some(Event::Lost) => assert_eq!(self.client.lease(), None),
            None => {}
        }
    }

    fn check_state(&self) {
        let leased = matches!(
            self.client.state(),
            State::Bound | State::Renewing | State::Rebinding
        );
        assert_eq!(
            self.client.lease().is_some(),
            leased,
            "{:?}",
            self.client.state()
        );
        if let Some(lease) = self.client.lease() {
            assert!(lease.renew_at_ns <= lease.rebind_at_ns, "{lease:?}");
            assert!(lease.rebind_at_ns <= lease.expires_at_ns, "{lease:?}");
        }
    }

    /// The server's reply to the last message sent, if there was one.
    fn reply(&self, reply: &Reply) -> Option<Vec<u8>> {
        let asked = MessageView::parse(self.last_sent.as_deref()?)
            .ok()?
            .header();
        let address = match reply.address {
            [0..200, _, _, last] => Ipv4Addr::new(10, 0, 2, last | 1),
            raw => Ipv4Addr::from(raw),
        };
        let header = Header {
            op: OP_REPLY,
            your_address: address,
            xid: asked.xid ^ u32::from(reply.stranger == 255),
            secs: 0,
            ..asked
        };
        let mut buffer = vec![0u8; 2048];
        let kind = self.reply_type(reply.kind);
        let mut writer = MessageWriter::new(&mut buffer, &header, kind).ok()?;
        write_options(&mut writer, reply)?;
        let length = writer.finish().ok()?;
        buffer.truncate(length);
        if let (0, index, mask) = reply.corrupt {
            buffer[usize::from(index) % length] ^= mask;
        }
        Some(buffer)
    }

    /// Mostly the type the client awaits in its state.
    fn reply_type(&self, knob: u8) -> MessageType {
        let awaited = match self.client.state() {
            State::Init | State::Selecting => MessageType::Offer,
            _ => MessageType::Ack,
        };
        match knob {
            0..200 => awaited,
            other => MessageType::from_byte(other % 9).unwrap_or(awaited),
        }
    }
}

/// The options of the fuzzer's reply: server, times, mask and extras.
fn write_options(writer: &mut MessageWriter<'_>, reply: &Reply) -> Option<()> {
    let server = Ipv4Addr::new(10, 0, 2, 2 + u8::from(reply.stranger == 254));
    writer
        .address_option(option::SERVER_IDENTIFIER, server)
        .ok()?;
    let lease_seconds = match reply.lease_knob {
        0..200 => Some(1 + reply.lease_seconds % 600),
        200..230 => Some(reply.lease_seconds),
        230..250 => None,
        _ => Some(u32::MAX),
    };
    let times = [
        (option::LEASE_TIME, lease_seconds),
        (option::RENEWAL_TIME, reply.renewal_seconds),
        (option::REBINDING_TIME, reply.rebinding_seconds),
    ];
    for (code, seconds) in times {
        if let Some(seconds) = seconds {
            writer.u32_option(code, seconds).ok()?;
        }
    }
    if let Some(mask) = reply.mask {
        writer.option(option::SUBNET_MASK, &mask).ok()?;
    }
    for (code, data) in reply.extra.iter().take(8) {
        let _ = writer.option(*code, &data[..data.len().min(255)]);
    }
    Some(())
}

#[test]
fn the_client_survives_any_server_and_any_timing() {
    check!()
        .with_type::<(u64, Vec<Step>)>()
        .for_each(|(seed, steps)| {
            let config = ClientConfig {
                mac: MAC,
                hostname: Some("fuzz"),
                random_seed: *seed,
            };
            let start = 1_000 * SECOND_NS;
            let mut run = Run {
                client: DhcpClient::new(config, start),
                now: start,
                last_sent: None,
                allocations: 0,
            };
            run.drain();
            for step in steps.iter().take(64) {
                run.step(step);
            }
            assert_eq!(run.allocations, 0, "the client allocated");
        });
}
