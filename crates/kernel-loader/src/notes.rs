//! Xen ELF notes (`xen/include/public/elfnote.h`): how a kernel tells a Xen
//! domain builder where to enter it and what it supports.

use alloc::string::String;

use crate::bytes::{to_usize, u16_at, u32_at, u64_at, u8_at};
use crate::LoadError;

/// Note types from `elfnote.h` that matter to a PVH builder (or are worth
/// showing to a user). PV-only notes (11, 13–16) are not collected.
mod note_type {
    pub(super) const ENTRY: u32 = 1;
    pub(super) const HYPERCALL_PAGE: u32 = 2;
    pub(super) const VIRT_BASE: u32 = 3;
    pub(super) const PADDR_OFFSET: u32 = 4;
    pub(super) const XEN_VERSION: u32 = 5;
    pub(super) const GUEST_OS: u32 = 6;
    pub(super) const GUEST_VERSION: u32 = 7;
    pub(super) const LOADER: u32 = 8;
    pub(super) const PAE_MODE: u32 = 9;
    pub(super) const FEATURES: u32 = 10;
    pub(super) const HV_START_LOW: u32 = 12;
    pub(super) const SUPPORTED_FEATURES: u32 = 17;
    pub(super) const PHYS32_ENTRY: u32 = 18;
    pub(super) const PHYS32_RELOC: u32 = 19;
}

/// The Xen notes a kernel carries; `None` for each note it lacks.
///
/// Numeric notes are 4 or 8 bytes depending on the note (and the kernel's
/// word size), so all are widened to `u64`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XenNotes {
    /// 1: the PV entry point (a virtual address). Not used for PVH.
    pub entry: Option<u64>,
    /// 2: where the kernel wants the hypercall page. Kernels with the
    /// XSA-466 fix (Debian 6.1.192+) no longer have it.
    pub hypercall_page: Option<u64>,
    /// 3: the PV virtual base.
    pub virt_base: Option<u64>,
    /// 4: the PV physical-address offset.
    pub paddr_offset: Option<u64>,
    /// 5: the Xen interface version the kernel was written for ("xen-3.0").
    pub xen_version: Option<String>,
    /// 6: the guest OS name ("linux").
    pub guest_os: Option<String>,
    /// 7: the guest OS version string.
    pub guest_version: Option<String>,
    /// 8: the loader the kernel expects ("generic").
    pub loader: Option<String>,
    /// 9: PV PAE mode ("yes", "bimodal", ...).
    pub pae_mode: Option<String>,
    /// 10: the PV feature string ("!writable_page_tables|pae_pgdir_above_4gb").
    pub features: Option<String>,
    /// 12: the lowest virtual address a PV hypervisor may use.
    pub hv_start_low: Option<u64>,
    /// 17: XENFEAT_* bits the kernel supports (a hint to the builder).
    pub supported_features: Option<u64>,
    /// 18: the 32-bit physical PVH entry point.
    pub phys32_entry: Option<u64>,
    /// 19: whether, and where, the kernel may be loaded elsewhere.
    pub phys32_reloc: Option<Phys32Reloc>,
}

/// `XEN_ELFNOTE_PHYS32_RELOC`: the kernel may be loaded at any `align`ed
/// physical address in `[min, max]` instead of its link address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phys32Reloc {
    pub align: u32,
    pub min: Option<u32>,
    pub max: Option<u32>,
}

/// Owner name of Xen's notes; other owners' notes share the same segment.
const XEN_OWNER: &[u8] = b"Xen";
/// Size of the note header: namesz, descsz, type (32 bits each, even in ELF64).
const NOTE_HEADER_LEN: usize = 12;

impl XenNotes {
    /// Collects the Xen notes in the contents of one `PT_NOTE` segment.
    pub(crate) fn collect_from(&mut self, segment: &[u8]) -> Result<(), LoadError> {
        let mut at = 0;
        // Fewer bytes than a note header left over is padding, not a note.
        while segment.len().saturating_sub(at) >= NOTE_HEADER_LEN {
            let note = Note::parse(segment, at)?;
            at = note.next;
            if note.owner.strip_suffix(b"\0").unwrap_or(note.owner) == XEN_OWNER {
                self.record(note.kind, note.desc)?;
            }
        }
        Ok(())
    }

    fn record(&mut self, kind: u32, desc: &[u8]) -> Result<(), LoadError> {
        if let Some(slot) = self.numeric_slot(kind) {
            *slot = Some(numeric(desc)?);
        } else if let Some(slot) = self.text_slot(kind) {
            *slot = Some(text(desc));
        } else if kind == note_type::PHYS32_RELOC {
            self.phys32_reloc = Some(phys32_reloc(desc)?);
        }
        Ok(())
    }

    fn numeric_slot(&mut self, kind: u32) -> Option<&mut Option<u64>> {
        use note_type::*;
        Some(match kind {
            ENTRY => &mut self.entry,
            HYPERCALL_PAGE => &mut self.hypercall_page,
            VIRT_BASE => &mut self.virt_base,
            PADDR_OFFSET => &mut self.paddr_offset,
            HV_START_LOW => &mut self.hv_start_low,
            SUPPORTED_FEATURES => &mut self.supported_features,
            PHYS32_ENTRY => &mut self.phys32_entry,
            _ => return None,
        })
    }

    fn text_slot(&mut self, kind: u32) -> Option<&mut Option<String>> {
        use note_type::*;
        Some(match kind {
            XEN_VERSION => &mut self.xen_version,
            GUEST_OS => &mut self.guest_os,
            GUEST_VERSION => &mut self.guest_version,
            LOADER => &mut self.loader,
            PAE_MODE => &mut self.pae_mode,
            FEATURES => &mut self.features,
            _ => return None,
        })
    }
}

