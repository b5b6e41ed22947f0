//! `guest-probe fuzz`: a hypercall fuzzer.
//!
//! Random hypercall numbers (0..64, biased toward the ones rxen
//! implements), random sub-operations (mostly 0..32) and random arguments:
//! 0, small integers, domain ids, boundary values, shaped random 64-bit
//! values, pointers into a buffer of random words (which itself holds such
//! values and pointers, so that nested structures and arrays get random
//! contents too) and garbage pointers.
//!
//! # What the fuzzer must not do to itself
//!
//! The point is to show that nothing a guest passes can hurt the hypervisor
//! or another domain, so the fuzzing domain has to live through its own run.
//! Calls that are *legal* and harm the caller are filtered out (the
//! denylist, [`self_harm`]), or aimed at another domain:
//!
//! * sched_op shutdown, block, poll, remote_shutdown, shutdown_code,
//!   watchdog, pin_override (would stop, stall, or later kill the domain)
//!   and the old sched_op_compat (the same through the legacy number);
//! * vcpu_op initialise, up, down, register_runstate_memory_area,
//!   set/stop periodic and single-shot timers, register_vcpu_info, send_nmi,
//!   register_vcpu_time_memory_area (would stop vCPUs, kill the kernel's
//!   timer, or make the hypervisor write into arbitrary kernel memory);
//!   set_timer_op (the kernel's timer again);
//! * event_channel_op close, bind_vcpu, unmask, reset, init_control (FIFO
//!   ABI switch), expand_array, reset_cont (would take the kernel's console,
//!   timer and IPI ports away or break event delivery) and the old
//!   event_channel_op_compat (the same inside a structure); send stays:
//!   a spurious event is harmless;
//! * memory_op calls that change a physmap (increase/decrease reservation,
//!   populate_physmap, add_to_physmap(_batch), exchange, remove_from_physmap,
//!   set_memory_map, claim_pages, acquire_resource) get a *foreign* domain id
//!   written into their structure (the attempt is the test); set_pod_target,
//!   paging, access and sharing ops are skipped;
//! * hvm_op set_param gets a foreign domain id; set_mem_type,
//!   set_mem_access, set_evtchn_upcall_vector and altp2m are skipped;
//! * grant_table_op map_grant_ref and copy get foreign domain ids in every
//!   entry (mapping or copying over our own RAM would be legal);
//!   transfer, unmap_and_replace, set_version (a v2 switch breaks the
//!   kernel's grants) and swap_grant_ref are skipped;
//! * multicall (would smuggle any of the above past this filter), the
//!   physdev ops that register a frame the hypervisor then writes
//!   (pirq_eoi_gmfn v1/v2) and the legacy physdev_op_compat, argo (rings
//!   the hypervisor writes into), xenpmu (a PMU page it writes into);
//! * console_io write either writes nothing (count 0) or reads from an
//!   unmapped address (the log must stay readable: rxen prints a guest
//!   line with bytes that are not UTF-8 as `<non-UTF-8 output>`, which would
//!   swallow the fuzzer's own progress lines).
//!
//! Sub-operations are compared as the hypervisor decodes them (memory_op
//! `& 0x3F`, hvm_op `& 0xFF`, grant_table_op `& 0xFFF` of 32 bits, the
//! rest as 32-bit `int`s), so high garbage bits do not sneak a denied
//! call through.
//!
//! # Pointers
//!
//! Hypercalls run at the guest's CPL 0, so a pointer into the guest
//! kernel's mapped memory would let the hypervisor (legally) overwrite the
//! kernel. Every value the fuzzer produces is therefore shaped so that, as
//! an address, it is either in the fuzzer's buffer or in memory nobody maps:
//! the first 64 KiB (below `mmap_min_addr`), the kernel half's guard hole
//! (0xffff8000_00000000 + 8 TiB), the top page, or non-canonical forms of
//! those (bits 63..48 random) — including as seen by a hypervisor that
//! ignores bits 63..48. The buffer sits between two inaccessible guard
//! pages, so whatever runs past its ends faults.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

