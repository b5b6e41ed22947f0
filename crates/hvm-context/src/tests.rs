use alloc::vec;
use alloc::vec::Vec;

use proptest::prelude::*;
use rxen_xen_abi::errno;
use zerocopy::IntoBytes;

use crate::check::*;
use crate::records::*;
use crate::*;

/// The CPU record libxenguest sends for vCPU 0 of a new PVH domain
/// (`xen-toolstack-abi.md` §6.2).
fn toolstack_vcpu0() -> HwCpu {
    HwCpu {
        rip: 0x0100_0000,
        rbx: 0x0300_0000,
        cr0: 0x11,
        cs_base: 0,
        cs_limit: 0xFFFF_FFFF,
        cs_arbytes: 0xC9B,
        ds_limit: 0xFFFF_FFFF,
        ds_arbytes: 0xC93,
        es_limit: 0xFFFF_FFFF,
        es_arbytes: 0xC93,
        ss_limit: 0xFFFF_FFFF,
        ss_arbytes: 0xC93,
        tr_limit: 0x67,
        tr_arbytes: 0x8B,
        dr6: 0xFFFF_0FF0,
        dr7: 0x400,
        ..HwCpu::default()
    }
}

fn limits() -> CpuLimits {
    CpuLimits::amd64(
        X86_CR4_PAE | X86_CR4_PGE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT | X86_CR4_OSXSAVE,
    )
}

fn sample_stream() -> Vec<u8> {
    let mut mtrr = HwMtrr::xen_initial();
    mtrr.msr_mtrr_def_type = TOOLSTACK_MTRR_DEF_TYPE;
    let mut w = Writer::new();
    w.header(&SaveHeader::new(0x00A2_0F10, 2_000_000))
        .record(HVM_SAVE_CODE_CPU, 0, &toolstack_vcpu0())
        .record(HVM_SAVE_CODE_LAPIC, 0, &HwLapic::default())
        .record(HVM_SAVE_CODE_MTRR, 0, &mtrr)
        .record(HVM_SAVE_CODE_MTRR, 1, &mtrr)
        .record(HVM_SAVE_CODE_TSC_ADJUST, 1, &HwTscAdjust { tsc_adjust: 7 });
    w.finish()
}

#[test]
fn writer_layout() {
    let s = sample_stream();
    // HEADER descriptor, then its body: what the toolstack copies verbatim.
    assert_eq!(s[0..2], 1u16.to_le_bytes());
    assert_eq!(s[2..4], 0u16.to_le_bytes());
    assert_eq!(s[4..8], 24u32.to_le_bytes());
    assert_eq!(s[8..12], 0x5438_1286u32.to_le_bytes());
    assert_eq!(s[12..16], 1u32.to_le_bytes());
    // CPU descriptor right after, no padding.
    assert_eq!(s[32..34], 2u16.to_le_bytes());
    assert_eq!(s[36..40], 1032u32.to_le_bytes());
    // END last.
    assert_eq!(s[s.len() - 8..], [0; 8]);
    let total = 5 * 8 + 24 + 1032 + 24 + 240 * 2 + 8 + 8 + 8;
    assert_eq!(s.len(), total);
}

#[test]
fn reader_round_trip() {
    let s = sample_stream();
    let reader = Reader::new(&s).unwrap();
    assert_eq!(reader.header(), SaveHeader::new(0x00A2_0F10, 2_000_000));
    check_header(&reader.header()).unwrap();
    let records: Vec<_> = reader.map(Result::unwrap).collect();
    let kinds: Vec<_> = records.iter().map(|r| (r.typecode, r.instance)).collect();
    assert_eq!(
        kinds,
        [(2, 0), (5, 0), (14, 0), (14, 1), (19, 1)],
        "records in order"
    );
    let cpu = HwCpu::from_record(records[0].body).unwrap();
    assert_eq!(cpu, toolstack_vcpu0());
    let mtrr: HwMtrr = read_exact(records[2].body).unwrap();
    assert_eq!(mtrr.msr_mtrr_def_type, 0x806);
    let adj: HwTscAdjust = read_exact(records[4].body).unwrap();
    assert_eq!(adj.tsc_adjust, 7);

    let (header, all) = validate(&s).unwrap();
    assert_eq!(header.gtsc_khz, 2_000_000);
    assert_eq!(all, records);
}

