//! The test guests' initramfs: busybox, guest-probe and an `/init` script
//! that does what `rxen.test=ACTION` on the kernel command line asks.
//!
//! The archive is plain (uncompressed) newc cpio, which the kernel unpacks
//! without a decompressor, quickly even under emulation. It is cached as
//! `target/guest-cache/rxen-initramfs-<hash>.cpio`, named by the hash of its
//! contents, and rewritten only when busybox, guest-probe or `/init` change.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, ensure, Context, Result};

use crate::cpio::CpioWriter;
use crate::prereq::GUEST_TOOLS_TARGET;
use crate::{cargo, content_hash, guest_cache_dir, target_dir, workspace_root};

/// Debian's busybox-static puts its binary here.
const BUSYBOX: &str = "/bin/busybox";

/// Applets linked in /bin (all to busybox).
const APPLETS: &[&str] = &[
    "sh", "ash", "mount", "umount", "echo", "cat", "sleep", "poweroff", "reboot", "halt", "nproc",
    "grep", "sed", "ls", "dmesg", "mkdir", "uname", "ps", "head", "tail", "tr", "cut", "wc",
    "true", "false", "test", "[", "date", "free", "env", "sync", "kill", "ln", "rm", "cp",
];

/// `/init`: the tests rely on its `RXEN-…` lines.
///
/// `rxen.test` contains a dot, so the kernel treats it as a module parameter
/// and does not pass it to init: it is read from /proc/cmdline.
pub const INIT_SCRIPT: &str = r#"#!/bin/sh
# rxen test guest init: see harness/src/initramfs.rs
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

action=marker
for opt in $(cat /proc/cmdline); do
    case "$opt" in
        rxen.test=*) action="${opt#rxen.test=}" ;;
    esac
done

/bin/guest-probe domid
echo "RXEN-HYPERVISOR-TYPE $(cat /sys/hypervisor/type 2>/dev/null || echo none)"

uptime_now() {
    read -r up idle < /proc/uptime
    echo "$up"
}

case "$action" in
    marker) ;;
    crash)
        echo c > /proc/sysrq-trigger
        ;;
    time)
        echo "RXEN-UPTIME-START $(uptime_now)"
        sleep 10
        echo "RXEN-UPTIME-END $(uptime_now)"
        ;;
    sleep=*)
        sleep "${action#sleep=}"
        echo "RXEN-SLEPT"
        ;;
    reboot)
        reboot -f
        ;;
    nproc)
        echo "RXEN-NPROC $(nproc 2>/dev/null || grep -c ^processor /proc/cpuinfo)"
        ;;
    *)
        echo "RXEN-UNKNOWN-TEST"
        ;;
esac

poweroff -f
# Only reached if the power-off failed: init must not exit (that panics).
echo "RXEN-POWEROFF-FAILED"
while true; do sleep 1000; done
"#;

/// Builds (or finds cached) the initramfs and returns its path.
pub fn build_initramfs() -> Result<PathBuf> {
    let busybox = read_static_busybox()?;
    let probe_path = build_guest_probe()?;
    let probe =
        fs::read(&probe_path).with_context(|| format!("reading {}", probe_path.display()))?;
    let archive = initramfs_archive(&busybox, &probe);
    let path = guest_cache_dir().join(format!(
        "rxen-initramfs-{:016x}.cpio",
        content_hash(&archive)
    ));
    if path.is_file() {
        return Ok(path);
    }
    eprintln!(
        "xtask: writing the guest initramfs {} ({} KiB) ...",
        path.display(),
        archive.len() / 1024
    );
    write_replacing_old_archives(&path, &archive)?;
    Ok(path)
}

/// The archive: directories, busybox and its applet links, guest-probe,
/// a /dev/console node (for the kernel's first console, before devtmpfs)
/// and /init.
fn initramfs_archive(busybox: &[u8], probe: &[u8]) -> Vec<u8> {
    let mut cpio = CpioWriter::new();
    for dir in ["bin", "dev", "proc", "sys", "tmp", "etc", "root"] {
        cpio.dir(dir, 0o755);
    }
    cpio.char_dev("dev/console", 0o600, 5, 1);
    cpio.file("bin/busybox", 0o755, busybox);
    for applet in APPLETS {
        cpio.symlink(&format!("bin/{applet}"), "busybox");
    }
    cpio.file("bin/guest-probe", 0o755, probe);
    cpio.file("init", 0o755, INIT_SCRIPT.as_bytes());
    cpio.finish()
}

/// Writes `path` (through a temporary file) and removes older archives.
fn write_replacing_old_archives(path: &Path, archive: &[u8]) -> Result<()> {
    let dir = path.parent().expect("a file in the cache");
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for entry in fs::read_dir(dir)? {
        let old = entry?.path();
        let name = old.file_name().unwrap_or_default().to_string_lossy();
        if name.starts_with("rxen-initramfs-") && name.ends_with(".cpio") {
            let _ = fs::remove_file(&old);
        }
    }
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    fs::write(&tmp, archive).with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))
}

