//! Model-specific registers as the guest sees them. MSRs whose guest
//! values the VMCB holds (FS/GS bases, syscall MSRs) are not intercepted at
//! all; the rest come here. Unknown MSRs raise #GP as on Xen, except the
//! AMD model-specific range, which reads as zero (Linux probes it).

use rxen_xen_abi::cpuid::HYPERCALL_PAGE_MSR;

use crate::domain::vcpu::VcpuInner;

pub const APIC_BASE: u32 = 0x1B;
const TSC: u32 = 0x10;
const MTRR_CAP: u32 = 0xFE;
const PAT: u32 = 0x277;
const MTRR_DEF_TYPE: u32 = 0x2FF;
const EFER: u32 = 0xC000_0080;
const TSC_AUX: u32 = 0xC000_0103;

/// What a write asks of the caller beyond the register itself.
pub enum WriteEffect {
    None,
    /// Fill the page at this guest-physical address with hypercall stubs.
    HypercallPage(u64),
    /// An IPI from the virtual local APIC.
    Ipi(crate::arch::vlapic::IpiRequest),
}

/// RDMSR; `None` = #GP.
pub fn read(inner: &VcpuInner, vcpu_id: u32, msr: u32) -> Option<u64> {
    Some(match msr {
        APIC_BASE => {
            let bsp = if vcpu_id == 0 { 1 << 8 } else { 0 };
            0xFEE0_0000 | (1 << 11) | (1 << 10) | bsp
        }
        0x800..=0x8FF => return inner.lapic.read(msr),
        TSC => super::super::time::rdtsc(),
        EFER => inner.arch.guest_efer(),
        PAT => inner.arch.pat(),
        MTRR_CAP => (1 << 10) | (1 << 8) | 8, // WC, fixed ranges, 8 variable
        MTRR_DEF_TYPE => inner.mtrr_def_type,
        0x200..=0x20F | 0x250 | 0x258 | 0x259 | 0x268..=0x26F => 0,
        HYPERCALL_PAGE_MSR => 0,
        TSC_AUX | 0x8B | 0x17 | 0x1D9 | 0x48 | 0x49 | 0x10A | 0x140 => 0,
        // Machine check (hidden in CPUID; kernels may still probe): no banks.
        0x179..=0x17B | 0x400..=0x47F => 0,
        0xC001_0000..=0xC001_FFFF => 0,
        _ => return None,
    })
}

/// WRMSR; `Err` = #GP.
pub fn write(inner: &mut VcpuInner, msr: u32, value: u64) -> Result<WriteEffect, ()> {
    match msr {
        APIC_BASE => {} // stays enabled in x2APIC mode
        0x800..=0x8FF => {
            return inner
                .lapic
                .write(msr, value)
                .map(|ipi| ipi.map_or(WriteEffect::None, WriteEffect::Ipi));
        }
        EFER => {
            // Long mode, NX, syscall: what a guest may set.
            if value & !((1 << 0) | (1 << 8) | (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15)) != 0 {
                return Err(());
            }
            inner.arch.set_guest_efer(value);
        }
        PAT => inner.arch.set_pat(value),
        MTRR_DEF_TYPE => inner.mtrr_def_type = value,
        HYPERCALL_PAGE_MSR => return Ok(WriteEffect::HypercallPage(value & !0xFFF)),
        TSC | 0x200..=0x20F | 0x250 | 0x258 | 0x259 | 0x268..=0x26F => {}
        TSC_AUX | 0x8B | 0x1D9 | 0x48 | 0x49 | 0x10A | 0x140 => {}
        0x179..=0x17B | 0x400..=0x47F => {}
        0xC001_0000..=0xC001_FFFF => {}
        _ => return Err(()),
    }
    Ok(WriteEffect::None)
}
