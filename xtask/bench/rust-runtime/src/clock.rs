//! The system-wide monotonic clock, in nanoseconds.
//!
//! The stand-in server stamps each line with Python's `time.monotonic_ns()`, which reads `CLOCK_MONOTONIC`;
//! `std::time::Instant` reads the same clock on Linux but keeps its value opaque, so it cannot be compared
//! with another process's stamps. This reads `CLOCK_MONOTONIC` itself.

pub fn monotonic_ns() -> u64 {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid, writable timespec; CLOCK_MONOTONIC exists on every Linux.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    assert_eq!(status, 0, "clock_gettime(CLOCK_MONOTONIC) failed");
    now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64
}
