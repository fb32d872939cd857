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
        /// over <paramref name="dependencyDirectory"/>. Call once per process and folder.
        /// </summary>
        /// <param name="dependencyDirectory">The module's Dependencies folder.</param>
        /// <param name="assemblyNames">The assemblies of that folder the module's own code references.</param>
        public static void Install(string dependencyDirectory, string[] assemblyNames)
        {
            if (!Directory.Exists(dependencyDirectory))
            {
                throw new DirectoryNotFoundException($"The module's dependency folder {dependencyDirectory} is missing: reinstall the module.");
            }
            var context = new DependencyLoadContext(dependencyDirectory);
            AssemblyLoadContext.Default.Resolving += (defaultContext, name) =>
                Array.Exists(assemblyNames, n => string.Equals(name.Name, n, StringComparison.OrdinalIgnoreCase)) ? context.LoadFromAssemblyName(name) : null;
        }
    }
}
