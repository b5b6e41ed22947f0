//! Everything a test guest needs on the host: the Debian cloud kernel and
//! the test initramfs, both cached under `target/guest-cache/`.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::debian::{
    fetch_debian_kernel, DebianKernel, CLOUD_KERNEL_PACKAGE, GENERIC_KERNEL_PACKAGE,
};
use crate::domains::{Placeholder, CLOUD_KERNEL_PLACEHOLDER, INITRAMFS_PLACEHOLDER};
use crate::initramfs::build_initramfs;
use crate::prereq::ensure_guest_prerequisites;

/// The kernel and initramfs test domains boot.
#[derive(Clone, Debug)]
pub struct GuestAssets {
    pub cloud_kernel: DebianKernel,
    pub initramfs: PathBuf,
}

impl GuestAssets {
    /// The placeholders domain configurations may use for these files.
    pub fn placeholders(&self) -> Vec<Placeholder> {
        vec![
            (CLOUD_KERNEL_PLACEHOLDER, self.cloud_kernel.vmlinuz.clone()),
            (INITRAMFS_PLACEHOLDER, self.initramfs.clone()),
        ]
    }
}

/// Installs what is missing, fetches the cloud kernel and builds the
/// initramfs; cheap when everything is cached.
pub fn prepare_guest_assets() -> Result<GuestAssets> {
    eprintln!("xtask: preparing the guest assets (Debian cloud kernel, test initramfs) ...");
    ensure_guest_prerequisites()?;
    let cloud_kernel = fetch_debian_kernel(CLOUD_KERNEL_PACKAGE)?;
    let initramfs = build_initramfs(&cloud_kernel).context("building the test initramfs")?;
    eprintln!(
        "xtask: guest kernel {} ({} {}), initramfs {}",
        cloud_kernel.vmlinuz.display(),
        cloud_kernel.package,
        cloud_kernel.version,
        initramfs.display()
    );
    Ok(GuestAssets {
        cloud_kernel,
        initramfs,
    })
}

/// The generic Debian kernel, for booting the same guests under real Xen.
pub fn fetch_reference_kernel() -> Result<DebianKernel> {
    fetch_debian_kernel(GENERIC_KERNEL_PACKAGE)
}
