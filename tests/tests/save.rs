//! Save, restore and live migration with Debian's `xl save`, `xl restore`
//! and `xl migrate` (libxl and libxenguest's migration stream v2 in dom0;
//! rxen's suspend, page-frame types, HVM context, resume and log-dirty
//! underneath). The guests count once a second and check a memory region
//! they rewrite every second (one, booted from a PV disk with a PV
//! network interface, writes files instead); the scenarios are in
//! harness/src/dom0/migrate.sh, one dom0 boot runs them.
//!
//! Run with `cargo test -p rxen-integration --test save -- --nocapture`.

mod common;

use std::sync::OnceLock;

use common::dom0_group::*;
use rxen_harness::RunResult;

fn save_run() -> &'static RunResult {
    static RUN: OnceLock<RunResult> = OnceLock::new();
    RUN.get_or_init(|| {
        let scenarios = [
            "save",
            "checkpoint",
            "savefail",
            "migrate",
            "migratefail",
            "devsave",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        group_run("save", scenarios)
    })
}

/// The same scenarios that matter most, with rxen keeping everyone on
/// 2-level event channels (`no-evtchn_fifo`): the main boot runs on the
/// FIFO ABI, which dom0 and its guests switch to at boot, and which a
/// restored guest sets up again in its new domain.
fn two_level_run() -> &'static RunResult {
    static RUN: OnceLock<RunResult> = OnceLock::new();
    RUN.get_or_init(|| {
        // The save scenario alone: CI time is short, and devices do not
        // care which event-channel ABI carries their notifications.
        let scenarios = vec!["save".to_owned()];
        group_run_with("save-2level", scenarios, "no-evtchn_fifo")
    })
}

/// The save line of the guest with `vcpus` vCPUs.
fn save_line(r: &RunResult, marker: &str, vcpus: &str) -> Vec<(String, String)> {
    let lines = fields(r, marker);
    match lines
        .into_iter()
        .find(|l| l.iter().any(|(k, v)| k == "vcpus" && v == vcpus))
    {
        Some(l) => l,
        None => r.fail(&format!("no {marker} line for {vcpus} vCPU(s)")),
    }
}

#[track_caller]
fn check_save_and_restore(vcpus: &str) {
    check_save_and_restore_in(save_run(), vcpus);
}

#[track_caller]
fn check_save_and_restore_in(r: &RunResult, vcpus: &str) {
    assert_scenario_passed(r, "save");
    let l = save_line(r, "RXEN-XL-SAVE", vcpus);
    eprintln!("save and restore, {vcpus} vCPU(s): {l:?}");
    assert_eq!(field(r, &l, "saved"), "0", "xl save: {l:?}");
    assert_eq!(field(r, &l, "restored"), "0", "xl restore: {l:?}");
    // It counted on from where it was: the restored guest's counter is
    // past the saved one's (a guest booted afresh would start at 0).
    assert_counted_on_intact(r, &l, 0);
    assert_eq!(field(r, &l, "cpus"), vcpus, "its CPUs after restore: {l:?}");
    assert_ne!(
        field(r, &l, "domid_before"),
        field(r, &l, "domid_after"),
        "restored into a new domain: {l:?}"
    );
    // Its wall clock against dom0's, in whole seconds, is as it was (the
    // latest line is at most a second old: a guest stuck after restore
    // shows here too).
    let (ob, oa) = (number(r, &l, "wall_before"), number(r, &l, "wall_after"));
    assert!(
        (oa - ob).abs() <= 2,
        "wall clock offset {ob} s before, {oa} s after: {l:?}"
    );
    // Nothing stays allocated once the restored guest is gone.
    let free = save_line(r, "RXEN-XL-SAVE-FREE", vcpus);
    assert_eq!(
        field(r, &free, "free_before"),
        field(r, &free, "free_after"),
        "xl info's free_memory: {free:?}"
    );
}

#[test]
fn xl_save_and_restore_continue_a_one_vcpu_guest_with_its_memory_and_clock() {
    check_save_and_restore("1");
}

#[test]
fn xl_save_and_restore_continue_a_two_vcpu_guest_with_its_memory_and_clock() {
    check_save_and_restore("2");
}

#[test]
fn xl_save_c_leaves_the_guest_running_where_it_was() {
    let r = save_run();
    assert_scenario_passed(r, "checkpoint");
    let l = only_line(r, "RXEN-XL-CHECKPOINT");
    eprintln!("xl save -c: {l:?}");
    assert_eq!(field(r, &l, "saved"), "0", "{l:?}");
    assert_eq!(
        field(r, &l, "domid_before"),
        field(r, &l, "domid_after"),
        "{l:?}"
    );
    assert_counted_on_intact(r, &l, 2);
    assert!(
        is_live(field(r, &l, "state")),
        "xl list after the checkpoint: {l:?}"
    );
    assert!(
        number(r, &l, "image") > 64 << 20,
        "the image is too small: {l:?}"
    );
}

#[test]
fn saves_and_restores_that_cannot_work_fail_cleanly_and_the_guest_runs_on() {
    let r = save_run();
    assert_scenario_passed(r, "savefail");
    let l = only_line(r, "RXEN-XL-SAVE-FAIL");
    eprintln!("failed saves and restores: {l:?}");
    for case in ["vanished", "full", "truncated", "garbage"] {
        assert_ne!(field(r, &l, case), "0", "xl must fail ({case}): {l:?}");
    }
    // Suspended for the save to the full file system, then resumed.
    assert_counted_on_intact(r, &l, 2);
    assert_eq!(
        field(r, &l, "domid_before"),
        field(r, &l, "domid_after"),
        "{l:?}"
    );
    assert!(
        is_live(field(r, &l, "state")),
        "xl list after the failures: {l:?}"
    );
    // Nothing is left of the failed restores.
    assert_eq!(field(r, &l, "copies"), "0", "{l:?}");
    assert_free_memory_back(r, "RXEN-XL-SAVE-FAIL-FREE");
}

