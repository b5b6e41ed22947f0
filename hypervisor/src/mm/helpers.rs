//! Tasks of a domain build that the other CPUs take while they idle (as
//! they zero its RAM, `scrub`): the kernel loader's independent pieces of
//! decompression (LZ4 blocks). The builder posts them, takes its share,
//! and waits until every one has run, so the tasks may borrow from its
//! stack.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};

use crate::sync::TicketLock;

/// A posted task. The pointer is valid until `OtherCpus::run` returns,
/// which it does only once PENDING says every task has finished.
struct Task(*mut (dyn FnMut() + Send + 'static));

// SAFETY: the closure behind it is `Send`; the pointer only moves between
// CPUs while its owner (`run`) waits for it.
unsafe impl Send for Task {}

static TASKS: TicketLock<Vec<Task>> = TicketLock::new(Vec::new());
/// Tasks posted and not yet finished (taken ones included).
static PENDING: AtomicUsize = AtomicUsize::new(0);

/// The kernel loader's helpers: this CPU and whichever others are idle.
pub struct OtherCpus;

impl rxen_kernel_loader::Workers for OtherCpus {
    fn run(&self, tasks: &mut [&mut (dyn FnMut() + Send)]) {
        {
            let mut queue = TASKS.lock();
            for task in tasks.iter_mut() {
                let ptr: *mut (dyn FnMut() + Send + '_) = &mut **task;
                // SAFETY: only the lifetime is erased; `run` does not
                // return before the task has run (PENDING below), so the
                // closure outlives every use of the pointer.
                let ptr: *mut (dyn FnMut() + Send + 'static) = unsafe { core::mem::transmute(ptr) };
                queue.push(Task(ptr));
            }
            PENDING.fetch_add(tasks.len(), Ordering::SeqCst);
        }
        crate::sched::wake_idle_cpus();
        help();
        while PENDING.load(Ordering::SeqCst) != 0 {
            core::hint::spin_loop();
        }
    }
}

/// Runs posted tasks until none is left; returns whether it ran any.
pub fn help() -> bool {
    let mut did = false;
    loop {
        let Some(task) = TASKS.lock().pop() else {
            return did;
        };
        // SAFETY: the task's owner waits in `run` until PENDING drops,
        // which happens only after this call returns; each task is popped
        // (and so run) exactly once.
        unsafe { (*task.0)() };
        PENDING.fetch_sub(1, Ordering::SeqCst);
        did = true;
    }
}
