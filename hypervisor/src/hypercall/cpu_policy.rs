//! CPU policies as the toolstack exchanges them: serialised CPUID leaves
//! and MSRs (sysctl get_cpu_policy, domctl get/set_cpu_policy).

use alloc::vec::Vec;

use rxen_xen_abi::errno::{self, Errno};
use rxen_xen_abi::sysctl::{
    XenCpuidLeaf, XenMsrEntry, CPUID_MAX_SERIALISED_LEAVES, MSR_MAX_SERIALISED_ENTRIES,
};

use super::Call;

/// The MSRs of a serialised 4.17 policy: PLATFORM_INFO and
/// ARCH_CAPABILITIES (neither offered: value 0).
const POLICY_MSRS: [u32; 2] = [0xCE, 0x10A];

/// Writes serialised leaves to `handle` (capacity `*nr`), or with a NULL
/// handle only reports the most there can be.
pub fn write_leaves(
    call: &Call,
    nr: &mut u32,
    handle: u64,
    leaves: &[[u32; 6]],
) -> Result<(), Errno> {
    if handle == 0 {
        *nr = CPUID_MAX_SERIALISED_LEAVES;
        return Ok(());
    }
    if (*nr as usize) < leaves.len() {
        return Err(errno::ENOBUFS);
    }
    let out: Vec<XenCpuidLeaf> = leaves
        .iter()
        .map(|l| XenCpuidLeaf {
            leaf: l[0],
            subleaf: l[1],
            a: l[2],
            b: l[3],
            c: l[4],
            d: l[5],
        })
        .collect();
    call.write_array(handle, &out)?;
    *nr = leaves.len() as u32;
    Ok(())
}

/// The same for the policy's MSRs.
pub fn write_msrs(call: &Call, nr: &mut u32, handle: u64) -> Result<(), Errno> {
    if handle == 0 {
        *nr = MSR_MAX_SERIALISED_ENTRIES;
        return Ok(());
    }
    if (*nr as usize) < POLICY_MSRS.len() {
        return Err(errno::ENOBUFS);
    }
    let out: Vec<XenMsrEntry> = POLICY_MSRS
        .iter()
        .map(|&idx| XenMsrEntry {
            idx,
            ..Default::default()
        })
        .collect();
    call.write_array(handle, &out)?;
    *nr = out.len() as u32;
    Ok(())
}
