//! Stepping allocates nothing: every world is stepped under a counting allocator.
//! (Resets may allocate: generated worlds build their level there.)

#![allow(unsafe_code, reason = "a global allocator that counts is unsafe to implement")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use mlroots_env::{Env, Rng};

struct Counting;

thread_local! {
    /// Allocations made by this thread: the test harness's other threads do not count.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn allocated_so_far() -> usize {
    ALLOCATIONS.with(Cell::get)
}

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // `try_with`: the thread-local may already be gone while a thread shuts down.
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn stepping_allocates_nothing() {
    for info in mlroots_worlds::registry() {
        let mut env = mlroots_worlds::make(info.name, &[]).unwrap();
        let mut obs = vec![0.0; env.observation_space().flat_len()];
        let space = env.action_space();
        let mut rng = Rng::seed_from_u64(5);
        env.reset(Some(5), &mut obs);
        let mut allocations = 0;
        for _ in 0..20_000 {
            let action = space.sample(&mut rng);
            let before = allocated_so_far();
            let s = env.step(action, &mut obs).unwrap();
            allocations += allocated_so_far() - before;
            if s.done() {
                // Resets may allocate (generated worlds build their level); steps may not.
                env.reset(None, &mut obs);
            }
        }
        assert_eq!(allocations, 0, "{}: {allocations} allocations in 20k steps", info.name);
    }
}
