use std::collections::{BTreeMap, BTreeSet};
use std::vec;
use std::vec::Vec;

use proptest::prelude::*;

use super::*;

/// Builds metadata for `frames` frames; tests own it so the allocator can
/// borrow it.
fn metadata(frames: u64) -> Vec<u8> {
    vec![0xAA; metadata_bytes(frames)] // garbage on purpose: new() must not rely on zeroed memory
}

fn range(start: u64, end: u64) -> FrameRange {
    FrameRange::from_numbers(start, end)
}

/// Free-block counts for all orders, to compare "shapes" of the allocator.
fn shape(a: &FrameAllocator<'_>) -> Vec<u64> {
    (0..=MAX_ORDER).map(|k| a.free_blocks(k)).collect()
}

#[test]
fn metadata_sizing() {
    assert_eq!(metadata_bytes(0), 0);
    assert_eq!(metadata_bytes(1), 9);
    // 64 GiB of RAM = 16 Mi frames: 144 MiB of metadata, under 0.25 % of RAM.
    let frames = 64u64 << 30 >> 12;
    let bytes = metadata_bytes(frames) as u64;
    assert!(bytes * 1000 <= (64u64 << 30) * 5 / 2, "{bytes}");
    assert_eq!(metadata_bytes(u64::MAX), usize::MAX);
}

#[test]
fn new_rejects_bad_metadata() {
    let mut small = vec![0u8; 8];
    assert_eq!(
        FrameAllocator::new(&mut small, 1).unwrap_err(),
        AllocError::MetadataTooSmall { needed: 9 }
    );
    let mut none: [u8; 0] = [];
    assert_eq!(
        FrameAllocator::new(&mut none, MAX_FRAMES + 1).unwrap_err(),
        AllocError::TooManyFrames
    );
    let a = FrameAllocator::new(&mut none, 0).unwrap();
    assert_eq!(a.total_frames(), 0);
}

#[test]
fn add_free_range_splits_into_aligned_blocks() {
    let mut meta = metadata(64);
    let mut a = FrameAllocator::new(&mut meta, 64).unwrap();
    // 3..21 = 3 | 4..8 | 8..16 | 16..20 | 20
    a.add_free_range(range(3, 21)).unwrap();
    a.check_invariants();
    assert_eq!(a.free_frames(), 18);
    assert_eq!(a.total_frames(), 18);
    assert_eq!(a.free_blocks(0), 2);
    assert_eq!(a.free_blocks(2), 2);
    assert_eq!(a.free_blocks(3), 1);
    assert_eq!(a.largest_free_order(), Some(3));
}

#[test]
fn adjacent_ranges_coalesce() {
    let mut meta = metadata(64);
    let mut a = FrameAllocator::new(&mut meta, 64).unwrap();
    a.add_free_range(range(0, 5)).unwrap();
    a.add_free_range(range(5, 16)).unwrap();
    a.check_invariants();
    assert_eq!(a.free_blocks(4), 1);
    assert_eq!(a.free_frames(), 16);
}

#[test]
fn add_free_range_rejects_overlap_and_out_of_range() {
    let mut meta = metadata(32);
    let mut a = FrameAllocator::new(&mut meta, 32).unwrap();
    a.add_free_range(range(0, 8)).unwrap();
    assert_eq!(
        a.add_free_range(range(7, 9)),
        Err(AllocError::AlreadyManaged)
    );
    assert_eq!(a.add_free_range(range(30, 33)), Err(AllocError::OutOfRange));
    assert_eq!(
        a.add_free_range(FrameRange::new(Frame::new(u64::MAX), 2)),
        Err(AllocError::OutOfRange)
    );
    assert_eq!(a.add_free_range(range(8, 8)), Ok(()));
    assert_eq!(a.total_frames(), 8);
    a.check_invariants();
}

#[test]
fn alloc_splits_and_free_coalesces_back() {
    let mut meta = metadata(1 << 10);
    let mut a = FrameAllocator::new(&mut meta, 1 << 10).unwrap();
    a.add_free_range(range(0, 1 << 10)).unwrap();
    assert_eq!(shape(&a)[10], 1);

    let f = a.alloc(0).unwrap();
    assert_eq!(f, Frame::new(0));
    a.check_invariants();
    // One block of each order 0..10 remains.
    for k in 0..10 {
        assert_eq!(a.free_blocks(k), 1, "order {k}");
    }
    assert_eq!(a.free_frames(), 1023);

    a.free(f, 0).unwrap();
    a.check_invariants();
    assert_eq!(a.free_blocks(10), 1);
    assert_eq!(a.free_frames(), 1024);
}

