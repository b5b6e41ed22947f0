//! I/O ports of a PVH domain: nothing is emulated but the ACPI PM1 block
//! (so Linux can power off through `\_S5`) and Xen's 0xE9 debug port.
//! Other reads return all-ones and writes are dropped, as under Xen.

use rxen_guest_layout::acpi::{PM1A_CNT_PORT, PM1A_EVT_PORT, PM1_CNT_SCI_EN, PM1_CNT_SLP_EN};

pub const DEBUG_PORT: u16 = 0xE9;

pub enum PortWrite {
    None,
    /// Bytes for the domain's console.
    Console(u8),
    /// The guest entered ACPI S5 (soft off).
    PowerOff,
}

pub fn read(port: u16, size: u8) -> u32 {
    let ones = if size >= 4 {
        u32::MAX
    } else {
        (1u32 << (u32::from(size) * 8)) - 1
    };
    match port {
        p if p == PM1A_CNT_PORT => u32::from(PM1_CNT_SCI_EN),
        // No PIT: reading its counter as 0 (not all-ones) ends Linux's
        // quick PIT calibration at its first read instead of after 100 000
        // intercepted reads.
        0x40..=0x43 => 0,
        p if (PM1A_EVT_PORT..PM1A_EVT_PORT + 4).contains(&p) => 0,
        _ => ones,
    }
}

pub fn write(port: u16, value: u32) -> PortWrite {
    match port {
        DEBUG_PORT => PortWrite::Console(value as u8),
        p if p == PM1A_CNT_PORT && value & u32::from(PM1_CNT_SLP_EN) != 0 => {
            // SLP_TYP 0 is the \_S5 value in the DSDT rxen builds.
            let slp_typ = (value >> 10) & 7;
            if slp_typ == u32::from(rxen_guest_layout::acpi::SLP_TYP_S5) {
                PortWrite::PowerOff
            } else {
                PortWrite::None
            }
        }
        _ => PortWrite::None,
    }
}
