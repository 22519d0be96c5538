//! SipHash-2-4 (Aumasson and Bernstein), the keyed PRF for ISNs and ports.
//!
//! RFC 6528 and RFC 6056 want a keyed hash of the connection's addresses
//! that an attacker cannot predict; SipHash-2-4 with a 128-bit key from the
//! random hypercall is the customary choice. Written from the paper; the
//! test checks the paper's reference vector.

/// SipHash-2-4 of `message` under `key`.
pub fn siphash_2_4(key: &[u8; 16], message: &[u8]) -> u64 {
    let (first, second) = key.split_at(8);
    let key_low = read_u64(first);
    let key_high = read_u64(second);
    let mut state = [
        key_low ^ 0x736f_6d65_7073_6575,
        key_high ^ 0x646f_7261_6e64_6f6d,
        key_low ^ 0x6c79_6765_6e65_7261,
        key_high ^ 0x7465_6462_7974_6573,
    ];
    let mut blocks = message.chunks_exact(8);
    for block in &mut blocks {
        compress(&mut state, read_u64(block), 2);
    }
    let mut last = [0u8; 8];
    let tail = blocks.remainder();
    last[..tail.len()].copy_from_slice(tail);
    // The length is taken modulo 256, as the algorithm specifies.
    last[7] = message.len() as u8;
    compress(&mut state, u64::from_le_bytes(last), 2);
    state[2] ^= 0xff;
    for _ in 0..4 {
        round(&mut state);
    }
    state[0] ^ state[1] ^ state[2] ^ state[3]
}

fn read_u64(bytes: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(bytes);
    u64::from_le_bytes(word)
}

fn compress(state: &mut [u64; 4], block: u64, rounds: usize) {
    state[3] ^= block;
    for _ in 0..rounds {
        round(state);
    }
    state[0] ^= block;
}

fn round(state: &mut [u64; 4]) {
    let [mut v0, mut v1, mut v2, mut v3] = *state;
    v0 = v0.wrapping_add(v1);
    v1 = v1.rotate_left(13) ^ v0;
    v0 = v0.rotate_left(32);
    v2 = v2.wrapping_add(v3);
    v3 = v3.rotate_left(16) ^ v2;
    v0 = v0.wrapping_add(v3);
    v3 = v3.rotate_left(21) ^ v0;
    v2 = v2.wrapping_add(v1);
    v1 = v1.rotate_left(17) ^ v2;
    v2 = v2.rotate_left(32);
    *state = [v0, v1, v2, v3];
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference_key() -> [u8; 16] {
        core::array::from_fn(|index| index as u8)
    }

    #[test]
    fn paper_reference_vector() {
        // Appendix A of the SipHash paper: key 00..0f, message 00..0e.
        let message: [u8; 15] = core::array::from_fn(|index| index as u8);
        assert_eq!(
            siphash_2_4(&reference_key(), &message),
            0xa129_ca61_49be_45e5
        );
    }

    #[test]
    fn empty_message_vector() {
        // The first entry of the reference implementation's vectors.h.
        assert_eq!(siphash_2_4(&reference_key(), &[]), 0x726f_db47_dd0e_0e31);
    }

    #[test]
    fn the_key_changes_the_output() {
        let other = [7u8; 16];
        assert_ne!(
            siphash_2_4(&reference_key(), b"abc"),
            siphash_2_4(&other, b"abc")
        );
    }
}
