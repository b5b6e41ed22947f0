//! LZ4 "legacy" framing, which Linux uses for `CONFIG_KERNEL_LZ4` (Debian's
//! cloud kernels): a magic word, then blocks of `u32` compressed size + raw
//! LZ4 block, each decompressing to at most 8 MiB.

use alloc::vec::Vec;

use super::output::Output;
use crate::bytes::{to_usize, u32_at};
use crate::LoadError;

const LEGACY_MAGIC: u32 = 0x184C_2102;
/// Every legacy block decompresses to at most this much.
const MAX_BLOCK_OUTPUT: usize = 8 << 20;

pub(super) fn decompress(payload: &[u8], mut out: Output) -> Result<Vec<u8>, LoadError> {
    let corrupt = LoadError::Decompress;
    if u32_at(payload, 0) != Some(LEGACY_MAGIC) {
        return Err(corrupt("not an LZ4 legacy stream"));
    }
    let mut rest = payload.get(4..).unwrap_or_default();
    // The stream has no end marker: it ends at the end of the data. The
    // kernel build appends a u32 with the uncompressed size, which reads as
    // a block size with no block after it; that (or a zero size, or fewer
    // than 4 bytes left) ends the stream cleanly.
    while let Some(size) = u32_at(rest, 0) {
        let body = rest.get(4..).unwrap_or_default();
        if size == LEGACY_MAGIC {
            // Concatenated streams repeat the magic.
            rest = body;
            continue;
        }
        if size == 0 || body.is_empty() {
            break;
        }
        let block = to_usize(size)
            .and_then(|size| body.get(..size))
            .ok_or(corrupt(
                "an LZ4 block runs past the end of the payload (truncated kernel?)",
            ))?;
        let dst = out.tail(MAX_BLOCK_OUTPUT)?;
        let written = match lz4_flex::block::decompress_into(block, dst) {
            Ok(n) => n,
            // Room was only short because of the size cap.
            Err(lz4_flex::block::DecompressError::OutputTooSmall { .. }) if out.at_cap() => {
                return Err(LoadError::TooBig)
            }
            Err(_) => return Err(corrupt("corrupt LZ4 block")),
        };
        out.advance(written);
        rest = body.get(block.len()..).unwrap_or_default();
    }
    Ok(out.into_vec())
}
