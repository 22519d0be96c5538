//! SYN cookies (RFC 4987 3.6): the SYN-ACK's ISN is a keyed hash, so a
//! listener whose SYN queue is full answers a SYN without keeping state
//! and rebuilds the connection from the ACK that returns the cookie.
//!
//! A cookie is 32 bits: the parity of a 64-second time slot (bit 31), a
//! MAC, and what the SYN offered that the connection needs later. The
//! MAC is SipHash-2-4 under a key derived from the ISN secret, over the
//! 4-tuple, the peer's ISN, the whole slot number, the layout and the
//! data bits; a cookie is valid in its own slot and the next, so it
//! expires after 64 to 128 seconds. Two layouts, as Linux does:
//!
//! | peer sent timestamps | ISN (bit 31 .. 0) | TSval low 6 bits |
//! | --- | --- | --- |
//! | yes | parity, MAC 29, MSS 2 | ECN 1, SACK 1, window scale 4 |
//! | no | parity, MAC 24, SACK 1, window scale 4, MSS 2 | (none) |
//!
//! The MSS is the largest of four common values at or below the peer's
//! (one table per family, as Linux has them); a
//! window scale of 15 means none offered. With timestamps the options
//! come back in the ACK's TSecr, outside the MAC (an attacker who cannot
//! forge the MAC gains nothing by changing them); without, ECN is not
//! remembered.

use crate::context::Message;
use crate::options::MAXIMUM_WINDOW_SCALE;
use crate::sequence::Sequence;
use crate::siphash::siphash_2_4;
use crate::table::Endpoints;

/// The MSS values a cookie can say over IPv4 (Linux's table).
pub const SEGMENT_SIZES: [u16; 4] = [536, 1300, 1440, 1460];

/// The same over IPv6: the minimum MTU, tunnels, Ethernet and jumbo
/// frames, each less 60 bytes of headers (Linux's table).
pub const SEGMENT_SIZES_6: [u16; 4] = [1220, 1420, 1440, 8940];

/// A cookie's time slot: 64 s.
const SLOT_NS: u64 = 64_000_000_000;

/// "No window scale" in the 4-bit field.
const NO_WINDOW_SCALE: u8 = 0xf;

/// The TSval bits carrying options.
const TIMESTAMP_BITS: u32 = 0x3f;

/// What a cookie remembers of the SYN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Offer {
    /// The peer's MSS, rounded down to [`SEGMENT_SIZES`].
    pub segment_size: u16,
    /// The peer's window shift, if it offered scaling.
    pub window_scale: Option<u8>,
    /// SACK-permitted.
    pub sack: bool,
    /// ECN-setup (remembered with timestamps only).
    pub ecn: bool,
}

/// The connection a cookie is for: the 4-tuple and the peer's ISN.
#[derive(Clone, Copy, Debug)]
pub struct Origin {
    /// The 4-tuple (local first).
    pub endpoints: Endpoints,
    /// The peer's ISN (from the SYN; the ACK's SEG.SEQ - 1).
    pub peer_initial: Sequence,
}

impl Origin {
    /// The MSS table of the connection's family.
    fn segment_sizes(&self) -> &'static [u16; 4] {
        match self.endpoints {
            Endpoints::V4(_) => &SEGMENT_SIZES,
            Endpoints::V6(_) => &SEGMENT_SIZES_6,
        }
    }
}

impl Offer {
    fn size_index(&self, sizes: &[u16; 4]) -> u32 {
        let below = sizes.iter().rposition(|&size| size <= self.segment_size);
        below.unwrap_or(0) as u32
    }

    /// Window scale, SACK and ECN in six bits (the TSval's low bits).
    fn option_bits(&self) -> u32 {
        let scale = self.window_scale.unwrap_or(NO_WINDOW_SCALE);
        u32::from(scale) | u32::from(self.sack) << 4 | u32::from(self.ecn) << 5
    }

    fn from_option_bits(bits: u32, segment_size: u16) -> Option<Self> {
        let scale = (bits & 0xf) as u8;
        let window_scale = match scale {
            NO_WINDOW_SCALE => None,
            scale if scale <= MAXIMUM_WINDOW_SCALE => Some(scale),
            _ => return None,
        };
        Some(Self {
            segment_size,
            window_scale,
            sack: bits & 0x10 != 0,
            ecn: bits & 0x20 != 0,
        })
    }
}

