//! The control interface from a domU: every domctl and sysctl sub-op the
//! toolstack uses, and the memory, event-channel, HVM-parameter and grant
//! operations that act on another domain, must be refused with exactly
//! Xen's `-EPERM` (a domctl naming a domain that does not exist gets
//! `-ESRCH` first, a wrong interface version `-EACCES` first, as on Xen).
//!
//! ```text
//! RXEN-ISOLATION control_<name> ok rc=-1
//! ```
//!
//! They run inside `guest-probe isolation` and count in its summary.

use crate::xen::*;

/// domctl sub-ops of Xen 4.17's toolstack (createdomain ... paging pool).
const DOMCTLS: &[(u32, &str)] = &[
    (1, "createdomain"),
    (2, "destroydomain"),
    (3, "pausedomain"),
    (4, "unpausedomain"),
    (5, "getdomaininfo"),
    (9, "setvcpuaffinity"),
    (10, "shadow_op"),
    (11, "max_mem"),
    (14, "getvcpuinfo"),
    (15, "max_vcpus"),
    (16, "scheduler_op"),
    (17, "setdomainhandle"),
    (24, "settimeoffset"),
    (25, "getvcpuaffinity"),
    (33, "gethvmcontext"),
    (34, "sethvmcontext"),
    (60, "settscinfo"),
    (68, "setnodeaffinity"),
    (83, "set_cpu_policy"),
    (86, "set_paging_mempool_size"),
];

/// sysctl sub-ops the toolstack uses.
const SYSCTLS: &[(u32, &str)] = &[
    (1, "readconsole"),
    (3, "physinfo"),
    (4, "sched_id"),
    (6, "getdomaininfolist"),
    (9, "debug_keys"),
    (16, "cputopoinfo"),
    (17, "numainfo"),
    (18, "cpupool_op"),
    (19, "scheduler_op"),
    (26, "get_cpu_featureset"),
    (29, "get_cpu_policy"),
];

const EPERM: i64 = -1;
const ESRCH: i64 = -3;
const EACCES: i64 = -13;
const EBUSY: i64 = -16;

impl super::isolation::Run {
    fn expect_rc(&mut self, name: &str, rc: i64, wanted: i64) {
        let detail = if rc == wanted {
            String::new()
        } else {
            format!("wanted {wanted}")
        };
        self.record(&format!("control_{name}"), rc, rc == wanted, &detail);
    }

    fn domctl(&mut self, cmd: u32, version: u32, domain: u16) -> i64 {
        self.clear();
        self.arena.put_u32(0, cmd);
        self.arena.put_u32(4, version);
        self.arena.put_u16(8, domain);
        self.hc(DOMCTL, [self.addr(0), 0, 0, 0, 0])
    }

    fn sysctl(&mut self, cmd: u32, version: u32) -> i64 {
        self.clear();
        self.arena.put_u32(0, cmd);
        self.arena.put_u32(4, version);
        self.hc(SYSCTL, [self.addr(0), 0, 0, 0, 0])
    }
}

impl super::isolation::Run {
    /// Whether domain `id` exists, as a domU can tell: naming it in an
    /// XSM_TARGET operation is refused with -EPERM if it does, -ESRCH if not.
    fn domain_exists(&mut self, id: u16) -> bool {
        self.clear();
        self.arena.put_u16(0, id);
        self.arena.put_u32(4, 1);
        self.hc(EVENT_CHANNEL_OP, [5, self.addr(0), 0, 0, 0]) == EPERM
    }

    fn dom0_exists(&mut self) -> bool {
        self.domain_exists(0)
    }
}

/// The checks.
pub fn checks(r: &mut super::isolation::Run) {
    let me = r.me;
    for &(cmd, name) in DOMCTLS {
        // On itself and on dom0: refused, whether or not the sub-op takes
        // a domain.
        let rc = r.domctl(cmd, XEN_DOMCTL_INTERFACE_VERSION, me);
        r.expect_rc(&format!("domctl_{name}_self"), rc, EPERM);
        let rc = r.domctl(cmd, XEN_DOMCTL_INTERFACE_VERSION, 0);
        let wanted = if cmd == 1 || cmd == 5 || r.dom0_exists() {
            EPERM
        } else {
            ESRCH
        };
        r.expect_rc(&format!("domctl_{name}_dom0"), rc, wanted);
    }
    // A domain that does not exist is looked up before the privilege check.
    let rc = r.domctl(3, XEN_DOMCTL_INTERFACE_VERSION, 0x7000);
    r.expect_rc("domctl_pausedomain_nonexistent", rc, ESRCH);
    let rc = r.domctl(3, 0x14, me);
    r.expect_rc("domctl_wrong_version", rc, EACCES);
    for &(cmd, name) in SYSCTLS {
        let rc = r.sysctl(cmd, XEN_SYSCTL_INTERFACE_VERSION);
        r.expect_rc(&format!("sysctl_{name}"), rc, EPERM);
    }
    let rc = r.sysctl(3, 0x16);
    r.expect_rc("sysctl_wrong_version", rc, EACCES);
    cross_domain_checks(r);
}

