using System;
using System.IO;

namespace AzureLinuxImage.Tests.Infrastructure
{
    /// <summary>Paths inside the repository and the build output, found from the test assembly's location.</summary>
    public static class Repository
    {
        public static string Root { get; } = FindRoot();

        public static string File(string relative) => Path.Combine(Root, relative);

        /// <summary>The laid-out module (AzureLinuxImage.dll, Core, Dependencies/, manifest), copied by the test project.</summary>
        public static string ModuleBin => Path.Combine(AppContext.BaseDirectory, "module");

        /// <summary>System.Management.Automation from PowerShellStandard.Library: metadata only, never shipped.</summary>
        public static string AutomationReference => Path.Combine(AppContext.BaseDirectory, "reference", "System.Management.Automation.dll");

        /// <summary>The module's isolated dependencies.</summary>
        public static string ModuleDependencies => Path.Combine(ModuleBin, "Dependencies");

        /// <summary>A stand-in for PowerShell 7 with another Azure.Core (tests/AzureLinuxImage.IsolationHost).</summary>
        public static string IsolationHostDll => Path.Combine(AppContext.BaseDirectory, "isolation-host", "AzureLinuxImage.IsolationHost.dll");

        /// <summary>The Resource Manager test double (tests/AzureLinuxImage.ArmDouble), run as a child process.</summary>
        public static string ArmDoubleDll => Path.Combine(AppContext.BaseDirectory, "arm-double", "AzureLinuxImage.ArmDouble.dll");

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
