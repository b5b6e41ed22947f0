//! `vcpu_op` sub-operations and structures (`vcpu.h`), the per-vCPU
//! `vcpu_info`/`vcpu_time_info` and the `shared_info` page (`xen.h`), and the
//! HVM initial vCPU context (`hvm/hvm_vcpu.h`).

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// Start a vCPU from a [`VcpuHvmContext`] (PVH/HVM form).
pub const VCPUOP_INITIALISE: u64 = 0;
pub const VCPUOP_UP: u64 = 1;
pub const VCPUOP_DOWN: u64 = 2;
pub const VCPUOP_IS_UP: u64 = 3;
/// Fills a [`VcpuRunstateInfo`].
pub const VCPUOP_GET_RUNSTATE_INFO: u64 = 4;
/// Argument: [`VcpuRegisterMemoryArea`] holding a guest *virtual* address.
pub const VCPUOP_REGISTER_RUNSTATE_MEMORY_AREA: u64 = 5;
/// Argument: [`VcpuSetPeriodicTimer`].
pub const VCPUOP_SET_PERIODIC_TIMER: u64 = 6;
/// No argument.
pub const VCPUOP_STOP_PERIODIC_TIMER: u64 = 7;
/// Argument: [`VcpuSetSingleshotTimer`].
pub const VCPUOP_SET_SINGLESHOT_TIMER: u64 = 8;
/// No argument.
pub const VCPUOP_STOP_SINGLESHOT_TIMER: u64 = 9;
/// Argument: [`VcpuRegisterVcpuInfo`].
pub const VCPUOP_REGISTER_VCPU_INFO: u64 = 10;
pub const VCPUOP_SEND_NMI: u64 = 11;
/// Fills a [`VcpuGetPhysid`].
pub const VCPUOP_GET_PHYSID: u64 = 12;
/// Argument: [`VcpuRegisterMemoryArea`] holding a guest *virtual* address.
pub const VCPUOP_REGISTER_VCPU_TIME_MEMORY_AREA: u64 = 13;
/// As 5, but with a guest-physical address.
pub const VCPUOP_REGISTER_RUNSTATE_PHYS_AREA: u64 = 14;
/// As 13, but with a guest-physical address.
pub const VCPUOP_REGISTER_VCPU_TIME_PHYS_AREA: u64 = 15;

/// Runstate: running on a physical CPU.
pub const RUNSTATE_RUNNING: i32 = 0;
/// Runstate: ready to run, waiting for a CPU.
pub const RUNSTATE_RUNNABLE: i32 = 1;
/// Runstate: blocked (halted, polling).
pub const RUNSTATE_BLOCKED: i32 = 2;
/// Runstate: offline or paused.
pub const RUNSTATE_OFFLINE: i32 = 3;
/// Bit set in `state_entry_time` while the area is being updated.
pub const XEN_RUNSTATE_UPDATE: u64 = 1 << 63;

/// `VcpuSetSingleshotTimer::flags`: fail with `-ETIME` if the deadline passed.
pub const VCPU_SSHOTTMR_FUTURE: u32 = 1;

/// `VcpuTimeInfo::flags`: the TSC is synchronised across vCPUs.
pub const XEN_PVCLOCK_TSC_STABLE_BIT: u8 = 1 << 0;
/// `VcpuTimeInfo::flags`: the guest was stopped (for watchdogs).
pub const XEN_PVCLOCK_GUEST_STOPPED: u8 = 1 << 1;

/// `struct vcpu_runstate_info`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct VcpuRunstateInfo {
    /// One of `RUNSTATE_*`.
    pub state: i32,
    /// Padding.
    pub pad: u32,
    /// System time (ns) when `state` was entered; may carry [`XEN_RUNSTATE_UPDATE`].
    pub state_entry_time: u64,
    /// Total ns spent in each `RUNSTATE_*`.
    pub time: [u64; 4],
}

/// Argument of the `register_*_memory_area` / `*_phys_area` calls: a single
/// guest address.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct VcpuRegisterMemoryArea {
    /// Guest virtual (or, for the `*_phys_area` calls, physical) address.
    pub addr: u64,
}

/// `struct vcpu_set_periodic_timer`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct VcpuSetPeriodicTimer {
    /// Period in ns.
    pub period_ns: u64,
}

