//! Writing: every test changes an image made by mke2fs, unmounts it, and
//! then Linux's `e2fsck -fn` must find it clean and Linux's debugfs must
//! read back what we wrote.

mod common;

use std::path::Path;

use common::*;
use ext2::{Error, FileKind, SetAttributes};

/// Both block sizes, each on a fresh 16 MiB image.
fn on_both_block_sizes(test: impl Fn(&Path, u32)) {
    for block_size in [1024, 4096] {
        let scratch = Scratch::new("write");
        let image = empty_image(&scratch, block_size, 16 * 1024);
        test(&image, block_size);
        assert_clean(&image);
    }
}

#[test]
fn files_created_appended_overwritten_and_truncated_read_back_in_linux() {
    on_both_block_sizes(|image, _| {
        let mut fs = mount(image);
        let root = fs.root();
        let file = fs.create(root, b"file", access(0o640)).expect("created");
        let mut expected = pattern(1, 10_000);
        assert_eq!(fs.write_at(file, 0, &expected), Ok(10_000));
        let tail = pattern(2, 5_000);
        assert_eq!(fs.write_at(file, 10_000, &tail), Ok(5_000));
        expected.extend_from_slice(&tail);
        let middle = pattern(3, 3_000);
        assert_eq!(fs.write_at(file, 4_000, &middle), Ok(3_000));
        expected[4_000..7_000].copy_from_slice(&middle);
        fs.truncate(file, 7_777).expect("shrunk");
        expected.truncate(7_777);
        fs.truncate(file, 20_000).expect("grown");
        expected.resize(20_000, 0);
        assert_eq!(read_all(&fs, file), expected);
        let attributes = fs.getattr(file).unwrap();
        assert_eq!(
            (attributes.mode, attributes.uid, attributes.kind),
            (0o640, 1000, FileKind::Regular)
        );
        // Indirect blocks: a file of 600 blocks, then cut to 13 blocks.
        let big = fs.create(root, b"big", access(0o644)).expect("created");
        let data = pattern(4, 600 * 4096 + 17);
        assert_eq!(fs.write_at(big, 0, &data), Ok(data.len()));
        fs.unmount().expect("unmounts");
        assert_eq!(debugfs_cat(image, "/file"), expected);
        assert_eq!(debugfs_cat(image, "/big"), data);
        let mut fs = mount(image);
        let big = resolve(&fs, "/big").unwrap();
        fs.truncate(big, 13 * 1024 + 5).expect("cut");
        assert_eq!(read_all(&fs, big), data[..13 * 1024 + 5]);
        fs.unmount().expect("unmounts");
        assert_eq!(debugfs_cat(image, "/big"), data[..13 * 1024 + 5]);
    });
}

#[test]
fn sparse_files_and_a_file_past_4_gib_keep_their_holes() {
    on_both_block_sizes(|image, block_size| {
        let mut fs = mount(image);
        let root = fs.root();
        let sparse = fs.create(root, b"sparse", access(0o644)).expect("created");
        let offsets = [0u64, 100_000, 3 << 20, 70 << 20];
        for (seed, offset) in offsets.iter().enumerate() {
            let chunk = pattern(seed as u64, 777);
            assert_eq!(fs.write_at(sparse, *offset, &chunk), Ok(777));
        }
        let huge = fs.create(root, b"huge", access(0o644)).expect("created");
        let far = (5u64 << 30) + 12345;
        assert_eq!(fs.write_at(huge, far, b"past four gigabytes"), Ok(19));
        let mut back = [0u8; 19];
        assert_eq!(fs.read_at(huge, far, &mut back), Ok(19));
        assert_eq!(&back, b"past four gigabytes");
        assert_eq!(fs.getattr(huge).unwrap().size, far + 19);
        // Few blocks used: the data, and the indirect blocks on its path.
        assert!(fs.getattr(huge).unwrap().sectors <= u64::from(block_size / 512) * 4);
        let mut zeros = vec![1u8; 4096];
        assert_eq!(fs.read_at(huge, 1 << 30, &mut zeros), Ok(4096));
        assert!(zeros.iter().all(|byte| *byte == 0));
        let size = fs.getattr(sparse).unwrap().size;
        let expected = {
            let mut data = vec![0; size as usize];
            for (seed, offset) in offsets.iter().enumerate() {
                let at = *offset as usize;
                data[at..at + 777].copy_from_slice(&pattern(seed as u64, 777));
            }
            data
        };
        assert_eq!(read_all(&fs, sparse), expected);
        fs.unmount().expect("unmounts");
        assert_eq!(debugfs_cat(image, "/sparse"), expected);
        let stat = debugfs(image, "stat /huge");
        assert!(stat.contains(&format!("Size: {}", far + 19)), "{stat}");
        // Linux maps the last block where we put it: read it from the image.
        let logical = far / u64::from(block_size);
        let physical = debugfs(image, &format!("bmap /huge {logical}"));
        let physical: u64 = physical.trim().parse().expect("a block number");
        let bytes = std::fs::read(image).unwrap();
        let at = (physical * u64::from(block_size) + far % u64::from(block_size)) as usize;
        assert_eq!(&bytes[at..at + 19], b"past four gigabytes");
    });
}

