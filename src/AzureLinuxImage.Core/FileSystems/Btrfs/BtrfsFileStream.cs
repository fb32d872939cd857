using System;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.FileSystems.Btrfs
{
    /// <summary>
    /// Read-only, seekable content of a regular file. Each read finds its EXTENT_DATA item by a tree search
    /// (so no extent list is ever held whole): inline data, regular extents read in place, compressed
    /// extents decompressed whole (at most 128 KiB) and kept until the next one, and holes, prealloc and
    /// gaps between items (the no-holes feature) as zeros. Nothing is returned past the inode's size.
    /// </summary>
    internal sealed class BtrfsFileStream : FileContentStream
    {
        private readonly BtrfsTree tree;
        private readonly ulong inode;
        private readonly string structure;
        private BtrfsFileExtent? current;
        private ulong currentNext;
        private byte[]? decoded;
        private BtrfsFileExtent? decodedFor;

        public BtrfsFileStream(BtrfsTree tree, ulong inode, long length)
            : base(length)
        {
            this.tree = tree;
            this.inode = inode;
            structure = $"btrfs subvolume {tree.Id} inode {inode} data";
        }

        protected override void ReadCore(long at, byte[] buffer, int offset, int count)
        {
            int done = 0;
            while (done < count)
            {
                ulong pos = (ulong)(at + done);
                BtrfsFileExtent? e = Find(pos, out ulong next);
                int chunk;
                if (e == null || e.ReadsAsZeros)
                {
                    ulong end = e?.End ?? next;
                    chunk = (int)Math.Min((ulong)(count - done), end - pos);
                    Array.Clear(buffer, offset + done, chunk);
                }
                else
                {
                    chunk = (int)Math.Min((ulong)(count - done), e.End - pos);
                    ulong within = pos - e.FileOffset;
                    if (e.Type == BtrfsFileExtent.Inline || e.Compression != BtrfsFileExtent.CompressNone)
                    {
                        byte[] data = Decoded(e);
                        Buffer.BlockCopy(data, (int)(e.Offset + within), buffer, offset + done, chunk);
                    }
                    else
                    {
                        tree.Volume.ReadLogical(e.DiskBytenr + e.Offset + within, buffer, offset + done, chunk, structure);
                    }
                }
                done += chunk;
            }
        }

        /// <summary>The extent covering <paramref name="pos"/> (null in a gap), and where the next item starts.</summary>
        private BtrfsFileExtent? Find(ulong pos, out ulong next)
        {
            if (current != null && pos >= current.FileOffset && pos < current.End)
            {
                next = currentNext;
                return current;
            }
            BtrfsTreeCursor c = tree.SearchAtOrBefore(new BtrfsKey(inode, BtrfsItem.ExtentData, pos));
            BtrfsFileExtent? found = null;
            if (c.Valid && c.Key.ObjectId == inode && c.Key.Type == BtrfsItem.ExtentData)
            {
                BtrfsFileExtent e = BtrfsFileExtent.Parse(c.Key.Offset, c.Data, tree.Volume.Superblock.SectorSize, inode, tree.Volume.Where, structure);
                if (e.End > pos)
                {
                    found = e;
                }
            }
            // The next item after the one at or before pos bounds a gap (and the cached extent's reuse).
            if (c.Valid)
            {
                c.MoveNext();
            }
            else
            {
                c = tree.Search(new BtrfsKey(inode, BtrfsItem.ExtentData, pos));
            }
            next = c.Valid && c.Key.ObjectId == inode && c.Key.Type == BtrfsItem.ExtentData ? c.Key.Offset : ulong.MaxValue;
            if (next <= pos)
            {
                throw new InvalidImageException(tree.Volume.Where, structure, $"the extent items around offset {pos} are out of order.");
            }
            if (found != null && found.End > next)
            {
                throw new InvalidImageException(tree.Volume.Where, structure, $"the extent at {found.FileOffset} (+{found.NumBytes}) overlaps the next one at {next}.");
            }
            current = found;
            currentNext = next;
            return found;
        }

        /// <summary>The decompressed (or inline) bytes of an extent, kept for the reads that follow.</summary>
        private byte[] Decoded(BtrfsFileExtent e)
        {
            if (decoded != null && decodedFor != null && decodedFor.Type == e.Type && decodedFor.Compression == e.Compression &&
                decodedFor.DiskBytenr == e.DiskBytenr && decodedFor.DiskNumBytes == e.DiskNumBytes && decodedFor.RamBytes == e.RamBytes)
            {
                return decoded;
            }
            var output = new byte[e.RamBytes];
            int sector = tree.Volume.Superblock.SectorSize;
            if (e.Type == BtrfsFileExtent.Inline)
            {
                if (e.Compression == BtrfsFileExtent.CompressNone)
                {
                    Buffer.BlockCopy(e.InlineData, 0, output, 0, output.Length);
                }
                else
                {
                    BtrfsDecompression.Decompress(e.Compression, e.InlineData, output, sector, tree.Volume.Where, structure);
                }
            }
            else
            {
                var raw = new byte[e.DiskNumBytes];
                tree.Volume.ReadLogical(e.DiskBytenr, raw, 0, raw.Length, structure);
                BtrfsDecompression.Decompress(e.Compression, raw, output, sector, tree.Volume.Where, structure);
            }
            decoded = output;
            decodedFor = e;
            return output;
        }
    }
}
