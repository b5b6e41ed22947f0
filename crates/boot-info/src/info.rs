//! [`BootInfo`]: the protocol-independent hand-over record.

use core::fmt;

use heapless::{String, Vec};

use crate::cstr::truncate_str;

/// Most memory-map entries kept; real e820 maps have a few dozen.
pub const MAX_REGIONS: usize = 128;
/// Most boot modules kept.
pub const MAX_MODULES: usize = 32;
/// Bytes of command line kept (Xen also caps its command line at 1 KiB).
pub const CMDLINE_CAPACITY: usize = 1024;
/// Bytes of a module name (its command line / path) kept: room for a
/// control domain's kernel command line.
pub const MODULE_NAME_CAPACITY: usize = 512;

/// Which boot protocol started the hypervisor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// Xen PVH direct boot (`XEN_ELFNOTE_PHYS32_ENTRY`, `hvm_start_info`).
    Pvh,
    /// Multiboot2 (GRUB).
    Multiboot2,
}

/// What a memory-map range is, in the e820 vocabulary every firmware map
/// (PVH memmap, Multiboot2 mmap tag) uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryKind {
    /// e820 type 1: RAM free for use.
    Usable,
    /// e820 type 2, and any type we do not know: must not be touched.
    Reserved,
    /// e820 type 3: ACPI tables; RAM once the tables have been read.
    AcpiReclaimable,
    /// e820 type 4: ACPI non-volatile storage; must be preserved.
    AcpiNvs,
    /// e820 type 5: memory reported as defective.
    Bad,
}

impl MemoryKind {
    /// Maps an e820 type number. Unknown types (6 disabled, 7 persistent
    /// memory, vendor types, ...) count as reserved, as the ACPI
    /// specification requires for types an OS does not understand.
    pub const fn from_e820(kind: u32) -> Self {
        match kind {
            1 => Self::Usable,
            3 => Self::AcpiReclaimable,
            4 => Self::AcpiNvs,
            5 => Self::Bad,
            _ => Self::Reserved,
        }
    }

    /// The e820 type number (unknown types were folded into 2, reserved).
    pub const fn to_e820(self) -> u32 {
        match self {
            Self::Usable => 1,
            Self::Reserved => 2,
            Self::AcpiReclaimable => 3,
            Self::AcpiNvs => 4,
            Self::Bad => 5,
        }
    }
}

/// One range of the physical memory map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryRegion {
    /// Physical start address in bytes.
    pub start: u64,
    /// Length in bytes.
    pub len: u64,
    /// What the range is.
    pub kind: MemoryKind,
}

impl MemoryRegion {
    /// One past the last byte, saturating so bogus entries cannot wrap.
    pub const fn end(&self) -> u64 {
        self.start.saturating_add(self.len)
    }

    /// Whether the allocator may use the range.
    pub const fn is_usable(&self) -> bool {
        matches!(self.kind, MemoryKind::Usable)
    }
}

/// A boot module (kernel, initrd, bundle, ...) the loader placed in memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Module {
    /// Physical start address in bytes.
    pub start: u64,
    /// Length in bytes.
    pub len: u64,
    name: String<MODULE_NAME_CAPACITY>,
}

impl Module {
    /// A module; `name` (the loader's module string) is cut to
    /// [`MODULE_NAME_CAPACITY`] bytes on a char boundary, since names are
    /// only informational.
    pub fn new(start: u64, len: u64, name: &str) -> Self {
        let mut stored = String::new();
        // Cannot fail: truncated to the capacity first.
        let _ = stored.push_str(truncate_str(name, MODULE_NAME_CAPACITY));
        Self {
            start,
            len,
            name: stored,
        }
    }

    /// The module's name or command line ("" if the loader gave none).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// One past the last byte, saturating.
    pub const fn end(&self) -> u64 {
        self.start.saturating_add(self.len)
    }
}

/// Something did not fit into a [`BootInfo`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootInfoError {
    /// Already [`MAX_REGIONS`] memory regions.
    RegionsFull,
    /// Already [`MAX_MODULES`] modules.
    ModulesFull,
    /// The command line exceeds [`CMDLINE_CAPACITY`]; a prefix was kept.
    CmdlineTooLong,
}

impl fmt::Display for BootInfoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RegionsFull => write!(f, "more than {MAX_REGIONS} memory regions"),
            Self::ModulesFull => write!(f, "more than {MAX_MODULES} boot modules"),
            Self::CmdlineTooLong => {
                write!(f, "command line longer than {CMDLINE_CAPACITY} bytes")
            }
        }
    }
}

/// What the boot loader handed over, independent of the protocol.
///
/// Fixed capacity (about 7 KiB), so early boot can fill one without a heap.
/// Overflow is reported by the builder methods and remembered in
/// [`is_truncated`](Self::is_truncated), so the hypervisor can boot with
/// what fitted and warn once logging works.
#[derive(Clone, Debug)]
pub struct BootInfo {
    protocol: Protocol,
    regions: Vec<MemoryRegion, MAX_REGIONS>,
    modules: Vec<Module, MAX_MODULES>,
    cmdline: String<CMDLINE_CAPACITY>,
    rsdp: Option<u64>,
    truncated: bool,
}

impl BootInfo {
    /// An empty record for `protocol`; `const` so it can live in a static.
    pub const fn new(protocol: Protocol) -> Self {
        Self {
            protocol,
            regions: Vec::new(),
            modules: Vec::new(),
            cmdline: String::new(),
            rsdp: None,
            truncated: false,
        }
    }

