//! The dom0 initramfs: Debian 12's own, unmodified Xen 4.17 toolstack
//! (`xen-utils-4.17`, `xen-utils-common`, `xenstore-utils` and the libraries
//! they need) in a PVH dom0 running Debian's generic kernel.
//!
//! What goes in (a plain newc cpio, cached as
//! `target/guest-cache/rxen-dom0-initramfs-<hash>.cpio`):
//! * busybox-static as `/bin/busybox`, its applets linked where busybox
//!   would install them;
//! * the three toolstack packages at their Debian paths (without
//!   documentation, Python modules and the HVM firmware in
//!   `/usr/lib/xen-4.17/boot`), `/etc/default/xen` as the package's
//!   postinst would install it;
//! * the libraries the toolstack's ELF binaries need ([`rootfs`]): the
//!   closure of their `DT_NEEDED`, found in the unpacked library packages
//!   ([`packages`]), with the dynamic loader;
//! * the generic kernel's [`DOM0_MODULES`] and their dependencies
//!   ([`modules`]), with a `modules.dep`;
//! * the domU test assets `xl create` loads: the cloud kernel as
//!   `/var/lib/rxen/domu/vmlinuz`, the test initramfs as
//!   `/var/lib/rxen/domu/initrd.cpio`;
//! * the test guests' `guest-probe` as `/usr/bin/guest-probe`, for the
//!   control-domain fuzzer;
//! * `/init` ([`INIT_SCRIPT`]) and the scenarios it runs
//!   (`/etc/rxen/scenarios.sh`, [`SCENARIOS_SCRIPT`]).
//!
//! `/init` does what Debian's `/etc/init.d/xen` does (xenstored, then
//! `xen-init-dom0`, then xenconsoled), then runs the scenarios named by
//! `rxen.dom0=a,b=arg,…` on the kernel command line (see
//! [`dom0_cmdline`]) and powers off. Its `RXEN-…` lines are what tests
//! look for; see the scripts for the list.

mod elf;
mod modules;
mod packages;
mod rootfs;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, ensure, Context, Result};

pub use modules::DOM0_MODULES;
pub use packages::TOOLSTACK_PACKAGES;

use crate::cpio::CpioWriter;
use crate::debian::DebianKernel;
use crate::{content_hash, guest_assets, guest_cache_dir, prereq};
use rootfs::{host_is_elf, tree_library_closure, Node, Tree};

/// QEMU's CPU model for a machine whose dom0 runs the toolstack: without
/// AVX, glibc's AVX2 string functions in a nested dom0 die of SIGILL now
/// and then under QEMU 7.2 (see docs/qemu-svm.md); without MWAIT and
/// RDTSCP for Xen-style hypervisors.
pub const DOM0_CPU_MODEL: &str = "EPYC,-monitor,-rdtscp,-avx,-avx2,-fma,-f16c";

/// Where the domU kernel and initramfs sit in dom0.
pub const DOMU_KERNEL_PATH: &str = "/var/lib/rxen/domu/vmlinuz";
pub const DOMU_RAMDISK_PATH: &str = "/var/lib/rxen/domu/initrd.cpio";

/// Debian's busybox-static puts its binary here.
const BUSYBOX: &str = "/bin/busybox";

/// Paths of the toolstack packages that are not shipped: documentation,
/// Python (pygrub and the migration tools need an interpreter dom0 does not
/// have) and the HVM firmware and PV shim (a PVH domU needs neither).
const EXCLUDED: &[&str] = &[
    "usr/share/doc",
    "usr/share/man",
    "usr/share/lintian",
    "usr/share/bug",
    "usr/share/bash-completion",
    "usr/share/python3",
    "usr/lib/xen-4.17/lib/python",
    "usr/lib/xen-4.17/boot",
];

