//! Machine diagnostics for the test image: faults raised on purpose.

/// Executes an invalid instruction: the platform reports the exception
/// (registers, backtrace) and ends the machine with failure 62.
pub fn raise_invalid_opcode() {
    platform::diagnostics::raise_invalid_opcode();
}
