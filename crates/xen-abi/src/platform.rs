//! The dom0 platform hypercall `platform_op` (`platform.h`): wallclock,
//! physical-CPU information, firmware tables, power management.
//!
//! The argument is one [`XenPlatformOp`] (136 bytes); its union is read with
//! [`XenPlatformOp::payload`]. Guest handles are `u64` guest-virtual
//! addresses in the caller's address space.

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// The only `interface_version` accepted; anything else gets `-EACCES`.
pub const XENPF_INTERFACE_VERSION: u32 = 0x0300_0001;

// Commands (`XENPF_*`).
/// [`XenpfSettime32`].
pub const XENPF_SETTIME32: u32 = 17;
/// [`XenpfAddMemtype`].
pub const XENPF_ADD_MEMTYPE: u32 = 31;
/// [`XenpfDelMemtype`].
pub const XENPF_DEL_MEMTYPE: u32 = 32;
/// [`XenpfReadMemtype`].
pub const XENPF_READ_MEMTYPE: u32 = 33;
/// [`XenpfMicrocodeUpdate`].
pub const XENPF_MICROCODE_UPDATE: u32 = 35;
/// [`XenpfPlatformQuirk`].
pub const XENPF_PLATFORM_QUIRK: u32 = 39;
/// [`XenpfPcpuVersion`].
pub const XENPF_GET_CPU_VERSION: u32 = 48;
pub const XENPF_EFI_RUNTIME_CALL: u32 = 49;
/// [`XenpfFirmwareInfo`].
pub const XENPF_FIRMWARE_INFO: u32 = 50;
/// [`XenpfEnterAcpiSleep`].
pub const XENPF_ENTER_ACPI_SLEEP: u32 = 51;
/// [`XenpfChangeFreq`].
pub const XENPF_CHANGE_FREQ: u32 = 52;
/// [`XenpfGetidletime`].
pub const XENPF_GETIDLETIME: u32 = 53;
/// ACPI Cx/Px data from dom0's `xen-acpi-processor`.
pub const XENPF_SET_PROCESSOR_PMINFO: u32 = 54;
/// [`XenpfPcpuInfo`].
pub const XENPF_GET_CPUINFO: u32 = 55;
/// [`XenpfCpuOl`].
pub const XENPF_CPU_ONLINE: u32 = 56;
/// [`XenpfCpuOl`].
pub const XENPF_CPU_OFFLINE: u32 = 57;
/// [`XenpfCpuHotadd`].
pub const XENPF_CPU_HOTADD: u32 = 58;
/// [`XenpfMemHotadd`].
pub const XENPF_MEM_HOTADD: u32 = 59;
/// [`XenpfCoreParking`].
pub const XENPF_CORE_PARKING: u32 = 60;
/// [`XenpfResourceOp`].
pub const XENPF_RESOURCE_OP: u32 = 61;
/// [`XenpfSettime64`].
pub const XENPF_SETTIME64: u32 = 62;
/// [`XenpfSymdata`].
pub const XENPF_GET_SYMBOL: u32 = 63;
/// `XENPF_settime` for interface versions ≥ 0x00040600 (what Linux uses).
pub const XENPF_SETTIME: u32 = XENPF_SETTIME64;

/// Name of platform op `cmd` as Xen spells it, for logs; `"unknown"` for a
/// number 4.17 does not define.
pub fn name(cmd: u32) -> &'static str {
    match cmd {
        XENPF_SETTIME32 => "settime32",
        XENPF_ADD_MEMTYPE => "add_memtype",
        XENPF_DEL_MEMTYPE => "del_memtype",
        XENPF_READ_MEMTYPE => "read_memtype",
        XENPF_MICROCODE_UPDATE => "microcode_update",
        XENPF_PLATFORM_QUIRK => "platform_quirk",
        XENPF_GET_CPU_VERSION => "get_cpu_version",
        XENPF_EFI_RUNTIME_CALL => "efi_runtime_call",
        XENPF_FIRMWARE_INFO => "firmware_info",
        XENPF_ENTER_ACPI_SLEEP => "enter_acpi_sleep",
        XENPF_CHANGE_FREQ => "change_freq",
        XENPF_GETIDLETIME => "getidletime",
        XENPF_SET_PROCESSOR_PMINFO => "set_processor_pminfo",
        XENPF_GET_CPUINFO => "get_cpuinfo",
        XENPF_CPU_ONLINE => "cpu_online",
        XENPF_CPU_OFFLINE => "cpu_offline",
        XENPF_CPU_HOTADD => "cpu_hotadd",
        XENPF_MEM_HOTADD => "mem_hotadd",
        XENPF_CORE_PARKING => "core_parking",
        XENPF_RESOURCE_OP => "resource_op",
        XENPF_SETTIME64 => "settime64",
        XENPF_GET_SYMBOL => "get_symbol",
        _ => "unknown",
    }
}

