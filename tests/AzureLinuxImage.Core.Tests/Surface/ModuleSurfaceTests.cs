using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Surface
{
    /// <summary>
    /// The cmdlet surface, checked from metadata (DESIGN.md, "Cmdlet conventions"): verbs, classes,
    /// parameter sets, pipeline binding, ShouldProcess, OutputType and views, manifest, help.
    /// </summary>
    public class ModuleSurfaceTests : IClassFixture<CmdletMetadata>
    {
        private static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
        private static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
        private static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";
        private readonly CmdletMetadata metadata;

        public ModuleSurfaceTests(CmdletMetadata metadata)
        {
            this.metadata = metadata;
        }

        [Fact]
        public void The_module_has_the_foundation_cmdlets()
        {
            var names = metadata.Cmdlets.Select(c => c.Name).ToList();
            Assert.Contains("ConvertTo-FixedVhd", names);
            Assert.Contains("Resize-VhdAligned", names);
            Assert.Contains("Get-DiskImageInfo", names);
        }

        [Fact]
        public void The_module_has_the_rehearsal_cmdlet()
        {
            Assert.Contains("Test-AzureProvisioning", metadata.Cmdlets.Select(c => c.Name));
        }

        [Fact]
        public void The_module_has_the_publish_cmdlet()
        {
            CmdletInfo publish = metadata.Cmdlets.Single(c => c.Name == "Publish-LinuxImage");
            Assert.True(publish.SupportsShouldProcess);
            foreach (string p in new[] { "ResourceGroupName", "Location", "DiskName", "ImageName", "GalleryName", "GalleryImageDefinition", "GalleryImageVersion",
                "Publisher", "Offer", "Sku", "TargetRegion", "SubscriptionId", "Generation", "Force", "Credential", "UseManagedIdentity", "UseDefaultAzureCredential",
                "Environment", "ResourceManagerUrl" })
            {
                Assert.True(publish.Parameter(p) != null, $"Publish-LinuxImage has no -{p}");
            }
            Assert.Equal("System.Object", publish.Parameter("Credential")!.PropertyType.FullName);
        }

        [Fact]
        public void Cmdlets_use_approved_verbs_and_sealed_VerbNounCommand_classes()
        {
            ISet<string> approved = metadata.ApprovedVerbs();
            Assert.Contains("ConvertTo", approved); // the set was really read
            foreach (CmdletInfo c in metadata.Cmdlets)
            {
                Assert.True(approved.Contains(c.Verb), $"{c.Name}: '{c.Verb}' is not an approved verb");
                Assert.True(c.Type.IsSealed, $"{c.Type.Name} must be sealed");
                Assert.Equal(c.Verb + c.Noun + "Command", c.Type.Name);
                Assert.Equal("AzureLinuxImage.Commands", c.Type.Namespace);
            }
        }

        [Fact]
        public void Writers_support_ShouldProcess_with_impact_at_most_Medium()
        {
            var readers = new HashSet<string> { "Get", "Test" };
            foreach (CmdletInfo c in metadata.Cmdlets)
            {
                if (!readers.Contains(c.Verb))
                {
                    Assert.True(c.SupportsShouldProcess, $"{c.Name} writes and must support -WhatIf/-Confirm");
                }
                Assert.True(c.ConfirmImpact <= 2, $"{c.Name}: ConfirmImpact above Medium would prompt in Azure Automation");
            }
        }

        [Fact]
        public void Every_cmdlet_declares_its_output_type_and_each_has_a_default_view()
        {
            XDocument formats = XDocument.Load(Repository.File("AzureLinuxImage.format.ps1xml"));
            var viewed = formats.Descendants("ViewSelectedBy").Elements("TypeName").Select(e => e.Value.Trim()).ToHashSet();
            foreach (CmdletInfo c in metadata.Cmdlets)
            {
                Assert.True(c.OutputTypes.Count > 0, $"{c.Name} has no [OutputType]");
                foreach (Type t in c.OutputTypes.Where(t => t.Namespace?.StartsWith("AzureLinuxImage", StringComparison.Ordinal) == true))
                {
                    Assert.True(t.IsPublic, $"{t.FullName} must be public for PowerShell to show its properties");
                    Assert.True(viewed.Contains(t.FullName!), $"{t.FullName} ({c.Name}) has no view in AzureLinuxImage.format.ps1xml");
                }
            }
        }

        [Fact]
        public void Image_cmdlets_take_Path_with_wildcards_and_LiteralPath_bound_from_PSPath()
        {
            foreach (CmdletInfo c in metadata.Cmdlets)
            {
                PropertyInfo? path = c.Parameter("Path");
                if (path == null || path.PropertyType.FullName != "System.String[]")
                {
                    continue;
                }
                PropertyInfo literal = c.Parameter("LiteralPath") ?? throw new Xunit.Sdk.XunitException($"{c.Name} has -Path but no -LiteralPath");
                Assert.NotNull(CmdletMetadata.CustomAttribute(path, "System.Management.Automation.SupportsWildcardsAttribute"));
                Assert.Contains("PSPath", c.Aliases(literal));
                Assert.Contains("LP", c.Aliases(literal));
                var pathSets = c.ParameterAttributes(path).Select(a => CmdletMetadata.Named(a, "ParameterSetName") as string).ToList();
                var literalSets = c.ParameterAttributes(literal).Select(a => CmdletMetadata.Named(a, "ParameterSetName") as string).ToList();
                Assert.Empty(pathSets.Intersect(literalSets));
                Assert.All(c.ParameterAttributes(literal), a => Assert.Equal(true, CmdletMetadata.Named(a, "ValueFromPipelineByPropertyName")));
                Assert.All(c.ParameterAttributes(path), a => Assert.Equal(true, CmdletMetadata.Named(a, "ValueFromPipelineByPropertyName")));
                Assert.Contains(c.DefaultParameterSet, pathSets);
            }
        }

        [Fact]
        public void Manifest_exports_exactly_the_cmdlets_of_the_dll()
        {
            string psd1 = File.ReadAllText(Repository.File("AzureLinuxImage.psd1"));
            Match block = Regex.Match(psd1, @"CmdletsToExport\s*=\s*@\((?<list>[^)]*)\)");
            Assert.True(block.Success, "CmdletsToExport must be an explicit list");
            var exported = Regex.Matches(block.Groups["list"].Value, "'([^']+)'").Select(m => m.Groups[1].Value).OrderBy(n => n).ToList();
            Assert.Equal(metadata.Cmdlets.Select(c => c.Name).OrderBy(n => n).ToList(), exported);
            Assert.Matches(@"RootModule\s*=\s*'AzureLinuxImage\.dll'", psd1);
            Assert.Matches(@"CompatiblePSEditions\s*=\s*@\('Desktop',\s*'Core'\)", psd1);
            Assert.Matches(@"PowerShellVersion\s*=\s*'5\.1'", psd1);
            foreach (Match f in Regex.Matches(Regex.Match(psd1, @"FormatsToProcess\s*=\s*@\(([^)]*)\)").Groups[1].Value, "'([^']+)'"))
            {
                Assert.True(File.Exists(Repository.File(f.Groups[1].Value)), f.Groups[1].Value + " is listed but missing");
            }
            Match version = Regex.Match(psd1, @"ModuleVersion\s*=\s*'([^']+)'");
            Assert.Equal(metadata.Module.GetName().Version!.ToString(3), version.Groups[1].Value);
        }

        [Fact]
        public void Help_documents_every_cmdlet_and_parameter_with_an_example_and_nothing_stale()
        {
            XDocument help = XDocument.Load(Repository.File("en-US/AzureLinuxImage.dll-Help.xml"));
            var commands = help.Root!.Elements(Command + "command")
                .ToDictionary(e => e.Element(Command + "details")!.Element(Command + "name")!.Value.Trim());
            Assert.Equal(metadata.Cmdlets.Select(c => c.Name).OrderBy(n => n), commands.Keys.OrderBy(n => n));
            foreach (CmdletInfo c in metadata.Cmdlets)
            {
                XElement cmd = commands[c.Name];
                Assert.False(string.IsNullOrWhiteSpace(cmd.Element(Command + "details")!.Element(Maml + "description")?.Value), $"{c.Name}: no synopsis");
                Assert.False(string.IsNullOrWhiteSpace(cmd.Element(Maml + "description")?.Value), $"{c.Name}: no description");
                var documented = cmd.Element(Command + "parameters")!.Elements(Command + "parameter")
                    .ToDictionary(p => p.Element(Maml + "name")!.Value.Trim(), p => p.Element(Maml + "description")?.Value ?? string.Empty);
                Assert.Equal(c.DocumentedParameterNames().OrderBy(n => n), documented.Keys.OrderBy(n => n));
                Assert.All(documented, p => Assert.False(string.IsNullOrWhiteSpace(p.Value), $"{c.Name} -{p.Key}: no description"));
                var examples = cmd.Element(Command + "examples")?.Elements(Command + "example").ToList() ?? new List<XElement>();
                Assert.True(examples.Count > 0, $"{c.Name}: no example");
                Assert.All(examples, e => Assert.Contains(c.Name, e.Element(Dev + "code")!.Value));
            }
        }

        [Fact]
        public void The_image_write_cmdlets_take_ItemPath_and_Destination_from_the_pipeline_and_support_WhatIf()
        {
            foreach (string name in new[] { "Set-LinuxImageContent", "Remove-LinuxImageItem", "New-LinuxImageItem" })
            {
                CmdletInfo c = Assert.Single(metadata.Cmdlets, x => x.Name == name);
                Assert.True(c.SupportsShouldProcess, name);
                PropertyInfo item = c.Parameter("ItemPath") ?? throw new Xunit.Sdk.XunitException(name + " has no -ItemPath");
                Assert.All(c.ParameterAttributes(item), a => Assert.Equal(true, CmdletMetadata.Named(a, "ValueFromPipelineByPropertyName")));
                Assert.NotNull(c.Parameter("Destination"));
                Assert.Contains(c.OutputTypes, t => t.FullName == "AzureLinuxImage.Operations.LinuxImageWriteResult");
            }
            CmdletInfo set = Assert.Single(metadata.Cmdlets, x => x.Name == "Set-WaagentConfig");
            Assert.All(set.ParameterAttributes(set.Parameter("ImagePath")!), a => Assert.Equal(true, CmdletMetadata.Named(a, "ValueFromPipelineByPropertyName")));
            Assert.NotNull(set.Parameter("Destination"));
        }
    }
}
