use proptest::prelude::*;
use rxen_xen_abi::evtchn::{EvtchnState, VIRQ_CONSOLE, VIRQ_DOM_EXC, VIRQ_TIMER};

use super::*;

#[test]
fn ports_start_at_one_and_are_reused() {
    let mut t = PortTable::new(16);
    assert_eq!(t.alloc_unbound(0), Ok(1));
    assert_eq!(t.bind_ipi(0, 1), Ok(2));
    assert_eq!(t.close(1), Ok(Binding::Unbound { remote: 0 }));
    assert_eq!(t.alloc_unbound(3), Ok(1));
    assert_eq!(t.get(0), Err(errno::EINVAL));
    assert_eq!(t.ports_in_use(), 2);
}

#[test]
fn the_limit_gives_enospc() {
    let mut t = PortTable::new(4);
    for p in 1..4 {
        assert_eq!(t.alloc_unbound(0), Ok(p));
    }
    assert_eq!(t.alloc_unbound(0), Err(errno::ENOSPC));
    t.close(2).unwrap();
    assert_eq!(t.alloc_unbound(0), Ok(2));
}

#[test]
fn global_virqs_only_on_vcpu_0() {
    let mut t = PortTable::new(64);
    assert_eq!(t.bind_virq(VIRQ_DOM_EXC, 1, 2), Err(errno::EINVAL));
    let p = t.bind_virq(VIRQ_DOM_EXC, 0, 2).unwrap();
    assert_eq!(t.bind_virq(VIRQ_DOM_EXC, 0, 2), Err(errno::EEXIST));
    assert_eq!(t.virq_port(VIRQ_DOM_EXC, 0), Some(p));
    // Per-vCPU ones on any vCPU, once each.
    let t0 = t.bind_virq(VIRQ_TIMER, 0, 2).unwrap();
    let t1 = t.bind_virq(VIRQ_TIMER, 1, 2).unwrap();
    assert_ne!(t0, t1);
    assert_eq!(t.bind_virq(VIRQ_TIMER, 2, 2), Err(errno::ENOENT));
    assert_eq!(t.bind_virq(99, 0, 2), Err(errno::EINVAL));
    // Global VIRQs may move with bind_vcpu, per-vCPU ones may not.
    assert_eq!(t.bind_vcpu(t0, 1, 2), Err(errno::EINVAL));
    let c = t.bind_virq(VIRQ_CONSOLE, 0, 2).unwrap();
    assert_eq!(t.bind_vcpu(c, 1, 2), Ok(()));
}

/// Two tables standing for two domains, connected as the hypervisor does.
fn bind(
    a: &mut PortTable,
    a_id: DomId,
    b: &mut PortTable,
    b_id: DomId,
    b_port: Port,
) -> Result<Port, Errno> {
    b.check_bindable(b_port, a_id)?;
    let p = a.alloc_interdomain(b_id, b_port)?;
    b.connect(b_port, a_id, p);
    Ok(p)
}

#[test]
fn interdomain_bind_and_close_as_xen() {
    let (mut dom0, mut domu) = (PortTable::new(64), PortTable::new(64));
    let unbound = domu.alloc_unbound(0).unwrap();
    // Only the named domain may bind it.
    assert_eq!(domu.check_bindable(unbound, 7), Err(errno::EINVAL));
    let local = bind(&mut dom0, 0, &mut domu, 5, unbound).unwrap();
    assert_eq!(
        dom0.status(local),
        Ok((
            EvtchnState::Interdomain {
                dom: 5,
                port: unbound
            },
            0
        ))
    );
    assert_eq!(
        domu.status(unbound),
        Ok((
            EvtchnState::Interdomain {
                dom: 0,
                port: local
            },
            0
        ))
    );
    // A bound port cannot be bound twice.
    assert_eq!(domu.check_bindable(unbound, 0), Err(errno::EINVAL));
    // dom0 closes: the domU's end is unbound again, reserved for dom0.
    assert_eq!(
        dom0.close(local),
        Ok(Binding::Interdomain {
            dom: 5,
            port: unbound
        })
    );
    domu.disconnect(unbound, 0, local);
    assert_eq!(
        domu.status(unbound),
        Ok((EvtchnState::Unbound { dom: 0 }, 0))
    );
    // ... so dom0 can bind it again.
    assert!(bind(&mut dom0, 0, &mut domu, 5, unbound).is_ok());
}

