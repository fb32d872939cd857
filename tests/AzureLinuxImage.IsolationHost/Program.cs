using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Azure.Core;

namespace AzureLinuxImage.IsolationHost
{
    /// <summary>
    /// Usage: host MODULE_DIR IMAGE BLOB_URL. Does what PowerShell 7 does on Import-Module (load the module
    /// DLL by path, run its initializer's install), then what Copy-DiskImageToAzure does (resolve
    /// AzureLinuxImage.Azure through the default context and upload), and hands the module a TokenCredential
    /// of this process's Azure.Core. Prints one JSON object describing what loaded where.
    /// </summary>
    internal static class Program
    {
        private const BindingFlags Any = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance;

        private static int Main(string[] args)
        {
            if (args[0] == "hashing")
            {
                return Hashing(args[1], args[2], otherFirst: args[3] == "other-first");
            }
            string moduleDir = args[0];
            string image = args[1];
            var destination = new Uri(args[2]);
            var report = new Dictionary<string, object?>();
            // Another module's Azure.Core, in the default context before ours is ever asked for.
            report["hostAzureCore"] = Describe(typeof(TokenCredential).Assembly);

            Assembly.LoadFrom(Path.Combine(moduleDir, "AzureLinuxImage.dll"));
            Assembly core = Assembly.LoadFrom(Path.Combine(moduleDir, "AzureLinuxImage.Core.dll"));
            // ModuleInitializer.OnImport's one call (the initializer itself needs a PowerShell runtime).
            core.GetType("AzureLinuxImage.Hosting.ModuleDependencies", true)!.GetMethod("Install", Any)!.Invoke(null, new object[] { moduleDir });

            // The JIT resolves the cmdlet's reference to AzureLinuxImage.Azure through the default context.
            Assembly azure = AssemblyLoadContext.Default.LoadFromAssemblyName(new AssemblyName("AzureLinuxImage.Azure"));
            report["azureAssembly"] = Describe(azure);
            Type pageBlobClient = azure.GetType("AzureLinuxImage.Azure.PageBlobClient", true)!;
            Type ourTokenCredential = pageBlobClient.GetConstructors(Any)[0].GetParameters()[1].ParameterType;
            report["boundAzureCore"] = Describe(ourTokenCredential.Assembly);

            Type optionsType = azure.GetType("AzureLinuxImage.Azure.UploadOptions", true)!;
            object options = Activator.CreateInstance(optionsType)!;
            object context = Activator.CreateInstance(core.GetType("AzureLinuxImage.Operations.SilentContext", true)!, CancellationToken.None)!;
            object result = azure.GetType("AzureLinuxImage.Azure.CopyDiskImageToAzure", true)!.GetMethod("Run", Any)!
                .Invoke(null, new object[] { image, destination, options, context })!;
            report["bytesSent"] = result.GetType().GetProperty("BytesSent")!.GetValue(result);
            report["blobLength"] = result.GetType().GetProperty("BlobLength")!.GetValue(result);

            // A credential of the other Azure.Core, as Az.Accounts would hand over, turned into one of ours.
            var hostCredential = new HostCredential();
            object resolved = azure.GetType("AzureLinuxImage.Azure.AzureCredentials", true)!.GetMethod("Resolve", Any)!
                .Invoke(null, new object?[] { hostCredential, false, false })!;
            MethodInfo getToken = ourTokenCredential.GetMethods().Single(m => m.Name == "GetToken" && m.GetParameters()[0].ParameterType.Name == "TokenRequestContext");
            Type ourContext = getToken.GetParameters()[0].ParameterType;
            object request = Activator.CreateInstance(ourContext, new object?[] { new[] { "https://storage.azure.com/.default" }, null, null, null, false })!;
            object token = getToken.Invoke(resolved, new object[] { request, CancellationToken.None })!;
            report["credentialToken"] = token.GetType().GetProperty("Token")!.GetValue(token);
            report["credentialScopes"] = hostCredential.Scopes;

            report["loaded"] = AppDomain.CurrentDomain.GetAssemblies()
                .Where(a => a.GetName().Name is "Azure.Core" or "AzureLinuxImage.Core" or "AzureLinuxImage.Azure" or "AzureLinuxImage" or "Azure.Storage.Blobs")
                .Select(Describe).ToList();
            Console.WriteLine(JsonSerializer.Serialize(report));
            return 0;
        }

