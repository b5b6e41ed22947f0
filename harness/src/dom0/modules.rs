//! The generic kernel's modules a dom0 needs ([`DOM0_MODULES`]) and their
//! dependencies, taken from the kernel's `.deb`.
//!
//! Debian's kernel packages do not ship `modules.dep` (the postinst runs
//! depmod), so the dependencies come from what depmod itself reads: each
//! module's `.modinfo` `depends=` list. The result (the modules below
//! `lib/modules/<release>/`, decompressed, a `modules.dep` in depmod's
//! format and the load order) is cached in
//! `target/guest-cache/<package>-dom0-modules-<hash>/`, named by the hash of
//! the module list.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, ensure, Context, Result};

use super::elf::module_depends;
use crate::debian::DebianKernel;
use crate::{content_hash, guest_cache_dir};

/// Kernel modules dom0's `/init` loads (with their dependencies, in
/// dependency order): the toolstack's devices, and what serves the guests'
/// disks (`loop` for image files, `xen-blkback`) and networks (`bridge`,
/// `xen-netback`).
pub const DOM0_MODULES: &[&str] = &[
    "xenfs",
    "xen-privcmd",
    "xen-evtchn",
    "xen-gntdev",
    "xen-gntalloc",
    "loop",
    "xen-blkback",
    "bridge",
    "xen-netback",
];

/// One module, ready to ship.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelModule {
    /// Its name as the kernel knows it (`xen_privcmd`: `-` becomes `_`).
    pub name: String,
    /// Below `lib/modules/<release>/`, e.g. `kernel/drivers/xen/xen-privcmd.ko`.
    pub path: String,
    pub depends: Vec<String>,
    pub bytes: Vec<u8>,
}

/// The modules of a kernel, in load order, with its release.
#[derive(Clone, Debug)]
pub struct ModuleSet {
    pub release: String,
    pub modules: Vec<KernelModule>,
}

impl ModuleSet {
    /// What dom0's initramfs carries of them: each module at its path, the
    /// `modules.dep`, and `/init`'s load list (`etc/rxen/modules`: name and
    /// path, in load order).
    pub fn files(&self) -> Vec<(String, Vec<u8>)> {
        let dir = format!("lib/modules/{}", self.release);
        let mut files: Vec<(String, Vec<u8>)> = self
            .modules
            .iter()
            .map(|m| (format!("{dir}/{}", m.path), m.bytes.clone()))
            .collect();
        files.push((
            format!("{dir}/modules.dep"),
            self.modules_dep().into_bytes(),
        ));
        let load_list: String = self
            .modules
            .iter()
            .map(|m| format!("{} /{dir}/{}\n", m.name, m.path))
            .collect();
        files.push(("etc/rxen/modules".to_owned(), load_list.into_bytes()));
        files
    }

    /// `modules.dep` as depmod writes it (`path: dep-path dep-path`, the
    /// dependencies of dependencies included, nearest first).
    pub fn modules_dep(&self) -> String {
        let by_name: BTreeMap<&str, &KernelModule> =
            self.modules.iter().map(|m| (m.name.as_str(), m)).collect();
        let mut out = String::new();
        for m in &self.modules {
            let mut all = Vec::new();
            let mut stack: Vec<&str> = m.depends.iter().rev().map(String::as_str).collect();
            while let Some(dep) = stack.pop() {
                if all.contains(&dep) {
                    continue;
                }
                all.push(dep);
                if let Some(d) = by_name.get(dep) {
                    stack.extend(d.depends.iter().rev().map(String::as_str));
                }
            }
            let paths: Vec<&str> = all
                .iter()
                .filter_map(|d| by_name.get(d).map(|m| m.path.as_str()))
                .collect();
            out.push_str(&m.path);
            out.push(':');
            for p in paths {
                out.push(' ');
                out.push_str(p);
            }
            out.push('\n');
        }
        out
    }
}

/// `xen-privcmd` and `xen_privcmd` are the same module.
pub fn module_name(name: &str) -> String {
    name.replace('-', "_")
}

