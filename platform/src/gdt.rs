//! The kernel's GDT and TSS, with separate stacks for fatal exceptions.
//!
//! Layout: null, kernel code (0x08), kernel data (0x10), TSS (0x18, two
//! slots); the code and data selectors match the boot GDT's. The TSS's
//! interrupt stack table gives double fault, NMI and machine check their
//! own stacks, so that they are reported even when the interrupted stack
//! is exhausted (a stack overflow hits the guard page, the page fault
//! cannot push its frame, and the CPU raises a double fault on IST 1).
//! No ring 3 exists, so the TSS's privilege stacks stay empty.

use core::cell::UnsafeCell;

use spin::Once;
use x86_64::VirtAddr;
use x86_64::instructions::segmentation::{CS, DS, ES, SS, Segment};
use x86_64::instructions::tables::load_tss;
use x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable, SegmentSelector};
use x86_64::structures::tss::TaskStateSegment;

/// IST slot (0-based, as the IDT entry wants it) of the double fault stack.
pub const DOUBLE_FAULT_STACK_INDEX: u16 = 0;
/// IST slot of the NMI stack.
pub const NMI_STACK_INDEX: u16 = 1;
/// IST slot of the machine check stack.
pub const MACHINE_CHECK_STACK_INDEX: u16 = 2;

/// Size of each IST stack: enough to format a report and walk a backtrace.
const STACK_SIZE: usize = 16 * 1024;

/// A stack only the CPU writes to (through the TSS).
#[repr(C, align(16))]
struct Stack(UnsafeCell<[u8; STACK_SIZE]>);

// SAFETY: Rust code never reads or writes the stack's bytes; only the CPU
// uses them, as a stack, after an exception switched to it.
unsafe impl Sync for Stack {}

impl Stack {
    const fn new() -> Self {
        Self(UnsafeCell::new([0; STACK_SIZE]))
    }

    /// The address just above the stack (stacks grow down).
    fn top(&self) -> VirtAddr {
        VirtAddr::from_ptr(self.0.get()) + STACK_SIZE as u64
    }
}

static DOUBLE_FAULT_STACK: Stack = Stack::new();
static NMI_STACK: Stack = Stack::new();
static MACHINE_CHECK_STACK: Stack = Stack::new();

/// The selectors of the kernel GDT.
#[derive(Debug, Clone, Copy)]
struct Selectors {
    /// 64-bit kernel code.
    code: SegmentSelector,
    /// Kernel data (also the stack segment).
    data: SegmentSelector,
    /// The task state segment.
    tss: SegmentSelector,
}

static TSS: Once<TaskStateSegment> = Once::new();
static GDT: Once<(GlobalDescriptorTable, Selectors)> = Once::new();

/// The TSS with its three interrupt stacks.
fn task_state_segment() -> TaskStateSegment {
    let mut stacks = [VirtAddr::zero(); 7];
    stacks[usize::from(DOUBLE_FAULT_STACK_INDEX)] = DOUBLE_FAULT_STACK.top();
    stacks[usize::from(NMI_STACK_INDEX)] = NMI_STACK.top();
    stacks[usize::from(MACHINE_CHECK_STACK_INDEX)] = MACHINE_CHECK_STACK.top();
    let mut tss = TaskStateSegment::new();
    tss.interrupt_stack_table = stacks;
    tss
}

/// The GDT describing the kernel segments and the TSS.
fn global_descriptor_table(tss: &'static TaskStateSegment) -> (GlobalDescriptorTable, Selectors) {
    let mut gdt = GlobalDescriptorTable::new();
    let code = gdt.append(Descriptor::kernel_code_segment());
    let data = gdt.append(Descriptor::kernel_data_segment());
    let tss = gdt.append(Descriptor::tss_segment(tss));
    (gdt, Selectors { code, data, tss })
}

/// Loads the GDT, reloads every segment register and loads the TSS.
/// Called exactly once by the boot code, before the IDT is built (a second
/// `ltr` would fault: loading marks the TSS busy).
pub(crate) fn init() {
    let tss = TSS.call_once(task_state_segment);
    let (gdt, selectors) = GDT.call_once(|| global_descriptor_table(tss));
    gdt.load();
    // SAFETY: the GDT just loaded holds a 64-bit code segment at
    // `selectors.code`, a data segment at `selectors.data` and an available
    // TSS at `selectors.tss`, and stays loaded for the life of the image.
    unsafe {
        CS::set_reg(selectors.code);
        SS::set_reg(selectors.data);
        DS::set_reg(selectors.data);
        ES::set_reg(selectors.data);
        load_tss(selectors.tss);
    }
}
