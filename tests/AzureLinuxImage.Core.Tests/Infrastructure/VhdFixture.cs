using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace AzureLinuxImage.Tests.Infrastructure
{
    /// <summary>
    /// Builds dynamic and differencing VHDs in tests, written from the VHD specification independently of
    /// the production code (qemu-img cannot create differencing VHDs). Layout: footer copy, dynamic header,
    /// BAT, parent locator data, blocks (sector bitmap + data), footer.
    /// </summary>
    public sealed class VhdFixture
    {
        public const uint BlockSize = 2 << 20;
        private readonly Dictionary<long, (byte[] Data, byte[] Bitmap)> blocks = new();

        public VhdFixture(long size)
        {
            Size = size;
        }

        public long Size { get; }
        public Guid UniqueId { get; set; } = Guid.NewGuid();
        public uint TimeStamp { get; set; } = 700_000_000;
        public string Creator { get; set; } = "win ";

        /// <summary>Differencing: the parent's unique id and time stamp, and the locators to record.</summary>
        public Guid? ParentId { get; set; }
        public uint ParentTimeStamp { get; set; }
        public string ParentName { get; set; } = string.Empty;
        public List<(string Code, string Path)> Locators { get; } = new();

        /// <summary>Writes <paramref name="data"/> at a sector-aligned virtual offset, marking those sectors present.</summary>
        public void Write(long offset, byte[] data)
        {
            for (int done = 0; done < data.Length;)
            {
                long at = offset + done;
                long block = at / BlockSize;
                int inBlock = (int)(at % BlockSize);
                int n = (int)Math.Min(data.Length - done, BlockSize - inBlock);
                if (!blocks.TryGetValue(block, out var b))
                {
                    b = (new byte[BlockSize], new byte[512]);
                    blocks[block] = b;
                }
                Array.Copy(data, done, b.Data, inBlock, n);
                for (int s = inBlock / 512; s < (inBlock + n + 511) / 512; s++)
                {
                    b.Bitmap[s >> 3] |= (byte)(0x80 >> (s & 7));
                }
                done += n;
            }
        }

        /// <summary>Applies what this layer holds onto <paramref name="flat"/> (the expected content of the chain).</summary>
        public void ApplyTo(byte[] flat)
        {
            foreach (var (block, b) in blocks)
            {
                for (int s = 0; s < BlockSize / 512; s++)
                {
                    long at = (block * BlockSize) + (s * 512);
                    bool present = ParentId == null || (b.Bitmap[s >> 3] & (0x80 >> (s & 7))) != 0;
                    if (present && at < flat.Length)
                    {
                        Array.Copy(b.Data, s * 512, flat, at, Math.Min(512, flat.Length - at));
                    }
                }
            }
        }

        public void Save(string path)
        {
            long entries = (Size + BlockSize - 1) / BlockSize;
            long batOffset = 512 + 1024;
            long batBytes = ((entries * 4) + 511) / 512 * 512;
            long next = batOffset + batBytes;
            var locatorData = new List<(string Code, byte[] Data, long Offset)>();
            foreach (var (code, p) in Locators)
            {
                byte[] data = code == "MacX" ? Encoding.UTF8.GetBytes(p) : Encoding.Unicode.GetBytes(p);
                locatorData.Add((code, data, next));
                next += (data.Length + 511) / 512 * 512;
            }
            var bat = new uint[entries];
            Array.Fill(bat, 0xFFFFFFFF);
            var order = new List<long>(blocks.Keys);
            order.Sort();
            long blockStart = next;
            foreach (long b in order)
            {
                bat[b] = (uint)(next / 512);
                next += 512 + BlockSize;
            }
            using var f = new FileStream(path, FileMode.Create, FileAccess.Write);
            byte[] footer = Footer(ParentId == null ? 3u : 4u);
            f.Write(footer);
            f.Write(Header(batOffset, (uint)entries, locatorData));
            var batRaw = new byte[batBytes];
            for (int i = 0; i < entries; i++)
            {
                BinaryPrimitives.WriteUInt32BigEndian(batRaw.AsSpan(i * 4), bat[i]);
            }
            f.Write(batRaw);
            foreach (var l in locatorData)
            {
                f.Position = l.Offset;
                f.Write(l.Data);
            }
            f.Position = blockStart;
            foreach (long b in order)
            {
                byte[] bitmap = ParentId == null ? Full() : blocks[b].Bitmap;
                f.Write(bitmap);
                f.Write(blocks[b].Data);
            }
            f.Write(footer);
        }

        private static byte[] Full()
        {
            var b = new byte[512];
            Array.Fill(b, (byte)0xFF);
            return b;
        }

        private byte[] Footer(uint type)
        {
            var b = new byte[512];
            Encoding.ASCII.GetBytes("conectix").CopyTo(b, 0);
            BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(8), 2);
            BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(12), 0x00010000);
            BinaryPrimitives.WriteUInt64BigEndian(b.AsSpan(16), 512);
            BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(24), TimeStamp);
            Encoding.ASCII.GetBytes(Creator).CopyTo(b, 28);
            BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(36), 0x5769326B);
            BinaryPrimitives.WriteUInt64BigEndian(b.AsSpan(40), (ulong)Size);
            BinaryPrimitives.WriteUInt64BigEndian(b.AsSpan(48), (ulong)Size);
            BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(56), 0xFFFF10FF);
            BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(60), type);
            UniqueId.ToByteArray().CopyTo(b, 68);
            BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(64), OnesComplementSum(b, 64));
            return b;
        }

        private byte[] Header(long batOffset, uint entries, List<(string Code, byte[] Data, long Offset)> locators)
        {
            var b = new byte[1024];
            Encoding.ASCII.GetBytes("cxsparse").CopyTo(b, 0);
            BinaryPrimitives.WriteUInt64BigEndian(b.AsSpan(8), ulong.MaxValue);
            BinaryPrimitives.WriteUInt64BigEndian(b.AsSpan(16), (ulong)batOffset);
            BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(24), 0x00010000);
            BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(28), entries);
            BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(32), BlockSize);
            if (ParentId != null)
            {
                ParentId.Value.ToByteArray().CopyTo(b, 40);
                BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(56), ParentTimeStamp);
                Encoding.BigEndianUnicode.GetBytes(ParentName).CopyTo(b, 64);
            }
            for (int i = 0; i < locators.Count; i++)
            {
                Span<byte> e = b.AsSpan(576 + (24 * i));
                Encoding.ASCII.GetBytes(locators[i].Code).CopyTo(e);
                BinaryPrimitives.WriteUInt32BigEndian(e.Slice(4), (uint)((locators[i].Data.Length + 511) / 512));
                BinaryPrimitives.WriteUInt32BigEndian(e.Slice(8), (uint)locators[i].Data.Length);
                BinaryPrimitives.WriteUInt64BigEndian(e.Slice(16), (ulong)locators[i].Offset);
            }
            BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(36), OnesComplementSum(b, 36));
            return b;
        }

        private static uint OnesComplementSum(byte[] data, int checksumAt)
        {
            uint sum = 0;
            for (int i = 0; i < data.Length; i++)
            {
                if (i < checksumAt || i >= checksumAt + 4)
                {
                    sum += data[i];
                }
            }
            return ~sum;
        }
    }
}
