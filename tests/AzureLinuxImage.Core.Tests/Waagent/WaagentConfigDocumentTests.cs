using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using AzureLinuxImage.Linux.Waagent;
using Xunit;

namespace AzureLinuxImage.Tests.Waagent
{
    /// <summary>The lossless document: unchanged bytes come back identical; an edit touches only its lines.</summary>
    public class WaagentConfigDocumentTests
    {
        [Theory]
        [InlineData(WaagentFixtures.Debian12)]
        [InlineData(WaagentFixtures.Upstream)]
        [InlineData(WaagentFixtures.HandWritten)]
        public void Unchanged_documents_round_trip_byte_identical(string fixture)
        {
            byte[] bytes = WaagentFixtures.Bytes(fixture);
            Assert.Equal(bytes, WaagentConfig.Parse(bytes, fixture).ToBytes());
        }

        [Fact]
        public void The_real_Debian_root_file_round_trips()
        {
            string root = WaagentFixtures.RequireDebianRoot();
            byte[] bytes = System.IO.File.ReadAllBytes(root + "/etc/waagent.conf");
            Assert.Equal(bytes, WaagentConfig.Parse(bytes, "debian root").ToBytes());
            Assert.Equal(WaagentFixtures.Bytes(WaagentFixtures.Debian12), bytes);
        }

        [Theory]
        [InlineData("")]
        [InlineData("\n")]
        [InlineData("\r\n")]
        [InlineData("A=1")]
        [InlineData("A=1\r")]
        [InlineData("a\rb=c\n\n\r\n")]
        [InlineData("\uFEFF")]
        [InlineData("\uFEFFKey=v\r\nX=y\nlast")]
        public void Edge_documents_round_trip(string text)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(text);
            Assert.Equal(bytes, WaagentConfig.Parse(bytes, "edge").ToBytes());
        }

        [Fact]
        public void Invalid_utf8_bytes_are_kept_and_flagged()
        {
            byte[] bytes = { (byte)'A', (byte)'=', 0xFF, 0xC3, (byte)'\n', (byte)'B', (byte)'=', (byte)'y', (byte)'\n' };
            WaagentConfig doc = WaagentConfig.Parse(bytes, "bad");
            Assert.False(doc.IsValidUtf8);
            Assert.Equal(bytes, doc.ToBytes());
            byte[] edited = doc.With("B", "n").ToBytes();
            Assert.Equal(bytes.Take(5), edited.Take(5));
            WaagentConfigInfo info = WaagentConfigAnalyzer.Analyze(doc, null, "bad");
            Assert.Contains(info.Problems, p => p.Code == "InvalidEncoding" && p.Severity == WaagentProblemSeverity.Error);
        }

        [Fact]
        public void The_agent_s_reading_of_the_hand_written_file()
        {
            // Expected values are what WALinuxAgent 2.7.3's own parser returns for this file (checked against
            // it with python3; WaagentAgentOracleTests repeats that check when the agent's module is present).
            WaagentConfig doc = WaagentConfig.Parse(WaagentFixtures.Bytes(WaagentFixtures.HandWritten), "hand");
            Assert.Equal("waagent", doc.Find("Provisioning.Agent")!.AgentValue);
            Assert.Equal("ext4", doc.Find("ResourceDisk.Filesystem")!.AgentValue);
            Assert.Equal("y", doc.Find("ResourceDisk.Format")!.AgentValue);
            Assert.Equal("n", doc.Find("ResourceDisk.EnableSwap")!.AgentValue);
            Assert.Equal("keep me = as is", doc.Find("My.Custom.Key")!.AgentValue);
            Assert.Equal("300\"", doc.Find("OS.RootDeviceScsiTimeout")!.AgentValue);
            Assert.Equal("mnt/relative", doc.Find("ResourceDisk.MountPoint")!.AgentValue);
            Assert.Equal("Mixed", doc.LineEndings);
            Assert.True(doc.HasByteOrderMark);
            Assert.False(doc.EndsWithNewline);
        }

        [Fact]
        public void Changing_a_value_keeps_spacing_comment_and_CRLF()
        {
            byte[] before = WaagentFixtures.Bytes(WaagentFixtures.HandWritten);
            byte[] after = WaagentConfig.Parse(before, "hand").With("ResourceDisk.EnableSwap", "y").ToBytes();
            int line = WaagentFixtures.LineOf(before, "ResourceDisk.EnableSwap");
            AssertOnlyLinesChanged(before, after, new Dictionary<int, string> { [line] = "ResourceDisk.EnableSwap = y # swap off for now\r\n" });
        }

