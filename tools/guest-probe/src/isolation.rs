//! `guest-probe isolation`: hypercalls that try to reach another domain's
//! memory, event channels, grants or life, the hypervisor's memory or
//! console, or privileged operations; and hypercalls whose pointers point
//! where the hypervisor must not (or may not) read or write. Every one must
//! be refused.
//!
//! One line per check, then a summary:
//!
//! ```text
//! RXEN-ISOLATION <name> ok rc=<rc>
//! RXEN-ISOLATION <name> FAIL rc=<rc> [(what happened)]
//! RXEN-ISOLATION-DONE pass=<n> fail=<m>
//! ```
//!
//! "Refused" is a negative result (`-errno`) for most checks; the few
//! operations whose result is a count, or that report per-operation status
//! (grant ops, batches), count as refused when nothing was done. Every
//! argument that would land somewhere if the hypervisor wrongly accepted
//! it points at memory that does not matter: frames beyond the guest's RAM
//! (`OUTSIDE_GFN`) or pages of this process.
//!
//! Pointers into the guest kernel's *mapped* memory (such as
//! 0xffffffff81000000) are not among the checks: hypercalls run at the
//! guest's CPL 0, so Xen reads the guest kernel's memory through them as
//! the kernel's own business. The pointer checks use addresses that are
//! unmapped, non-canonical, read-only or half outside their mapping.

use std::fmt::Write as _;

use crate::gntalloc::GrantAlloc;
use crate::sys::{gfn_of, Arena, Privcmd, PAGE, PROT_READ, PROT_WRITE};
use crate::xen::*;

/// A frame beyond any test guest's RAM (4 GiB): where anything the
/// hypervisor wrongly maps for us lands.
const OUTSIDE_GFN: u64 = 0x10_0000;
/// A guest frame that is RAM in every test domain: what an attack on the
/// other domain aims at.
const VICTIM_GFN: u64 = 0x100;

/// Where the checks put their structures (arena page 0), arrays (page 1),
/// the page a grant copy would write (page 2) and a spare page (page 3).
const S: usize = 0;
const A: usize = PAGE;
const T: usize = 2 * PAGE;
const SPARE: usize = 3;
const PAGES: usize = 4;

/// Fill byte of the copy-target page.
const T_FILL: u8 = 0x5A;

pub(crate) struct Run {
    pc: Privcmd,
    pub(crate) arena: Arena,
    pub(crate) me: u16,
    pub(crate) other: u16,
    pass: u32,
    fail: u32,
}

impl Run {
    pub(crate) fn hc(&self, op: u64, args: [u64; 5]) -> i64 {
        self.pc.hypercall(op, args)
    }

    pub(crate) fn addr(&self, offset: usize) -> u64 {
        self.arena.addr(offset)
    }

    /// Clears the structure and array pages.
    pub(crate) fn clear(&mut self) {
        self.arena.bytes_mut()[..2 * PAGE].fill(0);
    }

    pub(crate) fn record(&mut self, name: &str, rc: i64, refused: bool, detail: &str) {
        let verdict = if refused { "ok" } else { "FAIL" };
        let mut line = format!("RXEN-ISOLATION {name} {verdict} rc={rc}");
        if !detail.is_empty() {
            let _ = write!(line, " ({detail})");
        }
        println!("{line}");
        if refused {
            self.pass += 1;
        } else {
            self.fail += 1;
        }
    }

    /// A check whose refusal is a negative result.
    fn expect_error(&mut self, name: &str, rc: i64) {
        self.record(name, rc, rc < 0, "");
    }

    fn add_to_physmap(&mut self, domid: u16, space: u32, idx: u64) -> i64 {
        self.clear();
        self.arena.put_u16(S, domid);
        self.arena.put_u32(S + 4, space);
        self.arena.put_u64(S + 8, idx);
        self.arena.put_u64(S + 16, OUTSIDE_GFN);
        self.hc(MEMORY_OP, [XENMEM_ADD_TO_PHYSMAP, self.addr(S), 0, 0, 0])
    }

