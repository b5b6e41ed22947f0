//! XZ, which Linux uses for `CONFIG_KERNEL_XZ` (Debian's generic kernels),
//! always with the x86 BCJ filter and a CRC32 check.

use alloc::vec::Vec;

use xz4rust::{XzDecoder, XzError};

use super::output::Output;
use crate::LoadError;

/// Linux builds with a 32 MiB dictionary; allow up to xz's largest preset.
const MAX_DICTIONARY: usize = xz4rust::DICT_SIZE_PROFILE_9;
/// The decoder grows its dictionary to what the stream header asks for.
const INITIAL_DICTIONARY: usize = 1 << 20;
/// How much output room to offer per call.
const CHUNK: usize = 4 << 20;

pub(super) fn decompress(payload: &[u8], mut out: Output) -> Result<Vec<u8>, LoadError> {
    // On the heap: the decoder state is ~32 KiB, too much for hypervisor stacks.
    let mut decoder = XzDecoder::in_heap_with_alloc_dict_size(INITIAL_DICTIONARY, MAX_DICTIONARY);
    let mut input = payload;
    loop {
        let dst = out.tail(CHUNK)?;
        let step = decoder.decode(input, dst).map_err(xz_error)?;
        out.advance(step.output_produced());
        input = input.get(step.input_consumed()..).unwrap_or_default();
        // Whatever follows the stream (the kernel build's size word) is ignored.
        if step.is_end_of_stream() {
            return Ok(out.into_vec());
        }
        if !step.made_progress() {
            return Err(LoadError::Decompress("the xz stream is truncated"));
        }
    }
}

fn xz_error(error: XzError) -> LoadError {
    match error {
        XzError::NeedsLargerInputBuffer => LoadError::Decompress("the xz stream is truncated"),
        XzError::DictionaryTooLarge(_) => LoadError::TooBig,
        XzError::Sha256NotSupported
        | XzError::UnsupportedCheckType(_)
        | XzError::UnsupportedBcjFilter(_)
        | XzError::UnsupportedStreamHeaderOption
        | XzError::UnsupportedBlockHeaderOption
        | XzError::UnsupportedLzmaProperties(_) => {
            LoadError::UnsupportedCompression("xz with a filter or check other than BCJ/LZMA2/CRC")
        }
        _ => LoadError::Decompress("corrupt xz stream"),
    }
}
