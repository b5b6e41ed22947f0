//! The domain-control hypercall `domctl` (`domctl.h`, interface version
//! 0x15 = Xen 4.17), as the toolstack in dom0 issues it.
//!
//! The hypercall argument is one [`XenDomctl`] (144 bytes): a command, the
//! interface version, the target domain and a 128-byte union whose layout
//! depends on the command. Read the union with [`XenDomctl::payload`] and
//! write results back with [`XenDomctl::set_payload`]; the payload structs
//! are the `Domctl*` types below. Guest handles (`XEN_GUEST_HANDLE_64`) are
//! plain `u64` guest-virtual addresses in the caller's address space.

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

pub use crate::sysctl::{XenCpuidLeaf, XenMsrEntry, XEN_CPUID_NO_SUBLEAF};
use crate::{DomId, EvtchnPort, XenDomainHandle};

/// The only `interface_version` accepted; anything else gets `-EACCES`.
pub const XEN_DOMCTL_INTERFACE_VERSION: u32 = 0x0000_0015;

// Commands (`XEN_DOMCTL_*`). Numbers Xen removed are absent.
/// [`DomctlCreateDomain`]; the envelope `domain` is IN/OUT.
pub const XEN_DOMCTL_CREATEDOMAIN: u32 = 1;
pub const XEN_DOMCTL_DESTROYDOMAIN: u32 = 2;
pub const XEN_DOMCTL_PAUSEDOMAIN: u32 = 3;
pub const XEN_DOMCTL_UNPAUSEDOMAIN: u32 = 4;
/// [`DomctlGetDomainInfo`]; the envelope `domain` is IN/OUT.
pub const XEN_DOMCTL_GETDOMAININFO: u32 = 5;
/// [`DomctlVcpuAffinity`].
pub const XEN_DOMCTL_SETVCPUAFFINITY: u32 = 9;
/// [`DomctlShadowOp`].
pub const XEN_DOMCTL_SHADOW_OP: u32 = 10;
/// [`DomctlMaxMem`].
pub const XEN_DOMCTL_MAX_MEM: u32 = 11;
/// [`DomctlVcpuContext`].
pub const XEN_DOMCTL_SETVCPUCONTEXT: u32 = 12;
/// [`DomctlVcpuContext`].
pub const XEN_DOMCTL_GETVCPUCONTEXT: u32 = 13;
/// [`DomctlGetVcpuInfo`].
pub const XEN_DOMCTL_GETVCPUINFO: u32 = 14;
/// [`DomctlMaxVcpus`].
pub const XEN_DOMCTL_MAX_VCPUS: u32 = 15;
/// [`DomctlSchedulerOp`].
pub const XEN_DOMCTL_SCHEDULER_OP: u32 = 16;
/// [`DomctlSetDomainHandle`].
pub const XEN_DOMCTL_SETDOMAINHANDLE: u32 = 17;
/// [`DomctlSetDebugging`].
pub const XEN_DOMCTL_SETDEBUGGING: u32 = 18;
/// [`DomctlIrqPermission`].
pub const XEN_DOMCTL_IRQ_PERMISSION: u32 = 19;
/// [`DomctlIomemPermission`].
pub const XEN_DOMCTL_IOMEM_PERMISSION: u32 = 20;
/// [`DomctlIoportPermission`].
pub const XEN_DOMCTL_IOPORT_PERMISSION: u32 = 21;
/// [`DomctlHypercallInit`] (PV only).
pub const XEN_DOMCTL_HYPERCALL_INIT: u32 = 22;
/// [`DomctlSetTimeOffset`].
pub const XEN_DOMCTL_SETTIMEOFFSET: u32 = 24;
/// [`DomctlVcpuAffinity`].
pub const XEN_DOMCTL_GETVCPUAFFINITY: u32 = 25;
/// Obsolete (PPC).
pub const XEN_DOMCTL_REAL_MODE_AREA: u32 = 26;
/// No payload: ends a suspend (the guest's `SCHEDOP_shutdown` returns 1).
pub const XEN_DOMCTL_RESUMEDOMAIN: u32 = 27;
/// [`DomctlSendTrigger`].
pub const XEN_DOMCTL_SENDTRIGGER: u32 = 28;
/// [`DomctlSubscribe`].
pub const XEN_DOMCTL_SUBSCRIBE: u32 = 29;
/// [`DomctlHvmContext`].
pub const XEN_DOMCTL_GETHVMCONTEXT: u32 = 33;
/// [`DomctlHvmContext`].
pub const XEN_DOMCTL_SETHVMCONTEXT: u32 = 34;
/// [`DomctlAddressSize`] (PV only).
pub const XEN_DOMCTL_SET_ADDRESS_SIZE: u32 = 35;
/// [`DomctlAddressSize`] (PV only).
pub const XEN_DOMCTL_GET_ADDRESS_SIZE: u32 = 36;
pub const XEN_DOMCTL_ASSIGN_DEVICE: u32 = 37;
pub const XEN_DOMCTL_BIND_PT_IRQ: u32 = 38;
/// [`DomctlMemoryMapping`].
pub const XEN_DOMCTL_MEMORY_MAPPING: u32 = 39;
pub const XEN_DOMCTL_IOPORT_MAPPING: u32 = 40;
pub const XEN_DOMCTL_SET_EXT_VCPUCONTEXT: u32 = 42;
pub const XEN_DOMCTL_GET_EXT_VCPUCONTEXT: u32 = 43;
/// Obsolete (IA64).
pub const XEN_DOMCTL_SET_OPT_FEATURE: u32 = 44;
pub const XEN_DOMCTL_TEST_ASSIGN_DEVICE: u32 = 45;
pub const XEN_DOMCTL_SET_TARGET: u32 = 46;
pub const XEN_DOMCTL_DEASSIGN_DEVICE: u32 = 47;
pub const XEN_DOMCTL_UNBIND_PT_IRQ: u32 = 48;
pub const XEN_DOMCTL_GET_DEVICE_GROUP: u32 = 50;
/// [`DomctlDebugOp`].
pub const XEN_DOMCTL_DEBUG_OP: u32 = 54;
/// [`DomctlHvmContextPartial`].
pub const XEN_DOMCTL_GETHVMCONTEXT_PARTIAL: u32 = 55;
pub const XEN_DOMCTL_VM_EVENT_OP: u32 = 56;
pub const XEN_DOMCTL_MEM_SHARING_OP: u32 = 57;
/// [`DomctlTscInfo`].
pub const XEN_DOMCTL_GETTSCINFO: u32 = 59;
/// [`DomctlTscInfo`].
pub const XEN_DOMCTL_SETTSCINFO: u32 = 60;
/// [`DomctlGetPageFrameInfo3`].
pub const XEN_DOMCTL_GETPAGEFRAMEINFO3: u32 = 61;
/// [`DomctlVcpuExtState`] (PV only in practice).
pub const XEN_DOMCTL_SETVCPUEXTSTATE: u32 = 62;
/// [`DomctlVcpuExtState`] (PV only in practice).
pub const XEN_DOMCTL_GETVCPUEXTSTATE: u32 = 63;
pub const XEN_DOMCTL_SET_ACCESS_REQUIRED: u32 = 64;
pub const XEN_DOMCTL_AUDIT_P2M: u32 = 65;
/// [`DomctlSetVirqHandler`].
pub const XEN_DOMCTL_SET_VIRQ_HANDLER: u32 = 66;
pub const XEN_DOMCTL_SET_BROKEN_PAGE_P2M: u32 = 67;
/// [`DomctlNodeAffinity`].
pub const XEN_DOMCTL_SETNODEAFFINITY: u32 = 68;
/// [`DomctlNodeAffinity`].
pub const XEN_DOMCTL_GETNODEAFFINITY: u32 = 69;
/// Arm only.
pub const XEN_DOMCTL_CACHEFLUSH: u32 = 71;
/// [`DomctlVcpuMsrs`].
pub const XEN_DOMCTL_GET_VCPU_MSRS: u32 = 72;
/// [`DomctlVcpuMsrs`].
pub const XEN_DOMCTL_SET_VCPU_MSRS: u32 = 73;
pub const XEN_DOMCTL_SETVNUMAINFO: u32 = 74;
pub const XEN_DOMCTL_PSR_CMT_OP: u32 = 75;
pub const XEN_DOMCTL_MONITOR_OP: u32 = 77;
pub const XEN_DOMCTL_PSR_ALLOC: u32 = 78;
pub const XEN_DOMCTL_SOFT_RESET: u32 = 79;
/// Arm only.
pub const XEN_DOMCTL_VUART_OP: u32 = 81;
/// [`DomctlCpuPolicy`].
pub const XEN_DOMCTL_GET_CPU_POLICY: u32 = 82;
/// [`DomctlCpuPolicy`].
pub const XEN_DOMCTL_SET_CPU_POLICY: u32 = 83;
pub const XEN_DOMCTL_VMTRACE_OP: u32 = 84;
/// [`DomctlPagingMempool`].
pub const XEN_DOMCTL_GET_PAGING_MEMPOOL_SIZE: u32 = 85;
/// [`DomctlPagingMempool`].
pub const XEN_DOMCTL_SET_PAGING_MEMPOOL_SIZE: u32 = 86;
pub const XEN_DOMCTL_GDBSX_GUESTMEMIO: u32 = 1000;
pub const XEN_DOMCTL_GDBSX_PAUSEVCPU: u32 = 1001;
pub const XEN_DOMCTL_GDBSX_UNPAUSEVCPU: u32 = 1002;
pub const XEN_DOMCTL_GDBSX_DOMSTATUS: u32 = 1003;

