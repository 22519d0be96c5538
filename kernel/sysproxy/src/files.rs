//! The file calls (open, read, write, stat, readdir) on the vfs faction,
//! for `anyctl ls|cat` and any client: a file opened remotely is a
//! descriptor in the client's process, beside its sockets, and `close`
//! closes either. A kernel without the vfs faction answers ENOSYS.

use alloc::vec::Vec;

use sysproxy_proto::Errno;
use sysproxy_proto::calls::call;
use sysproxy_proto::types::{Bytes, Descriptor, DirectoryEntry, FileStatus};

use crate::handler::Caller;

/// Directory entries one call returns at most.
const MOST_ENTRIES: u32 = 256;

#[cfg(feature = "vfs")]
mod served {
    use alloc::string::String;
    use alloc::sync::Arc;
    use alloc::vec;
    use alloc::vec::Vec;

    use sysproxy_proto::Errno;
    use sysproxy_proto::types::{DirectoryEntry, FileKind, FileStatus};
    use vfs::{Errno as VfsErrno, NodeKind, OpenFlags, Vfs};

    use crate::handler::{Caller, bounded, descriptor};

    fn faction(caller: &Caller<'_>) -> Result<Arc<Vfs>, Errno> {
        Vfs::of(caller.context).ok_or(Errno::NotImplemented)
    }

    pub fn open(
        caller: &Caller<'_>,
        path: &str,
        flags: u32,
        permissions: u16,
    ) -> Result<u32, Errno> {
        caller.check_room()?;
        let vfs = faction(caller)?;
        let fd = vfs.open(caller.context, path, OpenFlags(flags), permissions);
        fd.map(|fd| descriptor(fd).0).map_err(errno)
    }

    pub fn read(caller: &Caller<'_>, fd: u32, length: u32) -> Result<Vec<u8>, Errno> {
        let mut buffer = vec![0u8; bounded(length)];
        let count = faction(caller)?
            .read(caller.context, vfs::Fd(fd), &mut buffer)
            .map_err(errno)?;
        buffer.truncate(count);
        Ok(buffer)
    }

    pub fn write(caller: &Caller<'_>, fd: u32, data: &[u8]) -> Result<usize, Errno> {
        faction(caller)?
            .write(caller.context, vfs::Fd(fd), data)
            .map_err(errno)
    }

    pub fn stat(caller: &Caller<'_>, path: &str) -> Result<FileStatus, Errno> {
        let stat = faction(caller)?.stat(caller.context, path).map_err(errno)?;
        let attributes = stat.attributes;
        Ok(FileStatus {
            kind: kind(attributes.kind),
            permissions: attributes.permissions,
            links: attributes.links,
            size: attributes.size,
            modified_ns: attributes.modified_ns,
        })
    }

    pub fn read_directory(
        caller: &Caller<'_>,
        fd: u32,
        most: u32,
    ) -> Result<Vec<DirectoryEntry>, Errno> {
        let vfs = faction(caller)?;
        let mut entries = Vec::new();
        while entries.len() < most as usize {
            let Some(entry) = vfs.readdir(caller.context, vfs::Fd(fd)).map_err(errno)? else {
                break;
            };
            entries.push(DirectoryEntry {
                name: String::from_utf8_lossy(&entry.name).into_owned(),
                kind: kind(entry.kind),
            });
        }
        Ok(entries)
    }

    fn kind(kind: NodeKind) -> FileKind {
        match kind {
            NodeKind::File => FileKind::File,
            NodeKind::Directory => FileKind::Directory,
            NodeKind::Symlink => FileKind::Symlink,
        }
    }

    /// The wire's errno for the vfs faction's.
    pub fn errno(errno: VfsErrno) -> Errno {
        use VfsErrno as V;
        match errno {
            V::NotPermitted | V::AccessDenied => Errno::PermissionDenied,
            V::NotFound => Errno::NotFound,
            V::Io => Errno::Io,
            V::BadDescriptor => Errno::BadDescriptor,
            V::OutOfMemory => Errno::NoBuffers,
            V::Busy | V::NotEmpty => Errno::Busy,
            V::Exists => Errno::Exists,
            V::NotDirectory => Errno::NotDirectory,
            V::IsDirectory => Errno::IsDirectory,
            V::TooManyOpen => Errno::TooManySockets,
            V::FileTooLarge | V::Overflow => Errno::FileTooLarge,
            V::NoSpace => Errno::NoSpace,
            V::ReadOnly => Errno::ReadOnly,
            V::NameTooLong => Errno::NameTooLong,
            V::Loop => Errno::Loop,
            V::NotSupported | V::NotAFile => Errno::NotSupported,
            V::NoFileSystem => Errno::NotImplemented,
            V::CrossDevice | V::InvalidArgument | V::IllegalSeek | V::TooManyLinks => {
                Errno::InvalidArgument
            }
        }
    }
}

#[cfg(not(feature = "vfs"))]
mod served {
    //! Without the vfs faction: every file call is ENOSYS.

    use alloc::vec::Vec;

    use sysproxy_proto::Errno;
    use sysproxy_proto::types::{DirectoryEntry, FileStatus};

    use crate::handler::Caller;

    pub fn open(_: &Caller<'_>, _: &str, _: u32, _: u16) -> Result<u32, Errno> {
        Err(Errno::NotImplemented)
    }
    pub fn read(_: &Caller<'_>, _: u32, _: u32) -> Result<Vec<u8>, Errno> {
        Err(Errno::NotImplemented)
    }
    pub fn write(_: &Caller<'_>, _: u32, _: &[u8]) -> Result<usize, Errno> {
        Err(Errno::NotImplemented)
    }
    pub fn stat(_: &Caller<'_>, _: &str) -> Result<FileStatus, Errno> {
        Err(Errno::NotImplemented)
    }
    pub fn read_directory(_: &Caller<'_>, _: u32, _: u32) -> Result<Vec<DirectoryEntry>, Errno> {
        Err(Errno::NotImplemented)
    }
}

pub fn open(caller: &Caller<'_>, call: call::Open) -> Result<Descriptor, Errno> {
    served::open(caller, &call.path, call.flags, call.permissions).map(Descriptor)
}

pub fn read(caller: &Caller<'_>, call: call::Read) -> Result<Bytes, Errno> {
    served::read(caller, call.fd.0, call.length).map(Bytes)
}

pub fn write(caller: &Caller<'_>, call: call::Write) -> Result<u32, Errno> {
    let data = crate::handler::check_data(&call.data)?;
    let written = served::write(caller, call.fd.0, data)?;
    Ok(u32::try_from(written).unwrap_or(u32::MAX))
}

pub fn stat(caller: &Caller<'_>, call: call::Stat) -> Result<FileStatus, Errno> {
    served::stat(caller, &call.path)
}

pub fn read_directory(
    caller: &Caller<'_>,
    call: call::ReadDirectory,
) -> Result<Vec<DirectoryEntry>, Errno> {
    served::read_directory(caller, call.fd.0, call.most.min(MOST_ENTRIES))
}
