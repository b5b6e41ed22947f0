//! The save part of `cargo xtask bench`: Debian's `xl save`, `xl restore`
//! and `xl migrate` (to the same machine, `-s ""`) of a cloud-kernel
//! guest, on rxen and on Xen 4.17 in the same QEMU machine, with the same
//! dom0 and guests. dom0 runs the `savebench` scenario
//! (harness/src/dom0/migrate.sh) with more memory than the tests give it
//! (`DOM0_MEM`): the save image lives in its RAM.
//!
//! Figures are seconds or milliseconds (less is better), so the ratio
//! rxen/Xen below 1 means rxen is faster. The downtime is the guest's own:
//! the longest gap between its wall-clock readings 10 ms apart.

use std::time::Duration;

use anyhow::Result;
use regex::Regex;
use rxen_harness::{self as harness, Exit, QemuConfig, RunResult};

use super::{boot_numbered, failed_run, median};

/// The guest's memory, in MiB (the issue's figure).
const GUEST_MIB: u32 = 256;
/// dom0's memory here: a 256 MiB image beside the toolstack.
const DOM0_MEM: &str = "dom0_mem=1024M";

/// What is measured, in the table's order: the line's field and the
/// table's heading.
const FIGURES: [(&str, &str); 6] = [
    ("save_s", "save s"),
    ("restore_s", "restore s"),
    ("migrate_idle_s", "migrate idle s"),
    ("downtime_idle_ms", "down idle ms"),
    ("migrate_busy_s", "migrate busy s"),
    ("downtime_busy_ms", "down busy ms"),
];

pub struct SaveSeries {
    label: &'static str,
    qemu: QemuConfig,
    /// Per figure, one value per run.
    figures: [Vec<f64>; 6],
    failures: Vec<String>,
}

/// rxen's and (unless `no_xen`) Xen's configurations.
pub fn series(image: &std::path::Path, no_xen: bool, timeout: Duration) -> Result<Vec<SaveSeries>> {
    let assets = harness::prepare_dom0_assets()?;
    let scenario = format!("savebench={GUEST_MIB}");
    let rxen = harness::rxen_dom0_qemu_config("bench-save-rxen", image, &assets, &[&scenario], "")?;
    let mut all = vec![SaveSeries::new("rxen", with_dom0_mem(rxen, timeout))];
    if !no_xen {
        let xen = harness::fetch_xen_hypervisor()?;
        let qemu = harness::xen_dom0_qemu_config("bench-save-xen", &xen, &assets, &[&scenario])?;
        all.push(SaveSeries::new("Xen 4.17", with_dom0_mem(qemu, timeout)));
    }
    Ok(all)
}

/// The same dom0 memory on both hypervisors, in place of the tests'.
fn with_dom0_mem(mut qemu: QemuConfig, timeout: Duration) -> QemuConfig {
    let cmdline = qemu.cmdline.replace("dom0_mem=512M", DOM0_MEM);
    assert_ne!(cmdline, qemu.cmdline, "no dom0_mem= in {:?}", qemu.cmdline);
    qemu.cmdline = cmdline;
    qemu.timeout = timeout;
    qemu
}

impl SaveSeries {
    fn new(label: &'static str, qemu: QemuConfig) -> Self {
        Self {
            label,
            qemu,
            figures: Default::default(),
            failures: Vec::new(),
        }
    }

    /// Boots it once; a failed run is recorded, not returned.
    pub fn run(&mut self, run: u32, runs: u32) -> Result<()> {
        eprintln!(
            "bench: run {run}/{runs} of the {} save, restore and migrations ({GUEST_MIB} MiB guest) ...",
            self.label
        );
        let r = boot_numbered(&self.qemu, run)?;
        match figures(&r) {
            Ok(f) => {
                eprintln!(
                    "bench:   save {:.1} s, restore {:.1} s, migrate idle {:.1} s (down {:.0} ms), busy {:.1} s (down {:.0} ms)",
                    f[0], f[1], f[2], f[3], f[4], f[5]
                );
                for (all, v) in self.figures.iter_mut().zip(f) {
                    all.push(v);
                }
            }
            Err(problem) => self.failures.push(failed_run(run, &problem, &r)),
        }
        Ok(())
    }

    pub fn is_rxen(&self) -> bool {
        self.label == "rxen"
    }

    pub fn failed(&self) -> bool {
        !self.failures.is_empty() || self.figures[0].is_empty()
    }
}

/// The six figures of a run, or why it does not count.
fn figures(r: &RunResult) -> Result<[f64; 6], String> {
    if r.exit != Exit::Success && r.exit != Exit::PoweredOff {
        return Err(format!("QEMU {}", r.exit));
    }
    figures_of(&r.log)
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
    for (v, (key, _)) in out.iter_mut().zip(FIGURES) {
        let re = Regex::new(&format!(r" {key}=([\d.]+)(\s|$)")).unwrap();
        let c = re.captures(line).ok_or(format!("no {key}= in {line:?}"))?;
        *v = c[1].parse().map_err(|_| format!("bad {key} in {line:?}"))?;
    }
    Ok(out)
}

/// The table: medians per figure and the rxen/Xen ratios.
pub fn report(series: &[SaveSeries], runs: u32) {
    println!();
    println!(
        "xl save, restore and migrate to this machine (a {GUEST_MIB} MiB cloud-kernel guest; busy: rewriting 32 MiB/s; down: the guest's longest gap), same QEMU, median of {runs}, less is better:"
    );
    print!("  {:<10}", "");
    for (_, heading) in FIGURES {
        print!(" {heading:>15}");
    }
    println!();
    for s in series {
        print!("  {:<10}", s.label);
        for f in &s.figures {
            match median(f) {
                Some(m) => print!(" {m:>15.1}"),
                None => print!(" {:>15}", "FAILED"),
            }
        }
        println!();
    }
    let rxen = series.iter().find(|s| s.is_rxen());
    let xen = series.iter().find(|s| !s.is_rxen());
    if let (Some(rxen), Some(xen)) = (rxen, xen) {
        print!("  {:<10}", "rxen/Xen");
        for (a, b) in rxen.figures.iter().zip(&xen.figures) {
            match (median(a), median(b)) {
                (Some(a), Some(b)) if b > 0.0 => print!(" {:>14.2}x", a / b),
                _ => print!(" {:>15}", "-"),
            }
        }
        println!("   (aim: downtimes at most 0.5)");
    }
    for s in series {
        for f in &s.failures {
            println!("FAILED {} save: {f}", s.label);
        }
    }
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
