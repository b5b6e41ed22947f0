//! The hypervisor command line.
//!
//! Xen conventions, so Xen users feel at home: tokens separated by spaces,
//! each `key=value` or a bare flag; booleans also as `key=0|1|no|yes|...`
//! and `no-key`; `-` and `_` are interchangeable in keys; the last
//! occurrence of an option wins. Nothing here fails: unknown tokens and bad
//! values are reported through [`Cmdline::issues`] for the hypervisor to
//! log once its console is up.

use core::fmt;

/// Log verbosity (`loglvl=`), Xen's names, least to most verbose.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// `none`: log nothing.
    Off,
    /// `error`.
    Error,
    /// `warning`.
    Warning,
    /// `info` (the default).
    #[default]
    Info,
    /// `debug`.
    Debug,
    /// `all`.
    All,
}

impl LogLevel {
    /// Parses Xen's level name. Xen's `loglvl=X/Y` (X: unconditional level,
    /// Y: rate-limited level) is accepted by taking X.
    pub fn from_name(name: &str) -> Option<Self> {
        let name = name.split('/').next().unwrap_or(name);
        Some(match name {
            "none" => Self::Off,
            "error" => Self::Error,
            "warning" => Self::Warning,
            "info" => Self::Info,
            "debug" => Self::Debug,
            "all" => Self::All,
            _ => return None,
        })
    }

    /// The name as written on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Off => "none",
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Info => "info",
            Self::Debug => "debug",
            Self::All => "all",
        }
    }
}

/// A deliberate failure the integration tests trigger (`selftest=`) to
/// check that fault and panic reporting works.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelfTest {
    /// `pagefault`: touch an unmapped address.
    PageFault,
    /// `panic`: call `panic!`.
    Panic,
}

impl SelfTest {
    /// Parses the option value.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "pagefault" => Some(Self::PageFault),
            "panic" => Some(Self::Panic),
            _ => None,
        }
    }
}

/// An amount of memory as Xen's `dom0_mem=` writes it: a size, or all
/// but a size (a leading `-`), or a share of the machine (`NN%`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemAmount {
    /// This many bytes.
    Bytes(u64),
    /// All available memory but this many bytes.
    AllBut(u64),
    /// This per cent (1..=100) of the available memory.
    Percent(u8),
}

impl MemAmount {
    /// Parses `512M`, `-1G`, `2097152` (KiB, Xen's default unit), `25%`.
    pub fn parse(text: &str) -> Option<Self> {
        if let Some(p) = text.strip_suffix('%') {
            let p: u8 = p.parse().ok()?;
            return (1..=100).contains(&p).then_some(Self::Percent(p));
        }
        match text.strip_prefix('-') {
            Some(rest) => parse_size(rest).map(Self::AllBut),
            None => parse_size(text).map(Self::Bytes),
        }
    }

    /// The amount in bytes out of `available`.
    pub fn of(self, available: u64) -> u64 {
        match self {
            Self::Bytes(b) => b,
            Self::AllBut(b) => available.saturating_sub(b),
            Self::Percent(p) => (u128::from(available) * u128::from(p) / 100) as u64,
        }
    }
}

/// A size with an optional unit (B, K, M, G, T; KiB when there is none).
fn parse_size(text: &str) -> Option<u64> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits.parse().ok()?;
    let shift = match unit {
        "" | "k" | "K" => 10,
        "b" | "B" => 0,
        "m" | "M" => 20,
        "g" | "G" => 30,
        "t" | "T" => 40,
        _ => return None,
    };
    n.checked_mul(1 << shift)
}

/// `dom0_mem=[min:AMT,][max:AMT,][AMT]`, Xen's syntax and meaning.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dom0Mem {
    /// The amount asked for.
    pub amount: Option<MemAmount>,
    /// At least this much.
    pub min: Option<MemAmount>,
    /// At most this much.
    pub max: Option<MemAmount>,
}

