//! The unpacked packages seen as one file system (paths as Debian installs
//! them, without the leading `/`), and the closure of the libraries the
//! toolstack's binaries need.
//!
//! The libraries are found the way the dynamic loader finds them: each
//! object's `DT_RUNPATH` (with `$ORIGIN`), then Debian's default
//! directories ([`LIBRARY_DIRS`]); symbolic links (`libxenctrl.so.4.17` →
//! `libxenctrl.so.4.17.0`) are followed and shipped with their targets.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::elf::{dynamic_info, is_elf, DynamicInfo};

/// Where glibc's loader looks when no run path names the library (Debian's
/// multiarch directories first), as archive paths.
pub const LIBRARY_DIRS: &[&str] = &[
    "lib/x86_64-linux-gnu",
    "usr/lib/x86_64-linux-gnu",
    "lib",
    "usr/lib",
    "lib64",
];

/// Libraries loaded with `dlopen` rather than named in `DT_NEEDED`, shipped
/// too: glibc loads libgcc_s to unwind a thread in `pthread_exit` and
/// `pthread_cancel`.
pub const DLOPENED_LIBRARIES: &[&str] = &["libgcc_s.so.1"];

/// One entry of the merged tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Dir { mode: u32 },
    File { host: PathBuf, mode: u32 },
    Symlink { target: String },
}

/// Several unpacked packages as one tree; a path shipped by two packages
/// keeps the first.
#[derive(Clone, Debug, Default)]
pub struct Tree {
    pub nodes: BTreeMap<String, Node>,
    /// Which package each path came from.
    pub owner: BTreeMap<String, String>,
}

impl Tree {
    /// Adds every file, link and directory under `root` (a package's tree).
    pub fn add_package(&mut self, package: &str, root: &Path) -> Result<()> {
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
                let entry = entry?;
                let host = entry.path();
                let rel = host
                    .strip_prefix(root)
                    .expect("below the root")
                    .to_string_lossy()
                    .into_owned();
                let meta = fs::symlink_metadata(&host)?;
                let mode = meta.permissions().mode() & 0o7777;
                let node = if meta.file_type().is_symlink() {
                    let target = fs::read_link(&host)?.to_string_lossy().into_owned();
                    Node::Symlink { target }
                } else if meta.is_dir() {
                    stack.push(host.clone());
                    Node::Dir { mode }
                } else {
                    Node::File { host, mode }
                };
                if !self.nodes.contains_key(&rel) {
                    self.owner.insert(rel.clone(), package.to_owned());
                    self.nodes.insert(rel, node);
                }
            }
        }
        Ok(())
    }

    /// Follows symbolic links from `path`: the final path (a file or
    /// directory) and every link passed on the way, or `None` if the chain
    /// ends nowhere in the tree.
    pub fn resolve(&self, path: &str) -> Option<(String, Vec<String>)> {
        let mut path = normalize(path)?;
        let mut links = Vec::new();
        for _ in 0..40 {
            match self.nodes.get(&path)? {
                Node::Symlink { target } => {
                    links.push(path.clone());
                    let joined = if let Some(abs) = target.strip_prefix('/') {
                        abs.to_owned()
                    } else {
                        match path.rsplit_once('/') {
                            Some((parent, _)) => format!("{parent}/{target}"),
                            None => target.clone(),
                        }
                    };
                    path = normalize(&joined)?;
                }
                _ => return Some((path, links)),
            }
        }
        None
    }
}

/// `a/./b/../c` → `a/c`; a leading `/` is dropped; `None` for a path that
/// climbs above the root.
pub fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// The directory part of an archive path (`""` at the top).
fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(p, _)| p)
}

