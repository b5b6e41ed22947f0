//! The FIFO queues against a model of the guest's side: Linux's consumer
//! (`consume_one_event`: read the head, clear LINKED with a
//! compare-and-swap, follow LINK, handle it if pending and unmasked).

use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

use proptest::prelude::*;

use super::*;

const PORTS: u32 = 64;
const VCPUS: u32 = 2;

/// Guest memory: one event-array page's worth of words, two control blocks.
struct Guest {
    words: Vec<AtomicU32>,
    ready: Vec<AtomicU32>,
    heads: Vec<[AtomicU32; MAX_QUEUES]>,
    /// The guest's own per-queue heads (Linux's `q->head`).
    local_heads: Vec<[u32; MAX_QUEUES]>,
    backed: u32,
}

impl Guest {
    fn new() -> Self {
        Self {
            words: (0..PORTS).map(|_| AtomicU32::new(0)).collect(),
            ready: (0..VCPUS).map(|_| AtomicU32::new(0)).collect(),
            heads: (0..VCPUS)
                .map(|_| core::array::from_fn(|_| AtomicU32::new(0)))
                .collect(),
            local_heads: vec![[0; MAX_QUEUES]; VCPUS as usize],
            backed: PORTS,
        }
    }

    fn word(&self, port: Port) -> u32 {
        self.words[port as usize].load(Ordering::SeqCst)
    }

    fn mask(&self, port: Port) {
        self.words[port as usize].fetch_or(MASKED, Ordering::SeqCst);
    }

    /// Linux's unmask: clear MASKED unless pending; if pending, ask.
    fn unmask(&self, fifo: &mut FifoQueues, port: Port, vcpu: u32) -> Delivery {
        let w = &self.words[port as usize];
        let mut old = w.load(Ordering::SeqCst);
        loop {
            if old & PENDING != 0 {
                return fifo.unmask(self, port, vcpu);
            }
            match w.compare_exchange(old, old & !MASKED, Ordering::SeqCst, Ordering::SeqCst) {
                Ok(_) => return Delivery::None,
                Err(now) => old = now,
            }
        }
    }

    /// One step of Linux's event loop on `vcpu`: the next event of its
    /// highest ready queue, if it is to be handled.
    fn consume_one(&mut self, vcpu: u32) -> Option<Option<Port>> {
        let v = vcpu as usize;
        let ready = self.ready[v].load(Ordering::SeqCst);
        let local_ready = (0..MAX_QUEUES).find(|&q| self.local_heads[v][q] != 0);
        let q = match (local_ready, ready) {
            (Some(q), r) if r == 0 || q <= r.trailing_zeros() as usize => q,
            (_, 0) => return None,
            (_, r) => r.trailing_zeros() as usize,
        };
        let mut head = self.local_heads[v][q];
        if head == 0 {
            head = self.heads[v][q].load(Ordering::SeqCst);
        }
        if head == 0 {
            self.ready[v].fetch_and(!(1 << q), Ordering::SeqCst);
            return Some(None);
        }
        let port = head;
        let w = &self.words[port as usize];
        let mut old = w.load(Ordering::SeqCst);
        let next = loop {
            let new = old & !(LINKED | LINK_MASK);
            match w.compare_exchange(old, new, Ordering::SeqCst, Ordering::SeqCst) {
                Ok(_) => break old & LINK_MASK,
                Err(now) => old = now,
            }
        };
        if next == 0 {
            self.ready[v].fetch_and(!(1 << q), Ordering::SeqCst);
        }
        self.local_heads[v][q] = next;
        let now = w.load(Ordering::SeqCst);
        if now & PENDING != 0 && now & MASKED == 0 {
            w.fetch_and(!PENDING, Ordering::SeqCst);
            return Some(Some(port));
        }
        Some(None)
    }

    /// Runs `vcpu`'s event loop until its queues are empty.
    fn drain(&mut self, vcpu: u32) -> Vec<Port> {
        let mut handled = Vec::new();
        for _ in 0..10 * PORTS {
            match self.consume_one(vcpu) {
                None => return handled,
                Some(Some(p)) => handled.push(p),
                Some(None) => {}
            }
        }
        panic!("vCPU {vcpu}'s queues never ran empty (a cycle?)");
    }
}

