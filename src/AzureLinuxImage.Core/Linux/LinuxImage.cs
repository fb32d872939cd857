using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.FileSystems.Btrfs;
using AzureLinuxImage.Partitions;
using AzureLinuxImage.Partitions.Lvm;

namespace AzureLinuxImage.Linux
{
    /// <summary>
    /// A disk image seen as the Linux system it holds (DESIGN.md, LinuxImage): partitions and LVM volumes
    /// probed, the root file system found (/etc/os-release or /etc/fstab, plus /bin or /usr/bin), and
    /// the local mounts of its fstab assembled into one read-only view, <see cref="FileSystem"/>.
    /// </summary>
    internal sealed class LinuxImage : IDisposable
    {
        private readonly DiskImage disk;
        private readonly bool ownsDisk;
        private readonly List<(VolumeInfo Info, BlockDevice? Device)> volumes = new List<(VolumeInfo, BlockDevice?)>();
        private readonly List<string> warnings = new List<string>();
        private readonly List<MountInfo> mounts = new List<MountInfo>();
        private readonly List<IFileSystem> opened = new List<IFileSystem>();
        private readonly Func<BlockDevice, FileSystemKind, IFileSystem> opener;

        private LinuxImage(DiskImage disk, bool ownsDisk, Func<BlockDevice, FileSystemKind, IFileSystem>? opener)
        {
            this.disk = disk;
            this.ownsDisk = ownsDisk;
            this.opener = opener ?? FileSystemOpeners.Open;
            Table = PartitionTable.Read(disk);
            warnings.AddRange(Table.Warnings);
            warnings.AddRange(disk.Warnings);
        }

        public DiskImage Disk => disk;

        public PartitionTable Table { get; }

        public IReadOnlyList<VolumeInfo> Volumes => volumes.Select(v => v.Info).ToList();

        public IReadOnlyList<LogicalVolumeInfo> LogicalVolumes { get; private set; } = Array.Empty<LogicalVolumeInfo>();

        /// <summary>Damage worked around and things left out (a GPT from its backup, an fstab source not found ...).</summary>
        public IReadOnlyList<string> Warnings => warnings;

        public IReadOnlyList<MountInfo> Mounts => mounts;

        /// <summary>Every file system opened (the root, the mounted ones, and volumes tried as a root).</summary>
        internal IReadOnlyList<IFileSystem> OpenedFileSystems => opened;

        /// <summary>The assembled view; null when no root file system was found (see <see cref="Warnings"/>).</summary>
        public IFileSystem? FileSystem { get; private set; }

        /// <summary>The view, or a typed error saying why there is none.</summary>
        public IFileSystem RequireFileSystem() => FileSystem ?? throw new AzureLinuxImageException("LinuxRootNotFound", ErrorKind.InvalidData,
            $"{disk.Path}: no Linux root file system was found (one with /etc/os-release or /etc/fstab and /bin or /usr/bin). " +
            (warnings.Count > 0 ? "Notes: " + string.Join(" ", warnings) : "Check that this is a Linux OS disk."), disk.Path);

        public static LinuxImage Open(string path)
        {
            DiskImage disk = DiskImage.Open(path);
            try
            {
                return Open(disk, ownsDisk: true);
            }
            catch
            {
                disk.Dispose();
                throw;
            }
        }

        /// <param name="disk">The image.</param>
        /// <param name="ownsDisk">Whether disposing this disposes <paramref name="disk"/>.</param>
        /// <param name="opener">Opens each probed volume's file system (the writable view opens writers); null: the readers.</param>
        public static LinuxImage Open(DiskImage disk, bool ownsDisk, Func<BlockDevice, FileSystemKind, IFileSystem>? opener = null)
        {
            var image = new LinuxImage(disk, ownsDisk, opener);
            try
            {
                image.FindVolumes();
                image.Assemble();
                return image;
            }
            catch
            {
                image.Dispose();
                throw;
            }
        }

