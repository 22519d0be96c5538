//! A full disk: `ENOSPC` from every call that needs a block or an inode,
//! partial writes counted, nothing leaked, and e2fsck clean afterwards.

mod common;

use common::*;
use ext2::Error;

#[test]
fn filling_the_blocks_gives_enospc_and_leaves_the_image_clean() {
    for block_size in [1024, 4096] {
        let scratch = Scratch::new("full");
        let image = empty_image(&scratch, block_size, 2048);
        let mut fs = mount(&image);
        let root = fs.root();
        let before = fs.statfs();
        let file = fs.create(root, b"filler", access(0o644)).unwrap();
        let chunk = pattern(1, 64 * 1024);
        let mut written = 0u64;
        let error = loop {
            match fs.write_at(file, written, &chunk) {
                Ok(count) => written += count as u64,
                Err(error) => break error,
            }
            assert!(written < 4 << 20, "more written than the disk holds");
        };
        assert_eq!(error, Error::NoSpace);
        assert_eq!(fs.statfs().free_blocks, 0);
        assert_eq!(fs.getattr(file).unwrap().size, written);
        // Everything that needs a block fails the same way, changing nothing.
        let inodes = fs.statfs().free_inodes;
        assert_eq!(fs.mkdir(root, b"d", access(0o755)), Err(Error::NoSpace));
        let long = vec![b'l'; 300];
        assert_eq!(
            fs.symlink(root, b"s", &long, access(0)),
            Err(Error::NoSpace)
        );
        assert_eq!(fs.statfs().free_inodes, inodes);
        let mut back = vec![0; written as usize];
        assert_eq!(fs.read_at(file, 0, &mut back), Ok(written as usize));
        assert!(
            back.chunks(chunk.len())
                .all(|piece| piece == &chunk[..piece.len()])
        );
        fs.unmount().expect("unmounts");
        assert_clean(&image);
        // Removing the file gives every block back.
        let mut fs = mount(&image);
        fs.unlink(root, b"filler").unwrap();
        let after = fs.statfs();
        assert_eq!(
            (after.free_blocks, after.free_inodes),
            (before.free_blocks, before.free_inodes)
        );
        fs.unmount().expect("unmounts");
        assert_clean(&image);
    }
}

#[test]
fn running_out_of_inodes_and_directory_blocks_gives_enospc() {
    let scratch = Scratch::new("inodes");
    let image = scratch.join("image");
    // 1 MiB with few inodes: they run out first.
    make_image(&image, 1024, 1024, None, &["-N", "64"]);
    let mut fs = mount(&image);
    let root = fs.root();
    let directory = fs.mkdir(root, b"d", access(0o755)).unwrap();
    let mut made = 0;
    let error = loop {
        let name = format!("file-{made:04}");
        match fs.create(directory, name.as_bytes(), access(0o644)) {
            Ok(_) => made += 1,
            Err(error) => break error,
        }
        assert!(made <= 64, "more inodes than the file system has");
    };
    assert_eq!(error, Error::NoSpace);
    assert_eq!(fs.statfs().free_inodes, 0);
    assert_eq!(names(&fs, directory).len(), made);
    fs.unmount().expect("unmounts");
    assert_clean(&image);

    // Now the blocks: with inodes free again but no block left, a name
    // that needs a new directory block fails, and its inode is given back.
    let mut fs = mount(&image);
    for index in 0..20 {
        fs.unlink(directory, format!("file-{index:04}").as_bytes())
            .unwrap();
    }
    let filler = fs.create(root, b"filler", access(0o644)).unwrap();
    let chunk = vec![7u8; 32 * 1024];
    let mut at = 0;
    while let Ok(count) = fs.write_at(filler, at, &chunk) {
        at += count as u64;
    }
    let long = "y".repeat(250);
    let mut created = 0;
    let error = loop {
        let name = format!("{long}{created}");
        match fs.create(directory, name.as_bytes(), access(0o644)) {
            Ok(_) => created += 1,
            Err(error) => break error,
        }
        assert!(created < 16, "a directory grew on a full disk");
    };
    assert_eq!(error, Error::NoSpace);
    assert!(created >= 1, "the freed records were not reused");
    assert_eq!(fs.statfs().free_inodes, 19 - created as u64);
    fs.unmount().expect("unmounts");
    assert_clean(&image);
}
