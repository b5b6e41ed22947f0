//! ACPI tables for a PVH guest, shaped like the ones Xen's libxl builds.
//!
//! Linux needs them even for one vCPU: the MADT's Local APIC entries are
//! its only way to find CPUs, and without them it never starts the Xen timer.
//! The blob placed at [`ACPI_GPA`] holds, in this order:
//!
//! | offset | table | notes |
//! |--------|-------|-------|
//! | 0x000 | RSDP | revision 2, 36 bytes, RSDT and XSDT addresses, both checksums |
//! | 0x040 | FACS | 64 bytes, 64-byte aligned, version 2 |
//! | 0x080 | RSDT | 32-bit pointers to FADT and MADT (for `acpi=rsdt`) |
//! | 0x0B0 | XSDT | 64-bit pointers to FADT and MADT |
//! | 0x0F0 | FADT | revision 5, 268 bytes, hardware-full (see below) |
//! | 0x200 | DSDT | only `Name (\_S5, Package (4) {0, 0, 0, 0})` |
//! | 0x240 | MADT | LAPIC at [`LAPIC_GPA`], PCAT_COMPAT, one Local APIC per vCPU |
//!
//! The FADT declares, as libxl does, PM1a_EVT_BLK = I/O [`PM1A_EVT_PORT`]
//! (4 bytes) and PM1a_CNT_BLK = I/O [`PM1A_CNT_PORT`] (2 bytes), SCI_INT 9,
//! SMI_CMD 0 ("already in ACPI mode"), no PM timer, no GPE blocks, no reset
//! register; IAPC_BOOT_ARCH = NO_VGA | NO_CMOS_RTC (8042 and legacy-devices
//! bits clear); flags WBINVD | PROC_C1 | PWR_BUTTON | SLP_BUTTON | FIX_RTC |
//! FORCE_APIC_PHYSICAL_DESTINATION_MODE, so Linux addresses IPIs by APIC ID.
//! Unlike Xen's PVH DSDT, ours has `\_S5`, so Linux registers ACPI power-off:
//! it writes `SLP_TYP = 0 | SLP_EN` ([`PM1_CNT_SLP_EN`]) to PM1a_CNT, which
//! the hypervisor turns into a power-off. Tables other than the RSDP and
//! FACS carry OEM id `"RXEN  "`, table id `"RXEN    "` and creator `"RXEN"`.

use alloc::vec;
use alloc::vec::Vec;
use core::mem::{offset_of, size_of};

