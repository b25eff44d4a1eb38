//! A bump arena for syntax trees.
//!
//! A `syn` tree is built, lowered to a summary and thrown away, one file after another. Under a
//! general-purpose allocator a third of the parse goes to `malloc`/`free` and to dropping the
//! tree node by node. [`ArenaAlloc`] wraps the global allocator: while a thread is inside
//! [`within`] (only around the `syn` parse of one file), its allocations are carved from a
//! per-thread region by bumping a pointer, frees of region memory do nothing, and the next scope
//! on that thread starts the region over. The tree itself is then [`Leftover::dispose`]d without
//! being walked.
//!
//! Soundness rests on one rule: nothing allocated inside a scope may be alive when the next
//! scope on the same thread starts. The parser's output (the tree, its errors) is used and dropped
//! before the next file; the summary is built outside the scope, so its memory comes from the
//! wrapped allocator. Thread-local state that `proc-macro2` and `std` create lazily is created
//! before a thread's first scope ([`warm_up`]). A region that saw a panic is never reused.
//!
//! What else must hold, because nothing enforces it (hence `within` and `nested` are private to
//! the crate):
//! - Code inside a scope never makes the first allocation of a long-lived container (a
//!   thread-local or static `Vec`, stdout's buffer on a first `println!`): that memory would be
//!   reused. Growing an existing allocation is fine (`realloc` of outside memory stays outside).
//! - No span of proc-macro2's dummy file (`Span::call_site()`) is asked for `source_text()` or
//!   `byte_range()` inside a scope: that fills a cache in a thread-local that is never cleared.
//! - A panicking scope retires its region, and regions are never given back (their touched
//!   pages stay resident until the process ends). A thread that cannot get a region parses
//!   without one.
//!
//! Without [`ArenaAlloc`] installed as the global allocator (the binaries and the unit tests
//! install it; library users may not), scopes do nothing and trees are dropped as usual.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::*};

/// Virtual size of one thread's region. Pages are only committed when touched: a thread
/// touches as much as its largest file needs. A file that needs more falls back to the wrapped
/// allocator for the rest of its parse.
const REGION: usize = 128 << 20;
/// At most this many threads parse in arenas at once (the others parse without one). The
/// reservation holds `regions()` of them: twice the machine's cores, at least 16.
const MAX_REGIONS: usize = 64;

/// All regions are slices of one reservation, made at the first scope: `in_region`, which every
/// free asks, is a subtraction and a comparison. `SPAN` is 0 until then.
static BASE: AtomicUsize = AtomicUsize::new(0);
static SPAN: AtomicUsize = AtomicUsize::new(0);
/// Which regions a live thread holds. Regions are never given back to the wrapped allocator.
static IN_USE: [AtomicBool; MAX_REGIONS] = [const { AtomicBool::new(false) }; MAX_REGIONS];
/// Set when the reservation failed: no thread asks again.
static NO_RESERVATION: AtomicBool = AtomicBool::new(false);

fn regions() -> usize {
    let cores = std::thread::available_parallelism().map_or(8, |n| n.get());
    (2 * cores).clamp(16, MAX_REGIONS)
}

/// The hot part of this thread's arena: inside a scope, the next free byte and the region's end
/// (and the latest allocation, which may grow in place); outside, `end` is 0 and every request
/// misses. `Copy` and built in a `const`, like [`Cold`]: reading them never allocates, never
/// registers a destructor.
#[derive(Clone, Copy)]
struct Bump {
    cur: usize,
    end: usize,
    last: usize,
}

const OUTSIDE: Bump = Bump {
    cur: 0,
    end: 0,
    last: 0,
};
/// Set while asking whether this allocator serves the thread: any request misses with
/// `end == PROBE_END` and clears it.
const PROBE: Bump = Bump {
    cur: 2,
    end: PROBE_END,
    last: 0,
};
const PROBE_END: usize = 1;

/// The rest of this thread's arena.
#[derive(Clone, Copy)]
struct Cold {
    /// `NO_SLOT` before the thread's first scope (and after a panic), `DISABLED` when
    /// [`ArenaAlloc`] is not the global allocator.
    slot: usize,
    start: usize,
    end: usize,
    /// Some request of this scope did not fit and came from the wrapped allocator.
    spilled: bool,
    /// Where the latest scope (or nested scope) stopped: a [`nested`] scope starts there.
    resume: usize,
}

const NO_SLOT: usize = usize::MAX;
const DISABLED: usize = usize::MAX - 1;

