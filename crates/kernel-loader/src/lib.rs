//! Turns a kernel file, as distributions ship it, into what a PVH domain
//! builder needs: the segments to copy into guest memory, the 32-bit PVH
//! entry point, and the kernel's other Xen ELF notes.
//!
//! Two inputs are accepted:
//! * a plain ELF64 `vmlinux` (x86_64, `ET_EXEC`);
//! * an x86 **bzImage** (`/boot/vmlinuz-*`), whose payload is that same ELF
//!   compressed with gzip, xz (Debian generic), LZ4 (Debian cloud) or zstd.
//!   bzip2, lzma and lzo payloads are recognised and reported as unsupported.
//!
//! Like Xen's toolstack, we never run the bzImage's own decompressor: it
//! expects the native boot protocol. We decompress the payload here and load
//! the ELF it contains, which is what carries the PVH entry note.
//!
//! Input is untrusted; every malformation is a [`LoadError`], never a panic.

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

mod bytes;
mod bzimage;
mod decompress;
mod elf;
mod error;
mod notes;

use alloc::borrow::Cow;
use alloc::vec::Vec;

pub use error::LoadError;
pub use notes::{Phys32Reloc, XenNotes};

/// Upper bound on both the decompressed ELF file and the memory its segments
/// occupy. Debian's 6.1 kernels need about 60 MiB; the bound stops a hostile
/// or corrupt file from exhausting the hypervisor heap.
pub const MAX_KERNEL_BYTES: usize = 256 << 20;

/// A kernel ready to be placed in a PVH domain's physical memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelImage {
    /// The `PT_LOAD` segments, sorted by physical address, non-overlapping.
    pub segments: Vec<Segment>,
    /// The vmlinux ELF file the segments' bytes are in (decompressed from a
    /// bzImage): kept whole, so loading copies the kernel only once, into
    /// the guest.
    pub elf: Vec<u8>,
    /// Where the vCPU starts, in 32-bit protected mode with paging off
    /// (`XEN_ELFNOTE_PHYS32_ENTRY`). Always inside a segment's file bytes.
    pub pvh_entry: u32,
    /// Every Xen note the kernel carries, for the builder and for display.
    pub notes: XenNotes,
}

/// One piece of the kernel to copy into guest-physical memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Guest-physical load address (`p_paddr`, not `p_vaddr`).
    pub paddr: u64,
    /// Where the segment's bytes are in [`KernelImage::elf`].
    pub file_offset: usize,
    /// How many bytes come from the file.
    pub file_size: usize,
    /// Bytes the segment occupies in memory, `>= file_size`; the rest (bss)
    /// must be zero.
    pub mem_size: u64,
}

impl Segment {
    /// Whether `paddr` falls on one of the bytes copied from the file.
    fn contains_file_byte(&self, paddr: u32) -> bool {
        let offset = u64::from(paddr).wrapping_sub(self.paddr);
        u64::from(paddr) >= self.paddr && offset < self.file_size as u64
    }
}

impl KernelImage {
    /// The file bytes of `segment` (validated at load: inside `elf`).
    pub fn data(&self, segment: &Segment) -> &[u8] {
        &self.elf[segment.file_offset..segment.file_offset + segment.file_size]
    }
}

/// Helpers that may do parts of a decompression at once (the hypervisor's
/// other CPUs): [`Workers::run`] calls every task once, in any order and on
/// any CPU, and returns when all have returned. LZ4's independent blocks
/// are decoded this way.
pub trait Workers {
    fn run(&self, tasks: &mut [&mut (dyn FnMut() + Send)]);
}

/// No helpers: the tasks one after the other, here.
pub struct OneCpu;

impl Workers for OneCpu {
    fn run(&self, tasks: &mut [&mut (dyn FnMut() + Send)]) {
        for task in tasks {
            task();
        }
    }
}

/// Loads a kernel file: an ELF `vmlinux` or a bzImage.
pub fn load(bytes: &[u8]) -> Result<KernelImage, LoadError> {
    load_with(bytes, &OneCpu)
}

/// [`load`], with `workers` to share the decompression.
pub fn load_with(bytes: &[u8], workers: &dyn Workers) -> Result<KernelImage, LoadError> {
    let vmlinux = extract_vmlinux_with(bytes, workers)?.into_owned();
    elf::parse(vmlinux)
}

/// How a kernel file holds its `vmlinux`, for messages and timings: `elf`
/// (a vmlinux itself), the compression of a bzImage's payload (`xz`, `lz4`,
/// `none`, …), or `unknown`.
pub fn packing(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(elf::ELF_MAGIC) {
        return "elf";
    }
    if !bzimage::is_bzimage(bytes) {
        return "unknown";
    }
    bzimage::payload(bytes)
        .ok()
        .and_then(decompress::Compression::detect)
        .map_or("unknown", decompress::Compression::name)
}

/// Returns the `vmlinux` ELF file inside a kernel file: the file itself if it
/// is already ELF, else the decompressed bzImage payload. Useful for tools
/// that want to inspect the ELF (and to time decompression on its own).
pub fn extract_vmlinux(bytes: &[u8]) -> Result<Cow<'_, [u8]>, LoadError> {
    extract_vmlinux_with(bytes, &OneCpu)
}

/// [`extract_vmlinux`], with `workers` to share the decompression.
pub fn extract_vmlinux_with<'a>(
    bytes: &'a [u8],
    workers: &dyn Workers,
) -> Result<Cow<'a, [u8]>, LoadError> {
    if bytes.starts_with(elf::ELF_MAGIC) {
        return Ok(Cow::Borrowed(bytes));
    }
    if !bzimage::is_bzimage(bytes) {
        return Err(LoadError::NotAKernel);
    }
    let vmlinux = decompress::decompress(bzimage::payload(bytes)?, workers)?;
    if !vmlinux.starts_with(elf::ELF_MAGIC) {
        return Err(LoadError::BadElf(
            "the decompressed bzImage payload is not an ELF file",
        ));
    }
    Ok(vmlinux)
}
