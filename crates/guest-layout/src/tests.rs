extern crate std;

use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;
use core::mem::size_of;

use proptest::prelude::*;
use rxen_boot_info::pvh::{
    memmap_type, HvmMemmapTableEntry, HvmModlistEntry, HvmStartInfo, HVM_START_MAGIC,
    SIF_INITDOMAIN, SIF_PRIVILEGED,
};
use zerocopy::FromBytes;

use crate::acpi::{
    Facs, Fadt, MadtHeader, MadtLocalApic, Rsdp, SdtHeader, DSDT_OFFSET, FACS_OFFSET, FADT_OFFSET,
    MADT_OFFSET, RSDT_OFFSET, S5_AML, XSDT_OFFSET,
};
use crate::*;

const MIB: u64 = 1 << 20;

/// The Debian 6.1 cloud kernel's PT_LOAD extent.
const DEBIAN_KERNEL: GpaRange = GpaRange::new(0x100_0000, 0x304e000 + 0xdb2000);

fn spec(memory: u64) -> GuestSpec<'static> {
    GuestSpec {
        memory_bytes: memory,
        vcpus: 1,
        cmdline: "console=hvc0 earlyprintk=xen",
        initrd_len: None,
        kernel: DEBIAN_KERNEL,
        initial_domain: false,
    }
}

fn e(addr: u64, end: u64, kind: u32) -> HvmMemmapTableEntry {
    HvmMemmapTableEntry {
        addr,
        size: end - addr,
        kind,
        reserved: 0,
    }
}

#[test]
fn default_layout() {
    let layout = plan(&spec(256 * MIB)).unwrap();
    assert_eq!(
        layout.ram(),
        [
            GpaRange::new(0, 0x9F000),
            GpaRange::new(0x10_0000, 256 * MIB)
        ]
    );
    assert_eq!(layout.ram_end(), 256 * MIB);
    assert_eq!(layout.start_info_gpa(), 0x1000);
    assert_eq!(layout.start_info(), GpaRange::new(0x1000, 0x3000));
    assert_eq!(layout.rsdp_gpa(), 0xFC00_0000);
    assert_eq!(layout.acpi(), GpaRange::new(0xFC00_0000, 0xFC00_1000));
    assert_eq!(layout.console_gfn(), 0xFEFFF);
    assert_eq!(layout.store_gfn(), 0xFEFFE);
    assert_eq!(layout.initrd(), None);
    assert_eq!(layout.start_info_flags(), 0);
    assert_eq!(layout.vcpus().get(), 1);
    assert_eq!(
        layout.e820(),
        &[
            e(0, 0x1000, memmap_type::RAM),
            e(0x1000, 0x3000, memmap_type::RESERVED),
            e(0x3000, 0x9F000, memmap_type::RAM),
            e(0x10_0000, 256 * MIB, memmap_type::RAM),
            e(0xFC00_0000, 0xFC00_1000, memmap_type::ACPI),
            e(0xFEFF_0000, 0xFF00_0000, memmap_type::RESERVED),
        ]
    );
}

#[test]
fn memory_bounds() {
    assert!(plan(&spec(MIN_MEMORY)).is_ok());
    assert!(plan(&spec(MAX_MEMORY)).is_ok());
    assert_eq!(
        plan(&spec(MIN_MEMORY - PAGE_SIZE)),
        Err(LayoutError::TooLittleMemory {
            got: MIN_MEMORY - PAGE_SIZE,
            min: MIN_MEMORY
        })
    );
    assert_eq!(
        plan(&spec(MAX_MEMORY + PAGE_SIZE)),
        Err(LayoutError::TooMuchMemory {
            got: MAX_MEMORY + PAGE_SIZE,
            max: MAX_MEMORY
        })
    );
    assert_eq!(
        plan(&spec(128 * MIB + 1)),
        Err(LayoutError::MemoryNotPageAligned { got: 128 * MIB + 1 })
    );
    // The largest layout's RAM stops right below the ACPI tables.
    let layout = plan(&spec(MAX_MEMORY)).unwrap();
    assert!(!layout.ram()[1].overlaps(&layout.acpi()));
}

