using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using AzureLinuxImage.Errors;
using AzureLinuxImage.IO;

namespace AzureLinuxImage.FileSystems
{
    /// <summary>
    /// <see cref="IFileSystemWriter"/> over a Linux root that is a folder on this machine (-RootPath). Changes are
    /// held in memory (an overlay the reads see) until <see cref="Commit"/>, which replays them in the order they
    /// were made: files through <see cref="AtomicFileWriter"/> (a temporary file, fsync, rename, keeping owner,
    /// mode, extended attributes and hard links, as Set-WaagentConfig does), directories and links with the owner
    /// and mode asked for. Paths resolve like <see cref="HostDirectoryFileSystem"/>: links inside the root only.
    /// </summary>
    internal sealed class HostDirectoryWriter : FileSystemBase<string>, IFileSystemWriter
    {
        /// <summary>Files written through this writer are configuration-sized; a larger one is refused, not buffered.</summary>
        public const int MaxFileBytes = 64 * 1024 * 1024;

        private readonly string root;
        private readonly Dictionary<string, Staged> staged = new Dictionary<string, Staged>(StringComparer.Ordinal);
        private readonly List<Operation> operations = new List<Operation>();

        public HostDirectoryWriter(string rootPath)
        {
            root = Path.GetFullPath(rootPath).TrimEnd('/');
            if (root.Length == 0)
            {
                root = "/";
            }
            if (!Directory.Exists(root))
            {
                throw new AzureLinuxImageException("RootPathNotFound", ErrorKind.NotFound, $"{root}: the folder does not exist.", root);
            }
        }

        public override string Description => $"folder {root}";

        /// <summary>Told when a file cannot be replaced atomically (hard links).</summary>
        public Action<string>? Warning { get; set; }

        /// <summary>Whether changes are staged and not committed.</summary>
        public bool HasChanges => operations.Count > 0;

        protected override string Root => root;

        private enum Kind
        {
            File,
            Directory,
            Symlink,
            Deleted,
        }

        private sealed class Staged
        {
            public Kind Kind;
            public byte[] Content = Array.Empty<byte>();
            public string? LinkTarget;
            public uint Mode;
            public uint Uid;
            public uint Gid;
            public DateTimeOffset? Modified;

            /// <summary>A directory created after a host entry of that name was deleted: the host's children are gone too.</summary>
            public bool HidesHost;
        }

        private sealed class Operation
        {
            public Operation(Kind kind, string host)
            {
                Type = kind;
                Host = host;
            }

            public Kind Type { get; }
            public string Host { get; }
            public byte[]? Content { get; set; }
            public string? LinkTarget { get; set; }
            public NewItemAttributes? Attributes { get; set; }
            public bool Recursive { get; set; }

            /// <summary>A change of attributes only (SetAttributes): Type is the entry's kind.</summary>
            public bool AttributesOnly { get; set; }
            public uint? Mode { get; set; }
            public uint? Uid { get; set; }
            public uint? Gid { get; set; }
            public DateTimeOffset? Modified { get; set; }
        }

        // ---- reads (FileSystemBase primitives over host + overlay) ----

        protected override FileEntryType TypeOf(string node)
        {
            if (staged.TryGetValue(node, out Staged? s))
            {
                return s.Kind switch
                {
                    Kind.Directory => FileEntryType.Directory,
                    Kind.Symlink => FileEntryType.Symlink,
                    _ => FileEntryType.File,
                };
            }
            if (UnixFileApi.ReadLink(node) != null)
            {
                return FileEntryType.Symlink;
            }
            return Directory.Exists(node) ? FileEntryType.Directory : FileEntryType.File;
        }

        protected override string? Lookup(string directory, string name)
        {
            string child = Child(directory, name);
            if (staged.TryGetValue(child, out Staged? s))
            {
                return s.Kind == Kind.Deleted ? null : child;
            }
            if (HostHidden(directory))
            {
                return null;
            }
            return File.Exists(child) || Directory.Exists(child) || UnixFileApi.ReadLink(child) != null ? child : null;
        }

        protected override IEnumerable<KeyValuePair<string, string>> Children(string directory)
        {
            var names = new SortedDictionary<string, string>(StringComparer.Ordinal);
            if (!HostHidden(directory) && Directory.Exists(directory))
            {
                foreach (string p in Directory.EnumerateFileSystemEntries(directory))
                {
                    names[Path.GetFileName(p)] = p;
                }
            }
            string prefix = directory == "/" ? "/" : directory + "/";
            foreach (KeyValuePair<string, Staged> s in staged)
            {
                if (s.Key.StartsWith(prefix, StringComparison.Ordinal) && s.Key.IndexOf('/', prefix.Length) < 0)
                {
                    string name = s.Key.Substring(prefix.Length);
                    if (s.Value.Kind == Kind.Deleted)
                    {
                        names.Remove(name);
                    }
                    else
                    {
                        names[name] = s.Key;
                    }
                }
            }
            return names.ToList();
        }

