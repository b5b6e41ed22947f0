//! `cargo xtask`: the project's build, run and test commands.
//!
//! Everything a developer or CI does goes through here, so that one command
//! installs what is missing, builds the image with the right flags and boots
//! it the same way the integration tests do.

mod bench;
mod soak;

use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use rxen_harness::{self as harness, Boot, Module, QemuConfig};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Build, boot and test the rxen hypervisor"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Install prerequisites and build the hypervisor image.
    Build,
    /// Build the hypervisor and boot it in QEMU, console on this terminal.
    Run(RunArgs),
    /// Build a bootable GRUB ISO for a real machine (by default with the
    /// demo dom0, as `run` boots it).
    Iso {
        /// Default: target/rxen.iso.
        #[arg(long)]
        out: Option<PathBuf>,
        /// A boot module, NAME=PATH; repeatable.
        #[arg(long = "module", value_name = "NAME=PATH")]
        modules: Vec<Module>,
        #[command(flatten)]
        dom0: Dom0Args,
        /// The hypervisor command line (default `loglvl=info`).
        #[arg(last = true)]
        cmdline: Vec<String>,
    },
    /// Host unit tests, then the QEMU integration tests (what CI runs).
    Test,
    /// Fetch the guest kernels and build the test initramfs; print their paths.
    Assets,
    /// Boot time to /init and power-off: no hypervisor, rxen, Xen 4.17; rxen's memory.
    Bench(bench::BenchArgs),
    /// The long hostile-input run: 10^6 fuzzed hypercalls from dom0 and a
    /// domU at once, beside a victim and a bystander; prints calls per
    /// second and what was found.
    Soak(soak::SoakArgs),
}

/// Which control domain to boot.
#[derive(Args, Clone, Default)]
struct Dom0Args {
    /// A dom0 kernel of your own (Debian's generic kernel, say) instead of
    /// the demo dom0.
    #[arg(long, value_name = "KERNEL")]
    dom0: Option<PathBuf>,
    /// Its initrd.
    #[arg(long, value_name = "FILE", requires = "dom0")]
    dom0_ramdisk: Option<PathBuf>,
    /// Its command line (default `console=hvc0`).
    #[arg(long, value_name = "ARGS", requires = "dom0")]
    dom0_args: Option<String>,
    /// The demo dom0 with a root shell on its console instead of the demo.
    #[arg(long, conflicts_with = "dom0")]
    dom0_shell: bool,
    /// No control domain: the old demo, boot-time domains only.
    #[arg(long, conflicts_with_all = ["dom0", "dom0_shell"])]
    dom0less: bool,
}

/// The dom0's boot modules the options ask for (`None`: no dom0).
fn dom0_modules(args: &Dom0Args, with_domains: bool) -> Result<Option<Vec<Module>>> {
    if args.dom0less {
        return Ok(None);
    }
    if let Some(kernel) = &args.dom0 {
        let cmdline = args
            .dom0_args
            .clone()
            .unwrap_or_else(|| "console=hvc0".into());
        let mut modules = vec![Module::with_cmdline("dom0-kernel", kernel, cmdline)?];
        if let Some(ramdisk) = &args.dom0_ramdisk {
            modules.push(Module::new("dom0-initrd", ramdisk)?);
        }
        return Ok(Some(modules));
    }
    // Boot-time domains given alone run without dom0, as before.
    if with_domains && !args.dom0_shell {
        return Ok(None);
    }
    let scenario = if args.dom0_shell { "shell" } else { "demo" };
    eprintln!("xtask: booting the demo dom0 (Debian's generic kernel and Xen 4.17 toolstack, scenario '{scenario}')");
    let assets = harness::prepare_dom0_assets()?;
    Ok(Some(harness::dom0_boot_modules(
        &assets,
        &harness::dom0_cmdline(&[scenario], ""),
    )?))
}

