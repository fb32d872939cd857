using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using AzureLinuxImage.Hosting;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Surface
{
    /// <summary>
    /// The laid-out module (issue 8): the module folder and Dependencies/ each closed under their
    /// references, no Azure type reachable from the cmdlet DLL, and every reference one that the
    /// runtimes the module supports can answer.
    /// </summary>
    public sealed class ModuleLayoutTests
    {
        private static readonly string[] AzureAssemblies = { "Azure.Core", "Azure.Identity", "Microsoft.Identity.Client", "System.ClientModel", "Azure.Storage.Blobs", "Azure.Storage.Common" };

        private readonly Dictionary<string, AssemblyName> root = Names(Repository.ModuleBin);
        private readonly Dictionary<string, AssemblyName> dependencies = Names(Repository.ModuleDependencies);

        [Fact]
        public void The_module_folder_holds_no_Azure_assembly_and_Dependencies_holds_the_entry()
        {
            Assert.Contains(ModuleDependencies.EntryAssembly, dependencies.Keys);
            Assert.Contains("AzureLinuxImage.Isolation", root.Keys);
            foreach (string azure in AzureAssemblies)
            {
                Assert.DoesNotContain(azure, root.Keys);
                Assert.Contains(azure, dependencies.Keys);
            }
            Assert.Empty(root.Keys.Intersect(dependencies.Keys, StringComparer.OrdinalIgnoreCase));
            Assert.DoesNotContain("System.Management.Automation", root.Keys.Concat(dependencies.Keys));
        }

        [Fact]
        public void The_cmdlet_dll_references_no_Azure_assembly_so_none_loads_outside_the_isolated_context()
        {
            foreach (string file in new[] { "AzureLinuxImage.dll", "AzureLinuxImage.Core.dll" })
            {
                string[] references = References(Path.Combine(Repository.ModuleBin, file)).Select(r => r.Name!).ToArray();
                Assert.Empty(references.Intersect(AzureAssemblies.Concat(new[] { "Azure.Identity", "Microsoft.Identity.Client" })));
            }
            Assert.Contains(ModuleDependencies.EntryAssembly, References(Path.Combine(Repository.ModuleBin, "AzureLinuxImage.dll")).Select(r => r.Name));
        }

        [Fact]
        public void Every_reference_resolves_in_the_platform_the_module_folder_or_for_dependencies_Dependencies()
        {
            ISet<string> platform = NetStandardPlatform();
            platform.Add("System.Management.Automation");
            var problems = new List<string>();
            foreach (string dll in root.Keys.Where(n => n != "AzureLinuxImage.Isolation"))
            {
                Check(dll, Path.Combine(Repository.ModuleBin, dll + ".dll"), platform, root, null, problems);
            }
            foreach (string dll in dependencies.Keys)
            {
                Check(dll, Path.Combine(Repository.ModuleDependencies, dll + ".dll"), platform, root, dependencies, problems);
            }
            Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
        }

        [Fact]
        public void No_reference_asks_a_platform_assembly_newer_than_dotnet_8s_so_PowerShell_74_loads_the_module()
        {
            string refPack = NuGetPackage("microsoft.netcore.app.ref", "8.") + "/ref/net8.0";
            Dictionary<string, AssemblyName> net8 = Names(refPack);
            var problems = new List<string>();
            foreach (string file in Directory.GetFiles(Repository.ModuleBin, "*.dll").Concat(Directory.GetFiles(Repository.ModuleDependencies, "*.dll")))
            {
                foreach (AssemblyName r in References(file))
                {
                    if (net8.TryGetValue(r.Name!, out AssemblyName? have) && r.Version > have.Version)
                    {
                        problems.Add($"{Path.GetFileName(file)} asks {r.Name} {r.Version}; .NET 8 has {have.Version}");
                    }
                }
            }
            Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
        }

        [Fact]
        public void The_module_initializer_is_a_PowerShell_module_assembly_initializer()
        {
            using var metadata = new CmdletMetadata();
            Type initializer = metadata.Module.GetType("AzureLinuxImage.Commands.ModuleInitializer", throwOnError: true)!;
            Assert.Contains(initializer.GetInterfaces(), i => i.FullName == "System.Management.Automation.IModuleAssemblyInitializer");
        }

        [Fact]
        public void On_Windows_PowerShell_a_request_is_answered_by_the_same_strong_name_at_an_equal_or_newer_version()
        {
            var files = root.Concat(dependencies).Select(p => new KeyValuePair<string, AssemblyName>(p.Key, p.Value)).ToList();
            AssemblyName memory = root["System.Memory"];
            AssemblyName older = Copy(memory, new Version(4, 0, 1, 2));
            AssemblyName newer = Copy(memory, new Version(memory.Version!.Major, memory.Version.Minor, memory.Version.Build, memory.Version.Revision + 1));
            AssemblyName otherKey = Copy(memory, memory.Version!);
            otherKey.SetPublicKeyToken(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 });

            Assert.Equal("System.Memory", ModuleDependencies.Choose(older, files));
            Assert.Equal("System.Memory", ModuleDependencies.Choose(memory, files));
            Assert.Null(ModuleDependencies.Choose(newer, files));
            Assert.Null(ModuleDependencies.Choose(otherKey, files));
            Assert.Null(ModuleDependencies.Choose(new AssemblyName("Not.Shipped, Version=1.0.0.0"), files));
            Assert.Equal("Azure.Core", ModuleDependencies.Choose(Copy(dependencies["Azure.Core"], new Version(1, 38, 0, 0)), files));
            // Every reference between the module's own assemblies is one the handler can answer.
            foreach (string file in Directory.GetFiles(Repository.ModuleBin, "*.dll").Concat(Directory.GetFiles(Repository.ModuleDependencies, "*.dll")))
            {
                foreach (AssemblyName r in References(file).Where(r => root.ContainsKey(r.Name!) || dependencies.ContainsKey(r.Name!)))
                {
                    Assert.True(ModuleDependencies.Choose(r, files) != null, $"{Path.GetFileName(file)} asks {r.FullName}, which nothing in the module answers");
                }
            }
        }

        private static void Check(string name, string path, ISet<string> platform, Dictionary<string, AssemblyName> root, Dictionary<string, AssemblyName>? dependencies, List<string> problems)
        {
            foreach (AssemblyName r in References(path))
            {
                bool entry = dependencies == null && r.Name == ModuleDependencies.EntryAssembly && name == "AzureLinuxImage";
                // Core's own libraries load isolated from Dependencies/ (ModuleDependencies.CoreLibraries).
                entry |= dependencies == null && name == "AzureLinuxImage.Core" && ModuleDependencies.CoreLibraries.Contains(r.Name!)
                    && File.Exists(Path.Combine(Repository.ModuleDependencies, r.Name + ".dll"));
                if (!entry && !platform.Contains(r.Name!) && !root.ContainsKey(r.Name!) && !(dependencies?.ContainsKey(r.Name!) ?? false))
                {
                    problems.Add($"{name} references {r.Name}, which is neither in the platform nor in {(dependencies == null ? "the module folder" : "the module")}");
                }
            }
        }

        private static AssemblyName Copy(AssemblyName name, Version version) => new AssemblyName(name.FullName) { Version = version };

        /// <summary>Simple name → name of every assembly in a folder (not recursive).</summary>
        private static Dictionary<string, AssemblyName> Names(string folder) =>
            Directory.GetFiles(folder, "*.dll").ToDictionary(f => Path.GetFileNameWithoutExtension(f), AssemblyName.GetAssemblyName, StringComparer.OrdinalIgnoreCase);

        private static IEnumerable<AssemblyName> References(string path)
        {
            using var stream = File.OpenRead(path);
            using var pe = new System.Reflection.PortableExecutable.PEReader(stream);
            System.Reflection.Metadata.MetadataReader md = System.Reflection.Metadata.PEReaderExtensions.GetMetadataReader(pe);
            return md.AssemblyReferences.Select(h => md.GetAssemblyReference(h).GetAssemblyName()).ToList();
        }

        /// <summary>The netstandard2.0 facade names: what every runtime the module runs on supplies.</summary>
        private static ISet<string> NetStandardPlatform() =>
            new HashSet<string>(Directory.GetFiles(NuGetPackage("netstandard.library", "2.0.") + "/build/netstandard2.0/ref", "*.dll").Select(Path.GetFileNameWithoutExtension)!, StringComparer.OrdinalIgnoreCase)
            {
                "mscorlib",
            };

        private static string NuGetPackage(string id, string versionPrefix)
        {
            string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            string? folder = Directory.Exists(Path.Combine(packages, id))
                ? Directory.GetDirectories(Path.Combine(packages, id), versionPrefix + "*").OrderBy(d => d, StringComparer.Ordinal).LastOrDefault()
                : null;
            return folder ?? throw new InvalidOperationException($"{id} {versionPrefix}* is not in {packages}: the build restores it (AzureLinuxImage.Isolation targets net8.0).");
        }
    }
}
