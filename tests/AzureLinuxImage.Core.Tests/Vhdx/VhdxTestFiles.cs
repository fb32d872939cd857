using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.IO.Hashing;

namespace AzureLinuxImage.Tests.Vhdx
{
    /// <summary>
    /// Test-side VHDX knowledge written from MS-VHDX v1.0 (not from the reader under test): locating
    /// structures in qemu-made files, patching them with correct checksums, writing log entries and
    /// building whole files (differencing ones included, which qemu-img cannot make).
    /// </summary>
    internal static class VhdxTestFiles
    {
        public const int MiB = 1024 * 1024;
        public static readonly Guid BatRegion = new Guid("2DC27766-F623-4200-9D64-115E9BFD4A08");
        public static readonly Guid MetadataRegion = new Guid("8B7CA206-4790-4B9A-B8FE-575F050F886E");
        public static readonly Guid FileParameters = new Guid("CAA16737-FA36-4D43-B3B6-33F0AA44E76B");
        public static readonly Guid VirtualDiskSize = new Guid("2FA54224-CD1B-4876-B211-5DBED83BF4B8");
        public static readonly Guid Page83 = new Guid("BECA12AB-B2E6-4523-93EF-C309E000C746");
        public static readonly Guid LogicalSectorSize = new Guid("8141BF1D-A96F-4709-BA47-F233A8FAAB5F");
        public static readonly Guid PhysicalSectorSize = new Guid("CDA348C7-445D-4471-9CC9-E9885251C556");
        public static readonly Guid ParentLocator = new Guid("A8D35F2D-B30B-454D-ABF7-D3D84834AB0C");
        public static readonly Guid VhdxLocatorType = new Guid("B04AEFB7-D19E-4A81-B789-25B8E9445913");

        /// <summary>Where things are in an existing file, read straight from the bytes.</summary>
        public sealed record Layout(long BatOffset, long BatLength, long MetadataOffset, long MetadataLength, long LogOffset, long LogLength,
            Guid DataWriteGuid, Dictionary<Guid, (long Offset, int Length, int EntryIndex)> Items);

        public static Layout ReadLayout(string path)
        {
            byte[] f = File.ReadAllBytes(path);
            byte[] h1 = f.AsSpan(64 * 1024, 4096).ToArray(), h2 = f.AsSpan(128 * 1024, 4096).ToArray();
            byte[] h = BinaryPrimitives.ReadUInt64LittleEndian(h2.AsSpan(8)) > BinaryPrimitives.ReadUInt64LittleEndian(h1.AsSpan(8)) ? h2 : h1;
            long bat = 0, batLen = 0, meta = 0, metaLen = 0;
            int count = BinaryPrimitives.ReadInt32LittleEndian(f.AsSpan(192 * 1024 + 8));
            for (int i = 0; i < count; i++)
            {
                int e = (192 * 1024) + 16 + (i * 32);
                var id = new Guid(f.AsSpan(e, 16).ToArray());
                long off = BinaryPrimitives.ReadInt64LittleEndian(f.AsSpan(e + 16));
                long len = BinaryPrimitives.ReadUInt32LittleEndian(f.AsSpan(e + 24));
                if (id == BatRegion) { bat = off; batLen = len; }
                if (id == MetadataRegion) { meta = off; metaLen = len; }
            }
            var items = new Dictionary<Guid, (long, int, int)>();
            int n = BinaryPrimitives.ReadUInt16LittleEndian(f.AsSpan((int)meta + 10));
            for (int i = 0; i < n; i++)
            {
                int e = (int)meta + 32 + (i * 32);
                items[new Guid(f.AsSpan(e, 16).ToArray())] = (meta + BinaryPrimitives.ReadUInt32LittleEndian(f.AsSpan(e + 16)), (int)BinaryPrimitives.ReadUInt32LittleEndian(f.AsSpan(e + 20)), i);
            }
            return new Layout(bat, batLen, meta, metaLen, BinaryPrimitives.ReadInt64LittleEndian(h.AsSpan(72)), BinaryPrimitives.ReadUInt32LittleEndian(h.AsSpan(68)),
                new Guid(h.AsSpan(32, 16).ToArray()), items);
        }

