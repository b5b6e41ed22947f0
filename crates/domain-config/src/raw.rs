//! The xl.cfg syntax itself, without the meaning of any key.
//!
//! This follows the grammar of Xen's `libxlutil` (`libxlu_cfg_l.l`,
//! `libxlu_cfg_y.y`) and the SYNTAX section of `xl.cfg(5)`:
//!
//! * A file is a series of `KEY = VALUE` settings, separated by newlines or
//!   `;` (so `name = "a"; memory = 512` is one line with two settings; empty
//!   statements such as a trailing `;` are fine).
//! * Keys are `[a-z][a-z0-9_]*`.
//! * A value is a string in `"double"` or `'single'` quotes, a number, or a
//!   list `[ VALUE, VALUE, ... ]`. Lists may span lines, may be empty, may
//!   end with a trailing comma, may contain comments, and may be nested.
//! * Numbers are decimal, octal with a leading `0` (`010` is 8, as in C and
//!   xl), or hexadecimal with `0x`. There are no negative numbers.
//! * Strings cannot span lines. Backslash escapes are those of xl:
//!   `\"`, `\'`, `\\`, `\a`, `\b`, `\f`, `\n`, `\r`, `\t`, `\v`, `\xHH` and
//!   octal `\o`, `\oo`, `\ooo` (an escape must give an ASCII character).
//! * `#` starts a comment that runs to the end of the line, except inside a
//!   string.
//! * `KEY += VALUE` appends to the previous value of `KEY` (strings are
//!   concatenated, lists joined); it is an error with numbers, or to mix a
//!   string and a list. Without a previous value it is a plain assignment.
//! * CRLF line endings are accepted (a `\r` outside a string is blank space).
//!
//! Booleans are numbers in xl (`0` is false, anything else true; see
//! [`Value::as_bool`]); xl does not accept `"true"`/`"false"`, and neither do
//! we.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::error::ConfigError;

/// Lists nested deeper than this are rejected (xl allows nesting; no key
/// needs more than two levels, and a bound keeps the parser's stack small).
pub const MAX_LIST_DEPTH: usize = 16;

/// A value of the xl.cfg syntax.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// A quoted string, escapes already resolved.
    Str(String),
    /// An unquoted number.
    Int(u64),
    /// `[ ... ]`, possibly empty, possibly nested.
    List(Vec<Value>),
}

impl Value {
    /// The string, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The number, if this is a number or, as xl allows, a string holding one
    /// (`memory = "512"` is 512).
    pub fn as_int(&self) -> Option<u64> {
        match self {
            Value::Int(n) => Some(*n),
            Value::Str(s) => parse_number(s),
            Value::List(_) => None,
        }
    }

    /// The items, if this is a list.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    /// The value as an xl boolean: a number, 0 for false and anything else
    /// for true (strings holding a number count, as in xl).
    pub fn as_bool(&self) -> Option<bool> {
        self.as_int().map(|n| n != 0)
    }
}

/// Writes the value back in xl.cfg syntax (strings in double quotes, with
/// escapes where needed).
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(n) => write!(f, "{n}"),
            Value::Str(s) => {
                f.write_str("\"")?;
                for c in s.chars() {
                    match c {
                        '"' => f.write_str("\\\"")?,
                        '\\' => f.write_str("\\\\")?,
                        '\n' => f.write_str("\\n")?,
                        '\r' => f.write_str("\\r")?,
                        '\t' => f.write_str("\\t")?,
                        c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                            write!(f, "\\x{:02x}", c as u32)?
                        }
                        c => write!(f, "{c}")?,
                    }
                }
                f.write_str("\"")
            }
            Value::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
        }
    }
}

