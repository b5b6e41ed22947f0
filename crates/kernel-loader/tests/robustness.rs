//! Hostile and damaged input must give an error, never a panic.

mod common;

use common::*;
use proptest::prelude::*;
use rxen_kernel_loader::{load, LoadError};

#[test]
fn garbage_is_not_a_kernel() {
    for bytes in [&b""[..], b"\x7f", b"MZ\x90\0", &[0u8; 4096]] {
        assert_eq!(load(bytes).unwrap_err(), LoadError::NotAKernel);
    }
    assert_eq!(
        LoadError::NotAKernel.to_string(),
        "not a Linux kernel: no ELF or bzImage header"
    );
}

#[test]
fn an_old_boot_protocol_is_refused() {
    let elf = linux_like_elf();
    let mut image = bzimage(&elf, elf.len(), 27);
    image[0x206..0x208].copy_from_slice(&0x0207u16.to_le_bytes());
    assert!(matches!(load(&image), Err(LoadError::BadBzImage(_))));
}

/// Every truncation of every kind of kernel file fails cleanly.
#[test]
fn every_truncation_fails_cleanly() {
    for file in sample_kernels() {
        assert!(load(file).is_ok());
        // Cutting only the bytes after a bzImage payload is harmless.
        let harmless = if file.starts_with(b"\x7fELF") {
            0
        } else {
            BZIMAGE_TRAILER_LEN
        };
        for len in 0..file.len() - harmless {
            assert!(load(&file[..len]).is_err(), "prefix of {len} bytes loaded");
        }
    }
}

/// A truncated payload (the bzImage header still claiming the full length)
/// is detected rather than loaded as a partial kernel.
#[test]
fn a_truncated_payload_is_an_error() {
    let elf = linux_like_elf();
    for compressed in [lz4_legacy(&elf, 128), gzip(&elf), zstd(&elf), xz_bcj(&elf)] {
        for keep in [compressed.len() / 3, compressed.len() - 9] {
            let image = bzimage(&compressed[..keep], elf.len(), 27);
            assert!(load(&image).is_err(), "kept {keep} of {}", compressed.len());
        }
    }
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = load(&bytes);
    }

    #[test]
    fn random_bytes_after_an_elf_magic_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut bytes = b"\x7fELF\x02\x01\x01".to_vec();
        bytes.extend(tail);
        let _ = load(&bytes);
    }

    /// Flipping bytes anywhere in a valid file (headers, notes, compressed
    /// data) never panics.
    #[test]
    fn corrupted_kernels_never_panic(
        file in prop::sample::select(sample_kernels()),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut file = file.clone();
        for (index, value) in flips {
            let at = index.index(file.len());
            file[at] = value;
        }
        let _ = load(&file);
    }

    /// Corrupting only the ELF inside (so decompression succeeds) never panics.
    #[test]
    fn corrupted_elf_headers_never_panic(
        flips in proptest::collection::vec((0usize..256, any::<u8>()), 1..6),
    ) {
        let mut elf = linux_like_elf();
        for (at, value) in flips {
            elf[at] = value;
        }
        let _ = load(&elf);
        let _ = load(&bzimage(&lz4_legacy(&elf, 128), elf.len(), 27));
    }
}
