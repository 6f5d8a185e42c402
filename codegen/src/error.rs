//! Errors and warnings. Every one names the schema file and the JSON pointer of the node it is about.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where in the input a problem was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    /// A JSON pointer (RFC 6901) into `file`; empty for the document root.
    pub pointer: String,
}

impl Location {
    pub fn new(file: &Path, pointer: impl Into<String>) -> Self {
        Self { file: file.to_path_buf(), pointer: pointer.into() }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.file.display(), self.pointer)
    }
}

/// A failure that stops generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub location: Location,
    pub message: String,
}

impl Error {
    pub fn new(location: Location, message: impl Into<String>) -> Self {
        Self { location, message: message.into() }
    }

    pub fn at(file: &Path, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Location::new(file, pointer), message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

impl std::error::Error for Error {}

/// Something generation went on past but the user should see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub location: Location,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "warning: {}: {}", self.location, self.message)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Escapes one JSON pointer reference token (RFC 6901 §3).
pub fn escape_pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Appends one reference token to a pointer.
pub fn child_pointer(pointer: &str, token: &str) -> String {
    format!("{pointer}/{}", escape_pointer_token(token))
}
