//! Bounds on what one package may cost us. Packages are untrusted uploads: every resource they
//! can make the platform spend (entries, bytes on disk, decompression work, descriptor size,
//! replicas) has a limit here, set by the operator and passed to every entry point.

/// Limits applied when parsing, unpacking and packing a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Most archive entries (files, directories, links) in one package.
    pub max_entries: usize,
    /// Most bytes of file content once unpacked; `pack` refuses a directory holding more.
    pub max_unpacked_bytes: u64,
    /// Most unpacked bytes per compressed byte (a decompression bomb is refused on the way).
    pub max_ratio: u64,
    /// Unpacked size below which the ratio is not checked: small packages of text compress
    /// well and cannot hurt anyone.
    pub ratio_floor_bytes: u64,
    /// Largest descriptor file (`app_desc.yaml`, `Procfile`, `app.yml`) read.
    pub max_descriptor_bytes: u64,
    /// Most replicas one process may ask for.
    pub max_replicas: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_entries: 20_000,
            max_unpacked_bytes: 512 * 1024 * 1024,
            max_ratio: 100,
            ratio_floor_bytes: 16 * 1024 * 1024,
            max_descriptor_bytes: 1024 * 1024,
            max_replicas: 20,
        }
    }
}
