//! Hypercall numbers (`__HYPERVISOR_*`, `xen.h`) and the hypercall page.
//!
//! A 64-bit guest puts the number in RAX and the arguments in RDI, RSI, RDX,
//! R10, R8 (R9); the result comes back in RAX (negative: [`crate::errno`]).
//! The names follow Xen's `__HYPERVISOR_<name>`, upper-cased.

pub const SET_TRAP_TABLE: u64 = 0;
pub const MMU_UPDATE: u64 = 1;
pub const SET_GDT: u64 = 2;
pub const STACK_SWITCH: u64 = 3;
pub const SET_CALLBACKS: u64 = 4;
pub const FPU_TASKSWITCH: u64 = 5;
/// Legacy form of [`SCHED_OP`]; x86 Linux 6.1 never uses it.
pub const SCHED_OP_COMPAT: u64 = 6;
pub const PLATFORM_OP: u64 = 7;
pub const SET_DEBUGREG: u64 = 8;
pub const GET_DEBUGREG: u64 = 9;
pub const UPDATE_DESCRIPTOR: u64 = 10;
pub const MEMORY_OP: u64 = 12;
pub const MULTICALL: u64 = 13;
pub const UPDATE_VA_MAPPING: u64 = 14;
pub const SET_TIMER_OP: u64 = 15;
/// Legacy form of [`EVENT_CHANNEL_OP`]; x86 Linux 6.1 never uses it.
pub const EVENT_CHANNEL_OP_COMPAT: u64 = 16;
pub const XEN_VERSION: u64 = 17;
pub const CONSOLE_IO: u64 = 18;
/// Legacy form of [`PHYSDEV_OP`].
pub const PHYSDEV_OP_COMPAT: u64 = 19;
pub const GRANT_TABLE_OP: u64 = 20;
pub const VM_ASSIST: u64 = 21;
pub const UPDATE_VA_MAPPING_OTHERDOMAIN: u64 = 22;
/// PV only; its hypercall-page slot holds `ud2`.
pub const IRET: u64 = 23;
pub const VCPU_OP: u64 = 24;
pub const SET_SEGMENT_BASE: u64 = 25;
pub const MMUEXT_OP: u64 = 26;
pub const XSM_OP: u64 = 27;
pub const NMI_OP: u64 = 28;
pub const SCHED_OP: u64 = 29;
pub const CALLBACK_OP: u64 = 30;
pub const XENOPROF_OP: u64 = 31;
pub const EVENT_CHANNEL_OP: u64 = 32;
pub const PHYSDEV_OP: u64 = 33;
pub const HVM_OP: u64 = 34;
pub const SYSCTL: u64 = 35;
pub const DOMCTL: u64 = 36;
pub const KEXEC_OP: u64 = 37;
pub const TMEM_OP: u64 = 38;
pub const ARGO_OP: u64 = 39;
pub const XENPMU_OP: u64 = 40;
pub const DM_OP: u64 = 41;
pub const HYPFS_OP: u64 = 42;
/// First of the eight architecture-specific numbers (48..=55).
pub const ARCH_0: u64 = 48;

/// `vm_assist` commands (`VMASST_CMD_*`).
pub const VMASST_CMD_ENABLE: u64 = 0;
pub const VMASST_CMD_DISABLE: u64 = 1;
/// `vm_assist` type: set bit 63 of `state_entry_time` while updating the
/// runstate area.
pub const VMASST_TYPE_RUNSTATE_UPDATE_FLAG: u64 = 5;

