//! The domain sub-ops: create, destroy, pause, unpause, the info the whole
//! toolstack lives on, and the limits set while a guest is built.

use alloc::sync::Arc;

use rxen_xen_abi::domctl::*;
use rxen_xen_abi::errno::{self, Errno};
use rxen_xen_abi::memory::DOMID_FIRST_RESERVED;

use super::Op;
use crate::domain::lifecycle::DomainState;
use crate::domain::vcpu::RunState;
use crate::domain::Domain;

/// How long pausedomain waits for the vCPUs to leave their CPUs.
const PAUSE_WAIT_NS: u64 = 50_000_000;

pub fn create(op: &mut Op) -> Result<(), Errno> {
    let req: DomctlCreateDomain = op.payload();
    let id = crate::domain::create::create(&req, op.req.domain)?;
    // The new id goes back in the envelope, where libxc reads it.
    op.req.domain = id;
    Ok(())
}

/// XEN_DOMCTL_getdomaininfo: the first domain with an id at or above the
/// one asked for (xenconsoled enumerates domains this way).
pub fn getdomaininfo(op: &mut Op) -> Result<(), Errno> {
    if op.req.domain >= DOMID_FIRST_RESERVED {
        return Err(errno::EINVAL);
    }
    let d = crate::domain::first_at_or_above(op.req.domain).ok_or(errno::ESRCH)?;
    let info = domain_info(&d);
    op.req.domain = d.id;
    op.set_payload(&info);
    Ok(())
}

/// What getdomaininfo (and the sysctl list) reports about `d`.
pub fn domain_info(d: &Domain) -> DomctlGetDomainInfo {
    let vcpus = d.vcpus();
    let online: alloc::vec::Vec<_> = vcpus
        .iter()
        .filter(|v| !matches!(v.state(), RunState::Down | RunState::Dead))
        .collect();
    let state = d.state();
    let mut flags = XEN_DOMINF_HVM_GUEST | XEN_DOMINF_HAP;
    if state == DomainState::Dead {
        flags |= XEN_DOMINF_DYING;
    }
    let shut_down = state >= DomainState::Shutdown && d.shutdown_reason().is_some();
    if shut_down {
        flags |= XEN_DOMINF_SHUTDOWN | dominf_shutdown(d.shutdown_reason().map_or(0, |r| r as u32));
    }
    if d.is_paused() {
        flags |= XEN_DOMINF_PAUSED;
    }
    if !online.is_empty() && online.iter().all(|v| v.state() == RunState::Blocked) {
        flags |= XEN_DOMINF_BLOCKED;
    }
    if vcpus.iter().any(|v| v.state() == RunState::Running) {
        flags |= XEN_DOMINF_RUNNING;
    }
    let (tot_pages, max_pages) = {
        let m = d.memory.lock();
        (m.ram_pages(), m.max_pages())
    };
    DomctlGetDomainInfo {
        domain: d.id,
        flags,
        tot_pages,
        max_pages,
        outstanding_pages: d.toolstack.lock().claimed_pages,
        cpu_time: vcpus.iter().map(|v| v.cpu_time()).sum(),
        nr_online_vcpus: online.len() as u32,
        max_vcpu_id: (vcpus.len() as u32)
            .checked_sub(1)
            .unwrap_or(XEN_INVALID_MAX_VCPU_ID),
        ssidref: d.ssidref,
        handle: *d.handle.lock(),
        cpupool: 0,
        gpaddr_bits: 48,
        arch_config: XenArchDomainConfig {
            emulation_flags: XEN_X86_EMU_LAPIC,
            misc_flags: 0,
        },
        ..Default::default()
    }
}

pub fn destroy(op: &mut Op, d: &Arc<Domain>) -> Result<(), Errno> {
    if d.id == op.call.dom.id {
        return Err(errno::EINVAL);
    }
    crate::domain::lifecycle::destroy(d)
}

/// XEN_DOMCTL_pausedomain: counted; on return no vCPU of the domain runs.
pub fn pause(op: &mut Op, d: &Arc<Domain>) -> Result<(), Errno> {
    if d.id == op.call.dom.id || d.is_dying() {
        return Err(errno::EINVAL);
    }
    d.pause()?;
    d.wait_off_cpu(PAUSE_WAIT_NS);
    Ok(())
}

pub fn unpause(op: &mut Op, d: &Arc<Domain>) -> Result<(), Errno> {
    if d.id == op.call.dom.id || d.is_dying() {
        return Err(errno::EINVAL);
    }
    d.unpause()
}

/// XEN_DOMCTL_max_mem (KiB): the domain may hold at most this much RAM.
/// Lowering it below what it has is allowed (it just cannot grow).
pub fn max_mem(op: &mut Op, d: &Arc<Domain>) -> Result<(), Errno> {
    let req: DomctlMaxMem = op.payload();
    let pages = req.max_memkb >> 2;
    d.memory.lock().set_max_pages(pages);
    Ok(())
}

pub fn max_vcpus(op: &mut Op, d: &Arc<Domain>) -> Result<(), Errno> {
    let req: DomctlMaxVcpus = op.payload();
    crate::domain::create::set_max_vcpus(d, req.max)
}

pub fn set_handle(op: &mut Op, d: &Arc<Domain>) -> Result<(), Errno> {
    let req: DomctlSetDomainHandle = op.payload();
    *d.handle.lock() = req.handle;
    Ok(())
}

pub fn set_time_offset(op: &mut Op, d: &Arc<Domain>) -> Result<(), Errno> {
    let req: DomctlSetTimeOffset = op.payload();
    d.toolstack.lock().time_offset_seconds = req.time_offset_seconds;
    Ok(())
}
