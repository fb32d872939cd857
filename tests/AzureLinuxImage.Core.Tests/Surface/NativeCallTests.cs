using System;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using Xunit;

namespace AzureLinuxImage.Tests.Surface
{
    /// <summary>
    /// Calls into the C library are declared in the IO layer only (UnixFileApi and the two IO helpers that need
    /// their own call), each entry point once: other layers call those, so a signature or errno rule is fixed
    /// in one place.
    /// </summary>
    public sealed class NativeCallTests
    {
        [Fact]
        public void Only_the_IO_layer_declares_native_calls_and_each_entry_point_once()
        {
            Assembly core = typeof(AzureLinuxImage.IO.UnixFileApi).Assembly;
            var calls = core.GetTypes()
                .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly).Select(m => (Type: t, Method: m)))
                .Where(c => (c.Method.Attributes & MethodAttributes.PinvokeImpl) != 0)
                .Select(c => (c.Type, c.Method, Import: c.Method.GetCustomAttribute<DllImportAttribute>()))
                .ToList();
            Assert.True(calls.Count >= 10 && calls.All(c => c.Import != null), $"only {calls.Count} native calls found in {core.Location}: the check is broken");

            string[] outside = calls.Where(c => !string.Equals(c.Type.Namespace, "AzureLinuxImage.IO", StringComparison.Ordinal))
                .Select(c => $"{c.Type.FullName}.{c.Method.Name}").ToArray();
            Assert.True(outside.Length == 0, "native calls outside AzureLinuxImage.IO:\n" + string.Join("\n", outside));

            string[] twice = calls.GroupBy(c => c.Import!.Value + "!" + (c.Import.EntryPoint ?? c.Method.Name))
                .Where(g => g.Count() > 1)
                .Select(g => g.Key + ": " + string.Join(", ", g.Select(c => c.Type.Name + "." + c.Method.Name))).ToArray();
            Assert.True(twice.Length == 0, "entry points declared more than once:\n" + string.Join("\n", twice));
        }
    }
}
