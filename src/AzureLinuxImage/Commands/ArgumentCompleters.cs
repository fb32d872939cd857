using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Readiness;

namespace AzureLinuxImage.Commands
{
    /// <summary>Tab completion of -Rule and -ExcludeRule: the readiness rule ids, with their titles as tooltips.</summary>
    public sealed class ReadinessRuleCompleter : IArgumentCompleter
    {
        /// <inheritdoc />
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            string prefix = (wordToComplete ?? string.Empty).Trim('\'', '"');
            return ReadinessRules.All
                .Where(r => ReadinessRules.Matches(prefix + "*", r.Id))
                .Select(r => new CompletionResult(r.Id, r.Id, CompletionResultType.ParameterValue, r.Area + ": " + r.Title));
        }
    }

    /// <summary>
    /// Tab completion of -ItemPath: entries inside the image (or root folder) the command names with -Path,
    /// -LiteralPath or -RootPath, not the host's files. Completes the last path segment of the word typed.
    /// </summary>
    public sealed class ImageItemPathCompleter : IArgumentCompleter
    {
        /// <inheritdoc />
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            string word = (wordToComplete ?? string.Empty).Trim('\'', '"');
            if (word.Length == 0)
            {
                word = "/";
            }
            if (!word.StartsWith("/", StringComparison.Ordinal))
            {
                word = "/" + word;
            }
            int slash = word.LastIndexOf('/');
            string directory = slash == 0 ? "/" : word.Substring(0, slash);
            string namePrefix = word.Substring(slash + 1);
            string? image = First(fakeBoundParameters, "LiteralPath") ?? First(fakeBoundParameters, "Path");
            string? root = First(fakeBoundParameters, "RootPath");
            if (image == null && root == null)
            {
                return Array.Empty<CompletionResult>();
            }
            try
            {
                // Relative paths are the session's: completion runs in it, so the current location is the user's.
                string? full = image ?? root;
                string resolved = System.IO.Path.GetFullPath(System.IO.Path.Combine(SessionLocation(), full!));
                return GetLinuxImageItem.Run(image != null ? resolved : null, root != null ? resolved : null, directory, false, new SilentContext())
                    .Where(i => i.Name.StartsWith(namePrefix, StringComparison.Ordinal))
                    .Select(i =>
                    {
                        string text = i.ItemPath + (i.Type == FileSystems.FileEntryType.Directory ? "/" : string.Empty);
                        return new CompletionResult(Quote(text), i.Name, CompletionResultType.ParameterValue, i.ItemPath);
                    })
                    .ToList();
            }
            catch (Exception e) when (e is AzureLinuxImageException || e is System.IO.IOException || e is UnauthorizedAccessException || e is ArgumentException)
            {
                // No completion is better than an error while typing.
                return Array.Empty<CompletionResult>();
            }
        }

        private static string SessionLocation()
        {
            using var ps = PowerShell.Create(RunspaceMode.CurrentRunspace);
            PathInfo? location = ps.AddCommand("Get-Location").Invoke<PathInfo>().FirstOrDefault();
            return location?.ProviderPath ?? Environment.CurrentDirectory;
        }

        private static string Quote(string text) => text.IndexOfAny(new[] { ' ', '\'', '"', '$', '`', '(', ')', '{', '}', ';', ',', '&', '@', '#' }) >= 0
            ? "'" + text.Replace("'", "''") + "'"
            : text;

        private static string? First(IDictionary bound, string name)
        {
            if (!bound.Contains(name))
            {
                return null;
            }
            object? value = bound[name];
            if (value is PSObject ps)
            {
                value = ps.BaseObject;
            }
            return value switch
            {
                string s => s,
                IEnumerable e => e.Cast<object?>().Select(o => o?.ToString()).FirstOrDefault(),
                _ => value?.ToString(),
            };
        }
    }
}
