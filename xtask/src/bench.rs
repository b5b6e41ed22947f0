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
mod io;
mod save;
mod storm;
mod table;

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
    /// Leave out Xen.
    #[arg(long)]
    no_xen: bool,
    /// Skip the uncounted warm-up boot before the measured runs.
    #[arg(long)]
    no_warmup: bool,
    /// Leave out the dom0 part (the toolstack's start and `xl create`).
    #[arg(long)]
    no_dom0: bool,
    /// Leave out the boot storm (1, 4 and 16 domains at once).
    #[arg(long)]
    no_storm: bool,
    /// Leave out the disk and network transfers through dom0's back-ends.
    #[arg(long)]
    no_io: bool,
    /// Leave out xl save, restore and migrate.
    #[arg(long)]
    no_save: bool,
}

/// What is booted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Subject {
    Floor,
    Rxen,
    FloorGeneric,
    RxenGeneric,
    Xen,
    /// rxen with this many domains started together (see `storm`).
    Storm(u32),
}

impl Subject {
    fn label(self) -> String {
        match self {
            Subject::Floor => "floor (no hypervisor)".into(),
            Subject::Rxen => "rxen".into(),
            Subject::FloorGeneric => "floor, generic kernel".into(),
            Subject::RxenGeneric => "rxen, generic kernel".into(),
            Subject::Xen => "Xen 4.17 (PVH dom0)".into(),
            Subject::Storm(1) => "rxen, 1 domain".into(),
            Subject::Storm(n) => format!("rxen, {n} domains"),
        }
    }

    /// The log file's middle part: `bench-<slug>-<run>.log`.
    fn slug(self) -> String {
        match self {
            Subject::Floor => "floor".into(),
            Subject::Rxen => "rxen".into(),
            Subject::FloorGeneric => "floor-generic".into(),
            Subject::RxenGeneric => "rxen-generic".into(),
            Subject::Xen => "xen".into(),
            Subject::Storm(n) => format!("storm-{n}"),
        }
    }

    /// How many guests must print the marker in one run.
    fn markers(self) -> usize {
        match self {
            Subject::Storm(n) => n as usize,
            _ => 1,
        }
    }

    /// Whether a failure fails the bench (Xen is the reference).
    fn required(self) -> bool {
        !matches!(self, Subject::Xen)
    }

    /// The floor this subject is measured against (its own kernel's).
    fn floor(self) -> Subject {
        match self {
            Subject::Floor | Subject::Rxen => Subject::Floor,
            Subject::FloorGeneric | Subject::RxenGeneric | Subject::Xen => Subject::FloorGeneric,
            Subject::Storm(_) => Subject::Storm(1),
        }
    }
}

