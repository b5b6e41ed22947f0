//! sysctl: the toolstack's view of the machine (XEN_SYSCTL_*, interface
//! version 0x15), the control domain's alone: the machine itself
//! (`machine`: physinfo, topology, CPU features and policies), its domains
//! and pool (`pool`), and the hypervisor's console (`console`).
//!
//! As Xen: copy in (-EFAULT), version (-EACCES), privilege (-EPERM); the
//! whole argument is copied back when the sub-op succeeds.

mod console;
mod machine;
mod pool;

use rxen_xen_abi::errno::{self, Errno};
use rxen_xen_abi::sysctl::*;

use super::{err, ok, Call, Outcome};

/// One sysctl being served.
pub struct Op<'c, 'a> {
    pub call: &'c mut Call<'a>,
    pub req: XenSysctl,
}

impl Op<'_, '_> {
    pub fn payload<T: zerocopy::FromBytes + zerocopy::KnownLayout + zerocopy::Immutable>(
        &self,
    ) -> T {
        self.req.payload()
    }

    pub fn set_payload<T: zerocopy::IntoBytes + zerocopy::Immutable>(&mut self, value: &T) {
        self.req.set_payload(value);
    }
}

pub fn call(call: &mut Call) -> Outcome {
    let arg = call.args[0];
    let req: XenSysctl = match call.read(arg) {
        Ok(r) => r,
        Err(e) => return err(e),
    };
    if req.interface_version != XEN_SYSCTL_INTERFACE_VERSION {
        return err(errno::EACCES);
    }
    if let Err(e) = crate::policy::sysctl(call.dom) {
        return err(e);
    }
    let mut op = Op { call, req };
    if let Err(e) = dispatch(&mut op) {
        log::debug!(
            "d{}: sysctl {}: {}",
            op.call.dom.id,
            name(op.req.cmd),
            e.name()
        );
        return err(e);
    }
    match op.call.write(arg, &op.req) {
        Ok(()) => ok(0),
        Err(e) => err(e),
    }
}

fn dispatch(op: &mut Op) -> Result<(), Errno> {
    match op.req.cmd {
        XEN_SYSCTL_READCONSOLE => console::read(op),
        XEN_SYSCTL_DEBUG_KEYS => console::debug_keys(op),
        XEN_SYSCTL_PHYSINFO => machine::physinfo(op),
        XEN_SYSCTL_CPUTOPOINFO => machine::cpu_topology(op),
        XEN_SYSCTL_NUMAINFO => machine::numa(op),
        XEN_SYSCTL_GET_CPU_FEATURESET => machine::featureset(op),
        XEN_SYSCTL_GET_CPU_POLICY => machine::cpu_policy(op),
        XEN_SYSCTL_SCHED_ID => pool::sched_id(op),
        XEN_SYSCTL_GETDOMAININFOLIST => pool::domain_list(op),
        XEN_SYSCTL_CPUPOOL_OP => pool::cpupool(op),
        XEN_SYSCTL_SCHEDULER_OP => pool::scheduler(op),
        _ => Err(errno::ENOSYS),
    }
}
