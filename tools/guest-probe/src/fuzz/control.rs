//! The control domain's fuzzer (`guest-probe fuzz-control`), run in dom0
//! through privcmd.
//!
//! From dom0 most calls are *legal*: it may destroy, pause, shrink or map
//! any domain. What must hold is that no call, however malformed, panics
//! the hypervisor, corrupts a domain it did not legally change, or gets
//! back anything but one of Xen's error codes. So the run protects every
//! domain that existed when it began (dom0 itself, and the victim and the
//! bystander the test started): a call that would legally change one of
//! them is aimed elsewhere or made malformed instead. Domains created
//! later (the test's short-lived ones, being built or dying) and ids that
//! name no domain are fair game.
//!
//! On top of the guest fuzzer's calls (with its denylist, [`super::self_harm`],
//! which keeps dom0 alive), it makes:
//!
//! * **domctl, sysctl and platform_op** envelopes: known and random
//!   sub-ops, mostly with the right interface version (4.17's), sometimes a
//!   wrong one, random payloads, the envelope sometimes running into the
//!   guard page. With the right version:
//!   - a domctl naming a protected domain is re-aimed at another id unless
//!     it only reads ([`DOMCTL_READS`]);
//!   - the domctls in [`DOMCTL_NEVER`] (creating domains, handing out
//!     machine resources, another domain's memory or a global VIRQ) get a
//!     wrong version, whoever they name;
//!   - `max_mem` and the paging pool size are clamped, so that no run ties
//!     up the machine's memory;
//!   - sysctls below 32 that are not in [`SYSCTL_READS`] (debug keys, CPU
//!     hotplug, pools, scheduler parameters, live patching, ...) and every
//!     platform_op not in [`PLATFORM_READS`] (settime, microcode, ACPI
//!     sleep, MSR access, ...) get a wrong version;
//! * memory_op, grant, event-channel and hvm_op calls whose structures name
//!   domains get foreign ids there: `alloc_unbound` and `bind_interdomain`
//!   (which would take a protected domain's ports), `add_to_physmap_batch`'s
//!   foreign domain, every hvm_op and dm_op; grant map and copy name only
//!   ids of no domain, because every domain grants dom0 its console and
//!   XenStore pages;
//! * and it skips what would hurt dom0 through its own resources:
//!   `unmap_grant_ref` (xenconsoled's and xenstored's live mappings),
//!   `acquire_resource` (maps frames over dom0's RAM), kexec, hypfs,
//!   xenoprof and physdev (I/O-APIC writes and the like).
//!
//! Event channels it binds in dom0 are closed again after each call, so a
//! long run does not use up dom0's ports.

use super::{self_harm, Call, Fuzzer, Rng, Target, Verdict};
use crate::xen::*;
use rxen_xen_abi::{domctl as dc, platform as pf, sysctl as sc};

/// The domains present are looked up again every this many calls.
pub const REFRESH_EVERY: u64 = 1000;

/// `sizeof(struct xen_domctl)`, `sizeof(struct xen_sysctl)`,
/// `sizeof(struct xen_platform_op)`.
const DOMCTL_SIZE: usize = 144;
const SYSCTL_SIZE: usize = 136;
const PLATFORM_SIZE: usize = 136;

/// Domctls that only read the domain they name.
pub const DOMCTL_READS: &[u32] = &[
    dc::XEN_DOMCTL_GETDOMAININFO,
    dc::XEN_DOMCTL_GETVCPUINFO,
    dc::XEN_DOMCTL_GETVCPUAFFINITY,
    dc::XEN_DOMCTL_GETNODEAFFINITY,
    dc::XEN_DOMCTL_GETVCPUCONTEXT,
    dc::XEN_DOMCTL_GETHVMCONTEXT,
    dc::XEN_DOMCTL_GETHVMCONTEXT_PARTIAL,
    dc::XEN_DOMCTL_GETTSCINFO,
    dc::XEN_DOMCTL_GET_CPU_POLICY,
    dc::XEN_DOMCTL_GET_PAGING_MEMPOOL_SIZE,
    dc::XEN_DOMCTL_GET_ADDRESS_SIZE,
    dc::XEN_DOMCTL_GET_EXT_VCPUCONTEXT,
    dc::XEN_DOMCTL_GETVCPUEXTSTATE,
    dc::XEN_DOMCTL_GET_VCPU_MSRS,
    dc::XEN_DOMCTL_GET_DEVICE_GROUP,
    dc::XEN_DOMCTL_GDBSX_DOMSTATUS,
];