        public static void WriteAt(string path, long offset, byte[] data)
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.Read);
            fs.Position = offset;
            fs.Write(data, 0, data.Length);
        }

        public static byte[] ReadAt(string path, long offset, int count)
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var b = new byte[count];
            fs.Position = offset;
            int done = 0;
            while (done < count)
            {
                int r = fs.Read(b, done, count - done);
                if (r <= 0) { break; }
                done += r;
            }
            return b;
        }

        /// <summary>CRC-32C of a structure with its 4-byte checksum field at <paramref name="at"/> taken as zero, stored there.</summary>
        public static void FixCrc(byte[] structure, int at = 4)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(structure.AsSpan(at), 0);
            BinaryPrimitives.WriteUInt32LittleEndian(structure.AsSpan(at), Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, structure));
        }

        /// <summary>Changes both headers and recomputes their checksums.</summary>
        public static void PatchHeaders(string path, Action<byte[]> change)
        {
            foreach (long at in new long[] { 64 * 1024, 128 * 1024 })
            {
                byte[] h = ReadAt(path, at, 4096);
                change(h);
                FixCrc(h);
                WriteAt(path, at, h);
            }
        }

        /// <summary>Changes both region tables and recomputes their checksums.</summary>
        public static void PatchRegionTables(string path, Action<byte[]> change)
        {
            foreach (long at in new long[] { 192 * 1024, 256 * 1024 })
            {
                byte[] t = ReadAt(path, at, 64 * 1024);
                change(t);
                FixCrc(t);
                WriteAt(path, at, t);
            }
        }

        /// <summary>Raw disk with random data at scattered offsets (including the last bytes and across block boundaries).</summary>
        public static byte[] MakeRawWithScatteredData(string path, long size, int seed, long[] offsets, int chunk)
        {
            var rng = new Random(seed);
            using var fs = new FileStream(path, FileMode.Create, FileAccess.Write);
            fs.SetLength(size);
            var written = new byte[chunk];
            foreach (long o in offsets)
            {
                rng.NextBytes(written);
                long at = Math.Min(o, size - chunk);
                fs.Position = at;
                fs.Write(written, 0, chunk);
            }
            return written;
        }

        /// <summary>One log entry to write: data sectors (4 KiB, at 4 KiB-aligned file offsets) and zero ranges.</summary>
        public sealed class LogEntrySpec
        {
            public ulong Sequence { get; init; }
            public int TailSector { get; init; }
            public List<(long FileOffset, byte[] Sector)> Data { get; } = new();
            public List<(long FileOffset, long Length)> Zeros { get; } = new();
            public long FlushedFileOffset { get; init; }
            public long LastFileOffset { get; init; }
            public bool CorruptChecksum { get; init; }
        }

        /// <summary>
        /// Writes entries into the log region one after the other starting at <paramref name="startSector"/>
        /// (wrapping around the circular buffer, 2.3), and sets LogGuid in both headers.
        /// </summary>
        public static void WriteLog(string path, Guid logGuid, int startSector, params LogEntrySpec[] entries)
        {
            Layout layout = ReadLayout(path);
            int sectors = (int)(layout.LogLength / 4096);
            int at = startSector;
            foreach (LogEntrySpec e in entries)
            {
                byte[] bytes = EncodeEntry(e, logGuid);
                for (int s = 0; s < bytes.Length / 4096; s++)
                {
                    WriteAt(path, layout.LogOffset + ((long)((at + s) % sectors) * 4096), bytes.AsSpan(s * 4096, 4096).ToArray());
                }
                at = (at + (bytes.Length / 4096)) % sectors;
            }
            PatchHeaders(path, h => logGuid.ToByteArray().CopyTo(h, 48));
        }

        public static byte[] EncodeEntry(LogEntrySpec e, Guid logGuid)
        {
            int descriptors = e.Data.Count + e.Zeros.Count;
            int descSectors = (64 + (32 * descriptors) + 4095) / 4096;
            var b = new byte[(descSectors + e.Data.Count) * 4096];
            Encoding.ASCII.GetBytes("loge").CopyTo(b, 0);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(8), (uint)b.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(12), (uint)(e.TailSector * 4096));
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(16), e.Sequence);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(24), (uint)descriptors);
            logGuid.ToByteArray().CopyTo(b, 32);
            BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(48), e.FlushedFileOffset);
            BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(56), e.LastFileOffset);
            int d = 64;
            foreach ((long off, long len) in e.Zeros)
            {
                Encoding.ASCII.GetBytes("zero").CopyTo(b, d);
                BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(d + 8), len);
                BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(d + 16), off);
                BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(d + 24), e.Sequence);
                d += 32;
            }
            int dataAt = descSectors * 4096;
            foreach ((long off, byte[] sector) in e.Data)
            {
                Encoding.ASCII.GetBytes("desc").CopyTo(b, d);
                Buffer.BlockCopy(sector, 4092, b, d + 4, 4);   // TrailingBytes
                Buffer.BlockCopy(sector, 0, b, d + 8, 8);      // LeadingBytes
                BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(d + 16), off);
                BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(d + 24), e.Sequence);
                d += 32;
                Encoding.ASCII.GetBytes("data").CopyTo(b, dataAt);
                BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(dataAt + 4), (uint)(e.Sequence >> 32));
                Buffer.BlockCopy(sector, 8, b, dataAt + 8, 4084);
                BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(dataAt + 4092), (uint)e.Sequence);
                dataAt += 4096;
            }
            FixCrc(b);
            if (e.CorruptChecksum)
            {
                b[b.Length - 100] ^= 0x5A;
            }
            return b;
        }
    }

    /// <summary>
    /// Builds a complete VHDX from the specification: file identifier, two headers, two region tables,
    /// a 1 MiB log, metadata (with a parent locator for differencing files), BAT, sector bitmaps, blocks.
    /// Content is given per logical sector; a differencing file marks touched blocks partially present.
    /// </summary>
    internal sealed class VhdxBuilder
    {
        private readonly SortedDictionary<long, byte[]> sectors = new();
        private readonly HashSet<long> zeroBlocks = new();
        private readonly HashSet<long> fullBlocks = new();

        public long VirtualSize { get; init; } = 32L * VhdxTestFiles.MiB;
        public uint BlockSize { get; init; } = VhdxTestFiles.MiB;
        public int LogicalSectorSize { get; init; } = 512;
        public Guid DataWriteGuid { get; init; } = Guid.NewGuid();
        /// <summary>Parent locator entries; null for a dynamic (non-differencing) file.</summary>
        public Dictionary<string, string>? Locator { get; init; }

        /// <summary>Sets logical sectors starting at <paramref name="sector"/> from <paramref name="data"/> (a whole number of sectors).</summary>
        public void Write(long sector, byte[] data)
        {
            for (int i = 0; i < data.Length / LogicalSectorSize; i++)
            {
                sectors[sector + i] = data.AsSpan(i * LogicalSectorSize, LogicalSectorSize).ToArray();
            }
        }

        /// <summary>Marks a block PAYLOAD_BLOCK_ZERO (reads zeros, hides the parent).</summary>
        public void ZeroBlock(long block) => zeroBlocks.Add(block);

        /// <summary>Marks a block fully present (sectors not written read as zeros, never from the parent).</summary>
        public void FullBlock(long block) => fullBlocks.Add(block);

        public void Save(string path)
        {
            const int MiB = VhdxTestFiles.MiB;
            bool diff = Locator != null;
            long chunkRatio = (1L << 23) * LogicalSectorSize / BlockSize;
            long blocks = (VirtualSize + BlockSize - 1) / BlockSize;
            long chunks = (blocks + chunkRatio - 1) / chunkRatio;
            long entries = diff ? chunks * (chunkRatio + 1) : blocks + ((blocks - 1) / chunkRatio);
            long batLength = ((entries * 8) + MiB - 1) / MiB * MiB;
            long logOffset = MiB, metadataOffset = 2L * MiB, batOffset = 3L * MiB;
            long next = batOffset + batLength;
            int sectorsPerBlock = (int)(BlockSize / LogicalSectorSize);

            var bat = new byte[batLength];
            using var fs = new FileStream(path, FileMode.Create, FileAccess.ReadWrite);
            var touched = sectors.Keys.Select(s => s / sectorsPerBlock).Concat(fullBlocks).Distinct().OrderBy(b => b).ToList();
            var bitmaps = new Dictionary<long, (long Offset, byte[] Bits)>();
            foreach (long block in touched)
            {
                bool full = !diff || fullBlocks.Contains(block);
                long offset = next;
                next += BlockSize;
                for (int s = 0; s < sectorsPerBlock; s++)
                {
                    if (sectors.TryGetValue((block * sectorsPerBlock) + s, out byte[]? data))
                    {
                        fs.Position = offset + ((long)s * LogicalSectorSize);
                        fs.Write(data, 0, data.Length);
                        if (!full)
                        {
                            long chunk = block / chunkRatio;
                            if (!bitmaps.TryGetValue(chunk, out var bm))
                            {
                                bm = (0, new byte[MiB]);
                                bitmaps[chunk] = bm;
                            }
                            long bit = ((block % chunkRatio) * sectorsPerBlock) + s;
                            bm.Bits[bit / 8] |= (byte)(1 << (int)(bit % 8));
                        }
                    }
                }
                long index = block + (block / chunkRatio);
                BinaryPrimitives.WriteUInt64LittleEndian(bat.AsSpan((int)(index * 8)), (ulong)(offset / MiB) << 20 | (full ? 6UL : 7UL));
            }
            foreach (long block in zeroBlocks)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(bat.AsSpan((int)((block + (block / chunkRatio)) * 8)), 2UL);
            }
            foreach (long chunk in bitmaps.Keys.ToList())
            {
                long offset = next;
                next += MiB;
                fs.Position = offset;
                fs.Write(bitmaps[chunk].Bits, 0, MiB);
                long index = (chunk * (chunkRatio + 1)) + chunkRatio;
                BinaryPrimitives.WriteUInt64LittleEndian(bat.AsSpan((int)(index * 8)), (ulong)(offset / MiB) << 20 | 6UL);
            }
            fs.SetLength(next);

            // File identifier.
            var id = new byte[64 * 1024];
            Encoding.ASCII.GetBytes("vhdxfile").CopyTo(id, 0);
            Encoding.Unicode.GetBytes("AzureLinuxImage test builder").CopyTo(id, 8);
            Put(fs, 0, id);
            // Headers: sequence numbers 1 and 2 (the second is current); no pending log.
            for (int i = 0; i < 2; i++)
            {
                var h = new byte[4096];
                Encoding.ASCII.GetBytes("head").CopyTo(h, 0);
                BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(8), (ulong)(i + 1));
                Guid.NewGuid().ToByteArray().CopyTo(h, 16);
                DataWriteGuid.ToByteArray().CopyTo(h, 32);
                BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(66), 1);
                BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(68), MiB);
                BinaryPrimitives.WriteInt64LittleEndian(h.AsSpan(72), logOffset);
                VhdxTestFiles.FixCrc(h);
                Put(fs, (i + 1) * 64 * 1024, h);
            }
            // Region tables.
            var rt = new byte[64 * 1024];
            Encoding.ASCII.GetBytes("regi").CopyTo(rt, 0);
            BinaryPrimitives.WriteUInt32LittleEndian(rt.AsSpan(8), 2);
            VhdxTestFiles.BatRegion.ToByteArray().CopyTo(rt, 16);
            BinaryPrimitives.WriteInt64LittleEndian(rt.AsSpan(32), batOffset);
            BinaryPrimitives.WriteUInt32LittleEndian(rt.AsSpan(40), (uint)batLength);
            BinaryPrimitives.WriteUInt32LittleEndian(rt.AsSpan(44), 1);
            VhdxTestFiles.MetadataRegion.ToByteArray().CopyTo(rt, 48);
            BinaryPrimitives.WriteInt64LittleEndian(rt.AsSpan(64), metadataOffset);
            BinaryPrimitives.WriteUInt32LittleEndian(rt.AsSpan(72), MiB);
            BinaryPrimitives.WriteUInt32LittleEndian(rt.AsSpan(76), 1);
            VhdxTestFiles.FixCrc(rt);
            Put(fs, 192 * 1024, rt);
            Put(fs, 256 * 1024, rt);
            // Metadata.
            var items = new List<(Guid Id, byte[] Data, uint Flags)>();
            var fp = new byte[8];
            BinaryPrimitives.WriteUInt32LittleEndian(fp, BlockSize);
            BinaryPrimitives.WriteUInt32LittleEndian(fp.AsSpan(4), diff ? 2u : 0u);
            items.Add((VhdxTestFiles.FileParameters, fp, 4));
            var vs = new byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(vs, VirtualSize);
            items.Add((VhdxTestFiles.VirtualDiskSize, vs, 2 | 4));
            items.Add((VhdxTestFiles.Page83, Guid.NewGuid().ToByteArray(), 2 | 4));
            var ls = new byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(ls, LogicalSectorSize);
            items.Add((VhdxTestFiles.LogicalSectorSize, ls, 2 | 4));
            var ps = new byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(ps, 4096);
            items.Add((VhdxTestFiles.PhysicalSectorSize, ps, 2 | 4));
            if (diff)
            {
                items.Add((VhdxTestFiles.ParentLocator, EncodeLocator(Locator!), 4));
            }
            var meta = new byte[MiB];
            Encoding.ASCII.GetBytes("metadata").CopyTo(meta, 0);
            BinaryPrimitives.WriteUInt16LittleEndian(meta.AsSpan(10), (ushort)items.Count);
            int itemAt = 64 * 1024;
            for (int i = 0; i < items.Count; i++)
            {
                int e = 32 + (i * 32);
                items[i].Id.ToByteArray().CopyTo(meta, e);
                BinaryPrimitives.WriteInt32LittleEndian(meta.AsSpan(e + 16), itemAt);
                BinaryPrimitives.WriteInt32LittleEndian(meta.AsSpan(e + 20), items[i].Data.Length);
                BinaryPrimitives.WriteUInt32LittleEndian(meta.AsSpan(e + 24), items[i].Flags);
                items[i].Data.CopyTo(meta, itemAt);
                itemAt += (items[i].Data.Length + 7) / 8 * 8;
            }
            Put(fs, metadataOffset, meta);
            Put(fs, batOffset, bat);
        }

        public static byte[] EncodeLocator(Dictionary<string, string> entries)
        {
            var strings = new MemoryStream();
            var table = new List<(int K, int V, int KL, int VL)>();
            int baseOffset = 20 + (12 * entries.Count);
            foreach (var kv in entries)
            {
                byte[] k = Encoding.Unicode.GetBytes(kv.Key), v = Encoding.Unicode.GetBytes(kv.Value);
                int ko = baseOffset + (int)strings.Length;
                strings.Write(k);
                int vo = baseOffset + (int)strings.Length;
                strings.Write(v);
                table.Add((ko, vo, k.Length, v.Length));
            }
            var b = new byte[baseOffset + strings.Length];
            VhdxTestFiles.VhdxLocatorType.ToByteArray().CopyTo(b, 0);
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(18), (ushort)entries.Count);
            for (int i = 0; i < table.Count; i++)
            {
                int e = 20 + (i * 12);
                BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(e), table[i].K);
                BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(e + 4), table[i].V);
                BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(e + 8), (ushort)table[i].KL);
                BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(e + 10), (ushort)table[i].VL);
            }
            strings.ToArray().CopyTo(b, baseOffset);
            return b;
        }

        private static void Put(FileStream fs, long offset, byte[] data)
        {
            fs.Position = offset;
            fs.Write(data, 0, data.Length);
        }
    }
}
