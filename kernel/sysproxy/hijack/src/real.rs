//! The C library's own functions, found behind this library with dlsym.
//!
//! A hook that leaves a call local hands it to the function the program
//! would have called without us: the next definition of the same name
//! after this library in the lookup order, `dlsym(RTLD_NEXT, name)`,
//! found on first use and kept in a static. Each wrapper here has the
//! C prototype of its namesake's manual page and the same contract: the
//! caller passes what the C function requires, so they are `unsafe`.
//! fcntl and ioctl are variadic in C; they are called as such, with the
//! one optional argument every command of theirs takes (an integer or a
//! pointer, passed in the same register).

use core::ffi::{CStr, c_int, c_ulong, c_void};
use core::sync::atomic::{AtomicPtr, Ordering};

use libc::{
    iovec, msghdr, nfds_t, pollfd, sigset_t, size_t, sockaddr, socklen_t, ssize_t, timespec,
};

/// The address of `name` after this library, cached in `slot`.
fn lookup(slot: &AtomicPtr<c_void>, name: &CStr) -> *mut c_void {
    let cached = slot.load(Ordering::Acquire);
    if !cached.is_null() {
        return cached;
    }
    // SAFETY: dlsym(3) takes RTLD_NEXT and a NUL-terminated name.
    let found = unsafe { libc::dlsym(libc::RTLD_NEXT, name.as_ptr()) };
    if found.is_null() {
        missing(name);
    }
    slot.store(found, Ordering::Release);
    found
}

/// The C library lacks a function every Linux libc has: nothing can go on.
fn missing(name: &CStr) -> ! {
    let text = b"anykernel-hijack: the C library has no ";
    for part in [&text[..], name.to_bytes(), b"\n"] {
        // SAFETY: write(2) of a live buffer of that length; a raw system
        // call, since the library's `write` may be the missing one.
        unsafe { libc::syscall(libc::SYS_write, 2, part.as_ptr(), part.len()) };
    }
    std::process::abort()
}

/// Declares a wrapper per C function: `fn name(arguments) -> result;`.
macro_rules! real_functions {
    ($(fn $name:ident($($argument:ident: $type:ty),*) -> $output:ty;)*) => {
        $(
            #[doc = concat!("The C library's `", stringify!($name), "`.")]
            ///
            /// # Safety
            /// As the C function's manual page requires of its arguments.
            pub unsafe fn $name($($argument: $type),*) -> $output {
                const NAME: &CStr = match CStr::from_bytes_with_nul(
                    concat!(stringify!($name), "\0").as_bytes(),
                ) {
                    Ok(name) => name,
                    Err(_) => panic!("a C function's name"),
                };
                static SLOT: AtomicPtr<c_void> = AtomicPtr::new(core::ptr::null_mut());
                let address = lookup(&SLOT, NAME);
                // SAFETY: dlsym found the C library's function of this
                // name, whose prototype is the one declared here.
                let function = unsafe {
                    core::mem::transmute::<*mut c_void, unsafe extern "C" fn($($type),*) -> $output>(
                        address,
                    )
                };
                // SAFETY: the caller keeps the function's contract.
                unsafe { function($($argument),*) }
            }
        )*
    };
}

