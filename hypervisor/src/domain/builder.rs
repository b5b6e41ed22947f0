//! The domain builder: from an xl.cfg configuration and the boot modules it
//! names to a domain ready to run — kernel loaded at its physical
//! addresses, initrd, `hvm_start_info`, ACPI tables, console ring, vCPU 0
//! at the PVH entry point.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};

use rxen_domain_config::{DomainConfig, DomainKind};
use rxen_guest_layout::{self as layout, GpaRange, GuestSpec, Layout};
use rxen_xen_abi::hvm;
use rxen_xen_abi::vcpu::shared_info;

use crate::arch::npt::Access;
use crate::arch::vcpu::ArchVcpu;
use crate::arch::vlapic::VirtualLapic;
use crate::console::guest::GuestConsole;
use crate::evtchn::EventChannels;
use crate::mm::frames;
use crate::sync::TicketLock;

use super::memory::{GuestMemory, MemoryError, PAGE};
use super::vcpu::{RunState, Vcpu, VcpuInner};
use super::{DomId, Domain, NR_PARAMS};

/// Builds in flight for restarts (the machine must not power off then).
static RESTARTS: AtomicUsize = AtomicUsize::new(0);

pub fn restart_pending() -> bool {
    RESTARTS.load(Ordering::SeqCst) > 0
}

/// Builds and starts every domain configured in the boot modules
/// (`*.cfg`). A bad configuration is reported with the domain's name and
/// the others still start. Returns how many started.
pub fn start_boot_domains() -> usize {
    let mut started = 0;
    // Domains sharing a kernel module share one decompressed image.
    let mut kernels = KernelCache::default();
    for cfg_name in crate::modules::names_ending_with(".cfg") {
        let text = crate::modules::get(&cfg_name).unwrap_or(&[]);
        let label = cfg_name.trim_end_matches(".cfg").to_string();
        let result = core::str::from_utf8(text)
            .map_err(|_| "the configuration is not UTF-8 text".to_string())
            .and_then(|text| rxen_domain_config::parse(text).map_err(|e| e.to_string()));
        let config = match result {
            Ok(config) => config,
            Err(e) => {
                crate::println!("rxen: domain '{label}': bad configuration {cfg_name}: {e}");
                continue;
            }
        };
        for w in &config.warnings {
            log::warn!("domain '{}': {}", config.name, w);
        }
        match build(config.clone(), super::allocate_id(), &mut kernels).and_then(start) {
            Ok(()) => started += 1,
            Err(e) => crate::println!("rxen: domain '{}': {}", config.name, e),
        }
    }
    started
}

/// Decompressed kernels by module name, kept while boot domains are built.
#[derive(Default)]
pub struct KernelCache {
    images: Vec<(String, Arc<rxen_kernel_loader::KernelImage>)>,
}

impl KernelCache {
    fn load(
        &mut self,
        name: &str,
        bytes: &[u8],
    ) -> Result<Arc<rxen_kernel_loader::KernelImage>, String> {
        if let Some((_, image)) = self.images.iter().find(|(n, _)| n == name) {
            return Ok(image.clone());
        }
        let image =
            Arc::new(rxen_kernel_loader::load(bytes).map_err(|e| format!("kernel '{name}': {e}"))?);
        self.images.push((String::from(name), image.clone()));
        Ok(image)
    }
}

/// Marks a restart as coming, so no CPU powers the machine off meanwhile.
pub fn announce_restart() {
    RESTARTS.fetch_add(1, Ordering::SeqCst);
}

/// Builds `config` again after its domain `old` ended with `restart`
/// (after [`announce_restart`]).
pub fn restart(old: &Domain) -> Result<(), String> {
    let result = build(
        old.config.clone(),
        super::allocate_id(),
        &mut KernelCache::default(),
    );
    RESTARTS.fetch_sub(1, Ordering::SeqCst);
    match result.and_then(start) {
        Ok(()) => Ok(()),
        Err(e) => {
            crate::println!("rxen: domain '{}': restart failed: {}", old.config.name, e);
            Err(e)
        }
    }
}

