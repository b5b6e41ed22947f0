//! The boot storm: 1, 4 and 16 domains of 128 MiB (the cloud kernel and the
//! test initramfs) in one rxen, started together on the machine's CPUs, and
//! the time until the last has powered off — against the time of one
//! domain alone times how many there are, shared by the CPUs.

use std::time::Duration;

use anyhow::Result;
use rxen_harness::{self as harness, Boot, Exit, Module, QemuConfig, TestDomain};

use super::{Series, Subject, RXEN_CMDLINE};

/// How many domains each storm starts.
pub(super) const SIZES: [u32; 3] = [1, 4, 16];
/// The machine's RAM for every storm (16 × 128 MiB fit with room to spare).
const MEMORY_MIB: u32 = 4096;
const DOMAIN_MIB: u64 = 128;
/// The aim: the largest storm within 1.2× of the ideal.
const TARGET_RATIO: f64 = 1.2;

/// One series per storm size.
pub(super) fn series(
    image: &std::path::Path,
    assets: &harness::GuestAssets,
    smp: u32,
    timeout: Duration,
) -> Result<Vec<Series>> {
    SIZES
        .iter()
        .map(|&n| storm_series(n, image, assets, smp, timeout))
        .collect()
}

fn storm_series(
    n: u32,
    image: &std::path::Path,
    assets: &harness::GuestAssets,
    smp: u32,
    timeout: Duration,
) -> Result<Series> {
    let subject = Subject::Storm(n);
    let domains: Vec<TestDomain> = (1..=n)
        .map(|i| TestDomain {
            memory_mib: DOMAIN_MIB,
            ..TestDomain::linux(&format!("storm{i}"), "marker")
        })
        .collect();
    let configs = harness::write_test_configs(&subject.slug(), &domains)?;
    let modules: Vec<Module> = harness::domain_modules(&configs, &assets.placeholders())?;
    let qemu = QemuConfig {
        cmdline: RXEN_CMDLINE.into(),
        modules,
        smp,
        memory_mib: MEMORY_MIB,
        timeout,
        ..QemuConfig::new(
            format!("bench-{}", subject.slug()),
            Boot::Pvh {
                image: image.to_path_buf(),
            },
        )
    };
    Ok(Series::new(subject, qemu, Exit::Success))
}

/// Prints the storm table (stdout).
pub(super) fn report(storms: &[Series], smp: u32, runs: u32) {
    if storms.is_empty() {
        return;
    }
    println!();
    println!(
        "boot storm: N domains of {DOMAIN_MIB} MiB (cloud kernel) started together, smp {smp}, {MEMORY_MIB} MiB; power-on to the last one's power-off, median of {runs}:"
    );
    println!(
        "  {:<26} {:>8} {:>8} {:>8}",
        "", "median", "ideal", "/ideal"
    );
    let one = storms
        .iter()
        .find(|s| s.subject == Subject::Storm(1))
        .and_then(Series::median);
    let mut largest = None;
    for s in storms {
        let Subject::Storm(n) = s.subject else {
            continue;
        };
        let ideal = one.map(|t| ideal_secs(t, n, smp));
        match (s.median(), ideal) {
            (Some(median), Some(ideal)) => {
                println!(
                    "  {:<26} {median:>6.2} s {ideal:>6.2} s {:>7.2}x",
                    s.subject.label(),
                    median / ideal
                );
                largest = Some((n, median / ideal));
            }
            (Some(median), None) => {
                println!("  {:<26} {median:>6.2} s {:>8}", s.subject.label(), "-")
            }
            _ => println!("  {:<26} {:>8}", s.subject.label(), "FAILED"),
        }
    }
    if let Some((n, ratio)) = largest {
        let verdict = if ratio <= TARGET_RATIO {
            "met"
        } else {
            "not met"
        };
        println!(
            "storm of {n}: {ratio:.2}x the ideal ({n} x one domain / {smp} CPUs); target <= {TARGET_RATIO}x: {verdict}"
        );
    }
}

/// What `n` domains would take if they shared the CPUs perfectly, given
/// that one alone takes `one` seconds (a domain has one vCPU, so fewer
/// domains than CPUs cannot go faster than one).
fn ideal_secs(one: f64, n: u32, smp: u32) -> f64 {
    (one * f64::from(n) / f64::from(smp.max(1))).max(one)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ideal_is_the_cpus_shared_but_never_below_one_domain() {
        assert_eq!(ideal_secs(3.0, 1, 2), 3.0);
        assert_eq!(ideal_secs(3.0, 4, 2), 6.0);
        assert_eq!(ideal_secs(3.0, 16, 2), 24.0);
        assert_eq!(ideal_secs(3.0, 16, 0), 48.0);
    }
}
