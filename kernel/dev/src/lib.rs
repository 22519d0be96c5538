//! The dev faction: PCI enumeration, driver matching, interrupts and DMA.

#![no_std]