/// Toolstack binaries that must be there (the archive fails to build
/// otherwise); every other ELF file of the packages is shipped too.
const REQUIRED_BINARIES: &[&str] = &[
    "usr/lib/xen-4.17/bin/xl",
    "usr/lib/xen-4.17/bin/xen-init-dom0",
    "usr/lib/xen-4.17/bin/xenconsoled",
    "usr/lib/xen-4.17/bin/xenconsole",
    "usr/lib/xen-4.17/bin/xenstored",
    "usr/lib/xen-4.17/bin/oxenstored",
    "usr/lib/xen-4.17/bin/xentop",
    "usr/bin/xenstore-read",
    "usr/bin/xenstore-write",
    "usr/bin/xenstore-ls",
    "usr/bin/xenstore-list",
];

/// Directories the daemons and `xl` use (Debian creates some at install
/// time, some at boot; `/run` is the rootfs here, so they stay).
const STATE_DIRS: &[(&str, u32)] = &[
    ("run", 0o755),
    ("run/lock", 0o1777),
    ("run/xen", 0o700),
    ("run/xenstored", 0o755),
    ("run/rxen", 0o755),
    ("var/lib/xen", 0o755),
    ("var/lib/xen/dump", 0o755),
    ("var/lib/xenstored", 0o755),
    ("var/log/xen", 0o755),
    ("var/lib/rxen/domu", 0o755),
    ("tmp", 0o1777),
    ("root", 0o700),
    ("proc", 0o555),
    ("sys", 0o555),
    ("dev", 0o755),
    ("mnt", 0o755),
];

/// `/init` (see the file for its markers).
pub const INIT_SCRIPT: &str = include_str!("init.sh");
/// `/etc/rxen/scenarios.sh`: one shell function per scenario (the management
/// commands' ones, of `xl pause`, `vcpu-pin`, `sched-credit`, `mem-set`, …, from
/// manage.sh; the disks and networks ones from devices.sh; save and
/// migration from migrate.sh; images between Xen and rxen from interop.sh).
pub const SCENARIOS_SCRIPT: &str = concat!(
    include_str!("scenarios.sh"),
    include_str!("manage.sh"),
    include_str!("devices.sh"),
    include_str!("migrate.sh"),
    include_str!("interop.sh")
);

/// The dom0's kernel (Debian's generic one) and initramfs.
#[derive(Clone, Debug)]
pub struct Dom0Assets {
    pub kernel: DebianKernel,
    pub initramfs: PathBuf,
}

