//! Reading a `vmlinux` ELF executable (64-bit x86_64, or 32-bit i386 as
//! Xen also boots through PVH) into loadable segments and Xen notes,
//! validating everything (the file is untrusted).

use alloc::vec::Vec;

use elf::abi::{EM_386, EM_X86_64, ET_EXEC, PT_LOAD, PT_NOTE};
use elf::endian::LittleEndian;
use elf::file::Class;
use elf::segment::ProgramHeader;
use elf::ElfBytes;

use crate::notes::XenNotes;
use crate::{KernelImage, LoadError, Segment, MAX_KERNEL_BYTES};

pub(crate) const ELF_MAGIC: &[u8] = b"\x7fELF";

/// Parses a vmlinux and checks that it can be booted through PVH.
pub(crate) fn parse(elf: Vec<u8>) -> Result<KernelImage, LoadError> {
    let bytes = elf.as_slice();
    let file = ElfBytes::<LittleEndian>::minimal_parse(bytes)
        .map_err(|_| LoadError::BadElf("the ELF header is invalid (or not little-endian)"))?;
    check_header(&file)?;
    let phdrs = file
        .segments()
        .ok_or(LoadError::BadElf("there are no program headers"))?;

    let mut notes = XenNotes::default();
    let mut segments = Vec::new();
    for phdr in phdrs.iter() {
        let data = || {
            file.segment_data(&phdr).map_err(|_| {
                LoadError::BadElf("a segment lies beyond the end of the file (truncated?)")
            })
        };
        match phdr.p_type {
            PT_NOTE => notes.collect_from(data()?)?,
            PT_LOAD if phdr.p_memsz > 0 => {
                let data = data()?;
                // `segment_data` returned a sub-slice of `bytes`.
                let offset = data.as_ptr() as usize - bytes.as_ptr() as usize;
                segments.push(load_segment(&phdr, offset, data.len())?)
            }
            _ => {}
        }
    }
    check_layout(&mut segments)?;

    let pvh_entry = pvh_entry(&notes)?;
    if !segments.iter().any(|s| s.contains_file_byte(pvh_entry)) {
        return Err(LoadError::BadElf(
            "the PVH entry point is not inside any loaded segment",
        ));
    }
    Ok(KernelImage {
        segments,
        elf,
        pvh_entry,
        notes,
    })
}

fn check_header(file: &ElfBytes<'_, LittleEndian>) -> Result<(), LoadError> {
    let header = &file.ehdr;
    match (header.class, header.e_machine) {
        (Class::ELF64, EM_X86_64) | (Class::ELF32, EM_386) => {}
        (Class::ELF64, _) => return Err(LoadError::BadElf("not an x86_64 ELF file")),
        (Class::ELF32, _) => return Err(LoadError::BadElf("not an i386 ELF file")),
    }
    if header.e_type != ET_EXEC {
        return Err(LoadError::BadElf(
            "not an executable (a kernel is linked as ET_EXEC)",
        ));
    }
    Ok(())
}

/// Describes one `PT_LOAD` segment. It is placed at `p_paddr`: the PVH
/// entry runs with paging off, and some segments (`.data..percpu`) have a
/// virtual address of 0, so only the physical address is meaningful.
fn load_segment(
    phdr: &ProgramHeader,
    file_offset: usize,
    file_size: usize,
) -> Result<Segment, LoadError> {
    if phdr.p_filesz > phdr.p_memsz {
        return Err(LoadError::BadElf(
            "a segment has more file bytes than memory bytes",
        ));
    }
    if phdr.p_paddr.checked_add(phdr.p_memsz).is_none() {
        return Err(LoadError::BadElf(
            "a segment wraps around the physical address space",
        ));
    }
    Ok(Segment {
        paddr: phdr.p_paddr,
        file_offset,
        file_size,
        mem_size: phdr.p_memsz,
    })
}

/// Sorts the segments by address and rejects overlapping or oversized
/// layouts, so a domain builder can copy them without further checks.
fn check_layout(segments: &mut [Segment]) -> Result<(), LoadError> {
    if segments.is_empty() {
        return Err(LoadError::BadElf("there are no PT_LOAD segments"));
    }
    segments.sort_unstable_by_key(|s| s.paddr);
    let mut total: u64 = 0;
    let mut previous_end: u64 = 0;
    for segment in segments.iter() {
        if segment.paddr < previous_end {
            return Err(LoadError::BadElf("two PT_LOAD segments overlap"));
        }
        // `load_segment` checked that this cannot overflow.
        previous_end = segment.paddr.saturating_add(segment.mem_size);
        total = total.saturating_add(segment.mem_size);
    }
    if total > MAX_KERNEL_BYTES as u64 {
        return Err(LoadError::TooBig);
    }
    Ok(())
}

fn pvh_entry(notes: &XenNotes) -> Result<u32, LoadError> {
    match notes.phys32_entry {
        None | Some(0) => Err(LoadError::NoPvhEntry),
        Some(entry) => u32::try_from(entry).map_err(|_| {
            LoadError::BadElf("the PVH entry point (XEN_ELFNOTE_PHYS32_ENTRY) is above 4 GiB")
        }),
    }
}
