//! The CMOS real-time clock, read once at boot for the guests' wall clock.

use ::x86_64::instructions::port::Port;

fn read(reg: u8) -> u8 {
    let mut index = Port::<u8>::new(0x70);
    let mut data = Port::<u8>::new(0x71);
    // SAFETY: the standard CMOS index/data ports; only rxen uses them.
    unsafe {
        index.write(reg);
        data.read()
    }
}

/// Seconds since 1970-01-01 UTC (the RTC is assumed to keep UTC, as
/// QEMU's does by default).
pub fn unix_time() -> u64 {
    // Wait out an update in progress, then read twice until stable.
    loop {
        while read(0x0A) & 0x80 != 0 {}
        let a = raw();
        let b = raw();
        if a == b {
            return to_unix(a);
        }
    }
}

fn raw() -> [u8; 7] {
    [
        read(0x00),
        read(0x02),
        read(0x04),
        read(0x07),
        read(0x08),
        read(0x09),
        read(0x0B),
    ]
}

fn to_unix(r: [u8; 7]) -> u64 {
    let binary = r[6] & 0x04 != 0;
    let h24 = r[6] & 0x02 != 0;
    let bcd = |v: u8| {
        if binary {
            u64::from(v)
        } else {
            u64::from((v & 0x0F) + (v >> 4) * 10)
        }
    };
    let sec = bcd(r[0]);
    let min = bcd(r[1]);
    let mut hour = bcd(r[2] & 0x7F);
    if !h24 && r[2] & 0x80 != 0 {
        hour = (hour % 12) + 12;
    }
    let day = bcd(r[3]);
    let month = bcd(r[4]);
    let year = 2000 + bcd(r[5]);
    days_since_epoch(year, month, day) * 86400 + hour * 3600 + min * 60 + sec
}

/// Days from 1970-01-01 to the given civil date (Gregorian).
fn days_since_epoch(year: u64, month: u64, day: u64) -> u64 {
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day.saturating_sub(1);
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}