impl Dom0Mem {
    /// Parses the option's value.
    pub fn parse(value: &str) -> Option<Self> {
        let mut spec = Self::default();
        for part in value.split(',') {
            if let Some(v) = part.strip_prefix("min:") {
                spec.min = Some(MemAmount::parse(v)?);
            } else if let Some(v) = part.strip_prefix("max:") {
                spec.max = Some(MemAmount::parse(v)?);
            } else {
                spec.amount = Some(MemAmount::parse(part)?);
            }
        }
        Some(spec)
    }

    /// Bytes for dom0 out of `available` free bytes, as Xen computes it:
    /// without an amount, all but 1/16 (at most 128 MiB) kept for the
    /// hypervisor; then clamped to [min, max] and to what is available.
    pub fn resolve(&self, available: u64) -> u64 {
        let reserve = (available / 16).min(128 << 20);
        let mut bytes = match self.amount {
            Some(a) => a.of(available),
            None => available.saturating_sub(reserve),
        };
        if let Some(max) = self.max {
            bytes = bytes.min(max.of(available));
        }
        if let Some(min) = self.min {
            bytes = bytes.max(min.of(available));
        }
        bytes.min(available)
    }
}

/// `dom0_max_vcpus=N` or `=MIN-MAX`: how many vCPUs dom0 gets (Xen: as
/// many as there are CPUs, within these bounds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dom0Vcpus {
    pub min: u32,
    pub max: u32,
}

impl Dom0Vcpus {
    pub fn parse(value: &str) -> Option<Self> {
        let (min, max) = match value.split_once('-') {
            Some((a, b)) => (a.parse().ok()?, b.parse().ok()?),
            None => {
                let n: u32 = value.parse().ok()?;
                (n, n)
            }
        };
        (min >= 1 && min <= max).then_some(Self { min, max })
    }

    /// vCPUs for dom0 on a machine with `cpus` CPUs.
    pub fn resolve(spec: Option<Self>, cpus: u32) -> u32 {
        match spec {
            Some(s) => cpus.clamp(s.min, s.max),
            None => cpus.max(1),
        }
    }
}

/// A token the parser could not use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmdlineIssue<'a> {
    /// An option this hypervisor does not know (the whole token).
    Unknown(&'a str),
    /// A known option with a value it does not accept.
    BadValue {
        /// The option name as written.
        key: &'a str,
        /// The rejected value.
        value: &'a str,
    },
    /// A known option that needs a value but was given none.
    MissingValue(&'a str),
}

impl fmt::Display for CmdlineIssue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown(token) => write!(f, "unknown option '{token}'"),
            Self::BadValue { key, value } => write!(f, "bad value '{value}' for option '{key}'"),
            Self::MissingValue(key) => write!(f, "option '{key}' needs a value"),
        }
    }
}

/// The parsed command line. Options are plain fields; problems are
/// recomputed on demand by [`issues`](Self::issues) (no heap to store them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cmdline<'a> {
    raw: &'a str,
    /// `loglvl=`: hypervisor log verbosity.
    pub loglvl: LogLevel,
    /// `debug_exit`: on shutdown or panic, leave QEMU through its
    /// `isa-debug-exit` device so tests get an exit status.
    pub debug_exit: bool,
    /// `evtchn_fifo`: offer guests the FIFO event-channel ABI
    /// (`EVTCHNOP_init_control`), as Xen does; on unless
    /// `no-evtchn_fifo`, which keeps them on the 2-level one.
    pub evtchn_fifo: bool,
    /// `selftest=`: fail on purpose after boot.
    pub selftest: Option<SelfTest>,
    /// `dom0_mem=`: the control domain's memory.
    pub dom0_mem: Dom0Mem,
    /// `dom0_max_vcpus=`: the control domain's vCPUs.
    pub dom0_max_vcpus: Option<Dom0Vcpus>,
}

