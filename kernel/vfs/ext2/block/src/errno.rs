//! ext2's errors as the vfs's errno, with the block layer's reason for EIO.
//!
//! ext2 reports a failed device call as [`ext2::Error::Io`] and nothing
//! more; the [`crate::VolumeDevice`] of the call kept the block layer's
//! own error, which tells EIO (the disk failed) from ENOMEM (the cache
//! found no buffer) and EROFS (the disk refused the write).

use block::BlockError;
use log::warn;
use vfs::Errno;

/// The errno for `error`, which a call ended with after the volume's last
/// failure was `block` (if it failed at all).
pub(crate) fn errno(error: ext2::Error, block: Option<BlockError>) -> Errno {
    use ext2::Error as E;
    match error {
        E::NotFound => Errno::NotFound,
        E::Exists => Errno::Exists,
        E::NotDirectory => Errno::NotDirectory,
        E::IsDirectory => Errno::IsDirectory,
        E::NotEmpty => Errno::NotEmpty,
        E::NoSpace => Errno::NoSpace,
        E::Io => block.map_or(Errno::Io, from_block),
        E::ReadOnly => Errno::ReadOnly,
        E::NameTooLong => Errno::NameTooLong,
        E::FileTooBig => Errno::FileTooLarge,
        E::InvalidArgument | E::BadSuperblock(_) | E::UnsupportedFeatures(_) => {
            Errno::InvalidArgument
        }
        E::TooManyLinks => Errno::TooManyLinks,
        E::NotPermitted => Errno::NotPermitted,
        E::Loop => Errno::Loop,
        E::Corrupt(what) => {
            warn!("ext2: damaged file system: {what}");
            Errno::Io
        }
    }
}

/// The errno of a block-layer failure under a file system call.
pub(crate) fn from_block(error: BlockError) -> Errno {
    match error {
        BlockError::NoMemory => Errno::OutOfMemory,
        BlockError::ReadOnly => Errno::ReadOnly,
        BlockError::NoDevice => Errno::NoFileSystem,
        BlockError::Io | BlockError::OutOfRange | BlockError::Invalid => Errno::Io,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_take_the_block_layers_reason() {
        assert_eq!(errno(ext2::Error::Io, None), Errno::Io);
        let no_memory = Some(BlockError::NoMemory);
        assert_eq!(errno(ext2::Error::Io, no_memory), Errno::OutOfMemory);
        let read_only = Some(BlockError::ReadOnly);
        assert_eq!(errno(ext2::Error::Io, read_only), Errno::ReadOnly);
        assert_eq!(errno(ext2::Error::Io, Some(BlockError::Io)), Errno::Io);
        // Only I/O errors look at the block layer.
        assert_eq!(errno(ext2::Error::NoSpace, no_memory), Errno::NoSpace);
    }

    #[test]
    fn every_ext2_error_has_the_errno_ext2_names() {
        use ext2::Error as E;
        for error in [
            E::NotFound,
            E::Exists,
            E::NotDirectory,
            E::IsDirectory,
            E::NotEmpty,
            E::NoSpace,
            E::Io,
            E::ReadOnly,
            E::NameTooLong,
            E::FileTooBig,
            E::InvalidArgument,
            E::TooManyLinks,
            E::NotPermitted,
            E::Loop,
            E::Corrupt("test"),
            E::BadSuperblock("test"),
            E::UnsupportedFeatures(1),
        ] {
            let ours = errno(error, None);
            // ext2 numbers as NetBSD does, the vfs as Linux does: compare
            // the names, which agree.
            assert_eq!(errno_name(ours), error.errno_name(), "{error:?}");
        }
    }

    fn errno_name(errno: Errno) -> &'static str {
        match errno {
            Errno::NotFound => "ENOENT",
            Errno::Exists => "EEXIST",
            Errno::NotDirectory => "ENOTDIR",
            Errno::IsDirectory => "EISDIR",
            Errno::NotEmpty => "ENOTEMPTY",
            Errno::NoSpace => "ENOSPC",
            Errno::Io => "EIO",
            Errno::ReadOnly => "EROFS",
            Errno::NameTooLong => "ENAMETOOLONG",
            Errno::FileTooLarge => "EFBIG",
            Errno::InvalidArgument => "EINVAL",
            Errno::TooManyLinks => "EMLINK",
            Errno::NotPermitted => "EPERM",
            Errno::Loop => "ELOOP",
            _ => "other",
        }
    }
}
