//! Files carried between boots: the boots of different hypervisors share
//! nothing else (neither dom0 has a disk of its own), so the interop tests
//! move a save image from one to the other this way.
//!
//! Out: dom0 leaves the file in page frames in its RAM (`export_to_ram` in
//! `dom0/interop.sh`, `guest-probe ram-export`), and [`exported_in_memory`]
//! finds them in QEMU's RAM file once the boot is over: seconds, where the
//! serial console took minutes for an image (and Xen's drops characters).
//! In: [`dom0_assets_with_files`] appends a second cpio archive holding the
//! files to dom0's initramfs (Linux unpacks concatenated archives in order).

use std::path::PathBuf;

use anyhow::{ensure, Context, Result};

use crate::cpio::CpioWriter;
use crate::Dom0Assets;

/// The file an export left in the RAM of its boot (the frames
/// `guest-probe ram-export` wrote, see `rxen-ram-frames`): `ram` is the
/// machine's RAM file ([`crate::QemuConfig::keep_ram_in`]), read after QEMU
/// has gone; the export's RXEN-EXPORT-RAM line in `log` names it.
pub fn exported_in_memory(log: &str, ram: &std::path::Path) -> Result<Vec<u8>> {
    const RAM: &str = "RXEN-EXPORT-RAM name=";
    let at = log
        .rfind(RAM)
        .context("the log has no file exported in RAM")?;
    let line = log[at..].lines().next().unwrap_or_default();
    let value = |key: &str| {
        line.split_whitespace()
            .find_map(|f| f.strip_prefix(key))
            .with_context(|| format!("no {key} in {line:?}"))
    };
    let id =
        u64::from_str_radix(value("id=")?, 16).with_context(|| format!("bad id in {line:?}"))?;
    let bytes: usize = value("bytes=")?
        .parse()
        .with_context(|| format!("bad size in {line:?}"))?;
    let mut file =
        std::fs::File::open(ram).with_context(|| format!("opening {}", ram.display()))?;
    let mut collector = rxen_ram_frames::Collector::new(id);
    let mut chunk = vec![0u8; 1 << 20];
    loop {
        let n = read_full(&mut file, &mut chunk)
            .with_context(|| format!("reading {}", ram.display()))?;
        chunk[..n]
            .chunks_exact(rxen_ram_frames::FRAME_SIZE)
            .for_each(|page| collector.offer(page));
        if n < chunk.len() {
            break;
        }
    }
    let data = collector
        .finish()
        .map_err(|e| anyhow::anyhow!("{}: {e}", ram.display()))?;
    ensure!(
        data.len() == bytes,
        "{} bytes found in RAM, not the {bytes} exported",
        data.len()
    );
    Ok(data)
}

/// Fills `buf` unless the file ends first; how much it read.
fn read_full(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    use std::io::Read as _;
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// `assets` with `files` (paths in dom0, without the leading `/`, and
/// their bytes) in a second archive after its initramfs, as
/// `target/guest-cache/<name>-initramfs.cpio`.
pub fn dom0_assets_with_files(
    assets: &Dom0Assets,
    name: &str,
    files: &[(&str, &[u8])],
) -> Result<Dom0Assets> {
    let mut bytes = std::fs::read(&assets.initramfs)
        .with_context(|| format!("reading {}", assets.initramfs.display()))?;
    let mut cpio = CpioWriter::new();
    for (path, data) in files {
        let mut dir = String::new();
        for part in path
            .split('/')
            .collect::<Vec<_>>()
            .split_last()
            .map_or(&[][..], |p| p.1)
        {
            dir = if dir.is_empty() {
                (*part).to_owned()
            } else {
                format!("{dir}/{part}")
            };
            cpio.dir(&dir, 0o755);
        }
        cpio.file(path, 0o644, data);
    }
    // The archive before it is padded to 4 bytes; a new one starts there.
    while bytes.len() % 4 != 0 {
        bytes.push(0);
    }
    bytes.extend_from_slice(&cpio.finish());
    let path: PathBuf = crate::guest_cache_dir().join(format!("{name}-initramfs.cpio"));
    std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
    Ok(Dom0Assets {
        initramfs: path,
        ..assets.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A RAM file: other pages, then the export's frames out of order.
    fn ram_with_export(id: u64, data: &[u8]) -> std::path::PathBuf {
        let mut ram: Vec<u8> = (0..3 * 4096).map(|i| (i % 253) as u8).collect();
        let mut frames: Vec<_> = rxen_ram_frames::frames(id, data).collect();
        frames.reverse();
        frames.iter().for_each(|f| ram.extend_from_slice(f));
        // A RAM file's size is whole mebibytes: not a multiple of the
        // harness's read size, nor need the file end on a frame.
        ram.resize(ram.len().next_multiple_of(1 << 20) + (1 << 20), 0);
        let path =
            std::env::temp_dir().join(format!("rxen-boot-files-{id:x}-{}.ram", std::process::id()));
        std::fs::write(&path, ram).unwrap();
        path
    }

    #[test]
    fn an_image_left_in_ram_comes_back_whole_and_a_wrong_size_is_told() {
        let data: Vec<u8> = (0..3 << 20).map(|i: u32| (i * 7 % 251) as u8).collect();
        let ram = ram_with_export(0xabc, &data);
        let log = format!(
            "boot\nRXEN-EXPORT-RAM name=x.img.gz id=0000000000000abc frames=9 bytes={}\nafter\n",
            data.len()
        );
        assert_eq!(exported_in_memory(&log, &ram).unwrap(), data);
        let short = log.replace(&format!("bytes={}", data.len()), "bytes=12");
        assert!(exported_in_memory(&short, &ram).is_err());
        let other = log.replace("id=0000000000000abc", "id=0000000000000abd");
        let e = exported_in_memory(&other, &ram).unwrap_err().to_string();
        assert!(e.contains("no frame"), "{e}");
        assert!(exported_in_memory("nothing here", &ram).is_err());
        std::fs::remove_file(ram).unwrap();
    }
}
