//! Guests with disks and networks: Debian's generic kernel as dom0 serves
//! them with its own back-ends (xen-blkback on loop devices of image
//! files, xen-netback on the bridge xenbr0), wired up by Debian's `xl` and
//! Xen's hotplug scripts; the guests' blkfront and netfront are the cloud
//! kernel's. The scenarios are in harness/src/dom0/devices.sh; one dom0
//! boot runs them all.
//!
//! Run with `cargo test -p rxen-integration --test devices -- --nocapture`.

mod common;

use std::sync::OnceLock;

use common::dom0_group::*;
use rxen_harness::RunResult;

/// MiB the network test sends, guest to guest and guest to dom0.
const NET_MIB: u64 = 64;

fn devices_run() -> &'static RunResult {
    static RUN: OnceLock<RunResult> = OnceLock::new();
    RUN.get_or_init(|| {
        let scenarios = ["disk", &format!("net={NET_MIB}"), "hotplug", "teardown"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        group_run("devices", scenarios)
    })
}

/// The guest `name`'s console lines that start with `marker`, as fields.
fn guest_lines(r: &RunResult, name: &str, marker: &str) -> Vec<Vec<(String, String)>> {
    fields(r, &format!("RXEN-DOMU-CONSOLE {name}: {marker}"))
}

/// The one file line of guest `name` for `file`: (bytes, sha256).
#[track_caller]
fn disk_file(r: &RunResult, name: &str, file: &str) -> (String, String) {
    let lines = guest_lines(r, name, "RXEN-DISK-FILE");
    let Some(l) = lines.iter().find(|l| field(r, l, "name") == file) else {
        r.fail(&format!("{name} reported no file {file}: {lines:?}"));
    };
    (
        field(r, l, "bytes").to_owned(),
        field(r, l, "sha256").to_owned(),
    )
}

#[track_caller]
fn assert_root_on_xvda(r: &RunResult, name: &str) {
    r.assert_contains(&format!(
        "RXEN-DOMU-CONSOLE {name}: RXEN-ROOT /dev/xvda ext4"
    ));
}

#[test]
fn a_domu_boots_from_xvda_and_a_second_reads_its_file_back() {
    let r = devices_run();
    assert_scenario_passed(r, "disk");
    assert_root_on_xvda(r, "disk-writer");
    assert_root_on_xvda(r, "disk-reader");
    let written = disk_file(r, "disk-writer", "data");
    assert_eq!(written.0, (8u64 << 20).to_string(), "the file written");
    let read = disk_file(r, "disk-reader", "data");
    assert_eq!(read, written, "what the second guest read back");
    // Two read-only disks more: each mounted, labelled, and refusing writes.
    let extras = guest_lines(r, "disk-reader", "RXEN-DISK-EXTRA");
    for (dev, label) in [("xvdb", "rxen-ro-image"), ("xvdc", "rxen-cd-image")] {
        let Some(l) = extras.iter().find(|l| field(r, l, "dev") == dev) else {
            r.fail(&format!("the reader has no {dev}: {extras:?}"));
        };
        assert_eq!(field(r, l, "ro"), "1", "{dev}: {l:?}");
        assert_eq!(field(r, l, "label"), label, "{dev}: {l:?}");
        assert_eq!(field(r, l, "write"), "refused", "{dev}: {l:?}");
    }
    let l = only_line(r, "RXEN-XL-DISK");
    assert_eq!(field(r, &l, "loops_left"), "0", "{l:?}");
    assert_eq!(field(r, &l, "backends_left"), "0", "{l:?}");
}

