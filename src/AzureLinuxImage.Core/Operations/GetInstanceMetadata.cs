using AzureLinuxImage.Provisioning;

namespace AzureLinuxImage.Operations
{
    /// <summary>Get-AzureInstanceMetadata / azlinux imds: the whole (extended) document or one value.</summary>
    internal static class GetInstanceMetadata
    {
        public static InstanceMetadataResult Run(InstanceMetadataOptions options, IOperationContext context)
        {
            var endpoint = options.Endpoint == null ? ImdsClient.Default : WireServerEndpoint.ParseEndpoint(options.Endpoint);
            string? path = options.Path == null ? null : ImdsClient.NormalizePath(options.Path);
            var session = new RetrySession(options.Policy ?? RetryPolicy.ImdsDefault, context.Cancellation);
            using var http = ProvisioningHttpClient.Create();
            var client = new ImdsClient(http, endpoint);
            ImdsResponse response = path == null
                ? client.GetInstanceAsync(session, options.ApiVersion).GetAwaiter().GetResult()
                : client.GetValueAsync(session, path, options.ApiVersion).GetAwaiter().GetResult();
            context.Verbose($"IMDS answered {response.RequestUri.PathAndQuery} ({session.Attempts} attempt(s)).");
            string? ppsType = null;
            if (path == null)
            {
                ppsType = ImdsDocument.Parse(response.Content).PreprovisioningType;
            }
            return new InstanceMetadataResult
            {
                Endpoint = endpoint.ToString(),
                Path = path,
                ApiVersion = response.ApiVersion,
                Extended = response.Extended,
                Value = response.Content,
                PreprovisioningType = ppsType,
                Attempts = session.Attempts,
                Elapsed = session.Elapsed,
            };
        }
    }
}