use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::{FromBytes, FromZeros, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::{apic_id, VcpuCount, ACPI_GPA, LAPIC_GPA};

/// I/O port of the PM1a event block (status at +0, enable at +2).
pub const PM1A_EVT_PORT: u16 = 0xB000;
/// Length of the PM1a event block in bytes.
pub const PM1_EVT_LEN: u8 = 4;
/// I/O port of the PM1a control register (16 bits).
pub const PM1A_CNT_PORT: u16 = 0xB004;
/// Length of the PM1a control block in bytes.
pub const PM1_CNT_LEN: u8 = 2;
/// SCI_EN in PM1a_CNT: reads should return it set (ACPI mode is on).
pub const PM1_CNT_SCI_EN: u16 = 1 << 0;
/// SLP_EN in PM1a_CNT: a write with it set enters the state in SLP_TYP.
pub const PM1_CNT_SLP_EN: u16 = 1 << 13;
/// Shift of the 3-bit SLP_TYP field in PM1a_CNT.
pub const PM1_CNT_SLP_TYP_SHIFT: u32 = 10;
/// SLP_TYP value of `\_S5` (soft off) in our DSDT.
pub const SLP_TYP_S5: u16 = 0;
/// SCI interrupt in the FADT (not routable without an IO-APIC; harmless).
pub const SCI_INT: u16 = 9;

/// FADT flag bits (ACPI 6.5 table 5.10).
pub mod fadt_flags {
    /// WBINVD works.
    pub const WBINVD: u32 = 1 << 0;
    /// C1 is supported on all processors.
    pub const PROC_C1: u32 = 1 << 2;
    /// The power button is not a fixed feature (there is none).
    pub const PWR_BUTTON: u32 = 1 << 4;
    /// The sleep button is not a fixed feature (there is none).
    pub const SLP_BUTTON: u32 = 1 << 5;
    /// RTC wake status is not in the fixed register space.
    pub const FIX_RTC: u32 = 1 << 6;
    /// Local APICs must use physical destination mode.
    pub const FORCE_APIC_PHYSICAL_DESTINATION_MODE: u32 = 1 << 19;
    /// Hardware-reduced ACPI (we are hardware-full: clear).
    pub const HW_REDUCED_ACPI: u32 = 1 << 20;
}

/// FADT IAPC_BOOT_ARCH bits.
pub mod iapc_boot_arch {
    /// Legacy (ISA/LPC) devices are present.
    pub const LEGACY_DEVICES: u16 = 1 << 0;
    /// An 8042 keyboard controller is present.
    pub const I8042: u16 = 1 << 1;
    /// Do not probe VGA.
    pub const NO_VGA: u16 = 1 << 2;
    /// There is no CMOS RTC.
    pub const NO_CMOS_RTC: u16 = 1 << 5;
}

/// `Name (\_S5, Package (4) {0, 0, 0, 0})`: NameOp, root prefix, "_S5_",
/// PackageOp, PkgLength 6, NumElements 4, four ZeroOps.
pub const S5_AML: [u8; 13] = [
    0x08, 0x5C, b'_', b'S', b'5', b'_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00,
];

const OEM_ID: [u8; 6] = *b"RXEN  ";
const OEM_TABLE_ID: [u8; 8] = *b"RXEN    ";
const CREATOR_ID: [u8; 4] = *b"RXEN";
const OEM_REVISION: u32 = 1;
const CREATOR_REVISION: u32 = 1;

/// ACPI system description table header.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
pub(crate) struct SdtHeader {
    pub signature: [u8; 4],
    pub length: U32,
    pub revision: u8,
    pub checksum: u8,
    pub oem_id: [u8; 6],
    pub oem_table_id: [u8; 8],
    pub oem_revision: U32,
    pub creator_id: [u8; 4],
    pub creator_revision: U32,
}

/// Root System Description Pointer, revision 2.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
pub(crate) struct Rsdp {
    pub signature: [u8; 8],
    pub checksum: u8,
    pub oem_id: [u8; 6],
    pub revision: u8,
    pub rsdt_address: U32,
    pub length: U32,
    pub xsdt_address: U64,
    pub extended_checksum: u8,
    pub reserved: [u8; 3],
}

/// Generic Address Structure.
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
pub(crate) struct Gas {
    pub space_id: u8,
    pub bit_width: u8,
    pub bit_offset: u8,
    pub access_size: u8,
    pub address: U64,
}

/// GAS address space: system I/O.
const GAS_SYSTEM_IO: u8 = 1;

impl Gas {
    fn io(port: u16, bytes: u8) -> Self {
        Self {
            space_id: GAS_SYSTEM_IO,
            bit_width: bytes * 8,
            bit_offset: 0,
            access_size: 0,
            address: U64::new(port.into()),
        }
    }
}

/// Fixed ACPI Description Table, revision 5 (ACPI 5.0/5.1: 268 bytes).
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
pub(crate) struct Fadt {
    pub header: SdtHeader,
    pub firmware_ctrl: U32,
    pub dsdt: U32,
    pub reserved0: u8,
    pub preferred_pm_profile: u8,
    pub sci_int: U16,
    pub smi_cmd: U32,
    pub acpi_enable: u8,
    pub acpi_disable: u8,
    pub s4bios_req: u8,
    pub pstate_cnt: u8,
    pub pm1a_evt_blk: U32,
    pub pm1b_evt_blk: U32,
    pub pm1a_cnt_blk: U32,
    pub pm1b_cnt_blk: U32,
    pub pm2_cnt_blk: U32,
    pub pm_tmr_blk: U32,
    pub gpe0_blk: U32,
    pub gpe1_blk: U32,
    pub pm1_evt_len: u8,
    pub pm1_cnt_len: u8,
    pub pm2_cnt_len: u8,
    pub pm_tmr_len: u8,
    pub gpe0_blk_len: u8,
    pub gpe1_blk_len: u8,
    pub gpe1_base: u8,
    pub cst_cnt: u8,
    pub p_lvl2_lat: U16,
    pub p_lvl3_lat: U16,
    pub flush_size: U16,
    pub flush_stride: U16,
    pub duty_offset: u8,
    pub duty_width: u8,
    pub day_alrm: u8,
    pub mon_alrm: u8,
    pub century: u8,
    pub iapc_boot_arch: U16,
    pub reserved1: u8,
    pub flags: U32,
    pub reset_reg: Gas,
    pub reset_value: u8,
    pub arm_boot_arch: U16,
    pub minor_version: u8,
    pub x_firmware_ctrl: U64,
    pub x_dsdt: U64,
    pub x_pm1a_evt_blk: Gas,
    pub x_pm1b_evt_blk: Gas,
    pub x_pm1a_cnt_blk: Gas,
    pub x_pm1b_cnt_blk: Gas,
    pub x_pm2_cnt_blk: Gas,
    pub x_pm_tmr_blk: Gas,
    pub x_gpe0_blk: Gas,
    pub x_gpe1_blk: Gas,
    pub sleep_control_reg: Gas,
    pub sleep_status_reg: Gas,
}

/// Firmware ACPI Control Structure (no checksum, 64-byte aligned).
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
pub(crate) struct Facs {
    pub signature: [u8; 4],
    pub length: U32,
    pub hardware_signature: U32,
    pub firmware_waking_vector: U32,
    pub global_lock: U32,
    pub flags: U32,
    pub x_firmware_waking_vector: U64,
    pub version: u8,
    pub reserved: [u8; 3],
    pub ospm_flags: U32,
    pub reserved2: [u8; 24],
}

/// MADT header (after it: interrupt controller structures).
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
pub(crate) struct MadtHeader {
    pub header: SdtHeader,
    pub lapic_address: U32,
    pub flags: U32,
}

/// MADT flag: the system also has dual 8259s (PCAT_COMPAT), as Xen says.
const MADT_PCAT_COMPAT: u32 = 1 << 0;

/// MADT Processor Local APIC structure (type 0).
#[derive(Clone, Copy, Debug, FromBytes, IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
pub(crate) struct MadtLocalApic {
    pub kind: u8,
    pub length: u8,
    pub processor_id: u8,
    pub apic_id: u8,
    pub flags: U32,
}

/// Local APIC flag: the processor is enabled.
const LAPIC_ENABLED: u32 = 1 << 0;

// Fixed by the ACPI specification; fail the build if a field moves.
const _: () = {
    assert!(size_of::<SdtHeader>() == 36);
    assert!(size_of::<Rsdp>() == 36);
    assert!(offset_of!(Rsdp, length) == 20);
    assert!(offset_of!(Rsdp, extended_checksum) == 32);
    assert!(size_of::<Gas>() == 12);
    assert!(size_of::<Facs>() == 64);
    assert!(size_of::<Fadt>() == 268);
    assert!(offset_of!(Fadt, smi_cmd) == 48);
    assert!(offset_of!(Fadt, pm1a_evt_blk) == 56);
    assert!(offset_of!(Fadt, pm1a_cnt_blk) == 64);
    assert!(offset_of!(Fadt, pm1_evt_len) == 88);
    assert!(offset_of!(Fadt, pm1_cnt_len) == 89);
    assert!(offset_of!(Fadt, iapc_boot_arch) == 109);
    assert!(offset_of!(Fadt, flags) == 112);
    assert!(offset_of!(Fadt, reset_reg) == 116);
    assert!(offset_of!(Fadt, x_firmware_ctrl) == 132);
    assert!(offset_of!(Fadt, x_dsdt) == 140);
    assert!(offset_of!(Fadt, x_pm1a_evt_blk) == 148);
    assert!(offset_of!(Fadt, x_pm1a_cnt_blk) == 172);
    assert!(offset_of!(Fadt, sleep_control_reg) == 244);
    assert!(offset_of!(Fadt, sleep_status_reg) == 256);
    assert!(size_of::<MadtHeader>() == 44);
    assert!(size_of::<MadtLocalApic>() == 8);
};

const fn align_up(x: usize, align: usize) -> usize {
    x.div_ceil(align) * align
}

/// Tables referenced from the RSDT and XSDT.
const ROOT_ENTRIES: usize = 2;

pub(crate) const RSDP_OFFSET: usize = 0;
pub(crate) const FACS_OFFSET: usize = align_up(RSDP_OFFSET + size_of::<Rsdp>(), 64);
pub(crate) const RSDT_OFFSET: usize = align_up(FACS_OFFSET + size_of::<Facs>(), 16);
const RSDT_LEN: usize = size_of::<SdtHeader>() + 4 * ROOT_ENTRIES;
pub(crate) const XSDT_OFFSET: usize = align_up(RSDT_OFFSET + RSDT_LEN, 16);
const XSDT_LEN: usize = size_of::<SdtHeader>() + 8 * ROOT_ENTRIES;
pub(crate) const FADT_OFFSET: usize = align_up(XSDT_OFFSET + XSDT_LEN, 16);
pub(crate) const DSDT_OFFSET: usize = align_up(FADT_OFFSET + size_of::<Fadt>(), 16);
const DSDT_LEN: usize = size_of::<SdtHeader>() + S5_AML.len();
pub(crate) const MADT_OFFSET: usize = align_up(DSDT_OFFSET + DSDT_LEN, 16);

const _: () = {
    assert!(FACS_OFFSET == 0x40 && RSDT_OFFSET == 0x80 && XSDT_OFFSET == 0xB0);
    assert!(FADT_OFFSET == 0xF0 && DSDT_OFFSET == 0x200 && MADT_OFFSET == 0x240);
    // Every address fits the 32-bit fields (RSDT, FADT FIRMWARE_CTRL/DSDT).
    assert!(ACPI_GPA + 0x10000 <= u32::MAX as u64);
};

/// Size in bytes of the blob [`acpi_tables`] returns.
pub fn acpi_tables_len(vcpus: VcpuCount) -> usize {
    MADT_OFFSET + size_of::<MadtHeader>() + size_of::<MadtLocalApic>() * vcpus.get() as usize
}

const fn gpa(offset: usize) -> u64 {
    ACPI_GPA + offset as u64
}

fn header(signature: [u8; 4], length: usize, revision: u8) -> SdtHeader {
    SdtHeader {
        signature,
        length: U32::new(length as u32),
        revision,
        checksum: 0,
        oem_id: OEM_ID,
        oem_table_id: OEM_TABLE_ID,
        oem_revision: U32::new(OEM_REVISION),
        creator_id: CREATOR_ID,
        creator_revision: U32::new(CREATOR_REVISION),
    }
}

/// The byte that makes `bytes` (with it at zero) sum to 0 mod 256.
fn checksum(bytes: &[u8]) -> u8 {
    0u8.wrapping_sub(bytes.iter().fold(0u8, |sum, &b| sum.wrapping_add(b)))
}

/// Copies a table into the blob and sets its header checksum.
fn put_table(blob: &mut [u8], offset: usize, parts: &[&[u8]]) {
    let mut end = offset;
    for part in parts {
        blob[end..end + part.len()].copy_from_slice(part);
        end += part.len();
    }
    let table = &mut blob[offset..end];
    table[offset_of!(SdtHeader, checksum)] = 0;
    table[offset_of!(SdtHeader, checksum)] = checksum(table);
}

fn rsdp() -> Rsdp {
    let mut rsdp = Rsdp {
        signature: *b"RSD PTR ",
        checksum: 0,
        oem_id: OEM_ID,
        revision: 2,
        rsdt_address: U32::new(gpa(RSDT_OFFSET) as u32),
        length: U32::new(size_of::<Rsdp>() as u32),
        xsdt_address: U64::new(gpa(XSDT_OFFSET)),
        extended_checksum: 0,
        reserved: [0; 3],
    };
    // The first checksum covers the ACPI 1.0 part (20 bytes), the extended
    // one the whole structure including the first.
    rsdp.checksum = checksum(&rsdp.as_bytes()[..offset_of!(Rsdp, length)]);
    rsdp.extended_checksum = checksum(rsdp.as_bytes());
    rsdp
}

fn facs() -> Facs {
    let mut facs = Facs::new_zeroed();
    facs.signature = *b"FACS";
    facs.length = U32::new(size_of::<Facs>() as u32);
    facs.version = 2;
    facs
}

fn fadt() -> Fadt {
    use fadt_flags::*;
    let mut fadt = Fadt::new_zeroed();
    fadt.header = header(*b"FACP", size_of::<Fadt>(), 5);
    // The FACS is below 4 GiB, so only the 32-bit pointer is set: ACPI 5.0
    // requires one of FIRMWARE_CTRL / X_FIRMWARE_CTRL to be zero.
    fadt.firmware_ctrl = U32::new(gpa(FACS_OFFSET) as u32);
    fadt.dsdt = U32::new(gpa(DSDT_OFFSET) as u32);
    fadt.x_dsdt = U64::new(gpa(DSDT_OFFSET));
    fadt.sci_int = U16::new(SCI_INT);
    fadt.smi_cmd = U32::new(0);
    fadt.pm1a_evt_blk = U32::new(PM1A_EVT_PORT.into());
    fadt.pm1a_cnt_blk = U32::new(PM1A_CNT_PORT.into());
    fadt.pm1_evt_len = PM1_EVT_LEN;
    fadt.pm1_cnt_len = PM1_CNT_LEN;
    fadt.x_pm1a_evt_blk = Gas::io(PM1A_EVT_PORT, PM1_EVT_LEN);
    fadt.x_pm1a_cnt_blk = Gas::io(PM1A_CNT_PORT, PM1_CNT_LEN);
    // > 100 and > 1000 microseconds: C2 and C3 are not supported.
    fadt.p_lvl2_lat = U16::new(0x0FFF);
    fadt.p_lvl3_lat = U16::new(0x0FFF);
    fadt.iapc_boot_arch = U16::new(iapc_boot_arch::NO_VGA | iapc_boot_arch::NO_CMOS_RTC);
    fadt.flags = U32::new(
        WBINVD | PROC_C1 | PWR_BUTTON | SLP_BUTTON | FIX_RTC | FORCE_APIC_PHYSICAL_DESTINATION_MODE,
    );
    fadt
}

/// The ACPI tables for a guest with `vcpus` vCPUs, to copy to [`ACPI_GPA`]
/// (the RSDP is first; `hvm_start_info.rsdp_paddr` = [`ACPI_GPA`]). All
/// addresses inside assume that placement. Layout: see the [module
/// documentation](self).
pub fn acpi_tables(vcpus: VcpuCount) -> Vec<u8> {
    let len = acpi_tables_len(vcpus);
    let mut blob = vec![0u8; len];

    let rsdp = rsdp();
    blob[RSDP_OFFSET..RSDP_OFFSET + size_of::<Rsdp>()].copy_from_slice(rsdp.as_bytes());
    let facs = facs();
    blob[FACS_OFFSET..FACS_OFFSET + size_of::<Facs>()].copy_from_slice(facs.as_bytes());

    let tables = [gpa(FADT_OFFSET), gpa(MADT_OFFSET)];
    let rsdt_entries = tables.map(|t| U32::new(t as u32));
    put_table(
        &mut blob,
        RSDT_OFFSET,
        &[
            header(*b"RSDT", RSDT_LEN, 1).as_bytes(),
            rsdt_entries.as_bytes(),
        ],
    );
    let xsdt_entries = tables.map(U64::new);
    put_table(
        &mut blob,
        XSDT_OFFSET,
        &[
            header(*b"XSDT", XSDT_LEN, 1).as_bytes(),
            xsdt_entries.as_bytes(),
        ],
    );

    put_table(&mut blob, FADT_OFFSET, &[fadt().as_bytes()]);
    // Revision 2: 64-bit AML integers.
    put_table(
        &mut blob,
        DSDT_OFFSET,
        &[header(*b"DSDT", DSDT_LEN, 2).as_bytes(), &S5_AML],
    );

    let madt = MadtHeader {
        header: header(*b"APIC", len - MADT_OFFSET, 3),
        lapic_address: U32::new(LAPIC_GPA as u32),
        flags: U32::new(MADT_PCAT_COMPAT),
    };
    let lapics: Vec<MadtLocalApic> = (0..vcpus.get())
        .map(|vcpu| MadtLocalApic {
            kind: 0,
            length: size_of::<MadtLocalApic>() as u8,
            // VcpuCount caps vCPUs at 128, so both fit in a byte.
            processor_id: vcpu as u8,
            apic_id: apic_id(vcpu) as u8,
            flags: U32::new(LAPIC_ENABLED),
        })
        .collect();
    put_table(
        &mut blob,
        MADT_OFFSET,
        &[madt.as_bytes(), lapics.as_slice().as_bytes()],
    );
    blob
}