/// Fetches what is missing (toolstack packages, kernel, domU assets) and
/// builds the dom0 initramfs; idempotent, cheap when cached.
pub fn prepare_dom0_assets() -> Result<Dom0Assets> {
    eprintln!(
        "xtask: preparing the dom0 assets (generic kernel, Xen 4.17 toolstack initramfs) ..."
    );
    prereq::ensure_guest_prerequisites()?;
    let kernel = guest_assets::fetch_reference_kernel().context("fetching the generic kernel")?;
    let domu = guest_assets::prepare_guest_assets().context("preparing the domU assets")?;
    let packages = packages::fetch_toolstack()?;
    let modules = modules::dom0_modules(&kernel)?;
    let busybox = read_static_busybox()?;
    let applets = busybox_applets()?;
    // The control-domain fuzzer (`guest-probe fuzz-control`) runs in dom0.
    let probe = read(&crate::initramfs::build_guest_probe()?)?;

    eprintln!(
        "xtask: dom0 packages: {}",
        packages
            .iter()
            .map(|p| format!("{} {}", p.package, p.version))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut tree = Tree::default();
    for p in &packages {
        tree.add_package(&p.package, &p.root)?;
    }
    let toolstack: Vec<&str> = packages
        .iter()
        .filter(|p| p.toolstack)
        .map(|p| p.package.as_str())
        .collect();
    let shipped = toolstack_paths(&tree, &toolstack);
    for required in REQUIRED_BINARIES {
        ensure!(
            shipped.iter().any(|p| p == required),
            "the toolstack packages ({}) have no /{required}",
            toolstack.join(", ")
        );
    }
    let binaries: Vec<String> = shipped
        .iter()
        .filter(
            |p| matches!(tree.nodes.get(*p), Some(Node::File { host, .. }) if host_is_elf(host)),
        )
        .cloned()
        .collect();
    let libraries = tree_library_closure(&tree, &binaries)?;

    let mut archive = Archive::default();
    for (dir, mode) in STATE_DIRS {
        archive.dir(dir, *mode);
    }
    for path in shipped.iter().chain(&libraries) {
        archive.copy_from_tree(&tree, path)?;
    }
    let default_xen = "usr/share/xen-utils-common/default.xen";
    if let Some(Node::File { host, .. }) = tree.nodes.get(default_xen) {
        archive.file("etc/default/xen", 0o644, read(host)?);
    }
    for (path, bytes) in modules.files() {
        archive.file(&path, 0o644, bytes);
    }
    archive.file(
        "etc/rxen/scenarios.sh",
        0o644,
        SCENARIOS_SCRIPT.as_bytes().to_vec(),
    );
    for (path, text) in ETC_FILES {
        archive.file(path, 0o644, text.as_bytes().to_vec());
    }
    archive.symlink("var/run", "/run");
    archive.symlink("var/lock", "/run/lock");
    archive.char_dev("dev/console", 0o600, 5, 1);
    archive.file(
        DOMU_KERNEL_PATH.trim_start_matches('/'),
        0o644,
        read(&domu.cloud_kernel.vmlinuz)?,
    );
    let mut ramdisk = read(&domu.initramfs)?;
    ramdisk.extend_from_slice(&domu_overlay());
    archive.file(DOMU_RAMDISK_PATH.trim_start_matches('/'), 0o644, ramdisk);
    archive.file("bin/busybox", 0o755, busybox);
    archive.file("usr/bin/guest-probe", 0o755, probe);
    for applet in &applets {
        archive.symlink_if_free(applet, "/bin/busybox");
    }
    archive.file("init", 0o755, INIT_SCRIPT.as_bytes().to_vec());
    let bytes = archive.finish();

    let path = guest_cache_dir().join(format!(
        "rxen-dom0-initramfs-{:016x}.cpio",
        content_hash(&bytes)
    ));
    if !path.is_file() {
        eprintln!(
            "xtask: writing the dom0 initramfs {} ({} MiB: {} toolstack files, {} libraries, {} modules) ...",
            path.display(),
            bytes.len() >> 20,
            shipped.len(),
            libraries.len(),
            modules.modules.len()
        );
        write_replacing_old(&path, &bytes)?;
    }
    Ok(Dom0Assets {
        kernel,
        initramfs: path,
    })
}

/// dom0's kernel command line: its console, the scenarios `/init` runs
/// (`rxen.dom0=a,b=arg`; none: it powers off once the toolstack is up),
/// then `extra` (say `rxen.xenstored=c`).
pub fn dom0_cmdline(scenarios: &[&str], extra: &str) -> String {
    let mut cmdline = String::from("console=hvc0");
    if !scenarios.is_empty() {
        cmdline.push_str(" rxen.dom0=");
        cmdline.push_str(&scenarios.join(","));
    }
    let extra = extra.trim();
    if !extra.is_empty() {
        cmdline.push(' ');
        cmdline.push_str(extra);
    }
    cmdline
}

/// What the kernel runs when the toolstack asks a domU to power off
/// (`xl shutdown`: Xenstore `control/shutdown`, Linux's
/// `orderly_poweroff`). The test initramfs has no `/sbin/poweroff`, and
/// without one a running Linux ignores the request.
pub const DOMU_POWEROFF_SCRIPT: &str = "#!/bin/sh\n\
# Run by the kernel for a shutdown request from the toolstack.\n\
echo RXEN-DOMU-SHUTDOWN-REQUEST > /dev/console\n\
exec /bin/poweroff -f\n";

/// A second cpio archive appended to the domU test initramfs (Linux
/// unpacks concatenated archives in order): `/sbin/poweroff`
/// ([`DOMU_POWEROFF_SCRIPT`]).
fn domu_overlay() -> Vec<u8> {
    let mut cpio = CpioWriter::new();
    cpio.dir("sbin", 0o755);
    cpio.file("sbin/poweroff", 0o755, DOMU_POWEROFF_SCRIPT.as_bytes());
    cpio.finish()
}

/// Small files of `/etc`.
const ETC_FILES: &[(&str, &str)] = &[
    ("etc/hostname", "dom0\n"),
    ("etc/hosts", "127.0.0.1\tlocalhost\n127.0.1.1\tdom0\n"),
    ("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"),
    ("etc/group", "root:x:0:\ntty:x:5:\n"),
    ("etc/shells", "/bin/sh\n"),
    (
        "etc/profile",
        "export PATH=/usr/sbin:/usr/bin:/sbin:/bin\nPS1='dom0# '\n. /etc/rxen/scenarios.sh\n",
    ),
];

/// The paths of the toolstack packages that are shipped (everything but
/// [`EXCLUDED`]).
fn toolstack_paths(tree: &Tree, toolstack: &[&str]) -> Vec<String> {
    tree.nodes
        .keys()
        .filter(|path| toolstack.contains(&tree.owner[*path].as_str()))
        .filter(|path| {
            !EXCLUDED
                .iter()
                .any(|ex| *path == ex || path.starts_with(&format!("{ex}/")))
        })
        .cloned()
        .collect()
}

fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).with_context(|| format!("reading {}", path.display()))
}

