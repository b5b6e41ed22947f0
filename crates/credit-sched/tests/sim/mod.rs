//! A small discrete-event simulator that drives the scheduler the way the
//! hypervisor does: one timer per pCPU armed at `next_event`, `tick` when it
//! fires, `schedule` when told to (tick result, IPI from wake/sleep, kick
//! masks) or when the running vCPU blocks. The clock jumps from event to
//! event. It records CPU time per vCPU and per pCPU, wake-up latencies and
//! the longest wait of runnable vCPUs, and asserts at every decision that a
//! vCPU runs only where its affinity allows, only while runnable, and on one
//! pCPU at a time.

#![allow(dead_code)]

use std::collections::BTreeMap;

use rxen_credit_sched::{CpuMask, CreditScheduler, DomainId, PcpuId, SchedConfig, VcpuId};

pub const MS: u64 = 1_000_000;
pub const US: u64 = 1_000;

/// What a simulated vCPU does.
#[derive(Clone, Copy, Debug)]
pub enum Behaviour {
    /// Always wants the CPU.
    CpuBound,
    /// Runs `run_ns` of CPU time, then blocks for `sleep_ns`, forever.
    Periodic { run_ns: u64, sleep_ns: u64 },
}

#[derive(Debug)]
enum SimState {
    /// Runnable (queued or running; `cpu` says which, if running).
    Ready,
    Sleeping {
        until: u64,
    },
}

#[derive(Debug)]
pub struct SimVcpu {
    pub id: VcpuId,
    pub behaviour: Behaviour,
    state: SimState,
    /// CPU time left in the current burst (Periodic).
    burst_left: u64,
    pub cpu_time: u64,
    pub cpu_time_per_pcpu: BTreeMap<u32, u64>,
    /// When it last became runnable and has not run since.
    waiting_since: Option<u64>,
    /// Whether the current wait started with a wake-up (for latency).
    woke: bool,
    pub wake_latencies: Vec<u64>,
    pub max_wait: u64,
    pub affinity: CpuMask,
    pub dispatches: u64,
}

pub struct Sim {
    pub sched: CreditScheduler,
    pub now: u64,
    pub vcpus: Vec<SimVcpu>,
    index: BTreeMap<VcpuId, usize>,
    running: Vec<Option<VcpuId>>,
    pub busy: Vec<u64>,
    pending: Vec<bool>,
    pub decisions: u64,
    pub steals: u64,
    nr: usize,
}

impl Sim {
    pub fn new(nr_pcpus: usize, cfg: SchedConfig) -> Self {
        Sim {
            sched: CreditScheduler::new(nr_pcpus, cfg).unwrap(),
            now: 0,
            vcpus: Vec::new(),
            index: BTreeMap::new(),
            running: vec![None; nr_pcpus],
            busy: vec![0; nr_pcpus],
            pending: vec![false; nr_pcpus],
            decisions: 0,
            steals: 0,
            nr: nr_pcpus,
        }
    }

    pub fn domain(&mut self, d: u32, weight: u32, cap: u32) {
        self.sched.add_domain(DomainId(d), weight, cap).unwrap();
    }

    /// Adds a vCPU and wakes it at the current time.
    pub fn vcpu(&mut self, d: u32, v: u32, affinity: CpuMask, behaviour: Behaviour) -> VcpuId {
        let id = VcpuId(v);
        self.sched.add_vcpu(DomainId(d), id, affinity).unwrap();
        let burst = match behaviour {
            Behaviour::CpuBound => u64::MAX,
            Behaviour::Periodic { run_ns, .. } => run_ns,
        };
        self.index.insert(id, self.vcpus.len());
        self.vcpus.push(SimVcpu {
            id,
            behaviour,
            state: SimState::Ready,
            burst_left: burst,
            cpu_time: 0,
            cpu_time_per_pcpu: BTreeMap::new(),
            waiting_since: Some(self.now),
            woke: false,
            wake_latencies: Vec::new(),
            max_wait: 0,
            affinity,
            dispatches: 0,
        });
        if let Some(c) = self.sched.wake(id, self.now) {
            self.pending[c.index()] = true;
        }
        self.dispatch_pending();
        id
    }

    pub fn get(&self, v: VcpuId) -> &SimVcpu {
        &self.vcpus[self.index[&v]]
    }

    pub fn set_affinity(&mut self, v: VcpuId, mask: CpuMask) {
        let i = self.index[&v];
        self.vcpus[i].affinity = mask;
        if let Some(c) = self.sched.set_affinity(v, mask).unwrap() {
            self.pending[c.index()] = true;
        }
        self.dispatch_pending();
    }

    /// Each pCPU's busy fraction of a `window_ns` measurement window.
    pub fn utilisation(&self, window_ns: u64) -> Vec<f64> {
        self.busy
            .iter()
            .map(|&b| b as f64 / window_ns as f64)
            .collect()
    }

    /// Resets the statistics (to measure a steady state after a warm-up).
    pub fn reset_stats(&mut self) {
        for v in &mut self.vcpus {
            v.cpu_time = 0;
            v.cpu_time_per_pcpu.clear();
            v.wake_latencies.clear();
            v.max_wait = 0;
            v.dispatches = 0;
        }
        self.busy.iter_mut().for_each(|b| *b = 0);
    }

    fn dispatch_pending(&mut self) {
        // Deliver IPIs until the system is quiet.
        let mut rounds = 0;
        while let Some(c) = self.pending.iter().position(|&p| p) {
            self.pending[c] = false;
            self.do_schedule(c);
            rounds += 1;
            assert!(rounds < 10_000, "IPI storm");
        }
    }

