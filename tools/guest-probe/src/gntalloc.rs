//! `/dev/xen/gntalloc` (the `xen-gntalloc` module): grants of pages of our
//! own, made from user space, so that the isolation checks can hold grant
//! refs whose owner and state they know.
//!
//! include/uapi/xen/gntalloc.h: `struct ioctl_gntalloc_alloc_gref { __u16
//! domid; __u16 flags; __u32 count; __u64 index; __u32 gref_ids[1]; }`
//! (24 bytes with padding) with `IOCTL_GNTALLOC_ALLOC_GREF =
//! _IOC(_IOC_NONE, 'G', 5, 24)`, and `struct ioctl_gntalloc_dealloc_gref {
//! __u64 index; __u32 count; }` (16 bytes), `_IOC(_IOC_NONE, 'G', 6, 16)`.
//! Dealloc ends the foreign access: the entry's flags are cleared, so the
//! ref is revoked.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

use crate::sys::{check, syscall, SYS_IOCTL};

pub const GNTALLOC_PATH: &str = "/dev/xen/gntalloc";
const IOCTL_GNTALLOC_ALLOC_GREF: u64 = (24 << 16) | ((b'G' as u64) << 8) | 5;
const IOCTL_GNTALLOC_DEALLOC_GREF: u64 = (16 << 16) | ((b'G' as u64) << 8) | 6;
/// The grantee may write the page.
const GNTALLOC_FLAG_WRITABLE: u16 = 1;

#[repr(C)]
struct AllocGref {
    domid: u16,
    flags: u16,
    count: u32,
    index: u64,
    gref: u32,
}

#[repr(C)]
struct DeallocGref {
    index: u64,
    count: u32,
}

/// One page granted to a domain: its ref, and the offset gntalloc knows it
/// by (for the dealloc).
#[derive(Clone, Copy, Debug)]
pub struct Granted {
    pub gref: u32,
    index: u64,
}

pub struct GrantAlloc {
    file: File,
}

impl GrantAlloc {
    pub fn open() -> io::Result<Self> {
        let file = File::options().read(true).write(true).open(GNTALLOC_PATH)?;
        Ok(Self { file })
    }

    /// Grants a fresh page of ours to `domid`, writable.
    pub fn grant(&self, domid: u16) -> io::Result<Granted> {
        let mut op = AllocGref {
            domid,
            flags: GNTALLOC_FLAG_WRITABLE,
            count: 1,
            index: 0,
            gref: 0,
        };
        self.ioctl(IOCTL_GNTALLOC_ALLOC_GREF, &mut op as *mut AllocGref as u64)?;
        Ok(Granted {
            gref: op.gref,
            index: op.index,
        })
    }

    /// Revokes `g` (gntalloc ends the foreign access and frees the page).
    pub fn revoke(&self, g: Granted) -> io::Result<()> {
        let mut op = DeallocGref {
            index: g.index,
            count: 1,
        };
        self.ioctl(
            IOCTL_GNTALLOC_DEALLOC_GREF,
            &mut op as *mut DeallocGref as u64,
        )
        .map(|_| ())
    }

    fn ioctl(&self, cmd: u64, arg: u64) -> io::Result<u64> {
        // SAFETY: `arg` points to the structure `cmd` names (its size is in
        // `cmd`), which the caller keeps alive across the call; the kernel
        // reads and writes only it.
        check(unsafe { syscall(SYS_IOCTL, [self.file.as_raw_fd() as u64, cmd, arg, 0, 0, 0]) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ioctl_numbers_and_layouts() {
        assert_eq!(IOCTL_GNTALLOC_ALLOC_GREF, 0x0018_4705);
        assert_eq!(IOCTL_GNTALLOC_DEALLOC_GREF, 0x0010_4706);
        assert_eq!(std::mem::size_of::<AllocGref>(), 24);
        assert_eq!(std::mem::size_of::<DeallocGref>(), 16);
        assert_eq!(std::mem::offset_of!(AllocGref, index), 8);
        assert_eq!(std::mem::offset_of!(AllocGref, gref), 16);
    }
}
