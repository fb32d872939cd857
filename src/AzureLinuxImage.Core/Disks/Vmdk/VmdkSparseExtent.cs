using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using AzureLinuxImage.Errors;
using AzureLinuxImage.IO;

namespace AzureLinuxImage.Disks.Vmdk
{
    /// <summary>
    /// A hosted sparse extent (monolithicSparse, twoGbMaxExtentSparse, streamOptimized): grain directory →
    /// grain tables → grains. Grain table entry 0 = unallocated (parent or zeros), 1 = zeroed grain when the
    /// header's flag allows it; compressed grains start with a grain marker and hold a zlib stream.
    /// </summary>
    internal sealed class VmdkSparseExtent : VmdkExtent
    {
        private readonly ImageFile file;
        private readonly VmdkSparseHeader header;
        private readonly long gdOffset;
        private readonly VmdkSharedState shared;

        public VmdkSparseExtent(long start, long size, ImageFile file, VmdkSparseHeader header, long gdOffset, VmdkSharedState shared)
            : base(start, size)
        {
            this.file = file;
            this.header = header;
            this.gdOffset = gdOffset;
            this.shared = shared;
        }

        public override bool IsSparse => true;

        public override void Read(long offset, byte[] buffer, int index, int count, VmdkFallbackReader fallback)
        {
            long grainBytes = header.GrainBytes;
            while (count > 0)
            {
                long grain = offset / grainBytes;
                int inGrain = (int)(offset % grainBytes);
                int n = (int)Math.Min(count, grainBytes - inGrain);
                uint entry = GrainEntry(grain);
                if (entry == 0)
                {
                    fallback(Start + offset, buffer, index, n);
                }
                else if (entry == 1 && header.ZeroedGrainEntries)
                {
                    Array.Clear(buffer, index, n);
                }
                else if (header.Compressed)
                {
                    byte[] data = Inflate(grain, entry);
                    Buffer.BlockCopy(data, inGrain, buffer, index, n);
                }
                else
                {
                    // Grains stored back to back are read with one call.
                    while (n < count)
                    {
                        long nextGrain = grain + ((inGrain + n) / grainBytes);
                        uint next = GrainEntry(nextGrain);
                        if (next <= 1 || (long)next != entry + ((nextGrain - grain) * header.GrainSectors))
                        {
                            break;
                        }
                        n = (int)Math.Min(count, n + grainBytes);
                    }
                    file.ReadExactly(((long)entry * 512) + inGrain, buffer, index, n, "VMDK grain");
                }
                offset += n;
                index += n;
                count -= n;
            }
        }

        /// <summary>The grain table entry of <paramref name="grain"/>: 0 unallocated, 1 zeroed (with the flag), else a sector.</summary>
        private uint GrainEntry(long grain)
        {
            long table = grain / header.GtesPerGt;
            uint gtSector = DirectoryEntry(table);
            if (gtSector == 0)
            {
                return 0;
            }
            int gtBytes = (int)header.GtesPerGt * 4;
            long gtOffset = (long)gtSector * 512;
            if (gtOffset > file.Length - gtBytes)
            {
                throw new InvalidImageException(file.Path, $"VMDK grain directory entry {table}", $"grain table at sector {gtSector} lies past the end of the file (corrupt directory or truncated file).");
            }
            byte[] page = shared.Tables.Get(file, gtOffset, gtBytes);
            uint entry = BinaryPrimitives.ReadUInt32LittleEndian(page.AsSpan((int)(grain % header.GtesPerGt) * 4));
            if (entry == 1 && !header.ZeroedGrainEntries)
            {
                throw new InvalidImageException(file.Path, $"VMDK grain table entry for grain {grain}", "value 1 (zeroed grain) without the zeroed-grain flag in the header (corrupt table).");
            }
            if (entry > 1 && (long)entry * 512 >= file.Length)
            {
                throw new InvalidImageException(file.Path, $"VMDK grain table entry for grain {grain}", $"grain at sector {entry} lies past the end of the file (corrupt table or truncated file).");
            }
            return entry;
        }

        private uint DirectoryEntry(long table)
        {
            if (table >= header.GdEntries)
            {
                throw new InvalidImageException(file.Path, "VMDK grain directory", $"grain table {table} is beyond the {header.GdEntries} directory entries.");
            }
            const int perPage = 1024;
            long first = table / perPage * perPage;
            int entries = (int)Math.Min(perPage, header.GdEntries - first);
            byte[] page = shared.Directories.Get(file, gdOffset + (first * 4), entries * 4);
            return BinaryPrimitives.ReadUInt32LittleEndian(page.AsSpan((int)(table - first) * 4));
        }

