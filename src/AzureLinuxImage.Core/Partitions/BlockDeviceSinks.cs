using System;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Partitions.Lvm;

namespace AzureLinuxImage.Partitions
{
    /// <summary>
    /// Where a device's committed bytes land in the image file: a partition (or the whole disk) at its
    /// offset on the virtual disk, an LVM linear logical volume through its extents on the physical
    /// volumes (the mapping reads use). Writes never leave the device: the range is checked here and
    /// again by the disk against its virtual size.
    /// </summary>
    internal static class BlockDeviceSinks
    {
        /// <summary>
        /// The sink for <paramref name="device"/>, or a typed error naming the device when it cannot be written.
        /// <paramref name="diskOpenForWriting"/> false: the disk is still open read-only while the change is
        /// planned and is reopened for writing before the commit (a write before that fails).
        /// </summary>
        public static IBlockDeviceSink For(BlockDevice device, bool diskOpenForWriting = true)
        {
            switch (device)
            {
                case DiskSlice slice:
                    if (diskOpenForWriting)
                    {
                        RequireWritable(slice.Disk, device);
                    }
                    return new SliceSink(slice);
                case LvmLogicalVolume lv:
                    if (!lv.IsLinear)
                    {
                        throw new AzureLinuxImageException("VolumeNotWritable", ErrorKind.NotSupported,
                            $"{device.Description} is a striped LVM volume; only linear logical volumes are written in this version.");
                    }
                    return new LogicalVolumeSink(lv);
                default:
                    throw new AzureLinuxImageException("VolumeNotWritable", ErrorKind.NotSupported, $"{device.Description} cannot be written in this version.");
            }
        }

        private static void RequireWritable(DiskImage disk, BlockDevice device)
        {
            if (!disk.IsWritable)
            {
                throw new AzureLinuxImageException("ImageNotWritable", ErrorKind.NotSupported, $"{device.Description}: the image is open read-only.", disk.Path);
            }
        }

        private static void CheckRange(BlockDevice device, long offset, int count)
        {
            if (offset < 0 || offset > device.Length - count)
            {
                throw new ArgumentOutOfRangeException(nameof(offset), $"a write of [{offset}, {offset + count}) is outside {device.Description} ({device.Length} bytes).");
            }
        }

        private sealed class SliceSink : IBlockDeviceSink
        {
            private readonly DiskSlice slice;

            public SliceSink(DiskSlice slice)
            {
                this.slice = slice;
            }

            public void Write(long offset, ReadOnlySpan<byte> data)
            {
                CheckRange(slice, offset, data.Length);
                slice.Disk.WriteAt(slice.Start + offset, data);
            }

            public void Flush() => slice.Disk.FlushWrites();
        }

        private sealed class LogicalVolumeSink : IBlockDeviceSink
        {
            private readonly LvmLogicalVolume lv;

            public LogicalVolumeSink(LvmLogicalVolume lv)
            {
                this.lv = lv;
            }

            public void Write(long offset, ReadOnlySpan<byte> data)
            {
                CheckRange(lv, offset, data.Length);
                int done = 0;
                while (done < data.Length)
                {
                    var (device, pvOffset, n) = lv.Map(offset + done, data.Length - done);
                    For(device).Write(pvOffset, data.Slice(done, n));
                    done += n;
                }
            }

            public void Flush()
            {
                // Every PV of one image is the same file: flushing one flushes them all.
                var (device, _, _) = lv.Map(0, 1);
                For(device).Flush();
            }
        }
    }
}
