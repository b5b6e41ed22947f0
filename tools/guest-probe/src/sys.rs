//! The few Linux system calls guest-probe needs, made directly (the probe
//! has no dependencies), and `/dev/xen/privcmd`.
//!
//! Hypercalls go through privcmd's `IOCTL_PRIVCMD_HYPERCALL`
//! (include/uapi/xen/privcmd.h): `struct privcmd_hypercall { __u64 op;
//! __u64 arg[5]; }`, ioctl number `_IOC(_IOC_NONE, 'P', 0, 48)`. The kernel
//! (drivers/xen/privcmd.c, `privcmd_ioctl_hypercall`) makes the hypercall
//! from kernel mode and returns its RAX as the ioctl's result, so the raw
//! system call gives Xen's `-errno` directly (libc would turn it into
//! -1/errno).

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

const SYS_MMAP: u64 = 9;
const SYS_MPROTECT: u64 = 10;
const SYS_MUNMAP: u64 = 11;
pub(crate) const SYS_IOCTL: u64 = 16;

pub const PROT_NONE: u64 = 0;
pub const PROT_READ: u64 = 1;
pub const PROT_WRITE: u64 = 2;
const MAP_PRIVATE: u64 = 0x02;
const MAP_ANONYMOUS: u64 = 0x20;

pub const PAGE: usize = 4096;

/// `_IOC(_IOC_NONE, 'P', 0, sizeof(struct privcmd_hypercall))`.
pub const IOCTL_PRIVCMD_HYPERCALL: u64 = (48 << 16) | ((b'P' as u64) << 8);

/// The device the `xen-privcmd` module provides.
pub const PRIVCMD_PATH: &str = "/dev/xen/privcmd";

/// A raw Linux system call; returns the kernel's result (`-errno` on error).
///
/// # Safety
/// The caller must uphold whatever the system call `nr` requires of its
/// arguments (pointers valid for what the kernel reads or writes, no
/// unmapping of memory in use, ...).
pub(crate) unsafe fn syscall(nr: u64, args: [u64; 6]) -> i64 {
    let ret: i64;
    // SAFETY: `syscall` clobbers only RCX and R11 (declared) and RAX (the
    // result); the caller vouches for the arguments.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") nr as i64 => ret,
            in("rdi") args[0],
            in("rsi") args[1],
            in("rdx") args[2],
            in("r10") args[3],
            in("r8") args[4],
            in("r9") args[5],
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

pub(crate) fn check(ret: i64) -> io::Result<u64> {
    if (-4095..0).contains(&ret) {
        Err(io::Error::from_raw_os_error(-ret as i32))
    } else {
        Ok(ret as u64)
    }
}

/// `struct privcmd_hypercall`.
#[repr(C)]
struct PrivcmdHypercall {
    op: u64,
    arg: [u64; 5],
}

/// An open `/dev/xen/privcmd`.
pub struct Privcmd {
    file: File,
}

impl Privcmd {
    pub fn open() -> io::Result<Self> {
        let file = File::options().read(true).write(true).open(PRIVCMD_PATH)?;
        Ok(Self { file })
    }

    /// A stand-in that makes no hypercalls, for tests of what callers
    /// generate.
    #[cfg(test)]
    pub fn null() -> Self {
        let file = File::open("/dev/null").expect("/dev/null");
        Self { file }
    }

    /// Makes hypercall `op`; the result is the hypercall's RAX as the kernel
    /// passes it back (negative: `-errno`, from Xen or from privcmd).
    pub fn hypercall(&self, op: u64, arg: [u64; 5]) -> i64 {
        let call = PrivcmdHypercall { op, arg };
        // SAFETY: the ioctl reads the 48-byte `call`, which lives across the
        // call. What the hypervisor then does with the arguments is the
        // experiment: at worst it writes guest memory the arguments point to,
        // which the callers keep to memory they own or unmapped addresses.
        unsafe {
            syscall(
                SYS_IOCTL,
                [
                    self.file.as_raw_fd() as u64,
                    IOCTL_PRIVCMD_HYPERCALL,
                    &call as *const PrivcmdHypercall as u64,
                    0,
                    0,
                    0,
                ],
            )
        }
    }
}

/// Anonymous memory of `pages` data pages between two inaccessible guard
/// pages, so that anything the hypervisor reads or writes past either end
/// faults instead of touching other memory of the process.
pub struct Arena {
    base: u64,
    pages: usize,
}

impl Arena {
    pub fn new(pages: usize) -> io::Result<Self> {
        let len = (pages + 2) * PAGE;
        // SAFETY: a fresh anonymous private mapping where the kernel chooses;
        // nothing else refers to it.
        let base = check(unsafe {
            syscall(
                SYS_MMAP,
                [
                    0,
                    len as u64,
                    PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS,
                    u64::MAX,
                    0,
                ],
            )
        })?;
        let arena = Self { base, pages };
        arena.protect_raw(base, PAGE, PROT_NONE)?;
        arena.protect_raw(base + ((pages + 1) * PAGE) as u64, PAGE, PROT_NONE)?;
        // Touch every data page so that it is present (the hypervisor walks
        // the page tables; it does not fault pages in).
        let mut a = arena;
        a.bytes_mut().fill(0);
        Ok(a)
    }

    fn protect_raw(&self, addr: u64, len: usize, prot: u64) -> io::Result<()> {
        // SAFETY: `addr..addr+len` lies inside this arena's mapping; no Rust
        // reference into it outlives a call that could observe the change
        // (callers only read through `bytes` while the pages are readable).
        check(unsafe { syscall(SYS_MPROTECT, [addr, len as u64, prot, 0, 0, 0]) }).map(|_| ())
    }

    /// Changes the protection of data page `page`.
    pub fn protect_page(&self, page: usize, prot: u64) -> io::Result<()> {
        assert!(page < self.pages);
        self.protect_raw(self.addr(page * PAGE), PAGE, prot)
    }

    /// The user address of data byte `offset` (may be one past the end).
    pub fn addr(&self, offset: usize) -> u64 {
        self.base + PAGE as u64 + offset as u64
    }

    pub fn len(&self) -> usize {
        self.pages * PAGE
    }

    pub fn bytes(&self) -> &[u8] {
        // SAFETY: the data pages are mapped, readable (callers that make a
        // page unreadable do not read it) and owned by this arena.
        unsafe { std::slice::from_raw_parts(self.addr(0) as *const u8, self.len()) }
    }

    pub fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as for `bytes`, and `&mut self` makes the slice unique.
        unsafe { std::slice::from_raw_parts_mut(self.addr(0) as *mut u8, self.len()) }
    }

    pub fn put_u16(&mut self, offset: usize, v: u16) {
        self.bytes_mut()[offset..offset + 2].copy_from_slice(&v.to_le_bytes());
    }

    pub fn put_u32(&mut self, offset: usize, v: u32) {
        self.bytes_mut()[offset..offset + 4].copy_from_slice(&v.to_le_bytes());
    }

    pub fn put_u64(&mut self, offset: usize, v: u64) {
        self.bytes_mut()[offset..offset + 8].copy_from_slice(&v.to_le_bytes());
    }

    pub fn get_u16(&self, offset: usize) -> u16 {
        u16::from_le_bytes(self.bytes()[offset..offset + 2].try_into().unwrap())
    }

    pub fn get_u64(&self, offset: usize) -> u64 {
        u64::from_le_bytes(self.bytes()[offset..offset + 8].try_into().unwrap())
    }

    pub fn get_u32(&self, offset: usize) -> u32 {
        u32::from_le_bytes(self.bytes()[offset..offset + 4].try_into().unwrap())
    }

    pub fn get_i16(&self, offset: usize) -> i16 {
        i16::from_le_bytes(self.bytes()[offset..offset + 2].try_into().unwrap())
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        // SAFETY: the whole mapping made in `new`; no reference into it
        // survives `self`.
        unsafe {
            syscall(
                SYS_MUNMAP,
                [self.base, ((self.pages + 2) * PAGE) as u64, 0, 0, 0, 0],
            );
        }
    }
}

