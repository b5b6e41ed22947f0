//! The little of ELF the dom0 archive needs: a program's dynamic loader
//! (`PT_INTERP`), the libraries it names (`DT_NEEDED`) with its search path
//! (`DT_RUNPATH`/`DT_RPATH`), and a kernel module's `.modinfo` strings.
//!
//! 64-bit little-endian only (x86_64). The dynamic section is found through
//! the program headers and its string table translated from a virtual
//! address to a file offset through the `PT_LOAD` segments, as the dynamic
//! loader itself does; section headers are used only for `.modinfo`
//! (modules are relocatable objects, without program headers).

use anyhow::{bail, ensure, Context, Result};

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const DT_NULL: u64 = 0;
const DT_NEEDED: u64 = 1;
const DT_STRTAB: u64 = 5;
const DT_RPATH: u64 = 15;
const DT_RUNPATH: u64 = 29;

/// What the dynamic loader needs to run an executable or library.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DynamicInfo {
    /// `PT_INTERP`, e.g. `/lib64/ld-linux-x86-64.so.2`.
    pub interp: Option<String>,
    /// `DT_NEEDED` sonames, in order.
    pub needed: Vec<String>,
    /// `DT_RUNPATH` (or `DT_RPATH`) directories, `$ORIGIN` not expanded.
    pub runpath: Vec<String>,
}

/// Whether `bytes` starts like an ELF file.
pub fn is_elf(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x7fELF")
}

/// A section header's (sh_name, sh_offset, sh_size).
type Section = (u32, u64, u64);

struct Elf<'a> {
    data: &'a [u8],
}

impl<'a> Elf<'a> {
    fn new(data: &'a [u8]) -> Result<Self> {
        ensure!(is_elf(data), "not an ELF file");
        ensure!(data.len() >= 64, "truncated ELF header");
        ensure!(
            data[4] == 2 && data[5] == 1,
            "not a 64-bit little-endian ELF"
        );
        Ok(Self { data })
    }

    fn bytes(&self, at: u64, len: u64) -> Result<&'a [u8]> {
        let start = usize::try_from(at).context("offset")?;
        let end = start
            .checked_add(usize::try_from(len).context("length")?)
            .context("offset overflow")?;
        self.data
            .get(start..end)
            .with_context(|| format!("ELF range {start:#x}..{end:#x} past the end of the file"))
    }

    fn u16(&self, at: u64) -> Result<u16> {
        Ok(u16::from_le_bytes(self.bytes(at, 2)?.try_into()?))
    }

    fn u32(&self, at: u64) -> Result<u32> {
        Ok(u32::from_le_bytes(self.bytes(at, 4)?.try_into()?))
    }

    fn u64(&self, at: u64) -> Result<u64> {
        Ok(u64::from_le_bytes(self.bytes(at, 8)?.try_into()?))
    }

    /// The NUL-terminated string at file offset `at`.
    fn cstr(&self, at: u64) -> Result<String> {
        let start = usize::try_from(at)?;
        let rest = self.data.get(start..).context("string past the end")?;
        let len = rest
            .iter()
            .position(|&b| b == 0)
            .context("unterminated string")?;
        Ok(String::from_utf8_lossy(&rest[..len]).into_owned())
    }

    /// (p_type, p_offset, p_vaddr, p_filesz) of every program header.
    fn program_headers(&self) -> Result<Vec<(u32, u64, u64, u64)>> {
        let phoff = self.u64(32)?;
        let (phentsize, phnum) = (u64::from(self.u16(54)?), u64::from(self.u16(56)?));
        (0..phnum)
            .map(|i| {
                let at = phoff + i * phentsize;
                Ok((
                    self.u32(at)?,
                    self.u64(at + 8)?,
                    self.u64(at + 16)?,
                    self.u64(at + 32)?,
                ))
            })
            .collect()
    }

    /// (sh_name, sh_offset, sh_size) of every section header, and the
    /// offset of the section-name string table.
    fn section_headers(&self) -> Result<(Vec<Section>, u64)> {
        let shoff = self.u64(40)?;
        let (shentsize, shnum, shstrndx) = (
            u64::from(self.u16(58)?),
            u64::from(self.u16(60)?),
            u64::from(self.u16(62)?),
        );
        let sections: Vec<Section> = (0..shnum)
            .map(|i| {
                let at = shoff + i * shentsize;
                Ok((self.u32(at)?, self.u64(at + 24)?, self.u64(at + 32)?))
            })
            .collect::<Result<_>>()?;
        let names = sections
            .get(usize::try_from(shstrndx)?)
            .map(|s| s.1)
            .context("no section-name table")?;
        Ok((sections, names))
    }
}

