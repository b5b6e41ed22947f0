//! Why a guest cannot be laid out.

use core::fmt;

use crate::GpaRange;

/// Why [`plan`](crate::plan) rejected a [`GuestSpec`](crate::GuestSpec).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayoutError {
    /// Less memory than [`MIN_MEMORY`](crate::MIN_MEMORY).
    TooLittleMemory {
        /// Requested memory in bytes.
        got: u64,
        /// Minimum in bytes.
        min: u64,
    },
    /// More memory than [`MAX_MEMORY`](crate::MAX_MEMORY).
    TooMuchMemory {
        /// Requested memory in bytes.
        got: u64,
        /// Maximum in bytes.
        max: u64,
    },
    /// The memory size is not a multiple of the page size.
    MemoryNotPageAligned {
        /// Requested memory in bytes.
        got: u64,
    },
    /// Zero vCPUs.
    NoVcpus,
    /// More vCPUs than [`MAX_VCPUS`](crate::MAX_VCPUS).
    TooManyVcpus {
        /// Requested vCPUs.
        got: u32,
        /// Maximum.
        max: u32,
    },
    /// The kernel command line is longer than
    /// [`MAX_CMDLINE`](crate::MAX_CMDLINE).
    CmdlineTooLong {
        /// Length in bytes.
        len: usize,
        /// Maximum length in bytes.
        max: usize,
    },
    /// The kernel command line contains a NUL byte, which would cut it short.
    CmdlineContainsNul {
        /// Byte offset of the first NUL.
        at: usize,
    },
    /// The kernel's physical range is empty or not inside the RAM above
    /// 1 MiB.
    KernelOutsideRam {
        /// The kernel's range as given.
        kernel: GpaRange,
        /// The RAM it must lie in.
        ram: GpaRange,
    },
    /// The initrd has length 0.
    EmptyInitrd,
    /// The initrd does not fit between the kernel and the end of RAM.
    InitrdDoesNotFit {
        /// Initrd size in bytes.
        len: u64,
        /// The free RAM above the kernel (page-aligned).
        free: GpaRange,
    },
}

/// A byte count printed in the largest exact binary unit.
struct Size(u64);

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
        for (unit, name) in UNITS {
            if self.0 >= unit && self.0.is_multiple_of(unit) {
                return write!(f, "{} {name}", self.0 / unit);
            }
        }
        if self.0 == 1 {
            f.write_str("1 byte")
        } else {
            write!(f, "{} bytes", self.0)
        }
    }
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::TooLittleMemory { got, min } => write!(
                f,
                "domain memory {} is too small: at least {} is needed",
                Size(got),
                Size(min)
            ),
            Self::TooMuchMemory { got, max } => write!(
                f,
                "domain memory {} is too large: at most {} is supported",
                Size(got),
                Size(max)
            ),
            Self::MemoryNotPageAligned { got } => write!(
                f,
                "domain memory {} is not a multiple of the 4 KiB page size",
                Size(got)
            ),
            Self::NoVcpus => f.write_str("a domain needs at least 1 vCPU"),
            Self::TooManyVcpus { got, max } => {
                write!(f, "{got} vCPUs are too many: at most {max} are supported")
            }
            Self::CmdlineTooLong { len, max } => write!(
                f,
                "kernel command line of {len} bytes is too long: at most {max} bytes fit"
            ),
            Self::CmdlineContainsNul { at } => {
                write!(f, "kernel command line contains a NUL byte at offset {at}")
            }
            Self::KernelOutsideRam { kernel, ram } => write!(
                f,
                "kernel at {kernel} does not lie within the domain's RAM above 1 MiB ({ram})"
            ),
            Self::EmptyInitrd => f.write_str("the initrd is empty"),
            Self::InitrdDoesNotFit { len, free } => write!(
                f,
                "initrd of {} does not fit into the {} of RAM free above the kernel ({free}); \
                 give the domain more memory",
                Size(len),
                Size(free.len())
            ),
        }
    }
}

impl core::error::Error for LayoutError {}
