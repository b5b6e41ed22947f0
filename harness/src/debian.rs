//! Fetching Debian's kernel packages for guests, without installing them.
//!
//! A meta-package such as `linux-image-cloud-amd64` depends on the real one
//! (`linux-image-6.1.0-NN-cloud-amd64`); we download that `.deb` into
//! `target/guest-cache/debs/` and unpack its `boot/` directory into
//! `target/guest-cache/<package>/`. The host's own /boot is never touched.
//! A second call finds the unpacked kernel and does nothing.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, ensure, Context, Result};

use crate::guest_cache_dir;
use crate::prereq::run_apt_as_root;

/// The PVH domU kernel: small, Xen guest drivers built in, LZ4 bzImage.
pub const CLOUD_KERNEL_PACKAGE: &str = "linux-image-cloud-amd64";
/// The generic kernel, for booting under real Xen as a reference.
pub const GENERIC_KERNEL_PACKAGE: &str = "linux-image-amd64";

/// An unpacked Debian kernel.
#[derive(Clone, Debug)]
pub struct DebianKernel {
    /// The real package, e.g. `linux-image-6.1.0-28-cloud-amd64`.
    pub package: String,
    /// Its Debian version, e.g. `6.1.119-1`.
    pub version: String,
    /// The downloaded `.deb`.
    pub deb: PathBuf,
    /// `boot/vmlinuz-*` inside the unpacked package.
    pub vmlinuz: PathBuf,
}

/// Fetches and unpacks the kernel that meta-package `meta` points at.
pub fn fetch_debian_kernel(meta: &str) -> Result<DebianKernel> {
    let package = resolve_kernel_package(meta)?;
    let deb = download_deb(&package)
        .with_context(|| format!("cannot fetch the Debian package {package} (from {meta})"))?;
    let version = deb_version(&deb, &package);
    let unpacked = unpacked_once(&deb, &package)?;
    let vmlinuz = find_vmlinuz(&unpacked.join("boot"))?;
    Ok(DebianKernel {
        package,
        version,
        deb,
        vmlinuz,
    })
}

/// `apt-cache depends META` → the `linux-image-*` package it depends on;
/// runs `apt-get update` once if apt knows nothing about `meta`.
fn resolve_kernel_package(meta: &str) -> Result<String> {
    if let Some(package) = kernel_dependency(meta)? {
        return Ok(package);
    }
    eprintln!("xtask: apt does not know {meta}; updating the package lists (apt-get update) ...");
    run_apt_as_root(&["update"])
        .with_context(|| format!("updating the package lists to find {meta}"))?;
    match kernel_dependency(meta)? {
        Some(package) => Ok(package),
        None => bail!(
            "cannot find the Debian package {meta} (apt-cache depends {meta} names no linux-image-* package); \
             is Debian's main archive in /etc/apt/sources.list?"
        ),
    }
}

fn kernel_dependency(meta: &str) -> Result<Option<String>> {
    let out = Command::new("apt-cache")
        .args(["depends", meta])
        .stderr(Stdio::null())
        .output()
        .context("running apt-cache")?;
    Ok(parse_kernel_dependency(&String::from_utf8_lossy(
        &out.stdout,
    )))
}

/// The first `Depends: linux-image-…` line of `apt-cache depends` output.
fn parse_kernel_dependency(output: &str) -> Option<String> {
    output
        .lines()
        .filter_map(|line| line.trim().strip_prefix("Depends:"))
        .map(str::trim)
        .find(|dep| dep.starts_with("linux-image-"))
        .map(str::to_owned)
}

/// `apt-get download PACKAGE` into `target/guest-cache/debs/`, unless a
/// `.deb` of that package is already there.
pub(crate) fn download_deb(package: &str) -> Result<PathBuf> {
    download_debs(&[package])?;
    let debs = guest_cache_dir().join("debs");
    find_deb(&debs, package)?
        .with_context(|| format!("apt-get download {package} succeeded but left no .deb"))
}