/// Domctls never made with the right version: they create domains, or give
/// the domain they name the machine's resources, another domain's memory
/// or a global VIRQ (xenstored's VIRQ_DOM_EXC).
pub const DOMCTL_NEVER: &[u32] = &[
    dc::XEN_DOMCTL_CREATEDOMAIN,
    dc::XEN_DOMCTL_IRQ_PERMISSION,
    dc::XEN_DOMCTL_IOMEM_PERMISSION,
    dc::XEN_DOMCTL_IOPORT_PERMISSION,
    dc::XEN_DOMCTL_MEMORY_MAPPING,
    dc::XEN_DOMCTL_IOPORT_MAPPING,
    dc::XEN_DOMCTL_BIND_PT_IRQ,
    dc::XEN_DOMCTL_UNBIND_PT_IRQ,
    dc::XEN_DOMCTL_ASSIGN_DEVICE,
    dc::XEN_DOMCTL_DEASSIGN_DEVICE,
    dc::XEN_DOMCTL_SET_TARGET,
    dc::XEN_DOMCTL_MEM_SHARING_OP,
    dc::XEN_DOMCTL_SET_VIRQ_HANDLER,
    dc::XEN_DOMCTL_VM_EVENT_OP,
    dc::XEN_DOMCTL_MONITOR_OP,
];

/// Sysctls below 32 that change nothing (32 and up name none in 4.17).
pub const SYSCTL_READS: &[u32] = &[
    sc::XEN_SYSCTL_READCONSOLE,
    sc::XEN_SYSCTL_PHYSINFO,
    sc::XEN_SYSCTL_SCHED_ID,
    sc::XEN_SYSCTL_GETDOMAININFOLIST,
    sc::XEN_SYSCTL_GETCPUINFO,
    sc::XEN_SYSCTL_AVAILHEAP,
    sc::XEN_SYSCTL_GET_PMSTAT,
    sc::XEN_SYSCTL_CPUTOPOINFO,
    sc::XEN_SYSCTL_NUMAINFO,
    sc::XEN_SYSCTL_PCITOPOINFO,
    sc::XEN_SYSCTL_GET_CPU_LEVELLING_CAPS,
    sc::XEN_SYSCTL_GET_CPU_FEATURESET,
    sc::XEN_SYSCTL_GET_CPU_POLICY,
];

/// platform_ops that change nothing.
pub const PLATFORM_READS: &[u32] = &[
    pf::XENPF_READ_MEMTYPE,
    pf::XENPF_GET_CPU_VERSION,
    pf::XENPF_FIRMWARE_INFO,
    pf::XENPF_GETIDLETIME,
    pf::XENPF_GET_CPUINFO,
    pf::XENPF_GET_SYMBOL,
];

/// `max_mem` is clamped to this (KiB) and the paging pool to 64 MiB.
const MAX_MEM_KIB: u64 = 512 << 10;
const MAX_PAGING_POOL: u64 = 64 << 20;

/// A hypercall whose one argument is a versioned envelope:
/// `{ cmd: u32, interface_version: u32, [domain: u16, pad], payload }`.
pub struct Envelope {
    op: u64,
    version: u32,
    /// Offset of the target domain (domctl's alone).
    domain_at: Option<usize>,
    payload_at: usize,
    size: usize,
    /// Sub-ops that get most of the calls.
    known: &'static [u32],
    /// Random sub-ops are below this.
    max_cmd: u64,
    /// With the right version: what the call may do, given its command and
    /// the payload's first words.
    sanitize: fn(&mut Fuzzer, usize),
}

const DOMCTL_KNOWN: &[u32] = &[
    dc::XEN_DOMCTL_DESTROYDOMAIN,
    dc::XEN_DOMCTL_PAUSEDOMAIN,
    dc::XEN_DOMCTL_UNPAUSEDOMAIN,
    dc::XEN_DOMCTL_GETDOMAININFO,
    dc::XEN_DOMCTL_MAX_MEM,
    dc::XEN_DOMCTL_SETVCPUCONTEXT,
    dc::XEN_DOMCTL_GETVCPUCONTEXT,
    dc::XEN_DOMCTL_GETVCPUINFO,
    dc::XEN_DOMCTL_MAX_VCPUS,
    dc::XEN_DOMCTL_SCHEDULER_OP,
    dc::XEN_DOMCTL_SETVCPUAFFINITY,
    dc::XEN_DOMCTL_GETVCPUAFFINITY,
    dc::XEN_DOMCTL_SETNODEAFFINITY,
    dc::XEN_DOMCTL_SETDOMAINHANDLE,
    dc::XEN_DOMCTL_SETTIMEOFFSET,
    dc::XEN_DOMCTL_GETHVMCONTEXT,
    dc::XEN_DOMCTL_SETHVMCONTEXT,
    dc::XEN_DOMCTL_GETHVMCONTEXT_PARTIAL,
    dc::XEN_DOMCTL_GETTSCINFO,
    dc::XEN_DOMCTL_SETTSCINFO,
    dc::XEN_DOMCTL_GET_CPU_POLICY,
    dc::XEN_DOMCTL_SET_CPU_POLICY,
    dc::XEN_DOMCTL_SHADOW_OP,
    dc::XEN_DOMCTL_SET_PAGING_MEMPOOL_SIZE,
    dc::XEN_DOMCTL_CREATEDOMAIN,
];