#[test]
fn vcpu_bounds() {
    let mut s = spec(128 * MIB);
    s.vcpus = 0;
    assert_eq!(plan(&s), Err(LayoutError::NoVcpus));
    s.vcpus = MAX_VCPUS + 1;
    assert_eq!(
        plan(&s),
        Err(LayoutError::TooManyVcpus { got: 129, max: 128 })
    );
    s.vcpus = MAX_VCPUS;
    let layout = plan(&s).unwrap();
    assert_eq!(layout.vcpus().get(), 128);
    assert_eq!(
        layout.acpi().len(),
        page_ceil(acpi_tables_len(layout.vcpus()) as u64).unwrap()
    );
    assert_eq!(layout.acpi_tables().len(), acpi_tables_len(layout.vcpus()));
}

#[test]
fn apic_ids() {
    assert_eq!(apic_id(0), 0);
    assert_eq!(apic_id(3), 6);
    assert_eq!(apic_id(127), 254);
    assert_eq!(vcpu_of_apic_id(254), Some(127));
    assert_eq!(vcpu_of_apic_id(6), Some(3));
    assert_eq!(vcpu_of_apic_id(7), None);
    assert_eq!(vcpu_of_apic_id(256), None);
    assert_eq!(vcpu_of_apic_id(0xFF), None);
    for vcpu in 0..MAX_VCPUS {
        assert_eq!(vcpu_of_apic_id(apic_id(vcpu)), Some(vcpu));
    }
}

#[test]
fn cmdline_checks() {
    let long = "x".repeat(MAX_CMDLINE + 1);
    let mut s = spec(128 * MIB);
    s.cmdline = &long;
    assert_eq!(
        plan(&s),
        Err(LayoutError::CmdlineTooLong {
            len: 2048,
            max: 2047
        })
    );
    s.cmdline = &long[..MAX_CMDLINE];
    assert!(plan(&s).is_ok());
    s.cmdline = "a\0b";
    assert_eq!(plan(&s), Err(LayoutError::CmdlineContainsNul { at: 1 }));
}

#[test]
fn kernel_must_lie_in_high_ram() {
    let mut s = spec(128 * MIB);
    let ram = GpaRange::new(0x10_0000, 128 * MIB);
    for kernel in [
        GpaRange::new(0x8_0000, 0x20_0000), // starts in the legacy hole
        GpaRange::new(0x100_0000, 128 * MIB + 1), // ends past RAM
        GpaRange::new(0x100_0000, 0x100_0000), // empty
        GpaRange::new(0x200_0000, 0x100_0000), // inverted
    ] {
        s.kernel = kernel;
        assert_eq!(
            plan(&s),
            Err(LayoutError::KernelOutsideRam { kernel, ram }),
            "{kernel}"
        );
    }
    s.kernel = ram;
    assert!(plan(&s).is_ok());
}

#[test]
fn initrd_at_top_of_ram() {
    let mut s = spec(128 * MIB);
    s.initrd_len = Some(0x12345);
    let layout = plan(&s).unwrap();
    let initrd = layout.initrd().unwrap();
    assert_eq!(initrd.len(), 0x12345);
    assert_eq!(initrd.start % PAGE_SIZE, 0);
    assert!(initrd.end <= 128 * MIB);
    assert_eq!(initrd.start, page_floor(128 * MIB - 0x12345));
    assert!(!initrd.overlaps(&DEBIAN_KERNEL));

    // Exactly page-sized: ends at the end of RAM.
    s.initrd_len = Some(16 * MIB);
    let initrd = plan(&s).unwrap().initrd().unwrap();
    assert_eq!(initrd, GpaRange::new(112 * MIB, 128 * MIB));
}

#[test]
fn initrd_must_not_overlap_kernel() {
    let mut s = spec(64 * MIB);
    s.kernel = GpaRange::new(0x100_0000, 0x300_0001); // ends mid-page
    let free = GpaRange::new(0x300_1000, 64 * MIB);
    // Fills the free space exactly.
    s.initrd_len = Some(free.len());
    assert_eq!(plan(&s).unwrap().initrd(), Some(free));
    // One byte more would overlap the kernel's last page.
    s.initrd_len = Some(free.len() + 1);
    assert_eq!(
        plan(&s),
        Err(LayoutError::InitrdDoesNotFit {
            len: free.len() + 1,
            free
        })
    );
    // Larger than all memory.
    s.initrd_len = Some(u64::MAX);
    assert!(matches!(
        plan(&s),
        Err(LayoutError::InitrdDoesNotFit { .. })
    ));
    // Kernel up to the end of RAM: no room at all.
    s.kernel = GpaRange::new(0x100_0000, 64 * MIB);
    s.initrd_len = Some(1);
    assert_eq!(
        plan(&s),
        Err(LayoutError::InitrdDoesNotFit {
            len: 1,
            free: GpaRange::new(64 * MIB, 64 * MIB)
        })
    );
    s.initrd_len = Some(0);
    assert_eq!(plan(&s), Err(LayoutError::EmptyInitrd));
}

