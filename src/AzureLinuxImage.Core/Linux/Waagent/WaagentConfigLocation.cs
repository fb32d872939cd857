using System;
using System.IO;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.IO;

namespace AzureLinuxImage.Linux.Waagent
{
    /// <summary>
    /// Where waagent.conf is read from and written to: a file on this machine, /etc/waagent.conf under a root
    /// folder, or /etc/waagent.conf inside any <see cref="IFileSystem"/> (an image's root view).
    /// </summary>
    internal static class WaagentConfigLocation
    {
        /// <summary>The agent's configuration path (its -configuration-path default).</summary>
        public const string ConfigPathInRoot = "/etc/waagent.conf";

        public static byte[] ReadHostFile(string path)
        {
            string full = System.IO.Path.GetFullPath(path);
            if (Directory.Exists(full))
            {
                throw new AzureLinuxImageException("NotAFile", ErrorKind.InvalidArgument,
                    $"{full} is a folder; give the waagent.conf file, or use -RootPath (--root) for a Linux root folder.", full);
            }
            if (!File.Exists(full))
            {
                throw new AzureLinuxImageException("WaagentConfigNotFound", ErrorKind.NotFound, $"{full} does not exist.", full);
            }
            using var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return ReadBounded(stream, full);
        }

        public static byte[] ReadFromFileSystem(IFileSystem fs)
        {
            FileEntry? entry = fs.GetEntry(ConfigPathInRoot);
            if (entry == null)
            {
                throw new AzureLinuxImageException("WaagentConfigNotFound", ErrorKind.NotFound,
                    $"{fs.Description}: {ConfigPathInRoot} does not exist (is the Azure Linux Agent installed?).", ConfigPathInRoot);
            }
            if (entry.Type != FileEntryType.File)
            {
                throw new AzureLinuxImageException("NotAFile", ErrorKind.InvalidData,
                    $"{fs.Description}: {ConfigPathInRoot} is a {entry.Type.ToString().ToLowerInvariant()}, not a file.", ConfigPathInRoot);
            }
            using Stream stream = fs.OpenRead(ConfigPathInRoot);
            return ReadBounded(stream, fs.Description + ":" + ConfigPathInRoot);
        }

        /// <summary>
        /// The host file to write for /etc/waagent.conf under <paramref name="rootPath"/>. The read view confines
        /// links to the root, but the OS follows them as it likes when writing; so the real path is resolved
        /// here and refused unless it lies inside the root and is the same file the view (and so the VM) reads.
        /// </summary>
        public static string ResolveForWrite(string rootPath)
        {
            string root = System.IO.Path.GetFullPath(rootPath);
            if (!Directory.Exists(root))
            {
                throw new AzureLinuxImageException("RootPathNotFound", ErrorKind.NotFound, $"{root}: the folder does not exist.", root);
            }
            if (!UnixFileApi.IsLinux)
            {
                string plain = System.IO.Path.Combine(root, "etc", "waagent.conf");
                if (!File.Exists(plain))
                {
                    throw new AzureLinuxImageException("WaagentConfigNotFound", ErrorKind.NotFound, $"{plain} does not exist (is the Azure Linux Agent installed in this root?).", plain);
                }
                return plain;
            }
            string realRoot = UnixFileApi.RealPath(root) ?? root;
            string hostPath = realRoot.TrimEnd('/') + ConfigPathInRoot;
            string? real = UnixFileApi.RealPath(hostPath);
            if (real == null)
            {
                if (UnixFileApi.ReadLink(hostPath) is string dangling)
                {
                    throw new AzureLinuxImageException("PathOutsideRoot", ErrorKind.InvalidArgument,
                        $"{hostPath} is a symbolic link to {dangling}, which does not exist on this machine; nothing was written. Edit the file it should point to with -Path.", hostPath);
                }
                throw new AzureLinuxImageException("WaagentConfigNotFound", ErrorKind.NotFound,
                    $"{hostPath} does not exist (is the Azure Linux Agent installed in this root?).", hostPath);
            }
            string prefix = realRoot.EndsWith("/", StringComparison.Ordinal) ? realRoot : realRoot + "/";
            if (!real.StartsWith(prefix, StringComparison.Ordinal))
            {
                throw new AzureLinuxImageException("PathOutsideRoot", ErrorKind.InvalidArgument,
                    $"{hostPath} resolves to {real}, outside the root {realRoot} (a symbolic link leaves it); nothing was written. If that file is really meant, give it with -Path.", hostPath);
            }
            using (var view = new HostDirectoryFileSystem(realRoot))
            {
                FileEntry? seen = view.GetEntry(ConfigPathInRoot);
                string? inView = seen == null ? null : prefix + seen.Path.TrimStart('/');
                if (inView != real)
                {
                    throw new AzureLinuxImageException("PathOutsideRoot", ErrorKind.InvalidArgument,
                        $"{hostPath} is a symbolic link that means {real} on this machine but {seen?.Path ?? "nothing"} inside the root; nothing was written. Edit the intended file with -Path.", hostPath);
                }
            }
            if (Directory.Exists(real))
            {
                throw new AzureLinuxImageException("NotAFile", ErrorKind.InvalidData, $"{real} is a folder, not waagent.conf.", real);
            }
            return real;
        }

        private static byte[] ReadBounded(Stream stream, string source)
        {
            var buffer = new byte[WaagentConfig.MaxFileBytes + 1];
            int total = 0;
            int n;
            while (total < buffer.Length && (n = stream.Read(buffer, total, buffer.Length - total)) > 0)
            {
                total += n;
            }
            if (total > WaagentConfig.MaxFileBytes)
            {
                throw new AzureLinuxImageException("WaagentConfigTooLarge", ErrorKind.InvalidData,
                    $"{source}: more than {WaagentConfig.MaxFileBytes} bytes is not a waagent.conf.", source);
            }
            var result = new byte[total];
            Buffer.BlockCopy(buffer, 0, result, 0, total);
            return result;
        }
    }
}
