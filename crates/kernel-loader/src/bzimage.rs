//! The x86 boot protocol wrapper ("bzImage") that distributions ship as
//! `/boot/vmlinuz-*`.
//!
//! A bzImage is real-mode setup code, then protected-mode code that would
//! decompress the kernel in place. A PVH loader skips both: since boot
//! protocol 2.08 the setup header says where the compressed `vmlinux` ELF
//! (the "payload") lies, so we can decompress it ourselves and load the ELF
//! directly, exactly as Xen's toolstack does.
//! Layout: Linux `Documentation/arch/x86/boot.rst`.

use crate::bytes::{to_usize, u16_at, u32_at, u8_at};
use crate::LoadError;

/// Offset of the `HdrS` magic in the setup header.
const HEADER_MAGIC_OFFSET: usize = 0x202;
const HEADER_MAGIC: [u8; 4] = *b"HdrS";
const SETUP_SECTS_OFFSET: usize = 0x1F1;
const VERSION_OFFSET: usize = 0x206;
const PAYLOAD_OFFSET_OFFSET: usize = 0x248;
const PAYLOAD_LENGTH_OFFSET: usize = 0x24C;
/// The first protocol version with `payload_offset`/`payload_length`.
const MIN_VERSION: u16 = 0x0208;
const SECTOR_SIZE: usize = 512;

/// Whether `bytes` starts with an x86 boot-protocol setup header.
pub(crate) fn is_bzimage(bytes: &[u8]) -> bool {
    bytes.get(HEADER_MAGIC_OFFSET..HEADER_MAGIC_OFFSET + 4) == Some(&HEADER_MAGIC[..])
}

/// Returns the compressed payload of a bzImage (including any trailing
/// uncompressed-size word the kernel build appends).
pub(crate) fn payload(bytes: &[u8]) -> Result<&[u8], LoadError> {
    let malformed = LoadError::BadBzImage;
    let version = u16_at(bytes, VERSION_OFFSET).ok_or(malformed("setup header is truncated"))?;
    if version < MIN_VERSION {
        return Err(malformed(
            "boot protocol is older than 2.08, so the payload cannot be located",
        ));
    }
    // A setup_sects of 0 means 4 for compatibility with ancient boot loaders.
    let setup_sects = match u8_at(bytes, SETUP_SECTS_OFFSET) {
        Some(0) => 4,
        Some(n) => usize::from(n),
        None => return Err(malformed("setup header is truncated")),
    };
    let field = |offset| {
        u32_at(bytes, offset)
            .and_then(to_usize)
            .ok_or(malformed("setup header is truncated"))
    };
    let payload_offset = field(PAYLOAD_OFFSET_OFFSET)?;
    let payload_length = field(PAYLOAD_LENGTH_OFFSET)?;
    // The payload offset is relative to the protected-mode code, which
    // follows the boot sector and the setup sectors.
    let start = (setup_sects + 1)
        .checked_mul(SECTOR_SIZE)
        .and_then(|pm_start| pm_start.checked_add(payload_offset))
        .ok_or(malformed("payload offset overflows"))?;
    let end = start
        .checked_add(payload_length)
        .ok_or(malformed("payload length overflows"))?;
    if payload_length == 0 {
        return Err(malformed("payload is empty"));
    }
    bytes.get(start..end).ok_or(malformed(
        "payload lies beyond the end of the file (truncated?)",
    ))
}
