using System;
using System.IO;
using System.Reflection;
using System.Runtime.Loader;

namespace AzureLinuxImage.Isolation
{
    /// <summary>
    /// Installed once per process by the AzureLinuxImage module on PowerShell 7: when the default load
    /// context looks for one of the module's isolated assemblies (AzureLinuxImage.Azure, and the libraries
    /// Core uses that other modules also ship, such as System.IO.Hashing — none of them next to the cmdlet
    /// DLL), it gets it from a <see cref="DependencyLoadContext"/> over the Dependencies folder, and so does
    /// everything those reference. The default context asks even when another module loaded an older
    /// version of the same name first.
    /// </summary>
    public static class IsolatedDependencies
    {
        /// <summary>
        /// Hooks the default context's resolution of <paramref name="assemblyNames"/> to a load context
        /// over <paramref name="dependencyDirectory"/>; later calls for the same folder reuse that context.
        /// </summary>
        /// <param name="dependencyDirectory">The module's Dependencies folder.</param>
        /// <param name="assemblyNames">The assemblies of that folder the module's own code references.</param>
        public static void Install(string dependencyDirectory, string[] assemblyNames)
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
                Hook(new DependencyLoadContext(directory), assemblyNames);
            }
        }

        private static void Hook(DependencyLoadContext context, string[] assemblyNames)
        {
            AssemblyLoadContext.Default.Resolving += (defaultContext, name) =>
                Array.Exists(assemblyNames, n => string.Equals(name.Name, n, StringComparison.OrdinalIgnoreCase)) ? context.LoadFromAssemblyName(name) : null;
        }
    }
}