impl FifoMemory for Guest {
    fn event_word(&self, port: Port) -> Option<&AtomicU32> {
        (port < self.backed).then(|| &self.words[port as usize])
    }
    fn ready(&self, vcpu: u32) -> Option<&AtomicU32> {
        self.ready.get(vcpu as usize)
    }
    fn head(&self, vcpu: u32, queue: usize) -> Option<&AtomicU32> {
        self.heads.get(vcpu as usize).map(|h| &h[queue])
    }
}

fn set_up() -> (Guest, FifoQueues) {
    let mut fifo = FifoQueues::new(VCPUS);
    for v in 0..VCPUS {
        fifo.init_control(v, 0).unwrap();
    }
    (Guest::new(), fifo)
}

#[test]
fn an_event_raises_an_upcall_once_and_is_handled() {
    let (mut g, mut fifo) = set_up();
    assert_eq!(fifo.set_pending(&g, 5, 0), Delivery::Upcall(0));
    // Pending again before it is handled: queued once.
    assert_eq!(fifo.set_pending(&g, 5, 0), Delivery::None);
    assert_eq!(g.word(5) & (PENDING | LINKED), PENDING | LINKED);
    assert_eq!(g.drain(0), vec![5]);
    assert_eq!(g.word(5), 0);
}

#[test]
fn events_of_one_priority_come_in_order_and_higher_priorities_first() {
    let (mut g, mut fifo) = set_up();
    fifo.set_priority(9, PRIORITY_MAX).unwrap();
    assert_eq!(fifo.set_pending(&g, 3, 0), Delivery::Upcall(0));
    assert_eq!(fifo.set_pending(&g, 7, 0), Delivery::None);
    assert_eq!(fifo.set_pending(&g, 4, 0), Delivery::None);
    // Another queue became ready: another upcall.
    assert_eq!(fifo.set_pending(&g, 9, 0), Delivery::Upcall(0));
    assert_eq!(g.drain(0), vec![9, 3, 7, 4]);
}

#[test]
fn a_masked_event_waits_for_its_unmask() {
    let (mut g, mut fifo) = set_up();
    g.mask(6);
    assert_eq!(fifo.set_pending(&g, 6, 1), Delivery::Wake(1));
    assert!(FifoQueues::is_pending(&g, 6));
    assert!(FifoQueues::is_masked(&g, 6) && !FifoQueues::is_masked(&g, 7));
    assert!(FifoQueues::is_masked(&g, PORTS + 1));
    assert_eq!(g.drain(1), Vec::<Port>::new());
    assert_eq!(g.unmask(&mut fifo, 6, 1), Delivery::Upcall(1));
    assert_eq!(g.drain(1), vec![6]);
}

#[test]
fn an_event_appended_after_the_guest_emptied_the_queue_starts_a_new_one() {
    let (mut g, mut fifo) = set_up();
    fifo.set_pending(&g, 3, 0);
    assert_eq!(g.drain(0), vec![3]);
    // The stale tail (3) is no longer LINKED: 8 becomes the head.
    assert_eq!(fifo.set_pending(&g, 8, 0), Delivery::Upcall(0));
    assert_eq!(g.drain(0), vec![8]);
}

#[test]
fn a_port_moved_to_another_queue_leaves_no_stale_tail() {
    let (mut g, mut fifo) = set_up();
    fifo.set_pending(&g, 3, 0);
    assert_eq!(g.drain(0), vec![3]);
    // 3 now goes to vCPU 1, and is linked there; vCPU 0's queue must not
    // append 4 through 3's word.
    fifo.set_pending(&g, 3, 1);
    assert_eq!(fifo.set_pending(&g, 4, 0), Delivery::Upcall(0));
    assert_eq!(g.drain(1), vec![3]);
    assert_eq!(g.drain(0), vec![4]);
}

#[test]
fn without_a_page_or_a_control_block_nothing_is_queued() {
    let mut fifo = FifoQueues::new(2);
    fifo.init_control(0, 64).unwrap();
    let mut g = Guest::new();
    g.backed = 16;
    assert_eq!(fifo.set_pending(&g, 20, 0), Delivery::None);
    assert_eq!(fifo.set_pending(&g, 2, 1), Delivery::None);
    assert!(FifoQueues::is_pending(&g, 2));
    FifoQueues::clear_pending(&g, 2);
    assert!(!FifoQueues::is_pending(&g, 2));
}

