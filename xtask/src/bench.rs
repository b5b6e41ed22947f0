//! `cargo xtask bench`: how long a Linux guest takes from power-on to its
//! `/init` and back to power-off, with no hypervisor (the floor), on rxen and
//! on real Xen 4.17, in the same QEMU machine; and how much memory rxen keeps.
//!
//! Every configuration is timed from QEMU's start until QEMU exits, which it
//! does when the machine powers off (`-no-reboot` also turns a reboot into
//! an exit). The guest is always the test initramfs with
//! `rxen.test=marker`: its `/init` prints `RXEN-MARKER …` and runs
//! `poweroff -f`; a run counts only if the marker is in its serial log.
//!
//! * floor: QEMU boots the Debian cloud kernel directly (`-kernel`, `-initrd`,
//!   console on ttyS0); the guest's ACPI power-off ends QEMU;
//! * rxen: one 256 MiB, 1-vCPU domain of the same kernel; rxen powers off
//!   (debug-exit) when the domain is gone;
//! * Xen 4.17: Debian's generic kernel (Xen's dom0 support; the cloud
//!   kernel has none) as a PVH dom0 with `dom0_mem=512M`; dom0's power-off
//!   powers the machine off. Xen also needs `-device amd-iommu`. Because its
//!   kernel differs, the generic kernel's own floor is measured too.
//!
//! The runs are interleaved (floor, rxen, Xen, floor, …) so that a slow
//! moment of the host does not land on one configuration only. Each run's
//! serial log is kept as `target/qemu-logs/bench-<what>-<n>.log`.

mod dom0;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use rxen_harness::{self as harness, Boot, Exit, Module, QemuConfig, RunResult, TestDomain};

/// The /init marker every measured guest must print.
const MARKER: &str = "RXEN-MARKER";
/// The floor's kernel command line (no hypervisor: console on COM1).
const FLOOR_CMDLINE: &str = "console=ttyS0 rxen.test=marker";
/// Xen's dom0 command line.
const DOM0_CMDLINE: &str = "console=hvc0 rxen.test=marker";
/// rxen's command line, as the integration tests use it.
const RXEN_CMDLINE: &str = "debug_exit loglvl=info";
/// The targets of the issue.
const RXEN_TARGET_RATIO: f64 = 1.3;
const HYPERVISOR_TARGET_KIB: u64 = 16 * 1024;
const DOMAIN_OVERHEAD_TARGET_KIB: u64 = 64;

#[derive(Args)]
pub struct BenchArgs {
    /// How many times each configuration is booted (median and min reported).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
    /// Machine RAM in MiB (every configuration).
    #[arg(long, default_value_t = 2048)]
    memory: u32,
    /// Machine CPUs (every configuration).
    #[arg(long, default_value_t = 2)]
    smp: u32,
    /// Seconds until one QEMU run is killed.
    #[arg(long, default_value_t = 180)]
    timeout: u64,
    /// Boot Xen through a GRUB ISO (Multiboot2, xen.gz) instead of QEMU's
    /// `-kernel` (Multiboot1, the decompressed ELF; the same firmware path as
    /// the floor's and rxen's direct boot).
    #[arg(long)]
    xen_iso: bool,
    /// Leave out Xen (and the generic kernel's floor).
    #[arg(long)]
    no_xen: bool,
    /// Skip the uncounted warm-up boot before the measured runs.
    #[arg(long)]
    no_warmup: bool,
    /// Leave out the dom0 part (the toolstack's start and `xl create`).
    #[arg(long)]
    no_dom0: bool,
}

/// What is booted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Subject {
    Floor,
    Rxen,
    FloorGeneric,
    Xen,
}

impl Subject {
    fn label(self) -> &'static str {
        match self {
            Subject::Floor => "floor (no hypervisor)",
            Subject::Rxen => "rxen",
            Subject::FloorGeneric => "floor, generic kernel",
            Subject::Xen => "Xen 4.17 (PVH dom0)",
        }
    }

    /// The log file's middle part: `bench-<slug>-<run>.log`.
    fn slug(self) -> &'static str {
        match self {
            Subject::Floor => "floor",
            Subject::Rxen => "rxen",
            Subject::FloorGeneric => "floor-generic",
            Subject::Xen => "xen",
        }
    }

    /// Whether a failure fails the bench (Xen and its floor are references).
    fn required(self) -> bool {
        matches!(self, Subject::Floor | Subject::Rxen)
    }
}

