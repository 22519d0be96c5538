//! Builds a DHCP message in a caller's buffer, checking every write.
//!
//! Order of use: [`MessageWriter::new`] (header, cookie, option 53), any
//! number of options, then [`MessageWriter::finish`] (end marker and zero
//! padding to [`MINIMUM_LENGTH`]). Nothing is written out of bounds: a
//! buffer that is too small yields [`Error::BufferTooSmall`].

use super::{COOKIE_OFFSET, Header, MAGIC_COOKIE, MINIMUM_LENGTH, MessageType, option};
use crate::Error;
use core::net::Ipv4Addr;

/// A message under construction; `length` bytes of `buffer` are written.
#[derive(Debug)]
pub struct MessageWriter<'a> {
    buffer: &'a mut [u8],
    length: usize,
}

impl<'a> MessageWriter<'a> {
    /// Writes the fixed header (zero `sname` and `file`), the magic cookie
    /// and option 53 with `message_type`.
    pub fn new(
        buffer: &'a mut [u8],
        header: &Header,
        message_type: MessageType,
    ) -> Result<Self, Error> {
        let mut writer = Self { buffer, length: 0 };
        writer.put(&[header.op, header.hardware_type, header.hardware_length, 0])?;
        writer.put(&header.xid.to_be_bytes())?;
        writer.put(&header.secs.to_be_bytes())?;
        writer.put(&header.flags.to_be_bytes())?;
        for address in [
            header.client_address,
            header.your_address,
            header.server_address,
            header.relay_address,
        ] {
            writer.put(&address.octets())?;
        }
        writer.put(&header.hardware_address)?;
        writer.zeros(COOKIE_OFFSET - writer.length)?;
        writer.put(&MAGIC_COOKIE)?;
        writer.option(option::MESSAGE_TYPE, &[message_type as u8])?;
        Ok(writer)
    }

    /// Appends one option; `data` must fit its one-byte length.
    pub fn option(&mut self, code: u8, data: &[u8]) -> Result<(), Error> {
        let length = u8::try_from(data.len()).map_err(|_| Error::BadOptionLength)?;
        self.put(&[code, length])?;
        self.put(data)
    }

    /// Appends an option holding one address.
    pub fn address_option(&mut self, code: u8, address: Ipv4Addr) -> Result<(), Error> {
        self.option(code, &address.octets())
    }

    /// Appends an option holding one 4-byte big-endian number.
    pub fn u32_option(&mut self, code: u8, value: u32) -> Result<(), Error> {
        self.option(code, &value.to_be_bytes())
    }

    /// Writes the end marker, pads to [`MINIMUM_LENGTH`] and returns the
    /// length of the whole message.
    pub fn finish(mut self) -> Result<usize, Error> {
        self.put(&[option::END])?;
        self.zeros(MINIMUM_LENGTH.saturating_sub(self.length))?;
        Ok(self.length)
    }

    /// Copies `bytes` to the end of the message.
    fn put(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let end = self.length + bytes.len();
        let target = self
            .buffer
            .get_mut(self.length..end)
            .ok_or(Error::BufferTooSmall)?;
        target.copy_from_slice(bytes);
        self.length = end;
        Ok(())
    }

    /// Appends `count` zero bytes.
    fn zeros(&mut self, count: usize) -> Result<(), Error> {
        let end = self.length + count;
        let target = self
            .buffer
            .get_mut(self.length..end)
            .ok_or(Error::BufferTooSmall)?;
        target.fill(0);
        self.length = end;
        Ok(())
    }
}
