//! Physical memory management building blocks for rxen.
//!
//! * [`FrameAllocator`] — a binary buddy allocator over 4 KiB frames. It keeps
//!   all of its bookkeeping in one caller-provided byte slice, so the
//!   hypervisor can run it before any heap exists (it carves the metadata out
//!   of RAM at boot; [`metadata_bytes`] says how much).
//! * [`regions`] — memory-map arithmetic: firmware RAM ranges minus reserved
//!   ranges, turned into page-aligned [`FrameRange`]s to hand to the allocator.
//!
//! Everything here is pure logic without `unsafe`, tested on the host.
#![cfg_attr(not(test), no_std)]

mod buddy;
mod frame;
pub mod regions;

pub use buddy::{metadata_bytes, AllocError, FrameAllocator, MAX_FRAMES, MAX_ORDER};
pub use frame::{Frame, FrameRange, FRAME_SHIFT, FRAME_SIZE};