/// Name of domctl command `cmd` as Xen spells it (`"createdomain"`), for
/// logs; `"unknown"` for a number 4.17 does not define.
pub fn name(cmd: u32) -> &'static str {
    match cmd {
        XEN_DOMCTL_CREATEDOMAIN => "createdomain",
        XEN_DOMCTL_DESTROYDOMAIN => "destroydomain",
        XEN_DOMCTL_PAUSEDOMAIN => "pausedomain",
        XEN_DOMCTL_UNPAUSEDOMAIN => "unpausedomain",
        XEN_DOMCTL_GETDOMAININFO => "getdomaininfo",
        XEN_DOMCTL_SETVCPUAFFINITY => "setvcpuaffinity",
        XEN_DOMCTL_SHADOW_OP => "shadow_op",
        XEN_DOMCTL_MAX_MEM => "max_mem",
        XEN_DOMCTL_SETVCPUCONTEXT => "setvcpucontext",
        XEN_DOMCTL_GETVCPUCONTEXT => "getvcpucontext",
        XEN_DOMCTL_GETVCPUINFO => "getvcpuinfo",
        XEN_DOMCTL_MAX_VCPUS => "max_vcpus",
        XEN_DOMCTL_SCHEDULER_OP => "scheduler_op",
        XEN_DOMCTL_SETDOMAINHANDLE => "setdomainhandle",
        XEN_DOMCTL_SETDEBUGGING => "setdebugging",
        XEN_DOMCTL_IRQ_PERMISSION => "irq_permission",
        XEN_DOMCTL_IOMEM_PERMISSION => "iomem_permission",
        XEN_DOMCTL_IOPORT_PERMISSION => "ioport_permission",
        XEN_DOMCTL_HYPERCALL_INIT => "hypercall_init",
        XEN_DOMCTL_SETTIMEOFFSET => "settimeoffset",
        XEN_DOMCTL_GETVCPUAFFINITY => "getvcpuaffinity",
        XEN_DOMCTL_REAL_MODE_AREA => "real_mode_area",
        XEN_DOMCTL_RESUMEDOMAIN => "resumedomain",
        XEN_DOMCTL_SENDTRIGGER => "sendtrigger",
        XEN_DOMCTL_SUBSCRIBE => "subscribe",
        XEN_DOMCTL_GETHVMCONTEXT => "gethvmcontext",
        XEN_DOMCTL_SETHVMCONTEXT => "sethvmcontext",
        XEN_DOMCTL_SET_ADDRESS_SIZE => "set_address_size",
        XEN_DOMCTL_GET_ADDRESS_SIZE => "get_address_size",
        XEN_DOMCTL_ASSIGN_DEVICE => "assign_device",
        XEN_DOMCTL_BIND_PT_IRQ => "bind_pt_irq",
        XEN_DOMCTL_MEMORY_MAPPING => "memory_mapping",
        XEN_DOMCTL_IOPORT_MAPPING => "ioport_mapping",
        XEN_DOMCTL_SET_EXT_VCPUCONTEXT => "set_ext_vcpucontext",
        XEN_DOMCTL_GET_EXT_VCPUCONTEXT => "get_ext_vcpucontext",
        XEN_DOMCTL_SET_OPT_FEATURE => "set_opt_feature",
        XEN_DOMCTL_TEST_ASSIGN_DEVICE => "test_assign_device",
        XEN_DOMCTL_SET_TARGET => "set_target",
        XEN_DOMCTL_DEASSIGN_DEVICE => "deassign_device",
        XEN_DOMCTL_UNBIND_PT_IRQ => "unbind_pt_irq",
        XEN_DOMCTL_GET_DEVICE_GROUP => "get_device_group",
        XEN_DOMCTL_DEBUG_OP => "debug_op",
        XEN_DOMCTL_GETHVMCONTEXT_PARTIAL => "gethvmcontext_partial",
        XEN_DOMCTL_VM_EVENT_OP => "vm_event_op",
        XEN_DOMCTL_MEM_SHARING_OP => "mem_sharing_op",
        XEN_DOMCTL_GETTSCINFO => "gettscinfo",
        XEN_DOMCTL_SETTSCINFO => "settscinfo",
        XEN_DOMCTL_GETPAGEFRAMEINFO3 => "getpageframeinfo3",
        XEN_DOMCTL_SETVCPUEXTSTATE => "setvcpuextstate",
        XEN_DOMCTL_GETVCPUEXTSTATE => "getvcpuextstate",
        XEN_DOMCTL_SET_ACCESS_REQUIRED => "set_access_required",
        XEN_DOMCTL_AUDIT_P2M => "audit_p2m",
        XEN_DOMCTL_SET_VIRQ_HANDLER => "set_virq_handler",
        XEN_DOMCTL_SET_BROKEN_PAGE_P2M => "set_broken_page_p2m",
        XEN_DOMCTL_SETNODEAFFINITY => "setnodeaffinity",
        XEN_DOMCTL_GETNODEAFFINITY => "getnodeaffinity",
        XEN_DOMCTL_CACHEFLUSH => "cacheflush",
        XEN_DOMCTL_GET_VCPU_MSRS => "get_vcpu_msrs",
        XEN_DOMCTL_SET_VCPU_MSRS => "set_vcpu_msrs",
        XEN_DOMCTL_SETVNUMAINFO => "setvnumainfo",
        XEN_DOMCTL_PSR_CMT_OP => "psr_cmt_op",
        XEN_DOMCTL_MONITOR_OP => "monitor_op",
        XEN_DOMCTL_PSR_ALLOC => "psr_alloc",
        XEN_DOMCTL_SOFT_RESET => "soft_reset",
        XEN_DOMCTL_VUART_OP => "vuart_op",
        XEN_DOMCTL_GET_CPU_POLICY => "get_cpu_policy",
        XEN_DOMCTL_SET_CPU_POLICY => "set_cpu_policy",
        XEN_DOMCTL_VMTRACE_OP => "vmtrace_op",
        XEN_DOMCTL_GET_PAGING_MEMPOOL_SIZE => "get_paging_mempool_size",
        XEN_DOMCTL_SET_PAGING_MEMPOOL_SIZE => "set_paging_mempool_size",
        XEN_DOMCTL_GDBSX_GUESTMEMIO => "gdbsx_guestmemio",
        XEN_DOMCTL_GDBSX_PAUSEVCPU => "gdbsx_pausevcpu",
        XEN_DOMCTL_GDBSX_UNPAUSEVCPU => "gdbsx_unpausevcpu",
        XEN_DOMCTL_GDBSX_DOMSTATUS => "gdbsx_domstatus",
        _ => "unknown",
    }
}

