//! AMX-INT8 panel kernel (tile matrix multiply: 16×16×64 products per `tdpbusd`, 16× an
//! AVX-512 VNNI instruction). Rust has no stable AMX intrinsics, so the tile instructions
//! are inline assembly; Linux hands out the tile state only after an `arch_prctl` request,
//! made once per process (`available`). Used for whole panels against every query at once,
//! when the dimension is a multiple of 64 (one tile row of codes).

use std::arch::asm;
use std::sync::OnceLock;

use super::kernels::NR;

/// Whether this CPU has AMX-INT8 and the OS granted the tile state to this process.
pub fn available() -> bool {
    static OK: OnceLock<bool> = OnceLock::new();
    *OK.get_or_init(|| {
        // CPUID.(7,0):EDX bit 24 AMX-TILE, bit 25 AMX-INT8
        let c = std::arch::x86_64::__cpuid_count(7, 0);
        if c.edx & (3 << 24) != 3 << 24 || !is_x86_feature_detected!("avx512f") {
            return false;
        }
        request_tiles()
    })
}

#[cfg(target_os = "linux")]
fn request_tiles() -> bool {
    const ARCH_REQ_XCOMP_PERM: libc::c_long = 0x1023;
    const XFEATURE_XTILEDATA: libc::c_long = 18;
    // SAFETY: a plain syscall with integer arguments
    unsafe {
        libc::syscall(
            libc::SYS_arch_prctl,
            ARCH_REQ_XCOMP_PERM,
            XFEATURE_XTILEDATA,
        ) == 0
    }
}

#[cfg(not(target_os = "linux"))]
fn request_tiles() -> bool {
    false
}

/// Tile configuration: palette 1, tiles 0–7 all 16 rows × 64 bytes.
#[repr(C, align(64))]
struct TileCfg([u8; 64]);

fn config() -> TileCfg {
    let mut c = [0u8; 64];
    c[0] = 1;
    for t in 0..8 {
        c[16 + 2 * t] = 64; // colsb (u16, little-endian)
        c[48 + t] = 16; // rows
    }
    TileCfg(c)
}

/// `out[q·32 + r]` = Σ_j qu8[q][j] · c_rj for `nqp` queries (a multiple of 32, row-major
/// u8 codes + 128, `dp` bytes each) and the 32 rows of `panel` (`dp/4 · 128` codes); the
/// caller subtracts 128·Σc.
///
/// # Safety
/// `available()` returned true; `dp` is a multiple of 64; `qu8` holds `nqp·dp` bytes,
/// `out` `nqp·32` values.
pub unsafe fn dots_all(panel: *const i8, qu8: *const u8, nqp: usize, dp: usize, out: *mut i32) {
    let cfg = config();
    asm!("ldtilecfg [{0}]", in(reg) cfg.0.as_ptr(), options(nostack));
    let row_bytes = (NR * 4) as isize; // one k4 step of the panel
    for qb in (0..nqp).step_by(32) {
        asm!(
            "tilezero tmm0",
            "tilezero tmm1",
            "tilezero tmm2",
            "tilezero tmm3",
            options(nostack, nomem)
        );
        for kc in 0..dp / 64 {
            let a0 = qu8.add(qb * dp + kc * 64);
            let a1 = qu8.add((qb + 16) * dp + kc * 64);
            let b0 = panel.add(kc * 16 * NR * 4);
            let b1 = b0.add(64);
            asm!(
                "tileloadd tmm4, [{a0} + {sa}*1]",
                "tileloadd tmm5, [{a1} + {sa}*1]",
                "tileloadd tmm6, [{b0} + {sb}*1]",
                "tileloadd tmm7, [{b1} + {sb}*1]",
                "tdpbusd tmm0, tmm4, tmm6",
                "tdpbusd tmm1, tmm4, tmm7",
                "tdpbusd tmm2, tmm5, tmm6",
                "tdpbusd tmm3, tmm5, tmm7",
                a0 = in(reg) a0,
                a1 = in(reg) a1,
                b0 = in(reg) b0,
                b1 = in(reg) b1,
                sa = in(reg) dp as isize,
                sb = in(reg) row_bytes,
                options(nostack, readonly)
            );
        }
        let o = out.add(qb * NR);
        let so = (NR * 4) as isize;
        asm!(
            "tilestored [{c0} + {so}*1], tmm0",
            "tilestored [{c1} + {so}*1], tmm1",
            "tilestored [{c2} + {so}*1], tmm2",
            "tilestored [{c3} + {so}*1], tmm3",
            c0 = in(reg) o,
            c1 = in(reg) o.add(16),
            c2 = in(reg) o.add(16 * NR),
            c3 = in(reg) o.add(16 * NR + 16),
            so = in(reg) so,
            options(nostack)
        );
    }
    asm!("tilerelease", options(nostack, nomem));
}
