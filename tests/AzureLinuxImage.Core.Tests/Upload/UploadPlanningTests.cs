using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using AzureLinuxImage.Azure;
using AzureLinuxImage.Disks.Vhd;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Upload
{
    /// <summary>
    /// Issue 20: zero sectors inside data no longer split the upload. Pages separated by short zero gaps
    /// go in one Put Page of up to 4 MiB; long zero runs are still skipped on a new blob.
    /// </summary>
    public sealed class UploadPlanningTests : IClassFixture<AzuriteFixture>, IDisposable
    {
        private const long MiB = 1024 * 1024;
        private readonly AzuriteFixture azurite;
        private readonly TempDirectory temp = new TempDirectory();

        public UploadPlanningTests(AzuriteFixture azurite)
        {
            this.azurite = azurite;
            azurite.Require();
        }

        public void Dispose() => temp.Dispose();

        [Fact]
        public async Task Data_full_of_zero_sectors_goes_in_few_large_requests_and_long_zero_runs_are_skipped()
        {
            // 12 MiB of data in which every 8th sector is zero (as a file system's data is), a 6 MiB zero
            // run inside an allocated region, then 3 MiB more of the same data.
            string source = temp.File("speckled.raw");
            Files.CreateSparse(source, 64 * MiB + 4096);
            byte[] data = Speckled(12 * (int)MiB, 1);
            Files.WriteAt(source, 2 * MiB + 1536, data);
            Files.WriteAt(source, 14 * MiB + 1536, new byte[6 * MiB]);
            Files.WriteAt(source, 20 * MiB + 1536, Speckled(3 * (int)MiB, 2));
            var (transport, counter) = UploadTestKit.Transport();
            Uri blob = azurite.BlobUrl("speckled.vhd");

            AzureUploadResult result = CopyDiskImageToAzure.Run(source, blob, UploadTestKit.Options(transport), new RecordingContext())!;

            long dataBytes = 15 * MiB;
            int ideal = (int)Math.Ceiling(dataBytes / (4.0 * MiB));
            int pagePuts = counter.Requests.Count(r => r.StartsWith("PUT") && r.Contains("comp=page"));
            // Data requests within 2x of the ideal, plus the footer's.
            Assert.True(pagePuts <= (2 * ideal) + 1, $"{pagePuts} Put Page requests for {dataBytes} data bytes (ideal {ideal})");
            Assert.Equal(pagePuts, result.Requests);
            // The zeros inside the data are sent, the 6 MiB zero run is not.
            Assert.True(counter.PageBytes <= (1.05 * dataBytes) + 512, $"{counter.PageBytes} bytes sent for {dataBytes} of data");
            // (A request never starts with a zero sector: the few at the start of each request are not sent.)
            Assert.True(counter.PageBytes >= dataBytes - 8192, $"{counter.PageBytes} bytes sent");

            string expected = temp.File("speckled-expected.vhd");
            ConvertToFixedVhd.Run(source, expected, force: true, skipAlignment: false, new SilentContext());
            byte[] want = File.ReadAllBytes(expected);
            byte[] got = await UploadTestKit.DownloadAsync(blob);
            Assert.Equal(want.Length, got.Length);
            Assert.True(want.AsSpan(0, want.Length - VhdFooter.Size).SequenceEqual(got.AsSpan(0, got.Length - VhdFooter.Size)), "the blob's data differs from our fixed VHD");
        }

        [Fact]
        public void A_zero_gap_longer_than_the_threshold_splits_the_request_and_is_not_sent()
        {
            string source = temp.File("gap.raw");
            Files.CreateSparse(source, 8 * MiB);
            Files.WriteAt(source, MiB, Files.Random(4096, 3));
            // 64 KiB + 512 of zeros (a hole): one sector longer than the default threshold.
            Files.WriteAt(source, MiB + 4096 + UploadOptions.DefaultMergeGapBytes + 512, Files.Random(4096, 4));
            // 32 KiB of zeros: merged.
            Files.WriteAt(source, MiB + 8192 + UploadOptions.DefaultMergeGapBytes + 512 + (32 * 1024), Files.Random(4096, 5));
            var (transport, counter) = UploadTestKit.Transport();

            AzureUploadResult result = CopyDiskImageToAzure.Run(source, azurite.BlobUrl("gap.vhd"), UploadTestKit.Options(transport), new RecordingContext())!;

            // Two data requests (the second carries 32 KiB of zeros) and the footer.
            Assert.Equal(3, result.Requests);
            Assert.Equal((3 * 4096) + (32 * 1024) + 512, counter.PageBytes);
        }

        private static byte[] Speckled(int length, int seed)
        {
            byte[] b = Files.Random(length, seed);
            for (int sector = 0; sector < length / 512; sector += 8)
            {
                Array.Clear(b, sector * 512, 512);
            }
            return b;
        }
    }
}
