//! Large arrays read at random (graph links, walk codes) asked to be backed by 2 MiB pages.
//!
//! A graph walk reads rows scattered over the whole array, so with 4 KiB pages nearly every
//! row it measures costs a TLB miss, and under a hypervisor's nested paging a miss walks two
//! page tables. Measured on bench_query_vs_hnswlib's data (384-d, ef 64, one query at a
//! time, same graph and queries alternating in one process): the walk over 100k rows took
//! 166 µs with its codes on 4 KiB pages and 137–150 µs on 2 MiB pages; over 5k float rows
//! 32 vs 28 µs. The advice (`madvise(MADV_HUGEPAGE)`) is honoured where transparent huge
//! pages are enabled ("always" or "madvise", the usual default) and ignored elsewhere; it
//! must be given before the memory is first written, so the arrays are allocated untouched,
//! advised, then filled.

/// Arrays smaller than this stay as they are: they fit the TLB's reach anyway.
pub const MIN_BYTES: usize = 4 << 20;

const HUGE: usize = 2 << 20;

/// An empty Vec with room for `cap` elements, its memory advised to be backed by huge
/// pages when it is large (see the module notes). Fill it before reading it.
pub fn vec_with_capacity<T>(cap: usize) -> Vec<T> {
    let v: Vec<T> = Vec::with_capacity(cap);
    advise(
        v.as_ptr() as usize,
        cap.saturating_mul(std::mem::size_of::<T>()),
    );
    v
}

/// Grow `v`'s room to at least `cap` elements (and by a quarter at least, so that growing
/// in small steps stays linear); when it moves, the new memory is advised as
/// `vec_with_capacity`'s is and the elements are moved over.
pub fn reserve<T>(v: &mut Vec<T>, cap: usize) {
    if v.capacity() >= cap {
        return;
    }
    let cap = cap.max(v.capacity().saturating_add(v.capacity() / 4));
    let mut bigger = vec_with_capacity(cap);
    bigger.append(v);
    *v = bigger;
}

/// The advice for the whole 2 MiB pages inside `[start, start + bytes)`.
fn advise(start: usize, bytes: usize) {
    if bytes < MIN_BYTES {
        return;
    }
    let first = start.next_multiple_of(HUGE);
    let end = (start + bytes) / HUGE * HUGE;
    if end <= first {
        return;
    }
    #[cfg(target_os = "linux")]
    // SAFETY: madvise only changes how the kernel backs this range of our own allocation
    // (whole pages inside it); it never changes its contents or validity. A failure (THP
    // disabled, an old kernel) leaves 4 KiB pages, which is correct, only slower.
    unsafe {
        libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (first, end);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserve_keeps_the_elements_and_grows_the_room() {
        let mut v: Vec<u32> = (0..1000).collect();
        reserve(&mut v, 3 << 20); // 12 MiB: advised
        assert!(v.capacity() >= 3 << 20);
        assert_eq!(v, (0..1000).collect::<Vec<u32>>());
        v.resize(3 << 20, 7);
        assert_eq!(v[2_000_000], 7);
        let cap = v.capacity();
        reserve(&mut v, 10); // already room: unchanged
        assert_eq!(v.capacity(), cap);
    }

    /// The VmFlags of the mapping holding `addr`.
    #[cfg(target_os = "linux")]
    fn vm_flags(addr: usize) -> Vec<String> {
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let mut inside = false;
        for line in smaps.lines() {
            let head = line.split_whitespace().next().unwrap_or("");
            if let Some((lo, hi)) = head.split_once('-') {
                if let (Ok(lo), Ok(hi)) =
                    (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
                {
                    inside = lo <= addr && addr < hi;
                    continue;
                }
            }
            if inside && head == "VmFlags:" {
                return line.split_whitespace().skip(1).map(String::from).collect();
            }
        }
        panic!("no mapping holds {addr:#x}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn large_vecs_are_advised_for_huge_pages() {
        let v: Vec<u8> = vec_with_capacity(3 * HUGE);
        let inner = (v.as_ptr() as usize).next_multiple_of(HUGE);
        assert!(vm_flags(inner).iter().any(|f| f == "hg"));
    }

    #[test]
    fn small_and_empty_requests_are_plain_vecs() {
        let v: Vec<u8> = vec_with_capacity(0);
        assert!(v.is_empty());
        let mut w: Vec<u16> = vec_with_capacity(10);
        w.extend([1, 2, 3]);
        assert_eq!(w, [1, 2, 3]);
    }
}
