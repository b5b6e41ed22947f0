//! Multi-vCPU guests and the credit scheduler, measured from inside real
//! guests: CPU time against wall time, CPU hot-unplug, weights, caps,
//! pinning, and a guest that reboots itself.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use rxen_harness::{RunResult, TestDomain};

/// The numbers a guest printed after `(dN) <marker> ` as `key=value`.
#[track_caller]
fn guest_value(r: &RunResult, domid: u32, marker: &str, key: &str) -> f64 {
    first_number(r, &format!(r"\(d{domid}\) {marker} .*?\b{key}=([0-9.]+)"))
}

#[test]
fn a_parallel_workload_uses_both_vcpus() {
    let guest = TestDomain {
        vcpus: 2,
        ..TestDomain::linux("parallel", "parallel")
    };
    let r = boot("parallel", &[guest], Duration::from_secs(150));
    let cpu = guest_value(&r, 1, "RXEN-PARALLEL", "cpu");
    let wall = guest_value(&r, 1, "RXEN-PARALLEL", "wall");
    if cpu < 1.5 * wall {
        r.fail(&format!(
            "two threads used {cpu:.2} s of CPU in {wall:.2} s: not running in parallel"
        ));
    }
    assert_all_gone(&r);
}

#[test]
fn a_vcpu_goes_offline_and_comes_back() {
    let guest = TestDomain {
        vcpus: 2,
        ..TestDomain::linux("hotplug", "hotplug")
    };
    let r = boot("hotplug", &[guest], Duration::from_secs(150));
    r.assert_in_order(&[
        "(d1) RXEN-HOTPLUG before=2",
        "(d1) RXEN-HOTPLUG offline=1",
        "(d1) RXEN-HOTPLUG online=2",
        "rxen: d1 powered off",
    ]);
    assert_all_gone(&r);
}

/// The same on the FIFO event-channel ABI (which rxen offers, as Xen
/// does; the other test guests are told `xen.fifo_events=0`): Linux
/// switches to it at boot, and its IPIs, timers and console events all go
/// through the FIFO queues, across a vCPU going offline and back.
#[test]
fn a_guest_on_fifo_event_channels_boots_and_hotplugs_a_vcpu() {
    let guest = TestDomain {
        vcpus: 2,
        ..TestDomain::linux("fifo", "hotplug").with_fifo_events()
    };
    let qemu = machine("fifo", Duration::from_secs(150));
    let r = boot_on("fifo", qemu, &[guest]);
    r.assert_in_order(&[
        "xen:events: Using FIFO-based ABI",
        "(d1) RXEN-HOTPLUG before=2",
        "(d1) RXEN-HOTPLUG offline=1",
        "(d1) RXEN-HOTPLUG online=2",
        "rxen: d1 powered off",
    ]);
    assert_all_gone(&r);
}

#[test]
fn a_rebooting_guest_comes_back() {
    let guest = TestDomain::linux("phoenix", "reboot-if=1").with("on_reboot = \"restart\"");
    let r = boot("reboot", &[guest], Duration::from_secs(150));
    r.assert_in_order(&[
        "(d1) RXEN-MARKER domid=1",
        "(d1) RXEN-REBOOTING",
        "rxen: d1 rebooted",
        "rxen: restarting phoenix",
        "(d2) RXEN-MARKER domid=2",
        "rxen: d2 powered off",
    ]);
    assert_all_gone(&r);
}

/// Three CPU-bound domains pinned to CPU 1 with weights 256/512/1024, and
/// one alone on CPU 0 capped at 25%, all measuring their share of a
/// physical CPU (busy against steal time) over the same 20 s window.
#[test]
fn weights_and_caps_share_the_cpus() {
    const WINDOW: u64 = 20;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // Late enough for all four to have booted (the capped one boots slowly).
    let start = now + 20;
    let action = format!("share={start},{WINDOW}");
    let weighted = |name: &str, weight: u32| {
        TestDomain {
            memory_mib: 192,
            ..TestDomain::linux(name, &action)
        }
        .with(&format!("cpu_weight = {weight}"))
        .with("cpus = \"1\"")
    };
    let domains = [
        weighted("w256", 256),
        weighted("w512", 512),
        weighted("w1024", 1024),
        TestDomain {
            memory_mib: 192,
            ..TestDomain::linux("capped", &action)
        }
        .with("cap = 25")
        .with("cpus = \"0\""),
    ];
    let r = boot("shares", &domains, Duration::from_secs(240));
    let share = |domid| guest_value(&r, domid, "RXEN-SHARE", "share");
    let (s1, s2, s3, capped) = (share(1), share(2), share(3), share(4));
    println!("shares: weight 256 {s1:.3}, 512 {s2:.3}, 1024 {s3:.3}; cap 25 {capped:.3}");
    let within = |ratio: f64, want: f64| (ratio / want - 1.0).abs() <= 0.10;
    if !within(s2 / s1, 2.0) || !within(s3 / s1, 4.0) {
        r.fail(&format!(
            "weights 256/512/1024 got {s1:.3}/{s2:.3}/{s3:.3}, ratios 1:{:.2}:{:.2}, not within 10% of 1:2:4",
            s2 / s1,
            s3 / s1
        ));
    }
    if capped > 0.27 {
        r.fail(&format!(
            "a domain capped at 25% got {:.1}% of its CPU",
            capped * 100.0
        ));
    }
    assert_all_gone(&r);
}
