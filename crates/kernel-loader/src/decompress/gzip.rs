//! gzip (RFC 1952), which Linux uses for `CONFIG_KERNEL_GZIP`. miniz_oxide
//! inflates raw DEFLATE; the gzip wrapper around it is parsed here.
//!
//! The gzip CRC32 is not verified (it would cost a second pass over tens of
//! MiB under emulation); DEFLATE's own structure and the ELF validation that
//! follows catch truncation and most corruption.

use alloc::vec::Vec;

use miniz_oxide::inflate::{decompress_to_vec_with_limit, TINFLStatus};

use crate::bytes::{u16_at, u8_at};
use crate::{LoadError, MAX_KERNEL_BYTES};

const METHOD_DEFLATE: u8 = 8;
const FLAG_HCRC: u8 = 1 << 1;
const FLAG_EXTRA: u8 = 1 << 2;
const FLAG_NAME: u8 = 1 << 3;
const FLAG_COMMENT: u8 = 1 << 4;
const FLAG_RESERVED: u8 = 0xE0;
const FIXED_HEADER_LEN: usize = 10;

pub(super) fn decompress(payload: &[u8]) -> Result<Vec<u8>, LoadError> {
    let deflate = payload
        .get(deflate_start(payload)?..)
        .ok_or(LoadError::Decompress("the gzip stream is truncated"))?;
    // Trailing bytes (CRC32, ISIZE, the kernel's size word) are not read:
    // inflating stops at the final DEFLATE block.
    decompress_to_vec_with_limit(deflate, MAX_KERNEL_BYTES).map_err(|error| match error.status {
        TINFLStatus::HasMoreOutput => LoadError::TooBig,
        TINFLStatus::FailedCannotMakeProgress => {
            LoadError::Decompress("the gzip stream is truncated")
        }
        _ => LoadError::Decompress("corrupt gzip stream"),
    })
}

/// Returns the offset of the DEFLATE data, skipping the optional header fields.
fn deflate_start(payload: &[u8]) -> Result<usize, LoadError> {
    let truncated = LoadError::Decompress("the gzip header is truncated");
    if u8_at(payload, 2) != Some(METHOD_DEFLATE) {
        return Err(LoadError::Decompress("gzip data does not use DEFLATE"));
    }
    let flags = u8_at(payload, 3).ok_or(truncated.clone())?;
    if flags & FLAG_RESERVED != 0 {
        return Err(LoadError::Decompress("gzip header has reserved flags set"));
    }
    let mut at = FIXED_HEADER_LEN;
    if flags & FLAG_EXTRA != 0 {
        let extra_len = u16_at(payload, at).ok_or(truncated.clone())?;
        at = at
            .checked_add(2 + usize::from(extra_len))
            .ok_or(truncated.clone())?;
    }
    for flag in [FLAG_NAME, FLAG_COMMENT] {
        if flags & flag != 0 {
            // A NUL-terminated string.
            let field = payload.get(at..).ok_or(truncated.clone())?;
            let nul = field
                .iter()
                .position(|&b| b == 0)
                .ok_or(truncated.clone())?;
            at = at.checked_add(nul + 1).ok_or(truncated.clone())?;
        }
    }
    if flags & FLAG_HCRC != 0 {
        at = at.checked_add(2).ok_or(truncated.clone())?;
    }
    if at > payload.len() {
        return Err(truncated);
    }
    Ok(at)
}
