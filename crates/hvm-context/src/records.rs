//! Record typecodes and bodies (`hvm/save.h`, `arch-x86/hvm/save.h`), and
//! the rules Xen's loader applies to their lengths.
//!
//! Bodies are `#[repr(C)]` with every padding byte spelled out and derive
//! `zerocopy`'s traits, so they are copied in and out of a stream with
//! [`read_exact`] / [`read_zero_extended`] and `as_bytes()`. Record bodies
//! in a stream are not aligned: never borrow them as references.

use zerocopy::{FromBytes, FromZeros, Immutable, IntoBytes, KnownLayout};

use crate::RecordError;

// Typecodes (`HVM_SAVE_CODE(...)`).
/// End of the stream (length 0).
pub const HVM_SAVE_CODE_END: u16 = 0;
/// [`SaveHeader`]; must be first.
pub const HVM_SAVE_CODE_HEADER: u16 = 1;
/// [`HwCpu`], per vCPU.
pub const HVM_SAVE_CODE_CPU: u16 = 2;
/// [`HwPic`], two per domain (master 0, slave 1).
pub const HVM_SAVE_CODE_PIC: u16 = 3;
/// [`HwIoapic`].
pub const HVM_SAVE_CODE_IOAPIC: u16 = 4;
/// [`HwLapic`], per vCPU.
pub const HVM_SAVE_CODE_LAPIC: u16 = 5;
/// [`HwLapicRegs`], per vCPU.
pub const HVM_SAVE_CODE_LAPIC_REGS: u16 = 6;
/// [`HwPciIrqs`].
pub const HVM_SAVE_CODE_PCI_IRQ: u16 = 7;
/// [`HwIsaIrqs`].
pub const HVM_SAVE_CODE_ISA_IRQ: u16 = 8;
/// [`HwPciLink`].
pub const HVM_SAVE_CODE_PCI_LINK: u16 = 9;
/// [`HwPit`].
pub const HVM_SAVE_CODE_PIT: u16 = 10;
/// [`HwRtc`].
pub const HVM_SAVE_CODE_RTC: u16 = 11;
/// [`HwHpet`].
pub const HVM_SAVE_CODE_HPET: u16 = 12;
/// [`HwPmtimer`].
pub const HVM_SAVE_CODE_PMTIMER: u16 = 13;
/// [`HwMtrr`], per vCPU.
pub const HVM_SAVE_CODE_MTRR: u16 = 14;
/// [`HwViridianDomain`].
pub const HVM_SAVE_CODE_VIRIDIAN_DOMAIN: u16 = 15;
/// [`HwCpuXsave`] + XSAVE image, per vCPU (variable length).
pub const HVM_SAVE_CODE_CPU_XSAVE: u16 = 16;
/// [`HwViridianVcpu`], per vCPU.
pub const HVM_SAVE_CODE_VIRIDIAN_VCPU: u16 = 17;
/// [`HwVmceVcpu`], per vCPU.
pub const HVM_SAVE_CODE_VMCE_VCPU: u16 = 18;
/// [`HwTscAdjust`], per vCPU.
pub const HVM_SAVE_CODE_TSC_ADJUST: u16 = 19;
/// [`HwMsr`] + [`HwMsrEntry`]s, per vCPU (variable length).
pub const HVM_SAVE_CODE_CPU_MSR: u16 = 20;
/// Highest typecode Xen 4.17 loads; above it is `-EINVAL`. (22–34 are
/// reserved for Amazon and unknown to Xen.)
pub const HVM_SAVE_CODE_MAX: u16 = 20;

/// Name of `typecode` as Xen logs it (`"CPU"`), `"unknown"` otherwise.
pub const fn typecode_name(typecode: u16) -> &'static str {
    match typecode {
        HVM_SAVE_CODE_END => "END",
        HVM_SAVE_CODE_HEADER => "HEADER",
        HVM_SAVE_CODE_CPU => "CPU",
        HVM_SAVE_CODE_PIC => "PIC",
        HVM_SAVE_CODE_IOAPIC => "IOAPIC",
        HVM_SAVE_CODE_LAPIC => "LAPIC",
        HVM_SAVE_CODE_LAPIC_REGS => "LAPIC_REGS",
        HVM_SAVE_CODE_PCI_IRQ => "PCI_IRQ",
        HVM_SAVE_CODE_ISA_IRQ => "ISA_IRQ",
        HVM_SAVE_CODE_PCI_LINK => "PCI_LINK",
        HVM_SAVE_CODE_PIT => "PIT",
        HVM_SAVE_CODE_RTC => "RTC",
        HVM_SAVE_CODE_HPET => "HPET",
        HVM_SAVE_CODE_PMTIMER => "PMTIMER",
        HVM_SAVE_CODE_MTRR => "MTRR",
        HVM_SAVE_CODE_VIRIDIAN_DOMAIN => "VIRIDIAN_DOMAIN",
        HVM_SAVE_CODE_CPU_XSAVE => "CPU_XSAVE",
        HVM_SAVE_CODE_VIRIDIAN_VCPU => "VIRIDIAN_VCPU",
        HVM_SAVE_CODE_VMCE_VCPU => "VMCE_VCPU",
        HVM_SAVE_CODE_TSC_ADJUST => "TSC_ADJUST",
        HVM_SAVE_CODE_CPU_MSR => "CPU_MSR",
        _ => "unknown",
    }
}

/// Whether Xen 4.17 has a loader for `typecode` (END included).
pub const fn is_known_typecode(typecode: u16) -> bool {
    typecode <= HVM_SAVE_CODE_MAX
}

/// Whether records of `typecode` are per vCPU (instance = vCPU id) rather
/// than per domain (instance 0, or the PIC number).
pub const fn is_per_vcpu(typecode: u16) -> bool {
    matches!(
        typecode,
        HVM_SAVE_CODE_CPU
            | HVM_SAVE_CODE_LAPIC
            | HVM_SAVE_CODE_LAPIC_REGS
            | HVM_SAVE_CODE_MTRR
            | HVM_SAVE_CODE_CPU_XSAVE
            | HVM_SAVE_CODE_VIRIDIAN_VCPU
            | HVM_SAVE_CODE_VMCE_VCPU
            | HVM_SAVE_CODE_TSC_ADJUST
            | HVM_SAVE_CODE_CPU_MSR
    )
}

