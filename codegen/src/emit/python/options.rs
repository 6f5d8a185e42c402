//! What a Python package is called and what its files say about themselves.

/// What the package is called and what its header says.
#[derive(Debug, Clone)]
pub struct PackageOptions {
    /// The distribution name in `pyproject.toml`.
    pub distribution: String,
    /// The import name.
    pub package: String,
    /// The Codex release of the schema ([`crate::package::UNKNOWN_RELEASE`] when not named): the package's version
    /// (PEP 440), `__version__` and `CODEX_VERSION`; the client runtime warns about older servers.
    pub release: crate::package::Release,
    /// What `pyproject.toml` tells PyPI.
    pub metadata: crate::package::Metadata,
    /// The first lines of every file: which command wrote it, from which schema.
    pub header: Vec<String>,
}