pub const DOMCTL: Envelope = Envelope {
    op: rxen_xen_abi::hypercall::DOMCTL,
    version: dc::XEN_DOMCTL_INTERFACE_VERSION,
    domain_at: Some(8),
    payload_at: 16,
    size: DOMCTL_SIZE,
    known: DOMCTL_KNOWN,
    max_cmd: 90,
    sanitize: sanitize_domctl,
};

pub const SYSCTL: Envelope = Envelope {
    op: rxen_xen_abi::hypercall::SYSCTL,
    version: sc::XEN_SYSCTL_INTERFACE_VERSION,
    domain_at: None,
    payload_at: 8,
    size: SYSCTL_SIZE,
    known: SYSCTL_READS,
    max_cmd: 40,
    sanitize: sanitize_sysctl,
};

pub const PLATFORM: Envelope = Envelope {
    op: rxen_xen_abi::hypercall::PLATFORM_OP,
    version: pf::XENPF_INTERFACE_VERSION,
    domain_at: None,
    payload_at: 8,
    size: PLATFORM_SIZE,
    known: PLATFORM_READS,
    max_cmd: 70,
    sanitize: sanitize_platform,
};

/// Gives the envelope at `at` a wrong interface version.
fn spoil_version(f: &mut Fuzzer, at: usize) {
    let v = f.arena.get_u32(at + 4);
    let wrong = v.wrapping_add(1 + f.rng.below(1000) as u32);
    f.arena.put_u32(at + 4, wrong);
}

fn sanitize_domctl(f: &mut Fuzzer, at: usize) {
    let cmd = f.arena.get_u32(at);
    let payload = at + DOMCTL.payload_at;
    if DOMCTL_NEVER.contains(&cmd) {
        return spoil_version(f, at);
    }
    let sched_read = cmd == dc::XEN_DOMCTL_SCHEDULER_OP
        && matches!(
            f.arena.get_u32(payload + 4),
            dc::XEN_DOMCTL_SCHEDOP_GETINFO | dc::XEN_DOMCTL_SCHEDOP_GETVCPUINFO
        );
    let reads = DOMCTL_READS.contains(&cmd) || sched_read;
    if !reads && f.target.is_protected(f.arena.get_u16(at + 8)) {
        f.put_domid(at + 8, Target::foreign);
    }
    let clamp = match cmd {
        dc::XEN_DOMCTL_MAX_MEM => MAX_MEM_KIB,
        dc::XEN_DOMCTL_SET_PAGING_MEMPOOL_SIZE => MAX_PAGING_POOL,
        _ => return,
    };
    let v = f.arena.get_u64(payload);
    f.arena.put_u64(payload, v % (clamp + 1));
}

fn sanitize_sysctl(f: &mut Fuzzer, at: usize) {
    let cmd = f.arena.get_u32(at);
    let payload = at + SYSCTL.payload_at;
    let allowed = cmd >= 32
        || SYSCTL_READS.contains(&cmd)
        || (cmd == sc::XEN_SYSCTL_CPUPOOL_OP
            && matches!(
                f.arena.get_u32(payload),
                sc::XEN_SYSCTL_CPUPOOL_OP_INFO | sc::XEN_SYSCTL_CPUPOOL_OP_FREEINFO
            ))
        || (cmd == sc::XEN_SYSCTL_SCHEDULER_OP
            && f.arena.get_u32(payload + 8) == sc::XEN_SYSCTL_SCHEDOP_GETINFO);
    if !allowed {
        spoil_version(f, at);
    }
}