        /// <summary>Inflates a compressed grain into the shared grain buffer (kept while the same grain is read).</summary>
        private byte[] Inflate(long grain, uint sector)
        {
            int grainBytes = (int)header.GrainBytes;
            if (shared.Grain == null || shared.Grain.Length < grainBytes)
            {
                shared.Grain = new byte[grainBytes];
            }
            if (ReferenceEquals(shared.GrainFile, file) && shared.GrainSector == sector)
            {
                return shared.Grain;
            }
            shared.GrainFile = null;
            long at = (long)sector * 512;
            int maxCompressed = (2 * grainBytes) + 512;
            int length;
            long dataAt;
            if (header.HasMarkers)
            {
                byte[] marker = file.ReadStructure(at, VmdkGrainMarker.GrainHeaderSize, "VMDK grain marker");
                long lba = VmdkGrainMarker.GrainLba(marker);
                uint size = VmdkGrainMarker.GrainDataSize(marker);
                if (lba != grain * header.GrainSectors)
                {
                    throw new InvalidImageException(file.Path, $"VMDK grain marker at sector {sector}", $"says LBA {lba}, but the grain table maps grain {grain} (LBA {grain * header.GrainSectors}) there (corrupt table).");
                }
                if (size == 0 || size > maxCompressed)
                {
                    throw new InvalidImageException(file.Path, $"VMDK grain marker at sector {sector}", $"compressed size {size} is not between 1 and {maxCompressed}.");
                }
                length = (int)size;
                dataAt = at + VmdkGrainMarker.GrainHeaderSize;
            }
            else
            {
                length = (int)Math.Min(maxCompressed, file.Length - at);
                dataAt = at;
            }
            if (shared.Compressed == null || shared.Compressed.Length < length)
            {
                shared.Compressed = new byte[Math.Max(length, maxCompressed)];
            }
            file.ReadExactly(dataAt, shared.Compressed, 0, length, "VMDK compressed grain");
            int produced = InflateZlib(shared.Compressed, length, shared.Grain, grainBytes, grain, sector);
            long needed = Math.Min(grainBytes, Size - (grain * grainBytes));
            if (produced < needed)
            {
                throw new InvalidImageException(file.Path, $"VMDK compressed grain at sector {sector}", $"inflates to {produced} bytes, fewer than the {needed} the grain needs.");
            }
            Array.Clear(shared.Grain, produced, grainBytes - produced);
            shared.GrainFile = file;
            shared.GrainSector = sector;
            return shared.Grain;
        }

        /// <summary>A zlib stream (RFC 1950: 2-byte header, deflate, Adler-32): the header is checked, then deflate is inflated.</summary>
        private int InflateZlib(byte[] input, int length, byte[] output, int outputLength, long grain, uint sector)
        {
            if (length < 2 || (input[0] & 0x0F) != 8 || (input[0] >> 4) > 7 || ((input[0] << 8) | input[1]) % 31 != 0 || (input[1] & 0x20) != 0)
            {
                throw new InvalidImageException(file.Path, $"VMDK compressed grain at sector {sector}", $"grain {grain} does not start with a zlib deflate header.");
            }
            try
            {
                using var source = new MemoryStream(input, 2, length - 2, false);
                using var inflater = new DeflateStream(source, CompressionMode.Decompress);
                int done = 0;
                while (done < outputLength)
                {
                    int n = inflater.Read(output, done, outputLength - done);
                    if (n <= 0)
                    {
                        break;
                    }
                    done += n;
                }
                return done;
            }
            catch (InvalidDataException e)
            {
                throw new InvalidImageException(file.Path, $"VMDK compressed grain at sector {sector}", $"the deflate data of grain {grain} is damaged ({e.Message}).", e);
            }
        }

        public override IEnumerable<ByteRange> AllocatedRanges()
        {
            long grainBytes = header.GrainBytes;
            long grains = (Size + grainBytes - 1) / grainBytes;
            // Grain tables already seen to be empty: a hostile directory naming one empty table many times
            // must not cost one scan per mention (the work stays proportional to the file size).
            var emptyTables = new HashSet<uint>();
            for (long table = 0; table * header.GtesPerGt < grains; table++)
            {
                uint gtSector = DirectoryEntry(table);
                if (gtSector == 0 || emptyTables.Contains(gtSector))
                {
                    continue;
                }
                long last = Math.Min(grains, (table + 1) * header.GtesPerGt);
                bool any = false;
                for (long g = table * header.GtesPerGt; g < last; g++)
                {
                    uint entry = GrainEntry(g);
                    if (entry > 1)
                    {
                        any = true;
                        long start = g * grainBytes;
                        yield return new ByteRange(start, Math.Min(grainBytes, Size - start));
                    }
                }
                if (!any && last - (table * header.GtesPerGt) == header.GtesPerGt && emptyTables.Count < 65536)
                {
                    emptyTables.Add(gtSector);
                }
            }
        }

        public override void Dispose() => file.Dispose();
    }
}