        protected override string ReadLinkTarget(string link)
        {
            if (staged.TryGetValue(link, out Staged? s))
            {
                return s.LinkTarget!;
            }
            return UnixFileApi.ReadLink(link)
                ?? throw new AzureLinuxImageException("ReadLinkFailed", ErrorKind.ResourceUnavailable, $"{link}: cannot read the symbolic link.", link);
        }

        protected override FileEntry Describe(string node, string path)
        {
            FileEntryType type = TypeOf(node);
            if (staged.TryGetValue(node, out Staged? s))
            {
                long size = s.Kind == Kind.File ? s.Content.Length : s.Kind == Kind.Symlink ? s.LinkTarget!.Length : 0;
                return new FileEntry(path, type, size, s.Mode, s.Uid, s.Gid, s.Modified ?? DateTimeOffset.UtcNow, s.LinkTarget);
            }
            string? target = type == FileEntryType.Symlink ? UnixFileApi.ReadLink(node) : null;
            long length = type == FileEntryType.File ? new FileInfo(node).Length : target?.Length ?? 0;
            DateTimeOffset? modified = type == FileEntryType.Symlink ? (DateTimeOffset?)null : File.GetLastWriteTimeUtc(node);
            UnixOwnership? own = UnixFileApi.GetOwnershipNoFollow(node);
            return new FileEntry(path, type, length, own?.Mode ?? 0, own?.Uid ?? 0, own?.Gid ?? 0, modified, target);
        }

        protected override Stream OpenContent(string node, string path)
        {
            if (staged.TryGetValue(node, out Staged? s))
            {
                return new MemoryStream(s.Content, false);
            }
            return new FileStream(node, FileMode.Open, FileAccess.Read, FileShare.Read);
        }

        // ---- writes (staged) ----

        public void WriteFile(string path, Stream content, NewItemAttributes? attributes = null)
        {
            string host;
            Staged? existing = null;
            Resolved? r = Resolve(path, true);
            bool exists = r != null;
            if (r != null)
            {
                host = r.Value.Node;
                if (TypeOf(host) != FileEntryType.File)
                {
                    throw new AzureLinuxImageException("NotAFile", ErrorKind.InvalidArgument, $"{Description}: {path} is a {TypeOf(host).ToString().ToLowerInvariant()}, not a regular file.", path);
                }
                staged.TryGetValue(host, out existing);
            }
            else
            {
                host = NewEntryHostPath(path);
            }
            byte[] bytes = ReadAll(content, path);
            FileEntry? before = exists ? Describe(host, path) : null;
            staged[host] = new Staged
            {
                Kind = Kind.File,
                Content = bytes,
                Mode = before?.Mode ?? attributes?.Mode ?? 0x1A4,
                Uid = before?.Uid ?? attributes?.Uid ?? 0,
                Gid = before?.Gid ?? attributes?.Gid ?? 0,
                Modified = exists ? DateTimeOffset.UtcNow : attributes?.Modified ?? DateTimeOffset.UtcNow,
            };
            // Creating keeps the attributes asked for; replacing keeps the original's (AtomicFileWriter copies them).
            operations.Add(new Operation(Kind.File, host) { Content = bytes, Attributes = exists ? null : attributes ?? new NewItemAttributes() });
        }

        public void CreateDirectory(string path, NewItemAttributes? attributes = null)
        {
            if (Resolve(path, false) != null)
            {
                throw new AzureLinuxImageException("ItemExists", ErrorKind.InvalidArgument, $"{Description}: {path} already exists.", path);
            }
            string host = NewEntryHostPath(path);
            NewItemAttributes a = attributes ?? new NewItemAttributes { Mode = 0x1ED }; // 0755
            bool hides = staged.TryGetValue(host, out Staged? previous) && previous.Kind == Kind.Deleted;
            staged[host] = new Staged { Kind = Kind.Directory, Mode = a.Mode, Uid = a.Uid, Gid = a.Gid, Modified = a.Modified, HidesHost = hides };
            operations.Add(new Operation(Kind.Directory, host) { Attributes = a });
        }

        public void CreateSymlink(string path, string target, NewItemAttributes? attributes = null)
        {
            if (string.IsNullOrEmpty(target) || target.IndexOf('\0') >= 0)
            {
                throw new AzureLinuxImageException("InvalidLinkTarget", ErrorKind.InvalidArgument, $"{Description}: {path}: a link target must be non-empty text.", path);
            }
            if (Resolve(path, false) != null)
            {
                throw new AzureLinuxImageException("ItemExists", ErrorKind.InvalidArgument, $"{Description}: {path} already exists.", path);
            }
            string host = NewEntryHostPath(path);
            NewItemAttributes a = attributes ?? new NewItemAttributes { Mode = 0x1FF };
            staged[host] = new Staged { Kind = Kind.Symlink, LinkTarget = target, Mode = 0x1FF, Uid = a.Uid, Gid = a.Gid, Modified = a.Modified };
            operations.Add(new Operation(Kind.Symlink, host) { LinkTarget = target, Attributes = a });
        }