/// Reads /bin/busybox and checks that it is statically linked (a dynamic
/// one would find no libc in the initramfs).
fn read_static_busybox() -> Result<Vec<u8>> {
    let busybox = fs::read(BUSYBOX)
        .with_context(|| format!("reading {BUSYBOX}: install Debian's busybox-static"))?;
    match elf_has_interpreter(&busybox) {
        Some(false) => Ok(busybox),
        Some(true) => bail!("{BUSYBOX} is dynamically linked: install Debian's busybox-static"),
        None => bail!("{BUSYBOX} is not a 64-bit ELF executable"),
    }
}

/// Whether a 64-bit little-endian ELF has a PT_INTERP program header
/// (that is, needs a dynamic loader); `None` if it is no such ELF.
fn elf_has_interpreter(elf: &[u8]) -> Option<bool> {
    const PT_INTERP: u32 = 3;
    if elf.len() < 64 || &elf[..4] != b"\x7fELF" || elf[4] != 2 || elf[5] != 1 {
        return None;
    }
    let u16_at = |at: usize| Some(u16::from_le_bytes(elf.get(at..at + 2)?.try_into().ok()?));
    let phoff = usize::try_from(u64::from_le_bytes(elf[32..40].try_into().ok()?)).ok()?;
    let (phentsize, phnum) = (usize::from(u16_at(54)?), usize::from(u16_at(56)?));
    for i in 0..phnum {
        let at = phoff.checked_add(i.checked_mul(phentsize)?)?;
        let p_type = u32::from_le_bytes(elf.get(at..at + 4)?.try_into().ok()?);
        if p_type == PT_INTERP {
            return Some(true);
        }
    }
    Some(false)
}

/// Builds `tools/guest-probe` as a static musl binary and returns its path.
///
/// `RUSTFLAGS` is removed for the same reason as for the hypervisor: it
/// would also change (and rebuild) everything else. The binary is stripped.
pub fn build_guest_probe() -> Result<PathBuf> {
    eprintln!("xtask: building guest-probe (cargo build --release -p rxen-guest-probe --target {GUEST_TOOLS_TARGET}) ...");
    let status = cargo()
        .current_dir(workspace_root())
        .args([
            "build",
            "--release",
            "-p",
            "rxen-guest-probe",
            "--target",
            GUEST_TOOLS_TARGET,
        ])
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        // The workspace's release profile keeps debug info (for the
        // hypervisor's stack traces); in the initramfs it is dead weight.
        .env("CARGO_PROFILE_RELEASE_DEBUG", "0")
        .env("CARGO_PROFILE_RELEASE_STRIP", "true")
        .status()
        .context("running cargo")?;
    ensure!(
        status.success(),
        "cargo build -p rxen-guest-probe failed ({status})"
    );
    let binary = target_dir()
        .join(GUEST_TOOLS_TARGET)
        .join("release")
        .join("guest-probe");
    ensure!(
        binary.is_file(),
        "cargo succeeded but {} is missing",
        binary.display()
    );
    ensure!(
        elf_has_interpreter(&fs::read(&binary)?) == Some(false),
        "{} is not a static executable",
        binary.display()
    );
    Ok(binary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_script_markers() {
        for needle in [
            "mount -t devtmpfs",
            "rxen.test=*",
            "/bin/guest-probe domid",
            "RXEN-HYPERVISOR-TYPE $(cat /sys/hypervisor/type",
            "echo c > /proc/sysrq-trigger",
            "RXEN-UPTIME-START",
            "RXEN-UPTIME-END",
            "RXEN-SLEPT",
            "RXEN-NPROC",
            "RXEN-UNKNOWN-TEST",
            "poweroff -f",
        ] {
            assert!(INIT_SCRIPT.contains(needle), "{needle}");
        }
        assert!(INIT_SCRIPT.starts_with("#!/bin/sh\n"));
    }

    #[test]
    fn archive_is_deterministic_and_has_init() {
        let a = initramfs_archive(b"busybox", b"probe");
        assert_eq!(a, initramfs_archive(b"busybox", b"probe"));
        assert!(a.windows(5).any(|w| w == b"init\0"));
        assert_ne!(
            content_hash(&a),
            content_hash(&initramfs_archive(b"busybox2", b"probe"))
        );
    }

    #[test]
    fn static_and_dynamic_elves() {
        // A minimal ELF64 header with one program header of type `p_type`.
        let elf = |p_type: u32| {
            let mut e = vec![0u8; 64 + 56];
            e[..6].copy_from_slice(b"\x7fELF\x02\x01");
            e[32..40].copy_from_slice(&64u64.to_le_bytes());
            e[54..56].copy_from_slice(&56u16.to_le_bytes());
            e[56..58].copy_from_slice(&1u16.to_le_bytes());
            e[64..68].copy_from_slice(&p_type.to_le_bytes());
            e
        };
        assert_eq!(elf_has_interpreter(&elf(1)), Some(false));
        assert_eq!(elf_has_interpreter(&elf(3)), Some(true));
        assert_eq!(elf_has_interpreter(b"#!/bin/sh"), None);
    }
}
