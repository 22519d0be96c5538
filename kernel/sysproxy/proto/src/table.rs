//! The macro that turns the one declaration of the call table into the
//! argument structs, the kernel's dispatch and the client's stubs.
//!
//! Each line of the table names a call once: its number, its mode, its
//! struct and method names, its arguments and its result:
//!
//! ```text
//! /// bind(2): gives `fd` a local address.
//! 2 quick Bind / bind { fd: Descriptor, address: SocketAddr } -> ();
//! ```
//!
//! From that the macro makes:
//! - `call::Bind`, the arguments as a serde struct, with [`crate::Call`]
//!   giving its number, name, mode and result type;
//! - `Handler::bind`, which the kernel implements;
//! - `Stubs::bind(fd, address)`, which a client gets for free once it
//!   implements `Stubs::call`;
//! - the `dispatch` arm that decodes the arguments of call 2, runs
//!   `Handler::bind` and encodes its result, and the [`crate::Entry`] of
//!   `TABLE`.
//!
//! A number used twice is a build error (two equal match arms would only
//! warn, so `TABLE`'s uniqueness is also checked by a test).

/// Declares the system-call table; see the module documentation.
macro_rules! system_calls {
    ($(
        $(#[doc = $doc:literal])*
        $number:literal $mode:ident $name:ident / $method:ident
            { $($field:ident : $type:ty),* $(,)? } -> $output:ty;
    )*) => {
        /// The calls' arguments, one struct per call.
        pub mod call {
            #[allow(unused_imports, reason = "each table line uses its own types")]
            use super::*;
            $(
                $(#[doc = $doc])*
                #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
                #[allow(missing_docs, reason = "the arguments are documented on the call")]
                pub struct $name { $(pub $field: $type,)* }

                impl $crate::Call for $name {
                    const NUMBER: u16 = $number;
                    const NAME: &'static str = stringify!($method);
                    const MODE: $crate::Mode = $crate::Mode::$mode;
                    type Output = $output;
                }
            )*
        }

        /// The kernel's side of the table: one method per call.
        pub trait Handler {
            $(
                $(#[doc = $doc])*
                ///
                /// # Errors
                /// The call's errno.
                fn $method(&self, call: call::$name) -> Result<$output, $crate::Errno>;
            )*
        }

        /// The client's side of the table: a stub per call over
        /// [`Stubs::call`], which sends one request and waits for its reply.
        pub trait Stubs {
            /// What a call fails with: the remote errno, or the
            /// transport's and the protocol's errors.
            type Error: From<$crate::Errno>;

            /// Makes the remote call `call` and returns its result.
            ///
            /// # Errors
            /// [`Stubs::Error`].
            fn call<C: $crate::Call>(&self, call: C) -> Result<C::Output, Self::Error>;

            $(
                $(#[doc = $doc])*
                ///
                /// # Errors
                /// The remote errno, or the transport's error.
                fn $method(&self, $($field: $type),*) -> Result<$output, Self::Error> {
                    self.call(call::$name { $($field),* })
                }
            )*
        }

        /// Any one call with its arguments: what [`decode`] makes of a
        /// request.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Request {
            $(
                $(#[doc = $doc])*
                $name(call::$name),
            )*
        }

        impl Request {
            /// Its request frame, with `id`.
            pub fn frame(&self, id: u64) -> alloc::vec::Vec<u8> {
                match self {
                    $(Self::$name(call) => $crate::frame::request(id, call),)*
                }
            }

            /// Its call's number.
            pub fn number(&self) -> u16 {
                match self {
                    $(Self::$name(_) => $number,)*
                }
            }
        }

        /// Decodes call `number`'s `arguments` (the server's decoder).
        ///
        /// # Errors
        /// [`crate::Refusal::UnknownCall`], [`crate::Refusal::Malformed`].
        pub fn decode(number: u16, arguments: &[u8]) -> Result<Request, $crate::Refusal> {
            match number {
                $($number => $crate::frame::decode(arguments).map(Request::$name),)*
                _ => Err($crate::Refusal::UnknownCall),
            }
        }

        /// Every call: number, name, mode.
        pub const TABLE: &[$crate::Entry] = &[
            $($crate::Entry {
                number: $number,
                name: stringify!($method),
                mode: $crate::Mode::$mode,
            },)*
        ];

        /// Runs request `id`, call `number` with its encoded `arguments`, on
        /// `handler`, and returns the whole reply frame: the result, the
        /// call's errno, or a refusal ([`crate::Refusal::UnknownCall`],
        /// [`crate::Refusal::Malformed`]).
        pub fn dispatch<H: Handler + ?Sized>(
            handler: &H,
            id: u64,
            number: u16,
            arguments: &[u8],
        ) -> alloc::vec::Vec<u8> {
            match number {
                $($number => $crate::frame::run::<call::$name>(id, arguments, |call| {
                    handler.$method(call)
                }),)*
                _ => $crate::frame::refusal(id, $crate::Refusal::UnknownCall),
            }
        }
    };
}

pub(crate) use system_calls;
