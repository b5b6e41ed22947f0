use super::*;
use alloc::collections::BTreeSet;
use proptest::prelude::*;

#[test]
fn marks_join_and_forget_splits() {
    let mut b = PodBook::new();
    assert!(b.mark(0, 512));
    assert!(b.mark(512, 512));
    assert_eq!(b.ranges.len(), 1);
    assert!(!b.mark(100, 1));
    assert_eq!(b.forget(10, 5), 5);
    assert_eq!(b.entries(), 1019);
    assert!(b.contains(9) && !b.contains(10) && !b.contains(14) && b.contains(15));
    assert!(b.covers(512, 512) && !b.covers(0, 512));
    assert_eq!(b.forget(2000, 10), 0);
}

#[test]
fn a_touch_takes_a_block_only_when_all_of_it_is_owed() {
    let mut b = PodBook::new();
    b.mark(0, 2048);
    b.set_cache(1024);
    assert_eq!(
        b.touch(700, true),
        Touch::Populate {
            first: 512,
            count: 512
        }
    );
    assert_eq!(
        b.touch(700, false),
        Touch::Populate {
            first: 700,
            count: 1
        }
    );
    b.populated(700, 1);
    assert_eq!((b.entries(), b.cache()), (2047, 1023));
    // Its block now has a hole: one page at a time there.
    assert_eq!(
        b.touch(701, true),
        Touch::Populate {
            first: 701,
            count: 1
        }
    );
    assert_eq!(b.touch(5000, true), Touch::NotPod);
    b.set_cache(0);
    assert_eq!(b.touch(1, true), Touch::CacheEmpty);
}

#[test]
fn ballooning_down_balances_the_books() {
    // maxmem 2048 pages, memory 1024: the cache holds the target.
    // As libxc does it: the target first, then the entries.
    let mut b = PodBook::new();
    b.set_cache(b.cache_goal(1024, 0).unwrap());
    b.mark(0, 2048);
    assert_eq!(b.cache(), 1024);
    // The guest touches 100 pages, then gives back 1024 pages, half of
    // them touched ones.
    for g in 0..100 {
        b.populated(g, 1);
    }
    let mut kept = 0;
    for _ in 0..50 {
        kept += u64::from(b.page_returned());
    }
    assert_eq!(kept, 50, "owing more than it holds, it keeps them");
    b.forget(1000, 974);
    assert_eq!(b.entries(), 2048 - 100 - 974);
    assert_eq!(b.excess(), b.cache() - b.entries());
    b.set_cache(b.cache() - b.excess());
    // Populated 50 + cache = the target.
    assert_eq!(50 + b.cache(), 1024);
}

#[test]
fn the_target_follows_xens_rules() {
    let mut b = PodBook::new();
    // No PoD: a domain with pages and no entries.
    assert_eq!(b.cache_goal(100, 50), None);
    b.mark(0, 1000);
    b.set_cache(b.cache_goal(600, 0).unwrap());
    for g in 0..100 {
        b.populated(g, 1);
    }
    // Lower than it holds: the balloon's job.
    assert_eq!(b.cache_goal(550, 100), None);
    // Higher: the rest, but no more than the entries.
    assert_eq!(b.cache_goal(700, 100), Some(600));
    assert_eq!(b.cache_goal(5000, 100), Some(900));
}

/// A model: the set of entry frames.
fn model_after(ops: &[(u8, u64, u64)]) -> (PodBook, BTreeSet<u64>) {
    let mut b = PodBook::new();
    let mut m = BTreeSet::new();
    for &(op, first, count) in ops {
        match op % 2 {
            0 => {
                let free = (first..first + count).all(|g| !m.contains(&g));
                assert_eq!(b.mark(first, count), free || count == 0);
                if free {
                    m.extend(first..first + count);
                }
            }
            _ => {
                let gone = (first..first + count).filter(|g| m.remove(g)).count() as u64;
                assert_eq!(b.forget(first, count), gone);
            }
        }
    }
    (b, m)
}

proptest! {
    #[test]
    fn the_ranges_are_the_model(ops in prop::collection::vec((0u8..2, 0u64..300, 0u64..40), 0..60)) {
        let (b, m) = model_after(&ops);
        prop_assert_eq!(b.entries(), m.len() as u64);
        for g in 0..360 {
            prop_assert_eq!(b.contains(g), m.contains(&g), "frame {}", g);
        }
        // Disjoint and not empty.
        let mut last_end = 0;
        for (&s, &e) in &b.ranges {
            prop_assert!(s < e && s >= last_end);
            last_end = e;
        }
    }

    /// Whatever the guest touches and gives back, the cache never holds
    /// more than the entries after a trim, and a touch of an entry either
    /// populates it or reports the cache empty.
    #[test]
    fn the_cache_follows_the_rules(steps in prop::collection::vec((0u8..3, 0u64..1024), 0..200)) {
        let mut b = PodBook::new();
        b.mark(0, 1024);
        b.set_cache(b.cache_goal(512, 0).unwrap());
        let mut populated = 0u64;
        for (op, g) in steps {
            match op {
                0 => match b.touch(g, false) {
                    Touch::Populate { first, count } => {
                        prop_assert!(b.contains(first) && count == 1);
                        b.populated(first, count);
                        populated += count;
                    }
                    Touch::CacheEmpty => prop_assert_eq!(b.cache(), 0),
                    Touch::NotPod => prop_assert!(!b.contains(g)),
                },
                1 if populated > 0 => {
                    populated -= 1;
                    b.page_returned();
                }
                _ => {
                    b.forget(g, 1);
                    let excess = b.excess();
                    b.set_cache(b.cache() - excess);
                }
            }
            prop_assert!(populated + b.cache() <= 512 + 200);
        }
        let excess = b.excess();
        b.set_cache(b.cache() - excess);
        prop_assert!(b.cache() <= b.entries());
    }
}
