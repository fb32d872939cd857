using System;
using System.Runtime.InteropServices;
using System.Text;

namespace AzureLinuxImage.IO
{
    /// <summary>Owner and permission bits of a file on this machine.</summary>
    internal readonly struct UnixOwnership
    {
        public UnixOwnership(uint mode, uint uid, uint gid)
        {
            Mode = mode;
            Uid = uid;
            Gid = gid;
        }

        /// <summary>Permission bits (07777).</summary>
        public uint Mode { get; }

        public uint Uid { get; }

        public uint Gid { get; }
    }

    /// <summary>What lstat says of a file on this machine (the link itself for a symbolic link).</summary>
    internal readonly struct UnixEntryStatus
    {
        public UnixEntryStatus(UnixOwnership ownership, long size, DateTimeOffset modified)
        {
            Ownership = ownership;
            Size = size;
            Modified = modified;
        }

        public UnixOwnership Ownership { get; }

        /// <summary>Bytes: a file's length, a directory's size on its file system, a link's target length.</summary>
        public long Size { get; }

        public DateTimeOffset Modified { get; }
    }

    /// <summary>
    /// The few POSIX calls netstandard2.0 has no API for: owner, mode and link count (statx, chmod, chown),
    /// extended attributes, realpath, readlink, a directory fsync, and open/ioctl/close of a device (the KVM
    /// probe). Every P/Invoke of libc lives here (IO is the lowest layer, so any layer may call it). Linux only;
    /// every method is a no-op, null or a failure elsewhere (Windows has no such metadata to keep).
    /// statx is used because its structure has one layout on every Linux architecture (statx(2)).
    /// </summary>
    internal static class UnixFileApi
    {
        private const int AtFdCwd = -100;
        private const int AtSymlinkNoFollow = 0x100;
        private const uint StatxBasicStats = 0x7ff;
        private const int StatxSize = 256;
        private const int PathMax = 4096;
        private const int ENoSys = 38;

        /// <summary>O_RDWR (fcntl.h).</summary>
        public const int OpenReadWrite = 2;

        /// <summary>O_CLOEXEC (fcntl.h; x86-64 and arm64): the descriptor is not inherited by programs started later.</summary>
        public const int OpenCloseOnExec = 0x80000;

        public static bool IsLinux => RuntimeInformation.IsOSPlatform(OSPlatform.Linux);

        /// <summary>Mode, uid and gid of <paramref name="path"/> (following links); null when not on Linux or the call fails.</summary>
        public static UnixOwnership? GetOwnership(string path)
        {
            byte[]? stat = Stat(path);
            if (stat == null)
            {
                return null;
            }
            // struct statx: stx_uid at 20, stx_gid at 24, stx_mode (u16) at 28; host byte order.
            return new UnixOwnership(BitConverter.ToUInt16(stat, 28) & 0xFFFu, BitConverter.ToUInt32(stat, 20), BitConverter.ToUInt32(stat, 24));
        }

        /// <summary>Mode, owner, size and modification time of <paramref name="path"/> itself (links not followed); null when not on Linux or the call fails.</summary>
        public static UnixEntryStatus? GetEntryStatus(string path)
        {
            byte[]? stat = Stat(path, AtSymlinkNoFollow);
            if (stat == null)
            {
                return null;
            }
            // struct statx: stx_size (u64) at 40; stx_mtime at 112 (tv_sec i64, tv_nsec u32).
            var ownership = new UnixOwnership(BitConverter.ToUInt16(stat, 28) & 0xFFFu, BitConverter.ToUInt32(stat, 20), BitConverter.ToUInt32(stat, 24));
            long seconds = BitConverter.ToInt64(stat, 112);
            uint nanoseconds = BitConverter.ToUInt32(stat, 120);
            DateTimeOffset modified = DateTimeOffset.FromUnixTimeSeconds(seconds).AddTicks(nanoseconds / 100);
            return new UnixEntryStatus(ownership, (long)Math.Min(BitConverter.ToUInt64(stat, 40), long.MaxValue), modified);
        }

