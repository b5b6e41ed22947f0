//! Errors and warnings, each tied to a line of the configuration file.

use alloc::string::String;
use core::fmt;

/// What kind of problem a [`ConfigError`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The text is not valid xl.cfg syntax (bad token, unterminated string
    /// or list, missing `=`, ...).
    Syntax,
    /// A key has a value of the wrong type or out of range.
    Invalid,
    /// A required key (`name`, `kernel`) is absent. The error's line is 0.
    Missing,
    /// Valid for xl, but rxen does not support it yet (`type = "hvm"`, ...).
    Unsupported,
}

/// A configuration file rxen cannot use, with the line it comes from.
///
/// `line` counts from 1; it is 0 for errors about the file as a whole (a
/// required key that is missing). `Display` prints `line N: message`, or just
/// the message when `line` is 0.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// 1-based line number; 0 when the error is about the whole file.
    pub line: usize,
    /// What is wrong, and when possible how to fix it.
    pub message: String,
    /// The class of problem.
    pub kind: ErrorKind,
}

impl ConfigError {
    pub(crate) fn new(kind: ErrorKind, line: usize, message: impl Into<String>) -> Self {
        Self {
            line,
            message: message.into(),
            kind,
        }
    }

    pub(crate) fn syntax(line: usize, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Syntax, line, message)
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            f.write_str(&self.message)
        } else {
            write!(f, "line {}: {}", self.line, self.message)
        }
    }
}

impl core::error::Error for ConfigError {}

/// Something in the file that rxen ignores or overrides, reported so the user
/// can tell; never fatal. `Display` prints `line N: message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigWarning {
    /// 1-based line number of the setting the warning is about.
    pub line: usize,
    /// What was ignored or overridden.
    pub message: String,
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}