/// `struct vcpu_set_singleshot_timer`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct VcpuSetSingleshotTimer {
    /// Deadline in system time (ns).
    pub timeout_abs_ns: u64,
    /// `VCPU_SSHOTTMR_*`.
    pub flags: u32,
    /// Padding (C struct tail).
    pub pad: u32,
}

/// `struct vcpu_register_vcpu_info`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct VcpuRegisterVcpuInfo {
    /// Guest frame holding the new [`VcpuInfo`].
    pub mfn: u64,
    /// Byte offset within that frame.
    pub offset: u32,
    /// Unused.
    pub rsvd: u32,
}

/// `struct vcpu_get_physid`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct VcpuGetPhysid {
    /// Bits 31:0 APIC id, bits 63:32 ACPI id.
    pub phys_id: u64,
}

/// `struct vcpu_time_info`: the pvclock parameters.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct VcpuTimeInfo {
    /// Odd while an update is in progress.
    pub version: u32,
    /// Padding.
    pub pad0: u32,
    /// TSC at the last update.
    pub tsc_timestamp: u64,
    /// System time (ns) at the last update.
    pub system_time: u64,
    /// TSC-to-ns multiplier, 32.32 fixed point (after `tsc_shift`).
    pub tsc_to_system_mul: u32,
    /// Shift applied to the TSC delta (left if positive).
    pub tsc_shift: i8,
    /// `XEN_PVCLOCK_*`.
    pub flags: u8,
    /// Padding.
    pub pad1: [u8; 2],
}

/// `struct arch_vcpu_info` (x86).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct ArchVcpuInfo {
    /// CR2 of the last page fault (PV).
    pub cr2: u64,
    /// Padding.
    pub pad: u64,
}

/// `struct vcpu_info`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct VcpuInfo {
    /// Set by the hypervisor when an upcall is pending.
    pub evtchn_upcall_pending: u8,
    /// Upcall mask (PV only; HVM/PVH gate on RFLAGS.IF).
    pub evtchn_upcall_mask: u8,
    /// Padding.
    pub pad0: [u8; 6],
    /// One bit per 64-port word of `evtchn_pending` with work for this vCPU.
    pub evtchn_pending_sel: u64,
    /// Architecture part.
    pub arch: ArchVcpuInfo,
    /// pvclock.
    pub time: VcpuTimeInfo,
}

const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(size_of::<VcpuRunstateInfo>() == 48);
    assert!(offset_of!(VcpuRunstateInfo, state) == 0);
    assert!(offset_of!(VcpuRunstateInfo, state_entry_time) == 8);
    assert!(offset_of!(VcpuRunstateInfo, time) == 16);
    assert!(size_of::<VcpuRegisterMemoryArea>() == 8);
    assert!(size_of::<VcpuSetPeriodicTimer>() == 8);
    assert!(size_of::<VcpuSetSingleshotTimer>() == 16);
    assert!(offset_of!(VcpuSetSingleshotTimer, timeout_abs_ns) == 0);
    assert!(offset_of!(VcpuSetSingleshotTimer, flags) == 8);
    assert!(size_of::<VcpuRegisterVcpuInfo>() == 16);
    assert!(offset_of!(VcpuRegisterVcpuInfo, mfn) == 0);
    assert!(offset_of!(VcpuRegisterVcpuInfo, offset) == 8);
    assert!(offset_of!(VcpuRegisterVcpuInfo, rsvd) == 12);
    assert!(size_of::<VcpuGetPhysid>() == 8);

    assert!(size_of::<VcpuTimeInfo>() == 32);
    assert!(offset_of!(VcpuTimeInfo, version) == 0);
    assert!(offset_of!(VcpuTimeInfo, tsc_timestamp) == 8);
    assert!(offset_of!(VcpuTimeInfo, system_time) == 16);
    assert!(offset_of!(VcpuTimeInfo, tsc_to_system_mul) == 24);
    assert!(offset_of!(VcpuTimeInfo, tsc_shift) == 28);
    assert!(offset_of!(VcpuTimeInfo, flags) == 29);

    assert!(size_of::<ArchVcpuInfo>() == 16);
    assert!(size_of::<VcpuInfo>() == 64);
    assert!(offset_of!(VcpuInfo, evtchn_upcall_pending) == 0);
    assert!(offset_of!(VcpuInfo, evtchn_upcall_mask) == 1);
    assert!(offset_of!(VcpuInfo, evtchn_pending_sel) == 8);
    assert!(offset_of!(VcpuInfo, arch) == 16);
    assert!(offset_of!(VcpuInfo, time) == 32);
};