/// `struct xen_platform_op`, the 136-byte hypercall argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct XenPlatformOp {
    /// `XENPF_*`.
    pub cmd: u32,
    /// Must be [`XENPF_INTERFACE_VERSION`].
    pub interface_version: u32,
    /// The per-command payload (`Xenpf*`).
    pub u: [u8; 128],
}

envelope_union!(XenPlatformOp, 128);

impl XenPlatformOp {
    /// A zeroed envelope for `cmd` with the current interface version.
    pub fn new(cmd: u32) -> Self {
        Self {
            cmd,
            interface_version: XENPF_INTERFACE_VERSION,
            ..Self::default()
        }
    }
}

/// `struct xenpf_settime32`: set the wallclock (old form).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenpfSettime32 {
    /// Seconds since the epoch at `system_time`.
    pub secs: u32,
    /// Nanoseconds.
    pub nsecs: u32,
    /// Xen system time (ns since boot) the wallclock refers to.
    pub system_time: u64,
}

/// `struct xenpf_settime64`: set the wallclock.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenpfSettime64 {
    /// Seconds since the epoch at `system_time`.
    pub secs: u64,
    /// Nanoseconds.
    pub nsecs: u32,
    /// Must be zero.
    pub mbz: u32,
    /// Xen system time (ns since boot) the wallclock refers to.
    pub system_time: u64,
}

/// `struct xenpf_add_memtype`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenpfAddMemtype {
    /// IN: first machine frame.
    pub mfn: u64,
    /// IN: frames.
    pub nr_mfns: u64,
    /// IN: MTRR type.
    pub kind: u32,
    /// OUT: handle.
    pub handle: u32,
    /// OUT: MTRR register.
    pub reg: u32,
    /// Padding.
    pub pad: u32,
}

/// `struct xenpf_del_memtype`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenpfDelMemtype {
    /// Handle from add.
    pub handle: u32,
    /// MTRR register.
    pub reg: u32,
}

/// `struct xenpf_read_memtype`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenpfReadMemtype {
    /// IN: MTRR register.
    pub reg: u32,
    /// Padding.
    pub pad0: u32,
    /// OUT: first machine frame.
    pub mfn: u64,
    /// OUT: frames.
    pub nr_mfns: u64,
    /// OUT: MTRR type.
    pub kind: u32,
    /// Padding.
    pub pad1: u32,
}

/// `struct xenpf_microcode_update`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenpfMicrocodeUpdate {
    /// Guest address of the microcode blob.
    pub data: u64,
    /// Its length.
    pub length: u32,
    /// Padding.
    pub pad: u32,
}

pub const QUIRK_NOIRQBALANCING: u32 = 1;
pub const QUIRK_IOAPIC_BAD_REGSEL: u32 = 2;
pub const QUIRK_IOAPIC_GOOD_REGSEL: u32 = 3;

/// `struct xenpf_platform_quirk`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenpfPlatformQuirk {
    /// `QUIRK_*`.
    pub quirk_id: u32,
}

// `XenpfFirmwareInfo::kind`.
pub const XEN_FW_DISK_INFO: u32 = 1;
pub const XEN_FW_DISK_MBR_SIGNATURE: u32 = 2;
pub const XEN_FW_VBEDDC_INFO: u32 = 3;
pub const XEN_FW_EFI_INFO: u32 = 4;
pub const XEN_FW_KBD_SHIFT_FLAGS: u32 = 5;
// `index` for XEN_FW_EFI_INFO.
pub const XEN_FW_EFI_VERSION: u32 = 0;
pub const XEN_FW_EFI_CONFIG_TABLE: u32 = 1;
pub const XEN_FW_EFI_VENDOR: u32 = 2;
pub const XEN_FW_EFI_MEM_INFO: u32 = 3;
pub const XEN_FW_EFI_RT_VERSION: u32 = 4;
pub const XEN_FW_EFI_PCI_ROM: u32 = 5;
pub const XEN_FW_EFI_APPLE_PROPERTIES: u32 = 6;

