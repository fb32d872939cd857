using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Readiness
{
    /// <summary>
    /// A Linux root folder for the readiness tests: either a hard-linked copy of the real Debian 12 root that
    /// build-debian-image.sh caches (with the same edits the script applies, stock or --azure-ready), or a small
    /// synthetic root. Files are always replaced (unlinked, then written), never written in place, so the cache
    /// behind the hard links is never modified.
    /// </summary>
    public sealed class LinuxRoot : IDisposable
    {
        private readonly TempDirectory temp;

        private LinuxRoot(TempDirectory temp)
        {
            this.temp = temp;
            Path = System.IO.Path.Combine(temp.Path, "root");
        }

        public string Path { get; }

        public string KernelVersion { get; private set; } = string.Empty;

        public string RootUuid { get; private set; } = string.Empty;

        /// <summary>The cached Debian root (DEBIAN_ROOTFS_CACHE or /var/tmp/debian12-rootfs).</summary>
        public static string CachePath => Environment.GetEnvironmentVariable("DEBIAN_ROOTFS_CACHE") ?? "/var/tmp/debian12-rootfs";

        /// <summary>Skips (or fails under CI) when the cache has not been built.</summary>
        public static void RequireDebianCache()
        {
            if (File.Exists(System.IO.Path.Combine(CachePath, ".complete")))
            {
                return;
            }
            string reason = $"The Debian 12 root cache {CachePath} is missing: run build-debian-image.sh (as root) once to create it.";
            if (ExternalTool.InCi)
            {
                Assert.Fail(reason);
            }
            Assert.Skip(reason);
        }

        /// <summary>The Debian root as build-debian-image.sh leaves it in the image, stock or --azure-ready.</summary>
        public static LinuxRoot Debian(bool azureReady)
        {
            RequireDebianCache();
            var r = new LinuxRoot(new TempDirectory());
            ExternalTool.Run("cp", new[] { "-al", CachePath, r.Path });
            r.ApplyBuildScriptEdits(azureReady);
            return r;
        }

        /// <summary>An empty synthetic root with the minimum a Linux root has (/etc, /bin/sh as a real ELF, os-release, fstab).</summary>
        public static LinuxRoot Synthetic()
        {
            var r = new LinuxRoot(new TempDirectory());
            Directory.CreateDirectory(r.Path);
            r.Write("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n");
            r.Write("etc/fstab", "UUID=0b0c3b1e-6f4e-4b8a-9d55-3c8f3f1f2a10 / ext4 defaults 0 1\n");
            Directory.CreateDirectory(r.Full("bin"));
            File.Copy("/bin/sh", r.Full("bin/sh"), true);
            return r;
        }

        private List<Action>? undo;

        /// <summary>
        /// Starts recording changes; disposing the result puts every touched path back as it was. Lets tests share
        /// one copy of the Debian root (copying 14,000 entries costs seconds on a loaded machine).
        /// </summary>
        public IDisposable Change()
        {
            if (undo != null)
            {
                throw new InvalidOperationException("A change is already being recorded.");
            }
            undo = new List<Action>();
            return new Restore(this);
        }

        private sealed class Restore : IDisposable
        {
            private readonly LinuxRoot root;

            public Restore(LinuxRoot root)
            {
                this.root = root;
            }

            public void Dispose()
            {
                List<Action> actions = root.undo!;
                root.undo = null;
                for (int i = actions.Count - 1; i >= 0; i--)
                {
                    actions[i]();
                }
            }
        }

        /// <summary>Records how to put <paramref name="full"/> back before it is replaced or deleted.</summary>
        private void Remember(string full)
        {
            if (undo == null)
            {
                return;
            }
            string? link = new FileInfo(full).LinkTarget;
            if (link != null)
            {
                undo.Add(() => { RemoveAny(full); File.CreateSymbolicLink(full, link); });
            }
            else if (File.Exists(full))
            {
                byte[] bytes = File.ReadAllBytes(full);
                undo.Add(() => { RemoveAny(full); File.WriteAllBytes(full, bytes); });
            }
            else if (!Directory.Exists(full))
            {
                // Created by the test: remove it, and any parent folders it created.
                string? parent = System.IO.Path.GetDirectoryName(full);
                string? firstMissing = null;
                while (parent != null && parent.StartsWith(Path, StringComparison.Ordinal) && !Directory.Exists(parent))
                {
                    firstMissing = parent;
                    parent = System.IO.Path.GetDirectoryName(parent);
                }
                undo.Add(() =>
                {
                    RemoveAny(full);
                    if (firstMissing != null && Directory.Exists(firstMissing))
                    {
                        Directory.Delete(firstMissing, true);
                    }
                });
            }
        }

        private static void RemoveAny(string full)
        {
            if (File.Exists(full) || IsLink(full))
            {
                File.Delete(full);
            }
        }

        public string Full(string relative) => System.IO.Path.Combine(Path, relative.TrimStart('/'));

        public string Read(string relative) => File.ReadAllText(Full(relative));

        /// <summary>Replaces a file: unlink first so that a hard link into the cache is broken, not written through.</summary>
        public void Write(string relative, string content)
        {
            string full = Full(relative);
            Remember(full);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
            if (File.Exists(full) || IsLink(full))
            {
                File.Delete(full);
            }
            File.WriteAllText(full, content);
        }

        public void WriteBytes(string relative, byte[] content)
        {
            string full = Full(relative);
            Remember(full);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
            if (File.Exists(full) || IsLink(full))
            {
                File.Delete(full);
            }
            File.WriteAllBytes(full, content);
        }

        public void Edit(string relative, Func<string, string> change) => Write(relative, change(Read(relative)));

        /// <summary>sed -i 's/^Key=.*/Key=Value/' on a KEY=value file.</summary>
        public void SetKey(string relative, string key, string value) =>
            Edit(relative, t => Regex.Replace(t, "^" + Regex.Escape(key) + "=.*$", key + "=" + value, RegexOptions.Multiline));

        public void Symlink(string relative, string target)
        {
            string full = Full(relative);
            Remember(full);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
            if (File.Exists(full) || IsLink(full))
            {
                File.Delete(full);
            }
            File.CreateSymbolicLink(full, target);
        }

        public void Delete(string relative)
        {
            string full = Full(relative);
            if (Directory.Exists(full) && !IsLink(full))
            {
                if (undo != null)
                {
                    throw new InvalidOperationException("Deleting a folder cannot be undone; delete its files.");
                }
                Directory.Delete(full, true);
                return;
            }
            Remember(full);
            if (File.Exists(full) || IsLink(full))
            {
                File.Delete(full);
            }
        }

        private static bool IsLink(string full) => new FileInfo(full).LinkTarget != null;

        /// <summary>What build-debian-image.sh does to the cached root before making the file system.</summary>
        private void ApplyBuildScriptEdits(bool azureReady)
        {
            Delete(".complete");
            KernelVersion = Directory.GetDirectories(Full("lib/modules")).Select(System.IO.Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal).First()!;
            RootUuid = Guid.NewGuid().ToString();
            string cmdlineDefault = "quiet";
            if (azureReady)
            {
                cmdlineDefault = string.Empty;
                SetKey("etc/default/grub", "GRUB_CMDLINE_LINUX_DEFAULT", "\"\"");
                SetKey("etc/default/grub", "GRUB_CMDLINE_LINUX", "\"console=ttyS0,115200n8 earlyprintk=ttyS0,115200 net.ifnames=0\"");
                Write("etc/network/interfaces.d/eth0", "auto eth0\niface eth0 inet dhcp\n");
                // The script installs eject with dpkg in a chroot; here its files are extracted (new files only,
                // so the hard-linked cache is untouched).
                string deb = ExternalTool.Run("/bin/bash", new[] { Repository.File("tests/fixtures/debian-deb.sh"), "eject" }).StdOut.Trim();
                ExternalTool.Run("dpkg-deb", new[] { "-x", deb, Path });
                SetKey("etc/waagent.conf", "ResourceDisk.EnableSwap", "y");
                SetKey("etc/waagent.conf", "ResourceDisk.SwapSizeMB", "2048");
                SetKey("etc/waagent.conf", "Provisioning.Agent", "waagent");
            }
            Match m = Regex.Match(Read("etc/default/grub"), "^GRUB_CMDLINE_LINUX=\"(.*)\"", RegexOptions.Multiline);
            string cmdlineLinux = m.Success ? m.Groups[1].Value : string.Empty;
            Write("etc/fstab", $"UUID={RootUuid} / ext4 errors=remount-ro 0 1\n");
            Write("etc/hostname", "debian\n");
            Write("boot/grub/grub.cfg",
                "# written the way grub-mkconfig would for this root (it cannot run in a chroot)\n" +
                "set default=0\n" +
                "set timeout=5\n" +
                "menuentry 'Debian GNU/Linux' {\n" +
                $"\tsearch --no-floppy --fs-uuid --set=root {RootUuid}\n" +
                $"\tlinux /boot/vmlinuz-{KernelVersion} root=UUID={RootUuid} ro {cmdlineLinux} {cmdlineDefault}\n" +
                $"\tinitrd /boot/initrd.img-{KernelVersion}\n" +
                "}\n");
        }

        public void Dispose()
        {
            // rm is several times faster than Directory.Delete on a 14,000-entry tree.
            ExternalTool.Run("rm", new[] { "-rf", temp.Path }, check: false);
            temp.Dispose();
        }
    }
}
