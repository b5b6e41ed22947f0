//! `guest-probe`: runs inside an rxen guest and prints what the hypervisor
//! shows it, as marker lines the integration tests look for.
//!
//! ```text
//! guest-probe domid     RXEN-MARKER domid=<N>  (or domid=unknown)
//! guest-probe isolation
//!     RXEN-ISOLATION <check> ok|FAIL rc=<rc> ...
//!     RXEN-ISOLATION-DONE pass=<n> fail=<m>
//! guest-probe fuzz [--seconds S] [--min-calls N] [--seed X]
//!     RXEN-FUZZ progress calls=<n> ...    (every 10 000 calls)
//!     RXEN-FUZZ-DONE calls=<n> errors=<e> ok=<k> skipped=<s> odd=<o> seconds=<s>
//! guest-probe fuzz-control [--seconds S] [--calls N] [--seed X]   (in dom0)
//!     RXEN-CFUZZ-START ... protected=<domids>
//!     RXEN-CFUZZ progress calls=<n> ...   RXEN-CFUZZ odd rc=<rc> ...
//!     RXEN-CFUZZ-DONE calls=<n> errors=<e> ok=<k> skipped=<s> odd=<o> seconds=<s> per_second=<r>
//! guest-probe tty SECONDS CMD [ARGS...]   (a full-screen program, `xl top`)
//!     RXEN-TTY <a line of what the screen showed>
//!     RXEN-TTY-DONE status=<exit status|killed> bytes=<n> lines=<n>
//! guest-probe checksum [--seconds S] [--seed X]
//!     RXEN-CHECKSUM rounds=<n> mismatches=<m>
//!     RXEN-CHECKSUM-DONE ok|CORRUPTED
//! guest-probe share --start EPOCH --seconds S [--windows N --gap G]
//!     RXEN-SHARE share=<f> steal=<f> work=<n> window=<i>
//!         (CPU-bound over [EPOCH, EPOCH+S], then over the same length
//!         again every S+G seconds, N windows in all)
//! guest-probe watch [--seconds S] [--mib M]
//!     RXEN-WATCH n=<i> wall=<s> up=<s> memtotal_kib=<k> cpus=<n> mismatches=<m> gap_ms=<g>
//!         (every second; with M, an M MiB region checked and rewritten;
//!         g: the longest wall-clock gap between 10 ms timestamps)
//! guest-probe parallel [--seconds S]
//!     RXEN-PARALLEL cpu=<s> wall=<s>            (two spinning threads)
//! guest-probe ram-export FILE OUT   (in dom0; OUT on a tmpfs)
//!     RXEN-EXPORT-RAM name=<FILE's name> id=<hex> frames=<n> bytes=<n>
//! ```
//!
//! `isolation` and `fuzz` make hypercalls through /dev/xen/privcmd (the
//! `xen-privcmd` module, which the test initramfs loads first): see
//! [`isolation`] and [`fuzz`]. `fuzz` stops after S seconds (default 60)
//! or N calls (default 150 000), whichever comes first.
//!
//! The domain id comes from Xen's CPUID leaves: the base leaf is the first
//! of 0x40000000, 0x40000100, ... 0x4000FF00 whose EBX, ECX, EDX spell
//! "XenVMMXenVMM"; leaf base+4 sets EAX bit 4 (`XEN_HVM_CPUID_DOMID_PRESENT`)
//! when ECX holds the domain id.

mod checksum;
mod control;
mod cpushare;
mod fuzz;
mod gntalloc;
mod isolation;
mod ram_export;
mod sys;
mod tty;
mod watch;
mod xen;

use std::process::ExitCode;

/// Xen's signature in EBX, ECX, EDX of its base CPUID leaf.
const XEN_SIGNATURE: &[u8; 12] = b"XenVMMXenVMM";
/// Leaf base+4: HVM-specific parameters.
const HVM_LEAF_OFFSET: u32 = 4;
/// EAX bit of leaf base+4: ECX holds the domain id.
const DOMID_PRESENT: u32 = 1 << 4;

