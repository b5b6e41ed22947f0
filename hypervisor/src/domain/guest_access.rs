//! Reading and writing guest memory by the guest's *virtual* addresses
//! (hypercall arguments): walk the guest's page tables, then its p2m.
//! Every failure is a guest error (-EFAULT), never a hypervisor fault.

use rxen_xen_abi::errno::{self, Errno};
use zerocopy::{FromBytes, Immutable, IntoBytes};

use crate::arch::guest_paging::{self, Access};
use crate::arch::vcpu::PagingState;

use super::memory::{GuestMemory, PAGE};

/// Guest-physical address of guest-virtual `gva` under `paging`, if the
/// guest itself may access it that way.
pub fn virt_to_phys(
    mem: &GuestMemory,
    paging: PagingState,
    gva: u64,
    access: Access,
) -> Result<u64, Errno> {
    let read_u64 = |gpa: u64| mem.read_u64(gpa);
    let read_u32 = |gpa: u64| mem.read_u32(gpa);
    guest_paging::translate(paging, gva, access, &read_u64, &read_u32).ok_or(errno::EFAULT)
}

pub fn read(
    mem: &GuestMemory,
    paging: PagingState,
    mut gva: u64,
    mut buf: &mut [u8],
) -> Result<(), Errno> {
    while !buf.is_empty() {
        let gpa = virt_to_phys(mem, paging, gva, Access::Read)?;
        let n = ((PAGE - gva % PAGE) as usize).min(buf.len());
        mem.read(gpa, &mut buf[..n]).map_err(|_| errno::EFAULT)?;
        buf = &mut buf[n..];
        gva = gva.wrapping_add(n as u64);
    }
    Ok(())
}

pub fn write(
    mem: &GuestMemory,
    paging: PagingState,
    mut gva: u64,
    mut data: &[u8],
) -> Result<(), Errno> {
    while !data.is_empty() {
        let gpa = virt_to_phys(mem, paging, gva, Access::Write)?;
        let n = ((PAGE - gva % PAGE) as usize).min(data.len());
        if mem.translate_writable(gpa).is_none() {
            return Err(errno::EFAULT);
        }
        mem.write(gpa, &data[..n]).map_err(|_| errno::EFAULT)?;
        data = &data[n..];
        gva = gva.wrapping_add(n as u64);
    }
    Ok(())
}

/// Copies a `T` in from the guest (any byte pattern is a valid `T`).
pub fn read_obj<T: FromBytes + IntoBytes>(
    mem: &GuestMemory,
    paging: PagingState,
    gva: u64,
) -> Result<T, Errno> {
    let mut value = T::new_zeroed();
    read(mem, paging, gva, value.as_mut_bytes())?;
    Ok(value)
}

pub fn write_obj<T: IntoBytes + Immutable>(
    mem: &GuestMemory,
    paging: PagingState,
    gva: u64,
    value: &T,
) -> Result<(), Errno> {
    write(mem, paging, gva, value.as_bytes())
}
