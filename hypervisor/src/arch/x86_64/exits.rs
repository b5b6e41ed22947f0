//! Handling a vCPU's exits: CPUID, MSRs, port I/O, HLT, hypercalls, nested
//! page faults; and, before each entry, delivering pending interrupts
//! (the event-channel upcall and the virtual local APIC's vectors).

use alloc::sync::Arc;
use core::sync::atomic::Ordering;

use rxen_xen_abi::sched::ShutdownReason;

use super::emulate::{cpuid, io, msr};
use super::vcpu::{Exit, IoAccess, Reg};
use super::vlapic::{IpiDest, IpiRequest};
use crate::domain::vcpu::{Vcpu, VcpuInner};
use crate::domain::Domain;
use crate::sched::run::Next;

pub fn handle(dom: &Arc<Domain>, vcpu: &Arc<Vcpu>, inner: &mut VcpuInner, exit: Exit) -> Next {
    inner.exit_counts.count(&exit);
    match exit {
        Exit::Cpuid { leaf, subleaf } => {
            let cr4 = inner.arch.paging().cr4;
            let [a, b, c, d] = cpuid::emulate(leaf, subleaf, vcpu.id, dom.id, cr4);
            for (reg, v) in [(Reg::Rax, a), (Reg::Rbx, b), (Reg::Rcx, c), (Reg::Rdx, d)] {
                inner.arch.set_reg(reg, u64::from(v));
            }
            inner.arch.skip_instruction(2);
            Next::Continue
        }
        Exit::MsrRead { msr } => {
            match msr::read(inner, vcpu.id, msr) {
                Some(v) => {
                    inner.arch.set_reg(Reg::Rax, v & 0xFFFF_FFFF);
                    inner.arch.set_reg(Reg::Rdx, v >> 32);
                    inner.arch.skip_instruction(2);
                }
                None => {
                    log::debug!("d{}v{}: rdmsr {msr:#x} refused (#GP)", dom.id, vcpu.id);
                    inner.arch.inject_gp();
                }
            }
            Next::Continue
        }
        Exit::MsrWrite { msr, value } => msr_write(dom, vcpu, inner, msr, value),
        Exit::Io(access) => port_io(dom, inner, access),
        Exit::Hypercall => {
            inner.arch.skip_instruction(3);
            crate::hypercall::dispatch(dom, vcpu, inner)
        }
        Exit::Halt => {
            inner.arch.skip_instruction(1);
            if !inner.arch.interrupts_enabled() {
                // As on Xen: HLT with interrupts off takes the vCPU down,
                // pending events or not (Linux's halt and CPU unplug).
                Next::Down
            } else if crate::sched::run::has_work(dom, vcpu) || inner.lapic.pending().is_some() {
                Next::Continue
            } else {
                Next::Block
            }
        }
        Exit::HostInterrupt => Next::Continue,
        Exit::InterruptWindow => {
            inner.arch.request_interrupt_window(false);
            Next::Continue
        }
        Exit::NestedPageFault { gpa, write, fetch } => {
            // A write to RAM that log-dirty protects: recorded, writable
            // again, the stale read-only translation flushed.
            if write && dom.memory.lock().log_dirty_fault(gpa >> 12) {
                inner.arch.request_tlb_flush();
                return Next::Continue;
            }
            // A populate-on-demand entry: the page comes now and the guest
            // runs on (no flush: a missing translation is never cached).
            match dom.memory.lock().pod_touch(gpa >> 12) {
                Ok(true) => return Next::Continue,
                Ok(false) => {}
                Err(_) => {
                    return crash(
                        dom,
                        inner,
                        format_args!(
                            "touch of guest-physical {gpa:#x} with its populate-on-demand cache empty (out of PoD memory: the guest used more than its target before its balloon driver gave the rest back)"
                        ),
                    )
                }
            }
            let kind = if fetch {
                "execute"
            } else if write {
                "write"
            } else {
                "read"
            };
            crash(
                dom,
                inner,
                format_args!("{kind} of guest-physical {gpa:#x}, which is not its memory"),
            )
        }
        Exit::Shutdown => crash(dom, inner, format_args!("triple fault")),
        Exit::InvalidState => crash(
            dom,
            inner,
            format_args!("the CPU refused its state (invalid VMCB)"),
        ),
        Exit::Other { code, info1, info2 } => crash(
            dom,
            inner,
            format_args!("unhandled exit {code:#x} (info {info1:#x} {info2:#x})"),
        ),
    }
}