fn sanitize_platform(f: &mut Fuzzer, at: usize) {
    if !PLATFORM_READS.contains(&f.arena.get_u32(at)) {
        spoil_version(f, at);
    }
}

/// The control domain's additions to the denylist: `Some` when it decides,
/// `None` to leave the call to [`self_harm`].
pub fn control_harm(call: &Call) -> Option<Verdict> {
    let int_cmd = u64::from(call.args[0] as u32);
    match call.op {
        KEXEC_OP | HYPFS_OP | XENOPROF_OP | PHYSDEV_OP => Some(Verdict::Skip),
        DM_OP => Some(Verdict::MakeForeign),
        EVENT_CHANNEL_OP => match int_cmd {
            EVTCHNOP_ALLOC_UNBOUND | EVTCHNOP_BIND_INTERDOMAIN => Some(Verdict::MakeForeign),
            _ => None,
        },
        GRANT_TABLE_OP if int_cmd & GNTTABOP_CMD_MASK == GNTTABOP_UNMAP_GRANT_REF => {
            Some(Verdict::Skip)
        }
        MEMORY_OP if call.args[0] & MEMOP_CMD_MASK == XENMEM_ACQUIRE_RESOURCE => {
            Some(Verdict::Skip)
        }
        HVM_OP => Some(match self_harm(call) {
            Verdict::Skip => Verdict::Skip,
            _ => Verdict::MakeForeign,
        }),
        _ => None,
    }
}

/// Where a successful bind leaves dom0's new port in the structure.
fn bound_port_offset(int_cmd: u64) -> Option<usize> {
    match int_cmd {
        EVTCHNOP_BIND_INTERDOMAIN | EVTCHNOP_BIND_VIRQ | EVTCHNOP_BIND_PIRQ => Some(8),
        EVTCHNOP_BIND_IPI => Some(4),
        _ => None,
    }
}

impl Fuzzer {
    /// The fuzzer of the control domain: every domain there is now is
    /// protected.
    pub fn control(pc: crate::sys::Privcmd, seed: u64) -> std::io::Result<Self> {
        let mut f = Self::new(pc, seed, vec![0], true)?;
        for d in f.existing_domains() {
            if !f.target.protected.contains(&d) {
                f.target.protected.push(d);
            }
        }
        Ok(f)
    }

    /// The protected domains.
    pub fn protected(&self) -> &[u16] {
        &self.target.protected
    }

    /// Every domain there is, by getdomaininfo from id 0 up.
    fn existing_domains(&mut self) -> Vec<u16> {
        let mut found = Vec::new();
        let mut next: u16 = 0;
        while next < DOMID_FIRST_RESERVED && found.len() < 512 {
            self.arena.bytes_mut()[..DOMCTL_SIZE].fill(0);
            self.arena.put_u32(0, dc::XEN_DOMCTL_GETDOMAININFO);
            self.arena.put_u32(4, dc::XEN_DOMCTL_INTERFACE_VERSION);
            self.arena.put_u16(8, next);
            let args = [self.arena.addr(0), 0, 0, 0, 0];
            if self.pc.hypercall(DOMCTL.op, args) != 0 {
                break;
            }
            let d = self.arena.get_u16(DOMCTL.payload_at);
            if d < next {
                break;
            }
            found.push(d);
            next = d + 1;
        }
        found
    }

    /// Looks up the unprotected domains there are now.
    pub(super) fn refresh_present(&mut self) {
        let all = self.existing_domains();
        self.target.present = all
            .into_iter()
            .filter(|&d| !self.target.is_protected(d))
            .collect();
    }

    pub(super) fn next_control_call(&mut self) -> Option<Call> {
        let envelope = match self.rng.below(100) {
            0..=34 => Some(&DOMCTL),
            35..=49 => Some(&SYSCTL),
            50..=53 => Some(&PLATFORM),
            _ => None,
        };
        if let Some(e) = envelope {
            return Some(self.envelope_call(e));
        }
        let mut call = self.generate();
        match call.op {
            DOMCTL_OP => return Some(self.envelope_call(&DOMCTL)),
            SYSCTL_OP => return Some(self.envelope_call(&SYSCTL)),
            PLATFORM_OP => return Some(self.envelope_call(&PLATFORM)),
            _ => {}
        }
        match control_harm(&call).unwrap_or_else(|| self_harm(&call)) {
            Verdict::Skip => return None,
            Verdict::Make => self.refill(),
            Verdict::MakeForeign => {
                self.refill();
                self.make_foreign(&mut call);
                self.make_foreign_control(&mut call);
            }
        }
        Some(call)
    }

