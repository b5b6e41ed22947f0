//! XZ, which Linux uses for `CONFIG_KERNEL_XZ` (Debian's generic kernels),
//! always with the x86 BCJ filter and a CRC32 check.

use alloc::vec::Vec;

use lzma_rust2::{Action, Status, XzStream};

use super::output::Output;
use crate::LoadError;

/// Linux builds with a 32 MiB dictionary; allow up to xz's largest preset
/// (64 MiB), plus the decoder's own state. A block header asking for more
/// is refused before anything is allocated.
const MEMORY_LIMIT_KIB: u32 = (64 << 10) + 1024;
/// How much output room to offer per call.
const CHUNK: usize = 4 << 20;

pub(super) fn decompress(payload: &[u8], mut out: Output) -> Result<Vec<u8>, LoadError> {
    // One stream: whatever follows it (the kernel build's size word) is
    // ignored.
    let mut stream = XzStream::new_mem_limit(false, MEMORY_LIMIT_KIB);
    let mut input = payload;
    loop {
        let dst = out.tail(CHUNK)?;
        // The sans-I/O interface, whose error type differs with the crate's
        // `std` feature: the cause is read from the stream's state instead.
        let Ok(step) = stream.process(input, dst, Action::Finish) else {
            return Err(failure(&stream, input));
        };
        out.advance(step.bytes_produced);
        input = input.get(step.bytes_consumed..).unwrap_or_default();
        if step.status == Status::StreamEnd {
            return Ok(out.into_vec());
        }
        if step.bytes_consumed == 0 && step.bytes_produced == 0 {
            return Err(LoadError::Decompress("the xz stream is truncated"));
        }
    }
}

fn failure(stream: &XzStream, input_left: &[u8]) -> LoadError {
    if stream
        .memory_usage()
        .is_some_and(|kib| kib > MEMORY_LIMIT_KIB)
    {
        LoadError::TooBig
    } else if input_left.is_empty() {
        LoadError::Decompress("the xz stream is truncated")
    } else {
        LoadError::Decompress("corrupt xz stream (or a filter other than x86 BCJ and LZMA2)")
    }
}
