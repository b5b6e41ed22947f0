//! The system-control hypercall `sysctl` (`sysctl.h`, interface version
//! 0x15 = Xen 4.17), and the CPUID/MSR policy entries of
//! `arch-x86/xen.h`.
//!
//! The argument is one [`XenSysctl`] (136 bytes): a command, the interface
//! version and a 128-byte union read with [`XenSysctl::payload`]. Guest
//! handles are `u64` guest-virtual addresses in the caller's address space.

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use crate::domctl::XenctlBitmap;
use crate::DomId;

/// The only `interface_version` accepted; anything else gets `-EACCES`.
pub const XEN_SYSCTL_INTERFACE_VERSION: u32 = 0x0000_0015;

// Commands (`XEN_SYSCTL_*`).
/// [`SysctlReadconsole`].
pub const XEN_SYSCTL_READCONSOLE: u32 = 1;
pub const XEN_SYSCTL_TBUF_OP: u32 = 2;
/// [`SysctlPhysinfo`].
pub const XEN_SYSCTL_PHYSINFO: u32 = 3;
/// [`SysctlSchedId`].
pub const XEN_SYSCTL_SCHED_ID: u32 = 4;
pub const XEN_SYSCTL_PERFC_OP: u32 = 5;
/// [`SysctlGetDomainInfoList`].
pub const XEN_SYSCTL_GETDOMAININFOLIST: u32 = 6;
/// [`SysctlDebugKeys`].
pub const XEN_SYSCTL_DEBUG_KEYS: u32 = 7;
/// [`SysctlGetcpuinfo`].
pub const XEN_SYSCTL_GETCPUINFO: u32 = 8;
/// [`SysctlAvailheap`].
pub const XEN_SYSCTL_AVAILHEAP: u32 = 9;
pub const XEN_SYSCTL_GET_PMSTAT: u32 = 10;
/// [`SysctlCpuHotplug`].
pub const XEN_SYSCTL_CPU_HOTPLUG: u32 = 11;
pub const XEN_SYSCTL_PM_OP: u32 = 12;
pub const XEN_SYSCTL_PAGE_OFFLINE_OP: u32 = 14;
pub const XEN_SYSCTL_LOCKPROF_OP: u32 = 15;
/// [`SysctlCpuTopoInfo`].
pub const XEN_SYSCTL_CPUTOPOINFO: u32 = 16;
/// [`SysctlNumaInfo`].
pub const XEN_SYSCTL_NUMAINFO: u32 = 17;
/// [`SysctlCpupoolOp`].
pub const XEN_SYSCTL_CPUPOOL_OP: u32 = 18;
/// [`SysctlSchedulerOp`].
pub const XEN_SYSCTL_SCHEDULER_OP: u32 = 19;
pub const XEN_SYSCTL_COVERAGE_OP: u32 = 20;
pub const XEN_SYSCTL_PSR_CMT_OP: u32 = 21;
/// [`SysctlPcitopoInfo`].
pub const XEN_SYSCTL_PCITOPOINFO: u32 = 22;
pub const XEN_SYSCTL_PSR_ALLOC: u32 = 23;
/// [`SysctlCpuLevellingCaps`].
pub const XEN_SYSCTL_GET_CPU_LEVELLING_CAPS: u32 = 25;
/// [`SysctlCpuFeatureset`].
pub const XEN_SYSCTL_GET_CPU_FEATURESET: u32 = 26;
pub const XEN_SYSCTL_LIVEPATCH_OP: u32 = 27;
/// [`SysctlCpuPolicy`].
pub const XEN_SYSCTL_GET_CPU_POLICY: u32 = 29;

