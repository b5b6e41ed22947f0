//! A local APIC's state as the LAPIC and LAPIC_REGS records carry it.
//!
//! Xen keeps a guest's APIC as the xAPIC register page (each 32-bit
//! register at its MMIO offset, 16 bytes apart) whatever the mode; an
//! x2APIC register at MSR `0x800 + n` is the page's register at `n << 4`.
//! [`LapicState`] is the part of it a hypervisor without an emulated APIC
//! timer keeps; [`LapicState::records`] and [`LapicState::from_records`]
//! convert, so that a guest moved between Xen and rxen finds its APIC as
//! it left it (x2APIC enabled, software-enabled, the vectors in service).

use crate::records::{HwLapic, HwLapicRegs};

/// `IA32_APIC_BASE`: the default base address.
pub const APIC_BASE_ADDRESS: u64 = 0xFEE0_0000;
/// `IA32_APIC_BASE.BSP`.
pub const APIC_BASE_BSP: u64 = 1 << 8;
/// `IA32_APIC_BASE.EXTD`: x2APIC mode.
pub const APIC_BASE_EXTD: u64 = 1 << 10;
/// `IA32_APIC_BASE.EN`.
pub const APIC_BASE_ENABLE: u64 = 1 << 11;
/// Xen's `VLAPIC_HW_DISABLED` (APIC_BASE.EN clear).
pub const VLAPIC_HW_DISABLED: u32 = 1;
/// Xen's `VLAPIC_SW_DISABLED` (SVR's enable bit clear).
pub const VLAPIC_SW_DISABLED: u32 = 2;
/// SVR bit 8: the APIC is software-enabled.
pub const SVR_ENABLE: u32 = 1 << 8;

/// Register offsets in the page (the xAPIC MMIO offsets).
const ID: usize = 0x20;
const VERSION: usize = 0x30;
const TPR: usize = 0x80;
const LDR: usize = 0xD0;
const SVR: usize = 0xF0;
const ISR: usize = 0x100;
const IRR: usize = 0x200;
const ESR: usize = 0x280;
const LVT_CMCI: usize = 0x2F0;
/// LVT timer, thermal, performance, LINT0, LINT1, error.
const LVT_FIRST: usize = 0x320;
const TIMER_INITIAL: usize = 0x380;
const TIMER_DIVIDE: usize = 0x3E0;

/// A saved APIC the guest uses in xAPIC mode or hardware-disabled: rxen's
/// guests have x2APIC only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnsupportedApicMode;

/// What a vCPU's local APIC holds, in x2APIC terms. `lvt` is in x2APIC MSR
/// order from 0x832 (timer, thermal, performance, LINT0, LINT1, error),
/// then CMCI (0x82F); `isr`/`irr` are 256 bits each, vector `v` at bit
/// `v % 64` of word `v / 64`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LapicState {
    /// The x2APIC ID.
    pub id: u32,
    /// The version register (read-only to the guest).
    pub version: u32,
    /// Task priority.
    pub tpr: u32,
    /// Logical destination.
    pub ldr: u32,
    /// Spurious-interrupt vector register (bit 8: enabled).
    pub svr: u32,
    /// Error status.
    pub esr: u32,
    /// The local vector table.
    pub lvt: [u32; 7],
    /// The timer's initial count.
    pub timer_initial: u32,
    /// The timer's divide configuration.
    pub timer_divide: u32,
    /// In service.
    pub isr: [u64; 4],
    /// Requested.
    pub irr: [u64; 4],
}

