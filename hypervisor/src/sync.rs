//! Locks. The hypervisor's locks are ticket locks, so CPUs are served in
//! the order they asked (no starvation under contention), and they disable
//! interrupts while held, so an interrupt handler on the same CPU can never
//! spin on a lock its own CPU holds.

use core::ops::{Deref, DerefMut};

use crate::arch;

pub struct TicketLock<T> {
    inner: spin::mutex::TicketMutex<T>,
}

pub struct TicketLockGuard<'a, T> {
    guard: Option<spin::mutex::TicketMutexGuard<'a, T>>,
    interrupts_were_enabled: bool,
}

impl<T> TicketLock<T> {
    pub const fn new(value: T) -> Self {
        Self {
            inner: spin::mutex::TicketMutex::new(value),
        }
    }

    pub fn lock(&self) -> TicketLockGuard<'_, T> {
        let interrupts_were_enabled = arch::interrupts_disable_save();
        TicketLockGuard {
            guard: Some(self.inner.lock()),
            interrupts_were_enabled,
        }
    }

    /// Access without taking the lock.
    ///
    /// # Safety
    /// Only for the panic path, after the other CPUs have been told to stop:
    /// the caller accepts racing with a CPU that still holds the lock.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn force_get(&self) -> &mut T {
        // SAFETY: the caller accepts the race (see above).
        unsafe { &mut *self.inner.as_mut_ptr() }
    }
}

impl<T> Deref for TicketLockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.guard.as_ref().expect("guard is present until drop")
    }
}

impl<T> DerefMut for TicketLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.guard.as_mut().expect("guard is present until drop")
    }
}

impl<T> Drop for TicketLockGuard<'_, T> {
    fn drop(&mut self) {
        self.guard = None;
        arch::interrupts_restore(self.interrupts_were_enabled);
    }
}