    /// `xen_add_to_physmap_batch` of one frame; refused if the call or its
    /// one per-frame error says so.
    fn add_to_physmap_batch(&mut self, name: &str, domid: u16, space: u16, foreign: u16) {
        self.clear();
        self.arena.put_u16(S, domid);
        self.arena.put_u16(S + 2, space);
        self.arena.put_u16(S + 4, 1);
        self.arena.put_u16(S + 6, foreign);
        self.arena.put_u64(S + 8, self.addr(A));
        self.arena.put_u64(S + 16, self.addr(A + 64));
        self.arena.put_u64(S + 24, self.addr(A + 128));
        self.arena.put_u64(A, VICTIM_GFN);
        self.arena.put_u64(A + 64, OUTSIDE_GFN);
        self.arena.put_u32(A + 128, 0);
        let rc = self.hc(
            MEMORY_OP,
            [XENMEM_ADD_TO_PHYSMAP_BATCH, self.addr(S), 0, 0, 0],
        );
        let err = self.arena.get_u32(A + 128) as i32;
        let detail = if rc >= 0 {
            format!("errs[0]={err}")
        } else {
            String::new()
        };
        self.record(name, rc, rc < 0 || err < 0, &detail);
    }

    /// A reservation op on `domid` for one extent; the result is the number
    /// of extents done, so 0 is a refusal too.
    fn reservation(&mut self, name: &str, cmd: u64, domid: u16, gfn: u64) {
        self.clear();
        self.arena.put_u64(S, self.addr(A));
        self.arena.put_u64(S + 8, 1);
        self.arena.put_u16(S + 24, domid);
        self.arena.put_u64(A, gfn);
        let rc = self.hc(MEMORY_OP, [cmd, self.addr(S), 0, 0, 0]);
        self.record(name, rc, rc < 1, "");
    }

    /// 64 extents of 2 MiB above its RAM, for itself: a domain runs at its
    /// maximum but for a slack smaller than one such extent, so none may be
    /// given, however it asks.
    fn beyond_max(&mut self) {
        const EXTENTS: usize = 64;
        self.clear();
        self.arena.put_u64(S, self.addr(A));
        self.arena.put_u64(S + 8, EXTENTS as u64);
        self.arena.put_u32(S + 16, 9);
        self.arena.put_u16(S + 24, DOMID_SELF);
        for i in 0..EXTENTS {
            self.arena
                .put_u64(A + i * 8, OUTSIDE_GFN + (i as u64) * 512);
        }
        let rc = self.hc(MEMORY_OP, [XENMEM_POPULATE_PHYSMAP, self.addr(S), 0, 0, 0]);
        let detail = format!("extents given {rc} of {EXTENTS}");
        self.record(
            "memop_populate_physmap_of_self_beyond_max",
            rc,
            rc <= 0,
            &detail,
        );
    }

    fn hvm_param(&mut self, name: &str, op: u64, domid: u16, index: u32) {
        self.clear();
        self.arena.put_u16(S, domid);
        self.arena.put_u32(S + 4, index);
        let rc = self.hc(HVM_OP, [op, self.addr(S), 0, 0, 0]);
        self.expect_error(name, rc);
    }

    /// One grant op with a status field at `status_at`, preset to
    /// GNTST_okay (0) so that a hypervisor which says nothing counts as
    /// having done it.
    fn grant_op(&mut self, cmd: u64, status_at: usize) -> (i64, i16) {
        self.arena.put_u16(S + status_at, 0);
        let rc = self.hc(GRANT_TABLE_OP, [cmd, self.addr(S), 1, 0, 0]);
        (rc, self.arena.get_i16(S + status_at))
    }

    /// Maps `gref` of `granter` at OUTSIDE_GFN and, if that worked, unmaps
    /// it again; the map's (rc, status).
    fn map_and_unmap(&mut self, granter: u16, gref: u32) -> (i64, i16) {
        self.clear();
        self.arena.put_u64(S, OUTSIDE_GFN << 12);
        self.arena.put_u32(S + 8, GNTMAP_HOST_MAP);
        self.arena.put_u32(S + 12, gref);
        self.arena.put_u16(S + 16, granter);
        let (rc, status) = self.grant_op(GNTTABOP_MAP_GRANT_REF, 18);
        if rc == 0 && status == 0 {
            let handle = self.arena.get_u32(S + 20);
            self.clear();
            self.arena.put_u64(S, OUTSIDE_GFN << 12);
            self.arena.put_u32(S + 16, handle);
            let _ = self.grant_op(GNTTABOP_UNMAP_GRANT_REF, 20);
        }
        (rc, status)
    }

