//! Address-space IDs: each vCPU's TLB entries are tagged with an ASID, so
//! switching vCPUs needs no TLB flush. ASIDs are handed out per physical
//! CPU in generations: when a CPU runs out, it starts a new generation
//! with one full flush, and every vCPU gets a fresh ASID on its next run
//! there. A vCPU that needs its translations dropped (its domain's p2m
//! changed) just takes a fresh ASID.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use super::super::percpu::{cpu_index, MAX_CPUS};

static GENERATION: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(1) }; MAX_CPUS];
static NEXT: [AtomicU32; MAX_CPUS] = [const { AtomicU32::new(1) }; MAX_CPUS];

/// A vCPU's ASID, valid on one CPU in one generation.
#[derive(Clone, Copy, Debug, Default)]
pub struct VcpuAsid {
    asid: u32,
    generation: u64,
    cpu: usize,
}

/// What the next VMRUN needs: the ASID and whether to flush every ASID.
pub struct AsidChoice {
    pub asid: u32,
    pub flush_all: bool,
}

impl VcpuAsid {
    /// The ASID for running on this CPU now; a fresh one if `fresh`, if the
    /// vCPU last ran elsewhere, or if this CPU started a new generation.
    pub fn choose(&mut self, fresh: bool, asids: u32) -> AsidChoice {
        let cpu = cpu_index();
        let generation = GENERATION[cpu].load(Ordering::Relaxed);
        if !fresh && self.asid != 0 && self.cpu == cpu && self.generation == generation {
            return AsidChoice {
                asid: self.asid,
                flush_all: false,
            };
        }
        // ASID 0 is the host's; with fewer than two usable, fall back to
        // flushing on every change.
        let limit = asids.max(2);
        let mut next = NEXT[cpu].load(Ordering::Relaxed);
        let mut flush_all = false;
        let mut generation = generation;
        if next >= limit {
            generation += 1;
            GENERATION[cpu].store(generation, Ordering::Relaxed);
            next = 1;
            flush_all = true;
        }
        NEXT[cpu].store(next + 1, Ordering::Relaxed);
        *self = VcpuAsid {
            asid: next,
            generation,
            cpu,
        };
        AsidChoice {
            asid: next,
            flush_all,
        }
    }
}
