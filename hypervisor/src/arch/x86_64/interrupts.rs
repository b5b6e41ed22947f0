//! The interrupt descriptor table and what happens on every vector.
//!
//! Stable Rust has no `x86-interrupt` ABI, so each of the 256 vectors gets a
//! 16-byte assembly stub that pushes the vector (and a zero where the CPU
//! pushes no error code) and jumps to one common path, which saves the
//! registers and calls [`dispatch`] with a [`TrapFrame`].

use core::arch::global_asm;
use core::sync::atomic::{AtomicBool, Ordering};

use ::x86_64::registers::control::Cr2;
use ::x86_64::structures::idt::InterruptDescriptorTable;
use ::x86_64::VirtAddr;

use super::gdt;

/// Vectors rxen uses for its own interrupts.
pub const VECTOR_TIMER: u8 = 0x20;
pub const VECTOR_TEST_IPI: u8 = 0xF0;
/// Makes another CPU leave its guest or its idle HLT.
pub const VECTOR_KICK: u8 = 0xF1;
pub const VECTOR_APIC_ERROR: u8 = 0xFE;
pub const VECTOR_SPURIOUS: u8 = 0xFF;

const NMI: u64 = 2;
const DOUBLE_FAULT: u64 = 8;
const PAGE_FAULT: u64 = 14;
const MACHINE_CHECK: u64 = 18;

/// Registers as the common entry path leaves them on the stack.
#[repr(C)]
#[derive(Debug)]
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    pub vector: u64,
    pub error_code: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

global_asm!(
    r#"
    .section .text
    .p2align 4
    .global isr_stubs
isr_stubs:
    .set vec, 0
    .rept 256
    .p2align 4
    /* The CPU pushes an error code for these vectors; push 0 for the rest. */
    .if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
    .else
    pushq $0
    .endif
    pushq $vec
    jmp isr_common
    .set vec, vec + 1
    .endr

isr_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    cld
    mov %rsp, %rdi
    call {dispatch}
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp
    iretq
    "#,
    dispatch = sym dispatch,
    options(att_syntax)
);

extern "C" {
    static isr_stubs: [u8; 256 * 16];
}

static IDT: spin::Once<InterruptDescriptorTable> = spin::Once::new();

/// Builds the shared IDT once and loads it on this CPU.
pub fn init_this_cpu() {
    let idt = IDT.call_once(build_idt);
    idt.load();
}

fn build_idt() -> InterruptDescriptorTable {
    let mut idt = InterruptDescriptorTable::new();
    let base = core::ptr::addr_of!(isr_stubs) as u64;
    let stub = |vector: u64| VirtAddr::new(base + vector * 16);
    // SAFETY: each stub is valid interrupt entry code ending in iretq, as
    // assembled above; the IST indices name stacks every CPU installs in
    // its TSS (gdt::init_this_cpu).
    unsafe {
        idt.divide_error.set_handler_addr(stub(0));
        idt.debug.set_handler_addr(stub(1));
        idt.non_maskable_interrupt
            .set_handler_addr(stub(NMI))
            .set_stack_index(gdt::IST_NMI);
        idt.breakpoint.set_handler_addr(stub(3));
        idt.overflow.set_handler_addr(stub(4));
        idt.bound_range_exceeded.set_handler_addr(stub(5));
        idt.invalid_opcode.set_handler_addr(stub(6));
        idt.device_not_available.set_handler_addr(stub(7));
        idt.double_fault
            .set_handler_addr(stub(DOUBLE_FAULT))
            .set_stack_index(gdt::IST_DOUBLE_FAULT);
        idt.invalid_tss.set_handler_addr(stub(10));
        idt.segment_not_present.set_handler_addr(stub(11));
        idt.stack_segment_fault.set_handler_addr(stub(12));
        idt.general_protection_fault.set_handler_addr(stub(13));
        idt.page_fault.set_handler_addr(stub(PAGE_FAULT));
        idt.x87_floating_point.set_handler_addr(stub(16));
        idt.alignment_check.set_handler_addr(stub(17));
        idt.machine_check
            .set_handler_addr(stub(MACHINE_CHECK))
            .set_stack_index(gdt::IST_MACHINE_CHECK);
        idt.simd_floating_point.set_handler_addr(stub(19));
        idt.virtualization.set_handler_addr(stub(20));
        idt.cp_protection_exception.set_handler_addr(stub(21));
        idt.hv_injection_exception.set_handler_addr(stub(28));
        idt.vmm_communication_exception.set_handler_addr(stub(29));
        idt.security_exception.set_handler_addr(stub(30));
        for vector in 32..256u64 {
            idt[vector as u8].set_handler_addr(stub(vector));
        }
    }
    idt
}

