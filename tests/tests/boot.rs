//! Boot rxen in QEMU, by PVH and by GRUB, and check what it reports.
//!
//! Run with `cargo xtask test` (or `cargo test -p rxen-integration --
//! --test-threads=1`): each test is a whole QEMU, and two at once on a
//! two-core machine only make both slow.

mod common;

use std::fs;
use std::time::Duration;

use common::hypervisor;
use regex::Regex;
use rxen_harness::{self as harness, Boot, Exit, Module, QemuConfig, RunResult};

const TIMEOUT: Duration = Duration::from_secs(60);
const HELLO: &str = "Hello from the rxen integration tests!\n";

/// A small module with known contents, so its reported size can be checked.
fn hello_module() -> Module {
    let dir = harness::target_dir().join("test-data");
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join("hello.txt");
    fs::write(&path, HELLO).unwrap();
    Module::new("hello.txt", path).unwrap()
}

fn run(cfg: QemuConfig) -> RunResult {
    let r = harness::run_qemu(&cfg).expect("running QEMU");
    if r.elapsed >= TIMEOUT {
        r.fail("the boot took as long as the timeout");
    }
    r
}

/// What every successful boot reports, by either boot protocol.
fn assert_booted(r: &RunResult, smp: u32) {
    r.assert_exit(Exit::Success);
    r.assert_contains(&format!(
        "rxen: module 0: \"hello.txt\" {} bytes",
        HELLO.len()
    ));
    let memory = Regex::new(r"rxen: memory total \d+ MiB, free \d+ MiB").unwrap();
    if !memory.is_match(&r.log) {
        r.fail("no memory summary");
    }
    r.assert_contains(&format!("rxen: {smp} CPUs online"));
}

fn pvh_boot(smp: u32) {
    let r = run(QemuConfig {
        smp,
        timeout: TIMEOUT,
        cmdline: "debug_exit loglvl=info".into(),
        modules: vec![hello_module()],
        ..QemuConfig::new(
            format!("pvh-smp{smp}"),
            Boot::Pvh {
                image: hypervisor(),
            },
        )
    });
    r.assert_contains("rxen: boot protocol PVH");
    assert_booted(&r, smp);
}

#[test]
fn pvh_boot_smp1() {
    pvh_boot(1);
}

#[test]
fn pvh_boot_smp2() {
    pvh_boot(2);
}

#[test]
fn pvh_boot_smp4() {
    pvh_boot(4);
}

#[test]
fn grub_iso_boot_smp2() {
    let iso = harness::target_dir().join("rxen-test.iso");
    harness::build_iso(
        &hypervisor(),
        &[hello_module()],
        "debug_exit loglvl=info",
        &iso,
    )
    .expect("building the ISO");
    let r = run(QemuConfig {
        smp: 2,
        timeout: TIMEOUT,
        ..QemuConfig::new("grub-iso-smp2", Boot::Iso { iso })
    });
    r.assert_contains("rxen: boot protocol Multiboot2");
    assert_booted(&r, 2);
}

#[test]
fn page_fault_selftest_panics() {
    let r = run(QemuConfig {
        timeout: TIMEOUT,
        cmdline: "debug_exit loglvl=info selftest=pagefault".into(),
        ..QemuConfig::new(
            "selftest-pagefault",
            Boot::Pvh {
                image: hypervisor(),
            },
        )
    });
    r.assert_exit(Exit::Failure);
    r.assert_contains("vector 14");
    r.assert_contains("cr2=0x7fffdead0000");
    r.assert_in_order(&["vector 14", "PANIC", "stack trace"]);
}
