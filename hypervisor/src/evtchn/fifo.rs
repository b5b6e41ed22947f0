//! The FIFO event-channel ABI on a domain's frames: the control blocks and
//! event-array pages the guest registers, held by reference until the
//! domain goes. The queue logic is `rxen_event_channel::fifo`'s.
//!
//! A domain starts on the 2-level ABI and switches for good with its first
//! `EVTCHNOP_init_control`. Offered as Xen offers it, unless
//! `no-evtchn_fifo` is on rxen's command line: then the call fails with
//! `-ENOSYS`, and Linux stays on the 2-level ABI.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use rxen_event_channel::fifo::{
    Delivery, FifoError, FifoMemory, FifoQueues, PRIORITY_MIN, WORDS_PER_PAGE,
};
use rxen_event_channel::{Binding, Port};
use rxen_xen_abi::errno::{self, Errno};
use rxen_xen_abi::vcpu::shared_info;

use crate::domain::Domain;
use crate::mm::machine;

const PAGE: u64 = 4096;

static OFFERED: AtomicBool = AtomicBool::new(false);

/// Whether guests may switch to the FIFO ABI (`no-evtchn_fifo`: not).
pub fn offer(on: bool) {
    OFFERED.store(on, Ordering::Relaxed);
}

/// A FIFO domain's queues and the guest frames they live in.
pub struct FifoEvents {
    pub(super) queues: FifoQueues,
    pub(super) frames: FifoFrames,
}

/// Machine addresses of the registered control blocks (0: none) and of
/// the event-array pages, in order.
pub struct FifoFrames {
    control: Vec<u64>,
    pages: Vec<u64>,
}

impl FifoMemory for FifoFrames {
    fn event_word(&self, port: Port) -> Option<&AtomicU32> {
        let page = self.pages.get((port / WORDS_PER_PAGE) as usize)?;
        Some(machine::atomic_u32(
            page + u64::from(port % WORDS_PER_PAGE) * 4,
        ))
    }
    fn ready(&self, vcpu: u32) -> Option<&AtomicU32> {
        let block = *self.control.get(vcpu as usize).filter(|&&b| b != 0)?;
        Some(machine::atomic_u32(block))
    }
    fn head(&self, vcpu: u32, queue: usize) -> Option<&AtomicU32> {
        let block = *self.control.get(vcpu as usize).filter(|&&b| b != 0)?;
        Some(machine::atomic_u32(block + 8 + 4 * queue as u64))
    }
}

impl FifoEvents {
    fn new(nr_vcpus: u32) -> Self {
        Self {
            queues: FifoQueues::new(nr_vcpus),
            frames: FifoFrames {
                control: alloc::vec![0; nr_vcpus as usize],
                pages: Vec::new(),
            },
        }
    }

    /// Every frame it holds a reference on.
    fn held_frames(&self) -> impl Iterator<Item = u64> + '_ {
        let blocks = self.frames.control.iter().filter(|&&b| b != 0);
        blocks
            .map(|b| b & !(PAGE - 1))
            .chain(self.frames.pages.iter().copied())
    }
}

fn fifo_errno(e: FifoError) -> Errno {
    match e {
        FifoError::Invalid | FifoError::AlreadyRegistered => errno::EINVAL,
        FifoError::ArrayFull => errno::ENOSPC,
    }
}

impl Domain {
    /// A writable RAM frame of this domain, with a reference taken for
    /// rxen's own use of it.
    fn hold_frame(&self, gfn: u64) -> Result<u64, Errno> {
        let pa = self.writable_ram_frame(gfn)?;
        if !crate::mm::pages::get(pa, self.id) {
            return Err(errno::EINVAL);
        }
        Ok(pa)
    }

    /// EVTCHNOP_init_control: `vcpu`'s control block at `gfn`:`offset`.
    pub fn init_fifo_control(&self, vcpu: u32, gfn: u64, offset: u32) -> Result<(), Errno> {
        if !OFFERED.load(Ordering::Relaxed) {
            return Err(errno::ENOSYS);
        }
        if self.vcpu(vcpu).is_none() {
            return Err(errno::EINVAL);
        }
        let pa = self.hold_frame(gfn)?;
        let _events = self.events.lock();
        let mut fifo = self.fifo.lock();
        let nr_vcpus = self.vcpus().len() as u32;
        let fifo = fifo.get_or_insert_with(|| FifoEvents::new(nr_vcpus));
        if let Err(e) = fifo.queues.init_control(vcpu, offset) {
            crate::domain::release_frame(pa);
            return Err(fifo_errno(e));
        }
        fifo.frames.control[vcpu as usize] = pa + u64::from(offset);
        Ok(())
    }

    /// EVTCHNOP_expand_array: the next event-array page. Ports it holds
    /// that were pending on the 2-level ABI when the domain switched are
    /// queued now.
    pub fn expand_fifo_array(&self, gfn: u64) -> Result<(), Errno> {
        let pa = self.hold_frame(gfn)?;
        let events = self.events.lock();
        let mut fifo = self.fifo.lock();
        let Some(fifo) = fifo.as_mut() else {
            crate::domain::release_frame(pa);
            return Err(errno::EOPNOTSUPP);
        };
        let first = match fifo.queues.expand_array() {
            Ok(first) => first,
            Err(e) => {
                crate::domain::release_frame(pa);
                return Err(fifo_errno(e));
            }
        };
        fifo.frames.pages.push(pa);
        let pending = self.shared_info_pa + shared_info::EVTCHN_PENDING as u64;
        let end = (first + WORDS_PER_PAGE).min(rxen_event_channel::MAX_PORTS_2L);
        for port in first..end {
            let Ok(info) = events.get(port) else { continue };
            let (word, bit) = super::bit(pending, port);
            if info.binding != Binding::Free && word.fetch_and(!bit, Ordering::SeqCst) & bit != 0 {
                let d = fifo.queues.set_pending(&fifo.frames, port, info.vcpu);
                self.deliver(d);
            }
        }
        Ok(())
    }

    /// EVTCHNOP_set_priority.
    pub fn set_fifo_priority(&self, port: Port, priority: u32) -> Result<(), Errno> {
        let events = self.events.lock();
        if events.get(port)?.binding == Binding::Free {
            return Err(errno::EINVAL);
        }
        let mut fifo = self.fifo.lock();
        let fifo = fifo.as_mut().ok_or(errno::ENOSYS)?;
        if priority > PRIORITY_MIN {
            return Err(errno::EINVAL);
        }
        fifo.queues.set_priority(port, priority).map_err(fifo_errno)
    }

    /// What the FIFO queues asked for.
    pub(super) fn deliver(&self, d: Delivery) {
        match d {
            Delivery::None => {}
            Delivery::Wake(vcpu) => self.wake_vcpu(vcpu),
            Delivery::Upcall(vcpu) => {
                if let Some(v) = self.vcpu(vcpu) {
                    // evtchn_upcall_pending, first byte of its vcpu_info.
                    let info = v.vcpu_info_pa.load(Ordering::SeqCst);
                    machine::atomic_u8(info).store(1, Ordering::SeqCst);
                }
                self.wake_vcpu(vcpu);
            }
        }
    }
}

/// The domain is going: its FIFO frames' references go back.
pub fn teardown(dom: &Domain) {
    let Some(fifo) = dom.fifo.lock().take() else {
        return;
    };
    for pa in fifo.held_frames() {
        crate::domain::release_frame(pa);
    }
}
