//! The CPU time of chosen threads, as the kernel counts it.
//!
//! The main world's systems run on the main thread and the compute pool's threads. Where other
//! threads want the same cores (a software rasteriser's two, the simulator, the MQTT client on a
//! 2-core PC), the wall time of a frame's systems counts the time they waited for a core as well
//! as the time they ran: at 10,000 assets a third of it. Summing the CPU clocks of those threads
//! across a frame counts only the running. It is an upper bound of the main world's own CPU
//! time: the render world's tasks that share the compute pool in those moments count too.

use std::sync::{Arc, Mutex, MutexGuard};

/// Per-thread CPU clocks, summed. Cheap to clone: the clones share the threads.
#[derive(bevy::prelude::Resource, Clone, Default)]
pub struct ThreadClocks {
    clocks: Arc<Mutex<Vec<os::Clock>>>,
}

impl ThreadClocks {
    /// Counts the calling thread from now on; once, however often it is added. False where the
    /// platform has no per-thread clocks.
    pub fn add_current_thread(&self) -> bool {
        let Some(clock) = os::current_thread_clock() else {
            return false;
        };
        let mut clocks = self.lock();
        if !clocks.contains(&clock) {
            clocks.push(clock);
        }
        true
    }

    /// How many threads are counted.
    pub fn threads(&self) -> usize {
        self.lock().len()
    }

    /// The CPU time the counted threads have used since they started, ns; `None` with no
    /// thread counted. A thread that has ended counts nothing.
    pub fn cpu_ns(&self) -> Option<u64> {
        let clocks = self.lock();
        if clocks.is_empty() {
            return None;
        }
        Some(clocks.iter().filter_map(|clock| os::read_ns(*clock)).sum())
    }

    fn lock(&self) -> MutexGuard<'_, Vec<os::Clock>> {
        // The list is only pushed to: a panic elsewhere while it was held left it whole.
        self.clocks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(target_os = "linux")]
mod os {
    pub type Clock = libc::clockid_t;

    pub fn current_thread_clock() -> Option<Clock> {
        let mut clock: libc::clockid_t = 0;
        // SAFETY: `pthread_self()` is the calling thread, which is alive; `clock` is a valid
        // place for the result.
        let status = unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut clock) };
        (status == 0).then_some(clock)
    }

    pub fn read_ns(clock: Clock) -> Option<u64> {
        let mut time = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `time` is a valid place for the result. The clock of a thread that has
        // ended is an error (EINVAL), not undefined behaviour.
        let status = unsafe { libc::clock_gettime(clock, &mut time) };
        (status == 0).then(|| time.tv_sec as u64 * 1_000_000_000 + time.tv_nsec as u64)
    }
}

#[cfg(not(target_os = "linux"))]
mod os {
    pub type Clock = ();

    pub fn current_thread_clock() -> Option<Clock> {
        None
    }

    pub fn read_ns(_clock: Clock) -> Option<u64> {
        None
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::ThreadClocks;
    use std::time::{Duration, Instant};

    /// Burns CPU on the calling thread until `clocks` (counting it) has advanced `ns`.
    fn spin_until(clocks: &ThreadClocks, ns: u64) -> u64 {
        let start = clocks.cpu_ns().unwrap_or(0);
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut x = 1u64;
        while clocks.cpu_ns().unwrap_or(0) < start + ns && Instant::now() < deadline {
            for i in 0..10_000u64 {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
            }
        }
        clocks.cpu_ns().unwrap_or(0) - start
    }

    #[test]
    fn the_clocks_count_the_threads_added_and_not_the_others() {
        let clocks = ThreadClocks::default();
        assert_eq!(clocks.cpu_ns(), None, "no thread counted yet");
        assert!(clocks.add_current_thread());
        assert!(clocks.add_current_thread());
        assert_eq!(clocks.threads(), 1, "a thread added twice counts once");
        assert!(spin_until(&clocks, 5_000_000) >= 5_000_000);

        // Another thread works 50 ms of CPU while this one waits for it: not counted.
        let before = clocks.cpu_ns().unwrap_or(0);
        let other = std::thread::Builder::new()
            .name("cpu-test-other".into())
            .spawn(|| {
                let own = ThreadClocks::default();
                own.add_current_thread();
                spin_until(&own, 50_000_000)
            })
            .map(|handle| handle.join());
        let other_ns = match other {
            Ok(Ok(ns)) => ns,
            _ => panic!("the other thread ran"),
        };
        assert!(
            other_ns >= 50_000_000,
            "the other thread worked {other_ns} ns"
        );
        let waited_ns = clocks.cpu_ns().unwrap_or(0) - before;
        assert!(
            waited_ns < 20_000_000,
            "this thread only waited, yet {waited_ns} ns were counted"
        );
    }
}
