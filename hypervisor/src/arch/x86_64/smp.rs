//! Starting the application processors: INIT, then STARTUP IPIs pointing
//! at a real-mode trampoline copied to [`TRAMPOLINE_PHYS`], which climbs to
//! long mode on the hypervisor's page tables and calls [`ap_entry`].

use core::arch::global_asm;
use core::sync::atomic::{AtomicUsize, Ordering};

use ::x86_64::registers::control::Cr3;
use ::x86_64::VirtAddr;

use super::paging::{self, Access, TableFrames, PAGE_SIZE, STACK_AREA_BASE};
use super::percpu::{self, MAX_CPUS};
use super::{apic, gdt, interrupts, time};

/// The trampoline page: below 1 MiB (real mode), kept out of the frame
/// allocator by the memory set-up.
pub const TRAMPOLINE_PHYS: u64 = 0x8000;
const MAIN_STACK_PAGES: u64 = 16;
const IST_STACK_PAGES: u64 = 4;
/// Each CPU's stacks live in a 1 MiB window of the stack area.
const CPU_STACK_WINDOW: u64 = 1 << 20;
/// How long to wait for an AP to report in (emulated CPUs are slow).
const AP_TIMEOUT_US: u64 = 5_000_000;

global_asm!(
    r#"
    .section .rodata.trampoline, "a"
    .global trampoline_start
    .global trampoline_params
    .global trampoline_end
    .code16
trampoline_start:
    cli
    cld
    xor %ax, %ax
    mov %ax, %ds
    lgdtl 0x8000 + (tr_gdtr - trampoline_start)
    mov %cr0, %eax
    or $1, %eax
    mov %eax, %cr0
    ljmpl $0x08, $(0x8000 + (tr32 - trampoline_start))
    .code32
tr32:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %cr4, %eax
    or $(1 << 5), %eax                     /* PAE */
    mov %eax, %cr4
    mov 0x8000 + (tr_cr3 - trampoline_start), %eax
    mov %eax, %cr3
    mov $0xC0000080, %ecx                  /* EFER: LME | NXE */
    rdmsr
    or $((1 << 8) | (1 << 11)), %eax
    wrmsr
    mov %cr0, %eax
    and $0x9FFFFFFF, %eax                  /* caches on: INIT leaves CD | NW set */
    or $0x80010001, %eax                   /* PG | WP | PE */
    mov %eax, %cr0
    ljmp $0x18, $(0x8000 + (tr64 - trampoline_start))
    .code64
tr64:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %eax, %eax
    mov %ax, %fs
    mov %ax, %gs
    movq 0x8000 + (tr_stack - trampoline_start), %rsp
    movq 0x8000 + (tr_arg - trampoline_start), %rdi
    movq 0x8000 + (tr_entry - trampoline_start), %rax
    xor %ebp, %ebp
    call *%rax
1:  hlt
    jmp 1b
    .p2align 3
tr_gdt:
    .quad 0
    .quad 0x00CF9B000000FFFF               /* 0x08: 32-bit code (accessed preset: the page is read-only) */
    .quad 0x00CF93000000FFFF               /* 0x10: data */
    .quad 0x00AF9B000000FFFF               /* 0x18: 64-bit code */
tr_gdtr:
    .short 31
    .long 0x8000 + (tr_gdt - trampoline_start)
    .p2align 3
trampoline_params:
tr_cr3:   .quad 0
tr_stack: .quad 0
tr_entry: .quad 0
tr_arg:   .quad 0
trampoline_end:
    .code64
    "#,
    options(att_syntax)
);

extern "C" {
    static trampoline_start: u8;
    static trampoline_params: u8;
    static trampoline_end: u8;
}

/// What the trampoline reads, in its order.
#[repr(C)]
struct TrampolineParams {
    cr3: u64,
    stack_top: u64,
    entry: u64,
    arg: u64,
}

static ONLINE: AtomicUsize = AtomicUsize::new(1);

pub fn cpus_online() -> usize {
    ONLINE.load(Ordering::SeqCst)
}

/// Stacks of one CPU: the main stack and the IST stacks, each below an
/// unmapped guard page.
pub struct CpuStacks {
    pub main_top: u64,
    pub ist_tops: [VirtAddr; gdt::IST_COUNT],
}