#[test]
fn every_order_is_aligned() {
    let frames = 1 << 19;
    let mut meta = metadata(frames);
    let mut a = FrameAllocator::new(&mut meta, frames).unwrap();
    a.add_free_range(range(1, frames)).unwrap(); // odd start: forces splits
    for order in (0..=MAX_ORDER).rev() {
        let f = a.alloc(order).unwrap();
        assert!(f.is_aligned(order), "order {order}: {f:?}");
        assert_eq!(f.addr() % (4096 << order), 0);
        a.check_invariants();
    }
}

#[test]
fn exhaustion_is_an_error() {
    let mut meta = metadata(16);
    let mut a = FrameAllocator::new(&mut meta, 16).unwrap();
    assert_eq!(a.alloc(0), Err(AllocError::OutOfMemory));
    a.add_free_range(range(0, 16)).unwrap();
    assert_eq!(a.alloc(5), Err(AllocError::OutOfMemory));
    assert_eq!(a.alloc(MAX_ORDER + 1), Err(AllocError::InvalidOrder));
    let mut got = BTreeSet::new();
    for _ in 0..16 {
        assert!(got.insert(a.alloc(0).unwrap()));
    }
    assert_eq!(a.alloc(0), Err(AllocError::OutOfMemory));
    assert_eq!(a.free_frames(), 0);
    assert_eq!(a.largest_free_order(), None);
    for f in got {
        a.free(f, 0).unwrap();
    }
    assert_eq!(a.free_blocks(4), 1);
}

#[test]
fn bad_frees_are_rejected_without_damage() {
    let mut meta = metadata(64);
    let mut a = FrameAllocator::new(&mut meta, 64).unwrap();
    a.add_free_range(range(0, 64)).unwrap();
    let f = a.alloc(2).unwrap();
    assert_eq!(a.free(f, 1), Err(AllocError::NotAllocated)); // wrong order
    assert_eq!(
        a.free(Frame::new(f.number() + 1), 0),
        Err(AllocError::NotAllocated)
    );
    assert_eq!(
        a.free(Frame::new(f.number() + 2), 2),
        Err(AllocError::Misaligned)
    );
    assert_eq!(a.free(Frame::new(64), 0), Err(AllocError::OutOfRange));
    assert_eq!(a.free(f, MAX_ORDER + 1), Err(AllocError::InvalidOrder));
    a.free(f, 2).unwrap();
    assert_eq!(a.free(f, 2), Err(AllocError::NotAllocated)); // double free
    a.check_invariants();
    assert_eq!(a.free_blocks(6), 1);
}

#[test]
fn buddy_beyond_max_frame_is_not_touched() {
    // 12 frames: blocks 0..8 and 8..12; 8's order-2 buddy (12) is outside.
    let mut meta = metadata(12);
    let mut a = FrameAllocator::new(&mut meta, 12).unwrap();
    a.add_free_range(range(0, 12)).unwrap();
    assert_eq!(shape(&a)[..4], [0, 0, 1, 1]);
    let f = a.alloc(2).unwrap();
    assert_eq!(f, Frame::new(8));
    a.free(f, 2).unwrap();
    a.check_invariants();
    assert_eq!(shape(&a)[..4], [0, 0, 1, 1]);
}

#[test]
fn holes_prevent_coalescing_across_them() {
    let mut meta = metadata(16);
    let mut a = FrameAllocator::new(&mut meta, 16).unwrap();
    a.add_free_range(range(0, 7)).unwrap();
    a.add_free_range(range(8, 16)).unwrap();
    a.check_invariants();
    assert_eq!(a.free_blocks(3), 1); // 8..16
    assert_eq!(a.free_blocks(2), 1); // 0..4
    assert_eq!(a.free_blocks(1), 1); // 4..6
    assert_eq!(a.free_blocks(0), 1); // 6
}

#[test]
fn large_memory_uses_max_order_blocks() {
    // 4 GiB + a bit: 4 blocks of 1 GiB, plus the tail.
    let frames = (4u64 << 18) + 3;
    let mut meta = metadata(frames);
    let mut a = FrameAllocator::new(&mut meta, frames).unwrap();
    a.add_free_range(range(0, frames)).unwrap();
    assert_eq!(a.free_blocks(MAX_ORDER), 4);
    assert_eq!(a.free_blocks(1), 1);
    assert_eq!(a.free_blocks(0), 1);
    assert_eq!(a.free_frames(), frames);
}

