//! grant_table_op: the table's size and version. Mapping and copying
//! grants arrive with the back-ends (a later milestone).

use rxen_xen_abi::errno;
use rxen_xen_abi::grant::*;

use super::{err, ok, Call, Outcome};
use crate::domain::MAX_GRANT_FRAMES;

pub fn call(call: &mut Call) -> Outcome {
    let [cmd, uop, count, ..] = call.args;
    if count != 1
        && matches!(
            cmd,
            GNTTABOP_QUERY_SIZE | GNTTABOP_SET_VERSION | GNTTABOP_GET_VERSION
        )
    {
        return err(errno::EINVAL);
    }
    match cmd {
        GNTTABOP_QUERY_SIZE => {
            let mut q: GnttabQuerySize = match call.read(uop) {
                Ok(q) => q,
                Err(e) => return err(e),
            };
            if let Err(e) = call.check_self(q.dom) {
                q.status = GNTST_BAD_DOMAIN;
                let _ = call.write(uop, &q);
                return err(e);
            }
            q.nr_frames = call.dom.grant_frames.lock().len() as u32;
            q.max_nr_frames = MAX_GRANT_FRAMES;
            q.status = GNTST_OKAY;
            write_back(call, uop, &q)
        }
        GNTTABOP_SET_VERSION => {
            let mut v: GnttabSetVersion = match call.read(uop) {
                Ok(v) => v,
                Err(e) => return err(e),
            };
            // Only version 1 exists here; asking for 2 is refused.
            if v.version > 1 {
                return err(errno::EINVAL);
            }
            v.version = 1;
            write_back(call, uop, &v)
        }
        GNTTABOP_GET_VERSION => {
            let mut v: GnttabGetVersion = match call.read(uop) {
                Ok(v) => v,
                Err(e) => return err(e),
            };
            if let Err(e) = call.check_self(v.dom) {
                return err(e);
            }
            v.version = 1;
            write_back(call, uop, &v)
        }
        _ => err(errno::ENOSYS),
    }
}

fn write_back<T: zerocopy::IntoBytes + zerocopy::Immutable>(
    call: &mut Call,
    gva: u64,
    value: &T,
) -> super::Outcome {
    match call.write(gva, value) {
        Ok(()) => ok(0),
        Err(e) => err(e),
    }
}