pub mod control;

use crate::sys::{Arena, Privcmd};
use crate::xen::*;

/// Pages of the fuzzer's buffer.
const PAGES: usize = 2;
/// Progress line every this many calls.
const PROGRESS_EVERY: u64 = 10_000;

/// xorshift64*: small, fast, good enough to pick hypercalls.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        // Never zero (xorshift's fixed point); mix the seed a little.
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0; the bias is irrelevant here).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Hypercalls rxen implements, which get most of the calls.
const IMPLEMENTED: &[u64] = &[
    XEN_VERSION,
    MEMORY_OP,
    HVM_OP,
    VCPU_OP,
    EVENT_CHANNEL_OP,
    SCHED_OP,
    GRANT_TABLE_OP,
    CONSOLE_IO,
    VM_ASSIST,
    SET_TIMER_OP,
];

/// Domain ids worth trying (DOMID_SELF and the caller's own id are added
/// at run time).
const DOMIDS: &[u16] = &[
    0,
    1,
    2,
    3,
    4,
    DOMID_IO,
    DOMID_XEN,
    DOMID_COW,
    DOMID_INVALID,
    DOMID_ANY,
    DOMID_IDLE,
    0x7FEF,
    0x8000,
    0xFFFF,
];

/// Shapes a random 64-bit value so that, taken as an address, it is
/// unmapped (see the module documentation); bits 63..48 and 15..0 stay
/// random, and so, for the guard-hole form, do bits 42..16.
fn shape_random(rng: &mut Rng) -> u64 {
    let v = rng.next();
    if rng.chance(50) {
        // Bits 47..16 clear: an address in the first 64 KiB.
        v & 0xFFFF_0000_0000_FFFF
    } else {
        // Bits 47..43 = 0b10000: the kernel half's guard hole.
        (v & 0xFFFF_07FF_FFFF_FFFF) | 0x0000_8000_0000_0000
    }
}

/// Whom the fuzzer may hurt, and its buffer's address.
pub(crate) struct Target {
    /// Domains no harmful call may name: the caller itself (a guest), or
    /// every domain that existed when the control domain's run began.
    protected: Vec<u16>,
    /// Other domains that exist now (the control domain's run refreshes
    /// them): fair game, as are ids that name no domain.
    present: Vec<u16>,
    /// Run from the control domain (see [`control`]).
    control: bool,
    buf: u64,
    len: usize,
}

impl Target {
    /// Whether `d` names a protected domain (bits 15 ignored, as a
    /// hypervisor that masks them would).
    fn is_protected(&self, d: u16) -> bool {
        let d = d & 0x7FFF;
        d == DOMID_SELF || self.protected.contains(&d)
    }

    /// A foreign domain id: never DOMID_SELF or a protected domain.
    fn foreign(&self, rng: &mut Rng) -> u16 {
        loop {
            let d = if !self.present.is_empty() && rng.chance(30) {
                self.present[rng.below(self.present.len() as u64) as usize]
            } else if rng.chance(70) {
                DOMIDS[rng.below(DOMIDS.len() as u64) as usize]
            } else {
                rng.next() as u16
            };
            if !self.is_protected(d) {
                return d;
            }
        }
    }

    /// An id that names no domain at all.
    fn absent(&self, rng: &mut Rng) -> u16 {
        loop {
            let d = self.foreign(rng);
            if !self.present.contains(&(d & 0x7FFF)) {
                return d;
            }
        }
    }

    fn domid(&self, rng: &mut Rng) -> u16 {
        match rng.below(10) {
            0 | 1 => DOMID_SELF,
            2 => self.protected[rng.below(self.protected.len() as u64) as usize],
            _ => self.foreign(rng),
        }
    }

    /// A pointer into the buffer (8-aligned most of the time).
    fn pointer(&self, rng: &mut Rng) -> u64 {
        let mut off = rng.below(self.len as u64);
        if rng.chance(85) {
            off &= !7;
        }
        self.buf + off
    }

