use std::vec;
use std::vec::Vec;

use proptest::prelude::*;

use super::*;

/// A hand-built bundle with one entry, for corrupting field by field.
fn one_entry(offset: u64, size: u64, name: &[u8], total: usize) -> Vec<u8> {
    let mut b = vec![0u8; total];
    b[..8].copy_from_slice(&MAGIC);
    b[8..12].copy_from_slice(&1u32.to_le_bytes());
    b[16..24].copy_from_slice(&offset.to_le_bytes());
    b[24..32].copy_from_slice(&size.to_le_bytes());
    b[32..32 + name.len()].copy_from_slice(name);
    b
}

#[test]
fn roundtrip() {
    let kernel: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
    let initrd = vec![7u8; 4096];
    let cfg = b"name=guest0".to_vec();
    let entries: [(&str, &[u8]); 4] = [
        ("kernel", &kernel),
        ("initrd", &initrd),
        ("empty", &[]),
        ("guest0.cfg", &cfg),
    ];
    let bytes = write_bundle(&entries);
    assert!(is_bundle(&bytes));

    let bundle = Bundle::parse(&bytes).unwrap();
    assert_eq!(bundle.len(), 4);
    assert!(!bundle.is_empty());
    let got: Vec<_> = bundle.iter().collect();
    for ((name, data), entry) in entries.iter().zip(&got) {
        assert_eq!(entry.name, *name);
        assert_eq!(entry.data, *data);
        assert_eq!(entry.size, data.len() as u64);
        assert_eq!(entry.offset % ALIGN, 0);
    }
    assert_eq!(got[0].offset, 4096);
    assert_eq!(bundle.find("initrd").unwrap().data, &initrd[..]);
    assert_eq!(bundle.find("nope"), None);
    assert_eq!(bundle.get(3).unwrap().name, "guest0.cfg");
    assert_eq!(bundle.get(4), None);
    assert_eq!(bundle.as_bytes().len(), bytes.len());
}

#[test]
fn empty_bundle_roundtrips() {
    let bytes = write_bundle(&[]);
    assert_eq!(bytes.len(), 16);
    let bundle = Bundle::parse(&bytes).unwrap();
    assert!(bundle.is_empty());
    assert_eq!(bundle.iter().count(), 0);
}

#[test]
fn max_entries_and_longest_names_roundtrip() {
    let names: Vec<std::string::String> = (0..MAX_ENTRIES)
        .map(|i| std::format!("{i:0>511}"))
        .collect();
    let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), n.as_bytes())).collect();
    let bytes = write_bundle(&entries);
    let bundle = Bundle::parse(&bytes).unwrap();
    assert_eq!(bundle.len(), MAX_ENTRIES);
    assert!(bundle
        .iter()
        .all(|e| e.name.len() == MAX_NAME_LEN && e.data == e.name.as_bytes()));
    // The table (16 + 64 * 528 bytes) ends in the ninth page.
    assert_eq!(bundle.get(0).unwrap().offset, 36864);
}

#[test]
fn writer_rejects_bad_input() {
    let long = "x".repeat(MAX_NAME_LEN + 1);
    assert_eq!(
        try_write_bundle(&[(&long, b"")]),
        Err(BundleError::BadName { index: 0 })
    );
    assert_eq!(
        try_write_bundle(&[("a", b""), ("", b"")]),
        Err(BundleError::BadName { index: 1 })
    );
    assert_eq!(
        try_write_bundle(&[("a\0b", b"")]),
        Err(BundleError::BadName { index: 0 })
    );
    assert_eq!(
        try_write_bundle(&[("a", b"1"), ("a", b"2")]),
        Err(BundleError::DuplicateName { index: 1 })
    );
    let many = vec![("x", &b""[..]); MAX_ENTRIES + 1];
    assert_eq!(try_write_bundle(&many), Err(BundleError::TooManyEntries));
}

#[test]
#[should_panic(expected = "cannot write module bundle")]
fn write_bundle_panics_on_bad_names() {
    write_bundle(&[("", b"")]);
}

