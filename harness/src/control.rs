//! rxen with a control domain: the boot modules of dom0 (its kernel, whose
//! module string is the kernel's command line, then its initrd, as GRUB
//! passes them: `module2 /boot/vmlinuz console=hvc0 ...`) and the QEMU run
//! that boots them.

use std::path::Path;
use std::time::Duration;

use anyhow::Result;

use crate::{Boot, Dom0Assets, Module, QemuConfig, DOM0_CPU_MODEL};

/// rxen's options for a dom0 run: dom0's memory, as Xen users give it
/// (it also turns xl's autoballooning off, as on Xen).
pub const DOM0_RXEN_OPTIONS: &str = "dom0_mem=512M";

/// dom0's boot modules for `assets` with kernel command line `cmdline`.
pub fn dom0_boot_modules(assets: &Dom0Assets, cmdline: &str) -> Result<Vec<Module>> {
    Ok(vec![
        Module::with_cmdline("dom0-kernel", &assets.kernel.vmlinuz, cmdline)?,
        Module::new("dom0-initrd", &assets.initramfs)?,
    ])
}

/// The QEMU run of rxen (`image`) with dom0 running `scenarios`: the
/// AVX-less CPU model a nested dom0's glibc needs, 2 CPUs, 2 GiB.
/// `rxen_options` follow `debug_exit loglvl=info` and
/// [`DOM0_RXEN_OPTIONS`].
pub fn rxen_dom0_qemu_config(
    name: &str,
    image: &Path,
    assets: &Dom0Assets,
    scenarios: &[&str],
    rxen_options: &str,
) -> Result<QemuConfig> {
    let cmdline = crate::dom0_cmdline(scenarios, "");
    Ok(QemuConfig {
        cpu: DOM0_CPU_MODEL.to_owned(),
        smp: 2,
        memory_mib: 2048,
        timeout: Duration::from_secs(600),
        cmdline: format!("debug_exit loglvl=info {DOM0_RXEN_OPTIONS} {rxen_options}")
            .trim_end()
            .to_owned(),
        modules: dom0_boot_modules(assets, &cmdline)?,
        ..QemuConfig::new(
            name,
            Boot::Pvh {
                image: image.to_path_buf(),
            },
        )
    })
}
