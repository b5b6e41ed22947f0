//! Multi-vCPU guests, lifecycle actions (preserve, restart) and the
//! hypervisor's debug keys, with real Debian guests.

mod common;

use std::time::Duration;

use common::*;
use rxen_harness::TestDomain;

#[test]
fn a_two_vcpu_guest_sees_two_cpus() {
    let guest = TestDomain {
        vcpus: 2,
        ..TestDomain::linux("smp", "nproc")
    };
    let r = boot("smp-nproc", &[guest], Duration::from_secs(150));
    r.assert_contains("(d1) RXEN-NPROC 2");
    r.assert_in_order(&["(d1) RXEN-NPROC 2", "rxen: d1 powered off"]);
    assert_all_gone(&r);
}

#[test]
fn a_preserved_crash_stays_listed() {
    let guest = TestDomain::linux("keeper", "crash").with("on_crash = \"preserve\"");
    let r = boot("preserve", &[guest], Duration::from_secs(150));
    r.assert_in_order(&[
        "rxen: d1 crashed",
        "rxen: d1 preserved for inspection",
        "rxen: no domains left, powering off",
        "rxen: domains:",
    ]);
    // Still listed, as crashed, when the machine powers off.
    let listed = r
        .log
        .lines()
        .any(|l| l.contains("d1 ") && l.contains("keeper") && l.contains("crashed"));
    if !listed {
        r.fail("the preserved domain is not in the domain list as crashed");
    }
    r.assert_exit(rxen_harness::Exit::Success);
}

#[test]
fn debug_keys_dump_domains_and_run_queues() {
    let guest = TestDomain::linux("watched", "sleep=4");
    let mut qemu = machine("debug-keys", Duration::from_secs(150));
    // Input goes to the hypervisor until Ctrl-A is pressed three times.
    qemu.input = vec![
        typing("(d1) RXEN-MARKER", b"q"),
        typing("rxen: domains:", b"r"),
    ];
    let r = boot_on("debug-keys", qemu, &[guest]);
    r.assert_in_order(&[
        "rxen: domains:",
        "watched",
        "rxen: run queues",
        "CPU[00]",
        "CPU[01]",
    ]);
    r.assert_contains("(d1) RXEN-SLEPT");
    assert_all_gone(&r);
}

/// A run that hits its timeout (here a guest waiting for input that never
/// comes) ends with rxen's state in its log: what CI keeps of a hang.
#[test]
fn a_run_that_times_out_ends_with_rxens_state() {
    let guest = TestDomain::linux("stuck", "read-input");
    let qemu = machine("timeout-dump", Duration::from_secs(20));
    let r = rxen_harness::boot_domains(
        qemu,
        &rxen_harness::write_test_configs("timeout-dump", &[guest])
            .expect("writing the configuration"),
        assets(),
    )
    .expect("booting rxen");
    r.assert_exit(rxen_harness::Exit::Timeout);
    r.assert_in_order(&[
        "(d1) RXEN-WAITING-INPUT",
        "rxen: domains:",
        "stuck",
        "rxen: run queues",
        "rxen: event delivery:",
        "d1v0",
    ]);
}

#[test]
fn serial_input_reaches_the_domain_after_ctrl_a_three_times() {
    let guest = TestDomain::linux("listener", "read-input");
    let mut qemu = machine("serial-input", Duration::from_secs(150));
    qemu.input = vec![
        typing("(d1) RXEN-WAITING-INPUT", b"\x01\x01\x01"),
        typing("rxen: serial input to d1", b"hello rxen\r"),
    ];
    let r = boot_on("serial-input", qemu, &[guest]);
    r.assert_in_order(&[
        "(d1) RXEN-WAITING-INPUT",
        "rxen: serial input to d1",
        "(d1) RXEN-INPUT hello rxen",
        "rxen: d1 powered off",
    ]);
    assert_all_gone(&r);
}
