//! A virtual CPU as the hardware sees it: its VMCB, the general registers
//! the VMCB does not hold, and its FPU/SSE/AVX state. Generic code drives it
//! through [`ArchVcpu::run`] and the decoded [`Exit`].

use ::x86_64::registers::xcontrol::XCr0;

use super::svm::vmcb::{self, Vmcb};
use super::svm::{self, world_switch::GuestRegs};

/// How many exits of each kind a vCPU took.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExitCounts {
    pub cpuid: u64,
    pub msr: u64,
    pub io: u64,
    pub hypercall: u64,
    pub halt: u64,
    pub interrupt: u64,
    pub window: u64,
    pub other: u64,
}

impl ExitCounts {
    pub fn count(&mut self, exit: &Exit) {
        let slot = match exit {
            Exit::Cpuid { .. } => &mut self.cpuid,
            Exit::MsrRead { .. } | Exit::MsrWrite { .. } => &mut self.msr,
            Exit::Io(_) => &mut self.io,
            Exit::Hypercall => &mut self.hypercall,
            Exit::Halt => &mut self.halt,
            Exit::HostInterrupt => &mut self.interrupt,
            Exit::InterruptWindow => &mut self.window,
            _ => &mut self.other,
        };
        *slot += 1;
    }

    pub fn total(&self) -> u64 {
        self.cpuid
            + self.msr
            + self.io
            + self.hypercall
            + self.halt
            + self.interrupt
            + self.window
            + self.other
    }
}

impl core::fmt::Display for ExitCounts {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        write!(
            f,
            "{} exits (hypercall {}, msr {}, cpuid {}, io {}, hlt {}, host interrupt {}, irq window {}, other {})",
            self.total(),
            self.hypercall,
            self.msr,
            self.cpuid,
            self.io,
            self.halt,
            self.interrupt,
            self.window,
            self.other
        )
    }
}

/// Why the guest stopped running.
#[derive(Clone, Copy, Debug)]
pub enum Exit {
    Cpuid {
        leaf: u32,
        subleaf: u32,
    },
    MsrRead {
        msr: u32,
    },
    MsrWrite {
        msr: u32,
        value: u64,
    },
    /// Port I/O; `next_rip` is where the guest continues.
    Io(IoAccess),
    Hypercall,
    Halt,
    /// A host interrupt arrived (timer, IPI): handled once interrupts are on.
    HostInterrupt,
    /// The guest can now take the interrupt we are holding for it.
    InterruptWindow,
    NestedPageFault {
        gpa: u64,
        write: bool,
        fetch: bool,
    },
    /// Triple fault: the guest is dead.
    Shutdown,
    /// VMRUN refused the state (a bug in rxen or a guest trick).
    InvalidState,
    Other {
        code: u64,
        info1: u64,
        info2: u64,
    },
}

#[derive(Clone, Copy, Debug)]
pub struct IoAccess {
    pub port: u16,
    pub size: u8,
    pub input: bool,
    /// INS/OUTS (the data is in guest memory), with REP.
    pub string: bool,
    pub rep: bool,
    pub next_rip: u64,
}

/// General-purpose registers by name (hypercall arguments and results).
#[allow(dead_code)] // the complete set, not only those used today
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reg {
    Rax,
    Rbx,
    Rcx,
    Rdx,
    Rsi,
    Rdi,
    Rbp,
    Rsp,
    R8,
    R9,
    R10,
    R11,
    R12,
    R13,
    R14,
    R15,
}

/// What the guest's paging looks like (for walking its page tables).
#[derive(Clone, Copy, Debug)]
pub struct PagingState {
    pub cr0: u64,
    pub cr3: u64,
    pub cr4: u64,
    pub efer: u64,
}

const EFER_SVME: u64 = 1 << 12;
const RFLAGS_IF: u64 = 1 << 9;
const EVENTINJ_VALID: u64 = 1 << 31;
/// Packed SVM segment attributes (type, S, DPL, P, AVL, L, D/B, G).
const ATTR_CODE32: u16 = 0xC9B;
const ATTR_DATA32: u16 = 0xC93;
const ATTR_TSS32_BUSY: u16 = 0x08B;
const ATTR_LDT: u16 = 0x082;