    /// An envelope call (see the module documentation).
    fn envelope_call(&mut self, e: &Envelope) -> Call {
        self.refill();
        let len = self.arena.len();
        // Mostly whole and aligned; now and then running into the guard page.
        let at = if self.rng.chance(90) {
            self.rng.below((len - e.size) as u64) as usize & !7
        } else {
            self.rng.below((len - 8) as u64) as usize
        };
        let cmd = match self.rng.below(10) {
            0..=5 => e.known[self.rng.below(e.known.len() as u64) as usize],
            6..=8 => self.rng.below(e.max_cmd) as u32,
            _ => self.rng.next() as u32,
        };
        let version = match self.rng.below(20) {
            0 => e.version.wrapping_add(1),
            1 => e.version.wrapping_sub(1),
            2 => self.rng.next() as u32,
            _ => e.version,
        };
        self.arena.put_u32(at, cmd);
        self.arena.put_u32(at + 4, version);
        if let Some(d) = e.domain_at {
            self.put_domid(at + d, envelope_domain);
        }
        // An envelope past the buffer's end faults whole when copied in.
        if version == e.version && at + e.size <= len {
            (e.sanitize)(self, at);
        }
        let mut args = [0u64; 5];
        args[0] = if self.rng.chance(97) {
            self.arena.addr(at)
        } else {
            self.target.value(&mut self.rng)
        };
        for a in &mut args[1..] {
            *a = self.target.value(&mut self.rng);
        }
        Call { op: e.op, args }
    }

    /// Foreign ids in the structures only the control domain may aim at
    /// other domains (see [`control_harm`]).
    fn make_foreign_control(&mut self, call: &mut Call) {
        let int_cmd = u64::from(call.args[0] as u32);
        let base = self.offset_of(call.args[1]);
        match (call.op, base) {
            (DM_OP, _) => call.args[0] = u64::from(self.target.foreign(&mut self.rng)),
            (EVENT_CHANNEL_OP, Some(b)) if int_cmd == EVTCHNOP_ALLOC_UNBOUND => {
                self.put_domid(b, Target::foreign);
                self.put_domid(b + 2, Target::foreign);
            }
            (EVENT_CHANNEL_OP, Some(b)) => self.put_domid(b, Target::foreign),
            (MEMORY_OP, Some(b))
                if call.args[0] & MEMOP_CMD_MASK == XENMEM_ADD_TO_PHYSMAP_BATCH =>
            {
                self.put_domid(b + 6, Target::foreign)
            }
            _ => {}
        }
    }

    /// Closes the port a successful bind gave dom0.
    pub(super) fn after_control_call(&mut self, call: &Call, rc: i64) {
        if rc != 0 || call.op != EVENT_CHANNEL_OP {
            return;
        }
        let Some(off) = bound_port_offset(u64::from(call.args[0] as u32)) else {
            return;
        };
        let Some(base) = self.offset_of(call.args[1]) else {
            return;
        };
        if base + off + 4 > self.arena.len() {
            return;
        }
        let port = self.arena.get_u32(base + off);
        self.arena.put_u32(0, port);
        let args = [EVTCHNOP_CLOSE, self.arena.addr(0), 0, 0, 0];
        self.pc.hypercall(EVENT_CHANNEL_OP, args);
    }
}

/// A domctl's target: protected, present or another id, a third each.
fn envelope_domain(t: &Target, rng: &mut Rng) -> u16 {
    match rng.below(3) {
        0 => t.protected[rng.below(t.protected.len() as u64) as usize],
        1 if !t.present.is_empty() => t.present[rng.below(t.present.len() as u64) as usize],
        _ => t.foreign(rng),
    }
}

const DOMCTL_OP: u64 = rxen_xen_abi::hypercall::DOMCTL;
const SYSCTL_OP: u64 = rxen_xen_abi::hypercall::SYSCTL;

#[cfg(test)]
mod tests {
    use super::super::call;
    use super::*;