real_functions! {
    fn socket(domain: c_int, kind: c_int, protocol: c_int) -> c_int;
    fn connect(fd: c_int, address: *const sockaddr, length: socklen_t) -> c_int;
    fn bind(fd: c_int, address: *const sockaddr, length: socklen_t) -> c_int;
    fn listen(fd: c_int, backlog: c_int) -> c_int;
    fn accept(fd: c_int, address: *mut sockaddr, length: *mut socklen_t) -> c_int;
    fn accept4(fd: c_int, address: *mut sockaddr, length: *mut socklen_t, flags: c_int) -> c_int;
    fn shutdown(fd: c_int, how: c_int) -> c_int;
    fn getsockname(fd: c_int, address: *mut sockaddr, length: *mut socklen_t) -> c_int;
    fn getpeername(fd: c_int, address: *mut sockaddr, length: *mut socklen_t) -> c_int;
    fn setsockopt(
        fd: c_int, level: c_int, name: c_int, value: *const c_void, length: socklen_t
    ) -> c_int;
    fn getsockopt(
        fd: c_int, level: c_int, name: c_int, value: *mut c_void, length: *mut socklen_t
    ) -> c_int;
    fn read(fd: c_int, buffer: *mut c_void, count: size_t) -> ssize_t;
    fn write(fd: c_int, buffer: *const c_void, count: size_t) -> ssize_t;
    fn readv(fd: c_int, vectors: *const iovec, count: c_int) -> ssize_t;
    fn writev(fd: c_int, vectors: *const iovec, count: c_int) -> ssize_t;
    fn send(fd: c_int, buffer: *const c_void, count: size_t, flags: c_int) -> ssize_t;
    fn recv(fd: c_int, buffer: *mut c_void, count: size_t, flags: c_int) -> ssize_t;
    fn sendto(
        fd: c_int, buffer: *const c_void, count: size_t, flags: c_int,
        address: *const sockaddr, length: socklen_t
    ) -> ssize_t;
    fn recvfrom(
        fd: c_int, buffer: *mut c_void, count: size_t, flags: c_int,
        address: *mut sockaddr, length: *mut socklen_t
    ) -> ssize_t;
    fn sendmsg(fd: c_int, message: *const msghdr, flags: c_int) -> ssize_t;
    fn recvmsg(fd: c_int, message: *mut msghdr, flags: c_int) -> ssize_t;
    fn poll(fds: *mut pollfd, count: nfds_t, timeout: c_int) -> c_int;
    fn ppoll(
        fds: *mut pollfd, count: nfds_t, timeout: *const timespec, mask: *const sigset_t
    ) -> c_int;
    fn select(
        count: c_int, read: *mut libc::fd_set, write: *mut libc::fd_set,
        except: *mut libc::fd_set, timeout: *mut libc::timeval
    ) -> c_int;
    fn pselect(
        count: c_int, read: *mut libc::fd_set, write: *mut libc::fd_set,
        except: *mut libc::fd_set, timeout: *const timespec, mask: *const sigset_t
    ) -> c_int;
    fn epoll_ctl(epoll: c_int, operation: c_int, fd: c_int, event: *mut libc::epoll_event) -> c_int;
    fn epoll_wait(epoll: c_int, events: *mut libc::epoll_event, most: c_int, timeout: c_int) -> c_int;
    fn epoll_pwait(
        epoll: c_int, events: *mut libc::epoll_event, most: c_int, timeout: c_int,
        mask: *const sigset_t
    ) -> c_int;
    fn epoll_pwait2(
        epoll: c_int, events: *mut libc::epoll_event, most: c_int, timeout: *const timespec,
        mask: *const sigset_t
    ) -> c_int;
    fn close(fd: c_int) -> c_int;
    fn dup(fd: c_int) -> c_int;
    fn dup2(fd: c_int, new: c_int) -> c_int;
    fn dup3(fd: c_int, new: c_int, flags: c_int) -> c_int;
}

/// The C library's `fcntl`, with its one optional argument.
///
/// # Safety
/// As fcntl(2) requires of `argument` for `command`.
pub unsafe fn fcntl(fd: c_int, command: c_int, argument: c_ulong) -> c_int {
    static SLOT: AtomicPtr<c_void> = AtomicPtr::new(core::ptr::null_mut());
    // SAFETY: the caller's arguments.
    unsafe { variadic_fcntl(&SLOT, c"fcntl", fd, command, argument) }
}

/// The C library's `fcntl64` (glibc 2.28 and later), as [`fcntl`].
///
/// # Safety
/// As [`fcntl`].
pub unsafe fn fcntl64(fd: c_int, command: c_int, argument: c_ulong) -> c_int {
    static SLOT: AtomicPtr<c_void> = AtomicPtr::new(core::ptr::null_mut());
    // SAFETY: the caller's arguments.
    unsafe { variadic_fcntl(&SLOT, c"fcntl64", fd, command, argument) }
}

/// Calls the fcntl-like function `name` (cached in `slot`).
///
/// # Safety
/// As [`fcntl`].
unsafe fn variadic_fcntl(
    slot: &AtomicPtr<c_void>,
    name: &CStr,
    fd: c_int,
    command: c_int,
    argument: c_ulong,
) -> c_int {
    let address = lookup(slot, name);
    // SAFETY: dlsym found the C library's fcntl or fcntl64, variadic
    // after `cmd`.
    let function = unsafe {
        core::mem::transmute::<*mut c_void, unsafe extern "C" fn(c_int, c_int, ...) -> c_int>(
            address,
        )
    };
    // SAFETY: the caller keeps fcntl's contract.
    unsafe { function(fd, command, argument) }
}

/// The C library's `ioctl`, with its one optional argument.
///
/// # Safety
/// As ioctl(2) requires of `argument` for `request`.
pub unsafe fn ioctl(fd: c_int, request: c_ulong, argument: c_ulong) -> c_int {
    static SLOT: AtomicPtr<c_void> = AtomicPtr::new(core::ptr::null_mut());
    let address = lookup(&SLOT, c"ioctl");
    // SAFETY: dlsym found the C library's ioctl, variadic after `request`.
    let function = unsafe {
        core::mem::transmute::<*mut c_void, unsafe extern "C" fn(c_int, c_ulong, ...) -> c_int>(
            address,
        )
    };
    // SAFETY: the caller keeps ioctl's contract.
    unsafe { function(fd, request, argument) }
}
