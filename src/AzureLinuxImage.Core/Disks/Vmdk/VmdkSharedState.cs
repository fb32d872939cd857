using AzureLinuxImage.IO;

namespace AzureLinuxImage.Disks.Vmdk
{
    /// <summary>Buffers and table caches shared by every sparse extent of one VMDK, so memory does not grow with the extent count.</summary>
    internal sealed class VmdkSharedState
    {
        public VmdkSharedState(ImageFile anyFile)
        {
            Directories = new TablePageCache(anyFile, 4096, 4, "VMDK grain directory");
            Tables = new TablePageCache(anyFile, (int)VmdkSparseHeader.MaxGtesPerGt * 4, 16, "VMDK grain table");
        }

        public TablePageCache Directories { get; }
        public TablePageCache Tables { get; }
        public byte[]? Grain { get; set; }
        public byte[]? Compressed { get; set; }
        public ImageFile? GrainFile { get; set; }
        public long GrainSector { get; set; } = -1;
    }
}