    fn do_schedule(&mut self, c: usize) {
        let cpu = PcpuId(c as u32);
        let d = self.sched.schedule(cpu, self.now);
        self.decisions += 1;
        for k in d.kick.iter() {
            assert_ne!(k, cpu, "decision kicks its own pCPU");
            self.pending[k.index()] = true;
        }
        if d.migrated_from.is_some() {
            self.steals += 1;
        }
        self.running[c] = d.next;
        if let Some(v) = d.next {
            assert!(d.run_for_ns > 0);
            let i = self.index[&v];
            let sv = &mut self.vcpus[i];
            assert!(
                sv.affinity.contains(cpu),
                "{v:?} runs on {cpu:?} outside its affinity {}",
                sv.affinity
            );
            assert!(
                matches!(sv.state, SimState::Ready),
                "{v:?} picked while blocked"
            );
            for (o, r) in self.running.iter().enumerate() {
                assert!(o == c || *r != Some(v), "{v:?} runs on two pCPUs");
            }
            if let Some(since) = sv.waiting_since.take() {
                let wait = self.now - since;
                sv.max_wait = sv.max_wait.max(wait);
                if sv.woke {
                    sv.wake_latencies.push(wait);
                }
                sv.dispatches += 1;
            }
        }
        assert_eq!(self.sched.current(cpu), d.next);
    }

    /// Runs the simulation until `end`.
    pub fn run_until(&mut self, end: u64) {
        while self.now < end {
            // Next event: pCPU timers, burst ends, wake-ups.
            let mut t = end;
            for c in 0..self.nr {
                t = t.min(self.sched.next_event(PcpuId(c as u32)).max(self.now));
                if let Some(v) = self.running[c] {
                    let sv = &self.vcpus[self.index[&v]];
                    t = t.min(self.now.saturating_add(sv.burst_left));
                }
            }
            for sv in &self.vcpus {
                if let SimState::Sleeping { until } = sv.state {
                    t = t.min(until.max(self.now));
                }
            }
            let dt = t - self.now;
            // Account CPU time.
            for c in 0..self.nr {
                if let Some(v) = self.running[c] {
                    let i = self.index[&v];
                    let sv = &mut self.vcpus[i];
                    sv.cpu_time += dt;
                    *sv.cpu_time_per_pcpu.entry(c as u32).or_default() += dt;
                    if sv.burst_left != u64::MAX {
                        sv.burst_left -= dt;
                    }
                    self.busy[c] += dt;
                }
            }
            self.now = t;
            // Bursts that end: the vCPU blocks.
            for c in 0..self.nr {
                if let Some(v) = self.running[c] {
                    let i = self.index[&v];
                    if self.vcpus[i].burst_left == 0 {
                        let Behaviour::Periodic { run_ns, sleep_ns } = self.vcpus[i].behaviour
                        else {
                            unreachable!()
                        };
                        self.vcpus[i].state = SimState::Sleeping {
                            until: self.now + sleep_ns,
                        };
                        self.vcpus[i].burst_left = run_ns;
                        let r = self.sched.sleep(v, self.now);
                        assert_eq!(r, Some(PcpuId(c as u32)));
                        self.running[c] = None; // it stops executing right now
                        self.pending[c] = true;
                    }
                }
            }
            // Wake-ups.
            for i in 0..self.vcpus.len() {
                if let SimState::Sleeping { until } = self.vcpus[i].state {
                    if until <= self.now {
                        self.vcpus[i].state = SimState::Ready;
                        self.vcpus[i].waiting_since = Some(self.now);
                        self.vcpus[i].woke = true;
                        if let Some(c) = self.sched.wake(self.vcpus[i].id, self.now) {
                            self.pending[c.index()] = true;
                        }
                    }
                }
            }
            // Timers.
            for c in 0..self.nr {
                let cpu = PcpuId(c as u32);
                if self.sched.next_event(cpu) <= self.now {
                    for k in self.sched.tick(cpu, self.now).iter() {
                        self.pending[k.index()] = true;
                    }
                    assert!(
                        self.sched.next_event(cpu) > self.now || self.pending[c],
                        "timer not re-armed"
                    );
                }
            }
            self.dispatch_pending();
            // Runnable vCPUs not running (preempted or queued) start waiting.
            let running: Vec<VcpuId> = self.running.iter().flatten().copied().collect();
            for sv in &mut self.vcpus {
                if matches!(sv.state, SimState::Ready)
                    && !running.contains(&sv.id)
                    && sv.waiting_since.is_none()
                {
                    sv.waiting_since = Some(self.now);
                    sv.woke = false;
                }
            }
            self.sched.check_invariants().unwrap();
        }
        // Close open waits.
        for sv in &mut self.vcpus {
            if let Some(since) = sv.waiting_since {
                sv.max_wait = sv.max_wait.max(self.now - since);
            }
        }
    }

    /// CPU time of `v` as a fraction of the elapsed time `over`.
    pub fn share(&self, v: VcpuId, over: u64) -> f64 {
        self.get(v).cpu_time as f64 / over as f64
    }
}

pub fn pin(c: u32) -> CpuMask {
    CpuMask::single(PcpuId(c))
}

pub fn median(xs: &[u64]) -> u64 {
    let mut v = xs.to_vec();
    v.sort_unstable();
    v[v.len() / 2]
}
