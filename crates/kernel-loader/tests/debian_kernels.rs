//! Loading the real Debian 6.1 kernels, if they have been downloaded into
//! `target/guest-cache/**/boot/vmlinuz-*` (the xtask does that).
//!
//! Absent kernels are skipped with a message, so a plain `cargo test` works
//! offline. Set `RXEN_REQUIRE_GUEST_KERNEL=1` to make absence a failure.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rxen_kernel_loader::{extract_vmlinux, load};

/// Linux's `LOAD_PHYSICAL_ADDR` on x86_64 (CONFIG_PHYSICAL_START).
const KERNEL_PADDR: u64 = 0x100_0000;

fn target_dir() -> PathBuf {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    dir.canonicalize().unwrap_or(dir)
}

/// All `boot/vmlinuz-*` files under the guest cache.
fn cached_kernels() -> Vec<PathBuf> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.parent().and_then(Path::file_name) == Some("boot".as_ref())
                && path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("vmlinuz-"))
            {
                found.push(path);
            }
        }
    }
    let mut found = Vec::new();
    walk(&target_dir().join("guest-cache"), &mut found);
    found.sort();
    found
}

/// The cached kernel of one Debian flavour, or `None` (after saying so).
fn find_kernel(flavour: &str, is_flavour: impl Fn(&str) -> bool) -> Option<PathBuf> {
    let found = cached_kernels().into_iter().find(|path| {
        path.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(&is_flavour)
    });
    if found.is_none() {
        let required = std::env::var("RXEN_REQUIRE_GUEST_KERNEL").is_ok_and(|v| v == "1");
        let message = format!(
            "no Debian {flavour} kernel under {}/guest-cache/**/boot/vmlinuz-*",
            target_dir().display()
        );
        assert!(!required, "{message} (RXEN_REQUIRE_GUEST_KERNEL=1)");
        eprintln!("SKIPPED: {message}");
    }
    found
}

/// The first bytes of the bzImage payload, to confirm which decoder ran.
fn payload_magic(file: &[u8]) -> &[u8] {
    let setup_sects = match file[0x1F1] {
        0 => 4,
        n => usize::from(n),
    };
    let offset = u32::from_le_bytes(file[0x248..0x24C].try_into().unwrap()) as usize;
    let start = (setup_sects + 1) * 512 + offset;
    &file[start..start + 4]
}

fn check_kernel(path: &Path, expected_magic: &[u8]) {
    let file = std::fs::read(path).unwrap();
    assert_eq!(payload_magic(&file), expected_magic, "{}", path.display());

    let started = Instant::now();
    let vmlinux = extract_vmlinux(&file).unwrap();
    let decompressed = started.elapsed();
    let started = Instant::now();
    let image = load(&file).unwrap();
    let loaded = started.elapsed();

    let profile = if cfg!(debug_assertions) {
        "debug build"
    } else {
        "release build"
    };
    eprintln!(
        "{}: {} -> {} bytes decompressed in {} ms, full load {} ms ({profile})",
        path.display(),
        file.len(),
        vmlinux.len(),
        decompressed.as_millis(),
        loaded.as_millis()
    );
    eprintln!("  PVH entry {:#x}", image.pvh_entry);
    for s in &image.segments {
        eprintln!(
            "  segment paddr {:#x} file {:#x} mem {:#x}",
            s.paddr, s.file_size, s.mem_size
        );
    }
    eprintln!("  notes {:x?}", image.notes);

    assert_ne!(image.pvh_entry, 0);
    assert_eq!(image.notes.phys32_entry, Some(u64::from(image.pvh_entry)));
    assert!((KERNEL_PADDR..KERNEL_PADDR + 0x100_0000).contains(&u64::from(image.pvh_entry)));
    assert_eq!(image.segments[0].paddr, KERNEL_PADDR);
    assert!(image.segments.len() >= 3);
    assert_eq!(image.notes.guest_os.as_deref(), Some("linux"));
}

#[test]
fn debian_cloud_kernel_lz4() {
    if let Some(path) = find_kernel("cloud (lz4)", |n| n.ends_with("-cloud-amd64")) {
        check_kernel(&path, &[0x02, 0x21, 0x4C, 0x18]);
    }
}

#[test]
fn debian_generic_kernel_xz() {
    let generic =
        |n: &str| n.ends_with("-amd64") && !n.ends_with("-cloud-amd64") && !n.contains("-rt-");
    if let Some(path) = find_kernel("generic (xz)", generic) {
        check_kernel(&path, &[0xFD, 0x37, 0x7A, 0x58]);
    }
}
