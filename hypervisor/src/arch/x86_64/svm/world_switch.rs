//! VMRUN and back. The guest's general registers other than RAX/RSP are
//! live in the CPU while it runs, so they are loaded before VMRUN and saved
//! right after #VMEXIT; VMLOAD/VMSAVE swap the hidden state (FS/GS/TR/LDTR
//! bases, KERNEL_GS_BASE, syscall MSRs) between host and guest.

use core::arch::naked_asm;

/// Guest general registers not held in the VMCB (RAX and RSP are).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct GuestRegs {
    pub rbx: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    pub rbp: u64,
    pub r8: u64,
    pub r9: u64,
    pub r10: u64,
    pub r11: u64,
    pub r12: u64,
    pub r13: u64,
    pub r14: u64,
    pub r15: u64,
}

/// Enters the guest with interrupts held by GIF and returns at #VMEXIT.
///
/// # Safety
/// `vmcb_pa` must be a valid VMCB for this vCPU, `host_vmcb_pa` this CPU's
/// host-state page, SVM enabled on this CPU.
pub unsafe fn run(regs: &mut GuestRegs, vmcb_pa: u64, host_vmcb_pa: u64) {
    // SAFETY: CLGI holds physical interrupts until STGI while IF=1 lets
    // them cause an INTR exit from the guest; the caller guarantees the
    // VMCB and host page.
    unsafe {
        core::arch::asm!("clgi", "sti", options(nomem, nostack));
        svm_run(regs, vmcb_pa, host_vmcb_pa);
        core::arch::asm!("cli", "stgi", options(nomem, nostack));
    }
}

#[unsafe(naked)]
unsafe extern "C" fn svm_run(regs: *mut GuestRegs, vmcb_pa: u64, host_vmcb_pa: u64) {
    naked_asm!(
        // Callee-saved host registers.
        "push rbp",
        "push rbx",
        "push r12",
        "push r13",
        "push r14",
        "push r15",
        "push rdi", // [rsp+16]: regs
        "push rdx", // [rsp+8]:  host VMCB
        "push rsi", // [rsp]:    guest VMCB
        "mov rax, rdx",
        "vmsave rax",
        "mov rax, rsi",
        "vmload rax",
        "mov rbx, [rdi + 0x00]",
        "mov rcx, [rdi + 0x08]",
        "mov rdx, [rdi + 0x10]",
        "mov rsi, [rdi + 0x18]",
        "mov rbp, [rdi + 0x28]",
        "mov r8,  [rdi + 0x30]",
        "mov r9,  [rdi + 0x38]",
        "mov r10, [rdi + 0x40]",
        "mov r11, [rdi + 0x48]",
        "mov r12, [rdi + 0x50]",
        "mov r13, [rdi + 0x58]",
        "mov r14, [rdi + 0x60]",
        "mov r15, [rdi + 0x68]",
        "mov rdi, [rdi + 0x20]",
        "mov rax, [rsp]",
        "vmrun rax",
        // #VMEXIT: RAX and RSP are the host's again; the rest is the guest's.
        "vmsave rax",
        "push rdi",
        "mov rdi, [rsp + 24]",
        "mov [rdi + 0x00], rbx",
        "mov [rdi + 0x08], rcx",
        "mov [rdi + 0x10], rdx",
        "mov [rdi + 0x18], rsi",
        "mov [rdi + 0x28], rbp",
        "mov [rdi + 0x30], r8",
        "mov [rdi + 0x38], r9",
        "mov [rdi + 0x40], r10",
        "mov [rdi + 0x48], r11",
        "mov [rdi + 0x50], r12",
        "mov [rdi + 0x58], r13",
        "mov [rdi + 0x60], r14",
        "mov [rdi + 0x68], r15",
        "pop rax",
        "mov [rdi + 0x20], rax",
        "add rsp, 8",
        "pop rax",
        "vmload rax",
        "add rsp, 8",
        "pop r15",
        "pop r14",
        "pop r13",
        "pop r12",
        "pop rbx",
        "pop rbp",
        "ret",
    )
}