#[test]
fn reader_end_offset_and_trailing_bytes() {
    let mut s = sample_stream();
    let len = s.len();
    s.extend_from_slice(&[0xFF; 5]);
    let mut r = Reader::new(&s).unwrap();
    assert_eq!(r.by_ref().count(), 5);
    assert_eq!(r.end_offset(), Some(len));
    assert!(r.next().is_none());
}

#[test]
fn reader_rejections() {
    let good = sample_stream();

    assert_eq!(Reader::new(&[]).err(), Some(StreamError::NoHeader));
    assert_eq!(Reader::new(&good[..7]).err(), Some(StreamError::NoHeader));
    assert_eq!(Reader::new(&good[..31]).err(), Some(StreamError::NoHeader));
    assert_eq!(StreamError::NoHeader.errno(), errno::ENODATA);

    // First record not HEADER.
    let mut w = Writer::new();
    w.record(HVM_SAVE_CODE_CPU, 0, &toolstack_vcpu0());
    assert_eq!(Reader::new(&w.finish()).err(), Some(StreamError::NoHeader));

    // HEADER of the wrong length.
    let mut w = Writer::new();
    w.record_bytes(HVM_SAVE_CODE_HEADER, 0, &[0; 20]);
    assert_eq!(Reader::new(&w.finish()).err(), Some(StreamError::NoHeader));

    // Missing END.
    let no_end = &good[..good.len() - 8];
    let last: Vec<_> = Reader::new(no_end).unwrap().collect();
    assert_eq!(last.last(), Some(&Err(StreamError::MissingEnd)));
    assert_eq!(validate(no_end).err(), Some(StreamError::MissingEnd));

    // Truncated descriptor.
    let cut = &good[..good.len() - 3];
    let offset = good.len() - 8;
    assert_eq!(
        validate(cut).err(),
        Some(StreamError::TruncatedDescriptor { offset })
    );
    assert_eq!(
        StreamError::TruncatedDescriptor { offset }.errno(),
        errno::ENODATA
    );

    // Length past the end.
    let mut w = Writer::new();
    w.header(&SaveHeader::new(0, 0));
    let mut s = w.finish();
    s.truncate(32);
    s.extend_from_slice(
        Descriptor {
            typecode: HVM_SAVE_CODE_MTRR,
            instance: 0,
            length: 240,
        }
        .as_bytes(),
    );
    s.extend_from_slice(&[0; 100]);
    let items: Vec<_> = Reader::new(&s).unwrap().collect();
    let err = StreamError::LengthPastEnd {
        offset: 32,
        typecode: HVM_SAVE_CODE_MTRR,
        length: 240,
    };
    assert_eq!(items, [Err(err)], "one error, then nothing");
    assert_eq!(err.errno(), errno::EINVAL);
}

#[test]
fn validate_rejections() {
    let stream = |typecode: u16, body: &[u8]| {
        let mut w = Writer::new();
        w.header(&SaveHeader::new(0, 0))
            .record_bytes(typecode, 0, body);
        w.finish()
    };
    assert_eq!(
        validate(&stream(21, &[])).err(),
        Some(StreamError::UnknownTypecode(21))
    );
    assert_eq!(
        validate(&stream(HVM_SAVE_CODE_MTRR, &[0; 232])).err(),
        Some(StreamError::BadLength {
            typecode: HVM_SAVE_CODE_MTRR,
            instance: 0,
            length: 232
        })
    );
    assert!(validate(&stream(HVM_SAVE_CODE_CPU, &[0; 1016])).is_ok());
    assert!(validate(&stream(HVM_SAVE_CODE_CPU, &[0; 1024])).is_ok());
    assert!(validate(&stream(HVM_SAVE_CODE_CPU, &[0; 1040])).is_err());
    assert!(validate(&stream(HVM_SAVE_CODE_LAPIC, &[0; 16])).is_ok());
    assert!(validate(&stream(HVM_SAVE_CODE_CPU_MSR, &[0; 3])).is_ok());
    // A second HEADER must still be 24 bytes.
    assert!(validate(&stream(HVM_SAVE_CODE_HEADER, &[0; 23])).is_err());
}