/// One recognised token.
enum Token<'a> {
    LogLevel(LogLevel),
    DebugExit(bool),
    EvtchnFifo(bool),
    SelfTest(SelfTest),
    Dom0Mem(Dom0Mem),
    Dom0Vcpus(Dom0Vcpus),
    /// A Xen option rxen accepts and has nothing to do for.
    Accepted,
    Issue(CmdlineIssue<'a>),
}

impl<'a> Cmdline<'a> {
    /// Parses `raw`; never fails (see [`issues`](Self::issues)).
    pub fn parse(raw: &'a str) -> Self {
        let mut cmdline = Self {
            raw,
            loglvl: LogLevel::default(),
            debug_exit: false,
            evtchn_fifo: true,
            selftest: None,
            dom0_mem: Dom0Mem::default(),
            dom0_max_vcpus: None,
        };
        for token in tokens(raw) {
            match token {
                Token::LogLevel(level) => cmdline.loglvl = level,
                Token::DebugExit(on) => cmdline.debug_exit = on,
                Token::EvtchnFifo(on) => cmdline.evtchn_fifo = on,
                Token::SelfTest(test) => cmdline.selftest = Some(test),
                Token::Dom0Mem(m) => cmdline.dom0_mem = m,
                Token::Dom0Vcpus(v) => cmdline.dom0_max_vcpus = Some(v),
                Token::Accepted | Token::Issue(_) => {}
            }
        }
        cmdline
    }

    /// The command line as given.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// Every token that was not understood, in order, for logging.
    pub fn issues(&self) -> impl Iterator<Item = CmdlineIssue<'a>> + 'a {
        tokens(self.raw).filter_map(|t| match t {
            Token::Issue(issue) => Some(issue),
            _ => None,
        })
    }

    /// Tokens naming options this hypervisor does not know.
    pub fn unknown_tokens(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.issues().filter_map(|i| match i {
            CmdlineIssue::Unknown(token) => Some(token),
            _ => None,
        })
    }
}

/// Interprets each whitespace-separated token of `raw`.
fn tokens(raw: &str) -> impl Iterator<Item = Token<'_>> {
    raw.split_ascii_whitespace().map(token)
}

fn token(tok: &str) -> Token<'_> {
    let (key, value) = match tok.split_once('=') {
        Some((k, v)) => (k, Some(v)),
        None => (tok, None),
    };
    let bad = || {
        Token::Issue(CmdlineIssue::BadValue {
            key,
            value: value.unwrap_or(""),
        })
    };
    let missing = || Token::Issue(CmdlineIssue::MissingValue(key));

    if key_is(key, "loglvl") {
        return match value {
            None => missing(),
            Some(v) => LogLevel::from_name(v).map_or_else(bad, Token::LogLevel),
        };
    }
    if key_is(key, "selftest") {
        return match value {
            None => missing(),
            Some(v) => SelfTest::from_name(v).map_or_else(bad, Token::SelfTest),
        };
    }
    if key_is(key, "dom0_mem") {
        return match value {
            None => missing(),
            Some(v) => Dom0Mem::parse(v).map_or_else(bad, Token::Dom0Mem),
        };
    }
    if key_is(key, "dom0_max_vcpus") {
        return match value {
            None => missing(),
            Some(v) => Dom0Vcpus::parse(v).map_or_else(bad, Token::Dom0Vcpus),
        };
    }
    // Xen's console and dom0-mode options, which a Xen command line carries:
    // rxen's console is COM1 at 115200 and its dom0 is always PVH.
    if [
        "console",
        "com1",
        "conswitch",
        "sync_console",
        "guest_loglvl",
    ]
    .iter()
    .any(|k| key_is(key, k))
        || (key_is(key, "dom0") && value == Some("pvh"))
    {
        return Token::Accepted;
    }
    let flags: [BoolOption; 2] = [
        ("debug_exit", Token::DebugExit),
        ("evtchn_fifo", Token::EvtchnFifo),
    ];
    for (name, flag) in flags {
        if key_is(key, name) {
            return match value {
                None => flag(true),
                Some(v) => parse_bool(v).map_or_else(bad, flag),
            };
        }
        if value.is_none() && key.strip_prefix("no-").is_some_and(|k| key_is(k, name)) {
            return flag(false);
        }
    }
    Token::Issue(CmdlineIssue::Unknown(tok))
}