/// Hands a built domain to the scheduler and starts vCPU 0.
fn start(domain: Arc<Domain>) -> Result<(), String> {
    crate::sched::add_domain(&domain)?;
    let (ram, overhead) = {
        let mem = domain.memory.lock();
        (mem.ram_bytes(), mem.overhead_bytes())
    };
    crate::println!(
        "rxen: d{} '{}' started: {} MiB, {} vCPU(s), overhead {} KiB, kernel {}",
        domain.id,
        domain.name,
        ram >> 20,
        domain.vcpus.len(),
        overhead >> 10,
        domain.config.kernel
    );
    super::register(domain.clone());
    let v0 = domain.vcpus[0].clone();
    v0.set_state(RunState::Runnable);
    v0.runstate.change(super::runstate::Runstate::Runnable);
    crate::sched::make_runnable(&v0);
    Ok(())
}

/// Everything that can go wrong, as a sentence naming what to fix.
pub fn build(
    config: DomainConfig,
    id: DomId,
    kernels: &mut KernelCache,
) -> Result<Arc<Domain>, String> {
    if config.kind != DomainKind::Pvh {
        return Err(format!(
            "type {:?} is not supported yet: use type = \"pvh\"",
            config.kind
        ));
    }
    let kernel_bytes = crate::modules::get(&config.kernel).ok_or_else(|| {
        format!(
            "kernel '{}' not found among the boot modules",
            config.kernel
        )
    })?;
    let initrd = match &config.ramdisk {
        Some(name) => Some(
            crate::modules::get(name)
                .ok_or_else(|| format!("ramdisk '{name}' not found among the boot modules"))?,
        ),
        None => None,
    };
    let memory_bytes = config.memory_mib << 20;
    check_free_memory(memory_bytes)?;
    let t0 = crate::time::now_ns();
    // RAM first, zeroed by idle CPUs while this one decompresses the
    // kernel. The first MiB is all backed (as on Xen), though the e820
    // reserves its top: Linux reads the BIOS data areas there.
    let mut memory = GuestMemory::new().map_err(mem_err)?;
    let mut blocks = memory
        .populate_unzeroed(0, layout::HIGH_RAM_START)
        .map_err(mem_err)?;
    blocks.extend(
        memory
            .populate_unzeroed(layout::HIGH_RAM_START, memory_bytes)
            .map_err(mem_err)?,
    );
    crate::mm::scrub::post(&blocks);
    // Whatever happens next, no block is freed while still being zeroed.
    let scrubbing = ScrubWait;
    let image = kernels.load(&config.kernel, kernel_bytes)?;
    let t1 = crate::time::now_ns();
    let kernel_range = kernel_extent(&image);
    let entry = image.pvh_entry;
    let spec = GuestSpec {
        memory_bytes,
        vcpus: config.vcpus,
        cmdline: &config.cmdline,
        initrd_len: initrd.map(|i| i.len() as u64),
        kernel: kernel_range,
        initial_domain: false,
    };
    let plan = layout::plan(&spec).map_err(|e| e.to_string())?;
    drop(scrubbing);
    let t2 = crate::time::now_ns();
    for seg in &image.segments {
        memory
            .write(seg.paddr, image.data(seg))
            .map_err(|_| "kernel segment outside RAM".to_string())?;
    }
    drop(image);
    log::info!(
        "d{id}: {} MiB of RAM and the kernel ready in {} ms (kernel {} ms, then zeroing {} ms), copied in {} ms",
        memory_bytes >> 20,
        (t2 - t0) / 1_000_000,
        (t1 - t0) / 1_000_000,
        (t2 - t1) / 1_000_000,
        (crate::time::now_ns() - t2) / 1_000_000
    );
    if let (Some(bytes), Some(range)) = (initrd, plan.initrd()) {
        memory.write(range.start, bytes).map_err(mem_err)?;
    }
    memory
        .write(plan.start_info_gpa(), &plan.start_info_page())
        .map_err(mem_err)?;
    place_pages(&mut memory, plan.acpi(), &plan.acpi_tables())?;
    let console_pa = memory.alloc_frame().map_err(mem_err)?;
    memory
        .map(plan.console_gfn() * PAGE, console_pa, Access::ReadWrite)
        .map_err(mem_err)?;
    let shared_info_pa = memory.alloc_frame().map_err(mem_err)?;
    assemble(id, config, memory, &plan, entry, console_pa, shared_info_pa)
}