        private void FindVolumes()
        {
            var devices = new List<(PartitionInfo?, BlockDevice)>();
            if (Table.Scheme == PartitionStyle.None)
            {
                devices.Add((null, new DiskSlice(disk, 0, disk.VirtualSize, disk.Path)));
            }
            else
            {
                foreach (PartitionInfo p in Table.Partitions)
                {
                    devices.Add((p, PartitionTable.Open(disk, p)));
                }
            }
            var pvs = new List<BlockDevice>();
            foreach (var (partition, device) in devices)
            {
                DetectedFileSystem probed = SafeProbe(device);
                volumes.Add((new VolumeInfo(device.Description, device.Length, partition, null, probed), device));
                if (probed.Kind == FileSystemKind.LvmPhysicalVolume)
                {
                    pvs.Add(device);
                }
            }
            if (pvs.Count > 0)
            {
                var lvs = new List<LogicalVolumeInfo>();
                foreach (LvmVolumeGroup vg in LvmVolumeGroups.Scan(pvs, warnings))
                {
                    foreach (var (info, device) in vg.Volumes)
                    {
                        lvs.Add(info);
                        if (device == null)
                        {
                            warnings.Add($"LVM volume {info.VolumeGroup}/{info.Name}: {info.Reason}");
                            volumes.Add((new VolumeInfo($"LVM volume {info.VolumeGroup}/{info.Name}", info.Size, null, info, new DetectedFileSystem(FileSystemKind.Unknown, null, null, $"LVM volume {info.VolumeGroup}/{info.Name}")), null));
                            continue;
                        }
                        volumes.Add((new VolumeInfo(device.Description, device.Length, null, info, SafeProbe(device)), device));
                    }
                }
                LogicalVolumes = lvs;
            }
        }

        private DetectedFileSystem SafeProbe(BlockDevice device)
        {
            try
            {
                return FileSystemProbe.Probe(device);
            }
            catch (AzureLinuxImageException e)
            {
                warnings.Add(e.Message);
                return new DetectedFileSystem(FileSystemKind.Unknown, null, null, device.Description);
            }
        }

        private IFileSystem? TryOpen(VolumeInfo info, BlockDevice device)
        {
            try
            {
                IFileSystem fs = opener(device, info.FileSystem.Kind);
                opened.Add(fs);
                if (fs is FileSystems.Ext.ExtFileSystem ext)
                {
                    warnings.AddRange(ext.Warnings);
                }
                return fs;
            }
            catch (AzureLinuxImageException e)
            {
                warnings.Add(e.Message);
                return null;
            }
        }

        private void Assemble()
        {
            IFileSystem? root = null;
            VolumeInfo? rootInfo = null;
            BlockDevice? rootDevice = null;
            var rootCandidates = new List<string>();
            foreach (var v in volumes)
            {
                if (v.Device == null || !FileSystemOpeners.IsReadable(v.Info.FileSystem.Kind))
                {
                    continue;
                }
                IFileSystem? fs = TryOpen(v.Info, v.Device);
                if (fs == null)
                {
                    continue;
                }
                if (fs is BtrfsFileSystem btrfs)
                {
                    fs = RootSubvolume(v.Info, btrfs);
                }
                if (LooksLikeRoot(fs))
                {
                    rootCandidates.Add(v.Info.Location);
                    if (root == null)
                    {
                        root = fs;
                        rootInfo = v.Info;
                        rootDevice = v.Device;
                    }
                }
            }
            if (root == null || rootInfo == null || rootDevice == null)
            {
                return;
            }
            if (rootCandidates.Count > 1)
            {
                warnings.Add($"More than one volume looks like a Linux root ({string.Join(", ", rootCandidates)}); the first, {rootCandidates[0]}, is used.");
            }
            mounts.Add(new MountInfo("/", rootInfo.FileSystem.Uuid != null ? "UUID=" + rootInfo.FileSystem.Uuid : rootInfo.Location, rootInfo.FileSystem.TypeName, rootInfo.Location, true, null) { Subvolume = SubvolumeName(root) });
            var mounted = new Dictionary<string, IFileSystem>(StringComparer.Ordinal);
            FileEntry? fstab = SafeEntry(root, "/etc/fstab");
            if (fstab != null && fstab.Type == FileEntryType.File && fstab.Size <= 1 << 20)
            {
                string text = ReadFstab(root);
                List<FstabEntry> entries = FstabEntry.Parse(text);
                FstabEntry? rootLine = entries.FirstOrDefault(e => e.MountPoint == "/");
                if (rootLine != null && root is BtrfsFileSystem rootBtrfs)
                {
                    // fstab's subvol=/subvolid= for / decides which subvolume is the root (Fedora's root, openSUSE's default).
                    BtrfsFileSystem? named = SelectSubvolume(rootBtrfs, rootLine, out string? why);
                    if (named == null)
                    {
                        warnings.Add($"/etc/fstab line {rootLine.Line}: {why}");
                    }
                    else if (named.SubvolumeId != rootBtrfs.SubvolumeId && LooksLikeRoot(named))
                    {
                        root = named;
                        text = ReadFstab(root);
                        entries = FstabEntry.Parse(text);
                        rootLine = entries.FirstOrDefault(e => e.MountPoint == "/") ?? rootLine;
                    }
                }
                if (rootLine != null)
                {
                    // Report / as fstab names it, and say so when that source is not the volume the root was found on.
                    var named = Resolve(rootLine.Source);
                    string? problem = named != null && named.Value.Device == rootDevice ? null
                        : $"/etc/fstab line {rootLine.Line} names '{rootLine.Source}' for /, which is not the volume the root was found on ({rootInfo.Location}).";
                    mounts[0] = new MountInfo("/", rootLine.Source, rootLine.Type, rootInfo.Location, true, problem) { Subvolume = SubvolumeName(root) };
                    if (problem != null)
                    {
                        warnings.Add(problem);
                    }
                }
                // Parents before children, so /boot is in place before /boot/efi.
                foreach (FstabEntry e in entries.OrderBy(e => e.MountPoint.Count(c => c == '/')))
                {
                    MountFromFstab(e, rootDevice, root, mounted);
                }
            }
            FileSystem = new MountedFileSystem(root, mounted, $"Linux root of {disk.Path}");
        }