/// How Xen 4.17's loader treats a record's length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LengthRule {
    /// Must be exactly this many bytes.
    Exact(u32),
    /// At most this many bytes; a shorter body is zero-extended (older Xen
    /// versions saved fewer fields).
    AtMost(u32),
    /// Variable: checked by the record's own parser.
    Variable,
}

/// The length rule Xen 4.17 applies to `typecode`; `None` for END and
/// unknown typecodes.
pub const fn length_rule(typecode: u16) -> Option<LengthRule> {
    use core::mem::size_of;
    const fn len<T>() -> u32 {
        size_of::<T>() as u32
    }
    Some(match typecode {
        HVM_SAVE_CODE_HEADER => LengthRule::Exact(len::<SaveHeader>()),
        HVM_SAVE_CODE_CPU => LengthRule::AtMost(len::<HwCpu>()),
        HVM_SAVE_CODE_PIC => LengthRule::Exact(len::<HwPic>()),
        HVM_SAVE_CODE_IOAPIC => LengthRule::Exact(len::<HwIoapic>()),
        HVM_SAVE_CODE_LAPIC => LengthRule::AtMost(len::<HwLapic>()),
        HVM_SAVE_CODE_LAPIC_REGS => LengthRule::Exact(len::<HwLapicRegs>()),
        HVM_SAVE_CODE_PCI_IRQ => LengthRule::Exact(len::<HwPciIrqs>()),
        HVM_SAVE_CODE_ISA_IRQ => LengthRule::Exact(len::<HwIsaIrqs>()),
        HVM_SAVE_CODE_PCI_LINK => LengthRule::Exact(len::<HwPciLink>()),
        HVM_SAVE_CODE_PIT => LengthRule::Exact(len::<HwPit>()),
        HVM_SAVE_CODE_RTC => LengthRule::AtMost(len::<HwRtc>()),
        HVM_SAVE_CODE_HPET => LengthRule::Exact(len::<HwHpet>()),
        HVM_SAVE_CODE_PMTIMER => LengthRule::Exact(len::<HwPmtimer>()),
        HVM_SAVE_CODE_MTRR => LengthRule::Exact(len::<HwMtrr>()),
        HVM_SAVE_CODE_VIRIDIAN_DOMAIN => LengthRule::AtMost(len::<HwViridianDomain>()),
        HVM_SAVE_CODE_CPU_XSAVE => LengthRule::Variable,
        HVM_SAVE_CODE_VIRIDIAN_VCPU => LengthRule::AtMost(len::<HwViridianVcpu>()),
        HVM_SAVE_CODE_VMCE_VCPU => LengthRule::AtMost(len::<HwVmceVcpu>()),
        HVM_SAVE_CODE_TSC_ADJUST => LengthRule::Exact(len::<HwTscAdjust>()),
        HVM_SAVE_CODE_CPU_MSR => LengthRule::Variable,
        _ => return None,
    })
}

/// Copies `body` into a `T`; it must be exactly `size_of::<T>()` bytes.
pub fn read_exact<T: FromBytes>(body: &[u8]) -> Result<T, RecordError> {
    T::read_from_bytes(body).map_err(|_| RecordError::Length {
        found: body.len(),
        expected: core::mem::size_of::<T>(),
    })
}

/// Copies `body` into a zeroed `T`; it may be shorter than `T` (the tail
/// stays zero), not longer.
pub fn read_zero_extended<T: FromBytes + IntoBytes>(body: &[u8]) -> Result<T, RecordError> {
    let mut value = T::new_zeroed();
    let dst = value.as_mut_bytes();
    if body.len() > dst.len() {
        return Err(RecordError::Length {
            found: body.len(),
            expected: dst.len(),
        });
    }
    dst[..body.len()].copy_from_slice(body);
    Ok(value)
}

/// Gives a type whose arrays are too long for `#[derive(Default)]` an
/// all-zero `Default`.
macro_rules! zeroed_default {
    ($($ty:ty),* $(,)?) => {
        $(impl Default for $ty {
            fn default() -> Self {
                <Self as FromZeros>::new_zeroed()
            }
        })*
    };
}

/// `HVM_FILE_MAGIC`.
pub const HVM_FILE_MAGIC: u32 = 0x5438_1286;
/// `HVM_FILE_VERSION`.
pub const HVM_FILE_VERSION: u32 = 1;

/// `struct hvm_save_descriptor`: precedes every record.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct Descriptor {
    /// `HVM_SAVE_CODE_*`.
    pub typecode: u16,
    /// vCPU id for per-vCPU types, else 0 (PIC: 0 master, 1 slave).
    pub instance: u16,
    /// Body length in bytes, not counting the descriptor.
    pub length: u32,
}

/// `struct hvm_save_header` (HEADER, 24 bytes).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct SaveHeader {
    /// [`HVM_FILE_MAGIC`].
    pub magic: u32,
    /// [`HVM_FILE_VERSION`].
    pub version: u32,
    /// Version of the saving hypervisor (informational).
    pub changeset: u64,
    /// CPUID.1.EAX of the saving host (a mismatch is only logged).
    pub cpuid: u32,
    /// Guest TSC rate in kHz; non-zero sets the domain's rate on load.
    pub gtsc_khz: u32,
}

impl SaveHeader {
    /// A header with the right magic and version.
    pub const fn new(cpuid: u32, gtsc_khz: u32) -> Self {
        Self {
            magic: HVM_FILE_MAGIC,
            version: HVM_FILE_VERSION,
            changeset: 0,
            cpuid,
            gtsc_khz,
        }
    }
}

/// `flags`: `fpu_regs` holds a valid FXSAVE image.
pub const XEN_X86_FPU_INITIALISED: u32 = 1 << 0;