#[test]
fn header_checks() {
    check_header(&SaveHeader::new(1, 2)).unwrap();
    let mut h = SaveHeader::new(0, 0);
    h.magic = 0x5438_1287;
    assert_eq!(check_header(&h), Err(HeaderError::BadMagic(0x5438_1287)));
    let mut h = SaveHeader::new(0, 0);
    h.version = 2;
    assert_eq!(check_header(&h), Err(HeaderError::BadVersion(2)));
    assert_eq!(HeaderError::BadVersion(2).errno(), errno::EINVAL);
}

#[test]
fn cpu_record_forms() {
    let mut cpu = toolstack_vcpu0();
    cpu.msr_tsc_aux = 3;
    cpu.tsc = 0x1234;
    cpu.pending_event = PENDING_VALID | (PENDING_TYPE_HW_EXCEPTION << 8) | 14;
    cpu.error_code = 2;
    let native = cpu.as_bytes();
    assert_eq!(HwCpu::from_record(native).unwrap(), cpu);

    // The compat form: no msr_tsc_aux, flags or pad0.
    let mut compat = Vec::from(&native[..992 + 8]);
    compat.extend_from_slice(&cpu.tsc.to_le_bytes());
    compat.extend_from_slice(&cpu.pending_event.to_le_bytes());
    compat.extend_from_slice(&cpu.error_code.to_le_bytes());
    assert_eq!(compat.len(), 1016);
    let old = HwCpu::from_record(&compat).unwrap();
    assert_eq!(old.msr_tsc_aux, 0);
    assert_eq!(old.tsc, 0x1234);
    assert_eq!(old.pending_event, cpu.pending_event);
    assert_eq!(old.error_code, 2);
    assert_eq!(old.flags, XEN_X86_FPU_INITIALISED);
    assert_eq!(old.cr0, cpu.cr0);

    // The 1024-byte form (no flags/pad0): zero-extended, FPU marked valid.
    let short = HwCpu::from_record(&native[..1024]).unwrap();
    assert_eq!(short.msr_tsc_aux, 3);
    assert_eq!(short.tsc, 0x1234);
    assert_eq!(short.flags, XEN_X86_FPU_INITIALISED);
    check_cpu(&short, &limits()).unwrap();

    let mut long = Vec::from(native);
    long.push(0);
    assert_eq!(
        HwCpu::from_record(&long),
        Err(RecordError::Length {
            found: 1033,
            expected: 1032
        })
    );
}

#[test]
fn toolstack_vcpu0_passes() {
    let cpu = toolstack_vcpu0();
    check_cpu(&cpu, &limits()).unwrap();
    // CR4 = 0 passes even when the policy allows nothing.
    check_cpu(&cpu, &CpuLimits::amd64(0)).unwrap();
    let mut loaded = cpu;
    loaded.apply_load_fixups();
    assert_eq!(loaded.rflags, 0x2);
    assert_eq!(loaded.cs_arbytes, 0xC9B);
    assert_eq!(loaded.tr_arbytes, 0x8B);
}

#[test]
fn a_running_long_mode_vcpu_passes() {
    let mut cpu = toolstack_vcpu0();
    cpu.cr0 = 0x8005_0033;
    cpu.cr3 = 0x1_2345_6000;
    cpu.cr4 = X86_CR4_PAE | X86_CR4_PGE | X86_CR4_OSFXSR;
    cpu.msr_efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
    cpu.cs_arbytes = 0xA9B;
    cpu.flags = XEN_X86_FPU_INITIALISED;
    cpu.msr_tsc_aux = 1;
    check_cpu(&cpu, &limits()).unwrap();
}

