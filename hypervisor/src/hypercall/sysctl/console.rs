//! The hypervisor's console: `xl dmesg` (readconsole) and `xl debug-keys`.

use rxen_xen_abi::errno::{self, Errno};
use rxen_xen_abi::sysctl::{SysctlDebugKeys, SysctlReadconsole};

use super::Op;

/// Keys one call may send.
const MAX_KEYS: u32 = 256;

/// XEN_SYSCTL_readconsole, Xen's semantics (see `console::ring`).
pub fn read(op: &mut Op) -> Result<(), Errno> {
    let mut req: SysctlReadconsole = op.payload();
    let chunk =
        crate::console::ring::read(req.index, req.incremental != 0, req.count, req.clear != 0);
    if !chunk.bytes.is_empty() {
        op.call.write_bytes(req.buffer, &chunk.bytes)?;
    }
    req.count = chunk.bytes.len() as u32;
    req.index = chunk.next_index;
    op.set_payload(&req);
    Ok(())
}

/// XEN_SYSCTL_debug_keys: each key as if typed on the serial console.
pub fn debug_keys(op: &mut Op) -> Result<(), Errno> {
    let req: SysctlDebugKeys = op.payload();
    if req.nr_keys > MAX_KEYS {
        return Err(errno::EINVAL);
    }
    let keys: alloc::vec::Vec<u8> = op.call.read_array(req.keys, req.nr_keys as usize)?;
    for key in keys {
        crate::console::debug_key(key);
    }
    Ok(())
}