/// Byte offsets in the 4 KiB `shared_info` page (x86_64).
pub mod shared_info {
    use core::mem::size_of;

    use super::VcpuInfo;

    /// Number of `vcpu_info` slots in the page (`XEN_LEGACY_MAX_VCPUS`).
    pub const LEGACY_MAX_VCPUS: usize = 32;
    /// `vcpu_info[LEGACY_MAX_VCPUS]`.
    pub const VCPU_INFO: usize = 0;
    /// `evtchn_pending[64]`: one bit per port.
    pub const EVTCHN_PENDING: usize = 0x800;
    /// `evtchn_mask[64]`: one bit per port.
    pub const EVTCHN_MASK: usize = 0xA00;
    /// Size in bytes of each of the two bitmaps.
    pub const EVTCHN_BITMAP_SIZE: usize = 0x200;
    /// `wc_version` (u32, odd while updating).
    pub const WC_VERSION: usize = 0xC00;
    /// `wc_sec` (u32): wall-clock seconds at system time 0.
    pub const WC_SEC: usize = 0xC04;
    /// `wc_nsec` (u32).
    pub const WC_NSEC: usize = 0xC08;
    /// `wc_sec_hi` (u32): upper 32 bits of the seconds.
    pub const WC_SEC_HI: usize = 0xC0C;
    /// `struct arch_shared_info` (PV-only fields, 48 bytes).
    pub const ARCH: usize = 0xC10;
    /// End of the defined part of the page.
    pub const END: usize = 0xC40;

    /// Offset of `vcpu_info[vcpu]`, if `vcpu` has a slot in the page.
    pub const fn vcpu_info(vcpu: u32) -> Option<usize> {
        if (vcpu as usize) < LEGACY_MAX_VCPUS {
            Some(VCPU_INFO + vcpu as usize * size_of::<VcpuInfo>())
        } else {
            None
        }
    }

    const _: () = {
        assert!(EVTCHN_PENDING == LEGACY_MAX_VCPUS * size_of::<VcpuInfo>());
        assert!(EVTCHN_MASK == EVTCHN_PENDING + EVTCHN_BITMAP_SIZE);
        assert!(WC_VERSION == EVTCHN_MASK + EVTCHN_BITMAP_SIZE);
        assert!(EVTCHN_BITMAP_SIZE * 8 == crate::evtchn::NR_EVENT_CHANNELS as usize);
        assert!(END <= crate::PAGE_SIZE);
    };
}

/// `vcpu_hvm_context.mode`: use the 32-bit register set.
pub const VCPU_HVM_MODE_32B: u32 = 0;
/// `vcpu_hvm_context.mode`: use the 64-bit register set.
pub const VCPU_HVM_MODE_64B: u32 = 1;

/// `struct vcpu_hvm_x86_32`: start state for a 32-bit (or compat) vCPU.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
#[allow(missing_docs)]
pub struct VcpuHvmX86_32 {
    pub eax: u32,
    pub ecx: u32,
    pub edx: u32,
    pub ebx: u32,
    pub esp: u32,
    pub ebp: u32,
    pub esi: u32,
    pub edi: u32,
    pub eip: u32,
    pub eflags: u32,
    pub cr0: u32,
    pub cr3: u32,
    pub cr4: u32,
    pub pad1: u32,
    /// Only NXE, or LME/LMA to start in compatibility mode.
    pub efer: u64,
    pub cs_base: u32,
    pub ds_base: u32,
    pub ss_base: u32,
    pub es_base: u32,
    pub tr_base: u32,
    pub cs_limit: u32,
    pub ds_limit: u32,
    pub ss_limit: u32,
    pub es_limit: u32,
    pub tr_limit: u32,
    pub cs_ar: u16,
    pub ds_ar: u16,
    pub ss_ar: u16,
    pub es_ar: u16,
    pub tr_ar: u16,
    pub pad2: [u16; 3],
}

/// `struct vcpu_hvm_x86_64`: start state for a 64-bit vCPU (flat segments
/// implied).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
#[allow(missing_docs)]
pub struct VcpuHvmX86_64 {
    pub rax: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rbx: u64,
    pub rsp: u64,
    pub rbp: u64,
    pub rsi: u64,
    pub rdi: u64,
    pub rip: u64,
    pub rflags: u64,
    pub cr0: u64,
    pub cr3: u64,
    pub cr4: u64,
    pub efer: u64,
}

