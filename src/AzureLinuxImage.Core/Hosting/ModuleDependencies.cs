using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;

namespace AzureLinuxImage.Hosting
{
    /// <summary>
    /// Where the module's Azure dependencies load from (issue 8). The module folder holds the cmdlets,
    /// Core and the runtime polyfills Core needs; Dependencies/ holds AzureLinuxImage.Azure, Azure.Core,
    /// Azure.Identity, MSAL and theirs, and the <see cref="CoreLibraries"/>. Other modules (Az.Accounts) ship their own Azure.Core, so ours must not meet
    /// theirs: on PowerShell 7 an AssemblyLoadContext of its own (AzureLinuxImage.Isolation), on Windows
    /// PowerShell 5.1 an AssemblyResolve handler that answers our assemblies' requests from our folders.
    /// </summary>
    internal static class ModuleDependencies
    {
        public const string FolderName = "Dependencies";

        /// <summary>The one assembly of Dependencies/ that the module's own code references.</summary>
        public const string EntryAssembly = "AzureLinuxImage.Azure";

        private const string IsolationAssembly = "AzureLinuxImage.Isolation";

        /// <summary>
        /// Libraries Core itself uses that other modules ship too, at other versions (Az.Storage has its own
        /// System.IO.Hashing): they live in Dependencies/ and load isolated like the Azure SDK, so whichever
        /// module loads first, each gets its own copy.
        /// </summary>
        public static IReadOnlyList<string> CoreLibraries => new[] { "System.IO.Hashing", "ZstdSharp", "K4os.Compression.LZ4" };

        /// <summary>
        /// Called by the module's initializer when Import-Module loads it. A second call (Import-Module -Force)
        /// reuses the load context made for the same folder on PowerShell 7; on 5.1 it only adds a handler
        /// that is never reached, the first one having answered.
        /// </summary>
        public static void Install(string moduleDirectory)
        {
            string dependencies = Path.Combine(moduleDirectory, FolderName);
            if (RuntimeInformation.FrameworkDescription.StartsWith(".NET Framework", StringComparison.Ordinal))
            {
                var resolver = new FrameworkResolver(moduleDirectory, dependencies);
                AppDomain.CurrentDomain.AssemblyResolve += resolver.Resolve;
                return;
            }
            // AssemblyLoadContext cannot be subclassed from netstandard2.0: that part is a net8.0 assembly.
            if (Environment.Version.Major < 8)
            {
                throw new PlatformNotSupportedException($"AzureLinuxImage needs PowerShell 7.4 or later (.NET 8) or Windows PowerShell 5.1; this PowerShell runs on .NET {Environment.Version}.");
            }
            Assembly isolation = Assembly.LoadFrom(Path.Combine(moduleDirectory, IsolationAssembly + ".dll"));
            MethodInfo install = isolation.GetType("AzureLinuxImage.Isolation.IsolatedDependencies", throwOnError: true)!.GetMethod("Install")!;
            try
            {
                install.Invoke(null, new object[] { dependencies, new[] { EntryAssembly }.Concat(CoreLibraries).ToArray() });
            }
            catch (TargetInvocationException e) when (e.InnerException != null)
            {
                throw e.InnerException;
            }
        }

        /// <summary>
        /// The file that answers a request for <paramref name="requested"/>: same name, culture and public
        /// key token, and a version at least the one asked for — what a binding redirect would allow,
        /// which Windows PowerShell cannot give a module. Null when none does.
        /// </summary>
        internal static string? Choose(AssemblyName requested, IEnumerable<KeyValuePair<string, AssemblyName>> files)
        {
            foreach (KeyValuePair<string, AssemblyName> file in files)
            {
                AssemblyName have = file.Value;
                if (string.Equals(have.Name, requested.Name, StringComparison.OrdinalIgnoreCase)
                    && string.Equals(have.CultureName ?? string.Empty, requested.CultureName ?? string.Empty, StringComparison.OrdinalIgnoreCase)
                    && SameToken(requested.GetPublicKeyToken(), have.GetPublicKeyToken())
                    && (requested.Version == null || (have.Version != null && have.Version >= requested.Version)))
                {
                    return file.Key;
                }
            }
            return null;
        }

        private static bool SameToken(byte[]? requested, byte[]? have) =>
            requested == null || requested.Length == 0 || (have != null && requested.SequenceEqual(have));

        /// <summary>Windows PowerShell 5.1: answers requests from the module's own assemblies only.</summary>
        private sealed class FrameworkResolver
        {
            private readonly string moduleDirectory;
            private readonly List<KeyValuePair<string, AssemblyName>> files = new List<KeyValuePair<string, AssemblyName>>();

            public FrameworkResolver(string moduleDirectory, string dependencies)
            {
                this.moduleDirectory = Path.GetFullPath(moduleDirectory).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
                foreach (string dll in Directory.GetFiles(moduleDirectory, "*.dll").Concat(Directory.GetFiles(dependencies, "*.dll")))
                {
                    files.Add(new KeyValuePair<string, AssemblyName>(dll, AssemblyName.GetAssemblyName(dll)));
                }
            }

            public Assembly? Resolve(object? sender, ResolveEventArgs args)
            {
                // Another module's request is that module's to answer, even for a name we also ship.
                string? from = args.RequestingAssembly?.Location;
                if (!string.IsNullOrEmpty(from) && !Path.GetFullPath(from).StartsWith(moduleDirectory, StringComparison.OrdinalIgnoreCase))
                {
                    return null;
                }
                string? path = Choose(new AssemblyName(args.Name), files);
                // LoadFrom: the same file already loaded is returned, and its own references probe its folder.
                return path == null ? null : Assembly.LoadFrom(path);
            }
        }
    }
}
