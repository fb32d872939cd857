using System.IO;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Linux;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.Linux.Waagent;

namespace AzureLinuxImage.Operations
{
    /// <summary>
    /// Get-WaagentConfig / azlinux waagent get: reads waagent.conf from a file, a root folder or an image's
    /// file system view and reports every option set or defaulted, with problems and, where the rest of
    /// the system is visible, conflicts with cloud-init (issue 9, R-AGENT-5).
    /// </summary>
    internal static class GetWaagentConfig
    {
        /// <summary>A waagent.conf file on this machine; no conflict checks (the rest of the system is unknown).</summary>
        public static WaagentConfigInfo FromFile(string path)
        {
            string full = Path.GetFullPath(path);
            WaagentConfig doc = WaagentConfig.Parse(WaagentConfigLocation.ReadHostFile(full), full);
            return WaagentConfigAnalyzer.Analyze(doc, null, full, path: full);
        }

        /// <summary>/etc/waagent.conf under a Linux root folder, links confined to the root.</summary>
        public static WaagentConfigInfo FromRoot(string rootPath)
        {
            string root = Path.GetFullPath(rootPath);
            using var fs = new HostDirectoryFileSystem(root);
            return Analyze(fs, rootPath: root, imagePath: null);
        }

        /// <summary>/etc/waagent.conf in a file system view (the image's root, assembled by the caller).</summary>
        public static WaagentConfigInfo FromFileSystem(IFileSystem fs, string imagePath) => Analyze(fs, rootPath: null, imagePath: imagePath);

        /// <summary>
        /// /etc/waagent.conf inside a disk image: the image's Linux root view (partitions, LVM, ext4/XFS,
        /// fstab mounts) from <see cref="LinuxImage"/>.
        /// </summary>
        public static WaagentConfigInfo FromImage(string imagePath)
        {
            string full = Path.GetFullPath(imagePath);
            using LinuxImage image = LinuxImage.Open(full);
            return FromFileSystem(image.RequireFileSystem(), full);
        }

        /// <summary>
        /// Whether <paramref name="path"/> is a text file (waagent.conf) rather than a disk image, by content: a
        /// configuration file holds no NUL byte and is small; every disk image format has NULs in its first KiB.
        /// </summary>
        public static bool IsConfigText(string path)
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.Length > WaagentConfig.MaxFileBytes)
            {
                return false;
            }
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var buffer = new byte[(int)info.Length];
            int total = 0, n;
            while (total < buffer.Length && (n = stream.Read(buffer, total, buffer.Length - total)) > 0)
            {
                total += n;
            }
            return System.Array.IndexOf(buffer, (byte)0, 0, total) < 0;
        }

        /// <summary>The report for a document already in memory, with conflicts when <paramref name="fs"/> is given.</summary>
        internal static WaagentConfigInfo Analyze(WaagentConfig doc, IFileSystem? fs, string configPath, string? path, string? rootPath, string? imagePath) =>
            WaagentConfigAnalyzer.Analyze(doc, fs == null ? null : CloudInitPresence.Inspect(fs), configPath, path, rootPath, imagePath);

        private static WaagentConfigInfo Analyze(IFileSystem fs, string? rootPath, string? imagePath)
        {
            byte[] bytes = WaagentConfigLocation.ReadFromFileSystem(fs);
            WaagentConfig doc = WaagentConfig.Parse(bytes, fs.Description + ":" + WaagentConfigLocation.ConfigPathInRoot);
            return Analyze(doc, fs, WaagentConfigLocation.ConfigPathInRoot, null, rootPath, imagePath);
        }
    }
}
