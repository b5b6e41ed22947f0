//! The I/O part of `cargo xtask bench`: dom0's own back-ends (xen-blkback,
//! xen-netback on a bridge), driven by Debian's `xl`, on rxen and on Xen
//! 4.17 in the same QEMU machine and with the same dom0 and guests. dom0
//! runs the `iobench` scenario (harness/src/dom0/devices.sh):
//! * a cloud-kernel guest writes, then reads, 64 MiB on a raw PV disk (an
//!   image file on a loop device in dom0) with `dd` and direct I/O;
//! * the `net` scenario: one guest sends 64 MiB over TCP (busybox `nc`) to
//!   another on the bridge, then to dom0.
//!
//! Figures are MiB/s (more is better), so the ratio rxen/Xen above 1 means
//! rxen is faster.

use std::time::Duration;

use anyhow::Result;
use regex::Regex;
use rxen_harness as harness;

use super::table::{FigureSeries, Measure};

/// MiB each transfer moves.
const MIB: u64 = 64;

pub type IoSeries = FigureSeries<4>;

/// What is measured, and the table's headings in its order.
pub fn measure(runs: u32) -> Measure<4> {
    Measure {
        what: "disk and network transfers",
        headings: ["disk write", "disk read", "TCP domU->domU", "TCP domU->dom0"],
        parse: figures_of,
        title: format!(
            "PV disk and network through dom0's back-ends (cloud-kernel guests, {MIB} MiB each, MiB/s, more is better), same QEMU, median of {runs}:"
        ),
        aim: "aim: above 1 on every figure",
    }
}

/// rxen's and (unless `no_xen`) Xen's configurations.
pub fn series(image: &std::path::Path, no_xen: bool, timeout: Duration) -> Result<Vec<IoSeries>> {
    let assets = harness::prepare_dom0_assets()?;
    let scenario = format!("iobench={MIB}");
    let mut rxen =
        harness::rxen_dom0_qemu_config("bench-io-rxen", image, &assets, &[&scenario], "")?;
    rxen.timeout = timeout;
    let mut all = vec![IoSeries::new("rxen", rxen)];
    if !no_xen {
        let xen = harness::fetch_xen_hypervisor()?;
        let mut qemu = harness::xen_dom0_qemu_config("bench-io-xen", &xen, &assets, &[&scenario])?;
        qemu.timeout = timeout;
        all.push(IoSeries::new("Xen 4.17", qemu));
    }
    Ok(all)
}

fn figures_of(log: &str) -> Result<[f64; 4], String> {
    let disk = Regex::new(
        r"RXEN-DISK-BENCH dev=\S+ mib=(\d+) write_seconds=([\d.]+) read_seconds=([\d.]+)",
    )
    .unwrap();
    let c = disk.captures(log).ok_or("no disk figures")?;
    let mib: f64 = c[1].parse().unwrap();
    let rate = |secs: &str| -> Result<f64, String> {
        let s: f64 = secs.parse().map_err(|_| format!("bad time {secs}"))?;
        Ok(mib / s.max(0.01))
    };
    let (write, read) = (rate(&c[2])?, rate(&c[3])?);
    let sent = |to: &str| -> Result<f64, String> {
        let re = Regex::new(&format!(
            r"RXEN-NET-SENT to={to} bytes=(\d+) seconds=([\d.]+)"
        ))
        .unwrap();
        let c = re.captures(log).ok_or(format!("no transfer to {to}"))?;
        let bytes: f64 = c[1].parse().unwrap();
        let secs: f64 = c[2].parse().unwrap();
        Ok(bytes / f64::from(1u32 << 20) / secs.max(0.01))
    };
    if !log.contains("RXEN-SCENARIO-END iobench rc=0") {
        return Err("the iobench scenario failed".into());
    }
    Ok([write, read, sent("10.0.0.11")?, sent("10.0.0.1")?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_come_from_the_guests_lines() {
        let log = "RXEN-DOMU-CONSOLE io-disk: RXEN-DISK-BENCH dev=xvda mib=64 write_seconds=4.00 read_seconds=2.00\n\
                   RXEN-DOMU-CONSOLE net-b: RXEN-NET-SENT to=10.0.0.11 bytes=67108864 seconds=8.00\n\
                   RXEN-DOMU-CONSOLE net-b: RXEN-NET-SENT to=10.0.0.1 bytes=67108864 seconds=2.00\n\
                   RXEN-SCENARIO-END iobench rc=0\n";
        assert_eq!(figures_of(log).unwrap(), [16.0, 32.0, 8.0, 32.0]);
        assert!(figures_of(&log.replace("rc=0", "rc=1")).is_err());
        assert!(figures_of(&log.replace("to=10.0.0.1 ", "to=nowhere ")).is_err());
    }
}