/// `struct xen_domctl`, the 144-byte hypercall argument.
///
/// For `createdomain` and `getdomaininfo` the `domain` field is also an OUT
/// field (the new or found domid).
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct XenDomctl {
    /// `XEN_DOMCTL_*`.
    pub cmd: u32,
    /// Must be [`XEN_DOMCTL_INTERFACE_VERSION`].
    pub interface_version: u32,
    /// Target domain.
    pub domain: DomId,
    /// Padding.
    pub pad: [u16; 3],
    /// The per-command payload (`Domctl*`).
    pub u: [u8; 128],
}

envelope_union!(XenDomctl, 128);

impl XenDomctl {
    /// A zeroed envelope for `cmd` on `domain` with the current interface
    /// version.
    pub fn new(cmd: u32, domain: DomId) -> Self {
        Self {
            cmd,
            interface_version: XEN_DOMCTL_INTERFACE_VERSION,
            domain,
            ..Self::default()
        }
    }
}

/// `struct xen_arch_domainconfig` (x86), part of [`DomctlCreateDomain`] and
/// [`DomctlGetDomainInfo`].
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenArchDomainConfig {
    /// `XEN_X86_EMU_*`: the devices Xen emulates. PVH: [`XEN_X86_EMU_LAPIC`].
    pub emulation_flags: u32,
    /// `XEN_X86_MSR_RELAXED` and friends.
    pub misc_flags: u32,
}

// `XenArchDomainConfig::emulation_flags`.
pub const XEN_X86_EMU_LAPIC: u32 = 1 << 0;
pub const XEN_X86_EMU_HPET: u32 = 1 << 1;
pub const XEN_X86_EMU_PM: u32 = 1 << 2;
pub const XEN_X86_EMU_RTC: u32 = 1 << 3;
pub const XEN_X86_EMU_IOAPIC: u32 = 1 << 4;
pub const XEN_X86_EMU_PIC: u32 = 1 << 5;
pub const XEN_X86_EMU_VGA: u32 = 1 << 6;
pub const XEN_X86_EMU_IOMMU: u32 = 1 << 7;
pub const XEN_X86_EMU_PIT: u32 = 1 << 8;
pub const XEN_X86_EMU_USE_PIRQ: u32 = 1 << 9;
pub const XEN_X86_EMU_VPCI: u32 = 1 << 10;
/// Every emulation flag 4.17 knows.
pub const XEN_X86_EMU_ALL: u32 = (1 << 11) - 1;
/// `misc_flags`: unhandled MSR reads return 0 and writes are dropped instead
/// of injecting #GP.
pub const XEN_X86_MSR_RELAXED: u32 = 1 << 0;
/// Highest `misc_flags` bit 4.17 knows.
pub const XEN_X86_MISC_FLAGS_MAX: u32 = XEN_X86_MSR_RELAXED;

// `DomctlCreateDomain::flags`.
/// An HVM (or PVH) guest rather than PV.
pub const XEN_DOMCTL_CDF_HVM: u32 = 1 << 0;
/// Use hardware-assisted paging (NPT/EPT).
pub const XEN_DOMCTL_CDF_HAP: u32 = 1 << 1;
pub const XEN_DOMCTL_CDF_S3_INTEGRITY: u32 = 1 << 2;
pub const XEN_DOMCTL_CDF_OOS_OFF: u32 = 1 << 3;
/// The domain runs XenStore.
pub const XEN_DOMCTL_CDF_XS_DOMAIN: u32 = 1 << 4;
pub const XEN_DOMCTL_CDF_IOMMU: u32 = 1 << 5;
pub const XEN_DOMCTL_CDF_NESTED_VIRT: u32 = 1 << 6;
pub const XEN_DOMCTL_CDF_VPMU: u32 = 1 << 7;
/// Highest flag 4.17 knows; anything above is `-EINVAL`.
pub const XEN_DOMCTL_CDF_MAX: u32 = XEN_DOMCTL_CDF_VPMU;
/// `iommu_opts`: do not share the HAP tables with the IOMMU.
pub const XEN_DOMCTL_IOMMU_NO_SHAREPT: u32 = 1 << 0;
/// Highest `iommu_opts` bit.
pub const XEN_DOMCTL_IOMMU_MAX: u32 = XEN_DOMCTL_IOMMU_NO_SHAREPT;
/// `grant_opts`: the grant-table version lives in the low four bits.
pub const XEN_DOMCTL_GRANT_VERSION_MASK: u32 = 0xF;

/// `XEN_DOMCTL_GRANT_version(opts)`: the grant-table version (1 or 2)
/// requested in `DomctlCreateDomain::grant_opts`.
pub const fn grant_version(grant_opts: u32) -> u32 {
    grant_opts & XEN_DOMCTL_GRANT_VERSION_MASK
}

/// `struct xen_domctl_createdomain`. All fields are IN.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DomctlCreateDomain {
    /// XSM label (`SECINITSID_DOMU`); ignored without XSM.
    pub ssidref: u32,
    /// The domain's UUID.
    pub handle: XenDomainHandle,
    /// `XEN_DOMCTL_CDF_*`.
    pub flags: u32,
    /// `XEN_DOMCTL_IOMMU_*`.
    pub iommu_opts: u32,
    /// vCPUs the domain may have; `max_vcpus` must repeat it.
    pub max_vcpus: u32,
    /// Highest event-channel port.
    pub max_evtchn_port: u32,
    /// Grant frames; negative: the hypervisor's default.
    pub max_grant_frames: i32,
    /// Maptrack frames; negative: the hypervisor's default.
    pub max_maptrack_frames: i32,
    /// Grant version in the low 4 bits ([`grant_version`]).
    pub grant_opts: u32,
    /// Per-vCPU trace buffer bytes; 0 disables.
    pub vmtrace_size: u32,
    /// CPU pool (0: the default pool).
    pub cpupool_id: u32,
    /// x86 configuration.
    pub arch: XenArchDomainConfig,
}

// `DomctlGetDomainInfo::flags`.
/// The domain is fully dead (being torn down).
pub const XEN_DOMINF_DYING: u32 = 1 << 0;
/// HVM or PVH.
pub const XEN_DOMINF_HVM_GUEST: u32 = 1 << 1;
/// Shut down; the reason is in bits 23:16 ([`XEN_DOMINF_SHUTDOWNSHIFT`]).
pub const XEN_DOMINF_SHUTDOWN: u32 = 1 << 2;
/// Paused by the toolstack.
pub const XEN_DOMINF_PAUSED: u32 = 1 << 3;
/// Every online vCPU is blocked.
pub const XEN_DOMINF_BLOCKED: u32 = 1 << 4;
/// Some vCPU is running.
pub const XEN_DOMINF_RUNNING: u32 = 1 << 5;
pub const XEN_DOMINF_DEBUGGED: u32 = 1 << 6;
pub const XEN_DOMINF_XS_DOMAIN: u32 = 1 << 7;
/// Hardware-assisted paging.
pub const XEN_DOMINF_HAP: u32 = 1 << 8;
/// Mask of the shutdown reason after shifting.
pub const XEN_DOMINF_SHUTDOWNMASK: u32 = 255;
/// Position of the shutdown reason in `flags`.
pub const XEN_DOMINF_SHUTDOWNSHIFT: u32 = 16;
/// `max_vcpu_id` of a domain without vCPUs.
pub const XEN_INVALID_MAX_VCPU_ID: u32 = !0;

