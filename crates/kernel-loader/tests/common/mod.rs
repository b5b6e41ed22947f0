//! Builders for synthetic kernels: a minimal ELF64 vmlinux with Xen notes,
//! and bzImage wrappers around it compressed the way the kernel build does.

#![allow(dead_code)] // Each test binary uses a different subset.

use std::io::Write;

/// Physical load address of Linux's text (`LOAD_PHYSICAL_ADDR`).
pub const LOAD_PADDR: u64 = 0x100_0000;
/// The PVH entry the synthetic kernel advertises (like Debian's 0x1000850).
pub const PVH_ENTRY: u32 = 0x100_0050;

pub struct TestSegment {
    pub paddr: u64,
    pub vaddr: u64,
    pub data: Vec<u8>,
    pub mem_size: u64,
}

/// A minimal ELF64 x86_64 executable: header, program headers, one PT_NOTE
/// with the given (owner, type, descriptor) notes, then the PT_LOAD data.
pub fn elf(segments: &[TestSegment], notes: &[(&[u8], u32, Vec<u8>)]) -> Vec<u8> {
    const EHDR: usize = 64;
    const PHDR: usize = 56;
    let phnum = segments.len() + 1;
    let note_bytes: Vec<u8> = notes
        .iter()
        .flat_map(|(owner, kind, desc)| note(owner, *kind, desc))
        .collect();
    let note_offset = EHDR + PHDR * phnum;
    let mut data_offset = (note_offset + note_bytes.len()).next_multiple_of(16);

    let mut out = Vec::new();
    // e_ident: magic, ELFCLASS64, ELFDATA2LSB, EV_CURRENT, SysV ABI.
    out.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
    out.extend_from_slice(&2u16.to_le_bytes()); // e_type = ET_EXEC
    out.extend_from_slice(&62u16.to_le_bytes()); // e_machine = EM_X86_64
    out.extend_from_slice(&1u32.to_le_bytes()); // e_version
    out.extend_from_slice(&LOAD_PADDR.to_le_bytes()); // e_entry (native, not PVH)
    out.extend_from_slice(&(EHDR as u64).to_le_bytes()); // e_phoff
    out.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
    out.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    out.extend_from_slice(&(EHDR as u16).to_le_bytes());
    out.extend_from_slice(&(PHDR as u16).to_le_bytes());
    out.extend_from_slice(&(phnum as u16).to_le_bytes());
    out.extend_from_slice(&64u16.to_le_bytes()); // e_shentsize
    out.extend_from_slice(&0u16.to_le_bytes()); // e_shnum
    out.extend_from_slice(&0u16.to_le_bytes()); // e_shstrndx
    assert_eq!(out.len(), EHDR);

    let mut phdr = |kind: u32, offset: usize, vaddr: u64, paddr: u64, filesz: usize, memsz: u64| {
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&7u32.to_le_bytes()); // RWX
        out.extend_from_slice(&(offset as u64).to_le_bytes());
        out.extend_from_slice(&vaddr.to_le_bytes());
        out.extend_from_slice(&paddr.to_le_bytes());
        out.extend_from_slice(&(filesz as u64).to_le_bytes());
        out.extend_from_slice(&memsz.to_le_bytes());
        out.extend_from_slice(&4u64.to_le_bytes()); // p_align
    };
    let n = note_bytes.len();
    phdr(4, note_offset, 0, 0, n, n as u64); // PT_NOTE
    let mut offsets = Vec::new();
    for s in segments {
        phdr(1, data_offset, s.vaddr, s.paddr, s.data.len(), s.mem_size); // PT_LOAD
        offsets.push(data_offset);
        data_offset = (data_offset + s.data.len()).next_multiple_of(16);
    }
    out.extend_from_slice(&note_bytes);
    for (s, offset) in segments.iter().zip(offsets) {
        out.resize(offset, 0);
        out.extend_from_slice(&s.data);
    }
    out
}

/// A minimal ELF32 i386 executable with one PT_LOAD at `paddr` and a
/// PT_NOTE holding XEN_ELFNOTE_PHYS32_ENTRY = `entry` (a 32-bit PVH kernel).
pub fn elf32(paddr: u32, data: &[u8], entry: u32) -> Vec<u8> {
    const EHDR: usize = 52;
    const PHDR: usize = 32;
    let notes = note(b"Xen\0", 18, &entry.to_le_bytes());
    let note_offset = EHDR + 2 * PHDR;
    let data_offset = (note_offset + notes.len()).next_multiple_of(16);
    let mut out = Vec::new();
    out.extend_from_slice(b"\x7fELF\x01\x01\x01\0\0\0\0\0\0\0\0\0");
    out.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    out.extend_from_slice(&3u16.to_le_bytes()); // EM_386
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&paddr.to_le_bytes()); // e_entry
    out.extend_from_slice(&(EHDR as u32).to_le_bytes()); // e_phoff
    out.extend_from_slice(&0u32.to_le_bytes()); // e_shoff
    out.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    for v in [EHDR as u16, PHDR as u16, 2, 40, 0, 0] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    let mut phdr = |kind: u32, offset: usize, addr: u32, filesz: usize, memsz: usize| {
        for v in [
            kind,
            offset as u32,
            addr,
            addr,
            filesz as u32,
            memsz as u32,
            7,
            4,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
    };
    phdr(4, note_offset, 0, notes.len(), notes.len());
    phdr(1, data_offset, paddr, data.len(), data.len() + 0x1000);
    out.extend_from_slice(&notes);
    out.resize(data_offset, 0);
    out.extend_from_slice(data);
    out
}