        [Fact]
        public void A_duplicated_key_changes_on_its_last_line_only()
        {
            byte[] before = WaagentFixtures.Bytes(WaagentFixtures.HandWritten);
            byte[] after = WaagentConfig.Parse(before, "hand").With("ResourceDisk.Filesystem", "xfs").ToBytes();
            AssertOnlyLinesChanged(before, after, new Dictionary<int, string> { [9] = "ResourceDisk.Filesystem = xfs\r\n" });
        }

        [Fact]
        public void Tabs_around_the_equals_sign_are_kept()
        {
            byte[] before = WaagentFixtures.Bytes(WaagentFixtures.HandWritten);
            byte[] after = WaagentConfig.Parse(before, "hand").With("ResourceDisk.Format", "n").ToBytes();
            AssertOnlyLinesChanged(before, after, new Dictionary<int, string> { [5] = "\tResourceDisk.Format\t=\tn\r\n" });
        }

        [Fact]
        public void A_new_key_after_a_last_line_without_newline_keeps_the_file_without_final_newline()
        {
            byte[] before = WaagentFixtures.Bytes(WaagentFixtures.HandWritten);
            byte[] after = WaagentConfig.Parse(before, "hand").With("ResourceDisk.SwapSizeMB", "2048").ToBytes();
            // The last ResourceDisk.* line is the file's last line (15): it gains the file's dominant CRLF and
            // the new line follows it, without a newline, like the original end of the file.
            byte[] expected = before.Concat(Encoding.ASCII.GetBytes("\r\nResourceDisk.SwapSizeMB=2048")).ToArray();
            Assert.Equal(expected, after);
        }

        [Fact]
        public void A_new_key_goes_after_its_section_s_last_key()
        {
            byte[] before = WaagentFixtures.Bytes(WaagentFixtures.Debian12);
            byte[] after = WaagentConfig.Parse(before, "debian").With("ResourceDisk.EnableSwapEncryption", "n").ToBytes();
            int mountOptions = WaagentFixtures.LineOf(before, "ResourceDisk.MountOptions=");
            AssertInserted(before, after, mountOptions, "ResourceDisk.EnableSwapEncryption=n\n");
        }

        [Fact]
        public void A_new_key_of_a_section_without_keys_goes_after_its_commented_out_example()
        {
            byte[] before = WaagentFixtures.Bytes(WaagentFixtures.Upstream);
            WaagentConfig doc = WaagentConfig.Parse(before, "upstream");
            byte[] host = doc.With("HttpProxy.Host", "proxy.example").ToBytes();
            AssertInserted(before, host, WaagentFixtures.LineOf(before, "#HttpProxy.Host="), "HttpProxy.Host=proxy.example\n");
            byte[] port = doc.With("HttpProxy.Port", "3128").ToBytes();
            AssertInserted(before, port, WaagentFixtures.LineOf(before, "#HttpProxy.Port="), "HttpProxy.Port=3128\n");
        }

        [Fact]
        public void A_key_of_an_unknown_section_is_appended()
        {
            byte[] before = WaagentFixtures.Bytes(WaagentFixtures.Upstream);
            byte[] after = WaagentConfig.Parse(before, "upstream").With("Zz.New", "1").ToBytes();
            Assert.Equal(before.Concat(Encoding.ASCII.GetBytes("Zz.New=1\n")).ToArray(), after);
        }

        [Fact]
        public void Removing_a_key_removes_every_line_of_it_and_nothing_else()
        {
            byte[] before = WaagentFixtures.Bytes(WaagentFixtures.HandWritten);
            byte[] after = WaagentConfig.Parse(before, "hand").Without("ResourceDisk.Filesystem").ToBytes();
            List<byte[]> a = WaagentFixtures.RawLines(before);
            a.RemoveAt(8);
            a.RemoveAt(5);
            Assert.Equal(a.SelectMany(x => x).ToArray(), after);
        }

        [Fact]
        public void Setting_the_value_already_read_changes_nothing()
        {
            byte[] before = WaagentFixtures.Bytes(WaagentFixtures.Debian12);
            Assert.Equal(before, WaagentConfig.Parse(before, "debian").With("ResourceDisk.Format", "y").ToBytes());
        }