#[test]
fn header_errors() {
    assert!(!is_bundle(b"RXENMOD"));
    assert_eq!(
        Bundle::parse(b"RXENMOD1").unwrap_err(),
        BundleError::Truncated
    );
    assert_eq!(Bundle::parse(&[0; 16]).unwrap_err(), BundleError::BadMagic);
    let mut b = write_bundle(&[]);
    b[12] = 1;
    assert_eq!(Bundle::parse(&b).unwrap_err(), BundleError::BadReserved);
    let mut b = write_bundle(&[]);
    b[8..12].copy_from_slice(&(MAX_ENTRIES as u32 + 1).to_le_bytes());
    assert_eq!(Bundle::parse(&b).unwrap_err(), BundleError::TooManyEntries);
    b[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(Bundle::parse(&b).unwrap_err(), BundleError::TooManyEntries);
    b[8..12].copy_from_slice(&2u32.to_le_bytes());
    assert_eq!(Bundle::parse(&b).unwrap_err(), BundleError::Truncated);
}

#[test]
fn entry_errors() {
    let ok = one_entry(4096, 10, b"k", 4106);
    // (The table of one entry ends at 16 + 528 bytes, inside page 0.)
    assert_eq!(Bundle::parse(&ok).unwrap().get(0).unwrap().name, "k");

    let e = |b: Vec<u8>| Bundle::parse(&b).unwrap_err();
    assert_eq!(
        e(one_entry(4097, 1, b"k", 8192)),
        BundleError::Misaligned { index: 0 }
    );
    assert_eq!(
        e(one_entry(4096, 11, b"k", 4106)),
        BundleError::OutOfBounds { index: 0 }
    );
    assert_eq!(
        e(one_entry(8192, 0, b"k", 4106)),
        BundleError::OutOfBounds { index: 0 }
    );
    assert_eq!(
        e(one_entry(0, 10, b"k", 4106)),
        BundleError::OutOfBounds { index: 0 }
    );
    assert_eq!(
        e(one_entry(u64::MAX - 4095, 4096, b"k", 4106)),
        BundleError::OutOfBounds { index: 0 }
    );
    assert_eq!(
        e(one_entry(4096, 1, b"", 4106)),
        BundleError::BadName { index: 0 }
    );
    assert_eq!(
        e(one_entry(4096, 1, b"\xff", 4106)),
        BundleError::BadName { index: 0 }
    );
    assert_eq!(
        e(one_entry(4096, 1, b"a\0b", 4106)),
        BundleError::BadName { index: 0 }
    );
    assert_eq!(
        e(one_entry(4096, 1, &[b'n'; NAME_FIELD], 4106)),
        BundleError::BadName { index: 0 }
    );
    // A zero-size file may sit right at the end.
    assert!(Bundle::parse(&one_entry(4096, 0, b"k", 4096)).is_ok());
}

#[test]
fn overlap_and_duplicates_are_rejected() {
    let mut b = write_bundle(&[("a", &[1; 5000]), ("b", &[2; 10])]);
    // Point b at a's second page, which a still uses.
    b[16 + ENTRY_SIZE..16 + ENTRY_SIZE + 8].copy_from_slice(&4096u64.to_le_bytes());
    assert_eq!(
        Bundle::parse(&b).unwrap_err(),
        BundleError::Overlap { index: 1 }
    );

    let mut b = write_bundle(&[("a", b"1"), ("b", b"2")]);
    b[16 + ENTRY_SIZE + 16] = b'a';
    assert_eq!(
        Bundle::parse(&b).unwrap_err(),
        BundleError::DuplicateName { index: 1 }
    );
}

proptest! {
    #[test]
    fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..9000)) {
        let _ = Bundle::parse(&bytes);
    }

    /// Arbitrary corruption of a valid bundle: parse either rejects it or
    /// yields entries that are in bounds and aligned.
    #[test]
    fn corrupted_bundles_never_panic(
        edits in proptest::collection::vec((0usize..200, any::<u8>()), 0..12),
    ) {
        let mut b = write_bundle(&[("kernel", &[1; 100]), ("initrd", &[2; 5000])]);
        for (at, v) in edits {
            b[at] = v;
        }
        if let Ok(bundle) = Bundle::parse(&b) {
            for e in bundle.iter() {
                prop_assert_eq!(e.offset % ALIGN, 0);
                prop_assert!(e.offset + e.size <= b.len() as u64);
                prop_assert_eq!(e.data.len() as u64, e.size);
            }
        }
    }

    #[test]
    fn roundtrip_arbitrary_files(
        files in proptest::collection::vec(
            ("[a-zA-Z0-9._/-]{1,47}", proptest::collection::vec(any::<u8>(), 0..9000)),
            0..6,
        ),
    ) {
        let mut seen = std::collections::BTreeSet::new();
        let files: Vec<_> = files.into_iter().filter(|(n, _)| seen.insert(n.clone())).collect();
        let entries: Vec<(&str, &[u8])> =
            files.iter().map(|(n, d)| (n.as_str(), d.as_slice())).collect();
        let bytes = write_bundle(&entries);
        let bundle = Bundle::parse(&bytes).unwrap();
        let got: Vec<(&str, &[u8])> = bundle.iter().map(|e| (e.name, e.data)).collect();
        prop_assert_eq!(got, entries);
    }
}
