//! The DHCP message codec: BOOTP header, magic cookie and options.
//!
//! Layout (RFC 2131 §2, figure 1; byte offsets, fields big-endian):
//!
//! ```text
//!   0 op      1 htype   2 hlen    3 hops     4..8 xid
//!   8..10 secs          10..12 flags (bit 15: broadcast)
//!  12 ciaddr  16 yiaddr  20 siaddr  24 giaddr  28..44 chaddr
//!  44..108 sname        108..236 file        236..240 magic cookie
//! 240.. options: code, length, data; 0 is a lone pad byte, 255 the end
//! ```
//!
//! [`MessageView`] checks the header length, the cookie and every option
//! length once, when it is made; after that no accessor can fail or read
//! past the bytes. Option overload (52) is not honoured: options in `sname`
//! and `file` are not read. [`MessageWriter`] builds a message in a caller's
//! buffer and pads it to the 300-byte BOOTP minimum that old relays expect.

use crate::Error;
use core::net::Ipv4Addr;

/// `op` of a message from a client to a server.
pub const OP_REQUEST: u8 = 1;
/// `op` of a message from a server to a client.
pub const OP_REPLY: u8 = 2;
/// `htype` of Ethernet (ARP hardware type 1).
pub const HARDWARE_ETHERNET: u8 = 1;
/// `hlen` of an Ethernet address.
pub const HARDWARE_LENGTH: u8 = 6;
/// The `flags` bit that asks servers to answer by broadcast.
pub const FLAG_BROADCAST: u16 = 0x8000;
/// The four bytes that mark the start of DHCP options (RFC 2131 §3).
pub const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];
/// Offset of the magic cookie; everything before it is the BOOTP header.
pub const COOKIE_OFFSET: usize = 236;
/// Offset of the first option.
pub const OPTIONS_OFFSET: usize = 240;
/// Every encoded message is padded to at least this length (RFC 951).
pub const MINIMUM_LENGTH: usize = 300;

/// Option codes (RFC 2132) used by the client.
pub mod option {
    /// One byte of padding, no length.
    pub const PAD: u8 = 0;
    /// Subnet mask, 4 bytes.
    pub const SUBNET_MASK: u8 = 1;
    /// Routers, a list of addresses, most preferred first.
    pub const ROUTER: u8 = 3;
    /// Domain name servers, a list of addresses.
    pub const DNS: u8 = 6;
    /// The client's host name.
    pub const HOSTNAME: u8 = 12;
    /// The address a client asks for, 4 bytes.
    pub const REQUESTED_ADDRESS: u8 = 50;
    /// Lease time in seconds, 4 bytes; 0xffffffff is infinite.
    pub const LEASE_TIME: u8 = 51;
    /// Option overload (options continue in `sname`/`file`); ignored here.
    pub const OVERLOAD: u8 = 52;
    /// DHCP message type, 1 byte (see [`super::MessageType`]).
    pub const MESSAGE_TYPE: u8 = 53;
    /// The server identifier, 4 bytes.
    pub const SERVER_IDENTIFIER: u8 = 54;
    /// Parameter request list, one option code per byte.
    pub const PARAMETER_REQUEST_LIST: u8 = 55;
    /// Renewal time T1 in seconds, 4 bytes.
    pub const RENEWAL_TIME: u8 = 58;
    /// Rebinding time T2 in seconds, 4 bytes.
    pub const REBINDING_TIME: u8 = 59;
    /// Client identifier: a type byte (1: Ethernet) and the address.
    pub const CLIENT_IDENTIFIER: u8 = 61;
    /// End of options, no length.
    pub const END: u8 = 255;
}

/// The value of option 53 (RFC 2132 §9.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum MessageType {
    /// Client broadcast to locate servers.
    Discover = 1,
    /// Server offer of an address.
    Offer = 2,
    /// Client request for offered parameters, or renewal.
    Request = 3,
    /// Client says the address is already in use.
    Decline = 4,
    /// Server commits the lease.
    Ack = 5,
    /// Server refuses the request.
    Nak = 6,
    /// Client gives the address back.
    Release = 7,
    /// Client asks for parameters only.
    Inform = 8,
}

impl MessageType {
    /// The message type with this option-53 value, if it is one.
    pub fn from_byte(byte: u8) -> Option<Self> {
        const ALL: [MessageType; 8] = [
            MessageType::Discover,
            MessageType::Offer,
            MessageType::Request,
            MessageType::Decline,
            MessageType::Ack,
            MessageType::Nak,
            MessageType::Release,
            MessageType::Inform,
        ];
        ALL.into_iter().find(|kind| *kind as u8 == byte)
    }
}

/// The fixed BOOTP header fields the client reads or writes.
///
/// `sname` and `file` are always written as zeros and never read;
/// `hops` is written as zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// [`OP_REQUEST`] or [`OP_REPLY`].
    pub op: u8,
    /// Hardware type; [`HARDWARE_ETHERNET`] for us.
    pub hardware_type: u8,
    /// Hardware address length; [`HARDWARE_LENGTH`] for us.
    pub hardware_length: u8,
    /// Transaction id chosen by the client, echoed by the server.
    pub xid: u32,
    /// Seconds since the client began this exchange.
    pub secs: u16,
    /// Flags; only [`FLAG_BROADCAST`] is defined.
    pub flags: u16,
    /// `ciaddr`: the client's address when it already has one.
    pub client_address: Ipv4Addr,
    /// `yiaddr`: the address the server offers or assigns.
    pub your_address: Ipv4Addr,
    /// `siaddr`: the next server (boot), not the DHCP server identifier.
    pub server_address: Ipv4Addr,
    /// `giaddr`: the relay agent, zero without one.
    pub relay_address: Ipv4Addr,
    /// The first six bytes of `chaddr`: the Ethernet address.
    pub hardware_address: [u8; 6],
}