/// The slot of `now`.
pub fn slot(now: u64) -> u64 {
    now / SLOT_NS
}

/// How long after a cookie was sent one may still come back.
pub const LIFETIME_NS: u64 = 2 * SLOT_NS;

/// Makes and checks cookies under one key.
#[derive(Clone, Copy)]
pub struct Cookies {
    key: [u8; 16],
}

impl core::fmt::Debug for Cookies {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        formatter.write_str("Cookies { .. }")
    }
}

impl Cookies {
    /// Cookies under a key derived from `secret` (the ISN key): a separate
    /// key, so a cookie tells nothing about the ISNs of other connections.
    pub fn new(secret: &[u8; 16]) -> Self {
        let low = siphash_2_4(secret, b"syn cookie key 0");
        let high = siphash_2_4(secret, b"syn cookie key 1");
        let mut key = [0u8; 16];
        key[..8].copy_from_slice(&low.to_le_bytes());
        key[8..].copy_from_slice(&high.to_le_bytes());
        Self { key }
    }

    fn mac(&self, origin: &Origin, slot: u64, timestamps: bool, data: u32) -> u32 {
        let (local, remote) = (origin.endpoints.local(), origin.endpoints.remote());
        let mut message = Message::default();
        message.address(local.ip()).address(remote.ip());
        message.port(local.port()).port(remote.port());
        message.push(&origin.peer_initial.0.to_be_bytes());
        message
            .push(&slot.to_be_bytes())
            .push(&[u8::from(timestamps)]);
        message.push(&data.to_be_bytes());
        siphash_2_4(&self.key, message.bytes()) as u32
    }

    /// The cookie (our ISN) for `offer` at `slot`; `timestamps` picks the
    /// layout (the options then go in the TSval, see [`stamp`]).
    pub fn make(&self, origin: &Origin, offer: &Offer, slot: u64, timestamps: bool) -> Sequence {
        let parity = (slot as u32 & 1) << 31;
        let size = offer.size_index(origin.segment_sizes());
        let cookie = if timestamps {
            let mac = self.mac(origin, slot, true, size) & ((1 << 29) - 1);
            parity | mac << 2 | size
        } else {
            let data = (offer.sack as u32) << 6 | (offer.option_bits() & 0xf) << 2 | size;
            let mac = self.mac(origin, slot, false, data) & ((1 << 24) - 1);
            parity | mac << 7 | data
        };
        Sequence(cookie)
    }

    /// The offer a returning cookie stands for, if it is ours, from the
    /// current slot or the one before, for this 4-tuple and peer ISN.
    /// `echo` is the ACK's TSecr when it carries timestamps.
    pub fn check(
        &self,
        origin: &Origin,
        cookie: Sequence,
        now: u64,
        echo: Option<u32>,
    ) -> Option<Offer> {
        let current = slot(now);
        let parity = u64::from(cookie.0 >> 31);
        let slot = if parity == current & 1 {
            current
        } else {
            current.checked_sub(1)?
        };
        let segment_size = origin.segment_sizes()[(cookie.0 & 3) as usize];
        let offer = match echo {
            Some(echo) => Offer::from_option_bits(echo & TIMESTAMP_BITS, segment_size)?,
            None => {
                let scale = (cookie.0 >> 2) & 0xf;
                let sack = (cookie.0 >> 6) & 1;
                Offer::from_option_bits(scale | sack << 4, segment_size)?
            }
        };
        (self.make(origin, &offer, slot, echo.is_some()) == cookie).then_some(offer)
    }
}