/// The archive being built: entries by path, written in path order (a
/// directory before what it holds), missing parent directories added.
#[derive(Default)]
struct Archive {
    entries: BTreeMap<String, Entry>,
}

enum Entry {
    Dir(u32),
    File(u32, Vec<u8>),
    Symlink(String),
    CharDev(u32, u32, u32),
}

impl Archive {
    fn dir(&mut self, path: &str, mode: u32) {
        self.entries.insert(path.to_owned(), Entry::Dir(mode));
    }

    fn file(&mut self, path: &str, mode: u32, bytes: Vec<u8>) {
        self.entries
            .insert(path.to_owned(), Entry::File(mode, bytes));
    }

    fn symlink(&mut self, path: &str, target: &str) {
        self.entries
            .insert(path.to_owned(), Entry::Symlink(target.to_owned()));
    }

    /// A busybox applet link, unless a real program (or anything) is there.
    fn symlink_if_free(&mut self, path: &str, target: &str) {
        self.entries
            .entry(path.to_owned())
            .or_insert_with(|| Entry::Symlink(target.to_owned()));
    }

    fn char_dev(&mut self, path: &str, mode: u32, major: u32, minor: u32) {
        self.entries
            .insert(path.to_owned(), Entry::CharDev(mode, major, minor));
    }

    /// Copies `path` of the unpacked packages (a file, link or directory).
    fn copy_from_tree(&mut self, tree: &Tree, path: &str) -> Result<()> {
        match tree.nodes.get(path) {
            Some(Node::Dir { mode }) => {
                // An explicit STATE_DIRS mode wins over the package's.
                self.entries
                    .entry(path.to_owned())
                    .or_insert(Entry::Dir(*mode));
            }
            Some(Node::File { host, mode }) => self.file(path, *mode, read(host)?),
            Some(Node::Symlink { target }) => self.symlink(path, target),
            None => bail!("/{path} is in no unpacked package"),
        }
        Ok(())
    }

    fn finish(mut self) -> Vec<u8> {
        let parents: Vec<String> = self
            .entries
            .keys()
            .flat_map(|path| {
                let mut dirs = Vec::new();
                let mut rest = path.as_str();
                while let Some((parent, _)) = rest.rsplit_once('/') {
                    dirs.push(parent.to_owned());
                    rest = parent;
                }
                dirs
            })
            .collect();
        for dir in parents {
            self.entries.entry(dir).or_insert(Entry::Dir(0o755));
        }
        let mut cpio = CpioWriter::new();
        for (path, entry) in &self.entries {
            match entry {
                Entry::Dir(mode) => cpio.dir(path, *mode),
                Entry::File(mode, bytes) => cpio.file(path, *mode, bytes),
                Entry::Symlink(target) => cpio.symlink(path, target),
                Entry::CharDev(mode, major, minor) => cpio.char_dev(path, *mode, *major, *minor),
            }
        }
        cpio.finish()
    }
}

