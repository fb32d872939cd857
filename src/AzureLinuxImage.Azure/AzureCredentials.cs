using System;
using System.Threading;
using System.Threading.Tasks;
using Azure.Core;
using Azure.Identity;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.Azure
{
    /// <summary>How the upload is authorised when the URL carries no SAS.</summary>
    internal enum CredentialChoice
    {
        /// <summary>The URL's SAS (or none).</summary>
        None,

        /// <summary>The managed identity of the machine (Azure Automation, VMs).</summary>
        ManagedIdentity,

        /// <summary>Azure.Identity's DefaultAzureCredential chain.</summary>
        Default,
    }

    /// <summary>Turns the cmdlet's untyped -Credential (no Azure types in cmdlet signatures) into a TokenCredential.</summary>
    internal static class AzureCredentials
    {
        public static TokenCredential? Resolve(object? credential, CredentialChoice choice)
        {
            if (credential != null)
            {
                object value = credential;
                switch (value)
                {
                    case TokenCredential tc:
                        return tc;
                    case string token when token.Length > 0:
                        return new StaticToken(token);
                    default:
                        throw new AzureLinuxImageException("InvalidCredential", ErrorKind.InvalidArgument,
                            $"-Credential takes an Azure.Core TokenCredential (for example from Azure.Identity) or an access token string for {PageBlobClient.StorageScope}; got {value.GetType().FullName}.");
                }
            }
            switch (choice)
            {
                case CredentialChoice.ManagedIdentity:
                    return new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned);
                case CredentialChoice.Default:
                    return new DefaultAzureCredential();
                default:
                    return null;
            }
        }

        /// <summary>An access token obtained elsewhere (Get-AzAccessToken -ResourceUrl https://storage.azure.com).</summary>
        private sealed class StaticToken : TokenCredential
        {
            private readonly AccessToken token;

            public StaticToken(string token)
            {
                this.token = new AccessToken(token, DateTimeOffset.UtcNow.AddHours(1));
            }

            public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) => token;

            public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) => new ValueTask<AccessToken>(token);
        }
    }
}