pub struct ArchVcpu {
    vmcb: Vmcb,
    regs: GuestRegs,
    /// XSAVE area (one zeroed 4 KiB frame).
    fpu_pa: u64,
    xcr0: u64,
    /// Whether this vCPU's FPU state is in the CPU registers now.
    fpu_loaded: bool,
    flush_tlb: bool,
    asid: super::svm::asid::VcpuAsid,
}

impl ArchVcpu {
    /// `vmcb_pa` and `fpu_pa` are zeroed frames the vCPU owns for life.
    pub fn new(vmcb_pa: u64, fpu_pa: u64) -> Self {
        // SAFETY: the caller hands a zeroed frame owned by this vCPU.
        let vmcb = unsafe { Vmcb::new(vmcb_pa) };
        // Default MXCSR in the legacy XSAVE area (offset 24).
        // SAFETY: the FPU frame is ours; offset 24 is inside it.
        unsafe { (super::paging::phys_to_virt(fpu_pa).add(24) as *mut u32).write(0x1F80) };
        Self {
            vmcb,
            regs: GuestRegs::default(),
            fpu_pa,
            xcr0: 1,
            fpu_loaded: false,
            flush_tlb: true,
            asid: Default::default(),
        }
    }

    /// The state Xen's PVH ABI specifies at the 32-bit entry point: flat
    /// 32-bit protected mode, paging off, EBX = start_info.
    pub fn reset_pvh(&mut self, entry: u32, start_info: u32, npt_root: u64) {
        self.setup_controls(npt_root);
        let v = &mut self.vmcb;
        v.set_segment(vmcb::CS, 0x10, ATTR_CODE32, 0xFFFF_FFFF, 0);
        for seg in [vmcb::DS, vmcb::ES, vmcb::SS, vmcb::FS, vmcb::GS] {
            v.set_segment(seg, 0x18, ATTR_DATA32, 0xFFFF_FFFF, 0);
        }
        v.set_segment(vmcb::TR, 0x20, ATTR_TSS32_BUSY, 0x67, 0);
        v.set_segment(vmcb::LDTR, 0, ATTR_LDT, 0xFFFF, 0);
        v.set_segment(vmcb::GDTR, 0, 0, 0xFFFF, 0);
        v.set_segment(vmcb::IDTR, 0, 0, 0xFFFF, 0);
        v.write64(vmcb::CR0, 0x11); // PE | ET
        v.write64(vmcb::CR3, 0);
        v.write64(vmcb::CR4, 0);
        v.write64(vmcb::EFER, EFER_SVME);
        v.write64(vmcb::RFLAGS, 0x2);
        v.write64(vmcb::RIP, u64::from(entry));
        v.write64(vmcb::RSP, 0);
        v.write64(vmcb::RAX, 0);
        v.write64(vmcb::DR6, 0xFFFF_0FF0);
        v.write64(vmcb::DR7, 0x400);
        v.write64(vmcb::G_PAT, 0x0007_0406_0007_0406);
        v.write8(vmcb::CPL, 0);
        self.regs = GuestRegs {
            rbx: u64::from(start_info),
            ..GuestRegs::default()
        };
        self.xcr0 = 1;
    }