/// Maps fresh stacks for CPU `index`; `frame` supplies zeroed 4 KiB frames.
pub fn alloc_stacks(index: usize, frames: &mut dyn TableFrames) -> Option<CpuStacks> {
    let mut cursor = STACK_AREA_BASE + index as u64 * CPU_STACK_WINDOW;
    let mut stack = |pages: u64, frames: &mut dyn TableFrames| -> Option<u64> {
        cursor += PAGE_SIZE; // guard page, never mapped
        for _ in 0..pages {
            let pa = frames.frame()?;
            paging::map_page(cursor, pa, Access::Data, frames);
            cursor += PAGE_SIZE;
        }
        Some(cursor)
    };
    let main_top = stack(MAIN_STACK_PAGES, frames)?;
    let mut ist_tops = [VirtAddr::zero(); gdt::IST_COUNT];
    for top in &mut ist_tops {
        *top = VirtAddr::new(stack(IST_STACK_PAGES, frames)?);
    }
    Some(CpuStacks { main_top, ist_tops })
}

/// Copies the trampoline to its page and maps that page executable.
pub fn install_trampoline(frames: &mut dyn TableFrames) {
    let (start, end) = (
        &raw const trampoline_start as usize,
        &raw const trampoline_end as usize,
    );
    // SAFETY: the trampoline page is reserved RAM below 1 MiB, reachable
    // through the direct map; the source is our own rodata.
    unsafe {
        core::ptr::copy_nonoverlapping(
            start as *const u8,
            paging::phys_to_virt(TRAMPOLINE_PHYS),
            end - start,
        );
    }
    paging::map_page(TRAMPOLINE_PHYS, TRAMPOLINE_PHYS, Access::Code, frames);
}

fn params() -> *mut TrampolineParams {
    let offset = &raw const trampoline_params as u64 - &raw const trampoline_start as u64;
    paging::phys_to_virt(TRAMPOLINE_PHYS + offset) as *mut TrampolineParams
}

/// Starts CPU `index` (APIC ID `apic_id`) and waits until it is online.
pub fn start_ap(index: usize, apic_id: u32, stacks: &CpuStacks) -> bool {
    assert!(index < MAX_CPUS);
    let (root, _) = Cr3::read();
    // SAFETY: the parameter block lies in the trampoline page (direct map);
    // no AP is running the trampoline now (the previous one reported in).
    unsafe {
        params().write_volatile(TrampolineParams {
            cr3: root.start_address().as_u64(),
            stack_top: stacks.main_top,
            entry: ap_entry as *const () as u64,
            arg: index as u64,
        });
    }
    PENDING_IST.store(stacks as *const CpuStacks as usize, Ordering::SeqCst);
    let before = cpus_online();
    apic::send_init(apic_id);
    time::delay_us(10_000);
    let page = (TRAMPOLINE_PHYS >> 12) as u8;
    for _ in 0..2 {
        apic::send_startup(apic_id, page);
        if wait_until(|| cpus_online() > before, 200) {
            return true;
        }
    }
    wait_until(|| cpus_online() > before, AP_TIMEOUT_US)
}

fn wait_until(done: impl Fn() -> bool, us: u64) -> bool {
    let end = time::rdtsc() + time::ns_to_tsc(us * 1000);
    while time::rdtsc() < end {
        if done() {
            return true;
        }
        core::hint::spin_loop();
    }
    done()
}

/// The stacks of the AP being started (read by it in ap_entry).
static PENDING_IST: AtomicUsize = AtomicUsize::new(0);

extern "C" fn ap_entry(index: u64) -> ! {
    let index = index as usize;
    percpu::init_this_cpu(index, apic::current_id());
    // SAFETY: the BSP published a CpuStacks that lives until we report in.
    let stacks = unsafe { &*(PENDING_IST.load(Ordering::SeqCst) as *const CpuStacks) };
    gdt::init_this_cpu(index, stacks.ist_tops);
    interrupts::init_this_cpu();
    apic::init_this_cpu();
    percpu::this_cpu().online.store(true, Ordering::SeqCst);
    crate::println!("rxen: cpu{} online (apic id {})", index, apic::current_id());
    ONLINE.fetch_add(1, Ordering::SeqCst);
    crate::secondary_main()
}
