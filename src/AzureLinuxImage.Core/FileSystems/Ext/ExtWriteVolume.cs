using System;
using System.Buffers.Binary;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Checksums;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Partitions;

namespace AzureLinuxImage.FileSystems.Ext
{
    /// <summary>
    /// What every part of the ext writer shares: the staged device (the only way bytes are written),
    /// the reader whose caches each write invalidates, the superblock's bytes and its free counts,
    /// and the metadata_csum seed (kernel Documentation/filesystems/ext4/super.rst, checksums.rst).
    /// </summary>
    internal sealed class ExtWriteVolume
    {
        private readonly byte[] superblock = new byte[ExtSuperblock.Size];

        public ExtWriteVolume(StagedBlockDevice device, ExtFileSystem reader)
        {
            Device = device;
            Reader = reader;
            Sb = reader.Superblock;
            BlockSize = Sb.BlockSize;
            device.Read(ExtSuperblock.Offset, superblock, 0, superblock.Length);
            Csum = Sb.HasMetadataChecksums;
            GdtCsum = Sb.HasRoCompat(ExtSuperblock.RoCompatGdtCsum);
        }

        public StagedBlockDevice Device { get; }

        /// <summary>The reader over the staged device; replaced (all caches dropped) when an operation is rolled back.</summary>
        public ExtFileSystem Reader { get; set; }

        public ExtSuperblock Sb { get; }

        public int BlockSize { get; }

        /// <summary>metadata_csum: crc32c on inodes, bitmaps, descriptors, directory and extent blocks.</summary>
        public bool Csum { get; }

        /// <summary>uninit_bg (gdt_csum): crc16 group descriptor checksums.</summary>
        public bool GdtCsum { get; }

        /// <summary>Group descriptors carry a checksum, so the *_UNINIT flags and itable_unused are meaningful.</summary>
        public bool GroupChecksums => Csum || GdtCsum;

        public bool Extents => Sb.HasIncompat(ExtSuperblock.IncompatExtents);

        public bool FileType => Sb.HasIncompat(ExtSuperblock.IncompatFileType);

        public bool Is64Bit => Sb.HasIncompat(ExtSuperblock.Incompat64Bit);

        public bool HugeFile => Sb.HasRoCompat(ExtSuperblock.RoCompatHugeFile);

        public bool DirNlink => Sb.HasRoCompat(0x20);

        public uint FirstInode => Sb.RevLevel == 0 ? 11u : U32(0x54);

        public ushort WantExtraIsize => BinaryPrimitives.ReadUInt16LittleEndian(superblock.AsSpan(0x15E));

        public uint SuperblockFlags => U32(0x160);

        public byte DefaultHashVersion => superblock[0xFC];

        public ReadOnlySpan<byte> HashSeed => superblock.AsSpan(0xEC, 16);

        public ReadOnlySpan<byte> UuidBytes => superblock.AsSpan(0x68, 16);

        public string Where => Device.Description;

        public long FreeBlocks
        {
            get => U32(0x0C) | (Is64Bit ? (long)U32(0x158) << 32 : 0);
            set
            {
                BinaryPrimitives.WriteUInt32LittleEndian(superblock.AsSpan(0x0C), (uint)value);
                if (Is64Bit)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(superblock.AsSpan(0x158), (uint)(value >> 32));
                }
            }
        }

        public uint FreeInodes
        {
            get => U32(0x10);
            set => BinaryPrimitives.WriteUInt32LittleEndian(superblock.AsSpan(0x10), value);
        }

        /// <summary>Stages the superblock (free counts) with its checksum.</summary>
        public void WriteSuperblock(WriteStage stage)
        {
            if (Csum)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(superblock.AsSpan(0x3FC), CrcRegister.Crc32C(0xFFFFFFFFu, superblock.AsSpan(0, 0x3FC)));
            }
            WriteBytes(ExtSuperblock.Offset, superblock, stage);
        }

        public byte[] ReadBlock(long block)
        {
            CheckBlock(block, 1, "block");
            var data = new byte[BlockSize];
            Device.Read(block * BlockSize, data, 0, BlockSize);
            return data;
        }

        public void WriteBlock(long block, ReadOnlySpan<byte> data, WriteStage stage)
        {
            CheckBlock(block, 1, "block");
            if (data.Length != BlockSize)
            {
                throw new ArgumentException("a block write must be one block", nameof(data));
            }
            WriteBytes(block * BlockSize, data, stage);
        }

        /// <summary>The one place bytes are staged: the reader forgets what it cached of them.</summary>
        public void WriteBytes(long offset, ReadOnlySpan<byte> data, WriteStage stage)
        {
            Device.Write(offset, data, stage);
            long first = offset / BlockSize;
            long last = (offset + data.Length - 1) / BlockSize;
            Reader.ForgetBlocks(first, last - first + 1);
        }

        public void CheckBlock(long start, long count, string what)
        {
            if (start < Sb.FirstDataBlock || count < 0 || start > Sb.BlocksCount - count)
            {
                throw Bad(what, $"blocks {start}..{start + count - 1} lie outside the file system's {Sb.BlocksCount} blocks.");
            }
        }

        public InvalidImageException Bad(string structure, string problem) => ExtSuperblock.Bad(Where, structure, problem);

        // ---- metadata_csum (checksums.rst) ----

        public uint Crc(uint state, ReadOnlySpan<byte> data) => CrcRegister.Crc32C(state, data);

        /// <summary>Seed of an inode's checksums (inode, extent blocks, directory blocks): crc32c(fs seed, inode number, generation).</summary>
        public uint InodeSeed(uint inode, uint generation)
        {
            Span<byte> le = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(le, inode);
            uint c = Crc(Sb.ChecksumSeed, le);
            BinaryPrimitives.WriteUInt32LittleEndian(le, generation);
            return Crc(c, le);
        }

        private uint U32(int offset) => BinaryPrimitives.ReadUInt32LittleEndian(superblock.AsSpan(offset));
    }
}
