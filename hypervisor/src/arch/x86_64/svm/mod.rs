//! AMD SVM: enabling it on each CPU, the VMCB, the world switch and exit
//! decoding. Nothing outside `arch` names SVM; generic code sees
//! [`crate::arch::vcpu::ArchVcpu`] and [`crate::arch::vcpu::Exit`].

pub mod asid;
pub mod vmcb;
pub mod world_switch;

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use ::x86_64::registers::control::{Cr0, Cr0Flags, Cr4, Cr4Flags};
use ::x86_64::registers::model_specific::{Efer, EferFlags, Msr};
use ::x86_64::registers::xcontrol::{XCr0, XCr0Flags};
use raw_cpuid::CpuId;

use super::percpu::{cpu_index, MAX_CPUS};
pub use world_switch::run;

const VM_HSAVE_PA: u32 = 0xC001_0117;
const VM_CR: u32 = 0xC001_0114;
const VM_CR_SVMDIS: u64 = 1 << 4;

/// What the CPU's SVM offers (CPUID 0x8000000A).
#[derive(Clone, Copy, Debug, Default)]
pub struct SvmFeatures {
    pub nested_paging: bool,
    pub nrip_save: bool,
    pub asids: u32,
}

static AVAILABLE: AtomicBool = AtomicBool::new(false);
static NRIP: AtomicBool = AtomicBool::new(false);
static ASIDS: AtomicU32 = AtomicU32::new(0);
/// Physical addresses of the I/O and MSR permission maps shared by all
/// vCPUs (everything intercepted but a few MSRs the VMCB holds anyway).
static IOPM_PA: AtomicU64 = AtomicU64::new(0);
static MSRPM_PA: AtomicU64 = AtomicU64::new(0);
/// Per CPU: the page VMSAVE/VMLOAD keep the host's hidden state in.
static HOST_VMCB: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];

/// Why SVM cannot be used.
#[derive(Debug)]
pub enum SvmError {
    NoSvm,
    DisabledByFirmware,
    NoNestedPaging,
    NoMemory,
}

impl core::fmt::Display for SvmError {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        f.write_str(match self {
            Self::NoSvm => "the CPU has no SVM (AMD-V); Intel VT-x is not supported yet",
            Self::DisabledByFirmware => "SVM is disabled in the firmware set-up (VM_CR.SVMDIS)",
            Self::NoNestedPaging => "the CPU has no nested paging (NPT)",
            Self::NoMemory => "out of memory for SVM structures",
        })
    }
}

pub fn features() -> Result<SvmFeatures, SvmError> {
    let cpuid = CpuId::new();
    let ext = cpuid
        .get_extended_processor_and_feature_identifiers()
        .ok_or(SvmError::NoSvm)?;
    if !ext.has_svm() {
        return Err(SvmError::NoSvm);
    }
    let svm = cpuid.get_svm_info().ok_or(SvmError::NoSvm)?;
    Ok(SvmFeatures {
        nested_paging: svm.has_nested_paging(),
        nrip_save: svm.has_nrip(),
        asids: svm.supported_asids(),
    })
}

/// Sets up what all CPUs share; `page` hands out zeroed frames (order).
pub fn init_global(
    alloc_zeroed: &mut dyn FnMut(u32) -> Option<u64>,
) -> Result<SvmFeatures, SvmError> {
    let f = features()?;
    if !f.nested_paging {
        return Err(SvmError::NoNestedPaging);
    }
    // I/O permission map: 12 KiB, all ones = intercept every port.
    let iopm = alloc_zeroed(2).ok_or(SvmError::NoMemory)?;
    fill(iopm, 4 * 4096, 0xFF);
    // MSR permission map: 8 KiB, two bits (read, write) per MSR.
    let msrpm = alloc_zeroed(1).ok_or(SvmError::NoMemory)?;
    fill(msrpm, 2 * 4096, 0xFF);
    for msr in PASSTHROUGH_MSRS {
        allow_msr(msrpm, *msr);
    }
    IOPM_PA.store(iopm, Ordering::Relaxed);
    MSRPM_PA.store(msrpm, Ordering::Relaxed);
    NRIP.store(f.nrip_save, Ordering::Relaxed);
    ASIDS.store(f.asids, Ordering::Relaxed);
    AVAILABLE.store(true, Ordering::Relaxed);
    Ok(f)
}

