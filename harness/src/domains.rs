//! Domain configurations (xl.cfg files) → boot modules for rxen.
//!
//! rxen starts one domain per boot module whose name ends in `.cfg`; the
//! `kernel` and `ramdisk` values inside such a module name *other boot
//! modules*. Users write ordinary configurations with host paths, so for
//! each configuration file we:
//!
//! 1. find the `kernel = "…"` and `ramdisk = "…"` lines (line-based; single
//!    or double quotes);
//! 2. replace a placeholder value (`@debian-cloud-kernel@`, `@rxen-initramfs@`)
//!    by its host path; resolve a relative path against the configuration
//!    file's directory;
//! 3. add that file as a module (once per file, however many configurations
//!    use it) and rewrite the value to the module's name;
//! 4. add the rewritten copy of the configuration as a `.cfg` module.
//!
//! A path that does not exist is left as written, with a warning, so that
//! rxen reports that domain as failed and still starts the others.
//!
//! Module names (at most 47 bytes, the bundle's limit; characters other than
//! `A-Z a-z 0-9 . _ + -` become `_`):
//! * files: `k<N>-<file name>` for a kernel, `r<N>-<file name>` for a
//!   ramdisk (the role of its first use); `N` counts the distinct files from
//!   0; the file name is cut to fit, and a trailing `.cfg` becomes `_cfg` so
//!   no file is taken for a configuration;
//! * configurations: `c<N>-<file stem>.cfg`, `N` its position on the command
//!   line, the stem cut to fit.
//!
//! Files come first in the module list, then the configurations in the order
//! given.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use rxen_boot_info::bundle::MAX_NAME_LEN;

use crate::{content_hash, run_qemu, target_dir, GuestAssets, Module, QemuConfig, RunResult};

/// Stands for the Debian cloud kernel's `vmlinuz` (fetched by the harness).
pub const CLOUD_KERNEL_PLACEHOLDER: &str = "@debian-cloud-kernel@";
/// Stands for the test initramfs (built by the harness).
pub const INITRAMFS_PLACEHOLDER: &str = "@rxen-initramfs@";

/// A placeholder (`@name@`) and the host path it stands for.
pub type Placeholder = (&'static str, PathBuf);

/// The boot modules for the domain configurations `cfg_paths`.
pub fn domain_modules(cfg_paths: &[PathBuf], placeholders: &[Placeholder]) -> Result<Vec<Module>> {
    let mut files = FileModules::default();
    let mut configs = Vec::new();
    for (index, cfg_path) in cfg_paths.iter().enumerate() {
        let text = fs::read_to_string(cfg_path)
            .with_context(|| format!("reading the domain configuration {}", cfg_path.display()))?;
        let dir = cfg_path.parent().unwrap_or(Path::new("."));
        let rewritten = rewrite_config(&text, dir, cfg_path, placeholders, &mut files)?;
        let name = config_module_name(index, cfg_path);
        let path = write_rewritten_config(&name, &rewritten)?;
        eprintln!(
            "xtask: domain configuration {} -> module {name}",
            cfg_path.display()
        );
        configs.push(Module::new(name, path)?);
    }
    let mut modules = files.modules;
    modules.extend(configs);
    Ok(modules)
}

/// Which value a file was named by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Kernel,
    Ramdisk,
}

/// The kernel and ramdisk modules so far, one per distinct file.
#[derive(Default)]
struct FileModules {
    modules: Vec<Module>,
    by_path: HashMap<PathBuf, String>,
}

impl FileModules {
    /// The module name for `path` (an existing file), adding it if new.
    fn add(&mut self, role: Role, path: &Path) -> Result<String> {
        let canonical =
            fs::canonicalize(path).with_context(|| format!("resolving {}", path.display()))?;
        if let Some(name) = self.by_path.get(&canonical) {
            return Ok(name.clone());
        }
        let name = file_module_name(role, self.modules.len(), path);
        eprintln!("xtask:   {} -> module {name}", path.display());
        self.modules
            .push(Module::new(name.clone(), canonical.clone())?);
        self.by_path.insert(canonical, name.clone());
        Ok(name)
    }
}

/// The configuration with each existing kernel/ramdisk path replaced by
/// its module name.
fn rewrite_config(
    text: &str,
    dir: &Path,
    cfg_path: &Path,
    placeholders: &[Placeholder],
    files: &mut FileModules,
) -> Result<String> {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let Some(assignment) = PathAssignment::parse(line) else {
            out.push_str(line);
            continue;
        };
        let value = &line[assignment.value.clone()];
        let host_path = resolve_value(value, dir, placeholders).with_context(|| {
            format!("{}: {} = \"{value}\"", cfg_path.display(), assignment.key())
        })?;
        if host_path.is_file() {
            let name = files.add(assignment.role, &host_path)?;
            out.push_str(&line[..assignment.value.start]);
            out.push_str(&name);
            out.push_str(&line[assignment.value.end..]);
        } else {
            eprintln!(
                "xtask: warning: {}: {} {} does not exist; left as is, so rxen will not start that domain",
                cfg_path.display(),
                assignment.key(),
                host_path.display()
            );
            out.push_str(line);
        }
    }
    Ok(out)
}

