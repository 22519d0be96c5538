//! Superblock feature flags: which we support, and their names.
//!
//! Three sets, as in every ext2 driver: a *compatible* feature may be
//! ignored; an unknown *read-only compatible* feature allows a read-only
//! mount; an unknown *incompatible* feature refuses the mount, with the
//! names of the features in the message.

use core::fmt;

/// Incompatible: directory entries carry the file type.
pub const INCOMPAT_FILETYPE: u32 = 0x0002;
/// The incompatible features we read and write.
pub const INCOMPAT_SUPPORTED: u32 = INCOMPAT_FILETYPE;

/// Read-only compatible: superblock backups only in groups 0, 1, 3^n, 5^n, 7^n.
pub const RO_COMPAT_SPARSE_SUPER: u32 = 0x0001;
/// Read-only compatible: files may be 2 GiB or larger (`i_size_high`).
pub const RO_COMPAT_LARGE_FILE: u32 = 0x0002;
/// Read-only compatible: the never-used B-tree directories flag.
pub const RO_COMPAT_BTREE_DIR: u32 = 0x0004;
/// The read-only compatible features we can write under.
pub const RO_COMPAT_SUPPORTED: u32 =
    RO_COMPAT_SPARSE_SUPER | RO_COMPAT_LARGE_FILE | RO_COMPAT_BTREE_DIR;

const INCOMPATIBLE_NAMES: [(u32, &str); 16] = [
    (0x0001, "compression"),
    (0x0002, "filetype"),
    (0x0004, "needs_recovery"),
    (0x0008, "journal_dev"),
    (0x0010, "meta_bg"),
    (0x0040, "extent"),
    (0x0080, "64bit"),
    (0x0100, "mmp"),
    (0x0200, "flex_bg"),
    (0x0400, "ea_inode"),
    (0x1000, "dirdata"),
    (0x2000, "metadata_csum_seed"),
    (0x4000, "large_dir"),
    (0x8000, "inline_data"),
    (0x10000, "encrypt"),
    (0x20000, "casefold"),
];

const READ_ONLY_NAMES: [(u32, &str); 14] = [
    (0x0001, "sparse_super"),
    (0x0002, "large_file"),
    (0x0004, "btree_dir"),
    (0x0008, "huge_file"),
    (0x0010, "uninit_bg"),
    (0x0020, "dir_nlink"),
    (0x0040, "extra_isize"),
    (0x0080, "snapshot"),
    (0x0100, "quota"),
    (0x0200, "bigalloc"),
    (0x0400, "metadata_csum"),
    (0x0800, "replica"),
    (0x1000, "read-only"),
    (0x2000, "project"),
];

/// Names of a set of feature bits, for messages: `"extent, 64bit"`; a
/// bit without a name shows as its hex value.
#[derive(Clone, Copy, Debug)]
pub struct FeatureNames {
    bits: u32,
    names: &'static [(u32, &'static str)],
}

impl FeatureNames {
    /// Incompatible feature bits.
    pub fn incompatible(bits: u32) -> Self {
        Self {
            bits,
            names: &INCOMPATIBLE_NAMES,
        }
    }

    /// Read-only compatible feature bits.
    pub fn read_only(bits: u32) -> Self {
        Self {
            bits,
            names: &READ_ONLY_NAMES,
        }
    }
}

impl fmt::Display for FeatureNames {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for bit in (0..32).map(|shift| 1u32 << shift) {
            if self.bits & bit == 0 {
                continue;
            }
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            match self.names.iter().find(|(value, _)| *value == bit) {
                Some((_, name)) => f.write_str(name)?,
                None => write!(f, "{bit:#x}")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn names_list_every_bit_known_or_not() {
        let text = format!("{}", FeatureNames::incompatible(0x40 | 0x80 | 0x4000_0000));
        assert_eq!(text, "extent, 64bit, 0x40000000");
        assert_eq!(
            format!("{}", FeatureNames::read_only(0x400)),
            "metadata_csum"
        );
    }
}
