//! A GRUB rescue ISO: how rxen boots a real machine (BIOS, Multiboot2).

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{ensure, Context, Result};

use crate::{target_dir, Module};

/// The `grub.cfg` that boots rxen with `cmdline` and `modules` at once.
///
/// GRUB talks on the serial line because the tests (and headless machines)
/// only have that; each module's GRUB command line is its name, which is how
/// the hypervisor learns it.
pub fn grub_cfg(cmdline: &str, modules: &[Module]) -> String {
    let mut cfg = String::from(
        "serial --unit=0 --speed=115200\n\
         terminal_input serial\n\
         terminal_output serial\n\
         set timeout=0\n\
         menuentry \"rxen\" {\n",
    );
    let kernel = format!("    multiboot2 /boot/rxen {cmdline}");
    cfg.push_str(kernel.trim_end());
    cfg.push('\n');
    for m in modules {
        let _ = writeln!(cfg, "    module2 /boot/modules/{} {}", m.name, m.string());
    }
    cfg.push_str("    boot\n}\n");
    cfg
}

/// Builds a BIOS-bootable ISO at `out` with `grub-mkrescue`.
///
/// The staging directory (`target/iso-staging/<out's stem>`) is made anew
/// each time so that modules of an earlier build do not linger in it.
pub fn build_iso(image: &Path, modules: &[Module], cmdline: &str, out: &Path) -> Result<()> {
    let stem = out.file_stem().unwrap_or("rxen".as_ref());
    let staging = target_dir().join("iso-staging").join(stem);
    if staging.exists() {
        fs::remove_dir_all(&staging).with_context(|| format!("removing {}", staging.display()))?;
    }
    let boot = staging.join("boot");
    fs::create_dir_all(boot.join("grub"))?;
    fs::create_dir_all(boot.join("modules"))?;
    fs::copy(image, boot.join("rxen")).with_context(|| format!("copying {}", image.display()))?;
    for m in modules {
        fs::copy(&m.path, boot.join("modules").join(&m.name))
            .with_context(|| format!("copying module {}", m.path.display()))?;
    }
    fs::write(boot.join("grub/grub.cfg"), grub_cfg(cmdline, modules))?;
    grub_mkrescue(&staging, out)
}

/// `grub-mkrescue -o OUT STAGING`: a BIOS-bootable ISO of the directory.
pub(crate) fn grub_mkrescue(staging: &Path, out: &Path) -> Result<()> {
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)?;
    }
    eprintln!("xtask: building {} with grub-mkrescue ...", out.display());
    let output = Command::new("grub-mkrescue")
        .arg("-o")
        .arg(out)
        .arg(staging)
        .output()
        .context("running grub-mkrescue")?;
    ensure!(
        output.status.success(),
        "grub-mkrescue failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grub_cfg_text() {
        let modules = [Module::new("hello.txt", "/x/hello.txt").unwrap()];
        assert_eq!(
            grub_cfg("loglvl=info", &modules),
            "serial --unit=0 --speed=115200\n\
             terminal_input serial\n\
             terminal_output serial\n\
             set timeout=0\n\
             menuentry \"rxen\" {\n    \
             multiboot2 /boot/rxen loglvl=info\n    \
             module2 /boot/modules/hello.txt hello.txt\n    \
             boot\n\
             }\n"
        );
    }

    #[test]
    fn grub_cfg_without_cmdline_or_modules() {
        let cfg = grub_cfg("", &[]);
        assert!(cfg.contains("    multiboot2 /boot/rxen\n    boot\n"));
    }
}