#[test]
fn error_messages() {
    let msg = |s: &GuestSpec<'_>| plan(s).unwrap_err().to_string();
    assert_eq!(
        msg(&spec(32 * MIB)),
        "domain memory 32 MiB is too small: at least 64 MiB is needed"
    );
    assert_eq!(
        msg(&spec(4 << 30)),
        "domain memory 4 GiB is too large: at most 4032 MiB is supported"
    );
    let mut s = spec(64 * MIB);
    s.initrd_len = Some(60 * MIB);
    assert_eq!(
        msg(&s),
        "initrd of 60 MiB does not fit into the 2 MiB of RAM free above the kernel \
         (0x3e00000..0x4000000); give the domain more memory"
    );
    s.vcpus = 200;
    assert_eq!(msg(&s), "200 vCPUs are too many: at most 128 are supported");
}

/// Copies `bytes` into 8-byte aligned storage, as guest memory is.
fn aligned(bytes: &[u8]) -> Vec<u64> {
    let mut words = vec![0u64; bytes.len().div_ceil(8)];
    zerocopy::IntoBytes::as_mut_bytes(words.as_mut_slice())[..bytes.len()].copy_from_slice(bytes);
    words
}

/// Reads what the start info points at, as Linux's `xen_prepare_pvh` does.
fn check_start_info(layout: &Layout, spec: &GuestSpec<'_>) {
    let page = layout.start_info_page();
    assert_eq!(page.len(), (START_INFO_PAGES * PAGE_SIZE) as usize);
    let words = aligned(&page);
    let info = HvmStartInfo::parse(zerocopy::IntoBytes::as_bytes(words.as_slice())).unwrap();
    let base = layout.start_info_gpa();
    let at = |gpa: u64, len: usize| -> &[u8] {
        assert!(gpa >= base && gpa + len as u64 <= base + page.len() as u64);
        assert!(gpa + (len as u64) < 1 << 30, "Linux needs it below 1 GiB");
        &page[(gpa - base) as usize..][..len]
    };

    assert_eq!(info.magic, HVM_START_MAGIC);
    assert_eq!(info.version, 1);
    let flags = if spec.initial_domain {
        SIF_INITDOMAIN | SIF_PRIVILEGED
    } else {
        0
    };
    assert_eq!(info.flags, flags);
    assert_eq!(info.rsdp(), Some(ACPI_GPA));
    assert_eq!(info.reserved, 0);

    // Module list: the initrd only.
    match layout.initrd() {
        None => assert_eq!(info.nr_modules, 0),
        Some(initrd) => {
            assert_eq!(info.nr_modules, 1);
            let m = HvmModlistEntry::read_from_bytes(at(info.modlist_paddr, 32)).unwrap();
            assert_eq!((m.paddr, m.size), (initrd.start, spec.initrd_len.unwrap()));
            assert_eq!((m.cmdline_paddr, m.reserved), (0, 0));
        }
    }

    // Memory map.
    let (memmap, entries) = info.memmap().unwrap();
    assert!(entries as usize <= MAX_MEMMAP_ENTRIES);
    let bytes = at(memmap, entries as usize * size_of::<HvmMemmapTableEntry>());
    let map: Vec<HvmMemmapTableEntry> = bytes
        .chunks_exact(size_of::<HvmMemmapTableEntry>())
        .map(|c| HvmMemmapTableEntry::read_from_bytes(c).unwrap())
        .collect();
    assert_eq!(map, layout.e820());

    // Command line: NUL-terminated.
    let cmdline = at(info.cmdline_paddr, spec.cmdline.len() + 1);
    assert_eq!(&cmdline[..spec.cmdline.len()], spec.cmdline.as_bytes());
    assert_eq!(cmdline[spec.cmdline.len()], 0);

    // The blobs do not overlap one another.
    let ranges = [
        (info.modlist_paddr, 32 * u64::from(info.nr_modules)),
        (memmap, 24 * u64::from(entries)),
        (info.cmdline_paddr, spec.cmdline.len() as u64 + 1),
    ];
    assert!(base + 56 <= ranges[0].0 || info.nr_modules == 0);
    for (i, &(a, alen)) in ranges.iter().enumerate() {
        for &(b, blen) in &ranges[i + 1..] {
            assert!(
                !GpaRange::new(a, a + alen).overlaps(&GpaRange::new(b, b + blen)),
                "{a:#x}+{alen:#x} overlaps {b:#x}+{blen:#x}"
            );
        }
    }
}

