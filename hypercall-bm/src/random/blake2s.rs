//! BLAKE2s-256 (RFC 7693), the conditioner for raw entropy and reseeds.
//!
//! Unkeyed, 32-byte digest, incremental (`update` any number of times,
//! then `finalize`). The last block is compressed with the final flag even
//! when it is full, so a full buffer is only compressed once more input
//! arrives: that is what makes 64-byte inputs come out right.

/// Digest size in bytes.
pub(super) const DIGEST_BYTES: usize = 32;
/// Message block size in bytes.
const BLOCK_BYTES: usize = 64;

/// The SHA-256 initial values, as RFC 7693 §2.6 specifies for BLAKE2s.
const IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// Message word permutations for the ten rounds (RFC 7693 §2.7).
const SIGMA: [[usize; 16]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
    [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
    [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
    [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
    [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
    [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
    [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
    [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
    [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
];

/// An incremental BLAKE2s-256 computation.
#[derive(Clone)]
pub(super) struct Blake2s {
    /// The chain value h[0..8].
    state: [u32; 8],
    /// Input not yet compressed: `buffered` bytes, at most one full block.
    buffer: [u8; BLOCK_BYTES],
    buffered: usize,
    /// Bytes compressed so far (the counter t of RFC 7693).
    compressed: u64,
}

impl Blake2s {
    /// A fresh unkeyed hash with a 32-byte digest.
    pub(super) fn new() -> Self {
        let mut state = IV;
        // Parameter block: digest length 32, key length 0, fanout 1, depth 1.
        state[0] ^= 0x0101_0000 ^ DIGEST_BYTES as u32;
        Self {
            state,
            buffer: [0; BLOCK_BYTES],
            buffered: 0,
            compressed: 0,
        }
    }

    /// Absorbs `data`.
    pub(super) fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            if self.buffered == BLOCK_BYTES {
                self.compressed += BLOCK_BYTES as u64;
                compress(&mut self.state, &self.buffer, self.compressed, false);
                self.buffered = 0;
            }
            let taken = data.len().min(BLOCK_BYTES - self.buffered);
            self.buffer[self.buffered..self.buffered + taken].copy_from_slice(&data[..taken]);
            self.buffered += taken;
            data = &data[taken..];
        }
    }

    /// The digest of everything absorbed.
    pub(super) fn finalize(mut self) -> [u8; DIGEST_BYTES] {
        self.compressed += self.buffered as u64;
        self.buffer[self.buffered..].fill(0);
        compress(&mut self.state, &self.buffer, self.compressed, true);
        let mut digest = [0u8; DIGEST_BYTES];
        for (bytes, word) in digest.chunks_exact_mut(4).zip(self.state) {
            bytes.copy_from_slice(&word.to_le_bytes());
        }
        digest
    }
}

/// The compression function F of RFC 7693 §3.2; `length` counts every
/// byte up to and including this block.
fn compress(state: &mut [u32; 8], block: &[u8; BLOCK_BYTES], length: u64, last: bool) {
    let mut message = [0u32; 16];
    for (word, bytes) in message.iter_mut().zip(block.chunks_exact(4)) {
        *word = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    let mut work = [0u32; 16];
    work[..8].copy_from_slice(state);
    work[8..].copy_from_slice(&IV);
    work[12] ^= length as u32;
    work[13] ^= (length >> 32) as u32;
    if last {
        work[14] = !work[14];
    }
    for sigma in &SIGMA {
        round(&mut work, &message, sigma);
    }
    for (index, word) in state.iter_mut().enumerate() {
        *word ^= work[index] ^ work[index + 8];
    }
}

/// One round: G on the columns, then on the diagonals.
fn round(work: &mut [u32; 16], message: &[u32; 16], sigma: &[usize; 16]) {
    const LANES: [[usize; 4]; 8] = [
        [0, 4, 8, 12],
        [1, 5, 9, 13],
        [2, 6, 10, 14],
        [3, 7, 11, 15],
        [0, 5, 10, 15],
        [1, 6, 11, 12],
        [2, 7, 8, 13],
        [3, 4, 9, 14],
    ];
    for (lane, [a, b, c, d]) in LANES.into_iter().enumerate() {
        let x = message[sigma[2 * lane]];
        let y = message[sigma[2 * lane + 1]];
        mix(work, [a, b, c, d], x, y);
    }
}

/// The mixing function G of RFC 7693 §3.1 (rotations 16, 12, 8, 7).
fn mix(work: &mut [u32; 16], [a, b, c, d]: [usize; 4], x: u32, y: u32) {
    work[a] = work[a].wrapping_add(work[b]).wrapping_add(x);
    work[d] = (work[d] ^ work[a]).rotate_right(16);
    work[c] = work[c].wrapping_add(work[d]);
    work[b] = (work[b] ^ work[c]).rotate_right(12);
    work[a] = work[a].wrapping_add(work[b]).wrapping_add(y);
    work[d] = (work[d] ^ work[a]).rotate_right(8);
    work[c] = work[c].wrapping_add(work[d]);
    work[b] = (work[b] ^ work[c]).rotate_right(7);
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

    fn digest(data: &[u8]) -> Vec<u8> {
        let mut hash = Blake2s::new();
        hash.update(data);
        hash.finalize().to_vec()
    }

    /// Bytes 0, 1, 2, ... modulo 251, the input of the longer vectors.
    fn pattern(length: usize) -> Vec<u8> {
        (0..length).map(|index| (index % 251) as u8).collect()
    }

    #[test]
    fn abc_matches_rfc7693_appendix_b() {
        let expected = hex("508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
        assert_eq!(digest(b"abc"), expected);
    }

    #[test]
    fn empty_input_matches_reference() {
        let expected = hex("69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9");
        assert_eq!(digest(b""), expected);
    }

    /// Expected values from Python's `hashlib.blake2s`, around the block
    /// boundary where the final-block rule matters.
    #[test]
    fn block_boundary_inputs_match_reference() {
        let cases = [
            (
                64,
                "56f34e8b96557e90c1f24b52d0c89d51086acf1b00f634cf1dde9233b8eaaa3e",
            ),
            (
                65,
                "1b53ee94aaf34e4b159d48de352c7f0661d0a40edff95a0b1639b4090e974472",
            ),
            (
                1000,
                "1c067a5e746fb0f6734efac9a8cdb0e11061f0077f255184365c690115392501",
            ),
        ];
        for (length, expected) in cases {
            assert_eq!(digest(&pattern(length)), hex(expected), "length {length}");
        }
    }

    #[test]
    fn split_updates_give_the_one_shot_digest() {
        let data = pattern(1000);
        for split in [0, 1, 63, 64, 65, 128, 999] {
            let mut hash = Blake2s::new();
            hash.update(&data[..split]);
            hash.update(&data[split..]);
            assert_eq!(hash.finalize().to_vec(), digest(&data), "split at {split}");
        }
    }
}
