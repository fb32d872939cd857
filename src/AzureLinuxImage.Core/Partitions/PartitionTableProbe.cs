using AzureLinuxImage.Disks;

namespace AzureLinuxImage.Partitions
{
    /// <summary>Tells MBR from GPT from nothing by the first two sectors (UEFI 5.2.3: a protective MBR announces GPT).</summary>
    internal static class PartitionTableProbe
    {
        public static PartitionStyle Detect(DiskImage disk)
        {
            int sector = disk.LogicalSectorSize;
            if (disk.VirtualSize < 2L * sector)
            {
                return PartitionStyle.None;
            }
            var mbr = new byte[sector];
            disk.Read(0, mbr, 0, sector);
            if (!MbrSector.HasSignature(mbr))
            {
                return PartitionStyle.None;
            }
            if (MbrSector.IsProtective(mbr))
            {
                // A protective MBR whose GPT header is damaged is still a GPT disk (the backup may hold it).
                return PartitionStyle.Gpt;
            }
            return PartitionStyle.Mbr;
        }
    }
}
