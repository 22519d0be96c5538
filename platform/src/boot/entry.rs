//! The 32-bit entry shared by PVH and multiboot2, and the switch to long mode.
//!
//! Both loaders enter `_start32` in 32-bit protected mode with paging off:
//! PVH (QEMU `-kernel`, microvm) with `ebx` pointing at `hvm_start_info`,
//! multiboot2 (GRUB) with `eax = 0x36d76289` and `ebx` pointing at the boot
//! information. The code reads the TSC first (for the guest-side boot time),
//! identity-maps the first 4 GiB with 2 MiB pages, enables long mode, zeroes
//! `.bss` and calls `super::entry64` with the loader's `eax` and `ebx`.
//!
//! One 2 MiB page is split into 4 KiB pages: the one holding the 4 KiB guard
//! page below the 64 KiB boot stack, which stays unmapped. The page tables
//! and the stack lie in `.boot_tables`, a no-bits section after `.bss`
//! that is not zeroed as a whole (every entry the tables use is written;
//! the stack needs no zeroes), so the split page is inside the image.
//! Zeroing is the costliest part of the entry under TCG (each `rep`
//! iteration is one pass through translated code), so it covers only the
//! PML4, the PDPT and `.bss`. Page 0 stays mapped (firmware structures such
//! as the BIOS data area live there).

use core::arch::global_asm;

/// Magic value multiboot2 loaders leave in `eax`.
pub const MULTIBOOT2_LOADER_MAGIC: u32 = 0x36d7_6289;

// The multiboot2 header: magic, architecture (0 = i386 protected mode),
// length, checksum, and the end tag. GRUB then loads the ELF by its program
// headers and jumps to the ELF entry point, `_start32`.
global_asm!(
    r#"
    .section .multiboot2_header, "a"
    .balign 8
multiboot2_header_start:
    .long 0xe85250d6
    .long 0
    .long multiboot2_header_end - multiboot2_header_start
    .long -(0xe85250d6 + (multiboot2_header_end - multiboot2_header_start))
    .short 0
    .short 0
    .long 8
multiboot2_header_end:
    "#
);

// The PVH note: XEN_ELFNOTE_PHYS32_ENTRY (type 18), name "Xen", 8-byte
// descriptor holding the 32-bit entry address.
global_asm!(
    r#"
    .section .note.Xen, "a"
    .balign 4
    .long 4
    .long 8
    .long 18
    .asciz "Xen"
    .balign 4
    .quad _start32
    .balign 4
    "#
);

global_asm!(
    r#"
    .section .text.boot, "ax"
    .code32
    .global _start32
_start32:
    cli
    cld
    mov %eax, %ebp                      # loader magic (multiboot2) or junk (PVH)
    mov %ebx, %esi                      # boot information pointer
    rdtsc
    mov %eax, platform_entry_tsc
    mov %edx, platform_entry_tsc + 4

    # The page tables and the boot stack live outside .bss and are not
    # zeroed wholesale: every PD and PT entry is written below, so only
    # the PML4 and the PDPT need clearing (.bss itself is zeroed in long
    # mode, eight bytes at a time).
    mov $platform_boot_pml4, %edi
    mov $(2 * 4096 / 4), %ecx
    xor %eax, %eax
    rep stosl
    mov $platform_boot_stack_top, %esp

    # PML4[0] -> PDPT; PDPT[0..4] -> four page directories; 2048 PDEs of
    # 2 MiB each map physical 0..4 GiB one to one (present, writable, huge).
    mov $platform_boot_pdpt, %eax
    or $3, %eax
    mov %eax, platform_boot_pml4
    mov $platform_boot_pd, %eax
    or $3, %eax
    xor %ecx, %ecx
1:  mov %eax, platform_boot_pdpt(,%ecx,8)
    add $4096, %eax
    inc %ecx
    cmp $4, %ecx
    jb 1b
    xor %ecx, %ecx
2:  mov %ecx, %eax
    shl $21, %eax
    or $0x83, %eax
    mov %eax, platform_boot_pd(,%ecx,8)
    inc %ecx
    cmp $2048, %ecx
    jb 2b

    # Split the 2 MiB page holding the boot stack's guard page into 4 KiB
    # pages and leave the guard page unmapped: an overflowing boot stack
    # then faults (a double fault, reported on its own stack) instead of
    # overwriting the page tables below it.
    mov $platform_boot_stack_guard, %ebx
    shr $21, %ebx                       # its 2 MiB page's index, 0..2047
    mov %ebx, %eax
    shl $21, %eax
    or $3, %eax                         # present, writable
    xor %ecx, %ecx
3:  mov %eax, platform_boot_pt(,%ecx,8)
    add $4096, %eax
    inc %ecx
    cmp $512, %ecx
    jb 3b
    mov $platform_boot_stack_guard, %ecx
    shr $12, %ecx
    and $511, %ecx
    movl $0, platform_boot_pt(,%ecx,8)
    mov $platform_boot_pt, %eax
    or $3, %eax
    mov %eax, platform_boot_pd(,%ebx,8)

    mov %cr4, %eax                      # PAE
    or $(1 << 5), %eax
    mov %eax, %cr4
    mov $platform_boot_pml4, %eax
    mov %eax, %cr3
    mov $0xC0000080, %ecx               # EFER: long mode enable, no-execute enable
    rdmsr
    or $((1 << 8) | (1 << 11)), %eax
    wrmsr
    mov %cr0, %eax                      # paging, protection, write protect
    or $((1 << 31) | (1 << 16) | 1), %eax
    mov %eax, %cr0

    lgdt platform_boot_gdt_pointer
    ljmp $0x08, $platform_start64

    .code64
platform_start64:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %ax, %ax
    mov %ax, %fs
    mov %ax, %gs
    movabs $platform_boot_stack_top, %rsp
    # Zero .bss (Rust's zero-initialised statics); the linker script
    # aligns both ends to 8 bytes.
    movabs $__bss_start, %rdi
    movabs $__bss_end, %rcx
    sub %rdi, %rcx
    shr $3, %rcx
    xor %eax, %eax
    rep stosq
    mov %ebp, %edi                      # arg 1: loader magic (zero-extended)
    mov %esi, %esi                      # arg 2: boot information (zero-extended)
    xor %ebp, %ebp                      # ends the frame-pointer chain
    call {entry64}
    ud2

    # The boot GDT: null, 64-bit code (0x08), data (0x10).
    .section .rodata.platform_boot_gdt, "a"
    .balign 8
platform_boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff
    .quad 0x00cf92000000ffff
platform_boot_gdt_end:
platform_boot_gdt_pointer:
    .short platform_boot_gdt_end - platform_boot_gdt - 1
    .long platform_boot_gdt

    # Written before .bss is zeroed, so it lives in .data.
    .section .data.platform_entry_tsc, "aw"
    .balign 8
    .global platform_entry_tsc
platform_entry_tsc:
    .quad 0

    # Not .bss: the entry code writes these itself (see above).
    .section .boot_tables, "aw", @nobits
    .balign 4096
platform_boot_pml4:
    .skip 4096
platform_boot_pdpt:
    .skip 4096
platform_boot_pd:
    .skip 4 * 4096
platform_boot_pt:
    .skip 4096
    .global platform_boot_stack_guard
platform_boot_stack_guard:
    .skip 4096
    .global platform_boot_stack_bottom
platform_boot_stack_bottom:
    .skip 64 * 1024
    .global platform_boot_stack_top
platform_boot_stack_top:
    "#,
    entry64 = sym super::entry64,
    options(att_syntax)
);
