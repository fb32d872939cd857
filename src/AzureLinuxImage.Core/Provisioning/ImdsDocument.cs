using System;
using System.Globalization;
using System.Text.Json;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.Provisioning
{
    /// <summary>Values read from the IMDS instance document (JSON); absent values are null, never an error.</summary>
    internal sealed class ImdsDocument
    {
        private readonly JsonElement _root;

        private ImdsDocument(JsonElement root, string json)
        {
            _root = root;
            Json = json;
        }

        public string Json { get; }

        public static ImdsDocument Parse(string json)
        {
            try
            {
                // Cloned so the pooled buffers of the JsonDocument go back at once.
                using JsonDocument doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 32 });
                if (doc.RootElement.ValueKind != JsonValueKind.Object)
                {
                    throw new AzureLinuxImageException("InvalidInstanceMetadata", ErrorKind.InvalidData,
                        "The Instance Metadata Service document is not a JSON object.");
                }
                return new ImdsDocument(doc.RootElement.Clone(), json);
            }
            catch (JsonException e)
            {
                throw new AzureLinuxImageException("InvalidInstanceMetadata", ErrorKind.InvalidData,
                    $"The Instance Metadata Service document is not valid JSON: {e.Message}", null, e);
            }
        }

        /// <summary>The value at a '/'-separated path (object names, array indexes) as text, or null.</summary>
        public string? GetString(string path)
        {
            JsonElement current = _root;
            foreach (string segment in path.Trim('/').Split('/'))
            {
                if (current.ValueKind == JsonValueKind.Object && current.TryGetProperty(segment, out JsonElement next))
                {
                    current = next;
                }
                else if (current.ValueKind == JsonValueKind.Array
                    && int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out int index)
                    && index < current.GetArrayLength())
                {
                    current = current[index];
                }
                else
                {
                    return null;
                }
            }
            switch (current.ValueKind)
            {
                case JsonValueKind.String: return current.GetString();
                case JsonValueKind.Number: return current.GetRawText();
                case JsonValueKind.True: return "true";
                case JsonValueKind.False: return "false";
                case JsonValueKind.Null:
                case JsonValueKind.Undefined: return null;
                default: return current.GetRawText();
            }
        }

        /// <summary>The requested computer name (cloud-init, azure-init), else the resource name (the 2020 article).</summary>
        public string? ComputerName
        {
            get
            {
                string? name = GetString("compute/osProfile/computerName");
                return string.IsNullOrWhiteSpace(name) ? NullIfBlank(GetString("compute/name")) : name;
            }
        }

        /// <summary><c>extended.compute.ppsType</c>: "None", "Running", "Savable"; null when the document is not extended.</summary>
        public string? PreprovisioningType => NullIfBlank(GetString("extended/compute/ppsType"));

        public string? VmId => NullIfBlank(GetString("compute/vmId"));

        private static string? NullIfBlank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;
    }
}
