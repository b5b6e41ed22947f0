//! The boot-info pages: `hvm_start_info`, module list, memory map, command
//! line.

use alloc::vec;
use alloc::vec::Vec;
use core::mem::size_of;

use rxen_boot_info::pvh::{HvmMemmapTableEntry, HvmModlistEntry, HvmStartInfo, HVM_START_MAGIC};
use zerocopy::IntoBytes;

use crate::{Layout, MAX_CMDLINE, PAGE_SIZE, START_INFO_GPA, START_INFO_PAGES};

/// Offset of `hvm_start_info` in the boot-info pages.
pub const START_INFO_OFFSET: u64 = 0;
/// Offset of the module list (at most one entry: the initrd).
pub const MODLIST_OFFSET: u64 = 0x40;
/// Offset of the memory map.
pub const MEMMAP_OFFSET: u64 = 0x80;
/// Offset of the NUL-terminated kernel command line.
pub const CMDLINE_OFFSET: u64 = 0x200;
/// Room for memory-map entries between [`MEMMAP_OFFSET`] and
/// [`CMDLINE_OFFSET`].
pub const MAX_MEMMAP_ENTRIES: usize =
    (CMDLINE_OFFSET - MEMMAP_OFFSET) as usize / size_of::<HvmMemmapTableEntry>();

const PAGES_LEN: usize = (START_INFO_PAGES * PAGE_SIZE) as usize;

const _: () = {
    assert!(size_of::<HvmStartInfo>() as u64 <= MODLIST_OFFSET);
    assert!(MODLIST_OFFSET + size_of::<HvmModlistEntry>() as u64 <= MEMMAP_OFFSET);
    assert!(MEMMAP_OFFSET.is_multiple_of(8) && MODLIST_OFFSET.is_multiple_of(8));
    assert!(CMDLINE_OFFSET as usize + MAX_CMDLINE < PAGES_LEN);
    // Linux reads all of it through its early 1 GiB identity map.
    assert!(START_INFO_GPA + (PAGES_LEN as u64) <= 1 << 30);
};

fn put(page: &mut [u8], offset: u64, bytes: &[u8]) {
    let at = offset as usize;
    page[at..at + bytes.len()].copy_from_slice(bytes);
}

impl Layout {
    /// Guest physical address of the module list.
    pub fn modlist_gpa(&self) -> u64 {
        START_INFO_GPA + MODLIST_OFFSET
    }

    /// Guest physical address of the memory map.
    pub fn memmap_gpa(&self) -> u64 {
        START_INFO_GPA + MEMMAP_OFFSET
    }

    /// Guest physical address of the command line.
    pub fn cmdline_gpa(&self) -> u64 {
        START_INFO_GPA + CMDLINE_OFFSET
    }

    /// The [`START_INFO_PAGES`] boot-info pages, to copy to
    /// [`start_info_gpa`](Self::start_info_gpa): `hvm_start_info` version 1
    /// with the module list (the initrd, if any), the memory map
    /// ([`e820`](Self::e820)), the command line and the RSDP address. The
    /// addresses inside point into these pages at their guest address.
    pub fn start_info_page(&self) -> Vec<u8> {
        let mut page = vec![0u8; PAGES_LEN];
        let modules: &[HvmModlistEntry] = &self
            .initrd()
            .map(|initrd| HvmModlistEntry {
                paddr: initrd.start,
                size: initrd.len(),
                cmdline_paddr: 0,
                reserved: 0,
            })
            .map_or_else(Vec::new, |m| vec![m]);
        // plan() builds a fixed, short map; the assertion in the tests keeps it
        // within MAX_MEMMAP_ENTRIES.
        let memmap = &self.e820()[..self.e820().len().min(MAX_MEMMAP_ENTRIES)];

        let info = HvmStartInfo {
            magic: HVM_START_MAGIC,
            version: 1,
            flags: self.start_info_flags(),
            nr_modules: modules.len() as u32,
            modlist_paddr: if modules.is_empty() {
                0
            } else {
                self.modlist_gpa()
            },
            cmdline_paddr: self.cmdline_gpa(),
            rsdp_paddr: self.rsdp_gpa(),
            memmap_paddr: self.memmap_gpa(),
            memmap_entries: memmap.len() as u32,
            reserved: 0,
        };
        put(&mut page, START_INFO_OFFSET, info.as_bytes());
        put(&mut page, MODLIST_OFFSET, modules.as_bytes());
        put(&mut page, MEMMAP_OFFSET, memmap.as_bytes());
        // plan() checked the length and the absence of NULs; the page is
        // zeroed, so the terminator is already there.
        let cmdline = self.cmdline().as_bytes();
        put(
            &mut page,
            CMDLINE_OFFSET,
            &cmdline[..cmdline.len().min(MAX_CMDLINE)],
        );
        page
    }
}
