//! A dom0 benchmark of several figures per boot (the I/O and the save
//! parts): each configuration's runs, and the table of their medians with
//! the rxen/Xen ratio of each figure.

use anyhow::Result;
use rxen_harness::{Exit, QemuConfig, RunResult};

use super::{boot_numbered, failed_run, median};

/// What a benchmark measures: its figures' headings, how a run's log gives
/// them, and how the table is introduced.
pub struct Measure<const N: usize> {
    /// What a run does, for the progress line ("disk and network transfers").
    pub what: &'static str,
    pub headings: [&'static str; N],
    /// The figures of a run's log, or why the run does not count.
    pub parse: fn(&str) -> Result<[f64; N], String>,
    /// The table's title line.
    pub title: String,
    /// After the ratios: what they should be.
    pub aim: &'static str,
}

/// Boots per run: a run that fails is booted again, twice at most. Under
/// this QEMU the emulator fault and, on Xen, dying dom0 processes and
/// triple faults of dom0 strike now and then (docs/design.md); every boot
/// that failed is reported beside the table.
const BOOTS_PER_RUN: u32 = 3;

/// One configuration (rxen, or Xen) and what its runs gave.
pub struct FigureSeries<const N: usize> {
    label: &'static str,
    qemu: QemuConfig,
    /// Per figure, one value per run.
    figures: [Vec<f64>; N],
    /// Runs that gave no figures in any of their boots.
    failures: Vec<String>,
    /// Boots that failed and were booted again.
    retried: Vec<String>,
}

impl<const N: usize> FigureSeries<N> {
    pub fn new(label: &'static str, qemu: QemuConfig) -> Self {
        Self {
            label,
            qemu,
            figures: std::array::from_fn(|_| Vec::new()),
            failures: Vec::new(),
            retried: Vec::new(),
        }
    }

    /// Boots it until it gives its figures ([`BOOTS_PER_RUN`] at most); a
    /// failed run is recorded, not returned.
    pub fn run(&mut self, measure: &Measure<N>, run: u32, runs: u32) -> Result<()> {
        eprintln!(
            "bench: run {run}/{runs} of the {} {} ...",
            self.label, measure.what
        );
        for boot in 1..=BOOTS_PER_RUN {
            let name = match boot {
                1 => self.qemu.name.clone(),
                n => format!("{}-boot{n}", self.qemu.name),
            };
            let qemu = QemuConfig {
                name,
                ..self.qemu.clone()
            };
            let r = boot_numbered(&qemu, run)?;
            match figures(&r, measure.parse) {
                Ok(f) => {
                    self.record(measure, f);
                    return Ok(());
                }
                Err(problem) if boot < BOOTS_PER_RUN => {
                    let line = failed_run(run, &problem, &r);
                    eprintln!("bench:   booting run {run} again");
                    self.retried.push(line);
                }
                Err(problem) => self.failures.push(failed_run(run, &problem, &r)),
            }
        }
        Ok(())
    }

    fn record(&mut self, measure: &Measure<N>, f: [f64; N]) {
        let shown: Vec<String> = measure
            .headings
            .iter()
            .zip(f)
            .map(|(h, v)| format!("{h} {v:.1}"))
            .collect();
        eprintln!("bench:   {}", shown.join(", "));
        for (all, v) in self.figures.iter_mut().zip(f) {
            all.push(v);
        }
    }

    pub fn is_rxen(&self) -> bool {
        self.label == "rxen"
    }

    pub fn failed(&self) -> bool {
        !self.failures.is_empty() || self.figures[0].is_empty()
    }
}

fn figures<const N: usize>(
    r: &RunResult,
    parse: fn(&str) -> Result<[f64; N], String>,
) -> Result<[f64; N], String> {
    if r.exit != Exit::Success && r.exit != Exit::PoweredOff {
        return Err(format!("QEMU {}", r.exit));
    }
    parse(&r.log)
}

/// The table: medians per figure and the rxen/Xen ratios.
pub fn report<const N: usize>(measure: &Measure<N>, series: &[FigureSeries<N>]) {
    println!();
    println!("{}", measure.title);
    print!("  {:<10}", "");
    for heading in measure.headings {
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
        println!("   ({})", measure.aim);
    }
    for s in series {
        for f in &s.retried {
            println!("booted again: {} {}: {f}", s.label, measure.what);
        }
        for f in &s.failures {
            println!("FAILED {} {}: {f}", s.label, measure.what);
        }
    }
}
