using System.IO;
using System.Management.Automation;
using AzureLinuxImage.Hosting;

namespace AzureLinuxImage.Commands
{
    /// <summary>
    /// Runs when Import-Module loads the module: arranges for AzureLinuxImage.Azure and Azure.Core to
    /// load from the module's Dependencies folder, isolated from other modules' copies (issue 8).
    /// </summary>
    public sealed class ModuleInitializer : IModuleAssemblyInitializer
    {
        /// <inheritdoc />
        public void OnImport() => ModuleDependencies.Install(Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location)!);
    }
}
