//! A domain's vCPU state as Xen's HVM save-record stream (the `hvm-context`
//! crate has the formats and checks): what XEN_DOMCTL_gethvmcontext hands
//! the toolstack and what sethvmcontext loads. The domain must be paused:
//! its vCPUs' state is read and written while they are off their CPUs.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use rxen_hvm_context::lapic::{self, LapicState};

use rxen_hvm_context::check::{self, CpuLimits};
use rxen_hvm_context::records::*;
use rxen_hvm_context::stream::{Reader, Writer};
use rxen_xen_abi::errno::{self, Errno};

use super::vcpu::RunState;
use super::Domain;

/// CR4 bits a guest may have (Xen's `hvm_cr4_guest_valid_bits` on an AMD
/// host without nested virtualisation).
const CR4_ALLOWED: u64 = check::X86_CR4_VME
    | check::X86_CR4_PVI
    | check::X86_CR4_TSD
    | check::X86_CR4_DE
    | check::X86_CR4_PSE
    | check::X86_CR4_PAE
    | check::X86_CR4_MCE
    | check::X86_CR4_PGE
    | check::X86_CR4_PCE
    | check::X86_CR4_OSFXSR
    | check::X86_CR4_OSXMMEXCPT
    | check::X86_CR4_UMIP
    | check::X86_CR4_FSGSBASE
    | check::X86_CR4_PCIDE
    | check::X86_CR4_OSXSAVE
    | check::X86_CR4_SMEP
    | check::X86_CR4_SMAP;

fn header() -> SaveHeader {
    let khz = (crate::arch::time::tsc_hz() / 1000) as u32;
    SaveHeader::new(crate::arch::emulate::cpuid::host_signature(), khz)
}

/// HEADER, the CPU record of each vCPU that is up (as Xen: a vCPU without
/// one stays down when the stream is loaded), each vCPU's LAPIC,
/// LAPIC_REGS, MTRR and CPU_XSAVE records, then END; in ascending
/// typecode order, as Xen writes them and loads them (XSAVE overrides the
/// CPU record's FPU image). Xen needs the APIC records: without them a
/// guest it restores finds its APIC back in xAPIC mode.
pub fn save(d: &Domain) -> Result<Vec<u8>, Errno> {
    let mut w = Writer::new();
    w.header(&header());
    let vcpus = d.vcpus();
    for v in vcpus.iter().filter(|v| v.is_up()) {
        let inner = v.inner.try_lock().ok_or(errno::EAGAIN)?;
        w.record(HVM_SAVE_CODE_CPU, v.id as u16, &inner.arch.hvm_cpu());
    }
    let mut apics = Vec::with_capacity(vcpus.len());
    for v in vcpus.iter() {
        let inner = v.inner.try_lock().ok_or(errno::EAGAIN)?;
        apics.push((v.id as u16, inner.lapic.state().records(v.id == 0)));
    }
    for (id, (hw, _)) in &apics {
        w.record(HVM_SAVE_CODE_LAPIC, *id, hw);
    }
    for (id, (_, regs)) in &apics {
        w.record(HVM_SAVE_CODE_LAPIC_REGS, *id, regs);
    }
    for v in vcpus.iter() {
        let inner = v.inner.try_lock().ok_or(errno::EAGAIN)?;
        let mut mtrr = HwMtrr::xen_initial();
        mtrr.msr_pat_cr = inner.arch.pat();
        mtrr.msr_mtrr_def_type = inner.mtrr_def_type;
        w.record(HVM_SAVE_CODE_MTRR, v.id as u16, &mtrr);
    }
    for v in vcpus.iter() {
        let inner = v.inner.try_lock().ok_or(errno::EAGAIN)?;
        let (xcr0, image) = inner.arch.xsave_state();
        let head = HwCpuXsave {
            xfeature_mask: 0,
            xcr0,
            xcr0_accum: xcr0,
        };
        let mut body = Vec::with_capacity(24 + image.len());
        body.extend_from_slice(zerocopy::IntoBytes::as_bytes(&head));
        body.extend_from_slice(image);
        w.record_bytes(HVM_SAVE_CODE_CPU_XSAVE, v.id as u16, &body);
    }
    Ok(w.finish())
}

/// Loads a stream into the domain's vCPUs. A CPU record also brings its
/// vCPU up (the toolstack's record for vCPU 0 of a new guest is its start).
pub fn load(d: &Domain, blob: &[u8]) -> Result<(), Errno> {
    let reader = Reader::new(blob).map_err(|e| e.errno())?;
    check::check_header(&reader.header()).map_err(|e| e.errno())?;
    // A domain started (or restored) from vCPU state before it first runs:
    // see `mask_all_ports`. (A debugger's load into a running domain must
    // leave its ports as they are.)
    if d.vcpus().iter().all(|v| v.cpu_time() == 0) {
        d.mask_all_ports();
    }
    let mut apic_hw = BTreeMap::new();
    for record in reader {
        let record = record.map_err(|e| e.errno())?;
        if record.typecode == HVM_SAVE_CODE_LAPIC {
            // Its registers follow (LAPIC_REGS): both make the state.
            let hw: HwLapic = read_zero_extended(record.body).map_err(|e| e.errno())?;
            apic_hw.insert(record.instance, hw);
            continue;
        }
        if record.typecode == HVM_SAVE_CODE_LAPIC_REGS {
            load_lapic(
                d,
                record.instance,
                apic_hw.get(&record.instance),
                record.body,
            )?;
            continue;
        }
        load_record(d, record.typecode, record.instance, record.body)?;
    }
    Ok(())
}