/// The packages of `packages` that have no `.deb` in
/// `target/guest-cache/debs/` yet, downloaded there by one `apt-get
/// download` (one run per package cost a fresh machine most of a minute
/// for dom0's fifty).
pub(crate) fn download_debs(packages: &[&str]) -> Result<()> {
    let debs = guest_cache_dir().join("debs");
    fs::create_dir_all(&debs).with_context(|| format!("creating {}", debs.display()))?;
    let mut missing = Vec::new();
    for p in packages {
        if find_deb(&debs, p)?.is_none() {
            missing.push(*p);
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!(
        "xtask: downloading {} (apt-get download) into {} ...",
        missing.join(" "),
        debs.display()
    );
    let status = Command::new("apt-get")
        .arg("download")
        .args(&missing)
        .current_dir(&debs)
        .stdin(Stdio::null())
        .stdout(Stdio::from(std::io::stderr()))
        .status()
        .context("running apt-get download")?;
    ensure!(
        status.success(),
        "`apt-get download {}` failed ({status})",
        missing.join(" ")
    );
    Ok(())
}

/// The `.deb` of `package` in `dir`, if one was downloaded there.
pub(crate) fn find_deb(dir: &Path, package: &str) -> Result<Option<PathBuf>> {
    let prefix = format!("{package}_");
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.starts_with(&prefix) && name.ends_with(".deb") {
            return Ok(Some(path));
        }
    }
    Ok(None)
}

/// The version from the file name `PACKAGE_VERSION_ARCH.deb` (apt writes
/// an epoch's `:` as `%3a`).
pub(crate) fn deb_version(deb: &Path, package: &str) -> String {
    let name = deb.file_name().unwrap_or_default().to_string_lossy();
    name.strip_prefix(&format!("{package}_"))
        .and_then(|rest| rest.split('_').next())
        .unwrap_or("unknown")
        .replace("%3a", ":")
}

/// `target/guest-cache/PACKAGE/`, holding the `boot/` of `deb`; unpacked
/// only the first time.
pub(crate) fn unpacked_once(deb: &Path, package: &str) -> Result<PathBuf> {
    let unpacked = guest_cache_dir().join(package);
    if !unpacked.join("boot").is_dir() {
        eprintln!(
            "xtask: unpacking boot/ of {} into {} ...",
            deb.display(),
            unpacked.display()
        );
        unpack_boot_dir(deb, &unpacked)?;
    }
    Ok(unpacked)
}

/// `dpkg-deb --fsys-tarfile DEB | tar -x ./boot`, into a scratch directory
/// renamed into place at the end, so an interrupted unpack is never taken
/// for a finished one.
pub(crate) fn unpack_boot_dir(deb: &Path, into: &Path) -> Result<()> {
    let scratch = into.with_extension(format!("unpacking-{}", std::process::id()));
    let _ = fs::remove_dir_all(&scratch);
    fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    extract_from_deb(deb, &scratch, "./boot", false)?;
    let _ = fs::remove_dir_all(into);
    fs::rename(&scratch, into)
        .with_context(|| format!("renaming {} to {}", scratch.display(), into.display()))
}

/// `dpkg-deb --fsys-tarfile DEB | tar -x [--wildcards] -C INTO MEMBER`.
pub(crate) fn extract_from_deb(
    deb: &Path,
    into: &Path,
    member: &str,
    wildcards: bool,
) -> Result<()> {
    let mut dpkg = Command::new("dpkg-deb")
        .arg("--fsys-tarfile")
        .arg(deb)
        .stdout(Stdio::piped())
        .spawn()
        .context("running dpkg-deb")?;
    let mut tar = Command::new("tar");
    tar.arg("-x");
    if wildcards {
        tar.arg("--wildcards");
    }
    let tar_status = tar
        .arg("-C")
        .arg(into)
        .arg(member)
        .stdin(dpkg.stdout.take().expect("piped stdout"))
        .status()
        .context("running tar")?;
    let dpkg_status = dpkg.wait()?;
    ensure!(
        dpkg_status.success() && tar_status.success(),
        "extracting {member} from {} failed (dpkg-deb {dpkg_status}, tar {tar_status})",
        deb.display()
    );
    Ok(())
}

fn find_vmlinuz(boot: &Path) -> Result<PathBuf> {
    for entry in fs::read_dir(boot).with_context(|| format!("reading {}", boot.display()))? {
        let path = entry?.path();
        if path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .starts_with("vmlinuz-")
        {
            return Ok(path);
        }
    }
    bail!("no vmlinuz-* in {}", boot.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependency_of_the_meta_package() {
        let out = "linux-image-cloud-amd64\n  Depends: linux-image-6.1.0-28-cloud-amd64\n";
        assert_eq!(
            parse_kernel_dependency(out).as_deref(),
            Some("linux-image-6.1.0-28-cloud-amd64")
        );
        assert_eq!(parse_kernel_dependency(""), None);
        assert_eq!(parse_kernel_dependency("x\n  Depends: libc6\n"), None);
    }

    #[test]
    fn version_from_the_file_name() {
        let deb = Path::new("/c/debs/linux-image-6.1.0-28-cloud-amd64_6.1.119-1_amd64.deb");
        assert_eq!(
            deb_version(deb, "linux-image-6.1.0-28-cloud-amd64"),
            "6.1.119-1"
        );
        let epoch = Path::new("/c/busybox-static_1%3a1.35.0-4_amd64.deb");
        assert_eq!(deb_version(epoch, "busybox-static"), "1:1.35.0-4");
    }
}