/// One note: `namesz`, `descsz`, `type`, then name and descriptor, each
/// padded to 4 bytes. We always use 4-byte padding, as Xen's libelf does,
/// rather than trusting the segment's `p_align`, which may be 8 when other
/// notes share the segment.
struct Note<'a> {
    kind: u32,
    owner: &'a [u8],
    desc: &'a [u8],
    /// Offset of the following note.
    next: usize,
}

impl<'a> Note<'a> {
    fn parse(segment: &'a [u8], at: usize) -> Result<Self, LoadError> {
        let malformed = LoadError::BadElf("an ELF note runs past the end of its segment");
        let field = |offset: usize| {
            at.checked_add(offset)
                .and_then(|o| u32_at(segment, o))
                .and_then(to_usize)
                .ok_or(malformed.clone())
        };
        let (name_len, desc_len) = (field(0)?, field(4)?);
        let kind = u32_at(segment, at.wrapping_add(8)).ok_or(malformed.clone())?;
        let name_start = at.checked_add(NOTE_HEADER_LEN).ok_or(malformed.clone())?;
        let name_end = name_start.checked_add(name_len).ok_or(malformed.clone())?;
        let desc_start = align4(name_end).ok_or(malformed.clone())?;
        let desc_end = desc_start.checked_add(desc_len).ok_or(malformed.clone())?;
        let owner = segment.get(name_start..name_end).ok_or(malformed.clone())?;
        let desc = segment.get(desc_start..desc_end).ok_or(malformed.clone())?;
        // Padding after the last note may be missing; never step past the end.
        let next = align4(desc_end).ok_or(malformed)?.min(segment.len());
        Ok(Self {
            kind,
            owner,
            desc,
            next,
        })
    }
}

fn align4(offset: usize) -> Option<usize> {
    Some(offset.checked_add(3)? & !3)
}

/// A numeric note: a little-endian integer of 1, 2, 4 or 8 bytes (Xen's
/// `elf_note_numeric`).
fn numeric(desc: &[u8]) -> Result<u64, LoadError> {
    let value = match desc.len() {
        1 => u8_at(desc, 0).map(u64::from),
        2 => u16_at(desc, 0).map(u64::from),
        4 => u32_at(desc, 0).map(u64::from),
        8 => u64_at(desc, 0),
        _ => None,
    };
    value.ok_or(LoadError::BadElf(
        "a numeric Xen ELF note is not 1, 2, 4 or 8 bytes long",
    ))
}

/// A string note, NUL-terminated in the file.
fn text(desc: &[u8]) -> String {
    let end = desc.iter().position(|&b| b == 0).unwrap_or(desc.len());
    String::from_utf8_lossy(desc.get(..end).unwrap_or_default()).into_owned()
}

/// `PHYS32_RELOC`: align, then optionally min and max, as 32-bit words.
fn phys32_reloc(desc: &[u8]) -> Result<Phys32Reloc, LoadError> {
    let align = u32_at(desc, 0).ok_or(LoadError::BadElf(
        "the Xen PHYS32_RELOC note is shorter than 4 bytes",
    ))?;
    Ok(Phys32Reloc {
        align,
        min: u32_at(desc, 4),
        max: u32_at(desc, 8),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn note(owner: &[u8], kind: u32, desc: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&(owner.len() as u32).to_le_bytes());
        out.extend_from_slice(&(desc.len() as u32).to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(owner);
        out.resize(align4(out.len()).unwrap(), 0);
        out.extend_from_slice(desc);
        out.resize(align4(out.len()).unwrap(), 0);
        out
    }

    #[test]
    fn collects_xen_notes_and_skips_other_owners() {
        let mut segment = note(b"GNU\0", 18, &[0xAA; 4]);
        segment.extend(note(b"Xen\0", 18, &0x0100_0850u32.to_le_bytes()));
        segment.extend(note(b"Xen\0", 1, &0xFFFF_FFFF_8100_0000u64.to_le_bytes()));
        segment.extend(note(b"Xen\0", 6, b"linux\0"));
        segment.extend(note(b"Xen\0", 19, &[0, 0, 32, 0, 0, 0, 0, 1]));
        let mut notes = XenNotes::default();
        notes.collect_from(&segment).unwrap();
        assert_eq!(notes.phys32_entry, Some(0x0100_0850));
        assert_eq!(notes.entry, Some(0xFFFF_FFFF_8100_0000));
        assert_eq!(notes.guest_os.as_deref(), Some("linux"));
        assert_eq!(
            notes.phys32_reloc,
            Some(Phys32Reloc {
                align: 0x0020_0000,
                min: Some(0x0100_0000),
                max: None
            })
        );
        assert_eq!(notes.hypercall_page, None);
    }

    #[test]
    fn rejects_a_note_that_overruns_its_segment() {
        let mut segment = note(b"Xen\0", 18, &[0; 4]);
        segment.truncate(segment.len() - 1);
        assert!(XenNotes::default().collect_from(&segment).is_err());
        let huge = note(b"Xen\0", 18, &[0; 4]);
        let mut huge = huge.clone();
        huge[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(XenNotes::default().collect_from(&huge).is_err());
    }

    #[test]
    fn rejects_a_numeric_note_of_odd_size() {
        let segment = note(b"Xen\0", 18, &[1, 2, 3]);
        assert!(XenNotes::default().collect_from(&segment).is_err());
    }
}
