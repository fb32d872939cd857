using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.Linux;

namespace AzureLinuxImage.Operations
{
    /// <summary>
    /// A text file inside the image being edited line by line: the original line numbers are kept for the
    /// report, the newline style (LF or CRLF) and a missing final newline are kept, and nothing is written
    /// until <see cref="ImageEditor.Save"/>.
    /// </summary>
    internal sealed class TextFileEdit
    {
        private sealed class Entry
        {
            public Entry(string text, int original)
            {
                Text = text;
                Original = original;
                Before = text;
            }

            public string Text;
            public readonly string Before;
            public readonly int Original;
            public bool Deleted;
        }

        private readonly List<Entry> entries;
        private readonly string newline;
        private readonly bool finalNewline;

        public TextFileEdit(string path, string? text)
        {
            Path = path;
            Exists = text != null;
            text ??= string.Empty;
            newline = text.Contains("\r\n") ? "\r\n" : "\n";
            finalNewline = text.Length == 0 || text.EndsWith("\n", StringComparison.Ordinal);
            string[] lines = text.Length == 0 ? new string[0] : text.Replace("\r\n", "\n").Split('\n');
            int count = finalNewline && lines.Length > 0 ? lines.Length - 1 : lines.Length;
            entries = Enumerable.Range(0, count).Select(i => new Entry(lines[i], i + 1)).ToList();
        }

        public string Path { get; }

        public bool Exists { get; }

        /// <summary>The current lines with their original number (0 for an added line), deleted ones left out.</summary>
        public IEnumerable<(int Index, int Line, string Text)> Lines =>
            entries.Select((e, i) => (i, e.Original, e.Text, e.Deleted)).Where(x => !x.Deleted).Select(x => (x.i, x.Original, x.Text));

        public string this[int index] => entries[index].Text;

        public int Count => entries.Count;

        public void Replace(int index, string text) => entries[index].Text = text;

        public void Delete(int index) => entries[index].Deleted = true;

        /// <summary>Comments a line out the way an admin would ('# ' in front), so the original stays readable.</summary>
        public void CommentOut(int index) => entries[index].Text = "# " + entries[index].Text;

        public void InsertAfter(int index, string text) => entries.Insert(index + 1, new Entry(text, 0) { Text = text });

        public void Append(string text) => entries.Add(new Entry(text, 0));

        /// <summary>The index of original line <paramref name="line"/>, or -1.</summary>
        public int IndexOfLine(int line) => entries.FindIndex(e => e.Original == line);

        public bool Changed => entries.Any(e => e.Deleted || e.Original == 0 || e.Text != e.Before);

        public byte[] ToBytes()
        {
            var sb = new StringBuilder();
            bool first = true;
            foreach (Entry e in entries.Where(e => !e.Deleted))
            {
                if (!first)
                {
                    sb.Append(newline);
                }
                sb.Append(e.Text);
                first = false;
            }
            if (!first && finalNewline)
            {
                sb.Append(newline);
            }
            return Encoding.UTF8.GetBytes(sb.ToString());
        }

        /// <summary>One change per changed, deleted or added line.</summary>
        public IEnumerable<(int Line, string? Before, string? After)> Changes()
        {
            foreach (Entry e in entries)
            {
                if (e.Original == 0 && !e.Deleted)
                {
                    yield return (0, null, e.Text);
                }
                else if (e.Original != 0 && e.Deleted)
                {
                    yield return (e.Original, e.Before, null);
                }
                else if (e.Original != 0 && e.Text != e.Before)
                {
                    yield return (e.Original, e.Before, e.Text);
                }
            }
        }
    }

    /// <summary>
    /// The staged changes of one run over an <see cref="IFileSystemWriter"/> and their report: every edit, creation
    /// and removal goes through here so that what is reported is exactly what is staged.
    /// </summary>
    internal sealed class ImageEditor
    {
        public ImageEditor(IFileSystemWriter writer, string source, string operation)
        {
            Writer = writer;
            Source = source;
            Operation = operation;
        }

        public IFileSystemWriter Writer { get; }

        public string Source { get; }

        public string Operation { get; }

        public List<LinuxImageChange> Changes { get; } = new List<LinuxImageChange>();

        /// <summary>
        /// Runs one staged change; a change the file system refuses (ErrorKind.NotSupported: XFS cannot create files or
        /// grow one in place, for example) is reported NotFixed with the writer's reason and the run goes on, so the
        /// edits that fit are still made. False when refused.
        /// </summary>
        public bool Stage(string? ruleId, string path, Action change)
        {
            try
            {
                change();
                return true;
            }
            catch (AzureLinuxImageException e) when (e.Kind == ErrorKind.NotSupported)
            {
                NotFixed(ruleId ?? Operation, path, 0, "Refused by the image's file system: " + e.Message, "Make this change inside the VM (or on a mounted copy).");
                return false;
            }
        }

        /// <summary>Opens a text file for editing (a missing file edits as empty and is created on save).</summary>
        public TextFileEdit Open(string path) => new TextFileEdit(path, Writer.TryReadText(path, 4 * 1024 * 1024));