    /// A grant copy of 64 bytes; `source`/`dest` are (frame or ref, domid).
    fn grant_copy(&mut self, name: &str, source: (u64, u16), dest: (u64, u16), flags: u16) {
        self.clear();
        self.arena.bytes_mut()[T..T + PAGE].fill(T_FILL);
        self.arena.put_u64(S, source.0);
        self.arena.put_u16(S + 8, source.1);
        self.arena.put_u64(S + 16, dest.0);
        self.arena.put_u16(S + 24, dest.1);
        self.arena.put_u16(S + 32, 64);
        self.arena.put_u16(S + 34, flags);
        let (rc, status) = self.grant_op(GNTTABOP_COPY, 36);
        let touched = self.arena.bytes()[T..T + PAGE].iter().any(|&b| b != T_FILL);
        let mut detail = String::new();
        if rc >= 0 {
            detail = format!("status={status}");
        }
        if touched {
            detail.push_str(", our page was overwritten");
        }
        self.record(
            name,
            rc,
            (rc < 0 || status < 0) && !touched,
            detail.trim_start_matches(", "),
        );
    }
}

/// Runs every check; returns (passed, failed).
pub fn run(me: Option<u32>) -> (u32, u32) {
    let pc = match Privcmd::open() {
        Ok(pc) => pc,
        Err(e) => {
            println!(
                "RXEN-ISOLATION privcmd FAIL rc=-{} ({e})",
                e.raw_os_error().unwrap_or(0)
            );
            return (0, 1);
        }
    };
    let arena = match Arena::new(PAGES) {
        Ok(a) => a,
        Err(e) => {
            println!(
                "RXEN-ISOLATION arena FAIL rc=-{} ({e})",
                e.raw_os_error().unwrap_or(0)
            );
            return (0, 1);
        }
    };
    let me = me.and_then(|id| u16::try_from(id).ok()).unwrap_or(1);
    let other = if me == 1 { 2 } else { 1 };
    println!("RXEN-ISOLATION-START self=d{me} other=d{other}");
    let mut r = Run {
        pc,
        arena,
        me,
        other,
        pass: 0,
        fail: 0,
    };
    memory_checks(&mut r);
    hvm_and_event_checks(&mut r);
    grant_checks(&mut r);
    own_grant_checks(&mut r);
    vcpu_sched_and_privileged_checks(&mut r);
    crate::control::checks(&mut r);
    pointer_checks(&mut r);
    println!("RXEN-ISOLATION-DONE pass={} fail={}", r.pass, r.fail);
    (r.pass, r.fail)
}

