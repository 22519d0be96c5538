//! Between the kernel's types and the wire's: errnos, options, flags.
//!
//! Every match is exhaustive, so a new kernel errno or option is a build
//! error here until the protocol has it too.

use net::{Errno as KernelErrno, MessageFlags as KernelFlags, OptionName as KernelName};
use net::{Shutdown, SocketOption as KernelOption, SocketType};
use sysproxy_proto::Errno;
use sysproxy_proto::types::{Direction, MessageFlags, OptionName, SocketKind, SocketOption};

/// The wire's errno for the kernel's.
pub fn errno(errno: KernelErrno) -> Errno {
    use KernelErrno as K;
    match errno {
        K::WouldBlock => Errno::WouldBlock,
        K::BadDescriptor => Errno::BadDescriptor,
        K::InvalidArgument => Errno::InvalidArgument,
        K::AddressInUse => Errno::AddressInUse,
        K::AddressNotAvailable => Errno::AddressNotAvailable,
        K::ConnectionRefused => Errno::ConnectionRefused,
        K::ConnectionReset => Errno::ConnectionReset,
        K::ConnectionAborted => Errno::ConnectionAborted,
        K::TimedOut => Errno::TimedOut,
        K::NotConnected => Errno::NotConnected,
        K::AlreadyConnected => Errno::AlreadyConnected,
        K::InProgress => Errno::InProgress,
        K::Already => Errno::Already,
        K::BrokenPipe => Errno::BrokenPipe,
        K::NoBuffers => Errno::NoBuffers,
        K::MessageTooLong => Errno::MessageTooLong,
        K::NetworkUnreachable => Errno::NetworkUnreachable,
        K::NotSupported => Errno::NotSupported,
        K::NoSuchOption => Errno::NoSuchOption,
        K::ProtocolNotSupported => Errno::ProtocolNotSupported,
        K::DestinationRequired => Errno::DestinationRequired,
        K::TooManySockets => Errno::TooManySockets,
        K::NoNetwork => Errno::NoNetwork,
        K::PermissionDenied => Errno::PermissionDenied,
        K::NotFound => Errno::NotFound,
        K::NotSocket => Errno::NotSocket,
    }
}

/// The kernel's errno for the wire's (a client's SO_ERROR never comes
/// this way, but the option's type carries one).
fn kernel_errno(errno: Errno) -> KernelErrno {
    use KernelErrno as K;
    match errno {
        Errno::WouldBlock => K::WouldBlock,
        Errno::BadDescriptor => K::BadDescriptor,
        Errno::AddressInUse => K::AddressInUse,
        Errno::AddressNotAvailable => K::AddressNotAvailable,
        Errno::ConnectionRefused => K::ConnectionRefused,
        Errno::ConnectionReset => K::ConnectionReset,
        Errno::ConnectionAborted => K::ConnectionAborted,
        Errno::TimedOut => K::TimedOut,
        Errno::NotConnected => K::NotConnected,
        Errno::AlreadyConnected => K::AlreadyConnected,
        Errno::InProgress => K::InProgress,
        Errno::Already => K::Already,
        Errno::BrokenPipe => K::BrokenPipe,
        Errno::NoBuffers => K::NoBuffers,
        Errno::MessageTooLong => K::MessageTooLong,
        Errno::NetworkUnreachable => K::NetworkUnreachable,
        Errno::NotSupported => K::NotSupported,
        Errno::NoSuchOption => K::NoSuchOption,
        Errno::ProtocolNotSupported => K::ProtocolNotSupported,
        Errno::DestinationRequired => K::DestinationRequired,
        Errno::TooManySockets => K::TooManySockets,
        Errno::NoNetwork => K::NoNetwork,
        Errno::PermissionDenied => K::PermissionDenied,
        Errno::NotFound => K::NotFound,
        Errno::NotSocket => K::NotSocket,
        Errno::InvalidArgument | Errno::NotImplemented | Errno::Exists => K::InvalidArgument,
        Errno::Io
        | Errno::NotDirectory
        | Errno::IsDirectory
        | Errno::NoSpace
        | Errno::ReadOnly
        | Errno::NameTooLong
        | Errno::Loop
        | Errno::FileTooLarge
        | Errno::Busy => K::InvalidArgument,
    }
}

