//! Save images between Xen 4.17 and rxen, both ways: users moving from Xen
//! bring their saved guests along, and can go back. Debian's Xen runs in
//! the same QEMU with the same dom0 (kernel, toolstack, scenarios). Each
//! direction is two boots: one saves a counting guest and leaves the
//! image in its RAM, which the harness reads from QEMU's RAM file
//! afterwards; a boot of the other hypervisor finds it in its initramfs and
//! restores it (scenarios in harness/src/dom0/interop.sh).
//!
//! Run on their own with
//! `cargo test -p rxen-integration --test interop -- --nocapture`.

mod common;

use std::sync::OnceLock;

use common::dom0_group::*;
use rxen_harness::{self as harness, Dom0Assets, RunResult};

/// Boots per step: a boot can meet the emulator fault (docs/design.md), and
/// Xen's dom0 processes die now and then while xl maps guest memory
/// (`qemu-svm.md`).
const TRIES: usize = 3;
/// Where `import` finds the image, in dom0.
const IMPORT_PATH: &str = "var/lib/xen/import/domu-moved.img.gz";

/// What a step left: the boot that did it (or the last that tried), and
/// the image it exported, if it did.
struct Step {
    run: RunResult,
    image: Option<Vec<u8>>,
}

/// One direction: the exporting boot, and the importing one once the
/// export gave an image.
struct Move {
    from: Step,
    to: Option<Step>,
}

fn xen() -> &'static harness::XenHypervisor {
    static XEN: OnceLock<harness::XenHypervisor> = OnceLock::new();
    XEN.get_or_init(|| harness::fetch_xen_hypervisor().expect("fetching Xen 4.17"))
}

/// Xen saves, rxen restores.
fn xen_to_rxen() -> &'static Move {
    static RUN: OnceLock<Move> = OnceLock::new();
    RUN.get_or_init(|| {
        let base = dom0_assets();
        let from = export("xen-export", |name, s| xen_config(xen(), name, base, s));
        let to = from.image.as_ref().map(|image| {
            let assets = with_image(base, "interop-from-xen", image);
            step(
                "rxen-import",
                &["import"],
                // Linux booted on Xen uses FIFO event channels, and BUG()s
                // on resume if it cannot set them up again: rxen offers
                // them, as Xen does.
                |name, s| faulty_boot(dom0_config(name, &assets, s)),
                |_| None,
            )
        });
        Move { from, to }
    })
}

/// rxen saves, Xen restores.
fn rxen_to_xen() -> &'static Move {
    static RUN: OnceLock<Move> = OnceLock::new();
    RUN.get_or_init(|| {
        let base = dom0_assets();
        let from = export("rxen-export", |name, s| dom0_config(name, base, s));
        let to = from.image.as_ref().map(|image| {
            let assets = with_image(base, "interop-from-rxen", image);
            step(
                "xen-import",
                &["import"],
                |name, s| faulty_boot(xen_config(xen(), name, &assets, s)),
                |_| None,
            )
        });
        Move { from, to }
    })
}

/// The exporting step: boots made by `config` save the guest and leave the
/// image in RAM (`export`), where the harness finds it in QEMU's RAM
/// file once the boot is over: neither dom0 has a disk of its own, and a
/// serial console takes minutes for an image (Xen's drops characters).
fn export(name: &str, config: impl Fn(&str, &[&str]) -> harness::QemuConfig) -> Step {
    let ram = ram_file(name);
    let step = step(
        name,
        &["export"],
        |boot, s| {
            // A new file each boot: QEMU would take up an old one's bytes.
            let _ = std::fs::remove_file(&ram);
            let mut qemu = config(boot, s);
            qemu.keep_ram_in(&ram);
            faulty_boot(qemu)
        },
        |r| match harness::exported_in_memory(&r.log, &ram) {
            Ok(image) => Some(image),
            Err(e) => {
                eprintln!("{name}: the image is not in {}: {e:#}", ram.display());
                None
            }
        },
    );
    let _ = std::fs::remove_file(&ram);
    step
}

/// Runs `scenarios` in up to [`TRIES`] boots until they all pass and, if
/// one is an export, `image` finds what it exported in the boot.
fn step(
    name: &str,
    scenarios: &[&str],
    boot: impl Fn(&str, &[&str]) -> RunResult,
    image: impl Fn(&RunResult) -> Option<Vec<u8>>,
) -> Step {
    let exports = scenarios.iter().any(|s| s.starts_with("export"));
    let mut last = None;
    for n in 1..=TRIES {
        let run = boot(&format!("interop-{name}-{n}"), scenarios);
        report(&run);
        let passed = scenarios.iter().all(|s| {
            let s = s.split('=').next().unwrap_or(s);
            run.log.contains(&format!("RXEN-SCENARIO-END {s} rc=0"))
        });
        let image = if exports && passed { image(&run) } else { None };
        let done = passed && (image.is_some() || !exports);
        last = Some(Step { run, image });
        if done {
            break;
        }
        eprintln!("interop step {name}: boot {n} did not pass: another boot");
    }
    last.expect("at least one boot")
}

