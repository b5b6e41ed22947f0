//! The bits of Xen's public ABI (xen/include/public/*.h) the probe uses.

// Hypercall numbers (`__HYPERVISOR_*`).
pub const PLATFORM_OP: u64 = 7;
pub const SCHED_OP_COMPAT: u64 = 6;
pub const MEMORY_OP: u64 = 12;
pub const MULTICALL: u64 = 13;
pub const SET_TIMER_OP: u64 = 15;
pub const EVENT_CHANNEL_OP_COMPAT: u64 = 16;
pub const XEN_VERSION: u64 = 17;
pub const CONSOLE_IO: u64 = 18;
pub const PHYSDEV_OP_COMPAT: u64 = 19;
pub const GRANT_TABLE_OP: u64 = 20;
pub const VM_ASSIST: u64 = 21;
pub const VCPU_OP: u64 = 24;
pub const SCHED_OP: u64 = 29;
pub const EVENT_CHANNEL_OP: u64 = 32;
pub const PHYSDEV_OP: u64 = 33;
pub const HVM_OP: u64 = 34;
pub const SYSCTL: u64 = 35;
pub const DOMCTL: u64 = 36;
pub const ARGO_OP: u64 = 39;
pub const XENPMU_OP: u64 = 40;
pub const DM_OP: u64 = 41;

// Domain ids.
pub const DOMID_SELF: u16 = 0x7FF0;
pub const DOMID_IO: u16 = 0x7FF1;
pub const DOMID_XEN: u16 = 0x7FF2;
pub const DOMID_COW: u16 = 0x7FF3;
pub const DOMID_INVALID: u16 = 0x7FF4;
pub const DOMID_ANY: u16 = 0x7FF5;
pub const DOMID_IDLE: u16 = 0x7FFF;

// memory_op.
pub const XENMEM_INCREASE_RESERVATION: u64 = 0;
pub const XENMEM_DECREASE_RESERVATION: u64 = 1;
pub const XENMEM_CURRENT_RESERVATION: u64 = 3;
pub const XENMEM_MAXIMUM_RESERVATION: u64 = 4;
pub const XENMEM_POPULATE_PHYSMAP: u64 = 6;
pub const XENMEM_ADD_TO_PHYSMAP: u64 = 7;
pub const XENMEM_MEMORY_MAP: u64 = 9;
pub const XENMEM_MACHINE_MEMORY_MAP: u64 = 10;
pub const XENMEM_EXCHANGE: u64 = 11;
pub const XENMEM_SET_MEMORY_MAP: u64 = 13;
pub const XENMEM_REMOVE_FROM_PHYSMAP: u64 = 15;
pub const XENMEM_SET_POD_TARGET: u64 = 16;
pub const XENMEM_PAGING_OP: u64 = 20;
pub const XENMEM_ACCESS_OP: u64 = 21;
pub const XENMEM_SHARING_OP: u64 = 22;
pub const XENMEM_ADD_TO_PHYSMAP_BATCH: u64 = 23;
pub const XENMEM_CLAIM_PAGES: u64 = 24;
pub const XENMEM_ACQUIRE_RESOURCE: u64 = 28;
/// memory_op's sub-op is `cmd & 0x3F`; the rest is continuation state.
pub const MEMOP_CMD_MASK: u64 = 0x3F;
pub const XENMAPSPACE_SHARED_INFO: u32 = 0;
pub const XENMAPSPACE_GRANT_TABLE: u32 = 1;
pub const XENMAPSPACE_GMFN: u32 = 2;
pub const XENMAPSPACE_GMFN_FOREIGN: u32 = 4;
pub const XENMEM_RESOURCE_GRANT_TABLE: u16 = 1;

// hvm_op (sub-op is `op & 0xFF`).
pub const HVMOP_SET_PARAM: u64 = 0;
pub const HVMOP_GET_PARAM: u64 = 1;
pub const HVMOP_SET_MEM_TYPE: u64 = 8;
pub const HVMOP_SET_MEM_ACCESS: u64 = 12;
pub const HVMOP_SET_EVTCHN_UPCALL_VECTOR: u64 = 23;
pub const HVMOP_ALTP2M: u64 = 25;
pub const HVMOP_CMD_MASK: u64 = 0xFF;
pub const HVM_PARAM_CALLBACK_IRQ: u32 = 0;
pub const HVM_PARAM_STORE_PFN: u32 = 1;
pub const HVM_PARAM_CONSOLE_PFN: u32 = 17;