/// Set when the system is stopping (panic): an NMI then parks the CPU.
static STOPPING: AtomicBool = AtomicBool::new(false);

pub fn set_stopping() {
    STOPPING.store(true, Ordering::SeqCst);
}

extern "C" fn dispatch(frame: &mut TrapFrame) {
    match frame.vector {
        NMI if STOPPING.load(Ordering::SeqCst) => super::halt_forever(),
        0..=31 => exception(frame),
        v if v == VECTOR_SPURIOUS as u64 => {}
        v => {
            crate::irq::handle(v as u8);
            super::apic::end_of_interrupt();
        }
    }
}

const EXCEPTION_NAMES: [&str; 32] = [
    "#DE divide error",
    "#DB debug",
    "NMI",
    "#BP breakpoint",
    "#OF overflow",
    "#BR bound range",
    "#UD invalid opcode",
    "#NM device not available",
    "#DF double fault",
    "coprocessor segment overrun",
    "#TS invalid TSS",
    "#NP segment not present",
    "#SS stack fault",
    "#GP general protection",
    "#PF page fault",
    "reserved",
    "#MF x87 floating point",
    "#AC alignment check",
    "#MC machine check",
    "#XM SIMD floating point",
    "#VE virtualization",
    "#CP control protection",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "#HV hypervisor injection",
    "#VC VMM communication",
    "#SX security",
    "reserved",
];

/// Every exception in the hypervisor itself is fatal: report it with the
/// faulting context, then panic (which stops the machine).
fn exception(frame: &TrapFrame) -> ! {
    let name = EXCEPTION_NAMES[frame.vector as usize];
    crate::console::enter_panic_mode();
    crate::println!(
        "EXCEPTION {} (vector {}) on cpu{} error={:#x} rip={:#x} rsp={:#x} rflags={:#x}",
        name,
        frame.vector,
        super::cpu_index(),
        frame.error_code,
        frame.rip,
        frame.rsp,
        frame.rflags
    );
    if frame.vector == PAGE_FAULT {
        let cr2 = Cr2::read_raw();
        crate::println!(
            "  page fault at cr2={:#x} ({})",
            cr2,
            describe_pf(frame.error_code)
        );
    }
    crate::println!(
        "  rax={:#x} rbx={:#x} rcx={:#x} rdx={:#x} rsi={:#x} rdi={:#x} rbp={:#x}",
        frame.rax,
        frame.rbx,
        frame.rcx,
        frame.rdx,
        frame.rsi,
        frame.rdi,
        frame.rbp
    );
    crate::println!(
        "  r8={:#x} r9={:#x} r10={:#x} r11={:#x} r12={:#x} r13={:#x} r14={:#x} r15={:#x}",
        frame.r8,
        frame.r9,
        frame.r10,
        frame.r11,
        frame.r12,
        frame.r13,
        frame.r14,
        frame.r15
    );
    super::trace::print_stack_trace(frame.rip, frame.rbp);
    panic!(
        "fatal exception {} (vector {}) at rip {:#x}",
        name, frame.vector, frame.rip
    );
}

fn describe_pf(error: u64) -> &'static str {
    match (error & 1 != 0, error & 2 != 0, error & 16 != 0) {
        (_, _, true) => "instruction fetch",
        (false, false, _) => "read of a non-present page",
        (false, true, _) => "write to a non-present page",
        (true, false, _) => "read: protection violation",
        (true, true, _) => "write: protection violation",
    }
}
