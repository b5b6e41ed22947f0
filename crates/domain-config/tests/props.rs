//! Property tests: no input makes the parser panic, and settings written
//! out in xl syntax read back the same.

use proptest::prelude::*;
use rxen_domain_config::{parse, parse_raw, CpuSet, Value};

/// Text made of xl.cfg's own pieces, so the parser gets deep into its states
/// far more often than with arbitrary characters.
fn xlish() -> impl Strategy<Value = String> {
    const PIECES: &[&str] = &[
        "name",
        "kernel",
        "memory",
        "maxmem",
        "vcpus",
        "maxvcpus",
        "cpus",
        "cap",
        "cpu_weight",
        "type",
        "builder",
        "on_crash",
        "extra",
        "root",
        "cmdline",
        " = ",
        "+=",
        "=",
        "[",
        "]",
        ",",
        ";",
        "\n",
        "\r\n",
        "#",
        "\\",
        "\"",
        "'",
        "\"pvh\"",
        "\"hvm\"",
        "'all,^1'",
        "'0-3'",
        "^",
        "-",
        "0x",
        "0",
    ];
    // Few arms: a large `prop_oneof!` builds a value tree for every arm.
    let piece = prop_oneof![
        6 => prop::sample::select(PIECES).prop_map(String::from),
        1 => re("[0-9]{1,25}"),
        1 => re("\"[^\"\n]{0,8}\""),
        1 => re("'[ -~]{0,8}'"),
        1 => re("\\\\[0-9a-z\"'\\\\]"),
        1 => re("[ -~]"),
        1 => any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..60).prop_map(|v| v.concat())
}

/// A regex strategy compiled once (a `&str` strategy recompiles per case).
fn re(pattern: &str) -> proptest::string::RegexGeneratorStrategy<String> {
    proptest::string::string_regex(pattern).unwrap()
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<u64>().prop_map(Value::Int),
        any::<String>().prop_map(Value::Str),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop::collection::vec(inner, 0..6).prop_map(Value::List)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parse_never_panics_on_arbitrary_text(text in any::<String>()) {
        let _ = parse(&text);
        let _ = parse_raw(&text);
    }

    #[test]
    fn parse_never_panics_on_xl_like_text(text in xlish()) {
        let _ = parse(&text);
        let _ = parse_raw(&text);
    }

    #[test]
    fn parse_never_panics_with_a_valid_prefix(text in xlish()) {
        let full = format!("name = \"g\"\nkernel = \"/k\"\n{text}");
        if let Err(e) = parse(&full) {
            // Every error from text after the prefix points into the text.
            prop_assert!(e.line == 0 || e.line <= full.lines().count() + 1, "{e}");
        }
    }

    #[test]
    fn cpuset_parse_never_panics(spec in "[0-9,^ a-z:-]{0,40}") {
        let _ = CpuSet::parse(&spec);
    }

    #[test]
    fn values_round_trip(key in "[a-z][a-z0-9_]{0,10}", v in value(), crlf in any::<bool>()) {
        let nl = if crlf { "\r\n" } else { "\n" };
        let text = format!("# header{nl}{key} = {v}{nl}");
        let got = parse_raw(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(got, vec![(2, key, v)]);
    }

    #[test]
    fn cpuset_display_round_trips(cpus in prop::collection::btree_set(0usize..1024, 1..40)) {
        let mut set = CpuSet::empty();
        for &c in &cpus {
            set.insert(c);
        }
        let back = CpuSet::parse(&set.to_string()).unwrap();
        prop_assert_eq!(back, set);
        prop_assert_eq!(back.iter().collect::<Vec<_>>(), cpus.into_iter().collect::<Vec<_>>());
    }
}
