using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using AzureLinuxImage.Tests.Infrastructure;

namespace AzureLinuxImage.Tests.Surface
{
    /// <summary>
    /// The cmdlet DLL read through MetadataLoadContext: no PowerShell runtime exists on this machine,
    /// and System.Management.Automation here is a reference assembly that cannot be loaded to run.
    /// </summary>
    public sealed class CmdletMetadata : IDisposable
    {
        private readonly MetadataLoadContext context;

        public CmdletMetadata()
        {
            string runtime = RuntimeEnvironment.GetRuntimeDirectory();
            var paths = Directory.GetFiles(runtime, "*.dll").ToList();
            var names = new HashSet<string>(paths.Select(Path.GetFileName)!, StringComparer.OrdinalIgnoreCase);
            foreach (string dll in Directory.GetFiles(Repository.ModuleBin, "*.dll").Concat(Directory.GetFiles(Repository.ModuleDependencies, "*.dll")))
            {
                if (names.Add(Path.GetFileName(dll)))
                {
                    paths.Add(dll);
                }
            }
            paths.Add(Repository.AutomationReference);
            context = new MetadataLoadContext(new PathAssemblyResolver(paths), "System.Private.CoreLib");
            Module = context.LoadFromAssemblyPath(Path.Combine(Repository.ModuleBin, "AzureLinuxImage.dll"));
            Automation = context.LoadFromAssemblyName("System.Management.Automation");
            Cmdlets = Module.GetTypes()
                .Where(t => !t.IsAbstract && CustomAttribute(t, "System.Management.Automation.CmdletAttribute") != null)
                .Select(t => new CmdletInfo(this, t))
                .OrderBy(c => c.Name)
                .ToList();
        }

        public Assembly Module { get; }

        public Assembly Automation { get; }

        public IReadOnlyList<CmdletInfo> Cmdlets { get; }

        /// <summary>Approved verbs: the constants of the Verbs* classes of System.Management.Automation.</summary>
        public ISet<string> ApprovedVerbs()
        {
            var verbs = new HashSet<string>(StringComparer.Ordinal);
            foreach (string cls in new[] { "VerbsCommon", "VerbsData", "VerbsLifecycle", "VerbsDiagnostic", "VerbsCommunications", "VerbsSecurity", "VerbsOther" })
            {
                foreach (FieldInfo f in Automation.GetType("System.Management.Automation." + cls, true)!.GetFields(BindingFlags.Public | BindingFlags.Static))
                {
                    verbs.Add((string)f.GetRawConstantValue()!);
                }
            }
            return verbs;
        }

        public static CustomAttributeData? CustomAttribute(MemberInfo member, string fullName) =>
            member.GetCustomAttributesData().FirstOrDefault(a => a.AttributeType.FullName == fullName);

        public static IEnumerable<CustomAttributeData> CustomAttributes(MemberInfo member, string fullName) =>
            member.GetCustomAttributesData().Where(a => a.AttributeType.FullName == fullName);

        public static object? Named(CustomAttributeData a, string name) =>
            a.NamedArguments.Where(n => n.MemberName == name).Select(n => n.TypedValue.Value).FirstOrDefault();

        public void Dispose() => context.Dispose();
    }

    public sealed class CmdletInfo
    {
        public CmdletInfo(CmdletMetadata owner, Type type)
        {
            Type = type;
            CustomAttributeData cmdlet = CmdletMetadata.CustomAttribute(type, "System.Management.Automation.CmdletAttribute")!;
            Verb = (string)cmdlet.ConstructorArguments[0].Value!;
            Noun = (string)cmdlet.ConstructorArguments[1].Value!;
            SupportsShouldProcess = CmdletMetadata.Named(cmdlet, "SupportsShouldProcess") as bool? ?? false;
            ConfirmImpact = CmdletMetadata.Named(cmdlet, "ConfirmImpact") as int? ?? 2; // Medium is the default
            DefaultParameterSet = CmdletMetadata.Named(cmdlet, "DefaultParameterSetName") as string;
            Parameters = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Where(p => CmdletMetadata.CustomAttributes(p, "System.Management.Automation.ParameterAttribute").Any())
                .ToList();
            OutputTypes = CmdletMetadata.CustomAttributes(type, "System.Management.Automation.OutputTypeAttribute")
                .SelectMany(a => a.ConstructorArguments)
                .SelectMany(arg => arg.Value is IEnumerable<CustomAttributeTypedArgument> many ? many.Select(m => m.Value) : new[] { arg.Value })
                .OfType<Type>()
                .ToList();
        }

        public Type Type { get; }
        public string Verb { get; }
        public string Noun { get; }
        public string Name => Verb + "-" + Noun;
        public bool SupportsShouldProcess { get; }
        public int ConfirmImpact { get; }
        public string? DefaultParameterSet { get; }
        public IReadOnlyList<PropertyInfo> Parameters { get; }
        public IReadOnlyList<Type> OutputTypes { get; }

        public PropertyInfo? Parameter(string name) => Parameters.FirstOrDefault(p => p.Name == name);

        public IEnumerable<CustomAttributeData> ParameterAttributes(PropertyInfo p) =>
            CmdletMetadata.CustomAttributes(p, "System.Management.Automation.ParameterAttribute");

        public IEnumerable<string> Aliases(PropertyInfo p) => CmdletMetadata.CustomAttributes(p, "System.Management.Automation.AliasAttribute")
            .SelectMany(a => a.ConstructorArguments)
            .SelectMany(arg => arg.Value is IEnumerable<CustomAttributeTypedArgument> many ? many.Select(m => (string)m.Value!) : new[] { (string)arg.Value! });

        /// <summary>Parameter names as Get-Help shows them, common ShouldProcess ones included.</summary>
        public IEnumerable<string> DocumentedParameterNames() => Parameters.Select(p => p.Name)
            .Concat(SupportsShouldProcess ? new[] { "WhatIf", "Confirm" } : Array.Empty<string>());

        public override string ToString() => Name;
    }
}