/// Where a boot keeps its RAM for the harness to read afterwards: in the
/// host's RAM (`/dev/shm`) when it has one, so that the guest's memory is
/// not written out to disk as it runs.
fn ram_file(name: &str) -> std::path::PathBuf {
    let shm = std::path::Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        harness::target_dir()
    };
    dir.join(format!("rxen-{name}-{}.ram", std::process::id()))
}

/// A Xen boot of dom0 with `assets`, with the dom0 tests' limits.
fn xen_config(
    xen: &harness::XenHypervisor,
    name: &str,
    assets: &Dom0Assets,
    scenarios: &[&str],
) -> harness::QemuConfig {
    let qemu = harness::xen_dom0_qemu_config(name, xen, assets, scenarios)
        .expect("configuring the Xen run");
    with_test_limits(qemu)
}

/// dom0's initramfs with `image` where `import` looks for it.
fn with_image(base: &Dom0Assets, name: &str, image: &[u8]) -> Dom0Assets {
    harness::dom0_assets_with_files(base, name, &[(IMPORT_PATH, image)])
        .expect("adding the image to dom0's initramfs")
}

/// Where the guest's region check can be believed.
#[derive(Clone, Copy, PartialEq)]
enum Region {
    /// The restoring side is rxen: checked when the saving side had kept
    /// the guest whole (see [`check_region`]).
    Checked,
    /// The restoring side is Xen 4.17, which under this QEMU damages its
    /// guests' user state from their first seconds (the region count is
    /// numbers a 2 MiB region cannot give, at every tick: seen in every
    /// Xen boot, before any save as after a restore; `qemu-svm.md`). What
    /// rxen wrote is checked by the image's hash, and by rxen's own save
    /// tests restoring the same records.
    DamagedByXen,
}

/// The exporting boot's line and the importing boot's: the guest counted
/// on from where it was saved, its region intact (as far as `region`
/// allows), its wall clock right, its one vCPU up, in a domain of the
/// other hypervisor.
#[track_caller]
fn check_moved(from: &Step, to: &Step, what: &str, region: Region) {
    let (fr, tr) = (&from.run, &to.run);
    assert_scenario_passed(fr, "export");
    let e = fields(fr, "RXEN-XL-EXPORT")
        .pop()
        .unwrap_or_else(|| fr.fail("no RXEN-XL-EXPORT line"));
    assert_scenario_passed(tr, "import");
    let i = only_line(tr, "RXEN-XL-IMPORT");
    eprintln!("{what}: saved {e:?}; restored {i:?}");
    assert_eq!(field(tr, &i, "found"), "yes", "{i:?}");
    assert_eq!(
        field(tr, &i, "sha256"),
        field(fr, &e, "sha256"),
        "the image arrived changed"
    );
    assert_eq!(field(tr, &i, "restored"), "0", "xl restore: {i:?}");
    let (before, after) = (number(fr, &e, "before"), number(tr, &i, "after"));
    assert!(
        after > before,
        "{what}: the count went from {before} to {after}"
    );
    if region == Region::Checked {
        check_region(
            what,
            field(fr, &e, "mismatches"),
            field(tr, &i, "first_mismatches"),
            field(tr, &i, "mismatches"),
        );
    }
    assert_eq!(field(tr, &i, "cpus"), "1", "{i:?}");
    let (wb, wa) = (number(fr, &e, "wall"), number(tr, &i, "wall"));
    assert!(
        (wa - wb).abs() <= 2,
        "{what}: wall clock offset {wb} s before, {wa} s after"
    );
}

/// The guest's region check (words found changed so far) when it was
/// saved, at its first tick after the restore and at its last: the first
/// tick checks the region as the image brought it, the later ones that the
/// new hypervisor keeps it. Both speak of the move only if the saving side
/// had kept the guest whole: under this QEMU, Xen 4.17 damages its guests'
/// user state now and then while dom0 is busy (the region count goes wild
/// before any save, as dom0's processes die of it: `qemu-svm.md`), and
/// what it damaged travels in the image (our reading, not proven: a
/// thread's vector registers, saved in the guest kernel's memory, come
/// back into use on rxen ticks later; seen in CI, 2026-12-03: two more
/// whole-region mismatches after the move of a guest Xen had damaged).
/// Then the region is not checked, and the test says so.
#[track_caller]
fn check_region(what: &str, saved: &str, first: &str, last: &str) {
    if saved != "0" {
        eprintln!(
            "{what}: the guest's region count was already {saved} on the saving side \
             (its hypervisor damaged the guest before the save): the region is not \
             checked ({first} at rxen's first tick, {last} at its last)"
        );
        return;
    }
    assert_eq!(first, "0", "{what}: the region arrived changed");
    assert_eq!(
        last, "0",
        "{what}: the region changed on the new hypervisor after its first tick"
    );
}

#[track_caller]
fn check_move(m: &Move, what: &str, region: Region) {
    let Some(to) = &m.to else {
        m.from.run.fail(&format!("{what}: no image was exported"));
    };
    check_moved(&m.from, to, what, region);
}

#[test]
fn a_guest_saved_on_xen_4_17_restores_and_runs_on_rxen() {
    check_move(xen_to_rxen(), "Xen 4.17 → rxen", Region::Checked);
}

#[test]
fn a_guest_saved_on_rxen_restores_and_runs_on_xen_4_17() {
    check_move(rxen_to_xen(), "rxen → Xen 4.17", Region::DamagedByXen);
}