/// The TSval of a cookie's SYN-ACK: `value` (our clock) with its low six
/// bits replaced by the options, never ahead of the clock.
pub fn stamp(value: u32, offer: &Offer) -> u32 {
    let stamped = (value & !TIMESTAMP_BITS) | offer.option_bits();
    if (stamped.wrapping_sub(value) as i32) > 0 {
        stamped.wrapping_sub(TIMESTAMP_BITS + 1)
    } else {
        stamped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

    fn origin(port: u16) -> Origin {
        let local = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 80));
        let remote = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 9), port));
        Origin {
            endpoints: Endpoints::new(local, remote),
            peer_initial: Sequence(0xdead_beef),
        }
    }

    const OFFER: Offer = Offer {
        segment_size: 1460,
        window_scale: Some(7),
        sack: true,
        ecn: true,
    };

    #[test]
    fn a_cookie_comes_back_with_what_the_syn_offered() {
        let cookies = Cookies::new(&[3; 16]);
        let now = 10 * SLOT_NS + 5;
        let plain = cookies.make(&origin(1000), &OFFER, slot(now), false);
        let back = cookies.check(&origin(1000), plain, now, None);
        assert_eq!(
            back,
            Some(Offer {
                ecn: false,
                ..OFFER
            }),
            "no ECN without timestamps"
        );
        let stamped = cookies.make(&origin(1000), &OFFER, slot(now), true);
        let value = stamp(123_456, &OFFER);
        assert!(value <= 123_456 && 123_456 - value < 128);
        assert_eq!(
            cookies.check(&origin(1000), stamped, now, Some(value)),
            Some(OFFER)
        );
        // An MSS between table values rounds down; below all, to the least.
        let odd = Offer {
            segment_size: 1400,
            window_scale: None,
            sack: false,
            ecn: false,
        };
        let cookie = cookies.make(&origin(1000), &odd, slot(now), false);
        let back = cookies.check(&origin(1000), cookie, now, None).unwrap();
        assert_eq!((back.segment_size, back.window_scale), (1300, None));
    }

    #[test]
    fn a_cookie_lives_one_to_two_slots_and_fits_one_connection() {
        let cookies = Cookies::new(&[3; 16]);
        let sent = 10 * SLOT_NS + SLOT_NS / 2;
        let cookie = cookies.make(&origin(1000), &OFFER, slot(sent), false);
        let valid = |now: u64| cookies.check(&origin(1000), cookie, now, None).is_some();
        assert!(valid(sent) && valid(sent + SLOT_NS));
        assert!(!valid(sent + 2 * SLOT_NS), "two slots on");
        assert!(!valid(sent + 3 * SLOT_NS));
        assert!(
            cookies.check(&origin(1001), cookie, sent, None).is_none(),
            "another port"
        );
        let mut other = origin(1000);
        other.peer_initial = Sequence(1);
        assert!(
            cookies.check(&other, cookie, sent, None).is_none(),
            "another ISN"
        );
        assert!(
            Cookies::new(&[4; 16])
                .check(&origin(1000), cookie, sent, None)
                .is_none()
        );
        // A plain cookie does not pass as a timestamp one, nor one bit off.
        assert!(
            cookies
                .check(&origin(1000), cookie, sent, Some(0x0f))
                .is_none()
        );
        for bit in 0..32 {
            let flipped = Sequence(cookie.0 ^ 1 << bit);
            assert!(
                cookies.check(&origin(1000), flipped, sent, None).is_none(),
                "bit {bit}"
            );
        }
    }

    #[test]
    fn an_ipv6_cookie_says_an_ipv6_segment_size() {
        let cookies = Cookies::new(&[3; 16]);
        let local: SocketAddr = "[fd00::2]:80".parse().unwrap();
        let remote: SocketAddr = "[fd00::9]:4000".parse().unwrap();
        let origin = Origin {
            endpoints: Endpoints::new(local, remote),
            peer_initial: Sequence(7),
        };
        let now = 3 * SLOT_NS;
        let offer = Offer {
            segment_size: 1430,
            ..OFFER
        };
        let cookie = cookies.make(&origin, &offer, slot(now), false);
        let back = cookies.check(&origin, cookie, now, None).expect("valid");
        assert_eq!(back.segment_size, 1420);
        let mut other = origin;
        other.endpoints = Endpoints::new("[fd00::3]:80".parse().unwrap(), remote);
        assert!(cookies.check(&other, cookie, now, None).is_none());
    }

    #[test]
    fn guessed_cookies_almost_never_pass() {
        let cookies = Cookies::new(&[5; 16]);
        let now = 7 * SLOT_NS;
        let passed = (0..200_000u32)
            .filter(|attempt| {
                let guess = Sequence(siphash_2_4(&[1; 16], &attempt.to_le_bytes()) as u32);
                cookies.check(&origin(2000), guess, now, None).is_some()
            })
            .count();
        // 2^-24 per guess (with a chance at either slot's parity bit).
        assert!(passed <= 1, "{passed} guesses passed");
    }
}
