//! Device interrupts: controllers, vector allocation, handlers and dispatch.
//!
//! [`init`] masks and remaps the PIC, enables the local APIC (LINT0 ExtINT,
//! LINT1 NMI) and masks every I/O APIC pin, and picks a [`Mode`]. Then
//! [`register`] binds a [`Source`] to a [`Vector`] and a [`Handler`];
//! the IDT stubs call [`dispatch()`] for vectors 32..=255, which runs the
//! handler with interrupts disabled and sends the EOI. Level-triggered
//! lines are masked on delivery; [`unmask`] re-arms them once the device
//! was serviced. Spurious and unexpected vectors are counted
//! ([`statistics`]), never fatal. Vector layout: see `table.rs`.

mod dispatch;
pub mod io_apic;
pub mod local_apic;
pub mod pic;
mod table;
mod types;

pub use dispatch::dispatch;
pub use table::{Statistics, WAKEUP as WAKEUP_VECTOR, delivered, statistics};
pub use types::{Handler, InterruptError, Mode, MsiMessage, Polarity, Source, Trigger, Vector};

use spin::Once;
use table::{Entry, Route};

static MODE: Once<Mode> = Once::new();

/// Brings up the controllers (once; later calls return the first result).
/// Interrupts stay disabled.
///
/// # Errors
/// [`InterruptError::NoController`] if neither a local APIC nor a PIC
/// answers; a local APIC that cannot be enabled falls back to the PIC.
pub fn init() -> Result<Mode, InterruptError> {
    if let Some(mode) = MODE.get() {
        return Ok(*mode);
    }
    let pic_present = pic::probe_and_mask(table::PIC_BASE);
    let mode = match local_apic::enable(pic_present) {
        Ok(_) if io_apic::probe().is_some() => Mode::IoApic,
        Ok(_) if pic_present => Mode::ApicWithPic,
        Err(_) if pic_present => Mode::Pic,
        _ => return Err(InterruptError::NoController),
    };
    Ok(*MODE.call_once(|| mode))
}

/// The mode [`init`] chose, if it ran.
pub fn mode() -> Option<Mode> {
    MODE.get().copied()
}

/// Adds an I/O APIC beyond the first (at `base`, first GSI `gsi_base`,
/// from the ACPI MADT), so that its GSIs can be registered. Only in
/// [`Mode::IoApic`].
///
/// # Errors
/// [`InterruptError::NotInitialised`], [`InterruptError::Unsupported`]
/// outside I/O APIC mode, [`InterruptError::InvalidLine`] when nothing
/// usable answers at `base`.
pub fn add_io_apic(base: u64, gsi_base: u32) -> Result<(), InterruptError> {
    match mode() {
        None => Err(InterruptError::NotInitialised),
        Some(Mode::IoApic) => io_apic::add(base, gsi_base)
            .map(|_| ())
            .ok_or(InterruptError::InvalidLine),
        Some(_) => Err(InterruptError::Unsupported),
    }
}

/// Binds `source` to a vector that calls `handler`; wired lines are routed
/// and unmasked, so the handler may run as soon as interrupts are enabled.
///
/// # Errors
/// [`InterruptError::NotInitialised`], [`InterruptError::Unsupported`] (no
/// APIC for MSI/software, GSI ≥ 16 without I/O APIC),
/// [`InterruptError::InvalidLine`], [`InterruptError::NoFreeVector`],
/// [`InterruptError::Busy`] (the PIC line is taken).
pub fn register(source: Source, handler: Handler) -> Result<Vector, InterruptError> {
    let mode = mode().ok_or(InterruptError::NotInitialised)?;
    let (gsi, level, active_low) = match source {
        Source::Msi | Source::Software => return register_local(mode, handler),
        Source::Isa(irq) if irq < 16 => (io_apic::isa_to_gsi(irq), false, false),
        Source::Isa(_) => return Err(InterruptError::InvalidLine),
        Source::Gsi {
            gsi,
            trigger,
            polarity,
        } => (gsi, trigger == Trigger::Level, polarity == Polarity::Low),
    };
    match mode {
        Mode::IoApic => register_io_apic(gsi, level, active_low, handler),
        Mode::ApicWithPic | Mode::Pic => register_pic(gsi, level, handler),
    }
}

fn register_local(mode: Mode, handler: Handler) -> Result<Vector, InterruptError> {
    if mode == Mode::Pic {
        return Err(InterruptError::Unsupported);
    }
    table::allocate(Entry {
        handler,
        route: Route::Local,
    })
}