/// A boolean option's name and its token.
type BoolOption = (&'static str, fn(bool) -> Token<'static>);

/// Compares option names treating `-` and `_` alike, as Xen does.
fn key_is(key: &str, name: &str) -> bool {
    let norm = |c: u8| if c == b'-' { b'_' } else { c };
    key.len() == name.len()
        && key
            .bytes()
            .zip(name.bytes())
            .all(|(a, b)| norm(a) == norm(b))
}

/// Xen's boolean spellings.
fn parse_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "yes" | "true" | "on" | "enable" => Some(true),
        "0" | "no" | "false" | "off" | "disable" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::vec::Vec;

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn defaults() {
        let c = Cmdline::parse("");
        assert_eq!(c.loglvl, LogLevel::Info);
        assert!(!c.debug_exit);
        assert_eq!(c.selftest, None);
        assert_eq!(c.issues().count(), 0);
    }

    #[test]
    fn all_options() {
        let c = Cmdline::parse("  loglvl=debug\tdebug_exit selftest=pagefault ");
        assert_eq!(c.loglvl, LogLevel::Debug);
        assert!(c.debug_exit);
        assert_eq!(c.selftest, Some(SelfTest::PageFault));
        assert_eq!(
            Cmdline::parse("selftest=panic").selftest,
            Some(SelfTest::Panic)
        );
    }

    #[test]
    fn every_log_level_name() {
        for level in [
            LogLevel::Off,
            LogLevel::Error,
            LogLevel::Warning,
            LogLevel::Info,
            LogLevel::Debug,
            LogLevel::All,
        ] {
            assert_eq!(LogLevel::from_name(level.name()), Some(level));
        }
        assert!(LogLevel::Off < LogLevel::Error && LogLevel::Debug < LogLevel::All);
    }

    #[test]
    fn xen_style_slash_levels() {
        assert_eq!(Cmdline::parse("loglvl=all/all").loglvl, LogLevel::All);
        assert_eq!(
            Cmdline::parse("loglvl=warning/debug").loglvl,
            LogLevel::Warning
        );
    }

    #[test]
    fn booleans_and_dashes() {
        assert!(Cmdline::parse("debug-exit").debug_exit);
        assert!(Cmdline::parse("debug_exit=yes").debug_exit);
        assert!(!Cmdline::parse("debug_exit no-debug_exit").debug_exit);
        assert!(!Cmdline::parse("debug_exit debug_exit=off").debug_exit);
        assert!(!Cmdline::parse("debug_exit no-debug-exit").debug_exit);
        assert!(Cmdline::parse("debug_exit").evtchn_fifo);
        assert!(!Cmdline::parse("no-evtchn-fifo").evtchn_fifo);
        assert!(!Cmdline::parse("evtchn_fifo=0").evtchn_fifo);
        assert!(!Cmdline::parse("evtchn_fifo=1 no-evtchn_fifo").evtchn_fifo);
        assert!(Cmdline::parse("no-evtchn_fifo evtchn_fifo").evtchn_fifo);
        assert_eq!(Cmdline::parse("evtchn_fifo=2").issues().count(), 1);
    }

    #[test]
    fn last_occurrence_wins() {
        assert_eq!(
            Cmdline::parse("loglvl=none loglvl=error").loglvl,
            LogLevel::Error
        );
    }

    #[test]
    fn problems_are_reported_not_fatal() {
        let c =
            Cmdline::parse("loglvl=loud console2=com1 selftest noreboot debug_exit=maybe loglvl=");
        assert_eq!(c.loglvl, LogLevel::Info);
        assert!(!c.debug_exit);
        let issues: Vec<_> = c.issues().collect();
        assert_eq!(
            issues,
            [
                CmdlineIssue::BadValue {
                    key: "loglvl",
                    value: "loud"
                },
                CmdlineIssue::Unknown("console2=com1"),
                CmdlineIssue::MissingValue("selftest"),
                CmdlineIssue::Unknown("noreboot"),
                CmdlineIssue::BadValue {
                    key: "debug_exit",
                    value: "maybe"
                },
                CmdlineIssue::BadValue {
                    key: "loglvl",
                    value: ""
                },
            ]
        );
        let unknown: Vec<_> = c.unknown_tokens().collect();
        assert_eq!(unknown, ["console2=com1", "noreboot"]);
        assert!(c.raw().starts_with("loglvl=loud "));
        // Display is meant for the log.
        assert_eq!(
            std::format!("{}", issues[0]),
            "bad value 'loud' for option 'loglvl'"
        );
    }

    #[test]
    fn dom0_memory_as_xen_reads_it() {
        let gib = 1u64 << 30;
        let c = Cmdline::parse("dom0_mem=512M dom0_max_vcpus=1-4");
        assert_eq!(c.dom0_mem.amount, Some(MemAmount::Bytes(512 << 20)));
        assert_eq!(c.dom0_mem.resolve(4 * gib), 512 << 20);
        assert_eq!(c.dom0_max_vcpus, Some(Dom0Vcpus { min: 1, max: 4 }));
        assert_eq!(Dom0Vcpus::resolve(c.dom0_max_vcpus, 8), 4);
        assert_eq!(Dom0Vcpus::resolve(None, 2), 2);
        assert_eq!(Dom0Vcpus::resolve(Dom0Vcpus::parse("1"), 2), 1);
        // KiB without a unit, all-but, per cent, min and max.
        assert_eq!(MemAmount::parse("2048"), Some(MemAmount::Bytes(2 << 20)));
        assert_eq!(Dom0Mem::parse("-1G").unwrap().resolve(4 * gib), 3 * gib);
        assert_eq!(Dom0Mem::parse("25%").unwrap().resolve(4 * gib), gib);
        let m = Dom0Mem::parse("min:1G,max:2G,-512M").unwrap();
        assert_eq!(m.resolve(4 * gib), 2 * gib);
        assert_eq!(m.resolve(gib + (256 << 20)), gib);
        // Nothing given: all but 1/16, at most 128 MiB.
        assert_eq!(Dom0Mem::default().resolve(4 * gib), 4 * gib - (128 << 20));
        assert_eq!(Dom0Mem::default().resolve(gib), gib - (64 << 20));
        // Never more than there is.
        assert_eq!(Dom0Mem::parse("8G").unwrap().resolve(gib), gib);
        for bad in [
            "dom0_mem=lots",
            "dom0_mem=12Q",
            "dom0_max_vcpus=0",
            "dom0_max_vcpus=4-2",
        ] {
            assert_eq!(Cmdline::parse(bad).issues().count(), 1, "{bad}");
        }
        // Xen's own options are not reported as unknown.
        assert_eq!(
            Cmdline::parse("dom0=pvh console=com1 com1=115200,8n1")
                .issues()
                .count(),
            0
        );
        assert_eq!(Cmdline::parse("dom0=pv").issues().count(), 1);
    }

    #[test]
    fn no_prefix_only_for_flags() {
        let c = Cmdline::parse("no-loglvl no-debug_exit=1");
        let unknown: Vec<_> = c.unknown_tokens().collect();
        assert_eq!(unknown, ["no-loglvl", "no-debug_exit=1"]);
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC*") {
            let c = Cmdline::parse(&s);
            let issues = c.issues().count();
            prop_assert!(issues <= s.split_ascii_whitespace().count());
        }
    }
}
