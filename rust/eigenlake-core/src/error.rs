//! One error type for the core; user mistakes are kept apart from internal faults so the
//! bindings can map them to `ValidationError` vs. a generic error.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum CoreError {
    #[error("dimension mismatch: expected {expected}, got {got}")]
    DimensionMismatch { expected: usize, got: usize },
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter { name: &'static str, reason: String },
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("corrupt data: {0}")]
    Corrupt(String),
    #[error("internal error: {0}")]
    Internal(String),
    /// A panic caught at the boundary (a bug in the core, never a user mistake).
    #[error("internal error in the compute core: {0}")]
    Panic(String),
}

impl CoreError {
    pub fn invalid(name: &'static str, reason: impl Into<String>) -> Self {
        CoreError::InvalidParameter {
            name,
            reason: reason.into(),
        }
    }
}

pub type Result<T> = std::result::Result<T, CoreError>;

/// Run `f`, turning a panic into `CoreError::Panic` with the panic's message, so a bug in
/// the core reaches a caller as an error it can handle instead of unwinding through it.
pub fn catch_panic<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    // the closure's state is dropped with the panic; nothing of it is observed afterwards
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|payload| Err(CoreError::Panic(panic_message(payload.as_ref()))))
}

/// The text of a panic payload (`panic!` gives a `&str` or a `String`).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-text payload".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_with_its_message() {
        let e = catch_panic::<()>(|| panic!("boom {}", 7)).unwrap_err();
        assert!(matches!(&e, CoreError::Panic(m) if m == "boom 7"));
        assert_eq!(e.to_string(), "internal error in the compute core: boom 7");
        let e = catch_panic::<()>(|| panic!("static text")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "internal error in the compute core: static text"
        );
        let e = catch_panic::<()>(|| std::panic::panic_any(42u8)).unwrap_err();
        assert!(matches!(e, CoreError::Panic(_)));
        // an ordinary result passes through untouched
        assert_eq!(catch_panic(|| Ok(5)).unwrap(), 5);
        assert!(matches!(
            catch_panic::<()>(|| Err(CoreError::invalid("k", "bad"))),
            Err(CoreError::InvalidParameter { .. })
        ));
    }

    #[test]
    fn a_panic_on_a_pool_worker_is_caught_too() {
        use rayon::prelude::*;
        let e = catch_panic(|| {
            crate::threads::install(|| {
                Ok((0..10_000u32)
                    .into_par_iter()
                    .map(|i| if i == 7777 { panic!("worker {i}") } else { i })
                    .sum::<u32>())
            })
        })
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "internal error in the compute core: worker 7777"
        );
    }
}
