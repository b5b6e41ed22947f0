//! The checks Xen 4.17's loader applies to HEADER, CPU and MTRR records
//! (`hvm_load`, `hvm_load_cpu_ctxt`, `hvm_efer_valid`, `svm_vmcb_restore`,
//! `hvm_load_mtrr_msr`), restated. Every failure is `-EINVAL` in Xen.

use crate::records::{
    legacy_mxcsr, mxcsr_valid, HwCpu, HwMtrr, SaveHeader, HVM_FILE_MAGIC, HVM_FILE_VERSION,
    MTRR_CAP_VCNT_MASK, MTRR_DEF_TYPE_TYPE_MASK, MTRR_VCNT, PENDING_ERROR_VALID,
    PENDING_RESERVED_MASK, XEN_X86_FPU_INITIALISED,
};
use crate::{CpuRecordError, HeaderError, MtrrError};

// CR0 bits.
pub const X86_CR0_PE: u64 = 1 << 0;
pub const X86_CR0_MP: u64 = 1 << 1;
pub const X86_CR0_EM: u64 = 1 << 2;
pub const X86_CR0_TS: u64 = 1 << 3;
pub const X86_CR0_ET: u64 = 1 << 4;
pub const X86_CR0_NE: u64 = 1 << 5;
pub const X86_CR0_WP: u64 = 1 << 16;
pub const X86_CR0_AM: u64 = 1 << 18;
pub const X86_CR0_NW: u64 = 1 << 29;
pub const X86_CR0_CD: u64 = 1 << 30;
pub const X86_CR0_PG: u64 = 1 << 31;
/// CR0 bits a guest may have; every other bit (the upper 32 included) is
/// reserved.
pub const HVM_CR0_GUEST_VALID: u64 = X86_CR0_PE
    | X86_CR0_MP
    | X86_CR0_EM
    | X86_CR0_TS
    | X86_CR0_ET
    | X86_CR0_NE
    | X86_CR0_WP
    | X86_CR0_AM
    | X86_CR0_NW
    | X86_CR0_CD
    | X86_CR0_PG;

// CR4 bits, to build `CpuLimits::cr4_allowed` from the guest's CPUID policy
// (Xen's `hvm_cr4_guest_valid_bits`: each needs its CPUID feature; PCE is
// always allowed).
pub const X86_CR4_VME: u64 = 1 << 0;
pub const X86_CR4_PVI: u64 = 1 << 1;
pub const X86_CR4_TSD: u64 = 1 << 2;
pub const X86_CR4_DE: u64 = 1 << 3;
pub const X86_CR4_PSE: u64 = 1 << 4;
pub const X86_CR4_PAE: u64 = 1 << 5;
pub const X86_CR4_MCE: u64 = 1 << 6;
pub const X86_CR4_PGE: u64 = 1 << 7;
pub const X86_CR4_PCE: u64 = 1 << 8;
pub const X86_CR4_OSFXSR: u64 = 1 << 9;
pub const X86_CR4_OSXMMEXCPT: u64 = 1 << 10;
pub const X86_CR4_UMIP: u64 = 1 << 11;
pub const X86_CR4_LA57: u64 = 1 << 12;
pub const X86_CR4_VMXE: u64 = 1 << 13;
pub const X86_CR4_SMXE: u64 = 1 << 14;
pub const X86_CR4_FSGSBASE: u64 = 1 << 16;
pub const X86_CR4_PCIDE: u64 = 1 << 17;
pub const X86_CR4_OSXSAVE: u64 = 1 << 18;
pub const X86_CR4_SMEP: u64 = 1 << 20;
pub const X86_CR4_SMAP: u64 = 1 << 21;
pub const X86_CR4_PKE: u64 = 1 << 22;
pub const X86_CR4_CET: u64 = 1 << 23;

// EFER bits.
pub const EFER_SCE: u64 = 1 << 0;
pub const EFER_LME: u64 = 1 << 8;
pub const EFER_LMA: u64 = 1 << 10;
pub const EFER_NXE: u64 = 1 << 11;
pub const EFER_SVME: u64 = 1 << 12;
pub const EFER_FFXSE: u64 = 1 << 14;
/// The EFER bits Xen 4.17 knows; any other is invalid.
pub const EFER_KNOWN_MASK: u64 = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | EFER_SVME | EFER_FFXSE;

/// What the domain's CPU policy allows, as far as the CPU-record checks
/// need it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuLimits {
    /// CR4 bits the guest may set (`hvm_cr4_guest_valid_bits`).
    pub cr4_allowed: u64,
    /// EFER bits the policy offers: SCE (syscall), LME (long mode; also
    /// permits LMA), NXE (nx), SVME (svm + nested virt), FFXSE (ffxsr).
    pub efer_allowed: u64,
    /// Guest physical address width (CR3 must fit in it).
    pub maxphysaddr: u8,
}

impl CpuLimits {
    /// Limits for a 64-bit guest without nested virtualisation on an AMD
    /// host: `cr4_allowed` as given, EFER SCE/LME/LMA/NXE/FFXSE, 48-bit
    /// guest physical addresses.
    pub const fn amd64(cr4_allowed: u64) -> Self {
        Self {
            cr4_allowed,
            efer_allowed: EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | EFER_FFXSE,
            maxphysaddr: 48,
        }
    }
}

/// Checks a HEADER record body: magic and version (CPUID and TSC rate are
/// informational).
pub fn check_header(header: &SaveHeader) -> Result<(), HeaderError> {
    if header.magic != HVM_FILE_MAGIC {
        return Err(HeaderError::BadMagic(header.magic));
    }
    if header.version != HVM_FILE_VERSION {
        return Err(HeaderError::BadVersion(header.version));
    }
    Ok(())
}

