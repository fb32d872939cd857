using System;
using AzureLinuxImage.Disks;

namespace AzureLinuxImage.FileSystems.Ext
{
    /// <summary>A file's content, read on demand through its block map; holes and unwritten extents read as zeros.</summary>
    internal sealed class ExtFileStream : FileContentStream
    {
        private readonly ExtFileSystem fs;
        private readonly BlockDevice device;
        private readonly ExtBlockMap map;

        public ExtFileStream(ExtFileSystem fs, BlockDevice device, ExtInode inode)
            : base(inode.Size)
        {
            this.fs = fs;
            this.device = device;
            map = ExtBlockMap.For(fs, inode);
        }

        protected override void ReadCore(long at, byte[] buffer, int offset, int count)
        {
            int done = 0;
            int bs = fs.BlockSize;
            while (done < count)
            {
                long logical = at / bs;
                int within = (int)(at % bs);
                long physical = map.Map(logical, out long run);
                int n = (int)Math.Min(count - done, (run * bs) - within);
                if (physical == ExtBlockMap.Hole)
                {
                    Array.Clear(buffer, offset + done, n);
                }
                else
                {
                    device.Read((physical * bs) + within, buffer, offset + done, n);
                }
                done += n;
                at += n;
            }
        }

        /// <summary>Fills <paramref name="buffer"/> from the current position.</summary>
        public void ReadExactlyInto(byte[] buffer)
        {
            int done = 0;
            while (done < buffer.Length)
            {
                int n = Read(buffer, done, buffer.Length - done);
                if (n == 0)
                {
                    throw fs.Bad("file data", "the file ended early.");
                }
                done += n;
            }
        }
    }
}
