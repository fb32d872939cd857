using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.Disks.Vhdx
{
    /// <summary>
    /// The metadata region (MS-VHDX 2.6): a 64 KiB table of items, then the items. Reads the system
    /// items this reader needs (2.6.2) and refuses any unknown item marked required.
    /// </summary>
    internal sealed class VhdxMetadata
    {
        public const int TableSize = 64 * 1024;
        public const int MaxEntries = 2047;
        public const int MaxItemLength = 1024 * 1024;
        public const long MaxVirtualSize = 64L * 1024 * 1024 * 1024 * 1024;
        public static readonly Guid FileParametersId = new Guid("CAA16737-FA36-4D43-B3B6-33F0AA44E76B");
        public static readonly Guid VirtualDiskSizeId = new Guid("2FA54224-CD1B-4876-B211-5DBED83BF4B8");
        public static readonly Guid Page83DataId = new Guid("BECA12AB-B2E6-4523-93EF-C309E000C746");
        public static readonly Guid LogicalSectorSizeId = new Guid("8141BF1D-A96F-4709-BA47-F233A8FAAB5F");
        public static readonly Guid PhysicalSectorSizeId = new Guid("CDA348C7-445D-4471-9CC9-E9885251C556");
        public static readonly Guid ParentLocatorId = new Guid("A8D35F2D-B30B-454D-ABF7-D3D84834AB0C");
        private const ulong Signature = 0x617461646174656D; // "metadata"
        private const long OneMiB = 1024 * 1024;

        public uint BlockSize { get; private set; }

        public bool LeaveBlocksAllocated { get; private set; }

        public bool HasParent { get; private set; }

        public long VirtualDiskSize { get; private set; }

        public int LogicalSectorSize { get; private set; }

        public int PhysicalSectorSize { get; private set; }

        public Guid Page83Data { get; private set; }

        /// <summary>Present when <see cref="HasParent"/>.</summary>
        public VhdxParentLocator? ParentLocator { get; private set; }

        /// <summary>Payload blocks in a chunk (2.5): 2^23 sectors per sector-bitmap block.</summary>
        public long ChunkRatio => (1L << 23) * LogicalSectorSize / BlockSize;

        public static VhdxMetadata Read(VhdxFileView file, VhdxRegion region)
        {
            string path = file.Path;
            byte[] table = file.ReadStructure(region.FileOffset, TableSize, "VHDX metadata table");
            if (BinaryPrimitives.ReadUInt64LittleEndian(table) != Signature)
            {
                throw new InvalidImageException(path, "VHDX metadata table", "the signature 'metadata' is missing.");
            }
            int count = BinaryPrimitives.ReadUInt16LittleEndian(table.AsSpan(10));
            if (count > MaxEntries)
            {
                throw new InvalidImageException(path, "VHDX metadata table", $"it claims {count} entries, more than the {MaxEntries} allowed.");
            }

            var seen = new HashSet<(Guid, bool)>();
            var items = new Dictionary<Guid, (long Offset, int Length)>();
            for (int i = 0; i < count; i++)
            {
                ReadOnlySpan<byte> e = table.AsSpan(32 + (i * 32), 32);
                var id = new Guid(e.Slice(0, 16).ToArray());
                uint offset = BinaryPrimitives.ReadUInt32LittleEndian(e.Slice(16));
                uint length = BinaryPrimitives.ReadUInt32LittleEndian(e.Slice(20));
                uint flags = BinaryPrimitives.ReadUInt32LittleEndian(e.Slice(24));
                bool isUser = (flags & 1) != 0;
                bool isRequired = (flags & 4) != 0;
                string structure = $"VHDX metadata entry {i}";
                if (length > MaxItemLength)
                {
                    throw new InvalidImageException(path, structure, $"item {id} is {length} bytes long, more than the 1 MiB allowed.");
                }
                if (length == 0 ? offset != 0 : offset < TableSize || offset > region.Length || length > region.Length - offset)
                {
                    throw new InvalidImageException(path, structure,
                        $"item {id} at offset {offset} with length {length} does not lie inside the metadata region of {region.Length} bytes after its table.");
                }
                if (!seen.Add((id, isUser)))
                {
                    throw new InvalidImageException(path, structure, $"item {id} appears twice.");
                }
                bool known = !isUser && (id == FileParametersId || id == VirtualDiskSizeId || id == Page83DataId
                    || id == LogicalSectorSizeId || id == PhysicalSectorSizeId || id == ParentLocatorId);
                if (known)
                {
                    items[id] = (region.FileOffset + offset, (int)length);
                }
                else if (isRequired)
                {
                    throw new UnsupportedImageException(path,
                        $"VHDX metadata: the {(isUser ? "user" : "system")} item {id} is marked required but is not defined by MS-VHDX v1.0; this file needs a newer reader.");
                }
            }

            var m = new VhdxMetadata();
            byte[] parameters = ReadItem(file, items, FileParametersId, "file parameters", 8);
            m.BlockSize = BinaryPrimitives.ReadUInt32LittleEndian(parameters);
            uint bits = BinaryPrimitives.ReadUInt32LittleEndian(parameters.AsSpan(4));
            m.LeaveBlocksAllocated = (bits & 1) != 0;
            m.HasParent = (bits & 2) != 0;
            if (m.BlockSize < OneMiB || m.BlockSize > 256 * OneMiB || (m.BlockSize & (m.BlockSize - 1)) != 0)
            {
                throw new InvalidImageException(path, "VHDX file parameters block size", $"{m.BlockSize} is not a power of two between 1 MiB and 256 MiB.");
            }

            m.LogicalSectorSize = (int)BinaryPrimitives.ReadUInt32LittleEndian(ReadItem(file, items, LogicalSectorSizeId, "logical sector size", 4));
            if (m.LogicalSectorSize != 512 && m.LogicalSectorSize != 4096)
            {
                throw new InvalidImageException(path, "VHDX logical sector size", $"{(uint)m.LogicalSectorSize} is neither 512 nor 4096.");
            }
            m.PhysicalSectorSize = (int)BinaryPrimitives.ReadUInt32LittleEndian(ReadItem(file, items, PhysicalSectorSizeId, "physical sector size", 4));
            if (m.PhysicalSectorSize != 512 && m.PhysicalSectorSize != 4096)
            {
                throw new InvalidImageException(path, "VHDX physical sector size", $"{(uint)m.PhysicalSectorSize} is neither 512 nor 4096.");
            }
            ulong size = BinaryPrimitives.ReadUInt64LittleEndian(ReadItem(file, items, VirtualDiskSizeId, "virtual disk size", 8));
            if (size == 0 || size > MaxVirtualSize || size % (ulong)m.LogicalSectorSize != 0)
            {
                throw new InvalidImageException(path, "VHDX virtual disk size",
                    $"{size} is not a non-zero multiple of the {m.LogicalSectorSize}-byte logical sector up to 64 TiB.");
            }
            m.VirtualDiskSize = (long)size;
            m.Page83Data = new Guid(ReadItem(file, items, Page83DataId, "page 83 data", 16).AsSpan(0, 16).ToArray());

            if (m.HasParent)
            {
                if (!items.TryGetValue(ParentLocatorId, out (long Offset, int Length) loc))
                {
                    throw new InvalidImageException(path, "VHDX metadata", "the file parameters say the disk has a parent, but there is no parent locator item.");
                }
                byte[] data = file.ReadStructure(loc.Offset, loc.Length, "VHDX parent locator");
                m.ParentLocator = VhdxParentLocator.Parse(path, data);
            }
            return m;
        }

        private static byte[] ReadItem(VhdxFileView file, Dictionary<Guid, (long Offset, int Length)> items, Guid id, string name, int size)
        {
            if (!items.TryGetValue(id, out (long Offset, int Length) item))
            {
                throw new InvalidImageException(file.Path, "VHDX metadata", $"the required {name} item is missing.");
            }
            if (item.Length < size)
            {
                throw new InvalidImageException(file.Path, $"VHDX {name}", $"the item is {item.Length} bytes, {size} are needed.");
            }
            return file.ReadStructure(item.Offset, size, $"VHDX {name}");
        }
    }
}