    /// One argument or buffer word.
    fn value(&self, rng: &mut Rng) -> u64 {
        match rng.below(100) {
            0..=9 => 0,
            10..=29 => rng.below(17),
            30..=44 => u64::from(self.domid(rng)),
            45..=54 => {
                // Powers of two (and one less) below 2^16 or from 2^47 up;
                // the ones between would be user addresses that might be
                // this process's.
                let k = match rng.below(34) {
                    k @ 0..=16 => k,
                    k => k + 30,
                };
                let p = if k == 64 { 0 } else { 1u64 << k };
                match rng.below(3) {
                    0 => p,
                    1 => p.wrapping_sub(1),
                    _ => [0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF][rng.below(3) as usize],
                }
            }
            55..=69 => shape_random(rng),
            70..=89 => self.pointer(rng),
            _ => match rng.below(4) {
                0 => rng.below(0x1_0000),
                1 => 0xFFFF_8000_0000_0000 + (rng.next() & 0x7FF_FFFF_FFFF),
                2 => 0xFFFF_FFFF_FFFF_F000 + rng.below(0x1000),
                _ => (rng.next() & 0xFFFF_0000_0000_0000) | rng.below(0x1_0000),
            },
        }
    }
}

/// One hypercall as the fuzzer generated it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Call {
    pub op: u64,
    pub args: [u64; 5],
}

/// What to do with a generated call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Make,
    /// Make it after writing foreign domain ids into its structures.
    MakeForeign,
    Skip,
}

/// The denylist (see the module documentation).
pub fn self_harm(call: &Call) -> Verdict {
    let cmd = call.args[0];
    let int_cmd = u64::from(cmd as u32);
    match call.op {
        SET_TIMER_OP
        | MULTICALL
        | SCHED_OP_COMPAT
        | EVENT_CHANNEL_OP_COMPAT
        | PHYSDEV_OP_COMPAT
        | ARGO_OP
        | XENPMU_OP => Verdict::Skip,
        SCHED_OP => match int_cmd {
            SCHEDOP_BLOCK
            | SCHEDOP_SHUTDOWN
            | SCHEDOP_POLL
            | SCHEDOP_REMOTE_SHUTDOWN
            | SCHEDOP_SHUTDOWN_CODE
            | SCHEDOP_WATCHDOG
            | SCHEDOP_PIN_OVERRIDE => Verdict::Skip,
            _ => Verdict::Make,
        },
        VCPU_OP => match int_cmd {
            VCPUOP_INITIALISE
            | VCPUOP_UP
            | VCPUOP_DOWN
            | VCPUOP_REGISTER_RUNSTATE_MEMORY_AREA
            | VCPUOP_SET_PERIODIC_TIMER
            | VCPUOP_STOP_PERIODIC_TIMER
            | VCPUOP_SET_SINGLESHOT_TIMER
            | VCPUOP_STOP_SINGLESHOT_TIMER
            | VCPUOP_REGISTER_VCPU_INFO
            | VCPUOP_SEND_NMI
            | VCPUOP_REGISTER_VCPU_TIME_MEMORY_AREA => Verdict::Skip,
            _ => Verdict::Make,
        },
        EVENT_CHANNEL_OP => match int_cmd {
            EVTCHNOP_CLOSE
            | EVTCHNOP_BIND_VCPU
            | EVTCHNOP_UNMASK
            | EVTCHNOP_RESET
            | EVTCHNOP_INIT_CONTROL
            | EVTCHNOP_EXPAND_ARRAY
            | EVTCHNOP_RESET_CONT => Verdict::Skip,
            _ => Verdict::Make,
        },
        MEMORY_OP => match cmd & MEMOP_CMD_MASK {
            XENMEM_SET_POD_TARGET | XENMEM_PAGING_OP | XENMEM_ACCESS_OP | XENMEM_SHARING_OP => {
                Verdict::Skip
            }
            c if memop_domid_offsets(c).is_some() => Verdict::MakeForeign,
            _ => Verdict::Make,
        },
        HVM_OP => match cmd & HVMOP_CMD_MASK {
            HVMOP_SET_PARAM => Verdict::MakeForeign,
            HVMOP_SET_MEM_TYPE
            | HVMOP_SET_MEM_ACCESS
            | HVMOP_SET_EVTCHN_UPCALL_VECTOR
            | HVMOP_ALTP2M => Verdict::Skip,
            _ => Verdict::Make,
        },
        GRANT_TABLE_OP => match int_cmd & GNTTABOP_CMD_MASK {
            GNTTABOP_MAP_GRANT_REF | GNTTABOP_COPY => Verdict::MakeForeign,
            GNTTABOP_TRANSFER
            | GNTTABOP_UNMAP_AND_REPLACE
            | GNTTABOP_SET_VERSION
            | GNTTABOP_SWAP_GRANT_REF => Verdict::Skip,
            _ => Verdict::Make,
        },
        PHYSDEV_OP => match int_cmd {
            PHYSDEVOP_PIRQ_EOI_GMFN_V1 | PHYSDEVOP_PIRQ_EOI_GMFN_V2 => Verdict::Skip,
            _ => Verdict::Make,
        },
        CONSOLE_IO if int_cmd == CONSOLEIO_WRITE => Verdict::MakeForeign,
        _ => Verdict::Make,
    }
}