#[test]
fn directories_are_made_and_removed_with_their_link_counts() {
    on_both_block_sizes(|image, _| {
        let mut fs = mount(image);
        let root = fs.root();
        let root_links = fs.getattr(root).unwrap().links;
        let a = fs.mkdir(root, b"a", access(0o755)).expect("a");
        let b = fs.mkdir(a, b"b", access(0o700)).expect("b");
        fs.mkdir(a, b"c", access(0o755)).expect("c");
        let file = fs.create(b, b"file", access(0o644)).expect("file");
        fs.write_at(file, 0, b"inside b\n").unwrap();
        assert_eq!(fs.getattr(root).unwrap().links, root_links + 1);
        assert_eq!(fs.getattr(a).unwrap().links, 4);
        assert_eq!(fs.lookup(b, b".."), Ok(a));
        assert_eq!(fs.mkdir(a, b"b", access(0o755)), Err(Error::Exists));
        assert_eq!(fs.rmdir(a, b"b"), Err(Error::NotEmpty));
        assert_eq!(fs.rmdir(b, b"file"), Err(Error::NotDirectory));
        assert_eq!(fs.unlink(a, b"c"), Err(Error::IsDirectory));
        assert_eq!(fs.rmdir(a, b"."), Err(Error::InvalidArgument));
        assert_eq!(
            fs.create(file, b"x", access(0o644)),
            Err(Error::NotDirectory)
        );
        fs.rmdir(a, b"c").expect("c removed");
        assert_eq!(fs.getattr(a).unwrap().links, 3);
        assert_eq!(fs.lookup(a, b"c"), Err(Error::NotFound));
        fs.mkdir(root, b"gone", access(0o755)).expect("made");
        fs.rmdir(root, b"gone").expect("removed");
        fs.unmount().expect("unmounts");
        assert_eq!(debugfs_cat(image, "/a/b/file"), b"inside b\n");
        let listing = debugfs(image, "ls -l /a");
        assert!(
            listing
                .lines()
                .any(|line| line.ends_with(" b") && line.contains("40700"))
        );
    });
}