#[test]
fn start_info_parses_back() {
    let mut s = spec(512 * MIB);
    check_start_info(&plan(&s).unwrap(), &s);
    s.initrd_len = Some(12 * MIB + 17);
    s.initial_domain = true;
    s.cmdline = "";
    check_start_info(&plan(&s).unwrap(), &s);
    let long = "y".repeat(MAX_CMDLINE);
    s.cmdline = &long;
    check_start_info(&plan(&s).unwrap(), &s);
}

/// Checks the layout invariants of any successful plan.
fn check_layout(layout: &Layout, spec: &GuestSpec<'_>) {
    // The e820 map is sorted, disjoint, page-aligned.
    let map = layout.e820();
    assert!(map.len() <= MAX_MEMMAP_ENTRIES);
    for w in map.windows(2) {
        assert!(w[0].addr + w[0].size <= w[1].addr, "{map:x?}");
    }
    for entry in map {
        assert!(entry.size > 0 && entry.addr % PAGE_SIZE == 0 && entry.size % PAGE_SIZE == 0);
    }
    let ram: Vec<GpaRange> = map
        .iter()
        .filter(|e| e.kind == memmap_type::RAM)
        .map(|e| GpaRange::new(e.addr, e.addr + e.size))
        .collect();
    let in_ram = |r: &GpaRange| ram.iter().any(|ram| ram.covers(r));
    let [low, high] = layout.ram();
    assert!(high.end <= ACPI_GPA && high.end == spec.memory_bytes);
    assert!(low.covers(&layout.start_info()));
    // The start info is not RAM to the guest, but is backed.
    assert!(!ram.iter().any(|r| r.overlaps(&layout.start_info())));
    assert!(in_ram(&layout.kernel()));
    assert!(!ram.iter().any(|r| r.overlaps(&layout.acpi())));
    assert!(!ram.iter().any(|r| r.overlaps(&SPECIAL_PAGES)));
    assert!(!ram.iter().any(|r| r.contains(LAPIC_GPA)));
    assert!(SPECIAL_PAGES.contains(CONSOLE_GFN * PAGE_SIZE));
    assert!(SPECIAL_PAGES.contains(XENSTORE_GFN * PAGE_SIZE));
    assert!(!layout.acpi().overlaps(&SPECIAL_PAGES));
    assert!(!layout.acpi().contains(LAPIC_GPA));
    if let Some(initrd) = layout.initrd() {
        assert_eq!(Some(initrd.len()), spec.initrd_len);
        assert_eq!(initrd.start % PAGE_SIZE, 0);
        assert!(in_ram(&initrd));
        let kernel_pages = GpaRange::new(
            page_floor(layout.kernel().start),
            page_ceil(layout.kernel().end).unwrap(),
        );
        assert!(!initrd.overlaps(&kernel_pages));
    } else {
        assert_eq!(spec.initrd_len, None);
    }
}

/// Sums a table's bytes.
fn sum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |s, &b| s.wrapping_add(b))
}

fn table(blob: &[u8], offset: usize) -> (&SdtHeader, &[u8]) {
    let (header, _) = SdtHeader::ref_from_prefix(&blob[offset..]).unwrap();
    let len = header.length.get() as usize;
    (header, &blob[offset..offset + len])
}