        public void Delete(string path, bool recursive = false)
        {
            Resolved r = Resolve(path, false) ?? throw NotFound(path);
            if (r.Path == "/")
            {
                throw new AzureLinuxImageException("CannotDeleteRoot", ErrorKind.InvalidArgument, $"{Description}: the root cannot be deleted.", path);
            }
            string host = r.Node;
            if (TypeOf(host) == FileEntryType.Directory && !recursive && Children(host).Any())
            {
                throw new AzureLinuxImageException("DirectoryNotEmpty", ErrorKind.InvalidArgument, $"{Description}: {path} is a directory that is not empty.", path);
            }
            string prefix = host + "/";
            foreach (string key in staged.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToList())
            {
                staged.Remove(key);
            }
            staged[host] = new Staged { Kind = Kind.Deleted };
            operations.Add(new Operation(Kind.Deleted, host) { Recursive = recursive });
        }

        public void SetAttributes(string path, uint? mode = null, uint? uid = null, uint? gid = null, DateTimeOffset? modified = null)
        {
            Resolved r = Resolve(path, false) ?? throw NotFound(path);
            if (mode.HasValue && mode.Value > 0xFFF)
            {
                throw new AzureLinuxImageException("InvalidMode", ErrorKind.InvalidArgument, $"{Description}: {path}: mode {Convert.ToString(mode.Value, 8)} has bits beyond 07777.", path);
            }
            string host = r.Node;
            FileEntry e = Describe(host, r.Path);
            if (!staged.TryGetValue(host, out Staged? s))
            {
                s = new Staged
                {
                    Kind = e.Type == FileEntryType.Directory ? Kind.Directory : e.Type == FileEntryType.Symlink ? Kind.Symlink : Kind.File,
                    LinkTarget = e.LinkTarget,
                };
                if (s.Kind == Kind.File)
                {
                    using Stream stream = OpenContent(host, r.Path);
                    s.Content = ReadAll(stream, path);
                }
                s.Mode = e.Mode;
                s.Uid = e.Uid;
                s.Gid = e.Gid;
                s.Modified = e.Modified;
                if (e.Type != FileEntryType.File && e.Type != FileEntryType.Directory && e.Type != FileEntryType.Symlink)
                {
                    throw new AzureLinuxImageException("NotSupported", ErrorKind.NotSupported, $"{Description}: {path}: only files, directories and links can be changed.", path);
                }
                staged[host] = s;
            }
            s.Mode = mode ?? s.Mode;
            s.Uid = uid ?? s.Uid;
            s.Gid = gid ?? s.Gid;
            s.Modified = modified ?? s.Modified;
            operations.Add(new Operation(s.Kind, host) { AttributesOnly = true, Mode = mode, Uid = uid, Gid = gid, Modified = modified });
        }

        public void Commit()
        {
            var writer = new AtomicFileWriter { Warning = Warning };
            foreach (Operation op in operations)
            {
                if (op.AttributesOnly)
                {
                    ApplyAttributes(op);
                    continue;
                }
                switch (op.Type)
                {
                    case Kind.File:
                        writer.Write(op.Host, op.Content!);
                        if (op.Attributes != null)
                        {
                            Apply(op.Host, op.Attributes, link: false);
                        }
                        break;
                    case Kind.Directory:
                        Directory.CreateDirectory(op.Host);
                        Apply(op.Host, op.Attributes!, link: false);
                        break;
                    case Kind.Symlink:
                        if (!UnixFileApi.TryCreateSymlink(op.LinkTarget!, op.Host, out string? error))
                        {
                            throw Failed(op.Host, error!);
                        }
                        Apply(op.Host, op.Attributes!, link: true);
                        break;
                    case Kind.Deleted:
                        DeleteHost(op.Host, op.Recursive);
                        break;
                }
            }
            foreach (string dir in operations.Select(o => Path.GetDirectoryName(o.Host)).Where(d => d != null).Distinct())
            {
                UnixFileApi.SyncDirectory(dir!);
            }
            operations.Clear();
            staged.Clear();
        }

        private static void DeleteHost(string host, bool recursive)
        {
            if (UnixFileApi.ReadLink(host) != null || File.Exists(host))
            {
                File.Delete(host);
            }
            else if (Directory.Exists(host))
            {
                // Directory.Delete removes links to directories inside the tree, never what they point at.
                Directory.Delete(host, recursive);
            }
        }

