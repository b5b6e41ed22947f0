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

/// Decodes the stream's blocks side by side on `workers` when the size the
/// kernel build appended (`size_hint`) says every block but the last fills
/// its 8 MiB (as the `lz4 -l` the build uses writes them), each into its
/// own 8 MiB of the output; otherwise, or if that does not work out (a
/// block fails, or comes out short), one after the other, which then names
/// what is wrong.
pub(super) fn decompress(
    payload: &[u8],
    size_hint: usize,
    out: impl FnOnce() -> Output,
    workers: &dyn crate::Workers,
) -> Result<Vec<u8>, LoadError> {
    let blocks = blocks(payload)?;
    let full = blocks
        .len()
        .saturating_sub(1)
        .saturating_mul(MAX_BLOCK_OUTPUT);
    if blocks.len() > 1 && size_hint > full && size_hint - full <= MAX_BLOCK_OUTPUT {
        if let Some(elf) = side_by_side(&blocks, size_hint, workers) {
            return Ok(elf);
        }
    }
    one_by_one(&blocks, out())
}

/// The stream's compressed blocks.
fn blocks(payload: &[u8]) -> Result<Vec<&[u8]>, LoadError> {
    let corrupt = LoadError::Decompress;
    if u32_at(payload, 0) != Some(LEGACY_MAGIC) {
        return Err(corrupt("not an LZ4 legacy stream"));
    }
    let mut blocks = Vec::new();
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
        blocks.push(block);
        rest = body.get(block.len()..).unwrap_or_default();
    }
    Ok(blocks)
}

/// Every block into its own 8 MiB of `len` bytes, all at once; `None` if
/// that does not give the stream's output (a block failed or came out
/// short).
fn side_by_side(blocks: &[&[u8]], len: usize, workers: &dyn crate::Workers) -> Option<Vec<u8>> {
    if len > crate::MAX_KERNEL_BYTES {
        return None;
    }
    let mut elf = Vec::new();
    elf.try_reserve_exact(len).ok()?;
    elf.resize(len, 0);
    let mut results: Vec<Option<usize>> = alloc::vec![None; blocks.len()];
    {
        let mut tasks: Vec<_> = elf
            .chunks_mut(MAX_BLOCK_OUTPUT)
            .zip(blocks)
            .zip(results.iter_mut())
            .map(|((dst, block), result)| {
                move || *result = lz4_flex::block::decompress_into(block, dst).ok()
            })
            .collect();
        let mut refs: Vec<&mut (dyn FnMut() + Send)> = tasks
            .iter_mut()
            .map(|t| t as &mut (dyn FnMut() + Send))
            .collect();
        workers.run(&mut refs);
    }
    let (last, full) = results.split_last()?;
    if full.iter().any(|r| *r != Some(MAX_BLOCK_OUTPUT))
        || (*last)? != len - full.len() * MAX_BLOCK_OUTPUT
    {
        return None;
    }
    Some(elf)
}

fn one_by_one(blocks: &[&[u8]], mut out: Output) -> Result<Vec<u8>, LoadError> {
    for block in blocks {
        let dst = out.tail(MAX_BLOCK_OUTPUT)?;
        let written = match lz4_flex::block::decompress_into(block, dst) {
            Ok(n) => n,
            // Room was only short because of the size cap.
            Err(lz4_flex::block::DecompressError::OutputTooSmall { .. }) if out.at_cap() => {
                return Err(LoadError::TooBig)
            }
            Err(_) => return Err(LoadError::Decompress("corrupt LZ4 block")),
        };
        out.advance(written);
    }
    Ok(out.into_vec())
}