/// MSRs whose guest values live in the VMCB (loaded by VMLOAD/VMRUN), so
/// the guest may access them directly.
const PASSTHROUGH_MSRS: &[u32] = &[
    0xC000_0100, // FS_BASE
    0xC000_0101, // GS_BASE
    0xC000_0102, // KERNEL_GS_BASE
    0xC000_0081, // STAR
    0xC000_0082, // LSTAR
    0xC000_0083, // CSTAR
    0xC000_0084, // SFMASK
    0x0000_0174, // SYSENTER_CS
    0x0000_0175, // SYSENTER_ESP
    0x0000_0176, // SYSENTER_EIP
];

fn fill(pa: u64, len: usize, byte: u8) {
    // SAFETY: a fresh allocation of at least `len` bytes, ours alone.
    unsafe { core::ptr::write_bytes(super::paging::phys_to_virt(pa), byte, len) };
}

fn allow_msr(msrpm: u64, msr: u32) {
    let (base, index) = match msr {
        0..=0x1FFF => (0, msr),
        0xC000_0000..=0xC000_1FFF => (0x800, msr - 0xC000_0000),
        0xC001_0000..=0xC001_1FFF => (0x1000, msr - 0xC001_0000),
        _ => return,
    };
    let bit = index as usize * 2;
    let byte = base + bit / 8;
    // SAFETY: `byte` < 0x1800, inside the 8 KiB map allocated above.
    unsafe {
        let p = super::paging::phys_to_virt(msrpm).add(byte);
        *p &= !(0b11 << (bit % 8));
    }
}

/// Enables SVM on this CPU: EFER.SVME, the host-save area, and the host
/// FPU/XSAVE controls the world switch relies on.
pub fn init_this_cpu(alloc_zeroed: &mut dyn FnMut(u32) -> Option<u64>) -> Result<(), SvmError> {
    if !AVAILABLE.load(Ordering::Relaxed) {
        return Err(SvmError::NoSvm);
    }
    // SAFETY: VM_CR exists on every CPU with SVM.
    if unsafe { Msr::new(VM_CR).read() } & VM_CR_SVMDIS != 0 {
        return Err(SvmError::DisabledByFirmware);
    }
    let hsave = alloc_zeroed(0).ok_or(SvmError::NoMemory)?;
    let host_vmcb = alloc_zeroed(0).ok_or(SvmError::NoMemory)?;
    HOST_VMCB[cpu_index()].store(host_vmcb, Ordering::Relaxed);
    // SAFETY: enabling SVM and giving it a private 4 KiB save area is what
    // the APM prescribes before the first VMRUN.
    unsafe {
        Efer::update(|f| f.insert(EferFlags::SECURE_VIRTUAL_MACHINE_ENABLE));
        Msr::new(VM_HSAVE_PA).write(hsave);
    }
    enable_host_fpu();
    Ok(())
}

/// Guests use x87/SSE/AVX; the world switch saves and restores that state
/// with XSAVE, which needs CR4.OSFXSR/OSXSAVE on the host. rxen itself never
/// touches those registers (soft-float target).
fn enable_host_fpu() {
    let has_xsave = CpuId::new()
        .get_feature_info()
        .is_some_and(|f| f.has_xsave());
    // SAFETY: standard FPU enabling; no rxen code uses FPU/SSE registers.
    unsafe {
        Cr0::update(|f| {
            f.remove(Cr0Flags::EMULATE_COPROCESSOR | Cr0Flags::TASK_SWITCHED);
            f.insert(Cr0Flags::MONITOR_COPROCESSOR);
        });
        Cr4::update(|f| {
            f.insert(Cr4Flags::OSFXSR | Cr4Flags::OSXMMEXCPT_ENABLE);
            if has_xsave {
                f.insert(Cr4Flags::OSXSAVE);
            }
        });
        if has_xsave {
            XCr0::write(XCr0Flags::X87 | XCr0Flags::SSE);
        }
    }
}

pub fn iopm_pa() -> u64 {
    IOPM_PA.load(Ordering::Relaxed)
}

pub fn msrpm_pa() -> u64 {
    MSRPM_PA.load(Ordering::Relaxed)
}

pub fn host_vmcb_pa() -> u64 {
    HOST_VMCB[cpu_index()].load(Ordering::Relaxed)
}

/// ASIDs the CPU offers (0 is the host's).
pub fn asid_count() -> u32 {
    ASIDS.load(Ordering::Relaxed)
}

pub fn has_nrip_save() -> bool {
    NRIP.load(Ordering::Relaxed)
}
