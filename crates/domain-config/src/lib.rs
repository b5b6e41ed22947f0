//! Domain configurations in Xen's `xl.cfg(5)` syntax, for rxen.
//!
//! Users describe a guest the way they would for Xen's `xl create`:
//!
//! ```
//! let cfg = rxen_domain_config::parse(r#"
//! name    = "web"    # a small PVH guest
//! type    = "pvh"
//! kernel  = "/boot/vmlinuz"
//! ramdisk = "/boot/initrd.img"
//! root    = "/dev/xvda1 ro"
//! extra   = "console=hvc0"
//! memory  = 512
//! vcpus   = 2
//! cpus    = "0-3,^1"
//! "#).unwrap();
//! assert_eq!(cfg.cmdline, "root=/dev/xvda1 ro console=hvc0");
//! assert_eq!(cfg.memory_mib, 512);
//! ```
//!
//! Two layers:
//! * [`raw`] — the syntax alone ([`parse_raw`] gives every `key = value`
//!   with its line), so keys such as `disk` and `vif` can be added later;
//! * [`parse`] — the keys rxen supports now, typed and validated, into a
//!   [`DomainConfig`].
//!
//! Behaviour follows xl (libxlutil's parser and `xl_parse.c`):
//! * **Repeated keys: the last one wins**, silently in xl (its setting list
//!   is searched newest first); we add a [`ConfigWarning`] unless the repeat
//!   is a `+=` append.
//! * Numbers may also be given as strings holding a number (`memory = "512"`),
//!   since xl reads both with `strtol`; a leading `0` means octal.
//! * Unknown keys (and xl keys rxen does not implement yet, such as `disk` or
//!   `vif`) are ignored with a warning, not an error.
//! * `cmdline` wins over `root`/`extra` (with a warning, as xl); otherwise
//!   the command line is `root=<root> <extra>`, `root=<root>` or `<extra>`.
//! * `name` is required ("no name given"), and so is `kernel` (rxen boots
//!   kernels directly; there is no bootloader support).
//!
//! Deliberate differences from xl: the default `type` is `"pvh"` (xl's x86
//! default is `"pv"`, which rxen does not run); `type` values must be spelled
//! in full (xl accepts prefixes); and CPU `node:` selections are unsupported.
//!
//! Every error carries the line it comes from: `line 3: memory = "lots":
//! expected a number of MiB`.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

mod cpuset;
mod error;
pub mod raw;

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

pub use cpuset::{CpuSet, MAX_CPUS};
pub use error::{ConfigError, ConfigWarning, ErrorKind};
pub use raw::{parse_raw, RawSetting, Value};

/// Memory when neither `memory` nor `maxmem` is given, in MiB. This is
/// libxl's default (`max_memkb = 32 * 1024`), which xl inherits; if only
/// `maxmem` is given, `memory` defaults to it, as in libxl.
pub const DEFAULT_MEMORY_MIB: u64 = 32;
/// Largest `memory`/`maxmem` accepted: 1 TiB.
pub const MAX_MEMORY_MIB: u64 = 1024 * 1024;
/// Largest `vcpus`/`maxvcpus` accepted.
pub const MAX_VCPUS: u32 = 128;
/// Largest `cap` accepted (percent of one physical CPU; 12800 = 128 CPUs).
pub const MAX_CAP: u32 = 12800;
/// Largest `cpu_weight` accepted (the credit scheduler's range is 1..=65535).
pub const MAX_WEIGHT: u32 = 65535;

/// The kind of guest (`type = "..."`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DomainKind {
    /// PVH: hardware-virtualised, no device model, Xen PV interfaces. The
    /// only kind rxen runs today, and our default.
    Pvh,
    /// HVM with an emulated platform. Not supported yet.
    Hvm,
    /// Classic paravirtualised guest. Not supported yet.
    Pv,
}

