using System;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AzureLinuxImage.Cli.Verbs
{
    /// <summary>--json output: camelCase properties, enums as names, indented.</summary>
    internal static class CliJson
    {
        public static readonly JsonSerializerOptions Options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            WriteIndented = true,
            Converters = { new JsonStringEnumConverter() },
        };

        public static void Write<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, Options));
    }
}