/// Parses an xl number: decimal, octal with a leading `0`, or hexadecimal
/// with `0x`/`0X` (like `strtol(s, _, 0)` without sign or blanks, which is
/// what xl applies to number tokens and to numeric strings).
pub fn parse_number(s: &str) -> Option<u64> {
    let (digits, radix) = if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (hex, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        (&s[1..], 8)
    } else {
        (s, 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// One setting as written: 1-based line of its key, the key, its value.
pub type RawSetting = (usize, String, Value);

/// Parses xl.cfg text into its settings, in file order, without interpreting
/// any key. A key may appear more than once; `+=` settings already carry the
/// joined value (see the module documentation).
pub fn parse_raw(text: &str) -> Result<Vec<RawSetting>, ConfigError> {
    Ok(parse_entries(text)?
        .into_iter()
        .map(|e| (e.line, e.key, e.value))
        .collect())
}

/// A setting with how it was made.
pub(crate) struct Entry {
    pub line: usize,
    pub key: String,
    pub value: Value,
    /// Written with `+=` (so a repeat of the key is intended).
    pub appended: bool,
}

pub(crate) fn parse_entries(text: &str) -> Result<Vec<Entry>, ConfigError> {
    let mut p = Parser {
        lexer: Lexer {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            line: 1,
        },
        peeked: None,
    };
    let mut entries: Vec<Entry> = Vec::new();
    loop {
        let tok = p.next()?;
        let (line, key) = match tok.kind {
            Tok::Eof => return Ok(entries),
            Tok::Newline | Tok::Semi => continue,
            Tok::Ident(key) => (tok.line, key),
            other => {
                return Err(ConfigError::syntax(
                    tok.line,
                    format!(
                        "expected a setting (`key = value`), found {}",
                        other.describe()
                    ),
                ))
            }
        };
        let op = p.next()?;
        let appended = match op.kind {
            Tok::Eq => false,
            Tok::PlusEq => true,
            other => {
                return Err(ConfigError::syntax(
                    op.line,
                    format!("expected `=` after `{key}`, found {}", other.describe()),
                ))
            }
        };
        let mut value = p.value(&key, 0)?;
        let end = p.next()?;
        match end.kind {
            Tok::Newline | Tok::Semi | Tok::Eof => {}
            other => {
                return Err(ConfigError::syntax(
                    end.line,
                    format!(
                        "expected the end of the line after the value of `{key}`, found {}; \
                         put each setting on its own line or separate them with `;`",
                        other.describe()
                    ),
                ))
            }
        }
        if appended {
            if matches!(value, Value::Int(_)) {
                return Err(ConfigError::syntax(
                    line,
                    format!("`{key} += {value}`: `+=` cannot be used with numbers"),
                ));
            }
            if let Some(prev) = entries.iter().rev().find(|e| e.key == key) {
                value = match (&prev.value, value) {
                    (Value::Str(a), Value::Str(b)) => Value::Str(format!("{a}{b}")),
                    (Value::List(a), Value::List(b)) => {
                        let mut joined = a.clone();
                        joined.extend(b);
                        Value::List(joined)
                    }
                    _ => {
                        return Err(ConfigError::syntax(
                            line,
                            format!(
                                "`{key} +=`: cannot add a list to a string or a string to \
                                 a list (`{key}` was set on line {})",
                                prev.line
                            ),
                        ))
                    }
                };
            }
        }
        entries.push(Entry {
            line,
            key,
            value,
            appended,
        });
        if matches!(end.kind, Tok::Eof) {
            return Ok(entries);
        }
    }
}

#[derive(Debug)]
enum Tok {
    Ident(String),
    Str(String),
    Int(u64),
    LBracket,
    RBracket,
    Comma,
    Eq,
    PlusEq,
    Semi,
    Newline,
    Eof,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Str(s) => format!("the string {}", Value::Str(s.clone())),
            Tok::Int(n) => format!("the number {n}"),
            Tok::LBracket => "`[`".into(),
            Tok::RBracket => "`]`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Eq => "`=`".into(),
            Tok::PlusEq => "`+=`".into(),
            Tok::Semi => "`;`".into(),
            Tok::Newline => "the end of the line".into(),
            Tok::Eof => "the end of the file".into(),
        }
    }
}

struct Token {
    kind: Tok,
    line: usize,
}

struct Lexer<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: usize,
}