/// What to do when the guest powers off, reboots or crashes
/// (`on_poweroff`, `on_reboot`, `on_crash`), with xl's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// `"destroy"`: destroy the domain.
    Destroy,
    /// `"restart"`: destroy it and start a new one from the same configuration.
    Restart,
    /// `"preserve"`: keep the domain (for inspection) without running it.
    Preserve,
    /// `"rename-restart"`: rename the old domain, keep it, start a new one.
    RenameRestart,
    /// `"coredump-destroy"`: dump the domain's core, then destroy it.
    CoredumpDestroy,
    /// `"coredump-restart"`: dump the domain's core, then restart it.
    CoredumpRestart,
    /// `"soft-reset"`: reset the domain keeping its memory (kexec).
    SoftReset,
}

impl Action {
    const ALL: [Action; 7] = [
        Action::Destroy,
        Action::Restart,
        Action::Preserve,
        Action::RenameRestart,
        Action::CoredumpDestroy,
        Action::CoredumpRestart,
        Action::SoftReset,
    ];

    /// xl's name for the action.
    pub fn name(self) -> &'static str {
        match self {
            Action::Destroy => "destroy",
            Action::Restart => "restart",
            Action::Preserve => "preserve",
            Action::RenameRestart => "rename-restart",
            Action::CoredumpDestroy => "coredump-destroy",
            Action::CoredumpRestart => "coredump-restart",
            Action::SoftReset => "soft-reset",
        }
    }

    /// The action with xl's name `name`.
    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A domain as described by an xl.cfg file, checked and with xl's defaults
/// filled in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainConfig {
    /// `name` (required).
    pub name: String,
    /// `type`; default [`DomainKind::Pvh`].
    pub kind: DomainKind,
    /// `kernel` (required): path of the guest kernel image.
    pub kernel: String,
    /// `ramdisk`: path of the initial ramdisk.
    pub ramdisk: Option<String>,
    /// `cmdline`, or built from `root` and `extra` as xl does; empty if none.
    pub cmdline: String,
    /// `memory` in MiB; default `maxmem`, else [`DEFAULT_MEMORY_MIB`].
    pub memory_mib: u64,
    /// `maxmem` in MiB (≥ `memory_mib`); `None` means equal to `memory_mib`.
    pub maxmem_mib: Option<u64>,
    /// `vcpus`: vCPUs online at boot; default 1.
    pub vcpus: u32,
    /// `maxvcpus` (≥ `vcpus`); `None` means equal to `vcpus`.
    pub maxvcpus: Option<u32>,
    /// `on_poweroff`; default [`Action::Destroy`].
    pub on_poweroff: Action,
    /// `on_reboot`; default [`Action::Restart`].
    pub on_reboot: Action,
    /// `on_crash`; default [`Action::Destroy`].
    pub on_crash: Action,
    /// `cpu_weight` (credit scheduler weight, 1..=65535); `None`: scheduler
    /// default (256).
    pub weight: Option<u32>,
    /// `cap` (percent of one physical CPU, 0 = no cap); `None`: no cap.
    pub cap: Option<u32>,
    /// `cpus` (hard affinity of every vCPU); `None`: any CPU.
    pub cpus: Option<CpuSet>,
    /// Ignored keys, overridden settings and the like.
    pub warnings: Vec<ConfigWarning>,
}

impl DomainConfig {
    /// `maxmem_mib`, or `memory_mib` when it is not set.
    pub fn max_memory_mib(&self) -> u64 {
        self.maxmem_mib.unwrap_or(self.memory_mib)
    }

    /// `maxvcpus`, or `vcpus` when it is not set.
    pub fn max_vcpus(&self) -> u32 {
        self.maxvcpus.unwrap_or(self.vcpus)
    }
}

/// Keys [`parse`] understands.
const KNOWN_KEYS: &[&str] = &[
    "name",
    "type",
    "builder",
    "kernel",
    "ramdisk",
    "cmdline",
    "root",
    "extra",
    "memory",
    "maxmem",
    "vcpus",
    "maxvcpus",
    "on_poweroff",
    "on_reboot",
    "on_crash",
    "cpu_weight",
    "cap",
    "cpus",
];