/// The shutdown reason (`SHUTDOWN_*`) encoded in getdomaininfo `flags`.
pub const fn dominf_shutdown_reason(flags: u32) -> u32 {
    (flags >> XEN_DOMINF_SHUTDOWNSHIFT) & XEN_DOMINF_SHUTDOWNMASK
}

/// `flags` bits for a domain shut down with `reason`: [`XEN_DOMINF_SHUTDOWN`]
/// plus the reason in bits 23:16.
pub const fn dominf_shutdown(reason: u32) -> u32 {
    XEN_DOMINF_SHUTDOWN | ((reason & XEN_DOMINF_SHUTDOWNMASK) << XEN_DOMINF_SHUTDOWNSHIFT)
}

/// `struct xen_domctl_getdomaininfo` (112 bytes). All OUT; also the element
/// of the `sysctl getdomaininfolist` array.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DomctlGetDomainInfo {
    /// The domain described (also echoed in the envelope).
    pub domain: DomId,
    /// Padding.
    pub pad1: u16,
    /// `XEN_DOMINF_*` plus the shutdown reason.
    pub flags: u32,
    /// Pages allocated.
    pub tot_pages: u64,
    /// Allocation limit in pages.
    pub max_pages: u64,
    /// Claimed but not yet allocated pages.
    pub outstanding_pages: u64,
    /// Pages shared (memory sharing).
    pub shr_pages: u64,
    /// Pages paged out.
    pub paged_pages: u64,
    /// Guest frame of `shared_info` (unused by the toolstack for HVM).
    pub shared_info_frame: u64,
    /// CPU time used, ns.
    pub cpu_time: u64,
    /// vCPUs online.
    pub nr_online_vcpus: u32,
    /// Highest vCPU id, [`XEN_INVALID_MAX_VCPU_ID`] before `max_vcpus`.
    pub max_vcpu_id: u32,
    /// XSM label.
    pub ssidref: u32,
    /// UUID.
    pub handle: XenDomainHandle,
    /// CPU pool.
    pub cpupool: u32,
    /// Guest-physical address width.
    pub gpaddr_bits: u8,
    /// Padding.
    pub pad2: [u8; 7],
    /// x86 configuration given at creation.
    pub arch_config: XenArchDomainConfig,
}

// Page types written by `getpageframeinfo3` (bits 31:28).
pub const XEN_DOMCTL_PFINFO_LTAB_SHIFT: u32 = 28;
/// Ordinary RAM.
pub const XEN_DOMCTL_PFINFO_NOTAB: u32 = 0x0 << 28;
pub const XEN_DOMCTL_PFINFO_L1TAB: u32 = 0x1 << 28;
pub const XEN_DOMCTL_PFINFO_L2TAB: u32 = 0x2 << 28;
pub const XEN_DOMCTL_PFINFO_L3TAB: u32 = 0x3 << 28;
pub const XEN_DOMCTL_PFINFO_L4TAB: u32 = 0x4 << 28;
pub const XEN_DOMCTL_PFINFO_LTABTYPE_MASK: u32 = 0x7 << 28;
/// Pinned page table.
pub const XEN_DOMCTL_PFINFO_LPINTAB: u32 = 0x1 << 31;
/// No page (hole, MMIO or a hypervisor-owned frame).
pub const XEN_DOMCTL_PFINFO_XTAB: u32 = 0xF << 28;
/// Allocate only, no contents.
pub const XEN_DOMCTL_PFINFO_XALLOC: u32 = 0xE << 28;
/// Broken page.
pub const XEN_DOMCTL_PFINFO_BROKEN: u32 = 0xD << 28;
pub const XEN_DOMCTL_PFINFO_LTAB_MASK: u32 = 0xF << 28;
/// Most gfns Xen 4.17 accepts in one `getpageframeinfo3` (more: `-E2BIG`).
pub const XEN_DOMCTL_PFINFO_MAX_BATCH: u64 = 1024;

/// `struct xen_domctl_getpageframeinfo3`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DomctlGetPageFrameInfo3 {
    /// Entries in `array`.
    pub num: u64,
    /// Guest address of `num` u64 gfns, each overwritten with its
    /// `XEN_DOMCTL_PFINFO_*` type.
    pub array: u64,
}

// `DomctlShadowOp::op`.
/// Turn shadow/log-dirty off (succeeds when already off).
pub const XEN_DOMCTL_SHADOW_OP_OFF: u32 = 0;
/// Legacy: enable with no mode flags.
pub const XEN_DOMCTL_SHADOW_OP_ENABLE_TEST: u32 = 1;
/// Legacy: enable log-dirty.
pub const XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY: u32 = 2;
/// Copy out the dirty bitmap and clean it.
pub const XEN_DOMCTL_SHADOW_OP_CLEAN: u32 = 11;
/// Copy out the dirty bitmap.
pub const XEN_DOMCTL_SHADOW_OP_PEEK: u32 = 12;
/// Deprecated pool accessor (MiB in `mb`).
pub const XEN_DOMCTL_SHADOW_OP_GET_ALLOCATION: u32 = 30;
/// Deprecated pool accessor (MiB in `mb`).
pub const XEN_DOMCTL_SHADOW_OP_SET_ALLOCATION: u32 = 31;
/// Enable with `XEN_DOMCTL_SHADOW_ENABLE_*` in `mode`.
pub const XEN_DOMCTL_SHADOW_OP_ENABLE: u32 = 32;
// `mode` for ENABLE.
pub const XEN_DOMCTL_SHADOW_ENABLE_REFCOUNT: u32 = 1 << 1;
pub const XEN_DOMCTL_SHADOW_ENABLE_LOG_DIRTY: u32 = 1 << 2;
pub const XEN_DOMCTL_SHADOW_ENABLE_TRANSLATE: u32 = 1 << 3;
pub const XEN_DOMCTL_SHADOW_ENABLE_EXTERNAL: u32 = 1 << 4;
/// `mode` for CLEAN/PEEK: last pass; also mark frames the hypervisor holds
/// mapped for writing.
pub const XEN_DOMCTL_SHADOW_LOGDIRTY_FINAL: u32 = 1 << 0;

/// `struct xen_domctl_shadow_op_stats`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenDomctlShadowOpStats {
    /// Faults counted (Xen 4.17 always reports 0).
    pub fault_count: u32,
    /// Pages newly dirtied since the last CLEAN.
    pub dirty_count: u32,
}

/// `struct xen_domctl_shadow_op` (log-dirty for migration).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DomctlShadowOp {
    /// `XEN_DOMCTL_SHADOW_OP_*`.
    pub op: u32,
    /// `XEN_DOMCTL_SHADOW_ENABLE_*` or `XEN_DOMCTL_SHADOW_LOGDIRTY_*`.
    pub mode: u32,
    /// Pool size in MiB (GET/SET_ALLOCATION).
    pub mb: u32,
    /// Padding.
    pub pad: u32,
    /// Guest address of the dirty bitmap (bit n = pfn n), or 0.
    pub dirty_bitmap: u64,
    /// IN: bitmap size in bits; OUT: bits processed.
    pub pages: u64,
    /// OUT: counters.
    pub stats: XenDomctlShadowOpStats,
}

/// `struct xen_domctl_max_mem`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DomctlMaxMem {
    /// New limit in **KiB**.
    pub max_memkb: u64,
}

/// `struct xen_domctl_vcpucontext` (`set/getvcpucontext`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DomctlVcpuContext {
    /// vCPU.
    pub vcpu: u32,
    /// Padding.
    pub pad: u32,
    /// Guest address of a `vcpu_guest_context` (5168 bytes on x86_64).
    pub ctxt: u64,
}

