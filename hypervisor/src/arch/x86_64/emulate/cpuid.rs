//! CPUID as the guest sees it: the host's answers, minus what it must not
//! use (SVM, MONITOR, TSC-deadline), plus the hypervisor bit, x2APIC, its
//! own APIC ID, and Xen's leaves at 0x40000000 ("XenVMMXenVMM").

use core::arch::x86_64::__cpuid_count;

use rxen_xen_abi::cpuid as xen;

/// The guest's CPUID result for (leaf, subleaf).
pub fn emulate(leaf: u32, subleaf: u32, vcpu_id: u32, domid: u16, cr4: u64) -> [u32; 4] {
    let apic_id = rxen_guest_layout::apic_id(vcpu_id);
    if (0x4000_0000..0x4001_0000).contains(&leaf) {
        return xen_leaf(leaf, vcpu_id, domid);
    }
    let r = __cpuid_count(leaf, subleaf);
    let (mut a, mut b, mut c, mut d) = (r.eax, r.ebx, r.ecx, r.edx);
    match leaf {
        0x1 => {
            b = (b & 0x00FF_FFFF) | (apic_id << 24);
            c &= !(1 << 3 | 1 << 5 | 1 << 24); // MONITOR, VMX, TSC-deadline
            c |= 1 << 21 | 1 << 31; // x2APIC, hypervisor present
            d &= !(1 << 7 | 1 << 14); // no MCE/MCA: no machine-check banks are emulated

            // OSXSAVE mirrors the guest's own CR4.OSXSAVE.
            c = (c & !(1 << 27)) | if cr4 & (1 << 18) != 0 { 1 << 27 } else { 0 };
        }
        0x5 | 0x6 => (a, b, c, d) = (0, 0, 0, 0),
        0xB | 0x1F => d = apic_id,
        0x8000_0001 => c &= !(1 << 2), // no SVM for guests
        0x8000_000A | 0x8000_001F => (a, b, c, d) = (0, 0, 0, 0),
        0x8000_001E => a = apic_id,
        _ => {}
    }
    [a, b, c, d]
}

fn xen_leaf(leaf: u32, vcpu_id: u32, domid: u16) -> [u32; 4] {
    let base = xen::XEN_CPUID_FIRST_LEAF;
    match leaf - base {
        0 => [
            base + xen::XEN_CPUID_MAX_NUM_LEAVES,
            xen::XEN_CPUID_SIGNATURE_EBX,
            xen::XEN_CPUID_SIGNATURE_ECX,
            xen::XEN_CPUID_SIGNATURE_EDX,
        ],
        1 => [xen::version_eax(4, 17), 0, 0, 0],
        // One hypercall page, installed through MSR 0x40000000.
        2 => [
            xen::XEN_CPUID_HYPERCALL_PAGES,
            xen::HYPERCALL_PAGE_MSR,
            0,
            0,
        ],
        // HVM leaf: the vCPU id and domain id are present.
        4 => [
            xen::XEN_HVM_CPUID_VCPU_ID_PRESENT | xen::XEN_HVM_CPUID_DOMID_PRESENT,
            vcpu_id,
            u32::from(domid),
            0,
        ],
        _ => [0, 0, 0, 0],
    }
}

/// Leaves with sub-leaves in a serialised policy, and how many of each
/// (what the toolstack's deserialiser accepts: 4 < 6, 7 < 3, 0xB < 2,
/// 0xD < 63).
fn subleaves(leaf: u32) -> Option<u32> {
    match leaf {
        0x4 => Some(4),
        0x7 => Some(2),
        0xB => Some(2),
        0xD => Some(3),
        _ => None,
    }
}

/// The guest CPU policy a new PVH domain gets, serialised as Xen's
/// `xen_cpuid_leaf` entries (leaf, subleaf, a, b, c, d): basic leaves up
/// to 0xD and extended leaves up to 0x80000021, as the guest's CPUID
/// answers them. Leaves without sub-leaves carry subleaf ~0.
pub fn policy_leaves() -> alloc::vec::Vec<[u32; 6]> {
    let mut out = alloc::vec::Vec::new();
    let basic_max = emulate(0, 0, 0, 0, 0)[0].min(0xD);
    let ext_max = emulate(0x8000_0000, 0, 0, 0, 0)[0].clamp(0x8000_0000, 0x8000_0021);
    let ranges = [0..=basic_max, 0x8000_0000..=ext_max];
    for leaf in ranges.into_iter().flatten() {
        match subleaves(leaf) {
            Some(n) => {
                for sub in 0..n {
                    let [a, b, c, d] = emulate(leaf, sub, 0, 0, 0);
                    out.push([leaf, sub, a, b, c, d]);
                }
            }
            None => {
                let [a, b, c, d] = emulate(leaf, 0, 0, 0, 0);
                out.push([leaf, u32::MAX, a, b, c, d]);
            }
        }
    }
    out
}

/// CPUID.1.EAX of the host (the HVM context header records it).
pub fn host_signature() -> u32 {
    __cpuid_count(1, 0).eax
}

/// Xen's featureset words (`cpufeatureset.h` order) as guests see them:
/// 1.edx, 1.ecx, e1.edx, e1.ecx, 0xd:1.eax, 7:0.ebx, 7:0.ecx, e7.edx,
/// e8.ebx, 7:0.edx, 7:1.eax, e21.eax, 7:1.ebx, 7:2.edx, 7:1.ecx, 7:1.edx.
pub fn host_featureset() -> alloc::vec::Vec<u32> {
    let q = |leaf: u32, sub: u32| emulate(leaf, sub, 0, 0, 0);
    let ext_max = q(0x8000_0000, 0)[0];
    let ext = |leaf: u32, sub: u32| {
        if leaf <= ext_max {
            q(leaf, sub)
        } else {
            [0; 4]
        }
    };
    alloc::vec![
        q(1, 0)[3],
        q(1, 0)[2],
        ext(0x8000_0001, 0)[3],
        ext(0x8000_0001, 0)[2],
        q(0xD, 1)[0],
        q(7, 0)[1],
        q(7, 0)[2],
        ext(0x8000_0007, 0)[3],
        ext(0x8000_0008, 0)[1],
        q(7, 0)[3],
        q(7, 1)[0],
        ext(0x8000_0021, 0)[0],
        q(7, 1)[1],
        q(7, 2)[3],
        q(7, 1)[2],
        q(7, 1)[3],
    ]
}
