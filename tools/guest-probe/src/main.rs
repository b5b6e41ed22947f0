//! `guest-probe`: runs inside an rxen guest and prints what the hypervisor
//! shows it, as marker lines the integration tests look for.
//!
//! ```text
//! guest-probe domid     RXEN-MARKER domid=<N>  (or domid=unknown)
//! ```
//!
//! The domain id comes from Xen's CPUID leaves: the base leaf is the first
//! of 0x40000000, 0x40000100, ... 0x4000FF00 whose EBX, ECX, EDX spell
//! "XenVMMXenVMM"; leaf base+4 sets EAX bit 4 (`XEN_HVM_CPUID_DOMID_PRESENT`)
//! when ECX holds the domain id.

use std::process::ExitCode;

/// Xen's signature in EBX, ECX, EDX of its base CPUID leaf.
const XEN_SIGNATURE: &[u8; 12] = b"XenVMMXenVMM";
/// Leaf base+4: HVM-specific parameters.
const HVM_LEAF_OFFSET: u32 = 4;
/// EAX bit of leaf base+4: ECX holds the domain id.
const DOMID_PRESENT: u32 = 1 << 4;

const USAGE: &str = "usage: guest-probe domid";

/// The four registers a CPUID leaf returns.
#[derive(Clone, Copy, Debug)]
struct Leaf {
    eax: u32,
    ebx: u32,
    ecx: u32,
    edx: u32,
}

fn cpuid(leaf: u32) -> Leaf {
    // `__cpuid` is safe from Rust 1.89 on; `unsafe` keeps older compilers
    // (the workspace's rust-version) happy.
    #[allow(unused_unsafe)]
    // SAFETY: CPUID exists on every x86_64 CPU, has no side effects, and any
    // leaf number may be queried.
    let r = unsafe { core::arch::x86_64::__cpuid(leaf) };
    Leaf {
        eax: r.eax,
        ebx: r.ebx,
        ecx: r.ecx,
        edx: r.edx,
    }
}

/// Whether a leaf carries Xen's signature.
fn is_xen_signature(leaf: &Leaf) -> bool {
    let mut sig = [0u8; 12];
    sig[..4].copy_from_slice(&leaf.ebx.to_le_bytes());
    sig[4..8].copy_from_slice(&leaf.ecx.to_le_bytes());
    sig[8..].copy_from_slice(&leaf.edx.to_le_bytes());
    &sig == XEN_SIGNATURE
}

/// Xen's base leaf, if we run under Xen (or rxen).
fn xen_base_leaf(cpuid: impl Fn(u32) -> Leaf) -> Option<u32> {
    (0x4000_0000..=0x4000_FF00u32)
        .step_by(0x100)
        .find(|&base| is_xen_signature(&cpuid(base)))
}

/// The domain id the hypervisor reports, if it reports one.
fn domid(cpuid: impl Fn(u32) -> Leaf) -> Option<u32> {
    let base = xen_base_leaf(&cpuid)?;
    let max_leaf = cpuid(base).eax;
    let hvm_leaf = base + HVM_LEAF_OFFSET;
    if max_leaf < hvm_leaf {
        return None;
    }
    let leaf = cpuid(hvm_leaf);
    (leaf.eax & DOMID_PRESENT != 0).then_some(leaf.ecx)
}

fn marker_line(domid: Option<u32>) -> String {
    match domid {
        Some(id) => format!("RXEN-MARKER domid={id}"),
        None => "RXEN-MARKER domid=unknown".to_owned(),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("domid") => {
            println!("{}", marker_line(domid(cpuid)));
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake CPU: Xen at `base` with max leaf base+5, domid leaf as given.
    fn fake_xen(base: u32, hvm_eax: u32, domid: u32) -> impl Fn(u32) -> Leaf {
        let word = |s: &[u8]| u32::from_le_bytes(s.try_into().unwrap());
        move |leaf| match leaf {
            l if l == base => Leaf {
                eax: base + 5,
                ebx: word(b"XenV"),
                ecx: word(b"MMXe"),
                edx: word(b"nVMM"),
            },
            l if l == base + 4 => Leaf {
                eax: hvm_eax,
                ebx: 0,
                ecx: domid,
                edx: 0,
            },
            _ => Leaf {
                eax: 0,
                ebx: 0,
                ecx: 0,
                edx: 0,
            },
        }
    }

    #[test]
    fn finds_xen_behind_another_hypervisor_signature() {
        let cpu = fake_xen(0x4000_0100, DOMID_PRESENT, 3);
        assert_eq!(xen_base_leaf(&cpu), Some(0x4000_0100));
        assert_eq!(domid(&cpu), Some(3));
        assert_eq!(marker_line(domid(&cpu)), "RXEN-MARKER domid=3");
    }

    #[test]
    fn domid_absent_without_the_flag() {
        assert_eq!(domid(fake_xen(0x4000_0000, 0, 3)), None);
        assert_eq!(marker_line(None), "RXEN-MARKER domid=unknown");
    }

    #[test]
    fn no_xen() {
        let bare = |_| Leaf {
            eax: 0,
            ebx: 0,
            ecx: 0,
            edx: 0,
        };
        assert_eq!(domid(bare), None);
    }
}
