//! The hypervisor's own 4-level page tables.
//!
//! Layout of the hypervisor's address space:
//! - the image at its load address (= physical address): text read+execute,
//!   rodata read-only, data and bss read+write, no-execute (W^X);
//! - a direct map of all memory the firmware reports, at
//!   [`DIRECT_MAP_BASE`], read+write, no-execute, 2 MiB pages;
//! - per-CPU stacks in [`STACK_AREA_BASE`], each below an unmapped guard
//!   page, so an overflow faults instead of corrupting a neighbour;
//! - device registers (the local APIC) in [`MMIO_AREA_BASE`], uncached.
//!
//! The boot code's identity map of the first 4 GiB is dropped when
//! [`build_and_switch`] loads the new tables.

use core::sync::atomic::{AtomicU64, Ordering};

use ::x86_64::registers::control::{Cr0, Cr0Flags, Cr3, Cr4, Cr4Flags};
use ::x86_64::registers::model_specific::{Efer, EferFlags};
use ::x86_64::structures::paging::mapper::MapToError;
use ::x86_64::structures::paging::{
    FrameAllocator, Mapper, OffsetPageTable, Page, PageTable, PageTableFlags as F, PhysFrame,
    Size2MiB, Size4KiB,
};
use ::x86_64::{PhysAddr, VirtAddr};

use crate::sync::TicketLock;

pub const DIRECT_MAP_BASE: u64 = 0xffff_8000_0000_0000;
pub const STACK_AREA_BASE: u64 = 0xffff_c000_0000_0000;
pub const MMIO_AREA_BASE: u64 = 0xffff_d000_0000_0000;
pub const PAGE_SIZE: u64 = 4096;
const HUGE: u64 = 2 << 20;

/// 0 while the boot identity map is live, then [`DIRECT_MAP_BASE`].
static PHYS_OFFSET: AtomicU64 = AtomicU64::new(0);
/// Serialises changes to the hypervisor's page tables.
static TABLES: TicketLock<()> = TicketLock::new(());

/// Where physical address `pa` can be read and written by the hypervisor.
pub fn phys_to_virt(pa: u64) -> *mut u8 {
    (pa + PHYS_OFFSET.load(Ordering::Relaxed)) as *mut u8
}

/// Zeroes `len` bytes (a multiple of 8) at `pa` with `rep stosq`: under
/// emulation, eight bytes per iteration is several times faster than the
/// byte loop `memset` uses, and domains need all their RAM zeroed.
///
/// # Safety
/// [pa, pa+len) must be memory the caller owns, in the direct map.
pub unsafe fn zero_phys(pa: u64, len: usize) {
    // SAFETY: the caller owns the range (memset is arch/mem.rs's loop, not
    // `rep stosq`, which is slow under emulation).
    unsafe { core::ptr::write_bytes(phys_to_virt(pa), 0, len) };
}

/// The physical address behind a direct-map pointer.
pub fn virt_to_phys(ptr: *const u8) -> u64 {
    ptr as u64 - PHYS_OFFSET.load(Ordering::Relaxed)
}

/// A source of zeroed or unzeroed 4 KiB frames for new page tables.
pub trait TableFrames {
    fn frame(&mut self) -> Option<u64>;
}

struct Adapter<'a>(&'a mut dyn TableFrames);

// SAFETY: frames come from the caller's allocator and are unused memory;
// the x86_64 crate zeroes each one before using it as a table.
unsafe impl FrameAllocator<Size4KiB> for Adapter<'_> {
    fn allocate_frame(&mut self) -> Option<PhysFrame<Size4KiB>> {
        self.0
            .frame()
            .map(|pa| PhysFrame::containing_address(PhysAddr::new(pa)))
    }
}

extern "C" {
    static __image_start: u8;
    static __text_end: u8;
    static __rodata_end: u8;
    static __image_end: u8;
}

/// The image's section boundaries: (start, text end, rodata end, end).
pub fn image_bounds() -> (u64, u64, u64, u64) {
    // Taking linker symbols' addresses never reads them.
    (
        core::ptr::addr_of!(__image_start) as u64,
        core::ptr::addr_of!(__text_end) as u64,
        core::ptr::addr_of!(__rodata_end) as u64,
        core::ptr::addr_of!(__image_end) as u64,
    )
}

