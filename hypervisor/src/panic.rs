//! A panic stops the machine: report (message, CPU, RIP/RSP, stack trace),
//! stop the other CPUs, then power off with a failure status.

use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::arch::{self, interrupts, power, trace};

static PANICKED: AtomicBool = AtomicBool::new(false);

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    crate::console::enter_panic_mode();
    if PANICKED.swap(true, Ordering::SeqCst) {
        // A second panic (another CPU, or inside this path): just stop.
        arch::halt_forever();
    }
    interrupts::set_stopping();
    arch::apic::send_nmi_to_others();
    let rip = trace::current_rip();
    crate::println!("PANIC on cpu{}: {}", arch::cpu_index(), info.message());
    if let Some(location) = info.location() {
        crate::println!("  at {}:{}", location.file(), location.line());
    }
    crate::println!("  rip={:#x} rsp={:#x}", rip, trace::current_rsp());
    trace::print_stack_trace(rip, trace::current_rbp());
    power::power_off(false)
}
