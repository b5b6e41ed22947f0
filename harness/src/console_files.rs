//! Files carried between boots over the serial console: the boots of
//! different hypervisors share nothing else (rxen's dom0 has no disk), so
//! the interop tests move a save image from one to the other this way.
//!
//! Out: dom0 prints the file gzip-compressed in base64, one numbered line
//! each (`export_file` in `dom0/interop.sh`); [`exported_file`] puts it back
//! together from the log. Xen's console is too slow for that (when it
//! does not drop characters): its dom0 writes the file to a raw disk image
//! QEMU gives it instead ([`exported_to_disk`]). In: [`dom0_assets_with_files`] appends a second
//! cpio archive holding the files to dom0's initramfs (Linux unpacks
//! concatenated archives in order).

use std::path::PathBuf;

use anyhow::{bail, ensure, Context, Result};
use base64::Engine;

use crate::cpio::CpioWriter;
use crate::Dom0Assets;

const BEGIN: &str = "RXEN-EXPORT-BEGIN name=";
const LINE: &str = "RXEN-EXPORT ";
const END: &str = "RXEN-EXPORT-END lines=";

/// The last file exported in `log`: its name and its (still compressed)
/// bytes. Every line must be there, in order, and decode.
pub fn exported_file(log: &str) -> Result<(String, Vec<u8>)> {
    let begin = log.rfind(BEGIN).context("the log has no exported file")?;
    let rest = &log[begin + BEGIN.len()..];
    let name = rest
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned();
    let mut text = String::new();
    let mut next = 1usize;
    for l in rest.lines().skip(1) {
        if let Some(n) = l.split_once(END).map(|(_, n)| n.trim()) {
            let n: usize = n.parse().with_context(|| format!("bad end line {l:?}"))?;
            ensure!(
                n + 1 == next,
                "{name}: {} of its {n} lines arrived",
                next - 1
            );
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(&text)
                .with_context(|| format!("{name}: its base64 does not decode"))?;
            return Ok((name, bytes));
        }
        let Some((_, numbered)) = l.split_once(LINE) else {
            continue; // another writer's line between two of ours
        };
        let (number, chunk) = numbered.split_once(' ').unwrap_or((numbered, ""));
        ensure!(
            number.parse() == Ok(next),
            "{name}: line {next} expected, found {l:?}"
        );
        text.push_str(chunk.trim());
        next += 1;
    }
    bail!(
        "{name}: the export did not end ({} lines arrived)",
        next - 1
    )
}

/// The file an `export=disk` wrote at the start of `disk` (a raw image
/// file QEMU gave dom0), as long as its RXEN-EXPORT-DISK line in `log`
/// says.
pub fn exported_to_disk(log: &str, disk: &std::path::Path) -> Result<Vec<u8>> {
    const DISK: &str = "RXEN-EXPORT-DISK name=";
    let at = log
        .rfind(DISK)
        .context("the log has no file exported to disk")?;
    let line = log[at..].lines().next().unwrap_or_default();
    let bytes: usize = line
        .split_once(" bytes=")
        .and_then(|(_, n)| n.trim().parse().ok())
        .with_context(|| format!("no size in {line:?}"))?;
    let mut data = std::fs::read(disk).with_context(|| format!("reading {}", disk.display()))?;
    ensure!(
        data.len() >= bytes,
        "{}: {} bytes, not the {bytes} exported",
        disk.display(),
        data.len()
    );
    data.truncate(bytes);
    Ok(data)
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

    fn export(name: &str, data: &[u8], per_line: usize) -> String {
        let text = base64::engine::general_purpose::STANDARD.encode(data);
        let chunks: Vec<&str> = text
            .as_bytes()
            .chunks(per_line)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let mut log = format!("{BEGIN}{name} bytes={}\n", data.len());
        for (i, c) in chunks.iter().enumerate() {
            log.push_str(&format!("{LINE}{} {c}\n", i + 1));
            if i == 1 {
                log.push_str("(d3) a guest's line in between\n");
            }
        }
        log.push_str(&format!("{END}{}\n", chunks.len()));
        log
    }

    #[test]
    fn an_exported_file_comes_back_whole() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();
        let log = format!("boot\n{}after\n", export("x.img.gz", &data, 76));
        let (name, back) = exported_file(&log).unwrap();
        assert_eq!(name, "x.img.gz");
        assert_eq!(back, data);
    }

    #[test]
    fn a_missing_or_cut_line_is_an_error_not_a_wrong_file() {
        let data = vec![42u8; 1000];
        let log = export("x.img.gz", &data, 76);
        let dropped: String = log
            .lines()
            .filter(|l| !l.starts_with("RXEN-EXPORT 3 "))
            .map(|l| format!("{l}\n"))
            .collect();
        let e = exported_file(&dropped).unwrap_err().to_string();
        assert!(e.contains("line 3 expected"), "{e}");
        let unended: String = log
            .lines()
            .filter(|l| !l.starts_with(END))
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(exported_file(&unended)
            .unwrap_err()
            .to_string()
            .contains("did not end"));
        assert!(exported_file("nothing here").is_err());
    }
}