/// Parses an xl.cfg file into a [`DomainConfig`].
///
/// Errors are for broken syntax, bad values of known keys, missing `name` or
/// `kernel`, and settings rxen does not support yet (`type = "hvm"`); see
/// the crate documentation for the rules.
pub fn parse(text: &str) -> Result<DomainConfig, ConfigError> {
    let entries = raw::parse_entries(text)?;
    let mut warnings = Vec::new();

    // Last setting of a key wins, as in xl.
    let mut settings: BTreeMap<&str, (usize, &Value)> = BTreeMap::new();
    for e in &entries {
        if let Some((prev, _)) = settings.insert(&e.key, (e.line, &e.value)) {
            if !e.appended {
                warnings.push(warn(
                    e.line,
                    format!(
                        "`{}` is set again (also on line {prev}); the last setting wins",
                        e.key
                    ),
                ));
            }
        }
    }
    for (key, (line, _)) in &settings {
        if !KNOWN_KEYS.contains(key) {
            let hint = match *key {
                "weight" => "; did you mean `cpu_weight`?",
                "initrd" => "; did you mean `ramdisk`?",
                "bootloader" => "; rxen boots kernels directly: use `kernel`",
                _ => "",
            };
            warnings.push(warn(
                *line,
                format!("`{key}` is unknown or not supported by rxen yet; ignored{hint}"),
            ));
        }
    }
    let s = Settings { map: &settings };

    // Guest type.
    let mut kind = DomainKind::Pvh;
    let mut kind_src = None;
    if let Some((line, v, t)) = s.string("type", "a guest type")? {
        kind_src = Some((line, "type", v));
        kind = match t.as_str() {
            "pvh" => DomainKind::Pvh,
            "hvm" => DomainKind::Hvm,
            "pv" => DomainKind::Pv,
            _ => {
                return Err(invalid(
                    line,
                    "type",
                    v,
                    "expected \"pvh\", \"hvm\" or \"pv\"",
                ))
            }
        };
    }
    if let Some((line, v, b)) = s.string("builder", "a builder")? {
        warnings.push(warn(
            line,
            "`builder` is deprecated since Xen 4.10; use `type`".into(),
        ));
        let from_builder = match b.as_str() {
            "hvm" => DomainKind::Hvm,
            "generic" => DomainKind::Pv,
            _ => {
                return Err(invalid(
                    line,
                    "builder",
                    v,
                    "expected \"hvm\" or \"generic\" (better: use type = \"pvh\")",
                ))
            }
        };
        if settings.contains_key("type") && from_builder != kind {
            return Err(invalid(
                line,
                "builder",
                v,
                "contradicts `type`; remove `builder`",
            ));
        }
        kind = from_builder;
        kind_src = Some((line, "builder", v));
    }
    if let (Some((line, key, v)), DomainKind::Hvm | DomainKind::Pv) = (kind_src, kind) {
        return Err(ConfigError::new(
            ErrorKind::Unsupported,
            line,
            format!(
                "{key} = {}: {} guests are not supported by rxen yet; use type = \"pvh\"",
                short(v),
                if kind == DomainKind::Hvm { "HVM" } else { "PV" }
            ),
        ));
    }

    let name = match s.string("name", "the domain name")? {
        None => {
            return Err(ConfigError::new(
                ErrorKind::Missing,
                0,
                "no name given: add name = \"<domain name>\"",
            ))
        }
        Some((line, v, n)) => {
            if n.is_empty() || n.chars().any(char::is_control) {
                return Err(invalid(
                    line,
                    "name",
                    v,
                    "expected a non-empty name without control characters",
                ));
            }
            n
        }
    };

    let kernel = match s.path("kernel")? {
        Some(k) => k,
        None => {
            return Err(ConfigError::new(
                ErrorKind::Missing,
                0,
                "no kernel given: add kernel = \"/path/to/vmlinuz\"",
            ))
        }
    };
    let ramdisk = s.path("ramdisk")?;

    // Command line, as xl's parse_cmdline().
    let cmdline = s.string("cmdline", "a kernel command line")?;
    let root = s.string("root", "a root device")?;
    let extra = s.string("extra", "extra kernel arguments")?;
    let cmdline = match (cmdline, root, extra) {
        (Some((line, _, c)), root, extra) => {
            if root.is_some() || extra.is_some() {
                warnings.push(warn(
                    line,
                    "`root` and `extra` are ignored in favour of `cmdline`".into(),
                ));
            }
            c
        }
        (None, Some((_, _, r)), Some((_, _, e))) => format!("root={r} {e}"),
        (None, Some((_, _, r)), None) => format!("root={r}"),
        (None, None, Some((_, _, e))) => e,
        (None, None, None) => String::new(),
    };

    // Memory.
    let memory = s.number(
        "memory",
        "a number of MiB",
        1,
        MAX_MEMORY_MIB,
        "MiB (1 TiB)",
    )?;
    let maxmem = s.number(
        "maxmem",
        "a number of MiB",
        1,
        MAX_MEMORY_MIB,
        "MiB (1 TiB)",
    )?;
    let memory_mib = memory
        .or(maxmem)
        .map(|(_, _, n)| n)
        .unwrap_or(DEFAULT_MEMORY_MIB);
    if let Some((line, v, max)) = maxmem {
        if max < memory_mib {
            return Err(invalid(
                line,
                "maxmem",
                v,
                &format!("must be at least memory ({memory_mib} MiB)"),
            ));
        }
    }

    // vCPUs.
    let max = u64::from(MAX_VCPUS);
    let vcpus = s.number("vcpus", "a number of vCPUs", 1, max, "")?;
    let maxvcpus = s.number("maxvcpus", "a number of vCPUs", 1, max, "")?;
    let vcpus_n = vcpus.map(|(_, _, n)| n).unwrap_or(1);
    if let Some((line, v, m)) = maxvcpus {
        if m < vcpus_n {
            return Err(invalid(
                line,
                "maxvcpus",
                v,
                &format!("must be at least vcpus ({vcpus_n})"),
            ));
        }
    }

    let on_poweroff = s.action("on_poweroff", Action::Destroy)?;
    let on_reboot = s.action("on_reboot", Action::Restart)?;
    let on_crash = s.action("on_crash", Action::Destroy)?;

    let weight = s.number(
        "cpu_weight",
        "a scheduler weight",
        1,
        u64::from(MAX_WEIGHT),
        "",
    )?;
    let cap = s.number(
        "cap",
        "a percentage of one CPU",
        0,
        u64::from(MAX_CAP),
        "(percent of one CPU)",
    )?;

    let cpus = match s.get("cpus") {
        None => None,
        Some((line, v)) => Some(cpuset_value(line, v)?),
    };

    warnings.sort_by_key(|w| w.line);
    Ok(DomainConfig {
        name,
        kind,
        kernel,
        ramdisk,
        cmdline,
        memory_mib,
        maxmem_mib: maxmem.map(|(_, _, n)| n),
        vcpus: to_u32(vcpus_n),
        maxvcpus: maxvcpus.map(|(_, _, n)| to_u32(n)),
        on_poweroff,
        on_reboot,
        on_crash,
        weight: weight.map(|(_, _, n)| to_u32(n)),
        cap: cap.map(|(_, _, n)| to_u32(n)),
        cpus,
        warnings,
    })
}

