//! Engine-wide counters, displayed as "name value" lines.

use core::fmt;

macro_rules! counters {
    ($($(#[$meta:meta])* $name:ident,)*) => {
        /// Counters of one engine; all start at zero and only grow.
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct TcpStats {
            $($(#[$meta])* pub $name: u64,)*
        }

        impl fmt::Display for TcpStats {
            /// One "name value" line per counter.
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                $(writeln!(formatter, "{} {}", stringify!($name), self.$name)?;)*
                Ok(())
            }
        }
    };
}

counters! {
    /// Segments handed to `input`.
    segments_received,
    /// Segments passed to `Transmit::send` (sent or not).
    segments_sent,
    /// Segments `Transmit::send` refused.
    transmit_errors,
    /// Data, SYN or FIN segments sent again.
    retransmitted_segments,
    /// Segments whose checksum did not verify.
    bad_checksums,
    /// Segments dropped as malformed (header) or not for us.
    bad_segments,
    /// Connections opened by `connect`.
    active_opens,
    /// Connections created from a listener's SYN.
    passive_opens,
    /// Connections that reached ESTABLISHED.
    established,
    /// Connections ended by a reset from the peer.
    resets_received,
    /// Resets sent.
    resets_sent,
    /// SYNs (and returning cookies) dropped because a queue of the
    /// listener was full, or no socket or memory was had.
    syn_drops,
    /// SYN-ACKs sent with a SYN cookie (RFC 4987) for a full SYN queue.
    syn_cookies_sent,
    /// ACKs that returned a valid cookie: connections made from one.
    syn_cookies_valid,
    /// ACKs to a listener that sent cookies lately whose cookie failed.
    syn_cookies_invalid,
    /// Bytes received out of order and kept.
    out_of_order_bytes,
    /// Segments that carried only already-received data.
    duplicate_segments,
    /// Segments with URG: their data is delivered in-band and the urgent
    /// pointer ignored (RFC 6093).
    urgent_segments,
    /// Fast retransmits (loss recovery entered).
    fast_retransmits,
    /// Retransmission timer expirations.
    timeouts,
    /// Connections that gave up (retransmissions or keepalive).
    connection_timeouts,
    /// Allocations the memory budget refused (a SYN, a socket, buffer
    /// growth, a flight record).
    memory_refusals,
    /// Idle connections whose buffers were given back under memory
    /// pressure.
    buffers_shrunk,
    /// Challenge ACKs sent (RFC 5961).
    challenge_acks,
    /// Challenge ACKs suppressed by the rate limit.
    challenge_acks_suppressed,
    /// Segments rejected by PAWS (RFC 7323).
    paws_rejects,
    /// Segments outside the receive window.
    unacceptable_segments,
    /// Keepalive probes sent.
    keepalive_probes,
    /// Zero-window probes sent.
    window_probes,
    /// ACKs sent by the delayed ACK timer.
    delayed_acks,
    /// Segments for which no socket existed.
    no_socket,
    /// TIME-WAIT connections reused by a new SYN or connect.
    time_wait_reuses,
    /// ICMP unreachable messages applied to a connection.
    icmp_errors,
    /// Packet Too Big hints that made a connection send smaller segments.
    path_mtu_decreases,
    /// Segments RACK marked lost (RFC 8985).
    rack_losses,
    /// Tail loss probes sent (RFC 8985 7).
    tail_loss_probes,
    /// Retransmitted probes that repaired a loss.
    tail_loss_repairs,
    /// ACKs that carried a D-SACK (RFC 2883).
    duplicate_sacks_received,
    /// Retransmission timeouts found spurious and undone (Eifel).
    spurious_timeouts,
    /// Of `spurious_timeouts`, those F-RTO found (RFC 5682), without
    /// timestamps.
    spurious_timeouts_forward,
    /// Fast recoveries found spurious and undone.
    spurious_recoveries,
    /// Segments that arrived marked Congestion Experienced (RFC 3168).
    congestion_marks_received,
    /// Congestion windows cut for an ECN-Echo.
    congestion_window_reductions,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn display_is_one_name_value_line_per_counter() {
        let stats = TcpStats {
            segments_received: 3,
            timeouts: 2,
            ..TcpStats::default()
        };
        let text = stats.to_string();
        assert!(text.starts_with("segments_received 3\n"));
        assert!(text.lines().any(|line| line == "timeouts 2"));
        assert!(text.lines().all(|line| line.split(' ').count() == 2));
    }
}
