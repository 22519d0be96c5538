//! SipHash-2-4 (Aumasson and Bernstein), the keyed PRF for ISNs and ports.
//!
//! RFC 6528 and RFC 6056 want a keyed hash of the connection's addresses
//! that an attacker cannot predict; SipHash-2-4 with a 128-bit key from the
//! random hypercall is the customary choice. The function is the
//! `siphasher` crate's; this module fixes the variant (2-4, not 1-3) and
//! the key's byte order, which the test pins to the paper's vector.

use siphasher::sip::SipHasher24;

/// SipHash-2-4 of `message` under `key` (two little-endian 64-bit halves).
pub fn siphash_2_4(key: &[u8; 16], message: &[u8]) -> u64 {
    SipHasher24::new_with_key(key).hash(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paper_reference_vector() {
        // Appendix A of the SipHash paper: key 00..0f, message 00..0e.
        let key: [u8; 16] = core::array::from_fn(|index| index as u8);
        let message: [u8; 15] = core::array::from_fn(|index| index as u8);
        assert_eq!(siphash_2_4(&key, &message), 0xa129_ca61_49be_45e5);
    }
}
