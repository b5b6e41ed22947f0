//! Build rxen and boot it in QEMU.
//!
//! Shared by `cargo xtask` and the integration tests (`tests/`), so that a
//! developer's `cargo xtask run`, CI and the tests all build and boot the
//! hypervisor the same way.

mod boot_files;
mod control;
mod cpio;
mod debian;
mod dom0;
mod domains;
mod emulator;
mod guest_assets;
mod initramfs;
mod iso;
mod prereq;
mod pvh32;
mod qemu;
mod xen_reference;

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{ensure, Context, Result};

pub use boot_files::{dom0_assets_with_files, exported_in_memory};
pub use control::{dom0_boot_modules, rxen_dom0_qemu_config, DOM0_RXEN_OPTIONS};
pub use cpio::CpioWriter;
pub use debian::{fetch_debian_kernel, DebianKernel, CLOUD_KERNEL_PACKAGE, GENERIC_KERNEL_PACKAGE};
pub use dom0::{
    dom0_cmdline, prepare_dom0_assets, Dom0Assets, DOM0_CPU_MODEL, DOM0_MODULES, DOMU_KERNEL_PATH,
    DOMU_RAMDISK_PATH, TOOLSTACK_PACKAGES,
};
pub use domains::{
    boot_domains, domain_modules, test_data_dir, write_test_configs, Placeholder, TestDomain,
    CLOUD_KERNEL_PLACEHOLDER, INITRAMFS_PLACEHOLDER,
};
pub use emulator::{backports_qemu, Emulator};
pub use guest_assets::{fetch_reference_kernel, prepare_guest_assets, GuestAssets};
pub use initramfs::{build_guest_probe, build_initramfs, INIT_SCRIPT};
pub use initramfs::{init_script, FUZZ_CALLS, FUZZ_SECONDS};
pub use iso::{build_iso, grub_cfg};
pub use prereq::{ensure_guest_prerequisites, ensure_prerequisites, GUEST_TOOLS_TARGET};
pub use pvh32::{pvh32_test_kernel, PVH32_MARKER};
pub use qemu::{qemu_args, run_qemu, Boot, Exit, Module, QemuConfig, RunResult, SerialInput};
pub use xen_reference::{
    build_xen_iso, fetch_xen_hypervisor, multiboot_modules_arg, xen_dom0_qemu_config, xen_grub_cfg,
    xen_qemu_config, XenDom0, XenHypervisor, XenLoader, XEN_CMDLINE, XEN_PACKAGE, XEN_QEMU_ARGS,
};

/// The bare-metal target the hypervisor is built for.
pub const HYPERVISOR_TARGET: &str = "x86_64-unknown-none";

/// The root of the cargo workspace (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("harness/ sits inside the workspace")
        .to_path_buf()
}

/// Cargo's target directory: `CARGO_TARGET_DIR` if set, else `<root>/target`.
pub fn target_dir() -> PathBuf {
    env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// The directory that keeps QEMU logs (and PVH module bundles) of every run.
pub fn log_dir() -> PathBuf {
    target_dir().join("qemu-logs")
}

/// Where fetched kernels and built initramfs images are kept.
pub fn guest_cache_dir() -> PathBuf {
    target_dir().join("guest-cache")
}

/// The demo domain configurations (`configs/demo/*.cfg`), in name order.
pub fn demo_configs() -> Result<Vec<PathBuf>> {
    let dir = workspace_root().join("configs").join("demo");
    let mut configs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    configs.retain(|p| p.extension().is_some_and(|e| e == "cfg"));
    configs.sort();
    Ok(configs)
}

/// FNV-1a (64-bit): a stable hash for naming cached files by their contents.
pub(crate) fn content_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The `cargo` that runs us (so a `+toolchain` override carries over).
pub(crate) fn cargo() -> Command {
    Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Builds the hypervisor image (release) and returns the path of the ELF.
///
/// `RUSTFLAGS` (and its encoded form) are removed because either would
/// replace the target's rustflags in `.cargo/config.toml`, which the image
/// needs (static relocation model, frame pointers). Cargo makes this cheap
/// when nothing changed.
pub fn build_hypervisor() -> Result<PathBuf> {
    let root = workspace_root();
    eprintln!("xtask: building the hypervisor (cargo build --release -p rxen --target {HYPERVISOR_TARGET}) ...");
    let status = cargo()
        .current_dir(&root)
        .args([
            "build",
            "--release",
            "-p",
            "rxen",
            "--target",
            HYPERVISOR_TARGET,
        ])
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .status()
        .context("running cargo")?;
    ensure!(status.success(), "cargo build -p rxen failed ({status})");
    let image = target_dir()
        .join(HYPERVISOR_TARGET)
        .join("release")
        .join("rxen");
    ensure!(
        image.is_file(),
        "cargo succeeded but {} is missing",
        image.display()
    );
    Ok(image)
}
