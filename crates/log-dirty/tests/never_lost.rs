//! The property migration rests on: whatever the order of guest writes and
//! the toolstack's CLEANs, every frame written is in some CLEAN's copy
//! after its write (or still dirty), and no frame is reported that was not
//! written since the previous CLEAN.

use std::collections::BTreeSet;
use std::sync::Arc;

use proptest::prelude::*;
use rxen_log_dirty::DirtyLog;

#[derive(Clone, Debug)]
enum Step {
    Write(u64),
    Clean,
    Peek,
}

fn step(frames: u64) -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0..frames + 8).prop_map(Step::Write),
        1 => Just(Step::Clean),
        1 => Just(Step::Peek),
    ]
}

fn bits(out: &[u8], pages: u64) -> BTreeSet<u64> {
    (0..pages)
        .filter(|&g| out[(g / 8) as usize] & (1 << (g % 8)) != 0)
        .collect()
}

proptest! {
    #[test]
    fn a_written_frame_is_reported_by_the_next_clean(
        frames in 1u64..300,
        steps in proptest::collection::vec(step(300), 0..200),
    ) {
        let log = DirtyLog::new(frames);
        let mut since_clean = BTreeSet::new();
        let mut out = vec![0u8; frames.div_ceil(8) as usize];
        for s in steps {
            match s {
                Step::Write(g) => {
                    let g = g % (frames + 8);
                    let newly = log.mark(g);
                    if g < frames {
                        prop_assert_eq!(newly, since_clean.insert(g));
                    } else {
                        prop_assert!(!newly);
                    }
                }
                Step::Peek => {
                    let stats = log.read(frames, false, &mut out);
                    prop_assert_eq!(bits(&out, frames), since_clean.clone());
                    prop_assert_eq!(stats.dirty_count as usize, since_clean.len());
                }
                Step::Clean => {
                    let stats = log.read(frames, true, &mut out);
                    prop_assert_eq!(bits(&out, frames), std::mem::take(&mut since_clean));
                    prop_assert_eq!(stats.dirty_count as usize, bits(&out, frames).len());
                    prop_assert_eq!(log.dirty_frames().count(), 0);
                }
            }
        }
    }

    /// A CLEAN of fewer pages than the log hands out only those and keeps
    /// the rest dirty.
    #[test]
    fn a_short_clean_keeps_the_frames_it_did_not_hand_out(
        frames in 1u64..300,
        pages in 0u64..300,
        written in proptest::collection::btree_set(0u64..300, 0..50),
    ) {
        let log = DirtyLog::new(frames);
        for &g in &written {
            log.mark(g);
        }
        let mut out = vec![0u8; pages.div_ceil(8) as usize];
        log.read(pages, true, &mut out);
        let handed = bits(&out, pages);
        for &g in written.iter().filter(|&&g| g < frames) {
            prop_assert!(handed.contains(&g) != log.is_dirty(g), "frame {}", g);
            prop_assert_eq!(handed.contains(&g), g < pages);
        }
    }
}

/// Writers on other threads while the toolstack cleans: every frame
/// written is in the union of the cleans' copies and what is left.
#[test]
fn concurrent_writes_are_never_lost() {
    let frames = 4096;
    let log = Arc::new(DirtyLog::new(frames));
    let writers: Vec<_> = (0..4)
        .map(|t| {
            let log = log.clone();
            std::thread::spawn(move || {
                for i in 0..20_000u64 {
                    log.mark((i * 7 + t * 13) % frames);
                }
            })
        })
        .collect();
    let mut seen = BTreeSet::new();
    let mut out = vec![0u8; (frames / 8) as usize];
    while writers.iter().any(|w| !w.is_finished()) {
        log.read(frames, true, &mut out);
        seen.extend(bits(&out, frames));
    }
    for w in writers {
        w.join().unwrap();
    }
    log.read(frames, true, &mut out);
    seen.extend(bits(&out, frames));
    let written: BTreeSet<u64> = (0..4u64)
        .flat_map(|t| (0..20_000u64).map(move |i| (i * 7 + t * 13) % frames))
        .collect();
    assert_eq!(seen, written);
}

#[test]
fn the_bitmap_is_little_endian_bit_n_of_byte_n_over_8() {
    let log = DirtyLog::new(20);
    log.mark(0);
    log.mark(9);
    log.mark(19);
    let mut out = [0xFFu8; 3];
    let stats = log.read(20, false, &mut out);
    assert_eq!(out, [0b0000_0001, 0b0000_0010, 0b0000_1000]);
    assert_eq!(stats.dirty_count, 3);
}
