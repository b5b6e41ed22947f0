//! Installing what building and booting the hypervisor needs.
//!
//! CI and fresh developer machines start without QEMU or GRUB, so every entry
//! point installs what is missing instead of documenting it. Each check is
//! cheap, so a machine that has everything pays a few `dpkg-query` calls and
//! never an `apt-get update`.

use std::env;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

use crate::HYPERVISOR_TARGET;

/// Debian packages, each with a file that shows we already have what we
/// need from it even when dpkg does not know (say, a QEMU built from source).
const PACKAGES: &[(&str, Probe)] = &[
    ("qemu-system-x86", Probe::Command("qemu-system-x86_64")),
    ("grub-pc-bin", Probe::Dir("/usr/lib/grub/i386-pc")),
    ("grub-common", Probe::Command("grub-mkrescue")),
    ("xorriso", Probe::Command("xorriso")),
    ("mtools", Probe::Command("mformat")),
];

#[derive(Clone, Copy)]
enum Probe {
    Command(&'static str),
    Dir(&'static str),
}

impl Probe {
    fn found(self) -> bool {
        match self {
            Probe::Command(name) => on_path(name),
            Probe::Dir(dir) => Path::new(dir).is_dir(),
        }
    }
}

/// Installs the rustup target and the Debian packages that are missing.
pub fn ensure_prerequisites() -> Result<()> {
    ensure_rust_target()?;
    ensure_packages()
}

fn ensure_rust_target() -> Result<()> {
    let out = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("running rustup (needed to add the x86_64-unknown-none target)")?;
    let installed = String::from_utf8_lossy(&out.stdout);
    if installed.lines().any(|l| l.trim() == HYPERVISOR_TARGET) {
        return Ok(());
    }
    eprintln!("xtask: installing the Rust target {HYPERVISOR_TARGET} ...");
    let status = Command::new("rustup")
        .args(["target", "add", HYPERVISOR_TARGET])
        .status()
        .context("running rustup")?;
    if !status.success() {
        bail!("`rustup target add {HYPERVISOR_TARGET}` failed ({status})");
    }
    Ok(())
}

fn ensure_packages() -> Result<()> {
    let missing: Vec<&str> = PACKAGES
        .iter()
        .filter(|(pkg, probe)| !dpkg_installed(pkg) && !probe.found())
        .map(|(pkg, _)| *pkg)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let list = missing.join(" ");
    let by_hand = format!("sudo apt-get update && sudo apt-get install -y {list}");
    let sudo = if is_root() {
        None
    } else if on_path("sudo") {
        Some("sudo")
    } else {
        bail!("missing Debian packages: {list}; not root and no sudo; install them by hand: {by_hand}");
    };
    eprintln!("xtask: installing {list} (apt-get) ...");
    let apt = |args: &[&str]| -> Result<()> {
        let mut cmd = match sudo {
            Some(sudo) => {
                let mut c = Command::new(sudo);
                c.args(["-n", "apt-get"]);
                c
            }
            None => Command::new("apt-get"),
        };
        // apt's chatter goes to stderr: stdout carries results and test output.
        let status = cmd
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null())
            .stdout(Stdio::from(std::io::stderr()))
            .status()
            .context("running apt-get")?;
        if !status.success() {
            bail!("`apt-get {}` failed ({status}) while installing {list}; install them by hand: {by_hand}", args.join(" "));
        }
        Ok(())
    };
    // The package lists may be stale or absent on a fresh machine; update
    // only now that something is missing.
    apt(&["update"])?;
    let mut install = vec!["install", "-y"];
    install.extend(&missing);
    apt(&install)
}

fn dpkg_installed(pkg: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", pkg])
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

fn on_path(name: &str) -> bool {
    env::var_os("PATH")
        .is_some_and(|path| env::split_paths(&path).any(|dir| dir.join(name).is_file()))
}
