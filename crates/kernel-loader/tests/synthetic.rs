//! Loading synthetic kernels: a plain ELF, and bzImages in every supported
//! compression, built the way the Linux build builds them.

mod common;

use common::*;
use rxen_kernel_loader::{extract_vmlinux, load, packing, KernelImage, LoadError};

fn assert_linux_like(image: &KernelImage) {
    assert_eq!(image.pvh_entry, PVH_ENTRY);
    assert_eq!(image.notes.phys32_entry, Some(u64::from(PVH_ENTRY)));
    assert_eq!(image.notes.entry, Some(0xFFFF_FFFF_8100_0180));
    assert_eq!(image.notes.supported_features, Some(0x8801));
    assert_eq!(image.notes.hypercall_page, None);
    let layout: Vec<_> = image
        .segments
        .iter()
        .map(|s| (s.paddr, s.file_size, s.mem_size))
        .collect();
    // Placed by paddr, even for the segment whose vaddr is 0.
    assert_eq!(
        layout,
        [
            (LOAD_PADDR, 0x300, 0x2000),
            (LOAD_PADDR + 0x4000, 0x80, 0x80)
        ]
    );
    assert_eq!(image.data(&image.segments[0]), code(0x300));
}

#[test]
fn loads_a_32_bit_pvh_elf() {
    let image = load(&elf32(0x10_0000, &code(0x40), 0x10_0010)).unwrap();
    assert_eq!(image.pvh_entry, 0x10_0010);
    assert_eq!(image.segments.len(), 1);
    assert_eq!(image.segments[0].paddr, 0x10_0000);
    assert_eq!(image.segments[0].mem_size, 0x1040);
    assert_eq!(image.data(&image.segments[0]), code(0x40));
}

#[test]
fn loads_a_plain_elf() {
    assert_linux_like(&load(&linux_like_elf()).unwrap());
}

#[test]
fn loads_an_lz4_bzimage_with_several_blocks() {
    let elf = linux_like_elf();
    let image = bzimage(&lz4_legacy(&elf, 256), elf.len(), 27);
    assert_linux_like(&load(&image).unwrap());
    assert_eq!(extract_vmlinux(&image).unwrap().as_ref(), elf.as_slice());
}

#[test]
fn lz4_stream_may_repeat_its_magic_between_blocks() {
    let elf = linux_like_elf();
    let (first, second) = elf.split_at(300);
    let mut payload = lz4_legacy(first, 1 << 20);
    payload.extend(lz4_legacy(second, 1 << 20));
    assert_linux_like(&load(&bzimage(&payload, elf.len(), 27)).unwrap());
}

#[test]
fn zero_setup_sects_means_four() {
    let elf = linux_like_elf();
    assert_linux_like(&load(&bzimage(&lz4_legacy(&elf, 1 << 20), elf.len(), 0)).unwrap());
}

#[test]
fn loads_a_gzip_bzimage() {
    let elf = linux_like_elf();
    assert_linux_like(&load(&bzimage(&gzip(&elf), elf.len(), 27)).unwrap());
}

#[test]
fn loads_a_zstd_bzimage() {
    let elf = linux_like_elf();
    assert_linux_like(&load(&bzimage(&zstd(&elf), elf.len(), 27)).unwrap());
}

#[test]
fn loads_an_xz_bcj_bzimage() {
    let elf = linux_like_elf();
    assert_linux_like(&load(&bzimage(&xz_bcj(&elf), elf.len(), 27)).unwrap());
}

#[test]
fn loads_an_uncompressed_bzimage() {
    let elf = linux_like_elf();
    assert_linux_like(&load(&bzimage(&elf, elf.len(), 27)).unwrap());
}

#[test]
fn reports_unsupported_compression_by_name() {
    let image = bzimage(b"BZh91AY&SY and so on", 1000, 27);
    let error = load(&image).unwrap_err();
    assert_eq!(error, LoadError::UnsupportedCompression("bzip2"));
    assert!(error.to_string().contains("bzip2"), "{error}");
}

#[test]
fn a_kernel_without_pvh_note_is_refused_with_a_hint() {
    let segment = TestSegment {
        paddr: LOAD_PADDR,
        vaddr: LOAD_PADDR,
        data: code(0x100),
        mem_size: 0x100,
    };
    let elf = elf(&[segment], &[(b"Xen\0", 1, 0u64.to_le_bytes().to_vec())]);
    let error = load(&elf).unwrap_err();
    assert_eq!(error, LoadError::NoPvhEntry);
    assert!(error.to_string().contains("CONFIG_XEN_PVH=y"));
}

#[test]
fn a_pvh_entry_outside_the_image_is_refused() {
    let segment = TestSegment {
        paddr: LOAD_PADDR,
        vaddr: LOAD_PADDR,
        data: code(0x100),
        mem_size: 0x1000,
    };
    // Inside the bss, which is zeros at entry: not code.
    let entry = (LOAD_PADDR as u32 + 0x200).to_le_bytes().to_vec();
    let elf = elf(&[segment], &[(b"Xen\0", 18, entry)]);
    assert!(matches!(load(&elf), Err(LoadError::BadElf(_))));
}