#[test]
fn acpi_layout_and_checksums() {
    for n in [1, 2, 7, 64, 128] {
        let vcpus = VcpuCount::new(n).unwrap();
        let blob = acpi_tables(vcpus);
        assert_eq!(blob.len(), acpi_tables_len(vcpus));
        let gpa = |off: usize| ACPI_GPA + off as u64;

        let (rsdp, _) = Rsdp::ref_from_prefix(&blob).unwrap();
        assert_eq!(&rsdp.signature, b"RSD PTR ");
        assert_eq!(rsdp.revision, 2);
        assert_eq!(rsdp.length.get(), 36);
        assert_eq!(sum(&blob[..20]), 0);
        assert_eq!(sum(&blob[..36]), 0);
        assert_eq!(rsdp.rsdt_address.get() as u64, gpa(RSDT_OFFSET));
        assert_eq!(rsdp.xsdt_address.get(), gpa(XSDT_OFFSET));
        assert_eq!(&rsdp.oem_id, b"RXEN  ");

        let (facs, _) = Facs::ref_from_prefix(&blob[FACS_OFFSET..]).unwrap();
        assert_eq!(&facs.signature, b"FACS");
        assert_eq!(facs.length.get(), 64);
        assert_eq!(gpa(FACS_OFFSET) % 64, 0);

        let mut seen = Vec::new();
        for (offset, sig) in [
            (RSDT_OFFSET, b"RSDT"),
            (XSDT_OFFSET, b"XSDT"),
            (FADT_OFFSET, b"FACP"),
            (DSDT_OFFSET, b"DSDT"),
            (MADT_OFFSET, b"APIC"),
        ] {
            let (header, bytes) = table(&blob, offset);
            assert_eq!(&header.signature, sig);
            assert_eq!(sum(bytes), 0, "{}", core::str::from_utf8(sig).unwrap());
            assert_eq!(&header.oem_id, b"RXEN  ");
            assert_eq!(&header.oem_table_id[..4], b"RXEN");
            assert_eq!(&header.creator_id, b"RXEN");
            seen.push(offset..offset + bytes.len());
        }
        seen.push(0..36);
        seen.push(FACS_OFFSET..FACS_OFFSET + 64);
        seen.sort_by_key(|r| r.start);
        for w in seen.windows(2) {
            assert!(w[0].end <= w[1].start);
        }
        assert_eq!(seen.last().unwrap().end, blob.len());

        // Root tables point at FADT and MADT.
        let (_, rsdt) = table(&blob, RSDT_OFFSET);
        let rsdt: Vec<u64> = rsdt[36..]
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()).into())
            .collect();
        let (_, xsdt) = table(&blob, XSDT_OFFSET);
        let xsdt: Vec<u64> = xsdt[36..]
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(rsdt, [gpa(FADT_OFFSET), gpa(MADT_OFFSET)]);
        assert_eq!(xsdt, rsdt);

        // FADT.
        let fadt = Fadt::ref_from_bytes(table(&blob, FADT_OFFSET).1).unwrap();
        assert_eq!(fadt.header.revision, 5);
        assert_eq!(fadt.header.length.get(), 268);
        assert_eq!(u64::from(fadt.firmware_ctrl.get()), gpa(FACS_OFFSET));
        assert_eq!(fadt.x_firmware_ctrl.get(), 0);
        assert_eq!(u64::from(fadt.dsdt.get()), gpa(DSDT_OFFSET));
        assert_eq!(fadt.x_dsdt.get(), gpa(DSDT_OFFSET));
        assert_eq!(fadt.sci_int.get(), 9);
        assert_eq!(fadt.smi_cmd.get(), 0);
        assert_eq!(fadt.pm1a_evt_blk.get(), 0xB000);
        assert_eq!(fadt.pm1_evt_len, 4);
        assert_eq!(fadt.pm1a_cnt_blk.get(), 0xB004);
        assert_eq!(fadt.pm1_cnt_len, 2);
        assert_eq!(fadt.pm_tmr_blk.get(), 0);
        assert_eq!(fadt.pm_tmr_len, 0);
        let bytes = fadt_bytes(&blob);
        assert_eq!(bytes[148..160], [1, 32, 0, 0, 0x00, 0xB0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(bytes[172..184], [1, 16, 0, 0, 0x04, 0xB0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(bytes[109..111], [0x24, 0x00]); // NO_VGA | NO_CMOS_RTC
        let flags = fadt.flags.get();
        assert_eq!(flags & (1 << 20), 0, "hardware-full");
        assert_ne!(flags & (1 << 19), 0, "physical destination mode");
        assert_eq!(flags & 0b11_0000, 0b11_0000, "no fixed buttons");
        assert_eq!(bytes[244..268], [0; 24], "no sleep registers");

        // DSDT: just \_S5.
        let (_, dsdt) = table(&blob, DSDT_OFFSET);
        assert_eq!(dsdt[36..], S5_AML);

        // MADT.
        let (_, madt) = table(&blob, MADT_OFFSET);
        let (head, entries) = MadtHeader::ref_from_prefix(madt).unwrap();
        assert_eq!(head.lapic_address.get(), 0xFEE0_0000);
        assert_eq!(head.flags.get(), 1);
        let lapics = <[MadtLocalApic]>::ref_from_bytes(entries).unwrap();
        assert_eq!(lapics.len(), n as usize);
        for (i, lapic) in lapics.iter().enumerate() {
            assert_eq!((lapic.kind, lapic.length), (0, 8));
            assert_eq!(u32::from(lapic.processor_id), i as u32);
            assert_eq!(u32::from(lapic.apic_id), apic_id(i as u32));
            assert_eq!(lapic.flags.get(), 1);
        }
    }
}

fn fadt_bytes(blob: &[u8]) -> &[u8] {
    table(blob, FADT_OFFSET).1
}

#[test]
fn display_is_never_empty() {
    let errors = [
        LayoutError::NoVcpus,
        LayoutError::EmptyInitrd,
        LayoutError::MemoryNotPageAligned { got: 1 },
        LayoutError::CmdlineContainsNul { at: 0 },
        LayoutError::CmdlineTooLong {
            len: 3000,
            max: 2047,
        },
        LayoutError::KernelOutsideRam {
            kernel: GpaRange::new(0, 1),
            ram: GpaRange::new(0x10_0000, 64 * MIB),
        },
    ];
    for error in errors {
        assert!(!error.to_string().is_empty());
    }
    assert_eq!(
        LayoutError::MemoryNotPageAligned { got: 1 }.to_string(),
        "domain memory 1 byte is not a multiple of the 4 KiB page size"
    );
}

fn any_range() -> impl Strategy<Value = GpaRange> {
    prop_oneof![
        (any::<u64>(), any::<u64>()).prop_map(|(a, b)| GpaRange::new(a, b)),
        (0x10_0000u64..0x1_0000_0000, 1u64..0x1000_0000)
            .prop_map(|(a, l)| GpaRange::new(a, a.saturating_add(l))),
    ]
}

fn any_memory() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        (0u64..=(MAX_MEMORY / PAGE_SIZE + 16)).prop_map(|p| p * PAGE_SIZE),
    ]
}

