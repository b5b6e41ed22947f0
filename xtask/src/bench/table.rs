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

/// One configuration (rxen, or Xen) and what its runs gave.
pub struct FigureSeries<const N: usize> {
    label: &'static str,
    qemu: QemuConfig,
    /// Per figure, one value per run.
    figures: [Vec<f64>; N],
    failures: Vec<String>,
}

impl<const N: usize> FigureSeries<N> {
    pub fn new(label: &'static str, qemu: QemuConfig) -> Self {
        Self {
            label,
            qemu,
            figures: std::array::from_fn(|_| Vec::new()),
            failures: Vec::new(),
        }
    }

    /// Boots it once; a failed run is recorded, not returned.
    pub fn run(&mut self, measure: &Measure<N>, run: u32, runs: u32) -> Result<()> {
        eprintln!(
            "bench: run {run}/{runs} of the {} {} ...",
            self.label, measure.what
        );
        let r = boot_numbered(&self.qemu, run)?;
        match figures(&r, measure.parse) {
            Ok(f) => {
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
        for f in &s.failures {
            println!("FAILED {} {}: {f}", s.label, measure.what);
        }
    }
}
