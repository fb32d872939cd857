using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.Partitions;

namespace AzureLinuxImage.Linux
{
    /// <summary>
    /// The Linux view of an image as the readiness check takes it: the assembled root, and the disk facts the
    /// disk rules need (partitions, probed volumes, root on LVM, EFI loaders).
    /// </summary>
    internal static class LinuxImageInspection
    {
        public static InspectedImage Open(string imagePath)
        {
            LinuxImage image = LinuxImage.Open(imagePath);
            try
            {
                IFileSystem root = image.RequireFileSystem();
                return new InspectedImage(root, Facts(image), image, image.Warnings);
            }
            catch
            {
                image.Dispose();
                throw;
            }
        }

        internal static DiskLayoutFacts Facts(LinuxImage image)
        {
            int sector = image.Disk.LogicalSectorSize;
            var boot = new byte[440];
            image.Disk.Read(0, boot, 0, boot.Length);
            var partitions = new List<PartitionFact>();
            foreach (VolumeInfo v in image.Volumes)
            {
                DetectedFileSystem fs = v.FileSystem;
                string? type = fs.Kind == FileSystemKind.Unknown ? null : fs.TypeName;
                if (v.Partition != null)
                {
                    PartitionInfo p = v.Partition;
                    partitions.Add(new PartitionFact
                    {
                        Number = p.Number,
                        Name = p.Name,
                        StartLba = p.Offset / sector,
                        SizeBytes = p.Length,
                        GptType = p.Scheme == PartitionStyle.Gpt ? new Guid(p.TypeId) : (Guid?)null,
                        MbrType = p.Scheme == PartitionStyle.Mbr ? byte.Parse(p.TypeId.Substring(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture) : (byte?)null,
                        PartUuid = p.UniqueId,
                        HasSwapSignature = fs.Kind == FileSystemKind.Swap,
                        IsLvmPhysicalVolume = fs.Kind == FileSystemKind.LvmPhysicalVolume,
                        FileSystemType = type,
                        FileSystemUuid = fs.Uuid,
                        FileSystemLabel = fs.Label,
                    });
                }
                else if (v.LogicalVolume != null)
                {
                    partitions.Add(new PartitionFact
                    {
                        Number = 0,
                        Name = v.LogicalVolume.VolumeGroup + "/" + v.LogicalVolume.Name,
                        SizeBytes = v.Size,
                        IsLogicalVolume = true,
                        HasSwapSignature = fs.Kind == FileSystemKind.Swap,
                        FileSystemType = type,
                        FileSystemUuid = fs.Uuid,
                        FileSystemLabel = fs.Label,
                    });
                }
            }
            MountInfo? rootMount = image.Mounts.FirstOrDefault(m => m.MountPoint == "/");
            IReadOnlyList<string> loaders = EfiLoaders(image, out IReadOnlyList<EfiBinaryFact> binaries);
            var bootLoaders = binaries.Where(b => loaders.Any(l => string.Equals("/" + l, b.Path, StringComparison.OrdinalIgnoreCase))).ToList();
            return new DiskLayoutFacts
            {
                Format = image.Disk.Format.ToString().ToLowerInvariant(),
                Variant = image.Disk.Variant.ToString().ToLowerInvariant(),
                PartitionTable = image.Table.Scheme.ToString().ToLowerInvariant(),
                VirtualSize = image.Disk.VirtualSize,
                LogicalSectorSize = sector,
                HasMbrBootCode = boot.Any(b => b != 0),
                Partitions = partitions,
                RootOnLvm = rootMount?.Location?.StartsWith("LVM volume", StringComparison.Ordinal) == true,
                EfiBootLoaders = loaders,
                EfiBootLoadersSigned = bootLoaders.Count == 0 ? (bool?)null : bootLoaders.All(b => b.Signed),
                EfiBinaries = binaries,
                MbrBootLoaderName = System.Text.Encoding.ASCII.GetString(boot).Contains("GRUB") ? "GRUB" : null,
                BiosBootPartitionHasCode = BiosBootCode(image),
            };
        }

        /// <summary>Whether the first sector of the GPT BIOS boot partition holds anything (grub-install puts core.img there); null without one.</summary>
        private static bool? BiosBootCode(LinuxImage image)
        {
            PartitionInfo? p = image.Table.Partitions.FirstOrDefault(x => x.Kind == PartitionKind.BiosBoot);
            if (p == null)
            {
                return null;
            }
            var sector = new byte[Math.Min(512, (int)Math.Min(p.Length, 512))];
            image.Disk.Read(p.Offset, sector, 0, sector.Length);
            return sector.Any(b => b != 0);
        }

        /// <summary>EFI/BOOT/BOOT*.EFI on the ESP (UEFI 3.5.1.1, the removable-media path firmware falls back to), mounted or not.</summary>
        private static IReadOnlyList<string> EfiLoaders(LinuxImage image, out IReadOnlyList<EfiBinaryFact> binaries)
        {
            var result = new List<string>();
            var all = new List<EfiBinaryFact>();
            binaries = all;
            foreach (VolumeInfo v in image.Volumes.Where(v => v.FileSystem.Kind == FileSystemKind.Vfat && v.Partition?.Kind == PartitionKind.EfiSystem))
            {
                try
                {
                    using IFileSystem esp = FileSystemOpeners.Open(PartitionTable.Open(image.Disk, v.Partition!), FileSystemKind.Vfat);
                    all.AddRange(EfiBinaries.Read(esp));
                    FileEntry? dir = esp.GetEntry("/EFI/BOOT");
                    if (dir == null || dir.Type != FileEntryType.Directory)
                    {
                        continue;
                    }
                    foreach (FileEntry e in esp.List(dir.Path))
                    {
                        if (e.Type == FileEntryType.File && e.Name.StartsWith("BOOT", StringComparison.OrdinalIgnoreCase) && e.Name.EndsWith(".EFI", StringComparison.OrdinalIgnoreCase))
                        {
                            result.Add(e.Path.TrimStart('/'));
                        }
                    }
                }
                catch (AzureLinuxImageException)
                {
                    // A damaged ESP: no loaders found; the view's warnings already say why.
                }
            }
            return result;
        }
    }
}
