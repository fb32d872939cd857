using System;
using System.IO;

namespace AzureLinuxImage.Tests.Infrastructure
{
    /// <summary>Paths inside the repository and the build output, found from the test assembly's location.</summary>
    public static class Repository
    {
        public static string Root { get; } = FindRoot();

        public static string File(string relative) => Path.Combine(Root, relative);

        /// <summary>The folder the cmdlet DLL and its references are copied to (see the test project).</summary>
        public static string ModuleBin => Path.Combine(AppContext.BaseDirectory, "module");

        /// <summary>The azlinux CLI built next to the tests.</summary>
        public static string CliDll => Path.Combine(AppContext.BaseDirectory, "azlinux.dll");

        private static string FindRoot()
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            {
                if (System.IO.File.Exists(Path.Combine(dir.FullName, "AzureLinuxImage.sln")))
                {
                    return dir.FullName;
                }
            }
            throw new InvalidOperationException("AzureLinuxImage.sln not found above " + AppContext.BaseDirectory);
        }
    }
}