/// Name of sysctl command `cmd` as Xen spells it, for logs; `"unknown"` for a
/// number 4.17 does not define.
pub fn name(cmd: u32) -> &'static str {
    match cmd {
        XEN_SYSCTL_READCONSOLE => "readconsole",
        XEN_SYSCTL_TBUF_OP => "tbuf_op",
        XEN_SYSCTL_PHYSINFO => "physinfo",
        XEN_SYSCTL_SCHED_ID => "sched_id",
        XEN_SYSCTL_PERFC_OP => "perfc_op",
        XEN_SYSCTL_GETDOMAININFOLIST => "getdomaininfolist",
        XEN_SYSCTL_DEBUG_KEYS => "debug_keys",
        XEN_SYSCTL_GETCPUINFO => "getcpuinfo",
        XEN_SYSCTL_AVAILHEAP => "availheap",
        XEN_SYSCTL_GET_PMSTAT => "get_pmstat",
        XEN_SYSCTL_CPU_HOTPLUG => "cpu_hotplug",
        XEN_SYSCTL_PM_OP => "pm_op",
        XEN_SYSCTL_PAGE_OFFLINE_OP => "page_offline_op",
        XEN_SYSCTL_LOCKPROF_OP => "lockprof_op",
        XEN_SYSCTL_CPUTOPOINFO => "cputopoinfo",
        XEN_SYSCTL_NUMAINFO => "numainfo",
        XEN_SYSCTL_CPUPOOL_OP => "cpupool_op",
        XEN_SYSCTL_SCHEDULER_OP => "scheduler_op",
        XEN_SYSCTL_COVERAGE_OP => "coverage_op",
        XEN_SYSCTL_PSR_CMT_OP => "psr_cmt_op",
        XEN_SYSCTL_PCITOPOINFO => "pcitopoinfo",
        XEN_SYSCTL_PSR_ALLOC => "psr_alloc",
        XEN_SYSCTL_GET_CPU_LEVELLING_CAPS => "get_cpu_levelling_caps",
        XEN_SYSCTL_GET_CPU_FEATURESET => "get_cpu_featureset",
        XEN_SYSCTL_LIVEPATCH_OP => "livepatch_op",
        XEN_SYSCTL_GET_CPU_POLICY => "get_cpu_policy",
        _ => "unknown",
    }
}

/// `struct xen_sysctl`, the 136-byte hypercall argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct XenSysctl {
    /// `XEN_SYSCTL_*`.
    pub cmd: u32,
    /// Must be [`XEN_SYSCTL_INTERFACE_VERSION`].
    pub interface_version: u32,
    /// The per-command payload (`Sysctl*`).
    pub u: [u8; 128],
}

envelope_union!(XenSysctl, 128);

impl XenSysctl {
    /// A zeroed envelope for `cmd` with the current interface version.
    pub fn new(cmd: u32) -> Self {
        Self {
            cmd,
            interface_version: XEN_SYSCTL_INTERFACE_VERSION,
            ..Self::default()
        }
    }
}

/// `struct xen_sysctl_readconsole` (the hypervisor's console ring).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct SysctlReadconsole {
    /// IN: non-zero clears the ring after reading.
    pub clear: u8,
    /// IN: non-zero starts at `index`.
    pub incremental: u8,
    /// Padding.
    pub pad0: u8,
    /// Padding.
    pub pad1: u8,
    /// IN: start index (incremental); OUT: index after the last byte read.
    pub index: u32,
    /// Guest address of the buffer.
    pub buffer: u64,
    /// IN: buffer size; OUT: bytes written.
    pub count: u32,
    /// Padding.
    pub pad2: u32,
}

// `SysctlPhysinfo::capabilities`.
pub const XEN_SYSCTL_PHYSCAP_HVM: u32 = 1 << 0;
pub const XEN_SYSCTL_PHYSCAP_PV: u32 = 1 << 1;
pub const XEN_SYSCTL_PHYSCAP_DIRECTIO: u32 = 1 << 2;
/// Hardware-assisted paging (libxl needs HAP or SHADOW).
pub const XEN_SYSCTL_PHYSCAP_HAP: u32 = 1 << 3;
pub const XEN_SYSCTL_PHYSCAP_SHADOW: u32 = 1 << 4;
pub const XEN_SYSCTL_PHYSCAP_IOMMU_HAP_PT_SHARE: u32 = 1 << 5;
pub const XEN_SYSCTL_PHYSCAP_VMTRACE: u32 = 1 << 6;
pub const XEN_SYSCTL_PHYSCAP_VPMU: u32 = 1 << 7;
/// Grant tables v1 available.
pub const XEN_SYSCTL_PHYSCAP_GNTTAB_V1: u32 = 1 << 8;
/// Grant tables v2 available (libxl then creates domains with v2).
pub const XEN_SYSCTL_PHYSCAP_GNTTAB_V2: u32 = 1 << 9;
/// Highest capability bit 4.17 knows.
pub const XEN_SYSCTL_PHYSCAP_MAX: u32 = XEN_SYSCTL_PHYSCAP_GNTTAB_V2;