/// The libraries (and loader) the `binaries` need, transitively: every
/// archive path to ship (links and their targets). `info` reads an object's
/// dynamic section by its (resolved) archive path; `exists` says whether a
/// path resolves in the tree (`Some((final path, links))`).
pub fn library_closure(
    binaries: &[String],
    extra_sonames: &[&str],
    mut info: impl FnMut(&str) -> Result<DynamicInfo>,
    resolve: impl Fn(&str) -> Option<(String, Vec<String>)>,
) -> Result<BTreeSet<String>> {
    let mut ship = BTreeSet::new();
    let mut done: BTreeSet<String> = BTreeSet::new();
    // (object to scan, who needed it, for the error message)
    let mut queue: VecDeque<String> = binaries.iter().cloned().collect();
    let find = |soname: &str, dirs: &[String]| -> Option<(String, Vec<String>)> {
        dirs.iter()
            .map(String::as_str)
            .chain(LIBRARY_DIRS.iter().copied())
            .find_map(|dir| resolve(&format!("{dir}/{soname}")))
    };
    let add = |ship: &mut BTreeSet<String>, (target, links): (String, Vec<String>)| {
        ship.extend(links);
        ship.insert(target.clone());
        target
    };
    for soname in extra_sonames {
        let found = find(soname, &[]).with_context(|| {
            format!("library {soname} (loaded by glibc) is in no unpacked package")
        })?;
        queue.push_back(add(&mut ship, found));
    }
    while let Some(object) = queue.pop_front() {
        if !done.insert(object.clone()) {
            continue;
        }
        let dynamic =
            info(&object).with_context(|| format!("reading the ELF headers of /{object}"))?;
        let origin = format!("/{}", parent(&object));
        let dirs: Vec<String> = dynamic
            .runpath
            .iter()
            .map(|d| d.replace("$ORIGIN", &origin).replace("${ORIGIN}", &origin))
            .collect();
        if let Some(interp) = &dynamic.interp {
            let Some(found) = resolve(interp) else {
                bail!(
                    "/{object} needs the dynamic loader {interp}, which is in no unpacked package"
                );
            };
            queue.push_back(add(&mut ship, found));
        }
        for soname in &dynamic.needed {
            let Some(found) = find(soname, &dirs) else {
                bail!(
                    "/{object} needs {soname}, which is in no unpacked package \
                     (looked in {} and {})",
                    if dirs.is_empty() {
                        "no run path".to_owned()
                    } else {
                        dirs.join(":")
                    },
                    LIBRARY_DIRS.join(", ")
                );
            };
            queue.push_back(add(&mut ship, found));
        }
    }
    Ok(ship)
}

/// [`library_closure`] over a real [`Tree`]: reads the files from the host.
pub fn tree_library_closure(tree: &Tree, binaries: &[String]) -> Result<BTreeSet<String>> {
    library_closure(
        binaries,
        DLOPENED_LIBRARIES,
        |path| match tree.nodes.get(path) {
            Some(Node::File { host, .. }) => {
                let bytes =
                    fs::read(host).with_context(|| format!("reading {}", host.display()))?;
                dynamic_info(&bytes)
            }
            _ => bail!("/{path} is not a file in the unpacked packages"),
        },
        |path| {
            let (target, links) = tree.resolve(path)?;
            matches!(tree.nodes.get(&target), Some(Node::File { .. })).then_some((target, links))
        },
    )
}

/// Whether the file at `host` is an ELF object (reads its first bytes).
pub fn host_is_elf(host: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 4];
    fs::File::open(host)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && is_elf(&head)
}

#[cfg(test)]
mod tests {
    use super::super::elf::tests::fake_elf;
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn normalizes_paths() {
        assert_eq!(
            normalize("/usr/lib/../lib64/./x").as_deref(),
            Some("usr/lib64/x")
        );
        assert_eq!(normalize("a//b/").as_deref(), Some("a/b"));
        assert_eq!(normalize("../x"), None);
    }

    /// A fake tree: files with their dynamic info, and symbolic links.
    struct Fake {
        files: HashMap<String, DynamicInfo>,
        links: HashMap<String, String>,
    }

    impl Fake {
        fn resolve(&self, path: &str) -> Option<(String, Vec<String>)> {
            let mut path = normalize(path)?;
            let mut links = Vec::new();
            while let Some(target) = self.links.get(&path) {
                links.push(path.clone());
                path = if let Some(abs) = target.strip_prefix('/') {
                    abs.to_owned()
                } else {
                    normalize(&format!("{}/{target}", parent(&path)))?
                };
            }
            self.files.contains_key(&path).then_some((path, links))
        }
    }

