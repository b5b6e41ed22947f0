//! A writer for the "newc" cpio format, the one Linux unpacks as initramfs.
//!
//! Each entry is a 110-byte ASCII header (`070701` and 13 fields of eight hex
//! digits), the NUL-terminated name padded to a multiple of four bytes, then
//! the data padded the same way. The archive ends with an entry named
//! `TRAILER!!!`. Owners are root, times are zero: the archive depends only on
//! its contents, so it can be cached by their hash.

/// File type bits of `st_mode`.
const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFLNK: u32 = 0o120000;
const S_IFCHR: u32 = 0o020000;

const MAGIC: &str = "070701";
const TRAILER: &str = "TRAILER!!!";

/// Builds an archive in memory, entry by entry.
#[derive(Default)]
pub struct CpioWriter {
    out: Vec<u8>,
    next_inode: u32,
}

impl CpioWriter {
    pub fn new() -> Self {
        Self::default()
    }

    /// A directory; `path` has no leading `/` (`"bin"`, `"usr/bin"`).
    pub fn dir(&mut self, path: &str, perm: u32) {
        self.entry(path, S_IFDIR | perm, 2, (0, 0), &[]);
    }

    /// A regular file.
    pub fn file(&mut self, path: &str, perm: u32, data: &[u8]) {
        self.entry(path, S_IFREG | perm, 1, (0, 0), data);
    }

    /// A symbolic link to `target`; the data of a link entry is its target.
    pub fn symlink(&mut self, path: &str, target: &str) {
        self.entry(path, S_IFLNK | 0o777, 1, (0, 0), target.as_bytes());
    }

    /// A character device node (the kernel creates it while unpacking).
    pub fn char_dev(&mut self, path: &str, perm: u32, major: u32, minor: u32) {
        self.entry(path, S_IFCHR | perm, 1, (major, minor), &[]);
    }

    /// Appends the trailer and returns the archive.
    pub fn finish(mut self) -> Vec<u8> {
        self.header(TRAILER, 0, 1, (0, 0), 0, 0);
        self.out
    }

    fn entry(&mut self, path: &str, mode: u32, nlink: u32, rdev: (u32, u32), data: &[u8]) {
        self.next_inode += 1;
        let size = u32::try_from(data.len()).expect("cpio newc files are < 4 GiB");
        self.header(path, mode, nlink, rdev, size, self.next_inode);
        self.out.extend_from_slice(data);
        self.pad4();
    }

    /// Writes the header and the padded name.
    fn header(&mut self, name: &str, mode: u32, nlink: u32, rdev: (u32, u32), size: u32, ino: u32) {
        let namesize = u32::try_from(name.len() + 1).expect("short names");
        let (uid, gid, mtime, devmajor, devminor, check) = (0, 0, 0, 0, 0, 0);
        let fields = [
            ino, mode, uid, gid, nlink, mtime, size, devmajor, devminor, rdev.0, rdev.1, namesize,
            check,
        ];
        self.out.extend_from_slice(MAGIC.as_bytes());
        for field in fields {
            self.out
                .extend_from_slice(format!("{field:08x}").as_bytes());
        }
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(0);
        self.pad4();
    }

    fn pad4(&mut self) {
        let padded = self.out.len().next_multiple_of(4);
        self.out.resize(padded, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One parsed entry: (name, mode, rdevmajor, rdevminor, data).
    type Entry = (String, u32, u32, u32, Vec<u8>);

    fn hex(b: &[u8]) -> u32 {
        u32::from_str_radix(std::str::from_utf8(b).unwrap(), 16).unwrap()
    }

    fn align4(n: usize) -> usize {
        n.div_ceil(4) * 4
    }

    /// An independent reader, following the format description.
    fn parse(archive: &[u8]) -> Vec<Entry> {
        let mut entries = Vec::new();
        let mut at = 0;
        loop {
            let h = &archive[at..at + 110];
            assert_eq!(&h[..6], b"070701");
            let field = |i: usize| hex(&h[6 + 8 * i..14 + 8 * i]);
            let (mode, size, rmaj, rmin, namesize) =
                (field(1), field(6), field(9), field(10), field(11));
            let name_end = at + 110 + namesize as usize - 1;
            let name = String::from_utf8(archive[at + 110..name_end].to_vec()).unwrap();
            assert_eq!(archive[name_end], 0);
            let data_at = align4(at + 110 + namesize as usize);
            let data = archive[data_at..data_at + size as usize].to_vec();
            at = align4(data_at + size as usize);
            if name == "TRAILER!!!" {
                assert_eq!(at, archive.len());
                return entries;
            }
            entries.push((name, mode, rmaj, rmin, data));
        }
    }

    #[test]
    fn round_trip() {
        let mut w = CpioWriter::new();
        w.dir("bin", 0o755);
        w.file("bin/busybox", 0o755, b"\x7fELF12345");
        w.symlink("bin/sh", "busybox");
        w.char_dev("dev/console", 0o600, 5, 1);
        w.file("init", 0o755, b"#!/bin/sh\n");
        let archive = w.finish();
        assert!(archive.len().is_multiple_of(4));
        let entries = parse(&archive);
        let names: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(
            names,
            ["bin", "bin/busybox", "bin/sh", "dev/console", "init"]
        );
        assert_eq!(entries[0].1, 0o040755);
        assert_eq!(entries[1].1, 0o100755);
        assert_eq!(entries[1].4, b"\x7fELF12345");
        assert_eq!(entries[2].1, 0o120777);
        assert_eq!(entries[2].4, b"busybox");
        assert_eq!((entries[3].1, entries[3].2, entries[3].3), (0o020600, 5, 1));
        assert_eq!(entries[4].4, b"#!/bin/sh\n");
    }

    #[test]
    fn header_layout() {
        let archive = CpioWriter::new().finish();
        // 110-byte header + "TRAILER!!!\0" (11) = 121, padded to 124.
        assert_eq!(archive.len(), 124);
        assert!(archive.starts_with(b"070701"));
        assert_eq!(&archive[110..121], b"TRAILER!!!\0");
    }
}