/// Where the domain ids sit in a physmap-changing memory_op's structure.
fn memop_domid_offsets(subop: u64) -> Option<&'static [usize]> {
    match subop {
        XENMEM_INCREASE_RESERVATION
        | XENMEM_DECREASE_RESERVATION
        | XENMEM_POPULATE_PHYSMAP
        | XENMEM_CLAIM_PAGES => Some(&[24]),
        // xen_memory_exchange: in.domid, out.domid.
        XENMEM_EXCHANGE => Some(&[24, 56]),
        XENMEM_ADD_TO_PHYSMAP
        | XENMEM_ADD_TO_PHYSMAP_BATCH
        | XENMEM_REMOVE_FROM_PHYSMAP
        | XENMEM_SET_MEMORY_MAP
        | XENMEM_ACQUIRE_RESOURCE => Some(&[0]),
        _ => None,
    }
}

/// Counts per hypercall number.
#[derive(Default)]
struct PerOp {
    calls: u64,
    ok: u64,
}

/// The fuzzer's result.
pub struct Summary {
    pub calls: u64,
    pub errors: u64,
    pub ok: u64,
    pub skipped: u64,
    /// Results that are neither a success nor one of Xen's error codes.
    pub odd: u64,
}

/// Odd results printed in full; the rest are only counted.
const ODD_SHOWN: u64 = 10;

pub struct Fuzzer {
    pc: Privcmd,
    arena: Arena,
    rng: Rng,
    target: Target,
    /// Prefix of the progress lines (`RXEN-FUZZ`, `RXEN-CFUZZ`).
    tag: &'static str,
}

impl Fuzzer {
    /// The fuzzer of guest `me`: every other domain is a target.
    pub fn guest(pc: Privcmd, seed: u64, me: u16) -> std::io::Result<Self> {
        Self::new(pc, seed, vec![me], false)
    }

    fn new(pc: Privcmd, seed: u64, protected: Vec<u16>, control: bool) -> std::io::Result<Self> {
        let arena = Arena::new(PAGES)?;
        let target = Target {
            protected,
            present: Vec::new(),
            control,
            buf: arena.addr(0),
            len: arena.len(),
        };
        Ok(Self {
            pc,
            arena,
            rng: Rng::new(seed),
            target,
            tag: if control { "RXEN-CFUZZ" } else { "RXEN-FUZZ" },
        })
    }

    /// Refills the buffer with random words.
    fn refill(&mut self) {
        let words = self.arena.len() / 8;
        for i in 0..words {
            let v = self.target.value(&mut self.rng);
            self.arena.put_u64(i * 8, v);
        }
    }