/// `struct xenpf_firmware_info`: the header and the OUT union as bytes
/// (rxen has no BIOS/EFI data to give; answer `-ESRCH` or `-EINVAL`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenpfFirmwareInfo {
    /// IN: `XEN_FW_*` (C: `type`).
    pub kind: u32,
    /// IN: which entry.
    pub index: u32,
    /// OUT: the type-specific data.
    pub u: [u8; 32],
}

/// `XenpfEnterAcpiSleep::flags`: `val_a`/`val_b` are sleep types, not PM1
/// control values.
pub const XENPF_ACPI_SLEEP_EXTENDED: u32 = 1;

/// `struct xenpf_enter_acpi_sleep`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenpfEnterAcpiSleep {
    /// PM1a control value / sleep type A.
    pub val_a: u16,
    /// PM1b control value / sleep type B.
    pub val_b: u16,
    /// Sleep state (Sn).
    pub sleep_state: u32,
    /// `XENPF_ACPI_SLEEP_*`.
    pub flags: u32,
}

/// `struct xenpf_change_freq`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenpfChangeFreq {
    /// Must be zero.
    pub flags: u32,
    /// Physical CPU.
    pub cpu: u32,
    /// New frequency, Hz.
    pub freq: u64,
}

/// `struct xenpf_getidletime`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenpfGetidletime {
    /// IN/OUT: guest address of a CPU bitmap (OUT: the CPUs present).
    pub cpumap_bitmap: u64,
    /// IN: bits in the bitmap.
    pub cpumap_nr_cpus: u32,
    /// Padding.
    pub pad: u32,
    /// Guest address of u64 idle times, one per CPU.
    pub idletime: u64,
    /// OUT: system time of the snapshot.
    pub now: u64,
}

// `XenpfPcpuInfo::flags`.
/// The CPU is online.
pub const XEN_PCPU_FLAGS_ONLINE: u32 = 1;
/// No such CPU.
pub const XEN_PCPU_FLAGS_INVALID: u32 = 2;

/// `struct xenpf_pcpuinfo` (`XENPF_get_cpuinfo`, Linux's `xen-pcpu`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenpfPcpuInfo {
    /// IN: physical CPU.
    pub xen_cpuid: u32,
    /// OUT: highest CPU id present.
    pub max_present: u32,
    /// OUT: `XEN_PCPU_FLAGS_*`.
    pub flags: u32,
    /// OUT: its APIC id.
    pub apic_id: u32,
    /// OUT: its ACPI processor id.
    pub acpi_id: u32,
}

/// `struct xenpf_pcpu_version` (`XENPF_get_cpu_version`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenpfPcpuVersion {
    /// IN: physical CPU.
    pub xen_cpuid: u32,
    /// OUT: highest CPU id present.
    pub max_present: u32,
    /// OUT: CPUID vendor string.
    pub vendor_id: [u8; 12],
    /// OUT: family.
    pub family: u32,
    /// OUT: model.
    pub model: u32,
    /// OUT: stepping.
    pub stepping: u32,
}

/// `struct xenpf_cpu_ol` (`XENPF_cpu_online`/`offline`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenpfCpuOl {
    /// Physical CPU.
    pub cpuid: u32,
}

/// `struct xenpf_cpu_hotadd`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenpfCpuHotadd {
    /// APIC id.
    pub apic_id: u32,
    /// ACPI processor id.
    pub acpi_id: u32,
    /// Proximity domain.
    pub pxm: u32,
}

/// `struct xenpf_mem_hotadd`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenpfMemHotadd {
    /// First frame.
    pub spfn: u64,
    /// End frame (exclusive).
    pub epfn: u64,
    /// Proximity domain.
    pub pxm: u32,
    /// Flags.
    pub flags: u32,
}

pub const XEN_CORE_PARKING_SET: u32 = 1;
pub const XEN_CORE_PARKING_GET: u32 = 2;

