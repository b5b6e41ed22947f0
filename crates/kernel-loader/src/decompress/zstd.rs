//! Zstandard, which Linux uses for `CONFIG_KERNEL_ZSTD`.

use alloc::vec::Vec;

use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};

use super::output::Output;
use crate::LoadError;

/// Decode this much at a time, then move it into the output.
const STEP: usize = 1 << 20;

pub(super) fn decompress(payload: &[u8], mut out: Output) -> Result<Vec<u8>, LoadError> {
    let corrupt = |_| LoadError::Decompress("corrupt zstd stream");
    let mut decoder = FrameDecoder::new();
    let mut input = payload;
    decoder.init(&mut input).map_err(corrupt)?;
    // A single frame; the kernel build's trailing size word is ignored.
    while !decoder.is_finished() {
        let before = input.len();
        decoder
            .decode_blocks(&mut input, BlockDecodingStrategy::UptoBytes(STEP))
            .map_err(corrupt)?;
        let decoded = decoder.collect().unwrap_or_default();
        if decoded.is_empty() && input.len() == before && !decoder.is_finished() {
            return Err(LoadError::Decompress("the zstd stream is truncated"));
        }
        out.extend(&decoded)?;
    }
    if let Some(rest) = decoder.collect() {
        out.extend(&rest)?;
    }
    Ok(out.into_vec())
}
