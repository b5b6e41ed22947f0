//! xen_version: which Xen we claim to be (4.17, as Debian's) and which
//! features a PVH guest may rely on.

use rxen_xen_abi::errno;
use rxen_xen_abi::version::*;

use super::{err, ok, Call, Outcome};

/// auto-translated physmap, vector callback, safe pvclock, writable page
/// tables — exactly what Xen gives a PVH domU.
const FEATURES: u32 = (1 << XENFEAT_WRITABLE_PAGE_TABLES)
    | (1 << XENFEAT_AUTO_TRANSLATED_PHYSMAP)
    | (1 << XENFEAT_HVM_CALLBACK_VECTOR)
    | (1 << XENFEAT_HVM_SAFE_PVCLOCK);

pub fn call(call: &mut Call) -> Outcome {
    let [cmd, arg, ..] = call.args;
    match cmd {
        XENVER_VERSION => ok(u64::from(version_value(4, 17))),
        XENVER_EXTRAVERSION => write_string(call, arg, ".0-rxen", XEN_EXTRAVERSION_LEN),
        XENVER_CAPABILITIES => write_string(call, arg, "hvm-3.0-x86_64", XEN_CAPABILITIES_INFO_LEN),
        XENVER_CHANGESET => write_string(call, arg, "rxen", XEN_CHANGESET_INFO_LEN),
        XENVER_PAGESIZE => ok(4096),
        XENVER_GET_FEATURES => {
            let mut info: XenFeatureInfo = match call.read(arg) {
                Ok(i) => i,
                Err(e) => return err(e),
            };
            info.submap = if info.submap_idx == 0 { FEATURES } else { 0 };
            match call.write(arg, &info) {
                Ok(()) => ok(0),
                Err(e) => err(e),
            }
        }
        // Xen hides its command line and build id from unprivileged guests.
        XENVER_COMMANDLINE | XENVER_BUILD_ID => err(errno::EPERM),
        _ => err(errno::ENOSYS),
    }
}

fn write_string(call: &mut Call, gva: u64, text: &str, len: usize) -> Outcome {
    let mut buf = alloc::vec![0u8; len];
    let n = text.len().min(len - 1);
    buf[..n].copy_from_slice(&text.as_bytes()[..n]);
    match call.write_bytes(gva, &buf) {
        Ok(()) => ok(0),
        Err(e) => err(e),
    }
}
