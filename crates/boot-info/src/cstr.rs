//! NUL-terminated strings as boot loaders leave them in memory.

/// The text of a NUL-terminated string at the start of `bytes`.
///
/// Stops at the first NUL (or the end of `bytes` if there is none) and, if
/// the bytes are not valid UTF-8, keeps the longest valid prefix: a garbled
/// byte in a command line should cost the options after it, not the boot.
pub fn c_str(bytes: &[u8]) -> &str {
    let len = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let bytes = &bytes[..len];
    match core::str::from_utf8(bytes) {
        Ok(s) => s,
        // `valid_up_to` marks a char boundary, so this re-check cannot fail.
        Err(e) => core::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or(""),
    }
}

/// The longest prefix of `s` that is at most `max` bytes and ends on a char
/// boundary.
pub(crate) fn truncate_str(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_at_nul() {
        assert_eq!(c_str(b"loglvl=all\0junk"), "loglvl=all");
        assert_eq!(c_str(b"no terminator"), "no terminator");
        assert_eq!(c_str(b"\0"), "");
        assert_eq!(c_str(b""), "");
    }

    #[test]
    fn keeps_valid_utf8_prefix() {
        assert_eq!(c_str(b"ok \xff bad\0"), "ok ");
        assert_eq!(c_str("grüße\0".as_bytes()), "grüße");
    }

    #[test]
    fn truncates_on_char_boundary() {
        assert_eq!(truncate_str("abc", 5), "abc");
        assert_eq!(truncate_str("abc", 2), "ab");
        assert_eq!(truncate_str("aü", 2), "a"); // ü is 2 bytes
        assert_eq!(truncate_str("", 0), "");
    }
}