    #[test]
    fn control_denylist() {
        for (op, cmd) in [
            (KEXEC_OP, 0),
            (PHYSDEV_OP, 0),
            (GRANT_TABLE_OP, GNTTABOP_UNMAP_GRANT_REF),
            (MEMORY_OP, XENMEM_ACQUIRE_RESOURCE | (3 << 6)),
            (HVM_OP, HVMOP_SET_EVTCHN_UPCALL_VECTOR),
        ] {
            assert_eq!(
                control_harm(&call(op, cmd)),
                Some(Verdict::Skip),
                "{op} {cmd:#x}"
            );
        }
        for (op, cmd) in [
            (DM_OP, 1),
            (EVENT_CHANNEL_OP, EVTCHNOP_ALLOC_UNBOUND),
            (EVENT_CHANNEL_OP, EVTCHNOP_BIND_INTERDOMAIN),
            (HVM_OP, HVMOP_GET_PARAM),
        ] {
            assert_eq!(
                control_harm(&call(op, cmd)),
                Some(Verdict::MakeForeign),
                "{op} {cmd:#x}"
            );
        }
        assert_eq!(control_harm(&call(EVENT_CHANNEL_OP, EVTCHNOP_CLOSE)), None);
        assert_eq!(control_harm(&call(XEN_VERSION, 0)), None);
    }

    /// A control fuzzer with dom0, d1 and d2 protected and d7 present, that
    /// makes no calls.
    fn fuzzer() -> Fuzzer {
        let mut f = Fuzzer::new(crate::sys::Privcmd::null(), 11, vec![0, 1, 2], true).unwrap();
        f.target.present = vec![7];
        f
    }

    /// Whatever the generator makes: with the right version, a domctl that
    /// names a protected domain only reads it, and no denied sysctl,
    /// platform_op or domctl goes out; grant maps name no domain there is.
    #[test]
    fn control_calls_spare_the_protected() {
        let mut f = fuzzer();
        let mut envelopes = 0;
        for _ in 0..200_000 {
            let Some(call) = f.next_control_call() else {
                continue;
            };
            let Some(at) = f.offset_of(call.args[0]) else {
                continue;
            };
            let fits = at + DOMCTL_SIZE <= f.arena.len();
            let (cmd, version) = (f.arena.get_u32(at), f.arena.get_u32(at + 4));
            match call.op {
                DOMCTL_OP if fits && version == DOMCTL.version => {
                    envelopes += 1;
                    assert!(!DOMCTL_NEVER.contains(&cmd), "domctl {cmd}");
                    let dom = f.arena.get_u16(at + 8);
                    let sched = cmd == dc::XEN_DOMCTL_SCHEDULER_OP;
                    if f.target.is_protected(dom) && !sched {
                        assert!(DOMCTL_READS.contains(&cmd), "domctl {cmd} on d{dom}");
                    }
                    if cmd == dc::XEN_DOMCTL_MAX_MEM {
                        assert!(f.arena.get_u64(at + 16) <= MAX_MEM_KIB);
                    }
                }
                SYSCTL_OP if fits && version == SYSCTL.version => {
                    let read = SYSCTL_READS.contains(&cmd)
                        || cmd >= 32
                        || cmd == sc::XEN_SYSCTL_CPUPOOL_OP
                        || cmd == sc::XEN_SYSCTL_SCHEDULER_OP;
                    assert!(read, "sysctl {cmd}");
                }
                PLATFORM_OP if fits && version == PLATFORM.version => {
                    assert!(PLATFORM_READS.contains(&cmd), "platform_op {cmd}");
                }
                _ => {}
            }
        }
        assert!(envelopes > 10_000, "{envelopes}");
    }

    #[test]
    fn grant_maps_name_no_domain() {
        let mut f = fuzzer();
        let mut seen = 0;
        for _ in 0..200_000 {
            let Some(call) = f.next_control_call() else {
                continue;
            };
            let cmd = u64::from(call.args[0] as u32) & GNTTABOP_CMD_MASK;
            if call.op != GRANT_TABLE_OP || cmd != GNTTABOP_MAP_GRANT_REF {
                continue;
            }
            let Some(mut at) = f.offset_of(call.args[1]) else {
                continue;
            };
            while at + 18 <= f.arena.len() {
                let d = f.arena.get_u16(at + 16) & 0x7FFF;
                assert!(![0, 1, 2, 7, DOMID_SELF].contains(&d), "d{d}");
                at += GNTTAB_MAP_SIZE;
                seen += 1;
            }
        }
        assert!(seen > 0);
    }

    #[test]
    fn lists_do_not_overlap() {
        for c in DOMCTL_READS {
            assert!(!DOMCTL_NEVER.contains(c), "{c}");
        }
        assert!(SYSCTL_READS.iter().all(|&c| c < 32));
        assert!(!SYSCTL_READS.contains(&sc::XEN_SYSCTL_DEBUG_KEYS));
        assert!(!PLATFORM_READS.contains(&pf::XENPF_SETTIME64));
    }
}
