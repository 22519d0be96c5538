//! anykernel-fs: a hosted kernel mounts an ext2 image file, as a tool.
//!
//! `anykernel-fs IMAGE ls|cat|get|put|mkdir|rm|mv|stat|df PATH…` works on
//! an ext2 image the way the seeds' fs-utils do: this process boots a
//! hosted kernel (`hypercall-posix`) whose one disk is the image file
//! (the block hypercalls, under the block layer's buffer cache), mounts
//! it at the root with the very ext2 the appliance mounts
//! (`kernel-vfs-ext2-block`), and carries the command out through the
//! vfs's file calls (open, read, write, readdir, mkdir, unlink, rename,
//! stat, statvfs, …), as any client of the kernel would. It needs neither
//! root nor a mount. Commands that only read open the image and mount it
//! read-only and leave it untouched; the others unmount it clean, as
//! `e2fsck -fn` confirms. Paths inside the image are absolute or relative
//! to its root; symlinks are followed in all but the last component. Exit
//! status 2 for usage errors, 1 for any other.

mod commands;
mod copy;
mod paths;
mod session;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// A hosted kernel with an ext2 image file as its disk.
#[derive(Parser, Debug)]
#[command(name = "anykernel-fs")]
struct Options {
    /// The ext2 image file.
    image: PathBuf,
    #[command(subcommand)]
    command: Command,
}

/// What to do in the image.
#[derive(Subcommand, Debug)]
enum Command {
    /// List a directory (or name a file): kind, mode, links, size, name.
    Ls {
        /// Directories to list; the root if none.
        paths: Vec<String>,
    },
    /// Write files' contents to standard output.
    Cat {
        /// Files to write out.
        #[arg(required = true)]
        paths: Vec<String>,
    },
    /// Copy a file or a directory tree out of the image.
    Get {
        /// What to copy, in the image.
        path: String,
        /// Where to put it on the host (default: its name, here).
        destination: Option<PathBuf>,
    },
    /// Copy a host file or directory tree into the image.
    Put {
        /// What to copy, on the host.
        source: PathBuf,
        /// Where to put it in the image (an existing directory: inside it).
        path: String,
    },
    /// Make directories.
    Mkdir {
        /// Make missing parents too, and accept existing directories.
        #[arg(short, long)]
        parents: bool,
        /// Directories to make.
        #[arg(required = true)]
        paths: Vec<String>,
    },
    /// Remove files, symlinks and empty directories.
    Rm {
        /// Remove directories and everything in them.
        #[arg(short, long)]
        recursive: bool,
        /// What to remove.
        #[arg(required = true)]
        paths: Vec<String>,
    },
    /// Rename or move, replacing an existing target as rename(2) does.
    Mv {
        /// What to move.
        from: String,
        /// Its new name (an existing directory: inside it).
        to: String,
    },
    /// Show an inode's attributes.
    Stat {
        /// What to describe.
        #[arg(required = true)]
        paths: Vec<String>,
    },
    /// Show the file system's size and free space.
    Df,
}

impl Command {
    /// Whether the command changes the image.
    fn writes(&self) -> bool {
        matches!(
            self,
            Self::Put { .. } | Self::Mkdir { .. } | Self::Rm { .. } | Self::Mv { .. }
        )
    }
}

fn main() -> ExitCode {
    let options = match Options::try_parse() {
        Ok(options) => options,
        Err(error) if !error.use_stderr() => {
            print!("{error}");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprint!("{error}");
            return ExitCode::from(2);
        }
    };
    match session::run(&options.image, &options.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("anykernel-fs: {message}");
            ExitCode::FAILURE
        }
    }
}
