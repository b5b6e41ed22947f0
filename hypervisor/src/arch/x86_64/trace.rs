//! Stack traces by walking frame pointers (the image is built with
//! `-C force-frame-pointers=yes`). Every frame is checked against the page
//! tables before it is read, so a corrupt stack ends the trace instead of
//! faulting inside the panic path.

const MAX_FRAMES: usize = 32;

/// Prints `rip` and the return addresses found from `rbp` upwards.
pub fn print_stack_trace(rip: u64, mut rbp: u64) {
    crate::println!("  stack trace:");
    crate::println!("    #0  {:#018x}", rip);
    for depth in 1..MAX_FRAMES {
        if rbp == 0
            || !rbp.is_multiple_of(8)
            || !super::paging::is_mapped(rbp)
            || !super::paging::is_mapped(rbp + 8)
        {
            break;
        }
        // SAFETY: both words were just checked to be mapped; the frame
        // layout is [saved rbp, return address].
        let (next, ret) = unsafe { (*(rbp as *const u64), *((rbp + 8) as *const u64)) };
        if ret == 0 {
            break;
        }
        crate::println!("    #{:<2} {:#018x}", depth, ret);
        if next <= rbp {
            break;
        }
        rbp = next;
    }
}

/// The current frame pointer.
pub fn current_rbp() -> u64 {
    let rbp: u64;
    // SAFETY: reads a register.
    unsafe {
        core::arch::asm!("mov {}, rbp", out(reg) rbp, options(nomem, nostack, preserves_flags))
    };
    rbp
}

/// The current stack pointer.
pub fn current_rsp() -> u64 {
    let rsp: u64;
    // SAFETY: reads a register.
    unsafe {
        core::arch::asm!("mov {}, rsp", out(reg) rsp, options(nomem, nostack, preserves_flags))
    };
    rsp
}

/// An address inside the caller: `lea` of the next instruction.
#[inline(always)]
pub fn current_rip() -> u64 {
    let rip: u64;
    // SAFETY: computes an address; touches nothing.
    unsafe {
        core::arch::asm!("lea {}, [rip]", out(reg) rip, options(nomem, nostack, preserves_flags))
    };
    rip
}
