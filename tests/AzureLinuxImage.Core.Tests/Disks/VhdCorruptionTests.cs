using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;
using AzureLinuxImage.IO;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Disks
{
    /// <summary>Damaged VHDs: typed errors naming the file and the structure, nothing at the destination, the source unchanged.</summary>
    public class VhdCorruptionTests
    {
        private const long Size = 8L << 20;

        private static string Dynamic(TempDirectory dir)
        {
            var v = new VhdFixture(Size);
            v.Write(0, Files.Random(4096, 1));
            v.Write(5 << 20, Files.Random(70000, 2));
            string path = dir.File("d.vhd");
            v.Save(path);
            return path;
        }

        private static void Patch(string path, long offset, Action<byte[]> change, int length = 512)
        {
            using var f = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
            if (offset < 0)
            {
                offset += f.Length;
            }
            var b = new byte[length];
            f.Position = offset;
            f.ReadExactly(b);
            change(b);
            f.Position = offset;
            f.Write(b);
        }

        /// <summary>Runs a conversion that must fail; checks the error, the destination and the source.</summary>
        private static T ConvertFails<T>(TempDirectory dir, string source)
            where T : AzureLinuxImageException
        {
            string before = Files.Sha256(source);
            var e = Assert.Throws<T>(() => ConvertToFixedVhd.Run(source, dir.File("out.vhd"), false, false, new SilentContext()));
            Assert.Equal(source, e.FilePath);
            Assert.Contains(source, e.Message);
            Assert.False(File.Exists(dir.File("out.vhd")));
            Assert.Empty(Directory.GetFiles(dir.Path, "*.partial"));
            Assert.Equal(before, Files.Sha256(source));
            return e;
        }

        [Fact]
        public void A_bad_trailing_checksum_falls_back_to_the_good_copy_with_a_warning()
        {
            using var dir = new TempDirectory();
            string path = Dynamic(dir);
            Patch(path, -512, b => b[100] ^= 0xFF);
            using DiskImage image = DiskImage.Open(path);
            Assert.Contains(image.Warnings, w => w.Contains("damaged"));
            Assert.Equal(Size, image.VirtualSize);
        }

        [Fact]
        public void Both_footers_bad_is_an_error_naming_the_checksum()
        {
            using var dir = new TempDirectory();
            string path = Dynamic(dir);
            Patch(path, -512, b => b[100] ^= 0xFF);
            Patch(path, 0, b => b[100] ^= 0xFF);
            var e = ConvertFails<InvalidImageException>(dir, path);
            Assert.Equal("VHD footer", e.Structure);
            Assert.Contains("checksum", e.Message);
        }

        [Fact]
        public void A_fixed_vhd_with_a_bad_checksum_is_refused()
        {
            using var dir = new TempDirectory();
            string raw = dir.File("r.raw");
            Files.CreateSparse(raw, Size);
            ConvertToFixedVhd.Run(raw, dir.File("f.vhd"), false, false, new SilentContext());
            Patch(dir.File("f.vhd"), -512, b => b[50] ^= 1);
            var e = Assert.Throws<InvalidImageException>(() => DiskImage.Open(dir.File("f.vhd")));
            Assert.Equal("VHD footer", e.Structure);
        }

        [Fact]
        public void A_truncated_dynamic_vhd_names_the_missing_trailing_footer()
        {
            using var dir = new TempDirectory();
            string path = Dynamic(dir);
            using (var f = new FileStream(path, FileMode.Open))
            {
                f.SetLength(f.Length - (1 << 20));
            }
            var e = ConvertFails<InvalidImageException>(dir, path);
            Assert.Equal("VHD footer", e.Structure);
            Assert.Contains("truncated", e.Message);
        }

        [Fact]
        public void A_bat_entry_past_the_end_of_the_file_is_refused()
        {
            using var dir = new TempDirectory();
            string path = Dynamic(dir);
            Patch(path, 512 + 1024, b => BinaryPrimitives.WriteUInt32BigEndian(b, 0x00FFFFF0));
            var e = ConvertFails<InvalidImageException>(dir, path);
            Assert.Equal("BAT entry 0", e.Structure);
        }

        [Fact]
        public void A_bat_entry_pointing_into_metadata_is_refused()
        {
            using var dir = new TempDirectory();
            string path = Dynamic(dir);
            Patch(path, 512 + 1024, b => BinaryPrimitives.WriteUInt32BigEndian(b, 1)); // the dynamic header
            var e = ConvertFails<InvalidImageException>(dir, path);
            Assert.Contains("metadata", e.Message);
        }

        [Fact]
        public void A_huge_size_that_the_table_does_not_cover_is_refused()
        {
            using var dir = new TempDirectory();
            string path = Dynamic(dir);
            foreach (long at in new[] { 0L, -512L })
            {
                Patch(path, at, b =>
                {
                    BinaryPrimitives.WriteUInt64BigEndian(b.AsSpan(48), 1UL << 45);
                    Rechecksum(b, 64);
                });
            }
            var e = ConvertFails<InvalidImageException>(dir, path);
            Assert.Equal("VHD max table entries", e.Structure);
        }

        [Fact]
        public void A_block_size_that_is_not_a_power_of_two_is_refused()
        {
            using var dir = new TempDirectory();
            string path = Dynamic(dir);
            Patch(path, 512, b =>
            {
                BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(32), 3 << 20);
                Rechecksum(b, 36);
            }, 1024);
            var e = ConvertFails<InvalidImageException>(dir, path);
            Assert.Equal("VHD dynamic disk header", e.Structure);
        }

        [Fact]
        public void Seeded_mutations_give_only_typed_errors_or_reads()
        {
            using var dir = new TempDirectory();
            string original = Dynamic(dir);
            byte[] pristine = File.ReadAllBytes(original);
            // Mutate the structures: footer copy, header, BAT, the first block's bitmap, the trailing footer.
            int[] hot = Enumerable.Range(0, 512 + 1024 + 512 + 512).Concat(Enumerable.Range(pristine.Length - 512, 512)).ToArray();
            string path = dir.File("m.vhd");
            File.WriteAllBytes(path, pristine);
            var buffer = new byte[1 << 20];
            int[] at = Array.Empty<int>();
            long cut = pristine.Length;
            FuzzHarness.Run(new FuzzRun("dynamic VHD", 20261122, 5000)
            {
                // Patch a few bytes in place (or cut the file), try everything, then restore: no multi-MiB rewrite per case.
                Mutate = (rng, _) =>
                {
                    at = Enumerable.Range(0, rng.Next(1, 6)).Select(_ => hot[rng.Next(hot.Length)]).Distinct().ToArray();
                    cut = rng.Next(10) == 0 ? rng.Next(1, pristine.Length) : pristine.Length;
                    using var f = new FileStream(path, FileMode.Open, FileAccess.Write);
                    foreach (int p in at)
                    {
                        f.Position = p;
                        f.WriteByte((byte)rng.Next(256));
                    }
                    f.SetLength(cut);
                },
                Exercise = (_, _) =>
                {
                    using DiskImage image = DiskImage.Open(path);
                    foreach (ByteRange r in image.GetAllocatedRanges().Take(64))
                    {
                        int n = (int)Math.Min(r.Length, buffer.Length);
                        image.Read(r.Offset, buffer, 0, n);
                    }
                },
                Restore = () =>
                {
                    using var f = new FileStream(path, FileMode.Open, FileAccess.Write);
                    foreach (int p in at)
                    {
                        f.Position = p;
                        f.WriteByte(pristine[p]);
                    }
                    if (cut < pristine.Length)
                    {
                        f.Position = cut;
                        f.Write(pristine, (int)cut, pristine.Length - (int)cut);
                    }
                },
                Describe = () => $"bytes {string.Join(", ", at)} randomized, cut to {cut} of {pristine.Length}",
                PerCaseTime = TimeSpan.FromSeconds(5),
            });
        }

        private static void Rechecksum(byte[] b, int at)
        {
            uint sum = 0;
            for (int i = 0; i < b.Length; i++)
            {
                sum += i >= at && i < at + 4 ? 0u : b[i];
            }
            BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(at), ~sum);
        }
    }
}
