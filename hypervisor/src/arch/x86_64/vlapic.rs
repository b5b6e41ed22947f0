//! A virtual local APIC in x2APIC mode: guests reach it through MSRs
//! 0x800–0x8FF (no MMIO decoding needed). Enough for Linux: ID, version,
//! TPR, SVR, LVTs, ESR, EOI, IRR/ISR, self-IPIs and the ICR (INIT/SIPI and
//! fixed IPIs are handed to the caller to route).

use rxen_hvm_context::LapicState;

/// What an ICR write asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpiRequest {
    /// Deliver `vector` to the vCPU(s).
    Fixed {
        vector: u8,
        dest: IpiDest,
    },
    Nmi {
        dest: IpiDest,
    },
    Init {
        dest: IpiDest,
    },
    Startup {
        vector: u8,
        dest: IpiDest,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpiDest {
    /// Physical x2APIC ID.
    ApicId(u32),
    SelfOnly,
    AllIncludingSelf,
    AllExcludingSelf,
}

pub struct VirtualLapic {
    id: u32,
    tpr: u32,
    svr: u32,
    ldr: u32,
    esr: u32,
    lvt: [u32; 7],
    timer_initial: u32,
    timer_divide: u32,
    icr: u64,
    irr: [u64; 4],
    isr: [u64; 4],
}

const LVT_MASKED: u32 = 1 << 16;
/// Version 0x14, 6 LVT entries (max index 5).
const VERSION: u32 = 0x0005_0014;

impl VirtualLapic {
    pub fn new(apic_id: u32) -> Self {
        Self {
            id: apic_id,
            tpr: 0,
            svr: 0xFF,
            // x2APIC logical ID: cluster (id >> 4) in 31:16, 1 << (id & 15).
            ldr: ((apic_id >> 4) << 16) | (1 << (apic_id & 15)),
            esr: 0,
            lvt: [LVT_MASKED; 7],
            timer_initial: 0,
            timer_divide: 0,
            icr: 0,
            irr: [0; 4],
            isr: [0; 4],
        }
    }

    pub fn id(&self) -> u32 {
        self.id
    }

    /// The registers as Xen's LAPIC records carry them (save).
    pub fn state(&self) -> LapicState {
        LapicState {
            id: self.id,
            version: VERSION,
            tpr: self.tpr,
            ldr: self.ldr,
            svr: self.svr,
            esr: self.esr,
            lvt: self.lvt,
            timer_initial: self.timer_initial,
            timer_divide: self.timer_divide,
            isr: self.isr,
            irr: self.irr,
        }
    }

    /// Takes the registers a restored guest had; its ID and LDR stay this
    /// vCPU's (`LapicState::from_records` kept them), no IPI is under way.
    pub fn load(&mut self, s: &LapicState) {
        (self.tpr, self.svr, self.esr) = (s.tpr, s.svr, s.esr);
        self.lvt = s.lvt;
        (self.timer_initial, self.timer_divide) = (s.timer_initial, s.timer_divide);
        (self.isr, self.irr) = (s.isr, s.irr);
        self.icr = 0;
    }

    /// RDMSR of an x2APIC register; `None` = no such register (#GP).
    pub fn read(&self, msr: u32) -> Option<u64> {
        let v = match msr {
            0x802 => self.id,
            0x803 => VERSION,
            0x808 => self.tpr,
            0x80A => self.tpr, // PPR: no in-service priority tracking beyond TPR
            0x80D => self.ldr,
            0x80F => self.svr,
            0x810..=0x817 => bank(&self.isr, msr - 0x810),
            0x818..=0x81F => 0,
            0x820..=0x827 => bank(&self.irr, msr - 0x820),
            0x828 => self.esr,
            0x82F => self.lvt[6],
            0x830 => return Some(self.icr),
            0x832..=0x837 => self.lvt[(msr - 0x832) as usize],
            0x838 => self.timer_initial,
            0x839 => 0,
            0x83E => self.timer_divide,
            _ => return None,
        };
        Some(u64::from(v))
    }

    /// WRMSR of an x2APIC register. Returns an IPI to route, if any;
    /// `Err` = no such register or a read-only one (#GP).
    pub fn write(&mut self, msr: u32, value: u64) -> Result<Option<IpiRequest>, ()> {
        let v = value as u32;
        match msr {
            0x808 => self.tpr = v & 0xFF,
            0x80B => self.eoi(),
            0x80F => self.svr = v & 0x1FFF,
            0x828 => self.esr = 0,
            0x82F => self.lvt[6] = v,
            0x830 => {
                self.icr = value & !(1 << 12); // delivery status: always idle
                return Ok(decode_icr(value));
            }
            0x832..=0x837 => self.lvt[(msr - 0x832) as usize] = v,
            0x838 => self.timer_initial = v,
            0x83E => self.timer_divide = v,
            0x83F => {
                self.set_irr(v as u8);
                return Ok(None);
            }
            _ => return Err(()),
        }
        Ok(None)
    }

    /// Marks `vector` requested (a fixed interrupt arrived).
    pub fn set_irr(&mut self, vector: u8) {
        if vector >= 16 {
            self.irr[usize::from(vector / 64)] |= 1 << (vector % 64);
        }
    }

    /// The vector to deliver next, if any beats what is in service.
    pub fn pending(&self) -> Option<u8> {
        let irr = highest(&self.irr)?;
        let in_service = highest(&self.isr).map_or(0, |v| u32::from(v) >> 4);
        let class = u32::from(irr) >> 4;
        (class > in_service && class > (self.tpr >> 4) && self.svr & 0x100 != 0).then_some(irr)
    }

    /// The vector was delivered: IRR → ISR.
    pub fn acknowledge(&mut self, vector: u8) {
        let (i, bit) = (usize::from(vector / 64), 1u64 << (vector % 64));
        self.irr[i] &= !bit;
        self.isr[i] |= bit;
    }

    fn eoi(&mut self) {
        if let Some(v) = highest(&self.isr) {
            self.isr[usize::from(v / 64)] &= !(1 << (v % 64));
        }
    }
}

fn bank(bits: &[u64; 4], index: u32) -> u32 {
    let word = bits[(index / 2) as usize];
    (if index.is_multiple_of(2) {
        word
    } else {
        word >> 32
    }) as u32
}

fn highest(bits: &[u64; 4]) -> Option<u8> {
    (0..4)
        .rev()
        .find(|&i| bits[i] != 0)
        .map(|i| (i as u32 * 64 + 63 - bits[i].leading_zeros()) as u8)
}

fn decode_icr(icr: u64) -> Option<IpiRequest> {
    let vector = icr as u8;
    let dest = match (icr >> 18) & 3 {
        0 => IpiDest::ApicId((icr >> 32) as u32),
        1 => IpiDest::SelfOnly,
        2 => IpiDest::AllIncludingSelf,
        _ => IpiDest::AllExcludingSelf,
    };
    match (icr >> 8) & 7 {
        0 | 1 => Some(IpiRequest::Fixed { vector, dest }),
        4 => Some(IpiRequest::Nmi { dest }),
        5 if icr & (1 << 14) != 0 => Some(IpiRequest::Init { dest }),
        5 => None, // INIT level de-assert: nothing to do
        6 => Some(IpiRequest::Startup { vector, dest }),
        _ => None,
    }
}