#[derive(Debug, Clone)]
enum Op {
    Alloc(u32),
    /// Free the n-th (modulo count) live allocation.
    Free(usize),
    /// Split the n-th live allocation into single frames.
    Split(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u32..=6).prop_map(Op::Alloc),
        2 => any::<usize>().prop_map(Op::Free),
        1 => any::<usize>().prop_map(Op::Split),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Random alloc/free sequences over random (possibly fragmented) memory:
    /// no frame is ever handed out twice, accounting stays exact, and after
    /// freeing everything the allocator has the same blocks as at the start.
    #[test]
    fn random_alloc_free_never_double_allocates(
        ranges in proptest::collection::vec((0u64..512, 1u64..96), 1..6),
        ops in proptest::collection::vec(op(), 1..200),
    ) {
        let max_frame = 640;
        let mut meta = metadata(max_frame);
        let mut a = FrameAllocator::new(&mut meta, max_frame).unwrap();
        let mut added = BTreeSet::new();
        for (start, len) in ranges {
            let r = range(start, start + len);
            let overlaps = (start..start + len).any(|f| added.contains(&f));
            let result = a.add_free_range(r);
            if overlaps {
                prop_assert_eq!(result, Err(AllocError::AlreadyManaged));
            } else {
                prop_assert_eq!(result, Ok(()));
                added.extend(start..start + len);
            }
        }
        a.check_invariants();
        let initial = shape(&a);
        let total = a.total_frames();
        prop_assert_eq!(total, added.len() as u64);

        let mut live: BTreeMap<u64, u32> = BTreeMap::new(); // start frame -> order
        let mut in_use: BTreeSet<u64> = BTreeSet::new();
        for op in ops {
            match op {
                Op::Alloc(order) => match a.alloc(order) {
                    Ok(f) => {
                        prop_assert!(f.is_aligned(order));
                        for n in f.number()..f.number() + (1 << order) {
                            prop_assert!(added.contains(&n), "frame {} never added", n);
                            prop_assert!(in_use.insert(n), "frame {} handed out twice", n);
                        }
                        live.insert(f.number(), order);
                    }
                    Err(e) => {
                        prop_assert_eq!(e, AllocError::OutOfMemory);
                        prop_assert!(a.largest_free_order().is_none_or(|k| k < order));
                    }
                },
                Op::Free(i) => {
                    if live.is_empty() { continue; }
                    let (&start, &order) = live.iter().nth(i % live.len()).unwrap();
                    a.free(Frame::new(start), order).unwrap();
                    live.remove(&start);
                    for n in start..start + (1 << order) { in_use.remove(&n); }
                }
                Op::Split(i) => {
                    if live.is_empty() { continue; }
                    let (&start, &order) = live.iter().nth(i % live.len()).unwrap();
                    a.split(Frame::new(start), order).unwrap();
                    live.remove(&start);
                    for n in start..start + (1 << order) { live.insert(n, 0); }
                }
            }
            a.check_invariants();
            prop_assert_eq!(a.free_frames() + in_use.len() as u64, total);
        }
        for (start, order) in live {
            a.free(Frame::new(start), order).unwrap();
        }
        a.check_invariants();
        prop_assert_eq!(a.free_frames(), total);
        prop_assert_eq!(shape(&a), initial);
    }
}

#[test]
fn a_split_block_frees_frame_by_frame_and_coalesces() {
    let mut meta = metadata(1024);
    let mut a = FrameAllocator::new(&mut meta, 1024).unwrap();
    a.add_free_range(range(0, 1024)).unwrap();
    let before = shape(&a);
    let block = a.alloc(9).unwrap();
    a.split(block, 9).unwrap();
    // The head can no longer be freed as a whole ...
    assert_eq!(a.free(block, 9), Err(AllocError::NotAllocated));
    assert_eq!(a.free_frames(), 512);
    // ... but each frame can, in any order, and they merge back.
    for i in (0..512).rev() {
        a.free(Frame::new(block.number() + i), 0).unwrap();
        a.check_invariants();
    }
    assert_eq!(a.free_frames(), 1024);
    assert_eq!(shape(&a), before);
}

#[test]
fn split_checks_the_block() {
    let mut meta = metadata(1024);
    let mut a = FrameAllocator::new(&mut meta, 1024).unwrap();
    a.add_free_range(range(0, 1024)).unwrap();
    let block = a.alloc(4).unwrap();
    assert_eq!(a.split(block, 3), Err(AllocError::NotAllocated));
    assert_eq!(
        a.split(Frame::new(block.number() + 1), 0),
        Err(AllocError::NotAllocated)
    );
    assert_eq!(a.split(block, 40), Err(AllocError::InvalidOrder));
    a.split(block, 4).unwrap();
    assert_eq!(a.split(block, 4), Err(AllocError::NotAllocated));
    a.split(block, 0).unwrap(); // an order-0 block splits into itself
}