/// Checks EFER the way `hvm_efer_valid` does, with `cr0_pg` the record's
/// CR0.PG.
pub fn check_efer(efer: u64, cr0_pg: bool, limits: &CpuLimits) -> Result<(), CpuRecordError> {
    let missing = |bits: u64| efer & bits != 0 && limits.efer_allowed & bits == 0;
    if efer & !EFER_KNOWN_MASK != 0 {
        return Err(CpuRecordError::EferUnknownBits(efer));
    }
    if missing(EFER_SCE) {
        return Err(CpuRecordError::EferNotAllowed(EFER_SCE));
    }
    if efer & (EFER_LME | EFER_LMA) != 0 && limits.efer_allowed & EFER_LME == 0 {
        return Err(CpuRecordError::EferNotAllowed(efer & (EFER_LME | EFER_LMA)));
    }
    if efer & EFER_LMA != 0 && (efer & EFER_LME == 0 || !cr0_pg) {
        return Err(CpuRecordError::EferLongModeInconsistent(efer));
    }
    for bit in [EFER_NXE, EFER_SVME, EFER_FFXSE] {
        if missing(bit) {
            return Err(CpuRecordError::EferNotAllowed(bit));
        }
    }
    Ok(())
}

/// Checks a decoded CPU record ([`HwCpu::from_record`]) as Xen 4.17 does
/// before loading it: `pad0` zero; CR0 with ET, without reserved bits, and
/// not PG without PE; CR4 within `limits.cr4_allowed`; EFER valid
/// ([`check_efer`]); CR3 within `limits.maxphysaddr`; only known `flags`;
/// `msr_tsc_aux` below 2³²; a valid pending event of type 0, 2, 3 or 4
/// without reserved bits, and a 16-bit error code if it has one.
pub fn check_cpu(cpu: &HwCpu, limits: &CpuLimits) -> Result<(), CpuRecordError> {
    if cpu.pad0 != 0 {
        return Err(CpuRecordError::Pad0(cpu.pad0));
    }
    if cpu.cr0 & !HVM_CR0_GUEST_VALID != 0 {
        return Err(CpuRecordError::Cr0Reserved(cpu.cr0));
    }
    if cpu.cr0 & X86_CR0_ET == 0 {
        return Err(CpuRecordError::Cr0NoEt(cpu.cr0));
    }
    if cpu.cr0 & (X86_CR0_PE | X86_CR0_PG) == X86_CR0_PG {
        return Err(CpuRecordError::Cr0PgWithoutPe(cpu.cr0));
    }
    if cpu.cr4 & !limits.cr4_allowed != 0 {
        return Err(CpuRecordError::Cr4NotAllowed {
            cr4: cpu.cr4,
            disallowed: cpu.cr4 & !limits.cr4_allowed,
        });
    }
    check_efer(cpu.msr_efer, cpu.cr0 & X86_CR0_PG != 0, limits)?;
    if u32::from(limits.maxphysaddr) < 64 && cpu.cr3 >> limits.maxphysaddr != 0 {
        return Err(CpuRecordError::Cr3TooWide(cpu.cr3));
    }
    if cpu.flags & !XEN_X86_FPU_INITIALISED != 0 {
        return Err(CpuRecordError::UnknownFlags(cpu.flags));
    }
    let mxcsr = legacy_mxcsr(&cpu.fpu_regs);
    if cpu.flags & XEN_X86_FPU_INITIALISED != 0 && !mxcsr_valid(mxcsr) {
        return Err(CpuRecordError::MxcsrReserved(mxcsr));
    }
    if cpu.msr_tsc_aux > u64::from(u32::MAX) {
        return Err(CpuRecordError::TscAuxTooWide(cpu.msr_tsc_aux));
    }
    if cpu.pending_valid() {
        let kind = cpu.pending_type();
        if kind == 1 || kind > 4 || cpu.pending_event & PENDING_RESERVED_MASK != 0 {
            return Err(CpuRecordError::BadPendingEvent(cpu.pending_event));
        }
        if cpu.pending_event & PENDING_ERROR_VALID != 0 && cpu.error_code > u32::from(u16::MAX) {
            return Err(CpuRecordError::BadErrorCode(cpu.error_code));
        }
    }
    Ok(())
}

/// Whether `kind` is an x86 memory type valid in an MTRR (UC, WC, WT, WP,
/// WB).
pub const fn is_valid_mtrr_type(kind: u8) -> bool {
    matches!(kind, 0 | 1 | 4 | 5 | 6)
}

/// Checks an MTRR record: VCNT in `msr_mtrr_cap` at most 8 (Xen:
/// `-EINVAL`), and `msr_mtrr_def_type` with a valid type and no reserved
/// bits (only bits 7:0, 10 and 11). Xen 4.17 silently ignores a bad
/// def_type instead of failing; rxen refuses it.
pub fn check_mtrr(mtrr: &HwMtrr) -> Result<(), MtrrError> {
    let vcnt = mtrr.msr_mtrr_cap & MTRR_CAP_VCNT_MASK;
    if vcnt > MTRR_VCNT as u64 {
        return Err(MtrrError::TooManyVariableRanges(vcnt as u8));
    }
    let def = mtrr.msr_mtrr_def_type;
    if def & !0xCFF != 0 {
        return Err(MtrrError::DefTypeReserved(def));
    }
    let kind = (def & MTRR_DEF_TYPE_TYPE_MASK) as u8;
    if !is_valid_mtrr_type(kind) {
        return Err(MtrrError::DefTypeInvalid(kind));
    }
    Ok(())
}
