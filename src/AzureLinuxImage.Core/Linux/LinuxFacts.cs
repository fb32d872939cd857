using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;

namespace AzureLinuxImage.Linux
{
    /// <summary>A fact group: its value, or why it could not be read (rules then report Unknown).</summary>
    internal sealed class Fact<T>
    {
        private Fact(T? value, string? error)
        {
            Value = value;
            Error = error;
        }

        public T? Value { get; }

        /// <summary>Why the group could not be read; null when it was.</summary>
        public string? Error { get; }

        public bool Known => Error == null;

        public static Fact<T> Of(T? value) => new Fact<T>(value, null);

        public static Fact<T> Failed(string error) => new Fact<T>(default, error);
    }

    /// <summary>Swap outside fstab: swap files and systemd .swap units (AZURE-LINUX.md, "swap").</summary>
    internal sealed record SwapFacts(IReadOnlyList<string> SwapFiles, IReadOnlyList<UnitState> SwapUnits, IReadOnlyList<SourceLine> ResumeSettings);

    /// <summary>
    /// Every fact about one Linux root, each group read on first use and cached; a group that fails to read
    /// (a malformed structure, an I/O error) becomes an error message instead of an exception, so that one bad
    /// file cannot stop the other checks.
    /// </summary>
    internal sealed class LinuxFacts
    {
        private readonly Dictionary<string, object> cache = new Dictionary<string, object>(StringComparer.Ordinal);
        private readonly InitramfsLister initramfsLister;

        public LinuxFacts(IFileSystem root, DiskLayoutFacts? disk = null, InitramfsLister? initramfsLister = null)
        {
            Root = root;
            Disk = disk;
            this.initramfsLister = initramfsLister ?? InitramfsNames.List;
        }

        public IFileSystem Root { get; }

        /// <summary>The disk under the root; null for a root directory (-RootPath).</summary>
        public DiskLayoutFacts? Disk { get; }

        public Fact<OsIdentity> Os => Get(nameof(Os), () => OsIdentity.Read(Root));

        public Fact<ElfArchitecture> Architecture => Get(nameof(Architecture), () => ElfArchitecture.Read(Root));

        public Fact<IReadOnlyList<KernelInfo>> Kernels => Get(nameof(Kernels), () => KernelFacts.Read(Root));

        public Fact<BootConfiguration> Boot => Get(nameof(Boot), () => BootConfiguration.Read(Root));

        public Fact<IReadOnlyList<InitramfsInfo>> Initramfs => Get(nameof(Initramfs), () =>
            InitramfsFacts.Read(Root, Kernels.Value ?? (IReadOnlyList<KernelInfo>)Array.Empty<KernelInfo>(), initramfsLister));

        public Fact<Fstab> Fstab => Get(nameof(Fstab), () => Linux.Fstab.Read(Root));

        public Fact<SystemdUnits> Units => Get(nameof(Units), () => SystemdUnits.Read(Root));

        public Fact<SshdConfig> Sshd => Get(nameof(Sshd), () => SshdConfig.Read(Root));

        public Fact<Sudoers> Sudoers => Get(nameof(Sudoers), () => Linux.Sudoers.Read(Root));

        public Fact<Accounts> Accounts => Get(nameof(Accounts), () => Linux.Accounts.Read(Root));

        public Fact<NetworkConfiguration> Network => Get(nameof(Network), () => NetworkConfiguration.Read(Root, Units.Value));

        public Fact<ModprobeConfig> Modprobe => Get(nameof(Modprobe), () => ModprobeConfig.Read(Root));

        public Fact<ProvisioningAgents> Provisioning => Get(nameof(Provisioning), () =>
            ProvisioningAgents.Read(Root, Units.Value ?? throw new InvalidDataException("systemd units: " + Units.Error)));

        public Fact<SwapFacts> Swap => Get(nameof(Swap), ReadSwap);