/// A fatal guest error: report it with the registers; neighbours go on.
fn crash(dom: &Domain, inner: &VcpuInner, why: core::fmt::Arguments) -> Next {
    crate::println!("rxen: d{} fatal: {}", dom.id, why);
    let dump = alloc::format!("{}", inner.arch.dump());
    for line in dump.lines() {
        crate::println!("rxen: d{}   {}", dom.id, line);
    }
    dom.shutdown(ShutdownReason::Crash);
    Next::Stop
}

fn msr_write(
    dom: &Arc<Domain>,
    vcpu: &Arc<Vcpu>,
    inner: &mut VcpuInner,
    msr: u32,
    value: u64,
) -> Next {
    match msr::write(inner, msr, value) {
        Ok(effect) => {
            inner.arch.skip_instruction(2);
            match effect {
                msr::WriteEffect::None => {}
                msr::WriteEffect::HypercallPage(gpa) => install_hypercall_page(dom, inner, gpa),
                msr::WriteEffect::Ipi(ipi) => route_ipi(dom, vcpu, inner, ipi),
            }
        }
        Err(()) => {
            log::debug!(
                "d{}v{}: wrmsr {msr:#x} <- {value:#x} refused (#GP)",
                dom.id,
                vcpu.id
            );
            inner.arch.inject_gp();
        }
    }
    Next::Continue
}

fn install_hypercall_page(dom: &Domain, inner: &mut VcpuInner, gpa: u64) {
    let mut page = [0u8; 4096];
    rxen_xen_abi::hypercall::hypercall_page(&mut page);
    if dom.memory.lock().write(gpa, &page).is_err() {
        log::warn!("d{}: hypercall page at {gpa:#x} is not its RAM", dom.id);
        inner.arch.inject_gp();
    }
}

/// Fixed IPIs to itself land in its own APIC; others go to the target
/// vCPUs' APICs (SMP guests).
fn route_ipi(dom: &Arc<Domain>, vcpu: &Arc<Vcpu>, inner: &mut VcpuInner, ipi: IpiRequest) {
    let IpiRequest::Fixed { vector, dest } = ipi else {
        crate::smp_guest::handle_ipi(dom, vcpu, ipi);
        return;
    };
    let to_self = match dest {
        IpiDest::SelfOnly | IpiDest::AllIncludingSelf => true,
        IpiDest::ApicId(id) => id == inner.lapic.id(),
        IpiDest::AllExcludingSelf => false,
    };
    if to_self {
        inner.lapic.set_irr(vector);
    }
    if dest != IpiDest::SelfOnly {
        crate::smp_guest::handle_ipi(dom, vcpu, ipi);
    }
}

fn port_io(dom: &Domain, inner: &mut VcpuInner, access: IoAccess) -> Next {
    inner.arch.set_rip(access.next_rip);
    if access.string {
        // Only `rep outsb` to the debug port is worth supporting (early
        // console); other string I/O is ignored.
        if !access.input && access.port == io::DEBUG_PORT {
            debug_port_string(dom, inner, access);
        }
        return Next::Continue;
    }
    if access.input {
        let value = u64::from(io::read(access.port, access.size));
        let mask = if access.size == 4 {
            0xFFFF_FFFF
        } else {
            (1u64 << (access.size * 8)) - 1
        };
        let rax = inner.arch.reg(Reg::Rax);
        // A 32-bit IN zero-extends into RAX; smaller ones merge.
        let new = if access.size == 4 {
            value
        } else {
            (rax & !mask) | (value & mask)
        };
        inner.arch.set_reg(Reg::Rax, new);
        return Next::Continue;
    }
    match io::write(access.port, inner.arch.reg(Reg::Rax) as u32) {
        io::PortWrite::None => Next::Continue,
        io::PortWrite::Console(byte) => {
            crate::console::guest_output(dom, &[byte]);
            Next::Continue
        }
        io::PortWrite::PowerOff => {
            dom.shutdown(ShutdownReason::Poweroff);
            Next::Stop
        }
    }
}

