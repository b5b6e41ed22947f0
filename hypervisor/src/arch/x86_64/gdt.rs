//! Per-CPU GDT and TSS. The TSS gives the double-fault, NMI and
//! machine-check handlers their own stacks (IST), so they still run when
//! the normal stack has overflowed or is corrupt.

use core::cell::UnsafeCell;

use ::x86_64::instructions::segmentation::{Segment, CS, DS, ES, SS};
use ::x86_64::instructions::tables::load_tss;
use ::x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable};
use ::x86_64::structures::tss::TaskStateSegment;
use ::x86_64::VirtAddr;

use super::percpu::MAX_CPUS;

/// IST slots (the x86_64 crate counts them from 0 = IST1).
pub const IST_DOUBLE_FAULT: u16 = 0;
pub const IST_NMI: u16 = 1;
pub const IST_MACHINE_CHECK: u16 = 2;
pub const IST_COUNT: usize = 3;

struct CpuTables {
    gdt: GlobalDescriptorTable,
    tss: TaskStateSegment,
}

struct Slots([UnsafeCell<CpuTables>; MAX_CPUS]);

// SAFETY: each CPU writes only its own slot, once, before loading it
// (init_this_cpu); afterwards the hardware reads it and nothing writes it.
unsafe impl Sync for Slots {}

static TABLES: Slots = Slots(
    [const {
        UnsafeCell::new(CpuTables {
            gdt: GlobalDescriptorTable::new(),
            tss: TaskStateSegment::new(),
        })
    }; MAX_CPUS],
);

/// Builds and loads this CPU's GDT and TSS with the given IST stack tops.
pub fn init_this_cpu(index: usize, ist_tops: [VirtAddr; IST_COUNT]) {
    // SAFETY: slot `index` belongs to the calling CPU alone (see Slots).
    let tables: &'static mut CpuTables = unsafe { &mut *TABLES.0[index].get() };
    tables.tss = TaskStateSegment::new();
    for (slot, top) in ist_tops.iter().enumerate() {
        tables.tss.interrupt_stack_table[slot] = *top;
    }
    let mut gdt = GlobalDescriptorTable::new();
    let code = gdt.append(Descriptor::kernel_code_segment());
    let data = gdt.append(Descriptor::kernel_data_segment());
    let tss = gdt.append(Descriptor::tss_segment(&tables.tss));
    tables.gdt = gdt;
    tables.gdt.load();
    // SAFETY: the selectors index the GDT just loaded, whose code, data and
    // TSS descriptors are valid for 64-bit kernel use.
    unsafe {
        CS::set_reg(code);
        DS::set_reg(data);
        ES::set_reg(data);
        SS::set_reg(data);
        load_tss(tss);
    }
}
