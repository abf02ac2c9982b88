//! Picks the kernel set once per process: the best the CPU supports, unless
//! `EIGENLAKE_SIMD=scalar|avx2|avx512` asks for another that the CPU also supports
//! (an unknown or unsupported value falls back to the best, never fails).

use std::sync::OnceLock;

use super::scalar;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    Scalar,
    Avx2,
    Avx512,
    Neon,
}

impl Isa {
    pub fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
            Isa::Neon => "neon",
        }
    }

    fn parse(s: &str) -> Option<Isa> {
        match s.trim().to_ascii_lowercase().as_str() {
            "scalar" => Some(Isa::Scalar),
            "avx2" => Some(Isa::Avx2),
            "avx512" => Some(Isa::Avx512),
            "neon" => Some(Isa::Neon),
            _ => None,
        }
    }
}

/// Safe function pointers of one ISA; only built after the CPU check.
#[derive(Clone, Copy, Debug)]
pub struct Kernels {
    pub isa: Isa,
    pub dot: fn(&[f32], &[f32]) -> f32,
    pub l2sq: fn(&[f32], &[f32]) -> f32,
}

#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
mod x86 {
    // SAFETY (all wrappers): only reachable through `kernels_for`, which checks the CPU.
    pub fn dot_avx2(a: &[f32], b: &[f32]) -> f32 {
        unsafe { super::super::avx2::dot(a, b) }
    }
    pub fn l2sq_avx2(a: &[f32], b: &[f32]) -> f32 {
        unsafe { super::super::avx2::l2sq(a, b) }
    }
    #[cfg(target_arch = "x86_64")]
    pub fn dot_avx512(a: &[f32], b: &[f32]) -> f32 {
        unsafe { super::super::avx512::dot(a, b) }
    }
    #[cfg(target_arch = "x86_64")]
    pub fn l2sq_avx512(a: &[f32], b: &[f32]) -> f32 {
        unsafe { super::super::avx512::l2sq(a, b) }
    }
}

/// The kernels of `isa`, or `None` when this CPU (or build target) lacks it.
pub fn kernels_for(isa: Isa) -> Option<Kernels> {
    match isa {
        Isa::Scalar => Some(Kernels {
            isa,
            dot: scalar::dot,
            l2sq: scalar::l2sq,
        }),
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        Isa::Avx2 if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") => {
            Some(Kernels {
                isa,
                dot: x86::dot_avx2,
                l2sq: x86::l2sq_avx2,
            })
        }
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 if is_x86_feature_detected!("avx512f") => Some(Kernels {
            isa,
            dot: x86::dot_avx512,
            l2sq: x86::l2sq_avx512,
        }),
        #[cfg(target_arch = "aarch64")]
        Isa::Neon => Some(Kernels {
            isa,
            dot: super::neon::dot,
            l2sq: super::neon::l2sq,
        }),
        _ => None,
    }
}

fn best() -> Kernels {
    [Isa::Avx512, Isa::Avx2, Isa::Neon]
        .into_iter()
        .find_map(kernels_for)
        .unwrap_or_else(|| kernels_for(Isa::Scalar).expect("scalar always exists"))
}

fn pick(env: Option<&str>) -> Kernels {
    env.and_then(Isa::parse)
        .and_then(kernels_for)
        .unwrap_or_else(best)
}

/// The kernel set chosen for this process.
#[inline]
pub fn active() -> &'static Kernels {
    static ACTIVE: OnceLock<Kernels> = OnceLock::new();
    ACTIVE.get_or_init(|| pick(std::env::var("EIGENLAKE_SIMD").ok().as_deref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_override_falls_back_to_best() {
        assert_eq!(pick(Some("bogus")).isa, best().isa);
        assert_eq!(pick(None).isa, best().isa);
        assert_eq!(pick(Some("scalar")).isa, Isa::Scalar);
        // An ISA the CPU lacks falls back to the best one instead of failing.
        for isa in ["avx2", "avx512", "neon"] {
            let got = pick(Some(isa)).isa;
            assert!(got.name() == isa || got == best().isa);
        }
    }
}