        /// <summary>
        /// Usage: host hashing MODULE_DIR VHDX other-first|module-first. Another module's System.IO.Hashing 8.0
        /// (Az.Storage ships one) is loaded by path into the default context and used, as importing that module
        /// does, before or after the module is imported by path and opens a VHDX, whose headers and region
        /// tables Core checks with System.IO.Hashing's CRC-32C (11.0, from Dependencies/). Prints what loaded where.
        /// </summary>
        private static int Hashing(string moduleDir, string vhdx, bool otherFirst)
        {
            var report = new Dictionary<string, object?>();
            if (otherFirst)
            {
                report["otherCrc"] = OtherModuleCrc();
            }
            Assembly.LoadFrom(Path.Combine(moduleDir, "AzureLinuxImage.dll"));
            Assembly core = Assembly.LoadFrom(Path.Combine(moduleDir, "AzureLinuxImage.Core.dll"));
            core.GetType("AzureLinuxImage.Hosting.ModuleDependencies", true)!.GetMethod("Install", Any)!.Invoke(null, new object[] { moduleDir });
            Type diskImage = core.GetType("AzureLinuxImage.Disks.DiskImage", true)!;
            using (var image = (IDisposable)diskImage.GetMethod("Open", Any, new[] { typeof(string) })!.Invoke(null, new object[] { vhdx })!)
            {
                report["format"] = diskImage.GetProperty("Format", Any)!.GetValue(image)!.ToString();
                report["virtualSize"] = diskImage.GetProperty("VirtualSize", Any)!.GetValue(image);
            }

            if (!otherFirst)
            {
                report["otherCrc"] = OtherModuleCrc();
            }
            report["loaded"] = AppDomain.CurrentDomain.GetAssemblies()
                .Where(a => a.GetName().Name == "System.IO.Hashing")
                .Select(Describe).ToList();
            Console.WriteLine(JsonSerializer.Serialize(report));
            return 0;
        }

        /// <summary>The other module's CRC-32 of "123456789", through its own System.IO.Hashing loaded by path.</summary>
        private static uint OtherModuleCrc()
        {
            Assembly other = Assembly.LoadFrom(Path.Combine(AppContext.BaseDirectory, "other-module", "System.IO.Hashing.dll"));
            Type crc = other.GetType("System.IO.Hashing.Crc32", true)!;
            return crc.GetMethod("HashToUInt32", new[] { typeof(ReadOnlySpan<byte>) })!.CreateDelegate<Func<ReadOnlySpan<byte>, uint>>()("123456789"u8);
        }

        private static Dictionary<string, string?> Describe(Assembly a) => new Dictionary<string, string?>
        {
            ["name"] = a.GetName().Name,
            ["version"] = a.GetName().Version?.ToString(),
            ["context"] = AssemblyLoadContext.GetLoadContext(a)?.Name,
            ["location"] = a.Location,
        };

        /// <summary>What another module's credential looks like: a TokenCredential of Azure.Core 1.44.1.</summary>
        private sealed class HostCredential : TokenCredential
        {
            public string[] Scopes { get; private set; } = Array.Empty<string>();

            public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
            {
                Scopes = requestContext.Scopes;
                return new AccessToken("token-from-the-host's-azure-core", DateTimeOffset.UtcNow.AddMinutes(30));
            }

            public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
                new ValueTask<AccessToken>(GetToken(requestContext, cancellationToken));
        }
    }
}
