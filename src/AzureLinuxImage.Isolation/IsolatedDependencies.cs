using System;
using System.IO;
using System.Reflection;
using System.Runtime.Loader;

namespace AzureLinuxImage.Isolation
{
    /// <summary>
    /// Installed once per process by the AzureLinuxImage module on PowerShell 7: when the default load
    /// context looks for the module's entry into its dependencies (AzureLinuxImage.Azure, which is not
    /// next to the cmdlet DLL), it gets it from a <see cref="DependencyLoadContext"/> over the
    /// Dependencies folder, and so does everything that assembly references.
    /// </summary>
    public static class IsolatedDependencies
    {
        /// <summary>
        /// Hooks the default context's resolution of <paramref name="entryAssemblyName"/> to a load context
        /// over <paramref name="dependencyDirectory"/>; later calls for the same folder reuse that context.
        /// </summary>
        /// <param name="dependencyDirectory">The module's Dependencies folder.</param>
        /// <param name="entryAssemblyName">The one assembly the module's own code references in that folder.</param>
        public static void Install(string dependencyDirectory, string entryAssemblyName)
        {
            if (!Directory.Exists(dependencyDirectory))
            {
                throw new DirectoryNotFoundException($"The module's dependency folder {dependencyDirectory} is missing: reinstall the module.");
            }
            string directory = Path.GetFullPath(dependencyDirectory);
            lock (typeof(IsolatedDependencies))
            {
                // Import-Module -Force runs the module initializer again: the context made the first time for this
                // folder (with its Resolving handler) still answers, so a second would only load the SDK twice.
                foreach (AssemblyLoadContext existing in AssemblyLoadContext.All)
                {
                    if (existing is DependencyLoadContext ours && ours.DependencyDirectory == directory)
                    {
                        return;
                    }
                }
                Hook(new DependencyLoadContext(directory), entryAssemblyName);
            }
        }

        private static void Hook(DependencyLoadContext context, string entryAssemblyName)
        {
            AssemblyLoadContext.Default.Resolving += (defaultContext, name) =>
                string.Equals(name.Name, entryAssemblyName, StringComparison.OrdinalIgnoreCase) ? context.LoadFromAssemblyName(name) : null;
        }
    }
}
