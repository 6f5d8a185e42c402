//! The threads the pipeline runs on: every pass may recurse once per level of nesting, so each thread gets
//! a stack sized for the deepest document [`crate::load`] accepts. The bottom floor: every layer may use it.

/// The stack every thread of the pipeline runs on. Each pass recurses once per level of nesting, and a
/// schema may nest [`crate::load::MAX_DEPTH`] levels; this holds that in a debug build with room to spare,
/// whatever stack the caller's thread has (a test's thread has 2 MiB). Only the pages used are ever touched.
pub const STACK_SIZE: usize = 64 * 1024 * 1024;

/// Runs `f` on a thread with a [`STACK_SIZE`] stack.
pub(crate) fn with_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| spawn_scoped(scope, f).join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
}

/// Spawns a scoped thread with a [`STACK_SIZE`] stack.
pub(crate) fn spawn_scoped<'scope, T: Send + 'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    f: impl FnOnce() -> T + Send + 'scope,
) -> std::thread::ScopedJoinHandle<'scope, T> {
    std::thread::Builder::new().stack_size(STACK_SIZE).spawn_scoped(scope, f).expect("a thread can be started")
}

/// `f` of every item, on every core; the result is in item order, so output does not depend on threads.
/// Threads take the next item as they finish one, so items of uneven cost share out evenly.
pub(crate) fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(items.len()).max(1);
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                spawn_scoped(scope, || {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { return done };
                        done.push((i, f(item)));
                    }
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::parallel_map;

    #[test]
    fn parallel_map_keeps_item_order() {
        // Uneven work, so that threads finish items out of order.
        let items: Vec<u64> = (0..200).map(|i| (i * 7919) % 23).collect();
        let slow_square = |n: &u64| {
            std::thread::sleep(std::time::Duration::from_micros(*n * 20));
            n * n
        };
        let expected: Vec<u64> = items.iter().map(|n| n * n).collect();
        assert_eq!(parallel_map(&items, slow_square), expected);
        assert!(parallel_map(&[] as &[u64], slow_square).is_empty());
    }
}