/// One configuration: how to boot it and what its runs gave.
struct Series {
    subject: Subject,
    /// The run's QEMU configuration, without name and log path.
    qemu: QemuConfig,
    /// How QEMU must end for the run to count.
    expected_exit: Exit,
    /// Seconds of the good runs.
    times: Vec<f64>,
    /// One line per failed run.
    failures: Vec<String>,
    /// The first good run (rxen's memory figures come from it).
    first_good: Option<RunResult>,
}

impl Series {
    fn new(subject: Subject, qemu: QemuConfig, expected_exit: Exit) -> Self {
        Self {
            subject,
            qemu,
            expected_exit,
            times: Vec::new(),
            failures: Vec::new(),
            first_good: None,
        }
    }

    fn run(&mut self, run: u32, runs: u32) -> Result<()> {
        let name = format!("bench-{}-{run}", self.subject.slug());
        eprintln!(
            "bench: run {run}/{runs} of {} ...",
            self.subject.label().trim_end()
        );
        let cfg = QemuConfig {
            name: name.clone(),
            log_path: None,
            ..self.qemu.clone()
        };
        let r = harness::run_qemu(&cfg)?;
        let secs = r.elapsed.as_secs_f64();
        let problem = if r.exit != self.expected_exit {
            Some(format!(
                "QEMU {} (expected: {})",
                r.exit, self.expected_exit
            ))
        } else if !r.log.contains(MARKER) {
            Some(format!("no {MARKER} in the log: the guest never ran /init"))
        } else {
            None
        };
        match problem {
            None => {
                eprintln!("bench:   {secs:.2} s (log {})", r.log_path.display());
                self.times.push(secs);
                if self.first_good.is_none() {
                    self.first_good = Some(r);
                }
            }
            Some(problem) => {
                let line = format!(
                    "run {run}: {problem} after {secs:.1} s; log {}",
                    r.log_path.display()
                );
                eprintln!(
                    "bench:   FAILED: {line}\n--- last lines ---\n{}\n---",
                    r.tail(15)
                );
                self.failures.push(line);
            }
        }
        Ok(())
    }

    fn median(&self) -> Option<f64> {
        median(&self.times)
    }

    fn min(&self) -> Option<f64> {
        self.times.iter().copied().reduce(f64::min)
    }
}

