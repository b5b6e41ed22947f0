//! The very first instructions: both boot protocols enter here in 32-bit
//! protected mode with paging off. The code zeroes .bss, identity-maps the
//! first 4 GiB with 2 MiB pages (enough to reach the boot information and
//! our image), enters long mode and calls [`crate::arch::x86_64::boot::rust_entry`].
//!
//! Protocol facts: PVH (Xen's `hvm_start_info` in EBX, entry found through
//! the `XEN_ELFNOTE_PHYS32_ENTRY` note, type 18) and Multiboot2 (magic
//! 0x36d76289 in EAX, info pointer in EBX, header in the first 32 KiB).

use core::arch::global_asm;

/// Which boot protocol brought us here, as passed from the assembly entry.
pub const PROTOCOL_PVH: u32 = 1;
pub const PROTOCOL_MULTIBOOT2: u32 = 2;

/// Size of the boot CPU's stack (in .bss).
pub const BOOT_STACK_SIZE: usize = 256 * 1024;

global_asm!(
    r#"
    .section .multiboot2, "a"
    .p2align 3
mb2_header_start:
    .long 0xe85250d6                      /* magic */
    .long 0                               /* architecture: i386 protected mode */
    .long mb2_header_end - mb2_header_start
    .long 0x100000000 - (0xe85250d6 + (mb2_header_end - mb2_header_start))
    .p2align 3
    .short 3, 0                           /* entry address tag */
    .long 12
    .long mb2_entry
    .p2align 3
    .short 0, 0                           /* end tag */
    .long 8
mb2_header_end:

    .section .note.Xen, "a", @note
    .p2align 2
    .long 4                               /* namesz: "Xen\0" */
    .long 4                               /* descsz */
    .long 18                              /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .long pvh_entry

    .section .text.boot, "ax"
    .code32
    .global pvh_entry
pvh_entry:
    mov $1, %esi                          /* PROTOCOL_PVH; EBX = hvm_start_info */
    jmp boot32

    .global mb2_entry
mb2_entry:
    cmp $0x36d76289, %eax
    jne boot_hang
    mov $2, %esi                          /* PROTOCOL_MULTIBOOT2; EBX = info */

boot32:
    cli
    cld
    /* Zero .bss (stack and boot page tables live there). EDI/ECX/EAX only. */
    mov $__bss_start, %edi
    mov $__bss_end, %ecx
    sub %edi, %ecx
    xor %eax, %eax
    rep stosb
    mov $(boot_stack + {stack_size}), %esp

    /* PML4[0] -> PDPT; PDPT[0..4] -> 4 page directories of 2 MiB pages. */
    mov $boot_pdpt, %eax
    or $0x3, %eax
    mov %eax, boot_pml4
    mov $boot_pd, %edi
    mov $boot_pdpt, %edx
    xor %ecx, %ecx
1:  mov %edi, %eax
    or $0x3, %eax
    mov %eax, (%edx)
    add $8, %edx
    add $4096, %edi
    inc %ecx
    cmp $4, %ecx
    jne 1b
    mov $boot_pd, %edi
    xor %ecx, %ecx
2:  mov %ecx, %eax
    shl $21, %eax
    or $0x83, %eax                        /* present, writable, 2 MiB */
    mov %eax, (%edi, %ecx, 8)
    inc %ecx
    cmp $2048, %ecx
    jne 2b

    mov %cr4, %eax
    or $(1 << 5), %eax                    /* PAE */
    mov %eax, %cr4
    mov $boot_pml4, %eax
    mov %eax, %cr3
    mov $0xC0000080, %ecx                 /* EFER: LME | NXE */
    rdmsr
    or $((1 << 8) | (1 << 11)), %eax
    wrmsr
    mov %cr0, %eax
    or $0x80010001, %eax                  /* PG | WP | PE */
    mov %eax, %cr0
    lgdt boot_gdtr
    ljmp $0x08, $boot64

boot_hang:
    hlt
    jmp boot_hang

    .code64
boot64:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %ax, %ax
    mov %ax, %fs
    mov %ax, %gs
    mov %esi, %edi                        /* arg 0: protocol */
    mov %ebx, %esi                        /* arg 1: boot information address */
    xor %ebp, %ebp                        /* ends the frame-pointer chain */
    call {rust_entry}
3:  hlt
    jmp 3b

    .section .rodata
    .p2align 3
boot_gdt:
    .quad 0
    .quad 0x00AF9B000000FFFF              /* 0x08: 64-bit code (accessed bit preset) */
    .quad 0x00CF93000000FFFF              /* 0x10: data */
boot_gdtr:
    .short boot_gdtr - boot_gdt - 1
    .quad boot_gdt

    .section .bss
    .p2align 12
boot_pml4: .skip 4096
boot_pdpt: .skip 4096
boot_pd:   .skip 4 * 4096
    .global boot_stack
boot_stack: .skip {stack_size}
    "#,
    stack_size = const BOOT_STACK_SIZE,
    rust_entry = sym super::boot::rust_entry,
    options(att_syntax)
);