#[test]
fn cpu_rejections() {
    let l = limits();
    let bad = |f: fn(&mut HwCpu)| {
        let mut cpu = toolstack_vcpu0();
        f(&mut cpu);
        let err = check_cpu(&cpu, &l).unwrap_err();
        assert_eq!(err.errno(), errno::EINVAL);
        err
    };
    assert_eq!(bad(|c| c.pad0 = 1), CpuRecordError::Pad0(1));
    assert_eq!(bad(|c| c.cr0 = 0x1), CpuRecordError::Cr0NoEt(0x1));
    assert_eq!(
        bad(|c| c.cr0 = 0x8000_0010),
        CpuRecordError::Cr0PgWithoutPe(0x8000_0010)
    );
    assert_eq!(
        bad(|c| c.cr0 = 0x11 | 1 << 6),
        CpuRecordError::Cr0Reserved(0x51)
    );
    assert_eq!(
        bad(|c| c.cr0 = 0x11 | 1 << 32),
        CpuRecordError::Cr0Reserved(0x1_0000_0011)
    );
    assert_eq!(
        bad(|c| c.cr4 = X86_CR4_PAE | X86_CR4_SMEP),
        CpuRecordError::Cr4NotAllowed {
            cr4: X86_CR4_PAE | X86_CR4_SMEP,
            disallowed: X86_CR4_SMEP
        }
    );
    assert_eq!(
        bad(|c| c.msr_efer = 1 << 9),
        CpuRecordError::EferUnknownBits(1 << 9)
    );
    // LMA without LME, and LMA+LME without paging.
    assert_eq!(
        bad(|c| c.msr_efer = EFER_LMA),
        CpuRecordError::EferLongModeInconsistent(EFER_LMA)
    );
    assert_eq!(
        bad(|c| c.msr_efer = EFER_LME | EFER_LMA),
        CpuRecordError::EferLongModeInconsistent(EFER_LME | EFER_LMA)
    );
    // SVME without nested virtualisation.
    assert_eq!(
        bad(|c| c.msr_efer = EFER_SVME),
        CpuRecordError::EferNotAllowed(EFER_SVME)
    );
    assert_eq!(
        bad(|c| c.cr3 = 1 << 48),
        CpuRecordError::Cr3TooWide(1 << 48)
    );
    assert_eq!(bad(|c| c.flags = 2), CpuRecordError::UnknownFlags(2));
    assert_eq!(
        bad(|c| c.msr_tsc_aux = 1 << 32),
        CpuRecordError::TscAuxTooWide(1 << 32)
    );
    assert_eq!(
        bad(|c| c.pending_event = PENDING_VALID | 1 << 8),
        CpuRecordError::BadPendingEvent(0x8000_0100)
    );
    assert_eq!(
        bad(|c| c.pending_event = PENDING_VALID | 5 << 8),
        CpuRecordError::BadPendingEvent(0x8000_0500)
    );
    assert_eq!(
        bad(|c| c.pending_event = PENDING_VALID | 1 << 12),
        CpuRecordError::BadPendingEvent(0x8000_1000)
    );
    assert_eq!(
        bad(|c| {
            c.pending_event = PENDING_VALID | PENDING_ERROR_VALID | 3 << 8 | 13;
            c.error_code = 0x1_0000;
        }),
        CpuRecordError::BadErrorCode(0x1_0000)
    );
    // An invalid event (valid bit clear) is not looked at.
    let mut cpu = toolstack_vcpu0();
    cpu.pending_event = 0x7FFF_FFFF;
    check_cpu(&cpu, &l).unwrap();
    // Long mode needs the policy's LM bit.
    let mut no_lm = l;
    no_lm.efer_allowed = EFER_SCE;
    let mut cpu = toolstack_vcpu0();
    cpu.msr_efer = EFER_LME;
    assert_eq!(
        check_cpu(&cpu, &no_lm),
        Err(CpuRecordError::EferNotAllowed(EFER_LME))
    );
}

#[test]
fn arbytes_unfold() {
    let mut cpu = toolstack_vcpu0();
    cpu.cs_arbytes = 0xC09B; // old Intel VMCS layout
    cpu.ds_arbytes = 0x0C93; // already folded: unchanged
    cpu.rflags = 0x200;
    cpu.apply_load_fixups();
    assert_eq!(cpu.cs_arbytes, 0xC9B);
    assert_eq!(cpu.ds_arbytes, 0xC93);
    assert_eq!(cpu.rflags, 0x202);
}