/// Runs the benchmark; `Ok(false)` when the floor or rxen failed.
pub fn bench(args: BenchArgs) -> Result<bool> {
    let started = Instant::now();
    eprintln!("bench: checking prerequisites ...");
    harness::ensure_prerequisites()?;
    let image = harness::build_hypervisor()?;
    let assets = harness::prepare_guest_assets()?;
    let mut dom0_series = if args.no_dom0 {
        Vec::new()
    } else {
        dom0::series(
            &image,
            args.no_xen,
            Duration::from_secs(args.timeout.max(300)),
        )?
    };
    let timeout = Duration::from_secs(args.timeout);
    let machine = |cfg: QemuConfig| QemuConfig {
        smp: args.smp,
        memory_mib: args.memory,
        timeout,
        ..cfg
    };

    let mut series = vec![Series::new(
        Subject::Floor,
        machine(floor_config(
            &assets.cloud_kernel.vmlinuz,
            &assets.initramfs,
        )),
        Exit::PoweredOff,
    )];

    let domain = TestDomain::linux("bench", "marker");
    let configs = harness::write_test_configs("bench", std::slice::from_ref(&domain))?;
    let modules: Vec<Module> = harness::domain_modules(&configs, &assets.placeholders())?;
    series.push(Series::new(
        Subject::Rxen,
        machine(QemuConfig {
            cmdline: RXEN_CMDLINE.into(),
            modules,
            ..QemuConfig::new("bench-rxen", Boot::Pvh { image })
        }),
        Exit::Success,
    ));

    let mut xen_note = None;
    let mut xen_unavailable = None;
    if args.no_xen {
        xen_unavailable = Some("left out (--no-xen)".to_owned());
    } else {
        match prepare_xen(&assets.initramfs, args.xen_iso) {
            Ok(xen) => {
                series.push(Series::new(
                    Subject::FloorGeneric,
                    machine(floor_config(&xen.kernel, &assets.initramfs)),
                    Exit::PoweredOff,
                ));
                series.push(Series::new(
                    Subject::Xen,
                    machine(xen.qemu),
                    Exit::PoweredOff,
                ));
                xen_note = Some(xen.description);
            }
            Err(e) => {
                eprintln!("bench: Xen cannot be run: {e:#}");
                xen_unavailable = Some(format!("cannot be run: {e:#}"));
            }
        }
    }

    // The first QEMU start after a while is slower (cold caches): one boot
    // of the floor that is not counted.
    if !args.no_warmup {
        eprintln!("bench: warm-up boot of the floor (not counted) ...");
        let warmup = QemuConfig {
            name: "bench-warmup".into(),
            ..series[0].qemu.clone()
        };
        let r = harness::run_qemu(&warmup)?;
        eprintln!("bench:   {:.2} s, {}", r.elapsed.as_secs_f64(), r.exit);
    }
    for run in 1..=args.runs {
        for s in &mut series {
            s.run(run, args.runs)?;
        }
    }
    for run in 1..=args.runs {
        for s in &mut dom0_series {
            s.run(run, args.runs)?;
        }
    }

    report(
        &args,
        &series,
        xen_note.as_deref(),
        xen_unavailable.as_deref(),
    );
    if !dom0_series.is_empty() {
        let floor = series
            .iter()
            .find(|s| s.subject == Subject::Floor)
            .and_then(Series::median);
        dom0::report(&dom0_series, args.runs, floor);
    }
    eprintln!("bench: done in {:.0} s", started.elapsed().as_secs_f64());
    let dom0_ok = dom0_series
        .iter()
        .filter(|s| s.is_rxen())
        .all(|s| !s.failed());
    Ok(dom0_ok
        && series
            .iter()
            .filter(|s| s.subject.required())
            .all(|s| s.failures.is_empty() && !s.times.is_empty()))
}

/// A kernel booted by QEMU itself with the test initramfs.
fn floor_config(kernel: &std::path::Path, initramfs: &std::path::Path) -> QemuConfig {
    QemuConfig {
        // `Boot::Pvh` is QEMU's `-kernel`; for a bzImage QEMU uses its
        // Linux boot protocol.
        cmdline: FLOOR_CMDLINE.into(),
        extra_qemu_args: vec!["-initrd".into(), initramfs.to_string_lossy().into_owned()],
        ..QemuConfig::new(
            "bench-floor",
            Boot::Pvh {
                image: kernel.to_path_buf(),
            },
        )
    }
}

/// Xen, ready to boot.
struct XenSetup {
    qemu: QemuConfig,
    /// The dom0 kernel (for the generic kernel's floor).
    kernel: PathBuf,
    /// How it is booted, for the report.
    description: String,
}