        /// <summary>The number of hard links of <paramref name="path"/> (following links); null when not on Linux or the call fails.</summary>
        public static uint? GetLinkCount(string path)
        {
            // struct statx: stx_nlink (u32) at 16.
            byte[]? stat = Stat(path);
            return stat == null ? (uint?)null : BitConverter.ToUInt32(stat, 16);
        }

        /// <summary>statx(2) of <paramref name="path"/>, following links; null when not on Linux or the call fails.</summary>
        private static byte[]? Stat(string path, int flags = 0)
        {
            if (!IsLinux)
            {
                return null;
            }
            var buffer = new byte[StatxSize];
            try
            {
                return Statx(AtFdCwd, Native(path), flags, StatxBasicStats, buffer) == 0 ? buffer : null;
            }
            catch (EntryPointNotFoundException)
            {
                return null;
            }
        }

        /// <summary>
        /// Copies every extended attribute of <paramref name="from"/> to <paramref name="to"/>: the SELinux
        /// label (security.selinux), POSIX ACLs (system.posix_acl_*), capabilities and user attributes, which
        /// a file replaced by rename would otherwise lose. False with the attribute and errno when refused.
        /// </summary>
        public static bool TryCopyExtendedAttributes(string from, string to, out string? error)
        {
            error = null;
            if (!IsLinux)
            {
                return true;
            }
            byte[] source = Native(from);
            long size = ListXattr(source, null, UIntPtr.Zero);
            if (size <= 0)
            {
                // None, or a file system without extended attributes (ENOTSUP): nothing to keep.
                return true;
            }
            var names = new byte[size];
            size = ListXattr(source, names, (UIntPtr)names.Length);
            if (size < 0)
            {
                error = $"listing extended attributes failed (errno {Marshal.GetLastWin32Error()})";
                return false;
            }
            byte[] target = Native(to);
            int start = 0;
            for (int i = 0; i < size; i++)
            {
                if (names[i] != 0)
                {
                    continue;
                }
                var name = new byte[i - start + 1];
                Array.Copy(names, start, name, 0, name.Length);
                string text = Encoding.UTF8.GetString(names, start, i - start);
                start = i + 1;
                long length = GetXattr(source, name, null, UIntPtr.Zero);
                var value = new byte[Math.Max(0, length)];
                if (length < 0 || GetXattr(source, name, value, (UIntPtr)value.Length) != length)
                {
                    error = $"reading extended attribute {text} failed (errno {Marshal.GetLastWin32Error()})";
                    return false;
                }
                if (SetXattr(target, name, value, (UIntPtr)value.Length, 0) != 0)
                {
                    error = $"setting extended attribute {text} failed (errno {Marshal.GetLastWin32Error()})";
                    return false;
                }
            }
            return true;
        }

        /// <summary>Gives <paramref name="path"/> the owner and mode of <paramref name="ownership"/>; false with errno text when refused.</summary>
        public static bool TryApply(string path, UnixOwnership ownership, out string? error)
        {
            error = null;
            if (!IsLinux)
            {
                return true;
            }
            UnixOwnership? current = GetOwnership(path);
            if (current == null || current.Value.Uid != ownership.Uid || current.Value.Gid != ownership.Gid)
            {
                if (Chown(Native(path), ownership.Uid, ownership.Gid) != 0)
                {
                    error = $"chown to {ownership.Uid}:{ownership.Gid} failed (errno {Marshal.GetLastWin32Error()})";
                    return false;
                }
            }
            // chmod after chown: chown clears set-user-id bits.
            if (Chmod(Native(path), ownership.Mode) != 0)
            {
                error = $"chmod to {Convert.ToString(ownership.Mode, 8)} failed (errno {Marshal.GetLastWin32Error()})";
                return false;
            }
            return true;
        }

