//! Isolation seen from inside real guests: a Debian domain with
//! `/dev/xen/privcmd` (the test initramfs loads `xen-privcmd`) makes the
//! hypercalls an attacker would, and a hypercall fuzzer runs next to a
//! domain that keeps checking its memory.
//!
//! The guest side is `tools/guest-probe` (`isolation`, `fuzz`, `checksum`),
//! started by the initramfs's `/init` (`rxen.test=isolation`, `fuzz`,
//! `checksum=S`); the lines it prints are documented there.
//!
//! Run with `cargo test -p rxen-integration --test isolation --
//! --test-threads=1 --nocapture`.

mod common;

use std::time::Duration;

use common::*;
use regex::Regex;
use rxen_harness::{RunResult, TestDomain, FUZZ_CALLS};

/// Calls the fuzzer must have made before the test believes it.
const MIN_FUZZ_CALLS: u64 = 100_000;
/// Checks the isolation run must have passed.
const MIN_ISOLATION_CHECKS: u64 = 10;

/// The checks the probe reported as failed, for the failure message.
fn failed_checks(r: &RunResult, marker: &str) -> String {
    r.log
        .lines()
        .filter(|l| l.contains(marker) && l.contains(" FAIL "))
        .map(|l| l.trim_end_matches('\r'))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The captures of the last line matching `pattern`.
fn last_match(r: &RunResult, pattern: &str) -> Option<Vec<u64>> {
    let re = Regex::new(pattern).unwrap();
    re.captures_iter(&r.log).last().map(|c| {
        c.iter()
            .skip(1)
            .map(|m| m.unwrap().as_str().parse().unwrap())
            .collect()
    })
}

#[test]
fn a_guest_cannot_reach_other_domains_or_the_hypervisor() {
    let domains = [
        TestDomain::linux("attacker", "isolation"),
        TestDomain::linux("target", "sleep=5"),
    ];
    let r = boot("isolation", &domains, Duration::from_secs(180));
    eprintln!("isolation: the run took {:.1} s", r.elapsed.as_secs_f64());
    r.assert_contains("(d1) RXEN-PRIVCMD ok");
    let Some(done) = last_match(&r, r"\(d1\) RXEN-ISOLATION-DONE pass=(\d+) fail=(\d+)") else {
        r.fail("the isolation checks never finished");
    };
    let (pass, fail) = (done[0], done[1]);
    if fail != 0 {
        r.fail(&format!(
            "{fail} isolation check(s) failed:\n{}",
            failed_checks(&r, "RXEN-ISOLATION ")
        ));
    }
    if pass < MIN_ISOLATION_CHECKS {
        r.fail(&format!(
            "only {pass} isolation checks ran (at least {MIN_ISOLATION_CHECKS} expected)"
        ));
    }
    // The target existed for the whole attack and then ended normally.
    r.assert_in_order(&[
        "(d1) RXEN-ISOLATION-DONE",
        "(d2) RXEN-SLEPT",
        "rxen: d2 powered off",
    ]);
    r.assert_contains("rxen: d1 powered off");
    assert_all_gone(&r);
}

#[test]
fn the_hypervisor_and_a_neighbour_survive_a_hypercall_fuzzer() {
    // The checker outlasts the fuzzer's longest run (60 s).
    let domains = [
        TestDomain::linux("fuzzer", "fuzz"),
        TestDomain::linux("checker", "checksum=70"),
    ];
    let r = boot("fuzz", &domains, Duration::from_secs(300));
    eprintln!("fuzz: the run took {:.1} s", r.elapsed.as_secs_f64());
    r.assert_contains("(d1) RXEN-PRIVCMD ok");

    // The fuzzer finished, or at worst its own domain crashed, but only
    // after it had made enough calls. (Its lines may follow stray console
    // bytes of its own making, hence `[^\n]*`.)
    let d1_end = match last_match(
        &r,
        r"\(d1\) [^\n]*RXEN-FUZZ-DONE calls=(\d+) errors=(\d+) ok=(\d+)",
    ) {
        Some(done) => {
            let calls = done[0];
            if calls < MIN_FUZZ_CALLS {
                r.fail(&format!(
                    "the fuzzer made only {calls} calls (at least {MIN_FUZZ_CALLS} expected, {FUZZ_CALLS} aimed at)"
                ));
            }
            eprintln!(
                "fuzz: {calls} calls, {} errors, {} succeeded",
                done[1], done[2]
            );
            r.assert_in_order(&["RXEN-FUZZ-DONE", "rxen: d1 powered off"]);
            "rxen: d1 powered off"
        }
        None => {
            if !r.log.contains("rxen: d1 crashed") {
                r.fail("the fuzzer neither finished nor crashed its domain");
            }
            let calls =
                last_match(&r, r"\(d1\) [^\n]*RXEN-FUZZ progress calls=(\d+)").map_or(0, |c| c[0]);
            if calls < MIN_FUZZ_CALLS {
                r.fail(&format!(
                    "the fuzzing domain crashed after {calls} calls (fewer than {MIN_FUZZ_CALLS})"
                ));
            }
            eprintln!("fuzz: the fuzzing domain crashed after {calls} calls");
            "rxen: d1 crashed"
        }
    };

    // The neighbour's memory never changed under it.
    let Some(sum) = last_match(&r, r"\(d2\) RXEN-CHECKSUM rounds=(\d+) mismatches=(\d+)") else {
        r.fail("the checker never reported");
    };
    if sum[0] == 0 || sum[1] != 0 {
        r.fail(&format!(
            "the checker saw {} mismatches in {} rounds",
            sum[1], sum[0]
        ));
    }
    eprintln!("fuzz: the checker made {} clean rounds", sum[0]);
    r.assert_in_order(&["(d2) RXEN-CHECKSUM-DONE ok", "rxen: d2 powered off"]);
    // ... and it was checking for as long as the fuzzer ran.
    r.assert_in_order(&[d1_end, "(d2) RXEN-CHECKSUM-DONE"]);
    assert_all_gone(&r);
}