#[test]
fn rename_follows_posix_over_existing_files_and_directories() {
    on_both_block_sizes(|image, _| {
        let mut fs = mount(image);
        let root = fs.root();
        let one = fs.create(root, b"one", access(0o644)).unwrap();
        fs.write_at(one, 0, b"first").unwrap();
        let two = fs.create(root, b"two", access(0o644)).unwrap();
        fs.write_at(two, 0, &pattern(9, 50_000)).unwrap();
        let free_before = fs.statfs().free_blocks;
        fs.rename(root, b"one", root, b"two").expect("over a file");
        assert_eq!(fs.lookup(root, b"two"), Ok(one));
        assert_eq!(fs.lookup(root, b"one"), Err(Error::NotFound));
        assert!(
            fs.statfs().free_blocks > free_before,
            "the replaced file was freed"
        );
        let left = fs.mkdir(root, b"left", access(0o755)).unwrap();
        let right = fs.mkdir(root, b"right", access(0o755)).unwrap();
        let moving = fs.mkdir(left, b"moving", access(0o755)).unwrap();
        let inner = fs.mkdir(moving, b"inner", access(0o755)).unwrap();
        assert_eq!(
            fs.rename(left, b"moving", inner, b"x"),
            Err(Error::InvalidArgument)
        );
        assert_eq!(
            fs.rename(root, b"two", root, b"left"),
            Err(Error::IsDirectory)
        );
        assert_eq!(
            fs.rename(root, b"left", root, b"two"),
            Err(Error::NotDirectory)
        );
        fs.rename(left, b"moving", right, b"moved")
            .expect("a directory moves");
        assert_eq!(fs.lookup(moving, b".."), Ok(right));
        assert_eq!(fs.getattr(left).unwrap().links, 2);
        assert_eq!(fs.getattr(right).unwrap().links, 3);
        fs.mkdir(left, b"empty", access(0o755)).unwrap();
        fs.rename(right, b"moved", left, b"empty")
            .expect("over an empty directory");
        assert_eq!(fs.lookup(left, b"empty"), Ok(moving));
        assert_eq!(fs.getattr(left).unwrap().links, 3);
        assert_eq!(fs.getattr(right).unwrap().links, 2);
        fs.mkdir(right, b"full", access(0o755)).unwrap();
        fs.create(resolve(&fs, "/right/full").unwrap(), b"f", access(0o644))
            .unwrap();
        assert_eq!(
            fs.rename(left, b"empty", right, b"full"),
            Err(Error::NotEmpty)
        );
        fs.link(one, root, b"alias").unwrap();
        fs.rename(root, b"alias", root, b"two").expect("a no-op");
        assert_eq!(fs.getattr(one).unwrap().links, 2);
        fs.rename(root, b"two", left, b"renamed-in-place").unwrap();
        fs.unmount().expect("unmounts");
        assert_eq!(debugfs_cat(image, "/left/renamed-in-place"), b"first");
        assert_eq!(debugfs_cat(image, "/alias"), b"first");
    });
}

#[test]
fn hard_links_and_symlinks_fast_and_slow() {
    on_both_block_sizes(|image, _| {
        let mut fs = mount(image);
        let root = fs.root();
        let file = fs.create(root, b"file", access(0o644)).unwrap();
        fs.write_at(file, 0, b"linked\n").unwrap();
        let directory = fs.mkdir(root, b"d", access(0o755)).unwrap();
        fs.link(file, directory, b"second").expect("a hard link");
        assert_eq!(fs.getattr(file).unwrap().links, 2);
        assert_eq!(
            fs.link(directory, root, b"dirlink"),
            Err(Error::NotPermitted)
        );
        assert_eq!(fs.link(file, root, b"file"), Err(Error::Exists));
        fs.unlink(root, b"file").expect("one name gone");
        assert_eq!(fs.getattr(file).unwrap().links, 1);
        let fast = fs.symlink(root, b"fast", b"d/second", access(0)).unwrap();
        let long = "x/".repeat(200) + "end";
        let slow = fs
            .symlink(root, b"slow", long.as_bytes(), access(0))
            .unwrap();
        assert_eq!(fs.readlink(fast).unwrap(), b"d/second");
        assert_eq!(fs.readlink(slow).unwrap(), long.as_bytes());
        assert_eq!(fs.getattr(fast).unwrap().sectors, 0);
        assert_eq!(fs.getattr(slow).unwrap().kind, FileKind::Symlink);
        assert_eq!(fs.readlink(file), Err(Error::InvalidArgument));
        let too_long = vec![b'y'; 5000];
        assert_eq!(
            fs.symlink(root, b"bad", &too_long, access(0)),
            Err(Error::NameTooLong)
        );
        let pipe = fs
            .make_node(root, b"pipe", FileKind::Fifo, access(0o600), (0, 0))
            .unwrap();
        let device = fs
            .make_node(
                root,
                b"tty",
                FileKind::CharacterDevice,
                access(0o600),
                (4, 1),
            )
            .unwrap();
        assert_eq!(fs.getattr(device).unwrap().device, (4, 1));
        assert_eq!(fs.getattr(pipe).unwrap().kind, FileKind::Fifo);
        fs.setattr(
            file,
            SetAttributes {
                mode: Some(0o600),
                mtime: Some(1_000_000),
                ..Default::default()
            },
        )
        .unwrap();
        let attributes = fs.getattr(file).unwrap();
        assert_eq!((attributes.mode, attributes.mtime), (0o600, 1_000_000));
        fs.unmount().expect("unmounts");
        assert_eq!(debugfs_cat(image, "/d/second"), b"linked\n");
        assert!(debugfs(image, "stat /fast").contains("Fast link dest: \"d/second\""));
        assert!(debugfs(image, "stat /tty").contains("Device major/minor number: 04:01"));
        assert_eq!(debugfs_cat(image, "/slow"), long.as_bytes());
    });
}

