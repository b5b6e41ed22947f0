//! Boots rxen in QEMU with the toolstack dom0 running scenarios (a
//! developer's tool; the tests in `tests/` do the same).
//!
//! ```text
//! cargo run -p rxen-harness --example rxen_dom0 -- [SCENARIOS] [RXEN-OPTIONS...]
//! ```
//!
//! Environment: `RXEN_IMAGE` (a built hypervisor), `RXEN_QEMU=backports`,
//! `RXEN_QEMU_MONITOR` (a monitor on /tmp/qmon.sock; a triple fault pauses
//! instead of ending the run), `RXEN_DUMP_AFTER=TEXT` (debug keys `q`, `r`, `e`
//! once TEXT appears), `RXEN_QEMU_RESET_LOG=FILE` with `RXEN_QEMU_D=ITEMS`
//! (QEMU's `-d` log).
use std::time::Duration;

use anyhow::Result;
use rxen_harness as harness;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let scenarios = args.next().unwrap_or_else(|| "info".into());
    let options: Vec<String> = args.collect();
    let image = match std::env::var_os("RXEN_IMAGE") {
        Some(path) => path.into(),
        None => harness::build_hypervisor()?,
    };
    let assets = harness::prepare_dom0_assets()?;
    let list: Vec<&str> = scenarios.split(',').filter(|s| !s.is_empty()).collect();
    let mut cfg =
        harness::rxen_dom0_qemu_config("rxen-dom0", &image, &assets, &list, &options.join(" "))?;
    cfg.echo = true;
    // RXEN_QEMU=backports: QEMU 10.0 from bookworm-backports, as the tests.
    if std::env::var("RXEN_QEMU").as_deref() == Ok("backports") {
        cfg.emulator = harness::backports_qemu()?;
    }
    if std::env::var_os("RXEN_QEMU_MONITOR").is_some() {
        cfg.extra_qemu_args.extend([
            "-no-shutdown".into(),
            "-monitor".into(),
            "unix:/tmp/qmon.sock,server,nowait".into(),
        ]);
    }
    if let Ok(after) = std::env::var("RXEN_DUMP_AFTER") {
        // Ctrl-A three times (input to rxen), then the debug keys.
        cfg.echo = false;
        cfg.input.push(harness::SerialInput {
            after,
            bytes: b"\x01\x01\x01qre".to_vec(),
        });
    }
    if let Ok(path) = std::env::var("RXEN_QEMU_RESET_LOG") {
        cfg.extra_qemu_args.extend([
            "-d".into(),
            std::env::var("RXEN_QEMU_D").unwrap_or_else(|_| "cpu_reset,guest_errors".into()),
            "-D".into(),
            path,
        ]);
    }
    cfg.timeout = Duration::from_secs(900);
    let r = harness::run_qemu(&cfg)?;
    eprintln!(
        "rxen_dom0: {} after {:.1} s",
        r.exit,
        r.elapsed.as_secs_f64()
    );
    Ok(())
}
