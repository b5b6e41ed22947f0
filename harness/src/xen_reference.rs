//! Real Xen (Debian's `xen-hypervisor-4.17-amd64`) under the same QEMU, as
//! the reference rxen is measured against (`cargo xtask bench`).
//!
//! The package is downloaded with `apt-get download` into
//! `target/guest-cache/debs/` and its `boot/` unpacked into
//! `target/guest-cache/xen-hypervisor-4.17-amd64/`; nothing is installed
//! and the host's /boot is never touched. Xen ships as `xen-4.17-amd64.gz`:
//! GRUB loads it compressed, QEMU's `-kernel` (Multiboot1, ELF32) needs it
//! decompressed, so both are kept.
//!
//! Under QEMU's TCG, Xen needs a PVH dom0 (a PV dom0 crashes) and a PVH dom0
//! needs the emulated AMD IOMMU (`-device amd-iommu`); see
//! `../shared/docs/qemu-svm.md`.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, ensure, Context, Result};

use crate::debian::{deb_version, download_deb, unpacked_once};
use crate::iso::grub_mkrescue;
use crate::prereq::run_apt_as_root;
use crate::{target_dir, Boot, QemuConfig};

/// Debian 12's Xen hypervisor package.
pub const XEN_PACKAGE: &str = "xen-hypervisor-4.17-amd64";

/// Xen's command line: PVH dom0 (PV crashes under TCG), console on COM1.
pub const XEN_CMDLINE: &str = "dom0=pvh dom0_mem=512M console=com1 com1=115200,8n1";

/// QEMU arguments Xen needs beyond rxen's: the IOMMU a PVH dom0 requires.
pub const XEN_QEMU_ARGS: &[&str] = &["-device", "amd-iommu"];

/// An unpacked Xen hypervisor.
#[derive(Clone, Debug)]
pub struct XenHypervisor {
    pub package: String,
    /// Its Debian version, e.g. `4.17.7+13-g2445b30a44-0+deb12u1`.
    pub version: String,
    pub deb: PathBuf,
    /// `boot/xen-*.gz` as shipped (what GRUB loads).
    pub gz: PathBuf,
    /// The same, decompressed: a 32-bit ELF with a Multiboot1 header (what
    /// QEMU's `-kernel` loads).
    pub elf: PathBuf,
}

/// Fetches and unpacks Xen; cheap when cached. Runs `apt-get update` once
/// if apt does not know the package.
pub fn fetch_xen_hypervisor() -> Result<XenHypervisor> {
    if !apt_knows(XEN_PACKAGE)? {
        eprintln!(
            "xtask: apt does not know {XEN_PACKAGE}; updating the package lists (apt-get update) ..."
        );
        run_apt_as_root(&["update"])
            .with_context(|| format!("updating the package lists to find {XEN_PACKAGE}"))?;
        ensure!(
            apt_knows(XEN_PACKAGE)?,
            "apt knows no package {XEN_PACKAGE} (is Debian 12's main archive in the sources?)"
        );
    }
    let deb = download_deb(XEN_PACKAGE)
        .with_context(|| format!("cannot fetch the Debian package {XEN_PACKAGE}"))?;
    let version = deb_version(&deb, XEN_PACKAGE);
    let unpacked = unpacked_once(&deb, XEN_PACKAGE)?;
    let gz = find_xen_gz(&unpacked.join("boot"))?;
    let elf = unpacked.join(
        gz.file_stem()
            .map(|s| format!("{}.elf", s.to_string_lossy()))
            .unwrap_or_else(|| "xen.elf".into()),
    );
    if !elf.is_file() {
        gunzip(&gz, &elf)?;
    }
    Ok(XenHypervisor {
        package: XEN_PACKAGE.to_owned(),
        version,
        deb,
        gz,
        elf,
    })
}

fn apt_knows(package: &str) -> Result<bool> {
    let status = Command::new("apt-cache")
        .args(["show", package])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .context("running apt-cache")?;
    Ok(status.success())
}

/// `boot/xen-<version>.gz` (not the `.efi` or `.config` next to it).
fn find_xen_gz(boot: &Path) -> Result<PathBuf> {
    for entry in fs::read_dir(boot).with_context(|| format!("reading {}", boot.display()))? {
        let path = entry?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.starts_with("xen-") && name.ends_with(".gz") {
            return Ok(path);
        }
    }
    bail!("no xen-*.gz in {}", boot.display())
}