// `pending_event` bits (the VMCB EVENTINJ low word).
/// Vector, bits 7:0.
pub const PENDING_VECTOR_MASK: u32 = 0xFF;
/// Event type, bits 10:8.
pub const PENDING_TYPE_SHIFT: u32 = 8;
/// Event type mask.
pub const PENDING_TYPE_MASK: u32 = 0x7 << PENDING_TYPE_SHIFT;
/// An error code is pushed.
pub const PENDING_ERROR_VALID: u32 = 1 << 11;
/// Reserved bits 30:12.
pub const PENDING_RESERVED_MASK: u32 = 0x7FFF_F000;
/// The event is valid.
pub const PENDING_VALID: u32 = 1 << 31;
// Event types.
pub const PENDING_TYPE_EXT_INTR: u32 = 0;
pub const PENDING_TYPE_NMI: u32 = 2;
pub const PENDING_TYPE_HW_EXCEPTION: u32 = 3;
pub const PENDING_TYPE_SW_INTERRUPT: u32 = 4;

/// `struct hvm_hw_cpu` (CPU, 1032 bytes): one vCPU's registers.
///
/// Segment attributes (`*_arbytes`) use the 12-bit SVM/VMCB layout: type
/// 3:0, S 4, DPL 6:5, P 7, AVL 8, L 9, D/B 10, G 11.
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
#[allow(missing_docs)]
pub struct HwCpu {
    /// FXSAVE image (valid only with [`XEN_X86_FPU_INITIALISED`]).
    pub fpu_regs: [u8; 512],
    pub rax: u64,
    pub rbx: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rbp: u64,
    pub rsi: u64,
    pub rdi: u64,
    pub rsp: u64,
    pub r8: u64,
    pub r9: u64,
    pub r10: u64,
    pub r11: u64,
    pub r12: u64,
    pub r13: u64,
    pub r14: u64,
    pub r15: u64,
    pub rip: u64,
    pub rflags: u64,
    pub cr0: u64,
    pub cr2: u64,
    pub cr3: u64,
    pub cr4: u64,
    pub dr0: u64,
    pub dr1: u64,
    pub dr2: u64,
    pub dr3: u64,
    pub dr6: u64,
    pub dr7: u64,
    pub cs_sel: u32,
    pub ds_sel: u32,
    pub es_sel: u32,
    pub fs_sel: u32,
    pub gs_sel: u32,
    pub ss_sel: u32,
    pub tr_sel: u32,
    pub ldtr_sel: u32,
    pub cs_limit: u32,
    pub ds_limit: u32,
    pub es_limit: u32,
    pub fs_limit: u32,
    pub gs_limit: u32,
    pub ss_limit: u32,
    pub tr_limit: u32,
    pub ldtr_limit: u32,
    pub idtr_limit: u32,
    pub gdtr_limit: u32,
    pub cs_base: u64,
    pub ds_base: u64,
    pub es_base: u64,
    pub fs_base: u64,
    pub gs_base: u64,
    pub ss_base: u64,
    pub tr_base: u64,
    pub ldtr_base: u64,
    pub idtr_base: u64,
    pub gdtr_base: u64,
    pub cs_arbytes: u32,
    pub ds_arbytes: u32,
    pub es_arbytes: u32,
    pub fs_arbytes: u32,
    pub gs_arbytes: u32,
    pub ss_arbytes: u32,
    pub tr_arbytes: u32,
    pub ldtr_arbytes: u32,
    pub sysenter_cs: u64,
    pub sysenter_esp: u64,
    pub sysenter_eip: u64,
    /// `MSR_KERNEL_GS_BASE`.
    pub shadow_gs: u64,
    /// Obsolete, ignored.
    pub msr_flags: u64,
    pub msr_lstar: u64,
    pub msr_star: u64,
    pub msr_cstar: u64,
    /// `MSR_SFMASK`.
    pub msr_syscall_mask: u64,
    pub msr_efer: u64,
    /// Must fit in 32 bits.
    pub msr_tsc_aux: u64,
    /// Guest TSC at save time.
    pub tsc: u64,
    /// Event being delivered, `PENDING_*` bits.
    pub pending_event: u32,
    /// Its error code.
    pub error_code: u32,
    /// `XEN_X86_FPU_INITIALISED`; any other bit is `-EINVAL`.
    pub flags: u32,
    /// Must be zero.
    pub pad0: u32,
}

/// `struct hvm_hw_cpu_compat` (CPU records of old Xen, 1016 bytes): no
/// `msr_tsc_aux`, `flags` or `pad0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
#[allow(missing_docs)]
pub struct HwCpuCompat {
    pub fpu_regs: [u8; 512],
    /// rax..r15, rip, rflags, cr0, cr2, cr3, cr4, dr0..dr3, dr6, dr7, as in
    /// [`HwCpu`].
    pub regs: [u64; 28],
    /// Selectors, limits (with idtr/gdtr), bases and arbytes, as in
    /// [`HwCpu`], as raw bytes (offset 736..920).
    pub segments: [u8; 184],
    pub sysenter_cs: u64,
    pub sysenter_esp: u64,
    pub sysenter_eip: u64,
    pub shadow_gs: u64,
    pub msr_flags: u64,
    pub msr_lstar: u64,
    pub msr_star: u64,
    pub msr_cstar: u64,
    pub msr_syscall_mask: u64,
    pub msr_efer: u64,
    pub tsc: u64,
    pub pending_event: u32,
    pub error_code: u32,
}

zeroed_default!(HwCpu, HwCpuCompat);

impl HwCpu {
    /// Whether a pending event is recorded ([`PENDING_VALID`]).
    pub const fn pending_valid(&self) -> bool {
        self.pending_event & PENDING_VALID != 0
    }

    /// The pending event's type (`PENDING_TYPE_*`).
    pub const fn pending_type(&self) -> u32 {
        (self.pending_event & PENDING_TYPE_MASK) >> PENDING_TYPE_SHIFT
    }

    /// The pending event's vector.
    pub const fn pending_vector(&self) -> u8 {
        (self.pending_event & PENDING_VECTOR_MASK) as u8
    }

    /// Decodes a CPU record body as Xen 4.17's loader does: 1032 bytes as
    /// they are; the 1016-byte compat form with its tail moved into place
    /// (`msr_tsc_aux` = 0); any other shorter body zero-extended. Every
    /// non-1032 form gets `flags` = [`XEN_X86_FPU_INITIALISED`], as Xen's
    /// compat fix-up does. Longer than 1032 bytes is an error.
    pub fn from_record(body: &[u8]) -> Result<Self, RecordError> {
        const NATIVE: usize = core::mem::size_of::<HwCpu>();
        const COMPAT: usize = core::mem::size_of::<HwCpuCompat>();
        if body.len() == NATIVE {
            return read_exact(body);
        }
        let mut cpu: HwCpu = read_zero_extended(body)?;
        if body.len() == COMPAT {
            let old: HwCpuCompat = read_exact(body)?;
            cpu.msr_tsc_aux = 0;
            cpu.tsc = old.tsc;
            cpu.pending_event = old.pending_event;
            cpu.error_code = old.error_code;
        }
        cpu.flags = XEN_X86_FPU_INITIALISED;
        Ok(cpu)
    }

