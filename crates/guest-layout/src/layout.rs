//! The layout decision: [`GuestSpec`] in, [`Layout`] out.

use alloc::string::String;
use alloc::vec::Vec;

use rxen_boot_info::pvh::{memmap_type, HvmMemmapTableEntry, SIF_INITDOMAIN, SIF_PRIVILEGED};

use crate::{
    acpi, page_ceil, page_floor, GpaRange, LayoutError, ACPI_GPA, CONSOLE_GFN, HIGH_RAM_START,
    LOW_RAM_END, MAX_CMDLINE, MAX_MEMORY, MAX_VCPUS, MIN_MEMORY, PAGE_SIZE, SPECIAL_PAGES,
    START_INFO_GPA, START_INFO_PAGES, XENSTORE_GFN,
};

/// What the domain builder knows about a guest before placing it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuestSpec<'a> {
    /// Memory size in bytes; RAM ends here. Page-aligned,
    /// [`MIN_MEMORY`]..=[`MAX_MEMORY`].
    pub memory_bytes: u64,
    /// Number of vCPUs, 1..=[`MAX_VCPUS`].
    pub vcpus: u32,
    /// Kernel command line (no NUL, at most [`MAX_CMDLINE`] bytes).
    pub cmdline: &'a str,
    /// Size of the initrd in bytes, if there is one.
    pub initrd_len: Option<u64>,
    /// The kernel's physical extent: lowest `p_paddr` to highest
    /// `p_paddr + p_memsz` of its `PT_LOAD` segments.
    pub kernel: GpaRange,
    /// Whether this is the initial (control) domain: sets
    /// `SIF_INITDOMAIN | SIF_PRIVILEGED` in the start info.
    pub initial_domain: bool,
}

/// A validated vCPU count, 1..=[`MAX_VCPUS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VcpuCount(u32);

impl VcpuCount {
    /// One vCPU.
    pub const ONE: Self = Self(1);

    /// `n` vCPUs, if 1 <= `n` <= [`MAX_VCPUS`].
    pub const fn new(n: u32) -> Result<Self, LayoutError> {
        if n == 0 {
            Err(LayoutError::NoVcpus)
        } else if n > MAX_VCPUS {
            Err(LayoutError::TooManyVcpus {
                got: n,
                max: MAX_VCPUS,
            })
        } else {
            Ok(Self(n))
        }
    }

    /// The count.
    pub const fn get(self) -> u32 {
        self.0
    }
}

/// Where everything of one guest goes. Built by [`plan`]; every range in it
/// is page-aligned except the kernel's, which is as given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    vcpus: VcpuCount,
    ram: [GpaRange; 2],
    kernel: GpaRange,
    initrd: Option<GpaRange>,
    acpi: GpaRange,
    start_info_flags: u32,
    cmdline: String,
    e820: Vec<HvmMemmapTableEntry>,
}

impl Layout {
    /// Number of vCPUs.
    pub fn vcpus(&self) -> VcpuCount {
        self.vcpus
    }

    /// The RAM to back with memory: `0..0x9F000` and `0x100000..memory_bytes`.
    /// The boot-info pages lie inside the first range (the e820 marks them
    /// reserved).
    pub fn ram(&self) -> [GpaRange; 2] {
        self.ram
    }

    /// End of RAM (the memory size).
    pub fn ram_end(&self) -> u64 {
        self.ram[1].end
    }

    /// The kernel's physical extent, as given.
    pub fn kernel(&self) -> GpaRange {
        self.kernel
    }

    /// The boot-info pages ([`START_INFO_GPA`], [`START_INFO_PAGES`] long).
    pub fn start_info(&self) -> GpaRange {
        GpaRange::new(
            START_INFO_GPA,
            START_INFO_GPA + START_INFO_PAGES * PAGE_SIZE,
        )
    }

    /// Guest physical address of `hvm_start_info`: the vCPU's initial `%ebx`.
    pub fn start_info_gpa(&self) -> u64 {
        START_INFO_GPA
    }

    /// Where the initrd goes: page-aligned start, exact length.
    pub fn initrd(&self) -> Option<GpaRange> {
        self.initrd
    }

    /// The ACPI tables' range, page-rounded; the RSDP is at its start.
    pub fn acpi(&self) -> GpaRange {
        self.acpi
    }

    /// Guest physical address of the ACPI RSDP.
    pub fn rsdp_gpa(&self) -> u64 {
        self.acpi.start
    }

