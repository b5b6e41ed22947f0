//! The host's ACPI tables: which CPUs exist (MADT) and how to switch the
//! machine off (FADT PM1a control block plus the `\_S5` sleep type from the
//! DSDT).

use core::ptr::NonNull;

use acpi::address::AddressSpace;
use acpi::fadt::Fadt;
use acpi::madt::{Madt, MadtEntry};
use acpi::{AcpiHandler, AcpiTables, PhysicalMapping};

use super::paging::phys_to_virt;
use super::percpu::MAX_CPUS;

/// Reads ACPI tables through the direct map, which covers every range the
/// firmware reports, ACPI and reserved ones included.
#[derive(Clone, Copy)]
struct DirectMap;

impl AcpiHandler for DirectMap {
    unsafe fn map_physical_region<T>(&self, pa: usize, size: usize) -> PhysicalMapping<Self, T> {
        let va = NonNull::new(phys_to_virt(pa as u64) as *mut T).expect("direct map is never null");
        // SAFETY: the direct map covers the tables the firmware described;
        // the mapping is permanent, so nothing needs unmapping.
        unsafe { PhysicalMapping::new(pa, va, size, size, *self) }
    }

    fn unmap_physical_region<T>(_region: &PhysicalMapping<Self, T>) {}
}

/// What rxen needs from the host's ACPI tables.
pub struct Platform {
    /// APIC IDs of the usable CPUs, the boot CPU among them.
    pub apic_ids: [u32; MAX_CPUS],
    pub cpu_count: usize,
    /// CPUs listed beyond MAX_CPUS (not started).
    pub cpus_ignored: usize,
    /// ACPI soft-off: (PM1a control port, value to write).
    pub soft_off: Option<(u16, u16)>,
}

/// Finds the tables (at `rsdp` if the boot loader said where, else by the
/// BIOS-area scan) and reads them.
pub fn discover(rsdp: Option<u64>) -> Result<Platform, acpi::AcpiError> {
    // SAFETY: either the boot loader gave the RSDP address, or this is a
    // BIOS machine (PVH under QEMU, GRUB on BIOS) whose RSDP lies in the
    // BIOS area; both are in the direct map.
    let tables = unsafe {
        match rsdp {
            Some(addr) => AcpiTables::from_rsdp(DirectMap, addr as usize)?,
            None => AcpiTables::search_for_rsdp_bios(DirectMap)?,
        }
    };
    let mut platform = Platform {
        apic_ids: [0; MAX_CPUS],
        cpu_count: 0,
        cpus_ignored: 0,
        soft_off: None,
    };
    let madt = tables.find_table::<Madt>()?;
    for entry in madt.get().entries() {
        let (id, enabled) = match entry {
            MadtEntry::LocalApic(e) => (u32::from(e.apic_id), e.flags & 1 != 0),
            MadtEntry::LocalX2Apic(e) => (e.x2apic_id, e.flags & 1 != 0),
            _ => continue,
        };
        if !enabled {
            continue;
        }
        if platform.cpu_count < MAX_CPUS {
            platform.apic_ids[platform.cpu_count] = id;
            platform.cpu_count += 1;
        } else {
            platform.cpus_ignored += 1;
        }
    }
    platform.soft_off = soft_off(&tables);
    Ok(platform)
}

fn soft_off(tables: &AcpiTables<DirectMap>) -> Option<(u16, u16)> {
    let fadt = tables.find_table::<Fadt>().ok()?;
    let pm1a = fadt.pm1a_control_block().ok()?;
    if pm1a.address_space != AddressSpace::SystemIo || pm1a.address == 0 {
        return None;
    }
    let dsdt = tables.dsdt().ok()?;
    // SAFETY: the DSDT body lies in firmware-reported memory (direct map).
    let aml = unsafe {
        core::slice::from_raw_parts(phys_to_virt(dsdt.address as u64), dsdt.length as usize)
    };
    let slp_typ = s5_sleep_type(aml)?;
    Some((pm1a.address as u16, (u16::from(slp_typ) << 10) | (1 << 13)))
}

/// Finds `Name(_S5_, Package(){ SLP_TYPa, ... })` in AML and returns
/// SLP_TYPa. A full AML interpreter is not needed for this one constant.
fn s5_sleep_type(aml: &[u8]) -> Option<u8> {
    let at = aml.windows(4).position(|w| w == b"_S5_")?;
    let rest = aml.get(at + 4..)?;
    if *rest.first()? != 0x12 {
        return None; // not a PackageOp
    }
    // PkgLength: the top two bits of its first byte count the bytes after it.
    let len_bytes = usize::from(rest.get(1)? >> 6);
    let element = rest.get(2 + len_bytes + 1..)?; // skip NumElements
    match *element.first()? {
        0x0A => element.get(1).copied(), // BytePrefix
        0x00 => Some(0),                 // ZeroOp
        0x01 => Some(1),                 // OneOp
        _ => None,
    }
}