    /// What Xen's loader changes on every CPU record it accepts: RFLAGS bit
    /// 1 (always set on x86) forced on, and segment attributes in the old
    /// Intel layout (bits 15:12 set, 11:8 clear) folded into the 12-bit form.
    pub fn apply_load_fixups(&mut self) {
        self.rflags |= 0x2;
        for ar in [
            &mut self.cs_arbytes,
            &mut self.ds_arbytes,
            &mut self.es_arbytes,
            &mut self.fs_arbytes,
            &mut self.gs_arbytes,
            &mut self.ss_arbytes,
            &mut self.tr_arbytes,
            &mut self.ldtr_arbytes,
        ] {
            if *ar & 0xF000 != 0 && *ar & 0x0F00 == 0 {
                *ar = (*ar & 0xFF) | ((*ar >> 4) & 0xF00);
            }
        }
    }
}

/// `struct hvm_hw_vpic` (PIC, 8 bytes), bit fields kept as bytes.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct HwPic {
    /// Interrupt request register.
    pub irr: u8,
    /// Interrupt mask register.
    pub imr: u8,
    /// In-service register.
    pub isr: u8,
    /// IRx maps to vector `irq_base + x`.
    pub irq_base: u8,
    /// `init_state` bits 3:0, `priority_add` bits 7:4.
    pub init_state_priority: u8,
    /// `readsel_isr` 0, `poll` 1, `auto_eoi` 2, `rotate_on_auto_eoi` 3,
    /// `special_fully_nested_mode` 4, `special_mask_mode` 5, `is_master` 6.
    pub mode: u8,
    /// Edge/level selection.
    pub elcr: u8,
    /// Virtual INT output.
    pub int_output: u8,
}

/// Pins of Xen's virtual IO-APIC.
pub const VIOAPIC_NUM_PINS: usize = 48;

/// `struct hvm_hw_vioapic` (IOAPIC, 400 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct HwIoapic {
    /// MMIO base.
    pub base_address: u64,
    /// IOREGSEL.
    pub ioregsel: u32,
    /// IOAPIC id.
    pub id: u32,
    /// Redirection entries (the 64-bit RTE layout).
    pub redirtbl: [u64; VIOAPIC_NUM_PINS],
}

// `HwLapic::disabled` (Xen's `VLAPIC_*_DISABLED`).
/// The APIC is disabled in `IA32_APIC_BASE` (EN clear).
pub const VLAPIC_HW_DISABLED: u32 = 0x1;
/// The APIC is software-disabled (SVR enable clear).
pub const VLAPIC_SW_DISABLED: u32 = 0x2;

/// `struct hvm_hw_lapic` (LAPIC, 24 bytes).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct HwLapic {
    /// `IA32_APIC_BASE`.
    pub apic_base_msr: u64,
    /// `VLAPIC_*_DISABLED` bits.
    pub disabled: u32,
    /// Timer divisor.
    pub timer_divisor: u32,
    /// `IA32_TSC_DEADLINE`.
    pub tdt_msr: u64,
}

/// `struct hvm_hw_lapic_regs` (LAPIC_REGS, 1024 bytes): the xAPIC register
/// page's first KiB, at MMIO offsets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct HwLapicRegs {
    /// Register bytes.
    pub data: [u8; 1024],
}

/// `struct hvm_hw_pci_irqs` (PCI_IRQ, 16 bytes): 128 INTx wires.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct HwPciIrqs {
    /// Bit `device * 4 + intx`.
    pub i: [u64; 2],
}

/// `struct hvm_hw_isa_irqs` (ISA_IRQ, 8 bytes): 16 ISA wires.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct HwIsaIrqs {
    /// Bit = ISA IRQ.
    pub i: u64,
}

/// `struct hvm_hw_pci_link` (PCI_LINK, 8 bytes).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct HwPciLink {
    /// GSI of each of the four PCI links.
    pub route: [u8; 4],
    /// Padding.
    pub pad0: [u8; 4],
}

/// One channel of [`HwPit`] (`struct hvm_hw_pit_channel`, 16 bytes).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
#[allow(missing_docs)]
pub struct HwPitChannel {
    /// Counter (can be 65536).
    pub count: u32,
    pub latched_count: u16,
    pub count_latched: u8,
    pub status_latched: u8,
    pub status: u8,
    pub read_state: u8,
    pub write_state: u8,
    pub write_latch: u8,
    pub rw_mode: u8,
    pub mode: u8,
    pub bcd: u8,
    pub gate: u8,
}

/// `struct hvm_hw_pit` (PIT, 56 bytes).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct HwPit {
    /// Channels 0–2.
    pub channels: [HwPitChannel; 3],
    /// Port 0x61 speaker bit.
    pub speaker_data_on: u32,
    /// Padding.
    pub pad0: u32,
}

/// CMOS bytes in [`HwRtc`].
pub const RTC_CMOS_SIZE: usize = 14;

/// `struct hvm_hw_rtc` (RTC, 24 bytes).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct HwRtc {
    /// CMOS RTC registers.
    pub cmos_data: [u8; RTC_CMOS_SIZE],
    /// Index register.
    pub cmos_index: u8,
    /// Padding.
    pub pad0: u8,
    /// Offset from host time, seconds.
    pub rtc_offset: i64,
}

/// One timer of [`HwHpet`].
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct HwHpetTimer {
    /// Configuration and capabilities.
    pub config: u64,
    /// Comparator.
    pub cmp: u64,
    /// FSB route.
    pub fsb: u64,
    /// Reserved.
    pub res4: u64,
}

/// HPET timers in [`HwHpet`].
pub const HPET_TIMER_NUM: usize = 3;

