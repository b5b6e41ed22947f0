//! Xen's CPUID leaves (`arch-x86/cpuid.h`) and the hypercall-page MSR.
//!
//! The leaves sit at [`XEN_CPUID_FIRST_LEAF`] (or a later 0x100-aligned base
//! when another hypervisor interface is exposed first); `XEN_CPUID_LEAF(i)`
//! is `base + i`.

/// Default base of the Xen leaves.
pub const XEN_CPUID_FIRST_LEAF: u32 = 0x4000_0000;
/// Leaf base+0, EAX: the highest Xen leaf is base + this.
pub const XEN_CPUID_MAX_NUM_LEAVES: u32 = 5;

/// Leaf base+0, EBX: "XenV".
pub const XEN_CPUID_SIGNATURE_EBX: u32 = 0x566E_6558;
/// Leaf base+0, ECX: "MMXe".
pub const XEN_CPUID_SIGNATURE_ECX: u32 = 0x6558_4D4D;
/// Leaf base+0, EDX: "nVMM".
pub const XEN_CPUID_SIGNATURE_EDX: u32 = 0x4D4D_566E;

/// Leaf base+1, EAX: `(major << 16) | minor`.
pub const fn version_eax(major: u16, minor: u16) -> u32 {
    crate::version::version_value(major, minor)
}

/// Leaf base+2, EAX: number of hypercall pages.
pub const XEN_CPUID_HYPERCALL_PAGES: u32 = 1;
/// Leaf base+2, EBX: the MSR a guest writes to get a hypercall page
/// (Xen moves it to 0x4000_0200 when it also exposes Viridian).
pub const HYPERCALL_PAGE_MSR: u32 = 0x4000_0000;
/// Leaf base+2, ECX: PV page-table updates keep A/D bits.
pub const XEN_CPUID_FEAT1_MMU_PT_UPDATE_PRESERVE_AD: u32 = 1 << 0;

// Leaf base+3 (sub-leaf 0), EAX: TSC information.
/// The TSC is emulated.
pub const XEN_CPUID_TSC_EMULATED: u32 = 1 << 0;
/// The host TSC is reliable.
pub const XEN_CPUID_HOST_TSC_RELIABLE: u32 = 1 << 1;
/// RDTSCP is available.
pub const XEN_CPUID_RDTSCP_INSTR_AVAIL: u32 = 1 << 2;

// Leaf base+4 (sub-leaf 0), EAX: HVM flags.
/// Virtualised APIC register accesses.
pub const XEN_HVM_CPUID_APIC_ACCESS_VIRT: u32 = 1 << 0;
/// Virtualised x2APIC accesses.
pub const XEN_HVM_CPUID_X2APIC_VIRT: u32 = 1 << 1;
/// IOMMU mappings exist for the domain's memory (dom0 hint).
pub const XEN_HVM_CPUID_IOMMU_MAPPINGS: u32 = 1 << 2;
/// EBX holds the vCPU id.
pub const XEN_HVM_CPUID_VCPU_ID_PRESENT: u32 = 1 << 3;
/// ECX holds the domain id.
pub const XEN_HVM_CPUID_DOMID_PRESENT: u32 = 1 << 4;
/// 15-bit extended MSI destination ids are supported.
pub const XEN_HVM_CPUID_EXT_DEST_ID: u32 = 1 << 5;
/// `HVMOP_set_evtchn_upcall_vector` is supported.
pub const XEN_HVM_CPUID_UPCALL_VECTOR: u32 = 1 << 6;

/// Leaf base+5, EBX bits 7:0: machine address width.
pub const XEN_CPUID_MACHINE_ADDRESS_WIDTH_MASK: u32 = 0xFF;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_spells_xenvmmxenvmm() {
        let mut sig = [0u8; 12];
        sig[..4].copy_from_slice(&XEN_CPUID_SIGNATURE_EBX.to_le_bytes());
        sig[4..8].copy_from_slice(&XEN_CPUID_SIGNATURE_ECX.to_le_bytes());
        sig[8..].copy_from_slice(&XEN_CPUID_SIGNATURE_EDX.to_le_bytes());
        assert_eq!(&sig, b"XenVMMXenVMM");
        assert_eq!(version_eax(4, 17), 0x0004_0011);
    }
}
