//! platform_op: firmware, physical CPUs and the wall clock, the control
//! domain's alone. Dom0 owns the wall clock (settime, which Linux's dom0
//! calls as its clock settles, and every 11 minutes after); rxen's dom0
//! owns no hardware yet, so the other commands answer as Xen does when it
//! has nothing to offer: -ENOSYS (not EFI, no VGA console hand-off, no
//! physical CPU list).

use rxen_xen_abi::errno::{self, Errno};
use rxen_xen_abi::platform::*;

use super::{err, ok, Call, Outcome};

const NS_PER_SEC: u64 = 1_000_000_000;

pub fn call(call: &mut Call) -> Outcome {
    let [arg, ..] = call.args;
    let op: XenPlatformOp = match call.read(arg) {
        Ok(op) => op,
        Err(e) => return err(e),
    };
    if op.interface_version != XENPF_INTERFACE_VERSION {
        return err(errno::EACCES);
    }
    if let Err(e) = crate::policy::platform_op(call.dom) {
        return err(e);
    }
    let result = match op.cmd {
        XENPF_SETTIME64 => {
            let t: XenpfSettime64 = op.payload();
            if t.mbz != 0 {
                Err(errno::EINVAL)
            } else {
                settime(t.secs, t.nsecs, t.system_time)
            }
        }
        XENPF_SETTIME32 => {
            let t: XenpfSettime32 = op.payload();
            settime(u64::from(t.secs), t.nsecs, t.system_time)
        }
        cmd => {
            log::debug!("d{}: platform_op {} not offered", call.dom.id, name(cmd));
            Err(errno::ENOSYS)
        }
    };
    match result {
        Ok(()) => ok(0),
        Err(e) => err(e),
    }
}

/// The wall clock reads `secs`.`nsecs` when system time is `system_time`:
/// every domain's shared_info hears of it.
fn settime(secs: u64, nsecs: u32, system_time: u64) -> Result<(), Errno> {
    if u64::from(nsecs) >= NS_PER_SEC {
        return Err(errno::EINVAL);
    }
    let wall_ns = secs.saturating_mul(NS_PER_SEC) + u64::from(nsecs);
    let base = wall_ns.saturating_sub(system_time) / NS_PER_SEC;
    crate::time::set_wallclock_base(base);
    for d in crate::domain::all() {
        if d.shared_info_mapped
            .load(core::sync::atomic::Ordering::SeqCst)
            && !d.is_dying()
        {
            super::time::write_wallclock(d.shared_info_pa);
        }
    }
    Ok(())
}