/// The module name of a path in the package (`…/xen-privcmd.ko.xz` →
/// `xen_privcmd`), if it is a module.
fn name_of_member(member: &str) -> Option<String> {
    let file = member.rsplit('/').next()?;
    let stem = [".ko", ".ko.xz", ".ko.zst", ".ko.gz"]
        .iter()
        .find_map(|ext| file.strip_suffix(ext))?;
    Some(module_name(stem))
}

/// Orders `wanted` (and everything they depend on, per `depends`) so that
/// each module comes after its dependencies; otherwise in the order asked.
pub fn load_order(
    wanted: &[String],
    depends: &BTreeMap<String, Vec<String>>,
) -> Result<Vec<String>> {
    fn visit(
        name: &str,
        depends: &BTreeMap<String, Vec<String>>,
        done: &mut Vec<String>,
        path: &mut Vec<String>,
    ) -> Result<()> {
        if done.iter().any(|d| d == name) {
            return Ok(());
        }
        if path.iter().any(|p| p == name) {
            bail!("module dependency cycle: {} -> {name}", path.join(" -> "));
        }
        path.push(name.to_owned());
        for dep in depends.get(name).into_iter().flatten() {
            visit(dep, depends, done, path)?;
        }
        path.pop();
        done.push(name.to_owned());
        Ok(())
    }
    let mut done = Vec::new();
    for name in wanted {
        visit(name, depends, &mut done, &mut Vec::new())?;
    }
    Ok(done)
}

/// `lib/modules/6.1.0-28-amd64/…` for `linux-image-6.1.0-28-amd64`.
pub fn kernel_release(package: &str) -> Result<String> {
    package
        .strip_prefix("linux-image-")
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .with_context(|| format!("{package} is not a linux-image-<release> package"))
}

/// The [`DOM0_MODULES`] of `kernel` and their dependencies; extracted once.
pub fn dom0_modules(kernel: &DebianKernel) -> Result<ModuleSet> {
    let release = kernel_release(&kernel.package)?;
    let key = content_hash(DOM0_MODULES.join(",").as_bytes());
    let dir = guest_cache_dir().join(format!("{}-dom0-modules-{key:016x}", kernel.package));
    if !dir.join("order").is_file() {
        eprintln!(
            "xtask: extracting the dom0 kernel modules ({}) from {} into {} ...",
            DOM0_MODULES.join(" "),
            kernel.deb.display(),
            dir.display()
        );
        extract_modules(&kernel.deb, &release, &dir)?;
    }
    read_cached(&dir, release)
}

/// The cache: `order` lists `name path dep,dep` lines in load order; the
/// modules sit at their paths below the directory.
fn read_cached(dir: &Path, release: String) -> Result<ModuleSet> {
    let order = fs::read_to_string(dir.join("order"))?;
    let mut modules = Vec::new();
    for line in order.lines() {
        let mut fields = line.split(' ');
        let (Some(name), Some(path)) = (fields.next(), fields.next()) else {
            bail!("bad line {line:?} in {}", dir.join("order").display());
        };
        let depends = fields
            .next()
            .unwrap_or("")
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let file = dir.join(path);
        let bytes = fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
        modules.push(KernelModule {
            name: name.to_owned(),
            path: path.to_owned(),
            depends,
            bytes,
        });
    }
    Ok(ModuleSet { release, modules })
}