        [Fact]
        public void Seeded_edits_never_touch_other_lines()
        {
            // 400 cheap cases: a random document of random lines, one random edit; every other line keeps its bytes.
            var random = new Random(9);
            string[] pieces = { "Key", "ResourceDisk.Format", "ResourceDisk.SwapSizeMB", "Logs.Verbose", "#", " ", "\t", "=", "y", "n", "\"", "# c", "\r", "x.y", "None", "é" };
            string[] endings = { "\n", "\r\n", "" };
            for (int c = 0; c < 400; c++)
            {
                var sb = new StringBuilder();
                int lines = random.Next(0, 12);
                for (int l = 0; l < lines; l++)
                {
                    int parts = random.Next(0, 6);
                    for (int p = 0; p < parts; p++)
                    {
                        sb.Append(pieces[random.Next(pieces.Length)]);
                    }
                    sb.Append(l == lines - 1 ? endings[random.Next(3)] : endings[random.Next(2)]);
                }
                byte[] before = Encoding.UTF8.GetBytes(sb.ToString());
                WaagentConfig doc = WaagentConfig.Parse(before, "fuzz");
                Assert.Equal(before, doc.ToBytes());
                string key = new[] { "ResourceDisk.Format", "ResourceDisk.SwapSizeMB", "Logs.Verbose", "Other.Key" }[random.Next(4)];
                WaagentConfig edited = doc.With(key, "v" + c);
                Assert.Equal("v" + c, edited.Find(key)!.AgentValue);
                byte[] after = edited.ToBytes();
                List<byte[]> a = WaagentFixtures.RawLines(before);
                List<byte[]> b = WaagentFixtures.RawLines(after);
                // Every original line (content, ignoring a newline added to the last one) is still there in order,
                // except at most one whose value changed.
                int differing = a.Count(x => !b.Any(y => Strip(y).SequenceEqual(Strip(x))));
                Assert.True(differing <= 1, $"case {c}: {differing} original lines changed");
                Assert.True(b.Count - a.Count <= 1);
            }
        }

        [Fact]
        public void Random_bytes_parse_analyse_and_round_trip_without_crashing()
        {
            // Hostile input: 300 seeded random byte strings (NULs, invalid UTF-8, lone CRs, '=' and '#').
            var random = new Random(17);
            byte[] alphabet = { 0, 0xFF, 0xC3, 0xA9, (byte)'\r', (byte)'\n', (byte)'=', (byte)'#', (byte)' ', (byte)'"', (byte)'y', (byte)'A', (byte)'.', 0xEF, 0xBB, 0xBF };
            for (int c = 0; c < 300; c++)
            {
                var bytes = new byte[random.Next(0, 400)];
                for (int i = 0; i < bytes.Length; i++)
                {
                    bytes[i] = random.Next(3) == 0 ? (byte)random.Next(256) : alphabet[random.Next(alphabet.Length)];
                }
                WaagentConfig doc = WaagentConfig.Parse(bytes, "random");
                Assert.Equal(bytes, doc.ToBytes());
                WaagentConfigInfo info = WaagentConfigAnalyzer.Analyze(doc, null, "random");
                Assert.NotNull(info.Settings);
            }
        }

        [Fact]
        public void A_file_too_large_to_be_waagent_conf_is_a_typed_error()
        {
            using var dir = new AzureLinuxImage.Tests.Infrastructure.TempDirectory();
            string path = dir.File("waagent.conf");
            System.IO.File.WriteAllBytes(path, new byte[WaagentConfig.MaxFileBytes + 1]);
            var e = Assert.Throws<AzureLinuxImage.Errors.AzureLinuxImageException>(() => AzureLinuxImage.Operations.GetWaagentConfig.FromFile(path));
            Assert.Equal("WaagentConfigTooLarge", e.ErrorId);
            var d = Assert.Throws<AzureLinuxImage.Errors.AzureLinuxImageException>(() => AzureLinuxImage.Operations.GetWaagentConfig.FromFile(dir.Path));
            Assert.Equal("NotAFile", d.ErrorId);
        }

        private static byte[] Strip(byte[] line)
        {
            int n = line.Length;
            if (n > 0 && line[n - 1] == '\n')
            {
                n--;
                if (n > 0 && line[n - 1] == '\r')
                {
                    n--;
                }
            }
            return line.Take(n).ToArray();
        }

        /// <summary>Same line count; the listed 1-based lines have exactly the given bytes; every other line is identical.</summary>
        internal static void AssertOnlyLinesChanged(byte[] before, byte[] after, Dictionary<int, string> changed)
        {
            List<byte[]> a = WaagentFixtures.RawLines(before);
            List<byte[]> b = WaagentFixtures.RawLines(after);
            Assert.Equal(a.Count, b.Count);
            for (int i = 0; i < a.Count; i++)
            {
                if (changed.TryGetValue(i + 1, out string? expected))
                {
                    Assert.Equal(Encoding.UTF8.GetBytes(expected), b[i]);
                    Assert.NotEqual(a[i], b[i]);
                }
                else
                {
                    Assert.Equal(a[i], b[i]);
                }
            }
        }

        /// <summary>after = before with one line inserted after 1-based line <paramref name="afterLine"/>.</summary>
        internal static void AssertInserted(byte[] before, byte[] after, int afterLine, string inserted)
        {
            List<byte[]> a = WaagentFixtures.RawLines(before);
            a.Insert(afterLine, Encoding.UTF8.GetBytes(inserted));
            Assert.Equal(a.SelectMany(x => x).ToArray(), after);
        }
    }
}