/// `struct xen_domctl_getvcpuinfo`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DomctlGetVcpuInfo {
    /// IN: vCPU.
    pub vcpu: u32,
    /// OUT: online (not down).
    pub online: u8,
    /// OUT: blocked waiting for an event.
    pub blocked: u8,
    /// OUT: running now.
    pub running: u8,
    /// Padding.
    pub pad0: u8,
    /// OUT: CPU time used, ns.
    pub cpu_time: u64,
    /// OUT: physical CPU it is on.
    pub cpu: u32,
    /// Padding.
    pub pad1: u32,
}

/// `struct xenctl_bitmap` (`xen.h`): a bitmap in caller memory.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenctlBitmap {
    /// Guest address of the bytes (bit n = byte n/8, bit n%8).
    pub bitmap: u64,
    /// Size in bits (a multiple of 8 from libxc).
    pub nr_bits: u32,
    /// Padding.
    pub pad: u32,
}

/// `struct xen_domctl_nodeaffinity` (`set/getnodeaffinity`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DomctlNodeAffinity {
    /// NUMA nodes.
    pub nodemap: XenctlBitmap,
}

// `DomctlVcpuAffinity::flags`.
pub const XEN_VCPUAFFINITY_HARD: u32 = 1 << 0;
pub const XEN_VCPUAFFINITY_SOFT: u32 = 1 << 1;
/// Undo a `SCHEDOP_pin_override`.
pub const XEN_VCPUAFFINITY_FORCE: u32 = 1 << 2;

/// `struct xen_domctl_vcpuaffinity` (`set/getvcpuaffinity`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DomctlVcpuAffinity {
    /// vCPU.
    pub vcpu: u32,
    /// `XEN_VCPUAFFINITY_*`.
    pub flags: u32,
    /// Hard affinity (set: IN, then the effective map OUT).
    pub cpumap_hard: XenctlBitmap,
    /// Soft affinity (set: IN, then the effective map OUT).
    pub cpumap_soft: XenctlBitmap,
}

/// `struct xen_domctl_max_vcpus`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DomctlMaxVcpus {
    /// Must equal `DomctlCreateDomain::max_vcpus`.
    pub max: u32,
}

// Scheduler ids (`XEN_SCHEDULER_*`), shared with sysctl.
pub const XEN_SCHEDULER_CREDIT: u32 = 5;
pub const XEN_SCHEDULER_CREDIT2: u32 = 6;
pub const XEN_SCHEDULER_ARINC653: u32 = 7;
pub const XEN_SCHEDULER_RTDS: u32 = 8;
pub const XEN_SCHEDULER_NULL: u32 = 9;

// `DomctlSchedulerOp::cmd`.
pub const XEN_DOMCTL_SCHEDOP_PUTINFO: u32 = 0;
pub const XEN_DOMCTL_SCHEDOP_GETINFO: u32 = 1;
pub const XEN_DOMCTL_SCHEDOP_PUTVCPUINFO: u32 = 2;
pub const XEN_DOMCTL_SCHEDOP_GETVCPUINFO: u32 = 3;
/// RTDS flag: the vCPU may run beyond its budget.
pub const XEN_DOMCTL_SCHEDRT_EXTRA: u32 = 1 << 0;

/// `struct xen_domctl_sched_credit` (credit2 has the same shape).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DomctlSchedCredit {
    /// Relative weight (Xen default 256).
    pub weight: u16,
    /// Cap in per cent of one CPU; 0 = none.
    pub cap: u16,
}

/// `struct xen_domctl_sched_credit2`.
pub type DomctlSchedCredit2 = DomctlSchedCredit;

/// `struct xen_domctl_sched_rtds`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DomctlSchedRtds {
    /// Period in µs.
    pub period: u32,
    /// Budget in µs.
    pub budget: u32,
    /// `XEN_DOMCTL_SCHEDRT_*`.
    pub flags: u32,
}

/// The per-vCPU view of [`DomctlSchedulerOp`]'s union (`u.v`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DomctlSchedVcpus {
    /// Guest address of `xen_domctl_schedparam_vcpu` entries.
    pub vcpus: u64,
    /// IN: entries; OUT: entries processed.
    pub nr_vcpus: u32,
    /// Padding.
    pub padding: u32,
}

/// `struct xen_domctl_scheduler_op`. The union is kept as bytes; use the
/// typed accessors.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DomctlSchedulerOp {
    /// `XEN_SCHEDULER_*` of the domain's pool (a mismatch is `-EINVAL`).
    pub sched_id: u32,
    /// `XEN_DOMCTL_SCHEDOP_*`.
    pub cmd: u32,
    /// `union { credit; credit2; rtds; v }`.
    pub u: [u8; 16],
}

impl DomctlSchedulerOp {
    /// The credit (and credit2) view.
    pub fn credit(&self) -> DomctlSchedCredit {
        read_prefix(&self.u)
    }

    /// Sets the credit (and credit2) view, zeroing the rest of the union.
    pub fn set_credit(&mut self, value: DomctlSchedCredit) {
        write_union(&mut self.u, value.as_bytes());
    }

    /// The RTDS view.
    pub fn rtds(&self) -> DomctlSchedRtds {
        read_prefix(&self.u)
    }

    /// Sets the RTDS view, zeroing the rest of the union.
    pub fn set_rtds(&mut self, value: DomctlSchedRtds) {
        write_union(&mut self.u, value.as_bytes());
    }

    /// The per-vCPU view.
    pub fn vcpus(&self) -> DomctlSchedVcpus {
        read_prefix(&self.u)
    }
}

/// Reads a `T` from the start of a union no smaller than `T`.
fn read_prefix<T: FromBytes>(bytes: &[u8]) -> T {
    match T::read_from_prefix(bytes) {
        Ok((value, _)) => value,
        // Every caller passes a union at least as large as `T`.
        Err(_) => T::new_zeroed(),
    }
}

/// Replaces a union's contents with `src`, zero-filled.
fn write_union(union: &mut [u8], src: &[u8]) {
    union.fill(0);
    let n = src.len().min(union.len());
    union[..n].copy_from_slice(&src[..n]);
}

/// `struct xen_domctl_setdomainhandle`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DomctlSetDomainHandle {
    /// New UUID.
    pub handle: XenDomainHandle,
}

/// `struct xen_domctl_setdebugging`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DomctlSetDebugging {
    /// Non-zero: enable.
    pub enable: u8,
}

/// `struct xen_domctl_irq_permission` (passthrough; rxen refuses it).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DomctlIrqPermission {
    /// Physical IRQ.
    pub pirq: u32,
    /// Non-zero: grant, zero: revoke.
    pub allow_access: u8,
    /// Padding.
    pub pad: [u8; 3],
}

/// `struct xen_domctl_iomem_permission` (passthrough; rxen refuses it).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DomctlIomemPermission {
    /// First machine frame.
    pub first_mfn: u64,
    /// Frames (> 0).
    pub nr_mfns: u64,
    /// Non-zero: grant, zero: revoke.
    pub allow_access: u8,
    /// Padding.
    pub pad: [u8; 7],
}

/// `struct xen_domctl_ioport_permission` (passthrough; rxen refuses it).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DomctlIoportPermission {
    /// First port.
    pub first_port: u32,
    /// Ports.
    pub nr_ports: u32,
    /// Non-zero: grant, zero: revoke.
    pub allow_access: u8,
    /// Padding.
    pub pad: [u8; 3],
}

/// `struct xen_domctl_hypercall_init` (PV only).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DomctlHypercallInit {
    /// Guest frame to fill with the hypercall page.
    pub gmfn: u64,
}

/// `struct xen_domctl_settimeoffset`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DomctlSetTimeOffset {
    /// Seconds added to the domain's wallclock.
    pub time_offset_seconds: i64,
}

