//! The superblock: checked on mount, the geometry derived from it.
//!
//! Every number the rest of the driver trusts (block size, group sizes,
//! counts) is checked here once, so that arithmetic on them cannot
//! overflow and tables sized from them fit the device.

use alloc::vec::Vec;

use zerocopy::{FromBytes, IntoBytes};

use crate::error::{Error, Result};
use crate::features::{INCOMPAT_SUPPORTED, RO_COMPAT_SPARSE_SUPER, RO_COMPAT_SUPPORTED};
use crate::layout::{
    GOOD_OLD_FIRST_INODE, GOOD_OLD_INODE_SIZE, GROUP_DESCRIPTOR_SIZE, MAGIC, ROOT_INODE,
    RawSuperblock, SUPERBLOCK_SIZE,
};

/// The superblock as read, with the geometry it implies.
#[derive(Debug)]
pub(crate) struct Superblock {
    /// The whole 1024 bytes, for the fields we do not name.
    raw: Vec<u8>,
    /// The named fields; written back over `raw`.
    pub fields: RawSuperblock,
    pub block_size: usize,
    pub blocks_count: u64,
    pub first_data_block: u64,
    pub blocks_per_group: u32,
    pub inodes_per_group: u32,
    pub inodes_count: u32,
    pub inode_size: usize,
    pub first_inode: u32,
    pub group_count: u32,
    /// Blocks of the group descriptor table.
    pub table_blocks: u64,
    /// Blocks of each group's inode table.
    pub inode_table_blocks: u64,
}

fn bad(why: &'static str) -> Error {
    Error::BadSuperblock(why)
}

impl Superblock {
    /// Parses and checks the 1024 bytes at offset 1024 of the device.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let (fields, _) = RawSuperblock::read_from_prefix(bytes).map_err(|_| bad("short read"))?;
        if fields.magic.get() != MAGIC {
            return Err(bad("no ext2 magic number"));
        }
        let revision = fields.revision.get();
        if revision > 1 {
            return Err(bad("revision above 1"));
        }
        let unknown = fields.feature_incompatible.get() & !INCOMPAT_SUPPORTED;
        if revision == 1 && unknown != 0 {
            return Err(Error::UnsupportedFeatures(unknown));
        }
        let log = fields.log_block_size.get();
        if log > 2 {
            return Err(bad("block size above 4 KiB"));
        }
        let block_size = 1024usize << log;
        let (inode_size, first_inode) = if revision == 0 {
            (GOOD_OLD_INODE_SIZE, GOOD_OLD_FIRST_INODE)
        } else {
            (
                usize::from(fields.inode_size.get()),
                fields.first_inode.get(),
            )
        };
        let mut superblock = Self {
            raw: bytes[..SUPERBLOCK_SIZE].to_vec(),
            block_size,
            blocks_count: u64::from(fields.blocks_count.get()),
            first_data_block: u64::from(fields.first_data_block.get()),
            blocks_per_group: fields.blocks_per_group.get(),
            inodes_per_group: fields.inodes_per_group.get(),
            inodes_count: fields.inodes_count.get(),
            inode_size,
            first_inode,
            group_count: 0,
            table_blocks: 0,
            inode_table_blocks: 0,
            fields,
        };
        superblock.check_geometry()?;
        Ok(superblock)
    }

    fn check_geometry(&mut self) -> Result<()> {
        let bits = 8 * self.block_size as u32;
        let per_group = self.blocks_per_group;
        if per_group < 8 || per_group > bits || !per_group.is_multiple_of(8) {
            return Err(bad("blocks per group out of range"));
        }
        if self.inodes_per_group == 0 || self.inodes_per_group > bits {
            return Err(bad("inodes per group out of range"));
        }
        let inode_size = self.inode_size;
        if !inode_size.is_power_of_two() || inode_size < 128 || inode_size > self.block_size {
            return Err(bad("inode size out of range"));
        }
        if self.first_data_block != u64::from(self.block_size == 1024) {
            return Err(bad("first data block does not follow the superblock"));
        }
        if self.blocks_count <= self.first_data_block {
            return Err(bad("no blocks"));
        }
        let group_blocks = self.blocks_count - self.first_data_block;
        let groups = group_blocks.div_ceil(u64::from(per_group));
        let inodes = groups * u64::from(self.inodes_per_group);
        if inodes != u64::from(self.inodes_count) {
            return Err(bad("inode count is not groups times inodes per group"));
        }
        if self.first_inode <= ROOT_INODE || self.first_inode > self.inodes_count {
            return Err(bad("first inode out of range"));
        }
        self.group_count = groups as u32;
        let descriptors = groups * GROUP_DESCRIPTOR_SIZE as u64;
        self.table_blocks = descriptors.div_ceil(self.block_size as u64);
        let table_bytes = u64::from(self.inodes_per_group) * inode_size as u64;
        self.inode_table_blocks = table_bytes.div_ceil(self.block_size as u64);
        if self.inode_table_blocks >= u64::from(per_group) {
            return Err(bad("inode table larger than a group"));
        }
        if self.first_data_block + 1 + self.table_blocks > self.blocks_count {
            return Err(bad("group descriptors past the end"));
        }
        Ok(())
    }

    /// Read-only compatible features we do not know (a read-only mount).
    pub fn unknown_read_only_features(&self) -> u32 {
        self.fields.feature_read_only.get() & !RO_COMPAT_SUPPORTED
    }

    /// Whether `feature` (a read-only compatible bit) is set.
    pub fn has_read_only_feature(&self, feature: u32) -> bool {
        self.fields.feature_read_only.get() & feature != 0
    }

    /// Whether `feature` (an incompatible bit) is set.
    pub fn has_incompatible_feature(&self, feature: u32) -> bool {
        self.fields.feature_incompatible.get() & feature != 0
    }

    /// The first block of `group`.
    pub fn group_first_block(&self, group: u32) -> u64 {
        self.first_data_block + u64::from(group) * u64::from(self.blocks_per_group)
    }

    /// The blocks of `group` (the last group may be short).
    pub fn group_block_count(&self, group: u32) -> u64 {
        let first = self.group_first_block(group);
        (self.blocks_count - first).min(u64::from(self.blocks_per_group))
    }

    /// Whether `group` holds a copy of the superblock and descriptors.
    pub fn group_has_superblock(&self, group: u32) -> bool {
        if !self.has_read_only_feature(RO_COMPAT_SPARSE_SUPER) || group <= 1 {
            return true;
        }
        [3u32, 5, 7].iter().any(|base| is_power_of(group, *base))
    }

    /// Blocks at the start of `group` taken by the superblock copy, the
    /// descriptor table and the blocks reserved for its growth.
    pub fn group_header_blocks(&self, group: u32) -> u64 {
        if !self.group_has_superblock(group) {
            return 0;
        }
        let reserved = u64::from(self.fields.reserved_gdt_blocks.get());
        1 + self.table_blocks + reserved
    }

    /// The 1024 bytes to write back.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = self.raw.clone();
        let named = self.fields.as_bytes();
        bytes[..named.len()].copy_from_slice(named);
        bytes
    }
}

fn is_power_of(mut value: u32, base: u32) -> bool {
    while value > 1 && value.is_multiple_of(base) {
        value /= base;
    }
    value == 1
}
