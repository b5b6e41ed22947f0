//! Which QEMU runs a machine: Debian 12's own (7.2, `qemu-system-x86_64` on
//! PATH), the default and what every test and benchmark uses, or QEMU 10.0
//! from Debian's bookworm-backports, fetched with `apt-get download` into
//! `target/guest-cache/` and unpacked there, never installed.
//!
//! The second one is for investigations (`RXEN_QEMU=backports` in the
//! examples): a fault that shows up under both emulators' nested SVM is
//! more likely ours than QEMU's. It is not a way around QEMU 7.2's
//! troubles: Xen's dom0 does not start under 10.0, and the faults seen
//! with many toolstack domains in one boot came under both (docs/design.md).

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{ensure, Context, Result};

use crate::debian::{deb_version, extract_from_deb, find_deb};
use crate::guest_cache_dir;

/// The suite and packages of the newer QEMU.
const BACKPORTS_SUITE: &str = "bookworm-backports";
const BACKPORTS_PACKAGES: &[&str] = &["qemu-system-x86", "qemu-system-common", "qemu-system-data"];
/// Where SeaBIOS's images are (Debian's `seabios`, a dependency of both).
const SEABIOS_DIR: &str = "/usr/share/seabios";

/// A QEMU to run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Emulator {
    /// `qemu-system-x86_64` as installed (Debian 12: 7.2).
    #[default]
    Installed,
    /// A QEMU unpacked under `root` (its `usr/bin`, `usr/share/qemu`).
    Unpacked { root: PathBuf, version: String },
}

impl Emulator {
    /// The program to start.
    pub fn program(&self) -> PathBuf {
        match self {
            Emulator::Installed => "qemu-system-x86_64".into(),
            Emulator::Unpacked { root, .. } => root.join("usr/bin/qemu-system-x86_64"),
        }
    }

    /// Arguments before the machine's own: an unpacked QEMU is told where
    /// its firmware is, and gets no default devices (which would make it
    /// load the installed QEMU's modules, built for another version).
    pub fn leading_args(&self) -> Vec<OsString> {
        match self {
            Emulator::Installed => Vec::new(),
            Emulator::Unpacked { root, .. } => vec![
                "-L".into(),
                root.join("usr/share/qemu").into(),
                "-L".into(),
                SEABIOS_DIR.into(),
                "-nodefaults".into(),
            ],
        }
    }

    /// For logs: "QEMU 10.0.2+ds-… (unpacked in …)" or "installed QEMU".
    pub fn describe(&self) -> String {
        match self {
            Emulator::Installed => "the installed QEMU".to_owned(),
            Emulator::Unpacked { root, version } => {
                format!("QEMU {version} (unpacked in {})", root.display())
            }
        }
    }
}

/// QEMU from bookworm-backports, fetched and unpacked once; checked to run.
pub fn backports_qemu() -> Result<Emulator> {
    let debs: Vec<PathBuf> = BACKPORTS_PACKAGES
        .iter()
        .copied()
        .map(download_backport)
        .collect::<Result<_>>()?;
    let version = deb_version(&debs[0], BACKPORTS_PACKAGES[0]);
    let root = guest_cache_dir().join(format!("qemu-{}", version.replace([':', '~', '+'], "_")));
    if !root.join("usr/bin/qemu-system-x86_64").is_file() {
        eprintln!(
            "xtask: unpacking QEMU {version} into {} ...",
            root.display()
        );
        let scratch = root.with_extension(format!("unpacking-{}", std::process::id()));
        let _ = fs::remove_dir_all(&scratch);
        fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
        for deb in &debs {
            extract_from_deb(deb, &scratch, ".", false)?;
        }
        let _ = fs::remove_dir_all(&root);
        fs::rename(&scratch, &root)
            .with_context(|| format!("renaming {} to {}", scratch.display(), root.display()))?;
    }
    let emulator = Emulator::Unpacked { root, version };
    check_runs(&emulator)?;
    Ok(emulator)
}

fn check_runs(emulator: &Emulator) -> Result<()> {
    let out = Command::new(emulator.program())
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("starting {}", emulator.describe()))?;
    ensure!(
        out.status.success(),
        "{} does not run ({}): {}",
        emulator.describe(),
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(())
}