        private void ApplyAttributes(Operation op)
        {
            bool link = op.Type == Kind.Symlink;
            UnixOwnership? own = UnixFileApi.GetOwnershipNoFollow(op.Host);
            if (own == null)
            {
                return;
            }
            if ((op.Uid.HasValue || op.Gid.HasValue) && !UnixFileApi.TryLchown(op.Host, op.Uid ?? own.Value.Uid, op.Gid ?? own.Value.Gid, out string? error))
            {
                throw Failed(op.Host, error!);
            }
            if (op.Mode.HasValue && !link)
            {
                UnixOwnership now = UnixFileApi.GetOwnershipNoFollow(op.Host) ?? own.Value;
                if (!UnixFileApi.TryApply(op.Host, new UnixOwnership(op.Mode.Value, now.Uid, now.Gid), out error))
                {
                    throw Failed(op.Host, error!);
                }
            }
            if (op.Modified.HasValue && !link)
            {
                if (Directory.Exists(op.Host))
                {
                    Directory.SetLastWriteTimeUtc(op.Host, op.Modified.Value.UtcDateTime);
                }
                else
                {
                    File.SetLastWriteTimeUtc(op.Host, op.Modified.Value.UtcDateTime);
                }
            }
        }

        private static void Apply(string host, NewItemAttributes a, bool link)
        {
            string? error;
            if (link)
            {
                if (!UnixFileApi.TryLchown(host, a.Uid, a.Gid, out error))
                {
                    throw Failed(host, error!);
                }
                return;
            }
            if (!UnixFileApi.TryApply(host, new UnixOwnership(a.Mode, a.Uid, a.Gid), out error))
            {
                throw Failed(host, error!);
            }
            if (a.Modified.HasValue)
            {
                if (Directory.Exists(host))
                {
                    Directory.SetLastWriteTimeUtc(host, a.Modified.Value.UtcDateTime);
                }
                else
                {
                    File.SetLastWriteTimeUtc(host, a.Modified.Value.UtcDateTime);
                }
            }
        }

        private static AzureLinuxImageException Failed(string host, string error) =>
            new AzureLinuxImageException("CommitFailed", ErrorKind.ResourceUnavailable, $"{host}: {error}; the changes before it were written, the rest were not.", host);

        /// <summary>The host path of a new entry: its parent resolved (links followed), the last name appended.</summary>
        private string NewEntryHostPath(string path)
        {
            string trimmed = path.TrimEnd('/');
            int slash = trimmed.LastIndexOf('/');
            string name = trimmed.Substring(slash + 1);
            if (name.Length == 0 || name == "." || name == ".." || slash < 0)
            {
                throw new AzureLinuxImageException("InvalidItemPath", ErrorKind.InvalidArgument, $"{Description}: '{path}' does not name an entry.", path);
            }
            string parentPath = slash == 0 ? "/" : trimmed.Substring(0, slash);
            Resolved parent = Resolve(parentPath, true)
                ?? throw new AzureLinuxImageException("ParentNotFound", ErrorKind.NotFound, $"{Description}: {parentPath} does not exist, so {path} cannot be created.", path);
            if (TypeOf(parent.Node) != FileEntryType.Directory)
            {
                throw new AzureLinuxImageException("NotADirectory", ErrorKind.InvalidArgument, $"{Description}: {parentPath} is not a directory.", path);
            }
            string host = Child(parent.Node, name);
            if (Lookup(parent.Node, name) != null)
            {
                // Only a link whose target does not exist gets here: writing through it would leave the root.
                throw new AzureLinuxImageException("DanglingLink", ErrorKind.InvalidArgument, $"{Description}: {path} is a link to something that does not exist.", path);
            }
            return host;
        }

        private bool HostHidden(string directory)
        {
            // A staged directory (or one under it) that replaced a deleted host entry shows no host children.
            string d = directory;
            while (d.Length >= root.Length)
            {
                if (staged.TryGetValue(d, out Staged? s) && s.Kind == Kind.Directory && s.HidesHost)
                {
                    return true;
                }
                if (d == root)
                {
                    break;
                }
                d = Path.GetDirectoryName(d) ?? root;
            }
            return false;
        }

        private static string Child(string directory, string name) => directory == "/" ? "/" + name : directory + "/" + name;

        private static byte[] ReadAll(Stream content, string path)
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int n;
            while ((n = content.Read(chunk, 0, chunk.Length)) > 0)
            {
                if (buffer.Length + n > MaxFileBytes)
                {
                    throw new AzureLinuxImageException("FileTooLarge", ErrorKind.InvalidArgument, $"{path}: more than {MaxFileBytes / (1024 * 1024)} MiB cannot be staged.", path);
                }
                buffer.Write(chunk, 0, n);
            }
            return buffer.ToArray();
        }
    }
}
