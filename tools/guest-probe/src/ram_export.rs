//! `ram-export FILE OUT`: FILE laid out in self-describing page frames
//! (`rxen-ram-frames`) as OUT, a file on a tmpfs that stays until the
//! machine powers off: the harness finds the frames in QEMU's RAM file
//! after the boot. How a save image leaves a dom0 with no disk in seconds
//! (its serial console takes minutes for one).

use std::fs;
use std::io::Write as _;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// Writes the frames and prints
/// `RXEN-EXPORT-RAM name=<FILE's name> id=<hex> frames=<n> bytes=<n>`.
pub fn export(file: &Path, out: &Path) -> Result<(), String> {
    let data = fs::read(file).map_err(|e| format!("reading {}: {e}", file.display()))?;
    let id = export_id();
    let mut w = fs::File::create(out).map_err(|e| format!("creating {}: {e}", out.display()))?;
    let mut n = 0;
    for frame in rxen_ram_frames::frames(id, &data) {
        w.write_all(&frame)
            .map_err(|e| format!("writing {}: {e}", out.display()))?;
        n += 1;
    }
    let name = file.file_name().unwrap_or_default().to_string_lossy();
    println!(
        "RXEN-EXPORT-RAM name={name} id={id:016x} frames={n} bytes={}",
        data.len()
    );
    Ok(())
}

/// Different for each export (an earlier one's frames may still be in RAM).
fn export_id() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ (u64::from(std::process::id()) << 48)
}
