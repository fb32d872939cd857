using System;
using System.IO;
using System.Reflection;
using System.Runtime.Loader;

namespace AzureLinuxImage.Isolation
{
    /// <summary>
    /// The load context of the module's Azure dependencies on PowerShell 7 (issue 8): AzureLinuxImage.Azure,
    /// Azure.Core, Azure.Identity and MSAL come from the module's Dependencies folder even when another
    /// module (Az.Accounts ships its own Azure.Core) has loaded other versions into the default context.
    /// </summary>
    internal sealed class DependencyLoadContext : AssemblyLoadContext
    {
        private readonly string dependencyDirectory;

        /// <summary>The Dependencies folder this context loads from (full path).</summary>
        public string DependencyDirectory => dependencyDirectory;
        private readonly string runtimeDirectory;

        public DependencyLoadContext(string dependencyDirectory)
            : base("AzureLinuxImage dependencies", isCollectible: false)
        {
            this.dependencyDirectory = dependencyDirectory;
            runtimeDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location) ?? string.Empty;
        }

        protected override Assembly? Load(AssemblyName assemblyName)
        {
            string file = assemblyName.Name + ".dll";
            // The runtime's own assemblies (System.Memory, System.Text.Json …) stay the default context's:
            // types that cross from the module (AzureLinuxImage.Core, in the default context) to its
            // dependencies must be one type, and the Dependencies copies are netstandard2.0 polyfills.
            if (runtimeDirectory.Length > 0 && File.Exists(Path.Combine(runtimeDirectory, file)))
            {
                return null;
            }
            string path = Path.Combine(dependencyDirectory, file);
            // Anything else (AzureLinuxImage.Core and what it needs) comes from the default context.
            return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
        }
    }
}