fn assemble(
    id: DomId,
    config: DomainConfig,
    mut memory: GuestMemory,
    plan: &Layout,
    entry: u32,
    console_pa: u64,
    shared_info_pa: u64,
) -> Result<Arc<Domain>, String> {
    let mut events = EventChannels::new();
    let console_port = events
        .alloc_hypervisor()
        .map_err(|_| "no event channel for the console".to_string())?;
    let mut params = [0u64; NR_PARAMS];
    params[hvm::HVM_PARAM_CONSOLE_PFN as usize] = plan.console_gfn();
    params[hvm::HVM_PARAM_CONSOLE_EVTCHN as usize] = u64::from(console_port);
    let mut inners = Vec::new();
    for i in 0..config.vcpus {
        let vmcb = memory.alloc_frame().map_err(mem_err)?;
        let fpu = memory.alloc_frame().map_err(mem_err)?;
        let mut arch = ArchVcpu::new(vmcb, fpu);
        arch.reset_pvh(entry, plan.start_info_gpa() as u32, memory.npt_root());
        let lapic = VirtualLapic::new(layout::apic_id(i));
        inners.push(VcpuInner {
            arch,
            lapic,
            mtrr_def_type: 0xC06,
            npt_seen: 0,
            exit_counts: Default::default(),
        });
    }
    let name = config.name.clone();
    let e820 = plan.e820().to_vec();
    let domain = Arc::new_cyclic(|weak| {
        let vcpus = inners
            .into_iter()
            .enumerate()
            .map(|(i, inner)| {
                let info = shared_info_pa + shared_info::vcpu_info(i as u32).unwrap_or(0) as u64;
                Vcpu::new(weak.clone(), id, i as u32, inner, info)
            })
            .collect();
        Domain {
            id,
            name,
            config,
            memory: TicketLock::new(memory),
            vcpus,
            shared_info_pa,
            shared_info_mapped: AtomicBool::new(false),
            events: TicketLock::new(events),
            console: GuestConsole::new(console_pa, console_port),
            params: TicketLock::new(params),
            callback_vector: AtomicU8::new(0),
            grant_frames: TicketLock::new(Vec::new()),
            e820,
            vm_assist: AtomicU64::new(0),
            npt_generation: AtomicU64::new(0),
            state: AtomicU8::new(0),
            shutdown_reason: core::sync::atomic::AtomicU32::new(u32::MAX),
        }
    });
    Ok(domain)
}

/// Waits, when dropped, until every block posted for zeroing is done.
struct ScrubWait;

impl Drop for ScrubWait {
    fn drop(&mut self) {
        crate::mm::scrub::finish();
    }
}

/// Backs [range.start, range.end) with fresh frames holding `bytes`.
fn place_pages(memory: &mut GuestMemory, range: GpaRange, bytes: &[u8]) -> Result<(), String> {
    let mut gpa = range.start;
    while gpa < range.end {
        let pa = memory.alloc_frame().map_err(mem_err)?;
        memory.map(gpa, pa, Access::ReadWrite).map_err(mem_err)?;
        gpa += PAGE;
    }
    memory.write(range.start, bytes).map_err(mem_err)
}

fn kernel_extent(image: &rxen_kernel_loader::KernelImage) -> GpaRange {
    let start = image.segments.iter().map(|s| s.paddr).min().unwrap_or(0);
    let end = image
        .segments
        .iter()
        .map(|s| s.paddr + s.mem_size)
        .max()
        .unwrap_or(0);
    GpaRange::new(start, end)
}

fn check_free_memory(bytes: u64) -> Result<(), String> {
    let (_, free) = frames::stats();
    let free_bytes = free * PAGE;
    // The domain also needs page tables and a few frames of its own.
    let needed = bytes + bytes / 256 + (1 << 20);
    if needed > free_bytes {
        return Err(format!(
            "not enough memory: {} MiB requested, {} MiB free",
            bytes >> 20,
            free_bytes >> 20
        ));
    }
    Ok(())
}

fn mem_err(e: MemoryError) -> String {
    match e {
        MemoryError::OutOfMemory => "out of memory while building the domain".to_string(),
        MemoryError::BadAddress => "guest address outside the domain's memory".to_string(),
    }
}