/// A vCPU's APIC from its LAPIC_REGS record and its LAPIC record (`hw`;
/// a stream without one is taken as x2APIC, enabled).
fn load_lapic(d: &Domain, instance: u16, hw: Option<&HwLapic>, body: &[u8]) -> Result<(), Errno> {
    let regs: HwLapicRegs = read_exact(body).map_err(|e| e.errno())?;
    let v = d.vcpu(u32::from(instance)).ok_or(errno::ENOENT)?;
    let mut inner = v.inner.try_lock().ok_or(errno::EAGAIN)?;
    let hw = hw.copied().unwrap_or(HwLapic {
        apic_base_msr: lapic::APIC_BASE_ADDRESS | lapic::APIC_BASE_ENABLE | lapic::APIC_BASE_EXTD,
        disabled: 0,
        timer_divisor: 0,
        tdt_msr: 0,
    });
    match LapicState::from_records(&hw, &regs, &inner.lapic.state()) {
        Ok(Some(state)) => inner.lapic.load(&state),
        Ok(None) => {}
        Err(lapic::UnsupportedApicMode) => {
            log::warn!(
                "d{}v{instance}: the saved APIC is in xAPIC mode (base {:#x}); rxen's guests have x2APIC only",
                d.id,
                hw.apic_base_msr
            );
            return Err(errno::EINVAL);
        }
    }
    Ok(())
}

fn load_record(d: &Domain, typecode: u16, instance: u16, body: &[u8]) -> Result<(), Errno> {
    match typecode {
        HVM_SAVE_CODE_CPU => {
            let mut cpu = HwCpu::from_record(body).map_err(|e| e.errno())?;
            cpu.apply_load_fixups();
            check::check_cpu(&cpu, &CpuLimits::amd64(CR4_ALLOWED)).map_err(|e| e.errno())?;
            let v = d.vcpu(u32::from(instance)).ok_or(errno::ENOENT)?;
            v.inner
                .try_lock()
                .ok_or(errno::EAGAIN)?
                .arch
                .set_hvm_cpu(&cpu);
            if v.transition(RunState::Down, RunState::Runnable) {
                v.runstate.change(super::runstate::Runstate::Runnable);
                crate::sched::make_runnable(v);
            }
            Ok(())
        }
        HVM_SAVE_CODE_MTRR => {
            let mtrr: HwMtrr = read_exact(body).map_err(|e| e.errno())?;
            check::check_mtrr(&mtrr).map_err(|e| e.errno())?;
            let v = d.vcpu(u32::from(instance)).ok_or(errno::ENOENT)?;
            let mut inner = v.inner.try_lock().ok_or(errno::EAGAIN)?;
            inner.mtrr_def_type = mtrr.msr_mtrr_def_type;
            inner.arch.set_pat(mtrr.msr_pat_cr);
            Ok(())
        }
        HVM_SAVE_CODE_CPU_XSAVE => {
            let xsave = CpuXsave::parse(body).map_err(|e| e.errno())?;
            if !xsave.restorable_under(xsave.head.xcr0) {
                return Err(errno::EINVAL);
            }
            let v = d.vcpu(u32::from(instance)).ok_or(errno::ENOENT)?;
            let mut inner = v.inner.try_lock().ok_or(errno::EAGAIN)?;
            inner
                .arch
                .set_xsave_state(xsave.head.xcr0, xsave.image)
                .map_err(|()| errno::EINVAL)
        }
        // Per-vCPU state rxen keeps elsewhere or does not model yet.
        HVM_SAVE_CODE_CPU_MSR | HVM_SAVE_CODE_TSC_ADJUST | HVM_SAVE_CODE_VMCE_VCPU => {
            log::debug!("d{}: HVM record {} ignored", d.id, typecode_name(typecode));
            Ok(())
        }
        // Interrupt wires Xen saves for every HVM domain, PVH too (all
        // clear: a PVH domain has no emulated devices to drive them).
        HVM_SAVE_CODE_PCI_IRQ | HVM_SAVE_CODE_ISA_IRQ | HVM_SAVE_CODE_PCI_LINK => {
            check_wires(typecode, body)
        }
        // Emulated devices a PVH domain does not have.
        _ => Err(errno::ENODEV),
    }
}

/// A PCI_IRQ, ISA_IRQ or PCI_LINK record: of its length, and with no wire
/// asserted (a domain that had one would have had a device rxen lacks).
/// The links' routes are not wires: any are accepted.
fn check_wires(typecode: u16, body: &[u8]) -> Result<(), Errno> {
    let asserted = match typecode {
        HVM_SAVE_CODE_PCI_IRQ => read_exact::<HwPciIrqs>(body)
            .map_err(|e| e.errno())?
            .i
            .iter()
            .any(|&w| w != 0),
        HVM_SAVE_CODE_ISA_IRQ => read_exact::<HwIsaIrqs>(body).map_err(|e| e.errno())?.i != 0,
        _ => {
            read_exact::<HwPciLink>(body).map_err(|e| e.errno())?;
            false
        }
    };
    if asserted {
        return Err(errno::ENODEV);
    }
    Ok(())
}
