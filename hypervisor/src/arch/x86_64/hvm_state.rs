//! A vCPU's architectural state as Xen's HVM save records describe it
//! (`HwCpu`, the CPU record): what the toolstack reads with
//! XEN_DOMCTL_gethvmcontext and sets with sethvmcontext (a new guest's
//! vCPU 0 at its PVH entry; later, a restored guest).

use rxen_hvm_context::records::{HwCpu, XEN_X86_FPU_INITIALISED};
use rxen_xen_abi::vcpu::UserRegs;

use super::svm::vmcb;
use super::vcpu::ArchVcpu;

const EFER_SVME: u64 = 1 << 12;
/// RFLAGS bit 1 is always set.
const RFLAGS_FIXED: u64 = 0x2;
/// XSAVE header: XSTATE_BV at byte 512 of the area.
const XSTATE_BV: usize = 512;
/// x87 and SSE state components.
const X87_SSE: u64 = 0b11;

/// The segment registers in the CPU record's order.
const SEGMENTS: [usize; 8] = [
    vmcb::CS,
    vmcb::DS,
    vmcb::ES,
    vmcb::FS,
    vmcb::GS,
    vmcb::SS,
    vmcb::TR,
    vmcb::LDTR,
];

/// Bytes of a standard-format XSAVE image of the components in `xcr0`:
/// the legacy region and header, then up to the end of the last one
/// (CPUID leaf 0xD gives each component's offset and size).
pub fn xsave_size(xcr0: u64) -> usize {
    let mut end = 512 + 64;
    for i in 2..63 {
        if xcr0 & (1 << i) != 0 {
            let c = core::arch::x86_64::__cpuid_count(0xD, i);
            end = end.max((c.ebx + c.eax) as usize);
        }
    }
    end
}

/// The XCR0 bits this machine supports (CPUID.(0xD,0).EDX:EAX).
fn host_xcr0_mask() -> u64 {
    let c = core::arch::x86_64::__cpuid_count(0xD, 0);
    (u64::from(c.edx) << 32) | u64::from(c.eax)
}

impl ArchVcpu {
    /// The CPU record of this vCPU (its FPU state must be saved, i.e. the
    /// vCPU is not running).
    pub fn hvm_cpu(&self) -> HwCpu {
        let v = self.vmcb();
        let r = self.regs();
        let mut c = <HwCpu as zerocopy::FromZeros>::new_zeroed();
        c.fpu_regs.copy_from_slice(&self.fpu_area()[..512]);
        c.flags = XEN_X86_FPU_INITIALISED;
        (c.rax, c.rbx, c.rcx, c.rdx) = (v.read64(vmcb::RAX), r.rbx, r.rcx, r.rdx);
        (c.rbp, c.rsi, c.rdi, c.rsp) = (r.rbp, r.rsi, r.rdi, v.read64(vmcb::RSP));
        (c.r8, c.r9, c.r10, c.r11) = (r.r8, r.r9, r.r10, r.r11);
        (c.r12, c.r13, c.r14, c.r15) = (r.r12, r.r13, r.r14, r.r15);
        c.rip = v.read64(vmcb::RIP);
        c.rflags = v.read64(vmcb::RFLAGS);
        c.cr0 = v.read64(vmcb::CR0);
        c.cr2 = v.read64(vmcb::CR2);
        c.cr3 = v.read64(vmcb::CR3);
        c.cr4 = v.read64(vmcb::CR4);
        c.dr6 = v.read64(vmcb::DR6);
        c.dr7 = v.read64(vmcb::DR7);
        let seg = |i: usize| v.segment(SEGMENTS[i]);
        let sels = [0, 1, 2, 3, 4, 5, 6, 7].map(seg);
        [
            c.cs_sel, c.ds_sel, c.es_sel, c.fs_sel, c.gs_sel, c.ss_sel, c.tr_sel, c.ldtr_sel,
        ] = sels.map(|s| u32::from(s.0));
        [
            c.cs_arbytes,
            c.ds_arbytes,
            c.es_arbytes,
            c.fs_arbytes,
            c.gs_arbytes,
            c.ss_arbytes,
            c.tr_arbytes,
            c.ldtr_arbytes,
        ] = sels.map(|s| u32::from(s.1));
        [
            c.cs_limit,
            c.ds_limit,
            c.es_limit,
            c.fs_limit,
            c.gs_limit,
            c.ss_limit,
            c.tr_limit,
            c.ldtr_limit,
        ] = sels.map(|s| s.2);
        [
            c.cs_base,
            c.ds_base,
            c.es_base,
            c.fs_base,
            c.gs_base,
            c.ss_base,
            c.tr_base,
            c.ldtr_base,
        ] = sels.map(|s| s.3);
        let (_, _, idtr_limit, idtr_base) = v.segment(vmcb::IDTR);
        let (_, _, gdtr_limit, gdtr_base) = v.segment(vmcb::GDTR);
        (c.idtr_limit, c.idtr_base, c.gdtr_limit, c.gdtr_base) =
            (idtr_limit, idtr_base, gdtr_limit, gdtr_base);
        c.sysenter_cs = v.read64(vmcb::SYSENTER_CS);
        c.sysenter_esp = v.read64(vmcb::SYSENTER_ESP);
        c.sysenter_eip = v.read64(vmcb::SYSENTER_EIP);
        c.shadow_gs = v.read64(vmcb::KERNEL_GS_BASE);
        c.msr_lstar = v.read64(vmcb::LSTAR);
        c.msr_star = v.read64(vmcb::STAR);
        c.msr_cstar = v.read64(vmcb::CSTAR);
        c.msr_syscall_mask = v.read64(vmcb::SFMASK);
        c.msr_efer = v.read64(vmcb::EFER) & !EFER_SVME;
        c.tsc = super::time::rdtsc().wrapping_add(v.read64(vmcb::TSC_OFFSET));
        c
    }

