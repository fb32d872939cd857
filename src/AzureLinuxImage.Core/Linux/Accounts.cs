using System;
using System.Collections.Generic;
using System.Linq;
using AzureLinuxImage.FileSystems;

namespace AzureLinuxImage.Linux
{
    /// <summary>A user of /etc/passwd.</summary>
    internal sealed record UserAccount(string Name, long Uid, string Home, string Shell, SourceLine Source);

    /// <summary>A file left in a home folder (a key list or a history) with its size.</summary>
    internal sealed record HomeFile(string User, string Path, long Size, int Lines);

    /// <summary>Users, their credentials and traces: passwd/shadow, authorized_keys, shell histories, machine-id.</summary>
    internal sealed class Accounts
    {
        private static readonly string[] HistoryFiles = { ".bash_history", ".zsh_history", ".sh_history", ".ash_history", ".history", ".python_history", ".mysql_history", ".psql_history" };

        public IReadOnlyList<UserAccount> Users { get; private set; } = Array.Empty<UserAccount>();

        /// <summary>Accounts whose shadow entry holds a usable password hash (crypt(5): not empty, not starting with '!' or '*').</summary>
        public IReadOnlyList<SourceLine> UsablePasswords { get; private set; } = Array.Empty<SourceLine>();

        /// <summary>Accounts with an empty password field: they log in without a password.</summary>
        public IReadOnlyList<SourceLine> EmptyPasswords { get; private set; } = Array.Empty<SourceLine>();

        public IReadOnlyList<HomeFile> AuthorizedKeys { get; private set; } = Array.Empty<HomeFile>();

        public IReadOnlyList<HomeFile> Histories { get; private set; } = Array.Empty<HomeFile>();

        /// <summary>Content of /etc/machine-id, trimmed; null when absent.</summary>
        public string? MachineId { get; private set; }

        public bool ShadowFound { get; private set; }

        public static Accounts Read(IFileSystem fs)
        {
            var a = new Accounts();
            var users = new List<UserAccount>();
            string? passwd = fs.TryReadText("/etc/passwd");
            if (passwd != null)
            {
                foreach (KeyValuePair<int, string> line in RootFiles.Lines(passwd))
                {
                    string[] f = line.Value.Split(':');
                    if (f.Length >= 7 && f[0].Length > 0 && long.TryParse(f[2], out long uid))
                    {
                        users.Add(new UserAccount(f[0], uid, f[5], f[6], new SourceLine("/etc/passwd", line.Key)));
                    }
                }
            }
            a.Users = users;
            var usable = new List<SourceLine>();
            var empty = new List<SourceLine>();
            string? shadow = fs.TryReadText("/etc/shadow");
            if (shadow != null)
            {
                a.ShadowFound = true;
                foreach (KeyValuePair<int, string> line in RootFiles.Lines(shadow))
                {
                    string[] f = line.Value.Split(':');
                    if (f.Length < 2 || f[0].Length == 0)
                    {
                        continue;
                    }
                    string hash = f[1];
                    if (hash.Length == 0)
                    {
                        empty.Add(new SourceLine("/etc/shadow", line.Key));
                    }
                    else if (hash[0] != '!' && hash[0] != '*' && hash != "x")
                    {
                        usable.Add(new SourceLine("/etc/shadow", line.Key));
                    }
                }
            }
            a.UsablePasswords = usable;
            a.EmptyPasswords = empty;
            var keys = new List<HomeFile>();
            var histories = new List<HomeFile>();
            var homes = users.Where(u => u.Home.StartsWith("/", StringComparison.Ordinal) && u.Home != "/" && (u.Uid == 0 || u.Uid >= 1000) && u.Uid != 65534)
                .Select(u => (u.Name, u.Home)).ToList();
            if (!homes.Any(h => h.Home == "/root"))
            {
                homes.Add(("root", "/root"));
            }
            foreach (FileEntry e in fs.ListOrEmpty("/home"))
            {
                if (e.Type == FileEntryType.Directory && !homes.Any(h => h.Home == e.Path))
                {
                    homes.Add((e.Name, e.Path));
                }
            }
            foreach ((string user, string home) in homes.Distinct())
            {
                foreach (string name in new[] { ".ssh/authorized_keys", ".ssh/authorized_keys2" })
                {
                    string path = home + "/" + name;
                    string? text = fs.TryReadText(path, 1 << 20);
                    if (text == null)
                    {
                        continue;
                    }
                    int n = RootFiles.Lines(text).Count(l => l.Value.Trim().Length > 0 && !l.Value.TrimStart().StartsWith("#", StringComparison.Ordinal));
                    if (n > 0)
                    {
                        keys.Add(new HomeFile(user, path, text.Length, n));
                    }
                }
                foreach (string name in HistoryFiles)
                {
                    FileEntry? h = fs.GetEntry(home + "/" + name);
                    if (h != null && h.Type == FileEntryType.File && h.Size > 0)
                    {
                        histories.Add(new HomeFile(user, h.Path, h.Size, 0));
                    }
                }
            }
            a.AuthorizedKeys = keys;
            a.Histories = histories;
            a.MachineId = fs.TryReadText("/etc/machine-id", 4096)?.Trim();
            return a;
        }
    }
}