        /// <summary>/var/lib/dbus/machine-id: absent, a link, or a file with an id (issue 27 item 3).</summary>
        public Fact<DbusMachineId> DbusMachineId => Get(nameof(DbusMachineId), () => Linux.DbusMachineId.Read(Root));

        /// <summary>The kernel the boot loader starts by default: the default entry's image, else the newest.</summary>
        public KernelInfo? DefaultKernel
        {
            get
            {
                IReadOnlyList<KernelInfo>? kernels = Kernels.Value;
                if (kernels == null || kernels.Count == 0)
                {
                    return null;
                }
                string? image = Boot.Value?.DefaultEntry?.KernelPath;
                if (image != null)
                {
                    string name = image.Substring(image.LastIndexOf('/') + 1);
                    KernelInfo? match = kernels.FirstOrDefault(k => k.ImagePath != null && k.ImagePath.EndsWith("/" + name, StringComparison.Ordinal))
                        ?? kernels.FirstOrDefault(k => image.Contains(k.Version.Text));
                    if (match != null)
                    {
                        return match;
                    }
                }
                return kernels[0];
            }
        }

        /// <summary>True when the root looks like a Linux root (libguestfs: /etc and /bin, and fstab or hosts).</summary>
        public bool LooksLikeLinuxRoot =>
            Root.IsDirectory("/etc") && (Root.Exists("/bin") || Root.Exists("/usr/bin")) && (Root.Exists("/etc/fstab") || Root.Exists("/etc/hosts") || Root.Exists("/etc/os-release"));

        private SwapFacts ReadSwap()
        {
            var files = new[] { "/swapfile", "/swap.img", "/swap", "/var/swap", "/var/swapfile" }.Where(p => Root.IsFile(p)).ToList();
            var units = new List<UnitState>();
            SystemdUnits? u = Units.Value;
            if (u != null)
            {
                foreach (string dir in new[] { "/etc/systemd/system" })
                {
                    foreach (FileEntry e in Root.ListOrEmpty(dir))
                    {
                        if (e.Name.EndsWith(".swap", StringComparison.Ordinal))
                        {
                            UnitState s = u.Get(e.Name);
                            if (!s.Masked)
                            {
                                units.Add(s);
                            }
                        }
                    }
                }
            }
            var resume = new List<SourceLine>();
            foreach (string path in new[] { "/etc/initramfs-tools/conf.d/resume", "/etc/uswsusp.conf" })
            {
                string? text = Root.TryReadText(path, 64 * 1024);
                foreach (KeyValuePair<int, string> line in RootFiles.Lines(text ?? string.Empty))
                {
                    string l = line.Value.Trim();
                    if (l.StartsWith("RESUME=", StringComparison.Ordinal) && l != "RESUME=none" && l.Length > 7)
                    {
                        resume.Add(new SourceLine(path, line.Key));
                    }
                }
            }
            return new SwapFacts(files, units, resume);
        }

        private Fact<T> Get<T>(string name, Func<T?> read)
        {
            if (cache.TryGetValue(name, out object? cached))
            {
                return (Fact<T>)cached;
            }
            Fact<T> fact;
            try
            {
                fact = Fact<T>.Of(read());
            }
            catch (AzureLinuxImageException ex)
            {
                fact = Fact<T>.Failed(ex.Message);
            }
            catch (IOException ex)
            {
                fact = Fact<T>.Failed($"{Root.Description}: {ex.Message}");
            }
            catch (UnauthorizedAccessException ex)
            {
                fact = Fact<T>.Failed($"{Root.Description}: {ex.Message}");
            }
            catch (Exception ex) when (!(ex is OperationCanceledException))
            {
                // One unreadable fact group makes its rules Unknown; it never stops the other checks.
                fact = Fact<T>.Failed($"{Root.Description}: {name} could not be read ({ex.GetType().Name}: {ex.Message}).");
            }
            cache[name] = fact;
            return fact;
        }
    }
}
