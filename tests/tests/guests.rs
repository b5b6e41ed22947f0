//! Unmodified Debian Linux kernels as PVH domains on rxen.
//!
//! Each test writes xl.cfg files under `target/test-data/<test>/`, boots rxen
//! in QEMU with them as boot modules and reads the serial log: the
//! hypervisor copies each guest's console into it, prefixed `(dN) `. The
//! guests run the test initramfs (harness/src/initramfs.rs), whose /init
//! does what `rxen.test=ACTION` asks and prints `RXEN-…` marker lines.
//!
//! What the hypervisor prints, and these tests rely on:
//! * `rxen: memory total T MiB, free F MiB` at boot;
//! * `rxen: dN powered off`, `rxen: dN crashed`;
//! * `rxen: dN destroyed, memory returned`, then `rxen: free memory F MiB`;
//! * `rxen: domain 'NAME': <error>` for a configuration it cannot start;
//! * `rxen: no domains left, powering off` (then the debug-exit success).
//!
//! Run with `cargo xtask test` (or `cargo test -p rxen-integration --
//! --test-threads=1`).

mod common;

use std::fs;
use std::time::Duration;

use common::*;
use regex::Regex;
use rxen_harness::{self as harness, RunResult, TestDomain};

/// `count` domains `d1..`, each running `rxen.test=marker`.
fn marker_domains(count: u32, memory_mib: u64) -> Vec<TestDomain> {
    (1..=count)
        .map(|n| TestDomain {
            memory_mib,
            ..TestDomain::linux(&format!("d{n}"), "marker")
        })
        .collect()
}

/// Domain `domid` printed its marker with the id rxen gave it, powered off
/// and was destroyed.
#[track_caller]
fn assert_marker_and_power_off(r: &RunResult, domid: u32) {
    r.assert_in_order(&[
        &format!("(d{domid}) RXEN-MARKER domid={domid}"),
        &format!("rxen: d{domid} powered off"),
        &format!("rxen: d{domid} destroyed, memory returned"),
    ]);
}

#[test]
fn one_domain_runs_and_returns_its_memory() {
    let r = boot(
        "one-domain",
        &marker_domains(1, 256),
        Duration::from_secs(150),
    );
    r.assert_contains("(d1) RXEN-HYPERVISOR-TYPE xen");
    assert_marker_and_power_off(&r, 1);
    r.assert_in_order(&[
        "rxen: d1 destroyed, memory returned",
        "rxen: no domains left, powering off",
    ]);
    assert_all_gone(&r);

    let free_at_boot: u64 = first_number(&r, r"rxen: memory total \d+ MiB, free (\d+) MiB");
    let free_after: u64 = last_number(&r, r"rxen: free memory (\d+) MiB");
    if free_after != free_at_boot {
        r.fail(&format!(
            "free memory after the domain is gone ({free_after} MiB) differs from boot ({free_at_boot} MiB)"
        ));
    }
}

fn side_by_side(count: u32, memory_mib: u64, timeout: Duration) {
    let r = boot(
        &format!("{count}-domains"),
        &marker_domains(count, memory_mib),
        timeout,
    );
    for domid in 1..=count {
        assert_marker_and_power_off(&r, domid);
    }
    assert_all_gone(&r);
}

#[test]
fn two_domains_side_by_side() {
    side_by_side(2, 256, Duration::from_secs(180));
}

#[test]
fn four_domains_side_by_side() {
    side_by_side(4, 192, Duration::from_secs(240));
}

#[test]
fn a_crashing_domain_leaves_the_other_running() {
    // The sleeper is Debian's generic kernel with 1 GiB: decompressing its
    // XZ payload (one CPU, seconds) usually outlasts the crasher's boot, so
    // the only domain running ends while another is being built, which
    // must not power the machine off (CI met that by chance).
    let generic = harness::fetch_reference_kernel().expect("fetching linux-image-amd64");
    let domains = [
        TestDomain::linux("crasher", "crash"),
        TestDomain {
            kernel: generic.vmlinuz.display().to_string(),
            memory_mib: 1024,
            ..TestDomain::linux("sleeper", "sleep=3")
        },
    ];
    let r = boot("crash", &domains, Duration::from_secs(180));
    r.assert_in_order(&[
        "rxen: d1 crashed",
        "(d2) RXEN-SLEPT",
        "rxen: d2 powered off",
    ]);
    assert_all_gone(&r);
    let crashed = r.log.find("rxen: d1 crashed");
    let started = r.log.find("rxen: d2 'sleeper' started");
    eprintln!(
        "crash: the crasher ended {} the sleeper was built",
        if crashed < started { "before" } else { "after" }
    );
}