    fn generate(&mut self) -> Call {
        let rng = &mut self.rng;
        let op = if rng.chance(75) {
            IMPLEMENTED[rng.below(IMPLEMENTED.len() as u64) as usize]
        } else {
            rng.below(64)
        };
        let mut args = [0u64; 5];
        args[0] = match rng.below(10) {
            0..=7 => rng.below(32),
            8 => rng.below(8),
            _ => self.target.value(rng),
        };
        for a in &mut args[1..] {
            *a = self.target.value(rng);
        }
        Call { op, args }
    }

    /// The next call to make, or `None` when the denylist skips it.
    fn next_call(&mut self) -> Option<Call> {
        if self.target.control {
            return self.next_control_call();
        }
        let mut call = self.generate();
        match self_harm(&call) {
            Verdict::Skip => return None,
            Verdict::Make => self.refill(),
            Verdict::MakeForeign => {
                self.refill();
                self.make_foreign(&mut call);
            }
        }
        Some(call)
    }

    /// The buffer offset of `p`, if it points into the buffer.
    fn offset_of(&self, p: u64) -> Option<usize> {
        let t = &self.target;
        (p >= t.buf && p < t.buf + t.len as u64).then(|| (p - t.buf) as usize)
    }

    /// Writes a domain id chosen by `pick` at buffer offset `at`, if it fits.
    fn put_domid(&mut self, at: usize, pick: fn(&Target, &mut Rng) -> u16) {
        if at + 2 <= self.arena.len() {
            let d = pick(&self.target, &mut self.rng);
            self.arena.put_u16(at, d);
        }
    }

    /// Writes foreign domain ids into what `call` points at (see
    /// [`Verdict::MakeForeign`]).
    fn make_foreign(&mut self, call: &mut Call) {
        let len = self.arena.len();
        let base = self.offset_of(call.args[1]);
        match call.op {
            MEMORY_OP => {
                let offsets = memop_domid_offsets(call.args[0] & MEMOP_CMD_MASK).unwrap_or(&[]);
                if let Some(base) = base {
                    for &o in offsets {
                        self.put_domid(base + o, Target::foreign);
                    }
                }
            }
            HVM_OP => {
                if let Some(base) = base {
                    self.put_domid(base, Target::foreign);
                }
            }
            GRANT_TABLE_OP => {
                // Every entry the count covers that lies in the buffer. From
                // the control domain the ids name no domain at all: every
                // domain grants it its console and XenStore pages, and a
                // mapping over its own RAM would be legal.
                let (stride, fields): (usize, &[usize]) =
                    if u64::from(call.args[0] as u32) & GNTTABOP_CMD_MASK == GNTTABOP_COPY {
                        (GNTTAB_COPY_SIZE, &[8, 24])
                    } else {
                        (GNTTAB_MAP_SIZE, &[16])
                    };
                let pick = if self.target.control {
                    Target::absent
                } else {
                    Target::foreign
                };
                if let Some(mut at) = base {
                    while at < len {
                        for &f in fields {
                            self.put_domid(at + f, pick);
                        }
                        at += stride;
                    }
                }
            }
            CONSOLE_IO => {
                if self.rng.chance(50) {
                    call.args[1] = 0;
                } else {
                    call.args[1] = 1 + self.rng.below(8192);
                    call.args[2] = self.rng.below(0x1_0000);
                }
            }
            _ => {}
        }
    }

