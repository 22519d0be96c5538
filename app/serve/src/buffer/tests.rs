//! The buffer's bytes come out in order and its charge comes back.

use alloc::sync::Arc;
use std::vec::Vec;

use hypercall_posix::{Posix, PosixConfig};
use kernel::base::memory::{Account, Memory};

use super::*;

/// An account of a memory limited to `limit` bytes.
fn account(limit: usize) -> Account {
    let memory = Arc::new(Memory::new(Posix::new(PosixConfig::default()), limit));
    memory.account("test")
}

#[test]
fn an_empty_buffer_holds_and_charges_nothing() {
    let account = account(1 << 20);
    let mut buffer = Buffer::new();
    buffer.extend(&account, b"").unwrap();
    assert!(buffer.is_empty());
    assert_eq!((buffer.charged(), account.bytes()), (0, 0));
    assert_eq!(
        core::mem::size_of::<Buffer>(),
        core::mem::size_of::<usize>()
    );
}

#[test]
fn bytes_leave_in_order_and_the_emptied_buffer_gives_its_charge_back() {
    let account = account(1 << 20);
    let mut buffer = Buffer::new();
    let bytes: Vec<u8> = (0..=255).collect();
    buffer.extend(&account, &bytes[..200]).unwrap();
    assert_eq!(account.bytes(), buffer.charged());
    buffer.consume(150); // Past half: the rest moves to the front.
    buffer.extend(&account, &bytes[200..]).unwrap();
    assert_eq!(buffer.as_slice(), &bytes[150..]);
    assert_eq!(buffer.len(), 106);
    assert_eq!(account.bytes(), buffer.charged());
    buffer.consume(1000);
    assert!(buffer.is_empty());
    assert_eq!(account.bytes(), 0);
}

#[test]
fn a_refused_charge_adds_nothing() {
    let account = account(4096);
    let mut buffer = Buffer::new();
    buffer.extend(&account, &[7; 100]).unwrap();
    let charged = account.bytes();
    assert_eq!(buffer.extend(&account, &[8; 8192]), Err(Refused));
    assert_eq!(buffer.as_slice(), &[7; 100]);
    assert_eq!(account.bytes(), charged);
    let mut other = Buffer::new();
    assert_eq!(other.extend(&account, &[9; 8192]), Err(Refused));
    assert!(other.is_empty());
    assert_eq!(account.bytes(), charged);
}

#[test]
fn dropping_a_buffer_releases_its_charge() {
    let account = account(1 << 20);
    let mut buffer = Buffer::new();
    buffer.extend(&account, &[1; 5000]).unwrap();
    assert!(account.bytes() >= 5000);
    drop(buffer);
    assert_eq!(account.bytes(), 0);
}
