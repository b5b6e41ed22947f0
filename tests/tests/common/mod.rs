//! What the guest tests share: the hypervisor image and guest assets
//! (prepared once per test binary), booting rxen with domains, and reading
//! numbers out of the serial log.

#![allow(dead_code)] // each test binary uses its own subset

pub mod dom0_group;

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::OnceLock;
use std::time::Duration;

use regex::Regex;
use rxen_harness::{
    self as harness, Boot, Exit, GuestAssets, QemuConfig, RunResult, SerialInput, TestDomain,
};

/// The machine: enough for four 192 MiB guests and then some.
pub const MACHINE_MIB: u32 = 2048;
pub const MACHINE_CPUS: u32 = 2;

/// The hypervisor image, built once per test binary.
pub fn hypervisor() -> PathBuf {
    static IMAGE: OnceLock<PathBuf> = OnceLock::new();
    IMAGE
        .get_or_init(|| {
            harness::ensure_prerequisites().expect("installing prerequisites");
            harness::build_hypervisor().expect("building the hypervisor")
        })
        .clone()
}

/// The Debian cloud kernel and the test initramfs, prepared once.
pub fn assets() -> &'static GuestAssets {
    static ASSETS: OnceLock<GuestAssets> = OnceLock::new();
    ASSETS.get_or_init(|| harness::prepare_guest_assets().expect("preparing the guest assets"))
}

/// The QEMU machine every guest test uses.
pub fn machine(test: &str, timeout: Duration) -> QemuConfig {
    QemuConfig {
        smp: MACHINE_CPUS,
        memory_mib: MACHINE_MIB,
        timeout,
        cmdline: "debug_exit loglvl=info".into(),
        // Serial input goes to rxen: a hang's log ends with its view of the
        // domains, run queues and event delivery.
        hang_keys: Some(b"qre".to_vec()),
        ..QemuConfig::new(
            format!("guests-{test}"),
            Boot::Pvh {
                image: hypervisor(),
            },
        )
    }
}

/// Writes the domains' configurations and boots them on `qemu`.
pub fn boot_on(test: &str, qemu: QemuConfig, domains: &[TestDomain]) -> RunResult {
    let configs = harness::write_test_configs(test, domains).expect("writing the configurations");
    boot_files(qemu, &configs)
}

/// Boots rxen on `qemu` with these configuration files; fails the test if
/// the run took the whole timeout.
pub fn boot_files(qemu: QemuConfig, configs: &[PathBuf]) -> RunResult {
    let timeout = qemu.timeout;
    let r = harness::boot_domains(qemu, configs, assets()).expect("booting rxen with domains");
    if r.elapsed >= timeout {
        r.fail("the run took as long as the timeout");
    }
    r
}

pub fn boot(test: &str, domains: &[TestDomain], timeout: Duration) -> RunResult {
    boot_on(test, machine(test, timeout), domains)
}

/// Types `bytes` on the serial console once `after` has been printed.
pub fn typing(after: &str, bytes: &[u8]) -> SerialInput {
    SerialInput {
        after: after.to_owned(),
        bytes: bytes.to_vec(),
    }
}

#[track_caller]
pub fn assert_all_gone(r: &RunResult) {
    r.assert_contains("rxen: no domains left, powering off");
    r.assert_exit(Exit::Success);
}

/// Every capture of `pattern` in the log, as numbers.
pub fn numbers<T: FromStr>(r: &RunResult, pattern: &str) -> Vec<T> {
    let re = Regex::new(pattern).unwrap();
    re.captures_iter(&r.log)
        .filter_map(|c| c[1].parse().ok())
        .collect()
}

/// The first capture of `pattern` in the log, as a number.
#[track_caller]
pub fn first_number<T: FromStr + Copy>(r: &RunResult, pattern: &str) -> T {
    match numbers(r, pattern).first() {
        Some(n) => *n,
        None => r.fail(&format!("no line matches {pattern:?}")),
    }
}

/// The last capture of `pattern` in the log, as a number.
#[track_caller]
pub fn last_number<T: FromStr + Copy>(r: &RunResult, pattern: &str) -> T {
    match numbers(r, pattern).last() {
        Some(n) => *n,
        None => r.fail(&format!("no line matches {pattern:?}")),
    }
}