/// `struct xen_sysctl_physinfo` (112 bytes). All OUT.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct SysctlPhysinfo {
    /// Threads per core.
    pub threads_per_core: u32,
    /// Cores per socket.
    pub cores_per_socket: u32,
    /// CPUs online.
    pub nr_cpus: u32,
    /// Largest possible CPU id.
    pub max_cpu_id: u32,
    /// NUMA nodes online.
    pub nr_nodes: u32,
    /// Largest possible node id.
    pub max_node_id: u32,
    /// CPU frequency in kHz.
    pub cpu_khz: u32,
    /// `XEN_SYSCTL_PHYSCAP_*`.
    pub capabilities: u32,
    /// Architecture capabilities: Xen 4.17 defines no x86 bits (report 0).
    pub arch_capabilities: u32,
    /// Padding.
    pub pad: u32,
    /// Host pages.
    pub total_pages: u64,
    /// Free pages.
    pub free_pages: u64,
    /// Pages waiting to be scrubbed (counted as free by xl).
    pub scrub_pages: u64,
    /// Claimed pages.
    pub outstanding_pages: u64,
    /// Largest possible machine frame.
    pub max_mfn: u64,
    /// Host CPUID feature words.
    pub hw_cap: [u32; 8],
}

/// `struct xen_sysctl_sched_id`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct SysctlSchedId {
    /// OUT: `XEN_SCHEDULER_*` of the default pool.
    pub sched_id: u32,
}

/// `struct xen_sysctl_getdomaininfolist`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct SysctlGetDomainInfoList {
    /// IN: list domains with id ≥ this.
    pub first_domain: DomId,
    /// Padding.
    pub pad0: u16,
    /// IN: capacity of `buffer`.
    pub max_domains: u32,
    /// Guest address of `DomctlGetDomainInfo` entries (112 bytes each).
    pub buffer: u64,
    /// OUT: entries written.
    pub num_domains: u32,
    /// Padding.
    pub pad1: u32,
}

/// `struct xen_sysctl_debug_keys` (`xl debug-keys`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct SysctlDebugKeys {
    /// Guest address of the key characters.
    pub keys: u64,
    /// Number of keys.
    pub nr_keys: u32,
    /// Padding.
    pub pad: u32,
}

/// `struct xen_sysctl_cpuinfo`: one element of [`SysctlGetcpuinfo`].
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct SysctlCpuinfo {
    /// Idle time of the CPU, ns.
    pub idletime: u64,
}

/// `struct xen_sysctl_getcpuinfo`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct SysctlGetcpuinfo {
    /// IN: capacity of `info`.
    pub max_cpus: u32,
    /// Padding.
    pub pad0: u32,
    /// Guest address of [`SysctlCpuinfo`] entries.
    pub info: u64,
    /// OUT: entries written.
    pub nr_cpus: u32,
    /// Padding.
    pub pad1: u32,
}

/// `struct xen_sysctl_availheap`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct SysctlAvailheap {
    /// IN: smallest address width (0: any).
    pub min_bitwidth: u32,
    /// IN: largest address width (0: any).
    pub max_bitwidth: u32,
    /// IN: NUMA node, -1 for all.
    pub node: i32,
    /// Padding.
    pub pad: u32,
    /// OUT: bytes available.
    pub avail_bytes: u64,
}

// `SysctlCpuHotplug::op`.
pub const XEN_SYSCTL_CPU_HOTPLUG_ONLINE: u32 = 0;
pub const XEN_SYSCTL_CPU_HOTPLUG_OFFLINE: u32 = 1;
pub const XEN_SYSCTL_CPU_HOTPLUG_SMT_ENABLE: u32 = 2;
pub const XEN_SYSCTL_CPU_HOTPLUG_SMT_DISABLE: u32 = 3;

/// `struct xen_sysctl_cpu_hotplug`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct SysctlCpuHotplug {
    /// Physical CPU.
    pub cpu: u32,
    /// `XEN_SYSCTL_CPU_HOTPLUG_*`.
    pub op: u32,
}

// Unknown topology values.
pub const XEN_INVALID_CORE_ID: u32 = !0;
pub const XEN_INVALID_SOCKET_ID: u32 = !0;
pub const XEN_INVALID_NODE_ID: u32 = !0;
/// `pcitopoinfo`: the hypervisor does not know the device.
pub const XEN_INVALID_DEV: u32 = XEN_INVALID_NODE_ID - 1;

/// `struct xen_sysctl_cputopo`: one element of [`SysctlCpuTopoInfo`].
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenSysctlCputopo {
    /// Core id, or [`XEN_INVALID_CORE_ID`].
    pub core: u32,
    /// Socket id, or [`XEN_INVALID_SOCKET_ID`].
    pub socket: u32,
    /// Node id, or [`XEN_INVALID_NODE_ID`].
    pub node: u32,
}

/// `struct xen_sysctl_cputopoinfo`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct SysctlCpuTopoInfo {
    /// IN: capacity (with a 0 handle: asks for the count); OUT: entries.
    pub num_cpus: u32,
    /// Padding.
    pub pad: u32,
    /// Guest address of [`XenSysctlCputopo`] entries, or 0.
    pub cputopo: u64,
}

