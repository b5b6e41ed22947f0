//! The machine as the toolstack sees it: `xl info` (physinfo), topology,
//! NUMA (one node), and the CPU features and policies a new guest's CPUID
//! is computed from.

use alloc::vec::Vec;

use rxen_xen_abi::errno::{self, Errno};
use rxen_xen_abi::sysctl::*;

use super::Op;
use crate::hypercall::cpu_policy;

fn nr_cpus() -> u32 {
    crate::arch::smp::cpus_online() as u32
}

/// XEN_SYSCTL_physinfo.
pub fn physinfo(op: &mut Op) -> Result<(), Errno> {
    let (_, free) = crate::mm::frames::stats();
    let total = crate::mm::ram_frames();
    let cpus = nr_cpus();
    let info = SysctlPhysinfo {
        threads_per_core: 1,
        cores_per_socket: cpus,
        nr_cpus: cpus,
        max_cpu_id: cpus - 1,
        nr_nodes: 1,
        max_node_id: 0,
        cpu_khz: (crate::arch::time::tsc_hz() / 1000) as u32,
        capabilities: XEN_SYSCTL_PHYSCAP_HVM
            | XEN_SYSCTL_PHYSCAP_HAP
            | XEN_SYSCTL_PHYSCAP_GNTTAB_V1,
        total_pages: total,
        free_pages: free,
        outstanding_pages: crate::mm::claims::outstanding(),
        max_mfn: crate::mm::frames::max_frame().saturating_sub(1),
        hw_cap: hw_cap(),
        ..Default::default()
    };
    op.set_payload(&info);
    Ok(())
}

/// The first eight words of the host featureset (as `hw_cap`).
fn hw_cap() -> [u32; 8] {
    let words = crate::arch::emulate::cpuid::host_featureset();
    core::array::from_fn(|i| words.get(i).copied().unwrap_or(0))
}

/// XEN_SYSCTL_cputopoinfo: every CPU its own core on socket 0, node 0.
pub fn cpu_topology(op: &mut Op) -> Result<(), Errno> {
    let mut req: SysctlCpuTopoInfo = op.payload();
    let cpus = nr_cpus();
    if req.cputopo != 0 {
        let n = req.num_cpus.min(cpus);
        let topo: Vec<XenSysctlCputopo> = (0..n)
            .map(|i| XenSysctlCputopo {
                core: i,
                socket: 0,
                node: 0,
            })
            .collect();
        op.call.write_array(req.cputopo, &topo)?;
    }
    req.num_cpus = cpus;
    op.set_payload(&req);
    Ok(())
}

/// XEN_SYSCTL_numainfo: one node with all the memory.
pub fn numa(op: &mut Op) -> Result<(), Errno> {
    let mut req: SysctlNumaInfo = op.payload();
    if req.meminfo != 0 && req.num_nodes >= 1 {
        let (_, free) = crate::mm::frames::stats();
        let total = crate::mm::ram_frames();
        let info = XenSysctlMeminfo {
            memsize: total * 4096,
            memfree: free * 4096,
        };
        op.call.write(req.meminfo, &info)?;
    }
    if req.distance != 0 && req.num_nodes >= 1 {
        op.call.write(req.distance, &10u32)?;
    }
    req.num_nodes = 1;
    op.set_payload(&req);
    Ok(())
}

/// XEN_SYSCTL_get_cpu_featureset: the host's feature words (every index
/// answers with what guests may have, which is the host's here).
pub fn featureset(op: &mut Op) -> Result<(), Errno> {
    let mut req: SysctlCpuFeatureset = op.payload();
    if req.index > XEN_SYSCTL_CPU_FEATURESET_HVM_MAX {
        return Err(errno::EINVAL);
    }
    let words = crate::arch::emulate::cpuid::host_featureset();
    if req.features != 0 {
        if (req.nr_features as usize) < words.len() {
            return Err(errno::ENOBUFS);
        }
        op.call.write_array(req.features, &words)?;
    }
    req.nr_features = words.len() as u32;
    op.set_payload(&req);
    Ok(())
}

/// XEN_SYSCTL_get_cpu_policy: the HVM policies are what a PVH guest sees;
/// no PV policies exist (rxen runs no PV guests).
pub fn cpu_policy(op: &mut Op) -> Result<(), Errno> {
    let mut req: SysctlCpuPolicy = op.payload();
    if req.rsvd != 0 || req.index > XEN_SYSCTL_CPU_POLICY_HVM_DEFAULT {
        return Err(errno::EINVAL);
    }
    if matches!(
        req.index,
        XEN_SYSCTL_CPU_POLICY_PV_MAX | XEN_SYSCTL_CPU_POLICY_PV_DEFAULT
    ) {
        return Err(errno::EOPNOTSUPP);
    }
    let leaves = crate::arch::emulate::cpuid::policy_leaves();
    cpu_policy::write_leaves(op.call, &mut req.nr_leaves, req.leaves, &leaves)?;
    cpu_policy::write_msrs(op.call, &mut req.nr_msrs, req.msrs)?;
    op.set_payload(&req);
    Ok(())
}