fn memory_checks(r: &mut Run) {
    let other = r.other;
    let rc = r.add_to_physmap(other, XENMAPSPACE_SHARED_INFO, 0);
    r.expect_error("memop_add_to_physmap_shared_info_of_other", rc);
    let rc = r.add_to_physmap(other, XENMAPSPACE_GRANT_TABLE, 0);
    r.expect_error("memop_add_to_physmap_grant_table_of_other", rc);
    let rc = r.add_to_physmap(other, XENMAPSPACE_GMFN, VICTIM_GFN);
    r.expect_error("memop_add_to_physmap_gmfn_of_other", rc);
    if r.me != 0 {
        let rc = r.add_to_physmap(0, XENMAPSPACE_SHARED_INFO, 0);
        r.expect_error("memop_add_to_physmap_dom0", rc);
    }
    let rc = r.add_to_physmap(DOMID_XEN, XENMAPSPACE_GMFN, 0);
    r.expect_error("memop_add_to_physmap_domid_xen", rc);
    let rc = r.add_to_physmap(DOMID_IO, XENMAPSPACE_GMFN, 0);
    r.expect_error("memop_add_to_physmap_domid_io", rc);
    let rc = r.add_to_physmap(DOMID_SELF, XENMAPSPACE_GMFN_FOREIGN, VICTIM_GFN);
    r.expect_error("memop_add_to_physmap_gmfn_foreign_unbatched", rc);
    r.add_to_physmap_batch(
        "memop_add_to_physmap_batch_gmfn_foreign_of_other",
        DOMID_SELF,
        XENMAPSPACE_GMFN_FOREIGN as u16,
        other,
    );
    r.add_to_physmap_batch(
        "memop_add_to_physmap_batch_gmfn_foreign_of_domid_xen",
        DOMID_SELF,
        XENMAPSPACE_GMFN_FOREIGN as u16,
        DOMID_XEN,
    );
    r.add_to_physmap_batch(
        "memop_add_to_physmap_batch_into_other",
        other,
        XENMAPSPACE_SHARED_INFO as u16,
        0,
    );
    r.reservation(
        "memop_increase_reservation_of_other",
        XENMEM_INCREASE_RESERVATION,
        other,
        OUTSIDE_GFN,
    );
    r.reservation(
        "memop_decrease_reservation_of_other",
        XENMEM_DECREASE_RESERVATION,
        other,
        VICTIM_GFN,
    );
    r.reservation(
        "memop_populate_physmap_of_other",
        XENMEM_POPULATE_PHYSMAP,
        other,
        OUTSIDE_GFN,
    );
    r.reservation(
        "memop_decrease_reservation_of_domid_xen",
        XENMEM_DECREASE_RESERVATION,
        DOMID_XEN,
        VICTIM_GFN,
    );

    r.beyond_max();

    r.clear();
    r.arena.put_u16(S, other);
    r.arena.put_u64(S + 8, VICTIM_GFN);
    let rc = r.hc(MEMORY_OP, [XENMEM_REMOVE_FROM_PHYSMAP, r.addr(S), 0, 0, 0]);
    r.expect_error("memop_remove_from_physmap_of_other", rc);

    r.clear();
    r.arena.put_u32(S, 16);
    r.arena.put_u64(S + 8, r.addr(A));
    let rc = r.hc(MEMORY_OP, [XENMEM_MACHINE_MEMORY_MAP, r.addr(S), 0, 0, 0]);
    r.expect_error("memop_machine_memory_map", rc);

    // Xen answers questions about another domain's memory only to
    // privileged callers (XSM_TARGET).
    for (name, cmd) in [
        (
            "memop_current_reservation_of_other",
            XENMEM_CURRENT_RESERVATION,
        ),
        (
            "memop_maximum_reservation_of_other",
            XENMEM_MAXIMUM_RESERVATION,
        ),
    ] {
        r.clear();
        r.arena.put_u16(S, other);
        let rc = r.hc(MEMORY_OP, [cmd, r.addr(S), 0, 0, 0]);
        r.expect_error(name, rc);
    }

    // acquire_resource: other's grant table frame 0 into our OUTSIDE_GFN.
    r.clear();
    r.arena.put_u16(S, other);
    r.arena.put_u16(S + 2, XENMEM_RESOURCE_GRANT_TABLE);
    r.arena.put_u32(S + 8, 1);
    r.arena.put_u64(S + 24, r.addr(A));
    r.arena.put_u64(A, OUTSIDE_GFN);
    let rc = r.hc(MEMORY_OP, [XENMEM_ACQUIRE_RESOURCE, r.addr(S), 0, 0, 0]);
    r.expect_error("memop_acquire_resource_of_other", rc);
}