#[test]
fn mtrr_checks() {
    let init = HwMtrr::xen_initial();
    assert_eq!(init.msr_pat_cr, 0x0007_0406_0007_0406);
    assert_eq!(init.msr_mtrr_cap, 0x508);
    assert_eq!(init.msr_mtrr_def_type, 0);
    check_mtrr(&init).unwrap();
    let mut m = init;
    m.msr_mtrr_def_type = 0x806;
    check_mtrr(&m).unwrap();
    m.msr_mtrr_def_type = 0xC06;
    check_mtrr(&m).unwrap();

    let mut m = init;
    m.msr_mtrr_cap = 0x509;
    assert_eq!(check_mtrr(&m), Err(MtrrError::TooManyVariableRanges(9)));
    let mut m = init;
    m.msr_mtrr_def_type = 0x1806;
    assert_eq!(check_mtrr(&m), Err(MtrrError::DefTypeReserved(0x1806)));
    let mut m = init;
    m.msr_mtrr_def_type = 0x802;
    assert_eq!(check_mtrr(&m), Err(MtrrError::DefTypeInvalid(2)));
    assert_eq!(MtrrError::DefTypeInvalid(2).errno(), errno::EINVAL);
}

#[test]
fn cpu_msr_records() {
    let entries = [
        HwMsrEntry {
            index: 0x48,
            rsvd: 0,
            val: 1,
        },
        HwMsrEntry {
            index: 0xC001_011F,
            rsvd: 0,
            val: 4,
        },
    ];
    let mut body = Vec::from(HwMsr { count: 2, pad: 0 }.as_bytes());
    body.extend_from_slice(entries.as_bytes());
    let got: Vec<_> = CpuMsrs::parse(&body).unwrap().collect();
    assert_eq!(got, entries);
    assert!(got.iter().all(|e| CPU_MSR_KNOWN.contains(&e.index)));

    let empty = HwMsr { count: 0, pad: 0 };
    assert_eq!(
        CpuMsrs::parse(empty.as_bytes()).err(),
        Some(RecordError::Length {
            found: 8,
            expected: 24
        })
    );
    let mut wrong_count = body.clone();
    wrong_count[0] = 3;
    assert_eq!(
        CpuMsrs::parse(&wrong_count).err(),
        Some(RecordError::MsrFormat)
    );
    let mut rsvd = body.clone();
    rsvd[8 + 16 + 4] = 1;
    assert_eq!(CpuMsrs::parse(&rsvd).err(), Some(RecordError::MsrFormat));
    assert_eq!(RecordError::MsrFormat.errno(), errno::EOPNOTSUPP);
}

#[test]
fn cpu_xsave_records() {
    let mut body = vec![0u8; 24 + 832];
    body[8] = 0x7; // xcr0 = x87|SSE|AVX
    body[16] = 0x7;
    body[24 + 512] = 0x3; // xstate_bv
    let x = CpuXsave::parse(&body).unwrap();
    assert_eq!(x.head.xcr0, 7);
    assert_eq!(x.hdr.xstate_bv, 3);
    assert_eq!(x.image.len(), 832);

    assert_eq!(
        CpuXsave::parse(&body[..599]).err(),
        Some(RecordError::Length {
            found: 599,
            expected: 600
        })
    );
    body[24 + 512 + 15] = 0x80; // xcomp_bv bit 63
    assert_eq!(
        CpuXsave::parse(&body).err(),
        Some(RecordError::CompactedXsave)
    );
}

#[test]
fn typecode_tables() {
    assert_eq!(typecode_name(HVM_SAVE_CODE_CPU_MSR), "CPU_MSR");
    assert_eq!(typecode_name(21), "unknown");
    assert!(is_known_typecode(20) && !is_known_typecode(21));
    assert!(is_per_vcpu(HVM_SAVE_CODE_MTRR) && !is_per_vcpu(HVM_SAVE_CODE_PCI_IRQ));
    assert_eq!(
        length_rule(HVM_SAVE_CODE_LAPIC_REGS),
        Some(LengthRule::Exact(1024))
    );
    assert_eq!(
        length_rule(HVM_SAVE_CODE_CPU),
        Some(LengthRule::AtMost(1032))
    );
    assert_eq!(length_rule(HVM_SAVE_CODE_END), None);
    for code in 1..=HVM_SAVE_CODE_MAX {
        assert!(length_rule(code).is_some(), "{code}");
        assert_ne!(typecode_name(code), "unknown");
    }
}