/// A guest line `[ hv-seconds] ... (d1) <marker> <guest-seconds>`.
#[track_caller]
fn timed_marker(r: &RunResult, marker: &str) -> (f64, f64) {
    let pattern = format!(r"^\[\s*(\d+\.\d+)\].*\(d1\) {marker} (\d+\.\d+)");
    let re = Regex::new(&pattern).unwrap();
    let found = r
        .log
        .lines()
        .find_map(|line| re.captures(line.trim_end_matches('\r')));
    match found {
        Some(c) => (c[1].parse().unwrap(), c[2].parse().unwrap()),
        None => r.fail(&format!("no line matches {pattern:?}")),
    }
}

#[test]
fn guest_time_keeps_pace_with_the_hypervisor() {
    let r = boot(
        "time",
        &[TestDomain::linux("clock", "time")],
        Duration::from_secs(180),
    );
    let (hv_start, guest_start) = timed_marker(&r, "RXEN-UPTIME-START");
    let (hv_end, guest_end) = timed_marker(&r, "RXEN-UPTIME-END");
    let (hv, guest) = (hv_end - hv_start, guest_end - guest_start);
    if hv < 5.0 || (hv - guest).abs() > 0.05 * hv {
        r.fail(&format!(
            "`sleep 10` took {guest:.3} s by the guest's clock and {hv:.3} s by the hypervisor's: more than 5% apart"
        ));
    }
    assert_marker_and_power_off(&r, 1);
    assert_all_gone(&r);
}

#[test]
fn bad_configurations_are_reported_and_the_good_one_runs() {
    let test = "bad-configs";
    let dir = harness::test_data_dir(test).unwrap();
    fs::write(dir.join("not-a-kernel.txt"), "this is not a kernel\n").unwrap();
    let domains = [
        TestDomain {
            kernel: "no-such-kernel".into(),
            ..TestDomain::linux("missing-kernel", "marker")
        },
        TestDomain {
            kernel: "not-a-kernel.txt".into(),
            ..TestDomain::linux("text-kernel", "marker")
        },
        TestDomain {
            memory_mib: 100_000,
            ..TestDomain::linux("too-big", "marker")
        },
        TestDomain::linux("good", "marker"),
    ];
    let r = boot(test, &domains, Duration::from_secs(180));
    for bad in ["missing-kernel", "text-kernel", "too-big"] {
        let error = Regex::new(&format!(r"rxen: domain '{bad}': \S")).unwrap();
        if !error.is_match(&r.log) {
            r.fail(&format!("no error reported for domain '{bad}'"));
        }
    }
    // The good domain gets whatever id rxen gives it.
    let marker = Regex::new(r"\(d(\d+)\) RXEN-MARKER domid=(\d+)").unwrap();
    let Some(c) = marker.captures(&r.log) else {
        r.fail("the good domain printed no marker");
    };
    if c[1] != c[2] {
        r.fail("the good domain's console prefix and its CPUID domid differ");
    }
    assert_marker_and_power_off(&r, c[1].parse().unwrap());
    assert_all_gone(&r);
}

/// Debian's generic kernel (XZ payload with the x86 BCJ filter, machine
/// check support built in) boots as a domain too.
#[test]
fn the_generic_xz_kernel_boots_as_a_domain() {
    let kernel = harness::fetch_reference_kernel().expect("fetching linux-image-amd64");
    let guest = TestDomain {
        kernel: kernel.vmlinuz.display().to_string(),
        ..TestDomain::linux("generic", "marker")
    };
    let r = boot("generic-kernel", &[guest], Duration::from_secs(180));
    r.assert_contains("(d1) RXEN-HYPERVISOR-TYPE xen");
    assert_marker_and_power_off(&r, 1);
    assert_all_gone(&r);
}
