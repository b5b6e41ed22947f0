//! The control domain (dom0), built the way Xen builds it from the boot
//! loader's modules: the first module that is neither a domain
//! configuration nor named by one is dom0's kernel, its module string is
//! dom0's command line, and the next such module is its initrd.
//! `dom0_mem=` and `dom0_max_vcpus=` on rxen's command line mean what they
//! mean to Xen.
//!
//! Dom0 is a privileged PVH domain (id 0, `SIF_INITDOMAIN`) whose console
//! is the hypervisor's (console_io). It gets no physical devices yet: its
//! ACPI tables are synthetic, as a domU's.

use alloc::format;
use alloc::string::{String, ToString};

use alloc::vec::Vec;

use rxen_boot_info::cmdline::{Cmdline, Dom0Vcpus};
use rxen_domain_config::DomainConfig;

use super::builder::{self, ImageSpec, KernelCache};
use super::{Origin, CONTROL_DOMID};
use crate::sched::SchedParams;

/// Name Xen's tools give the control domain.
pub const NAME: &str = "Domain-0";

/// Dom0's kernel and initrd among the boot modules (by index).
pub struct Dom0Modules {
    pub kernel: usize,
    pub initrd: Option<usize>,
}

/// Finds dom0's modules: those not `*.cfg` and not named by any of
/// `configs`.
pub fn find_modules(configs: &[DomainConfig]) -> Option<Dom0Modules> {
    let named: Vec<&str> = configs
        .iter()
        .flat_map(|c| core::iter::once(c.kernel.as_str()).chain(c.ramdisk.as_deref()))
        .collect();
    let mut candidates = (0..crate::modules::count()).filter(|&i| {
        let name = crate::modules::name_at(i).unwrap_or_default();
        !name.ends_with(".cfg") && !named.contains(&name.as_str())
    });
    let kernel = candidates.next()?;
    Some(Dom0Modules {
        kernel,
        initrd: candidates.next(),
    })
}

/// Whether `bytes` look like a kernel (ELF or bzImage): a data module first
/// in line is reported instead of being booted.
fn looks_like_kernel(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x7fELF") || bytes.get(0x202..0x206) == Some(b"HdrS")
}

/// Builds and starts dom0 from `modules`.
pub fn build_and_start(cmdline: &Cmdline, modules: &Dom0Modules) -> Result<(), String> {
    let kernel_name = crate::modules::name_at(modules.kernel).unwrap_or_default();
    let kernel = crate::modules::bytes_at(modules.kernel).unwrap_or(&[]);
    if !looks_like_kernel(kernel) {
        return Err(format!(
            "module {} (\"{kernel_name}\") is not a kernel (neither ELF nor bzImage)",
            modules.kernel
        ));
    }
    let initrd = modules.initrd.and_then(crate::modules::bytes_at);
    let (_, free) = crate::mm::frames::stats();
    let mut memory_bytes = cmdline.dom0_mem.resolve(free * 4096) & !0xFFFFF;
    if memory_bytes > rxen_guest_layout::MAX_MEMORY {
        log::warn!(
            "dom0: {} MiB asked, {} MiB given (memory above 4 GiB is not supported yet)",
            memory_bytes >> 20,
            rxen_guest_layout::MAX_MEMORY >> 20
        );
        memory_bytes = rxen_guest_layout::MAX_MEMORY;
    }
    let cpus = crate::arch::smp::cpus_online() as u32;
    let vcpus = Dom0Vcpus::resolve(cmdline.dom0_max_vcpus, cpus).min(rxen_guest_layout::MAX_VCPUS);
    crate::println!(
        "rxen: dom0: kernel module {} ({} bytes), {} MiB, {} vCPU(s), command line \"{}\"",
        modules.kernel,
        kernel.len(),
        memory_bytes >> 20,
        vcpus,
        kernel_name
    );
    let spec = ImageSpec {
        id: CONTROL_DOMID,
        name: NAME.to_string(),
        origin: Origin::Control,
        kernel_label: &kernel_name,
        kernel,
        initrd,
        cmdline: kernel_name.clone(),
        memory_bytes,
        vcpus,
        console: false,
    };
    let domain = builder::build(spec, &mut KernelCache::default())?;
    builder::start(domain, SchedParams::default())
}
