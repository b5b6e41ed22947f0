//! The domain builder for domains rxen builds itself — the control domain
//! and the boot-time domains of xl.cfg modules: kernel loaded at its
//! physical addresses, initrd, `hvm_start_info`, ACPI tables, vCPU 0 at the
//! PVH entry point. (Domains the toolstack creates are built by
//! libxenguest in dom0: see `create`.)

use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};

use rxen_domain_config::{DomainConfig, DomainKind};
use rxen_event_channel::PortTable;
use rxen_guest_layout::{self as layout, GpaRange, GuestSpec, Layout};
use rxen_xen_abi::hvm;

use crate::console::guest::GuestConsole;
use crate::mm::frames;
use crate::sched::SchedParams;

use super::memory::{GuestMemory, MemoryError, PAGE};
use super::vcpu::RunState;
use super::{DomId, Domain, DomainInit, Origin, DEFAULT_GRANT_FRAMES, DEFAULT_MAPTRACK_FRAMES};

/// Builds in flight, at boot or for restarts: the machine must not power
/// off then, though every domain that exists so far may have ended.
static BUILDS: AtomicUsize = AtomicUsize::new(0);
/// Pages a domain may hold beyond its configured memory (Xen's toolstack
/// allows 1 MiB: special pages, ACPI tables).
const SLACK_PAGES: u64 = 256;

pub fn build_pending() -> bool {
    BUILDS.load(Ordering::SeqCst) > 0
}

/// Marks a build as coming, so no CPU powers the machine off meanwhile.
pub fn announce_build() {
    BUILDS.fetch_add(1, Ordering::SeqCst);
}

/// What rxen needs to build a domain from a kernel image.
pub struct ImageSpec<'a> {
    pub id: DomId,
    pub name: String,
    pub origin: Origin,
    /// Names the kernel in messages and in the cache of decompressed ones.
    pub kernel_label: &'a str,
    pub kernel: &'static [u8],
    pub initrd: Option<&'static [u8]>,
    pub cmdline: String,
    pub memory_bytes: u64,
    pub vcpus: u32,
    /// Whether rxen serves its PV console (boot-time domains).
    pub console: bool,
}

/// The xl.cfg files among the boot modules, parsed; bad ones are reported
/// by name and left out.
pub fn boot_configs() -> Vec<DomainConfig> {
    let mut configs = Vec::new();
    for cfg_name in crate::modules::names_ending_with(".cfg") {
        let text = crate::modules::get(&cfg_name).unwrap_or(&[]);
        let label = cfg_name.trim_end_matches(".cfg").to_string();
        let result = core::str::from_utf8(text)
            .map_err(|_| "the configuration is not UTF-8 text".to_string())
            .and_then(|text| rxen_domain_config::parse(text).map_err(|e| e.to_string()));
        match result {
            Ok(config) => {
                for w in &config.warnings {
                    log::warn!("domain '{}': {}", config.name, w);
                }
                configs.push(config);
            }
            Err(e) => crate::println!("rxen: domain '{label}': bad configuration {cfg_name}: {e}"),
        }
    }
    configs
}

/// Builds and starts every boot-time domain. A bad configuration is
/// reported with the domain's name and the others still start. Returns how
/// many started.
/// Builds and starts the boot-time domains; the first may already have
/// ended when the last is built (the caller then decides about power).
pub fn start_boot_domains(configs: Vec<DomainConfig>) {
    announce_build();
    // Domains sharing a kernel module share one decompressed image.
    let mut kernels = KernelCache::default();
    for config in configs {
        let name = config.name.clone();
        let result = super::allocate_id()
            .ok_or_else(|| "no domain id left".to_string())
            .and_then(|id| build_boot_domain(config, id, &mut kernels));
        if let Err(e) = result {
            crate::println!("rxen: domain '{name}': {e}");
        }
    }
    BUILDS.fetch_sub(1, Ordering::SeqCst);
}

