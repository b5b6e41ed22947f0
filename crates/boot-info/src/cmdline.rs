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
    /// `selftest=`: fail on purpose after boot.
    pub selftest: Option<SelfTest>,
}

/// One recognised token.
enum Token<'a> {
    LogLevel(LogLevel),
    DebugExit(bool),
    SelfTest(SelfTest),
    Issue(CmdlineIssue<'a>),
}

impl<'a> Cmdline<'a> {
    /// Parses `raw`; never fails (see [`issues`](Self::issues)).
    pub fn parse(raw: &'a str) -> Self {
        let mut cmdline = Self {
            raw,
            loglvl: LogLevel::default(),
            debug_exit: false,
            selftest: None,
        };
        for token in tokens(raw) {
            match token {
                Token::LogLevel(level) => cmdline.loglvl = level,
                Token::DebugExit(on) => cmdline.debug_exit = on,
                Token::SelfTest(test) => cmdline.selftest = Some(test),
                Token::Issue(_) => {}
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
    if key_is(key, "debug_exit") {
        return match value {
            None => Token::DebugExit(true),
            Some(v) => parse_bool(v).map_or_else(bad, Token::DebugExit),
        };
    }
    if value.is_none()
        && key
            .strip_prefix("no-")
            .is_some_and(|k| key_is(k, "debug_exit"))
    {
        return Token::DebugExit(false);
    }
    Token::Issue(CmdlineIssue::Unknown(tok))
}

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
            Cmdline::parse("loglvl=loud console=com1 selftest noreboot debug_exit=maybe loglvl=");
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
                CmdlineIssue::Unknown("console=com1"),
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
        assert_eq!(unknown, ["console=com1", "noreboot"]);
        assert!(c.raw().starts_with("loglvl=loud "));
        // Display is meant for the log.
        assert_eq!(
            std::format!("{}", issues[0]),
            "bad value 'loud' for option 'loglvl'"
        );
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