/// Reads `PT_INTERP`, `DT_NEEDED` and the run path of an ELF executable or
/// shared library. A static executable gives an empty [`DynamicInfo`].
pub fn dynamic_info(data: &[u8]) -> Result<DynamicInfo> {
    let elf = Elf::new(data)?;
    let phdrs = elf.program_headers()?;
    let mut info = DynamicInfo::default();
    if let Some(&(_, offset, _, size)) = phdrs.iter().find(|p| p.0 == PT_INTERP) {
        info.interp = Some(elf.cstr(offset).context("PT_INTERP")?);
        ensure!(size > 0, "empty PT_INTERP");
    }
    let Some(&(_, dyn_offset, _, dyn_size)) = phdrs.iter().find(|p| p.0 == PT_DYNAMIC) else {
        return Ok(info);
    };
    let mut entries = Vec::new();
    let mut strtab = None;
    for i in 0..dyn_size / 16 {
        let at = dyn_offset + i * 16;
        let (tag, value) = (elf.u64(at)?, elf.u64(at + 8)?);
        match tag {
            DT_NULL => break,
            DT_STRTAB => strtab = Some(value),
            DT_NEEDED | DT_RPATH | DT_RUNPATH => entries.push((tag, value)),
            _ => {}
        }
    }
    if entries.is_empty() {
        return Ok(info);
    }
    let strtab_vaddr = strtab.context("DT_NEEDED without DT_STRTAB")?;
    // The string table's file offset: the PT_LOAD segment that maps it.
    let strtab_offset = phdrs
        .iter()
        .find(|&&(p_type, _, vaddr, filesz)| {
            p_type == PT_LOAD && (vaddr..vaddr + filesz).contains(&strtab_vaddr)
        })
        .map(|&(_, offset, vaddr, _)| strtab_vaddr - vaddr + offset)
        .context("DT_STRTAB outside every PT_LOAD segment")?;
    let (mut rpath, mut runpath) = (Vec::new(), Vec::new());
    for (tag, value) in entries {
        let s = elf.cstr(strtab_offset + value)?;
        match tag {
            DT_NEEDED => info.needed.push(s),
            DT_RPATH => rpath.extend(s.split(':').map(str::to_owned)),
            _ => runpath.extend(s.split(':').map(str::to_owned)),
        }
    }
    // As ld.so: DT_RPATH counts only when there is no DT_RUNPATH.
    info.runpath = if runpath.is_empty() { rpath } else { runpath };
    info.runpath.retain(|d| !d.is_empty());
    Ok(info)
}

/// The `key=value` strings of a kernel module's `.modinfo` section.
pub fn modinfo(data: &[u8]) -> Result<Vec<(String, String)>> {
    let elf = Elf::new(data)?;
    let (sections, names) = elf.section_headers()?;
    for &(name, offset, size) in &sections {
        if elf.cstr(names + u64::from(name))? != ".modinfo" {
            continue;
        }
        let bytes = elf.bytes(offset, size)?;
        return Ok(bytes
            .split(|&b| b == 0)
            .filter_map(|s| {
                let s = String::from_utf8_lossy(s);
                s.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned()))
            })
            .collect());
    }
    bail!("no .modinfo section")
}

