//! The control-domain part of `cargo xtask bench`: Debian's generic kernel
//! as a PVH dom0 running Debian's Xen 4.17 toolstack, on rxen and on Xen,
//! in the same QEMU machine (`DOM0_CPU_MODEL`, 2 CPUs, 2 GiB, `dom0_mem=512M`).
//! dom0's `/init` runs the `create` scenario: one `xl create` of the cloud
//! kernel's domU, whose marker is awaited on `xl console`.
//!
//! Two figures per run:
//! * QEMU start → `RXEN-TOOLSTACK-UP` (xenstored, xen-init-dom0 and
//!   xenconsoled running), by the wall clock of the serial log;
//! * `xl create` → the domU's marker on its console, measured inside dom0
//!   (`create_to_marker=` of `RXEN-XL-CREATE`).

use std::time::Duration;

use anyhow::Result;
use rxen_harness::{self as harness, Exit, QemuConfig, RunResult};

use super::{boot_numbered, failed_run, median};

/// What one configuration's runs gave.
pub struct Dom0Series {
    label: &'static str,
    qemu: QemuConfig,
    toolstack_up: Vec<f64>,
    create_to_marker: Vec<f64>,
    failures: Vec<String>,
}

/// rxen's and (unless `no_xen`) Xen's dom0 configurations.
pub fn series(image: &std::path::Path, no_xen: bool, timeout: Duration) -> Result<Vec<Dom0Series>> {
    let assets = harness::prepare_dom0_assets()?;
    let mut rxen =
        harness::rxen_dom0_qemu_config("bench-dom0-rxen", image, &assets, &["create"], "")?;
    rxen.timeout = timeout;
    let mut all = vec![Dom0Series::new("rxen", rxen)];
    if !no_xen {
        let xen = harness::fetch_xen_hypervisor()?;
        let mut qemu = harness::xen_dom0_qemu_config("bench-dom0-xen", &xen, &assets, &["create"])?;
        qemu.timeout = timeout;
        all.push(Dom0Series::new("Xen 4.17", qemu));
    }
    Ok(all)
}

impl Dom0Series {
    fn new(label: &'static str, qemu: QemuConfig) -> Self {
        Self {
            label,
            qemu,
            toolstack_up: Vec::new(),
            create_to_marker: Vec::new(),
            failures: Vec::new(),
        }
    }

    /// Boots it once; a failed run is recorded, not returned.
    pub fn run(&mut self, run: u32, runs: u32) -> Result<()> {
        eprintln!(
            "bench: run {run}/{runs} of the {} dom0 with xl create ...",
            self.label
        );
        let r = boot_numbered(&self.qemu, run)?;
        match figures(&r) {
            Ok((up, create)) => {
                eprintln!("bench:   toolstack up {up:.2} s, xl create -> marker {create:.2} s");
                self.toolstack_up.push(up);
                self.create_to_marker.push(create);
            }
            Err(problem) => self.failures.push(failed_run(run, &problem, &r)),
        }
        Ok(())
    }

    pub fn is_rxen(&self) -> bool {
        self.label == "rxen"
    }

    pub fn failed(&self) -> bool {
        !self.failures.is_empty() || self.create_to_marker.is_empty()
    }
}

/// (toolstack up, create → marker) in seconds, or why the run does not count.
fn figures(r: &RunResult) -> Result<(f64, f64), String> {
    if r.exit != Exit::Success && r.exit != Exit::PoweredOff {
        return Err(format!("QEMU {}", r.exit));
    }
    let up = r
        .time_of("RXEN-TOOLSTACK-UP")
        .ok_or("the toolstack never came up")?;
    let create = r
        .log
        .lines()
        .find(|l| l.contains("RXEN-XL-CREATE ") && l.contains("marker=yes"))
        .and_then(|l| value(l, "create_to_marker="))
        .ok_or("no marker of the created domU")?;
    Ok((up.as_secs_f64(), create))
}

fn value(line: &str, key: &str) -> Option<f64> {
    let rest = &line[line.find(key)? + key.len()..];
    rest.split_whitespace().next()?.parse().ok()
}

/// The table: medians and the rxen/Xen ratios; `floor` is the cloud
/// kernel's own boot to /init and back with no hypervisor.
pub fn report(series: &[Dom0Series], runs: u32, floor: Option<f64>) {
    println!();
    println!(
        "dom0 (Debian generic kernel, PVH, 512 MiB) with Xen 4.17's toolstack, same QEMU ({}), median of {runs}:",
        harness::DOM0_CPU_MODEL
    );
    println!(
        "  {:<12} {:>16} {:>22}",
        "", "toolstack up", "xl create -> marker"
    );
    for s in series {
        let failed = if s.failures.is_empty() {
            String::new()
        } else {
            format!("   ({} of {runs} runs FAILED)", s.failures.len())
        };
        match (median(&s.toolstack_up), median(&s.create_to_marker)) {
            (Some(up), Some(create)) => {
                println!("  {:<12} {up:>14.2} s {create:>20.2} s{failed}", s.label)
            }
            _ => println!("  {:<12} {:>16}{failed}", s.label, "FAILED"),
        }
    }
    let rxen = series.iter().find(|s| s.is_rxen());
    let xen = series.iter().find(|s| !s.is_rxen());
    if let (Some(rxen), Some(xen)) = (rxen, xen) {
        let ratio = |a: &[f64], b: &[f64]| Some(median(a)? / median(b)?);
        if let (Some(up), Some(create)) = (
            ratio(&rxen.toolstack_up, &xen.toolstack_up),
            ratio(&rxen.create_to_marker, &xen.create_to_marker),
        ) {
            println!("rxen/Xen: toolstack up {up:.2}x, xl create -> marker {create:.2}x");
        }
    }
    if let (Some(rxen), Some(floor)) = (rxen.and_then(|s| median(&s.create_to_marker)), floor) {
        let verdict = if rxen <= 1.5 * floor {
            "met"
        } else {
            "not met"
        };
        println!(
            "rxen's xl create -> marker / the cloud kernel's floor: {:.2}x (aim <= 1.5x: {verdict}); \
             the floor counts QEMU's firmware, the create does not count xl's own start",
            rxen / floor
        );
    }
    for s in series {
        for f in &s.failures {
            println!("FAILED {} dom0: {f}", s.label);
        }
    }
}
