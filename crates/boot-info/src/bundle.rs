//! Module bundles: several boot files packed into one.
//!
//! QEMU's PVH `-kernel` boot passes exactly one module (`-initrd`), so the
//! guest kernels, initrds and configuration the hypervisor needs travel as
//! one bundle. Every file starts on a 4 KiB boundary of the bundle, so once
//! the bundle is loaded page-aligned a file can be mapped into a guest
//! without copying.
//!
//! Format (little-endian):
//!
//! ```text
//! 0   header  magic "RXENMOD1" (8) | count: u32 | reserved: u32 (0)
//! 16  count × entry  offset: u64 | size: u64 | name: [u8; 512]
//!     data: file i at `offset` (from bundle start, multiple of 4096)
//! ```
//!
//! Names are UTF-8, at most 511 bytes, NUL-padded, non-empty and unique (a
//! module's name is its command line, which for dom0's kernel is the
//! kernel's command line, hence the room). The
//! parser checks all of this (and bounds, overflow, overlap) up front, so
//! iterating a parsed [`Bundle`] cannot fail.

use core::fmt;
use core::mem::size_of;

use zerocopy::little_endian::{U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// First eight bytes of every bundle.
pub const MAGIC: [u8; 8] = *b"RXENMOD1";
/// Alignment of every file inside the bundle.
pub const ALIGN: u64 = 4096;
/// Most entries a bundle may have.
pub const MAX_ENTRIES: usize = 64;
/// Size of the name field.
pub const NAME_FIELD: usize = 512;
/// Longest name: one byte of the field is always a terminating NUL.
pub const MAX_NAME_LEN: usize = NAME_FIELD - 1;

/// The 16-byte header.
#[derive(Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct RawHeader {
    magic: [u8; 8],
    count: U32,
    reserved: U32,
}

/// One 528-byte table entry.
#[derive(Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct RawEntry {
    offset: U64,
    size: U64,
    name: [u8; NAME_FIELD],
}

const HEADER_SIZE: usize = size_of::<RawHeader>();
const ENTRY_SIZE: usize = size_of::<RawEntry>();
const _: () = assert!(HEADER_SIZE == 16 && ENTRY_SIZE == 16 + NAME_FIELD);

/// Why bytes are not a valid bundle (or a bundle cannot be written).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BundleError {
    /// Shorter than the header or the entry table.
    Truncated,
    /// Does not start with [`MAGIC`].
    BadMagic,
    /// The reserved header field is not zero.
    BadReserved,
    /// More than [`MAX_ENTRIES`] entries.
    TooManyEntries,
    /// Entry `index` starts at an offset that is not a multiple of [`ALIGN`].
    Misaligned {
        /// Entry index.
        index: usize,
    },
    /// Entry `index` lies (partly) outside the bundle or inside the header
    /// and table.
    OutOfBounds {
        /// Entry index.
        index: usize,
    },
    /// Entry `index` overlaps the data of an earlier entry.
    Overlap {
        /// Entry index.
        index: usize,
    },
    /// Entry `index` has an empty name, non-UTF-8 bytes, no terminating NUL
    /// or junk after it.
    BadName {
        /// Entry index.
        index: usize,
    },
    /// Entry `index` has the same name as an earlier entry.
    DuplicateName {
        /// Entry index.
        index: usize,
    },
}

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("bundle truncated"),
            Self::BadMagic => f.write_str("not a module bundle (bad magic)"),
            Self::BadReserved => f.write_str("bundle header reserved field not zero"),
            Self::TooManyEntries => write!(f, "bundle has more than {MAX_ENTRIES} entries"),
            Self::Misaligned { index } => write!(f, "bundle entry {index} not 4 KiB aligned"),
            Self::OutOfBounds { index } => write!(f, "bundle entry {index} out of bounds"),
            Self::Overlap { index } => write!(f, "bundle entry {index} overlaps another"),
            Self::BadName { index } => write!(f, "bundle entry {index} has an invalid name"),
            Self::DuplicateName { index } => write!(f, "bundle entry {index} has a duplicate name"),
        }
    }
}

/// One file in a bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BundleEntry<'a> {
    /// The file's name.
    pub name: &'a str,
    /// Offset of the data from the start of the bundle (4 KiB aligned).
    pub offset: u64,
    /// Size of the data in bytes.
    pub size: u64,
    /// The data itself.
    pub data: &'a [u8],
}

/// A validated bundle borrowed from memory.
#[derive(Clone, Copy, Debug)]
pub struct Bundle<'a> {
    bytes: &'a [u8],
    count: usize,
}

/// Whether `bytes` start with the bundle magic (a cheap test to tell a
/// bundle from a lone kernel or initrd; [`Bundle::parse`] validates).
pub fn is_bundle(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC)
}