fn hvm_and_event_checks(r: &mut Run) {
    let (me, other) = (r.me, r.other);
    r.hvm_param(
        "hvm_get_param_store_pfn_of_other",
        HVMOP_GET_PARAM,
        other,
        HVM_PARAM_STORE_PFN,
    );
    r.hvm_param(
        "hvm_get_param_console_pfn_of_other",
        HVMOP_GET_PARAM,
        other,
        HVM_PARAM_CONSOLE_PFN,
    );
    // Value 0 would be harmless if (wrongly) accepted.
    r.hvm_param(
        "hvm_set_param_callback_of_other",
        HVMOP_SET_PARAM,
        other,
        HVM_PARAM_CALLBACK_IRQ,
    );
    r.hvm_param(
        "hvm_get_param_of_domid_xen",
        HVMOP_GET_PARAM,
        DOMID_XEN,
        HVM_PARAM_STORE_PFN,
    );

    r.clear();
    r.arena.put_u16(S, other);
    r.arena.put_u16(S + 2, me);
    let rc = r.hc(
        EVENT_CHANNEL_OP,
        [EVTCHNOP_ALLOC_UNBOUND, r.addr(S), 0, 0, 0],
    );
    r.expect_error("evtchn_alloc_unbound_in_other", rc);

    // Nothing in the other domain offers us a port: binding to any of its
    // first ports (console, xenstore, its VIRQs and IPIs) must fail.
    let mut worst = i64::MIN;
    for port in 1..=8u32 {
        r.clear();
        r.arena.put_u16(S, other);
        r.arena.put_u32(S + 4, port);
        let rc = r.hc(
            EVENT_CHANNEL_OP,
            [EVTCHNOP_BIND_INTERDOMAIN, r.addr(S), 0, 0, 0],
        );
        worst = worst.max(rc);
    }
    r.expect_error("evtchn_bind_interdomain_to_other_ports_1_to_8", worst);

    r.clear();
    r.arena.put_u16(S, other);
    r.arena.put_u32(S + 4, 1);
    let rc = r.hc(EVENT_CHANNEL_OP, [EVTCHNOP_STATUS, r.addr(S), 0, 0, 0]);
    r.expect_error("evtchn_status_of_other", rc);
}

fn grant_checks(r: &mut Run) {
    let other = r.other;
    // Map the other domain's first grant refs (it granted us nothing).
    let mut refused = true;
    let mut shown = (i64::MIN, 0i16);
    for gref in 0..8u32 {
        r.clear();
        r.arena.put_u64(S, OUTSIDE_GFN << 12);
        r.arena.put_u32(S + 8, GNTMAP_HOST_MAP);
        r.arena.put_u32(S + 12, gref);
        r.arena.put_u16(S + 16, other);
        let (rc, status) = r.grant_op(GNTTABOP_MAP_GRANT_REF, 18);
        let this_refused = rc < 0 || status < 0;
        if !this_refused || shown.0 == i64::MIN {
            shown = (rc, status);
        }
        refused &= this_refused;
    }
    let detail = if shown.0 >= 0 {
        format!("status={}", shown.1)
    } else {
        String::new()
    };
    r.record(
        "gnttab_map_grant_ref_of_other_refs_0_to_7",
        shown.0,
        refused,
        &detail,
    );

    let own = gfn_of(r.addr(T)).unwrap_or(OUTSIDE_GFN);
    r.grant_copy(
        "gnttab_copy_from_other_frame",
        (VICTIM_GFN, other),
        (own, DOMID_SELF),
        0,
    );
    r.grant_copy(
        "gnttab_copy_from_other_grant_ref_0",
        (0, other),
        (own, DOMID_SELF),
        GNTCOPY_SOURCE_GREF,
    );
    r.grant_copy(
        "gnttab_copy_into_other_frame",
        (own, DOMID_SELF),
        (VICTIM_GFN, other),
        0,
    );
    r.grant_copy(
        "gnttab_copy_from_domid_xen",
        (0, DOMID_XEN),
        (own, DOMID_SELF),
        0,
    );

    r.clear();
    r.arena.put_u16(S, other);
    let (rc, status) = r.grant_op(GNTTABOP_QUERY_SIZE, 12);
    let detail = if rc >= 0 {
        format!("status={status}")
    } else {
        String::new()
    };
    r.record(
        "gnttab_query_size_of_other",
        rc,
        rc < 0 || status < 0,
        &detail,
    );

    r.clear();
    r.arena.put_u16(S, other);
    let rc = r.hc(GRANT_TABLE_OP, [GNTTABOP_GET_VERSION, r.addr(S), 1, 0, 0]);
    r.expect_error("gnttab_get_version_of_other", rc);
}