/// `struct xenpf_core_parking`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenpfCoreParking {
    /// `XEN_CORE_PARKING_*`.
    pub kind: u32,
    /// IN (set): CPUs wanted idle; OUT (get): CPUs idled.
    pub idle_nums: u32,
}

pub const XEN_RESOURCE_OP_MSR_READ: u32 = 0;
pub const XEN_RESOURCE_OP_MSR_WRITE: u32 = 1;

/// `struct xenpf_resource_entry`: one element of [`XenpfResourceOp`].
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenpfResourceEntry {
    /// IN: `XEN_RESOURCE_OP_*`; OUT: the (negative) result of a failed entry.
    pub cmd: u32,
    /// Must be zero.
    pub rsvd: u32,
    /// MSR index.
    pub idx: u64,
    /// IN/OUT: value.
    pub val: u64,
}

/// `struct xenpf_resource_op`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenpfResourceOp {
    /// Entries.
    pub nr_entries: u32,
    /// Physical CPU to run them on.
    pub cpu: u32,
    /// Guest address of [`XenpfResourceEntry`] entries.
    pub entries: u64,
}

/// `struct xenpf_symdata` (`XENPF_get_symbol`, `/proc/xen/xensyms`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct XenpfSymdata {
    /// IN: name buffer size; OUT: length of the name.
    pub namelen: u32,
    /// IN: symbol to read; OUT: the next one (unchanged at the end).
    pub symnum: u32,
    /// Guest address of the name buffer.
    pub name: u64,
    /// OUT: address.
    pub address: u64,
    /// OUT: `nm`-style type character (C: `type`).
    pub kind: u8,
    /// Padding.
    pub pad: [u8; 7],
}