/// One configuration: how to boot it and what its runs gave.
pub(crate) struct Series {
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
        } else if r.log.matches(MARKER).count() < self.subject.markers() {
            Some(format!(
                "{} of {} {MARKER}s in the log: a guest never ran /init",
                r.log.matches(MARKER).count(),
                self.subject.markers()
            ))
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
    let mut io_series = if args.no_io {
        Vec::new()
    } else {
        io::series(
            &image,
            args.no_xen,
            Duration::from_secs(args.timeout.max(400)),
        )?
    };
    let mut save_series = if args.no_save {
        Vec::new()
    } else {
        save::series(
            &image,
            args.no_xen,
            Duration::from_secs(args.timeout.max(600)),
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

    series.push(rxen_series(Subject::Rxen, &image, &assets, None, &machine)?);
    let generic = harness::fetch_reference_kernel().context("fetching the generic kernel")?;
    series.push(Series::new(
        Subject::FloorGeneric,
        machine(floor_config(&generic.vmlinuz, &assets.initramfs)),
        Exit::PoweredOff,
    ));
    series.push(rxen_series(
        Subject::RxenGeneric,
        &image,
        &assets,
        Some(&generic.vmlinuz),
        &machine,
    )?);

    let mut xen_note = None;
    let mut xen_unavailable = None;
    if args.no_xen {
        xen_unavailable = Some("left out (--no-xen)".to_owned());
    } else {
        match prepare_xen(&generic, &assets.initramfs, args.xen_iso) {
            Ok(xen) => {
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

    let mut storms = if args.no_storm {
        Vec::new()
    } else {
        storm::series(&image, &assets, args.smp, timeout)?
    };
    eprintln!(
        "bench: preparation (prerequisites, build, guest assets) took {:.1} s; not in any figure",
        started.elapsed().as_secs_f64()
    );

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
        for s in &mut storms {
            s.run(run, args.runs)?;
        }
    }
    for run in 1..=args.runs {
        for s in &mut dom0_series {
            s.run(run, args.runs)?;
        }
    }
    let (io_measure, save_measure) = (io::measure(args.runs), save::measure(args.runs));
    for run in 1..=args.runs {
        for s in &mut io_series {
            s.run(&io_measure, run, args.runs)?;
        }
    }
    for run in 1..=args.runs {
        for s in &mut save_series {
            s.run(&save_measure, run, args.runs)?;
        }
    }

    report(
        &args,
        &series,
        xen_note.as_deref(),
        xen_unavailable.as_deref(),
    );
    storm::report(&storms, args.smp, args.runs);
    if !dom0_series.is_empty() {
        let floor = series
            .iter()
            .find(|s| s.subject == Subject::Floor)
            .and_then(Series::median);
        dom0::report(&dom0_series, args.runs, floor);
    }
    if !io_series.is_empty() {
        table::report(&io_measure, &io_series);
    }
    if !save_series.is_empty() {
        table::report(&save_measure, &save_series);
    }
    eprintln!("bench: done in {:.0} s", started.elapsed().as_secs_f64());
    let dom0_ok = dom0_series
        .iter()
        .filter(|s| s.is_rxen())
        .all(|s| !s.failed())
        && io_series
            .iter()
            .filter(|s| s.is_rxen())
            .all(|s| !s.failed())
        && save_series
            .iter()
            .filter(|s| s.is_rxen())
            .all(|s| !s.failed());
    Ok(dom0_ok
        && series
            .iter()
            .chain(&storms)
            .filter(|s| s.subject.required())
            .all(|s| s.failures.is_empty() && !s.times.is_empty()))
}

/// rxen with one 256 MiB domain of the cloud kernel, or of `kernel`.
fn rxen_series(
    subject: Subject,
    image: &std::path::Path,
    assets: &harness::GuestAssets,
    kernel: Option<&std::path::Path>,
    machine: &dyn Fn(QemuConfig) -> QemuConfig,
) -> Result<Series> {
    let mut domain = TestDomain::linux("bench", "marker");
    if let Some(kernel) = kernel {
        domain.kernel = kernel.to_string_lossy().into_owned();
    }
    let configs = harness::write_test_configs(&subject.slug(), std::slice::from_ref(&domain))?;
    let modules: Vec<Module> = harness::domain_modules(&configs, &assets.placeholders())?;
    Ok(Series::new(
        subject,
        machine(QemuConfig {
            cmdline: RXEN_CMDLINE.into(),
            modules,
            ..QemuConfig::new(
                format!("bench-{}", subject.slug()),
                Boot::Pvh {
                    image: image.to_path_buf(),
                },
            )
        }),
        Exit::Success,
    ))
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
    /// How it is booted, for the report.
    description: String,
}

fn prepare_xen(
    kernel: &harness::DebianKernel,
    initramfs: &std::path::Path,
    via_iso: bool,
) -> Result<XenSetup> {
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
    Ok(XenSetup { qemu, description })
}

/// Prints the table (stdout).
fn report(
    args: &BenchArgs,
    series: &[Series],
    xen_note: Option<&str>,
    xen_unavailable: Option<&str>,
) {
    let get = |subject| series.iter().find(|s: &&Series| s.subject == subject);
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
        let floor = get(s.subject.floor()).and_then(Series::median);
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

    let ratio = |a: Subject| -> Option<(f64, f64)> {
        let (a, b) = (get(a)?, get(a.floor())?);
        Some((a.median()? / b.median()?, a.min()? / b.min()?))
    };
    for (subject, kernel) in [(Subject::Rxen, "cloud"), (Subject::RxenGeneric, "generic")] {
        if let Some((median, min)) = ratio(subject) {
            let verdict = if median <= RXEN_TARGET_RATIO {
                "met"
            } else {
                "not met"
            };
            println!(
                "rxen/floor, {kernel} kernel: {median:.2}x (of mins {min:.2}x); target <= {RXEN_TARGET_RATIO}x: {verdict}"
            );
        }
    }
    if let Some((median, min)) = ratio(Subject::Xen) {
        println!("Xen/floor, generic kernel: {median:.2}x (of mins {min:.2}x)");
    }

    for subject in [Subject::Rxen, Subject::RxenGeneric] {
        if let Some(r) = get(subject).and_then(|s| s.first_good.as_ref()) {
            println!("{} (first good run):", subject.label());
            for line in build_and_exit_lines(&r.log) {
                println!("  {line}");
            }
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

/// rxen's build phases and the guest's exits, from its log: where the time
/// beyond the floor goes (the generic kernel probes more, so exits more).
fn build_and_exit_lines(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|line| line.contains("of RAM and the kernel ready in") || line.contains(" exits ("))
        .filter_map(|line| line.split_once("] ").map(|(_, rest)| rest.trim_end()))
        .collect()
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

/// One numbered boot of `qemu` (its log `<name>-<run>.log`).
fn boot_numbered(qemu: &QemuConfig, run: u32) -> Result<RunResult> {
    let cfg = QemuConfig {
        name: format!("{}-{run}", qemu.name),
        log_path: None,
        ..qemu.clone()
    };
    harness::run_qemu(&cfg)
}

/// Reports a run that does not count; the line for the summary.
fn failed_run(run: u32, problem: &str, r: &RunResult) -> String {
    let line = format!("run {run}: {problem}; log {}", r.log_path.display());
    eprintln!(
        "bench:   FAILED: {line}\n--- last lines ---\n{}\n---",
        r.tail(15)
    );
    line
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
    fn build_and_exit_lines_are_found_without_their_timestamps() {
        let log = "[    3.9] cpu0 d1: 256 MiB of RAM and the kernel ready in 3572 ms: p2m 3 ms\r\n\
                   [    5.9] (d1) [    1.49] Run /init as init process\r\n\
                   [    6.1] cpu0 d1v0: 2200 ms on CPU, 3522 exits (hypercall 1652, msr 184)\r\n";
        assert_eq!(
            build_and_exit_lines(log),
            [
                "cpu0 d1: 256 MiB of RAM and the kernel ready in 3572 ms: p2m 3 ms",
                "cpu0 d1v0: 2200 ms on CPU, 3522 exits (hypercall 1652, msr 184)"
            ]
        );
    }

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