        /// <summary>realpath(3): the absolute path without links, '.' or '..'; null when it does not exist (or not on Linux).</summary>
        public static string? RealPath(string path)
        {
            if (!IsLinux)
            {
                return null;
            }
            var buffer = new byte[PathMax + 1];
            IntPtr r = NativeRealPath(Native(path), buffer);
            if (r == IntPtr.Zero)
            {
                return null;
            }
            int n = Array.IndexOf(buffer, (byte)0);
            return Encoding.UTF8.GetString(buffer, 0, n < 0 ? buffer.Length : n);
        }

        /// <summary>readlink(2): the target of a symbolic link, or null when <paramref name="path"/> is not one.</summary>
        public static string? ReadLink(string path)
        {
            if (!IsLinux)
            {
                return null;
            }
            var buffer = new byte[PathMax];
            long n = NativeReadLink(Native(path), buffer, (UIntPtr)buffer.Length);
            return n < 0 ? null : Encoding.UTF8.GetString(buffer, 0, (int)n);
        }

        /// <summary>
        /// flock(LOCK_EX | LOCK_NB) on an open file: true when this handle now holds the exclusive advisory
        /// lock (or not on Linux, where share modes do the work), false when another process holds it.
        /// </summary>
        public static bool TryLockExclusive(Microsoft.Win32.SafeHandles.SafeFileHandle handle)
        {
            if (!IsLinux)
            {
                return true;
            }
            bool added = false;
            try
            {
                handle.DangerousAddRef(ref added);
                return Flock((int)handle.DangerousGetHandle(), 2 /* LOCK_EX */ | 4 /* LOCK_NB */) == 0;
            }
            finally
            {
                if (added)
                {
                    handle.DangerousRelease();
                }
            }
        }

        /// <summary>Makes a rename inside <paramref name="directory"/> durable (fsync of the folder); best effort.</summary>
        public static void SyncDirectory(string directory)
        {
            if (!IsLinux)
            {
                return;
            }
            int fd = Open(Native(directory), 0 /* O_RDONLY */);
            if (fd < 0)
            {
                return;
            }
            Fsync(fd);
            Close(fd);
        }

        /// <summary>symlink(2): creates <paramref name="path"/> pointing at <paramref name="target"/> (stored as given); false with errno text.</summary>
        public static bool TryCreateSymlink(string target, string path, out string? error)
        {
            error = null;
            if (!IsLinux)
            {
                error = "symbolic links in a Linux root can only be made on Linux";
                return false;
            }
            if (Symlink(Native(target), Native(path)) != 0)
            {
                error = $"symlink failed (errno {Marshal.GetLastWin32Error()})";
                return false;
            }
            return true;
        }

        /// <summary>lchown(2): the owner of a link itself (or any entry, without following it); false with errno text.</summary>
        public static bool TryLchown(string path, uint uid, uint gid, out string? error)
        {
            error = null;
            if (!IsLinux)
            {
                return true;
            }
            if (Lchown(Native(path), uid, gid) != 0)
            {
                error = $"lchown to {uid}:{gid} failed (errno {Marshal.GetLastWin32Error()})";
                return false;
            }
            return true;
        }

        /// <summary>Mode, uid and gid of <paramref name="path"/> itself (a link is not followed); null when not on Linux or the call fails.</summary>
        public static UnixOwnership? GetOwnershipNoFollow(string path)
        {
            if (!IsLinux)
            {
                return null;
            }
            var buffer = new byte[StatxSize];
            try
            {
                // AT_SYMLINK_NOFOLLOW (0x100).
                return Statx(AtFdCwd, Native(path), 0x100, StatxBasicStats, buffer) == 0
                    ? new UnixOwnership(BitConverter.ToUInt16(buffer, 28) & 0xFFFu, BitConverter.ToUInt32(buffer, 20), BitConverter.ToUInt32(buffer, 24))
                    : (UnixOwnership?)null;
            }
            catch (EntryPointNotFoundException)
            {
                return null;
            }
        }

