//! mimalloc as a Rust global allocator, called the way `std`'s own `System` allocator calls
//! `malloc`: plain `mi_malloc` whenever the alignment asked for is one every block has anyway.
//!
//! The `mimalloc` crate's allocator sends every request through `mi_malloc_aligned`. In mimalloc 3
//! that call is fast only while the page for its size class has a free block; when the page runs
//! out, a size that is not a power of two (24, 48, 72 … bytes, most of our summaries' nodes) takes
//! the over-allocating path: a 24-byte node gets a 32-byte block through a slow uninlined call, and
//! the 24-byte page is never refilled. Profiled at 1M lines that was about 0.5 s of CPU in
//! allocator slow paths. Here those requests go to `mi_malloc`, which refills its pages.
//!
//! Why that is sound: mimalloc's block sizes are multiples of 8, and multiples of 16 from 16 bytes
//! up, and the first block of a page is 16-aligned; a Rust layout's size is a multiple of its
//! alignment. So a block for `size` bytes is aligned to any `align <= 16` with `align <= size`,
//! the test `std` uses with `malloc`. Other layouts keep the aligned calls.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys as mi;

/// mimalloc's guaranteed alignment (`MI_MAX_ALIGN_SIZE`, as `alignof(max_align_t)`).
const MIN_ALIGN: usize = 16;

/// The mimalloc global allocator (`threadlint` wraps it in [`crate::arena::ArenaAlloc`]).
pub struct MiMalloc;

#[inline]
fn natural(align: usize, size: usize) -> bool {
    align <= MIN_ALIGN && align <= size
}

// SAFETY: every pointer comes from mimalloc with at least the layout's alignment (see the module
// docs for the unaligned calls), and `mi_free`/`mi_realloc*` accept any pointer mimalloc returned.
unsafe impl GlobalAlloc for MiMalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if natural(layout.align(), layout.size()) {
            mi::mi_malloc(layout.size()) as *mut u8
        } else {
            mi::mi_malloc_aligned(layout.size(), layout.align()) as *mut u8
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if natural(layout.align(), layout.size()) {
            mi::mi_zalloc(layout.size()) as *mut u8
        } else {
            mi::mi_zalloc_aligned(layout.size(), layout.align()) as *mut u8
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        mi::mi_free(ptr as *mut c_void)
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if natural(layout.align(), new_size) {
            mi::mi_realloc(ptr as *mut c_void, new_size) as *mut u8
        } else {
            mi::mi_realloc_aligned(ptr as *mut c_void, new_size, layout.align()) as *mut u8
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every size and alignment a Rust layout can have up to 4 KiB (and a few large ones) gets
    /// memory aligned as asked, through both paths, across many allocations of each size (so
    /// pages fill up and new ones are taken), and keeps its contents through `realloc`.
    #[test]
    fn blocks_are_aligned_as_asked() {
        let mut live = Vec::new();
        for align in [1usize, 2, 4, 8, 16, 32, 64, 4096] {
            let mut size = align;
            while size <= 4096 + 4 * align {
                let layout = Layout::from_size_align(size, align).unwrap();
                for round in 0..64 {
                    // SAFETY: non-zero size; freed below with the same layout.
                    let p = unsafe {
                        if round % 2 == 0 {
                            MiMalloc.alloc(layout)
                        } else {
                            MiMalloc.alloc_zeroed(layout)
                        }
                    };
                    assert!(!p.is_null());
                    assert_eq!(p as usize % align, 0, "size {size} align {align}");
                    // SAFETY: `p` holds `size` bytes.
                    unsafe { std::ptr::write_bytes(p, 0xa5, size) };
                    live.push((p, layout));
                }
                size += align.max(8);
            }
        }
        for (p, layout) in live {
            let grown = layout.size() * 3 + 8;
            // SAFETY: `p` is live with `layout`; the result is freed with the grown layout.
            unsafe {
                let q = MiMalloc.realloc(p, layout, grown);
                assert!(!q.is_null());
                assert_eq!(q as usize % layout.align(), 0);
                assert!((0..layout.size()).all(|i| *q.add(i) == 0xa5));
                MiMalloc.dealloc(q, Layout::from_size_align(grown, layout.align()).unwrap());
            }
        }
    }
}