/// The host path a `kernel`/`ramdisk` value names.
fn resolve_value(value: &str, dir: &Path, placeholders: &[Placeholder]) -> Result<PathBuf> {
    if value.len() > 2 && value.starts_with('@') && value.ends_with('@') {
        return match placeholders.iter().find(|(name, _)| *name == value) {
            Some((_, path)) => Ok(path.clone()),
            None => {
                let known: Vec<&str> = placeholders.iter().map(|(name, _)| *name).collect();
                bail!("unknown placeholder {value}; known: {}", known.join(", "))
            }
        };
    }
    Ok(dir.join(value))
}

/// A `kernel = "…"` or `ramdisk = '…'` line: where its value is.
struct PathAssignment {
    role: Role,
    /// Byte range of the value inside the line, without the quotes.
    value: std::ops::Range<usize>,
}

impl PathAssignment {
    fn parse(line: &str) -> Option<Self> {
        let body = line.trim_start();
        let start = line.len() - body.len();
        let key_len = body.find(|c: char| c == '=' || c.is_whitespace())?;
        let role = match &body[..key_len] {
            "kernel" => Role::Kernel,
            "ramdisk" => Role::Ramdisk,
            _ => return None,
        };
        let after_key = &body[key_len..];
        let after_eq = after_key.trim_start().strip_prefix('=')?;
        let quoted = after_eq.trim_start();
        let quote = quoted.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let value_start = start + key_len + (after_key.len() - quoted.len()) + 1;
        let value_len = line[value_start..].find(quote)?;
        Some(Self {
            role,
            value: value_start..value_start + value_len,
        })
    }

    fn key(&self) -> &'static str {
        match self.role {
            Role::Kernel => "kernel",
            Role::Ramdisk => "ramdisk",
        }
    }
}

/// `k<N>-<file name>` / `r<N>-<file name>`, see the module documentation.
fn file_module_name(role: Role, index: usize, path: &Path) -> String {
    let prefix = match role {
        Role::Kernel => format!("k{index}-"),
        Role::Ramdisk => format!("r{index}-"),
    };
    let file_name = path.file_name().unwrap_or_default().to_string_lossy();
    let mut name = prefix.clone() + &sanitize(&file_name, MAX_NAME_LEN - prefix.len());
    if name.ends_with(".cfg") {
        name.replace_range(name.len() - 4.., "_cfg");
    }
    name
}

/// `c<N>-<file stem>.cfg`, see the module documentation.
fn config_module_name(index: usize, path: &Path) -> String {
    let prefix = format!("c{index}-");
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let room = MAX_NAME_LEN - prefix.len() - ".cfg".len();
    format!("{prefix}{}.cfg", sanitize(&stem, room))
}

/// Keeps `A-Z a-z 0-9 . _ + -`, replaces anything else by `_`, cuts to
/// `max` bytes (all ASCII by then); an empty result becomes `_`.
fn sanitize(s: &str, max: usize) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._+-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(max)
        .collect();
    if out.is_empty() {
        out.push('_');
    }
    out
}

