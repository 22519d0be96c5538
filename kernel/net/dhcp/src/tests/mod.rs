//! Client tests against a scripted fake DHCP server, and their harness.
//!
//! [`FakeServer`] answers a client message with an OFFER, ACK or NAK built
//! with the crate's own writer (the codec itself is checked byte by byte
//! and against a real dnsmasq OFFER in `message::tests`). [`Harness`] owns
//! the client and a fake clock; tests move the clock explicitly.

mod acquire;
mod lease_timers;
mod malformed;

use crate::message::{self, Header, MessageType, MessageView, MessageWriter, option};
use crate::random::SECOND_NS;
use crate::{ClientConfig, DhcpClient, Event, Lease, Outgoing};
use core::net::Ipv4Addr;
use std::vec::Vec;

/// The client's MAC in every test.
pub const MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
/// Where the fake clock starts: not zero, so that absolute times show.
pub const START_NS: u64 = 1_000 * SECOND_NS;

/// A client configuration with a host name and a fixed seed.
pub fn config(seed: u64) -> ClientConfig {
    ClientConfig {
        mac: MAC,
        hostname: Some("anykernel"),
        random_seed: seed,
    }
}

/// What the fake server hands out.
#[derive(Clone, Copy, Debug)]
pub struct FakeServer {
    pub identifier: Ipv4Addr,
    pub address: Ipv4Addr,
    pub lease_seconds: u32,
    pub renewal_seconds: Option<u32>,
    pub rebinding_seconds: Option<u32>,
}

impl FakeServer {
    /// 10.0.2.15/24 from 10.0.2.2 for an hour, router .2, DNS .3 and 1.1.1.1.
    pub fn new() -> Self {
        Self {
            identifier: Ipv4Addr::new(10, 0, 2, 2),
            address: Ipv4Addr::new(10, 0, 2, 15),
            lease_seconds: 3_600,
            renewal_seconds: None,
            rebinding_seconds: None,
        }
    }

    /// An OFFER answering `request` (same xid, chaddr, flags).
    pub fn offer(&self, request: &[u8]) -> Vec<u8> {
        self.reply(request, MessageType::Offer)
    }

    /// An ACK answering `request`.
    pub fn ack(&self, request: &[u8]) -> Vec<u8> {
        self.reply(request, MessageType::Ack)
    }

    /// A NAK answering `request`: no address, no configuration (§4.3.2).
    pub fn nak(&self, request: &[u8]) -> Vec<u8> {
        let asked = MessageView::parse(request).expect("the client sent a valid message");
        let header = reply_header(&asked.header(), Ipv4Addr::UNSPECIFIED);
        let mut buffer = [0; 576];
        let mut writer = MessageWriter::new(&mut buffer, &header, MessageType::Nak).unwrap();
        writer
            .address_option(option::SERVER_IDENTIFIER, self.identifier)
            .unwrap();
        let length = writer.finish().unwrap();
        buffer[..length].to_vec()
    }

    /// An OFFER or ACK with the full configuration.
    fn reply(&self, request: &[u8], kind: MessageType) -> Vec<u8> {
        let asked = MessageView::parse(request).expect("the client sent a valid message");
        let header = reply_header(&asked.header(), self.address);
        let mut buffer = [0; 576];
        let mut writer = MessageWriter::new(&mut buffer, &header, kind).unwrap();
        writer
            .address_option(option::SERVER_IDENTIFIER, self.identifier)
            .unwrap();
        writer
            .u32_option(option::LEASE_TIME, self.lease_seconds)
            .unwrap();
        if let Some(seconds) = self.renewal_seconds {
            writer.u32_option(option::RENEWAL_TIME, seconds).unwrap();
        }
        if let Some(seconds) = self.rebinding_seconds {
            writer.u32_option(option::REBINDING_TIME, seconds).unwrap();
        }
        writer
            .option(option::SUBNET_MASK, &[255, 255, 255, 0])
            .unwrap();
        writer.option(option::ROUTER, &[10, 0, 2, 2]).unwrap();
        writer
            .option(option::DNS, &[10, 0, 2, 3, 1, 1, 1, 1, 8, 8, 8, 8])
            .unwrap();
        let length = writer.finish().unwrap();
        buffer[..length].to_vec()
    }
}

/// The reply header to a client message: same xid, flags, ciaddr, chaddr.
fn reply_header(asked: &Header, your_address: Ipv4Addr) -> Header {
    Header {
        op: message::OP_REPLY,
        your_address,
        secs: 0,
        ..*asked
    }
}

/// A client, a fake clock and a transmit buffer.
pub struct Harness {
    pub client: DhcpClient,
    pub now: u64,
    buffer: [u8; 576],
}

impl Harness {
    /// A new client (seed fixed per test) at [`START_NS`].
    pub fn new(seed: u64) -> Self {
        Self {
            client: DhcpClient::new(config(seed), START_NS),
            now: START_NS,
            buffer: [0; 576],
        }
    }

    /// What the client sends now, with a copy of the bytes.
    pub fn transmit(&mut self) -> Option<(Outgoing, Vec<u8>)> {
        let outgoing = self.client.poll_transmit(self.now, &mut self.buffer)?;
        Some((outgoing, self.buffer[..outgoing.length].to_vec()))
    }

    /// Like [`Self::transmit`], for when a message must be due.
    pub fn expect_transmit(&mut self) -> (Outgoing, Vec<u8>) {
        self.transmit().expect("a message is due")
    }

    /// Hands `payload` to the client at the current time.
    pub fn deliver(&mut self, payload: &[u8]) -> Option<Event> {
        self.client.receive(self.now, payload)
    }

    /// Moves the clock to `time` and fires the timer.
    pub fn advance_to(&mut self, time: u64) -> Option<Event> {
        self.now = time;
        self.client.on_timer(time)
    }

    /// Moves the clock to the client's next deadline and fires the timer.
    pub fn advance_to_deadline(&mut self) -> Option<Event> {
        let deadline = self.client.next_deadline().expect("a deadline is armed");
        self.advance_to(deadline)
    }

    /// A complete DORA with `server`; the bound lease and the time the
    /// REQUEST was sent.
    pub fn acquire(&mut self, server: &FakeServer) -> (Lease, u64) {
        let (_, discover) = self.expect_transmit();
        assert_eq!(self.deliver(&server.offer(&discover)), None);
        let (_, request) = self.expect_transmit();
        let requested_at = self.now;
        match self.deliver(&server.ack(&request)) {
            Some(Event::Bound(lease)) => (lease, requested_at),
            other => panic!("expected Bound, got {other:?}"),
        }
    }
}

/// Parses a message the client sent; tests only hand it valid bytes.
pub fn parse(bytes: &[u8]) -> MessageView<'_> {
    MessageView::parse(bytes).expect("the client sent a valid message")
}
