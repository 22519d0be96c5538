//! The interface version and the compatibility rule of the boot handshake.

use core::fmt;

/// The version of the interface defined by this crate.
///
/// Bump `minor` when adding calls with default implementations or new enum
/// variants that old kernels never see; bump `major` for anything else.
///
/// 1.1 added the virtual NIC group ([`crate::VirtualNics`]). 2.0 made
/// the calls the kernel's memory safety rests on `unsafe` to implement
/// ([`crate::Memory`], [`crate::HostMutex`], [`crate::HostCondvar`]),
/// moved DMA and register mappings into their own group
/// ([`crate::DeviceMemory`]) with opaque tokens, gave the PCI group the
/// host's list of functions and opaque BARs, and dropped the host rwlock
/// and `try_enter`, which no kernel called. 2.1 added the stream
/// endpoints ([`crate::StreamEndpoints`]) remote clients connect to.
/// 2.2 added the virtual NICs' offloads ([`crate::NicOffloads`]). 2.3
/// added the block device group ([`crate::BlockDevices`]). 2.4 added
/// segmentation of TCP/IPv6 to the NICs' offloads
/// ([`crate::NicOffloads::segmentation_ipv6`], false on older hosts).
/// 2.5 added stop requests ([`crate::StopRequests`]: the power button).
/// 3.0 gave block requests and completions segments instead of one
/// buffer ([`crate::BlockRequest::buffers`],
/// [`crate::BlockDevice::max_segments`]), so that a run of blocks moves
/// without a copy.
pub const VERSION: Version = Version { major: 3, minor: 0 };

/// A version of the hypercall interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    /// Incompatible changes.
    pub major: u16,
    /// Backward-compatible additions.
    pub minor: u16,
}

impl Version {
    /// Builds a version.
    pub const fn new(major: u16, minor: u16) -> Self {
        Self { major, minor }
    }

    /// Whether a host speaking `self` can run a kernel that needs `required`:
    /// the same major version, and at least the required minor one.
    pub const fn supports(self, required: Version) -> bool {
        self.major == required.major && self.minor >= required.minor
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_major_newer_minor_is_supported() {
        assert!(Version::new(1, 3).supports(Version::new(1, 2)));
        assert!(Version::new(1, 2).supports(Version::new(1, 2)));
    }

    #[test]
    fn older_minor_or_other_major_is_not() {
        assert!(!Version::new(1, 1).supports(Version::new(1, 2)));
        assert!(!Version::new(2, 0).supports(Version::new(1, 0)));
        assert!(!Version::new(0, 9).supports(Version::new(1, 0)));
    }
}