/// `struct hvm_hw_hpet` (HPET, 1048 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
#[allow(missing_docs)]
pub struct HwHpet {
    pub capability: u64,
    pub res0: u64,
    pub config: u64,
    pub res1: u64,
    pub isr: u64,
    pub res2: [u64; 25],
    /// Main counter.
    pub mc64: u64,
    pub res3: u64,
    pub timers: [HwHpetTimer; HPET_TIMER_NUM],
    pub res5: [u64; 4 * (24 - HPET_TIMER_NUM)],
    /// Last comparator value written per timer.
    pub period: [u64; HPET_TIMER_NUM],
}

/// `struct hvm_hw_pmtimer` (PMTIMER, 8 bytes).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct HwPmtimer {
    /// PM_TMR_BLK.TMR_VAL.
    pub tmr_val: u32,
    /// PM1a_STS.
    pub pm1a_sts: u16,
    /// PM1a_EN.
    pub pm1a_en: u16,
}

/// Variable-range MTRR pairs in [`HwMtrr`] (`MTRR_VCNT`).
pub const MTRR_VCNT: usize = 8;
/// Fixed-range MTRRs in [`HwMtrr`] (`NUM_FIXED_MSR`).
pub const NUM_FIXED_MSR: usize = 11;
/// `IA32_MTRRCAP`: VCNT, bits 7:0.
pub const MTRR_CAP_VCNT_MASK: u64 = 0xFF;
/// `IA32_MTRRCAP`: fixed ranges supported.
pub const MTRR_CAP_FIX: u64 = 1 << 8;
/// `IA32_MTRRCAP`: write-combining supported.
pub const MTRR_CAP_WC: u64 = 1 << 10;
/// `IA32_MTRR_DEF_TYPE`: default type, bits 7:0.
pub const MTRR_DEF_TYPE_TYPE_MASK: u64 = 0xFF;
/// `IA32_MTRR_DEF_TYPE`: fixed ranges enabled.
pub const MTRR_DEF_TYPE_FE: u64 = 1 << 10;
/// `IA32_MTRR_DEF_TYPE`: MTRRs enabled.
pub const MTRR_DEF_TYPE_E: u64 = 1 << 11;
/// What Xen gives every new vCPU as `IA32_MTRRCAP`: VCNT 8, FIX, WC.
pub const XEN_INITIAL_MTRR_CAP: u64 = MTRR_CAP_WC | MTRR_CAP_FIX | MTRR_VCNT as u64;
/// What Xen gives every new vCPU as `IA32_PAT` (WB, WT, UC-, UC twice; the
/// power-on value).
pub const XEN_INITIAL_PAT: u64 = 0x0007_0406_0007_0406;
/// The MTRR default type libxenguest writes for a new vCPU: WB, enabled.
pub const TOOLSTACK_MTRR_DEF_TYPE: u64 = MTRR_DEF_TYPE_E | 6;

/// `struct hvm_hw_mtrr` (MTRR, 240 bytes). Carries the guest PAT too.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct HwMtrr {
    /// `IA32_PAT`.
    pub msr_pat_cr: u64,
    /// `PHYSBASEn` at `2n`, `PHYSMASKn` at `2n + 1`.
    pub msr_mtrr_var: [u64; MTRR_VCNT * 2],
    /// Fixed ranges: 64K_00000, 16K_80000, 16K_A0000, 4K_C0000..4K_F8000.
    pub msr_mtrr_fixed: [u64; NUM_FIXED_MSR],
    /// `IA32_MTRRCAP`.
    pub msr_mtrr_cap: u64,
    /// `IA32_MTRR_DEF_TYPE`.
    pub msr_mtrr_def_type: u64,
}

impl HwMtrr {
    /// The state Xen gives a new vCPU: [`XEN_INITIAL_PAT`],
    /// [`XEN_INITIAL_MTRR_CAP`], everything else 0 (MTRRs disabled).
    pub const fn xen_initial() -> Self {
        Self {
            msr_pat_cr: XEN_INITIAL_PAT,
            msr_mtrr_var: [0; MTRR_VCNT * 2],
            msr_mtrr_fixed: [0; NUM_FIXED_MSR],
            msr_mtrr_cap: XEN_INITIAL_MTRR_CAP,
            msr_mtrr_def_type: 0,
        }
    }
}

/// Bytes of the legacy (FXSAVE) region of an XSAVE image.
pub const XSAVE_LEGACY_SIZE: usize = 512;
/// Bytes of the XSAVE header that follows it.
pub const XSAVE_HDR_SIZE: usize = 64;
/// `xcomp_bv` bit 63: the image is compacted (Xen refuses to load it).
pub const XSAVE_COMPACTED: u64 = 1 << 63;
/// Smallest CPU_XSAVE body Xen accepts: the 24-byte header plus the legacy
/// region and the XSAVE header (600).
pub const CPU_XSAVE_MIN_LEN: usize =
    core::mem::size_of::<HwCpuXsave>() + XSAVE_LEGACY_SIZE + XSAVE_HDR_SIZE;

/// The fixed head of `struct hvm_hw_cpu_xsave` (CPU_XSAVE); the standard
/// (non-compacted) XSAVE image of the components in `xcr0_accum` follows.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct HwCpuXsave {
    /// Xen's host mask (ignored on load).
    pub xfeature_mask: u64,
    /// Guest XCR0.
    pub xcr0: u64,
    /// Every XCR0 bit the guest ever set.
    pub xcr0_accum: u64,
}

/// `struct hvm_hw_cpu_xsave_hdr`: the XSAVE header at offset 512 of the
/// image.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct HwXsaveHdr {
    /// Components present in the image.
    pub xstate_bv: u64,
    /// Compaction format ([`XSAVE_COMPACTED`]).
    pub xcomp_bv: u64,
    /// Reserved, zero.
    pub reserved: [u64; 6],
}

/// A decoded CPU_XSAVE body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuXsave<'a> {
    /// XCR0 state.
    pub head: HwCpuXsave,
    /// The image's XSAVE header.
    pub hdr: HwXsaveHdr,
    /// The whole standard-format image (legacy region first).
    pub image: &'a [u8],
}