#[test]
fn read_helpers() {
    assert!(read_exact::<HwLapic>(&[0; 24]).is_ok());
    assert!(read_exact::<HwLapic>(&[0; 23]).is_err());
    let l: HwLapic = read_zero_extended(&[1; 8]).unwrap();
    assert_eq!(l.apic_base_msr, u64::from_le_bytes([1; 8]));
    assert_eq!(l.tdt_msr, 0);
    assert!(read_zero_extended::<HwLapic>(&[0; 25]).is_err());
}

fn any_record() -> impl Strategy<Value = (u16, u16, Vec<u8>)> {
    (
        1u16..=25,
        any::<u16>(),
        prop::collection::vec(any::<u8>(), 0..300),
    )
}

proptest! {
    #[test]
    fn random_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..2048)) {
        if let Ok(reader) = Reader::new(&data) {
            for record in reader.take(10_000).flatten() {
                let _ = HwCpu::from_record(record.body);
                let _ = CpuMsrs::parse(record.body).map(Iterator::count);
                let _ = CpuXsave::parse(record.body);
                let _ = read_exact::<HwMtrr>(record.body).map(|m| check_mtrr(&m));
            }
        }
        let _ = validate(&data);
        let _ = HwCpu::from_record(&data).map(|c| check_cpu(&c, &limits()));
        let _ = CpuMsrs::parse(&data).map(Iterator::count);
        let _ = CpuXsave::parse(&data);
    }

    #[test]
    fn random_bytes_after_a_header_never_panic(tail in prop::collection::vec(any::<u8>(), 0..1024)) {
        let mut w = Writer::new();
        w.header(&SaveHeader::new(0, 0));
        let mut data = w.finish();
        data.truncate(32);
        data.extend_from_slice(&tail);
        let reader = Reader::new(&data).unwrap();
        let items: Vec<_> = reader.collect();
        // At most one error, and only as the last item.
        let errors = items.iter().filter(|i| i.is_err()).count();
        prop_assert!(errors <= 1);
        if errors == 1 {
            prop_assert!(items.last().unwrap().is_err());
        }
        let _ = validate(&data);
    }

    #[test]
    fn mutated_streams_never_panic(
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut data = sample_stream();
        for (at, byte) in &flips {
            let i = at.index(data.len());
            data[i] = *byte;
        }
        let data = &data[..cut.index(data.len() + 1)];
        let _ = validate(data);
        if let Ok(reader) = Reader::new(data) {
            let _ = check_header(&reader.header());
            for record in reader.flatten() {
                match record.typecode {
                    HVM_SAVE_CODE_CPU => {
                        let _ = HwCpu::from_record(record.body).map(|c| check_cpu(&c, &limits()));
                    }
                    HVM_SAVE_CODE_MTRR => {
                        let _ = read_exact::<HwMtrr>(record.body).map(|m| check_mtrr(&m));
                    }
                    _ => {
                        let _ = read_zero_extended::<HwLapic>(record.body);
                    }
                }
            }
        }
    }

    #[test]
    fn streams_round_trip(records in prop::collection::vec(any_record(), 0..20)) {
        let mut w = Writer::new();
        w.header(&SaveHeader::new(1, 2));
        for (typecode, instance, body) in &records {
            w.record_bytes(*typecode, *instance, body);
        }
        let data = w.finish();
        let reader = Reader::new(&data).unwrap();
        prop_assert_eq!(reader.header(), SaveHeader::new(1, 2));
        let got: Vec<_> = reader.map(Result::unwrap).collect();
        prop_assert_eq!(got.len(), records.len());
        for (g, (typecode, instance, body)) in got.iter().zip(&records) {
            prop_assert_eq!(g.typecode, *typecode);
            prop_assert_eq!(g.instance, *instance);
            prop_assert_eq!(g.body, &body[..]);
        }
        // Every strict prefix is rejected.
        for cut in [0, 1, 8, 31, 32, data.len() / 2, data.len() - 8, data.len() - 1] {
            let prefix = &data[..cut.min(data.len() - 1)];
            let ok = Reader::new(prefix).map(|r| r.collect::<Result<Vec<_>, _>>());
            prop_assert!(!matches!(ok, Ok(Ok(_))), "prefix {} accepted", prefix.len());
        }
    }
}