        private void MountFromFstab(FstabEntry e, BlockDevice rootDevice, IFileSystem root, Dictionary<string, IFileSystem> mounted)
        {
            string point = Canonical(e.MountPoint);
            if (e.Type == "swap" || point == null || e.Type == "proc" || e.Type == "sysfs" || e.Type == "tmpfs" || e.Type == "devpts" || e.Type == "nfs" || e.Type == "nfs4" || e.Type == "cifs" || e.Options.Split(',').Contains("bind"))
            {
                return;
            }
            if (point == "/")
            {
                return;
            }
            (VolumeInfo Info, BlockDevice? Device)? v = Resolve(e.Source);
            if (v == null)
            {
                mounts.Add(new MountInfo(point, e.Source, e.Type, null, false, $"/etc/fstab line {e.Line}: no volume in the image matches '{e.Source}'."));
                warnings.Add($"/etc/fstab line {e.Line}: no volume in the image matches '{e.Source}' (mount point {point}).");
                return;
            }
            if (v.Value.Device == rootDevice && root is BtrfsFileSystem rootBtrfs)
            {
                // Another subvolume of the root's btrfs (Fedora's home, openSUSE's @/var): a view of its own tree.
                BtrfsFileSystem? sub = SelectSubvolume(rootBtrfs, e, out string? why);
                if (sub == null)
                {
                    mounts.Add(new MountInfo(point, e.Source, e.Type, v.Value.Info.Location, false, why));
                    warnings.Add($"/etc/fstab line {e.Line}: {why}");
                    return;
                }
                if (sub.SubvolumeId == rootBtrfs.SubvolumeId)
                {
                    mounts.Add(new MountInfo(point, e.Source, e.Type, v.Value.Info.Location, false, "the root subvolume itself (a bind mount), not mounted again.") { Subvolume = SubvolumeName(sub) });
                    return;
                }
                mounted[point] = sub;
                mounts.Add(new MountInfo(point, e.Source, e.Type, v.Value.Info.Location, true, null) { Subvolume = SubvolumeName(sub) });
                return;
            }
            if (v.Value.Device == rootDevice)
            {
                mounts.Add(new MountInfo(point, e.Source, e.Type, v.Value.Info.Location, false, "the root file system itself (a bind or subvolume mount), not mounted again."));
                return;
            }
            if (v.Value.Device == null || !FileSystemOpeners.IsReadable(v.Value.Info.FileSystem.Kind))
            {
                string why = $"{v.Value.Info.Location} holds {v.Value.Info.FileSystem.TypeName}, which is not read.";
                mounts.Add(new MountInfo(point, e.Source, e.Type, v.Value.Info.Location, false, why));
                warnings.Add($"/etc/fstab line {e.Line}: {why}");
                return;
            }
            IFileSystem? fs = TryOpen(v.Value.Info, v.Value.Device!);
            if (fs == null)
            {
                mounts.Add(new MountInfo(point, e.Source, e.Type, v.Value.Info.Location, false, "the file system could not be opened (see the warnings)."));
                return;
            }
            string? subvolume = null;
            if (fs is BtrfsFileSystem btrfs)
            {
                BtrfsFileSystem? sub = SelectSubvolume(btrfs, e, out string? why);
                if (sub == null)
                {
                    mounts.Add(new MountInfo(point, e.Source, e.Type, v.Value.Info.Location, false, why));
                    warnings.Add($"/etc/fstab line {e.Line}: {why}");
                    return;
                }
                fs = sub;
                subvolume = SubvolumeName(sub);
            }
            mounted[point] = fs;
            mounts.Add(new MountInfo(point, e.Source, e.Type, v.Value.Info.Location, true, null) { Subvolume = subvolume });
        }