    /// Real mode at `vector`:0000, as a STARTUP IPI leaves an application
    /// processor (how Linux starts its secondary CPUs).
    pub fn reset_startup(&mut self, vector: u8) {
        let v = &mut self.vmcb;
        let base = u64::from(vector) << 12;
        v.set_segment(vmcb::CS, u16::from(vector) << 8, 0x09B, 0xFFFF, base);
        for seg in [vmcb::DS, vmcb::ES, vmcb::SS, vmcb::FS, vmcb::GS] {
            v.set_segment(seg, 0, 0x093, 0xFFFF, 0);
        }
        v.set_segment(vmcb::TR, 0, ATTR_TSS32_BUSY, 0xFFFF, 0);
        v.set_segment(vmcb::LDTR, 0, ATTR_LDT, 0xFFFF, 0);
        v.set_segment(vmcb::GDTR, 0, 0, 0xFFFF, 0);
        v.set_segment(vmcb::IDTR, 0, 0, 0xFFFF, 0);
        v.write64(vmcb::CR0, 0x10); // ET; paging and protection off
        v.write64(vmcb::CR3, 0);
        v.write64(vmcb::CR4, 0);
        v.write64(vmcb::EFER, EFER_SVME);
        v.write64(vmcb::RFLAGS, 0x2);
        v.write64(vmcb::RIP, 0);
        v.write64(vmcb::RSP, 0);
        v.write64(vmcb::RAX, 0);
        v.write64(vmcb::DR6, 0xFFFF_0FF0);
        v.write64(vmcb::DR7, 0x400);
        v.write64(vmcb::G_PAT, 0x0007_0406_0007_0406);
        v.write64(vmcb::EVENT_INJ, 0);
        v.write64(vmcb::INTERRUPT_SHADOW, 0);
        v.write8(vmcb::CPL, 0);
        self.regs = GuestRegs::default();
        self.xcr0 = 1;
        self.fpu_loaded = false;
        // SAFETY: this vCPU's own XSAVE frame: back to the init state.
        unsafe {
            let area = super::paging::phys_to_virt(self.fpu_pa);
            core::ptr::write_bytes(area, 0, 4096);
            (area.add(24) as *mut u32).write(0x1F80);
        }
        self.flush_tlb = true;
    }

    fn setup_controls(&mut self, npt_root: u64) {
        let v = &mut self.vmcb;
        v.write32(vmcb::INTERCEPT_EXCEPTIONS, 0);
        v.write32(
            vmcb::INTERCEPT_MISC1,
            vmcb::INTERCEPT_INTR
                | vmcb::INTERCEPT_NMI
                | vmcb::INTERCEPT_CPUID
                | vmcb::INTERCEPT_INVD
                | vmcb::INTERCEPT_HLT
                | vmcb::INTERCEPT_IOIO
                | vmcb::INTERCEPT_MSR
                | vmcb::INTERCEPT_SHUTDOWN,
        );
        v.write32(
            vmcb::INTERCEPT_MISC2,
            vmcb::INTERCEPT_VMRUN
                | vmcb::INTERCEPT_VMMCALL
                | vmcb::INTERCEPT_VMLOAD
                | vmcb::INTERCEPT_VMSAVE
                | vmcb::INTERCEPT_STGI
                | vmcb::INTERCEPT_CLGI
                | vmcb::INTERCEPT_SKINIT,
        );
        v.write64(vmcb::IOPM_BASE, svm::iopm_pa());
        v.write64(vmcb::MSRPM_BASE, svm::msrpm_pa());
        v.write64(vmcb::TSC_OFFSET, 0);
        v.write32(vmcb::GUEST_ASID, 1); // replaced at each run (svm::asid)
        v.write64(vmcb::VINTR, vmcb::V_INTR_MASKING);
        v.write64(vmcb::NP_ENABLE, 1);
        v.write64(vmcb::N_CR3, npt_root);
        v.write32(vmcb::VMCB_CLEAN, 0);
    }

    /// Drops this vCPU's cached translations before the next entry (after
    /// its domain's p2m changed): it gets a fresh ASID.
    pub fn request_tlb_flush(&mut self) {
        self.flush_tlb = true;
    }

    /// Runs the guest until the next #VMEXIT and says why it stopped.
    pub fn run(&mut self) -> Exit {
        self.load_fpu();
        let choice = self.asid.choose(self.flush_tlb, svm::asid_count());
        self.flush_tlb = false;
        self.vmcb.write32(vmcb::GUEST_ASID, choice.asid);
        // 1 = flush every ASID (a new generation on this CPU), 0 = none.
        self.vmcb
            .write8(vmcb::TLB_CONTROL, u8::from(choice.flush_all));
        // QEMU ignores clean bits, hardware does not: nothing is cached.
        self.vmcb.write32(vmcb::VMCB_CLEAN, 0);
        // SAFETY: the VMCB is this vCPU's and fully set up by reset_pvh;
        // SVM is enabled on this CPU (svm::init_this_cpu).
        unsafe { svm::run(&mut self.regs, self.vmcb.pa(), svm::host_vmcb_pa()) };
        self.decode_exit()
    }

