//! The reply to `stats`: one `STAT name value` line each, then `END`.

use super::reply::{Reply, VERSION};
use crate::clock::Clock;
use crate::number::{DECIMAL_U64_LENGTH, format_u64};
use crate::store::Store;

/// Writes every statistic, the version after `time` as memcached does.
pub(crate) fn write(reply: &mut Reply<'_>, store: &Store, now: Clock) {
    for (name, value) in store.statistics(now) {
        let mut buffer = [0; DECIMAL_U64_LENGTH];
        line(reply, name, format_u64(value, &mut buffer));
        if name == "time" {
            line(reply, "version", VERSION.as_bytes());
        }
    }
    reply.line(b"END\r\n");
}

fn line(reply: &mut Reply<'_>, name: &str, value: &[u8]) {
    reply.line(b"STAT ");
    reply.line(name.as_bytes());
    reply.line(b" ");
    reply.line(value);
    reply.line(b"\r\n");
}
