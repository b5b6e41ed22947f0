//! From the assembly entry to [`crate::main`]: turns what the boot loader
//! handed over (PVH `hvm_start_info` or Multiboot2 information) into the
//! common [`BootInfo`], and sets up the boot CPU's descriptor tables early,
//! so that any fault from here on is reported rather than triple-faulting.

use ::x86_64::VirtAddr;
use rxen_boot_info::pvh::{HvmStartInfo, PhysMem};
use rxen_boot_info::{BootInfo, MemoryKind, MemoryRegion, Module, Protocol};

use super::entry::{PROTOCOL_MULTIBOOT2, PROTOCOL_PVH};
use super::{gdt, interrupts, percpu, time};

/// Below 4 GiB, physical memory is identity-mapped by the boot page tables.
const IDENTITY_LIMIT: u64 = 4 << 30;
const BOOT_IST_SIZE: usize = 16 * 1024;

/// IST stacks of the boot CPU (APs get theirs, with guard pages, from
/// the frame allocator).
#[repr(C, align(16))]
struct IstStacks([[u8; BOOT_IST_SIZE]; gdt::IST_COUNT]);
static mut BOOT_IST: IstStacks = IstStacks([[0; BOOT_IST_SIZE]; gdt::IST_COUNT]);

/// The firmware's RSDP, copied out of the Multiboot2 information.
#[repr(C, align(16))]
struct RsdpCopy([u8; 36]);
static mut RSDP_COPY: RsdpCopy = RsdpCopy([0; 36]);

/// Physical memory as seen through the boot identity map.
struct IdentityMap;

impl PhysMem for IdentityMap {
    fn read(&self, paddr: u64, len: usize) -> Option<&[u8]> {
        if paddr == 0 || paddr >= IDENTITY_LIMIT {
            return None;
        }
        let len = len.min((IDENTITY_LIMIT - paddr) as usize);
        // SAFETY: the boot page tables identity-map [0, 4 GiB); the loader's
        // structures live there and nothing writes them during boot.
        Some(unsafe { core::slice::from_raw_parts(paddr as *const u8, len) })
    }
}

/// Called by the assembly entry in long mode on the boot stack.
pub extern "C" fn rust_entry(protocol: u32, info: u32) -> ! {
    time::mark_boot();
    crate::console::init();
    percpu::init_this_cpu(0, super::apic::current_id());
    // Only the address is taken; the CPU alone writes these stacks.
    let base = &raw mut BOOT_IST as u64;
    let tops = core::array::from_fn(|i| VirtAddr::new(base + ((i + 1) * BOOT_IST_SIZE) as u64));
    gdt::init_this_cpu(0, tops);
    interrupts::init_this_cpu();
    super::pic::disable();
    let boot = match protocol {
        PROTOCOL_PVH => from_pvh(u64::from(info)),
        PROTOCOL_MULTIBOOT2 => from_multiboot2(u64::from(info)),
        _ => Err("unknown boot protocol"),
    };
    match boot {
        Ok(boot) => crate::main(&boot),
        Err(why) => panic!("cannot read the boot information: {why}"),
    }
}

fn from_pvh(addr: u64) -> Result<BootInfo, &'static str> {
    let bytes = IdentityMap
        .read(addr, core::mem::size_of::<HvmStartInfo>())
        .ok_or("start_info unreadable")?;
    let start = HvmStartInfo::parse(bytes).map_err(|_| "bad hvm_start_info (magic or size)")?;
    let mut boot = BootInfo::from_pvh(start, &IdentityMap).map_err(|_| "PVH tables unreadable")?;
    // The loader's own structures must survive until they have been read;
    // after this point BootInfo holds copies, so nothing else is reserved.
    expand_bundles(&mut boot);
    Ok(boot)
}

fn from_multiboot2(addr: u64) -> Result<BootInfo, &'static str> {
    use multiboot2::{BootInformation, BootInformationHeader};
    // SAFETY: GRUB passed a valid Multiboot2 information structure at
    // `addr`, identity-mapped and untouched until we have copied it.
    let mbi = unsafe { BootInformation::load(addr as *const BootInformationHeader) }
        .map_err(|_| "bad Multiboot2 information")?;
    let mut boot = BootInfo::new(Protocol::Multiboot2);
    if let Some(cmdline) = mbi.command_line_tag().and_then(|t| t.cmdline().ok()) {
        let _ = boot.set_cmdline(cmdline);
    }
    let map = mbi
        .memory_map_tag()
        .ok_or("no memory map from the boot loader")?;
    for area in map.memory_areas() {
        let kind = MemoryKind::from_e820(u32::from(area.typ()));
        let _ = boot.push_region(MemoryRegion {
            start: area.start_address(),
            len: area.size(),
            kind,
        });
    }
    for module in mbi.module_tags() {
        let start = u64::from(module.start_address());
        let len = u64::from(module.end_address()).saturating_sub(start);
        let _ = boot.push_module(Module::new(start, len, module.cmdline().unwrap_or("")));
    }
    // The tag holds a copy of the RSDP right after its 8-byte header. The
    // information structure lies in memory the allocator will reuse, so the
    // copy is kept in the image, whose physical address is its address.
    let tag = mbi
        .rsdp_v2_tag()
        .map(|t| (t as *const _ as *const u8, 36))
        .or_else(|| mbi.rsdp_v1_tag().map(|t| (t as *const _ as *const u8, 20)));
    let rsdp = tag.map(|(ptr, len)| {
        // SAFETY: the tag is `len` bytes of RSDP after its 8-byte header,
        // inside the identity-mapped information structure; RSDP_COPY is
        // written only here, on the boot CPU, before anything reads it.
        unsafe {
            let copy = &raw mut RSDP_COPY;
            core::ptr::copy_nonoverlapping(ptr.add(8), copy as *mut u8, len);
            copy as u64
        }
    });
    boot.set_rsdp(rsdp);
    expand_bundles(&mut boot);
    Ok(boot)
}

/// Replaces each module that is an rxen module bundle by the files in it
/// (QEMU's PVH boot passes one module only, so xtask packs several in one).
fn expand_bundles(boot: &mut BootInfo) {
    let mut expanded = BootInfo::new(boot.protocol());
    for region in boot.regions() {
        let _ = expanded.push_region(*region);
    }
    let _ = expanded.set_cmdline(boot.cmdline());
    expanded.set_rsdp(boot.rsdp());
    for module in boot.modules() {
        let bytes = IdentityMap
            .read(module.start, module.len as usize)
            .unwrap_or(&[]);
        match rxen_boot_info::bundle::Bundle::parse(bytes) {
            Ok(bundle) => {
                for entry in bundle.iter() {
                    let _ = expanded.push_module(Module::new(
                        module.start + entry.offset,
                        entry.size,
                        entry.name,
                    ));
                }
            }
            Err(_) => {
                let _ = expanded.push_module(module.clone());
            }
        }
    }
    *boot = expanded;
}
