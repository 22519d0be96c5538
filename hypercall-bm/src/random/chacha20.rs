//! The ChaCha20 block function (RFC 8439 §2.3): the DRBG's keystream.
//!
//! Only the block function is here, over a 256-bit key, a 32-bit block
//! counter and a 96-bit nonce; the DRBG (`drbg.rs`) decides how keys and
//! counters are used. Words are little-endian as the RFC specifies, so the
//! output matches the RFC's test vectors byte for byte.

/// Key size in bytes.
pub(super) const KEY_BYTES: usize = 32;
/// Nonce size in bytes.
pub(super) const NONCE_BYTES: usize = 12;
/// Output of one block in bytes.
pub(super) const BLOCK_BYTES: usize = 64;

/// "expand 32-byte k" as four little-endian words.
const CONSTANTS: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];
/// Double rounds per block (20 rounds).
const DOUBLE_ROUNDS: usize = 10;

/// One 64-byte keystream block for `key`, block `counter` and `nonce`.
pub(super) fn block(
    key: &[u8; KEY_BYTES],
    counter: u32,
    nonce: &[u8; NONCE_BYTES],
) -> [u8; BLOCK_BYTES] {
    let initial = initial_state(key, counter, nonce);
    let mut working = initial;
    for _ in 0..DOUBLE_ROUNDS {
        double_round(&mut working);
    }
    let mut output = [0u8; BLOCK_BYTES];
    for (index, bytes) in output.chunks_exact_mut(4).enumerate() {
        bytes.copy_from_slice(&working[index].wrapping_add(initial[index]).to_le_bytes());
    }
    output
}

/// The 4x4 state of RFC 8439 §2.3: constants, key, counter, nonce.
fn initial_state(key: &[u8; KEY_BYTES], counter: u32, nonce: &[u8; NONCE_BYTES]) -> [u32; 16] {
    let mut state = [0u32; 16];
    state[..4].copy_from_slice(&CONSTANTS);
    for (word, bytes) in state[4..12].iter_mut().zip(key.chunks_exact(4)) {
        *word = little_endian_word(bytes);
    }
    state[12] = counter;
    for (word, bytes) in state[13..].iter_mut().zip(nonce.chunks_exact(4)) {
        *word = little_endian_word(bytes);
    }
    state
}

fn little_endian_word(bytes: &[u8]) -> u32 {
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

/// A column round followed by a diagonal round (RFC 8439 §2.3).
fn double_round(state: &mut [u32; 16]) {
    quarter_round(state, 0, 4, 8, 12);
    quarter_round(state, 1, 5, 9, 13);
    quarter_round(state, 2, 6, 10, 14);
    quarter_round(state, 3, 7, 11, 15);
    quarter_round(state, 0, 5, 10, 15);
    quarter_round(state, 1, 6, 11, 12);
    quarter_round(state, 2, 7, 8, 13);
    quarter_round(state, 3, 4, 9, 14);
}

/// The quarter round of RFC 8439 §2.1 on four words of the state.
fn quarter_round(state: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
    state[a] = state[a].wrapping_add(state[b]);
    state[d] = (state[d] ^ state[a]).rotate_left(16);
    state[c] = state[c].wrapping_add(state[d]);
    state[b] = (state[b] ^ state[c]).rotate_left(12);
    state[a] = state[a].wrapping_add(state[b]);
    state[d] = (state[d] ^ state[a]).rotate_left(8);
    state[c] = state[c].wrapping_add(state[d]);
    state[b] = (state[b] ^ state[c]).rotate_left(7);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|at| u8::from_str_radix(&text[at..at + 2], 16).unwrap())
            .collect()
    }

    fn sequential_key() -> [u8; KEY_BYTES] {
        core::array::from_fn(|index| index as u8)
    }

    #[test]
    fn quarter_round_matches_rfc8439_section_2_1_1() {
        let mut state = [0u32; 16];
        state[..4].copy_from_slice(&[0x1111_1111, 0x0102_0304, 0x9b8d_6f43, 0x0123_4567]);
        quarter_round(&mut state, 0, 1, 2, 3);
        assert_eq!(
            state[..4],
            [0xea2a_92f4, 0xcb1c_f8ce, 0x4581_472e, 0x5881_c4bb]
        );
    }

    #[test]
    fn block_matches_rfc8439_section_2_3_2() {
        let nonce = [0, 0, 0, 0x09, 0, 0, 0, 0x4a, 0, 0, 0, 0];
        let expected = hex(concat!(
            "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e",
            "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e"
        ));
        assert_eq!(block(&sequential_key(), 1, &nonce).to_vec(), expected);
    }

    #[test]
    fn keystream_matches_rfc8439_section_2_4_2() {
        let plaintext =
            b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip \
for the future, sunscreen would be it.";
        let nonce = [0, 0, 0, 0, 0, 0, 0, 0x4a, 0, 0, 0, 0];
        let keystream: Vec<u8> = (1..=2)
            .flat_map(|counter| block(&sequential_key(), counter, &nonce))
            .collect();
        let ciphertext: Vec<u8> = plaintext
            .iter()
            .zip(&keystream)
            .map(|(byte, key)| byte ^ key)
            .collect();
        let expected = hex(concat!(
            "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b",
            "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8",
            "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736",
            "5af90bbf74a35be6b40b8eedf2785e42874d"
        ));
        assert_eq!(ciphertext, expected);
    }

    #[test]
    fn all_zero_block_matches_rfc8439_appendix_a_1() {
        let expected = hex(concat!(
            "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7",
            "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586"
        ));
        assert_eq!(
            block(&[0; KEY_BYTES], 0, &[0; NONCE_BYTES]).to_vec(),
            expected
        );
    }
}