fn prepare_xen(initramfs: &std::path::Path, via_iso: bool) -> Result<XenSetup> {
    let kernel = harness::fetch_reference_kernel().context("fetching the generic kernel")?;
    let xen = harness::fetch_xen_hypervisor()?;
    eprintln!(
        "bench: Xen {} ({}), dom0 kernel {} ({})",
        xen.version,
        xen.gz.display(),
        kernel.package,
        kernel.version
    );
    let dom0 = harness::XenDom0 {
        kernel: kernel.vmlinuz.clone(),
        cmdline: DOM0_CMDLINE.into(),
        initrd: initramfs.to_path_buf(),
    };
    let (loader, description) = if via_iso {
        let iso: PathBuf = harness::target_dir().join("xen-reference.iso");
        harness::build_xen_iso(&xen, harness::XEN_CMDLINE, &dom0, &iso)?;
        let description = format!(
            "Xen {} booted by GRUB (Multiboot2) from {}: multiboot2 /boot/xen.gz {} / module2 /boot/vmlinuz {} / module2 /boot/initrd; QEMU {}",
            xen.version,
            iso.display(),
            harness::XEN_CMDLINE,
            dom0.cmdline,
            harness::XEN_QEMU_ARGS.join(" ")
        );
        (harness::XenLoader::Grub { iso }, description)
    } else {
        let description = format!(
            "Xen {} booted by QEMU's Multiboot1 loader: -kernel {} -append \"{}\" -initrd \"{}\" {}",
            xen.version,
            xen.elf.display(),
            harness::XEN_CMDLINE,
            harness::multiboot_modules_arg(&dom0)?,
            harness::XEN_QEMU_ARGS.join(" ")
        );
        (harness::XenLoader::Multiboot, description)
    };
    let qemu = harness::xen_qemu_config("bench-xen", &xen, harness::XEN_CMDLINE, &dom0, &loader)?;
    Ok(XenSetup {
        qemu,
        kernel: dom0.kernel,
        description,
    })
}

/// Prints the table (stdout).
fn report(
    args: &BenchArgs,
    series: &[Series],
    xen_note: Option<&str>,
    xen_unavailable: Option<&str>,
) {
    let floor = series
        .iter()
        .find(|s| s.subject == Subject::Floor)
        .and_then(Series::median);
    println!();
    println!(
        "boot to /init and power-off (QEMU TCG, q35, EPYC,-monitor,-rdtscp, smp {}, {} MiB), median of {}:",
        args.smp, args.memory, args.runs
    );
    println!("  {:<26} {:>8} {:>8} {:>8}", "", "median", "min", "/floor");
    for s in series {
        let label = s.subject.label();
        let failed = if s.failures.is_empty() {
            String::new()
        } else {
            format!("   ({} of {} runs FAILED)", s.failures.len(), args.runs)
        };
        match (s.median(), s.min()) {
            (Some(median), Some(min)) => {
                let ratio = floor.map_or("-".to_owned(), |f| format!("{:.2}x", median / f));
                println!("  {label:<26} {median:>6.2} s {min:>6.2} s {ratio:>8}{failed}");
            }
            _ => println!("  {label:<26} {:>8}{failed}", "FAILED"),
        }
    }
    if let Some(why) = xen_unavailable {
        println!("  {:<26} {why}", Subject::Xen.label());
    }

    let get = |subject| series.iter().find(|s| s.subject == subject);
    let ratio = |a: Subject, b: Subject| -> Option<(f64, f64)> {
        let (a, b) = (get(a)?, get(b)?);
        Some((a.median()? / b.median()?, a.min()? / b.min()?))
    };
    if let Some((median, min)) = ratio(Subject::Rxen, Subject::Floor) {
        let verdict = if median < RXEN_TARGET_RATIO {
            "met"
        } else {
            "not met"
        };
        println!(
            "rxen/floor {median:.2}x (of mins {min:.2}x); target < {RXEN_TARGET_RATIO}x: {verdict}"
        );
    }
    if let Some((median, min)) = ratio(Subject::Xen, Subject::Floor) {
        print!("Xen/floor {median:.2}x (of mins {min:.2}x)");
        match ratio(Subject::Xen, Subject::FloorGeneric) {
            Some((g, _)) => println!("; against its own (generic) kernel's floor {g:.2}x"),
            None => println!(),
        }
    }

    match get(Subject::Rxen).and_then(|s| s.first_good.as_ref()) {
        Some(r) => println!("{}", memory_line(&r.log)),
        None => println!("memory: no successful rxen run to read it from"),
    }

    println!(
        "notes: rxen's domain: 256 MiB, 1 vCPU, `{}`;",
        TestDomain::linux("bench", "marker").extra
    );
    if let Some(note) = xen_note {
        println!("  {note};");
        println!("  dom0 gets all {} CPUs and 512 MiB.", args.smp);
    }
    for s in series.iter().filter(|s| !s.failures.is_empty()) {
        for f in &s.failures {
            println!("FAILED {}: {f}", s.subject.label());
        }
    }
}