/// Writes `path` (through a temporary file) and removes older dom0 archives.
fn write_replacing_old(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().expect("a file in the cache");
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for entry in fs::read_dir(dir)? {
        let old = entry?.path();
        let name = old.file_name().unwrap_or_default().to_string_lossy();
        if name.starts_with("rxen-dom0-initramfs-") && name.ends_with(".cpio") {
            let _ = fs::remove_file(&old);
        }
    }
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))
}

/// /bin/busybox, checked to be static (the toolstack's glibc is not what
/// busybox would need).
fn read_static_busybox() -> Result<Vec<u8>> {
    let bytes = read(Path::new(BUSYBOX)).context("install Debian's busybox-static")?;
    let info = elf::dynamic_info(&bytes).with_context(|| format!("reading {BUSYBOX}"))?;
    ensure!(
        info.interp.is_none(),
        "{BUSYBOX} is dynamically linked: install Debian's busybox-static"
    );
    Ok(bytes)
}

/// Where busybox installs its applets (`busybox --list-full`: `bin/sh`,
/// `sbin/insmod`, `usr/bin/awk`, …).
fn busybox_applets() -> Result<Vec<String>> {
    let out = Command::new(BUSYBOX)
        .arg("--list-full")
        .output()
        .with_context(|| format!("running {BUSYBOX} --list-full"))?;
    ensure!(
        out.status.success(),
        "{BUSYBOX} --list-full failed ({})",
        out.status
    );
    let applets: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| l.contains('/') && !l.starts_with('/'))
        .map(str::to_owned)
        .collect();
    ensure!(
        applets.iter().any(|a| a == "bin/sh"),
        "{BUSYBOX} has no sh applet"
    );
    Ok(applets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmdline() {
        assert_eq!(dom0_cmdline(&[], ""), "console=hvc0");
        assert_eq!(
            dom0_cmdline(
                &["info", "create=sleep=5", "rounds=3"],
                " rxen.xenstored=c "
            ),
            "console=hvc0 rxen.dom0=info,create=sleep=5,rounds=3 rxen.xenstored=c"
        );
        assert_eq!(dom0_cmdline(&["shell"], ""), "console=hvc0 rxen.dom0=shell");
    }

    #[test]
    fn init_markers() {
        for needle in [
            "RXEN-DOM0-INIT uptime=",
            "RXEN-DOM0-MODULES ok",
            "RXEN-DOM0-MODULES failed",
            "RXEN-DOM0-CAPABILITIES ",
            "RXEN-TOOLSTACK-UP uptime=",
            "RXEN-TOOLSTACK-FAILED ",
            "RXEN-SCENARIO-BEGIN ",
            "RXEN-SCENARIO-END ",
            "RXEN-DOM0-DONE",
            "poweroff -f",
            "mount -t xenfs xenfs /proc/xen",
            "/proc/cmdline",
            "rxen.dom0=",
            "rxen.xenstored=",
            "xenstore-read -s /",
            "xen-init-dom0",
            "xenconsoled",
            "/etc/rxen/modules",
            ". /etc/rxen/scenarios.sh",
            "cttyhack",
            "mount -t devpts",
        ] {
            assert!(INIT_SCRIPT.contains(needle), "init lacks {needle:?}");
        }
        assert!(INIT_SCRIPT.starts_with("#!/bin/sh\n"));
    }

    #[test]
    fn scenario_markers() {
        for needle in [
            "scenario_info()",
            "scenario_create()",
            "scenario_two()",
            "scenario_rounds()",
            "scenario_errors()",
            "scenario_destroy()",
            "scenario_shutdown()",
            "scenario_demo()",
            "RXEN-XL-INFO total_memory=",
            "RXEN-XL-LIST-DOM0 mem=",
            "RXEN-DOMU-CONSOLE ",
            "RXEN-XL-CREATE name=",
            "RXEN-XL-TWO ",
            "RXEN-XL-ROUND i=",
            "RXEN-XL-ROUND-AGAIN i=",
            "RXEN-XL-ERROR case=",
            "RXEN-XL-ERROR-AFTER marker=",
            "RXEN-XL-DESTROY gone=",
            "RXEN-XL-SHUTDOWN gone=",
            "RXEN-DOM0-CRASH ",
            "RXEN-XL-RETRY ",
            "xl_run()",
            "xl create -c",
            "xl console",
            "xl destroy",
            "xl shutdown -w",
            DOMU_KERNEL_PATH,
            DOMU_RAMDISK_PATH,
            "type = \"pvh\"",
            "on_poweroff = \"destroy\"",
            "extra = \"console=hvc0 ",
            "rxen.test=$action",
        ] {
            assert!(
                SCENARIOS_SCRIPT.contains(needle),
                "scenarios lack {needle:?}"
            );
        }
    }

    #[test]
    fn domu_overlay_is_a_cpio_with_poweroff() {
        let overlay = domu_overlay();
        assert!(overlay.starts_with(b"070701"));
        assert!(overlay.len().is_multiple_of(4));
        assert!(overlay.windows(14).any(|w| w == b"sbin/poweroff\0"));
        assert!(DOMU_POWEROFF_SCRIPT.starts_with("#!/bin/sh\n"));
        assert!(DOMU_POWEROFF_SCRIPT.contains("poweroff -f"));
    }

    #[test]
    fn archive_adds_parents_in_order() {
        let mut a = Archive::default();
        a.file("usr/lib/xen-4.17/bin/xl", 0o755, b"\x7fELF".to_vec());
        a.symlink("usr/sbin/xl", "../lib/xen-common/bin/xen-utils-wrapper");
        a.symlink_if_free("usr/sbin/xl", "/bin/busybox");
        a.symlink_if_free("bin/sh", "/bin/busybox");
        a.dir("run/xen", 0o700);
        let names: Vec<String> = a.entries.keys().cloned().collect();
        assert_eq!(names.len(), 4);
        let bytes = a.finish();
        let text = String::from_utf8_lossy(&bytes);
        let pos = |s: &str| {
            text.find(&format!("{s}\0"))
                .unwrap_or_else(|| panic!("{s} missing"))
        };
        assert!(pos("usr") < pos("usr/lib") && pos("usr/lib") < pos("usr/lib/xen-4.17/bin/xl"));
        assert!(pos("run") < pos("run/xen"));
        // The package's wrapper link, not busybox, is /usr/sbin/xl.
        assert!(text.contains("../lib/xen-common/bin/xen-utils-wrapper"));
        assert_eq!(bytes, {
            let mut b = Archive::default();
            b.file("usr/lib/xen-4.17/bin/xl", 0o755, b"\x7fELF".to_vec());
            b.symlink("usr/sbin/xl", "../lib/xen-common/bin/xen-utils-wrapper");
            b.symlink("bin/sh", "/bin/busybox");
            b.dir("run/xen", 0o700);
            b.finish()
        });
    }

    #[test]
    fn excluded_paths() {
        let mut tree = Tree::default();
        for (path, owner) in [
            (
                "usr/share/doc/xen-utils-4.17/changelog.gz",
                "xen-utils-4.17",
            ),
            ("usr/lib/xen-4.17/boot/hvmloader", "xen-utils-4.17"),
            ("usr/lib/xen-4.17/bin/xl", "xen-utils-4.17"),
            ("usr/lib/xen-4.17/bootstrap", "xen-utils-4.17"),
            ("lib/x86_64-linux-gnu/libc.so.6", "libc6"),
        ] {
            tree.nodes.insert(path.into(), Node::Dir { mode: 0o755 });
            tree.owner.insert(path.into(), owner.into());
        }
        assert_eq!(
            toolstack_paths(&tree, &["xen-utils-4.17"]),
            ["usr/lib/xen-4.17/bin/xl", "usr/lib/xen-4.17/bootstrap"]
        );
    }
}