        /// <summary>
        /// open(2) of <paramref name="path"/> with <paramref name="flags"/> (for a device such as /dev/kvm, which
        /// FileStream does not open as QEMU does): the descriptor, or -1 with <paramref name="errno"/> set
        /// (ENOSYS when not on Linux). The caller closes it with <see cref="CloseDescriptor"/>.
        /// </summary>
        /// <exception cref="DllNotFoundException">The C library cannot be loaded.</exception>
        public static int OpenDescriptor(string path, int flags, out int errno)
        {
            errno = 0;
            if (!IsLinux)
            {
                errno = ENoSys;
                return -1;
            }
            int fd = Open(Native(path), flags);
            if (fd < 0)
            {
                errno = Marshal.GetLastWin32Error();
            }
            return fd;
        }

        /// <summary>ioctl(2) of a request that takes no argument: its result, or -1 with <paramref name="errno"/> set.</summary>
        public static int IoctlNoArgument(int fd, ulong request, out int errno)
        {
            errno = 0;
            if (!IsLinux)
            {
                errno = ENoSys;
                return -1;
            }
            int r = Ioctl(fd, new UIntPtr(request), IntPtr.Zero);
            if (r < 0)
            {
                errno = Marshal.GetLastWin32Error();
            }
            return r;
        }

        /// <summary>close(2) of a descriptor from <see cref="OpenDescriptor"/>.</summary>
        public static void CloseDescriptor(int fd)
        {
            if (IsLinux && fd >= 0)
            {
                Close(fd);
            }
        }

        private static byte[] Native(string path) => Encoding.UTF8.GetBytes(path + "\0");

        [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
        private static extern int Statx(int dirfd, byte[] path, int flags, uint mask, byte[] statxBuffer);

        [DllImport("libc", EntryPoint = "chmod", SetLastError = true)]
        private static extern int Chmod(byte[] path, uint mode);

        [DllImport("libc", EntryPoint = "chown", SetLastError = true)]
        private static extern int Chown(byte[] path, uint uid, uint gid);

        [DllImport("libc", EntryPoint = "symlink", SetLastError = true)]
        private static extern int Symlink(byte[] target, byte[] path);

        [DllImport("libc", EntryPoint = "lchown", SetLastError = true)]
        private static extern int Lchown(byte[] path, uint uid, uint gid);

        [DllImport("libc", EntryPoint = "realpath", SetLastError = true)]
        private static extern IntPtr NativeRealPath(byte[] path, byte[] resolved);

        [DllImport("libc", EntryPoint = "readlink", SetLastError = true)]
        private static extern long NativeReadLink(byte[] path, byte[] buffer, UIntPtr size);

        [DllImport("libc", EntryPoint = "llistxattr", SetLastError = true)]
        private static extern long ListXattr(byte[] path, byte[]? list, UIntPtr size);

        [DllImport("libc", EntryPoint = "lgetxattr", SetLastError = true)]
        private static extern long GetXattr(byte[] path, byte[] name, byte[]? value, UIntPtr size);

        [DllImport("libc", EntryPoint = "lsetxattr", SetLastError = true)]
        private static extern int SetXattr(byte[] path, byte[] name, byte[] value, UIntPtr size, int flags);

        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        private static extern int Open(byte[] path, int flags);

        [DllImport("libc", EntryPoint = "flock", SetLastError = true)]
        private static extern int Flock(int fd, int operation);

        [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
        private static extern int Fsync(int fd);

        [DllImport("libc", EntryPoint = "ioctl", SetLastError = true)]
        private static extern int Ioctl(int fd, UIntPtr request, IntPtr argument);

        [DllImport("libc", EntryPoint = "close", SetLastError = true)]
        private static extern int Close(int fd);
    }
}