impl Lexer<'_> {
    fn peek_byte(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn next_token(&mut self) -> Result<Token, ConfigError> {
        // Blanks and comments.
        loop {
            match self.peek_byte() {
                Some(b' ' | b'\t' | b'\r') => self.pos += 1,
                Some(b'#') => {
                    while !matches!(self.peek_byte(), None | Some(b'\n')) {
                        self.pos += 1;
                    }
                }
                _ => break,
            }
        }
        let line = self.line;
        let Some(b) = self.peek_byte() else {
            return Ok(Token {
                kind: Tok::Eof,
                line,
            });
        };
        let start = self.pos;
        self.pos += 1;
        let kind = match b {
            b'\n' => {
                self.line += 1;
                Tok::Newline
            }
            b'[' => Tok::LBracket,
            b']' => Tok::RBracket,
            b',' => Tok::Comma,
            b'=' => Tok::Eq,
            b';' => Tok::Semi,
            b'+' if self.peek_byte() == Some(b'=') => {
                self.pos += 1;
                Tok::PlusEq
            }
            b'"' | b'\'' => Tok::Str(self.string(b, line)?),
            b'0'..=b'9' => {
                while matches!(self.peek_byte(), Some(c) if c.is_ascii_alphanumeric() || c == b'_')
                {
                    self.pos += 1;
                }
                let word = &self.text[start..self.pos];
                match parse_number(word) {
                    Some(n) => Tok::Int(n),
                    None => {
                        let why = if parse_number_digits_ok(word) {
                            "it does not fit in 64 bits"
                        } else if word.starts_with('0') && word.bytes().all(|c| c.is_ascii_digit())
                        {
                            "a leading 0 makes a number octal (digits 0-7)"
                        } else {
                            "numbers are decimal, octal (leading 0) or hexadecimal (0x), \
                             and strings must be quoted"
                        };
                        return Err(ConfigError::syntax(
                            line,
                            format!("invalid number `{word}`: {why}"),
                        ));
                    }
                }
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                while matches!(self.peek_byte(), Some(c) if c.is_ascii_alphanumeric() || c == b'_')
                {
                    self.pos += 1;
                }
                let word = &self.text[start..self.pos];
                let first_ok = word.as_bytes()[0].is_ascii_lowercase();
                if !first_ok || word.bytes().any(|c| c.is_ascii_uppercase()) {
                    return Err(ConfigError::syntax(
                        line,
                        format!(
                            "invalid key `{word}`: keys are lowercase letters, digits and `_`, \
                             starting with a letter (and string values must be quoted)"
                        ),
                    ));
                }
                Tok::Ident(word.into())
            }
            _ => {
                let c = self.text[start..].chars().next().unwrap_or('?');
                let hint = if matches!(c, '-' | '.' | '(' | ')' | ':' | '+' | '*' | '/') {
                    " (xl.cfg is not Python: no expressions; quote strings)"
                } else {
                    ""
                };
                return Err(ConfigError::syntax(
                    line,
                    format!("unexpected character `{}`{hint}", c.escape_debug()),
                ));
            }
        };
        Ok(Token { kind, line })
    }

    /// Reads a quoted string; the opening quote `q` is already consumed.
    fn string(&mut self, q: u8, line: usize) -> Result<String, ConfigError> {
        let mut out: Vec<u8> = Vec::new();
        let unterminated = || {
            ConfigError::syntax(
                line,
                format!(
                    "unterminated string: a {} string must end with {} on the line it starts",
                    if q == b'"' {
                        "double-quoted"
                    } else {
                        "single-quoted"
                    },
                    if q == b'"' { "`\"`" } else { "`'`" },
                ),
            )
        };
        loop {
            let Some(b) = self.peek_byte() else {
                return Err(unterminated());
            };
            match b {
                b'\n' => return Err(unterminated()),
                _ if b == q => {
                    self.pos += 1;
                    break;
                }
                b'\\' => {
                    self.pos += 1;
                    let Some(e) = self.peek_byte() else {
                        return Err(unterminated());
                    };
                    if e == b'\n' {
                        return Err(unterminated());
                    }
                    self.pos += 1;
                    let byte = match e {
                        b'"' | b'\'' | b'\\' => e,
                        b'a' => 0x07,
                        b'b' => 0x08,
                        b'f' => 0x0c,
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'v' => 0x0b,
                        b'x' => {
                            let digits = self.bytes.get(self.pos..self.pos + 2);
                            let v = digits
                                .filter(|d| d.iter().all(u8::is_ascii_hexdigit))
                                .and_then(|d| core::str::from_utf8(d).ok())
                                .and_then(|d| u8::from_str_radix(d, 16).ok());
                            let Some(v) = v else {
                                return Err(ConfigError::syntax(
                                    line,
                                    "invalid `\\x` escape in string: expected two hex digits",
                                ));
                            };
                            self.pos += 2;
                            v
                        }
                        b'0'..=b'7' => {
                            let mut v = u32::from(e - b'0');
                            for _ in 0..2 {
                                match self.peek_byte() {
                                    Some(d @ b'0'..=b'7') => {
                                        v = v * 8 + u32::from(d - b'0');
                                        self.pos += 1;
                                    }
                                    _ => break,
                                }
                            }
                            u8::try_from(v).unwrap_or(0xff)
                        }
                        _ => {
                            let c = self.text[self.pos - 1..].chars().next().unwrap_or('?');
                            return Err(ConfigError::syntax(
                                line,
                                format!(
                                    "invalid escape `\\{}` in string (write `\\\\` for a backslash)",
                                    c.escape_debug()
                                ),
                            ));
                        }
                    };
                    if !byte.is_ascii() {
                        return Err(ConfigError::syntax(
                            line,
                            format!("escape for byte {byte:#04x} in string: only ASCII escapes are allowed"),
                        ));
                    }
                    out.push(byte);
                }
                _ => {
                    out.push(b);
                    self.pos += 1;
                }
            }
        }
        // Raw bytes were copied whole between ASCII delimiters and escapes
        // give ASCII, so this is valid UTF-8.
        String::from_utf8(out).map_err(|_| ConfigError::syntax(line, "string is not valid UTF-8"))
    }
}

