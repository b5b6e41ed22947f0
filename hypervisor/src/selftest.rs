//! Deliberate failures (`selftest=` on the command line), so tests can
//! check that faults are reported and reach the harness as failures.

use rxen_boot_info::cmdline::SelfTest;

/// An address no part of rxen maps.
pub const UNMAPPED: u64 = 0x7fff_dead_0000;

pub fn run(test: SelfTest) {
    crate::println!("rxen: selftest {:?} starting", test);
    match test {
        SelfTest::PageFault => {
            // SAFETY: not safe at all, on purpose: this read must fault.
            let value = unsafe { core::ptr::read_volatile(UNMAPPED as *const u64) };
            crate::println!("rxen: selftest read {value:#x} from an unmapped address?!");
        }
        SelfTest::Panic => panic!("selftest=panic requested"),
    }
}
