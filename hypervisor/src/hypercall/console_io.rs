//! console_io: the guest's early console (`earlyprintk=xen`, panics before
//! hvc0 exists). Xen allows writes only from dom0 in release builds; rxen
//! takes them from every domain into its `(dN)` log. There is no input.

use rxen_xen_abi::console::{CONSOLEIO_READ, CONSOLEIO_WRITE};
use rxen_xen_abi::errno;

use super::{err, ok, Call, Outcome};

const MAX_WRITE: u64 = 4096;

pub fn call(call: &mut Call) -> Outcome {
    let [cmd, count, buf, ..] = call.args;
    match cmd {
        CONSOLEIO_WRITE => {
            let count = count.min(MAX_WRITE);
            let mut bytes = alloc::vec![0u8; count as usize];
            if let Err(e) = call.read_bytes(buf, &mut bytes) {
                return err(e);
            }
            call.dom.console.write_bytes(call.dom.id, &bytes);
            ok(0)
        }
        CONSOLEIO_READ => ok(0),
        _ => err(errno::EINVAL),
    }
}
