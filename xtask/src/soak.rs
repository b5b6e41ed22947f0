//! `cargo xtask soak`: the long hostile-input run. One dom0 boot (Debian's
//! generic kernel and Xen 4.17 toolstack) runs the `fuzz` scenario
//! (harness/src/dom0/manage.sh): the control-domain fuzzer in dom0 and the
//! guest fuzzer in a domU at the same time, beside a victim that checksums
//! its memory, a bystander that counts, and short-lived domains. CI runs a
//! 45-second round of the same scenario (tests/tests/dom0.rs).
//!
//! Printed: calls, seconds and calls per second for each side, and what was
//! found: results that are not Xen error codes, a corrupted or stalled
//! victim, a bystander that stopped, memory that did not come back,
//! hypervisor complaints, a panic.

use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Args;
use regex::Regex;
use rxen_harness::{self as harness, RunResult};

#[derive(Args)]
pub struct SoakArgs {
    /// Calls the control-domain fuzzer makes (in dom0).
    #[arg(long, default_value_t = 600_000)]
    dom0_calls: u64,
    /// Calls the guest fuzzer makes (in a domU), at the same time.
    #[arg(long, default_value_t = 400_000)]
    domu_calls: u64,
    /// Each side stops after this many seconds if its calls are not made.
    #[arg(long, default_value_t = 1500)]
    seconds: u64,
}

/// One side's `…-DONE` line.
struct Side {
    calls: u64,
    odd: u64,
    seconds: f64,
}

pub fn soak(args: SoakArgs) -> Result<bool> {
    let started = Instant::now();
    harness::ensure_prerequisites()?;
    let image = harness::build_hypervisor()?;
    let assets = harness::prepare_dom0_assets()?;
    let scenario = format!(
        "fuzz={}:{}:{}",
        args.seconds, args.dom0_calls, args.domu_calls
    );
    let mut qemu = harness::rxen_dom0_qemu_config("soak", &image, &assets, &[&scenario], "")?;
    qemu.timeout = Duration::from_secs(args.seconds + 900);
    // The serial log on this terminal: the fuzzers' progress lines come
    // every 10 000 calls.
    qemu.echo = true;
    eprintln!(
        "soak: {} calls from dom0 and {} from a domU ({} s at most each) ...",
        args.dom0_calls, args.domu_calls, args.seconds
    );
    let r = harness::run_qemu(&qemu)?;
    let found = report(&r);
    eprintln!(
        "soak: {:.0} s in all (with the build and dom0's boot)",
        started.elapsed().as_secs_f64()
    );
    if found.is_empty() {
        println!("soak: found nothing");
    } else {
        println!("soak: FOUND:\n  {}", found.join("\n  "));
    }
    println!("soak: serial log {}", r.log_path.display());
    Ok(found.is_empty())
}

/// Prints the figures; returns what went wrong.
fn report(r: &RunResult) -> Vec<String> {
    let mut found = Vec::new();
    let control = side(
        r,
        r"RXEN-CFUZZ-DONE calls=(\d+) .*odd=(\d+) seconds=([\d.]+)",
    );
    let guest = side(
        r,
        r"RXEN-FUZZ-DONE calls=(\d+) .*odd=(\d+) seconds=([\d.]+)",
    );
    let mut total = 0;
    for (name, s) in [
        ("dom0 (control domain)", &control),
        ("domU (guest)", &guest),
    ] {
        match s {
            Some(s) => {
                total += s.calls;
                println!(
                    "soak: {name}: {} calls in {:.1} s, {:.0} calls/s, {} not a Xen error code",
                    s.calls,
                    s.seconds,
                    s.calls as f64 / s.seconds.max(0.001),
                    s.odd
                );
                if s.odd != 0 {
                    found.push(format!(
                        "{name}: {} results that are not Xen error codes (RXEN-…FUZZ odd lines)",
                        s.odd
                    ));
                }
            }
            None => found.push(format!("{name}: the fuzzer did not finish")),
        }
    }
    println!("soak: {total} calls in all");
    match r.log.lines().find(|l| l.contains("RXEN-XL-FUZZ ")) {
        Some(line) => {
            let line = line.trim();
            println!("soak: {line}");
            for bad in ["victim=CORRUPTED", "victim=stalled", "running=no"] {
                if line.contains(bad) {
                    found.push(bad.to_owned());
                }
            }
            if let Some(c) = Regex::new(r"free0=(\d+) free1=(\d+)")
                .unwrap()
                .captures(line)
            {
                if c[1] != c[2] {
                    found.push(format!(
                        "free memory {} MiB before, {} MiB after",
                        &c[1], &c[2]
                    ));
                }
            }
        }
        None => found.push("no RXEN-XL-FUZZ line: the scenario did not finish".into()),
    }
    let complaints: Vec<&str> = r
        .log
        .lines()
        .filter(|l| l.contains(" rxen: ") && !l.contains("CONSOLE"))
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            l.contains("panic") || l.contains("fatal") || l.contains("warning")
        })
        .collect();
    found.extend(complaints.iter().map(|l| format!("rxen: {}", l.trim())));
    if !r.log.contains("RXEN-SCENARIO-END fuzz rc=0") {
        found.push("the fuzz scenario failed (RXEN-SCENARIO-END fuzz rc≠0)".into());
    }
    found
}

fn side(r: &RunResult, pattern: &str) -> Option<Side> {
    let re = Regex::new(pattern).unwrap();
    let c = re.captures(&r.log)?;
    Some(Side {
        calls: c[1].parse().ok()?,
        odd: c[2].parse().ok()?,
        seconds: c[3].parse().ok()?,
    })
}