const USAGE: &str = "usage: guest-probe domid | isolation | \
fuzz [--seconds S] [--min-calls N] [--seed X] | \
fuzz-control [--seconds S] [--calls N] [--seed X] | checksum [--seconds S] [--seed X] | \
share --start EPOCH --seconds S [--windows N --gap G] | parallel [--seconds S] | \
watch [--seconds S] | tty SECONDS CMD [ARGS...] | ram-export FILE OUT";

/// The four registers a CPUID leaf returns.
#[derive(Clone, Copy, Debug)]
struct Leaf {
    eax: u32,
    ebx: u32,
    ecx: u32,
    edx: u32,
}

fn cpuid(leaf: u32) -> Leaf {
    // `__cpuid` is safe from Rust 1.89 on; `unsafe` keeps older compilers
    // (the workspace's rust-version) happy.
    #[allow(unused_unsafe)]
    // SAFETY: CPUID exists on every x86_64 CPU, has no side effects, and any
    // leaf number may be queried.
    let r = unsafe { core::arch::x86_64::__cpuid(leaf) };
    Leaf {
        eax: r.eax,
        ebx: r.ebx,
        ecx: r.ecx,
        edx: r.edx,
    }
}

/// Whether a leaf carries Xen's signature.
fn is_xen_signature(leaf: &Leaf) -> bool {
    let mut sig = [0u8; 12];
    sig[..4].copy_from_slice(&leaf.ebx.to_le_bytes());
    sig[4..8].copy_from_slice(&leaf.ecx.to_le_bytes());
    sig[8..].copy_from_slice(&leaf.edx.to_le_bytes());
    &sig == XEN_SIGNATURE
}

/// Xen's base leaf, if we run under Xen (or rxen).
fn xen_base_leaf(cpuid: impl Fn(u32) -> Leaf) -> Option<u32> {
    (0x4000_0000..=0x4000_FF00u32)
        .step_by(0x100)
        .find(|&base| is_xen_signature(&cpuid(base)))
}

/// The domain id the hypervisor reports, if it reports one.
fn domid(cpuid: impl Fn(u32) -> Leaf) -> Option<u32> {
    let base = xen_base_leaf(&cpuid)?;
    let max_leaf = cpuid(base).eax;
    let hvm_leaf = base + HVM_LEAF_OFFSET;
    if max_leaf < hvm_leaf {
        return None;
    }
    let leaf = cpuid(hvm_leaf);
    (leaf.eax & DOMID_PRESENT != 0).then_some(leaf.ecx)
}

fn marker_line(domid: Option<u32>) -> String {
    match domid {
        Some(id) => format!("RXEN-MARKER domid={id}"),
        None => "RXEN-MARKER domid=unknown".to_owned(),
    }
}

/// `--name value` options; unknown names or bad numbers are errors.
fn options(args: &[String], names: &[&str]) -> Result<Vec<Option<u64>>, String> {
    let mut values = vec![None; names.len()];
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let name = arg.strip_prefix("--").unwrap_or("");
        let Some(slot) = names.iter().position(|n| *n == name) else {
            return Err(format!("unknown option {arg}"));
        };
        let value = it.next().ok_or_else(|| format!("{arg} needs a value"))?;
        values[slot] = Some(
            value
                .parse()
                .map_err(|_| format!("{arg}: not a number: {value}"))?,
        );
    }
    Ok(values)
}