/// The guest frame number behind user address `addr` (a present page),
/// from /proc/self/pagemap (root sees frame numbers). In a PVH guest the
/// pseudo-physical frame is the guest frame Xen knows.
pub fn gfn_of(addr: u64) -> Option<u64> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = File::open("/proc/self/pagemap").ok()?;
    f.seek(SeekFrom::Start(addr / PAGE as u64 * 8)).ok()?;
    let mut entry = [0u8; 8];
    f.read_exact(&mut entry).ok()?;
    let entry = u64::from_le_bytes(entry);
    let pfn = entry & ((1 << 55) - 1);
    (entry & (1 << 63) != 0 && pfn != 0).then_some(pfn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ioctl_number() {
        assert_eq!(IOCTL_PRIVCMD_HYPERCALL, 0x0030_5000);
        assert_eq!(std::mem::size_of::<PrivcmdHypercall>(), 48);
    }

    #[test]
    fn arena_pages_and_protection() {
        let mut a = Arena::new(2).unwrap();
        assert_eq!(a.len(), 2 * PAGE);
        assert!(a.bytes().iter().all(|&b| b == 0));
        a.put_u64(PAGE - 4, 0x1122_3344_5566_7788);
        assert_eq!(a.get_u32(PAGE - 4), 0x5566_7788);
        a.put_u16(0, 0xFFFE);
        assert_eq!(a.get_i16(0), -2);
        a.protect_page(1, PROT_READ).unwrap();
        assert_eq!(a.bytes()[PAGE], 0x44);
        a.protect_page(1, PROT_READ | PROT_WRITE).unwrap();
        a.bytes_mut()[2 * PAGE - 1] = 1;
        // Page frames are visible to root only; either way no panic.
        let _ = gfn_of(a.addr(0));
    }
}
