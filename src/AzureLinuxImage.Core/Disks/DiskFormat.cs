namespace AzureLinuxImage.Disks
{
    /// <summary>Container formats, detected by content.</summary>
    public enum DiskFormat
    {
        /// <summary>A plain sector-by-sector image.</summary>
        Raw,
        /// <summary>Microsoft Virtual Hard Disk (VHD, "conectix").</summary>
        Vhd,
        /// <summary>Microsoft VHDX ("vhdxfile").</summary>
        Vhdx,
        /// <summary>VMware VMDK.</summary>
        Vmdk,
        /// <summary>VirtualBox VDI.</summary>
        Vdi,
        /// <summary>QEMU copy-on-write v2/v3.</summary>
        Qcow2,
    }

    /// <summary>How a container stores its data.</summary>
    public enum DiskVariant
    {
        /// <summary>Every virtual byte has its place in the file (raw, fixed VHD, flat VMDK ...).</summary>
        Fixed,
        /// <summary>Blocks are allocated on first write (dynamic VHD, sparse VMDK, qcow2 ...).</summary>
        Dynamic,
        /// <summary>Only changes over a parent image are stored.</summary>
        Differencing,
    }
}
