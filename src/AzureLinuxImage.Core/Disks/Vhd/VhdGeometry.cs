namespace AzureLinuxImage.Disks.Vhd
{
    /// <summary>
    /// CHS geometry as the VHD specification's appendix computes it. Written for old readers only:
    /// the virtual size always comes from the footer's Current Size, never from CHS (R-DISK-3: the
    /// CHS rounding is what breaks qemu-made VHDs' sizes).
    /// </summary>
    internal readonly struct VhdGeometry
    {
        public VhdGeometry(ushort cylinders, byte heads, byte sectorsPerTrack)
        {
            Cylinders = cylinders;
            Heads = heads;
            SectorsPerTrack = sectorsPerTrack;
        }

        public ushort Cylinders { get; }

        public byte Heads { get; }

        public byte SectorsPerTrack { get; }

        public long Capacity => (long)Cylinders * Heads * SectorsPerTrack * 512;

        /// <summary>VHD specification, Appendix "CHS Calculation".</summary>
        public static VhdGeometry FromSize(long sizeBytes)
        {
            long totalSectors = sizeBytes / 512;
            if (totalSectors > 65535L * 16 * 255)
            {
                totalSectors = 65535L * 16 * 255;
            }
            long sectorsPerTrack, heads, cylinderTimesHeads;
            if (totalSectors >= 65535L * 16 * 63)
            {
                sectorsPerTrack = 255;
                heads = 16;
                cylinderTimesHeads = totalSectors / sectorsPerTrack;
            }
            else
            {
                sectorsPerTrack = 17;
                cylinderTimesHeads = totalSectors / sectorsPerTrack;
                heads = (cylinderTimesHeads + 1023) / 1024;
                if (heads < 4)
                {
                    heads = 4;
                }
                if (cylinderTimesHeads >= heads * 1024 || heads > 16)
                {
                    sectorsPerTrack = 31;
                    heads = 16;
                    cylinderTimesHeads = totalSectors / sectorsPerTrack;
                }
                if (cylinderTimesHeads >= heads * 1024)
                {
                    sectorsPerTrack = 63;
                    heads = 16;
                    cylinderTimesHeads = totalSectors / sectorsPerTrack;
                }
            }
            return new VhdGeometry((ushort)(cylinderTimesHeads / heads), (byte)heads, (byte)sectorsPerTrack);
        }
    }
}