fn cpuset_value(line: usize, v: &Value) -> Result<CpuSet, ConfigError> {
    let set = match v {
        Value::Str(spec) => CpuSet::parse(spec).map_err(|m| invalid(line, "cpus", v, &m))?,
        Value::Int(n) => {
            let mut set = CpuSet::empty();
            let ok = usize::try_from(*n).is_ok_and(|n| set.insert(n));
            if !ok {
                return Err(invalid(
                    line,
                    "cpus",
                    v,
                    &format!("CPUs are numbered 0 to {}", MAX_CPUS - 1),
                ));
            }
            set
        }
        Value::List(_) => {
            return Err(ConfigError::new(
                ErrorKind::Unsupported,
                line,
                format!(
                    "cpus = {}: per-vCPU affinity lists are not supported yet; \
                     give one set for all vCPUs, e.g. cpus = \"0-3\"",
                    short(v)
                ),
            ))
        }
    };
    if set.is_empty() {
        return Err(invalid(
            line,
            "cpus",
            v,
            "selects no CPU (to exclude CPUs, start from all: \"all,^1\")",
        ));
    }
    Ok(set)
}

fn to_u32(n: u64) -> u32 {
    // Callers bound n to at most 65535 before converting.
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn warn(line: usize, message: String) -> ConfigWarning {
    ConfigWarning { line, message }
}

/// The value as written, shortened for messages.
fn short(v: &Value) -> String {
    const LIMIT: usize = 60;
    let s = v.to_string();
    if s.chars().count() <= LIMIT {
        return s;
    }
    let mut cut: String = s.chars().take(LIMIT).collect();
    cut.push_str("...");
    cut
}

fn invalid(line: usize, key: &str, v: &Value, problem: &str) -> ConfigError {
    ConfigError::new(
        ErrorKind::Invalid,
        line,
        format!("{key} = {}: {problem}", short(v)),
    )
}

/// The effective (last) setting of each key.
struct Settings<'a> {
    map: &'a BTreeMap<&'a str, (usize, &'a Value)>,
}

impl<'a> Settings<'a> {
    fn get(&self, key: &str) -> Option<(usize, &'a Value)> {
        self.map.get(key).copied()
    }

    /// A string-valued key: `(line, value, string)`.
    fn string(
        &self,
        key: &str,
        what: &str,
    ) -> Result<Option<(usize, &'a Value, String)>, ConfigError> {
        let Some((line, v)) = self.get(key) else {
            return Ok(None);
        };
        match v {
            Value::Str(s) => Ok(Some((line, v, s.clone()))),
            Value::Int(n) => Err(invalid(
                line,
                key,
                v,
                &format!("expected {what} in quotes, e.g. {key} = \"{n}\""),
            )),
            Value::List(_) => Err(invalid(
                line,
                key,
                v,
                &format!("expected {what} (one quoted string), not a list"),
            )),
        }
    }

    fn path(&self, key: &str) -> Result<Option<String>, ConfigError> {
        match self.string(key, "a path")? {
            None => Ok(None),
            Some((line, v, p)) if p.is_empty() => Err(invalid(
                line,
                key,
                v,
                "expected a path, not an empty string",
            )),
            Some((_, _, p)) => Ok(Some(p)),
        }
    }

    /// A number-valued key within `lo..=hi`: `(line, value, number)`.
    fn number(
        &self,
        key: &str,
        what: &str,
        lo: u64,
        hi: u64,
        unit: &str,
    ) -> Result<Option<(usize, &'a Value, u64)>, ConfigError> {
        let Some((line, v)) = self.get(key) else {
            return Ok(None);
        };
        let Some(n) = v.as_int() else {
            return Err(invalid(line, key, v, &format!("expected {what}")));
        };
        if n < lo || n > hi {
            let unit = if unit.is_empty() {
                String::new()
            } else {
                format!(" {unit}")
            };
            return Err(invalid(
                line,
                key,
                v,
                &format!("must be between {lo} and {hi}{unit}"),
            ));
        }
        Ok(Some((line, v, n)))
    }

    fn action(&self, key: &str, default: Action) -> Result<Action, ConfigError> {
        match self.string(key, "an action")? {
            None => Ok(default),
            Some((line, v, name)) => Action::from_name(&name).ok_or_else(|| {
                invalid(
                    line,
                    key,
                    v,
                    "expected \"destroy\", \"restart\", \"preserve\", \"rename-restart\", \
                     \"coredump-destroy\", \"coredump-restart\" or \"soft-reset\"",
                )
            }),
        }
    }
}