    /// Guest frame number of the console ring page.
    pub fn console_gfn(&self) -> u64 {
        CONSOLE_GFN
    }

    /// Guest frame number of the xenstore ring page.
    pub fn store_gfn(&self) -> u64 {
        XENSTORE_GFN
    }

    /// `SIF_*` flags of the start info.
    pub fn start_info_flags(&self) -> u32 {
        self.start_info_flags
    }

    /// The kernel command line.
    pub fn cmdline(&self) -> &str {
        &self.cmdline
    }

    /// The guest's memory map, sorted by address, without overlaps.
    pub fn e820(&self) -> &[HvmMemmapTableEntry] {
        &self.e820
    }

    /// The ACPI tables for this guest, to copy to [`acpi`](Self::acpi)`.start`.
    pub fn acpi_tables(&self) -> Vec<u8> {
        acpi::acpi_tables(self.vcpus)
    }
}

fn entry(range: GpaRange, kind: u32) -> HvmMemmapTableEntry {
    HvmMemmapTableEntry {
        addr: range.start,
        size: range.len(),
        kind,
        reserved: 0,
    }
}

/// Checks `spec` and decides where everything goes. Never panics.
pub fn plan(spec: &GuestSpec<'_>) -> Result<Layout, LayoutError> {
    let memory = spec.memory_bytes;
    if memory < MIN_MEMORY {
        return Err(LayoutError::TooLittleMemory {
            got: memory,
            min: MIN_MEMORY,
        });
    }
    if memory > MAX_MEMORY {
        return Err(LayoutError::TooMuchMemory {
            got: memory,
            max: MAX_MEMORY,
        });
    }
    if !memory.is_multiple_of(PAGE_SIZE) {
        return Err(LayoutError::MemoryNotPageAligned { got: memory });
    }
    let vcpus = VcpuCount::new(spec.vcpus)?;
    if let Some(at) = spec.cmdline.bytes().position(|b| b == 0) {
        return Err(LayoutError::CmdlineContainsNul { at });
    }
    if spec.cmdline.len() > MAX_CMDLINE {
        return Err(LayoutError::CmdlineTooLong {
            len: spec.cmdline.len(),
            max: MAX_CMDLINE,
        });
    }

    let low_ram = GpaRange::new(0, LOW_RAM_END);
    let high_ram = GpaRange::new(HIGH_RAM_START, memory);
    let kernel = spec.kernel;
    if kernel.is_empty() || !high_ram.covers(&kernel) {
        return Err(LayoutError::KernelOutsideRam {
            kernel,
            ram: high_ram,
        });
    }

    let initrd = match spec.initrd_len {
        None => None,
        Some(0) => return Err(LayoutError::EmptyInitrd),
        Some(len) => {
            // kernel.end <= memory <= MAX_MEMORY, so this cannot overflow.
            let lowest = page_ceil(kernel.end).unwrap_or(u64::MAX);
            let free = GpaRange::new(lowest.min(memory), memory);
            match memory.checked_sub(len).map(page_floor) {
                Some(start) if start >= lowest => Some(GpaRange::new(start, start + len)),
                _ => return Err(LayoutError::InitrdDoesNotFit { len, free }),
            }
        }
    };

    let acpi_len = acpi::acpi_tables_len(vcpus) as u64;
    let acpi = GpaRange::new(ACPI_GPA, ACPI_GPA + page_ceil(acpi_len).unwrap_or(0));

    let start_info = GpaRange::new(
        START_INFO_GPA,
        START_INFO_GPA + START_INFO_PAGES * PAGE_SIZE,
    );
    let e820 = [
        entry(GpaRange::new(0, start_info.start), memmap_type::RAM),
        entry(start_info, memmap_type::RESERVED),
        entry(GpaRange::new(start_info.end, low_ram.end), memmap_type::RAM),
        entry(high_ram, memmap_type::RAM),
        entry(acpi, memmap_type::ACPI),
        entry(SPECIAL_PAGES, memmap_type::RESERVED),
    ];

    Ok(Layout {
        vcpus,
        ram: [low_ram, high_ram],
        kernel,
        initrd,
        acpi,
        start_info_flags: if spec.initial_domain {
            SIF_INITDOMAIN | SIF_PRIVILEGED
        } else {
            0
        },
        cmdline: String::from(spec.cmdline),
        e820: e820.to_vec(),
    })
}