/// An x2APIC guest's APIC: software-enabled, vectors in service and
/// requested in several banks, its LVTs programmed.
fn used_lapic() -> LapicState {
    LapicState {
        id: 6,
        version: 0x0005_0014,
        tpr: 0x20,
        ldr: 1 << 6,
        svr: 0x1FF,
        esr: 0,
        lvt: [0x0002_00EC, 0x1_0000, 0x400, 0x700, 0x400, 0xFE, 0x1_0000],
        timer_initial: 0x1234,
        timer_divide: 0xB,
        isr: [0, 1 << 33, 0, 1 << 63],
        irr: [1 << 20, 0, 1 << 7, 0],
    }
}

#[test]
fn lapic_records_say_x2apic_enabled_and_lay_out_registers_at_their_mmio_offsets() {
    let s = used_lapic();
    let (hw, regs) = s.records(false);
    assert_eq!(hw.apic_base_msr, 0xFEE0_0C00);
    assert_eq!(s.records(true).0.apic_base_msr, 0xFEE0_0D00);
    assert_eq!(hw.disabled, 0);
    // Divide configuration 0xB: divide by 1.
    assert_eq!(hw.timer_divisor, 1);
    let reg = |off: usize| u32::from_le_bytes(regs.data[off..off + 4].try_into().unwrap());
    assert_eq!(reg(0x20), 6);
    assert_eq!(reg(0x80), 0x20);
    assert_eq!(reg(0xF0), 0x1FF);
    assert_eq!(reg(0x320), 0x0002_00EC);
    assert_eq!(reg(0x370), 0xFE);
    assert_eq!(reg(0x2F0), 0x1_0000);
    // Vector 97 (bank 3, bit 1) and 255 (bank 7, bit 31) in service.
    assert_eq!(reg(0x130), 2);
    assert_eq!(reg(0x170), 1 << 31);
    assert_eq!(reg(0x200), 1 << 20);
    assert_eq!(reg(0x240), 1 << 7);
    // A timer rxen does not run is sent stopped.
    assert_eq!(reg(0x380), 0);
    assert_eq!(reg(0x3E0), 0xB);
}

#[test]
fn lapic_records_load_back_into_the_same_state_but_the_loader_s_id() {
    let s = used_lapic();
    let (hw, regs) = s.records(false);
    let ours = LapicState {
        id: 6,
        version: 0x0005_0014,
        ldr: 1 << 6,
        ..LapicState::default()
    };
    let back = LapicState::from_records(&hw, &regs, &ours)
        .unwrap()
        .unwrap();
    assert_eq!(
        back,
        LapicState {
            timer_initial: 0,
            ..s
        }
    );
    let mut other = ours;
    other.id = 2;
    assert_eq!(
        LapicState::from_records(&hw, &regs, &other)
            .unwrap()
            .unwrap()
            .id,
        2
    );
}

#[test]
fn a_software_disabled_lapic_record_loads_disabled() {
    let mut s = used_lapic();
    let (mut hw, regs) = s.records(false);
    hw.disabled = lapic::VLAPIC_SW_DISABLED;
    let back = LapicState::from_records(&hw, &regs, &s).unwrap().unwrap();
    assert_eq!(back.svr & lapic::SVR_ENABLE, 0);
    s.svr = 0xFF;
    assert_eq!(s.records(false).0.disabled, lapic::VLAPIC_SW_DISABLED);
}

#[test]
fn an_unused_xapic_lapic_record_is_skipped_and_a_used_one_refused() {
    let s = used_lapic();
    let (mut hw, mut regs) = s.records(false);
    // A vCPU the guest never started, as Xen saves it: xAPIC, SVR 0xFF.
    hw.apic_base_msr = 0xFEE0_0800;
    hw.disabled = lapic::VLAPIC_SW_DISABLED;
    regs.data[0xF0..0xF4].copy_from_slice(&0xFFu32.to_le_bytes());
    assert_eq!(LapicState::from_records(&hw, &regs, &s), Ok(None));
    // The guest enabled it in xAPIC mode: rxen cannot carry that on.
    hw.disabled = 0;
    regs.data[0xF0..0xF4].copy_from_slice(&0x1FFu32.to_le_bytes());
    assert_eq!(
        LapicState::from_records(&hw, &regs, &s),
        Err(lapic::UnsupportedApicMode)
    );
    hw.apic_base_msr = 0xFEE0_0400;
    assert_eq!(
        LapicState::from_records(&hw, &regs, &s),
        Err(lapic::UnsupportedApicMode)
    );
}

