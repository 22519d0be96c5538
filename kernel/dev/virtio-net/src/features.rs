//! The virtio-net features we negotiate and `virtio_net.offload=`.
//!
//! The boot parameter `virtio_net.offload=none|csum|all` limits the
//! offloads among them.
//!
//! | feature | bit | what it gives |
//! | --- | --- | --- |
//! | `CSUM` | 0 | the device completes partial transmit checksums |
//! | `GUEST_CSUM` | 1 | received frames may come checked (`DATA_VALID`) or partial (`NEEDS_CSUM`) |
//! | `MAC` | 5 | the configuration holds the MAC address |
//! | `GUEST_TSO4` | 7 | received TCP/IPv4 segments may be coalesced up to 64 KiB |
//! | `GUEST_TSO6` | 8 | the same for TCP/IPv6 |
//! | `HOST_TSO4` | 11 | the device cuts transmitted TCP/IPv4 bursts (TSO) |
//! | `HOST_TSO6` | 12 | the same for TCP/IPv6 |
//! | `MRG_RXBUF` | 15 | a received frame may span several buffers |
//! | `STATUS` | 16 | the configuration holds the link status |
//! | `VERSION_1` | 32 | a modern device |
//!
//! A router (forwarding on at boot) takes neither `GUEST_TSO` bit
//! ([`Setting::Forwarding`]). `GUEST_TSO4` and `GUEST_TSO6` are taken only
//! with `MRG_RXBUF` (our receive buffers are 2 KiB pool blocks), the
//! `HOST_TSO` bits only with `CSUM`, the `GUEST_TSO` bits only with
//! `GUEST_CSUM` (the spec's dependencies). `RING_EVENT_IDX` is not
//! taken: virtio-drivers 0.13 rewrites `used_event` on every pop, so under
//! it used-buffer interrupts cannot be suppressed, and its kick test is
//! not wrap-safe; the ring flags (`NO_INTERRUPT`, `NO_NOTIFY`) suppress
//! both here instead. Indirect descriptors are not taken either: every
//! buffer is one descriptor.

use net::Offloads;

/// Device feature bits (virtio 1.1 §5.1.3).
pub(crate) mod bit {
    pub(crate) const CSUM: u64 = 1 << 0;
    pub(crate) const GUEST_CSUM: u64 = 1 << 1;
    pub(crate) const MAC: u64 = 1 << 5;
    pub(crate) const GUEST_TSO4: u64 = 1 << 7;
    pub(crate) const GUEST_TSO6: u64 = 1 << 8;
    pub(crate) const HOST_TSO4: u64 = 1 << 11;
    pub(crate) const HOST_TSO6: u64 = 1 << 12;
    pub(crate) const MRG_RXBUF: u64 = 1 << 15;
    pub(crate) const STATUS: u64 = 1 << 16;
    pub(crate) const VERSION_1: u64 = virtio::init::feature::VERSION_1;
}

/// The boot parameter's key.
pub(crate) const KEY: &str = "virtio_net.offload";

/// Which offloads the boot parameter allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Setting {
    /// None: the driver of before, 1,514-byte frames checked by the stack.
    None,
    /// Checksums both ways, no segmentation.
    Checksum,
    /// Checksums, TSO both ways, merged receive buffers.
    #[default]
    All,
    /// All but receive coalescing (the `GUEST_TSO` bits): what `all` becomes on a
    /// router (`ip.forwarding=on` or `ip6.forwarding=on`), which passes
    /// segments on as they came, as Linux turns LRO off when forwarding.
    Forwarding,
}

impl Setting {
    /// Parses the parameter's value (`None` when absent: the default).
    ///
    /// # Errors
    /// A fixed message for any other value.
    pub(crate) fn parse(value: Option<&str>) -> Result<Self, &'static str> {
        match value {
            None | Some("all") => Ok(Self::All),
            Some("csum") => Ok(Self::Checksum),
            Some("none") => Ok(Self::None),
            Some(_) => Err("boot parameter virtio_net.offload: expected none, csum or all"),
        }
    }

    /// The features the driver asks for under this setting.
    pub(crate) fn wanted(self) -> u64 {
        let base = bit::MAC | bit::STATUS | bit::VERSION_1;
        let checksums = bit::CSUM | bit::GUEST_CSUM;
        let transmit = bit::HOST_TSO4 | bit::HOST_TSO6 | bit::MRG_RXBUF;
        let receive = bit::GUEST_TSO4 | bit::GUEST_TSO6;
        match self {
            Self::None => base,
            Self::Checksum => base | checksums,
            Self::All => base | checksums | transmit | receive,
            Self::Forwarding => base | checksums | transmit,
        }
    }
}

/// The features both sides agreed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Negotiated(pub(crate) u64);