pub fn note(owner: &[u8], kind: u32, desc: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(owner.len() as u32).to_le_bytes());
    out.extend_from_slice(&(desc.len() as u32).to_le_bytes());
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(owner);
    out.resize(out.len().next_multiple_of(4), 0);
    out.extend_from_slice(desc);
    out.resize(out.len().next_multiple_of(4), 0);
    out
}

/// Recognisable "code" bytes.
pub fn code(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

/// A Linux-like vmlinux: text at 16 MiB with a bss tail, `.data..percpu`
/// with vaddr 0, a GNU note that must be skipped, and Xen notes 1, 17, 18.
pub fn linux_like_elf() -> Vec<u8> {
    let segments = [
        TestSegment {
            paddr: LOAD_PADDR,
            vaddr: 0xFFFF_FFFF_8100_0000,
            data: code(0x300),
            mem_size: 0x2000,
        },
        TestSegment {
            paddr: LOAD_PADDR + 0x4000,
            vaddr: 0,
            data: code(0x80),
            mem_size: 0x80,
        },
    ];
    let notes: [(&[u8], u32, Vec<u8>); 4] = [
        (b"GNU\0", 3, vec![0xAB; 20]),
        (b"Xen\0", 1, 0xFFFF_FFFF_8100_0180u64.to_le_bytes().to_vec()),
        (b"Xen\0", 17, 0x8801u32.to_le_bytes().to_vec()),
        (b"Xen\0", 18, PVH_ENTRY.to_le_bytes().to_vec()),
    ];
    elf(&segments, &notes)
}

/// The Linux-like ELF and bzImages of it in every supported compression,
/// built once per test binary (the xz encoder is slow to set up).
pub fn sample_kernels() -> &'static [Vec<u8>] {
    static FILES: std::sync::LazyLock<Vec<Vec<u8>>> = std::sync::LazyLock::new(|| {
        let elf = linux_like_elf();
        vec![
            bzimage(&lz4_legacy(&elf, 128), elf.len(), 27),
            bzimage(&gzip(&elf), elf.len(), 27),
            bzimage(&zstd(&elf), elf.len(), 27),
            bzimage(&xz_bcj(&elf), elf.len(), 27),
            elf,
        ]
    });
    &FILES
}

/// Bytes [`bzimage`] puts after the payload.
pub const BZIMAGE_TRAILER_LEN: usize = 64;

/// Wraps a compressed payload in a bzImage the way the kernel build does:
/// boot sector + setup sectors, protected-mode code, then the payload followed
/// by the uncompressed size as a little-endian u32; `payload_length` covers both.
pub fn bzimage(compressed: &[u8], uncompressed_len: usize, setup_sects: u8) -> Vec<u8> {
    let sectors = if setup_sects == 0 {
        4
    } else {
        usize::from(setup_sects)
    };
    let pm_start = (sectors + 1) * 512;
    let payload_offset = 0x2CCusize; // as in Debian's kernels
    let mut payload = compressed.to_vec();
    payload.extend_from_slice(&(uncompressed_len as u32).to_le_bytes());

    let mut out = vec![0u8; pm_start + payload_offset];
    out[0x1F1] = setup_sects;
    out[0x1FE..0x200].copy_from_slice(&[0x55, 0xAA]);
    out[0x202..0x206].copy_from_slice(b"HdrS");
    out[0x206..0x208].copy_from_slice(&0x020Fu16.to_le_bytes());
    out[0x248..0x24C].copy_from_slice(&(payload_offset as u32).to_le_bytes());
    out[0x24C..0x250].copy_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&[0xEE; BZIMAGE_TRAILER_LEN]); // code/CRC after the payload
    out
}

/// LZ4 legacy framing, split into blocks of at most `block` bytes.
pub fn lz4_legacy(data: &[u8], block: usize) -> Vec<u8> {
    let mut out = 0x184C_2102u32.to_le_bytes().to_vec();
    for chunk in data.chunks(block) {
        let compressed = lz4_flex::block::compress(chunk);
        out.extend_from_slice(&(compressed.len() as u32).to_le_bytes());
        out.extend_from_slice(&compressed);
    }
    out
}

/// gzip with an FNAME field, as `gzip -9 -n` would not write but others may.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1F, 0x8B, 8, 1 << 3, 0, 0, 0, 0, 2, 3];
    out.extend_from_slice(b"vmlinux.bin\0");
    out.extend_from_slice(&miniz_oxide::deflate::compress_to_vec(data, 9));
    out.extend_from_slice(&0u32.to_le_bytes()); // CRC32 (not verified)
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

pub fn zstd(data: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
}

/// xz with the x86 BCJ filter and CRC32 check, like `scripts/xz_wrap.sh`.
pub fn xz_bcj(data: &[u8]) -> Vec<u8> {
    use lzma_rust2::{CheckType, FilterType, XzOptions, XzWriter};
    let mut options = XzOptions::with_preset(6);
    options.set_check_sum_type(CheckType::Crc32);
    options.prepend_pre_filter(FilterType::BcjX86, 0);
    let mut writer = XzWriter::new(Vec::new(), options).unwrap();
    writer.write_all(data).unwrap();
    writer.finish().unwrap()
}
