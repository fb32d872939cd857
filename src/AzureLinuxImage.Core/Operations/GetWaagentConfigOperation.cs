using System.IO;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.Linux.Waagent;

namespace AzureLinuxImage.Operations
{
    /// <summary>
    /// Get-WaagentConfig / azlinux waagent get: reads waagent.conf from a file, a root folder or an image's
    /// file system view and reports every option set or defaulted, with problems and, where the rest of
    /// the system is visible, conflicts with cloud-init (issue 9, R-AGENT-5).
    /// </summary>
    internal static class GetWaagentConfigOperation
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
