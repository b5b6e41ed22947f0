//! Xen's HVM save-record stream: the blob of `XEN_DOMCTL_gethvmcontext` and
//! `XEN_DOMCTL_sethvmcontext`, and the `HVM_CONTEXT` record of a migration
//! stream (`hvm/save.h`, `arch-x86/hvm/save.h` of Xen 4.17).
//!
//! * [`records`]: the typecodes and record bodies (`SaveHeader`, `HwCpu`,
//!   `HwMtrr`, `HwLapic`, ...) as `#[repr(C)]` zerocopy structs with their
//!   x86_64 layout asserted, and Xen's length rules.
//! * [`stream`]: [`Writer`] builds a stream; [`Reader`] walks untrusted
//!   bytes without panicking; [`validate`] applies the framing rules of
//!   Xen's loader.
//! * [`check`]: the checks Xen's loader makes on HEADER, CPU and MTRR
//!   records ([`check_header`], [`check_cpu`], [`check_mtrr`]).
//! * [`lapic`]: a local APIC's registers to and from the LAPIC and
//!   LAPIC_REGS records ([`LapicState`]).
//!
//! The toolstack treats the blob as opaque except for HEADER (which must be
//! first, and which it copies) and MTRR instance 0; every rule here comes
//! from the hypervisor side. Each error maps to the errno Xen returns
//! ([`StreamError::errno`] and friends).
//!
//! `no_std` with `alloc` (for [`Writer`] and [`validate`]); no `unsafe`.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod check;
pub mod lapic;
pub mod records;
pub mod stream;

#[cfg(test)]
mod tests;

use rxen_xen_abi::errno::{self, Errno};

pub use check::{check_cpu, check_efer, check_header, check_mtrr, CpuLimits};
pub use lapic::LapicState;
pub use records::{
    CpuMsrs, CpuXsave, Descriptor, HwCpu, HwCpuXsave, HwLapic, HwLapicRegs, HwMsr, HwMsrEntry,
    HwMtrr, HwTscAdjust, HwVmceVcpu, SaveHeader,
};
pub use stream::{validate, Reader, Record, Writer};

/// What is wrong with the framing of a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamError {
    /// The stream does not start with a HEADER record of 24 bytes.
    NoHeader,
    /// Fewer than 8 bytes are left where a descriptor should be.
    TruncatedDescriptor {
        /// Offset of the partial descriptor.
        offset: usize,
    },
    /// A record's length runs past the end of the data.
    LengthPastEnd {
        /// Offset of its descriptor.
        offset: usize,
        /// Its typecode.
        typecode: u16,
        /// The length it claims.
        length: u32,
    },
    /// The data ends without an END record.
    MissingEnd,
    /// A typecode Xen 4.17 has no loader for ([`validate`] only).
    UnknownTypecode(u16),
    /// A fixed-size record with the wrong length ([`validate`] only).
    BadLength {
        /// Its typecode.
        typecode: u16,
        /// Its instance.
        instance: u16,
        /// Its length.
        length: usize,
    },
}

impl StreamError {
    /// The error Xen 4.17 returns for it: `-ENODATA` for a missing or
    /// malformed HEADER, a truncated descriptor and a missing END; `-EINVAL`
    /// otherwise.
    pub const fn errno(self) -> Errno {
        match self {
            Self::NoHeader | Self::TruncatedDescriptor { .. } | Self::MissingEnd => errno::ENODATA,
            Self::LengthPastEnd { .. } | Self::UnknownTypecode(_) | Self::BadLength { .. } => {
                errno::EINVAL
            }
        }
    }
}

/// What is wrong with one record's body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordError {
    /// The body has the wrong size.
    Length {
        /// Bytes present.
        found: usize,
        /// Bytes expected (exact, upper or lower bound by record type).
        expected: usize,
    },
    /// A CPU_MSR body whose length does not match its count, or with a
    /// non-zero reserved field (Xen: `-EOPNOTSUPP`).
    MsrFormat,
    /// A compacted XSAVE image (Xen: `-EOPNOTSUPP`).
    CompactedXsave,
}

impl RecordError {
    /// The error Xen 4.17 returns for it.
    pub const fn errno(self) -> Errno {
        match self {
            Self::Length { .. } => errno::EINVAL,
            Self::MsrFormat | Self::CompactedXsave => errno::EOPNOTSUPP,
        }
    }
}

/// A HEADER record Xen would refuse (`-EINVAL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderError {
    /// Not `HVM_FILE_MAGIC`.
    BadMagic(u32),
    /// Not `HVM_FILE_VERSION`.
    BadVersion(u32),
}

impl HeaderError {
    /// `-EINVAL`.
    pub const fn errno(self) -> Errno {
        errno::EINVAL
    }
}

/// A CPU record Xen would refuse (`-EINVAL`). Each variant carries the
/// offending value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuRecordError {
    /// `pad0` is not zero.
    Pad0(u32),
    /// CR0 has reserved bits set.
    Cr0Reserved(u64),
    /// CR0.ET is clear.
    Cr0NoEt(u64),
    /// CR0.PG is set without CR0.PE.
    Cr0PgWithoutPe(u64),
    /// CR4 has bits the policy does not allow.
    Cr4NotAllowed {
        /// The record's CR4.
        cr4: u64,
        /// The bits not allowed.
        disallowed: u64,
    },
    /// EFER has bits Xen does not know.
    EferUnknownBits(u64),
    /// EFER has these bits without the CPUID feature behind them.
    EferNotAllowed(u64),
    /// EFER.LMA without EFER.LME or without CR0.PG.
    EferLongModeInconsistent(u64),
    /// CR3 is wider than the guest physical address width.
    Cr3TooWide(u64),
    /// `flags` has bits other than `XEN_X86_FPU_INITIALISED`.
    UnknownFlags(u32),
    /// `msr_tsc_aux` does not fit in 32 bits.
    TscAuxTooWide(u64),
    /// A valid pending event of type 1 or above 4, or with reserved bits.
    BadPendingEvent(u32),
    /// A pending event's error code does not fit in 16 bits.
    BadErrorCode(u32),
    /// The FPU image's MXCSR has reserved bits set (loading it faults).
    MxcsrReserved(u32),
}

impl CpuRecordError {
    /// `-EINVAL`.
    pub const fn errno(self) -> Errno {
        errno::EINVAL
    }
}

/// An MTRR record rxen refuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MtrrError {
    /// VCNT in `msr_mtrr_cap` is above 8 (Xen: `-EINVAL`).
    TooManyVariableRanges(u8),
    /// `msr_mtrr_def_type` has bits outside 7:0, 10 and 11.
    DefTypeReserved(u64),
    /// `msr_mtrr_def_type` names an invalid memory type.
    DefTypeInvalid(u8),
}

impl MtrrError {
    /// `-EINVAL`.
    pub const fn errno(self) -> Errno {
        errno::EINVAL
    }
}