/// The memory sentence of the report, from rxen's boot log.
fn memory_line(log: &str) -> String {
    let hypervisor = match hypervisor_kib(log) {
        Some(kib) => {
            let verdict = if kib < HYPERVISOR_TARGET_KIB {
                "met"
            } else {
                "NOT met"
            };
            format!(
                "rxen keeps {:.1} MiB (target < {} MiB: {verdict})",
                kib as f64 / 1024.0,
                HYPERVISOR_TARGET_KIB / 1024
            )
        }
        None => "rxen's own memory not found in its log (no `hypervisor H KiB`)".to_owned(),
    };
    let domain = match domain_overhead_kib(log) {
        Some(kib) => {
            let verdict = if kib < DOMAIN_OVERHEAD_TARGET_KIB {
                "met"
            } else {
                "NOT met"
            };
            format!(
                "per domain {kib} KiB beyond guest RAM (target < {DOMAIN_OVERHEAD_TARGET_KIB} KiB: {verdict})"
            )
        }
        None => format!(
            "per-domain overhead not reported by this rxen (no `, overhead K KiB` in the `started` line; target < {DOMAIN_OVERHEAD_TARGET_KIB} KiB)"
        ),
    };
    format!("memory: {hypervisor}; {domain}")
}

/// `rxen: memory total T MiB, free F MiB, hypervisor H KiB` → H.
fn hypervisor_kib(log: &str) -> Option<u64> {
    log.lines()
        .filter(|line| line.contains("rxen: memory total"))
        .find_map(|line| size_after(line, "hypervisor "))
}

/// `rxen: dN 'NAME' started: M MiB, …, overhead K KiB` → K (the first domain).
fn domain_overhead_kib(log: &str) -> Option<u64> {
    log.lines()
        .filter(|line| line.contains("rxen: d") && line.contains("' started: "))
        .find_map(|line| size_after(line, "overhead "))
}

/// The size right after `key` in `line` (`N KiB`, `N MiB` or `N bytes`/`N B`),
/// in KiB, rounded up.
fn size_after(line: &str, key: &str) -> Option<u64> {
    let rest = &line[line.find(key)? + key.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let n: u64 = digits.parse().ok()?;
    let unit = rest[digits.len()..].trim_start();
    if unit.starts_with("KiB") {
        Some(n)
    } else if unit.starts_with("MiB") {
        Some(n * 1024)
    } else if unit.starts_with("bytes") || unit.starts_with('B') {
        Some(n.div_ceil(1024))
    } else {
        None
    }
}

fn median(times: &[f64]) -> Option<f64> {
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }

    #[test]
    fn memory_figures() {
        let log =
            "[    0.12] cpu0 rxen: memory total 2047 MiB, free 2021 MiB, hypervisor 9552 KiB\n\
                   [    1.31] cpu0 rxen: d1 'd1' started: 256 MiB, 1 vCPU(s), kernel k0-vmlinuz\n";
        assert_eq!(hypervisor_kib(log), Some(9552));
        assert_eq!(domain_overhead_kib(log), None);
        let line = memory_line(log);
        assert!(
            line.contains("rxen keeps 9.3 MiB (target < 16 MiB: met)"),
            "{line}"
        );
        assert!(line.contains("not reported"), "{line}");

        let log = "rxen: d1 'web' started: 256 MiB, 1 vCPU(s), kernel k0, overhead 60 KiB\n\
                   rxen: d2 'b' started: 256 MiB, 1 vCPU(s), kernel k0, overhead 2 MiB\n";
        assert_eq!(domain_overhead_kib(log), Some(60));
        assert!(
            memory_line(log).contains("per domain 60 KiB beyond guest RAM (target < 64 KiB: met)")
        );
        assert_eq!(size_after("overhead 1025 bytes", "overhead "), Some(2));
        assert_eq!(size_after("overhead x KiB", "overhead "), None);
    }
}
