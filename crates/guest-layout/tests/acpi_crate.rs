//! Parses the generated ACPI tables back with an independent parser, the
//! `acpi` crate, through an `AcpiHandler` that maps guest physical addresses
//! into the generated blob.

use core::ptr::NonNull;

use acpi::address::{AddressSpace, GenericAddress};
use acpi::fadt::Fadt;
use acpi::madt::{Madt, MadtEntry};
use acpi::sdt::Signature;
use acpi::{AcpiHandler, AcpiTable, AcpiTables, PhysicalMapping};
use rxen_guest_layout::{apic_id, plan, GpaRange, GuestSpec, ACPI_GPA, LAPIC_GPA};

/// Guest memory from `ACPI_GPA` on, holding the tables (8-byte aligned,
/// padded: the crate's `Fadt` type is a revision-6 FADT, 8 bytes longer than
/// ours, and it builds a reference to all of it).
#[derive(Clone, Copy)]
struct GuestAcpi<'a> {
    memory: &'a [u8],
}

impl AcpiHandler for GuestAcpi<'_> {
    unsafe fn map_physical_region<T>(
        &self,
        physical_address: usize,
        size: usize,
    ) -> PhysicalMapping<Self, T> {
        let offset = (physical_address as u64)
            .checked_sub(ACPI_GPA)
            .expect("address below the ACPI tables") as usize;
        let end = offset
            .checked_add(size.max(size_of::<T>()))
            .expect("overflow");
        assert!(
            end <= self.memory.len(),
            "{physical_address:#x}+{size:#x} outside"
        );
        let start = NonNull::from(&self.memory[offset]).cast::<T>();
        // SAFETY: `start` points at `size` (and at least `size_of::<T>()`)
        // readable bytes of `self.memory`, which outlives every mapping
        // because the handler borrows it. The acpi crate only reads through
        // the mapping, and all its table types are `repr(packed)` (align 1).
        unsafe { PhysicalMapping::new(physical_address, start, size, size, *self) }
    }

    fn unmap_physical_region<T>(_region: &PhysicalMapping<Self, T>) {}
}

fn guest_memory(vcpus: u32) -> Vec<u64> {
    let layout = plan(&GuestSpec {
        memory_bytes: 256 << 20,
        vcpus,
        cmdline: "console=hvc0",
        initrd_len: Some(1 << 20),
        kernel: GpaRange::new(0x100_0000, 0x3e0_0000),
        initial_domain: false,
    })
    .unwrap();
    let blob = layout.acpi_tables();
    assert!(blob.len() as u64 <= layout.acpi().len());
    let mut words = vec![0u64; (layout.acpi().len() / 8) as usize];
    words.iter_mut().zip(blob.chunks(8)).for_each(|(w, c)| {
        let mut bytes = [0u8; 8];
        bytes[..c.len()].copy_from_slice(c);
        *w = u64::from_le_bytes(bytes);
    });
    words
}

fn bytes(words: &[u64]) -> &[u8] {
    zerocopy::IntoBytes::as_bytes(words)
}