/// Name of hypercall `nr`, for logs (`"unknown"` when not assigned).
pub fn name(nr: u64) -> &'static str {
    match nr {
        SET_TRAP_TABLE => "set_trap_table",
        MMU_UPDATE => "mmu_update",
        SET_GDT => "set_gdt",
        STACK_SWITCH => "stack_switch",
        SET_CALLBACKS => "set_callbacks",
        FPU_TASKSWITCH => "fpu_taskswitch",
        SCHED_OP_COMPAT => "sched_op_compat",
        PLATFORM_OP => "platform_op",
        SET_DEBUGREG => "set_debugreg",
        GET_DEBUGREG => "get_debugreg",
        UPDATE_DESCRIPTOR => "update_descriptor",
        MEMORY_OP => "memory_op",
        MULTICALL => "multicall",
        UPDATE_VA_MAPPING => "update_va_mapping",
        SET_TIMER_OP => "set_timer_op",
        EVENT_CHANNEL_OP_COMPAT => "event_channel_op_compat",
        XEN_VERSION => "xen_version",
        CONSOLE_IO => "console_io",
        PHYSDEV_OP_COMPAT => "physdev_op_compat",
        GRANT_TABLE_OP => "grant_table_op",
        VM_ASSIST => "vm_assist",
        UPDATE_VA_MAPPING_OTHERDOMAIN => "update_va_mapping_otherdomain",
        IRET => "iret",
        VCPU_OP => "vcpu_op",
        SET_SEGMENT_BASE => "set_segment_base",
        MMUEXT_OP => "mmuext_op",
        XSM_OP => "xsm_op",
        NMI_OP => "nmi_op",
        SCHED_OP => "sched_op",
        CALLBACK_OP => "callback_op",
        XENOPROF_OP => "xenoprof_op",
        EVENT_CHANNEL_OP => "event_channel_op",
        PHYSDEV_OP => "physdev_op",
        HVM_OP => "hvm_op",
        SYSCTL => "sysctl",
        DOMCTL => "domctl",
        KEXEC_OP => "kexec_op",
        TMEM_OP => "tmem_op",
        ARGO_OP => "argo_op",
        XENPMU_OP => "xenpmu_op",
        DM_OP => "dm_op",
        HYPFS_OP => "hypfs_op",
        48..=55 => "arch",
        _ => "unknown",
    }
}

/// Bytes per stub in the hypercall page; stub `i` starts at `i * 32`.
pub const HYPERCALL_STUB_SIZE: usize = 32;
/// Number of stubs in the page.
pub const HYPERCALL_STUBS: usize = crate::PAGE_SIZE / HYPERCALL_STUB_SIZE;

/// Fills `out` with the hypercall page Xen gives an HVM/PVH guest on AMD SVM
/// (written when the guest writes the page's address to
/// [`crate::cpuid::HYPERCALL_PAGE_MSR`]).
///
/// Every stub is `mov eax, i; vmmcall; ret`, the rest is `int3` (0xCC), and the
/// [`IRET`] slot is `ud2`.
pub fn hypercall_page(out: &mut [u8; crate::PAGE_SIZE]) {
    out.fill(0xCC);
    for (i, stub) in out.chunks_exact_mut(HYPERCALL_STUB_SIZE).enumerate() {
        // `i` < 128, so the cast is exact.
        let nr = i as u32;
        if u64::from(nr) == IRET {
            stub[..2].copy_from_slice(&[0x0F, 0x0B]);
            continue;
        }
        stub[0] = 0xB8;
        stub[1..5].copy_from_slice(&nr.to_le_bytes());
        stub[5..9].copy_from_slice(&[0x0F, 0x01, 0xD9, 0xC3]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_layout() {
        let mut page = [0u8; crate::PAGE_SIZE];
        hypercall_page(&mut page);
        assert_eq!(HYPERCALL_STUBS, 128);
        // memory_op (12) at 12 * 32.
        assert_eq!(page[384..393], [0xB8, 12, 0, 0, 0, 0x0F, 0x01, 0xD9, 0xC3]);
        assert!(page[393..416].iter().all(|&b| b == 0xCC));
        // Slot 0 and the last slot.
        assert_eq!(page[..9], [0xB8, 0, 0, 0, 0, 0x0F, 0x01, 0xD9, 0xC3]);
        assert_eq!(page[127 * 32..127 * 32 + 5], [0xB8, 127, 0, 0, 0]);
        // iret (23) is ud2 followed by int3.
        assert_eq!(page[23 * 32..23 * 32 + 2], [0x0F, 0x0B]);
        assert!(page[23 * 32 + 2..24 * 32].iter().all(|&b| b == 0xCC));
    }

    #[test]
    fn names() {
        assert_eq!(name(SCHED_OP), "sched_op");
        assert_eq!(name(34), "hvm_op");
        assert_eq!(name(11), "unknown");
        assert_eq!(name(u64::MAX), "unknown");
    }
}
