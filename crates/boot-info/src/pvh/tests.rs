use std::vec;
use std::vec::Vec;

use zerocopy::IntoBytes;

use super::*;

/// Physical memory `[0, bytes.len())` backed by a buffer.
struct FakeMem(Vec<u8>);

impl FakeMem {
    fn new() -> Self {
        Self(vec![0; 0x10000])
    }

    fn put(&mut self, paddr: u64, bytes: &[u8]) {
        let at = paddr as usize;
        self.0[at..at + bytes.len()].copy_from_slice(bytes);
    }
}

impl PhysMem for FakeMem {
    fn read(&self, paddr: u64, len: usize) -> Option<&[u8]> {
        let start = usize::try_from(paddr).ok().filter(|&s| s < self.0.len())?;
        Some(&self.0[start..self.0.len().min(start.saturating_add(len))])
    }
}

/// 8-byte aligned storage, as a loader provides it.
#[repr(C, align(8))]
struct Aligned([u8; 64]);

fn start_info() -> HvmStartInfo {
    HvmStartInfo {
        magic: HVM_START_MAGIC,
        version: 1,
        flags: 0,
        nr_modules: 2,
        modlist_paddr: 0x3000,
        cmdline_paddr: 0x2000,
        rsdp_paddr: 0xf_0000,
        memmap_paddr: 0x4001, // deliberately unaligned: entries are copied
        memmap_entries: 3,
        reserved: 0,
    }
}

#[test]
fn parse_checks_magic_length_and_alignment() {
    let mut buf = Aligned([0; 64]);
    buf.0[..56].copy_from_slice(start_info().as_bytes());
    let info = HvmStartInfo::parse(&buf.0).unwrap();
    assert_eq!(*info, start_info());
    assert_eq!(info.rsdp(), Some(0xf_0000));

    assert_eq!(HvmStartInfo::parse(&buf.0[..55]), Err(PvhError::TooShort));
    assert_eq!(HvmStartInfo::parse(&buf.0[1..]), Err(PvhError::Misaligned));
    buf.0[0] ^= 1;
    assert_eq!(
        HvmStartInfo::parse(&buf.0),
        Err(PvhError::BadMagic(HVM_START_MAGIC ^ 1))
    );
}

#[test]
fn layout_bytes_match_the_abi() {
    let e = HvmMemmapTableEntry {
        addr: 0x1122,
        size: 0x3344,
        kind: 1,
        reserved: 0,
    };
    let bytes = e.as_bytes();
    assert_eq!(bytes.len(), 24);
    assert_eq!(&bytes[0..8], &0x1122u64.to_le_bytes());
    assert_eq!(&bytes[8..16], &0x3344u64.to_le_bytes());
    assert_eq!(&bytes[16..20], &1u32.to_le_bytes());
    let m = HvmModlistEntry {
        paddr: 1,
        size: 2,
        cmdline_paddr: 3,
        reserved: 0,
    };
    assert_eq!(&m.as_bytes()[16..24], &3u64.to_le_bytes());
    assert_eq!(
        &start_info().as_bytes()[0..4],
        &HVM_START_MAGIC.to_le_bytes()
    );
}

#[test]
fn memmap_is_ignored_for_version_0() {
    let mut s = start_info();
    assert_eq!(s.memmap(), Some((0x4001, 3)));
    s.version = 0;
    assert_eq!(s.memmap(), None);
}

fn populated_memory() -> FakeMem {
    let mut mem = FakeMem::new();
    mem.put(0x2000, b"loglvl=all debug_exit\0");
    let mods = [
        HvmModlistEntry {
            paddr: 0x20_0000,
            size: 0x1234,
            cmdline_paddr: 0x2100,
            reserved: 0,
        },
        HvmModlistEntry {
            paddr: 0x30_0000,
            size: 0x10,
            cmdline_paddr: 0,
            reserved: 0,
        },
    ];
    mem.put(0x3000, mods.as_bytes());
    mem.put(0x2100, b"bundle\0");
    let map = [
        HvmMemmapTableEntry {
            addr: 0,
            size: 0x9_fc00,
            kind: memmap_type::RAM,
            reserved: 0,
        },
        HvmMemmapTableEntry {
            addr: 0xf_0000,
            size: 0x1_0000,
            kind: memmap_type::RESERVED,
            reserved: 0,
        },
        HvmMemmapTableEntry {
            addr: 0x10_0000,
            size: 0x7ff0_0000,
            kind: memmap_type::PMEM,
            reserved: 0,
        },
    ];
    mem.put(0x4001, map.as_bytes());
    mem
}

#[test]
fn converts_to_boot_info() {
    let mem = populated_memory();
    let info = BootInfo::from_pvh(&start_info(), &mem).unwrap();
    assert_eq!(info.protocol(), Protocol::Pvh);
    assert_eq!(info.cmdline(), "loglvl=all debug_exit");
    assert_eq!(info.rsdp(), Some(0xf_0000));
    assert_eq!(info.modules().len(), 2);
    assert_eq!(info.modules()[0], Module::new(0x20_0000, 0x1234, "bundle"));
    assert_eq!(info.modules()[1].name(), "");
    assert_eq!(
        info.regions(),
        [
            MemoryRegion {
                start: 0,
                len: 0x9_fc00,
                kind: MemoryKind::Usable
            },
            MemoryRegion {
                start: 0xf_0000,
                len: 0x1_0000,
                kind: MemoryKind::Reserved
            },
            MemoryRegion {
                start: 0x10_0000,
                len: 0x7ff0_0000,
                kind: MemoryKind::Reserved
            },
        ]
    );
    assert!(!info.is_truncated());
}

#[test]
fn missing_optional_parts_are_fine() {
    let mem = FakeMem::new();
    let s = HvmStartInfo {
        magic: HVM_START_MAGIC,
        version: 0,
        memmap_paddr: 0x4000,
        memmap_entries: 5,
        ..Default::default()
    };
    let info = BootInfo::from_pvh(&s, &mem).unwrap();
    assert_eq!(info.cmdline(), "");
    assert_eq!(info.rsdp(), None);
    assert!(info.modules().is_empty() && info.regions().is_empty());
}

#[test]
fn unreadable_tables_are_errors() {
    let mem = populated_memory();
    let mut s = start_info();
    s.memmap_paddr = 0xfff0; // runs off the end of memory
    assert_eq!(
        BootInfo::from_pvh(&s, &mem).unwrap_err(),
        PvhError::MemmapUnreadable
    );
    let mut s = start_info();
    s.modlist_paddr = 0x1_0000_0000;
    assert_eq!(
        BootInfo::from_pvh(&s, &mem).unwrap_err(),
        PvhError::ModlistUnreadable
    );
    let mut s = start_info();
    s.nr_modules = u32::MAX;
    assert_eq!(
        BootInfo::from_pvh(&s, &mem).unwrap_err(),
        PvhError::ModlistUnreadable
    );
}

#[test]
fn long_cmdline_is_truncated_not_fatal() {
    let mut mem = populated_memory();
    mem.put(0x2000, &[b'x'; 2000]);
    let info = BootInfo::from_pvh(&start_info(), &mem).unwrap();
    assert_eq!(info.cmdline().len(), CMDLINE_CAPACITY);
    assert!(info.is_truncated());
}
