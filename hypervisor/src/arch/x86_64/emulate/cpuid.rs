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