    /// Fuzzes for up to `seconds` or `max_calls` calls.
    pub fn run(&mut self, seconds: u64, max_calls: u64) -> Summary {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let mut per_op: BTreeMap<u64, PerOp> = BTreeMap::new();
        let mut s = Summary {
            calls: 0,
            errors: 0,
            ok: 0,
            skipped: 0,
            odd: 0,
        };
        while s.calls < max_calls {
            if s.calls.is_multiple_of(256) && Instant::now() >= deadline {
                break;
            }
            if self.target.control && (s.calls + s.skipped).is_multiple_of(control::REFRESH_EVERY) {
                self.refresh_present();
            }
            let Some(call) = self.next_call() else {
                s.skipped += 1;
                continue;
            };
            let rc = self.pc.hypercall(call.op, call.args);
            if self.target.control {
                self.after_control_call(&call, rc);
            }
            self.count(&mut s, &mut per_op, &call, rc);
        }
        // hypercall:succeeded/made, a few per line (rxen splits long lines).
        let per_op: Vec<String> = per_op
            .iter()
            .map(|(op, c)| format!("{op}:{}/{}", c.ok, c.calls))
            .collect();
        for chunk in per_op.chunks(16) {
            println!("{} per-op {}", self.tag, chunk.join(" "));
        }
        s
    }

    fn count(&self, s: &mut Summary, per_op: &mut BTreeMap<u64, PerOp>, call: &Call, rc: i64) {
        s.calls += 1;
        let entry = per_op.entry(call.op).or_default();
        entry.calls += 1;
        if is_error(rc) && !echoes_start_extent(call, rc) {
            s.errors += 1;
            if !is_xen_error(rc) {
                s.odd += 1;
                if s.odd <= ODD_SHOWN {
                    println!(
                        "{} odd rc={rc} op={} args={:#x?}",
                        self.tag, call.op, call.args
                    );
                }
            }
        } else {
            s.ok += 1;
            entry.ok += 1;
        }
        if s.calls.is_multiple_of(PROGRESS_EVERY) {
            println!(
                "{} progress calls={} errors={} ok={} odd={}",
                self.tag, s.calls, s.errors, s.ok, s.odd
            );
        }
    }
}

/// Whether a result is an error: -4095..=-1. The ioctl's result is an
/// `int` in Linux's system call, so a large positive result (memory_op's
/// continuation point, for one) comes back cut to 32 bits and sign-extended:
/// below -4095, that is a success.
fn is_error(rc: i64) -> bool {
    (-4095..0).contains(&rc)
}

/// Whether `rc` is memory_op's continuation point echoed back, cut to 32
/// bits by the ioctl: a reservation op with nothing left to do returns its
/// start extent (`cmd >> 6`), on Xen as on rxen, and one whose low 32 bits
/// fall in -4095..-1 is indistinguishable from an error code otherwise.
fn echoes_start_extent(call: &Call, rc: i64) -> bool {
    call.op == MEMORY_OP && i64::from((call.args[0] >> 6) as u32 as i32) == rc
}

/// Whether an error is one of Xen's error codes (`errno.h`).
fn is_xen_error(rc: i64) -> bool {
    rxen_xen_abi::errno::Errno::from_rax(rc as u64).is_some_and(|e| e.name() != "E?")
}