/// Lists the package's modules, extracts the wanted ones, reads their
/// dependencies, extracts those, and so on; then writes the cache (through
/// a scratch directory renamed into place).
fn extract_modules(deb: &Path, release: &str, into: &Path) -> Result<()> {
    let prefix = format!("modules/{release}/");
    // module name → member path in the package's tar
    let mut members: BTreeMap<String, String> = BTreeMap::new();
    for member in tar_list(deb)? {
        if let (Some(at), Some(name)) = (member.find(&prefix), name_of_member(&member)) {
            if member[at + prefix.len()..].starts_with("kernel/") {
                members.insert(name, member);
            }
        }
    }
    ensure!(
        !members.is_empty(),
        "{} has no modules below lib/modules/{release}/kernel/",
        deb.display()
    );
    let scratch = into.with_extension(format!("unpacking-{}", std::process::id()));
    let _ = fs::remove_dir_all(&scratch);
    fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;

    let wanted: Vec<String> = DOM0_MODULES.iter().map(|m| module_name(m)).collect();
    let mut depends: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut paths: BTreeMap<String, String> = BTreeMap::new();
    let mut pending: BTreeSet<String> = wanted.iter().cloned().collect();
    while !pending.is_empty() {
        let batch: Vec<(String, String)> = pending
            .iter()
            .map(|name| match members.get(name) {
                Some(member) => Ok((name.clone(), member.clone())),
                None => bail!(
                    "kernel module {name} is not in {} (built in, or not built?)",
                    deb.display()
                ),
            })
            .collect::<Result<_>>()?;
        pending.clear();
        let raw = scratch.join("raw");
        let _ = fs::remove_dir_all(&raw);
        fs::create_dir_all(&raw)?;
        tar_extract(deb, &raw, batch.iter().map(|(_, m)| m.as_str()))?;
        for (name, member) in batch {
            let bytes = decompress(&raw.join(&member))?;
            let deps: Vec<String> = module_depends(&bytes)
                .with_context(|| format!("reading .modinfo of {member}"))?
                .iter()
                .map(|d| module_name(d))
                .collect();
            let below = &member[member.find(&prefix).expect("filtered") + prefix.len()..];
            let path = [".xz", ".zst", ".gz"]
                .iter()
                .find_map(|ext| below.strip_suffix(ext))
                .unwrap_or(below)
                .to_owned();
            let out = scratch.join(&path);
            fs::create_dir_all(out.parent().expect("a file"))?;
            fs::write(&out, &bytes).with_context(|| format!("writing {}", out.display()))?;
            for dep in &deps {
                if !depends.contains_key(dep) && !paths.contains_key(dep) {
                    pending.insert(dep.clone());
                }
            }
            paths.insert(name.clone(), path);
            depends.insert(name, deps);
        }
        pending.retain(|n| !paths.contains_key(n));
    }
    let _ = fs::remove_dir_all(scratch.join("raw"));
    let mut order = String::new();
    for name in load_order(&wanted, &depends)? {
        order.push_str(&format!(
            "{name} {} {}\n",
            paths[&name],
            depends[&name].join(",")
        ));
    }
    let mut f = fs::File::create(scratch.join("order"))?;
    f.write_all(order.as_bytes())?;
    let _ = fs::remove_dir_all(into);
    fs::rename(&scratch, into)
        .with_context(|| format!("renaming {} to {}", scratch.display(), into.display()))
}

/// The member paths of the package's data archive (`dpkg-deb
/// --fsys-tarfile | tar -t`).
fn tar_list(deb: &Path) -> Result<Vec<String>> {
    let mut dpkg = Command::new("dpkg-deb")
        .arg("--fsys-tarfile")
        .arg(deb)
        .stdout(Stdio::piped())
        .spawn()
        .context("running dpkg-deb")?;
    let out = Command::new("tar")
        .arg("-t")
        .stdin(dpkg.stdout.take().expect("piped"))
        .output()
        .context("running tar -t")?;
    let status = dpkg.wait()?;
    ensure!(
        status.success() && out.status.success(),
        "listing {} failed (dpkg-deb {status}, tar {})",
        deb.display(),
        out.status
    );
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect())
}