/// Keeps the rewritten configuration under `target/domain-cfgs/`, named by
/// its contents, so concurrent runs never overwrite each other's.
fn write_rewritten_config(module_name: &str, text: &str) -> Result<PathBuf> {
    let dir = target_dir().join("domain-cfgs");
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let hash = content_hash(text.as_bytes());
    let path = dir.join(format!("{hash:016x}-{module_name}"));
    fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// A domain as the integration tests describe it; [`TestDomain::config`]
/// gives its xl.cfg text.
#[derive(Clone, Debug)]
pub struct TestDomain {
    pub name: String,
    /// A path (relative to the configuration's directory) or placeholder.
    pub kernel: String,
    pub ramdisk: Option<String>,
    pub memory_mib: u64,
    pub vcpus: u32,
    /// The kernel command line (`extra`).
    pub extra: String,
    /// More xl.cfg lines (`cpu_weight = 512`, `on_crash = "preserve"`);
    /// they come last, so they override the defaults above them.
    pub settings: Vec<String>,
}

impl TestDomain {
    /// The Debian cloud kernel with the test initramfs, 256 MiB, one vCPU,
    /// running the initramfs's `rxen.test=<action>`.
    pub fn linux(name: &str, action: &str) -> Self {
        Self {
            name: name.to_owned(),
            kernel: CLOUD_KERNEL_PLACEHOLDER.to_owned(),
            ramdisk: Some(INITRAMFS_PLACEHOLDER.to_owned()),
            memory_mib: 256,
            vcpus: 1,
            extra: format!("console=hvc0 xen.fifo_events=0 rxen.test={action}"),
            settings: Vec::new(),
        }
    }

    /// Lets the guest kernel use the FIFO event-channel ABI, if the
    /// hypervisor offers it (test guests are told `xen.fifo_events=0`).
    pub fn with_fifo_events(mut self) -> Self {
        self.extra = self.extra.replace("xen.fifo_events=0 ", "");
        self
    }

    /// Adds an xl.cfg line.
    pub fn with(mut self, line: &str) -> Self {
        self.settings.push(line.to_owned());
        self
    }

    /// The xl.cfg text.
    pub fn config(&self) -> String {
        let mut cfg = String::new();
        let _ = writeln!(cfg, "name = \"{}\"", self.name);
        let _ = writeln!(cfg, "type = \"pvh\"");
        let _ = writeln!(cfg, "kernel = \"{}\"", self.kernel);
        if let Some(ramdisk) = &self.ramdisk {
            let _ = writeln!(cfg, "ramdisk = \"{ramdisk}\"");
        }
        let _ = writeln!(cfg, "extra = \"{}\"", self.extra);
        let _ = writeln!(cfg, "memory = {}", self.memory_mib);
        let _ = writeln!(cfg, "vcpus = {}", self.vcpus);
        let _ = writeln!(cfg, "on_poweroff = \"destroy\"");
        let _ = writeln!(cfg, "on_crash = \"destroy\"");
        for line in &self.settings {
            let _ = writeln!(cfg, "{line}");
        }
        cfg
    }
}

/// The directory a test keeps its files in: `target/test-data/<test>/`.
pub fn test_data_dir(test: &str) -> Result<PathBuf> {
    let dir = target_dir().join("test-data").join(test);
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// Writes each domain's configuration as `target/test-data/<test>/<name>.cfg`
/// and returns the paths, in order.
pub fn write_test_configs(test: &str, domains: &[TestDomain]) -> Result<Vec<PathBuf>> {
    let dir = test_data_dir(test)?;
    domains
        .iter()
        .map(|domain| {
            let path = dir.join(format!("{}.cfg", domain.name));
            fs::write(&path, domain.config())
                .with_context(|| format!("writing {}", path.display()))?;
            Ok(path)
        })
        .collect()
}

/// Boots `qemu` with the domains of `cfg_paths` added to its modules
/// (placeholders standing for `assets`).
pub fn boot_domains(
    mut qemu: QemuConfig,
    cfg_paths: &[PathBuf],
    assets: &GuestAssets,
) -> Result<RunResult> {
    let modules = domain_modules(cfg_paths, &assets.placeholders())?;
    qemu.modules.extend(modules);
    run_qemu(&qemu)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(test: &str) -> PathBuf {
        let dir = target_dir().join("harness-unit").join(test);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn module_text(m: &Module) -> String {
        fs::read_to_string(&m.path).unwrap()
    }

    #[test]
    fn assignments() {
        let a = PathAssignment::parse("  kernel = \"/boot/vmlinuz\" # c\n").unwrap();
        assert_eq!(a.role, Role::Kernel);
        assert_eq!(
            &"  kernel = \"/boot/vmlinuz\" # c\n"[a.value],
            "/boot/vmlinuz"
        );
        let b = PathAssignment::parse("ramdisk='x y'").unwrap();
        assert_eq!((b.role, &"ramdisk='x y'"[b.value]), (Role::Ramdisk, "x y"));
        assert!(PathAssignment::parse("kernelx = \"a\"").is_none());
        assert!(PathAssignment::parse("# kernel = \"a\"").is_none());
        assert!(PathAssignment::parse("kernel = 3").is_none());
        assert!(PathAssignment::parse("extra = \"kernel = 'x'\"").is_none());
    }

    #[test]
    fn names_fit_and_never_look_like_configs() {
        let long = "a".repeat(MAX_NAME_LEN + 50);
        let k = file_module_name(Role::Kernel, 12, Path::new(&format!("/x/{long}")));
        assert_eq!(k.len(), MAX_NAME_LEN);
        assert!(k.starts_with("k12-aaa"));
        assert_eq!(
            file_module_name(Role::Ramdisk, 0, Path::new("/x/my initrd")),
            "r0-my_initrd"
        );
        assert_eq!(
            file_module_name(Role::Kernel, 1, Path::new("t.cfg")),
            "k1-t_cfg"
        );
        let c = config_module_name(3, Path::new(&format!("/x/{long}.cfg")));
        assert_eq!(c.len(), MAX_NAME_LEN);
        assert!(c.starts_with("c3-aaa") && c.ends_with(".cfg"));
        assert_eq!(
            config_module_name(0, Path::new("configs/demo/guest1.cfg")),
            "c0-guest1.cfg"
        );
    }

    #[test]
    fn rewrites_paths_shares_files_and_keeps_missing_ones() {
        let dir = scratch("rewrite");
        fs::write(dir.join("vmlinuz"), "kernel").unwrap();
        fs::write(dir.join("initrd.img"), "initrd").unwrap();
        let one = dir.join("one.cfg");
        let two = dir.join("two.cfg");
        fs::write(
            &one,
            "name = \"one\"\nkernel = \"vmlinuz\"\nramdisk = \"@initrd@\"\n",
        )
        .unwrap();
        let abs = dir.join("vmlinuz");
        fs::write(
            &two,
            format!(
                "name = \"two\"\nkernel = '{}'\nramdisk = \"gone.img\"\n",
                abs.display()
            ),
        )
        .unwrap();
        let placeholders = [("@initrd@", dir.join("initrd.img"))];

        let modules = domain_modules(&[one, two], &placeholders).unwrap();
        let names: Vec<&str> = modules.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            ["k0-vmlinuz", "r1-initrd.img", "c0-one.cfg", "c1-two.cfg"]
        );
        assert_eq!(
            module_text(&modules[2]),
            "name = \"one\"\nkernel = \"k0-vmlinuz\"\nramdisk = \"r1-initrd.img\"\n"
        );
        assert_eq!(
            module_text(&modules[3]),
            "name = \"two\"\nkernel = 'k0-vmlinuz'\nramdisk = \"gone.img\"\n"
        );
    }

    #[test]
    fn demo_configs_become_modules() {
        let dir = scratch("demo");
        fs::write(dir.join("vmlinuz-6.1.0-99-cloud-amd64"), "k").unwrap();
        fs::write(dir.join("rxen-initramfs-0123.cpio"), "r").unwrap();
        let placeholders = [
            (
                CLOUD_KERNEL_PLACEHOLDER,
                dir.join("vmlinuz-6.1.0-99-cloud-amd64"),
            ),
            (INITRAMFS_PLACEHOLDER, dir.join("rxen-initramfs-0123.cpio")),
        ];
        let demo = crate::demo_configs().unwrap();
        let modules = domain_modules(&demo, &placeholders).unwrap();
        let names: Vec<&str> = modules.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "k0-vmlinuz-6.1.0-99-cloud-amd64",
                "r1-rxen-initramfs-0123.cpio",
                "c0-guest1.cfg",
                "c1-guest2.cfg"
            ]
        );
        for (module, name) in modules[2..].iter().zip(["guest1", "guest2"]) {
            let cfg = rxen_domain_config::parse(&module_text(module)).unwrap();
            assert_eq!(cfg.name, name);
            assert_eq!(cfg.kernel, "k0-vmlinuz-6.1.0-99-cloud-amd64");
            assert_eq!(cfg.ramdisk.as_deref(), Some("r1-rxen-initramfs-0123.cpio"));
            assert_eq!((cfg.memory_mib, cfg.vcpus), (256, 1));
            assert!(cfg.warnings.is_empty(), "{:?}", cfg.warnings);
        }
    }

    #[test]
    fn unknown_placeholder_is_an_error() {
        let dir = scratch("placeholder");
        let cfg = dir.join("a.cfg");
        fs::write(&cfg, "kernel = \"@nope@\"\n").unwrap();
        let err = domain_modules(&[cfg], &[]).unwrap_err();
        assert!(
            format!("{err:#}").contains("unknown placeholder @nope@"),
            "{err:#}"
        );
    }

    #[test]
    fn test_domain_config_parses_as_xl() {
        let text = TestDomain::linux("d1", "marker").config();
        let cfg = rxen_domain_config::parse(&text).unwrap();
        assert_eq!(cfg.name, "d1");
        assert_eq!(cfg.kernel, CLOUD_KERNEL_PLACEHOLDER);
        assert_eq!(cfg.ramdisk.as_deref(), Some(INITRAMFS_PLACEHOLDER));
        assert_eq!(
            cfg.cmdline,
            "console=hvc0 xen.fifo_events=0 rxen.test=marker"
        );
        assert_eq!((cfg.memory_mib, cfg.vcpus), (256, 1));
        assert!(cfg.warnings.is_empty(), "{:?}", cfg.warnings);
    }
}