/// Operations on another domain's memory, ports and parameters.
fn cross_domain_checks(r: &mut super::isolation::Run) {
    let target = if r.dom0_exists() { 0 } else { r.other };
    let refused = if r.domain_exists(target) {
        EPERM
    } else {
        ESRCH
    };
    // populate_physmap of one page into the target.
    r.clear();
    r.arena.put_u64(0, r.addr(4096));
    r.arena.put_u64(8, 1);
    r.arena.put_u16(24, target);
    r.arena.put_u64(4096, 0x80000);
    let rc = r.hc(MEMORY_OP, [6, r.addr(0), 0, 0, 0]);
    r.expect_rc("memop_populate_physmap_of_other", rc, refused);
    // claim_pages, even for itself, is the toolstack's.
    r.clear();
    r.arena.put_u64(8, 1);
    r.arena.put_u16(24, 0x7FF0);
    let rc = r.hc(MEMORY_OP, [24, r.addr(0), 0, 0, 0]);
    r.expect_rc("memop_claim_pages", rc, EPERM);
    // set_memory_map of the target.
    r.clear();
    r.arena.put_u16(0, target);
    let rc = r.hc(MEMORY_OP, [13, r.addr(0), 0, 0, 0]);
    r.expect_rc("memop_set_memory_map_of_other", rc, refused);
    // maximum_gpfn of the target.
    r.clear();
    r.arena.put_u16(0, target);
    let rc = r.hc(MEMORY_OP, [14, r.addr(0), 0, 0, 0]);
    r.expect_rc("memop_maximum_gpfn_of_other", rc, refused);
    // alloc_unbound in the target and status of its ports.
    r.clear();
    r.arena.put_u16(0, target);
    let rc = r.hc(EVENT_CHANNEL_OP, [6, r.addr(0), 0, 0, 0]);
    r.expect_rc("evtchn_alloc_unbound_in_other", rc, refused);
    r.clear();
    r.arena.put_u16(0, target);
    r.arena.put_u32(4, 1);
    let rc = r.hc(EVENT_CHANNEL_OP, [5, r.addr(0), 0, 0, 0]);
    r.expect_rc("evtchn_status_of_other", rc, refused);
    // VIRQ_DOM_EXC belongs to the control domain.
    r.clear();
    r.arena.put_u32(0, 3);
    let rc = r.hc(EVENT_CHANNEL_OP, [1, r.addr(0), 0, 0, 0]);
    r.expect_rc("evtchn_bind_virq_dom_exc", rc, EBUSY);
    // set and get of another domain's HVM parameters.
    for (op, name) in [(0u64, "set"), (1, "get")] {
        r.clear();
        r.arena.put_u16(0, target);
        r.arena.put_u32(4, 1);
        let rc = r.hc(HVM_OP, [op, r.addr(0), 0, 0, 0]);
        r.expect_rc(&format!("hvm_{name}_param_of_other"), rc, refused);
    }
    // Another domain's grant frames through acquire_resource.
    r.clear();
    r.arena.put_u16(0, target);
    r.arena.put_u16(2, 1);
    r.arena.put_u32(8, 1);
    r.arena.put_u64(24, r.addr(4096));
    let rc = r.hc(MEMORY_OP, [28, r.addr(0), 0, 0, 0]);
    r.expect_rc("memop_acquire_resource_grant_table_of_other", rc, refused);
    // platform_op (the wall clock).
    r.clear();
    r.arena.put_u32(0, 62);
    r.arena.put_u32(4, 0x0300_0001);
    let rc = r.hc(PLATFORM_OP, [r.addr(0), 0, 0, 0, 0]);
    r.expect_rc("platform_op_settime64", rc, EPERM);
}