/// `gzip -dc FROM > TO`, through a scratch file renamed into place.
fn gunzip(from: &Path, to: &Path) -> Result<()> {
    let scratch = to.with_extension(format!("partial-{}", std::process::id()));
    let out = File::create(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    let status = Command::new("gzip")
        .arg("-dc")
        .arg(from)
        .stdout(out)
        .status()
        .context("running gzip")?;
    ensure!(
        status.success(),
        "gzip -dc {} failed ({status})",
        from.display()
    );
    fs::rename(&scratch, to)
        .with_context(|| format!("renaming {} to {}", scratch.display(), to.display()))
}

/// Xen's dom0: a kernel with its command line, and an initrd.
#[derive(Clone, Debug)]
pub struct XenDom0 {
    pub kernel: PathBuf,
    pub cmdline: String,
    pub initrd: PathBuf,
}

/// How QEMU starts Xen.
#[derive(Clone, Debug)]
pub enum XenLoader {
    /// `-kernel xen.elf -initrd "vmlinuz ARGS,initrd"`: QEMU's own
    /// Multiboot1 loader, the same firmware path as rxen's PVH boot.
    Multiboot,
    /// `-cdrom ISO`: GRUB with Multiboot2 (see [`build_xen_iso`]).
    Grub { iso: PathBuf },
}

/// The `grub.cfg` of [`build_xen_iso`]: `/boot/xen.gz`, `/boot/vmlinuz`,
/// `/boot/initrd`. GRUB 2 does not put the file name in a module's command
/// line, so dom0's command line is exactly `dom0_cmdline`.
pub fn xen_grub_cfg(xen_cmdline: &str, dom0_cmdline: &str) -> String {
    let mut cfg = String::from(
        "serial --unit=0 --speed=115200\n\
         terminal_input serial\n\
         terminal_output serial\n\
         set timeout=0\n\
         menuentry \"Xen (PVH dom0)\" {\n",
    );
    let _ = writeln!(cfg, "    multiboot2 /boot/xen.gz {xen_cmdline}");
    let _ = writeln!(cfg, "    module2 /boot/vmlinuz {dom0_cmdline}");
    cfg.push_str("    module2 /boot/initrd\n    boot\n}\n");
    cfg
}

/// A BIOS GRUB ISO at `out` booting Xen (compressed, as shipped) with `dom0`.
pub fn build_xen_iso(
    xen: &XenHypervisor,
    xen_cmdline: &str,
    dom0: &XenDom0,
    out: &Path,
) -> Result<()> {
    let stem = out.file_stem().unwrap_or("xen".as_ref());
    let staging = target_dir().join("iso-staging").join(stem);
    if staging.exists() {
        fs::remove_dir_all(&staging).with_context(|| format!("removing {}", staging.display()))?;
    }
    let boot = staging.join("boot");
    fs::create_dir_all(boot.join("grub"))?;
    for (from, name) in [
        (&xen.gz, "xen.gz"),
        (&dom0.kernel, "vmlinuz"),
        (&dom0.initrd, "initrd"),
    ] {
        fs::copy(from, boot.join(name)).with_context(|| format!("copying {}", from.display()))?;
    }
    fs::write(
        boot.join("grub/grub.cfg"),
        xen_grub_cfg(xen_cmdline, &dom0.cmdline),
    )?;
    grub_mkrescue(&staging, out)
}

/// QEMU's `-initrd` for Multiboot: comma-separated modules, each its path
/// and then its command line (Xen drops the first word, the path, because
/// the loader is not GRUB 2).
pub fn multiboot_modules_arg(dom0: &XenDom0) -> Result<String> {
    let (kernel, initrd) = (dom0.kernel.to_string_lossy(), dom0.initrd.to_string_lossy());
    for path in [&kernel, &initrd] {
        ensure!(
            !path.contains([',', ' ']),
            "{path}: QEMU's Multiboot loader cannot take a path with a comma or space"
        );
    }
    ensure!(
        !dom0.cmdline.contains(','),
        "dom0 command line {:?}: QEMU's Multiboot loader cannot take a comma",
        dom0.cmdline
    );
    let cmdline = dom0.cmdline.trim();
    Ok(if cmdline.is_empty() {
        format!("{kernel},{initrd}")
    } else {
        format!("{kernel} {cmdline},{initrd}")
    })
}

/// The QEMU run that boots `xen` with `dom0` (named `name`, default machine
/// settings of [`QemuConfig::new`]; the caller sets CPUs, memory, timeout).
/// With [`XenLoader::Grub`] the ISO carries both command lines and the
/// files; `xen_cmdline` and `dom0` are then not used.
pub fn xen_qemu_config(
    name: &str,
    xen: &XenHypervisor,
    xen_cmdline: &str,
    dom0: &XenDom0,
    loader: &XenLoader,
) -> Result<QemuConfig> {
    let mut extra: Vec<String> = XEN_QEMU_ARGS.iter().map(|s| (*s).to_owned()).collect();
    let cfg = match loader {
        XenLoader::Multiboot => {
            extra.extend(["-initrd".to_owned(), multiboot_modules_arg(dom0)?]);
            QemuConfig {
                // `-kernel`/`-append`: QEMU takes the Multiboot header.
                cmdline: xen_cmdline.to_owned(),
                ..QemuConfig::new(
                    name,
                    Boot::Pvh {
                        image: xen.elf.clone(),
                    },
                )
            }
        }
        XenLoader::Grub { iso } => QemuConfig::new(name, Boot::Iso { iso: iso.clone() }),
    };
    Ok(QemuConfig {
        extra_qemu_args: extra,
        ..cfg
    })
}

/// The QEMU run that boots Xen 4.17 ([`XEN_CMDLINE`]: PVH dom0 with
/// 512 MiB) with the toolstack dom0 of [`crate::prepare_dom0_assets`],
/// running `scenarios` (see [`crate::dom0_cmdline`]): QEMU's Multiboot
/// loader, [`crate::DOM0_CPU_MODEL`], 2 CPUs, 2 GiB, 10 minutes.
///
/// QEMU's `-initrd` separates modules with commas and reads `,,` as a
/// comma, so the commas of `rxen.dom0=a,b` are doubled.
pub fn xen_dom0_qemu_config(
    name: &str,
    xen: &XenHypervisor,
    assets: &crate::Dom0Assets,
    scenarios: &[&str],
) -> Result<QemuConfig> {
    let (kernel, initrd) = (
        assets.kernel.vmlinuz.to_string_lossy(),
        assets.initramfs.to_string_lossy(),
    );
    for path in [&kernel, &initrd] {
        ensure!(
            !path.contains([',', ' ']),
            "{path}: QEMU's Multiboot loader cannot take a path with a comma or space"
        );
    }
    let cmdline = crate::dom0_cmdline(scenarios, "").replace(',', ",,");
    let mut extra: Vec<String> = XEN_QEMU_ARGS.iter().map(|s| (*s).to_owned()).collect();
    extra.extend(["-initrd".to_owned(), format!("{kernel} {cmdline},{initrd}")]);
    Ok(QemuConfig {
        cmdline: XEN_CMDLINE.to_owned(),
        cpu: crate::DOM0_CPU_MODEL.to_owned(),
        smp: 2,
        memory_mib: 2048,
        timeout: std::time::Duration::from_secs(600),
        extra_qemu_args: extra,
        ..QemuConfig::new(
            name,
            Boot::Pvh {
                image: xen.elf.clone(),
            },
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dom0() -> XenDom0 {
        XenDom0 {
            kernel: "/c/vmlinuz-6.1".into(),
            cmdline: "console=hvc0 rxen.test=marker".into(),
            initrd: "/c/initrd.cpio".into(),
        }
    }

    #[test]
    fn grub_cfg_text() {
        let cfg = xen_grub_cfg("dom0=pvh console=com1", "console=hvc0");
        assert!(cfg.contains(
            "    multiboot2 /boot/xen.gz dom0=pvh console=com1\n    \
             module2 /boot/vmlinuz console=hvc0\n    \
             module2 /boot/initrd\n    \
             boot\n}\n"
        ));
        assert!(cfg.starts_with("serial --unit=0 --speed=115200\n"));
    }

    #[test]
    fn multiboot_modules() {
        assert_eq!(
            multiboot_modules_arg(&dom0()).unwrap(),
            "/c/vmlinuz-6.1 console=hvc0 rxen.test=marker,/c/initrd.cpio"
        );
        let bare = XenDom0 {
            cmdline: String::new(),
            ..dom0()
        };
        assert_eq!(
            multiboot_modules_arg(&bare).unwrap(),
            "/c/vmlinuz-6.1,/c/initrd.cpio"
        );
        let comma = XenDom0 {
            initrd: "/c/a,b".into(),
            ..dom0()
        };
        assert!(multiboot_modules_arg(&comma).is_err());
    }

    #[test]
    fn qemu_config_adds_the_iommu() {
        let xen = XenHypervisor {
            package: XEN_PACKAGE.into(),
            version: "4.17".into(),
            deb: "/c/x.deb".into(),
            gz: "/c/xen.gz".into(),
            elf: "/c/xen.elf".into(),
        };
        let cfg = xen_qemu_config("x", &xen, XEN_CMDLINE, &dom0(), &XenLoader::Multiboot).unwrap();
        assert_eq!(cfg.cmdline, XEN_CMDLINE);
        assert!(matches!(&cfg.boot, Boot::Pvh { image } if image == Path::new("/c/xen.elf")));
        assert_eq!(cfg.extra_qemu_args[..2], ["-device", "amd-iommu"]);
        assert_eq!(cfg.extra_qemu_args[2], "-initrd");
        let iso = XenLoader::Grub {
            iso: "/c/xen.iso".into(),
        };
        let cfg = xen_qemu_config("x", &xen, XEN_CMDLINE, &dom0(), &iso).unwrap();
        assert!(matches!(cfg.boot, Boot::Iso { .. }));
        assert_eq!(cfg.extra_qemu_args, ["-device", "amd-iommu"]);
    }
}