thread_local! {
    static BUMP: Cell<Bump> = const { Cell::new(OUTSIDE) };
    static COLD: Cell<Cold> = const {
        Cell::new(Cold { slot: NO_SLOT, start: 0, end: 0, spilled: false, resume: 0 })
    };
    /// Gives this thread's region back to the pool when the thread ends.
    static OWNER: Owner = const { Owner };
}

struct Owner;

impl Drop for Owner {
    fn drop(&mut self) {
        let _ = COLD.try_with(|c| {
            let cold = c.get();
            if cold.slot < MAX_REGIONS {
                IN_USE[cold.slot].store(false, Release);
                c.set(Cold {
                    slot: NO_SLOT,
                    ..cold
                });
            }
        });
    }
}

/// A global allocator that serves threads inside [`within`] from their arena and everything
/// else from `A`.
pub struct ArenaAlloc<A>(pub A);

#[inline(always)]
fn in_region(p: usize) -> bool {
    let span = SPAN.load(Acquire);
    p.wrapping_sub(BASE.load(Relaxed)) < span
}

/// Bump an allocation from this thread's region; on a miss, the region's `end` (0 outside a
/// scope).
#[inline(always)]
fn bump(layout: Layout) -> Result<*mut u8, usize> {
    BUMP.with(|b| {
        let Bump { cur, end, .. } = b.get();
        // `cur <= end` are addresses inside one allocation, far from overflowing; a request is
        // never larger than `isize::MAX`.
        let at = (cur + (layout.align() - 1)) & !(layout.align() - 1);
        let new_cur = at.wrapping_add(layout.size());
        if new_cur <= end && new_cur > at {
            b.set(Bump {
                cur: new_cur,
                end,
                last: at,
            });
            Ok(at as *mut u8)
        } else {
            Err(end)
        }
    })
}

/// A request that `bump` could not serve, from a thread whose region ends at `end`.
#[cold]
fn missed(end: usize) {
    if end == PROBE_END {
        BUMP.with(|b| b.set(OUTSIDE));
    } else {
        COLD.with(|c| {
            c.set(Cold {
                spilled: true,
                ..c.get()
            })
        });
    }
}

/// Grow or shrink the latest allocation of the current scope where it is.
fn resize_last(p: usize, new_size: usize) -> bool {
    BUMP.with(|b| {
        let Bump { end, last, .. } = b.get();
        match p.checked_add(new_size) {
            Some(new_cur) if last == p && new_cur <= end && new_cur > p => {
                b.set(Bump {
                    cur: new_cur,
                    end,
                    last,
                });
                true
            }
            _ => false,
        }
    })
}

