using System;
using System.Buffers.Binary;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.FileSystems.Ext
{
    /// <summary>
    /// Which ext file systems the writer changes (super.rst feature flags): an unclean journal, orphans,
    /// errors, or a feature whose structures the writer would have to maintain and does not (quotas,
    /// bigalloc clusters, encryption, casefolding, EA inodes, MMP ...) is refused before anything is staged.
    /// </summary>
    internal static class ExtWriteFeatures
    {
        private const uint IncompatWritable = ExtSuperblock.IncompatFileType | ExtSuperblock.IncompatMetaBg | ExtSuperblock.IncompatExtents |
            ExtSuperblock.Incompat64Bit | ExtSuperblock.IncompatFlexBg | ExtSuperblock.IncompatCsumSeed | ExtSuperblock.IncompatLargeDir |
            ExtSuperblock.IncompatInlineData;

        // sparse_super, large_file, btree_dir (never used), huge_file, gdt_csum, dir_nlink, extra_isize, metadata_csum.
        private const uint RoCompatWritable = 0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x20 | 0x40 | 0x400;

        public static void Check(ExtSuperblock sb, byte[] raw, string where)
        {
            if (sb.HasIncompat(ExtSuperblock.IncompatRecover))
            {
                throw new AzureLinuxImageException("JournalNeedsRecovery", ErrorKind.InvalidData,
                    $"{where}: the ext journal needs recovery (the file system was not unmounted cleanly); it is not changed. Replay it first (e2fsck, or mount and unmount it).", where);
            }
            if ((sb.State & 1) == 0 || (sb.State & 2) != 0)
            {
                throw new AzureLinuxImageException("FileSystemNotClean", ErrorKind.InvalidData,
                    $"{where}: the ext file system is marked {((sb.State & 2) != 0 ? "as having errors" : "as not cleanly unmounted")}; it is not changed. Run e2fsck first.", where);
            }
            if (BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(0xE8)) != 0)
            {
                throw new AzureLinuxImageException("FileSystemNotClean", ErrorKind.InvalidData,
                    $"{where}: the ext file system has orphan inodes waiting to be released; it is not changed. Run e2fsck first.", where);
            }
            uint incompat = sb.FeatureIncompat & ~IncompatWritable;
            uint roCompat = sb.FeatureRoCompat & ~RoCompatWritable;
            if (incompat != 0 || roCompat != 0)
            {
                throw new UnsupportedImageException(where,
                    $"the ext file system uses features the writer does not maintain (incompat 0x{incompat:X}, ro_compat 0x{roCompat:X}: for example MMP, EA inodes, encryption, casefolding, quotas, bigalloc or an orphan file in use); it is not changed.");
            }
        }
    }
}