// Unknown NUMA values.
pub const XEN_INVALID_MEM_SZ: u32 = !0;
pub const XEN_INVALID_NODE_DIST: u32 = !0;

/// `struct xen_sysctl_meminfo`: one element of [`SysctlNumaInfo`].
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenSysctlMeminfo {
    /// Node memory in bytes.
    pub memsize: u64,
    /// Free node memory in bytes.
    pub memfree: u64,
}

/// `struct xen_sysctl_numainfo`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct SysctlNumaInfo {
    /// IN: capacity (both handles 0: asks for the count); OUT: nodes.
    pub num_nodes: u32,
    /// Padding.
    pub pad: u32,
    /// Guest address of [`XenSysctlMeminfo`] entries, or 0.
    pub meminfo: u64,
    /// Guest address of `num_nodes²` u32 distances (i*N + j), or 0.
    pub distance: u64,
}

// `SysctlCpupoolOp::op`.
pub const XEN_SYSCTL_CPUPOOL_OP_CREATE: u32 = 1;
pub const XEN_SYSCTL_CPUPOOL_OP_DESTROY: u32 = 2;
/// First pool with id ≥ `cpupool_id`; `-ENOENT` past the last.
pub const XEN_SYSCTL_CPUPOOL_OP_INFO: u32 = 3;
pub const XEN_SYSCTL_CPUPOOL_OP_ADDCPU: u32 = 4;
pub const XEN_SYSCTL_CPUPOOL_OP_RMCPU: u32 = 5;
pub const XEN_SYSCTL_CPUPOOL_OP_MOVEDOMAIN: u32 = 6;
/// CPUs in no pool.
pub const XEN_SYSCTL_CPUPOOL_OP_FREEINFO: u32 = 7;
/// "Any": a new pool id chosen by Xen, or any CPU.
pub const XEN_SYSCTL_CPUPOOL_PAR_ANY: u32 = 0xFFFF_FFFF;

/// `struct xen_sysctl_cpupool_op`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct SysctlCpupoolOp {
    /// `XEN_SYSCTL_CPUPOOL_OP_*`.
    pub op: u32,
    /// IN (all but FREEINFO); OUT (CREATE, INFO).
    pub cpupool_id: u32,
    /// IN (CREATE); OUT (INFO): `XEN_SCHEDULER_*`.
    pub sched_id: u32,
    /// IN (MOVEDOMAIN).
    pub domid: u32,
    /// IN (ADDCPU, RMCPU).
    pub cpu: u32,
    /// OUT (INFO): domains in the pool.
    pub n_dom: u32,
    /// OUT (INFO, FREEINFO): the pool's CPUs.
    pub cpumap: XenctlBitmap,
}

// Scheduler limits (Credit and Credit2).
/// Largest context-switch rate limit, µs.
pub const XEN_SYSCTL_SCHED_RATELIMIT_MAX: u32 = 500_000;
/// Smallest context-switch rate limit, µs.
pub const XEN_SYSCTL_SCHED_RATELIMIT_MIN: u32 = 100;
/// Largest credit time slice, ms.
pub const XEN_SYSCTL_CSCHED_TSLICE_MAX: u32 = 1000;
/// Smallest credit time slice, ms.
pub const XEN_SYSCTL_CSCHED_TSLICE_MIN: u32 = 1;
/// Largest credit migration delay, µs.
pub const XEN_SYSCTL_CSCHED_MGR_DLY_MAX_US: u32 = 100 * 1000;

// `SysctlSchedulerOp::cmd`.
pub const XEN_SYSCTL_SCHEDOP_PUTINFO: u32 = 0;
pub const XEN_SYSCTL_SCHEDOP_GETINFO: u32 = 1;

/// `struct xen_sysctl_credit_schedule`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct SysctlCreditSchedule {
    /// Time slice, ms (Xen default 30).
    pub tslice_ms: u32,
    /// Rate limit, µs (Xen default 1000).
    pub ratelimit_us: u32,
    /// Cache-hot time, µs.
    pub vcpu_migr_delay_us: u32,
}

/// `struct xen_sysctl_credit2_schedule`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct SysctlCredit2Schedule {
    /// Rate limit, µs.
    pub ratelimit_us: u32,
}