#[test]
fn two_domus_and_dom0_exchange_64_mib_over_the_bridge() {
    let r = devices_run();
    assert_scenario_passed(r, "net");
    for (guest, peer) in [
        ("net-a", "10.0.0.1"),
        ("net-b", "10.0.0.1"),
        ("net-b", "10.0.0.11"),
    ] {
        r.assert_contains(&format!(
            "RXEN-DOMU-CONSOLE {guest}: RXEN-NET-PING {peer} ok"
        ));
    }
    let blob = guest_lines(r, "net-b", "RXEN-NET-BLOB");
    let Some(blob) = blob.first() else {
        r.fail("the sender made no file");
    };
    let bytes = (NET_MIB << 20).to_string();
    assert_eq!(field(r, blob, "bytes"), bytes, "{blob:?}");
    let sum = field(r, blob, "sha256");
    let received = guest_lines(r, "net-a", "RXEN-NET-RECEIVED");
    let Some(received) = received.first() else {
        r.fail("the receiving guest got nothing");
    };
    assert_eq!(field(r, received, "bytes"), bytes, "guest to guest");
    assert_eq!(field(r, received, "sha256"), sum, "guest to guest");
    let l = only_line(r, "RXEN-XL-NET");
    assert_eq!(field(r, &l, "dom0_bytes"), bytes, "guest to dom0: {l:?}");
    assert_eq!(field(r, &l, "dom0_sha256"), sum, "guest to dom0: {l:?}");
    assert_eq!(field(r, &l, "dom0_ping"), "ok", "dom0 to the guest: {l:?}");
    for sent in guest_lines(r, "net-b", "RXEN-NET-SENT") {
        eprintln!("net: {sent:?}");
    }
}

#[test]
fn disks_and_networks_come_and_go_while_the_guest_runs() {
    let r = devices_run();
    assert_scenario_passed(r, "hotplug");
    let l = only_line(r, "RXEN-XL-HOTPLUG");
    for (key, want) in [
        ("block_attach", "0"),
        ("block_seen", "yes"),
        ("block_list", "1"),
        ("block_detach", "0"),
        ("block_gone", "yes"),
        ("net_attach", "0"),
        ("net_seen", "yes"),
        ("net_list", "1"),
        ("net_detach", "0"),
        ("net_gone", "yes"),
        ("lists_after", "0"),
    ] {
        assert_eq!(field(r, &l, key), want, "{key}: {l:?}");
    }
}

#[test]
fn a_domu_destroyed_or_crashed_mid_write_leaks_nothing_and_keeps_what_it_synced() {
    let r = devices_run();
    assert_scenario_passed(r, "teardown");
    let lines = fields(r, "RXEN-XL-TEARDOWN");
    for how in ["destroy", "crash"] {
        let Some(l) = lines.iter().find(|l| field(r, l, "how") == how) else {
            r.fail(&format!("no teardown round ended by {how}: {lines:?}"));
        };
        eprintln!("teardown: {l:?}");
        check_teardown(r, l);
    }
}

#[track_caller]
fn check_teardown(r: &RunResult, l: &[(String, String)]) {
    let n = |k| -> i64 { field(r, l, k).parse().unwrap() };
    let synced = n("synced");
    if synced < 4 || n("matched") != synced {
        r.fail(&format!(
            "of {synced} synced files {} came back: {l:?}",
            n("matched")
        ));
    }
    // Grant maps, pinned refs, ports: all were in use, all are back.
    let during = field(r, l, "sharing_during");
    let maps_during: u64 = during.split(':').next().unwrap().parse().unwrap();
    if maps_during == 0 {
        r.fail(&format!("no grant was mapped while the guest ran: {l:?}"));
    }
    assert_eq!(
        field(r, l, "sharing_after"),
        field(r, l, "sharing_before"),
        "rxen's grant maps:pinned refs:ports: {l:?}"
    );
    assert_eq!(n("backends_left"), 0, "{l:?}");
    assert_eq!(n("loops_left"), 0, "{l:?}");
    assert_eq!(n("free_after"), n("free_before"), "rxen's free MiB: {l:?}");
    assert_eq!(n("dom0_total_after"), n("dom0_total_before"), "{l:?}");
    // dom0 keeps the images' new blocks in memory (sparse files on its
    // tmpfs): what the guests wrote, and no more.
    let dom0_lost_kb = n("dom0_free_before") - n("dom0_free_after");
    if dom0_lost_kb > 96 * 1024 {
        r.fail(&format!(
            "dom0's free memory fell by {dom0_lost_kb} kB: {l:?}"
        ));
    }
}

#[test]
fn the_hypervisor_log_stays_clean_with_devices() {
    check_clean_log(devices_run());
}
