//! The virtio-net component: virtio NICs as interfaces of the net faction.

#![no_std]