/// `struct xen_sysctl_scheduler_op`. The union is kept as bytes; use the
/// typed accessors.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct SysctlSchedulerOp {
    /// Pool whose scheduler is addressed.
    pub cpupool_id: u32,
    /// `XEN_SCHEDULER_*` (must match the pool's).
    pub sched_id: u32,
    /// `XEN_SYSCTL_SCHEDOP_*`.
    pub cmd: u32,
    /// Padding.
    pub pad: u32,
    /// `union { sched_arinc653 (a handle); sched_credit; sched_credit2 }`.
    pub u: [u8; 16],
}

impl SysctlSchedulerOp {
    /// The credit view.
    pub fn credit(&self) -> SysctlCreditSchedule {
        match SysctlCreditSchedule::read_from_prefix(&self.u) {
            Ok((v, _)) => v,
            Err(_) => SysctlCreditSchedule::default(),
        }
    }

    /// Sets the credit view, zeroing the rest of the union.
    pub fn set_credit(&mut self, value: SysctlCreditSchedule) {
        self.u = [0; 16];
        self.u[..12].copy_from_slice(value.as_bytes());
    }

    /// The credit2 view.
    pub fn credit2(&self) -> SysctlCredit2Schedule {
        match SysctlCredit2Schedule::read_from_prefix(&self.u) {
            Ok((v, _)) => v,
            Err(_) => SysctlCredit2Schedule::default(),
        }
    }

    /// Sets the credit2 view, zeroing the rest of the union.
    pub fn set_credit2(&mut self, value: SysctlCredit2Schedule) {
        self.u = [0; 16];
        self.u[..4].copy_from_slice(value.as_bytes());
    }
}

/// `struct physdev_pci_device` (`physdev.h`): an element of the
/// [`SysctlPcitopoInfo`] device list.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct PhysdevPciDevice {
    /// PCI segment.
    pub seg: u16,
    /// Bus.
    pub bus: u8,
    /// Device and function.
    pub devfn: u8,
}

/// `struct xen_sysctl_pcitopoinfo`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct SysctlPcitopoInfo {
    /// IN: entries in both arrays; OUT: entries processed.
    pub num_devs: u32,
    /// Padding.
    pub pad: u32,
    /// Guest address of [`PhysdevPciDevice`] entries.
    pub devs: u64,
    /// Guest address of u32 node ids (OUT; [`XEN_INVALID_NODE_ID`] /
    /// [`XEN_INVALID_DEV`]).
    pub nodes: u64,
}

// `SysctlCpuLevellingCaps::caps`.
pub const XEN_SYSCTL_CPU_LEVELCAP_FAULTING: u32 = 1 << 0;
pub const XEN_SYSCTL_CPU_LEVELCAP_ECX: u32 = 1 << 1;
pub const XEN_SYSCTL_CPU_LEVELCAP_EDX: u32 = 1 << 2;
pub const XEN_SYSCTL_CPU_LEVELCAP_EXTD_ECX: u32 = 1 << 3;
pub const XEN_SYSCTL_CPU_LEVELCAP_EXTD_EDX: u32 = 1 << 4;
pub const XEN_SYSCTL_CPU_LEVELCAP_XSAVE_EAX: u32 = 1 << 5;
pub const XEN_SYSCTL_CPU_LEVELCAP_THERMAL_ECX: u32 = 1 << 6;
pub const XEN_SYSCTL_CPU_LEVELCAP_L7S0_EAX: u32 = 1 << 7;
pub const XEN_SYSCTL_CPU_LEVELCAP_L7S0_EBX: u32 = 1 << 8;

/// `struct xen_sysctl_cpu_levelling_caps` (PV CPUID masking).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct SysctlCpuLevellingCaps {
    /// OUT: `XEN_SYSCTL_CPU_LEVELCAP_*`.
    pub caps: u32,
}

// `SysctlCpuFeatureset::index`.
pub const XEN_SYSCTL_CPU_FEATURESET_RAW: u32 = 0;
pub const XEN_SYSCTL_CPU_FEATURESET_HOST: u32 = 1;
pub const XEN_SYSCTL_CPU_FEATURESET_PV: u32 = 2;
pub const XEN_SYSCTL_CPU_FEATURESET_HVM: u32 = 3;
/// Added during 4.17.x (not in 4.17.0).
pub const XEN_SYSCTL_CPU_FEATURESET_PV_MAX: u32 = 4;
/// Added during 4.17.x (not in 4.17.0).
pub const XEN_SYSCTL_CPU_FEATURESET_HVM_MAX: u32 = 5;

/// `struct xen_sysctl_cpu_featureset`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct SysctlCpuFeatureset {
    /// IN: `XEN_SYSCTL_CPU_FEATURESET_*`.
    pub index: u32,
    /// IN: capacity (0 handle: asks for the size); OUT: words written.
    pub nr_features: u32,
    /// Guest address of u32 feature words.
    pub features: u64,
}