fn check(vcpus: u32) {
    let words = guest_memory(vcpus);
    let memory = bytes(&words);
    let handler = GuestAcpi { memory };
    // SAFETY: the handler maps exactly the generated tables, and the RSDP is
    // at ACPI_GPA.
    let tables = unsafe { AcpiTables::from_rsdp(handler, ACPI_GPA as usize) }.unwrap();
    assert_eq!(tables.revision(), 2, "XSDT in use");

    let signatures: Vec<Signature> = tables.headers().map(|h| h.signature).collect();
    assert_eq!(signatures, [Signature::FADT, Signature::MADT]);

    // MADT: one enabled Local APIC per vCPU, APIC ID 2 * i, no IO-APIC.
    let madt = tables.find_table::<Madt>().unwrap();
    let madt = madt.get();
    assert_eq!({ madt.local_apic_address } as u64, LAPIC_GPA);
    assert!(madt.supports_8259());
    let mut lapics = Vec::new();
    for entry in madt.entries() {
        match entry {
            MadtEntry::LocalApic(lapic) => {
                lapics.push((lapic.processor_id, lapic.apic_id, { lapic.flags } & 1 == 1))
            }
            other => panic!("unexpected MADT entry {other:?}"),
        }
    }
    let expected: Vec<(u8, u8, bool)> = (0..vcpus)
        .map(|i| (i as u8, apic_id(i) as u8, true))
        .collect();
    assert_eq!(lapics, expected);

    // FADT: hardware-full, PM1 blocks where the hypervisor emulates them.
    let fadt = tables.find_table::<Fadt>().unwrap();
    assert_eq!(fadt.header().revision, 5);
    assert_eq!({ fadt.sci_interrupt }, 9);
    assert_eq!({ fadt.smi_cmd_port }, 0);
    let io = |address: u64, bit_width: u8| GenericAddress {
        address_space: AddressSpace::SystemIo,
        bit_width,
        bit_offset: 0,
        access_size: acpi::address::AccessSize::Undefined,
        address,
    };
    let same = |a: GenericAddress, b: GenericAddress| {
        (a.address_space, a.bit_width, a.bit_offset, a.address)
            == (b.address_space, b.bit_width, b.bit_offset, b.address)
    };
    assert!(same(fadt.pm1a_control_block().unwrap(), io(0xB004, 16)));
    assert!(same(fadt.pm1a_event_block().unwrap(), io(0xB000, 32)));
    assert!(fadt.pm1b_control_block().unwrap().is_none());
    assert!(fadt.pm_timer_block().unwrap().is_none());
    assert!(fadt.gpe0_block().unwrap().is_none());
    let flags = { fadt.flags };
    assert!(!flags.system_is_hw_reduced_acpi());
    assert!(flags.local_xapics_must_use_physical_destination_mode());
    assert!(flags.power_button_is_control_method());
    assert!(flags.sleep_button_is_control_method());
    let boot = { fadt.iapc_boot_arch };
    assert!(boot.dont_probe_vga());
    assert!(!boot.motherboard_implements_8042());
    assert!(!boot.legacy_devices_are_accessible());
    let facs = fadt.facs_address().unwrap() as u64;
    assert_eq!(facs % 64, 0);
    let facs_bytes = &memory[(facs - ACPI_GPA) as usize..][..64];
    assert_eq!(&facs_bytes[..4], b"FACS");
    assert_eq!(u32::from_le_bytes(facs_bytes[4..8].try_into().unwrap()), 64);
    drop(fadt);

    // DSDT: holds \_S5.
    let dsdt = tables.dsdt().unwrap();
    let aml = &memory[dsdt.address - ACPI_GPA as usize..][..dsdt.length as usize];
    assert!(aml.windows(4).any(|w| w == b"_S5_"));
    assert_eq!(
        aml,
        [0x08, 0x5C, b'_', b'S', b'5', b'_', 0x12, 0x06, 0x04, 0, 0, 0, 0]
    );
}

#[test]
fn acpi_crate_accepts_our_tables() {
    for vcpus in [1, 2, 3, 8, 127, 128] {
        check(vcpus);
    }
}

#[test]
fn rsdt_path_finds_the_same_tables() {
    let words = guest_memory(4);
    let memory = bytes(&words);
    let rsdt = u32::from_le_bytes(memory[16..20].try_into().unwrap()) as usize;
    // SAFETY: the handler maps exactly the generated tables; the RSDT
    // address comes from the generated RSDP.
    let tables = unsafe { AcpiTables::from_rsdt(GuestAcpi { memory }, 0, rsdt) }.unwrap();
    let signatures: Vec<Signature> = tables.headers().map(|h| h.signature).collect();
    assert_eq!(signatures, [Signature::FADT, Signature::MADT]);
    let madt = tables.find_table::<Madt>().unwrap();
    assert_eq!(madt.get().entries().count(), 4);
}