    /// Loads a CPU record the caller has checked (`check_cpu`). The TSC is
    /// left running as the host's: guests see one timeline (pvclock).
    pub fn set_hvm_cpu(&mut self, c: &HwCpu) {
        let fpu = c.flags & XEN_X86_FPU_INITIALISED != 0;
        if fpu {
            self.load_fpu_image(&c.fpu_regs);
            // The image's x87 and SSE state must be enabled in XCR0 for
            // XRSTOR to load it. A CPU_XSAVE record, if one follows, sets
            // the guest's XCR0; Xen 4.17 under QEMU sends none (its guests
            // then go on with x87|SSE, Xen's default).
            self.set_xcr0(self.xcr0() | X87_SSE);
        }
        let r = self.regs_mut();
        (r.rbx, r.rcx, r.rdx) = (c.rbx, c.rcx, c.rdx);
        (r.rbp, r.rsi, r.rdi) = (c.rbp, c.rsi, c.rdi);
        (r.r8, r.r9, r.r10, r.r11) = (c.r8, c.r9, c.r10, c.r11);
        (r.r12, r.r13, r.r14, r.r15) = (c.r12, c.r13, c.r14, c.r15);
        let v = self.vmcb_mut();
        v.write64(vmcb::RAX, c.rax);
        v.write64(vmcb::RSP, c.rsp);
        v.write64(vmcb::RIP, c.rip);
        v.write64(vmcb::RFLAGS, c.rflags | RFLAGS_FIXED);
        v.write64(vmcb::CR0, c.cr0);
        v.write64(vmcb::CR2, c.cr2);
        v.write64(vmcb::CR3, c.cr3);
        v.write64(vmcb::CR4, c.cr4);
        v.write64(vmcb::DR6, c.dr6);
        v.write64(vmcb::DR7, c.dr7);
        let sels = [
            c.cs_sel, c.ds_sel, c.es_sel, c.fs_sel, c.gs_sel, c.ss_sel, c.tr_sel, c.ldtr_sel,
        ];
        let attrs = [
            c.cs_arbytes,
            c.ds_arbytes,
            c.es_arbytes,
            c.fs_arbytes,
            c.gs_arbytes,
            c.ss_arbytes,
            c.tr_arbytes,
            c.ldtr_arbytes,
        ];
        let limits = [
            c.cs_limit,
            c.ds_limit,
            c.es_limit,
            c.fs_limit,
            c.gs_limit,
            c.ss_limit,
            c.tr_limit,
            c.ldtr_limit,
        ];
        let bases = [
            c.cs_base,
            c.ds_base,
            c.es_base,
            c.fs_base,
            c.gs_base,
            c.ss_base,
            c.tr_base,
            c.ldtr_base,
        ];
        for i in 0..SEGMENTS.len() {
            v.set_segment(
                SEGMENTS[i],
                sels[i] as u16,
                attrs[i] as u16,
                limits[i],
                bases[i],
            );
        }
        v.set_segment(vmcb::IDTR, 0, 0, c.idtr_limit, c.idtr_base);
        v.set_segment(vmcb::GDTR, 0, 0, c.gdtr_limit, c.gdtr_base);
        // The privilege level is SS.DPL.
        v.write8(vmcb::CPL, ((c.ss_arbytes >> 5) & 3) as u8);
        v.write64(vmcb::SYSENTER_CS, c.sysenter_cs);
        v.write64(vmcb::SYSENTER_ESP, c.sysenter_esp);
        v.write64(vmcb::SYSENTER_EIP, c.sysenter_eip);
        v.write64(vmcb::KERNEL_GS_BASE, c.shadow_gs);
        v.write64(vmcb::LSTAR, c.msr_lstar);
        v.write64(vmcb::STAR, c.msr_star);
        v.write64(vmcb::CSTAR, c.msr_cstar);
        v.write64(vmcb::SFMASK, c.msr_syscall_mask);
        v.write64(vmcb::EFER, c.msr_efer | EFER_SVME);
        v.write64(vmcb::EVENT_INJ, 0);
        v.write64(vmcb::INTERRUPT_SHADOW, 0);
        self.request_tlb_flush();
    }

