//! grant_table_op: the table's size and version, and the operations of
//! back-ends: map and unmap of granted pages, copies. Every element gets a
//! `GNTST_*` status; the hypercall itself returns 0 once the batch is
//! done (Linux BUG()s on anything else), or an errno when the arguments
//! cannot be read at all.

use rxen_xen_abi::errno::{self, Errno};
use rxen_xen_abi::grant::*;

use super::{err, ok, Call, Outcome};
use crate::grant::ops;

/// Elements one call may carry (the toolstack and back-ends send a few
/// hundred at most); more is refused rather than looped over for ever.
const MAX_BATCH: u64 = 4096;

pub fn call(call: &mut Call) -> Outcome {
    let [cmd, uop, count, ..] = call.args;
    let result = match cmd {
        GNTTABOP_QUERY_SIZE => single(count).and_then(|()| query_size(call, uop)),
        GNTTABOP_SET_VERSION => single(count).and_then(|()| set_version(call, uop)),
        GNTTABOP_GET_VERSION => single(count).and_then(|()| get_version(call, uop)),
        GNTTABOP_MAP_GRANT_REF => batch(call, uop, count, map_one),
        GNTTABOP_UNMAP_GRANT_REF => batch(call, uop, count, unmap_one),
        GNTTABOP_COPY => batch(call, uop, count, copy_one),
        GNTTABOP_SETUP_TABLE => batch(call, uop, count, setup_table),
        // Xen gives an HVM/PVH guest none of the others.
        _ => Err(errno::ENOSYS),
    };
    match result {
        Ok(v) => ok(v),
        Err(e) => err(e),
    }
}

fn single(count: u64) -> Result<(), Errno> {
    if count == 1 {
        Ok(())
    } else {
        Err(errno::EINVAL)
    }
}

/// Runs `one` on each of `count` elements of type `T` at `uop`.
fn batch<T: zerocopy::FromBytes + zerocopy::IntoBytes + zerocopy::Immutable>(
    call: &mut Call,
    uop: u64,
    count: u64,
    one: fn(&mut Call, &mut T),
) -> Result<u64, Errno> {
    if count > MAX_BATCH {
        return Err(errno::EINVAL);
    }
    let size = core::mem::size_of::<T>() as u64;
    for i in 0..count {
        let at = uop.wrapping_add(i * size);
        let mut op: T = call.read(at)?;
        one(call, &mut op);
        call.write(at, &op)?;
    }
    Ok(0)
}

fn map_one(call: &mut Call, op: &mut GnttabMapGrantRef) {
    match ops::map(call.dom, op.dom, op.gref, op.flags, op.host_addr) {
        Ok(m) => {
            op.status = GNTST_OKAY;
            op.handle = m.handle;
            op.dev_bus_addr = m.dev_bus_addr;
        }
        Err(status) => {
            op.status = status;
            op.handle = u32::MAX;
        }
    }
}

fn unmap_one(call: &mut Call, op: &mut GnttabUnmapGrantRef) {
    op.status = match ops::unmap(call.dom, op.handle, op.host_addr, op.dev_bus_addr) {
        Ok(()) => GNTST_OKAY,
        Err(status) => status,
    };
}

fn copy_one(call: &mut Call, op: &mut GnttabCopy) {
    op.status = ops::copy(call.dom, op);
}

/// GNTTABOP_setup_table: the PV way to learn the table's frames. An
/// auto-translated guest maps them with XENMAPSPACE_grant_table instead;
/// this grows the table and reports success for the caller's own table
/// (or, for the control domain, any domain's), with no frame list.
fn setup_table(call: &mut Call, op: &mut GnttabSetupTable) {
    op.status = match call.target(op.dom) {
        Err(_) => GNTST_BAD_DOMAIN,
        Ok(target) => {
            let mut grants = target.grants.lock();
            if op.nr_frames > grants.max_frames() {
                GNTST_GENERAL_ERROR
            } else if op.nr_frames == 0 {
                GNTST_OKAY
            } else {
                let mut memory = target.memory.lock();
                match grants.frame(op.nr_frames - 1, &mut memory) {
                    Ok(_) => GNTST_OKAY,
                    Err(_) => GNTST_GENERAL_ERROR,
                }
            }
        }
    };
}

fn query_size(call: &mut Call, uop: u64) -> Result<u64, Errno> {
    let mut q: GnttabQuerySize = call.read(uop)?;
    match call.target(q.dom) {
        Ok(target) => {
            let grants = target.grants.lock();
            q.nr_frames = grants.nr_frames();
            q.max_nr_frames = grants.max_frames();
            q.status = GNTST_OKAY;
        }
        Err(e) => {
            q.status = GNTST_BAD_DOMAIN;
            call.write(uop, &q)?;
            return Err(e);
        }
    }
    call.write(uop, &q)?;
    Ok(0)
}

fn set_version(call: &mut Call, uop: u64) -> Result<u64, Errno> {
    let mut v: GnttabSetVersion = call.read(uop)?;
    // Only version 1 exists here; asking for 2 is refused.
    if v.version > 1 {
        return Err(errno::EINVAL);
    }
    v.version = 1;
    call.write(uop, &v)?;
    Ok(0)
}

fn get_version(call: &mut Call, uop: u64) -> Result<u64, Errno> {
    let mut v: GnttabGetVersion = call.read(uop)?;
    call.target(v.dom)?;
    v.version = 1;
    call.write(uop, &v)?;
    Ok(0)
}