    fn decode_exit(&mut self) -> Exit {
        let code = self.vmcb.read64(vmcb::EXIT_CODE);
        let info1 = self.vmcb.read64(vmcb::EXIT_INFO1);
        let info2 = self.vmcb.read64(vmcb::EXIT_INFO2);
        match code {
            0x60 | 0x61 => Exit::HostInterrupt,
            0x64 => Exit::InterruptWindow,
            0x72 => Exit::Cpuid {
                leaf: self.reg(Reg::Rax) as u32,
                subleaf: self.regs.rcx as u32,
            },
            0x78 => Exit::Halt,
            0x7B => Exit::Io(IoAccess {
                port: (info1 >> 16) as u16,
                size: if info1 & (1 << 4) != 0 {
                    1
                } else if info1 & (1 << 5) != 0 {
                    2
                } else {
                    4
                },
                input: info1 & 1 != 0,
                string: info1 & (1 << 2) != 0,
                rep: info1 & (1 << 3) != 0,
                next_rip: info2,
            }),
            0x7C => {
                let msr = self.regs.rcx as u32;
                if info1 == 0 {
                    Exit::MsrRead { msr }
                } else {
                    let value = (self.reg(Reg::Rax) & 0xFFFF_FFFF) | (self.regs.rdx << 32);
                    Exit::MsrWrite { msr, value }
                }
            }
            0x7F => Exit::Shutdown,
            0x81 => Exit::Hypercall,
            0x400 => Exit::NestedPageFault {
                gpa: info2,
                write: info1 & 2 != 0,
                fetch: info1 & 16 != 0,
            },
            u64::MAX => Exit::InvalidState,
            _ => Exit::Other { code, info1, info2 },
        }
    }

    /// Moves RIP past the intercepted instruction of `len` bytes (or to the
    /// CPU-reported next RIP where the CPU offers NRIP save).
    pub fn skip_instruction(&mut self, len: u64) {
        let next = if svm::has_nrip_save() {
            self.vmcb.read64(vmcb::NEXT_RIP)
        } else {
            self.vmcb.read64(vmcb::RIP).wrapping_add(len)
        };
        self.vmcb.write64(vmcb::RIP, next);
        // Executing an instruction ends an STI/MOV SS interrupt shadow.
        self.vmcb.write64(vmcb::INTERRUPT_SHADOW, 0);
    }

    /// Back to the VMMCALL just skipped, so the guest issues the same
    /// hypercall again (a continuation); RAX still holds its number.
    pub fn rewind_hypercall(&mut self) {
        let rip = self.vmcb.read64(vmcb::RIP).wrapping_sub(3);
        self.vmcb.write64(vmcb::RIP, rip);
    }

    pub fn set_rip(&mut self, rip: u64) {
        self.vmcb.write64(vmcb::RIP, rip);
    }

    pub fn reg(&self, reg: Reg) -> u64 {
        let r = &self.regs;
        match reg {
            Reg::Rax => self.vmcb.read64(vmcb::RAX),
            Reg::Rsp => self.vmcb.read64(vmcb::RSP),
            Reg::Rbx => r.rbx,
            Reg::Rcx => r.rcx,
            Reg::Rdx => r.rdx,
            Reg::Rsi => r.rsi,
            Reg::Rdi => r.rdi,
            Reg::Rbp => r.rbp,
            Reg::R8 => r.r8,
            Reg::R9 => r.r9,
            Reg::R10 => r.r10,
            Reg::R11 => r.r11,
            Reg::R12 => r.r12,
            Reg::R13 => r.r13,
            Reg::R14 => r.r14,
            Reg::R15 => r.r15,
        }
    }

