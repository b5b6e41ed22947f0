use proptest::prelude::*;
use rxen_xen_abi::grant::*;

use super::*;

#[test]
fn pin_rules_of_a_v1_entry() {
    let ok = GTF_PERMIT_ACCESS;
    assert_eq!(
        pin_flags(ok, 0, 0, false),
        Ok(ok | GTF_READING | GTF_WRITING)
    );
    assert_eq!(pin_flags(ok, 0, 0, true), Ok(ok | GTF_READING));
    // Another domain named, not permitted, sub-page, transfer: refused.
    assert_eq!(pin_flags(ok, 3, 0, true), Err(GrantError::BadEntry));
    assert_eq!(
        pin_flags(GTF_INVALID, 0, 0, true),
        Err(GrantError::BadEntry)
    );
    assert_eq!(
        pin_flags(ok | GTF_SUB_PAGE, 0, 0, true),
        Err(GrantError::BadEntry)
    );
    assert_eq!(
        pin_flags(GTF_ACCEPT_TRANSFER, 0, 0, true),
        Err(GrantError::BadEntry)
    );
    // A read-only grant maps read-only only.
    assert_eq!(
        pin_flags(ok | GTF_READONLY, 0, 0, false),
        Err(GrantError::BadEntry)
    );
    assert_eq!(
        pin_flags(ok | GTF_READONLY, 0, 0, true),
        Ok(ok | GTF_READONLY | GTF_READING)
    );
}

#[test]
fn flags_clear_with_the_last_pin_of_their_kind() {
    let mut t = ActiveTable::new();
    assert_eq!(t.plan_pin(7, 0, false), Ok(PinPlan::CheckEntry));
    t.commit_pin(7, 0, 0x1234, false);
    assert_eq!(
        t.plan_pin(7, 0, true),
        Ok(PinPlan::AlreadyPinned { gfn: 0x1234 })
    );
    t.commit_pin(7, 0, 0x1234, true);
    // Only the same mapper may pin it again.
    assert_eq!(t.plan_pin(7, 5, true), Err(GrantError::OtherMapper));
    let r = t.unpin(7, false);
    assert_eq!(
        r,
        Release {
            clear_writing: true,
            clear_reading: false
        }
    );
    assert_eq!(r.mask(), GTF_WRITING);
    let r = t.unpin(7, true);
    assert_eq!(
        r,
        Release {
            clear_writing: false,
            clear_reading: true
        }
    );
    assert_eq!(t.pinned(), 0);
    // Unpinning what is not pinned changes nothing.
    assert_eq!(t.unpin(7, true), Release::default());
}

#[test]
fn a_first_writable_pin_rechecks_the_entry() {
    let mut t = ActiveTable::new();
    t.commit_pin(1, 0, 9, true);
    assert_eq!(t.plan_pin(1, 0, false), Ok(PinPlan::CheckEntry));
}

#[test]
fn maptrack_handles() {
    let mut m = Maptrack::new(2);
    let map = |gref| Mapping {
        granter: 1,
        gref,
        host_gfn: 0x8_0000 + u64::from(gref),
        mfn: 42,
        readonly: false,
    };
    let a = m.insert(map(1)).unwrap();
    let b = m.insert(map(2)).unwrap();
    assert_eq!(m.insert(map(3)), Err(GrantError::NoSpace));
    assert_eq!(m.get(a).unwrap().gref, 1);
    assert_eq!(m.remove(a).unwrap().gref, 1);
    assert_eq!(m.remove(a), Err(GrantError::BadHandle));
    assert_eq!(m.get(99), Err(GrantError::BadHandle));
    let c = m.insert(map(3)).unwrap();
    assert_eq!(c, a, "handles are reused");
    assert_eq!(m.in_use(), 2);
    let all = m.drain();
    assert_eq!(all.len(), 2);
    assert!(all.iter().any(|(h, _)| *h == b));
    assert_eq!(m.in_use(), 0);
    assert_eq!(GrantError::NoSpace.status(), GNTST_NO_SPACE);
    assert_eq!(GrantError::BadEntry.status(), GNTST_GENERAL_ERROR);
}

proptest! {
    /// Any interleaving of pins and unpins of one ref: the entry's flags
    /// (computed as the hypervisor would) say "reading" exactly while some
    /// pin exists and "writing" exactly while a writable pin exists.
    #[test]
    fn flags_track_the_pins(ops in proptest::collection::vec((any::<bool>(), any::<bool>()), 0..100)) {
        let mut t = ActiveTable::new();
        let mut flags = GTF_PERMIT_ACCESS;
        let (mut ro, mut rw) = (0u32, 0u32);
        for (pin, readonly) in ops {
            if pin {
                match t.plan_pin(3, 0, readonly).unwrap() {
                    PinPlan::CheckEntry => flags = pin_flags(flags, 0, 0, readonly).unwrap(),
                    PinPlan::AlreadyPinned { .. } => {}
                }
                t.commit_pin(3, 0, 1, readonly);
                if readonly { ro += 1 } else { rw += 1 }
            } else {
                let had = if readonly { ro } else { rw };
                flags &= !t.unpin(3, readonly).mask();
                if had > 0 { if readonly { ro -= 1 } else { rw -= 1 } }
            }
            prop_assert_eq!(flags & GTF_READING != 0, ro + rw > 0);
            prop_assert_eq!(flags & GTF_WRITING != 0, rw > 0);
        }
    }
}
