//! Building and walking a save-record stream.
//!
//! A stream is a sequence of `[Descriptor][body]` entries with no padding:
//! HEADER first, END (typecode 0) last. [`Writer`] produces one;
//! [`Reader`] walks one from untrusted bytes and never panics.

use alloc::vec::Vec;

use zerocopy::{FromBytes, Immutable, IntoBytes};

use crate::records::{
    is_known_typecode, length_rule, Descriptor, LengthRule, SaveHeader, HVM_SAVE_CODE_END,
    HVM_SAVE_CODE_HEADER,
};
use crate::StreamError;

const DESC: usize = core::mem::size_of::<Descriptor>();
const HEADER_LEN: usize = core::mem::size_of::<SaveHeader>();

/// Builds a stream in memory: [`Writer::header`] first, then records, then
/// [`Writer::finish`].
#[derive(Clone, Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty writer with room for `bytes`.
    pub fn with_capacity(bytes: usize) -> Self {
        Self {
            buf: Vec::with_capacity(bytes),
        }
    }

    /// Appends the HEADER record (instance 0). Call it first.
    pub fn header(&mut self, header: &SaveHeader) -> &mut Self {
        self.record(HVM_SAVE_CODE_HEADER, 0, header)
    }

    /// Appends a record whose body is `body`'s bytes.
    pub fn record<T: IntoBytes + Immutable + ?Sized>(
        &mut self,
        typecode: u16,
        instance: u16,
        body: &T,
    ) -> &mut Self {
        self.record_bytes(typecode, instance, body.as_bytes())
    }

    /// Appends a record with a raw body. A body of 4 GiB or more cannot be
    /// described and is cut to `u32::MAX` bytes (no real record comes near).
    pub fn record_bytes(&mut self, typecode: u16, instance: u16, body: &[u8]) -> &mut Self {
        let length = u32::try_from(body.len()).unwrap_or(u32::MAX);
        let desc = Descriptor {
            typecode,
            instance,
            length,
        };
        self.buf.extend_from_slice(desc.as_bytes());
        self.buf.extend_from_slice(&body[..length as usize]);
        self
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Appends END and returns the stream.
    pub fn finish(mut self) -> Vec<u8> {
        self.record_bytes(HVM_SAVE_CODE_END, 0, &[]);
        self.buf
    }
}

/// One record of a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// `HVM_SAVE_CODE_*`.
    pub typecode: u16,
    /// Instance (vCPU id for per-vCPU types).
    pub instance: u16,
    /// The body (unaligned: decode it with `read_exact` and friends).
    pub body: &'a [u8],
}

/// Walks a stream. [`Reader::new`] checks that it starts with a well-formed
/// HEADER record; iterating yields the records after it, up to (not
/// including) END, then `None`. A malformed stream yields one `Err` and then
/// `None`.
///
/// Like Xen's loader, the reader stops at the first END and ignores its
/// length and anything after it. It does not judge typecodes or body
/// lengths; [`validate`] does that the way Xen 4.17 does.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    header: SaveHeader,
    done: bool,
    end: Option<usize>,
}

impl<'a> Reader<'a> {
    /// Starts reading `data`: its first record must be HEADER with a
    /// 24-byte body (Xen: `-ENODATA` otherwise). Magic and version are not
    /// checked here ([`crate::check_header`]).
    pub fn new(data: &'a [u8]) -> Result<Self, StreamError> {
        let (desc, _) = Descriptor::read_from_prefix(data).map_err(|_| StreamError::NoHeader)?;
        if desc.typecode != HVM_SAVE_CODE_HEADER || desc.length as usize != HEADER_LEN {
            return Err(StreamError::NoHeader);
        }
        let body = data
            .get(DESC..DESC + HEADER_LEN)
            .ok_or(StreamError::NoHeader)?;
        let header = SaveHeader::read_from_bytes(body).map_err(|_| StreamError::NoHeader)?;
        Ok(Self {
            data,
            pos: DESC + HEADER_LEN,
            header,
            done: false,
            end: None,
        })
    }

    /// The HEADER record's body.
    pub fn header(&self) -> SaveHeader {
        self.header
    }

    /// Offset just past the END descriptor, once it has been reached.
    pub fn end_offset(&self) -> Option<usize> {
        self.end
    }

    fn step(&mut self) -> Option<Result<Record<'a>, StreamError>> {
        let offset = self.pos;
        let rest = &self.data[offset.min(self.data.len())..];
        if rest.is_empty() {
            return Some(Err(StreamError::MissingEnd));
        }
        let Ok((desc, after)) = Descriptor::read_from_prefix(rest) else {
            return Some(Err(StreamError::TruncatedDescriptor { offset }));
        };
        if desc.typecode == HVM_SAVE_CODE_END {
            self.end = Some(offset + DESC);
            return None;
        }
        let length = desc.length as usize;
        let Some(body) = after.get(..length) else {
            return Some(Err(StreamError::LengthPastEnd {
                offset,
                typecode: desc.typecode,
                length: desc.length,
            }));
        };
        self.pos = offset + DESC + length;
        Some(Ok(Record {
            typecode: desc.typecode,
            instance: desc.instance,
            body,
        }))
    }
}

impl<'a> Iterator for Reader<'a> {
    type Item = Result<Record<'a>, StreamError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.step();
        if !matches!(item, Some(Ok(_))) {
            self.done = true;
        }
        item
    }
}

/// Walks a whole stream and checks its framing the way Xen 4.17's loader
/// does before any record handler runs: HEADER first, known typecodes,
/// fixed-size records of their exact size (or shorter, for the types Xen
/// zero-extends), and a terminating END. Returns the header and the records
/// after it. It does not check the header's magic/version or any record's
/// contents.
pub fn validate(data: &[u8]) -> Result<(SaveHeader, Vec<Record<'_>>), StreamError> {
    let mut reader = Reader::new(data)?;
    let header = reader.header();
    let mut records = Vec::new();
    for record in reader.by_ref() {
        let record = record?;
        if !is_known_typecode(record.typecode) {
            return Err(StreamError::UnknownTypecode(record.typecode));
        }
        let ok = match length_rule(record.typecode) {
            Some(LengthRule::Exact(n)) => record.body.len() == n as usize,
            Some(LengthRule::AtMost(n)) => record.body.len() <= n as usize,
            Some(LengthRule::Variable) => true,
            // Only END and unknown codes have no rule; both are handled.
            None => false,
        };
        if !ok {
            return Err(StreamError::BadLength {
                typecode: record.typecode,
                instance: record.instance,
                length: record.body.len(),
            });
        }
        records.push(record);
    }
    if reader.end_offset().is_none() {
        // The loop ended on an error that `?` already returned, so this is
        // unreachable in practice; keep the answer Xen gives anyway.
        return Err(StreamError::MissingEnd);
    }
    Ok((header, records))
}