#[derive(Args)]
struct RunArgs {
    #[arg(long, default_value_t = 2)]
    smp: u32,
    /// Machine RAM in MiB.
    #[arg(long, default_value_t = 2048)]
    memory: u32,
    /// Seconds until QEMU is killed.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
    /// Where to keep the serial log (default target/qemu-logs/run.log).
    #[arg(long)]
    log: Option<PathBuf>,
    /// Boot through GRUB (Multiboot2) from an ISO instead of PVH.
    #[arg(long)]
    iso: bool,
    /// A boot module, NAME=PATH; repeatable.
    #[arg(long = "module", value_name = "NAME=PATH")]
    modules: Vec<Module>,
    /// A boot-time domain configuration (xl.cfg); repeatable. Without a
    /// dom0 option these run alone (dom0-less). Its kernel/ramdisk paths are
    /// host paths (relative to the file) or
    /// @debian-cloud-kernel@/@rxen-initramfs@.
    #[arg(long = "domain", value_name = "FILE", conflicts_with = "no_domains")]
    domains: Vec<PathBuf>,
    /// Boot the hypervisor without any domain (no demo).
    #[arg(long)]
    no_domains: bool,
    #[command(flatten)]
    dom0: Dom0Args,
    /// More hypervisor command line, after `debug_exit loglvl=info`.
    #[arg(last = true)]
    cmdline: Vec<String>,
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Cmd::Build => build().map(|image| {
            println!("xtask: hypervisor image: {}", image.display());
            true
        }),
        Cmd::Run(args) => run(args),
        Cmd::Iso {
            out,
            modules,
            dom0,
            cmdline,
        } => iso(out, &modules, &dom0, &cmdline).map(|()| true),
        Cmd::Test => test(),
        Cmd::Assets => assets().map(|()| true),
        Cmd::Bench(args) => bench::bench(args),
        Cmd::Soak(args) => soak::soak(args),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("xtask: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn build() -> Result<PathBuf> {
    eprintln!("xtask: checking prerequisites ...");
    harness::ensure_prerequisites()?;
    harness::build_hypervisor()
}

/// The boot-time domain configurations to boot: `--domain` files, or the
/// dom0-less demo (configs/demo/*.cfg) with `--dom0less`.
fn run_configs(args: &RunArgs) -> Result<Vec<PathBuf>> {
    if args.no_domains {
        return Ok(Vec::new());
    }
    if !args.domains.is_empty() {
        return Ok(args.domains.clone());
    }
    if !args.dom0.dom0less {
        return Ok(Vec::new());
    }
    let demo = harness::demo_configs()?;
    eprintln!(
        "xtask: --dom0less: booting the dom0-less demo, {} domains from configs/demo/",
        demo.len()
    );
    Ok(demo)
}

/// The boot modules of `run`: dom0's first (its kernel must be the first
/// module no configuration names), the boot-time domains' (with the guest
/// assets they may refer to), then the `--module` ones.
fn run_modules(args: &RunArgs) -> Result<Vec<Module>> {
    let configs = run_configs(args)?;
    let mut modules = Vec::new();
    if !args.no_domains {
        if let Some(dom0) = dom0_modules(&args.dom0, !args.domains.is_empty())? {
            modules.extend(dom0);
        }
    }
    if !configs.is_empty() {
        let assets = harness::prepare_guest_assets()?;
        modules.extend(harness::domain_modules(&configs, &assets.placeholders())?);
    }
    modules.extend(args.modules.iter().cloned());
    Ok(modules)
}

/// A dom0 run wants the CPU model its glibc survives under QEMU and
/// dom0's memory on rxen's command line.
fn has_dom0(modules: &[Module]) -> bool {
    modules.iter().any(|m| m.name == "dom0-kernel")
}

fn run(args: RunArgs) -> Result<bool> {
    let image = build()?;
    let modules = run_modules(&args)?;
    let dom0 = has_dom0(&modules);
    let mut options = vec!["debug_exit loglvl=info".to_owned()];
    if dom0 && !args.cmdline.iter().any(|o| o.starts_with("dom0_mem=")) {
        options.push(harness::DOM0_RXEN_OPTIONS.to_owned());
    }
    let cmdline = options
        .into_iter()
        .chain(args.cmdline)
        .collect::<Vec<_>>()
        .join(" ");
    let (boot, modules) = if args.iso {
        let iso = harness::target_dir().join("rxen-run.iso");
        harness::build_iso(&image, &modules, &cmdline, &iso)?;
        // The ISO carries the command line and the modules.
        (Boot::Iso { iso }, Vec::new())
    } else {
        (Boot::Pvh { image }, modules)
    };
    let mut cfg = QemuConfig {
        smp: args.smp,
        memory_mib: args.memory,
        timeout: Duration::from_secs(args.timeout),
        cmdline,
        modules,
        echo: true,
        log_path: args.log,
        ..QemuConfig::new("run", boot)
    };
    if dom0 {
        cfg.cpu = harness::DOM0_CPU_MODEL.to_owned();
    }
    eprintln!(
        "xtask: booting rxen in QEMU ({} CPUs, {} MiB, timeout {} s) ...",
        cfg.smp,
        cfg.memory_mib,
        cfg.timeout.as_secs()
    );
    let r = harness::run_qemu(&cfg)?;
    let kept = if r.exit.is_ok() {
        String::new()
    } else {
        format!(", log kept at {}", r.log_path.display())
    };
    eprintln!(
        "xtask: rxen {} after {:.1} s{kept}",
        r.exit,
        r.elapsed.as_secs_f64()
    );
    Ok(r.exit.is_ok())
}

fn iso(out: Option<PathBuf>, extra: &[Module], dom0: &Dom0Args, cmdline: &[String]) -> Result<()> {
    let image = build()?;
    let out = out.unwrap_or_else(|| harness::target_dir().join("rxen.iso"));
    let mut modules = dom0_modules(dom0, false)?.unwrap_or_default();
    modules.extend(extra.iter().cloned());
    // No debug_exit: on a real machine there is no debug-exit port to write.
    let cmdline = if cmdline.is_empty() {
        let dom0_mem = if has_dom0(&modules) {
            harness::DOM0_RXEN_OPTIONS
        } else {
            ""
        };
        format!("loglvl=info {dom0_mem}").trim_end().to_owned()
    } else {
        cmdline.join(" ")
    };
    harness::build_iso(&image, &modules, &cmdline, &out)?;
    let mib = std::fs::metadata(&out)?.len() as f64 / (1 << 20) as f64;
    let out = out.display();
    println!("xtask: wrote {out} ({mib:.1} MiB), a BIOS-bootable GRUB image; the console is COM1 at 115200 baud");
    println!("  boot it in QEMU:  qemu-system-x86_64 -M q35 -cpu EPYC,-monitor,-rdtscp -smp 2 -m 1024 -display none -serial stdio -cdrom {out}");
    println!("  or write it to a USB stick (erases it):  sudo dd if={out} of=/dev/sdX bs=4M conv=fsync status=progress");
    Ok(())
}

/// Prepares the guest assets (and the reference kernel for real Xen) and
/// says where they are.
fn assets() -> Result<()> {
    let assets = harness::prepare_guest_assets()?;
    let reference = harness::fetch_reference_kernel()?;
    let kernels = [
        ("cloud (PVH domU)", &assets.cloud_kernel),
        ("generic (Xen reference)", &reference),
    ];
    for (what, kernel) in kernels {
        println!(
            "xtask: {what} kernel: {} ({} {}, {})",
            kernel.vmlinuz.display(),
            kernel.package,
            kernel.version,
            size(&kernel.vmlinuz)?
        );
    }
    println!(
        "xtask: initramfs: {} ({})",
        assets.initramfs.display(),
        size(&assets.initramfs)?
    );
    Ok(())
}

fn size(path: &std::path::Path) -> Result<String> {
    let bytes = std::fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .len();
    Ok(format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64))
}