fn build_boot_domain(
    config: DomainConfig,
    id: DomId,
    kernels: &mut KernelCache,
) -> Result<(), String> {
    if config.kind != DomainKind::Pvh {
        return Err(format!(
            "type {:?} is not supported yet: use type = \"pvh\"",
            config.kind
        ));
    }
    let kernel = crate::modules::get(&config.kernel).ok_or_else(|| {
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
    let sched = SchedParams {
        weight: config.weight.unwrap_or(256),
        cap: config.cap.unwrap_or(0),
        affinity: config.cpus.map(|set| {
            let mut mask = rxen_credit_sched::CpuMask::empty();
            for cpu in set.iter().filter(|&c| c < rxen_credit_sched::MAX_PCPUS) {
                mask.insert(rxen_credit_sched::PcpuId(cpu as u32));
            }
            mask
        }),
    };
    let kernel_label = config.kernel.clone();
    let spec = ImageSpec {
        id,
        name: config.name.clone(),
        kernel_label: &kernel_label,
        kernel,
        initrd,
        cmdline: config.cmdline.clone(),
        memory_bytes: config.memory_mib << 20,
        vcpus: config.vcpus,
        console: true,
        origin: Origin::Boot(alloc::boxed::Box::new(config)),
    };
    let domain = build(spec, kernels)?;
    start(domain, sched)
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
    ) -> Result<(Arc<rxen_kernel_loader::KernelImage>, bool), String> {
        if let Some((_, image)) = self.images.iter().find(|(n, _)| n == name) {
            return Ok((image.clone(), true));
        }
        let image = Arc::new(
            rxen_kernel_loader::load_with(bytes, &crate::mm::helpers::OtherCpus)
                .map_err(|e| format!("kernel '{name}': {e}"))?,
        );
        self.images.push((String::from(name), image.clone()));
        Ok((image, false))
    }
}

/// Builds the configuration of boot-time domain `old` again after it ended
/// with `restart` (after [`announce_build`]).
pub fn restart(old: &Domain) -> Result<(), String> {
    let result = match old.boot_config() {
        Some(config) => super::allocate_id()
            .ok_or_else(|| "no domain id left".to_string())
            .and_then(|id| build_boot_domain(config.clone(), id, &mut KernelCache::default())),
        None => Err("only boot-time domains are restarted by rxen".to_string()),
    };
    BUILDS.fetch_sub(1, Ordering::SeqCst);
    if let Err(e) = &result {
        crate::println!("rxen: domain '{}': restart failed: {}", old.name, e);
    }
    result
}

/// Hands a built domain to the scheduler and starts vCPU 0.
pub fn start(domain: Arc<Domain>, sched: SchedParams) -> Result<(), String> {
    crate::sched::add_domain(&domain, sched)?;
    let (ram, overhead) = {
        let mem = domain.memory.lock();
        (mem.ram_bytes(), mem.overhead_bytes())
    };
    let kernel = match &domain.origin {
        Origin::Boot(config) => config.kernel.as_str(),
        _ => "",
    };
    crate::println!(
        "rxen: d{} '{}' started: {} MiB, {} vCPU(s), overhead {} KiB, kernel {}",
        domain.id,
        domain.name,
        ram >> 20,
        domain.vcpus().len(),
        overhead >> 10,
        kernel
    );
    super::register(domain.clone());
    let v0 = domain.vcpus()[0].clone();
    v0.set_state(RunState::Runnable);
    v0.runstate.change(super::runstate::Runstate::Runnable);
    crate::sched::make_runnable(&v0);
    Ok(())
}

/// Everything that can go wrong, as a sentence naming what to fix.
pub fn build(spec: ImageSpec, kernels: &mut KernelCache) -> Result<Arc<Domain>, String> {
    let memory_bytes = spec.memory_bytes;
    check_free_memory(memory_bytes)?;
    let id = spec.id;
    let mut phases = BuildPhases::start();
    // RAM first, zeroed by idle CPUs while this one decompresses the
    // kernel. The first MiB is all backed (as on Xen), though the e820
    // reserves its top: Linux reads the BIOS data areas there.
    let max_pages = memory_bytes / PAGE + SLACK_PAGES;
    let mut memory = GuestMemory::new(id, max_pages).map_err(mem_err)?;
    let mut blocks = memory
        .populate_unzeroed(0, layout::HIGH_RAM_START)
        .map_err(mem_err)?;
    blocks.extend(
        memory
            .populate_unzeroed(layout::HIGH_RAM_START, memory_bytes)
            .map_err(mem_err)?,
    );
    crate::mm::scrub::post(&blocks);
    phases.p2m_done();
    // Whatever happens next, no block is freed while still being zeroed.
    let scrubbing = ScrubWait;
    let (image, cached) = kernels.load(spec.kernel_label, spec.kernel)?;
    phases.kernel_done();
    let plan = layout::plan(&GuestSpec {
        memory_bytes,
        vcpus: spec.vcpus,
        cmdline: &spec.cmdline,
        initrd_len: spec.initrd.map(|i| i.len() as u64),
        kernel: kernel_extent(&image),
        initial_domain: matches!(spec.origin, Origin::Control),
    })
    .map_err(|e| e.to_string())?;
    drop(scrubbing);
    phases.zeroing_done();
    for seg in &image.segments {
        memory
            .write(seg.paddr, image.data(seg))
            .map_err(|_| "kernel segment outside RAM".to_string())?;
    }
    let entry = image.pvh_entry;
    drop(image);
    phases.copy_done();
    let packing = match cached {
        true => "already decompressed",
        false => rxen_kernel_loader::packing(spec.kernel),
    };
    log::info!(
        "d{id}: {} MiB of RAM and the kernel ready in {} ms: p2m {} ms, kernel ({packing}, {} KiB) {} ms, zeroing then {} ms, copy {} ms",
        memory_bytes >> 20,
        phases.total_ms(),
        phases.p2m_ms,
        spec.kernel.len() >> 10,
        phases.kernel_ms,
        phases.zeroing_ms,
        phases.copy_ms,
    );
    if let (Some(bytes), Some(range)) = (spec.initrd, plan.initrd()) {
        memory.write(range.start, bytes).map_err(mem_err)?;
    }
    memory
        .write(plan.start_info_gpa(), &plan.start_info_page())
        .map_err(mem_err)?;
    place_pages(&mut memory, plan.acpi(), &plan.acpi_tables())?;
    let console_pa = if spec.console {
        memory.populate(plan.console_gfn(), 0).map_err(mem_err)?;
        memory.translate(plan.console_gfn() * PAGE)
    } else {
        None
    };
    let shared_info_pa = memory.alloc_extra().map_err(mem_err)?;
    let start_info = plan.start_info_gpa() as u32;
    let domain = assemble(spec, memory, &plan, console_pa, shared_info_pa)?;
    super::vcpu::create_vcpus(&domain, plan.vcpus().get(), entry, start_info).map_err(mem_err)?;
    Ok(domain)
}

fn assemble(
    spec: ImageSpec,
    memory: GuestMemory,
    plan: &Layout,
    console_pa: Option<u64>,
    shared_info_pa: u64,
) -> Result<Arc<Domain>, String> {
    let mut events = PortTable::new(crate::evtchn::DEFAULT_MAX_PORTS);
    let mut params = [0u64; super::NR_PARAMS];
    let console = match console_pa {
        Some(pa) => {
            let port = events
                .alloc_hypervisor()
                .map_err(|_| "no event channel for the console".to_string())?;
            params[hvm::HVM_PARAM_CONSOLE_PFN as usize] = plan.console_gfn();
            params[hvm::HVM_PARAM_CONSOLE_EVTCHN as usize] = u64::from(port);
            Some(GuestConsole::new(pa, port))
        }
        None => None,
    };
    let e820 = plan
        .e820()
        .iter()
        .map(|e| rxen_xen_abi::memory::E820Entry {
            addr: e.addr,
            size: e.size,
            kind: e.kind,
        })
        .collect();
    Ok(Domain::new(DomainInit {
        id: spec.id,
        name: spec.name,
        origin: spec.origin,
        memory,
        max_vcpus: plan.vcpus().get(),
        shared_info_pa,
        events,
        console,
        params,
        e820,
        grant_frames: DEFAULT_GRANT_FRAMES,
        maptrack_frames: DEFAULT_MAPTRACK_FRAMES,
        handle: [0; 16],
        ssidref: 0,
        paused: false,
    }))
}

/// Waits, when dropped, until every block posted for zeroing is done.
struct ScrubWait;

/// How long each phase of a build took, for the log: a slow phase shows.
struct BuildPhases {
    last_ns: u64,
    p2m_ms: u64,
    kernel_ms: u64,
    zeroing_ms: u64,
    copy_ms: u64,
}

impl BuildPhases {
    fn start() -> Self {
        Self {
            last_ns: crate::time::now_ns(),
            p2m_ms: 0,
            kernel_ms: 0,
            zeroing_ms: 0,
            copy_ms: 0,
        }
    }

    /// Milliseconds since the previous phase ended.
    fn lap(&mut self) -> u64 {
        let now = crate::time::now_ns();
        let ms = now.saturating_sub(self.last_ns) / 1_000_000;
        self.last_ns = now;
        ms
    }

    fn p2m_done(&mut self) {
        self.p2m_ms = self.lap();
    }

    /// Decompressed and parsed (or found in the cache).
    fn kernel_done(&mut self) {
        self.kernel_ms = self.lap();
    }

    /// The rest of the RAM zeroed (helping the idle CPUs).
    fn zeroing_done(&mut self) {
        self.zeroing_ms = self.lap();
    }

    fn copy_done(&mut self) {
        self.copy_ms = self.lap();
    }

    fn total_ms(&self) -> u64 {
        self.p2m_ms + self.kernel_ms + self.zeroing_ms + self.copy_ms
    }
}

impl Drop for ScrubWait {
    fn drop(&mut self) {
        crate::mm::scrub::finish();
    }
}

/// Backs [range.start, range.end) with fresh RAM holding `bytes`.
fn place_pages(memory: &mut GuestMemory, range: GpaRange, bytes: &[u8]) -> Result<(), String> {
    let mut gpa = range.start;
    while gpa < range.end {
        memory.populate(gpa / PAGE, 0).map_err(mem_err)?;
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

pub fn mem_err(e: MemoryError) -> String {
    match e {
        MemoryError::OutOfMemory => "out of memory while building the domain".to_string(),
        MemoryError::BadAddress | MemoryError::Busy => {
            "guest address outside the domain's memory".to_string()
        }
        MemoryError::OverLimit => "more memory than the domain may have".to_string(),
    }
}
