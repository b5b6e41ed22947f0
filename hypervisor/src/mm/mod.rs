//! Memory: the firmware map becomes the frame allocator's free list, the
//! hypervisor's own page tables are built, and a kernel heap is set up.

pub mod claims;
pub mod frames;
pub mod heap;
pub mod helpers;
pub mod machine;
pub mod pages;
pub mod scrub;

use core::sync::atomic::{AtomicU64, Ordering};

use rxen_boot_info::BootInfo;
use rxen_frame_alloc::regions::{free_frame_ranges, ByteRange};
use rxen_frame_alloc::{metadata_bytes, FrameRange, FRAME_SIZE};

use crate::arch::paging::{self, TableFrames};

/// Memory below 1 MiB stays out of the allocator: the AP trampoline and
/// firmware data (EBDA, BIOS tables) live there.
const LOW_MEMORY_END: u64 = 1 << 20;
/// Page-table frames reserved for the initial tables (direct map of up to
/// ~1 TiB with 2 MiB pages fits easily).
const EARLY_TABLE_FRAMES: u64 = 1024;
const IDENTITY_LIMIT: u64 = 4 << 30;

/// Bytes taken before the allocator existed (its metadata, first tables).
static EARLY_BYTES: AtomicU64 = AtomicU64::new(0);
/// Usable RAM at boot, in frames (see [`ram_frames`]).
static RAM_FRAMES: AtomicU64 = AtomicU64::new(0);

/// Hands frames out of one free range during early boot, before the
/// frame allocator exists.
struct Bump {
    next: u64,
    end: u64,
}

impl TableFrames for Bump {
    fn frame(&mut self) -> Option<u64> {
        if self.next + FRAME_SIZE > self.end {
            return None;
        }
        let pa = self.next;
        self.next += FRAME_SIZE;
        Some(pa)
    }
}

/// Sets up paging, the frame allocator and the heap.
pub fn init(boot: &BootInfo) {
    let ram = boot
        .regions()
        .iter()
        .filter(|r| r.is_usable())
        .map(|r| ByteRange::from_start_len(r.start, r.len));
    let (image_start, _, _, image_end) = paging::image_bounds();
    let fixed = [
        ByteRange::new(0, LOW_MEMORY_END),
        ByteRange::new(image_start, image_end),
    ];
    let modules = boot
        .modules()
        .iter()
        .map(|m| ByteRange::from_start_len(m.start, m.len));
    let free = match free_frame_ranges(ram, fixed.into_iter().chain(modules)) {
        Ok(free) => free,
        Err(e) => panic!("unusable memory map: {e}"),
    };
    let max_frame = free.iter().map(|r| r.end()).max().unwrap_or(0);
    let meta_len = metadata_bytes(max_frame) as u64;
    let meta_frames = meta_len.div_ceil(FRAME_SIZE);

    // The frame allocator's metadata and the first page tables come from
    // one free range below 4 GiB (the boot identity map reaches it).
    let need = meta_frames + EARLY_TABLE_FRAMES;
    let early = free
        .iter()
        .find(|r| r.count >= need && (r.start.number() + need) * FRAME_SIZE <= IDENTITY_LIMIT)
        .copied()
        .unwrap_or_else(|| panic!("not enough memory below 4 GiB to start ({need} frames needed)"));
    let meta_pa = early.start.addr();
    let mut bump = Bump {
        next: meta_pa + meta_frames * FRAME_SIZE,
        end: meta_pa + need * FRAME_SIZE,
    };

    let mut direct = boot
        .regions()
        .iter()
        .map(|r| (r.start, r.len))
        .chain([(0, LOW_MEMORY_END)]);
    paging::build_and_switch(&mut direct, &mut bump);

    // SAFETY: [meta_pa, +meta_len) is free RAM set aside above for the
    // allocator alone, reachable through the direct map from now on.
    let metadata = unsafe {
        core::slice::from_raw_parts_mut(paging::phys_to_virt(meta_pa), meta_len as usize)
    };
    EARLY_BYTES.store(bump.next - meta_pa, Ordering::Relaxed);
    let used_early = FrameRange::from_numbers(early.start.number(), bump.next / FRAME_SIZE);
    RAM_FRAMES.store(usable_ram(boot) / FRAME_SIZE, Ordering::Relaxed);
    frames::init(metadata, max_frame, free.iter().copied(), used_early);
    heap::init();
    pages::init(max_frame);
}

/// Memory figures for the boot summary, in bytes.
pub struct Summary {
    /// RAM the firmware reports as usable.
    pub total: u64,
    /// What the frame allocator has free.
    pub free: u64,
    /// What the hypervisor keeps: image, allocator metadata, page tables,
    /// heap, stacks.
    pub hypervisor: u64,
}

/// Frames of RAM the firmware reports as usable: the machine's memory as
/// Xen's physinfo gives it (`xl info` total_memory), hypervisor included.
pub fn ram_frames() -> u64 {
    RAM_FRAMES.load(Ordering::Relaxed)
}

fn usable_ram(boot: &BootInfo) -> u64 {
    boot.regions()
        .iter()
        .filter(|r| r.is_usable())
        .map(|r| r.len)
        .sum()
}

pub fn summary(boot: &BootInfo) -> Summary {
    let total = usable_ram(boot);
    let (managed, free) = frames::stats();
    let (image_start, _, _, image_end) = paging::image_bounds();
    let early = EARLY_BYTES.load(Ordering::Relaxed);
    Summary {
        total,
        free: free * FRAME_SIZE,
        hypervisor: (managed - free) * FRAME_SIZE + early + (image_end - image_start),
    }
}
