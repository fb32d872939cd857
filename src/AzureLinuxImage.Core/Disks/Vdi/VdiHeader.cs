using System;
using System.Buffers.Binary;

namespace AzureLinuxImage.Disks.Vdi
{
    /// <summary>VDI image types (VirtualBox VDICore.h, VDI_IMAGE_TYPE_*).</summary>
    internal enum VdiImageType
    {
        Normal = 1,
        Fixed = 2,
        Undo = 3,
        Differencing = 4,
    }

    /// <summary>
    /// The VDI pre-header and version 1.1 header (VirtualBox VDICore.h: VDIPREHEADER + VDIHEADER1), little-endian.
    /// Parsing only; every field that later drives a read or an allocation is range-checked here.
    /// </summary>
    internal sealed class VdiHeader
    {
        public const int Size = 512;
        public const uint Signature = 0xBEDA107F;
        public const uint Version11 = 0x00010001;

        /// <summary>sizeof(VDIHEADER1); VirtualBox 1.1+ adds 16 bytes of LCHS geometry (0x190).</summary>
        public const uint MinHeader1Size = 0x180;

        /// <summary>1 MiB is what VirtualBox and qemu write; 256 MiB bounds the allocation a hostile header can ask for.</summary>
        public const uint MaxBlockSize = 256u << 20;

        public const uint Unallocated = 0xFFFFFFFF;
        public const uint Discarded = 0xFFFFFFFE;

        public uint Version { get; private set; }
        public VdiImageType Type { get; private set; }
        public uint BlockMapOffset { get; private set; }
        public uint DataOffset { get; private set; }
        public long DiskSize { get; private set; }
        public uint BlockSize { get; private set; }
        public uint BlockExtra { get; private set; }
        public uint Blocks { get; private set; }
        public uint BlocksAllocated { get; private set; }
        public Guid ImageId { get; private set; }
        public Guid ModificationId { get; private set; }
        public Guid ParentId { get; private set; }
        public Guid ParentModificationId { get; private set; }

        /// <summary>File offset of the data of block slot <paramref name="slot"/> (a block map value).</summary>
        public long BlockDataOffset(uint slot) => DataOffset + ((long)slot * ((long)BlockExtra + BlockSize)) + BlockExtra;

        public static bool HasSignature(ReadOnlySpan<byte> head) =>
            head.Length >= 68 && BinaryPrimitives.ReadUInt32LittleEndian(head.Slice(64)) == Signature;

        /// <summary>Parses and validates; null with the reason when a field is wrong, <paramref name="unsupported"/> set when valid but not handled.</summary>
        public static VdiHeader? TryParse(ReadOnlySpan<byte> d, out string problem, out bool unsupported)
        {
            problem = string.Empty;
            unsupported = false;
            if (d.Length < Size || !HasSignature(d))
            {
                problem = "the 512-byte header with signature 0xBEDA107F is missing";
                return null;
            }
            var h = new VdiHeader { Version = BinaryPrimitives.ReadUInt32LittleEndian(d.Slice(68)) };
            if (h.Version != Version11)
            {
                unsupported = true;
                problem = $"header version {h.Version >> 16}.{h.Version & 0xFFFF} is not supported (only 1.1, which VirtualBox has written since 2008)";
                return null;
            }
            uint headerSize = BinaryPrimitives.ReadUInt32LittleEndian(d.Slice(72));
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(d.Slice(76));
            h.BlockMapOffset = BinaryPrimitives.ReadUInt32LittleEndian(d.Slice(340));
            h.DataOffset = BinaryPrimitives.ReadUInt32LittleEndian(d.Slice(344));
            uint sectorSize = BinaryPrimitives.ReadUInt32LittleEndian(d.Slice(360));
            ulong diskSize = BinaryPrimitives.ReadUInt64LittleEndian(d.Slice(368));
            h.BlockSize = BinaryPrimitives.ReadUInt32LittleEndian(d.Slice(376));
            h.BlockExtra = BinaryPrimitives.ReadUInt32LittleEndian(d.Slice(380));
            h.Blocks = BinaryPrimitives.ReadUInt32LittleEndian(d.Slice(384));
            h.BlocksAllocated = BinaryPrimitives.ReadUInt32LittleEndian(d.Slice(388));
            h.ImageId = new Guid(d.Slice(392, 16).ToArray());
            h.ModificationId = new Guid(d.Slice(408, 16).ToArray());
            h.ParentId = new Guid(d.Slice(424, 16).ToArray());
            h.ParentModificationId = new Guid(d.Slice(440, 16).ToArray());

            if (headerSize < MinHeader1Size || headerSize > 65536)
            {
                problem = $"header size {headerSize} is not between {MinHeader1Size} and 65536";
                return null;
            }
            if (type < 1 || type > 4)
            {
                problem = $"image type {type} is not 1 (normal), 2 (fixed), 3 (undo) or 4 (differencing)";
                return null;
            }
            h.Type = (VdiImageType)type;
            if (h.Type == VdiImageType.Undo)
            {
                unsupported = true;
                problem = "undo images (type 3, VirtualBox 1.x) are not supported";
                return null;
            }
            if (sectorSize != 512 && sectorSize != 0)
            {
                unsupported = true;
                problem = $"sector size {sectorSize} is not supported (only 512)";
                return null;
            }
            if (h.BlockSize < 512 || h.BlockSize > MaxBlockSize || (h.BlockSize & (h.BlockSize - 1)) != 0)
            {
                problem = $"block size {h.BlockSize} is not a power of two between 512 and {MaxBlockSize}";
                return null;
            }
            if (h.BlockExtra > MaxBlockSize || h.BlockExtra % 512 != 0)
            {
                problem = $"block extra size {h.BlockExtra} is not a multiple of 512 up to {MaxBlockSize}";
                return null;
            }
            if (diskSize > (ulong)h.Blocks * h.BlockSize)
            {
                problem = $"{h.Blocks} blocks of {h.BlockSize} bytes do not cover the disk size {diskSize}";
                return null;
            }
            h.DiskSize = (long)diskSize;
            if (h.Blocks >= Discarded || h.BlocksAllocated > h.Blocks)
            {
                problem = $"{h.BlocksAllocated} allocated of {h.Blocks} blocks is impossible";
                return null;
            }
            if (h.BlockMapOffset < 72 + headerSize || (long)h.DataOffset < (long)h.BlockMapOffset + ((long)h.Blocks * 4))
            {
                problem = $"the block map at {h.BlockMapOffset} ({h.Blocks} entries) overlaps the header or the data area at {h.DataOffset}";
                return null;
            }
            return h;
        }
    }
}