    fn dynamic(interp: Option<&str>, needed: &[&str], runpath: &[&str]) -> DynamicInfo {
        DynamicInfo {
            interp: interp.map(str::to_owned),
            needed: needed.iter().map(|s| (*s).to_owned()).collect(),
            runpath: runpath.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    fn fake() -> Fake {
        let ld = "/lib64/ld-linux-x86-64.so.2";
        let files = [
            (
                "usr/lib/xen-4.17/bin/xl",
                dynamic(Some(ld), &["libxenlight.so.4.17", "libc.so.6"], &[]),
            ),
            (
                "usr/lib/xen-4.17/bin/xentop",
                dynamic(Some(ld), &["libfs.so.1", "libc.so.6"], &["$ORIGIN/../lib"]),
            ),
            (
                "usr/lib/xen-4.17/lib/libfs.so.1",
                dynamic(None, &["libc.so.6"], &[]),
            ),
            (
                "usr/lib/x86_64-linux-gnu/libxenlight.so.4.17.0",
                dynamic(None, &["libxenctrl.so.4.17", "libc.so.6"], &[]),
            ),
            (
                "usr/lib/x86_64-linux-gnu/libxenctrl.so.4.17.0",
                dynamic(None, &["libc.so.6"], &[]),
            ),
            (
                "lib/x86_64-linux-gnu/libc.so.6",
                dynamic(Some(ld), &["ld-linux-x86-64.so.2"], &[]),
            ),
            (
                "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
                dynamic(None, &[], &[]),
            ),
            (
                "lib/x86_64-linux-gnu/libgcc_s.so.1",
                dynamic(None, &["libc.so.6"], &[]),
            ),
            (
                "usr/lib/x86_64-linux-gnu/libunused.so.1",
                dynamic(None, &[], &[]),
            ),
        ];
        let links = [
            (
                "usr/lib/x86_64-linux-gnu/libxenlight.so.4.17",
                "libxenlight.so.4.17.0",
            ),
            (
                "usr/lib/x86_64-linux-gnu/libxenctrl.so.4.17",
                "libxenctrl.so.4.17.0",
            ),
            (
                "lib64/ld-linux-x86-64.so.2",
                "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
            ),
        ];
        Fake {
            files: files.into_iter().map(|(p, d)| (p.to_owned(), d)).collect(),
            links: links
                .into_iter()
                .map(|(a, b)| (a.to_owned(), b.to_owned()))
                .collect(),
        }
    }

    fn closure(fake: &Fake, binaries: &[&str], extra: &[&str]) -> Result<BTreeSet<String>> {
        let binaries: Vec<String> = binaries.iter().map(|s| (*s).to_owned()).collect();
        library_closure(
            &binaries,
            extra,
            |p| fake.files.get(p).cloned().context("no such file"),
            |p| fake.resolve(p),
        )
    }

    #[test]
    fn closure_on_a_fake_tree() {
        let fake = fake();
        let ship = closure(
            &fake,
            &["usr/lib/xen-4.17/bin/xl", "usr/lib/xen-4.17/bin/xentop"],
            &["libgcc_s.so.1"],
        )
        .unwrap();
        let expected: BTreeSet<String> = [
            "lib64/ld-linux-x86-64.so.2",
            "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
            "lib/x86_64-linux-gnu/libc.so.6",
            "lib/x86_64-linux-gnu/libgcc_s.so.1",
            "usr/lib/x86_64-linux-gnu/libxenlight.so.4.17",
            "usr/lib/x86_64-linux-gnu/libxenlight.so.4.17.0",
            "usr/lib/x86_64-linux-gnu/libxenctrl.so.4.17",
            "usr/lib/x86_64-linux-gnu/libxenctrl.so.4.17.0",
            "usr/lib/xen-4.17/lib/libfs.so.1",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect();
        assert_eq!(ship, expected);
    }

    #[test]
    fn missing_soname_names_it_and_its_user() {
        let mut fake = fake();
        fake.files
            .get_mut("usr/lib/x86_64-linux-gnu/libxenctrl.so.4.17.0")
            .unwrap()
            .needed
            .push("libyajl.so.2".into());
        let err = format!(
            "{:#}",
            closure(&fake, &["usr/lib/xen-4.17/bin/xl"], &[]).unwrap_err()
        );
        assert!(err.contains("libyajl.so.2"), "{err}");
        assert!(
            err.contains("/usr/lib/x86_64-linux-gnu/libxenctrl.so.4.17.0"),
            "{err}"
        );
    }

    #[test]
    fn real_tree_with_links() {
        let dir = std::env::temp_dir().join(format!("rxen-dom0-tree-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let lib = dir.join("usr/lib/x86_64-linux-gnu");
        fs::create_dir_all(&lib).unwrap();
        fs::create_dir_all(dir.join("usr/bin")).unwrap();
        fs::create_dir_all(dir.join("lib64")).unwrap();
        fs::write(
            dir.join("usr/bin/tool"),
            fake_elf(Some("/lib64/ld.so"), &["liba.so.1"], None),
        )
        .unwrap();
        fs::write(lib.join("liba.so.1.2"), fake_elf(None, &[], None)).unwrap();
        fs::write(lib.join("ld.so"), fake_elf(None, &[], None)).unwrap();
        std::os::unix::fs::symlink("liba.so.1.2", lib.join("liba.so.1")).unwrap();
        std::os::unix::fs::symlink("../usr/lib/x86_64-linux-gnu/ld.so", dir.join("lib64/ld.so"))
            .unwrap();
        let mut tree = Tree::default();
        tree.add_package("p", &dir).unwrap();
        assert_eq!(tree.owner["usr/bin/tool"], "p");
        let ship = library_closure(
            &["usr/bin/tool".to_owned()],
            &[],
            |path| match tree.nodes.get(path) {
                Some(Node::File { host, .. }) => dynamic_info(&fs::read(host)?),
                _ => bail!("not a file"),
            },
            |p| tree.resolve(p),
        )
        .unwrap();
        let names: Vec<&str> = ship.iter().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "lib64/ld.so",
                "usr/lib/x86_64-linux-gnu/ld.so",
                "usr/lib/x86_64-linux-gnu/liba.so.1",
                "usr/lib/x86_64-linux-gnu/liba.so.1.2"
            ]
        );
        assert!(host_is_elf(&dir.join("usr/bin/tool")));
        let _ = fs::remove_dir_all(&dir);
    }
}