impl<'a> CpuXsave<'a> {
    /// Splits a CPU_XSAVE body, with the checks Xen makes before it knows
    /// the guest's policy: at least [`CPU_XSAVE_MIN_LEN`] bytes and not
    /// compacted. Checking `xcr0`/`xcr0_accum`/`xstate_bv` against the
    /// policy and the exact length for `xcr0_accum` is the caller's job.
    pub fn parse(body: &'a [u8]) -> Result<Self, RecordError> {
        const HEAD: usize = core::mem::size_of::<HwCpuXsave>();
        if body.len() < CPU_XSAVE_MIN_LEN {
            return Err(RecordError::Length {
                found: body.len(),
                expected: CPU_XSAVE_MIN_LEN,
            });
        }
        let (head, image) = body.split_at(HEAD);
        let head: HwCpuXsave = read_exact(head)?;
        let hdr: HwXsaveHdr =
            read_exact(&image[XSAVE_LEGACY_SIZE..XSAVE_LEGACY_SIZE + XSAVE_HDR_SIZE])?;
        if hdr.xcomp_bv & XSAVE_COMPACTED != 0 {
            return Err(RecordError::CompactedXsave);
        }
        Ok(Self { head, hdr, image })
    }

    /// Whether XRSTOR can load the image under `xcr0` without faulting: it
    /// names only components `xcr0` enables, is in the standard form with
    /// a clear reserved header, and its MXCSR has no reserved bit (the
    /// hypervisor must not take a #GP on the toolstack's bytes).
    pub fn restorable_under(&self, xcr0: u64) -> bool {
        self.hdr.xstate_bv & !xcr0 == 0
            && self.hdr.xcomp_bv == 0
            && self.hdr.reserved == [0; 6]
            && mxcsr_valid(legacy_mxcsr(self.image))
    }
}

/// MXCSR bits no x86-64 CPU has (its MXCSR_MASK is 0xFFFF, DAZ included):
/// loading one faults.
pub const MXCSR_RESERVED: u32 = 0xFFFF_0000;

/// MXCSR in an FXSAVE/XSAVE legacy region (bytes 24..28).
pub fn legacy_mxcsr(legacy: &[u8]) -> u32 {
    legacy
        .get(24..28)
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Whether an MXCSR value loads without a fault.
pub const fn mxcsr_valid(mxcsr: u32) -> bool {
    mxcsr & MXCSR_RESERVED == 0
}

/// `struct hvm_viridian_domain_context` (VIRIDIAN_DOMAIN, 32 bytes).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
#[allow(missing_docs)]
pub struct HwViridianDomain {
    pub hypercall_gpa: u64,
    pub guest_os_id: u64,
    pub time_ref_count: u64,
    pub reference_tsc: u64,
}

/// `struct hvm_viridian_vcpu_context` (VIRIDIAN_VCPU, 216 bytes).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
#[allow(missing_docs)]
pub struct HwViridianVcpu {
    pub vp_assist_msr: u64,
    pub apic_assist_pending: u8,
    /// Padding.
    pub pad: [u8; 7],
    pub simp_msr: u64,
    pub sint_msr: [u64; 16],
    pub stimer_config_msr: [u64; 4],
    pub stimer_count_msr: [u64; 4],
}

/// `struct hvm_vmce_vcpu` (VMCE_VCPU, 32 bytes).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct HwVmceVcpu {
    /// `IA32_MCG_CAP`.
    pub caps: u64,
    /// `IA32_MC0_CTL2`.
    pub mci_ctl2_bank0: u64,
    /// `IA32_MC1_CTL2`.
    pub mci_ctl2_bank1: u64,
    /// `IA32_MCG_EXT_CTL`.
    pub mcg_ext_ctl: u64,
}

/// `struct hvm_tsc_adjust` (TSC_ADJUST, 8 bytes).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct HwTscAdjust {
    /// `IA32_TSC_ADJUST`.
    pub tsc_adjust: u64,
}

/// Head of `struct hvm_msr` (CPU_MSR): `count` [`HwMsrEntry`]s follow.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct HwMsr {
    /// Entries.
    pub count: u32,
    /// Padding (the entries are 8-aligned).
    pub pad: u32,
}

/// `struct hvm_one_msr`: one entry of a CPU_MSR record.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct HwMsrEntry {
    /// MSR index.
    pub index: u32,
    /// Must be zero.
    pub rsvd: u32,
    /// Value.
    pub val: u64,
}

/// The MSRs Xen 4.17 saves in CPU_MSR records (others are `-ENXIO`):
/// SPEC_CTRL, INTEL_MISC_FEATURES_ENABLES, BNDCFGS, XSS, AMD VIRT_SPEC_CTRL,
/// AMD DR0–DR3 address masks.
pub const CPU_MSR_KNOWN: [u32; 9] = [
    0x48,
    0x140,
    0xD90,
    0xDA0,
    0xC001_011F,
    0xC001_1027,
    0xC001_1019,
    0xC001_101A,
    0xC001_101B,
];

/// The entries of a CPU_MSR body, decoded on the fly.
#[derive(Clone, Debug)]
pub struct CpuMsrs<'a> {
    rest: &'a [u8],
}

impl<'a> CpuMsrs<'a> {
    /// Checks a CPU_MSR body as Xen does: at least one entry (else
    /// [`RecordError::Length`]), length exactly `8 + 16 * count` and every
    /// `rsvd` zero (else [`RecordError::MsrFormat`]). Whether each index is
    /// acceptable is the caller's call ([`CPU_MSR_KNOWN`]).
    pub fn parse(body: &'a [u8]) -> Result<Self, RecordError> {
        const HEAD: usize = core::mem::size_of::<HwMsr>();
        const ENTRY: usize = core::mem::size_of::<HwMsrEntry>();
        if body.len() < HEAD + ENTRY {
            return Err(RecordError::Length {
                found: body.len(),
                expected: HEAD + ENTRY,
            });
        }
        let head: HwMsr = read_exact(&body[..HEAD])?;
        let rest = &body[HEAD..];
        let count = usize::try_from(head.count).unwrap_or(usize::MAX);
        if count.checked_mul(ENTRY) != Some(rest.len()) {
            return Err(RecordError::MsrFormat);
        }
        let msrs = Self { rest };
        if msrs.clone().any(|e| e.rsvd != 0) {
            return Err(RecordError::MsrFormat);
        }
        Ok(msrs)
    }
}