impl Negotiated {
    /// What to accept of `offered` under `setting`, dependencies kept.
    pub(crate) fn choose(offered: u64, setting: Setting) -> Self {
        let mut features = offered & setting.wanted();
        let drop_unless = |features: &mut u64, feature: u64, needs: u64| {
            if *features & needs != needs {
                *features &= !feature;
            }
        };
        drop_unless(&mut features, bit::HOST_TSO4, bit::CSUM);
        drop_unless(&mut features, bit::HOST_TSO6, bit::CSUM);
        for guest in [bit::GUEST_TSO4, bit::GUEST_TSO6] {
            drop_unless(&mut features, guest, bit::GUEST_CSUM | bit::MRG_RXBUF);
        }
        Self(features)
    }

    /// Whether `feature` was agreed.
    pub(crate) fn has(self, feature: u64) -> bool {
        self.0 & feature != 0
    }

    /// Bytes of virtio-net header before each frame: 12 on modern devices
    /// and with merged buffers, 10 on legacy ones without.
    pub(crate) fn header_length(self) -> usize {
        if self.has(bit::VERSION_1) || self.has(bit::MRG_RXBUF) {
            12
        } else {
            10
        }
    }

    /// What the interface tells the stack.
    pub(crate) fn offloads(self) -> Offloads {
        Offloads {
            transmit_checksum: self.has(bit::CSUM),
            segmentation_ipv4: self.has(bit::HOST_TSO4) && self.has(bit::CSUM),
            segmentation_ipv6: self.has(bit::HOST_TSO6) && self.has(bit::CSUM),
        }
    }

    /// A received frame may span several buffers.
    pub(crate) fn mergeable(self) -> bool {
        self.has(bit::MRG_RXBUF)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVERYTHING: u64 = u64::MAX;

    #[test]
    fn the_parameter_takes_three_words_and_defaults_to_all() {
        assert_eq!(Setting::parse(None), Ok(Setting::All));
        assert_eq!(Setting::parse(Some("all")), Ok(Setting::All));
        assert_eq!(Setting::parse(Some("csum")), Ok(Setting::Checksum));
        assert_eq!(Setting::parse(Some("none")), Ok(Setting::None));
        for bad in ["", "ALL", "tso", "none,csum"] {
            assert!(Setting::parse(Some(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn each_setting_takes_its_features_and_nothing_more() {
        let none = Negotiated::choose(EVERYTHING, Setting::None);
        assert_eq!(none.offloads(), Offloads::NONE);
        assert!(!none.has(bit::GUEST_CSUM) && !none.mergeable());
        let checksum = Negotiated::choose(EVERYTHING, Setting::Checksum);
        let offloads = checksum.offloads();
        assert!(offloads.transmit_checksum && !offloads.segments(4) && !offloads.segments(6));
        assert!(checksum.has(bit::GUEST_CSUM) && !checksum.has(bit::GUEST_TSO4));
        assert!(!checksum.has(bit::GUEST_TSO6));
        let all = Negotiated::choose(EVERYTHING, Setting::All);
        assert_eq!(all.offloads(), Offloads::ALL);
        assert!(all.has(bit::GUEST_TSO4) && all.has(bit::GUEST_TSO6) && all.mergeable());
        assert_eq!(all.0 & !Setting::All.wanted(), 0, "nothing unasked");
        let router = Negotiated::choose(EVERYTHING, Setting::Forwarding);
        assert_eq!(router.offloads(), Offloads::ALL);
        assert!(!router.has(bit::GUEST_TSO4) && !router.has(bit::GUEST_TSO6));
        assert!(router.has(bit::HOST_TSO6) && router.mergeable());
    }

    #[test]
    fn dependencies_hold_whatever_the_device_offers() {
        let tso4 = bit::HOST_TSO4 | bit::GUEST_TSO4;
        let tso6 = bit::HOST_TSO6 | bit::GUEST_TSO6;
        let tso_alone = tso4 | tso6 | bit::MAC | bit::VERSION_1;
        let agreed = Negotiated::choose(tso_alone, Setting::All);
        assert_eq!(agreed.0 & (tso4 | tso6), 0, "TSO needs the checksums");
        let no_merge = EVERYTHING & !bit::MRG_RXBUF;
        let agreed = Negotiated::choose(no_merge, Setting::All);
        assert!(
            !agreed.has(bit::GUEST_TSO4) && !agreed.has(bit::GUEST_TSO6),
            "64 KiB frames need merged buffers"
        );
        assert!(agreed.has(bit::HOST_TSO4) && agreed.has(bit::HOST_TSO6));
    }

    #[test]
    fn the_header_is_ten_bytes_only_on_legacy_devices_without_merging() {
        assert_eq!(Negotiated(bit::MAC).header_length(), 10);
        assert_eq!(Negotiated(bit::MAC | bit::MRG_RXBUF).header_length(), 12);
        assert_eq!(Negotiated(bit::VERSION_1).header_length(), 12);
    }
}
