using System;
using System.IO;
using System.Linq;
using AzureLinuxImage.Disks;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Disks
{
    /// <summary>Differencing VHD chains built from the specification in the test (qemu-img cannot make them).</summary>
    public class VhdDifferencingTests
    {
        private const long Size = 12L << 20;

        /// <summary>base (dynamic) ← mid ← top, each layer overwriting parts of the one below, some sectors inside one block only.</summary>
        private static (string Top, byte[] Expected, VhdFixture[] Layers) BuildChain(TempDirectory dir, Action<VhdFixture, int>? locate = null)
        {
            var expected = new byte[Size];
            var layers = new VhdFixture[3];
            string[] names = { "base.vhd", "mid.vhd", "top.vhd" };
            for (int i = 0; i < 3; i++)
            {
                var layer = new VhdFixture(Size);
                if (i > 0)
                {
                    layer.ParentId = layers[i - 1].UniqueId;
                    layer.ParentTimeStamp = layers[i - 1].TimeStamp;
                    layer.ParentName = names[i - 1];
                    if (locate != null)
                    {
                        locate(layer, i);
                    }
                    else
                    {
                        layer.Locators.Add(("W2ru", ".\\" + names[i - 1]));
                        layer.Locators.Add(("W2ku", "C:\\vms\\" + names[i - 1]));
                    }
                }
                var rng = new Random(100 + i);
                for (int k = 0; k < 6; k++)
                {
                    long at = rng.NextInt64(0, (Size / 512) - 64) * 512;
                    layer.Write(at, Files.Random(512 * rng.Next(1, 64), (i * 10) + k));
                }
                layer.Save(dir.File(names[i]));
                layer.ApplyTo(expected);
                layers[i] = layer;
            }
            return (dir.File("top.vhd"), expected, layers);
        }

        [Fact]
        public void A_chain_of_three_reads_each_sector_from_the_right_layer()
        {
            using var dir = new TempDirectory();
            var (top, expected, _) = BuildChain(dir);
            using DiskImage image = DiskImage.Open(top);
            Assert.Equal(DiskVariant.Differencing, image.Variant);
            Assert.Equal(DiskVariant.Differencing, image.Parent!.Variant);
            Assert.Equal(DiskVariant.Dynamic, image.Parent.Parent!.Variant);
            Assert.Equal(expected, Files.ReadAll(image));
            // Unaligned reads across sector and block boundaries.
            var rng = new Random(5);
            for (int i = 0; i < 200; i++)
            {
                long at = rng.NextInt64(0, Size - 10000);
                var buffer = new byte[rng.Next(1, 10000)];
                image.Read(at, buffer, 0, buffer.Length);
                Assert.True(expected.AsSpan((int)at, buffer.Length).SequenceEqual(buffer), $"read at {at}");
            }
        }

        [Fact]
        public void A_chain_converts_to_a_fixed_vhd_with_the_merged_content()
        {
            using var dir = new TempDirectory();
            var (top, expected, _) = BuildChain(dir);
            string before = Files.Sha256(top);
            DiskImageInfo info = ConvertToFixedVhd.Run(top, dir.File("flat.vhd"), false, false, new SilentContext())!;
            Assert.Equal(Size, info.VirtualSize);
            byte[] flat = File.ReadAllBytes(dir.File("flat.vhd"));
            Assert.True(expected.AsSpan().SequenceEqual(flat.AsSpan(0, (int)Size)));
            Assert.Equal(before, Files.Sha256(top));
            DiskImageInfo chainInfo = GetDiskImageInfo.Run(top, new SilentContext());
            Assert.Equal(new[] { dir.File("mid.vhd"), dir.File("base.vhd") }, chainInfo.ParentChain);
        }

        [Fact]
        public void Parents_are_found_by_absolute_locator_or_in_the_same_folder()
        {
            using var dir = new TempDirectory();
            // Absolute Unix-style locator (MacX file URL) for mid, and for top only the parent name: same-folder fallback.
            var (top, expected, _) = BuildChain(dir, (layer, i) =>
            {
                if (i == 1)
                {
                    layer.Locators.Add(("MacX", "file://" + dir.File("base.vhd")));
                }
                else
                {
                    layer.Locators.Add(("W2ku", "D:\\elsewhere\\mid.vhd"));
                }
            });
            using DiskImage image = DiskImage.Open(top);
            Assert.Equal(expected, Files.ReadAll(image));
        }

        [Fact]
        public void A_missing_parent_is_a_typed_error_and_nothing_is_written()
        {
            using var dir = new TempDirectory();
            var (top, _, _) = BuildChain(dir);
            File.Delete(dir.File("base.vhd"));
            var e = Assert.Throws<AzureLinuxImageException>(() => ConvertToFixedVhd.Run(top, dir.File("out.vhd"), false, false, new SilentContext()));
            Assert.Equal("ParentNotFound", e.ErrorId);
            Assert.Contains("mid.vhd", e.Message);
            Assert.False(File.Exists(dir.File("out.vhd")));
        }

        [Fact]
        public void A_parent_with_another_unique_id_is_refused()
        {
            using var dir = new TempDirectory();
            var (top, _, layers) = BuildChain(dir);
            var impostor = new VhdFixture(Size);
            impostor.Save(dir.File("mid.vhd"));
            var e = Assert.Throws<InvalidImageException>(() => DiskImage.Open(top));
            Assert.Equal("VHD parent unique id", e.Structure);
            Assert.Contains(layers[1].UniqueId.ToString(), e.Message);
        }

        [Fact]
        public void A_changed_parent_time_stamp_is_a_warning()
        {
            using var dir = new TempDirectory();
            var child = new VhdFixture(Size) { ParentName = "p.vhd" };
            var parent = new VhdFixture(Size) { TimeStamp = 123 };
            child.ParentId = parent.UniqueId;
            child.ParentTimeStamp = 456;
            parent.Save(dir.File("p.vhd"));
            child.Save(dir.File("c.vhd"));
            using DiskImage image = DiskImage.Open(dir.File("c.vhd"));
            Assert.Contains(image.Warnings, w => w.Contains("time stamp"));
        }

        [Fact]
        public void A_self_referencing_chain_is_refused()
        {
            using var dir = new TempDirectory();
            var loop = new VhdFixture(Size) { ParentName = "loop.vhd" };
            loop.ParentId = loop.UniqueId;
            loop.Save(dir.File("loop.vhd"));
            var e = Assert.Throws<InvalidImageException>(() => DiskImage.Open(dir.File("loop.vhd")));
            Assert.Contains("loops", e.Message);
        }
    }
}
