using System;
using System.Security;
using System.Threading;
using Azure.Core;
using AzureLinuxImage.Azure;
using AzureLinuxImage.Errors;
using Xunit;

namespace AzureLinuxImage.Tests.Upload
{
    /// <summary>What -Credential takes (issue 8); another Azure.Core's TokenCredential is ModuleIsolationTests'.</summary>
    public sealed class AzureCredentialsTests
    {
        private static readonly TokenRequestContext Storage = new TokenRequestContext(new[] { PageBlobClient.StorageScope });

        [Fact]
        public void A_token_string_a_SecureString_and_Get_AzAccessTokens_output_become_bearer_tokens()
        {
            Assert.Equal("plain", AzureCredentials.Resolve("plain", false, false)!.GetToken(Storage, CancellationToken.None).Token);

            using var secure = new SecureString();
            foreach (char c in "secret-token")
            {
                secure.AppendChar(c);
            }
            Assert.Equal("secret-token", AzureCredentials.Resolve(secure, false, false)!.GetToken(Storage, CancellationToken.None).Token);

            var expires = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
            AccessToken fromAz = AzureCredentials.Resolve(new PSAccessTokenLike { Token = "az-token", ExpiresOn = expires }, false, false)!.GetToken(Storage, CancellationToken.None);
            Assert.Equal("az-token", fromAz.Token);
            Assert.Equal(expires, fromAz.ExpiresOn);
        }

        [Fact]
        public void No_credential_is_anonymous_or_SAS_and_two_are_refused()
        {
            Assert.Null(AzureCredentials.Resolve(null, false, false));
            Assert.Equal("OneCredential", Assert.Throws<AzureLinuxImageException>(() => AzureCredentials.Resolve("t", true, false)).ErrorId);
            Assert.Equal("OneCredential", Assert.Throws<AzureLinuxImageException>(() => AzureCredentials.Resolve(null, true, true)).ErrorId);
        }

        [Fact]
        public void Anything_else_is_refused_with_what_was_given_and_what_is_accepted()
        {
            var e = Assert.Throws<AzureLinuxImageException>(() => AzureCredentials.Resolve(42, false, false));
            Assert.Equal("InvalidCredential", e.ErrorId);
            Assert.Contains("System.Int32", e.Message);
            Assert.Contains("Get-AzAccessToken", e.Message);
            Assert.Equal("InvalidCredential", Assert.Throws<AzureLinuxImageException>(() => AzureCredentials.Resolve(string.Empty, false, false)).ErrorId);
        }

        /// <summary>The shape of Az.Accounts' PSAccessToken: Token and ExpiresOn.</summary>
        private sealed class PSAccessTokenLike
        {
            public string Token { get; set; } = string.Empty;

            public DateTimeOffset ExpiresOn { get; set; }
        }
    }
}
