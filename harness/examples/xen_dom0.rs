//! Boots real Xen 4.17 in QEMU with the toolstack dom0 and checks its
//! markers: the reference for what rxen's dom0 must do.
//!
//! ```text
//! cargo build -p rxen-harness --example xen_dom0
//! flock /tmp/rxen-qemu.lock target/debug/examples/xen_dom0 \
//!     [--scenarios info,create,two,errors,destroy,shutdown,rounds=3] \
//!     [--xenstored c|o] [--xen-extra "XEN OPTIONS"] [--timeout SECS]
//!     [--name LOG-NAME] [--echo] [--type 'TEXT\n' (typed at the shell scenario)]
//! ```
//!
//! The log is `target/qemu-logs/<name>.log`. Exits 1 if a marker is missing.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use rxen_harness as harness;

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("xen_dom0: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<bool> {
    let mut scenarios = "info,create,two,errors,destroy,shutdown,rounds=3".to_owned();
    let mut xenstored = None;
    let mut timeout = 1200;
    let mut name = "xen-dom0".to_owned();
    let mut echo = false;
    let mut xen_extra = String::new();
    let mut typed = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--scenarios" => scenarios = value()?,
            "--xenstored" => xenstored = Some(value()?),
            "--timeout" => timeout = value()?.parse()?,
            "--name" => name = value()?,
            "--echo" => echo = true,
            "--xen-extra" => xen_extra = value()?,
            "--type" => typed = Some(value()?),
            other => bail!("unknown argument {other}"),
        }
    }
    let list: Vec<&str> = scenarios.split(',').filter(|s| !s.is_empty()).collect();
    let assets = harness::prepare_dom0_assets()?;
    let xen = harness::fetch_xen_hypervisor()?;
    let size = std::fs::metadata(&assets.initramfs)?.len();
    eprintln!(
        "xen_dom0: Xen {}, dom0 kernel {} {}, initramfs {} ({:.1} MiB)",
        xen.version,
        assets.kernel.package,
        assets.kernel.version,
        assets.initramfs.display(),
        size as f64 / 1048576.0
    );
    let mut cfg = harness::xen_dom0_qemu_config(&name, &xen, &assets, &list)?;
    if let Some(which) = xenstored {
        let initrd = cfg
            .extra_qemu_args
            .iter_mut()
            .skip_while(|a| *a != "-initrd")
            .nth(1)
            .context("no -initrd")?;
        *initrd = initrd.replacen(
            " console=hvc0",
            &format!(" console=hvc0 rxen.xenstored={which}"),
            1,
        );
    }
    if !xen_extra.is_empty() {
        cfg.cmdline = format!("{} {xen_extra}", cfg.cmdline);
    }
    if let Some(text) = typed {
        cfg.input.push(harness::SerialInput {
            after: "RXEN-DOM0-SHELL".into(),
            bytes: text.replace("\\n", "\n").into_bytes(),
        });
    }
    cfg.timeout = Duration::from_secs(timeout);
    cfg.echo = echo;
    eprintln!(
        "xen_dom0: qemu-system-x86_64 {}",
        harness::qemu_args(&cfg, None)
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    );
    // Wall-clock times of the first markers, from the log as it grows.
    let log_path = cfg.log_path();
    let start = std::time::Instant::now();
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let watcher = std::thread::spawn(move || {
        let mut seen: Vec<(&str, f64)> = Vec::new();
        let marks = [
            "RXEN-DOM0-INIT",
            "RXEN-TOOLSTACK-UP",
            "RXEN-DOMU-CONSOLE domu-create: RXEN-MARKER",
        ];
        while stop_rx.recv_timeout(Duration::from_millis(100)).is_err() {
            let log = std::fs::read(&log_path).unwrap_or_default();
            let log = String::from_utf8_lossy(&log);
            for m in marks {
                if !seen.iter().any(|(s, _)| *s == m) && log.contains(m) {
                    seen.push((m, start.elapsed().as_secs_f64()));
                }
            }
        }
        seen
    });
    let result = harness::run_qemu(&cfg)?;
    let _ = stop_tx.send(());
    let seen = watcher.join().expect("watcher");
    eprintln!(
        "xen_dom0: QEMU {} after {:.1} s; log {}",
        result.exit,
        result.elapsed.as_secs_f64(),
        result.log_path.display()
    );

    let mut expected: Vec<String> = [
        "RXEN-DOM0-INIT",
        "RXEN-DOM0-MODULES ok",
        "RXEN-DOM0-CAPABILITIES control_d",
        "RXEN-TOOLSTACK-UP",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for item in &list {
        let name = item.split('=').next().unwrap_or(item);
        expected.push(format!("RXEN-SCENARIO-END {name} rc=0"));
        let marks: &[&str] = match name {
            "info" => &["RXEN-XL-INFO total_memory=", "RXEN-XL-LIST-DOM0 mem="],
            "create" => &[
                "RXEN-XL-CREATE name=domu-create",
                "RXEN-DOMU-CONSOLE domu-create: RXEN-MARKER",
            ],
            "two" => &["RXEN-XL-TWO markers=yes"],
            "errors" => &[
                "RXEN-XL-ERROR case=nokernel",
                "RXEN-XL-ERROR case=notkernel",
                "RXEN-XL-ERROR case=toomuch",
                "RXEN-XL-ERROR-AFTER marker=yes",
            ],
            "destroy" => &["RXEN-XL-DESTROY gone=yes"],
            "shutdown" => &["RXEN-XL-SHUTDOWN gone=yes"],
            "rounds" => &["RXEN-XL-ROUND i=1 "],
            "demo" => &["RXEN-XL-DEMO markers=yes gone=yes"],
            _ => &[],
        };
        expected.extend(marks.iter().map(|s| (*s).to_owned()));
    }
    expected.push("RXEN-DOM0-DONE".to_owned());

    let mut ok = true;
    for needle in &expected {
        let found = result.log.contains(needle.as_str());
        ok &= found;
        println!("{} {needle}", if found { "ok     " } else { "MISSING" });
    }
    println!("--- summary lines ---");
    for line in result.log.lines() {
        let line = line.trim_end_matches('\r');
        if ["RXEN-DOM0-", "RXEN-TOOLSTACK", "RXEN-SCENARIO", "RXEN-XL-"]
            .iter()
            .any(|p| line.starts_with(p))
        {
            println!("{line}");
        }
    }
    for (mark, at) in &seen {
        println!("QEMU start -> {mark}: {at:.1} s");
    }
    let count = |needle: &str| result.log.matches(needle).count();
    println!(
        "dom0 crashes: {} RXEN-DOM0-CRASH, {} 'traps:' lines, {} 'Segmentation fault', {} triple faults",
        count("RXEN-DOM0-CRASH"),
        count("traps: "),
        count("Segmentation fault"),
        count("Triple fault")
    );
    println!(
        "QEMU {} after {:.1} s",
        result.exit,
        result.elapsed.as_secs_f64()
    );
    Ok(ok && result.exit.is_ok())
}
