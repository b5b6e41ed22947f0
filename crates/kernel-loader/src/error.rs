//! Why a kernel file could not be loaded.

use core::fmt;

/// Everything that can go wrong turning a kernel file into a [`crate::KernelImage`].
///
/// The input is untrusted (it comes from a boot configuration or, later, from
/// a toolstack), so every malformation ends up here rather than in a panic.
/// `Display` gives a sentence an operator can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoadError {
    /// Neither an ELF file nor an x86 bzImage.
    NotAKernel,
    /// A bzImage whose setup header is too old or inconsistent to find the payload.
    BadBzImage(&'static str),
    /// The kernel has no `XEN_ELFNOTE_PHYS32_ENTRY` note, so it cannot boot as PVH.
    NoPvhEntry,
    /// The (possibly decompressed) ELF file is malformed or not an x86_64 executable.
    BadElf(&'static str),
    /// The payload is compressed in a format we know, but its data is corrupt or truncated.
    Decompress(&'static str),
    /// The payload is compressed in a format we have no `no_std` decoder for.
    UnsupportedCompression(&'static str),
    /// The kernel would decompress to, or occupy, more memory than we accept.
    TooBig,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAKernel => f.write_str("not a Linux kernel: no ELF or bzImage header"),
            Self::BadBzImage(why) => write!(f, "malformed bzImage: {why}"),
            Self::NoPvhEntry => f.write_str(
                "kernel has no PVH entry point (XEN_ELFNOTE_PHYS32_ENTRY): \
                 build with CONFIG_XEN_PVH=y",
            ),
            Self::BadElf(why) => write!(f, "malformed kernel ELF image: {why}"),
            Self::Decompress(why) => write!(f, "cannot decompress the kernel: {why}"),
            Self::UnsupportedCompression(name) => write!(
                f,
                "kernel is compressed with {name}, which rxen cannot decompress; \
                 use a gzip, xz, lz4 or zstd kernel, or an uncompressed vmlinux"
            ),
            Self::TooBig => write!(
                f,
                "kernel is too big: it decompresses to or occupies more than {} MiB",
                crate::MAX_KERNEL_BYTES / (1024 * 1024)
            ),
        }
    }
}

impl core::error::Error for LoadError {}