/// `struct xen_domctl_hvmcontext` (`get/sethvmcontext`): the blob is the
/// HVM save-record stream (`rxen-hvm-context`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DomctlHvmContext {
    /// IN: buffer size; OUT: bytes used (with a 0 buffer: an upper bound).
    pub size: u32,
    /// Padding.
    pub pad: u32,
    /// Guest address of the buffer, or 0 to ask for the size.
    pub buffer: u64,
}

/// `struct xen_domctl_address_size` (PV only).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DomctlAddressSize {
    /// Guest address width in bits.
    pub size: u32,
}

// `DomctlSendTrigger::trigger`.
pub const XEN_DOMCTL_SENDTRIGGER_NMI: u32 = 0;
pub const XEN_DOMCTL_SENDTRIGGER_RESET: u32 = 1;
pub const XEN_DOMCTL_SENDTRIGGER_INIT: u32 = 2;
pub const XEN_DOMCTL_SENDTRIGGER_POWER: u32 = 3;
pub const XEN_DOMCTL_SENDTRIGGER_SLEEP: u32 = 4;

/// `struct xen_domctl_sendtrigger` (`xl trigger`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DomctlSendTrigger {
    /// `XEN_DOMCTL_SENDTRIGGER_*`.
    pub trigger: u32,
    /// Target vCPU.
    pub vcpu: u32,
}

/// `DomctlMemoryMapping::add_mapping`: map.
pub const DPCI_ADD_MAPPING: u32 = 1;
/// `DomctlMemoryMapping::add_mapping`: unmap.
pub const DPCI_REMOVE_MAPPING: u32 = 0;

/// `struct xen_domctl_memory_mapping` (MMIO passthrough).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DomctlMemoryMapping {
    /// First guest frame.
    pub first_gfn: u64,
    /// First machine frame.
    pub first_mfn: u64,
    /// Frames (> 0).
    pub nr_mfns: u64,
    /// [`DPCI_ADD_MAPPING`] or [`DPCI_REMOVE_MAPPING`].
    pub add_mapping: u32,
    /// Padding.
    pub padding: u32,
}

/// Unused CPUID input (`XEN_CPUID_INPUT_UNUSED`).
pub const XEN_CPUID_INPUT_UNUSED: u32 = 0xFFFF_FFFF;

/// `struct xen_domctl_cpu_policy` (`get/set_cpu_policy`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DomctlCpuPolicy {
    /// IN/OUT: entries in `leaves`.
    pub nr_leaves: u32,
    /// IN/OUT: entries in `msrs`.
    pub nr_msrs: u32,
    /// Guest address of [`XenCpuidLeaf`] entries.
    pub leaves: u64,
    /// Guest address of [`XenMsrEntry`] entries.
    pub msrs: u64,
    /// OUT (set, on some errors): the offending leaf.
    pub err_leaf: u32,
    /// OUT (set, on some errors): the offending subleaf.
    pub err_subleaf: u32,
    /// OUT (set, on some errors): the offending MSR.
    pub err_msr: u32,
    /// Padding.
    pub pad: u32,
}

/// `struct xen_domctl_subscribe`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DomctlSubscribe {
    /// Port notified instead of `VIRQ_DOM_EXC` when the domain suspends.
    pub port: EvtchnPort,
}

pub const XEN_DOMCTL_DEBUG_OP_SINGLE_STEP_OFF: u32 = 0;
pub const XEN_DOMCTL_DEBUG_OP_SINGLE_STEP_ON: u32 = 1;

/// `struct xen_domctl_debug_op`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DomctlDebugOp {
    /// `XEN_DOMCTL_DEBUG_OP_*`.
    pub op: u32,
    /// vCPU.
    pub vcpu: u32,
}

/// `struct xen_domctl_hvmcontext_partial`: one record of the HVM context.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DomctlHvmContextPartial {
    /// Record typecode (C: `type`).
    pub kind: u32,
    /// Record instance (vCPU for per-vCPU types).
    pub instance: u32,
    /// IN: buffer size; OUT: record length.
    pub bufsz: u64,
    /// Guest address of the buffer; 0 asks for the length.
    pub buffer: u64,
}

// `DomctlTscInfo::tsc_mode` (Xen's `asm/time.h`; the numbers libxl sends).
/// Native TSC where the host and rate allow it, emulated otherwise.
pub const TSC_MODE_DEFAULT: u32 = 0;
/// Always emulate (rdtsc exiting).
pub const TSC_MODE_ALWAYS_EMULATE: u32 = 1;
/// Never emulate.
pub const TSC_MODE_NEVER_EMULATE: u32 = 2;

/// `struct xen_domctl_tsc_info` (`get/settscinfo`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DomctlTscInfo {
    /// `TSC_MODE_*`.
    pub tsc_mode: u32,
    /// Guest TSC rate in kHz (0: the host's).
    pub gtsc_khz: u32,
    /// Bumped by each set.
    pub incarnation: u32,
    /// Padding.
    pub pad: u32,
    /// Guest time elapsed, ns.
    pub elapsed_nsec: u64,
}

/// `struct xen_domctl_set_virq_handler`: route a global VIRQ to the domain.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DomctlSetVirqHandler {
    /// A global `VIRQ_*`.
    pub virq: u32,
}

/// `struct xen_domctl_vcpuextstate` (`set/getvcpuextstate`; PV streams only).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DomctlVcpuExtState {
    /// vCPU.
    pub vcpu: u32,
    /// Padding.
    pub pad: u32,
    /// get: IN/OUT xfeature mask of the saved format.
    pub xfeature_mask: u64,
    /// Buffer size in bytes.
    pub size: u64,
    /// Guest address of the buffer.
    pub buffer: u64,
}

/// `struct xen_domctl_paging_mempool` (`get/set_paging_mempool_size`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DomctlPagingMempool {
    /// Pool size in **bytes**.
    pub size: u64,
}

/// `struct xen_domctl_vcpu_msr`: one entry of [`DomctlVcpuMsrs`].
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DomctlVcpuMsr {
    /// MSR index.
    pub index: u32,
    /// Must be zero.
    pub reserved: u32,
    /// Value.
    pub value: u64,
}

/// `struct xen_domctl_vcpu_msrs` (`get/set_vcpu_msrs`; PV streams only).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct DomctlVcpuMsrs {
    /// vCPU.
    pub vcpu: u32,
    /// IN/OUT: entries.
    pub msr_count: u32,
    /// Guest address of [`DomctlVcpuMsr`] entries; 0 asks for the count.
    pub msrs: u64,
}