/// Extracts exactly `members` of the package into `into`.
fn tar_extract<'a>(deb: &Path, into: &Path, members: impl Iterator<Item = &'a str>) -> Result<()> {
    let mut dpkg = Command::new("dpkg-deb")
        .arg("--fsys-tarfile")
        .arg(deb)
        .stdout(Stdio::piped())
        .spawn()
        .context("running dpkg-deb")?;
    let status = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(into)
        .args(members)
        .stdin(dpkg.stdout.take().expect("piped"))
        .status()
        .context("running tar -x")?;
    let dpkg_status = dpkg.wait()?;
    ensure!(
        status.success() && dpkg_status.success(),
        "extracting modules from {} failed (dpkg-deb {dpkg_status}, tar {status})",
        deb.display()
    );
    Ok(())
}

/// A module file's contents, decompressed if it is `.xz`/`.zst`/`.gz`
/// (busybox's insmod reads only plain ELF).
fn decompress(file: &PathBuf) -> Result<Vec<u8>> {
    let name = file.to_string_lossy().into_owned();
    let bytes = match [(".xz", "xz"), (".zst", "zstd"), (".gz", "gzip")]
        .iter()
        .find_map(|(ext, tool)| name.ends_with(ext).then_some(*tool))
    {
        Some(tool) => {
            let out = Command::new(tool)
                .args(["-d", "-c"])
                .arg(file)
                .output()
                .with_context(|| format!("running {tool} to decompress {name}"))?;
            ensure!(
                out.status.success(),
                "{tool} -d {name} failed ({})",
                out.status
            );
            out.stdout
        }
        None => fs::read(file).with_context(|| format!("reading {name}"))?,
    };
    ensure!(
        bytes.starts_with(b"\x7fELF"),
        "{name} is not an ELF kernel module"
    );
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deps(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.iter().map(|s| (*s).to_owned()).collect()))
            .collect()
    }

    #[test]
    fn names() {
        assert_eq!(module_name("xen-privcmd"), "xen_privcmd");
        assert_eq!(
            name_of_member("./lib/modules/6.1.0-1-amd64/kernel/drivers/xen/xen-gntdev.ko")
                .as_deref(),
            Some("xen_gntdev")
        );
        assert_eq!(name_of_member("./x/xenfs.ko.xz").as_deref(), Some("xenfs"));
        assert_eq!(name_of_member("./x/modules.order"), None);
        assert_eq!(
            kernel_release("linux-image-6.1.0-28-amd64").unwrap(),
            "6.1.0-28-amd64"
        );
        assert!(kernel_release("busybox").is_err());
    }

    #[test]
    fn dependencies_load_first() {
        let d = deps(&[
            ("xen_gntdev", &["xen_front"]),
            ("xen_front", &["base"]),
            ("base", &[]),
            ("xenfs", &[]),
            ("bridge", &["stp", "llc"]),
            ("stp", &["llc"]),
            ("llc", &[]),
        ]);
        let wanted: Vec<String> = ["xenfs", "xen_gntdev", "bridge"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        assert_eq!(
            load_order(&wanted, &d).unwrap(),
            [
                "xenfs",
                "base",
                "xen_front",
                "xen_gntdev",
                "llc",
                "stp",
                "bridge"
            ]
        );
        let cycle = deps(&[("a", &["b"]), ("b", &["a"])]);
        assert!(load_order(&["a".to_owned()], &cycle).is_err());
    }

    #[test]
    fn modules_dep_format() {
        let m = |name: &str, path: &str, depends: &[&str]| KernelModule {
            name: name.into(),
            path: path.into(),
            depends: depends.iter().map(|s| (*s).to_owned()).collect(),
            bytes: Vec::new(),
        };
        let set = ModuleSet {
            release: "r".into(),
            modules: vec![
                m("llc", "kernel/net/llc/llc.ko", &[]),
                m("stp", "kernel/net/802/stp.ko", &["llc"]),
                m("bridge", "kernel/net/bridge/bridge.ko", &["stp", "llc"]),
            ],
        };
        assert_eq!(
            set.modules_dep(),
            "kernel/net/llc/llc.ko:\n\
             kernel/net/802/stp.ko: kernel/net/llc/llc.ko\n\
             kernel/net/bridge/bridge.ko: kernel/net/802/stp.ko kernel/net/llc/llc.ko\n"
        );
    }
}