#[test]
fn loopback_bind_inside_one_domain() {
    // xenstored binds dom0's own xenbus port: both ends in one table.
    let mut t = PortTable::new(64);
    let kernel = t.alloc_unbound(0).unwrap();
    t.check_bindable(kernel, 0).unwrap();
    let user = t.alloc_interdomain(0, kernel).unwrap();
    t.connect(kernel, 0, user);
    assert_eq!(
        t.get(kernel).unwrap().binding,
        Binding::Interdomain { dom: 0, port: user }
    );
    assert_eq!(
        t.get(user).unwrap().binding,
        Binding::Interdomain {
            dom: 0,
            port: kernel
        }
    );
    let peers = t.close_all();
    assert_eq!(peers.len(), 2);
    assert_eq!(t.ports_in_use(), 0);
}

#[test]
fn a_stale_disconnect_leaves_a_reused_port_alone() {
    let mut t = PortTable::new(64);
    let p = t.alloc_ipi_for_test();
    t.disconnect(p, 3, 9);
    assert_eq!(t.get(p).unwrap().binding, Binding::Ipi);
}

impl PortTable {
    fn alloc_ipi_for_test(&mut self) -> Port {
        self.bind_ipi(0, 1).unwrap()
    }
}

#[test]
fn hypervisor_ports_stay() {
    let mut t = PortTable::new(64);
    let p = t.alloc_hypervisor().unwrap();
    assert_eq!(t.close(p), Err(errno::EINVAL));
    assert_eq!(t.status(p), Ok((EvtchnState::Unbound { dom: 0 }, 0)));
}

#[test]
fn status_of_free_and_bad_ports() {
    let t = PortTable::new(64);
    assert_eq!(t.status(5), Ok((EvtchnState::Closed, 0)));
    assert_eq!(t.status(0), Err(errno::EINVAL));
    assert_eq!(t.status(5000), Err(errno::EINVAL));
}

#[derive(Clone, Debug)]
enum Op {
    Unbound(u16),
    Ipi(u32),
    Virq(u32, u32),
    Close(u32),
    BindVcpu(u32, u32),
    Status(u32),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        any::<u16>().prop_map(Op::Unbound),
        (0u32..4).prop_map(Op::Ipi),
        (0u32..30, 0u32..4).prop_map(|(v, c)| Op::Virq(v, c)),
        (0u32..80).prop_map(Op::Close),
        (0u32..80, 0u32..4).prop_map(|(p, c)| Op::BindVcpu(p, c)),
        (0u32..80).prop_map(Op::Status),
    ]
}

proptest! {
    /// Whatever a guest asks, the table never hands out port 0, never
    /// exceeds its limit, and keeps at most one binding per (VIRQ, vCPU).
    #[test]
    fn any_sequence_keeps_the_invariants(ops in proptest::collection::vec(op(), 0..200)) {
        let mut t = PortTable::new(48);
        for op in ops {
            match op {
                Op::Unbound(d) => { let _ = t.alloc_unbound(d); }
                Op::Ipi(v) => { let _ = t.bind_ipi(v, 3); }
                Op::Virq(v, c) => { let _ = t.bind_virq(v, c, 3); }
                Op::Close(p) => { let _ = t.close(p); }
                Op::BindVcpu(p, c) => { let _ = t.bind_vcpu(p, c, 3); }
                Op::Status(p) => { let _ = t.status(p); }
            }
            prop_assert!(t.ports.len() as u32 <= t.max_ports());
            prop_assert_eq!(t.ports[0].binding, Binding::Free);
            for virq in 0..NR_VIRQS {
                if !is_per_vcpu_virq(virq) {
                    let n = t.ports.iter().filter(|p| p.binding == Binding::Virq(virq)).count();
                    prop_assert!(n <= 1, "global VIRQ {} bound {} times", virq, n);
                    continue;
                }
                for vcpu in 0..3 {
                    let n = t.ports.iter().filter(|p| p.binding == Binding::Virq(virq) && p.vcpu == vcpu).count();
                    prop_assert!(n <= 1);
                }
            }
        }
    }
}