fn isolation() -> ExitCode {
    let (_, fail) = isolation::run(domid(cpuid));
    if fail == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn fuzz(seconds: u64, max_calls: u64, seed: u64) -> ExitCode {
    let me = domid(cpuid)
        .and_then(|d| u16::try_from(d).ok())
        .unwrap_or(1);
    let made = sys::Privcmd::open().and_then(|pc| fuzz::Fuzzer::guest(pc, seed, me));
    let mut fuzzer = match made {
        Ok(f) => f,
        Err(e) => {
            println!("RXEN-FUZZ-FAILED {} ({e})", sys::PRIVCMD_PATH);
            return ExitCode::FAILURE;
        }
    };
    println!("RXEN-FUZZ-START seconds={seconds} max_calls={max_calls} seed={seed} self=d{me}");
    let start = std::time::Instant::now();
    let s = fuzzer.run(seconds, max_calls);
    let wall = start.elapsed().as_secs_f64();
    println!(
        "RXEN-FUZZ-DONE calls={} errors={} ok={} skipped={} odd={} seconds={wall:.1}",
        s.calls, s.errors, s.ok, s.skipped, s.odd
    );
    ExitCode::SUCCESS
}

/// The control domain's fuzzer: see [`fuzz::control`].
fn fuzz_control(seconds: u64, max_calls: u64, seed: u64) -> ExitCode {
    let made = sys::Privcmd::open().and_then(|pc| fuzz::Fuzzer::control(pc, seed));
    let mut fuzzer = match made {
        Ok(f) => f,
        Err(e) => {
            println!("RXEN-CFUZZ-FAILED {} ({e})", sys::PRIVCMD_PATH);
            return ExitCode::FAILURE;
        }
    };
    let protected: Vec<String> = fuzzer.protected().iter().map(u16::to_string).collect();
    println!(
        "RXEN-CFUZZ-START seconds={seconds} max_calls={max_calls} seed={seed} protected={}",
        protected.join(",")
    );
    let start = std::time::Instant::now();
    let s = fuzzer.run(seconds, max_calls);
    let wall = start.elapsed().as_secs_f64();
    println!(
        "RXEN-CFUZZ-DONE calls={} errors={} ok={} skipped={} odd={} seconds={wall:.1} per_second={:.0}",
        s.calls,
        s.errors,
        s.ok,
        s.skipped,
        s.odd,
        s.calls as f64 / wall.max(0.001)
    );
    ExitCode::SUCCESS
}

fn checksum(seconds: u64, seed: u64) -> ExitCode {
    println!(
        "RXEN-CHECKSUM-START bytes={} seconds={seconds}",
        checksum::BYTES
    );
    let r = checksum::run(seconds, checksum::BYTES / 8, seed);
    println!(
        "RXEN-CHECKSUM rounds={} mismatches={}",
        r.rounds, r.mismatches
    );
    if r.mismatches == 0 && r.rounds > 0 {
        println!("RXEN-CHECKSUM-DONE ok");
        ExitCode::SUCCESS
    } else {
        println!("RXEN-CHECKSUM-DONE CORRUPTED");
        ExitCode::FAILURE
    }
}

/// `tty`: see [`tty`]; types `q` after `seconds`.
fn on_a_terminal(argv: &[String], seconds: u64) -> ExitCode {
    match tty::run(argv, seconds, b"q") {
        Ok(screen) => {
            for line in &screen.lines {
                println!("RXEN-TTY {line}");
            }
            let status = screen
                .status
                .map_or_else(|| "killed".to_owned(), |c| c.to_string());
            println!(
                "RXEN-TTY-DONE status={status} bytes={} lines={}",
                screen.bytes,
                screen.lines.len()
            );
            if screen.status == Some(0) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            println!("RXEN-TTY-DONE status=failed ({e})");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest = args.get(1..).unwrap_or(&[]);
    let result = match args.first().map(String::as_str) {
        Some("domid") if rest.is_empty() => {
            println!("{}", marker_line(domid(cpuid)));
            Ok(ExitCode::SUCCESS)
        }
        Some("isolation") if rest.is_empty() => Ok(isolation()),
        Some("fuzz") => options(rest, &["seconds", "min-calls", "seed"]).map(|o| {
            fuzz(
                o[0].unwrap_or(60),
                o[1].unwrap_or(150_000),
                o[2].unwrap_or(1),
            )
        }),
        Some("share") => options(rest, &["start", "seconds", "windows", "gap"]).map(|o| {
            let (start, seconds) = (o[0].unwrap_or(0), o[1].unwrap_or(20));
            for window in 0..o[2].unwrap_or(1) {
                let from = start + window * (seconds + o[3].unwrap_or(5));
                let s = cpushare::measure(from, seconds);
                println!(
                    "RXEN-SHARE share={:.4} steal={:.4} work={} window={window}",
                    s.share, s.steal, s.work
                );
            }
            ExitCode::SUCCESS
        }),
        Some("watch") => options(rest, &["seconds", "mib"]).map(|o| {
            let mib = o[1].unwrap_or(0) as usize;
            watch::watch(o[0].unwrap_or(30), std::time::Duration::from_secs(1), mib);
            ExitCode::SUCCESS
        }),
        Some("parallel") => options(rest, &["seconds"]).map(|o| {
            let (cpu, wall) = cpushare::parallel(2, o[0].unwrap_or(4));
            println!("RXEN-PARALLEL cpu={cpu:.2} wall={wall:.2}");
            ExitCode::SUCCESS
        }),
        Some("fuzz-control") => options(rest, &["seconds", "calls", "seed"]).map(|o| {
            fuzz_control(
                o[0].unwrap_or(60),
                o[1].unwrap_or(150_000),
                o[2].unwrap_or(1),
            )
        }),
        Some("tty") => match rest {
            [secs, argv @ ..] if !argv.is_empty() => secs
                .parse()
                .map_err(|_| format!("tty: not a number of seconds: {secs}"))
                .map(|secs| on_a_terminal(argv, secs)),
            _ => Err("tty needs SECONDS and a command".into()),
        },
        Some("checksum") => options(rest, &["seconds", "seed"])
            .map(|o| checksum(o[0].unwrap_or(10), o[1].unwrap_or(0x5EED))),
        Some("ram-export") => match rest {
            [file, out] => {
                ram_export::export(file.as_ref(), out.as_ref()).map(|()| ExitCode::SUCCESS)
            }
            _ => Err("ram-export needs FILE and OUT".into()),
        },
        _ => Err(String::new()),
    };
    match result {
        Ok(code) => code,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("guest-probe: {msg}");
            }
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_parsing() {
        let args: Vec<String> = ["--seed", "7", "--seconds", "3"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            options(&args, &["seconds", "min-calls", "seed"]).unwrap(),
            [Some(3), None, Some(7)]
        );
        assert!(options(&args[..1], &["seed"]).is_err());
        assert!(options(&args, &["seed"]).is_err());
    }

    /// A fake CPU: Xen at `base` with max leaf base+5, domid leaf as given.
    fn fake_xen(base: u32, hvm_eax: u32, domid: u32) -> impl Fn(u32) -> Leaf {
        let word = |s: &[u8]| u32::from_le_bytes(s.try_into().unwrap());
        move |leaf| match leaf {
            l if l == base => Leaf {
                eax: base + 5,
                ebx: word(b"XenV"),
                ecx: word(b"MMXe"),
                edx: word(b"nVMM"),
            },
            l if l == base + 4 => Leaf {
                eax: hvm_eax,
                ebx: 0,
                ecx: domid,
                edx: 0,
            },
            _ => Leaf {
                eax: 0,
                ebx: 0,
                ecx: 0,
                edx: 0,
            },
        }
    }

    #[test]
    fn finds_xen_behind_another_hypervisor_signature() {
        let cpu = fake_xen(0x4000_0100, DOMID_PRESENT, 3);
        assert_eq!(xen_base_leaf(&cpu), Some(0x4000_0100));
        assert_eq!(domid(&cpu), Some(3));
        assert_eq!(marker_line(domid(&cpu)), "RXEN-MARKER domid=3");
    }

    #[test]
    fn domid_absent_without_the_flag() {
        assert_eq!(domid(fake_xen(0x4000_0000, 0, 3)), None);
        assert_eq!(marker_line(None), "RXEN-MARKER domid=unknown");
    }

    #[test]
    fn no_xen() {
        let bare = |_| Leaf {
            eax: 0,
            ebx: 0,
            ecx: 0,
            edx: 0,
        };
        assert_eq!(domid(bare), None);
    }
}
