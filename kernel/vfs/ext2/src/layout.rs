//! The on-disk structures, as typed little-endian views (zerocopy).
//!
//! Only the fields this driver reads or writes are named; the rest of each
//! structure is kept byte for byte by the code that owns it.

use zerocopy::little_endian::{U16, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// Byte offset of the superblock on the device.
pub const SUPERBLOCK_OFFSET: u64 = 1024;
/// Bytes of the superblock.
pub const SUPERBLOCK_SIZE: usize = 1024;
/// The superblock's magic number.
pub const MAGIC: u16 = 0xEF53;
/// `s_state`: unmounted cleanly.
pub const STATE_VALID: u16 = 0x0001;
/// Bytes of a group descriptor without the 64bit feature.
pub const GROUP_DESCRIPTOR_SIZE: usize = 32;
/// Bytes of the revision-0 inode, the part every inode size starts with.
pub const GOOD_OLD_INODE_SIZE: usize = 128;
/// The first non-reserved inode in revision 0.
pub const GOOD_OLD_FIRST_INODE: u32 = 11;
/// The root directory's inode.
pub const ROOT_INODE: u32 = 2;

/// The superblock's first 208 bytes (up to `s_reserved_gdt_blocks`).
#[derive(Clone, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct RawSuperblock {
    pub inodes_count: U32,
    pub blocks_count: U32,
    pub reserved_blocks_count: U32,
    pub free_blocks_count: U32,
    pub free_inodes_count: U32,
    pub first_data_block: U32,
    pub log_block_size: U32,
    pub log_fragment_size: U32,
    pub blocks_per_group: U32,
    pub fragments_per_group: U32,
    pub inodes_per_group: U32,
    pub mount_time: U32,
    pub write_time: U32,
    pub mount_count: U16,
    pub max_mount_count: U16,
    pub magic: U16,
    pub state: U16,
    pub errors: U16,
    pub minor_revision: U16,
    pub last_check: U32,
    pub check_interval: U32,
    pub creator_os: U32,
    pub revision: U32,
    pub default_reserved_uid: U16,
    pub default_reserved_gid: U16,
    pub first_inode: U32,
    pub inode_size: U16,
    pub block_group_number: U16,
    pub feature_compatible: U32,
    pub feature_incompatible: U32,
    pub feature_read_only: U32,
    pub uuid: [u8; 16],
    pub volume_name: [u8; 16],
    pub last_mounted: [u8; 64],
    pub algorithm_usage_bitmap: U32,
    pub prealloc_blocks: u8,
    pub prealloc_directory_blocks: u8,
    pub reserved_gdt_blocks: U16,
}

/// A block group descriptor (32 bytes).
#[derive(Clone, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct RawGroupDescriptor {
    pub block_bitmap: U32,
    pub inode_bitmap: U32,
    pub inode_table: U32,
    pub free_blocks: U16,
    pub free_inodes: U16,
    pub used_directories: U16,
    pub flags: U16,
    pub reserved: [u8; 12],
}

/// The first 128 bytes of an inode.
#[derive(Clone, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct RawInode {
    pub mode: U16,
    pub uid: U16,
    pub size: U32,
    pub atime: U32,
    pub ctime: U32,
    pub mtime: U32,
    pub dtime: U32,
    pub gid: U16,
    pub links_count: U16,
    /// 512-byte sectors held, indirect and extended-attribute blocks included.
    pub blocks: U32,
    pub flags: U32,
    pub os_dependent: U32,
    /// 12 direct pointers, then single, double and triple indirect.
    pub block: [U32; 15],
    pub generation: U32,
    pub file_acl: U32,
    /// Size bits 32..64 of a regular file (`large_file`).
    pub size_high: U32,
    pub fragment_address: U32,
    pub blocks_high: U16,
    pub file_acl_high: U16,
    pub uid_high: U16,
    pub gid_high: U16,
    pub checksum_low: U16,
    pub reserved: U16,
}

/// The fixed head of a directory entry (`ext2_dir_entry_2`).
#[derive(Clone, Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct RawDirectoryEntry {
    pub inode: U32,
    pub record_length: U16,
    pub name_length: u8,
    pub file_type: u8,
}

/// Bytes of a directory entry's head.
pub const DIRECTORY_ENTRY_HEAD: usize = 8;
/// The longest name in a directory entry.
pub const MAX_NAME: usize = 255;

/// Bytes a directory entry with a name of `name_length` bytes needs.
pub fn entry_length(name_length: usize) -> usize {
    (DIRECTORY_ENTRY_HEAD + name_length).next_multiple_of(4)
}

const _: () = assert!(size_of::<RawSuperblock>() == 208);
const _: () = assert!(size_of::<RawGroupDescriptor>() == GROUP_DESCRIPTOR_SIZE);
const _: () = assert!(size_of::<RawInode>() == GOOD_OLD_INODE_SIZE);
const _: () = assert!(size_of::<RawDirectoryEntry>() == DIRECTORY_ENTRY_HEAD);
