//! Device interrupts: vector allocation and dispatch (placeholder).

/// Runs the handler registered for `vector` (32..=255); called by the IDT
/// stubs with interrupts disabled.
#[allow(dead_code, reason = "placeholder until the interrupt controllers land")]
pub(crate) fn dispatch(vector: u8) {
    let _ = vector;
}
