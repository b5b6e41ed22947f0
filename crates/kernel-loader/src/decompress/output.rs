//! A growable output buffer that enforces [`crate::MAX_KERNEL_BYTES`].

use alloc::vec::Vec;

use crate::{LoadError, MAX_KERNEL_BYTES};

/// Decompressed bytes so far, plus zeroed room for the decoder to write into.
///
/// Decoders write into a slice rather than push, so the buffer hands out
/// its tail; it grows with `try_reserve` so that a huge (hostile) size makes
/// us return [`LoadError::TooBig`] instead of aborting on allocation failure
/// inside the hypervisor.
pub(super) struct Output {
    buf: Vec<u8>,
    filled: usize,
}

impl Output {
    /// Starts empty, pre-reserving `hint` bytes if that is plausible and possible.
    pub(super) fn with_size_hint(hint: usize) -> Self {
        let mut buf = Vec::new();
        if hint <= MAX_KERNEL_BYTES {
            // Best effort: on failure we simply grow as we go.
            let _ = buf.try_reserve_exact(hint);
        }
        Self { buf, filled: 0 }
    }

    /// Returns writable space after the filled part: at least `want` bytes,
    /// or whatever is left below the size cap (never empty).
    pub(super) fn tail(&mut self, want: usize) -> Result<&mut [u8], LoadError> {
        if self.filled >= MAX_KERNEL_BYTES {
            return Err(LoadError::TooBig);
        }
        let wanted_len = self.filled.saturating_add(want).min(MAX_KERNEL_BYTES);
        if wanted_len > self.buf.len() {
            let extra = wanted_len - self.buf.len();
            self.buf.try_reserve(extra).map_err(|_| LoadError::TooBig)?;
            self.buf.resize(wanted_len, 0);
        }
        self.buf.get_mut(self.filled..).ok_or(LoadError::TooBig)
    }

    /// Whether the space [`Self::tail`] hands out is limited by the size cap.
    pub(super) fn at_cap(&self) -> bool {
        self.buf.len() >= MAX_KERNEL_BYTES
    }

    /// Marks `n` more bytes of the tail as written.
    pub(super) fn advance(&mut self, n: usize) {
        self.filled = self.filled.saturating_add(n).min(self.buf.len());
    }

    /// Appends bytes a decoder produced in its own buffer.
    pub(super) fn extend(&mut self, bytes: &[u8]) -> Result<(), LoadError> {
        let tail = self.tail(bytes.len())?;
        let dst = tail.get_mut(..bytes.len()).ok_or(LoadError::TooBig)?;
        dst.copy_from_slice(bytes);
        self.advance(bytes.len());
        Ok(())
    }

    pub(super) fn into_vec(mut self) -> Vec<u8> {
        self.buf.truncate(self.filled);
        self.buf
    }
}
