//! One error type for bad input: always names file:line:col and shows the offending source.
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{}:{line}:{col}: {message}", file.display())]
pub struct ConfigError {
    pub message: String,
    pub file: PathBuf,
    /// 1-based; 0 when unknown
    pub line: usize,
    /// 1-based; 0 when unknown
    pub col: usize,
    #[source_code]
    pub src: Option<miette::NamedSource<String>>,
    #[label("here")]
    pub span: Option<miette::SourceSpan>,
}

impl ConfigError {
    /// An error at `line:col` of `file`; the source text (if readable) is attached for display.
    pub fn at(file: &Path, line: usize, col: usize, message: impl Into<String>) -> Self {
        let text = std::fs::read_to_string(file).ok();
        let (src, span) = match text {
            Some(t) if line > 0 => {
                let offset = line_col_to_offset(&t, line, col);
                (Some(miette::NamedSource::new(file.display().to_string(), t)), Some(miette::SourceSpan::from((offset, 1usize))))
            }
            _ => (None, None),
        };
        ConfigError { message: message.into(), file: file.to_path_buf(), line, col, src, span }
    }
}

fn line_col_to_offset(text: &str, line: usize, col: usize) -> usize {
    let mut off = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return (off + col.saturating_sub(1)).min(text.len().saturating_sub(1));
        }
        off += l.len();
    }
    text.len().saturating_sub(1)
}

/// End the process with a command's result: its exit code, or 2 after printing the error — a ConfigError
/// with its source snippet (miette), anything else as its cause chain. Shared by every mdxconf binary.
pub fn exit_with(result: anyhow::Result<i32>) -> ! {
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            match e.downcast::<ConfigError>() {
                Ok(ce) => eprintln!("{:?}", miette::Report::new(ce)),
                Err(e) => eprintln!("error: {e:#}"),
            }
            std::process::exit(2);
        }
    }
}