/// Builds the final tables (image with W^X, direct map of `memory`) with
/// frames from `frames`, which must lie in the boot identity map (below
/// 4 GiB), then switches to them.
pub fn build_and_switch(
    memory: &mut dyn Iterator<Item = (u64, u64)>,
    frames: &mut dyn TableFrames,
) {
    let mut alloc = Adapter(frames);
    let root = alloc
        .allocate_frame()
        .expect("no memory for the root page table");
    let root_ptr = phys_to_virt(root.start_address().as_u64()) as *mut PageTable;
    // SAFETY: the frame is fresh, identity-mapped and exclusively ours.
    let root_table = unsafe {
        root_ptr.write(PageTable::new());
        &mut *root_ptr
    };
    // SAFETY: with offset 0 the boot identity map makes every table frame
    // (below 4 GiB) reachable at its physical address.
    let mut mapper = unsafe { OffsetPageTable::new(root_table, VirtAddr::new(0)) };
    let (start, text_end, rodata_end, end) = image_bounds();
    map_range_4k(&mut mapper, &mut alloc, start, text_end, F::PRESENT);
    map_range_4k(
        &mut mapper,
        &mut alloc,
        text_end,
        rodata_end,
        F::PRESENT | F::NO_EXECUTE,
    );
    map_range_4k(
        &mut mapper,
        &mut alloc,
        rodata_end,
        end,
        F::PRESENT | F::WRITABLE | F::NO_EXECUTE,
    );
    for (base, len) in memory {
        map_direct(&mut mapper, &mut alloc, base, base + len);
    }
    // SAFETY: the new tables map the running code, its stack (in .bss) and
    // its data exactly where they are now; NXE and WP are already enabled
    // by the boot code, set again here for CPUs that came up differently.
    unsafe {
        Efer::update(|f| f.insert(EferFlags::NO_EXECUTE_ENABLE));
        Cr0::update(|f| f.insert(Cr0Flags::WRITE_PROTECT));
        Cr4::update(|f| f.insert(Cr4Flags::PAGE_GLOBAL));
        let (_, cr3_flags) = Cr3::read();
        Cr3::write(root, cr3_flags);
    }
    PHYS_OFFSET.store(DIRECT_MAP_BASE, Ordering::SeqCst);
}

fn map_range_4k(mapper: &mut OffsetPageTable, alloc: &mut Adapter, start: u64, end: u64, flags: F) {
    let mut va = start & !(PAGE_SIZE - 1);
    while va < end {
        let page = Page::<Size4KiB>::containing_address(VirtAddr::new(va));
        let frame = PhysFrame::containing_address(PhysAddr::new(va));
        // SAFETY: identity mapping of our own image; nothing else maps it.
        match unsafe { mapper.map_to(page, frame, flags, alloc) } {
            Ok(flush) => flush.ignore(),
            Err(e) => panic!("cannot map the image at {va:#x}: {e:?}"),
        }
        va += PAGE_SIZE;
    }
}

fn map_direct(mapper: &mut OffsetPageTable, alloc: &mut Adapter, start: u64, end: u64) {
    let mut pa = start & !(HUGE - 1);
    while pa < end {
        let page = Page::<Size2MiB>::containing_address(VirtAddr::new(DIRECT_MAP_BASE + pa));
        let frame = PhysFrame::<Size2MiB>::containing_address(PhysAddr::new(pa));
        let flags = F::PRESENT | F::WRITABLE | F::NO_EXECUTE | F::HUGE_PAGE;
        // SAFETY: the direct map is a data-only (NX) alias of physical
        // memory; 2 MiB pages shared by two ranges are mapped once.
        match unsafe { mapper.map_to(page, frame, flags, alloc) } {
            Ok(flush) => flush.ignore(),
            Err(MapToError::PageAlreadyMapped(_)) => {}
            Err(e) => panic!("cannot build the direct map at {pa:#x}: {e:?}"),
        }
        pa += HUGE;
    }
}

/// Kinds of late 4 KiB mappings.
#[derive(Clone, Copy)]
pub enum Access {
    /// Read-write data, never executed (stacks).
    Data,
    /// Read-execute code (the AP start-up trampoline).
    Code,
    /// Uncached device registers.
    Device,
}

/// Maps one 4 KiB page after the switch, taking table frames from `frames`.
pub fn map_page(va: u64, pa: u64, access: Access, frames: &mut dyn TableFrames) {
    let flags = match access {
        Access::Data => F::PRESENT | F::WRITABLE | F::NO_EXECUTE,
        Access::Code => F::PRESENT,
        Access::Device => F::PRESENT | F::WRITABLE | F::NO_EXECUTE | F::NO_CACHE | F::WRITE_THROUGH,
    };
    let _guard = TABLES.lock();
    let (root, _) = Cr3::read();
    let root_ptr = phys_to_virt(root.start_address().as_u64()) as *mut PageTable;
    // SAFETY: the tables lock serialises all changes; the root and every
    // table below it are reachable through the direct map.
    let mut mapper =
        unsafe { OffsetPageTable::new(&mut *root_ptr, VirtAddr::new(DIRECT_MAP_BASE)) };
    let page = Page::<Size4KiB>::containing_address(VirtAddr::new(va));
    let frame = PhysFrame::containing_address(PhysAddr::new(pa));
    // SAFETY: callers map fresh frames or device pages at addresses
    // reserved for that purpose (stack area, MMIO area, trampoline).
    match unsafe { mapper.map_to(page, frame, flags, &mut Adapter(frames)) } {
        Ok(flush) => flush.flush(),
        Err(MapToError::PageAlreadyMapped(_)) => {}
        Err(e) => panic!("cannot map {va:#x}: {e:?}"),
    }
}

/// Whether `va` is mapped in the current tables (read-only walk; used by
/// the stack tracer, which must never fault).
pub fn is_mapped(va: u64) -> bool {
    let (root, _) = Cr3::read();
    let mut table = root.start_address().as_u64();
    for level in (0..4).rev() {
        let index = (va >> (12 + 9 * level)) & 0x1ff;
        // SAFETY: table frames are reachable through the current offset
        // (identity before the switch, direct map after).
        let entry = unsafe { *(phys_to_virt(table) as *const u64).add(index as usize) };
        if entry & 1 == 0 {
            return false;
        }
        if level > 0 && level < 3 && entry & (1 << 7) != 0 {
            return true;
        }
        table = entry & 0x000f_ffff_ffff_f000;
    }
    true
}