    /// XCR0 and the standard-format XSAVE image of the components it
    /// enables (the CPU_XSAVE record's content; the vCPU is not running).
    pub fn xsave_state(&self) -> (u64, &[u8]) {
        let len = xsave_size(self.xcr0()).min(self.fpu_area().len());
        (self.xcr0(), &self.fpu_area()[..len])
    }

    /// Loads a CPU_XSAVE record's XCR0 and image: XCR0 must name x87 and
    /// only components this machine has, and the image fit the area.
    pub fn set_xsave_state(&mut self, xcr0: u64, image: &[u8]) -> Result<(), ()> {
        let host = host_xcr0_mask();
        let area_len = self.fpu_area().len();
        if xcr0 & 1 == 0 || xcr0 & !host != 0 || image.len() > area_len {
            return Err(());
        }
        let area = self.fpu_area_mut();
        area.fill(0);
        area[..image.len()].copy_from_slice(image);
        self.set_xcr0(xcr0);
        Ok(())
    }

    /// The general registers as `vcpu_guest_context` carries them, and
    /// CR0, CR2, CR3, CR4 at ctrlreg 0, 2, 3, 4.
    pub fn user_regs(&self) -> (UserRegs, [u64; 5]) {
        let v = self.vmcb();
        let r = self.regs();
        let gprs = [
            r.r15,
            r.r14,
            r.r13,
            r.r12,
            r.rbp,
            r.rbx,
            r.r11,
            r.r10,
            r.r9,
            r.r8,
            v.read64(vmcb::RAX),
            r.rcx,
            r.rdx,
            r.rsi,
            r.rdi,
        ];
        let regs = UserRegs {
            gprs,
            rip: v.read64(vmcb::RIP),
            rflags: v.read64(vmcb::RFLAGS),
            rsp: v.read64(vmcb::RSP),
        };
        let cr = [
            v.read64(vmcb::CR0),
            0,
            v.read64(vmcb::CR2),
            v.read64(vmcb::CR3),
            v.read64(vmcb::CR4),
        ];
        (regs, cr)
    }

    /// Loads the general registers of a `vcpu_guest_context` (what Xen
    /// applies to an HVM vCPU: segments and control registers are not).
    pub fn set_user_regs(&mut self, u: &UserRegs) {
        let g = u.gprs;
        let r = self.regs_mut();
        (r.r15, r.r14, r.r13, r.r12, r.rbp, r.rbx) = (g[0], g[1], g[2], g[3], g[4], g[5]);
        (r.r11, r.r10, r.r9, r.r8) = (g[6], g[7], g[8], g[9]);
        (r.rcx, r.rdx, r.rsi, r.rdi) = (g[11], g[12], g[13], g[14]);
        let v = self.vmcb_mut();
        v.write64(vmcb::RAX, g[UserRegs::RAX]);
        v.write64(vmcb::RIP, u.rip);
        v.write64(vmcb::RFLAGS, u.rflags | RFLAGS_FIXED);
        v.write64(vmcb::RSP, u.rsp);
    }

    /// Replaces the legacy (x87/SSE) part of the XSAVE area.
    fn load_fpu_image(&mut self, image: &[u8; 512]) {
        let area = self.fpu_area_mut();
        area[..512].copy_from_slice(image);
        let bv = u64::from_le_bytes(area[XSTATE_BV..XSTATE_BV + 8].try_into().unwrap_or([0; 8]));
        area[XSTATE_BV..XSTATE_BV + 8].copy_from_slice(&(bv | X87_SSE).to_le_bytes());
    }
}