/// Grants of pages of our own, made through gntalloc: one made to us maps
/// (the control: mapping works, so the refusals mean something); one made
/// to the other domain does not, nor the first once revoked.
fn own_grant_checks(r: &mut Run) {
    let grants = GrantAlloc::open().and_then(|ga| Ok((ga.grant(r.me)?, ga.grant(r.other)?, ga)));
    let (mine, theirs, ga) = match grants {
        Ok(g) => g,
        Err(e) => {
            let rc = -i64::from(e.raw_os_error().unwrap_or(0));
            r.record("gntalloc_grants", rc, false, &e.to_string());
            return;
        }
    };
    let (rc, status) = r.map_and_unmap(r.me, mine.gref);
    r.record(
        "gnttab_map_own_grant_to_self_works",
        rc,
        rc == 0 && status == 0,
        &format!("status={status}"),
    );
    let (rc, status) = r.map_and_unmap(r.me, theirs.gref);
    r.record(
        "gnttab_map_own_grant_made_to_other",
        rc,
        rc < 0 || status < 0,
        &format!("status={status}"),
    );
    let revoked = ga.revoke(mine);
    let (rc, status) = r.map_and_unmap(r.me, mine.gref);
    r.record(
        "gnttab_map_revoked_grant",
        rc,
        revoked.is_ok() && (rc < 0 || status < 0),
        &format!("status={status}, revoke {revoked:?}"),
    );
    let _ = ga.revoke(theirs);
}

fn vcpu_sched_and_privileged_checks(r: &mut Run) {
    let other = r.other;
    // vcpu_info in a frame far beyond our RAM (it would be someone
    // else's memory if the frame were taken as a machine address).
    r.clear();
    r.arena.put_u64(S, 0xF_FFFF_FFFF);
    let rc = r.hc(VCPU_OP, [VCPUOP_REGISTER_VCPU_INFO, 0, r.addr(S), 0, 0]);
    r.expect_error("vcpu_register_vcpu_info_outside_ram", rc);

    r.clear();
    let rc = r.hc(VCPU_OP, [VCPUOP_GET_RUNSTATE_INFO, 7, r.addr(S), 0, 0]);
    r.expect_error("vcpu_get_runstate_info_of_vcpu_we_lack", rc);

    r.clear();
    r.arena.put_u16(S, other);
    r.arena.put_u32(S + 4, SHUTDOWN_POWEROFF);
    let rc = r.hc(SCHED_OP, [SCHEDOP_REMOTE_SHUTDOWN, r.addr(S), 0, 0, 0]);
    r.expect_error("sched_remote_shutdown_of_other", rc);

    r.clear();
    r.arena.put_u32(S, XEN_DOMCTL_DESTROYDOMAIN);
    r.arena.put_u32(S + 4, XEN_DOMCTL_INTERFACE_VERSION);
    r.arena.put_u16(S + 8, other);
    let rc = r.hc(DOMCTL, [r.addr(S), 0, 0, 0, 0]);
    r.expect_error("domctl_destroydomain_of_other", rc);

    // sysctl readconsole: the hypervisor's console holds every domain's
    // output.
    r.clear();
    r.arena.put_u32(S, XEN_SYSCTL_READCONSOLE);
    r.arena.put_u32(S + 4, XEN_SYSCTL_INTERFACE_VERSION);
    r.arena.put_u64(S + 16, r.addr(A));
    r.arena.put_u32(S + 24, 256);
    let rc = r.hc(SYSCTL, [r.addr(S), 0, 0, 0, 0]);
    r.expect_error("sysctl_readconsole", rc);

    r.clear();
    r.arena.put_u32(S, XENPF_SETTIME64);
    r.arena.put_u32(S + 4, XENPF_INTERFACE_VERSION);
    let rc = r.hc(PLATFORM_OP, [r.addr(S), 0, 0, 0, 0]);
    r.expect_error("platform_op_settime", rc);

    r.clear();
    let rc = r.hc(DM_OP, [u64::from(other), 0, r.addr(S), 0, 0]);
    r.expect_error("dm_op_on_other", rc);

    // Reading the hypervisor's console: refused, or nothing to read.
    r.clear();
    let rc = r.hc(CONSOLE_IO, [CONSOLEIO_READ, 256, r.addr(A), 0, 0]);
    r.record("console_io_read_gets_nothing", rc, rc <= 0, "");

    r.clear();
    let rc = r.hc(XEN_VERSION, [XENVER_COMMANDLINE, r.addr(A), 0, 0, 0]);
    r.expect_error("xen_version_commandline", rc);
}