#[test]
fn lapic_timer_divisor_is_xen_s() {
    // Divide configuration (TDCR bits 3, 1, 0) → divisor.
    for (divide, divisor) in [
        (0x0, 2),
        (0x1, 4),
        (0x2, 8),
        (0x3, 16),
        (0x8, 32),
        (0x9, 64),
        (0xA, 128),
        (0xB, 1),
    ] {
        assert_eq!(lapic::timer_divisor(divide), divisor, "{divide:#x}");
    }
}

proptest! {
    /// Whatever the registers, records then load give them back (the
    /// timer's count aside), and neither panics.
    #[test]
    fn lapic_state_survives_its_records(
        tpr in 0u32..256, svr in 0x100u32..0x2000, lvt in any::<[u32; 7]>(),
        divide in any::<u32>(), isr in any::<[u64; 4]>(), irr in any::<[u64; 4]>(),
    ) {
        let s = LapicState { tpr, svr, lvt, timer_divide: divide, isr, irr, ..used_lapic() };
        let (hw, regs) = s.records(false);
        let back = LapicState::from_records(&hw, &regs, &s).unwrap().unwrap();
        prop_assert_eq!(back, LapicState { timer_initial: 0, ..s });
    }

    #[test]
    fn any_lapic_record_loads_or_is_refused_without_panicking(
        base in any::<u64>(), disabled in any::<u32>(), page in proptest::collection::vec(any::<u8>(), 1024),
    ) {
        let hw = HwLapic { apic_base_msr: base, disabled, timer_divisor: 0, tdt_msr: 0 };
        let mut regs = HwLapicRegs { data: [0; 1024] };
        regs.data.copy_from_slice(&page);
        let _ = LapicState::from_records(&hw, &regs, &used_lapic());
    }
}

#[test]
fn only_xsave_images_xrstor_can_load_are_restorable() {
    let mut body = vec![0u8; 24 + 832];
    body[8] = 0x7;
    body[24 + 512] = 0x3; // xstate_bv: x87|SSE
    body[24 + 24..24 + 28].copy_from_slice(&0x1F80u32.to_le_bytes());
    let ok = |b: &[u8], xcr0| CpuXsave::parse(b).unwrap().restorable_under(xcr0);
    assert!(ok(&body, 0x7));
    assert!(ok(&body, 0x3));
    // A component XCR0 does not enable.
    assert!(!ok(&body, 0x1));
    // A reserved header byte.
    let mut b = body.clone();
    b[24 + 512 + 20] = 1;
    assert!(!ok(&b, 0x7));
    // A reserved MXCSR bit.
    let mut b = body.clone();
    b[24 + 24..24 + 28].copy_from_slice(&0x1_1F80u32.to_le_bytes());
    assert!(!ok(&b, 0x7));
}

#[test]
fn a_cpu_record_whose_mxcsr_would_fault_is_refused() {
    let limits = CpuLimits::amd64(u64::MAX);
    let mut cpu = toolstack_vcpu0();
    cpu.flags = XEN_X86_FPU_INITIALISED;
    cpu.fpu_regs[24..28].copy_from_slice(&0x1F80u32.to_le_bytes());
    assert_eq!(check_cpu(&cpu, &limits), Ok(()));
    cpu.fpu_regs[24..28].copy_from_slice(&0x8000_1F80u32.to_le_bytes());
    assert_eq!(
        check_cpu(&cpu, &limits),
        Err(CpuRecordError::MxcsrReserved(0x8000_1F80))
    );
    // Not looked at when the record says the FPU was never used.
    cpu.flags = 0;
    assert_eq!(check_cpu(&cpu, &limits), Ok(()));
}
