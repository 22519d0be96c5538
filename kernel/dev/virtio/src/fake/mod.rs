//! Fake virtio devices for drivers' host tests (feature `fake`).
//!
//! A fake is a thread that plays the device and the transport the driver
//! under test takes ([`FakeDevice::start`]): the transport keeps the
//! registers (status, features, queue addresses, the configuration
//! space) and the device thread serves the queues as the test's model of
//! the device says ([`Pass`]), through the split-ring code of [`FakeQueue`]. Both
//! share one lock ([`Machine`]), and every wait has a deadline. The
//! device raises a software interrupt the driver serves
//! ([`SoftInterrupt`]). [`console`] is a multiport console's model.

pub mod console;
mod device;
mod interrupt;
mod queue;
mod transport;

pub use device::{FakeDevice, Identity, Machine, Pass, Shared};
pub use interrupt::SoftInterrupt;
pub use queue::{Chain, FakeQueue};
pub use transport::FakeTransport;