fn register_io_apic(
    gsi: u32,
    level: bool,
    active_low: bool,
    handler: Handler,
) -> Result<Vector, InterruptError> {
    io_apic::get().ok_or(InterruptError::Unsupported)?;
    let io_apic = io_apic::serving(gsi).ok_or(InterruptError::InvalidLine)?;
    let destination = local_apic::get().map_or(0, |apic| apic.id());
    let vector = table::allocate(Entry {
        handler,
        route: Route::IoApic { gsi, level },
    })?;
    let routing = io_apic::Routing {
        vector: vector.0,
        level_triggered: level,
        active_low,
        destination,
    };
    io_apic.route(gsi, routing, false);
    Ok(vector)
}

fn register_pic(gsi: u32, level: bool, handler: Handler) -> Result<Vector, InterruptError> {
    // Under the PIC, GSI 2 is ISA IRQ 0 (the override) and GSI 0 is unused.
    let irq = match gsi {
        2 => 0,
        0 | 16.. => return Err(InterruptError::InvalidLine),
        _ => gsi as u8,
    };
    let vector = table::install(
        table::PIC_BASE + irq,
        Entry {
            handler,
            route: Route::Pic { irq, level },
        },
    )?;
    pic::set_masked(irq, false);
    Ok(vector)
}

/// Installs `handler` at a fixed local vector (the wakeup timer).
pub(crate) fn install_local(vector: u8, handler: Handler) -> Result<Vector, InterruptError> {
    table::install(
        vector,
        Entry {
            handler,
            route: Route::Local,
        },
    )
}

/// Masks the line and frees `vector`.
///
/// # Errors
/// [`InterruptError::NotRegistered`].
pub fn unregister(vector: Vector) -> Result<(), InterruptError> {
    let _ = mask(vector);
    table::remove(vector)
        .map(|_| ())
        .ok_or(InterruptError::NotRegistered)
}

/// Masks the wired line behind `vector`.
///
/// # Errors
/// [`InterruptError::NotRegistered`], [`InterruptError::NotALine`].
pub fn mask(vector: Vector) -> Result<(), InterruptError> {
    set_line_masked(vector.0, true)
}

/// Unmasks the wired line behind `vector` (after a level-triggered
/// delivery: once the device no longer asserts it, or it fires again).
///
/// # Errors
/// [`InterruptError::NotRegistered`], [`InterruptError::NotALine`].
pub fn unmask(vector: Vector) -> Result<(), InterruptError> {
    set_line_masked(vector.0, false)
}

pub(crate) fn set_line_masked(vector: u8, masked: bool) -> Result<(), InterruptError> {
    match table::lookup(vector)
        .ok_or(InterruptError::NotRegistered)?
        .route
    {
        Route::IoApic { gsi, .. } => {
            io_apic::serving(gsi).map(|io_apic| io_apic.set_masked(gsi, masked));
            Ok(())
        }
        Route::Pic { irq, .. } => {
            pic::set_masked(irq, masked);
            Ok(())
        }
        Route::Local => Err(InterruptError::NotALine),
    }
}

/// Raises `vector` on this CPU (a self-IPI): its handler runs once
/// interrupts are enabled. Never blocks.
///
/// # Errors
/// [`InterruptError::Unsupported`] without a local APIC,
/// [`InterruptError::NotRegistered`], [`InterruptError::SendFailed`].
pub fn raise(vector: Vector) -> Result<(), InterruptError> {
    let apic = local_apic::get().ok_or(InterruptError::Unsupported)?;
    table::lookup(vector.0).ok_or(InterruptError::NotRegistered)?;
    if apic.send_self(vector.0) {
        Ok(())
    } else {
        Err(InterruptError::SendFailed)
    }
}

/// The MSI address/data that raises `vector` on this CPU.
///
/// # Errors
/// [`InterruptError::Unsupported`] without a local APIC,
/// [`InterruptError::NotRegistered`].
pub fn msi_message(vector: Vector) -> Result<MsiMessage, InterruptError> {
    let apic = local_apic::get().ok_or(InterruptError::Unsupported)?;
    table::lookup(vector.0).ok_or(InterruptError::NotRegistered)?;
    let address = 0xfee0_0000 | (u64::from(apic.id()) << 12);
    Ok(MsiMessage {
        address,
        data: u32::from(vector.0),
    })
}