proptest! {
    #[test]
    fn plan_never_panics(
        memory in any_memory(),
        vcpus in prop_oneof![any::<u32>(), 0u32..=130],
        cmdline in prop_oneof![".{0,64}", "[a-z=]{2040,2050}", "\\PC{0,8}\0\\PC{0,8}"],
        initrd_len in proptest::option::of(prop_oneof![any::<u64>(), 0u64..0x1000_0000]),
        kernel in any_range(),
        initial_domain in any::<bool>(),
    ) {
        let spec = GuestSpec { memory_bytes: memory, vcpus, cmdline: &cmdline, initrd_len, kernel, initial_domain };
        match plan(&spec) {
            Ok(layout) => {
                check_layout(&layout, &spec);
                check_start_info(&layout, &spec);
                let blob = layout.acpi_tables();
                prop_assert!(blob.len() as u64 <= layout.acpi().len());
            }
            Err(error) => prop_assert!(!error.to_string().is_empty()),
        }
    }
}

/// A spec that passes every check except, possibly, the initrd's fit.
fn valid_spec(
) -> impl Strategy<Value = (u64, u32, std::string::String, GpaRange, Option<u64>, bool)> {
    (MIN_MEMORY / PAGE_SIZE..=MAX_MEMORY / PAGE_SIZE).prop_flat_map(|pages| {
        let memory = pages * PAGE_SIZE;
        (
            Just(memory),
            1..=MAX_VCPUS,
            "[ -~]{0,300}",
            (HIGH_RAM_START..memory).prop_flat_map(move |start| {
                (start + 1..=memory).prop_map(move |end| GpaRange::new(start, end))
            }),
            proptest::option::of(1..=memory),
            any::<bool>(),
        )
    })
}

proptest! {
    #[test]
    fn valid_specs_are_laid_out(
        (memory, vcpus, cmdline, kernel, initrd_len, initial_domain) in valid_spec()
    ) {
        let spec = GuestSpec { memory_bytes: memory, vcpus, cmdline: &cmdline, initrd_len, kernel, initial_domain };
        let fits = initrd_len.is_none_or(|len| page_floor(memory - len) >= page_ceil(kernel.end).unwrap());
        match plan(&spec) {
            Ok(layout) => {
                prop_assert!(fits);
                check_layout(&layout, &spec);
                check_start_info(&layout, &spec);
            }
            Err(LayoutError::InitrdDoesNotFit { len, free }) => {
                prop_assert!(!fits);
                prop_assert_eq!(Some(len), initrd_len);
                prop_assert!(free.len() < len);
            }
            Err(other) => prop_assert!(false, "{other}"),
        }
    }
}
