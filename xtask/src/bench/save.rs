//! The save part of `cargo xtask bench`: Debian's `xl save`, `xl restore`
//! and `xl migrate` (to the same machine, `-s ""`) of a cloud-kernel
//! guest, on rxen and on Xen 4.17 in the same QEMU machine, with the same
//! dom0 (the tests' 512 MiB: Xen's dom0 processes die of segmentation
//! faults throughout at 1 GiB under this QEMU, see docs/design.md) and
//! guests. dom0 runs the `savebench` scenario (harness/src/dom0/migrate.sh);
//! the save image lives in its RAM, on a tmpfs of its own.
//!
//! Figures are seconds or milliseconds (less is better), so the ratio
//! rxen/Xen below 1 means rxen is faster. The downtime is the guest's own:
//! the longest gap between its wall-clock readings 10 ms apart.

use std::time::Duration;

use anyhow::Result;
use regex::Regex;
use rxen_harness::{self as harness, QemuConfig};

use super::table::{FigureSeries, Measure};

/// The guest's memory, in MiB (the issue's figure).
const GUEST_MIB: u32 = 256;

/// The fields of the scenario's line, in the table's order.
const FIELDS: [&str; 6] = [
    "save_s",
    "restore_s",
    "migrate_idle_s",
    "downtime_idle_ms",
    "migrate_busy_s",
    "downtime_busy_ms",
];

pub type SaveSeries = FigureSeries<6>;

/// What is measured, and the table's headings in its order.
pub fn measure(runs: u32) -> Measure<6> {
    Measure {
        what: "save, restore and migrations",
        headings: [
            "save s",
            "restore s",
            "migrate idle s",
            "down idle ms",
            "migrate busy s",
            "down busy ms",
        ],
        parse: figures_of,
        title: format!(
            "xl save, restore and migrate to this machine (a {GUEST_MIB} MiB cloud-kernel guest; busy: rewriting 32 MiB/s; down: the guest's longest gap), same QEMU, median of {runs}, less is better:"
        ),
        aim: "aim: downtimes at most 0.5",
    }
}

/// rxen's and (unless `no_xen`) Xen's configurations.
pub fn series(image: &std::path::Path, no_xen: bool, timeout: Duration) -> Result<Vec<SaveSeries>> {
    let assets = harness::prepare_dom0_assets()?;
    let scenario = format!("savebench={GUEST_MIB}");
    let rxen = harness::rxen_dom0_qemu_config("bench-save-rxen", image, &assets, &[&scenario], "")?;
    let mut all = vec![SaveSeries::new("rxen", with_timeout(rxen, timeout))];
    if !no_xen {
        let xen = harness::fetch_xen_hypervisor()?;
        let qemu = harness::xen_dom0_qemu_config("bench-save-xen", &xen, &assets, &[&scenario])?;
        all.push(SaveSeries::new("Xen 4.17", with_timeout(qemu, timeout)));
    }
    Ok(all)
}

fn with_timeout(qemu: QemuConfig, timeout: Duration) -> QemuConfig {
    QemuConfig { timeout, ..qemu }
}

fn figures_of(log: &str) -> Result<[f64; 6], String> {
    if !log.contains("RXEN-SCENARIO-END savebench rc=0") {
        return Err("the savebench scenario failed".into());
    }
    let line = log
        .lines()
        .find(|l| l.contains("RXEN-SAVE-BENCH "))
        .ok_or("no RXEN-SAVE-BENCH line")?;
    let mut out = [0.0; 6];
    for (v, key) in out.iter_mut().zip(FIELDS) {
        let re = Regex::new(&format!(r" {key}=([\d.]+)(\s|$)")).unwrap();
        let c = re.captures(line).ok_or(format!("no {key}= in {line:?}"))?;
        *v = c[1].parse().map_err(|_| format!("bad {key} in {line:?}"))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_come_from_the_scenario_s_line() {
        let log = "RXEN-SAVE-BENCH mib=256 save_s=4.50 restore_s=3.25 migrate_idle_s=9.00 downtime_idle_ms=800 migrate_busy_s=20.10 downtime_busy_ms=2100\n\
                   RXEN-SCENARIO-END savebench rc=0\n";
        assert_eq!(
            figures_of(log).unwrap(),
            [4.5, 3.25, 9.0, 800.0, 20.1, 2100.0]
        );
        assert!(figures_of(&log.replace("rc=0", "rc=1")).is_err());
        // An empty figure (no gap measured) is a failed run, not a zero.
        assert!(figures_of(&log.replace("downtime_busy_ms=2100", "downtime_busy_ms=")).is_err());
    }
}
