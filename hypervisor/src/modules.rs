//! The boot modules (kernels, initrds, domain configurations) the boot
//! loader placed in memory, by name. They stay reserved for the life of
//! the hypervisor, so domains can be (re)built from them at any time.

use alloc::string::String;
use alloc::vec::Vec;

use rxen_boot_info::BootInfo;

use crate::sync::TicketLock;

struct BootModule {
    name: String,
    start: u64,
    len: u64,
}

static MODULES: TicketLock<Vec<BootModule>> = TicketLock::new(Vec::new());

pub fn init(boot: &BootInfo) {
    let mut list = MODULES.lock();
    for m in boot.modules() {
        list.push(BootModule {
            name: String::from(m.name()),
            start: m.start,
            len: m.len,
        });
    }
}

/// The bytes of module `name` (names are compared exactly).
pub fn get(name: &str) -> Option<&'static [u8]> {
    let list = MODULES.lock();
    let m = list.iter().find(|m| m.name == name)?;
    Some(crate::mm::machine::read_only(m.start, m.len as usize))
}

/// Names of the modules whose name ends with `suffix`, in boot order.
pub fn names_ending_with(suffix: &str) -> Vec<String> {
    MODULES
        .lock()
        .iter()
        .filter(|m| m.name.ends_with(suffix))
        .map(|m| m.name.clone())
        .collect()
}

/// Number of boot modules.
pub fn count() -> usize {
    MODULES.lock().len()
}

/// The name (module string) of module `i`.
pub fn name_at(i: usize) -> Option<String> {
    MODULES.lock().get(i).map(|m| m.name.clone())
}

/// The bytes of module `i`.
pub fn bytes_at(i: usize) -> Option<&'static [u8]> {
    let list = MODULES.lock();
    let m = list.get(i)?;
    Some(crate::mm::machine::read_only(m.start, m.len as usize))
}