/// `struct vcpu_hvm_context` (`VCPUOP_initialise` for HVM/PVH).
///
/// The register union is kept as raw words; read it with [`Self::regs`].
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct VcpuHvmContext {
    /// `VCPU_HVM_MODE_*`.
    pub mode: u32,
    /// Padding.
    pub pad: u32,
    /// `union { vcpu_hvm_x86_32; vcpu_hvm_x86_64 }`.
    pub cpu_regs: [u64; 15],
}

/// The register set selected by [`VcpuHvmContext::mode`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VcpuHvmRegs {
    /// [`VCPU_HVM_MODE_32B`].
    X86_32(VcpuHvmX86_32),
    /// [`VCPU_HVM_MODE_64B`].
    X86_64(VcpuHvmX86_64),
}

impl VcpuHvmContext {
    /// The register set named by `mode`; `None` for an unknown mode.
    pub fn regs(&self) -> Option<VcpuHvmRegs> {
        let bytes = self.cpu_regs.as_bytes();
        match self.mode {
            VCPU_HVM_MODE_32B => VcpuHvmX86_32::read_from_prefix(bytes)
                .ok()
                .map(|(r, _)| VcpuHvmRegs::X86_32(r)),
            VCPU_HVM_MODE_64B => VcpuHvmX86_64::read_from_prefix(bytes)
                .ok()
                .map(|(r, _)| VcpuHvmRegs::X86_64(r)),
            _ => None,
        }
    }

    /// A context holding `regs` (unused union bytes zero).
    pub fn new(regs: &VcpuHvmRegs) -> Self {
        let mut ctx = Self::default();
        let (mode, src) = match regs {
            VcpuHvmRegs::X86_32(r) => (VCPU_HVM_MODE_32B, r.as_bytes()),
            VcpuHvmRegs::X86_64(r) => (VCPU_HVM_MODE_64B, r.as_bytes()),
        };
        ctx.mode = mode;
        ctx.cpu_regs.as_mut_bytes()[..src.len()].copy_from_slice(src);
        ctx
    }
}

const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(size_of::<VcpuHvmX86_32>() == 120);
    assert!(offset_of!(VcpuHvmX86_32, eflags) == 36);
    assert!(offset_of!(VcpuHvmX86_32, cr0) == 40);
    assert!(offset_of!(VcpuHvmX86_32, efer) == 56);
    assert!(offset_of!(VcpuHvmX86_32, cs_base) == 64);
    assert!(offset_of!(VcpuHvmX86_32, cs_limit) == 84);
    assert!(offset_of!(VcpuHvmX86_32, cs_ar) == 104);
    assert!(offset_of!(VcpuHvmX86_32, tr_ar) == 112);
    assert!(size_of::<VcpuHvmX86_64>() == 112);
    assert!(offset_of!(VcpuHvmX86_64, rip) == 64);
    assert!(offset_of!(VcpuHvmX86_64, efer) == 104);
    assert!(size_of::<VcpuHvmContext>() == 128);
    assert!(offset_of!(VcpuHvmContext, mode) == 0);
    assert!(offset_of!(VcpuHvmContext, cpu_regs) == 8);
    assert!(size_of::<[u64; 15]>() == size_of::<VcpuHvmX86_32>());
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hvm_context_round_trip() {
        let regs = VcpuHvmX86_64 {
            rip: 0x1000,
            cr0: 0x8000_0011,
            efer: 0x500,
            ..Default::default()
        };
        let ctx = VcpuHvmContext::new(&VcpuHvmRegs::X86_64(regs));
        assert_eq!(ctx.mode, VCPU_HVM_MODE_64B);
        assert_eq!(ctx.as_bytes()[8 + 64..8 + 72], 0x1000u64.to_le_bytes());
        assert_eq!(ctx.regs(), Some(VcpuHvmRegs::X86_64(regs)));

        let mut bad = ctx;
        bad.mode = 2;
        assert_eq!(bad.regs(), None);
    }

    #[test]
    fn shared_info_slots() {
        assert_eq!(shared_info::vcpu_info(0), Some(0));
        assert_eq!(shared_info::vcpu_info(31), Some(31 * 64));
        assert_eq!(shared_info::vcpu_info(32), None);
    }
}

