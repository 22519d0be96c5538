//! The connection to the kernel, one per process, and what `fork` does
//! to it (the seeds' prefork).
//!
//! The connection is made on the program's first remote call (so a
//! program that opens no remote socket never talks to the kernel), to the
//! server that [`SERVER_VARIABLE`] names, with the key in [`KEY_VARIABLE`]
//! if it is set. When the server is not named, does not answer or
//! refuses, the library says so once on stderr and every remote socket
//! call fails with ENETDOWN: the program's sockets never fall back to
//! Linux's stack behind the user's back.
//!
//! A connection belongs to the process that made it. At `fork`, while
//! the parent holds remote sockets, the prepare handler asks the kernel
//! to copy the parent's descriptors under a token; the child, whose first
//! remote call finds the connection is not its own, connects with that
//! token and so holds the same sockets at the same numbers, as Linux's
//! fork gives a child the parent's files. A socket closes in the kernel
//! when both have closed it. A child of a parent without remote sockets
//! connects as a new client. The handlers only store to atomics in the
//! child (the one thread a child has may not take locks other threads
//! held at the fork).

use std::sync::atomic::Ordering::{Relaxed, Release};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, Ordering::Acquire};

use anykernel_client::proto::types::ForkToken;
use anykernel_client::{Client, Stubs};

use crate::errno::{Errno, Result};

/// The environment variable naming the kernel's server (`unix:PATH`).
pub const SERVER_VARIABLE: &str = "ANYKERNEL_SERVER";

/// The environment variable holding the server's key, when it has one
/// (the kernel's `sysproxy.key=`).
pub const KEY_VARIABLE: &str = "ANYKERNEL_KEY";

/// This process's connection (`None` inside: the kernel could not be
/// reached), leaked so that it lives as long as the process; null until
/// the first remote call.
static CONNECTION: AtomicPtr<Option<Client>> = AtomicPtr::new(core::ptr::null_mut());

/// The process [`CONNECTION`] belongs to.
static OWNER: AtomicU32 = AtomicU32::new(0);

/// Held while a connection is being made (a spin lock: the child of a
/// fork resets it, which a mutex would not allow).
static CONNECTING: AtomicBool = AtomicBool::new(false);

/// The token of the fork in progress (its two halves), valid while
/// [`PREPARED`] is set.
static TOKEN: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];
static PREPARED: AtomicBool = AtomicBool::new(false);

/// This process's connection to the kernel, made on first use.
///
/// # Errors
/// ENETDOWN without one.
pub fn client() -> Result<&'static Client> {
    let pid = std::process::id();
    let connection = match current(pid) {
        Some(connection) => connection,
        None => connect_once(pid),
    };
    connection.as_ref().ok_or(Errno(libc::ENETDOWN))
}

/// The connection if this process made it.
fn current(pid: u32) -> Option<&'static Option<Client>> {
    let connection = CONNECTION.load(Acquire);
    if connection.is_null() || OWNER.load(Acquire) != pid {
        return None;
    }
    // SAFETY: a non-null CONNECTION points to a leaked, never freed value.
    Some(unsafe { &*connection })
}

/// Makes this process's connection unless another thread just did.
fn connect_once(pid: u32) -> &'static Option<Client> {
    while CONNECTING
        .compare_exchange_weak(false, true, Acquire, Relaxed)
        .is_err()
    {
        std::hint::spin_loop();
    }
    let connection = current(pid).unwrap_or_else(|| {
        let inherited = !CONNECTION.load(Acquire).is_null();
        let token = inherited.then(take_token).flatten();
        let made: &'static Option<Client> = Box::leak(Box::new(connect(token)));
        CONNECTION.store((made as *const Option<Client>).cast_mut(), Release);
        OWNER.store(pid, Release);
        made
    });
    CONNECTING.store(false, Release);
    connection
}

/// The prepared fork's token, once.
fn take_token() -> Option<ForkToken> {
    if !PREPARED.swap(false, Acquire) {
        return None;
    }
    let [high, low] = [&TOKEN[0], &TOKEN[1]].map(|half| half.load(Relaxed).to_be_bytes());
    let mut token = [0u8; 16];
    token[..8].copy_from_slice(&high);
    token[8..].copy_from_slice(&low);
    Some(ForkToken(token))
}

fn connect(token: Option<ForkToken>) -> Option<Client> {
    let Ok(address) = std::env::var(SERVER_VARIABLE) else {
        eprintln!(
            "anykernel-hijack: {SERVER_VARIABLE} is not set (e.g. unix:/tmp/ak.sock); \
             this program's TCP and UDP sockets fail with ENETDOWN"
        );
        return None;
    };
    let key = std::env::var_os(KEY_VARIABLE);
    let key = key.as_deref().map(std::os::unix::ffi::OsStrExt::as_bytes);
    let made = match token {
        Some(token) => Client::connect_forked(&address, key, token),
        None => Client::connect_with_key(&address, key),
    };
    match made {
        Ok(client) => {
            register_fork_handlers();
            Some(client)
        }
        Err(error) => {
            eprintln!(
                "anykernel-hijack: cannot reach the kernel at {address} ({error}); \
                 this program's TCP and UDP sockets fail with ENETDOWN"
            );
            None
        }
    }
}

/// Registers the fork handlers, once per program.
fn register_fork_handlers() {
    static REGISTERED: AtomicBool = AtomicBool::new(false);
    if !REGISTERED.swap(true, Relaxed) {
        // SAFETY: pthread_atfork(3) with handlers of the C signature;
        // the child's only stores to atomics.
        unsafe { libc::pthread_atfork(Some(prepare), Some(in_parent), Some(in_child)) };
    }
}

/// Before a fork: a copy of this process's remote descriptors for the
/// child, if it has any.
extern "C" fn prepare() {
    PREPARED.store(false, Relaxed);
    let pid = std::process::id();
    let Some(Some(client)) = current(pid) else {
        return;
    };
    if crate::table::is_empty() {
        return;
    }
    if let Ok(ForkToken(token)) = client.fork() {
        let (high, low) = token.split_at(8);
        TOKEN[0].store(
            u64::from_be_bytes(high.try_into().expect("8 bytes")),
            Relaxed,
        );
        TOKEN[1].store(
            u64::from_be_bytes(low.try_into().expect("8 bytes")),
            Relaxed,
        );
        PREPARED.store(true, Release);
    }
}

/// After a fork, in the parent: the token was the child's.
extern "C" fn in_parent() {
    PREPARED.store(false, Relaxed);
}

/// After a fork, in the child: no thread of ours is connecting here.
extern "C" fn in_child() {
    CONNECTING.store(false, Relaxed);
}