    pub fn set_reg(&mut self, reg: Reg, value: u64) {
        let r = &mut self.regs;
        match reg {
            Reg::Rax => self.vmcb.write64(vmcb::RAX, value),
            Reg::Rsp => self.vmcb.write64(vmcb::RSP, value),
            Reg::Rbx => r.rbx = value,
            Reg::Rcx => r.rcx = value,
            Reg::Rdx => r.rdx = value,
            Reg::Rsi => r.rsi = value,
            Reg::Rdi => r.rdi = value,
            Reg::Rbp => r.rbp = value,
            Reg::R8 => r.r8 = value,
            Reg::R9 => r.r9 = value,
            Reg::R10 => r.r10 = value,
            Reg::R11 => r.r11 = value,
            Reg::R12 => r.r12 = value,
            Reg::R13 => r.r13 = value,
            Reg::R14 => r.r14 = value,
            Reg::R15 => r.r15 = value,
        }
    }

    /// Whether the guest is in 64-bit mode (CS.L with EFER.LMA).
    pub fn in_long_mode(&self) -> bool {
        self.vmcb.read64(vmcb::EFER) & (1 << 10) != 0
            && self.vmcb.segment_attrib(vmcb::CS) & (1 << 9) != 0
    }

    /// Current privilege level (hypercalls are for the guest kernel only).
    pub fn cpl(&self) -> u8 {
        self.vmcb.read8(vmcb::CPL)
    }

    pub fn paging(&self) -> PagingState {
        PagingState {
            cr0: self.vmcb.read64(vmcb::CR0),
            cr3: self.vmcb.read64(vmcb::CR3),
            cr4: self.vmcb.read64(vmcb::CR4),
            efer: self.vmcb.read64(vmcb::EFER),
        }
    }

    /// EFER as the guest should see it (SVME is ours).
    pub fn guest_efer(&self) -> u64 {
        self.vmcb.read64(vmcb::EFER) & !EFER_SVME
    }

    /// Guest writes to EFER; SVME must stay set for VMRUN to accept the state.
    pub fn set_guest_efer(&mut self, value: u64) {
        self.vmcb.write64(vmcb::EFER, value | EFER_SVME);
    }

    pub fn pat(&self) -> u64 {
        self.vmcb.read64(vmcb::G_PAT)
    }

    pub fn set_pat(&mut self, value: u64) {
        self.vmcb.write64(vmcb::G_PAT, value);
    }

    /// Guest RFLAGS.IF.
    pub fn interrupts_enabled(&self) -> bool {
        self.vmcb.read64(vmcb::RFLAGS) & RFLAGS_IF != 0
    }

    /// Whether an external interrupt could be delivered right now.
    pub fn can_take_interrupt(&self) -> bool {
        self.interrupts_enabled()
            && self.vmcb.read64(vmcb::INTERRUPT_SHADOW) & 1 == 0
            && self.vmcb.read64(vmcb::EVENT_INJ) & EVENTINJ_VALID == 0
    }

    /// Delivers external interrupt `vector` at the next entry.
    pub fn inject_interrupt(&mut self, vector: u8) {
        self.vmcb
            .write64(vmcb::EVENT_INJ, u64::from(vector) | EVENTINJ_VALID);
    }

    /// Asks for an exit as soon as the guest can take an interrupt
    /// (a virtual interrupt with the VINTR intercept).
    pub fn request_interrupt_window(&mut self, on: bool) {
        let misc1 = self.vmcb.read32(vmcb::INTERCEPT_MISC1);
        let vintr = self.vmcb.read64(vmcb::VINTR);
        if on {
            self.vmcb
                .write32(vmcb::INTERCEPT_MISC1, misc1 | vmcb::INTERCEPT_VINTR);
            self.vmcb
                .write64(vmcb::VINTR, vintr | vmcb::V_IRQ | vmcb::V_IGN_TPR);
        } else {
            self.vmcb
                .write32(vmcb::INTERCEPT_MISC1, misc1 & !vmcb::INTERCEPT_VINTR);
            self.vmcb
                .write64(vmcb::VINTR, vintr & !(vmcb::V_IRQ | vmcb::V_IGN_TPR));
        }
    }