        /// <summary>Stages the edited file (when it changed) and reports each changed line.</summary>
        public bool Save(TextFileEdit edit, string? ruleId, string description, NewItemAttributes? attributes = null)
        {
            if (!edit.Changed)
            {
                return false;
            }
            if (!Stage(ruleId, edit.Path, () =>
            {
                using var content = new MemoryStream(edit.ToBytes(), false);
                Writer.WriteFile(edit.Path, content, attributes);
            }))
            {
                return false;
            }
            if (!edit.Exists)
            {
                Changes.Add(Change(ruleId, LinuxImageChangeAction.Created, edit.Path, 0, null, Encoding.UTF8.GetString(edit.ToBytes()).TrimEnd('\n'), description));
                return true;
            }
            foreach ((int line, string? before, string? after) in edit.Changes())
            {
                Changes.Add(Change(ruleId, LinuxImageChangeAction.Edited, edit.Path, line, before, after, description));
            }
            return true;
        }

        /// <summary>Creates (or replaces) a whole file and reports it.</summary>
        public bool WriteFile(string path, string text, string? ruleId, string description, NewItemAttributes? attributes = null)
        {
            string? before = Writer.TryReadText(path, 4 * 1024 * 1024);
            if (!Stage(ruleId, path, () =>
            {
                using var content = new MemoryStream(Encoding.UTF8.GetBytes(text), false);
                Writer.WriteFile(path, content, attributes);
            }))
            {
                return false;
            }
            Changes.Add(Change(ruleId, before == null ? LinuxImageChangeAction.Created : LinuxImageChangeAction.Edited, path, 0, before?.TrimEnd('\n'), text.TrimEnd('\n'), description));
            return true;
        }

        /// <summary>Removes an entry (a link itself, not its target; a directory with its content) and reports it.</summary>
        public bool Remove(string path, string? ruleId, string description)
        {
            FileEntry? e = Writer.GetEntry(path, followLastLink: false);
            if (e == null)
            {
                return false;
            }
            if (!Stage(ruleId, path, () => Writer.Delete(path, recursive: e.Type == FileEntryType.Directory)))
            {
                return false;
            }
            Changes.Add(Change(ruleId, LinuxImageChangeAction.Removed, path, 0,
                e.Type == FileEntryType.Symlink ? "-> " + e.LinkTarget : e.Type == FileEntryType.Directory ? "directory" : $"{e.Size} bytes", null, description));
            return true;
        }

        /// <summary>Empties a file, keeping it (and its owner and mode): for /etc/machine-id, logs.</summary>
        public bool Truncate(string path, string? ruleId, string description)
        {
            FileEntry? e = Writer.GetEntry(path, followLastLink: false);
            if (e == null || e.Type != FileEntryType.File || e.Size == 0)
            {
                return false;
            }
            if (!Stage(ruleId, path, () =>
            {
                using var empty = new MemoryStream(new byte[0], false);
                Writer.WriteFile(path, empty);
            }))
            {
                return false;
            }
            Changes.Add(Change(ruleId, LinuxImageChangeAction.Truncated, path, 0, $"{e.Size} bytes", "0 bytes", description));
            return true;
        }

        public bool CreateSymlink(string path, string target, string? ruleId, string description)
        {
            if (!Stage(ruleId, path, () => Writer.CreateSymlink(path, target)))
            {
                return false;
            }
            Changes.Add(Change(ruleId, LinuxImageChangeAction.Created, path, 0, null, "-> " + target, description));
            return true;
        }

        /// <summary>Creates every missing directory of <paramref name="path"/> (0755 root:root), reporting each.</summary>
        public bool EnsureDirectory(string path, string? ruleId)
        {
            string current = string.Empty;
            foreach (string part in path.Split(new[] { '/' }, StringSplitOptions.RemoveEmptyEntries))
            {
                current += "/" + part;
                FileEntry? e = Writer.GetEntry(current);
                if (e == null)
                {
                    string dir = current;
                    if (!Stage(ruleId, dir, () => Writer.CreateDirectory(dir, new NewItemAttributes { Mode = 0x1ED })))
                    {
                        return false;
                    }
                    Changes.Add(Change(ruleId, LinuxImageChangeAction.Created, current, 0, null, "directory", "Needed by the files below."));
                }
                else if (e.Type != FileEntryType.Directory)
                {
                    throw new AzureLinuxImageException("NotADirectory", ErrorKind.InvalidArgument, $"{Source}: {current} is not a directory.", Source);
                }
            }
            return true;
        }

        public void NotFixed(string ruleId, string? itemPath, int line, string description, string? remediation) =>
            Changes.Add(Change(ruleId, LinuxImageChangeAction.NotFixed, itemPath, line, null, null, description, remediation));

        public LinuxImageChange Change(string? ruleId, LinuxImageChangeAction action, string? path, int line, string? before, string? after, string description, string? remediation = null) =>
            new LinuxImageChange
            {
                Path = Source,
                Operation = Operation,
                RuleId = ruleId,
                Action = action,
                ItemPath = path,
                Line = line,
                Before = before,
                After = after,
                Description = description,
                Remediation = remediation,
            };
    }
}
