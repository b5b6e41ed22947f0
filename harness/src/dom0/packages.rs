//! Debian's Xen toolstack packages and the libraries they depend on,
//! downloaded (`apt-get download`, into `target/guest-cache/debs/`) and
//! unpacked whole (`dpkg-deb -x`) into
//! `target/guest-cache/dom0-packages/<package>_<version>/`, once each.
//! Nothing is installed on the host.
//!
//! Which packages: [`TOOLSTACK_PACKAGES`], and recursively the `Depends:` and `PreDepends:`
//! (from `apt-cache depends`) of every package that is a library by its
//! name ([`is_library_package`]). The toolstack's other dependencies
//! (python3, udev, lsb-base, ucf, sysvinit-utils) are not libraries and not
//! needed to run it from an initramfs.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{ensure, Context, Result};

use crate::debian::{deb_version, download_deb, download_debs};
use crate::guest_cache_dir;
use crate::prereq::run_apt_as_root;

/// The toolstack: `xl`, libxl's helpers, both xenstoreds, xenconsoled
/// (xen-utils-4.17); Debian's wrappers and init script (xen-utils-common);
/// `xenstore-read` and friends (xenstore-utils); and the terminal
/// descriptions (ncurses-base, on every Debian system) that `xl top`,
/// xentop's full-screen mode, needs; bash, which Xen's hotplug scripts
/// (`/etc/xen/scripts/block`, `vif-bridge`) are written for, and
/// util-linux, whose `flock` they lock with (busybox has none); e2fsprogs,
/// whose `mke2fs -d` makes the guests' disk images in dom0, as a user
/// would.
pub const TOOLSTACK_PACKAGES: &[&str] = &[
    "xen-utils-4.17",
    "xen-utils-common",
    "xenstore-utils",
    "ncurses-base",
    "bash",
    "util-linux",
    "e2fsprogs",
];

/// One unpacked package.
#[derive(Clone, Debug)]
pub struct Unpacked {
    pub package: String,
    pub version: String,
    /// The package's file tree (what `dpkg-deb -x` wrote).
    pub root: PathBuf,
    /// One of [`TOOLSTACK_PACKAGES`] (shipped whole) rather than a library
    /// (only the libraries the binaries need are shipped).
    pub toolstack: bool,
}

/// Whether a dependency is followed: libraries (`lib…`, and `zlib1g`, the
/// one library whose name does not say so).
pub fn is_library_package(name: &str) -> bool {
    name.starts_with("lib") || name == "zlib1g"
}

/// `apt-cache depends P1 P2 …` output → for each package, its `Depends:`
/// (alternatives included, virtual `<…>` names and the providers listed
/// under them left out, `:any` qualifiers removed).
pub fn parse_depends(output: &str) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in output.lines() {
        if !line.starts_with(' ') {
            let name = line.trim();
            if !name.is_empty() {
                map.entry(name.to_owned()).or_default();
                current = Some(name.to_owned());
            }
            continue;
        }
        let trimmed = line.trim().trim_start_matches('|');
        // A pre-dependency (bash's libtinfo6, e2fsprogs' libraries) is a
        // dependency the package's own installation needs first.
        let dep = trimmed
            .strip_prefix("Depends:")
            .or_else(|| trimmed.strip_prefix("PreDepends:"));
        let Some(dep) = dep else {
            continue;
        };
        let dep = dep.trim();
        if dep.starts_with('<') {
            continue;
        }
        let dep = dep.split(':').next().unwrap_or(dep).to_owned();
        if let Some(pkg) = &current {
            let deps = map.entry(pkg.clone()).or_default();
            if !deps.contains(&dep) {
                deps.push(dep);
            }
        }
    }
    map
}

/// The packages to fetch: `roots` and, level by level, the library
/// dependencies of the roots and of every library found. `depends` answers
/// for a batch of packages (`apt-cache depends`).
pub fn package_closure(
    roots: &[&str],
    mut depends: impl FnMut(&[String]) -> Result<BTreeMap<String, Vec<String>>>,
) -> Result<Vec<String>> {
    let mut seen: BTreeSet<String> = roots.iter().map(|s| (*s).to_owned()).collect();
    let mut order: Vec<String> = roots.iter().map(|s| (*s).to_owned()).collect();
    let mut level: Vec<String> = order.clone();
    while !level.is_empty() {
        let deps = depends(&level)?;
        let mut next = Vec::new();
        for pkg in &level {
            for dep in deps.get(pkg).into_iter().flatten() {
                if is_library_package(dep) && seen.insert(dep.clone()) {
                    order.push(dep.clone());
                    next.push(dep.clone());
                }
            }
        }
        level = next;
    }
    Ok(order)
}