/// A module's `depends=` list (module names as modpost wrote them).
pub fn module_depends(data: &[u8]) -> Result<Vec<String>> {
    Ok(modinfo(data)?
        .into_iter()
        .filter(|(k, _)| k == "depends")
        .flat_map(|(_, v)| {
            v.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A minimal dynamically linked ELF64: one PT_LOAD covering the file,
    /// PT_INTERP, PT_DYNAMIC with DT_STRTAB, the DT_NEEDED entries and an
    /// optional DT_RUNPATH. Loaded at vaddr 0x400000 so that the string
    /// table's address differs from its offset.
    pub(crate) fn fake_elf(
        interp: Option<&str>,
        needed: &[&str],
        runpath: Option<&str>,
    ) -> Vec<u8> {
        const BASE: u64 = 0x40_0000;
        let phnum = 3u64;
        let ph_at = 64u64;
        let mut strtab = vec![0u8];
        let mut add = |s: &str| {
            let at = strtab.len() as u64;
            strtab.extend_from_slice(s.as_bytes());
            strtab.push(0);
            at
        };
        let interp_at = interp.map(&mut add);
        let needed_at: Vec<u64> = needed.iter().map(|s| add(s)).collect();
        let runpath_at = runpath.map(&mut add);
        let mut dynamic: Vec<(u64, u64)> = needed_at.iter().map(|&o| (DT_NEEDED, o)).collect();
        if let Some(o) = runpath_at {
            dynamic.push((DT_RUNPATH, o));
        }
        let strtab_off = ph_at + phnum * 56;
        let dyn_off = (strtab_off + strtab.len() as u64).next_multiple_of(8);
        dynamic.push((DT_STRTAB, BASE + strtab_off));
        dynamic.push((DT_NULL, 0));
        let total = dyn_off + dynamic.len() as u64 * 16;

        let mut e = vec![0u8; total as usize];
        e[..6].copy_from_slice(b"\x7fELF\x02\x01");
        e[32..40].copy_from_slice(&ph_at.to_le_bytes());
        e[54..56].copy_from_slice(&56u16.to_le_bytes());
        e[56..58].copy_from_slice(&(phnum as u16).to_le_bytes());
        let mut ph = |i: u64, p_type: u32, offset: u64, vaddr: u64, size: u64| {
            let at = (ph_at + i * 56) as usize;
            e[at..at + 4].copy_from_slice(&p_type.to_le_bytes());
            e[at + 8..at + 16].copy_from_slice(&offset.to_le_bytes());
            e[at + 16..at + 24].copy_from_slice(&vaddr.to_le_bytes());
            e[at + 32..at + 40].copy_from_slice(&size.to_le_bytes());
        };
        ph(0, PT_LOAD, 0, BASE, total);
        match interp_at {
            Some(o) => ph(1, PT_INTERP, strtab_off + o, BASE + strtab_off + o, 1),
            None => ph(1, 6 /* PT_PHDR */, 0, 0, 0),
        }
        ph(
            2,
            PT_DYNAMIC,
            dyn_off,
            BASE + dyn_off,
            dynamic.len() as u64 * 16,
        );
        e[strtab_off as usize..strtab_off as usize + strtab.len()].copy_from_slice(&strtab);
        for (i, (tag, value)) in dynamic.iter().enumerate() {
            let at = dyn_off as usize + i * 16;
            e[at..at + 8].copy_from_slice(&tag.to_le_bytes());
            e[at + 8..at + 16].copy_from_slice(&value.to_le_bytes());
        }
        e
    }

    /// A relocatable object with a `.modinfo` section (and the section-name
    /// table), like a kernel module.
    pub(crate) fn fake_module(modinfo: &[&str]) -> Vec<u8> {
        let mut info = Vec::new();
        for s in modinfo {
            info.extend_from_slice(s.as_bytes());
            info.push(0);
        }
        let names = b"\0.modinfo\0.shstrtab\0";
        let info_off = 64u64;
        let names_off = info_off + info.len() as u64;
        let sh_off = (names_off + names.len() as u64).next_multiple_of(8);
        let mut e = vec![0u8; (sh_off + 3 * 64) as usize];
        e[..6].copy_from_slice(b"\x7fELF\x02\x01");
        e[40..48].copy_from_slice(&sh_off.to_le_bytes());
        e[58..60].copy_from_slice(&64u16.to_le_bytes());
        e[60..62].copy_from_slice(&3u16.to_le_bytes());
        e[62..64].copy_from_slice(&2u16.to_le_bytes());
        e[info_off as usize..names_off as usize].copy_from_slice(&info);
        e[names_off as usize..names_off as usize + names.len()].copy_from_slice(names);
        let mut sh = |i: u64, name: u32, offset: u64, size: u64| {
            let at = (sh_off + i * 64) as usize;
            e[at..at + 4].copy_from_slice(&name.to_le_bytes());
            e[at + 24..at + 32].copy_from_slice(&offset.to_le_bytes());
            e[at + 32..at + 40].copy_from_slice(&size.to_le_bytes());
        };
        sh(1, 1, info_off, info.len() as u64);
        sh(2, 10, names_off, names.len() as u64);
        e
    }

    #[test]
    fn reads_interp_needed_and_runpath() {
        let elf = fake_elf(
            Some("/lib64/ld-linux-x86-64.so.2"),
            &["libxenlight.so.4.17", "libc.so.6"],
            Some("$ORIGIN/../lib:/opt/x"),
        );
        let info = dynamic_info(&elf).unwrap();
        assert_eq!(info.interp.as_deref(), Some("/lib64/ld-linux-x86-64.so.2"));
        assert_eq!(info.needed, ["libxenlight.so.4.17", "libc.so.6"]);
        assert_eq!(info.runpath, ["$ORIGIN/../lib", "/opt/x"]);
    }

    #[test]
    fn library_without_interpreter() {
        let info = dynamic_info(&fake_elf(None, &["libc.so.6"], None)).unwrap();
        assert_eq!(info.interp, None);
        assert_eq!(info.needed, ["libc.so.6"]);
        assert!(info.runpath.is_empty());
        assert!(dynamic_info(b"#!/bin/sh\n").is_err());
    }

    #[test]
    fn module_dependencies() {
        let ko = fake_module(&[
            "license=GPL",
            "depends=xen-front,bar_baz",
            "name=xen_gntdev",
        ]);
        assert_eq!(module_depends(&ko).unwrap(), ["xen-front", "bar_baz"]);
        let none = fake_module(&["depends=", "name=xenfs"]);
        assert!(module_depends(&none).unwrap().is_empty());
    }

    /// The real thing, when the host has it: /bin/ls needs libc.
    #[test]
    fn host_binary() {
        let Ok(bytes) = std::fs::read("/bin/ls") else {
            return;
        };
        let info = dynamic_info(&bytes).unwrap();
        if info.interp.is_some() {
            assert!(info.needed.iter().any(|n| n.starts_with("libc.so")));
        }
    }
}