const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(size_of::<XenDomctl>() == 144);
    assert!(offset_of!(XenDomctl, cmd) == 0);
    assert!(offset_of!(XenDomctl, interface_version) == 4);
    assert!(offset_of!(XenDomctl, domain) == 8);
    assert!(offset_of!(XenDomctl, pad) == 10);
    assert!(offset_of!(XenDomctl, u) == 16);

    assert!(size_of::<XenArchDomainConfig>() == 8);
    assert!(offset_of!(XenArchDomainConfig, emulation_flags) == 0);
    assert!(offset_of!(XenArchDomainConfig, misc_flags) == 4);

    assert!(size_of::<DomctlCreateDomain>() == 64);
    assert!(offset_of!(DomctlCreateDomain, ssidref) == 0);
    assert!(offset_of!(DomctlCreateDomain, handle) == 4);
    assert!(offset_of!(DomctlCreateDomain, flags) == 20);
    assert!(offset_of!(DomctlCreateDomain, iommu_opts) == 24);
    assert!(offset_of!(DomctlCreateDomain, max_vcpus) == 28);
    assert!(offset_of!(DomctlCreateDomain, max_evtchn_port) == 32);
    assert!(offset_of!(DomctlCreateDomain, max_grant_frames) == 36);
    assert!(offset_of!(DomctlCreateDomain, max_maptrack_frames) == 40);
    assert!(offset_of!(DomctlCreateDomain, grant_opts) == 44);
    assert!(offset_of!(DomctlCreateDomain, vmtrace_size) == 48);
    assert!(offset_of!(DomctlCreateDomain, cpupool_id) == 52);
    assert!(offset_of!(DomctlCreateDomain, arch) == 56);

    assert!(size_of::<DomctlGetDomainInfo>() == 112);
    assert!(offset_of!(DomctlGetDomainInfo, domain) == 0);
    assert!(offset_of!(DomctlGetDomainInfo, pad1) == 2);
    assert!(offset_of!(DomctlGetDomainInfo, flags) == 4);
    assert!(offset_of!(DomctlGetDomainInfo, tot_pages) == 8);
    assert!(offset_of!(DomctlGetDomainInfo, max_pages) == 16);
    assert!(offset_of!(DomctlGetDomainInfo, outstanding_pages) == 24);
    assert!(offset_of!(DomctlGetDomainInfo, shr_pages) == 32);
    assert!(offset_of!(DomctlGetDomainInfo, paged_pages) == 40);
    assert!(offset_of!(DomctlGetDomainInfo, shared_info_frame) == 48);
    assert!(offset_of!(DomctlGetDomainInfo, cpu_time) == 56);
    assert!(offset_of!(DomctlGetDomainInfo, nr_online_vcpus) == 64);
    assert!(offset_of!(DomctlGetDomainInfo, max_vcpu_id) == 68);
    assert!(offset_of!(DomctlGetDomainInfo, ssidref) == 72);
    assert!(offset_of!(DomctlGetDomainInfo, handle) == 76);
    assert!(offset_of!(DomctlGetDomainInfo, cpupool) == 92);
    assert!(offset_of!(DomctlGetDomainInfo, gpaddr_bits) == 96);
    assert!(offset_of!(DomctlGetDomainInfo, pad2) == 97);
    assert!(offset_of!(DomctlGetDomainInfo, arch_config) == 104);

    assert!(size_of::<DomctlGetPageFrameInfo3>() == 16);
    assert!(offset_of!(DomctlGetPageFrameInfo3, num) == 0);
    assert!(offset_of!(DomctlGetPageFrameInfo3, array) == 8);

    assert!(size_of::<XenDomctlShadowOpStats>() == 8);
    assert!(offset_of!(XenDomctlShadowOpStats, fault_count) == 0);
    assert!(offset_of!(XenDomctlShadowOpStats, dirty_count) == 4);
    assert!(size_of::<DomctlShadowOp>() == 40);
    assert!(offset_of!(DomctlShadowOp, op) == 0);
    assert!(offset_of!(DomctlShadowOp, mode) == 4);
    assert!(offset_of!(DomctlShadowOp, mb) == 8);
    assert!(offset_of!(DomctlShadowOp, dirty_bitmap) == 16);
    assert!(offset_of!(DomctlShadowOp, pages) == 24);
    assert!(offset_of!(DomctlShadowOp, stats) == 32);

    assert!(size_of::<DomctlMaxMem>() == 8);
    assert!(offset_of!(DomctlMaxMem, max_memkb) == 0);

    assert!(size_of::<DomctlVcpuContext>() == 16);
    assert!(offset_of!(DomctlVcpuContext, vcpu) == 0);
    assert!(offset_of!(DomctlVcpuContext, ctxt) == 8);

    assert!(size_of::<DomctlGetVcpuInfo>() == 24);
    assert!(offset_of!(DomctlGetVcpuInfo, vcpu) == 0);
    assert!(offset_of!(DomctlGetVcpuInfo, online) == 4);
    assert!(offset_of!(DomctlGetVcpuInfo, blocked) == 5);
    assert!(offset_of!(DomctlGetVcpuInfo, running) == 6);
    assert!(offset_of!(DomctlGetVcpuInfo, cpu_time) == 8);
    assert!(offset_of!(DomctlGetVcpuInfo, cpu) == 16);

    assert!(size_of::<XenctlBitmap>() == 16);
    assert!(offset_of!(XenctlBitmap, bitmap) == 0);
    assert!(offset_of!(XenctlBitmap, nr_bits) == 8);

    assert!(size_of::<DomctlNodeAffinity>() == 16);
    assert!(offset_of!(DomctlNodeAffinity, nodemap) == 0);

    assert!(size_of::<DomctlVcpuAffinity>() == 40);
    assert!(offset_of!(DomctlVcpuAffinity, vcpu) == 0);
    assert!(offset_of!(DomctlVcpuAffinity, flags) == 4);
    assert!(offset_of!(DomctlVcpuAffinity, cpumap_hard) == 8);
    assert!(offset_of!(DomctlVcpuAffinity, cpumap_soft) == 24);

    assert!(size_of::<DomctlMaxVcpus>() == 4);
    assert!(offset_of!(DomctlMaxVcpus, max) == 0);

    assert!(size_of::<DomctlSchedCredit>() == 4);
    assert!(offset_of!(DomctlSchedCredit, weight) == 0);
    assert!(offset_of!(DomctlSchedCredit, cap) == 2);
    assert!(size_of::<DomctlSchedRtds>() == 12);
    assert!(offset_of!(DomctlSchedRtds, period) == 0);
    assert!(offset_of!(DomctlSchedRtds, budget) == 4);
    assert!(offset_of!(DomctlSchedRtds, flags) == 8);
    assert!(size_of::<DomctlSchedVcpus>() == 16);
    assert!(offset_of!(DomctlSchedVcpus, vcpus) == 0);
    assert!(offset_of!(DomctlSchedVcpus, nr_vcpus) == 8);
    assert!(offset_of!(DomctlSchedVcpus, padding) == 12);
    assert!(size_of::<DomctlSchedulerOp>() == 24);
    assert!(offset_of!(DomctlSchedulerOp, sched_id) == 0);
    assert!(offset_of!(DomctlSchedulerOp, cmd) == 4);
    assert!(offset_of!(DomctlSchedulerOp, u) == 8);

    assert!(size_of::<DomctlSetDomainHandle>() == 16);
    assert!(offset_of!(DomctlSetDomainHandle, handle) == 0);
    assert!(size_of::<DomctlSetDebugging>() == 1);

    assert!(size_of::<DomctlIrqPermission>() == 8);
    assert!(offset_of!(DomctlIrqPermission, pirq) == 0);
    assert!(offset_of!(DomctlIrqPermission, allow_access) == 4);
    assert!(offset_of!(DomctlIrqPermission, pad) == 5);
    assert!(size_of::<DomctlIomemPermission>() == 24);
    assert!(offset_of!(DomctlIomemPermission, first_mfn) == 0);
    assert!(offset_of!(DomctlIomemPermission, nr_mfns) == 8);
    assert!(offset_of!(DomctlIomemPermission, allow_access) == 16);
    assert!(size_of::<DomctlIoportPermission>() == 12);
    assert!(offset_of!(DomctlIoportPermission, first_port) == 0);
    assert!(offset_of!(DomctlIoportPermission, nr_ports) == 4);
    assert!(offset_of!(DomctlIoportPermission, allow_access) == 8);

    assert!(size_of::<DomctlHypercallInit>() == 8);
    assert!(size_of::<DomctlSetTimeOffset>() == 8);
    assert!(offset_of!(DomctlSetTimeOffset, time_offset_seconds) == 0);

    assert!(size_of::<DomctlHvmContext>() == 16);
    assert!(offset_of!(DomctlHvmContext, size) == 0);
    assert!(offset_of!(DomctlHvmContext, buffer) == 8);

    assert!(size_of::<DomctlAddressSize>() == 4);
    assert!(size_of::<DomctlSendTrigger>() == 8);
    assert!(offset_of!(DomctlSendTrigger, vcpu) == 4);

    assert!(size_of::<DomctlMemoryMapping>() == 32);
    assert!(offset_of!(DomctlMemoryMapping, first_gfn) == 0);
    assert!(offset_of!(DomctlMemoryMapping, first_mfn) == 8);
    assert!(offset_of!(DomctlMemoryMapping, nr_mfns) == 16);
    assert!(offset_of!(DomctlMemoryMapping, add_mapping) == 24);
    assert!(offset_of!(DomctlMemoryMapping, padding) == 28);

    assert!(size_of::<DomctlCpuPolicy>() == 40);
    assert!(offset_of!(DomctlCpuPolicy, nr_leaves) == 0);
    assert!(offset_of!(DomctlCpuPolicy, nr_msrs) == 4);
    assert!(offset_of!(DomctlCpuPolicy, leaves) == 8);
    assert!(offset_of!(DomctlCpuPolicy, msrs) == 16);
    assert!(offset_of!(DomctlCpuPolicy, err_leaf) == 24);
    assert!(offset_of!(DomctlCpuPolicy, err_subleaf) == 28);
    assert!(offset_of!(DomctlCpuPolicy, err_msr) == 32);

    assert!(size_of::<DomctlSubscribe>() == 4);
    assert!(size_of::<DomctlDebugOp>() == 8);
    assert!(offset_of!(DomctlDebugOp, vcpu) == 4);

    assert!(size_of::<DomctlHvmContextPartial>() == 24);
    assert!(offset_of!(DomctlHvmContextPartial, kind) == 0);
    assert!(offset_of!(DomctlHvmContextPartial, instance) == 4);
    assert!(offset_of!(DomctlHvmContextPartial, bufsz) == 8);
    assert!(offset_of!(DomctlHvmContextPartial, buffer) == 16);

    assert!(size_of::<DomctlTscInfo>() == 24);
    assert!(offset_of!(DomctlTscInfo, tsc_mode) == 0);
    assert!(offset_of!(DomctlTscInfo, gtsc_khz) == 4);
    assert!(offset_of!(DomctlTscInfo, incarnation) == 8);
    assert!(offset_of!(DomctlTscInfo, pad) == 12);
    assert!(offset_of!(DomctlTscInfo, elapsed_nsec) == 16);

    assert!(size_of::<DomctlSetVirqHandler>() == 4);

    assert!(size_of::<DomctlVcpuExtState>() == 32);
    assert!(offset_of!(DomctlVcpuExtState, vcpu) == 0);
    assert!(offset_of!(DomctlVcpuExtState, xfeature_mask) == 8);
    assert!(offset_of!(DomctlVcpuExtState, size) == 16);
    assert!(offset_of!(DomctlVcpuExtState, buffer) == 24);

    assert!(size_of::<DomctlPagingMempool>() == 8);

    assert!(size_of::<DomctlVcpuMsr>() == 16);
    assert!(offset_of!(DomctlVcpuMsr, index) == 0);
    assert!(offset_of!(DomctlVcpuMsr, reserved) == 4);
    assert!(offset_of!(DomctlVcpuMsr, value) == 8);
    assert!(size_of::<DomctlVcpuMsrs>() == 16);
    assert!(offset_of!(DomctlVcpuMsrs, vcpu) == 0);
    assert!(offset_of!(DomctlVcpuMsrs, msr_count) == 4);
    assert!(offset_of!(DomctlVcpuMsrs, msrs) == 8);
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_payload_round_trip() {
        let mut d = XenDomctl::new(XEN_DOMCTL_MAX_MEM, 3);
        d.set_payload(&DomctlMaxMem {
            max_memkb: 0x1234_5678,
        });
        let bytes = d.as_bytes();
        assert_eq!(bytes[0..4], XEN_DOMCTL_MAX_MEM.to_le_bytes());
        assert_eq!(bytes[4..8], XEN_DOMCTL_INTERFACE_VERSION.to_le_bytes());
        assert_eq!(bytes[8..10], 3u16.to_le_bytes());
        assert_eq!(bytes[16..24], 0x1234_5678u64.to_le_bytes());
        assert_eq!(d.payload::<DomctlMaxMem>().max_memkb, 0x1234_5678);

        let back = XenDomctl::read_from_bytes(bytes).unwrap();
        assert_eq!(back, d);
    }

    #[test]
    fn set_payload_keeps_the_rest_of_the_union() {
        let mut d = XenDomctl::default();
        d.u.fill(0xAA);
        d.set_payload(&DomctlMaxVcpus { max: 2 });
        assert_eq!(d.u[0..4], 2u32.to_le_bytes());
        assert!(d.u[4..].iter().all(|&b| b == 0xAA));
    }

    #[test]
    fn createdomain_as_libxl_sends_it() {
        // B3 of xl create: hvm|hap, 1023 ports, -1 grant/maptrack frames, LAPIC.
        let mut raw = [0u8; 64];
        raw[20..24].copy_from_slice(&3u32.to_le_bytes());
        raw[28..32].copy_from_slice(&2u32.to_le_bytes());
        raw[32..36].copy_from_slice(&1023u32.to_le_bytes());
        raw[36..40].copy_from_slice(&(-1i32).to_le_bytes());
        raw[40..44].copy_from_slice(&(-1i32).to_le_bytes());
        raw[44..48].copy_from_slice(&1u32.to_le_bytes());
        raw[56..60].copy_from_slice(&XEN_X86_EMU_LAPIC.to_le_bytes());
        let mut d = XenDomctl::new(XEN_DOMCTL_CREATEDOMAIN, 0x7FF4);
        d.u[..64].copy_from_slice(&raw);
        let cd: DomctlCreateDomain = d.payload();
        assert_eq!(cd.flags, XEN_DOMCTL_CDF_HVM | XEN_DOMCTL_CDF_HAP);
        assert_eq!(cd.max_vcpus, 2);
        assert_eq!(cd.max_evtchn_port, 1023);
        assert_eq!((cd.max_grant_frames, cd.max_maptrack_frames), (-1, -1));
        assert_eq!(grant_version(cd.grant_opts), 1);
        assert_eq!(cd.arch.emulation_flags, XEN_X86_EMU_LAPIC);
        assert_eq!(XEN_X86_EMU_ALL, 0x7FF);
    }

    #[test]
    fn shutdown_reason_in_flags() {
        let flags = XEN_DOMINF_HVM_GUEST | dominf_shutdown(crate::sched::SHUTDOWN_SUSPEND);
        assert_eq!(flags, 0x0002_0006);
        assert_eq!(dominf_shutdown_reason(flags), 2);
        assert_ne!(flags & XEN_DOMINF_SHUTDOWN, 0);
    }

    #[test]
    fn scheduler_op_views() {
        let mut op = DomctlSchedulerOp {
            sched_id: XEN_SCHEDULER_CREDIT,
            cmd: XEN_DOMCTL_SCHEDOP_GETINFO,
            ..Default::default()
        };
        op.set_credit(DomctlSchedCredit {
            weight: 512,
            cap: 25,
        });
        let b = op.as_bytes();
        assert_eq!(b[8..10], 512u16.to_le_bytes());
        assert_eq!(b[10..12], 25u16.to_le_bytes());
        assert!(b[12..].iter().all(|&x| x == 0));
        assert_eq!(op.credit().weight, 512);
        op.set_rtds(DomctlSchedRtds {
            period: 10_000,
            budget: 4_000,
            flags: XEN_DOMCTL_SCHEDRT_EXTRA,
        });
        assert_eq!(op.rtds().budget, 4_000);
        assert_eq!(op.vcpus().vcpus, 10_000 | (4_000 << 32));
    }

    #[test]
    fn names() {
        assert_eq!(name(XEN_DOMCTL_GETDOMAININFO), "getdomaininfo");
        assert_eq!(
            name(XEN_DOMCTL_SET_PAGING_MEMPOOL_SIZE),
            "set_paging_mempool_size"
        );
        assert_eq!(name(6), "unknown");
        assert_eq!(name(23), "unknown");
    }
}