    /// Offers external interrupt `vector` as a virtual interrupt (V_IRQ):
    /// the CPU delivers it itself as soon as the guest can take it, with no
    /// exit and no injection at VMRUN. `None` withdraws an offer not yet
    /// taken. Not combined with an interrupt-window request.
    pub fn offer_virtual_interrupt(&mut self, vector: Option<u8>) {
        let misc1 = self.vmcb.read32(vmcb::INTERCEPT_MISC1);
        self.vmcb
            .write32(vmcb::INTERCEPT_MISC1, misc1 & !vmcb::INTERCEPT_VINTR);
        let mut vintr = self.vmcb.read64(vmcb::VINTR) & !vmcb::V_INTR_FIELDS;
        if let Some(v) = vector {
            vintr |= vmcb::V_IRQ
                | vmcb::V_IGN_TPR
                | (0xF << vmcb::V_INTR_PRIO_SHIFT)
                | (u64::from(v) << vmcb::V_INTR_VECTOR_SHIFT);
        }
        self.vmcb.write64(vmcb::VINTR, vintr);
    }

    /// An event whose delivery an exit interrupted is delivered again.
    pub fn reinject_interrupted_event(&mut self) {
        let info = self.vmcb.read64(vmcb::EXIT_INT_INFO);
        if info & EVENTINJ_VALID != 0 {
            self.vmcb.write64(vmcb::EVENT_INJ, as_injectable(info));
        } else if self.vmcb.read64(vmcb::EVENT_INJ) & EVENTINJ_VALID != 0 {
            // Delivered: the CPU leaves EVENTINJ alone, so clear it.
            self.vmcb.write64(vmcb::EVENT_INJ, 0);
        }
    }

    /// Injects #GP(0) (e.g. for an MSR the guest may not touch).
    pub fn inject_gp(&mut self) {
        // Type 3 (exception), error code valid (bit 11), vector 13.
        self.vmcb
            .write64(vmcb::EVENT_INJ, 13 | (3 << 8) | (1 << 11) | EVENTINJ_VALID);
    }

    /// Puts this vCPU's FPU/SSE/AVX state and XCR0 in the CPU.
    fn load_fpu(&mut self) {
        if self.fpu_loaded {
            return;
        }
        let area = super::paging::phys_to_virt(self.fpu_pa);
        // SAFETY: XSETBV with a value the guest set (or the reset value 1)
        // and XRSTOR from this vCPU's own 64-byte-aligned XSAVE frame; the
        // hypervisor itself never uses these registers.
        unsafe {
            XCr0::write_raw(self.xcr0);
            core::arch::asm!("xrstor64 [{}]", in(reg) area, in("eax") u32::MAX, in("edx") u32::MAX, options(nostack));
        }
        self.fpu_loaded = true;
    }

    /// Saves this vCPU's FPU state out of the CPU (before another vCPU runs
    /// here, or before this one moves to another CPU).
    pub fn save_fpu(&mut self) {
        if !self.fpu_loaded {
            return;
        }
        let area = super::paging::phys_to_virt(self.fpu_pa);
        // SAFETY: XSAVE into this vCPU's frame of the components the guest
        // enabled in XCR0 (read back first: the guest may have changed it).
        unsafe {
            self.xcr0 = XCr0::read_raw();
            core::arch::asm!("xsave64 [{}]", in(reg) area, in("eax") u32::MAX, in("edx") u32::MAX, options(nostack));
        }
        self.fpu_loaded = false;
    }

    /// The guest's XCR0 as last saved (the vCPU is not running).
    pub(super) fn xcr0(&self) -> u64 {
        self.xcr0
    }

    pub(super) fn set_xcr0(&mut self, xcr0: u64) {
        self.xcr0 = xcr0;
        self.fpu_loaded = false;
    }

    pub(super) fn vmcb(&self) -> &Vmcb {
        &self.vmcb
    }

    pub(super) fn vmcb_mut(&mut self) -> &mut Vmcb {
        &mut self.vmcb
    }

    pub(super) fn regs(&self) -> &GuestRegs {
        &self.regs
    }

    pub(super) fn regs_mut(&mut self) -> &mut GuestRegs {
        &mut self.regs
    }

