//! A disk that can lose power: an in-memory FUSE filesystem that keeps
//! what was written in two versions, the one the programs see and the one
//! that reached the "platter". `fsync` moves a file's written bytes to the
//! platter; [`Disk::power_off`] throws away everything that was not synced
//! (as a machine losing power loses its page cache) and fails every later
//! operation until [`Disk::power_on`].
//!
//! What it models and what it does not:
//! - file contents and sizes are volatile until the file is synced
//!   (`fsync` or `fdatasync` of any descriptor of it);
//! - the namespace (create, rename, unlink, mkdir) is durable at once, as on
//!   a filesystem that journals metadata in order; a file created and never
//!   synced comes back empty;
//! - locks are the kernel's own (the filesystem does not take part), so
//!   SQLite's locking and its shared-memory WAL index work as on a disk.
//!
//! Mounting needs `/dev/fuse` and the right to mount (root); the test that
//! uses it says so when it cannot mount instead of skipping.

use std::collections::{BTreeMap, HashMap};
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use fuser::{
    AccessFlags, BackgroundSession, Config, Errno, FileAttr, FileHandle, FileType, Filesystem,
    FopenFlags, Generation, INodeNo, LockOwner, MountOption, OpenFlags, RenameFlags, ReplyAttr,
    ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty, ReplyEntry, ReplyOpen, ReplyStatfs,
    ReplyWrite, Request, TimeOrNow, WriteFlags,
};

/// Attributes and names are never cached by the kernel: after a power cut
/// it must ask again.
const TTL: Duration = Duration::ZERO;
const ROOT: u64 = 1;

/// Counters of what the disk saw.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DiskStats {
    /// `fsync`/`fdatasync` calls on files.
    pub syncs: u64,
    /// Bytes written.
    pub written: u64,
    /// Bytes that were written but never synced and were lost at power-off.
    pub lost: u64,
}

#[derive(Debug)]
enum Kind {
    Dir(BTreeMap<OsString, u64>),
    File {
        /// What readers see.
        data: Vec<u8>,
        /// What survives a power cut.
        durable: Vec<u8>,
        /// Bytes written since the last sync (for the counters).
        unsynced: u64,
    },
}

#[derive(Debug)]
struct Inode {
    kind: Kind,
    perm: u16,
    parent: u64,
    mtime: SystemTime,
}

#[derive(Debug)]
struct State {
    inodes: HashMap<u64, Inode>,
    next: u64,
    powered: bool,
    stats: DiskStats,
    uid: u32,
    gid: u32,
}

impl State {
    fn attr(&self, ino: u64) -> Option<FileAttr> {
        let node = self.inodes.get(&ino)?;
        let (kind, size, nlink) = match &node.kind {
            Kind::Dir(_) => (FileType::Directory, 0, 2),
            Kind::File { data, .. } => (FileType::RegularFile, data.len() as u64, 1),
        };
        Some(FileAttr {
            ino: INodeNo(ino),
            size,
            blocks: size.div_ceil(512),
            atime: node.mtime,
            mtime: node.mtime,
            ctime: node.mtime,
            crtime: node.mtime,
            kind,
            perm: node.perm,
            nlink,
            uid: self.uid,
            gid: self.gid,
            rdev: 0,
            blksize: 4096,
            flags: 0,
        })
    }

    fn child(&self, parent: u64, name: &OsStr) -> Result<u64, Errno> {
        match self.inodes.get(&parent).map(|n| &n.kind) {
            Some(Kind::Dir(children)) => children.get(name).copied().ok_or(Errno::ENOENT),
            Some(Kind::File { .. }) => Err(Errno::ENOTDIR),
            None => Err(Errno::ENOENT),
        }
    }

    fn children(&mut self, dir: u64) -> Result<&mut BTreeMap<OsString, u64>, Errno> {
        match self.inodes.get_mut(&dir).map(|n| &mut n.kind) {
            Some(Kind::Dir(children)) => Ok(children),
            Some(Kind::File { .. }) => Err(Errno::ENOTDIR),
            None => Err(Errno::ENOENT),
        }
    }

    fn add(&mut self, parent: u64, name: &OsStr, kind: Kind, mode: u32) -> Result<u64, Errno> {
        if self.child(parent, name).is_ok() {
            return Err(Errno::EEXIST);
        }
        let ino = self.next;
        self.next += 1;
        self.children(parent)?.insert(name.to_owned(), ino);
        let perm = (mode & 0o7777) as u16;
        self.inodes.insert(ino, Inode { kind, perm, parent, mtime: SystemTime::now() });
        Ok(ino)
    }