/// True if `word` is made only of valid digits for its radix (so a failed
/// parse means overflow).
fn parse_number_digits_ok(word: &str) -> bool {
    if let Some(hex) = word.strip_prefix("0x").or_else(|| word.strip_prefix("0X")) {
        !hex.is_empty() && hex.bytes().all(|c| c.is_ascii_hexdigit())
    } else if let Some(oct) = word.strip_prefix('0') {
        oct.bytes().all(|c| (b'0'..=b'7').contains(&c))
    } else {
        word.bytes().all(|c| c.is_ascii_digit())
    }
}

struct Parser<'a> {
    lexer: Lexer<'a>,
    peeked: Option<Token>,
}

impl Parser<'_> {
    fn next(&mut self) -> Result<Token, ConfigError> {
        match self.peeked.take() {
            Some(t) => Ok(t),
            None => self.lexer.next_token(),
        }
    }

    fn value(&mut self, key: &str, depth: usize) -> Result<Value, ConfigError> {
        let tok = self.next()?;
        match tok.kind {
            Tok::Str(s) => Ok(Value::Str(s)),
            Tok::Int(n) => Ok(Value::Int(n)),
            Tok::LBracket => self.list(key, tok.line, depth + 1),
            Tok::Newline | Tok::Eof | Tok::Semi => Err(ConfigError::syntax(
                tok.line,
                format!("`{key} =` has no value (it must be on the same line as the key)"),
            )),
            Tok::Ident(word) => Err(ConfigError::syntax(
                tok.line,
                format!("`{key} = {word}`: strings must be quoted, e.g. {key} = \"{word}\""),
            )),
            other => Err(ConfigError::syntax(
                tok.line,
                format!("expected a value for `{key}`, found {}", other.describe()),
            )),
        }
    }

    /// Reads list items up to `]`; the `[` (on line `open`) is consumed.
    fn list(&mut self, key: &str, open: usize, depth: usize) -> Result<Value, ConfigError> {
        if depth > MAX_LIST_DEPTH {
            return Err(ConfigError::syntax(
                open,
                format!("lists in `{key}` are nested more than {MAX_LIST_DEPTH} deep"),
            ));
        }
        let unclosed = || {
            ConfigError::syntax(
                open,
                format!("the list for `{key}` opened on line {open} is never closed with `]`"),
            )
        };
        let mut items = Vec::new();
        loop {
            let tok = self.skip_newlines()?;
            match tok.kind {
                Tok::RBracket => return Ok(Value::List(items)),
                Tok::Eof => return Err(unclosed()),
                _ => {
                    self.peeked = Some(tok);
                    items.push(self.value(key, depth)?);
                }
            }
            let sep = self.skip_newlines()?;
            match sep.kind {
                Tok::Comma => {}
                Tok::RBracket => return Ok(Value::List(items)),
                Tok::Eof => return Err(unclosed()),
                other => {
                    return Err(ConfigError::syntax(
                        sep.line,
                        format!(
                            "expected `,` or `]` in the list for `{key}`, found {}",
                            other.describe()
                        ),
                    ))
                }
            }
        }
    }

    fn skip_newlines(&mut self) -> Result<Token, ConfigError> {
        loop {
            let tok = self.next()?;
            if !matches!(tok.kind, Tok::Newline) {
                return Ok(tok);
            }
        }
    }
}