/// A call with sub-op `cmd` and no other arguments, for the denylists' tests.
#[cfg(test)]
fn call(op: u64, cmd: u64) -> Call {
    Call {
        op,
        args: [cmd, 0, 0, 0, 0],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denylist() {
        for (op, cmd) in [
            (SCHED_OP, SCHEDOP_SHUTDOWN),
            (SCHED_OP, SCHEDOP_SHUTDOWN | 0x1_0000_0000),
            (SCHED_OP, SCHEDOP_BLOCK),
            (SCHED_OP, SCHEDOP_POLL),
            (SCHED_OP, SCHEDOP_REMOTE_SHUTDOWN),
            (EVENT_CHANNEL_OP, EVTCHNOP_CLOSE),
            (EVENT_CHANNEL_OP, EVTCHNOP_INIT_CONTROL),
            (VCPU_OP, VCPUOP_SET_SINGLESHOT_TIMER),
            (VCPU_OP, VCPUOP_DOWN),
            (SET_TIMER_OP, 0),
            (MULTICALL, 0),
            (HVM_OP, HVMOP_SET_EVTCHN_UPCALL_VECTOR | 0x100),
            (GRANT_TABLE_OP, GNTTABOP_SET_VERSION),
        ] {
            assert_eq!(self_harm(&call(op, cmd)), Verdict::Skip, "{op} {cmd:#x}");
        }
        for (op, cmd) in [
            (MEMORY_OP, XENMEM_ADD_TO_PHYSMAP),
            (MEMORY_OP, XENMEM_DECREASE_RESERVATION | (5 << 6)),
            (HVM_OP, HVMOP_SET_PARAM),
            (GRANT_TABLE_OP, GNTTABOP_COPY),
            (CONSOLE_IO, CONSOLEIO_WRITE),
        ] {
            assert_eq!(
                self_harm(&call(op, cmd)),
                Verdict::MakeForeign,
                "{op} {cmd:#x}"
            );
        }
        for (op, cmd) in [
            (SCHED_OP, SCHEDOP_YIELD),
            (EVENT_CHANNEL_OP, 4),
            (MEMORY_OP, XENMEM_MEMORY_MAP),
            (HVM_OP, HVMOP_GET_PARAM),
            (XEN_VERSION, 0),
            (DOMCTL, 0),
        ] {
            assert_eq!(self_harm(&call(op, cmd)), Verdict::Make, "{op} {cmd:#x}");
        }
    }

    #[test]
    fn foreign_ids_are_never_self() {
        let t = Target {
            protected: vec![1],
            present: Vec::new(),
            control: false,
            buf: 0x7000_0000,
            len: 8192,
        };
        let mut rng = Rng::new(7);
        for _ in 0..100_000 {
            let d = t.foreign(&mut rng) & 0x7FFF;
            assert!(d != 1 && d != DOMID_SELF);
        }
    }

    /// No value the fuzzer makes is, as an address (canonical or with bits
    /// 63..48 ignored), in mapped memory other than its buffer.
    #[test]
    fn values_avoid_mapped_memory() {
        let t = Target {
            protected: vec![1],
            present: Vec::new(),
            control: false,
            buf: 0x7f00_0000_0000,
            len: 8192,
        };
        let mut rng = Rng::new(42);
        for _ in 0..1_000_000 {
            let v = t.value(&mut rng);
            let low48 = v & 0x0000_FFFF_FFFF_FFFF;
            if low48 & (1 << 47) != 0 {
                // Kernel half: only the guard hole and the top page.
                let guard = (0x8000_0000_0000..0x8800_0000_0000).contains(&low48);
                let top = low48 >= 0xFFFF_FFFF_F000;
                assert!(guard || top, "{v:#x}");
            } else {
                // User half: the buffer, the first 64 KiB, the top page, or
                // one of three addresses far from where this process lives.
                let in_buf = v >= t.buf && v < t.buf + t.len as u64;
                let low = low48 <= 0x1_0000;
                let top_user = low48 >= 0x7FFF_FFFF_F000;
                let ints = [0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF].contains(&low48);
                assert!(in_buf || low || top_user || ints, "{v:#x}");
            }
        }
    }

    #[test]
    fn results_cut_by_the_ioctl_are_successes() {
        assert!(is_error(-22) && is_xen_error(-22));
        assert!(is_error(-4095) && !is_xen_error(-4095));
        assert!(!is_error(-1_021_462_539) && !is_error(0) && !is_error(5));
        // memory_op's start extent 0x3FFF_FFFF_FFFF_FFE5, seen as -27.
        let call = Call {
            op: MEMORY_OP,
            args: [0xFFFF_FFFF_FFFF_F940, 0, 0, 0, 0],
        };
        assert!(echoes_start_extent(&call, -27));
        assert!(!echoes_start_extent(&call, -22));
    }

    #[test]
    fn rng_is_deterministic() {
        let mut a = Rng::new(3);
        let mut b = Rng::new(3);
        for _ in 0..100 {
            assert_eq!(a.next(), b.next());
        }
        assert_ne!(Rng::new(3).next(), Rng::new(4).next());
    }
}
