namespace AzureLinuxImage.Partitions
{
    /// <summary>How a disk is partitioned.</summary>
    public enum PartitionStyle
    {
        /// <summary>No partition table was found.</summary>
        None,
        /// <summary>A master boot record (BIOS, Generation 1 VMs).</summary>
        Mbr,
        /// <summary>A GUID partition table (UEFI, Generation 2 VMs; Generation 1 with a BIOS boot partition).</summary>
        Gpt,
    }
}
