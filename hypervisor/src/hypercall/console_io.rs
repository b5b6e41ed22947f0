//! console_io: the control domain's console (its hvc0 writes and reads the
//! hypervisor's serial line), and every other domain's early console
//! (`earlyprintk=xen`, panics before hvc0 exists), which goes into rxen's
//! log as `(dN)` lines. Only the control domain may read input.

use rxen_xen_abi::console::{CONSOLEIO_READ, CONSOLEIO_WRITE};
use rxen_xen_abi::errno;

use super::{err, ok, Call, Outcome};

const MAX_WRITE: u64 = 4096;
/// Xen refuses reads larger than this (INT_MAX).
const MAX_READ: u64 = i32::MAX as u64;

pub fn call(call: &mut Call) -> Outcome {
    let [cmd, count, buf, ..] = call.args;
    match cmd {
        CONSOLEIO_WRITE => {
            let count = count.min(MAX_WRITE);
            let mut bytes = alloc::vec![0u8; count as usize];
            if let Err(e) = call.read_bytes(buf, &mut bytes) {
                return err(e);
            }
            crate::console::guest_output(call.dom, &bytes);
            ok(0)
        }
        CONSOLEIO_READ => {
            if count > MAX_READ {
                return err(errno::E2BIG);
            }
            if crate::policy::console_read(call.dom).is_err() {
                // Nothing to read for a domU (Xen: -EPERM in release builds).
                return err(errno::EPERM);
            }
            let bytes = crate::console::control::read(count.min(4096) as usize);
            match call.write_bytes(buf, &bytes) {
                Ok(()) => ok(bytes.len() as u64),
                Err(e) => err(e),
            }
        }
        _ => err(errno::EINVAL),
    }
}
