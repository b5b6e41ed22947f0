//! domctl: the toolstack's control of domains (XEN_DOMCTL_*, interface
//! version 0x15), the control domain's alone. Grouped as Xen groups its
//! sub-ops: the domain itself (`domain`), its vCPUs (`vcpu`), its
//! scheduling (`sched`), the x86 HVM state the toolstack builds a
//! guest with (`hvm`), and what saving and restoring it takes besides
//! (`save`).
//!
//! Order of checks, as Xen's: the argument is copied in (-EFAULT), the
//! interface version checked (-EACCES), the target domain looked up
//! (-ESRCH), then the privilege decision (-EPERM). The whole argument is
//! copied back when the sub-op succeeds.

mod domain;
mod hvm;
mod save;
mod sched;
mod vcpu;

pub use domain::domain_info;

use alloc::sync::Arc;

use rxen_xen_abi::domctl::*;
use rxen_xen_abi::errno::{self, Errno};

use super::{err, ok, Call, Outcome};
use crate::domain::Domain;

/// One domctl being served.
pub struct Op<'c, 'a> {
    pub call: &'c mut Call<'a>,
    pub req: XenDomctl,
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
    let req: XenDomctl = match call.read(arg) {
        Ok(r) => r,
        Err(e) => return err(e),
    };
    if req.interface_version != XEN_DOMCTL_INTERFACE_VERSION {
        return err(errno::EACCES);
    }
    let target = match lookup(&req) {
        Ok(t) => t,
        Err(e) => return err(e),
    };
    if let Err(e) = crate::policy::domctl(call.dom) {
        return err(e);
    }
    let mut op = Op { call, req };
    let result = dispatch(&mut op, target);
    if let Err(e) = result {
        log::debug!(
            "d{}: domctl {} on d{}: {}",
            op.call.dom.id,
            name(op.req.cmd),
            op.req.domain,
            e.name()
        );
        return err(e);
    }
    match op.call.write(arg, &op.req) {
        Ok(()) => ok(0),
        Err(e) => err(e),
    }
}

/// The domain a domctl names: none for createdomain, the first at or
/// above the id for getdomaininfo (looked up there), the exact one else.
fn lookup(req: &XenDomctl) -> Result<Option<Arc<Domain>>, Errno> {
    match req.cmd {
        XEN_DOMCTL_CREATEDOMAIN | XEN_DOMCTL_GETDOMAININFO => Ok(None),
        _ => crate::domain::get(req.domain).map(Some).ok_or(errno::ESRCH),
    }
}

fn dispatch(op: &mut Op, target: Option<Arc<Domain>>) -> Result<(), Errno> {
    let Some(d) = target else {
        return match op.req.cmd {
            XEN_DOMCTL_CREATEDOMAIN => domain::create(op),
            _ => domain::getdomaininfo(op),
        };
    };
    match op.req.cmd {
        XEN_DOMCTL_DESTROYDOMAIN => domain::destroy(op, &d),
        XEN_DOMCTL_PAUSEDOMAIN => domain::pause(op, &d),
        XEN_DOMCTL_UNPAUSEDOMAIN => domain::unpause(op, &d),
        XEN_DOMCTL_MAX_MEM => domain::max_mem(op, &d),
        XEN_DOMCTL_MAX_VCPUS => domain::max_vcpus(op, &d),
        XEN_DOMCTL_SETDOMAINHANDLE => domain::set_handle(op, &d),
        XEN_DOMCTL_SETTIMEOFFSET => domain::set_time_offset(op, &d),
        XEN_DOMCTL_GETVCPUINFO => vcpu::info(op, &d),
        XEN_DOMCTL_GETVCPUCONTEXT => vcpu::get_context(op, &d),
        XEN_DOMCTL_SETVCPUCONTEXT => vcpu::set_context(op, &d),
        XEN_DOMCTL_SETVCPUAFFINITY => vcpu::set_affinity(op, &d),
        XEN_DOMCTL_GETVCPUAFFINITY => vcpu::get_affinity(op, &d),
        XEN_DOMCTL_SETNODEAFFINITY => vcpu::set_node_affinity(op, &d),
        XEN_DOMCTL_GETNODEAFFINITY => vcpu::get_node_affinity(op, &d),
        XEN_DOMCTL_SCHEDULER_OP => sched::scheduler_op(op, &d),
        XEN_DOMCTL_GETHVMCONTEXT => hvm::get_context(op, &d),
        XEN_DOMCTL_SETHVMCONTEXT => hvm::set_context(op, &d),
        XEN_DOMCTL_GETHVMCONTEXT_PARTIAL => hvm::get_context_partial(op, &d),
        XEN_DOMCTL_SETTSCINFO => hvm::set_tsc_info(op, &d),
        XEN_DOMCTL_GETTSCINFO => hvm::get_tsc_info(op, &d),
        XEN_DOMCTL_SET_CPU_POLICY => hvm::set_cpu_policy(op, &d),
        XEN_DOMCTL_GET_CPU_POLICY => hvm::get_cpu_policy(op, &d),
        XEN_DOMCTL_GETPAGEFRAMEINFO3 => save::page_frame_info(op, &d),
        XEN_DOMCTL_SHADOW_OP => save::shadow_op(op, &d),
        XEN_DOMCTL_RESUMEDOMAIN => save::resume(op, &d),
        XEN_DOMCTL_SET_PAGING_MEMPOOL_SIZE => hvm::set_paging_pool(op, &d),
        XEN_DOMCTL_GET_PAGING_MEMPOOL_SIZE => hvm::get_paging_pool(op, &d),
        // PV-only sub-ops and passthrough: what Xen answers for a PVH domain
        // on a machine without an IOMMU.
        XEN_DOMCTL_HYPERCALL_INIT | XEN_DOMCTL_SET_ADDRESS_SIZE | XEN_DOMCTL_GET_ADDRESS_SIZE => {
            Err(errno::EINVAL)
        }
        XEN_DOMCTL_ASSIGN_DEVICE | XEN_DOMCTL_TEST_ASSIGN_DEVICE | XEN_DOMCTL_DEASSIGN_DEVICE => {
            Err(errno::ENOSYS)
        }
        _ => Err(errno::ENOSYS),
    }
}