// `SysctlCpuPolicy::index`.
pub const XEN_SYSCTL_CPU_POLICY_RAW: u32 = 0;
pub const XEN_SYSCTL_CPU_POLICY_HOST: u32 = 1;
pub const XEN_SYSCTL_CPU_POLICY_PV_MAX: u32 = 2;
pub const XEN_SYSCTL_CPU_POLICY_HVM_MAX: u32 = 3;
pub const XEN_SYSCTL_CPU_POLICY_PV_DEFAULT: u32 = 4;
pub const XEN_SYSCTL_CPU_POLICY_HVM_DEFAULT: u32 = 5;

/// Most CPUID leaves a serialised policy has in Xen 4.17 (libx86's
/// `CPUID_MAX_SERIALISED_LEAVES`, compiled into libxenguest): the answer to a
/// size query.
pub const CPUID_MAX_SERIALISED_LEAVES: u32 = 120;
/// Most MSRs a serialised policy has in Xen 4.17 (`MSR_MAX_SERIALISED_ENTRIES`:
/// PLATFORM_INFO and ARCH_CAPABILITIES).
pub const MSR_MAX_SERIALISED_ENTRIES: u32 = 2;

/// `struct xen_sysctl_cpu_policy`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct SysctlCpuPolicy {
    /// IN: `XEN_SYSCTL_CPU_POLICY_*`.
    pub index: u32,
    /// IN: capacity (0 handle: asks for the maximum); OUT: written.
    pub nr_leaves: u32,
    /// IN: capacity (0 handle: asks for the maximum); OUT: written.
    pub nr_msrs: u32,
    /// Must be zero (`_rsvd`).
    pub rsvd: u32,
    /// Guest address of [`XenCpuidLeaf`] entries.
    pub leaves: u64,
    /// Guest address of [`XenMsrEntry`] entries.
    pub msrs: u64,
}

/// `subleaf` of a CPUID leaf that has none.
pub const XEN_CPUID_NO_SUBLEAF: u32 = 0xFFFF_FFFF;

/// `xen_cpuid_leaf_t` (`arch-x86/xen.h`): one serialised CPUID leaf.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenCpuidLeaf {
    /// EAX input.
    pub leaf: u32,
    /// ECX input, or [`XEN_CPUID_NO_SUBLEAF`].
    pub subleaf: u32,
    /// EAX output.
    pub a: u32,
    /// EBX output.
    pub b: u32,
    /// ECX output.
    pub c: u32,
    /// EDX output.
    pub d: u32,
}

/// `xen_msr_entry_t` (`arch-x86/xen.h`): one serialised MSR.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenMsrEntry {
    /// MSR index.
    pub idx: u32,
    /// Must be zero.
    pub flags: u32,
    /// Value.
    pub val: u64,
}