// vcpu_op.
pub const VCPUOP_INITIALISE: u64 = 0;
pub const VCPUOP_UP: u64 = 1;
pub const VCPUOP_DOWN: u64 = 2;
pub const VCPUOP_GET_RUNSTATE_INFO: u64 = 4;
pub const VCPUOP_REGISTER_RUNSTATE_MEMORY_AREA: u64 = 5;
pub const VCPUOP_SET_PERIODIC_TIMER: u64 = 6;
pub const VCPUOP_STOP_PERIODIC_TIMER: u64 = 7;
pub const VCPUOP_SET_SINGLESHOT_TIMER: u64 = 8;
pub const VCPUOP_STOP_SINGLESHOT_TIMER: u64 = 9;
pub const VCPUOP_REGISTER_VCPU_INFO: u64 = 10;
pub const VCPUOP_SEND_NMI: u64 = 11;
pub const VCPUOP_REGISTER_VCPU_TIME_MEMORY_AREA: u64 = 13;

// event_channel_op.
pub const EVTCHNOP_BIND_INTERDOMAIN: u64 = 0;
pub const EVTCHNOP_CLOSE: u64 = 3;
pub const EVTCHNOP_STATUS: u64 = 5;
pub const EVTCHNOP_ALLOC_UNBOUND: u64 = 6;
pub const EVTCHNOP_BIND_VCPU: u64 = 8;
pub const EVTCHNOP_UNMASK: u64 = 9;
pub const EVTCHNOP_RESET: u64 = 10;
pub const EVTCHNOP_INIT_CONTROL: u64 = 11;
pub const EVTCHNOP_EXPAND_ARRAY: u64 = 12;
pub const EVTCHNOP_RESET_CONT: u64 = 14;

// sched_op.
#[cfg(test)]
pub const SCHEDOP_YIELD: u64 = 0;
pub const SCHEDOP_BLOCK: u64 = 1;
pub const SCHEDOP_SHUTDOWN: u64 = 2;
pub const SCHEDOP_POLL: u64 = 3;
pub const SCHEDOP_REMOTE_SHUTDOWN: u64 = 4;
pub const SCHEDOP_SHUTDOWN_CODE: u64 = 5;
pub const SCHEDOP_WATCHDOG: u64 = 6;
pub const SCHEDOP_PIN_OVERRIDE: u64 = 7;
pub const SHUTDOWN_POWEROFF: u32 = 0;

// grant_table_op (sub-op is `cmd & 0xFFF` of the 32-bit cmd).
pub const GNTTABOP_MAP_GRANT_REF: u64 = 0;
pub const GNTTABOP_TRANSFER: u64 = 4;
pub const GNTTABOP_COPY: u64 = 5;
pub const GNTTABOP_QUERY_SIZE: u64 = 6;
pub const GNTTABOP_UNMAP_AND_REPLACE: u64 = 7;
pub const GNTTABOP_SET_VERSION: u64 = 8;
pub const GNTTABOP_GET_VERSION: u64 = 10;
pub const GNTTABOP_SWAP_GRANT_REF: u64 = 11;
pub const GNTTABOP_CMD_MASK: u64 = 0xFFF;
pub const GNTMAP_HOST_MAP: u32 = 1 << 1;
pub const GNTCOPY_SOURCE_GREF: u16 = 1 << 0;
/// `sizeof(struct gnttab_map_grant_ref)`.
pub const GNTTAB_MAP_SIZE: usize = 32;
/// `sizeof(struct gnttab_copy)`.
pub const GNTTAB_COPY_SIZE: usize = 40;

// xen_version.
pub const XENVER_EXTRAVERSION: u64 = 1;
pub const XENVER_GET_FEATURES: u64 = 6;
pub const XENVER_COMMANDLINE: u64 = 9;

// console_io.
pub const CONSOLEIO_WRITE: u64 = 0;
pub const CONSOLEIO_READ: u64 = 1;

// physdev_op: commands that register guest frames the hypervisor writes.
pub const PHYSDEVOP_PIRQ_EOI_GMFN_V1: u64 = 17;
pub const PHYSDEVOP_PIRQ_EOI_GMFN_V2: u64 = 28;

// domctl / sysctl / platform_op (Xen 4.17 interface versions).
pub const XEN_DOMCTL_INTERFACE_VERSION: u32 = 0x15;
pub const XEN_DOMCTL_DESTROYDOMAIN: u32 = 2;
pub const XEN_SYSCTL_INTERFACE_VERSION: u32 = 0x15;
pub const XEN_SYSCTL_READCONSOLE: u32 = 1;
pub const XENPF_INTERFACE_VERSION: u32 = 0x0300_0001;
pub const XENPF_SETTIME64: u32 = 62;