        private static string ReadFstab(IFileSystem root)
        {
            using var r = new StreamReader(root.OpenRead("/etc/fstab"));
            return r.ReadToEnd();
        }

        /// <summary>
        /// The btrfs subvolume that holds the root: the default one, else the first subvolume (then snapshot) that looks
        /// like a Linux root (Fedora keeps the top level as default and the root in the "root" subvolume). Also records
        /// the volume's subvolumes for `info`.
        /// </summary>
        private IFileSystem RootSubvolume(VolumeInfo info, BtrfsFileSystem fs)
        {
            IReadOnlyList<BtrfsSubvolumeInfo> subvolumes;
            try
            {
                subvolumes = fs.ListSubvolumes();
                info.Subvolumes = subvolumes;
            }
            catch (AzureLinuxImageException e)
            {
                warnings.Add(e.Message);
                return fs;
            }
            if (LooksLikeRoot(fs))
            {
                return fs;
            }
            foreach (BtrfsSubvolumeInfo s in subvolumes.Where(s => !s.IsSnapshot).Concat(subvolumes.Where(s => s.IsSnapshot)))
            {
                if (s.Id == fs.SubvolumeId)
                {
                    continue;
                }
                try
                {
                    BtrfsFileSystem candidate = fs.OpenSubvolume(s.Id);
                    if (LooksLikeRoot(candidate))
                    {
                        return candidate;
                    }
                }
                catch (AzureLinuxImageException e)
                {
                    warnings.Add(e.Message);
                }
            }
            return fs;
        }

        /// <summary>The subvolume an fstab line's options name: subvolid=, subvol= (both must agree), else the default one. Null with the reason when there is none.</summary>
        private static BtrfsFileSystem? SelectSubvolume(BtrfsFileSystem fs, FstabEntry e, out string? problem)
        {
            problem = null;
            string? path = null;
            string? id = null;
            foreach (string option in e.Options.Split(','))
            {
                if (option.StartsWith("subvol=", StringComparison.Ordinal))
                {
                    path = option.Substring("subvol=".Length);
                }
                else if (option.StartsWith("subvolid=", StringComparison.Ordinal))
                {
                    id = option.Substring("subvolid=".Length);
                }
            }
            try
            {
                BtrfsFileSystem? byPath = path == null ? null : fs.OpenSubvolume(path);
                if (path != null && byPath == null)
                {
                    problem = $"btrfs on {e.Source} has no subvolume '{path}' (subvol=).";
                    return null;
                }
                if (id != null)
                {
                    if (!ulong.TryParse(id, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out ulong number))
                    {
                        problem = $"subvolid={id} is not a number.";
                        return null;
                    }
                    if (byPath != null && byPath.SubvolumeId != number)
                    {
                        problem = $"subvol={path} is subvolume {byPath.SubvolumeId}, not subvolid={number}: the kernel refuses this mount.";
                        return null;
                    }
                    return byPath ?? fs.OpenSubvolume(number);
                }
                return byPath ?? (fs.SubvolumeId == fs.DefaultSubvolume ? fs : fs.OpenSubvolume(fs.DefaultSubvolume));
            }
            catch (AzureLinuxImageException x)
            {
                problem = x.Message;
                return null;
            }
        }