const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(size_of::<XenSysctl>() == 136);
    assert!(offset_of!(XenSysctl, cmd) == 0);
    assert!(offset_of!(XenSysctl, interface_version) == 4);
    assert!(offset_of!(XenSysctl, u) == 8);

    assert!(size_of::<SysctlReadconsole>() == 24);
    assert!(offset_of!(SysctlReadconsole, clear) == 0);
    assert!(offset_of!(SysctlReadconsole, incremental) == 1);
    assert!(offset_of!(SysctlReadconsole, pad0) == 2);
    assert!(offset_of!(SysctlReadconsole, pad1) == 3);
    assert!(offset_of!(SysctlReadconsole, index) == 4);
    assert!(offset_of!(SysctlReadconsole, buffer) == 8);
    assert!(offset_of!(SysctlReadconsole, count) == 16);

    assert!(size_of::<SysctlPhysinfo>() == 112);
    assert!(offset_of!(SysctlPhysinfo, threads_per_core) == 0);
    assert!(offset_of!(SysctlPhysinfo, cores_per_socket) == 4);
    assert!(offset_of!(SysctlPhysinfo, nr_cpus) == 8);
    assert!(offset_of!(SysctlPhysinfo, max_cpu_id) == 12);
    assert!(offset_of!(SysctlPhysinfo, nr_nodes) == 16);
    assert!(offset_of!(SysctlPhysinfo, max_node_id) == 20);
    assert!(offset_of!(SysctlPhysinfo, cpu_khz) == 24);
    assert!(offset_of!(SysctlPhysinfo, capabilities) == 28);
    assert!(offset_of!(SysctlPhysinfo, arch_capabilities) == 32);
    assert!(offset_of!(SysctlPhysinfo, pad) == 36);
    assert!(offset_of!(SysctlPhysinfo, total_pages) == 40);
    assert!(offset_of!(SysctlPhysinfo, free_pages) == 48);
    assert!(offset_of!(SysctlPhysinfo, scrub_pages) == 56);
    assert!(offset_of!(SysctlPhysinfo, outstanding_pages) == 64);
    assert!(offset_of!(SysctlPhysinfo, max_mfn) == 72);
    assert!(offset_of!(SysctlPhysinfo, hw_cap) == 80);

    assert!(size_of::<SysctlSchedId>() == 4);

    assert!(size_of::<SysctlGetDomainInfoList>() == 24);
    assert!(offset_of!(SysctlGetDomainInfoList, first_domain) == 0);
    assert!(offset_of!(SysctlGetDomainInfoList, max_domains) == 4);
    assert!(offset_of!(SysctlGetDomainInfoList, buffer) == 8);
    assert!(offset_of!(SysctlGetDomainInfoList, num_domains) == 16);

    assert!(size_of::<SysctlDebugKeys>() == 16);
    assert!(offset_of!(SysctlDebugKeys, keys) == 0);
    assert!(offset_of!(SysctlDebugKeys, nr_keys) == 8);

    assert!(size_of::<SysctlCpuinfo>() == 8);
    assert!(size_of::<SysctlGetcpuinfo>() == 24);
    assert!(offset_of!(SysctlGetcpuinfo, max_cpus) == 0);
    assert!(offset_of!(SysctlGetcpuinfo, info) == 8);
    assert!(offset_of!(SysctlGetcpuinfo, nr_cpus) == 16);

    assert!(size_of::<SysctlAvailheap>() == 24);
    assert!(offset_of!(SysctlAvailheap, min_bitwidth) == 0);
    assert!(offset_of!(SysctlAvailheap, max_bitwidth) == 4);
    assert!(offset_of!(SysctlAvailheap, node) == 8);
    assert!(offset_of!(SysctlAvailheap, avail_bytes) == 16);

    assert!(size_of::<SysctlCpuHotplug>() == 8);
    assert!(offset_of!(SysctlCpuHotplug, op) == 4);

    assert!(size_of::<XenSysctlCputopo>() == 12);
    assert!(offset_of!(XenSysctlCputopo, core) == 0);
    assert!(offset_of!(XenSysctlCputopo, socket) == 4);
    assert!(offset_of!(XenSysctlCputopo, node) == 8);
    assert!(size_of::<SysctlCpuTopoInfo>() == 16);
    assert!(offset_of!(SysctlCpuTopoInfo, num_cpus) == 0);
    assert!(offset_of!(SysctlCpuTopoInfo, cputopo) == 8);

    assert!(size_of::<XenSysctlMeminfo>() == 16);
    assert!(offset_of!(XenSysctlMeminfo, memsize) == 0);
    assert!(offset_of!(XenSysctlMeminfo, memfree) == 8);
    assert!(size_of::<SysctlNumaInfo>() == 24);
    assert!(offset_of!(SysctlNumaInfo, num_nodes) == 0);
    assert!(offset_of!(SysctlNumaInfo, meminfo) == 8);
    assert!(offset_of!(SysctlNumaInfo, distance) == 16);

    assert!(size_of::<SysctlCpupoolOp>() == 40);
    assert!(offset_of!(SysctlCpupoolOp, op) == 0);
    assert!(offset_of!(SysctlCpupoolOp, cpupool_id) == 4);
    assert!(offset_of!(SysctlCpupoolOp, sched_id) == 8);
    assert!(offset_of!(SysctlCpupoolOp, domid) == 12);
    assert!(offset_of!(SysctlCpupoolOp, cpu) == 16);
    assert!(offset_of!(SysctlCpupoolOp, n_dom) == 20);
    assert!(offset_of!(SysctlCpupoolOp, cpumap) == 24);

    assert!(size_of::<SysctlCreditSchedule>() == 12);
    assert!(offset_of!(SysctlCreditSchedule, tslice_ms) == 0);
    assert!(offset_of!(SysctlCreditSchedule, ratelimit_us) == 4);
    assert!(offset_of!(SysctlCreditSchedule, vcpu_migr_delay_us) == 8);
    assert!(size_of::<SysctlCredit2Schedule>() == 4);
    assert!(size_of::<SysctlSchedulerOp>() == 32);
    assert!(offset_of!(SysctlSchedulerOp, cpupool_id) == 0);
    assert!(offset_of!(SysctlSchedulerOp, sched_id) == 4);
    assert!(offset_of!(SysctlSchedulerOp, cmd) == 8);
    assert!(offset_of!(SysctlSchedulerOp, u) == 16);

    assert!(size_of::<PhysdevPciDevice>() == 4);
    assert!(offset_of!(PhysdevPciDevice, bus) == 2);
    assert!(offset_of!(PhysdevPciDevice, devfn) == 3);
    assert!(size_of::<SysctlPcitopoInfo>() == 24);
    assert!(offset_of!(SysctlPcitopoInfo, num_devs) == 0);
    assert!(offset_of!(SysctlPcitopoInfo, devs) == 8);
    assert!(offset_of!(SysctlPcitopoInfo, nodes) == 16);

    assert!(size_of::<SysctlCpuLevellingCaps>() == 4);

    assert!(size_of::<SysctlCpuFeatureset>() == 16);
    assert!(offset_of!(SysctlCpuFeatureset, index) == 0);
    assert!(offset_of!(SysctlCpuFeatureset, nr_features) == 4);
    assert!(offset_of!(SysctlCpuFeatureset, features) == 8);

    assert!(size_of::<SysctlCpuPolicy>() == 32);
    assert!(offset_of!(SysctlCpuPolicy, index) == 0);
    assert!(offset_of!(SysctlCpuPolicy, nr_leaves) == 4);
    assert!(offset_of!(SysctlCpuPolicy, nr_msrs) == 8);
    assert!(offset_of!(SysctlCpuPolicy, rsvd) == 12);
    assert!(offset_of!(SysctlCpuPolicy, leaves) == 16);
    assert!(offset_of!(SysctlCpuPolicy, msrs) == 24);

    assert!(size_of::<XenCpuidLeaf>() == 24);
    assert!(offset_of!(XenCpuidLeaf, leaf) == 0);
    assert!(offset_of!(XenCpuidLeaf, subleaf) == 4);
    assert!(offset_of!(XenCpuidLeaf, a) == 8);
    assert!(offset_of!(XenCpuidLeaf, b) == 12);
    assert!(offset_of!(XenCpuidLeaf, c) == 16);
    assert!(offset_of!(XenCpuidLeaf, d) == 20);
    assert!(size_of::<XenMsrEntry>() == 16);
    assert!(offset_of!(XenMsrEntry, idx) == 0);
    assert!(offset_of!(XenMsrEntry, flags) == 4);
    assert!(offset_of!(XenMsrEntry, val) == 8);
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_payload_round_trip() {
        let mut s = XenSysctl::new(XEN_SYSCTL_PHYSINFO);
        let info = SysctlPhysinfo {
            nr_cpus: 2,
            capabilities: XEN_SYSCTL_PHYSCAP_HVM
                | XEN_SYSCTL_PHYSCAP_HAP
                | XEN_SYSCTL_PHYSCAP_GNTTAB_V1,
            total_pages: 0x80000,
            hw_cap: [7; 8],
            ..Default::default()
        };
        s.set_payload(&info);
        let bytes = s.as_bytes();
        assert_eq!(bytes[4..8], 0x15u32.to_le_bytes());
        assert_eq!(bytes[8 + 8..8 + 12], 2u32.to_le_bytes());
        assert_eq!(bytes[8 + 28..8 + 32], 0x109u32.to_le_bytes());
        assert_eq!(bytes[8 + 40..8 + 48], 0x80000u64.to_le_bytes());
        assert_eq!(s.payload::<SysctlPhysinfo>(), info);
    }

    #[test]
    fn scheduler_op_credit_view() {
        let mut op = SysctlSchedulerOp {
            sched_id: crate::domctl::XEN_SCHEDULER_CREDIT,
            cmd: XEN_SYSCTL_SCHEDOP_GETINFO,
            ..Default::default()
        };
        op.set_credit(SysctlCreditSchedule {
            tslice_ms: 30,
            ratelimit_us: 1000,
            vcpu_migr_delay_us: 0,
        });
        assert_eq!(op.as_bytes()[16..20], 30u32.to_le_bytes());
        assert_eq!(op.as_bytes()[20..24], 1000u32.to_le_bytes());
        assert_eq!(op.credit().ratelimit_us, 1000);
        op.set_credit2(SysctlCredit2Schedule { ratelimit_us: 500 });
        assert_eq!(op.credit2().ratelimit_us, 500);
        assert_eq!(op.credit().tslice_ms, 500);
        assert_eq!(op.credit().ratelimit_us, 0);
    }

    #[test]
    fn names() {
        assert_eq!(name(XEN_SYSCTL_GET_CPU_POLICY), "get_cpu_policy");
        assert_eq!(name(13), "unknown");
        assert_eq!(name(28), "unknown");
    }
}