/// `apt-get download PACKAGE/bookworm-backports` with a private package
/// list (the host's apt configuration is left alone), into the cache.
fn download_backport(package: &str) -> Result<PathBuf> {
    let debs = guest_cache_dir().join("debs-backports");
    fs::create_dir_all(&debs).with_context(|| format!("creating {}", debs.display()))?;
    if let Some(deb) = find_deb(&debs, package)? {
        return Ok(deb);
    }
    let apt = PrivateApt::new()?;
    apt.update_once()?;
    eprintln!(
        "xtask: downloading {package} from {BACKPORTS_SUITE} (apt-get download) into {} ...",
        debs.display()
    );
    let status = apt
        .command()
        .args(["download", &format!("{package}/{BACKPORTS_SUITE}")])
        .current_dir(&debs)
        .status()
        .context("running apt-get download")?;
    ensure!(
        status.success(),
        "`apt-get download {package}/{BACKPORTS_SUITE}` failed ({status})"
    );
    find_deb(&debs, package)?
        .with_context(|| format!("apt-get download {package} succeeded but left no .deb"))
}

/// apt with its own sources list (the host's Debian mirror, suite
/// bookworm-backports), package lists and cache under the guest cache.
struct PrivateApt {
    dir: PathBuf,
}

impl PrivateApt {
    fn new() -> Result<Self> {
        let dir = guest_cache_dir().join("apt-backports");
        for sub in ["lists/partial", "cache/archives/partial", "parts"] {
            fs::create_dir_all(dir.join(sub))
                .with_context(|| format!("creating {}", dir.join(sub).display()))?;
        }
        let line = format!(
            "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] {} {BACKPORTS_SUITE} main\n",
            host_mirror()
        );
        fs::write(dir.join("sources.list"), line).context("writing the backports sources.list")?;
        Ok(Self { dir })
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new("apt-get");
        let opt = |k: &str, v: &Path| format!("{k}={}", v.display());
        cmd.args([
            "-o",
            &opt("Dir::Etc::SourceList", &self.dir.join("sources.list")),
            "-o",
            &opt("Dir::Etc::SourceParts", &self.dir.join("parts")),
            "-o",
            &opt("Dir::State::Lists", &self.dir.join("lists")),
            "-o",
            &opt("Dir::Cache", &self.dir.join("cache")),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::from(std::io::stderr()));
        cmd
    }

    /// `apt-get update` of the private list, unless it was done before.
    fn update_once(&self) -> Result<()> {
        let lists = fs::read_dir(self.dir.join("lists"))?
            .filter_map(|e| e.ok())
            .any(|e| e.file_name().to_string_lossy().contains("Packages"));
        if lists {
            return Ok(());
        }
        eprintln!("xtask: fetching the package list of {BACKPORTS_SUITE} (apt-get update, private lists) ...");
        let status = self
            .command()
            .arg("update")
            .status()
            .context("running apt-get update")?;
        ensure!(
            status.success(),
            "apt-get update of {BACKPORTS_SUITE} failed ({status})"
        );
        Ok(())
    }
}

/// The host's Debian mirror (the first `URIs:` of debian.sources, or the
/// first `deb` line of sources.list), else deb.debian.org.
fn host_mirror() -> String {
    let deb822 = fs::read_to_string("/etc/apt/sources.list.d/debian.sources").unwrap_or_default();
    let from_deb822 = deb822
        .lines()
        .filter_map(|l| l.trim().strip_prefix("URIs:"))
        .flat_map(str::split_whitespace)
        .find(|uri| !uri.contains("security"));
    let classic = fs::read_to_string("/etc/apt/sources.list").unwrap_or_default();
    let from_classic = classic
        .lines()
        .filter(|l| l.trim_start().starts_with("deb "))
        .filter_map(|l| l.split_whitespace().find(|w| w.contains("://")))
        .find(|uri| !uri.contains("security"));
    from_deb822
        .or(from_classic)
        .map(str::to_owned)
        .unwrap_or_else(|| "http://deb.debian.org/debian".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unpacked_qemu_finds_its_firmware_and_has_no_default_devices() {
        let e = Emulator::Unpacked {
            root: "/c/qemu".into(),
            version: "1:10.0.2".into(),
        };
        assert_eq!(
            e.program(),
            PathBuf::from("/c/qemu/usr/bin/qemu-system-x86_64")
        );
        let args: Vec<String> = e
            .leading_args()
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args,
            [
                "-L",
                "/c/qemu/usr/share/qemu",
                "-L",
                SEABIOS_DIR,
                "-nodefaults"
            ]
        );
        assert!(Emulator::Installed.leading_args().is_empty());
    }
}
