using System;
using System.IO;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Linux
{
    /// <summary>
    /// A real Debian 12 disk made by tests/fixtures/build-debian-image.sh once per test class (the
    /// rootfs cache makes it a matter of seconds). AZLI_DEBIAN_IMAGE points at a prebuilt one instead.
    /// </summary>
    public class DebianImageFixture : IDisposable
    {
        private readonly TempDirectory? temp;

        public DebianImageFixture()
            : this(Array.Empty<string>())
        {
        }

        /// <summary>With build-debian-image.sh options (--fs btrfs ...).</summary>
        protected DebianImageFixture(string[] options)
        {
            string? given = Environment.GetEnvironmentVariable("AZLI_DEBIAN_IMAGE");
            if (!string.IsNullOrEmpty(given) && File.Exists(given))
            {
                ImagePath = given;
                return;
            }
            string? script = FindScript();
            if (script == null || Environment.UserName != "root" || ExternalTool.Find("debootstrap") == null)
            {
                Problem = "build-debian-image.sh needs root, debootstrap and the shared scripts folder.";
                return;
            }
            string cache = ExternalTool.DebianRootfsCache;
            if (!File.Exists(Path.Combine(cache, ".complete")) && !ExternalTool.InCi)
            {
                Problem = "the Debian rootfs cache is not built yet (" + cache + ").";
                return;
            }
            temp = new TempDirectory();
            ImagePath = temp.File("debian12.raw");
            var args = new System.Collections.Generic.List<string> { script, ImagePath };
            args.AddRange(options);
            ExternalTool.Run("/bin/bash", args.ToArray(), timeoutSeconds: 900);
        }

        public string? ImagePath { get; }

        public string? Problem { get; }

        public string Require()
        {
            if (ImagePath == null)
            {
                ExternalTool.Unavailable(Problem!);
            }
            return ImagePath!;
        }

        private static string? FindScript()
        {
            string? env = Environment.GetEnvironmentVariable("AZLI_SHARED_SCRIPTS");
            // The project's own copy first (CI builds its rootfs cache with it), then the shared one.
            string own = Repository.File("tests/fixtures/build-debian-image.sh");
            if (File.Exists(own))
            {
                return own;
            }
            foreach (string candidate in new[] { env ?? string.Empty, "/work/shared/scripts" })
            {
                string p = Path.Combine(candidate, "build-debian-image.sh");
                if (candidate.Length > 0 && File.Exists(p))
                {
                    return Path.GetFullPath(p);
                }
            }
            return null;
        }

        public void Dispose() => temp?.Dispose();
    }
}