impl Iterator for CpuMsrs<'_> {
    type Item = HwMsrEntry;

    fn next(&mut self) -> Option<HwMsrEntry> {
        let (entry, rest) = HwMsrEntry::read_from_prefix(self.rest).ok()?;
        self.rest = rest;
        Some(entry)
    }
}

zeroed_default!(HwIoapic, HwLapicRegs, HwHpet);

const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(size_of::<Descriptor>() == 8);
    assert!(offset_of!(Descriptor, typecode) == 0);
    assert!(offset_of!(Descriptor, instance) == 2);
    assert!(offset_of!(Descriptor, length) == 4);

    assert!(size_of::<SaveHeader>() == 24);
    assert!(offset_of!(SaveHeader, magic) == 0);
    assert!(offset_of!(SaveHeader, version) == 4);
    assert!(offset_of!(SaveHeader, changeset) == 8);
    assert!(offset_of!(SaveHeader, cpuid) == 16);
    assert!(offset_of!(SaveHeader, gtsc_khz) == 20);

    assert!(size_of::<HwCpu>() == 1032);
    assert!(offset_of!(HwCpu, fpu_regs) == 0);
    assert!(offset_of!(HwCpu, rax) == 512);
    assert!(offset_of!(HwCpu, rbx) == 520);
    assert!(offset_of!(HwCpu, rcx) == 528);
    assert!(offset_of!(HwCpu, rdx) == 536);
    assert!(offset_of!(HwCpu, rbp) == 544);
    assert!(offset_of!(HwCpu, rsi) == 552);
    assert!(offset_of!(HwCpu, rdi) == 560);
    assert!(offset_of!(HwCpu, rsp) == 568);
    assert!(offset_of!(HwCpu, r8) == 576);
    assert!(offset_of!(HwCpu, r9) == 584);
    assert!(offset_of!(HwCpu, r10) == 592);
    assert!(offset_of!(HwCpu, r11) == 600);
    assert!(offset_of!(HwCpu, r12) == 608);
    assert!(offset_of!(HwCpu, r13) == 616);
    assert!(offset_of!(HwCpu, r14) == 624);
    assert!(offset_of!(HwCpu, r15) == 632);
    assert!(offset_of!(HwCpu, rip) == 640);
    assert!(offset_of!(HwCpu, rflags) == 648);
    assert!(offset_of!(HwCpu, cr0) == 656);
    assert!(offset_of!(HwCpu, cr2) == 664);
    assert!(offset_of!(HwCpu, cr3) == 672);
    assert!(offset_of!(HwCpu, cr4) == 680);
    assert!(offset_of!(HwCpu, dr0) == 688);
    assert!(offset_of!(HwCpu, dr1) == 696);
    assert!(offset_of!(HwCpu, dr2) == 704);
    assert!(offset_of!(HwCpu, dr3) == 712);
    assert!(offset_of!(HwCpu, dr6) == 720);
    assert!(offset_of!(HwCpu, dr7) == 728);
    assert!(offset_of!(HwCpu, cs_sel) == 736);
    assert!(offset_of!(HwCpu, ds_sel) == 740);
    assert!(offset_of!(HwCpu, es_sel) == 744);
    assert!(offset_of!(HwCpu, fs_sel) == 748);
    assert!(offset_of!(HwCpu, gs_sel) == 752);
    assert!(offset_of!(HwCpu, ss_sel) == 756);
    assert!(offset_of!(HwCpu, tr_sel) == 760);
    assert!(offset_of!(HwCpu, ldtr_sel) == 764);
    assert!(offset_of!(HwCpu, cs_limit) == 768);
    assert!(offset_of!(HwCpu, ds_limit) == 772);
    assert!(offset_of!(HwCpu, es_limit) == 776);
    assert!(offset_of!(HwCpu, fs_limit) == 780);
    assert!(offset_of!(HwCpu, gs_limit) == 784);
    assert!(offset_of!(HwCpu, ss_limit) == 788);
    assert!(offset_of!(HwCpu, tr_limit) == 792);
    assert!(offset_of!(HwCpu, ldtr_limit) == 796);
    assert!(offset_of!(HwCpu, idtr_limit) == 800);
    assert!(offset_of!(HwCpu, gdtr_limit) == 804);
    assert!(offset_of!(HwCpu, cs_base) == 808);
    assert!(offset_of!(HwCpu, ds_base) == 816);
    assert!(offset_of!(HwCpu, es_base) == 824);
    assert!(offset_of!(HwCpu, fs_base) == 832);
    assert!(offset_of!(HwCpu, gs_base) == 840);
    assert!(offset_of!(HwCpu, ss_base) == 848);
    assert!(offset_of!(HwCpu, tr_base) == 856);
    assert!(offset_of!(HwCpu, ldtr_base) == 864);
    assert!(offset_of!(HwCpu, idtr_base) == 872);
    assert!(offset_of!(HwCpu, gdtr_base) == 880);
    assert!(offset_of!(HwCpu, cs_arbytes) == 888);
    assert!(offset_of!(HwCpu, ds_arbytes) == 892);
    assert!(offset_of!(HwCpu, es_arbytes) == 896);
    assert!(offset_of!(HwCpu, fs_arbytes) == 900);
    assert!(offset_of!(HwCpu, gs_arbytes) == 904);
    assert!(offset_of!(HwCpu, ss_arbytes) == 908);
    assert!(offset_of!(HwCpu, tr_arbytes) == 912);
    assert!(offset_of!(HwCpu, ldtr_arbytes) == 916);
    assert!(offset_of!(HwCpu, sysenter_cs) == 920);
    assert!(offset_of!(HwCpu, sysenter_esp) == 928);
    assert!(offset_of!(HwCpu, sysenter_eip) == 936);
    assert!(offset_of!(HwCpu, shadow_gs) == 944);
    assert!(offset_of!(HwCpu, msr_flags) == 952);
    assert!(offset_of!(HwCpu, msr_lstar) == 960);
    assert!(offset_of!(HwCpu, msr_star) == 968);
    assert!(offset_of!(HwCpu, msr_cstar) == 976);
    assert!(offset_of!(HwCpu, msr_syscall_mask) == 984);
    assert!(offset_of!(HwCpu, msr_efer) == 992);
    assert!(offset_of!(HwCpu, msr_tsc_aux) == 1000);
    assert!(offset_of!(HwCpu, tsc) == 1008);
    assert!(offset_of!(HwCpu, pending_event) == 1016);
    assert!(offset_of!(HwCpu, error_code) == 1020);
    assert!(offset_of!(HwCpu, flags) == 1024);
    assert!(offset_of!(HwCpu, pad0) == 1028);

    assert!(size_of::<HwCpuCompat>() == 1016);
    assert!(offset_of!(HwCpuCompat, sysenter_cs) == 920);
    assert!(offset_of!(HwCpuCompat, msr_efer) == 992);
    assert!(offset_of!(HwCpuCompat, tsc) == 1000);
    assert!(offset_of!(HwCpuCompat, pending_event) == 1008);
    assert!(offset_of!(HwCpuCompat, error_code) == 1012);

    assert!(size_of::<HwPic>() == 8);
    assert!(offset_of!(HwPic, irq_base) == 3);
    assert!(offset_of!(HwPic, elcr) == 6);
    assert!(offset_of!(HwPic, int_output) == 7);
    assert!(size_of::<HwIoapic>() == 400);
    assert!(offset_of!(HwIoapic, base_address) == 0);
    assert!(offset_of!(HwIoapic, ioregsel) == 8);
    assert!(offset_of!(HwIoapic, id) == 12);
    assert!(offset_of!(HwIoapic, redirtbl) == 16);
    assert!(size_of::<HwLapic>() == 24);
    assert!(offset_of!(HwLapic, apic_base_msr) == 0);
    assert!(offset_of!(HwLapic, disabled) == 8);
    assert!(offset_of!(HwLapic, timer_divisor) == 12);
    assert!(offset_of!(HwLapic, tdt_msr) == 16);
    assert!(size_of::<HwLapicRegs>() == 1024);
    assert!(size_of::<HwPciIrqs>() == 16);
    assert!(size_of::<HwIsaIrqs>() == 8);
    assert!(size_of::<HwPciLink>() == 8);
    assert!(offset_of!(HwPciLink, route) == 0);
    assert!(offset_of!(HwPciLink, pad0) == 4);
    assert!(size_of::<HwPitChannel>() == 16);
    assert!(offset_of!(HwPitChannel, latched_count) == 4);
    assert!(offset_of!(HwPitChannel, gate) == 15);
    assert!(size_of::<HwPit>() == 56);
    assert!(offset_of!(HwPit, channels) == 0);
    assert!(offset_of!(HwPit, speaker_data_on) == 48);
    assert!(offset_of!(HwPit, pad0) == 52);
    assert!(size_of::<HwRtc>() == 24);
    assert!(offset_of!(HwRtc, cmos_data) == 0);
    assert!(offset_of!(HwRtc, cmos_index) == 14);
    assert!(offset_of!(HwRtc, pad0) == 15);
    assert!(offset_of!(HwRtc, rtc_offset) == 16);
    assert!(size_of::<HwHpet>() == 1048);
    assert!(offset_of!(HwHpet, config) == 16);
    assert!(offset_of!(HwHpet, isr) == 32);
    assert!(offset_of!(HwHpet, mc64) == 240);
    assert!(offset_of!(HwHpet, timers) == 256);
    assert!(offset_of!(HwHpet, res5) == 352);
    assert!(offset_of!(HwHpet, period) == 1024);
    assert!(size_of::<HwPmtimer>() == 8);
    assert!(offset_of!(HwPmtimer, pm1a_sts) == 4);
    assert!(offset_of!(HwPmtimer, pm1a_en) == 6);

    assert!(size_of::<HwMtrr>() == 240);
    assert!(offset_of!(HwMtrr, msr_pat_cr) == 0);
    assert!(offset_of!(HwMtrr, msr_mtrr_var) == 8);
    assert!(offset_of!(HwMtrr, msr_mtrr_fixed) == 136);
    assert!(offset_of!(HwMtrr, msr_mtrr_cap) == 224);
    assert!(offset_of!(HwMtrr, msr_mtrr_def_type) == 232);

    assert!(size_of::<HwCpuXsave>() == 24);
    assert!(offset_of!(HwCpuXsave, xfeature_mask) == 0);
    assert!(offset_of!(HwCpuXsave, xcr0) == 8);
    assert!(offset_of!(HwCpuXsave, xcr0_accum) == 16);
    assert!(size_of::<HwXsaveHdr>() == 64);
    assert!(offset_of!(HwXsaveHdr, xstate_bv) == 0);
    assert!(offset_of!(HwXsaveHdr, xcomp_bv) == 8);
    assert!(offset_of!(HwXsaveHdr, reserved) == 16);
    assert!(CPU_XSAVE_MIN_LEN == 600);

    assert!(size_of::<HwViridianDomain>() == 32);
    assert!(offset_of!(HwViridianDomain, reference_tsc) == 24);
    assert!(size_of::<HwViridianVcpu>() == 216);
    assert!(offset_of!(HwViridianVcpu, apic_assist_pending) == 8);
    assert!(offset_of!(HwViridianVcpu, simp_msr) == 16);
    assert!(offset_of!(HwViridianVcpu, sint_msr) == 24);
    assert!(offset_of!(HwViridianVcpu, stimer_config_msr) == 152);
    assert!(offset_of!(HwViridianVcpu, stimer_count_msr) == 184);
    assert!(size_of::<HwVmceVcpu>() == 32);
    assert!(offset_of!(HwVmceVcpu, caps) == 0);
    assert!(offset_of!(HwVmceVcpu, mci_ctl2_bank0) == 8);
    assert!(offset_of!(HwVmceVcpu, mci_ctl2_bank1) == 16);
    assert!(offset_of!(HwVmceVcpu, mcg_ext_ctl) == 24);
    assert!(size_of::<HwTscAdjust>() == 8);
    assert!(size_of::<HwMsr>() == 8);
    assert!(offset_of!(HwMsr, count) == 0);
    assert!(size_of::<HwMsrEntry>() == 16);
    assert!(offset_of!(HwMsrEntry, index) == 0);
    assert!(offset_of!(HwMsrEntry, rsvd) == 4);
    assert!(offset_of!(HwMsrEntry, val) == 8);
};
