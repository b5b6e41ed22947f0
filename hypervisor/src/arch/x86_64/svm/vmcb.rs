//! The VMCB (AMD APM vol. 2, appendix B): one 4 KiB page per vCPU, control
//! area at 0x000, state-save area at 0x400. Accessed by named offsets; the
//! page is plain memory that VMRUN reads and #VMEXIT writes.

use super::super::paging::phys_to_virt;

// Control area.
pub const INTERCEPT_EXCEPTIONS: usize = 0x008;
pub const INTERCEPT_MISC1: usize = 0x00C;
pub const INTERCEPT_MISC2: usize = 0x010;
pub const IOPM_BASE: usize = 0x040;
pub const MSRPM_BASE: usize = 0x048;
pub const TSC_OFFSET: usize = 0x050;
pub const GUEST_ASID: usize = 0x058;
pub const TLB_CONTROL: usize = 0x05C;
pub const VINTR: usize = 0x060;
pub const INTERRUPT_SHADOW: usize = 0x068;
pub const EXIT_CODE: usize = 0x070;
pub const EXIT_INFO1: usize = 0x078;
pub const EXIT_INFO2: usize = 0x080;
pub const EXIT_INT_INFO: usize = 0x088;
pub const NP_ENABLE: usize = 0x090;
pub const EVENT_INJ: usize = 0x0A8;
pub const N_CR3: usize = 0x0B0;
pub const VMCB_CLEAN: usize = 0x0C0;
pub const NEXT_RIP: usize = 0x0C8;

// State-save area: segments are {selector u16, attrib u16, limit u32, base u64}.
pub const ES: usize = 0x400;
pub const CS: usize = 0x410;
pub const SS: usize = 0x420;
pub const DS: usize = 0x430;
pub const FS: usize = 0x440;
pub const GS: usize = 0x450;
pub const GDTR: usize = 0x460;
pub const LDTR: usize = 0x470;
pub const IDTR: usize = 0x480;
pub const TR: usize = 0x490;
pub const CPL: usize = 0x4CB;
pub const EFER: usize = 0x4D0;
pub const CR4: usize = 0x548;
pub const CR3: usize = 0x550;
pub const CR0: usize = 0x558;
pub const DR7: usize = 0x560;
pub const DR6: usize = 0x568;
pub const RFLAGS: usize = 0x570;
pub const RIP: usize = 0x578;
pub const RSP: usize = 0x5D8;
pub const RAX: usize = 0x5F8;
pub const STAR: usize = 0x600;
pub const LSTAR: usize = 0x608;
pub const CSTAR: usize = 0x610;
pub const SFMASK: usize = 0x618;
pub const KERNEL_GS_BASE: usize = 0x620;
pub const SYSENTER_CS: usize = 0x628;
pub const SYSENTER_ESP: usize = 0x630;
pub const SYSENTER_EIP: usize = 0x638;
pub const CR2: usize = 0x640;
pub const G_PAT: usize = 0x668;

// MISC1 intercept bits.
pub const INTERCEPT_INTR: u32 = 1 << 0;
pub const INTERCEPT_NMI: u32 = 1 << 1;
pub const INTERCEPT_VINTR: u32 = 1 << 4;
pub const INTERCEPT_CPUID: u32 = 1 << 18;
pub const INTERCEPT_INVD: u32 = 1 << 22;
pub const INTERCEPT_HLT: u32 = 1 << 24;
pub const INTERCEPT_IOIO: u32 = 1 << 27;
pub const INTERCEPT_MSR: u32 = 1 << 28;
pub const INTERCEPT_SHUTDOWN: u32 = 1 << 31;
// MISC2 intercept bits.
pub const INTERCEPT_VMRUN: u32 = 1 << 0;
pub const INTERCEPT_VMMCALL: u32 = 1 << 1;
pub const INTERCEPT_VMLOAD: u32 = 1 << 2;
pub const INTERCEPT_VMSAVE: u32 = 1 << 3;
pub const INTERCEPT_STGI: u32 = 1 << 4;
pub const INTERCEPT_CLGI: u32 = 1 << 5;
pub const INTERCEPT_SKINIT: u32 = 1 << 6;

// VINTR fields.
pub const V_IRQ: u64 = 1 << 8;
pub const V_IGN_TPR: u64 = 1 << 20;
/// V_INTR_PRIO (bits 16–19) and V_INTR_VECTOR (bits 32–39).
pub const V_INTR_PRIO_SHIFT: u32 = 16;
pub const V_INTR_VECTOR_SHIFT: u32 = 32;
pub const V_INTR_FIELDS: u64 =
    V_IRQ | V_IGN_TPR | (0xF << V_INTR_PRIO_SHIFT) | (0xFF << V_INTR_VECTOR_SHIFT);
pub const V_INTR_MASKING: u64 = 1 << 24;

/// A vCPU's VMCB page, by physical address (VMRUN wants that) and reached
/// through the direct map for our reads and writes.
pub struct Vmcb {
    pa: u64,
}

impl Vmcb {
    /// # Safety
    /// `pa` must be a zeroed 4 KiB frame owned by this vCPU for as long as
    /// the `Vmcb` lives.
    pub unsafe fn new(pa: u64) -> Self {
        Self { pa }
    }

    pub fn pa(&self) -> u64 {
        self.pa
    }

    fn ptr(&self, offset: usize) -> *mut u8 {
        assert!(offset < 4096);
        // SAFETY: in-page offset of the direct-mapped VMCB frame.
        unsafe { phys_to_virt(self.pa).add(offset) }
    }

    pub fn read64(&self, offset: usize) -> u64 {
        // SAFETY: aligned in-page access to memory this vCPU owns; the CPU
        // only writes it during VMRUN, which our &self excludes.
        unsafe { (self.ptr(offset) as *const u64).read_volatile() }
    }

    pub fn write64(&mut self, offset: usize, value: u64) {
        // SAFETY: as read64.
        unsafe { (self.ptr(offset) as *mut u64).write_volatile(value) }
    }

    pub fn read32(&self, offset: usize) -> u32 {
        // SAFETY: as read64.
        unsafe { (self.ptr(offset) as *const u32).read_volatile() }
    }

    pub fn write32(&mut self, offset: usize, value: u32) {
        // SAFETY: as read64.
        unsafe { (self.ptr(offset) as *mut u32).write_volatile(value) }
    }

    pub fn write8(&mut self, offset: usize, value: u8) {
        // SAFETY: as read64.
        unsafe { self.ptr(offset).write_volatile(value) }
    }

    pub fn read8(&self, offset: usize) -> u8 {
        // SAFETY: as read64.
        unsafe { self.ptr(offset).read_volatile() }
    }

    /// Sets a segment register: attributes in SVM's packed 12-bit form.
    pub fn set_segment(&mut self, seg: usize, selector: u16, attrib: u16, limit: u32, base: u64) {
        let word = u64::from(selector) | (u64::from(attrib) << 16) | (u64::from(limit) << 32);
        self.write64(seg, word);
        self.write64(seg + 8, base);
    }

    pub fn segment_attrib(&self, seg: usize) -> u16 {
        (self.read64(seg) >> 16) as u16
    }

    /// (selector, attributes, limit, base) of a segment register.
    pub fn segment(&self, seg: usize) -> (u16, u16, u32, u64) {
        let word = self.read64(seg);
        (
            word as u16,
            (word >> 16) as u16,
            (word >> 32) as u32,
            self.read64(seg + 8),
        )
    }
}