#[test]
fn overlapping_segments_are_refused() {
    let segment = |paddr| TestSegment {
        paddr,
        vaddr: paddr,
        data: code(0x100),
        mem_size: 0x1000,
    };
    let entry = PVH_ENTRY.to_le_bytes().to_vec();
    let elf = elf(
        &[segment(LOAD_PADDR), segment(LOAD_PADDR + 0x800)],
        &[(b"Xen\0", 18, entry)],
    );
    assert_eq!(
        load(&elf).unwrap_err(),
        LoadError::BadElf("two PT_LOAD segments overlap")
    );
}

#[test]
fn a_huge_bss_is_too_big() {
    let segment = TestSegment {
        paddr: LOAD_PADDR,
        vaddr: LOAD_PADDR,
        data: code(0x100),
        mem_size: 1 << 40,
    };
    let entry = PVH_ENTRY.to_le_bytes().to_vec();
    let elf = elf(&[segment], &[(b"Xen\0", 18, entry)]);
    assert_eq!(load(&elf).unwrap_err(), LoadError::TooBig);
}

#[test]
fn a_decompression_bomb_is_too_big() {
    let zeros = vec![0u8; rxen_kernel_loader::MAX_KERNEL_BYTES + 1];
    let mut elf_like = b"\x7fELF".to_vec();
    elf_like.extend_from_slice(&zeros);
    let payload = lz4_legacy(&elf_like, 8 << 20);
    let error = load(&bzimage(&payload, 0, 27)).unwrap_err();
    assert_eq!(error, LoadError::TooBig);
}

#[test]
fn packing_names_the_payload_format() {
    let elf = linux_like_elf();
    assert_eq!(packing(&elf), "elf");
    assert_eq!(packing(&bzimage(&xz_bcj(&elf), elf.len(), 27)), "xz");
    assert_eq!(
        packing(&bzimage(&lz4_legacy(&elf, 256), elf.len(), 27)),
        "lz4"
    );
    assert_eq!(packing(&bzimage(&elf, elf.len(), 27)), "none");
    assert_eq!(packing(b"not a kernel at all"), "unknown");
}

/// Workers on threads, counting the tasks and the threads they ran on.
struct Threads {
    tasks: std::sync::atomic::AtomicUsize,
}

impl rxen_kernel_loader::Workers for Threads {
    fn run(&self, tasks: &mut [&mut (dyn FnMut() + Send)]) {
        self.tasks
            .fetch_add(tasks.len(), std::sync::atomic::Ordering::SeqCst);
        std::thread::scope(|s| {
            for task in tasks.iter_mut() {
                s.spawn(task);
            }
        });
    }
}

/// An ELF-headed blob a little over two 8 MiB LZ4 blocks.
fn large_vmlinux() -> Vec<u8> {
    let mut data = linux_like_elf();
    let mut x = 0x1234_5678u32;
    while data.len() < (16 << 20) + 12345 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        data.push((x >> 24) as u8 & 0x0F);
    }
    data
}

#[test]
fn lz4_blocks_are_decoded_side_by_side_and_give_the_same_bytes() {
    let data = large_vmlinux();
    let image = bzimage(&lz4_legacy(&data, 8 << 20), data.len(), 27);
    let workers = Threads {
        tasks: Default::default(),
    };
    let out = rxen_kernel_loader::extract_vmlinux_with(&image, &workers).unwrap();
    assert!(out.as_ref() == data.as_slice());
    assert_eq!(workers.tasks.into_inner(), 3, "three blocks, three tasks");
}

#[test]
fn lz4_blocks_of_other_sizes_or_a_wrong_size_word_are_decoded_one_by_one() {
    let data = large_vmlinux();
    for (block, size_word) in [
        (4 << 20, data.len()),
        (8 << 20, data.len() + 1),
        (8 << 20, 5),
    ] {
        let image = bzimage(&lz4_legacy(&data, block), size_word, 27);
        let workers = Threads {
            tasks: Default::default(),
        };
        let out = rxen_kernel_loader::extract_vmlinux_with(&image, &workers).unwrap();
        assert!(
            out.as_ref() == data.as_slice(),
            "blocks of {block}, size word {size_word}"
        );
    }
}

#[test]
fn a_corrupt_lz4_block_is_reported_when_decoded_side_by_side() {
    let data = large_vmlinux();
    let mut payload = lz4_legacy(&data, 8 << 20);
    // The second block's first bytes (after magic, size, block 1, size).
    let first = u32::from_le_bytes(payload[4..8].try_into().unwrap()) as usize;
    let at = 8 + first + 4;
    payload[at..at + 16].fill(0xFF);
    let image = bzimage(&payload, data.len(), 27);
    let workers = Threads {
        tasks: Default::default(),
    };
    let error = rxen_kernel_loader::extract_vmlinux_with(&image, &workers).unwrap_err();
    assert_eq!(error, LoadError::Decompress("corrupt LZ4 block"));
}
