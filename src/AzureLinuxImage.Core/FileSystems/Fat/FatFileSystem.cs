using System;
using System.Collections.Generic;
using System.IO;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.FileSystems.Fat
{
    /// <summary>
    /// Read-only FAT12/16/32 with VFAT long names: enough to list and read an EFI system partition
    /// (EFI/BOOT/BOOTX64.EFI, grub.cfg). Lookups are case-insensitive on the long and the short name, as
    /// Linux's vfat does. FAT has no owners or permissions: entries read as root's, 0755 like a default
    /// vfat mount (read-only entries without write bits).
    /// </summary>
    internal sealed class FatFileSystem : FileSystemBase<FatNode>
    {
        /// <summary>A directory holds at most 65,536 entries of 32 bytes (specification section 6).</summary>
        private const int MaxDirectoryBytes = 65536 * 32;

        /// <summary>Parsed directories kept for lookups (each at most 65,536 entries).</summary>
        private const int CachedDirectories = 64;

        private readonly BlockDevice device;
        private readonly FatBootSector boot;
        private readonly FatTable table;
        private readonly FatNode root;
        private readonly Dictionary<uint, List<FatNode>> directoryCache = new Dictionary<uint, List<FatNode>>();

        private FatFileSystem(BlockDevice device, FatBootSector boot, string description)
        {
            this.device = device;
            this.boot = boot;
            table = new FatTable(device, boot);
            root = new FatNode("/", FatDirectory.AttrDirectory, boot.Type == FatType.Fat32 ? boot.RootCluster : 0, 0, null, isRoot: true);
            Description = description;
        }

        public override string Description { get; }

        public FatType Type => boot.Type;

        /// <summary>The label as blkid reports it: the root directory's volume label entry, else the boot sector's.</summary>
        public string Label => RootVolumeLabel() ?? boot.Label;

        public uint VolumeId => boot.VolumeId;

        /// <summary>The volume serial as fstab's UUID= and blkid write it: "XXXX-XXXX".</summary>
        public string Uuid => $"{boot.VolumeId >> 16:X4}-{boot.VolumeId & 0xFFFF:X4}";

        protected override FatNode Root => root;

        /// <summary>Opens the FAT file system on <paramref name="device"/>, validating its boot sector.</summary>
        internal static FatFileSystem Open(BlockDevice device)
        {
            if (device.Length < 512)
            {
                throw new InvalidImageException(device.Description, "FAT boot sector", "the device is shorter than one sector.");
            }
            var sector = new byte[512];
            device.Read(0, sector, 0, sector.Length);
            FatBootSector boot = FatBootSector.Parse(sector, device.Length, device.Description);
            string label = boot.Label.Length > 0 ? $" '{boot.Label}'" : string.Empty;
            return new FatFileSystem(device, boot, $"FAT{(int)boot.Type}{label} on {device.Description}");
        }

        protected override FileEntryType TypeOf(FatNode node) => node.IsDirectory ? FileEntryType.Directory : FileEntryType.File;

        protected override FatNode? Lookup(FatNode directory, string name)
        {
            foreach (FatNode child in Entries(directory))
            {
                if (string.Equals(child.Name, name, StringComparison.OrdinalIgnoreCase) ||
                    (child.ShortName != null && string.Equals(child.ShortName, name, StringComparison.OrdinalIgnoreCase)))
                {
                    return child;
                }
            }
            return null;
        }

        protected override IEnumerable<KeyValuePair<string, FatNode>> Children(FatNode directory)
        {
            foreach (FatNode child in Entries(directory))
            {
                yield return new KeyValuePair<string, FatNode>(child.Name, child);
            }
        }

        protected override string ReadLinkTarget(FatNode link) =>
            throw new InvalidOperationException("FAT has no symbolic links.");

        protected override FileEntry Describe(FatNode node, string path)
        {
            uint mode = node.ReadOnly ? 0x16Du : 0x1EDu; // 0555 or 0755
            long size = node.IsDirectory ? 0 : node.Size;
            return new FileEntry(path, TypeOf(node), size, mode, 0, 0, node.Modified, null);
        }

        protected override Stream OpenContent(FatNode node, string path) => node.Size == 0
            ? new MemoryStream(Array.Empty<byte>(), false)
            : new FatFileStream(device, boot, table, node.FirstCluster, node.Size, $"FAT file {path}");

        private string? RootVolumeLabel()
        {
            byte[] data;
            if (boot.Type != FatType.Fat32)
            {
                data = new byte[boot.RootDirectoryBytes];
                device.Read(boot.RootDirectoryOffset, data, 0, data.Length);
            }
            else
            {
                data = new byte[boot.ClusterSize];
                device.Read(boot.ClusterOffset(boot.RootCluster), data, 0, data.Length);
            }
            return FatDirectory.FindVolumeLabel(data);
        }

        /// <summary>Entries of a directory, without '.', '..' and the volume label; parsed once and kept for a bounded number of directories.</summary>
        private List<FatNode> Entries(FatNode directory)
        {
            uint key = directory.IsRoot ? 0 : directory.FirstCluster;
            if (directoryCache.TryGetValue(key, out List<FatNode>? cached))
            {
                return cached;
            }
            if (directoryCache.Count >= CachedDirectories)
            {
                directoryCache.Clear();
            }
            List<FatNode> parsed = ReadEntries(directory);
            directoryCache[key] = parsed;
            return parsed;
        }

        private List<FatNode> ReadEntries(FatNode directory)
        {
            byte[] data;
            string structure = directory.IsRoot ? "FAT root directory" : $"FAT directory '{directory.Name}'";
            if (directory.IsRoot && boot.Type != FatType.Fat32)
            {
                data = new byte[boot.RootDirectoryBytes];
                device.Read(boot.RootDirectoryOffset, data, 0, data.Length);
            }
            else
            {
                if (directory.FirstCluster == 0)
                {
                    throw new InvalidImageException(device.Description, structure, "the directory has no first cluster.");
                }
                var buffer = new MemoryStream();
                var cluster = new byte[boot.ClusterSize];
                long maxClusters = Math.Max(1, MaxDirectoryBytes / boot.ClusterSize);
                foreach (uint c in table.Chain(directory.FirstCluster, maxClusters, structure))
                {
                    device.Read(boot.ClusterOffset(c), cluster, 0, cluster.Length);
                    buffer.Write(cluster, 0, cluster.Length);
                    if (Array.IndexOf(cluster, (byte)0) >= 0 && EndsDirectory(cluster))
                    {
                        break;
                    }
                }
                data = buffer.ToArray();
            }
            var result = new List<FatNode>();
            foreach (FatNode n in FatDirectory.Parse(data))
            {
                if (n.Name == "." || n.Name == "..")
                {
                    continue;
                }
                if (n.IsDirectory && n.FirstCluster == 0)
                {
                    throw new InvalidImageException(device.Description, structure, $"subdirectory '{n.Name}' has no first cluster.");
                }
                if (n.FirstCluster != 0)
                {
                    table.CheckCluster(n.FirstCluster, $"{structure} entry '{n.Name}'");
                }
                else if (n.Size != 0)
                {
                    throw new InvalidImageException(device.Description, $"{structure} entry '{n.Name}'", $"a file of {n.Size} bytes has no clusters.");
                }
                result.Add(n);
            }
            return result;
        }

        /// <summary>Whether a cluster holds the end-of-directory marker (an entry starting with 0), so later clusters need not be read.</summary>
        private static bool EndsDirectory(byte[] cluster)
        {
            for (int i = 0; i < cluster.Length; i += 32)
            {
                if (cluster[i] == 0)
                {
                    return true;
                }
            }
            return false;
        }
    }
}
