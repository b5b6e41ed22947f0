//! Decompressing a bzImage payload back into the `vmlinux` ELF file.
//!
//! Linux builds can compress the payload with any of seven formats; we
//! recognise all of them by their magic bytes (as Linux's own
//! `lib/decompress.c` does) so an unsupported one is reported by name
//! rather than as "garbage".

mod gzip;
mod lz4;
mod output;
mod xz;
mod zstd;

use crate::LoadError;
use alloc::borrow::Cow;
use output::Output;

/// The compression formats a Linux bzImage payload may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    /// `CONFIG_KERNEL_UNCOMPRESSED`: the payload is the ELF itself.
    None,
    Gzip,
    Xz,
    Lz4Legacy,
    Zstd,
    Lzma,
    Bzip2,
    Lzo,
}

impl Compression {
    /// Identifies the format from the first bytes of the payload.
    pub(crate) fn detect(payload: &[u8]) -> Option<Self> {
        let table: [(&[u8], Self); 8] = [
            (b"\x7fELF", Self::None),
            (&[0x1F, 0x8B], Self::Gzip),
            (&[0xFD, b'7', b'z', b'X', b'Z', 0x00], Self::Xz),
            (&[0x02, 0x21, 0x4C, 0x18], Self::Lz4Legacy),
            (&[0x28, 0xB5, 0x2F, 0xFD], Self::Zstd),
            // The .lzma ("alone") header begins with the properties byte,
            // which is 0x5D for every preset the kernel build uses.
            (&[0x5D, 0x00, 0x00], Self::Lzma),
            (b"BZh", Self::Bzip2),
            (&[0x89, b'L', b'Z', b'O'], Self::Lzo),
        ];
        table
            .into_iter()
            .find(|(magic, _)| payload.starts_with(magic))
            .map(|(_, format)| format)
    }

    /// The name users know the format by.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Gzip => "gzip",
            Self::Xz => "xz",
            Self::Lz4Legacy => "lz4",
            Self::Zstd => "zstd",
            Self::Lzma => "lzma",
            Self::Bzip2 => "bzip2",
            Self::Lzo => "lzo",
        }
    }
}

/// Decompresses a bzImage payload. Borrows when the payload is uncompressed.
pub(crate) fn decompress<'a>(
    payload: &'a [u8],
    workers: &dyn crate::Workers,
) -> Result<Cow<'a, [u8]>, LoadError> {
    let format = Compression::detect(payload).ok_or(LoadError::BadBzImage(
        "the payload is neither an ELF file nor in a known compression format",
    ))?;
    let out = || Output::with_size_hint(size_hint(payload));
    let elf = match format {
        Compression::None => return Ok(Cow::Borrowed(payload)),
        Compression::Gzip => gzip::decompress(payload)?,
        Compression::Xz => xz::decompress(payload, out())?,
        Compression::Lz4Legacy => lz4::decompress(payload, size_hint(payload), out, workers)?,
        Compression::Zstd => zstd::decompress(payload, out())?,
        Compression::Lzma | Compression::Bzip2 | Compression::Lzo => {
            return Err(LoadError::UnsupportedCompression(format.name()))
        }
    };
    Ok(Cow::Owned(elf))
}

/// The kernel build appends the uncompressed size as a little-endian u32 to
/// every payload (gzip's ISIZE serves the same purpose). It is only a hint —
/// it lets us allocate once instead of growing and copying tens of MiB, which
/// matters when this runs inside the hypervisor — and is never trusted.
fn size_hint(payload: &[u8]) -> usize {
    payload
        .len()
        .checked_sub(4)
        .and_then(|at| crate::bytes::u32_at(payload, at))
        .and_then(crate::bytes::to_usize)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_format_by_magic() {
        let cases: [(&[u8], Compression); 8] = [
            (b"\x7fELF\x02", Compression::None),
            (&[0x1F, 0x8B, 8, 0], Compression::Gzip),
            (&[0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00, 0], Compression::Xz),
            (&[0x02, 0x21, 0x4C, 0x18, 0], Compression::Lz4Legacy),
            (&[0x28, 0xB5, 0x2F, 0xFD], Compression::Zstd),
            (&[0x5D, 0, 0, 0x80, 0], Compression::Lzma),
            (b"BZh91AY", Compression::Bzip2),
            (&[0x89, 0x4C, 0x5A, 0x4F, 0], Compression::Lzo),
        ];
        for (bytes, format) in cases {
            assert_eq!(Compression::detect(bytes), Some(format));
        }
        assert_eq!(Compression::detect(b"junk"), None);
    }

    #[test]
    fn unsupported_formats_are_reported_by_name() {
        assert_eq!(
            decompress(b"BZh91AY&SY", &crate::OneCpu).unwrap_err(),
            LoadError::UnsupportedCompression("bzip2")
        );
        assert_eq!(
            decompress(&[0x89, b'L', b'Z', b'O', 0, 0], &crate::OneCpu).unwrap_err(),
            LoadError::UnsupportedCompression("lzo")
        );
    }
}
