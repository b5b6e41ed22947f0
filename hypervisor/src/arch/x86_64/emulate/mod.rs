//! What a PVH guest's intercepted instructions see: CPUID, MSRs and I/O
//! ports. A PVH domain gets no emulated devices (as under Xen): only a
//! local APIC, the ACPI PM1 registers and the 0xE9 debug port.

pub mod cpuid;
pub mod io;
pub mod msr;