#[test]
fn set_up_calls_are_checked() {
    let mut fifo = FifoQueues::new(2);
    assert_eq!(fifo.init_control(2, 0), Err(FifoError::Invalid));
    assert_eq!(fifo.init_control(0, 4), Err(FifoError::Invalid));
    assert_eq!(
        fifo.init_control(0, 4096 - CONTROL_BLOCK_SIZE + 8),
        Err(FifoError::Invalid)
    );
    assert_eq!(fifo.init_control(0, 4096 - CONTROL_BLOCK_SIZE), Ok(()));
    assert_eq!(fifo.init_control(0, 0), Err(FifoError::AlreadyRegistered));
    assert!(fifo.has_control(0) && !fifo.has_control(1));
    assert_eq!(
        fifo.set_priority(1, PRIORITY_MIN + 1),
        Err(FifoError::Invalid)
    );
    assert_eq!(fifo.set_priority(MAX_PORTS, 0), Err(FifoError::Invalid));
    for page in 0..MAX_ARRAY_PAGES {
        assert_eq!(fifo.expand_array(), Ok(page * WORDS_PER_PAGE));
    }
    assert_eq!(fifo.expand_array(), Err(FifoError::ArrayFull));
    assert_eq!(fifo.ports_backed(), MAX_PORTS);
}

#[derive(Clone, Debug)]
enum Step {
    Send { port: Port, vcpu: u32 },
    Consume { vcpu: u32 },
    Mask { port: Port },
    Unmask { port: Port, vcpu: u32 },
    Priority { port: Port, priority: u32 },
}

fn step() -> impl Strategy<Value = Step> {
    let port = 1..PORTS;
    let vcpu = 0..VCPUS;
    prop_oneof![
        4 => (port.clone(), vcpu.clone()).prop_map(|(port, vcpu)| Step::Send { port, vcpu }),
        3 => vcpu.clone().prop_map(|vcpu| Step::Consume { vcpu }),
        1 => port.clone().prop_map(|port| Step::Mask { port }),
        1 => (port.clone(), vcpu).prop_map(|(port, vcpu)| Step::Unmask { port, vcpu }),
        1 => (port, 0..=PRIORITY_MIN).prop_map(|(port, priority)| Step::Priority { port, priority }),
    ]
}

proptest! {
    /// Whatever the interleaving of sends, consumption, masking and
    /// priority changes: no event is handled that was not sent, none is
    /// lost (after unmasking everything and draining, nothing stays
    /// pending), and no queue ever loops.
    #[test]
    fn no_event_is_lost_or_invented(steps in proptest::collection::vec(step(), 1..200)) {
        let (mut g, mut fifo) = set_up();
        let mut sent = vec![false; PORTS as usize];
        let mut masked = vec![false; PORTS as usize];
        for s in steps {
            match s {
                Step::Send { port, vcpu } => {
                    sent[port as usize] = true;
                    fifo.set_pending(&g, port, vcpu);
                }
                Step::Consume { vcpu } => {
                    if let Some(Some(p)) = g.consume_one(vcpu) {
                        prop_assert!(sent[p as usize], "port {} handled but never sent", p);
                        prop_assert!(!masked[p as usize]);
                        sent[p as usize] = false;
                    }
                }
                Step::Mask { port } => {
                    g.mask(port);
                    masked[port as usize] = true;
                }
                Step::Unmask { port, vcpu } => {
                    g.unmask(&mut fifo, port, vcpu);
                    masked[port as usize] = false;
                }
                Step::Priority { port, priority } => fifo.set_priority(port, priority).unwrap(),
            }
        }
        for port in 1..PORTS {
            if masked[port as usize] {
                // Unmasked towards vCPU 0; a queued event may still sit on 1.
                g.unmask(&mut fifo, port, 0);
            }
        }
        let mut handled: Vec<Port> = (0..VCPUS).flat_map(|v| g.drain(v)).collect();
        handled.sort_unstable();
        let expected: Vec<Port> = (1..PORTS).filter(|&p| sent[p as usize]).collect();
        prop_assert_eq!(handled, expected);
        for port in 1..PORTS {
            prop_assert_eq!(g.word(port) & (PENDING | LINKED), 0, "port {}", port);
        }
    }
}
