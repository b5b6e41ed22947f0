//! Random operation sequences: the scheduler never panics, never picks a
//! vCPU that is not runnable or not allowed on the pCPU, and never runs one
//! vCPU on two pCPUs at once; its internal invariants hold after every step.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use rxen_credit_sched::{
    CpuMask, CreditScheduler, DomainId, PcpuId, SchedConfig, VcpuId, VcpuState,
};

const NCPU: u32 = 4;

#[derive(Clone, Debug)]
enum Op {
    AddDomain(u32, u32, u32),
    SetParams(u32, u32, u32),
    RemoveDomain(u32),
    AddVcpu(u32, u32, u8),
    RemoveVcpu(u32),
    Wake(u32),
    Sleep(u32),
    Yield(u32),
    SetAffinity(u32, u8),
    Schedule(u32),
    Tick(u32),
    Advance(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => (0..4u32, 0..70_000u32, prop_oneof![Just(0u32), 0..300u32]).prop_map(|(d, w, c)| Op::AddDomain(d, w, c)),
        1 => (0..4u32, 0..70_000u32, 0..300u32).prop_map(|(d, w, c)| Op::SetParams(d, w, c)),
        1 => (0..4u32).prop_map(Op::RemoveDomain),
        3 => (0..4u32, 0..10u32, any::<u8>()).prop_map(|(d, v, m)| Op::AddVcpu(d, v, m)),
        1 => (0..10u32).prop_map(Op::RemoveVcpu),
        5 => (0..10u32).prop_map(Op::Wake),
        3 => (0..10u32).prop_map(Op::Sleep),
        1 => (0..10u32).prop_map(Op::Yield),
        2 => (0..10u32, any::<u8>()).prop_map(|(v, m)| Op::SetAffinity(v, m)),
        6 => (0..NCPU + 1).prop_map(Op::Schedule),
        4 => (0..NCPU + 1).prop_map(Op::Tick),
        5 => prop_oneof![0..200_000u64, 0..40_000_000u64].prop_map(Op::Advance),
    ]
}

struct Harness {
    s: CreditScheduler,
    now: u64,
    /// Model: vCPU -> (domain, affinity, runnable).
    vcpus: BTreeMap<u32, (u32, CpuMask, bool)>,
    doms: BTreeSet<u32>,
    /// What each pCPU runs, per the last decision.
    running: BTreeMap<u32, u32>,
}

impl Harness {
    fn forget_running(&mut self, c: Option<PcpuId>) {
        if let Some(c) = c {
            self.running.remove(&c.0);
        }
    }

    fn check_decision(&mut self, c: u32, next: Option<VcpuId>) {
        self.running.remove(&c);
        if let Some(v) = next {
            let (_, aff, runnable) = self.vcpus[&v.0];
            assert!(runnable, "picked non-runnable {v:?}");
            assert!(aff.contains(PcpuId(c)), "{v:?} on cpu{c} outside {aff}");
            for (&o, &r) in &self.running {
                assert!(r != v.0, "{v:?} on cpu{c} while running on cpu{o}");
            }
            self.running.insert(c, v.0);
            assert_eq!(
                self.s.vcpu_info(v).unwrap().state,
                VcpuState::Running(PcpuId(c))
            );
        }
    }

    fn apply(&mut self, op: Op) {
        let now = self.now;
        match op {
            Op::AddDomain(d, w, c) => {
                let r = self.s.add_domain(DomainId(d), w, c);
                let ok = (1..=65535).contains(&w) && !self.doms.contains(&d);
                assert_eq!(r.is_ok(), ok);
                if ok {
                    self.doms.insert(d);
                }
            }
            Op::SetParams(d, w, c) => {
                let r = self.s.set_params(DomainId(d), w, c);
                assert_eq!(
                    r.is_ok(),
                    (1..=65535).contains(&w) && self.doms.contains(&d)
                );
            }
            Op::RemoveDomain(d) => {
                let kick = self.s.remove_domain(DomainId(d));
                for c in kick.iter() {
                    self.running.remove(&c.0);
                }
                self.doms.remove(&d);
                self.vcpus.retain(|_, (dd, _, _)| *dd != d);
            }
            Op::AddVcpu(d, v, m) => {
                let aff = CpuMask::from_bits(u128::from(m));
                let r = self.s.add_vcpu(DomainId(d), VcpuId(v), aff);
                let ok = self.doms.contains(&d) && !self.vcpus.contains_key(&v) && m & 0xf != 0;
                assert_eq!(r.is_ok(), ok, "{r:?}");
                if ok {
                    self.vcpus.insert(v, (d, aff, false));
                }
            }
            Op::RemoveVcpu(v) => {
                let r = self.s.remove_vcpu(VcpuId(v));
                self.forget_running(r);
                self.vcpus.remove(&v);
            }
            Op::Wake(v) => {
                if let Some(e) = self.vcpus.get_mut(&v) {
                    e.2 = true;
                }
                if let Some(c) = self.s.wake(VcpuId(v), now) {
                    assert!(c.0 < NCPU);
                }
            }
            Op::Sleep(v) => {
                if let Some(e) = self.vcpus.get_mut(&v) {
                    e.2 = false;
                }
                if let Some(c) = self.s.sleep(VcpuId(v), now) {
                    assert_eq!(self.running.get(&c.0), Some(&v));
                }
            }
            Op::Yield(v) => {
                self.s.yield_vcpu(VcpuId(v), now);
            }
            Op::SetAffinity(v, m) => {
                let aff = CpuMask::from_bits(u128::from(m));
                let r = self.s.set_affinity(VcpuId(v), aff);
                let ok = self.vcpus.contains_key(&v) && m & 0xf != 0;
                assert_eq!(r.is_ok(), ok);
                if ok {
                    self.vcpus.get_mut(&v).unwrap().1 = aff;
                }
            }
            Op::Schedule(c) => {
                let d = self.s.schedule(PcpuId(c), now);
                if c >= NCPU {
                    assert_eq!(d.next, None);
                } else {
                    assert!(!d.kick.contains(PcpuId(c)));
                    assert!(d.kick.iter().all(|k| k.0 < NCPU));
                    self.check_decision(c, d.next);
                }
            }
            Op::Tick(c) => {
                let kick = self.s.tick(PcpuId(c), now);
                assert!(kick.iter().all(|k| k.0 < NCPU));
            }
            Op::Advance(dt) => self.now += dt,
        }
        // The scheduler's view of who runs where matches the decisions.
        for c in 0..NCPU {
            assert_eq!(
                self.s.current(PcpuId(c)).map(|v| v.0),
                self.running.get(&c).copied()
            );
        }
        self.s.check_invariants().unwrap();
        let mut out = String::new();
        self.s.dump(&mut out).unwrap();
        for c in 0..NCPU {
            let _ = self.s.next_event(PcpuId(c));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_operations(ops in prop::collection::vec(op(), 1..300), tslice_ms in 1u64..40) {
        let mut h = Harness {
            s: CreditScheduler::new(NCPU as usize, SchedConfig::with_tslice(tslice_ms * 1_000_000)).unwrap(),
            now: 0,
            vcpus: BTreeMap::new(),
            doms: BTreeSet::new(),
            running: BTreeMap::new(),
        };
        for op in ops {
            h.apply(op);
        }
    }
}
