//! The hypercall surface: one table from Xen's hypercall numbers to one
//! module per family. Arguments are checked here and in each family;
//! unknown calls return -ENOSYS, bad arguments Xen's error codes, and no
//! value a guest passes can stop the hypervisor.

mod console_io;
mod event_channel_op;
mod grant_table_op;
mod hvm_op;
mod memory_op;
mod sched_op;
pub mod time;
mod vcpu_op;
mod xen_version;

use alloc::sync::Arc;

use rxen_xen_abi::errno::{self, Errno};
use rxen_xen_abi::hypercall as nr;
use zerocopy::{FromBytes, Immutable, IntoBytes};

use crate::arch::vcpu::Reg;
use crate::domain::vcpu::{Vcpu, VcpuInner};
use crate::domain::{guest_access, Domain};
use crate::sched::run::Next;

/// One hypercall in progress: who made it and with what arguments.
pub struct Call<'a> {
    pub dom: &'a Arc<Domain>,
    pub vcpu: &'a Arc<Vcpu>,
    pub inner: &'a mut VcpuInner,
    pub args: [u64; 6],
}

/// A hypercall's result and what the vCPU does next.
pub type Outcome = (Result<u64, Errno>, Next);

pub fn ok(value: u64) -> Outcome {
    (Ok(value), Next::Continue)
}

pub fn err(e: Errno) -> Outcome {
    (Err(e), Next::Continue)
}

impl Call<'_> {
    /// Copies a structure in from guest virtual address `gva`.
    pub fn read<T: FromBytes + IntoBytes>(&self, gva: u64) -> Result<T, Errno> {
        let mem = self.dom.memory.lock();
        guest_access::read_obj(&mem, self.inner.arch.paging(), gva)
    }

    pub fn write<T: IntoBytes + Immutable>(&self, gva: u64, value: &T) -> Result<(), Errno> {
        let mem = self.dom.memory.lock();
        guest_access::write_obj(&mem, self.inner.arch.paging(), gva, value)
    }

    pub fn read_bytes(&self, gva: u64, buf: &mut [u8]) -> Result<(), Errno> {
        let mem = self.dom.memory.lock();
        guest_access::read(&mem, self.inner.arch.paging(), gva, buf)
    }

    pub fn write_bytes(&self, gva: u64, data: &[u8]) -> Result<(), Errno> {
        let mem = self.dom.memory.lock();
        guest_access::write(&mem, self.inner.arch.paging(), gva, data)
    }

    /// `domid` must name the caller (DOMID_SELF or its own id).
    pub fn check_self(&self, domid: u16) -> Result<(), Errno> {
        if domid == rxen_xen_abi::memory::DOMID_SELF || domid == self.dom.id {
            Ok(())
        } else if domid >= rxen_xen_abi::memory::DOMID_FIRST_RESERVED {
            Err(errno::EINVAL)
        } else {
            // A domU may not act on other domains.
            Err(errno::EPERM)
        }
    }
}

pub fn dispatch(dom: &Arc<Domain>, vcpu: &Arc<Vcpu>, inner: &mut VcpuInner) -> Next {
    let number = inner.arch.reg(Reg::Rax);
    let regs = if inner.arch.in_long_mode() {
        [Reg::Rdi, Reg::Rsi, Reg::Rdx, Reg::R10, Reg::R8, Reg::R9]
    } else {
        [Reg::Rbx, Reg::Rcx, Reg::Rdx, Reg::Rsi, Reg::Rdi, Reg::Rbp]
    };
    let mut args = regs.map(|r| inner.arch.reg(r));
    if !inner.arch.in_long_mode() {
        args = args.map(|a| a & 0xFFFF_FFFF);
    }
    if inner.arch.cpl() != 0 {
        inner.arch.set_reg(Reg::Rax, errno::EPERM.to_rax());
        return Next::Continue;
    }
    let mut call = Call {
        dom,
        vcpu,
        inner,
        args,
    };
    let (result, next) = match number {
        nr::XEN_VERSION => xen_version::call(&mut call),
        nr::MEMORY_OP => memory_op::call(&mut call),
        nr::HVM_OP => hvm_op::call(&mut call),
        nr::VCPU_OP => vcpu_op::call(&mut call),
        nr::EVENT_CHANNEL_OP => event_channel_op::call(&mut call),
        nr::SCHED_OP => sched_op::call(&mut call),
        nr::GRANT_TABLE_OP => grant_table_op::call(&mut call),
        nr::CONSOLE_IO => console_io::call(&mut call),
        nr::SET_TIMER_OP => vcpu_op::set_timer_op(&mut call),
        nr::VM_ASSIST => vm_assist(&mut call),
        _ => {
            log::debug!(
                "d{}: hypercall {} ({}) not implemented",
                dom.id,
                number,
                nr::name(number)
            );
            err(errno::ENOSYS)
        }
    };
    let rax = match result {
        Ok(v) => v,
        Err(e) => e.to_rax(),
    };
    call.inner.arch.set_reg(Reg::Rax, rax);
    next
}

/// vm_assist: only the runstate update flag (type 5) means anything to an
/// HVM/PVH guest.
fn vm_assist(call: &mut Call) -> Outcome {
    use rxen_xen_abi::hypercall::{
        VMASST_CMD_DISABLE, VMASST_CMD_ENABLE, VMASST_TYPE_RUNSTATE_UPDATE_FLAG,
    };
    let [cmd, kind, ..] = call.args;
    if kind != VMASST_TYPE_RUNSTATE_UPDATE_FLAG {
        return err(errno::EINVAL);
    }
    let bit = 1u64 << kind;
    match cmd {
        VMASST_CMD_ENABLE => call
            .dom
            .vm_assist
            .fetch_or(bit, core::sync::atomic::Ordering::SeqCst),
        VMASST_CMD_DISABLE => call
            .dom
            .vm_assist
            .fetch_and(!bit, core::sync::atomic::Ordering::SeqCst),
        _ => return err(errno::EINVAL),
    };
    ok(0)
}