    fn file(&mut self, ino: u64) -> Result<(&mut Vec<u8>, &mut u64), Errno> {
        match self.inodes.get_mut(&ino).map(|n| &mut n.kind) {
            Some(Kind::File { data, unsynced, .. }) => Ok((data, unsynced)),
            Some(Kind::Dir(_)) => Err(Errno::EISDIR),
            None => Err(Errno::ENOENT),
        }
    }
}

/// The FUSE side: every request locks the state.
struct Fs(Arc<Mutex<State>>);

impl Fs {
    /// The state, or EIO while the power is off.
    fn on(&self) -> Result<MutexGuard<'_, State>, Errno> {
        let s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if s.powered { Ok(s) } else { Err(Errno::EIO) }
    }
}

impl Filesystem for Fs {
    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        match self.on().and_then(|s| {
            let ino = s.child(parent.0, name)?;
            s.attr(ino).ok_or(Errno::ENOENT)
        }) {
            Ok(attr) => reply.entry(&TTL, &attr, Generation(0)),
            Err(e) => reply.error(e),
        }
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        match self.on().and_then(|s| s.attr(ino.0).ok_or(Errno::ENOENT)) {
            Ok(attr) => reply.attr(&TTL, &attr),
            Err(e) => reply.error(e),
        }
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        _uid: Option<u32>,
        _gid: Option<u32>,
        size: Option<u64>,
        _atime: Option<TimeOrNow>,
        _mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let r = self.on().and_then(|mut s| {
            if let Some(size) = size {
                let len = usize::try_from(size).map_err(|_| Errno::EFBIG)?;
                s.file(ino.0)?.0.resize(len, 0);
            }
            let node = s.inodes.get_mut(&ino.0).ok_or(Errno::ENOENT)?;
            if let Some(mode) = mode {
                node.perm = (mode & 0o7777) as u16;
            }
            node.mtime = SystemTime::now();
            s.attr(ino.0).ok_or(Errno::ENOENT)
        });
        match r {
            Ok(attr) => reply.attr(&TTL, &attr),
            Err(e) => reply.error(e),
        }
    }

    fn mkdir(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        reply: ReplyEntry,
    ) {
        let r = self.on().and_then(|mut s| {
            let ino = s.add(parent.0, name, Kind::Dir(BTreeMap::new()), mode & !umask)?;
            s.attr(ino).ok_or(Errno::ENOENT)
        });
        match r {
            Ok(attr) => reply.entry(&TTL, &attr, Generation(0)),
            Err(e) => reply.error(e),
        }
    }

    fn create(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        _flags: i32,
        reply: ReplyCreate,
    ) {
        let r = self.on().and_then(|mut s| {
            let file = Kind::File { data: Vec::new(), durable: Vec::new(), unsynced: 0 };
            let ino = s.add(parent.0, name, file, mode & !umask)?;
            s.attr(ino).ok_or(Errno::ENOENT)
        });
        match r {
            Ok(attr) => {
                reply.created(&TTL, &attr, Generation(0), FileHandle(0), FopenFlags::empty())
            }
            Err(e) => reply.error(e),
        }
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let r = self.on().and_then(|mut s| {
            let ino = s.child(parent.0, name)?;
            if matches!(s.inodes.get(&ino).map(|n| &n.kind), Some(Kind::Dir(_))) {
                return Err(Errno::EISDIR);
            }
            s.children(parent.0)?.remove(name);
            // Open descriptors keep reading the inode; it is never reused.
            Ok(())
        });
        match r {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let r = self.on().and_then(|mut s| {
            let ino = s.child(parent.0, name)?;
            match s.inodes.get(&ino).map(|n| &n.kind) {
                Some(Kind::Dir(c)) if c.is_empty() => {}
                Some(Kind::Dir(_)) => return Err(Errno::ENOTEMPTY),
                _ => return Err(Errno::ENOTDIR),
            }
            s.children(parent.0)?.remove(name);
            s.inodes.remove(&ino);
            Ok(())
        });
        match r {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        _flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        let r = self.on().and_then(|mut s| {
            let ino = s.child(parent.0, name)?;
            if let Ok(old) = s.child(newparent.0, newname)
                && let Some(Kind::Dir(c)) = s.inodes.get(&old).map(|n| &n.kind)
                && !c.is_empty()
            {
                return Err(Errno::ENOTEMPTY);
            }
            s.children(newparent.0)?;
            s.children(parent.0)?.remove(name);
            s.children(newparent.0)?.insert(newname.to_owned(), ino);
            if let Some(node) = s.inodes.get_mut(&ino) {
                node.parent = newparent.0;
            }
            Ok(())
        });
        match r {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn open(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        // No FOPEN_KEEP_CACHE: the kernel drops its cached pages of the
        // file at every open, so a file opened after a power cut is read
        // from here.
        match self.on().and_then(|s| s.attr(ino.0).map(|_| ()).ok_or(Errno::ENOENT)) {
            Ok(()) => reply.opened(FileHandle(0), FopenFlags::empty()),
            Err(e) => reply.error(e),
        }
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        let r = self.on().and_then(|mut s| {
            let (data, _) = s.file(ino.0)?;
            let start = usize::try_from(offset).unwrap_or(usize::MAX).min(data.len());
            let end = start.saturating_add(size as usize).min(data.len());
            Ok(data[start..end].to_vec())
        });
        match r {
            Ok(bytes) => reply.data(&bytes),
            Err(e) => reply.error(e),
        }
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        bytes: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        let r = self.on().and_then(|mut s| {
            let start = usize::try_from(offset).map_err(|_| Errno::EFBIG)?;
            let end = start.checked_add(bytes.len()).ok_or(Errno::EFBIG)?;
            let (data, unsynced) = s.file(ino.0)?;
            if data.len() < end {
                data.resize(end, 0);
            }
            data[start..end].copy_from_slice(bytes);
            *unsynced += bytes.len() as u64;
            s.stats.written += bytes.len() as u64;
            if let Some(node) = s.inodes.get_mut(&ino.0) {
                node.mtime = SystemTime::now();
            }
            Ok(bytes.len() as u32)
        });
        match r {
            Ok(n) => reply.written(n),
            Err(e) => reply.error(e),
        }
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        // close(2) is not a sync.
        reply.ok();
    }

    fn fsync(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        let r = self.on().and_then(|mut s| {
            match s.inodes.get_mut(&ino.0).map(|n| &mut n.kind) {
                Some(Kind::File { data, durable, unsynced }) => {
                    durable.clone_from(data);
                    *unsynced = 0;
                }
                Some(Kind::Dir(_)) => {}
                None => return Err(Errno::ENOENT),
            }
            s.stats.syncs += 1;
            Ok(())
        });
        match r {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let r = self.on().and_then(|s| {
            let node = s.inodes.get(&ino.0).ok_or(Errno::ENOENT)?;
            let Kind::Dir(children) = &node.kind else { return Err(Errno::ENOTDIR) };
            let mut entries = vec![
                (ino.0, FileType::Directory, OsString::from(".")),
                (node.parent, FileType::Directory, OsString::from("..")),
            ];
            for (name, child) in children {
                let kind = match s.inodes.get(child).map(|n| &n.kind) {
                    Some(Kind::Dir(_)) => FileType::Directory,
                    _ => FileType::RegularFile,
                };
                entries.push((*child, kind, name.clone()));
            }
            Ok(entries)
        });
        match r {
            Ok(entries) => {
                let skip = usize::try_from(offset).unwrap_or(usize::MAX);
                for (i, (ino, kind, name)) in entries.into_iter().enumerate().skip(skip) {
                    if reply.add(INodeNo(ino), (i + 1) as u64, kind, name) {
                        break;
                    }
                }
                reply.ok()
            }
            Err(e) => reply.error(e),
        }
    }

    fn fsyncdir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        match self.on() {
            Ok(_) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn access(&self, _req: &Request, _ino: INodeNo, _mask: AccessFlags, reply: ReplyEmpty) {
        reply.ok();
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        // 4 GiB free in 4 KiB blocks.
        reply.statfs(1 << 20, 1 << 20, 1 << 20, 1 << 20, 1 << 20, 4096, 255, 4096);
    }
}

/// A mounted disk that can lose power. Unmounted when dropped.
pub struct Disk {
    state: Arc<Mutex<State>>,
    mountpoint: PathBuf,
    /// The kernel's number for this FUSE connection (its directory under
    /// the fusectl filesystem).
    connection: u32,
    session: Option<BackgroundSession>,
}

impl std::fmt::Debug for Disk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Disk").field("mountpoint", &self.mountpoint).finish_non_exhaustive()
    }
}

impl Disk {
    /// Mounts an empty disk on `mountpoint` (an existing empty directory).
    pub fn mount(mountpoint: &Path) -> io::Result<Self> {
        // Files belong to whoever owns the mountpoint (the test's user).
        let owner = std::fs::metadata(mountpoint)?;
        let (uid, gid) = (owner.uid(), owner.gid());
        let mut inodes = HashMap::new();
        inodes.insert(
            ROOT,
            Inode {
                kind: Kind::Dir(BTreeMap::new()),
                perm: 0o755,
                parent: ROOT,
                mtime: SystemTime::now(),
            },
        );
        let state = Arc::new(Mutex::new(State {
            inodes,
            next: ROOT + 1,
            powered: true,
            stats: DiskStats::default(),
            uid,
            gid,
        }));
        let mut config = Config::default();
        config.mount_options = vec![MountOption::FSName("kovan-powercut".into())];
        config.n_threads = Some(2);
        let session = fuser::spawn_mount(Fs(state.clone()), mountpoint, &config)?;
        let connection = kernel_dev(std::fs::metadata(mountpoint)?.dev());
        Ok(Self { state, mountpoint: mountpoint.to_owned(), connection, session: Some(session) })
    }

    /// Where the disk is mounted.
    pub fn path(&self) -> &Path {
        &self.mountpoint
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The power goes out: every byte not synced is gone, and every
    /// operation fails with EIO until [`Self::power_on`].
    pub fn power_off(&self) {
        let mut s = self.lock();
        s.powered = false;
        let mut lost = 0;
        for node in s.inodes.values_mut() {
            if let Kind::File { data, durable, unsynced } = &mut node.kind {
                data.clone_from(durable);
                lost += std::mem::take(unsynced);
            }
        }
        s.stats.lost += lost;
    }

    /// The machine boots again: what was synced before the cut is there.
    pub fn power_on(&self) {
        let mut s = self.lock();
        for node in s.inodes.values_mut() {
            if let Kind::File { data, durable, unsynced } = &mut node.kind {
                // Anything a dying process managed to write is gone too.
                data.clone_from(durable);
                *unsynced = 0;
            }
        }
        s.powered = true;
    }

    /// Waits until this process holds no open file on the disk (a node's
    /// database thread closes its files a moment after `shutdown`
    /// returns). False if some are still open after `limit`.
    pub fn wait_closed(&self, limit: Duration) -> bool {
        let deadline = std::time::Instant::now() + limit;
        loop {
            let open = std::fs::read_dir("/proc/self/fd")
                .map(|fds| {
                    fds.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                        .any(|target| target.starts_with(&self.mountpoint))
                })
                .unwrap_or(false);
            if !open {
                return true;
            }
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What the disk saw so far.
    pub fn stats(&self) -> DiskStats {
        self.lock().stats
    }
}

/// A device number as `stat` reports it, in the kernel's own encoding
/// (major in the top 12 bits, minor in the low 20), which names the FUSE
/// connection.
fn kernel_dev(dev: u64) -> u32 {
    let major = (dev >> 8) & 0xfff;
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    ((major << 20) | (minor & 0xf_ffff)) as u32
}

impl Drop for Disk {
    fn drop(&mut self) {
        // A test that failed may leave a node holding files here; an
        // unmount would then wait for them forever, and so would the
        // process at exit. Aborting the connection fails every pending and
        // later request, which frees them all.
        let ctl = Path::new("/sys/fs/fuse/connections");
        if std::fs::read_dir(ctl).map(|mut d| d.next().is_none()).unwrap_or(true) {
            let _ = std::process::Command::new("mount")
                .args(["-t", "fusectl", "none"])
                .arg(ctl)
                .output();
        }
        let _ = std::fs::write(ctl.join(self.connection.to_string()).join("abort"), "1");
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.mountpoint).output();
        if let Some(session) = self.session.take() {
            let _ = session.umount_and_join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read as _, Seek as _, Write as _};

    fn mounted() -> (tempfile::TempDir, Disk) {
        let dir = tempfile::tempdir().unwrap();
        let disk = Disk::mount(dir.path())
            .unwrap_or_else(|e| panic!("mounting FUSE needs /dev/fuse and root: {e}"));
        (dir, disk)
    }

    #[test]
    fn synced_bytes_survive_a_power_cut_and_unsynced_ones_do_not() {
        let (_dir, disk) = mounted();
        let path = disk.path().join("f");
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(b"kept").unwrap();
        f.sync_all().unwrap();
        f.write_all(b" and lost").unwrap();
        f.seek(std::io::SeekFrom::Start(0)).unwrap();
        f.write_all(b"LOST").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"LOST and lost", "visible before the cut");
        disk.power_off();
        assert!(std::fs::read(&path).is_err(), "a dead disk answers nothing");
        drop(f);
        disk.power_on();
        let mut back = Vec::new();
        std::fs::File::open(&path).unwrap().read_to_end(&mut back).unwrap();
        assert_eq!(back, b"kept");
        let stats = disk.stats();
        assert_eq!((stats.lost, stats.syncs), (13, 1), "{stats:?}");
        assert!(disk.wait_closed(Duration::from_secs(5)));
    }

    #[test]
    fn a_disk_dropped_while_a_file_is_open_lets_go() {
        let (_dir, disk) = mounted();
        let f = std::fs::File::create(disk.path().join("held")).unwrap();
        assert!(!disk.wait_closed(Duration::from_millis(50)), "the file is seen as open");
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        std::thread::spawn(move || {
            drop(disk);
            let _ = tx.send(());
        });
        rx.recv_timeout(Duration::from_secs(20)).expect("the unmount did not hang");
        drop(f);
    }
}