    /// The XSAVE area, with this vCPU's FPU state in it (not in the CPU).
    pub(super) fn fpu_area(&self) -> &[u8] {
        debug_assert!(!self.fpu_loaded);
        // SAFETY: the vCPU's own 4 KiB XSAVE frame, direct-mapped; only this
        // vCPU's holder (who has `&self`) touches it.
        unsafe { core::slice::from_raw_parts(super::paging::phys_to_virt(self.fpu_pa), 4096) }
    }

    pub(super) fn fpu_area_mut(&mut self) -> &mut [u8] {
        self.fpu_loaded = false;
        // SAFETY: as fpu_area, with `&mut self`; the state is reloaded from
        // here at the next entry.
        unsafe { core::slice::from_raw_parts_mut(super::paging::phys_to_virt(self.fpu_pa), 4096) }
    }

    /// A register dump for crash reports.
    pub fn dump(&self) -> RegisterDump {
        let v = &self.vmcb;
        RegisterDump {
            rip: v.read64(vmcb::RIP),
            rsp: v.read64(vmcb::RSP),
            rflags: v.read64(vmcb::RFLAGS),
            rax: v.read64(vmcb::RAX),
            regs: self.regs,
            cr0: v.read64(vmcb::CR0),
            cr2: v.read64(vmcb::CR2),
            cr3: v.read64(vmcb::CR3),
            cr4: v.read64(vmcb::CR4),
            efer: v.read64(vmcb::EFER),
            cs_attrib: v.segment_attrib(vmcb::CS),
            idt_base: v.segment(vmcb::IDTR).3,
            exit_code: v.read64(vmcb::EXIT_CODE),
        }
    }
}

/// EXITINTINFO as EVENTINJ. QEMU's emulated SVM reports an external
/// interrupt whose delivery a nested page fault interrupted (the guest's
/// stack write-protected for log-dirty) as an *exception* of that vector;
/// VMRUN then refuses it (an exception vector is below 32) and the vCPU
/// is lost. Such an event is re-injected as the interrupt it was (real
/// hardware never reports type 3 above vector 31).
fn as_injectable(info: u64) -> u64 {
    const TYPE_MASK: u64 = 7 << 8;
    const TYPE_EXCEPTION: u64 = 3 << 8;
    let vector = info & 0xFF;
    if info & TYPE_MASK == TYPE_EXCEPTION && vector >= 32 {
        // Type 0 (external interrupt), no error code.
        vector | EVENTINJ_VALID
    } else {
        info
    }
}

pub struct RegisterDump {
    pub rip: u64,
    pub rsp: u64,
    pub rflags: u64,
    pub rax: u64,
    pub regs: GuestRegs,
    pub cr0: u64,
    pub cr2: u64,
    pub cr3: u64,
    pub cr4: u64,
    pub efer: u64,
    pub cs_attrib: u16,
    /// Where the guest's IDT is: a triple fault with CR2 on its #DF gate
    /// is the emulator fault the tests recognise (docs/design.md).
    pub idt_base: u64,
    pub exit_code: u64,
}

impl core::fmt::Display for RegisterDump {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        let r = &self.regs;
        writeln!(
            f,
            "rip={:#x} rsp={:#x} rflags={:#x} exit={:#x}",
            self.rip, self.rsp, self.rflags, self.exit_code
        )?;
        writeln!(
            f,
            "rax={:#x} rbx={:#x} rcx={:#x} rdx={:#x} rsi={:#x} rdi={:#x} rbp={:#x}",
            self.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp
        )?;
        writeln!(
            f,
            "r8={:#x} r9={:#x} r10={:#x} r11={:#x} r12={:#x} r13={:#x} r14={:#x} r15={:#x}",
            r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15
        )?;
        write!(
            f,
            "cr0={:#x} cr2={:#x} cr3={:#x} cr4={:#x} efer={:#x} cs.attr={:#x} idt={:#x}",
            self.cr0, self.cr2, self.cr3, self.cr4, self.efer, self.cs_attrib, self.idt_base
        )
    }
}