        private static string? SubvolumeName(IFileSystem fs)
        {
            if (!(fs is BtrfsFileSystem b))
            {
                return null;
            }
            if (b.SubvolumeId == 5)
            {
                return "5 (top level)";
            }
            try
            {
                return b.ListSubvolumes().FirstOrDefault(s => s.Id == b.SubvolumeId)?.Path ?? b.SubvolumeId.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            catch (AzureLinuxImageException)
            {
                return b.SubvolumeId.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        /// <summary>Finds the volume an fstab source names: UUID=, LABEL=, PARTUUID=, PARTLABEL=, /dev/disk/by-*, /dev/mapper, /dev/VG/LV, /dev/sdXN.</summary>
        internal (VolumeInfo Info, BlockDevice? Device)? Resolve(string source)
        {
            string s = source.Trim();
            if (s.Length >= 2 && s[0] == '"' && s[s.Length - 1] == '"')
            {
                s = s.Substring(1, s.Length - 2);
            }
            string? Key(string prefix) => s.StartsWith(prefix, StringComparison.Ordinal) ? s.Substring(prefix.Length).Trim('"') : null;
            string? value;
            if ((value = Key("UUID=") ?? Key("/dev/disk/by-uuid/")) != null)
            {
                return Find(v => string.Equals(v.FileSystem.Uuid, value, StringComparison.OrdinalIgnoreCase));
            }
            if ((value = Key("LABEL=") ?? Key("/dev/disk/by-label/")) != null)
            {
                return Find(v => v.FileSystem.Label == value);
            }
            if ((value = Key("PARTUUID=") ?? Key("/dev/disk/by-partuuid/")) != null)
            {
                return Find(v => v.Partition != null && string.Equals(v.Partition.PartUuid, value, StringComparison.OrdinalIgnoreCase));
            }
            if ((value = Key("PARTLABEL=") ?? Key("/dev/disk/by-partlabel/")) != null)
            {
                return Find(v => v.Partition != null && v.Partition.Name == value);
            }
            if (s.StartsWith("/dev/mapper/", StringComparison.Ordinal))
            {
                return Find(v => v.LogicalVolume != null && v.LogicalVolume.MapperPath == s);
            }
            if (s.StartsWith("/dev/", StringComparison.Ordinal))
            {
                var byLv = Find(v => v.LogicalVolume != null && v.LogicalVolume.DevicePath == s);
                if (byLv != null)
                {
                    return byLv;
                }
                // Kernel names (/dev/sda2, /dev/vda2, /dev/xvda2, /dev/nvme0n1p2): the disk is the only one, so the number decides.
                int end = s.Length;
                int start = end;
                while (start > 0 && char.IsDigit(s[start - 1]))
                {
                    start--;
                }
                if (start < end && int.TryParse(s.Substring(start), out int number) && System.Text.RegularExpressions.Regex.IsMatch(s, @"^/dev/((s|v|xv|h)d[a-z]+|nvme\d+n\d+p|mmcblk\d+p)\d+$"))
                {
                    return Find(v => v.Partition != null && v.Partition.Number == number);
                }
            }
            return null;
        }

        private (VolumeInfo, BlockDevice?)? Find(Func<VolumeInfo, bool> match)
        {
            foreach (var v in volumes)
            {
                if (match(v.Info))
                {
                    return v;
                }
            }
            return null;
        }

        private static bool LooksLikeRoot(IFileSystem fs)
        {
            bool etc = SafeEntry(fs, "/etc/os-release", follow: false) != null || SafeEntry(fs, "/etc/fstab") != null;
            bool bin = SafeEntry(fs, "/bin", follow: false) != null || SafeEntry(fs, "/usr/bin", follow: false) != null;
            return etc && bin;
        }

        private static FileEntry? SafeEntry(IFileSystem fs, string path, bool follow = true)
        {
            try
            {
                return fs.GetEntry(path, follow);
            }
            catch (AzureLinuxImageException)
            {
                return null;
            }
        }

        /// <summary>An absolute mount point without '.', '..' or doubled slashes; null when not absolute.</summary>
        private static string Canonical(string path)
        {
            if (!path.StartsWith("/", StringComparison.Ordinal))
            {
                return null!;
            }
            var parts = new List<string>();
            foreach (string p in path.Split('/'))
            {
                if (p.Length == 0 || p == ".")
                {
                    continue;
                }
                if (p == "..")
                {
                    if (parts.Count > 0)
                    {
                        parts.RemoveAt(parts.Count - 1);
                    }
                    continue;
                }
                parts.Add(p);
            }
            return "/" + string.Join("/", parts);
        }

        public void Dispose()
        {
            foreach (IFileSystem fs in opened)
            {
                fs.Dispose();
            }
            if (ownsDisk)
            {
                disk.Dispose();
            }
        }
    }
}