#[test]
fn many_files_fill_directory_blocks_and_list_with_resumable_cookies() {
    on_both_block_sizes(|image, _| {
        let mut fs = mount(image);
        let root = fs.root();
        let directory = fs.mkdir(root, b"many", access(0o755)).unwrap();
        let name = |index: usize| format!("{index:05}-{}", "n".repeat(index % 200));
        for index in 0..1500 {
            fs.create(directory, name(index).as_bytes(), access(0o644))
                .unwrap();
        }
        for index in (0..1500).step_by(2) {
            fs.unlink(directory, name(index).as_bytes()).unwrap();
        }
        for index in 1500..1600 {
            fs.create(directory, name(index).as_bytes(), access(0o644))
                .unwrap();
        }
        // List three entries per call, resuming from the cookie.
        let mut listed = Vec::new();
        let mut cookie = 0;
        for _ in 0..10_000 {
            let mut taken = 0;
            cookie = fs
                .readdir(directory, cookie, |entry| {
                    if taken == 3 {
                        return false;
                    }
                    taken += 1;
                    listed.push(String::from_utf8_lossy(entry.name).into_owned());
                    true
                })
                .unwrap();
            if taken < 3 {
                break;
            }
        }
        listed.retain(|name| name != "." && name != "..");
        listed.sort();
        let mut expected: Vec<String> = (1..1500).step_by(2).chain(1500..1600).map(name).collect();
        expected.sort();
        assert_eq!(listed, expected);
        fs.unmount().expect("unmounts");
        let linux = debugfs(image, "ls -p /many");
        assert_eq!(
            linux
                .lines()
                .filter(|line| line.contains("/100644/"))
                .count(),
            850
        );
    });
}

#[test]
fn a_pinned_file_outlives_its_last_name_until_unpinned() {
    on_both_block_sizes(|image, _| {
        let mut fs = mount(image);
        let root = fs.root();
        let free = fs.statfs();
        let file = fs.create(root, b"open", access(0o644)).unwrap();
        fs.write_at(file, 0, &pattern(5, 100_000)).unwrap();
        fs.pin(file).unwrap();
        fs.unlink(root, b"open").unwrap();
        assert_eq!(read_all(&fs, file), pattern(5, 100_000));
        fs.unpin(file).unwrap();
        assert_eq!(fs.getattr(file), Err(Error::NotFound));
        let after = fs.statfs();
        assert_eq!(
            (after.free_blocks, after.free_inodes),
            (free.free_blocks, free.free_inodes)
        );
        fs.unmount().expect("unmounts");
    });
}

/// A device kept aside while a file system rests: not a `BlockDevice`.
struct Detached(FileDevice);

#[test]
fn a_detached_file_system_keeps_its_state_until_attached_again() {
    on_both_block_sizes(|image, _| {
        let mut fs = mount(image);
        let root = fs.root();
        let file = fs.create(root, b"kept", access(0o644)).unwrap();
        fs.write_at(file, 0, &pattern(6, 70_000)).unwrap();
        fs.pin(file).unwrap();
        let resting: ext2::Fs<Detached> = fs.map_device(Detached);
        let mut fs = resting.map_device(|Detached(device)| device);
        fs.unlink(root, b"kept").unwrap();
        assert_eq!(read_all(&fs, file), pattern(6, 70_000), "still pinned");
        let mut fs = fs
            .map_device(Detached)
            .map_device(|Detached(device)| device);
        fs.unpin(file).unwrap();
        assert_eq!(fs.getattr(file), Err(Error::NotFound));
        fs.unmount().expect("unmounts");
    });
}