    /// The boot protocol used.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The memory map, in the order the firmware gave it (unsorted; may
    /// overlap).
    pub fn regions(&self) -> &[MemoryRegion] {
        &self.regions
    }

    /// The boot modules in loader order.
    pub fn modules(&self) -> &[Module] {
        &self.modules
    }

    /// The hypervisor command line ("" if none).
    pub fn cmdline(&self) -> &str {
        &self.cmdline
    }

    /// Physical address of the ACPI RSDP, if the loader passed one.
    pub fn rsdp(&self) -> Option<u64> {
        self.rsdp
    }

    /// Whether any region, module or command-line text was dropped because
    /// it did not fit.
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }

    /// Appends a memory-map entry.
    pub fn push_region(&mut self, region: MemoryRegion) -> Result<(), BootInfoError> {
        self.regions.push(region).map_err(|_| {
            self.truncated = true;
            BootInfoError::RegionsFull
        })
    }

    /// Appends a boot module.
    pub fn push_module(&mut self, module: Module) -> Result<(), BootInfoError> {
        self.modules.push(module).map_err(|_| {
            self.truncated = true;
            BootInfoError::ModulesFull
        })
    }

    /// Sets the command line. If it is too long, the longest prefix that
    /// fits (ending on a char boundary) is kept and an error returned.
    pub fn set_cmdline(&mut self, cmdline: &str) -> Result<(), BootInfoError> {
        let kept = truncate_str(cmdline, CMDLINE_CAPACITY);
        self.cmdline.clear();
        // Cannot fail: `kept` fits the capacity.
        let _ = self.cmdline.push_str(kept);
        if kept.len() < cmdline.len() {
            self.truncated = true;
            return Err(BootInfoError::CmdlineTooLong);
        }
        Ok(())
    }

    /// Records the ACPI RSDP address (`None` or 0 mean "not given").
    pub fn set_rsdp(&mut self, rsdp: Option<u64>) {
        self.rsdp = rsdp.filter(|&a| a != 0);
    }
}

#[cfg(test)]
mod tests {
    use std::string::String as StdString;

    use super::*;

    #[test]
    fn e820_types() {
        assert_eq!(MemoryKind::from_e820(1), MemoryKind::Usable);
        assert_eq!(MemoryKind::from_e820(2), MemoryKind::Reserved);
        assert_eq!(MemoryKind::from_e820(3), MemoryKind::AcpiReclaimable);
        assert_eq!(MemoryKind::from_e820(4), MemoryKind::AcpiNvs);
        assert_eq!(MemoryKind::from_e820(5), MemoryKind::Bad);
        assert_eq!(MemoryKind::from_e820(7), MemoryKind::Reserved);
        assert_eq!(MemoryKind::from_e820(0), MemoryKind::Reserved);
        for t in 1..=5 {
            assert_eq!(MemoryKind::from_e820(t).to_e820(), t);
        }
    }

    #[test]
    fn regions_fill_up_without_panicking() {
        let mut info = BootInfo::new(Protocol::Multiboot2);
        let r = MemoryRegion {
            start: 0,
            len: 4096,
            kind: MemoryKind::Usable,
        };
        for _ in 0..MAX_REGIONS {
            info.push_region(r).unwrap();
        }
        assert!(!info.is_truncated());
        assert_eq!(info.push_region(r), Err(BootInfoError::RegionsFull));
        assert!(info.is_truncated());
        assert_eq!(info.regions().len(), MAX_REGIONS);
        assert!(info.regions()[0].is_usable());
        assert_eq!(
            MemoryRegion {
                start: u64::MAX,
                len: 2,
                kind: MemoryKind::Bad
            }
            .end(),
            u64::MAX
        );
    }

    #[test]
    fn modules_fill_up_and_names_truncate() {
        let mut info = BootInfo::new(Protocol::Pvh);
        let long: StdString = "ü".repeat(300); // 600 bytes
        let m = Module::new(0x10_0000, 10, &long);
        assert_eq!(m.name().len(), MODULE_NAME_CAPACITY);
        assert_eq!(m.end(), 0x10_000a);
        for _ in 0..MAX_MODULES {
            info.push_module(m.clone()).unwrap();
        }
        assert_eq!(info.push_module(m), Err(BootInfoError::ModulesFull));
        assert_eq!(info.modules().len(), MAX_MODULES);
    }

    #[test]
    fn cmdline_keeps_prefix_when_too_long() {
        let mut info = BootInfo::new(Protocol::Pvh);
        assert_eq!(info.cmdline(), "");
        info.set_cmdline("loglvl=all").unwrap();
        assert_eq!(info.cmdline(), "loglvl=all");
        let long: StdString = "x".repeat(CMDLINE_CAPACITY + 3);
        assert_eq!(info.set_cmdline(&long), Err(BootInfoError::CmdlineTooLong));
        assert_eq!(info.cmdline().len(), CMDLINE_CAPACITY);
        assert!(info.is_truncated());
    }

    #[test]
    fn rsdp_zero_means_absent() {
        let mut info = BootInfo::new(Protocol::Pvh);
        assert_eq!(info.rsdp(), None);
        info.set_rsdp(Some(0));
        assert_eq!(info.rsdp(), None);
        info.set_rsdp(Some(0xe0000));
        assert_eq!(info.rsdp(), Some(0xe0000));
        assert_eq!(info.protocol(), Protocol::Pvh);
    }
}
