using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.PortableExecutable;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Surface
{
    /// <summary>
    /// Core's folders are layers (DESIGN.md, "The house"): a type may use types of its own layer and of
    /// lower ones, never of a higher one, and layers of the same rank are independent of each other.
    /// Checked on the built AzureLinuxImage.Core.dll, every signature and method body, not on source text.
    /// </summary>
    public sealed class LayerTests
    {
        /// <summary>
        /// Rank of each top-level namespace of Core (sub-namespaces such as Disks.Vhdx belong to theirs).
        /// Errors is the vocabulary of every layer. Checksums and Compression are pure byte transforms
        /// below the disk formats (qcow2 clusters are zstd, VHDX headers CRC-32C); IO is the file
        /// access under the disks. Provisioning (wire server, IMDS) talks to Azure from inside a VM,
        /// reads no image, and sits beside Readiness under the Operations that expose it. Hosting only
        /// says where the module's dependencies load from and which CI host a process runs under (its logging
        /// commands, issue 23), and uses nothing.
        /// </summary>
        public static readonly IReadOnlyDictionary<string, int> Ranks = new Dictionary<string, int>
        {
            ["Errors"] = 0,
            ["Hosting"] = 0,
            ["Checksums"] = 1,
            ["IO"] = 2,
            ["Compression"] = 2,
            ["Disks"] = 3,
            ["Partitions"] = 4,
            ["FileSystems"] = 5,
            ["Linux"] = 6,
            ["Readiness"] = 7,
            ["Provisioning"] = 7,
            ["Emulation"] = 7,
            ["Operations"] = 8,
        };

        private const string Root = "AzureLinuxImage";

        [Fact]
        public void No_layer_of_Core_uses_a_higher_or_sibling_layer()
        {
            string core = Path.Combine(AppContext.BaseDirectory, "AzureLinuxImage.Core.dll");
            IReadOnlyList<TypeUse> uses = LayerReferences.Read(core);
            Assert.True(uses.Count > 1000, $"only {uses.Count} type uses read from {core}: the reader is broken");
            string[] violations = Violations(uses).ToArray();
            Assert.True(violations.Length == 0, "Upward or sibling uses:\n" + string.Join("\n", violations));
        }

        [Fact]
        public void Every_namespace_of_Core_is_in_a_layer()
        {
            string core = Path.Combine(AppContext.BaseDirectory, "AzureLinuxImage.Core.dll");
            IEnumerable<string> namespaces = LayerReferences.Types(core).Select(LayerReferences.Namespace).Distinct();
            string[] unplaced = namespaces.Where(ns => ns.StartsWith(Root + ".", StringComparison.Ordinal) && Layer(ns) == null).ToArray();
            Assert.Empty(unplaced);
        }

        /// <summary>The check itself can fail: an assembly with upward uses of each kind is caught, a downward one is not.</summary>
        [Fact]
        public void A_planted_upward_reference_is_reported()
        {
            var builder = new PersistedAssemblyBuilder(new AssemblyName("Planted"), typeof(object).Assembly);
            ModuleBuilder module = builder.DefineDynamicModule("Planted");

            TypeBuilder high = module.DefineType(Root + ".Operations.High", TypeAttributes.Public | TypeAttributes.Class);
            ConstructorBuilder highCtor = high.DefineDefaultConstructor(MethodAttributes.Public);

            // IO → Operations through a field's type only.
            TypeBuilder field = module.DefineType(Root + ".IO.ByField", TypeAttributes.Public | TypeAttributes.Class);
            field.DefineField("high", high, FieldAttributes.Private);

            // Disks → Operations only inside a method body (no signature names it).
            TypeBuilder body = module.DefineType(Root + ".Disks.Vhd.ByBody", TypeAttributes.Public | TypeAttributes.Class);
            MethodBuilder method = body.DefineMethod("Make", MethodAttributes.Public | MethodAttributes.Static, typeof(object), Type.EmptyTypes);
            ILGenerator il = method.GetILGenerator();
            il.Emit(OpCodes.Newobj, highCtor);
            il.Emit(OpCodes.Ret);

            // IO → Compression: same rank, different layer.
            TypeBuilder sibling = module.DefineType(Root + ".Compression.Sibling", TypeAttributes.Public | TypeAttributes.Class);
            TypeBuilder bySibling = module.DefineType(Root + ".IO.BySibling", TypeAttributes.Public | TypeAttributes.Class, sibling);

            // Operations → Disks: allowed.
            TypeBuilder down = module.DefineType(Root + ".Operations.Down", TypeAttributes.Public | TypeAttributes.Class);
            down.DefineField("low", body, FieldAttributes.Private);

            foreach (TypeBuilder t in new[] { high, sibling, field, body, bySibling, down })
            {
                t.CreateType();
            }
            using var stream = new MemoryStream();
            builder.Save(stream);
            stream.Position = 0;
            using var pe = new PEReader(stream);

            string[] violations = Violations(LayerReferences.Read(pe)).ToArray();
            int layerPairs = violations.Select(v => v.Substring(0, v.IndexOf(" in ", StringComparison.Ordinal))).Distinct().Count();
            Assert.True(layerPairs == 3, string.Join("\n", violations));

            Assert.Contains(violations, v => v.StartsWith(Root + ".IO.ByField (IO) uses " + Root + ".Operations.High (Operations) in field high", StringComparison.Ordinal));
            Assert.Contains(violations, v => v.StartsWith(Root + ".Disks.Vhd.ByBody (Disks) uses " + Root + ".Operations.High (Operations) in method Make body", StringComparison.Ordinal));
            Assert.Contains(violations, v => v.StartsWith(Root + ".IO.BySibling (IO) uses " + Root + ".Compression.Sibling (Compression) in base type", StringComparison.Ordinal));
            Assert.DoesNotContain(violations, v => v.StartsWith(Root + ".Operations.Down", StringComparison.Ordinal));
        }

        private static IEnumerable<string> Violations(IEnumerable<TypeUse> uses)
        {
            foreach (TypeUse use in uses.Distinct())
            {
                string? from = Layer(LayerReferences.Namespace(use.FromType));
                string? to = Layer(LayerReferences.Namespace(use.ToType));
                if (from == null || to == null || from == to)
                {
                    continue;
                }
                if (Ranks[to] >= Ranks[from])
                {
                    yield return $"{use.FromType} ({from}) uses {use.ToType} ({to}) in {use.Where}";
                }
            }
        }

        /// <summary>The layer of a namespace under AzureLinuxImage., or null outside them (polyfills, compiler-generated types).</summary>
        private static string? Layer(string ns)
        {
            if (!ns.StartsWith(Root + ".", StringComparison.Ordinal))
            {
                return null;
            }
            string top = ns.Substring(Root.Length + 1).Split('.')[0];
            return Ranks.ContainsKey(top) ? top : null;
        }
    }
}
