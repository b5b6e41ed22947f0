//! xen_version: which Xen we claim to be (4.17, as Debian's, so its
//! toolstack wrappers pick `/usr/lib/xen-4.17`), what the hypervisor offers,
//! and which features a PVH guest may rely on.

use rxen_xen_abi::errno;
use rxen_xen_abi::version::*;

use super::{err, ok, Call, Outcome};

/// auto-translated physmap, vector callback, safe pvclock, writable page
/// tables — exactly what Xen gives a PVH domU.
const FEATURES: u32 = (1 << XENFEAT_WRITABLE_PAGE_TABLES)
    | (1 << XENFEAT_AUTO_TRANSLATED_PHYSMAP)
    | (1 << XENFEAT_HVM_CALLBACK_VECTOR)
    | (1 << XENFEAT_HVM_SAFE_PVCLOCK);
/// What the control domain sees on top.
const CONTROL_FEATURES: u32 = FEATURES | (1 << XENFEAT_DOM0);

/// The version xl reports: 4.17 and this.
const EXTRAVERSION: &str = ".0-rxen";
/// Guests rxen can run (the toolstack's PVH loader looks for
/// `hvm-3.0-x86_32`). No PV guests, so no `xen-3.0-*` entry.
const CAPABILITIES: &str = "hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64";
/// Where a PV guest's hypervisor hole would start (what Xen reports).
const VIRT_START: u64 = 0xFFFF_8000_0000_0000;

pub fn call(call: &mut Call) -> Outcome {
    let [cmd, arg, ..] = call.args;
    match cmd {
        XENVER_VERSION => ok(u64::from(version_value(4, 17))),
        XENVER_EXTRAVERSION => write_string(call, arg, EXTRAVERSION, XEN_EXTRAVERSION_LEN),
        XENVER_CAPABILITIES => write_string(call, arg, CAPABILITIES, XEN_CAPABILITIES_INFO_LEN),
        XENVER_CHANGESET => write_string(
            call,
            arg,
            concat!("rxen ", env!("CARGO_PKG_VERSION")),
            XEN_CHANGESET_INFO_LEN,
        ),
        XENVER_COMPILE_INFO => compile_info(call, arg),
        XENVER_PLATFORM_PARAMETERS => {
            let p = XenPlatformParameters {
                virt_start: VIRT_START,
            };
            result(call.write(arg, &p))
        }
        XENVER_PAGESIZE => ok(4096),
        XENVER_GUEST_HANDLE => {
            let handle = *call.dom.handle.lock();
            result(call.write_bytes(arg, &handle))
        }
        XENVER_GET_FEATURES => {
            let mut info: XenFeatureInfo = match call.read(arg) {
                Ok(i) => i,
                Err(e) => return err(e),
            };
            let features = if call.dom.is_control() {
                CONTROL_FEATURES
            } else {
                FEATURES
            };
            info.submap = if info.submap_idx == 0 { features } else { 0 };
            result(call.write(arg, &info))
        }
        // Xen hides its command line and build id from unprivileged guests.
        XENVER_COMMANDLINE => match crate::policy::xen_version_private(call.dom) {
            Ok(()) => write_string(call, arg, crate::cmdline(), XEN_COMMANDLINE_LEN),
            Err(e) => err(e),
        },
        XENVER_BUILD_ID => match crate::policy::xen_version_private(call.dom) {
            // No build id note in the image: the toolstack shows "(null)".
            Ok(()) => err(errno::ENODATA),
            Err(e) => err(e),
        },
        _ => err(errno::ENOSYS),
    }
}

fn result(r: Result<(), rxen_xen_abi::errno::Errno>) -> Outcome {
    match r {
        Ok(()) => ok(0),
        Err(e) => err(e),
    }
}

fn compile_info(call: &mut Call, arg: u64) -> Outcome {
    let mut info = <XenCompileInfo as zerocopy::FromZeros>::new_zeroed();
    copy_str(&mut info.compiler, "rustc");
    copy_str(&mut info.compile_by, "rxen");
    copy_str(&mut info.compile_domain, "rxen.invalid");
    copy_str(&mut info.compile_date, "");
    result(call.write(arg, &info))
}

fn copy_str(buf: &mut [u8], text: &str) {
    let n = text.len().min(buf.len() - 1);
    buf[..n].copy_from_slice(&text.as_bytes()[..n]);
}

fn write_string(call: &mut Call, gva: u64, text: &str, len: usize) -> Outcome {
    let mut buf = alloc::vec![0u8; len];
    let n = text.len().min(len - 1);
    buf[..n].copy_from_slice(&text.as_bytes()[..n]);
    result(call.write_bytes(gva, &buf))
}