/// One step of `cargo xtask test`, for the summary.
struct Step {
    name: &'static str,
    ok: bool,
    time: Duration,
}

fn test() -> Result<bool> {
    eprintln!("xtask: checking prerequisites ...");
    harness::ensure_prerequisites()?;
    let mut steps = Vec::new();

    eprintln!("xtask: running the host unit tests ...");
    let host = [
        "--workspace",
        "--exclude",
        "rxen",
        "--exclude",
        "rxen-integration",
    ];
    steps.push(step("host unit tests", || cargo_test(&host)));
    steps.push(step("hypervisor build", || {
        harness::build_hypervisor().map(|_| true)
    }));
    // The QEMU tests boot Linux domains: fetch and build what they need
    // here, where a failure is reported as such rather than as test panics.
    steps.push(step("guest assets", || {
        harness::prepare_guest_assets().map(|_| true)
    }));
    // dom0: Debian's generic kernel and Xen 4.17 toolstack in an initramfs.
    steps.push(step("dom0 assets", || {
        harness::prepare_dom0_assets().map(|_| true)
    }));
    if steps[1].ok {
        // One test at a time: each QEMU wants the machine's (two) cores.
        eprintln!("xtask: running the QEMU integration tests ...");
        // --no-fail-fast: every test binary runs, and every failure shows.
        let qemu = [
            "-p",
            "rxen-integration",
            "--no-fail-fast",
            "--",
            "--test-threads=1",
        ];
        steps.push(step("QEMU integration tests", || cargo_test(&qemu)));
    } else {
        eprintln!("xtask: skipping the QEMU integration tests: no hypervisor image");
    }

    eprintln!("xtask: summary:");
    for s in &steps {
        let verdict = if s.ok { "ok" } else { "FAILED" };
        let secs = s.time.as_secs_f64();
        eprintln!("xtask:   {:<24} {verdict:<6} {secs:>6.1} s", s.name);
    }
    let all_ok = steps.iter().all(|s| s.ok);
    eprintln!("xtask: {}", if all_ok { "all passed" } else { "FAILED" });
    Ok(all_ok)
}

/// Runs and times one step; an error counts as a failure, reported at once.
fn step(name: &'static str, f: impl FnOnce() -> Result<bool>) -> Step {
    let start = Instant::now();
    let ok = f().unwrap_or_else(|e| {
        eprintln!("xtask: error: {e:#}");
        false
    });
    let time = start.elapsed();
    Step { name, ok, time }
}

/// `cargo test ARGS` in the workspace root, output streaming to ours.
fn cargo_test(args: &[&str]) -> Result<bool> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(harness::workspace_root())
        .arg("test")
        .args(args)
        .status()
        .context("running cargo test")?;
    Ok(status.success())
}