// SAFETY: region memory is handed out at most once per scope, aligned as asked and inside a live
// allocation of `A`; it is reused only by a later scope on the same thread, when (the module's
// rule) nothing from the earlier scope is alive. Everything else is `A`'s.
unsafe impl<A: GlobalAlloc> GlobalAlloc for ArenaAlloc<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match bump(layout) {
            Ok(p) => p,
            Err(end) => {
                if end != 0 {
                    missed(end);
                }
                self.0.alloc(layout)
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        match bump(layout) {
            Ok(p) => {
                // A region is reused: its memory is not zero.
                std::ptr::write_bytes(p, 0, layout.size());
                p
            }
            Err(end) => {
                if end != 0 {
                    missed(end);
                }
                self.0.alloc_zeroed(layout)
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if !in_region(ptr as usize) {
            self.0.dealloc(ptr, layout)
        }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !in_region(ptr as usize) {
            return self.0.realloc(ptr, layout, new_size);
        }
        if resize_last(ptr as usize, new_size) {
            return ptr;
        }
        // Moves out of the region when the scope has ended: the region is about to be reused.
        let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
        let q = self.alloc(new_layout);
        if !q.is_null() {
            std::ptr::copy_nonoverlapping(ptr, q, layout.size().min(new_size));
        }
        q
    }
}

/// Lazily created thread-local state of `std` and `proc-macro2` that a parse would otherwise
/// create inside the arena (and keep after the arena is reused): the thread handle, and
/// `proc-macro2`'s source map with room for the files a parse adds.
fn warm_up() {
    let _ = std::thread::current();
    for _ in 0..8 {
        let _ = "x".parse::<proc_macro2::TokenStream>();
    }
    proc_macro2::extra::invalidate_current_thread_spans();
}

/// Whether [`ArenaAlloc`] serves this thread's allocations: a request made while probing
/// clears the probe only there.
fn installed() -> bool {
    BUMP.with(|b| b.set(PROBE));
    drop(std::hint::black_box(Box::new(0u8)));
    let served = BUMP.with(|b| b.get().end) != PROBE_END;
    BUMP.with(|b| b.set(OUTSIDE));
    served
}

/// Claim a region for this thread: the first one no live thread holds.
fn claim() -> Option<Cold> {
    static RESERVING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    if SPAN.load(Acquire) == 0 {
        let _lock = RESERVING.lock().unwrap_or_else(|e| e.into_inner());
        if NO_RESERVATION.load(Relaxed) {
            return None;
        }
        if SPAN.load(Acquire) == 0 {
            // From the wrapped allocator (this thread is outside any scope): address space only.
            let span = REGION * regions();
            let layout = Layout::from_size_align(span, 4096).ok()?;
            // SAFETY: the size is not zero.
            let base = unsafe { std::alloc::alloc(layout) } as usize;
            if base == 0 {
                NO_RESERVATION.store(true, Relaxed);
                return None;
            }
            BASE.store(base, Relaxed);
            // Published after the base that it makes `in_region` look at.
            SPAN.store(span, Release);
        }
    }
    let base = BASE.load(Relaxed);
    let n = SPAN.load(Acquire) / REGION;
    let slot = IN_USE[..n].iter().position(|u| !u.swap(true, AcqRel))?;
    let start = base + slot * REGION;
    Some(Cold {
        slot,
        start,
        end: start + REGION,
        spilled: false,
        resume: 0,
    })
}

/// Run `f` in an arena scope: this thread's allocations come from its region, started over.
/// Everything allocated in this thread's previous scope must be gone by now. Returns `f`'s
/// value, which lives in the region, and the [`Leftover`] that disposes of it.
pub fn within<R>(f: impl FnOnce() -> R) -> (R, Leftover) {
    let scope = Scope::enter();
    let value = f();
    let whole = scope.used && !COLD.with(|c| c.get().spilled);
    drop(scope);
    (value, Leftover { whole })
}

/// Disposes of a value built in a scope, once the caller is done with it.
#[must_use = "dispose of the value built in the arena"]
pub struct Leftover {
    whole: bool,
}

impl Leftover {
    /// When everything `value` owns is in the region it is forgotten (the region is reused
    /// wholesale, nothing walks the tree); otherwise it is dropped.
    pub fn dispose<T>(self, value: T) {
        if self.whole {
            std::mem::forget(value);
        } else {
            drop(value);
        }
    }
}

/// A thread inside an arena scope, until dropped (also when `f` panics).
struct Scope {
    used: bool,
}

impl Scope {
    fn enter() -> Scope {
        let mut cold = COLD.with(|c| c.get());
        // Inside a scope already (nothing calls `within` there today): starting over would
        // overwrite the outer tree, so this one runs in the outer scope's allocation mode.
        if cold.slot == DISABLED || BUMP.with(|b| b.get().end) != 0 {
            return Scope { used: false };
        }
        if cold.slot == NO_SLOT {
            // Not the global allocator, or no region to be had: this thread parses without an
            // arena from now on (asking again for every file would cost more than it saves).
            let disable = || {
                COLD.with(|c| {
                    c.set(Cold {
                        slot: DISABLED,
                        ..c.get()
                    })
                })
            };
            if !installed() {
                disable();
                return Scope { used: false };
            }
            warm_up();
            match claim() {
                Some(fresh) => {
                    OWNER.with(|_| ());
                    cold = fresh;
                }
                None => {
                    disable();
                    return Scope { used: false };
                }
            }
        }
        // Spans of the region's previous contents (a file whose parse failed and is parsed
        // again) leave proc-macro2's source map before their memory is reused.
        proc_macro2::extra::invalidate_current_thread_spans();
        COLD.with(|c| {
            c.set(Cold {
                spilled: false,
                ..cold
            })
        });
        BUMP.with(|b| {
            b.set(Bump {
                cur: cold.start,
                end: cold.end,
                last: 0,
            })
        });
        Scope { used: true }
    }
}

/// Run `f` in this thread's region after what the latest scope (or nested scope) left there,
/// without starting the region over: for parsing a piece of a tree (a macro's input) while the
/// tree built in the latest scope is still alive. What `f` returns is dropped as usual (its frees
/// cost nothing) and, like everything in the region, must be gone before the next [`within`] on
/// this thread. Nothing that outlives the file may be built inside `f`.
pub fn nested<R>(f: impl FnOnce() -> R) -> R {
    let cold = COLD.with(|c| c.get());
    if cold.slot >= MAX_REGIONS || cold.resume == 0 || BUMP.with(|b| b.get().end) != 0 {
        return f();
    }
    BUMP.with(|b| {
        b.set(Bump {
            cur: cold.resume,
            end: cold.end,
            last: 0,
        })
    });
    let scope = Scope { used: true };
    let value = f();
    drop(scope);
    value
}

impl Drop for Scope {
    fn drop(&mut self) {
        if !self.used {
            return;
        }
        let _ = BUMP.try_with(|b| {
            let cur = b.get().cur;
            b.set(OUTSIDE);
            let _ = COLD.try_with(|c| {
                c.set(Cold {
                    resume: cur,
                    ..c.get()
                })
            });
        });
        if std::thread::panicking() {
            // The panic may have left values in the region anywhere (its payload, state made
            // lazily while it was reported): never reuse it. The slot stays taken; this
            // thread claims another one next time.
            let _ = COLD.try_with(|c| {
                c.set(Cold {
                    slot: NO_SLOT,
                    ..c.get()
                })
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoped_allocations_come_from_the_region_and_are_reused() {
        // The test binary installs `ArenaAlloc` (see lib.rs).
        let (v, left) = within(|| (0..1000).collect::<Vec<u64>>());
        let first = v.as_ptr() as usize;
        assert!(in_region(first), "a Vec made in a scope is in the region");
        left.dispose(v);
        let outside = Box::new([1u64; 10]);
        assert!(!in_region(outside.as_ptr() as usize));
        let (w, left) = within(|| (0..1000).collect::<Vec<u64>>());
        assert_eq!(
            w.as_ptr() as usize,
            first,
            "the next scope starts the region over"
        );
        assert_eq!(w.iter().sum::<u64>(), 999 * 1000 / 2);
        // Grown after the scope: moved out of the region, contents kept.
        let mut w = w;
        w.extend(0..10_000u64);
        assert!(!in_region(w.as_ptr() as usize));
        assert_eq!((w.len(), w[999], w[1000]), (11_000, 999, 0));
        drop((w, left));
    }

    #[test]
    fn zeroed_memory_is_zero_after_reuse() {
        let (v, left) = within(|| vec![0xffu8; 4096]);
        left.dispose(v);
        let (z, left) = within(|| vec![0u8; 4096]);
        assert!(in_region(z.as_ptr() as usize));
        assert!(z.iter().all(|&b| b == 0));
        left.dispose(z);
    }

    #[test]
    fn a_request_larger_than_the_region_spills_and_is_dropped() {
        let (big, left) = within(|| Vec::<u8>::with_capacity(REGION + 1));
        assert!(!in_region(big.as_ptr() as usize));
        assert!(!left.whole, "a spilled value is dropped, not forgotten");
        left.dispose(big);
    }

    #[test]
    fn a_nested_scope_allocates_after_the_tree_and_leaves_it_intact() {
        let (tree, left) = within(|| vec![7u64; 100]);
        let tree_end = tree.as_ptr() as usize + 800;
        let piece = nested(|| vec![9u64; 100]);
        assert!(in_region(piece.as_ptr() as usize));
        assert!(piece.as_ptr() as usize >= tree_end, "after the tree");
        let again = nested(|| vec![1u8; 10]);
        assert!(
            again.as_ptr() as usize >= piece.as_ptr() as usize + 800,
            "after the first piece"
        );
        assert!(tree.iter().all(|&x| x == 7) && piece.iter().all(|&x| x == 9));
        drop((piece, again));
        left.dispose(tree);
        // Outside any scope's thread state (a thread that never entered one): a plain call.
        std::thread::spawn(|| {
            let v = nested(|| vec![1u8; 10]);
            assert!(!in_region(v.as_ptr() as usize));
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_scope_inside_a_scope_does_not_start_the_region_over() {
        let ((outer, inner), left) = within(|| {
            let outer = vec![3u64; 64];
            let (inner, inner_left) = within(|| vec![4u64; 64]);
            assert!(
                !inner_left.whole,
                "the inner value is dropped, not forgotten"
            );
            inner_left.dispose(());
            (outer, inner)
        });
        assert_ne!(outer.as_ptr(), inner.as_ptr());
        assert!(outer.iter().all(|&x| x == 3) && inner.iter().all(|&x| x == 4));
        drop(inner);
        left.dispose(outer);
    }

    #[test]
    fn a_panic_in_a_scope_retires_the_region() {
        let (v, left) = within(|| vec![1u8; 16]);
        let first = v.as_ptr() as usize;
        left.dispose(v);
        let r = std::panic::catch_unwind(|| within(|| panic!("in the arena")));
        assert!(r.is_err());
        let (w, left) = within(|| vec![2u8; 16]);
        assert!(in_region(w.as_ptr() as usize));
        assert_ne!(w.as_ptr() as usize, first, "a new region after a panic");
        left.dispose(w);
    }
}