const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(size_of::<XenPlatformOp>() == 136);
    assert!(offset_of!(XenPlatformOp, cmd) == 0);
    assert!(offset_of!(XenPlatformOp, interface_version) == 4);
    assert!(offset_of!(XenPlatformOp, u) == 8);

    assert!(size_of::<XenpfSettime32>() == 16);
    assert!(offset_of!(XenpfSettime32, secs) == 0);
    assert!(offset_of!(XenpfSettime32, nsecs) == 4);
    assert!(offset_of!(XenpfSettime32, system_time) == 8);
    assert!(size_of::<XenpfSettime64>() == 24);
    assert!(offset_of!(XenpfSettime64, secs) == 0);
    assert!(offset_of!(XenpfSettime64, nsecs) == 8);
    assert!(offset_of!(XenpfSettime64, mbz) == 12);
    assert!(offset_of!(XenpfSettime64, system_time) == 16);

    assert!(size_of::<XenpfAddMemtype>() == 32);
    assert!(offset_of!(XenpfAddMemtype, mfn) == 0);
    assert!(offset_of!(XenpfAddMemtype, nr_mfns) == 8);
    assert!(offset_of!(XenpfAddMemtype, kind) == 16);
    assert!(offset_of!(XenpfAddMemtype, handle) == 20);
    assert!(offset_of!(XenpfAddMemtype, reg) == 24);
    assert!(size_of::<XenpfDelMemtype>() == 8);
    assert!(offset_of!(XenpfDelMemtype, reg) == 4);
    assert!(size_of::<XenpfReadMemtype>() == 32);
    assert!(offset_of!(XenpfReadMemtype, reg) == 0);
    assert!(offset_of!(XenpfReadMemtype, mfn) == 8);
    assert!(offset_of!(XenpfReadMemtype, nr_mfns) == 16);
    assert!(offset_of!(XenpfReadMemtype, kind) == 24);
    assert!(size_of::<XenpfMicrocodeUpdate>() == 16);
    assert!(offset_of!(XenpfMicrocodeUpdate, data) == 0);
    assert!(offset_of!(XenpfMicrocodeUpdate, length) == 8);
    assert!(size_of::<XenpfPlatformQuirk>() == 4);

    assert!(size_of::<XenpfFirmwareInfo>() == 40);
    assert!(offset_of!(XenpfFirmwareInfo, kind) == 0);
    assert!(offset_of!(XenpfFirmwareInfo, index) == 4);
    assert!(offset_of!(XenpfFirmwareInfo, u) == 8);

    assert!(size_of::<XenpfEnterAcpiSleep>() == 12);
    assert!(offset_of!(XenpfEnterAcpiSleep, val_a) == 0);
    assert!(offset_of!(XenpfEnterAcpiSleep, val_b) == 2);
    assert!(offset_of!(XenpfEnterAcpiSleep, sleep_state) == 4);
    assert!(offset_of!(XenpfEnterAcpiSleep, flags) == 8);
    assert!(size_of::<XenpfChangeFreq>() == 16);
    assert!(offset_of!(XenpfChangeFreq, cpu) == 4);
    assert!(offset_of!(XenpfChangeFreq, freq) == 8);
    assert!(size_of::<XenpfGetidletime>() == 32);
    assert!(offset_of!(XenpfGetidletime, cpumap_bitmap) == 0);
    assert!(offset_of!(XenpfGetidletime, cpumap_nr_cpus) == 8);
    assert!(offset_of!(XenpfGetidletime, idletime) == 16);
    assert!(offset_of!(XenpfGetidletime, now) == 24);

    assert!(size_of::<XenpfPcpuInfo>() == 20);
    assert!(offset_of!(XenpfPcpuInfo, xen_cpuid) == 0);
    assert!(offset_of!(XenpfPcpuInfo, max_present) == 4);
    assert!(offset_of!(XenpfPcpuInfo, flags) == 8);
    assert!(offset_of!(XenpfPcpuInfo, apic_id) == 12);
    assert!(offset_of!(XenpfPcpuInfo, acpi_id) == 16);
    assert!(size_of::<XenpfPcpuVersion>() == 32);
    assert!(offset_of!(XenpfPcpuVersion, vendor_id) == 8);
    assert!(offset_of!(XenpfPcpuVersion, family) == 20);
    assert!(offset_of!(XenpfPcpuVersion, model) == 24);
    assert!(offset_of!(XenpfPcpuVersion, stepping) == 28);

    assert!(size_of::<XenpfCpuOl>() == 4);
    assert!(size_of::<XenpfCpuHotadd>() == 12);
    assert!(offset_of!(XenpfCpuHotadd, acpi_id) == 4);
    assert!(offset_of!(XenpfCpuHotadd, pxm) == 8);
    assert!(size_of::<XenpfMemHotadd>() == 24);
    assert!(offset_of!(XenpfMemHotadd, epfn) == 8);
    assert!(offset_of!(XenpfMemHotadd, pxm) == 16);
    assert!(offset_of!(XenpfMemHotadd, flags) == 20);
    assert!(size_of::<XenpfCoreParking>() == 8);
    assert!(offset_of!(XenpfCoreParking, idle_nums) == 4);

    assert!(size_of::<XenpfResourceEntry>() == 24);
    assert!(offset_of!(XenpfResourceEntry, cmd) == 0);
    assert!(offset_of!(XenpfResourceEntry, rsvd) == 4);
    assert!(offset_of!(XenpfResourceEntry, idx) == 8);
    assert!(offset_of!(XenpfResourceEntry, val) == 16);
    assert!(size_of::<XenpfResourceOp>() == 16);
    assert!(offset_of!(XenpfResourceOp, cpu) == 4);
    assert!(offset_of!(XenpfResourceOp, entries) == 8);

    assert!(size_of::<XenpfSymdata>() == 32);
    assert!(offset_of!(XenpfSymdata, namelen) == 0);
    assert!(offset_of!(XenpfSymdata, symnum) == 4);
    assert!(offset_of!(XenpfSymdata, name) == 8);
    assert!(offset_of!(XenpfSymdata, address) == 16);
    assert!(offset_of!(XenpfSymdata, kind) == 24);
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settime64_in_envelope() {
        let mut op = XenPlatformOp::new(XENPF_SETTIME);
        op.set_payload(&XenpfSettime64 {
            secs: 1_700_000_000,
            nsecs: 5,
            mbz: 0,
            system_time: 42,
        });
        let b = op.as_bytes();
        assert_eq!(b[0..4], 62u32.to_le_bytes());
        assert_eq!(b[4..8], 0x0300_0001u32.to_le_bytes());
        assert_eq!(b[8..16], 1_700_000_000u64.to_le_bytes());
        assert_eq!(b[24..32], 42u64.to_le_bytes());
        assert_eq!(op.payload::<XenpfSettime64>().nsecs, 5);
        assert_eq!(name(op.cmd), "settime64");
        assert_eq!(name(0), "unknown");
    }
}
