//! Components and the init levels at which the base starts them.
//!
//! A component (a driver, a protocol, a faction's core) is a static
//! [`Component`] naming its init function, its [`InitLevel`] and the
//! components it needs. The image passes the components it links to
//! [`crate::Kernel::boot`] (the `kernel` crate assembles that list from its
//! Cargo features), and the base checks that every component's needs are
//! linked too ([`missing_requirement`]), then runs them in level order,
//! stable within a level: the order of the rump papers' Table 3.4. A
//! component that fails stops the boot with its name and reason.

use alloc::vec::Vec;
use core::fmt;

use crate::context::Context;

/// When a component initialises, in boot order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum InitLevel {
    /// Base services, before any faction.
    Kern,
    /// The vfs faction.
    Vfs,
    /// Networking core: protocol domains.
    Net,
    /// Routing, after all domains.
    NetRoute,
    /// Interface creation (e.g. `lo0`).
    NetIf,
    /// Interface configuration, after the interfaces exist.
    NetIfcfg,
    /// Device drivers.
    Dev,
    /// Base services that need the vfs faction.
    KernVfs,
}

/// Why a component could not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComponentError {
    /// Memory ran out.
    OutOfMemory,
    /// A thread could not be created.
    NoThread,
    /// Something the component needs is missing or broken; the text says
    /// what.
    Failed(&'static str),
}

impl fmt::Display for ComponentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OutOfMemory => f.write_str("out of memory"),
            Self::NoThread => f.write_str("could not create a thread"),
            Self::Failed(reason) => f.write_str(reason),
        }
    }
}

impl core::error::Error for ComponentError {}

/// A unit the image links in.
#[derive(Debug)]
pub struct Component {
    /// A short name for logs and errors, unique in an image.
    pub name: &'static str,
    /// When it starts.
    pub level: InitLevel,
    /// The names of the components it needs linked (at any level: a need
    /// at a later level is a need for its service once booted).
    pub requires: &'static [&'static str],
    /// What starts it. Runs on the boot thread with the virtual CPU.
    pub init: fn(&Context<'_>) -> Result<(), ComponentError>,
}

/// The first component of `components` whose need is not among them, and
/// that need.
pub fn missing_requirement(components: &[&Component]) -> Option<(&'static str, &'static str)> {
    components.iter().find_map(|component| {
        let linked = |name: &&str| components.iter().any(|c| c.name == *name);
        let missing = component.requires.iter().find(|name| !linked(name))?;
        Some((component.name, *missing))
    })
}

/// `components` in the order they start: by level, then as given.
pub fn boot_order<'a>(components: &[&'a Component]) -> Vec<&'a Component> {
    let mut ordered = components.to_vec();
    ordered.sort_by_key(|component| component.level);
    ordered
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nothing(_: &Context<'_>) -> Result<(), ComponentError> {
        Ok(())
    }

    const fn component(name: &'static str, level: InitLevel) -> Component {
        Component {
            name,
            level,
            requires: &[],
            init: nothing,
        }
    }

    #[test]
    fn a_need_that_is_not_linked_is_named_with_its_component() {
        static NET: Component = component("net", InitLevel::Net);
        static DRIVER: Component = Component {
            requires: &["net", "pci"],
            ..component("virtio-net", InitLevel::Dev)
        };
        static PCI: Component = component("pci", InitLevel::Dev);
        assert_eq!(missing_requirement(&[&NET, &DRIVER, &PCI]), None);
        assert_eq!(
            missing_requirement(&[&DRIVER, &NET]),
            Some(("virtio-net", "pci"))
        );
        assert_eq!(missing_requirement(&[]), None);
    }

    #[test]
    fn levels_run_in_the_papers_order_and_stay_stable_within_a_level() {
        static DEV: Component = component("virtio", InitLevel::Dev);
        static IFCFG: Component = component("lo0 address", InitLevel::NetIfcfg);
        static NET: Component = component("inet", InitLevel::Net);
        static IF_A: Component = component("lo0", InitLevel::NetIf);
        static IF_B: Component = component("virt0", InitLevel::NetIf);
        static KERN: Component = component("clock", InitLevel::Kern);
        let order: Vec<_> = boot_order(&[&DEV, &IFCFG, &NET, &IF_A, &IF_B, &KERN])
            .iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(
            order,
            ["clock", "inet", "lo0", "virt0", "lo0 address", "virtio"]
        );
    }
}