fn debug_port_string(dom: &Domain, inner: &mut VcpuInner, access: IoAccess) {
    let count = if access.rep {
        inner.arch.reg(Reg::Rcx).min(4096)
    } else {
        1
    };
    let rsi = inner.arch.reg(Reg::Rsi);
    let mut buf = alloc::vec![0u8; count as usize];
    let paging = inner.arch.paging();
    let ok = crate::domain::guest_access::read(&dom.memory.lock(), paging, rsi, &mut buf).is_ok();
    if ok {
        crate::console::guest_output(dom, &buf);
    }
    inner.arch.set_reg(Reg::Rsi, rsi.wrapping_add(count));
    if access.rep {
        inner.arch.set_reg(Reg::Rcx, 0);
    }
}

/// Before entry: inject the event-channel upcall or the highest pending
/// APIC vector if the guest can take an interrupt now, else ask for an exit
/// when it can.
pub fn deliver_interrupts(dom: &Domain, vcpu: &Vcpu, inner: &mut VcpuInner) {
    let posted = vcpu.take_posted();
    for (word, bits) in posted.iter().enumerate() {
        for bit in 0..64 {
            if bits & (1 << bit) != 0 {
                inner.lapic.set_irr((word * 64 + bit) as u8);
            }
        }
    }
    // A vector of the vCPU's own (Xen raises it in the APIC, and Linux
    // EOIs it; with the guest's APIC software-disabled, as a PVH Linux
    // leaves it, that EOI finds nothing in service) or the domain's.
    let callback = match vcpu.upcall_vector.load(Ordering::Relaxed) {
        0 => dom.callback_vector.load(Ordering::Relaxed),
        own => own,
    };
    let upcall = callback != 0 && vcpu.upcall_pending();
    let apic = inner.lapic.pending();
    if apic.is_none() {
        // Xen's callback vector bypasses the APIC (no IRR, no EOI): offered
        // as a virtual interrupt, which the CPU delivers when the guest can
        // take it. (Injecting it at VMRUN instead, right after an exit,
        // has been seen to leave QEMU's emulated CPU in a broken state.)
        inner
            .arch
            .offer_virtual_interrupt(upcall.then_some(callback));
        return;
    }
    inner.arch.offer_virtual_interrupt(None);
    if !inner.arch.can_take_interrupt() {
        inner.arch.request_interrupt_window(true);
        return;
    }
    inner.arch.request_interrupt_window(false);
    if upcall {
        // Xen's callback vector bypasses the APIC: no IRR, no EOI.
        inner.arch.inject_interrupt(callback);
    } else if let Some(vector) = apic {
        inner.lapic.acknowledge(vector);
        inner.arch.inject_interrupt(vector);
    }
}

/// Whether the vCPU's virtual APIC has something to deliver (lock-free
/// callers only look at the event side; this takes the vCPU lock).
pub fn lapic_pending(vcpu: &Vcpu) -> bool {
    vcpu.has_posted()
        || vcpu
            .inner
            .try_lock()
            .is_some_and(|inner| inner.lapic.pending().is_some())
}

/// Writes the pvclock parameters into the vCPU's vcpu_info (version odd
/// while updating, as the protocol asks).
pub fn refresh_time(dom: &Domain, vcpu: &Vcpu, _inner: &mut VcpuInner) {
    if !dom.shared_info_mapped.load(Ordering::SeqCst) {
        return;
    }
    crate::hypercall::time::write_pvclock(vcpu.vcpu_info_pa.load(Ordering::SeqCst));
}