impl Header {
    /// An Ethernet header with `op`, `xid` and `chaddr`, every other field 0.
    pub fn new(op: u8, xid: u32, hardware_address: [u8; 6]) -> Self {
        Self {
            op,
            hardware_type: HARDWARE_ETHERNET,
            hardware_length: HARDWARE_LENGTH,
            xid,
            secs: 0,
            flags: 0,
            client_address: Ipv4Addr::UNSPECIFIED,
            your_address: Ipv4Addr::UNSPECIFIED,
            server_address: Ipv4Addr::UNSPECIFIED,
            relay_address: Ipv4Addr::UNSPECIFIED,
            hardware_address,
        }
    }
}

/// A checked, read-only view of a received DHCP message.
#[derive(Clone, Copy, Debug)]
pub struct MessageView<'a> {
    bytes: &'a [u8],
    message_type: MessageType,
}

impl<'a> MessageView<'a> {
    /// Checks the header, the cookie, every option length and option 53.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, Error> {
        let cookie = bytes
            .get(COOKIE_OFFSET..OPTIONS_OFFSET)
            .ok_or(Error::Truncated)?;
        if cookie != MAGIC_COOKIE {
            return Err(Error::BadCookie);
        }
        let options = bytes.get(OPTIONS_OFFSET..).unwrap_or_default();
        let mut rest = options;
        while let Some((_, _, tail)) = split_option(rest)? {
            rest = tail;
        }
        let mut all = Options { rest: options };
        let kind = all.find(|(code, _)| *code == option::MESSAGE_TYPE);
        let message_type = match kind {
            Some((_, [byte])) => MessageType::from_byte(*byte),
            _ => None,
        };
        let message_type = message_type.ok_or(Error::BadMessageType)?;
        Ok(Self {
            bytes,
            message_type,
        })
    }

    /// The fixed header fields.
    pub fn header(&self) -> Header {
        Header {
            op: self.byte(0),
            hardware_type: self.byte(1),
            hardware_length: self.byte(2),
            xid: u32::from_be_bytes(self.array(4)),
            secs: u16::from_be_bytes(self.array(8)),
            flags: u16::from_be_bytes(self.array(10)),
            client_address: Ipv4Addr::from(self.array::<4>(12)),
            your_address: Ipv4Addr::from(self.array::<4>(16)),
            server_address: Ipv4Addr::from(self.array::<4>(20)),
            relay_address: Ipv4Addr::from(self.array::<4>(24)),
            hardware_address: self.array(28),
        }
    }

    /// The value of option 53.
    pub fn message_type(&self) -> MessageType {
        self.message_type
    }

    /// Every option in order, pads and the end marker left out.
    pub fn options(&self) -> Options<'a> {
        Options {
            rest: self.bytes.get(OPTIONS_OFFSET..).unwrap_or_default(),
        }
    }

    /// The data of the first option with this code.
    pub fn option(&self, code: u8) -> Option<&'a [u8]> {
        self.options()
            .find(|(found, _)| *found == code)
            .map(|(_, data)| data)
    }

    /// The first address of an address or address-list option.
    pub fn address_option(&self, code: u8) -> Option<Ipv4Addr> {
        self.addresses(code).next()
    }

    /// Every whole 4-byte address in an option; a ragged tail is dropped.
    pub fn addresses(&self, code: u8) -> impl Iterator<Item = Ipv4Addr> + 'a {
        let data = self.option(code).unwrap_or_default();
        data.chunks_exact(4)
            .filter_map(|chunk| <[u8; 4]>::try_from(chunk).ok())
            .map(Ipv4Addr::from)
    }

    /// A 4-byte big-endian number option; any other length reads as absent.
    pub fn u32_option(&self, code: u8) -> Option<u32> {
        let data: [u8; 4] = self.option(code)?.try_into().ok()?;
        Some(u32::from_be_bytes(data))
    }

    /// A header byte; `parse` guaranteed the header is all there.
    fn byte(&self, offset: usize) -> u8 {
        self.array::<1>(offset)[0]
    }

    /// `N` header bytes at `offset`; `parse` guaranteed they are there.
    fn array<const N: usize>(&self, offset: usize) -> [u8; N] {
        let mut out = [0; N];
        if let Some(source) = self.bytes.get(offset..offset + N) {
            out.copy_from_slice(source);
        }
        out
    }
}

/// Iterator over `(code, data)` of a message's options.
#[derive(Clone, Debug)]
pub struct Options<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Options<'a> {
    type Item = (u8, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let (code, data, tail) = split_option(self.rest).ok()??;
        self.rest = tail;
        Some((code, data))
    }
}

/// One option split off the front: (code, data, the bytes after it).
type Split<'a> = (u8, &'a [u8], &'a [u8]);

/// The next option of `rest`, pads skipped; `None` at the end marker or
/// the end of the bytes.
fn split_option(mut rest: &[u8]) -> Result<Option<Split<'_>>, Error> {
    while let Some((&code, tail)) = rest.split_first() {
        match code {
            option::PAD => rest = tail,
            option::END => return Ok(None),
            _ => {
                let (&length, tail) = tail.split_first().ok_or(Error::BadOptionLength)?;
                let length = usize::from(length);
                let data = tail.get(..length).ok_or(Error::BadOptionLength)?;
                let after = tail.get(length..).unwrap_or_default();
                return Ok(Some((code, data, after)));
            }
        }
    }
    Ok(None)
}

mod writer;
pub use writer::MessageWriter;

#[cfg(test)]
pub(crate) mod tests;