/// Whether an `xl list` state (dashes dropped) is a live domain's:
/// running, blocked, or runnable and waiting for a CPU ("-", all flags
/// clear: on 2 emulated CPUs shared with dom0 the guest's vCPU is often
/// neither running nor blocked at the instant xl looks).
fn is_live(state: &str) -> bool {
    matches!(state, "r" | "b" | "-")
}

/// The guest counted on past where it was (by more than `more`) with its
/// region as last written.
#[track_caller]
fn assert_counted_on_intact(r: &RunResult, l: &[(String, String)], more: i64) {
    let (before, after) = (number(r, l, "before"), number(r, l, "after"));
    assert!(
        after > before + more,
        "the count went from {before} to {after}: {l:?}"
    );
    assert_eq!(field(r, l, "mismatches"), "0", "its memory changed: {l:?}");
}

/// Free memory once the guest is gone is what it was before it.
#[track_caller]
fn assert_free_memory_back(r: &RunResult, marker: &str) {
    let free = only_line(r, marker);
    assert_eq!(
        field(r, &free, "free_before"),
        field(r, &free, "free_after"),
        "xl info's free_memory: {free:?}"
    );
}

#[test]
fn xl_migrate_to_this_machine_moves_a_guest_writing_its_memory_intact() {
    let r = save_run();
    assert_scenario_passed(r, "migrate");
    let l = only_line(r, "RXEN-XL-MIGRATE");
    eprintln!(
        "xl migrate: downtime {} ms as the guest saw it (a 128 MiB guest rewriting 16 MiB every second): {l:?}",
        field(r, &l, "downtime_ms")
    );
    assert_eq!(field(r, &l, "migrated"), "0", "{l:?}");
    // Every page it rewrote during the pre-copy arrived as last written.
    assert_counted_on_intact(r, &l, 0);
    assert_ne!(
        field(r, &l, "domid_before"),
        field(r, &l, "domid_after"),
        "{l:?}"
    );
    // One domain of that name: no `--incoming` or `--migratedaway` left.
    assert_eq!(field(r, &l, "domains"), "1", "{l:?}");
    assert!(number(r, &l, "wall").abs() <= 2, "its wall clock: {l:?}");
    assert!(
        number(r, &l, "downtime_ms") > 0,
        "no downtime measured: {l:?}"
    );
}

#[test]
fn a_migration_whose_receiver_dies_leaves_the_guest_running_unharmed() {
    let r = save_run();
    assert_scenario_passed(r, "migratefail");
    let l = only_line(r, "RXEN-XL-MIGRATE-FAIL");
    eprintln!("xl migrate to a receiver that dies: {l:?}");
    assert_ne!(field(r, &l, "migrated"), "0", "xl migrate must fail: {l:?}");
    assert_counted_on_intact(r, &l, 2);
    assert_eq!(
        field(r, &l, "domid_before"),
        field(r, &l, "domid_after"),
        "{l:?}"
    );
    assert_eq!(field(r, &l, "domains"), "1", "{l:?}");
    assert!(
        is_live(field(r, &l, "state")),
        "xl list after the failed migration: {l:?}"
    );
    // While it runs on, its pages stay split to 4 KiB (as Xen's stay
    // shattered): the page tables are its own and go with it.
    assert_free_memory_back(r, "RXEN-XL-MIGRATE-FAIL-FREE");
}

#[test]
fn a_guest_s_disk_and_network_reconnect_after_restore_and_migration() {
    let r = save_run();
    // rxen offers FIFO event channels, as Xen does, and Linux takes them.
    r.assert_contains("xen:events: Using FIFO-based ABI");
    check_devices_reconnect(r);
}

#[test]
fn on_2_level_event_channels_saves_and_restores_as_on_fifo() {
    let r = two_level_run();
    r.assert_contains("xen:events: Using 2-level ABI");
    check_save_and_restore_in(r, "1");
    check_save_and_restore_in(r, "2");
    check_clean_log(r);
}

#[track_caller]
fn check_devices_reconnect(r: &RunResult) {
    assert_scenario_passed(r, "devsave");
    let l = only_line(r, "RXEN-XL-DEVSAVE");
    eprintln!("a guest with a disk and a vif, saved, restored and migrated: {l:?}");
    for step in ["saved", "restored", "migrated"] {
        assert_eq!(field(r, &l, step), "0", "{step}: {l:?}");
    }
    // It wrote on to its disk after each (blkfront reconnected) ...
    let (ns, nr, nm) = (
        number(r, &l, "synced_saved"),
        number(r, &l, "synced_restored"),
        number(r, &l, "synced_migrated"),
    );
    assert!(
        nr >= ns + 2 && nm >= nr + 2,
        "files synced at the save {ns}, after the restore {nr}, after the migration {nm}: {l:?}"
    );
    // ... and answered dom0's ping (netfront reconnected).
    for when in ["ping_before", "ping_restored", "ping_migrated"] {
        assert_eq!(field(r, &l, when), "ok", "{when}: {l:?}");
    }
    // Every file it reported synced, in any of its three domains, is on
    // the disk as written, and the file system is clean.
    assert_eq!(field(r, &l, "matched"), field(r, &l, "synced"), "{l:?}");
    assert_eq!(field(r, &l, "fsck"), "0", "e2fsck -f -n: {l:?}");
}

#[test]
fn the_hypervisor_log_stays_clean_with_saves() {
    check_clean_log(save_run());
}
