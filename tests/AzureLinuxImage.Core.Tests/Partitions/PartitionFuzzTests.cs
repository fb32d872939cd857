using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using System.Text;
using System.IO.Hashing;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.Partitions;
using AzureLinuxImage.Partitions.Lvm;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Partitions
{
    /// <summary>Seeded mutations of MBR/EBR chains, GPT headers and entries, and LVM2 labels, headers and metadata text.</summary>
    public class PartitionFuzzTests
    {
        private const int Cases = 10_000;

        private static void ExerciseTable(MutatedImage image)
        {
            PartitionTable table = PartitionTable.Read(image);
            foreach (PartitionInfo p in table.Partitions.Take(64))
            {
                FileSystemProbe.Probe(PartitionTable.Open(image, p));
            }
        }

        [Fact]
        public void Mbr_and_ebr_mutations()
        {
            using var tmp = new TempDirectory();
            string disk = tmp.File("mbr.raw");
            PartitionTableTests.Truncate(disk, 16L << 20);
            ExternalTool.Run(ExternalTool.Require("sfdisk", "fdisk"), new[] { "-q", disk },
                stdin: "label: dos\nunit: sectors\nstart=2048, size=4096, type=83\nstart=6144, type=5\nsize=2048, type=83\nsize=2048, type=82\ntype=8e\n");
            var logical = PartitionTableTests.SfdiskJson(disk).Where(p => p.Type != "5").Skip(1).ToList();
            long[] ebrs = logical.Select(p => (p.Start - 2048) * 512).ToArray();
            var image = new MutatedImage(File.ReadAllBytes(disk), "mbr-fuzz");
            Assert.Equal(4, PartitionTable.Read(image).Partitions.Count);
            Fuzz.Run("MBR/EBR", image, Cases, 601, (r, m) =>
            {
                long sector = r.Next(3) == 0 ? 0 : ebrs[r.Next(ebrs.Length)];
                m.Mutate(r, sector + 440, 72);
            }, ExerciseTable);
        }

        [Fact]
        public void Gpt_header_and_entry_mutations_with_and_without_recomputed_crcs()
        {
            using var tmp = new TempDirectory();
            string disk = tmp.File("gpt.raw");
            PartitionTableTests.Truncate(disk, 8L << 20);
            ExternalTool.Run(ExternalTool.Require("sgdisk", "gdisk"), new[] { "-Z", "-o", "-n", "1:2048:+1M", "-t", "1:EF00", "-c", "1:esp", "-n", "2:0:+2M", "-c", "2:root", "-n", "3:0:0", "-t", "3:8E00", disk });
            var image = new MutatedImage(File.ReadAllBytes(disk), "gpt-fuzz");
            Assert.Equal(3, PartitionTable.Read(image).Partitions.Count);
            long last = image.VirtualSize - 512;
            Fuzz.Run("GPT", image, Cases, 701, (r, m) =>
            {
                int where = r.Next(4);
                if (where == 0)
                {
                    m.Mutate(r, 512, 92);
                }
                else if (where == 1)
                {
                    m.Mutate(r, 1024, 3 * 128);
                }
                else if (where == 2)
                {
                    m.Mutate(r, last, 92);
                    m.Mutate(r, 512, 92);
                }
                else
                {
                    m.Mutate(r, 1024 + r.Next(3 * 128), 1);
                    m.Mutate(r, 512 + 24, 68);
                }
                if (r.Next(2) == 0)
                {
                    // Recompute both CRCs over the mutated bytes so the fields behind them get parsed too.
                    byte[] header = m.Region(512, 92);
                    uint count = Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(80)), 128);
                    uint size = Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(84)), 512);
                    m.SetUInt32(512 + 88, Crc32.HashToUInt32(m.Region(1024, (int)(count * size))));
                    header = m.Region(512, 92);
                    header[16] = header[17] = header[18] = header[19] = 0;
                    m.SetUInt32(512 + 16, Crc32.HashToUInt32(header));
                }
            }, ExerciseTable);
        }

        [Fact]
        public void Lvm_label_header_and_metadata_mutations()
        {
            const string uuid = "Fz0aaaBBBBccccDDDDeeeeFFFFgggggg";
            string text = LvmTestWriter.VolumeGroup("vgf", 3, new[] { ("pv0", uuid, 7L) },
                LvmTestWriter.Linear("root", (0, 2, "pv0", 4), (2, 2, "pv0", 0)) + LvmTestWriter.Striped("s", 2, 16, ("pv0", 2)) + LvmTestWriter.ThinPool("t", 1));
            var bytes = new byte[8 << 20];
            using (var ms = new MemoryStream(bytes))
            {
                LvmTestWriter.WritePv(ms, 0, bytes.Length, uuid, text);
            }
            var image = new MutatedImage(bytes, "lvm-fuzz");
            var warnings = new System.Collections.Generic.List<string>();
            var groups = LvmVolumeGroups.Scan(new[] { image.AsDevice() }, warnings);
            Assert.Empty(warnings);
            Assert.Equal(new[] { "root", "s", "t" }, groups.Single().Volumes.Select(v => v.Info.Name));
            int textLength = Encoding.ASCII.GetByteCount(text) + 1;
            long textAt = LvmTestWriter.MdaOffset + 512;
            var sink = new byte[4096];
            Fuzz.Run("LVM2", image, Cases, 801, (r, m) =>
            {
                switch (r.Next(4))
                {
                    case 0:
                        m.Mutate(r, 512, 512);
                        break;
                    case 1:
                        m.Mutate(r, LvmTestWriter.MdaOffset, 64);
                        break;
                    default:
                        // Mutate the text and make every CRC agree, so the parser sees it.
                        m.Mutate(r, textAt, textLength);
                        m.SetUInt32(LvmTestWriter.MdaOffset + 56, LvmTestWriter.Crc(m.Region(textAt, textLength)));
                        m.SetUInt32(LvmTestWriter.MdaOffset, LvmTestWriter.Crc(m.Region(LvmTestWriter.MdaOffset + 4, 508)));
                        break;
                }
            }, m =>
            {
                var w = new System.Collections.Generic.List<string>();
                foreach (LvmVolumeGroup vg in LvmVolumeGroups.Scan(new[] { m.AsDevice() }, w))
                {
                    foreach (var (info, device) in vg.Volumes)
                    {
                        if (device != null && device.Length > 0)
                        {
                            device.Read(0, sink, 0, (int)Math.Min(sink.Length, device.Length));
                            device.Read(device.Length - 1, sink, 0, 1);
                        }
                    }
                }
            });
        }
    }
}