fn apt_cache_depends(packages: &[String]) -> Result<BTreeMap<String, Vec<String>>> {
    let out = Command::new("apt-cache")
        .arg("depends")
        .args(packages)
        .stderr(Stdio::null())
        .output()
        .context("running apt-cache depends")?;
    Ok(parse_depends(&String::from_utf8_lossy(&out.stdout)))
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

/// Downloads and unpacks the toolstack and its libraries; cheap when cached
/// (a few `apt-cache depends` calls). Runs `apt-get update` once if apt does
/// not know a toolstack package.
pub fn fetch_toolstack() -> Result<Vec<Unpacked>> {
    let mut unknown = Vec::new();
    for package in TOOLSTACK_PACKAGES {
        if !apt_knows(package)? {
            unknown.push(*package);
        }
    }
    if !unknown.is_empty() {
        eprintln!(
            "xtask: apt does not know {}; updating the package lists (apt-get update) ...",
            unknown.join(" ")
        );
        run_apt_as_root(&["update"]).context("updating the package lists for the Xen toolstack")?;
        for package in unknown {
            ensure!(
                apt_knows(package)?,
                "apt knows no package {package} (is Debian 12's main archive in the sources?)"
            );
        }
    }
    let packages = package_closure(TOOLSTACK_PACKAGES, apt_cache_depends)?;
    let names: Vec<&str> = packages.iter().map(String::as_str).collect();
    download_debs(&names).context("cannot fetch the toolstack's Debian packages")?;
    let mut unpacked = Vec::new();
    for package in packages {
        let deb = download_deb(&package)
            .with_context(|| format!("cannot fetch the Debian package {package}"))?;
        let version = deb_version(&deb, &package);
        let root = unpack_once(&deb, &package, &version)?;
        unpacked.push(Unpacked {
            toolstack: TOOLSTACK_PACKAGES.contains(&package.as_str()),
            package,
            version,
            root,
        });
    }
    Ok(unpacked)
}

/// `target/guest-cache/dom0-packages/<package>_<version>/`: the whole
/// package, unpacked through a scratch directory renamed into place, so
/// that an interrupted run never looks finished.
fn unpack_once(deb: &Path, package: &str, version: &str) -> Result<PathBuf> {
    let dir = guest_cache_dir().join("dom0-packages");
    let into = dir.join(format!("{package}_{}", version.replace(':', "%3a")));
    if into.is_dir() {
        return Ok(into);
    }
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    eprintln!(
        "xtask: unpacking {} into {} (dpkg-deb -x) ...",
        deb.display(),
        into.display()
    );
    let scratch = dir.join(format!(".unpacking-{package}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&scratch);
    let status = Command::new("dpkg-deb")
        .arg("-x")
        .arg(deb)
        .arg(&scratch)
        .status()
        .context("running dpkg-deb")?;
    ensure!(
        status.success(),
        "dpkg-deb -x {} failed ({status})",
        deb.display()
    );
    fs::rename(&scratch, &into)
        .with_context(|| format!("renaming {} to {}", scratch.display(), into.display()))?;
    Ok(into)
}

#[cfg(test)]
mod tests {
    use super::*;

    const APT_OUTPUT: &str = "\
xen-utils-4.17
  Depends: libc6
  Depends: libxenmisc4.17
  Depends: <python3:any>
    python3
  Depends: python3
  Depends: xen-utils-common
  Recommends: bridge-utils
xen-utils-common
 |Depends: sysvinit-utils
  Depends: lsb-base
  Depends: udev
  Depends: libxenstore4
  Depends: ucf
libc6
  Depends: libgcc-s1
  Breaks: libc6:i386
libgcc-s1
  Depends: gcc-12-base
  Depends: libc6
libxenmisc4.17
  Depends: zlib1g
  Depends: libyajl2:any
e2fsprogs
  PreDepends: libblkid1
  PreDepends: libcom-err2
  Depends: logsave
  Recommends: e2fsprogs-l10n
";

    #[test]
    fn parses_depends() {
        let deps = parse_depends(APT_OUTPUT);
        assert_eq!(
            deps["xen-utils-4.17"],
            ["libc6", "libxenmisc4.17", "python3", "xen-utils-common"]
        );
        assert_eq!(
            deps["xen-utils-common"],
            ["sysvinit-utils", "lsb-base", "udev", "libxenstore4", "ucf"]
        );
        assert_eq!(deps["libxenmisc4.17"], ["zlib1g", "libyajl2"]);
        assert_eq!(deps["e2fsprogs"], ["libblkid1", "libcom-err2", "logsave"]);
    }

    #[test]
    fn library_names() {
        for lib in ["libc6", "libxenmisc4.17", "libgcc-s1", "zlib1g", "libyajl2"] {
            assert!(is_library_package(lib), "{lib}");
        }
        for other in [
            "python3",
            "udev",
            "lsb-base",
            "ucf",
            "sysvinit-utils",
            "gcc-12-base",
            "xen-utils-common",
        ] {
            assert!(!is_library_package(other), "{other}");
        }
    }

    #[test]
    fn closure_follows_libraries_only() {
        let all = parse_depends(APT_OUTPUT);
        let mut calls = 0;
        let closure = package_closure(&["xen-utils-4.17", "xen-utils-common"], |batch| {
            calls += 1;
            Ok(batch
                .iter()
                .filter_map(|p| all.get(p).map(|d| (p.clone(), d.clone())))
                .collect())
        })
        .unwrap();
        assert_eq!(
            closure,
            [
                "xen-utils-4.17",
                "xen-utils-common",
                "libc6",
                "libxenmisc4.17",
                "libxenstore4",
                "libgcc-s1",
                "zlib1g",
                "libyajl2"
            ]
        );
        // One apt-cache call per level.
        assert_eq!(calls, 3);
    }
}
