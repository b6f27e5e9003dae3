//! No template text may abort a run: minijinja's expression lexer panics on some inputs (`a }} b`:
//! "empty lexer stack"), also on text that arrives at run time from a host. Calls into it that can
//! panic go through [`no_panic`], which turns a panic into a syntax error and keeps the default panic
//! message off the terminal.
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

thread_local!(static QUIET: Cell<bool> = const { Cell::new(false) });
static HOOK: Once = Once::new();

/// Run `f`; a panic inside becomes `Err(syntax error naming the text)`.
pub fn no_panic<T>(text: &str, f: impl FnOnce() -> Result<T, minijinja::Error>) -> Result<T, minijinja::Error> {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info)
            }
        }));
    });
    let was = QUIET.with(|q| q.replace(true));
    let r = catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(was));
    r.unwrap_or_else(|_| {
        let what = if text.len() <= 120 && !text.contains('\n') { format!("`{text}`") } else { "the template".to_string() };
        Err(minijinja::Error::new(minijinja::ErrorKind::SyntaxError, format!("{what} cannot be parsed (an unbalanced `}}}}` or `%}}`?)")))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_lexer_panic_is_a_syntax_error() {
        let env = minijinja::Environment::new();
        let e = super::no_panic("a }} b", || env.compile_expression("a }} b").map(|_| ())).unwrap_err();
        assert_eq!(e.kind(), minijinja::ErrorKind::SyntaxError);
        assert!(e.to_string().contains("a }} b"), "{e}");
        // ordinary errors and results pass through
        assert!(super::no_panic("(a", || env.compile_expression("(a").map(|_| ())).unwrap_err().to_string().contains("syntax error"));
        assert!(super::no_panic("1 + 1", || env.compile_expression("1 + 1").map(|_| ())).is_ok());
    }
}