impl<'a> Bundle<'a> {
    /// Validates `bytes` as a bundle. Never panics, whatever the input.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, BundleError> {
        let (header, _) = RawHeader::ref_from_prefix(bytes).map_err(|_| BundleError::Truncated)?;
        if header.magic != MAGIC {
            return Err(BundleError::BadMagic);
        }
        if header.reserved.get() != 0 {
            return Err(BundleError::BadReserved);
        }
        let count = usize::try_from(header.count.get()).map_err(|_| BundleError::TooManyEntries)?;
        if count > MAX_ENTRIES {
            return Err(BundleError::TooManyEntries);
        }
        let table_end = HEADER_SIZE + count * ENTRY_SIZE;
        if bytes.len() < table_end {
            return Err(BundleError::Truncated);
        }
        let bundle = Self { bytes, count };
        for index in 0..count {
            let entry = bundle.decode(index)?;
            for earlier in 0..index {
                let other = bundle.decode(earlier)?;
                if other.name == entry.name {
                    return Err(BundleError::DuplicateName { index });
                }
                let disjoint = entry.size == 0
                    || other.size == 0
                    || entry.offset + entry.size <= other.offset
                    || other.offset + other.size <= entry.offset;
                if !disjoint {
                    return Err(BundleError::Overlap { index });
                }
            }
        }
        Ok(bundle)
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the bundle holds no files.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The bundle's bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// File `index`, if it exists.
    pub fn get(&self, index: usize) -> Option<BundleEntry<'a>> {
        if index >= self.count {
            return None;
        }
        self.decode(index).ok()
    }

    /// The file called `name`, if any.
    pub fn find(&self, name: &str) -> Option<BundleEntry<'a>> {
        self.iter().find(|e| e.name == name)
    }

    /// All files in table order.
    pub fn iter(&self) -> impl Iterator<Item = BundleEntry<'a>> + 'a {
        let bundle = *self;
        // Every entry was validated by `parse`, so `decode` succeeds.
        (0..self.count).filter_map(move |i| bundle.decode(i).ok())
    }

    /// Reads and validates entry `index` on its own (bounds, alignment,
    /// name); `parse` has checked that the table holds `index`.
    fn decode(&self, index: usize) -> Result<BundleEntry<'a>, BundleError> {
        let at = HEADER_SIZE + index * ENTRY_SIZE;
        let raw = self
            .bytes
            .get(at..)
            .and_then(|b| RawEntry::ref_from_prefix(b).ok())
            .map(|(raw, _)| raw)
            .ok_or(BundleError::Truncated)?;
        let (offset, size) = (raw.offset.get(), raw.size.get());
        if offset % ALIGN != 0 {
            return Err(BundleError::Misaligned { index });
        }
        let table_end = (HEADER_SIZE + self.count * ENTRY_SIZE) as u64;
        let end = offset
            .checked_add(size)
            .ok_or(BundleError::OutOfBounds { index })?;
        if offset < table_end || end > self.bytes.len() as u64 {
            return Err(BundleError::OutOfBounds { index });
        }
        // Both bounds are <= bytes.len(), so they fit in usize.
        let data = self
            .bytes
            .get(offset as usize..end as usize)
            .ok_or(BundleError::OutOfBounds { index })?;
        let name = decode_name(&raw.name).ok_or(BundleError::BadName { index })?;
        Ok(BundleEntry {
            name,
            offset,
            size,
            data,
        })
    }
}

/// Name of the field: non-empty UTF-8, then at least one NUL, then only NULs.
fn decode_name(field: &[u8; NAME_FIELD]) -> Option<&str> {
    let len = field.iter().position(|&b| b == 0)?;
    if len == 0 || field[len..].iter().any(|&b| b != 0) {
        return None;
    }
    core::str::from_utf8(&field[..len]).ok()
}

/// Packs `entries` (name, contents) into a bundle, each file 4 KiB aligned.
///
/// Fails with [`BundleError::BadName`] for an empty name, a name longer than
/// [`MAX_NAME_LEN`] bytes or containing NUL, [`BundleError::DuplicateName`]
/// for a repeated name and [`BundleError::TooManyEntries`] beyond
/// [`MAX_ENTRIES`]; the output always parses.
#[cfg(any(test, feature = "std"))]
pub fn try_write_bundle(entries: &[(&str, &[u8])]) -> Result<std::vec::Vec<u8>, BundleError> {
    if entries.len() > MAX_ENTRIES {
        return Err(BundleError::TooManyEntries);
    }
    for (index, (name, _)) in entries.iter().enumerate() {
        if name.is_empty() || name.len() > MAX_NAME_LEN || name.contains('\0') {
            return Err(BundleError::BadName { index });
        }
        if entries[..index].iter().any(|(other, _)| other == name) {
            return Err(BundleError::DuplicateName { index });
        }
    }

    let table_end = HEADER_SIZE + entries.len() * ENTRY_SIZE;
    let mut out = std::vec![0u8; table_end];
    let header = RawHeader {
        magic: MAGIC,
        count: U32::new(entries.len() as u32), // <= MAX_ENTRIES
        reserved: U32::new(0),
    };
    out[..HEADER_SIZE].copy_from_slice(header.as_bytes());
    for (index, (name, data)) in entries.iter().enumerate() {
        let offset = out.len().next_multiple_of(ALIGN as usize);
        out.resize(offset, 0);
        out.extend_from_slice(data);
        let mut field = [0u8; NAME_FIELD];
        field[..name.len()].copy_from_slice(name.as_bytes());
        let entry = RawEntry {
            offset: U64::new(offset as u64),
            size: U64::new(data.len() as u64),
            name: field,
        };
        let at = HEADER_SIZE + index * ENTRY_SIZE;
        out[at..at + ENTRY_SIZE].copy_from_slice(entry.as_bytes());
    }
    Ok(out)
}

/// Packs `entries` (name, contents) into a bundle; the form the test harness
/// uses, where names are fixed strings chosen by the test author.
///
/// # Panics
///
/// On the invalid input [`try_write_bundle`] reports as an error (bad or
/// duplicate names, too many entries): that is a bug in the calling tool,
/// not a runtime condition.
#[cfg(any(test, feature = "std"))]
pub fn write_bundle(entries: &[(&str, &[u8])]) -> std::vec::Vec<u8> {
    match try_write_bundle(entries) {
        Ok(bytes) => bytes,
        Err(e) => panic!("cannot write module bundle: {e}"),
    }
}

#[cfg(test)]
mod tests;