/// The kernel's socket type.
pub fn socket_type(kind: SocketKind) -> SocketType {
    match kind {
        SocketKind::Stream => SocketType::Stream,
        SocketKind::Datagram => SocketType::Datagram,
    }
}

/// The kernel's shutdown direction.
pub fn shutdown(how: Direction) -> Shutdown {
    match how {
        Direction::Read => Shutdown::Read,
        Direction::Write => Shutdown::Write,
        Direction::Both => Shutdown::Both,
    }
}

/// The kernel's message flags.
pub fn flags(flags: MessageFlags) -> KernelFlags {
    let mut kernel = KernelFlags::NONE;
    if flags.dont_wait {
        kernel = kernel.with(KernelFlags::DONT_WAIT);
    }
    if flags.wait_all {
        kernel = kernel.with(KernelFlags::WAIT_ALL);
    }
    if flags.peek {
        kernel = kernel.with(KernelFlags::PEEK);
    }
    kernel
}

fn to_u32(bytes: usize) -> u32 {
    u32::try_from(bytes).unwrap_or(u32::MAX)
}

/// The kernel's option.
pub fn option(option: SocketOption) -> KernelOption {
    match option {
        SocketOption::NonBlocking(on) => KernelOption::NonBlocking(on),
        SocketOption::ReuseAddress(on) => KernelOption::ReuseAddress(on),
        SocketOption::ReceiveBuffer(bytes) => KernelOption::ReceiveBuffer(bytes as usize),
        SocketOption::SendBuffer(bytes) => KernelOption::SendBuffer(bytes as usize),
        SocketOption::KeepAlive(on) => KernelOption::KeepAlive(on),
        SocketOption::Linger(seconds) => KernelOption::Linger(seconds),
        SocketOption::NoDelay(on) => KernelOption::NoDelay(on),
        SocketOption::Error(error) => KernelOption::Error(error.map(kernel_errno)),
        SocketOption::Broadcast(on) => KernelOption::Broadcast(on),
        SocketOption::ReusePort(on) => KernelOption::ReusePort(on),
        SocketOption::V6Only(on) => KernelOption::V6Only(on),
    }
}

/// The wire's option.
pub fn wire_option(option: KernelOption) -> SocketOption {
    match option {
        KernelOption::NonBlocking(on) => SocketOption::NonBlocking(on),
        KernelOption::ReuseAddress(on) => SocketOption::ReuseAddress(on),
        KernelOption::ReceiveBuffer(bytes) => SocketOption::ReceiveBuffer(to_u32(bytes)),
        KernelOption::SendBuffer(bytes) => SocketOption::SendBuffer(to_u32(bytes)),
        KernelOption::KeepAlive(on) => SocketOption::KeepAlive(on),
        KernelOption::Linger(seconds) => SocketOption::Linger(seconds),
        KernelOption::NoDelay(on) => SocketOption::NoDelay(on),
        KernelOption::Error(error) => SocketOption::Error(error.map(errno)),
        KernelOption::Broadcast(on) => SocketOption::Broadcast(on),
        KernelOption::ReusePort(on) => SocketOption::ReusePort(on),
        KernelOption::V6Only(on) => SocketOption::V6Only(on),
    }
}

/// The kernel's option name.
pub fn option_name(name: OptionName) -> KernelName {
    match name {
        OptionName::NonBlocking => KernelName::NonBlocking,
        OptionName::ReuseAddress => KernelName::ReuseAddress,
        OptionName::ReceiveBuffer => KernelName::ReceiveBuffer,
        OptionName::SendBuffer => KernelName::SendBuffer,
        OptionName::KeepAlive => KernelName::KeepAlive,
        OptionName::Linger => KernelName::Linger,
        OptionName::NoDelay => KernelName::NoDelay,
        OptionName::Error => KernelName::Error,
        OptionName::Broadcast => KernelName::Broadcast,
        OptionName::ReusePort => KernelName::ReusePort,
        OptionName::V6Only => KernelName::V6Only,
    }
}
