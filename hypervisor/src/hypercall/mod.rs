//! The hypercall surface: one table from Xen's hypercall numbers to one
//! module per family. Arguments are checked here and in each family;
//! unknown calls return -ENOSYS, bad arguments Xen's error codes, and no
//! value a guest passes can stop the hypervisor.

mod console_io;
mod cpu_policy;
mod domctl;
mod event_channel_op;
mod grant_table_op;
mod hvm_op;
mod memory_op;
mod platform_op;
mod sched_op;
mod sysctl;
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
use rxen_xen_abi::memory::{DOMID_FIRST_RESERVED, DOMID_SELF};

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

    /// Copies `count` elements of `T` in from the guest array at `gva`.
    pub fn read_array<T: FromBytes + IntoBytes + Clone>(
        &self,
        gva: u64,
        count: usize,
    ) -> Result<alloc::vec::Vec<T>, Errno> {
        let size = core::mem::size_of::<T>();
        let mut bytes = alloc::vec![0u8; count.checked_mul(size).ok_or(errno::EINVAL)?];
        self.read_bytes(gva, &mut bytes)?;
        Ok(bytes
            .chunks_exact(size)
            .map(|c| T::read_from_bytes(c).expect("chunk has the size of T"))
            .collect())
    }

    /// Copies `items` out to the guest array at `gva`.
    pub fn write_array<T: IntoBytes + Immutable>(
        &self,
        gva: u64,
        items: &[T],
    ) -> Result<(), Errno> {
        self.write_bytes(gva, items.as_bytes())
    }

    /// The domain `domid` names (DOMID_SELF: the caller), if the caller may
    /// act on it (XSM_TARGET): -ESRCH if there is none, -EPERM if it is
    /// another domain and the caller is not the control domain.
    pub fn target(&self, domid: u16) -> Result<Arc<Domain>, Errno> {
        if domid == DOMID_SELF || domid == self.dom.id {
            return Ok(self.dom.clone());
        }
        if domid >= DOMID_FIRST_RESERVED {
            return Err(errno::ESRCH);
        }
        let target = crate::domain::get(domid).ok_or(errno::ESRCH)?;
        crate::policy::may_target(self.dom, &target)?;
        Ok(target)
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
    let (result, next) = family(&mut call, number);
    if result == Err(errno::ERESTART) {
        // A continuation, as Xen makes them: the guest executes the same
        // hypercall again (its arguments are still in its registers).
        call.inner.arch.rewind_hypercall();
        return next;
    }
    let rax = match result {
        Ok(v) => v,
        Err(e) => e.to_rax(),
    };
    call.inner.arch.set_reg(Reg::Rax, rax);
    next
}

/// One hypercall, by number, to its family.
fn family(call: &mut Call, number: u64) -> Outcome {
    match number {
        nr::XEN_VERSION => xen_version::call(call),
        nr::MEMORY_OP => memory_op::call(call),
        nr::HVM_OP => hvm_op::call(call),
        nr::VCPU_OP => vcpu_op::call(call),
        nr::EVENT_CHANNEL_OP => event_channel_op::call(call),
        nr::SCHED_OP => sched_op::call(call),
        nr::GRANT_TABLE_OP => grant_table_op::call(call),
        nr::CONSOLE_IO => console_io::call(call),
        nr::DOMCTL => domctl::call(call),
        nr::SYSCTL => sysctl::call(call),
        nr::PLATFORM_OP => platform_op::call(call),
        nr::SET_TIMER_OP => vcpu_op::set_timer_op(call),
        nr::VM_ASSIST => vm_assist(call),
        nr::MULTICALL => multicall(call),
        _ => {
            log::debug!(
                "d{}: hypercall {} ({}) not implemented",
                call.dom.id,
                number,
                nr::name(number)
            );
            err(errno::ENOSYS)
        }
    }
}

/// One entry of a multicall list (`struct multicall_entry`, x86_64).
#[derive(
    Clone,
    Copy,
    zerocopy::FromBytes,
    zerocopy::IntoBytes,
    zerocopy::Immutable,
    zerocopy::KnownLayout,
)]
#[repr(C)]
struct MulticallEntry {
    op: u64,
    result: u64,
    args: [u64; 6],
}

/// Entries one multicall may carry.
const MAX_MULTICALL: u64 = 1024;

/// multicall: each entry's hypercall in turn, its result in the entry
/// (libxc issues memory_op this way, to get a 64-bit result back). A call
/// that stops the vCPU (a shutdown, a block) ends the list there.
fn multicall(call: &mut Call) -> Outcome {
    let [list, count, ..] = call.args;
    if count > MAX_MULTICALL {
        return err(errno::EINVAL);
    }
    let outer = call.args;
    for i in 0..count {
        let at = list.wrapping_add(i * core::mem::size_of::<MulticallEntry>() as u64);
        let mut entry: MulticallEntry = match call.read(at) {
            Ok(e) => e,
            Err(e) => return err(e),
        };
        call.args = entry.args;
        let (result, next) = if entry.op == nr::MULTICALL {
            err(errno::EINVAL)
        } else {
            family(call, entry.op)
        };
        call.args = outer;
        entry.result = match result {
            Ok(v) => v,
            Err(e) => e.to_rax(),
        };
        if let Err(e) = call.write(at, &entry) {
            return err(e);
        }
        if next != Next::Continue {
            return (Ok(0), next);
        }
    }
    ok(0)
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
