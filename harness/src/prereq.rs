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

/// What building the guest initramfs needs: a statically linked busybox.
/// Debian's plain `busybox` also installs /bin/busybox, dynamically linked,
/// so only dpkg's word counts here.
const GUEST_PACKAGES: &[(&str, Probe)] = &[("busybox-static", Probe::DpkgOnly)];

/// The Rust target of the static guest tools (`tools/guest-probe`).
pub const GUEST_TOOLS_TARGET: &str = "x86_64-unknown-linux-musl";

#[derive(Clone, Copy)]
enum Probe {
    Command(&'static str),
    Dir(&'static str),
    /// Nothing but an installed package will do.
    DpkgOnly,
}

impl Probe {
    fn found(self) -> bool {
        match self {
            Probe::Command(name) => on_path(name),
            Probe::Dir(dir) => Path::new(dir).is_dir(),
            Probe::DpkgOnly => false,
        }
    }
}

/// Installs the rustup target and the Debian packages that are missing.
pub fn ensure_prerequisites() -> Result<()> {
    ensure_rust_target(HYPERVISOR_TARGET)?;
    ensure_packages(PACKAGES)
}

/// Installs what building the guest assets needs (busybox-static, the musl
/// target for guest-probe); the Debian kernels are fetched, not installed.
pub fn ensure_guest_prerequisites() -> Result<()> {
    ensure_rust_target(GUEST_TOOLS_TARGET)?;
    ensure_packages(GUEST_PACKAGES)
}

fn ensure_rust_target(target: &str) -> Result<()> {
    let out = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .with_context(|| format!("running rustup (needed to add the {target} target)"))?;
    let installed = String::from_utf8_lossy(&out.stdout);
    if installed.lines().any(|l| l.trim() == target) {
        return Ok(());
    }
    eprintln!("xtask: installing the Rust target {target} ...");
    let status = Command::new("rustup")
        .args(["target", "add", target])
        .status()
        .context("running rustup")?;
    if !status.success() {
        bail!("`rustup target add {target}` failed ({status})");
    }
    Ok(())
}

fn ensure_packages(packages: &[(&str, Probe)]) -> Result<()> {
    let missing: Vec<&str> = packages
        .iter()
        .filter(|(pkg, probe)| !dpkg_installed(pkg) && !probe.found())
        .map(|(pkg, _)| *pkg)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let list = missing.join(" ");
    let by_hand = format!("sudo apt-get update && sudo apt-get install -y {list}");
    eprintln!("xtask: installing {list} (apt-get) ...");
    let apt = |args: &[&str]| {
        run_apt_as_root(args)
            .with_context(|| format!("while installing {list}; install them by hand: {by_hand}"))
    };
    // The package lists may be stale or absent on a fresh machine; update
    // only now that something is missing.
    apt(&["update"])?;
    let mut install = vec!["install", "-y"];
    install.extend(&missing);
    apt(&install)
}

/// Runs `apt-get ARGS` as root (directly, or through `sudo -n`), its
/// chatter on stderr: stdout carries results and test output.
pub(crate) fn run_apt_as_root(args: &[&str]) -> Result<()> {
    let mut cmd = if is_root() {
        Command::new("apt-get")
    } else if on_path("sudo") {
        let mut c = Command::new("sudo");
        c.args(["-n", "apt-get"]);
        c
    } else {
        bail!(
            "`apt-get {}` needs root, and we are neither root nor have sudo",
            args.join(" ")
        );
    };
    let status = cmd
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(Stdio::null())
        .stdout(Stdio::from(std::io::stderr()))
        .status()
        .context("running apt-get")?;
    if !status.success() {
        bail!("`apt-get {}` failed ({status})", args.join(" "));
    }
    Ok(())
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
