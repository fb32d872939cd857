using System;
using AzureLinuxImage.Operations;

namespace AzureLinuxImage.Cli.Verbs
{
    /// <summary>The human-readable form of a DiskImageInfo.</summary>
    internal static class DiskInfoText
    {
        public static void Write(DiskImageInfo info)
        {
            Console.Out.WriteLine($"path:              {info.Path}");
            Console.Out.WriteLine($"format:            {info.Format} ({info.Variant})");
            Console.Out.WriteLine($"virtual size:      {info.VirtualSize} bytes ({info.VirtualSize / (1024.0 * 1024):0.###} MiB){(info.IsMiBAligned ? string.Empty : ", not MiB-aligned")}");
            Console.Out.WriteLine($"allocated:         {info.AllocatedBytes} bytes");
            Console.Out.WriteLine($"file size:         {info.FileSize} bytes");
            Console.Out.WriteLine($"sectors:           {info.LogicalSectorSize} logical, {info.PhysicalSectorSize} physical");
            if (info.CreatorApplication != null)
            {
                Console.Out.WriteLine($"creator:           {info.CreatorApplication}");
            }
            foreach (string parent in info.ParentChain)
            {
                Console.Out.WriteLine($"parent:            {parent}");
            }
            Console.Out.WriteLine($"partition style:   {info.PartitionStyle}");
            foreach (var v in info.Volumes)
            {
                string part = v.Partition != null ? $"{v.Partition.Number,3} {v.Partition.TypeName,-22}" : v.LogicalVolume != null ? $"LV  {v.LogicalVolume.VolumeGroup + "/" + v.LogicalVolume.Name,-22}" : "    whole disk            ";
                string fs = v.FileSystem.Kind == AzureLinuxImage.FileSystems.FileSystemKind.Unknown ? "-" : v.FileSystem.TypeName;
                Console.Out.WriteLine($"  {part} {v.Size / (1024.0 * 1024),10:0.#} MiB  {fs,-12} {v.FileSystem.Uuid ?? string.Empty} {(v.FileSystem.Label != null ? "\"" + v.FileSystem.Label + "\"" : string.Empty)}");
                foreach (var s in v.Subvolumes)
                {
                    string what = s.IsSnapshot ? "snapshot" : "subvolume";
                    string flags = (s.ReadOnly ? ", read-only" : string.Empty) + (s.IsDefault ? ", default" : string.Empty);
                    Console.Out.WriteLine($"      {what,-9} {s.Id,5} {s.Path}{(s.IsSnapshot ? " (of " + s.ParentUuid + ")" : string.Empty)}{flags}");
                }
            }
            foreach (var m in info.Mounts)
            {
                Console.Out.WriteLine($"mount:             {m.MountPoint} <- {m.Source} ({m.Type}){(m.Subvolume != null ? ", subvolume " + m.Subvolume : string.Empty)}{(m.Mounted ? string.Empty : ": " + m.Problem)}");
            }
            Console.Out.WriteLine($"azure upload ready: {(info.AzureUploadReady ? "yes" : "no")}");
            foreach (string reason in info.NotReadyReasons)
            {
                Console.Out.WriteLine($"  - {reason}");
            }
            foreach (string warning in info.Warnings)
            {
                Console.Out.WriteLine($"warning: {warning}");
            }
        }
    }
}
