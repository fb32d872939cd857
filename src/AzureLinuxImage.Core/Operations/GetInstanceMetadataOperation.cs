using System.Threading;
using System.Threading.Tasks;
using AzureLinuxImage.Provisioning;

namespace AzureLinuxImage.Operations
{
    /// <summary>Get-AzureInstanceMetadata / azlinux imds: the whole (extended) document or one value.</summary>
    public sealed class GetInstanceMetadataOperation
    {
        private readonly InstanceMetadataOptions _options;
        private readonly IProvisioningHost _host;

        /// <summary>Creates the operation.</summary>
        public GetInstanceMetadataOperation(InstanceMetadataOptions options, IProvisioningHost? host = null)
        {
            _options = options;
            _host = host ?? new SilentProvisioningHost();
        }

        /// <summary>Runs the operation.</summary>
        public async Task<InstanceMetadataResult> RunAsync(CancellationToken cancellationToken)
        {
            var endpoint = _options.Endpoint == null ? ImdsClient.Default : WireServerEndpoint.ParseEndpoint(_options.Endpoint);
            string? path = _options.Path == null ? null : ImdsClient.NormalizePath(_options.Path);
            var session = new RetrySession(_options.Policy ?? RetryPolicy.ImdsDefault, cancellationToken);
            using var http = ProvisioningHttpClient.Create();
            var client = new ImdsClient(http, endpoint);
            ImdsResponse response = path == null
                ? await client.GetInstanceAsync(session, _options.ApiVersion).ConfigureAwait(false)
                : await client.GetValueAsync(session, path, _options.ApiVersion).ConfigureAwait(false);
            _host.Verbose($"IMDS answered {response.RequestUri.PathAndQuery} ({session.Attempts} attempt(s)).");
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
