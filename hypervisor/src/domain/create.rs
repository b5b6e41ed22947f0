//! Domains the toolstack creates (XEN_DOMCTL_createdomain): rxen makes an
//! empty domain — no memory, no vCPUs, paused — and libxenguest in dom0
//! builds it: vCPUs (max_vcpus), limits (max_mem), RAM on request
//! (populate_physmap), the kernel copied through foreign maps, the vCPU
//! state as HVM context records, then unpause.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use rxen_event_channel::PortTable;
use rxen_xen_abi::domctl::*;
use rxen_xen_abi::errno::{self, Errno};
use rxen_xen_abi::memory::DOMID_FIRST_RESERVED;

use super::memory::GuestMemory;
use super::{DomId, Domain, DomainInit, Origin, DEFAULT_GRANT_FRAMES, DEFAULT_MAPTRACK_FRAMES};
use crate::sched::SchedParams;

/// Grant-frame and maptrack-frame limits a toolstack may ask for.
const MAX_GRANT_FRAMES: u32 = 256;
const MAX_MAPTRACK_FRAMES: u32 = 4096;

/// Checks a createdomain request as Xen does and creates the domain.
/// `requested` is the envelope's domain field: 0 or a reserved id means
/// "pick one". Returns the new domain's id.
pub fn create(req: &DomctlCreateDomain, requested: DomId) -> Result<DomId, Errno> {
    check_flags(req)?;
    let grant_frames = limit(req.max_grant_frames, DEFAULT_GRANT_FRAMES, MAX_GRANT_FRAMES)?;
    let maptrack_frames = limit(
        req.max_maptrack_frames,
        DEFAULT_MAPTRACK_FRAMES,
        MAX_MAPTRACK_FRAMES,
    )?;
    let id = if requested == 0 || requested >= DOMID_FIRST_RESERVED {
        super::allocate_id().ok_or(errno::ENOMEM)?
    } else if super::id_is_free(requested) {
        requested
    } else {
        return Err(errno::EEXIST);
    };
    let mut memory = GuestMemory::new(id, 0).map_err(|_| errno::ENOMEM)?;
    let shared_info_pa = memory.alloc_extra().map_err(|_| errno::ENOMEM)?;
    let mut events = PortTable::new(crate::evtchn::DEFAULT_MAX_PORTS);
    events.set_max_ports(req.max_evtchn_port.saturating_add(1));
    let domain = Domain::new(DomainInit {
        id,
        name: alloc::format!("d{id}"),
        origin: Origin::Toolstack,
        memory,
        max_vcpus: req.max_vcpus,
        shared_info_pa,
        events,
        console: None,
        params: [0; super::NR_PARAMS],
        e820: Vec::new(),
        grant_frames,
        maptrack_frames,
        handle: req.handle,
        ssidref: req.ssidref,
        // New domains start paused, as on Xen: creation ends with unpause.
        paused: true,
    });
    super::register(domain);
    log::info!(
        "d{id}: created by the toolstack ({} vCPUs at most)",
        req.max_vcpus
    );
    Ok(id)
}

fn check_flags(req: &DomctlCreateDomain) -> Result<(), Errno> {
    let known = XEN_DOMCTL_CDF_HVM
        | XEN_DOMCTL_CDF_HAP
        | XEN_DOMCTL_CDF_S3_INTEGRITY
        | XEN_DOMCTL_CDF_OOS_OFF
        | XEN_DOMCTL_CDF_XS_DOMAIN
        | XEN_DOMCTL_CDF_IOMMU
        | XEN_DOMCTL_CDF_NESTED_VIRT
        | XEN_DOMCTL_CDF_VPMU;
    if req.flags & !known != 0 {
        return Err(errno::EINVAL);
    }
    // rxen runs HVM-container (PVH) domains on nested paging only: no PV,
    // no shadow paging, no nested virtualisation, no passthrough.
    let unsupported = XEN_DOMCTL_CDF_NESTED_VIRT | XEN_DOMCTL_CDF_IOMMU | XEN_DOMCTL_CDF_VPMU;
    if req.flags & (XEN_DOMCTL_CDF_HVM | XEN_DOMCTL_CDF_HAP)
        != XEN_DOMCTL_CDF_HVM | XEN_DOMCTL_CDF_HAP
        || req.flags & unsupported != 0
        || req.iommu_opts != 0
    {
        return Err(errno::EINVAL);
    }
    if req.max_vcpus == 0 || req.max_vcpus > rxen_guest_layout::MAX_VCPUS {
        return Err(errno::EINVAL);
    }
    if grant_version(req.grant_opts) != 1 || req.grant_opts & !XEN_DOMCTL_GRANT_VERSION_MASK != 0 {
        return Err(errno::EINVAL);
    }
    if req.vmtrace_size != 0 || req.arch.misc_flags & !XEN_X86_MISC_FLAGS_MAX != 0 {
        return Err(errno::EINVAL);
    }
    if req.cpupool_id != 0 {
        return Err(errno::ENOENT);
    }
    // Only PVH: a local APIC and nothing else emulated (a full HVM guest
    // needs a device model rxen does not have yet).
    if req.arch.emulation_flags != XEN_X86_EMU_LAPIC {
        log::warn!(
            "createdomain: emulation flags {:#x} refused: only PVH domains (LAPIC only) run on rxen",
            req.arch.emulation_flags
        );
        return Err(errno::EOPNOTSUPP);
    }
    Ok(())
}

/// A frame limit: negative means the default, above `max` is refused.
fn limit(asked: i32, default: u32, max: u32) -> Result<u32, Errno> {
    match u32::try_from(asked) {
        Err(_) => Ok(default),
        Ok(n) if n <= max => Ok(n),
        Ok(_) => Err(errno::EINVAL),
    }
}

/// XEN_DOMCTL_max_vcpus: creates the vCPUs (all down; the toolstack's
/// CPU record starts vCPU 0, the guest starts the others) and hands them
/// to the scheduler.
pub fn set_max_vcpus(dom: &Arc<Domain>, n: u32) -> Result<(), Errno> {
    if n != dom.max_vcpus {
        return Err(errno::EINVAL);
    }
    if !dom.vcpus().is_empty() {
        return Ok(());
    }
    super::vcpu::create_vcpus(dom, n, 0, 0).map_err(|_| errno::ENOMEM)?;
    crate::sched::add_domain(dom, SchedParams::default()).map_err(|e: String| {
        log::warn!("d{}: {e}", dom.id);
        errno::EINVAL
    })
}