fn pointer_checks(r: &mut Run) {
    let rc = r.hc(XEN_VERSION, [XENVER_GET_FEATURES, 0x10, 0, 0, 0]);
    r.expect_error("ptr_null_page", rc);
    // The kernel half's guard hole: never mapped by Linux.
    let rc = r.hc(
        XEN_VERSION,
        [XENVER_EXTRAVERSION, 0xFFFF_8000_0000_0000, 0, 0, 0],
    );
    r.expect_error("ptr_kernel_guard_hole", rc);
    let rc = r.hc(HVM_OP, [HVMOP_GET_PARAM, 0xFFFF_FFFF_FFFF_F000, 0, 0, 0]);
    r.expect_error("ptr_top_page", rc);

    // Our own buffer with bit 63 set: non-canonical, so no address at all.
    r.clear();
    let alias = r.addr(A) | (1 << 63);
    let rc = r.hc(XEN_VERSION, [XENVER_EXTRAVERSION, alias, 0, 0, 0]);
    let written = r.arena.bytes()[A..A + 16].iter().any(|&b| b != 0);
    let detail = if written {
        "written through the non-canonical alias of our buffer"
    } else {
        ""
    };
    r.record("ptr_non_canonical", rc, rc < 0 && !written, detail);

    // A page this process may only read.
    r.arena.bytes_mut()[SPARE * PAGE..].fill(0xEE);
    let ro = r.addr(SPARE * PAGE);
    match r.arena.protect_page(SPARE, PROT_READ) {
        Ok(()) => {
            let rc = r.hc(XEN_VERSION, [XENVER_EXTRAVERSION, ro, 0, 0, 0]);
            let written = r.arena.bytes()[SPARE * PAGE..SPARE * PAGE + 16]
                .iter()
                .any(|&b| b != 0xEE);
            let _ = r.arena.protect_page(SPARE, PROT_READ | PROT_WRITE);
            let detail = if written {
                "wrote into a read-only page"
            } else {
                ""
            };
            r.record("ptr_read_only_page", rc, rc < 0 && !written, detail);
        }
        Err(e) => r.record("ptr_read_only_page", 0, false, &format!("mprotect: {e}")),
    }

    // A 16-byte structure whose second half lies in the guard page.
    let end = r.arena.len();
    r.arena.put_u16(end - 8, DOMID_SELF);
    let rc = r.hc(HVM_OP, [HVMOP_GET_PARAM, r.addr(end - 8), 0, 0, 0]);
    r.expect_error("ptr_struct_into_guard_page", rc);

    r.clear();
    r.arena.put_u32(S, 16);
    r.arena.put_u64(S + 8, 0x10);
    let rc = r.hc(MEMORY_OP, [XENMEM_MEMORY_MAP, r.addr(S), 0, 0, 0]);
    r.expect_error("ptr_memory_map_buffer_null", rc);

    let rc = r.hc(CONSOLE_IO, [CONSOLEIO_WRITE, 16, 0x10, 0, 0]);
    r.expect_error("ptr_console_write_null", rc);

    r.clear();
    r.arena.put_u64(S, 0x10);
    r.arena.put_u32(S + 8, 1);
    r.arena.put_u64(S + 16, 1); // a deadline long past: never blocks
    let rc = r.hc(SCHED_OP, [SCHEDOP_POLL, r.addr(S), 0, 0, 0]);
    r.expect_error("ptr_poll_ports_null", rc);

    let rc = r.hc(
        GRANT_TABLE_OP,
        [GNTTABOP_QUERY_SIZE, 0xFFFF_8000_0000_1000, 1, 0, 0],
    );
    r.expect_error("ptr_grant_query_size_guard_hole", rc);
}