impl LapicState {
    /// The LAPIC and LAPIC_REGS records of an x2APIC-mode APIC (`bsp`: it
    /// is vCPU 0's). The timer's initial count goes as 0, for a timer that
    /// is not running: rxen does not emulate the APIC timer (its guests
    /// use Xen's), and a loader that does would otherwise start one.
    pub fn records(&self, bsp: bool) -> (HwLapic, HwLapicRegs) {
        let base = APIC_BASE_ADDRESS | APIC_BASE_ENABLE | APIC_BASE_EXTD;
        let hw = HwLapic {
            apic_base_msr: if bsp { base | APIC_BASE_BSP } else { base },
            disabled: if self.svr & SVR_ENABLE == 0 {
                VLAPIC_SW_DISABLED
            } else {
                0
            },
            timer_divisor: timer_divisor(self.timer_divide),
            tdt_msr: 0,
        };
        let mut regs = HwLapicRegs { data: [0; 1024] };
        let mut put = |offset: usize, v: u32| put_reg(&mut regs, offset, v);
        put(ID, self.id);
        put(VERSION, self.version);
        put(TPR, self.tpr);
        put(LDR, self.ldr);
        put(SVR, self.svr);
        put(ESR, self.esr);
        put(LVT_CMCI, self.lvt[6]);
        for (i, &v) in self.lvt[..6].iter().enumerate() {
            put(LVT_FIRST + i * 16, v);
        }
        put(TIMER_DIVIDE, self.timer_divide);
        for i in 0..8 {
            put(ISR + i * 16, half(&self.isr, i));
            put(IRR + i * 16, half(&self.irr, i));
        }
        (hw, regs)
    }

    /// The state in a LAPIC_REGS record, `hw` being its LAPIC record. The
    /// ID, LDR and version are the loader's own (a vCPU's APIC ID does not
    /// move); `ours` supplies them.
    ///
    /// `Ok(None)`: an APIC the guest never enabled (a vCPU it has not
    /// brought up has one in xAPIC mode, software-disabled): nothing to
    /// load. `Err`: one the guest uses in xAPIC mode, or hardware-disabled,
    /// which rxen cannot give it (its guests' APICs are x2APIC only).
    pub fn from_records(
        hw: &HwLapic,
        regs: &HwLapicRegs,
        ours: &Self,
    ) -> Result<Option<Self>, UnsupportedApicMode> {
        let get = |offset: usize| get_reg(regs, offset);
        let x2apic = APIC_BASE_ENABLE | APIC_BASE_EXTD;
        if hw.apic_base_msr & x2apic != x2apic || hw.disabled & VLAPIC_HW_DISABLED != 0 {
            let unused = hw.disabled & VLAPIC_SW_DISABLED != 0 || get(SVR) & SVR_ENABLE == 0;
            return if unused {
                Ok(None)
            } else {
                Err(UnsupportedApicMode)
            };
        }
        let mut s = Self {
            tpr: get(TPR) & 0xFF,
            svr: get(SVR) & 0x1FFF,
            esr: get(ESR),
            timer_initial: get(TIMER_INITIAL),
            timer_divide: get(TIMER_DIVIDE),
            ..*ours
        };
        if hw.disabled & VLAPIC_SW_DISABLED != 0 {
            s.svr &= !SVR_ENABLE;
        }
        s.lvt[6] = get(LVT_CMCI);
        for i in 0..6 {
            s.lvt[i] = get(LVT_FIRST + i * 16);
        }
        for i in 0..8 {
            set_half(&mut s.isr, i, get(ISR + i * 16));
            set_half(&mut s.irr, i, get(IRR + i * 16));
        }
        Ok(Some(s))
    }
}

/// Xen's `timer_divisor` for a divide-configuration value: bits 0, 1 and
/// 3 make a 3-bit code `c`; the divisor is `2^((c + 1) mod 8)`.
pub fn timer_divisor(divide: u32) -> u32 {
    let code = (divide & 3) | ((divide & 8) >> 1);
    1 << ((code + 1) & 7)
}

fn put_reg(regs: &mut HwLapicRegs, offset: usize, v: u32) {
    regs.data[offset..offset + 4].copy_from_slice(&v.to_le_bytes());
}

fn get_reg(regs: &HwLapicRegs, offset: usize) -> u32 {
    let mut b = [0; 4];
    b.copy_from_slice(&regs.data[offset..offset + 4]);
    u32::from_le_bytes(b)
}

/// The `i`th 32-bit register of a 256-bit bank.
fn half(bank: &[u64; 4], i: usize) -> u32 {
    (bank[i / 2] >> (32 * (i % 2))) as u32
}

fn set_half(bank: &mut [u64; 4], i: usize, v: u32) {
    let shift = 32 * (i % 2);
    bank[i / 2] = (bank[i / 2] & !(0xFFFF_FFFF << shift)) | (u64::from(v) << shift);
}