/// Bytes of an x86_64 `struct vcpu_guest_context` (get/setvcpucontext).
pub const VCPU_GUEST_CONTEXT_SIZE: usize = 5168;
/// `flags` (u64) of `vcpu_guest_context`.
const VGC_FLAGS: usize = 512;
/// `user_regs` (`struct cpu_user_regs`) of `vcpu_guest_context`.
const VGC_USER_REGS: usize = 520;
/// `ctrlreg[8]` of `vcpu_guest_context`.
const VGC_CTRLREG: usize = 4984;
/// `flags`: the vCPU is up.
pub const VGCF_ONLINE: u64 = 1 << 5;

/// The general registers of `cpu_user_regs`, in its order (r15 first;
/// `error_code`/`entry_vector` sit between rdi and rip, `cs` between rip
/// and rflags), as an HVM vCPU's context carries them: what the toolstack
/// changes when it resumes a domain whose suspend was cancelled (RAX, the
/// suspend hypercall's result).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UserRegs {
    /// r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, rsi, rdi.
    pub gprs: [u64; 15],
    pub rip: u64,
    pub rflags: u64,
    pub rsp: u64,
}

impl UserRegs {
    pub const RAX: usize = 10;
    const GPRS: usize = VGC_USER_REGS;
    const RIP: usize = VGC_USER_REGS + 128;
    const RFLAGS: usize = VGC_USER_REGS + 144;
    const RSP: usize = VGC_USER_REGS + 152;

    fn at(ctx: &[u8], off: usize) -> u64 {
        let mut b = [0; 8];
        b.copy_from_slice(&ctx[off..off + 8]);
        u64::from_le_bytes(b)
    }

    fn put(ctx: &mut [u8], off: usize, v: u64) {
        ctx[off..off + 8].copy_from_slice(&v.to_le_bytes());
    }

    /// Reads them from a `vcpu_guest_context` of
    /// [`VCPU_GUEST_CONTEXT_SIZE`] bytes.
    pub fn read(ctx: &[u8; VCPU_GUEST_CONTEXT_SIZE]) -> Self {
        let mut gprs = [0; 15];
        for (i, g) in gprs.iter_mut().enumerate() {
            *g = Self::at(ctx, Self::GPRS + 8 * i);
        }
        Self {
            gprs,
            rip: Self::at(ctx, Self::RIP),
            rflags: Self::at(ctx, Self::RFLAGS),
            rsp: Self::at(ctx, Self::RSP),
        }
    }

    /// A context holding these registers, the control registers and the
    /// online flag; everything else zero (as an HVM vCPU's has no PV
    /// state).
    pub fn context(&self, online: bool, cr: [u64; 5]) -> [u8; VCPU_GUEST_CONTEXT_SIZE] {
        let mut ctx = [0; VCPU_GUEST_CONTEXT_SIZE];
        Self::put(&mut ctx, VGC_FLAGS, if online { VGCF_ONLINE } else { 0 });
        for (i, &g) in self.gprs.iter().enumerate() {
            Self::put(&mut ctx, Self::GPRS + 8 * i, g);
        }
        Self::put(&mut ctx, Self::RIP, self.rip);
        Self::put(&mut ctx, Self::RFLAGS, self.rflags);
        Self::put(&mut ctx, Self::RSP, self.rsp);
        for (i, &c) in cr.iter().enumerate() {
            Self::put(&mut ctx, VGC_CTRLREG + 8 * i, c);
        }
        ctx
    }
}

#[cfg(test)]
mod context_tests {
    use super::*;

    #[test]
    fn user_regs_sit_where_xen_puts_them() {
        let mut regs = UserRegs::default();
        regs.gprs[UserRegs::RAX] = 0x1111;
        regs.rip = 0x2222;
        regs.rflags = 0x246;
        regs.rsp = 0x3333;
        let ctx = regs.context(true, [0x8005_0033, 0, 0, 0x1000, 0x6f0]);
        // Offsets from Xen's public headers for x86_64: rax @600, rip @648,
        // rflags @664, rsp @672, flags @512, ctrlreg[3] @5008.
        assert_eq!(ctx[600..608], 0x1111u64.to_le_bytes());
        assert_eq!(ctx[648..656], 0x2222u64.to_le_bytes());
        assert_eq!(ctx[664..672], 0x246u64.to_le_bytes());
        assert_eq!(ctx[672..680], 0x3333u64.to_le_bytes());
        assert_eq!(ctx[512..520], VGCF_ONLINE.to_le_bytes());
        assert_eq!(ctx[5008..5016], 0x1000u64.to_le_bytes());
        assert_eq!(UserRegs::read(&ctx), regs);
    }
}
