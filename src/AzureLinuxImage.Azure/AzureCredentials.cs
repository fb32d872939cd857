using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security;
using System.Threading;
using System.Threading.Tasks;
using Azure.Core;
using Azure.Identity;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.Azure
{
    /// <summary>
    /// Turns the untyped credential of the cmdlet and the CLI (no Azure types in cmdlet signatures,
    /// issue 8) into a TokenCredential of the Azure.Core this assembly loaded with.
    /// </summary>
    internal static class AzureCredentials
    {
        private const string TokenCredentialTypeName = "Azure.Core.TokenCredential";

        /// <param name="credential">
        /// A TokenCredential of any Azure.Core (ours, or another module's such as Az.Accounts'), an access
        /// token as a string or SecureString, or an object with Token and ExpiresOn (Get-AzAccessToken).
        /// </param>
        /// <param name="managedIdentity">Use the machine's managed identity.</param>
        /// <param name="defaultCredential">Use Azure.Identity's DefaultAzureCredential chain.</param>
        public static TokenCredential? Resolve(object? credential, bool managedIdentity, bool defaultCredential)
        {
            if ((credential != null ? 1 : 0) + (managedIdentity ? 1 : 0) + (defaultCredential ? 1 : 0) > 1)
            {
                throw new AzureLinuxImageException("OneCredential", ErrorKind.InvalidArgument, "Give at most one of -Credential, -UseManagedIdentity and -UseDefaultAzureCredential (azlinux: --managed-identity, --default-credential).");
            }
            if (managedIdentity)
            {
                return new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned);
            }
            if (defaultCredential)
            {
                return new DefaultAzureCredential();
            }
            return credential == null ? null : FromObject(credential);
        }

        /// <summary>The token of `az account get-access-token` (JSON with accessToken) or a file holding only the token.</summary>
        public static string ReadTokenFile(string path)
        {
            string text;
            try
            {
                text = System.IO.File.ReadAllText(path).Trim();
            }
            catch (Exception e) when (e is System.IO.IOException || e is UnauthorizedAccessException)
            {
                throw new AzureLinuxImageException("AccessTokenFileUnreadable", ErrorKind.NotFound, $"Cannot read the access token file: {e.Message}", path);
            }
            if (text.StartsWith("{", StringComparison.Ordinal))
            {
                try
                {
                    using System.Text.Json.JsonDocument doc = System.Text.Json.JsonDocument.Parse(text);
                    if (doc.RootElement.TryGetProperty("accessToken", out System.Text.Json.JsonElement t) && t.GetString() is string token && token.Length > 0)
                    {
                        return token;
                    }
                }
                catch (System.Text.Json.JsonException)
                {
                }
                throw new AzureLinuxImageException("InvalidAccessTokenFile", ErrorKind.InvalidData, "The access token file is JSON without an accessToken (expected az account get-access-token's output).", path);
            }
            if (text.Length == 0 || text.IndexOfAny(new[] { ' ', '\n', '\r', '\t' }) >= 0)
            {
                throw new AzureLinuxImageException("InvalidAccessTokenFile", ErrorKind.InvalidData, "The access token file holds no single token.", path);
            }
            return text;
        }

        /// <summary>
        /// The secret text inside a -Credential value: a token string, a SecureString's text, Get-AzAccessToken's
        /// Token. A TokenCredential holds none until asked (its tokens only ever go in request headers).
        /// </summary>
        public static IEnumerable<string> SecretsOf(object? credential)
        {
            switch (credential)
            {
                case null:
                case TokenCredential _:
                    yield break;
                case string token when token.Length > 0:
                    yield return token;
                    yield break;
                case SecureString secure when secure.Length > 0:
                    yield return Reveal(secure);
                    yield break;
            }
            if (credential != null && TryReadAccessToken(credential, out string? text, out _))
            {
                yield return text!;
            }
        }

        private static TokenCredential FromObject(object value)
        {
            switch (value)
            {
                case TokenCredential ours:
                    return ours;
                case string token when token.Length > 0:
                    return new StaticToken(token, DateTimeOffset.UtcNow.AddHours(1));
                case SecureString secure when secure.Length > 0:
                    return new StaticToken(Reveal(secure), DateTimeOffset.UtcNow.AddHours(1));
            }
            Type? foreignBase = BaseTypes(value.GetType()).FirstOrDefault(t => t.FullName == TokenCredentialTypeName);
            if (foreignBase != null)
            {
                return new ForeignTokenCredential(value, foreignBase);
            }
            if (TryReadAccessToken(value, out string? text, out DateTimeOffset expiresOn))
            {
                return new StaticToken(text!, expiresOn);
            }
            throw new AzureLinuxImageException("InvalidCredential", ErrorKind.InvalidArgument,
                $"-Credential takes a TokenCredential (Azure.Identity, Az.Accounts), an access token for {PageBlobClient.StorageScope} as a string or SecureString, or the output of Get-AzAccessToken -ResourceTypeName Storage; got {value.GetType().FullName}.");
        }

        private static System.Collections.Generic.IEnumerable<Type> BaseTypes(Type type)
        {
            for (Type? t = type; t != null; t = t.BaseType)
            {
                yield return t;
            }
        }

        /// <summary>Get-AzAccessToken's result: Token (string, or SecureString from Az 14) and ExpiresOn.</summary>
        private static bool TryReadAccessToken(object value, out string? token, out DateTimeOffset expiresOn)
        {
            token = null;
            expiresOn = default;
            object? raw = value.GetType().GetProperty("Token")?.GetValue(value);
            object? expiry = value.GetType().GetProperty("ExpiresOn")?.GetValue(value);
            token = raw switch
            {
                string s => s,
                SecureString secure => Reveal(secure),
                _ => null,
            };
            if (string.IsNullOrEmpty(token) || !(expiry is DateTimeOffset when))
            {
                return false;
            }
            expiresOn = when;
            return true;
        }

        private static string Reveal(SecureString secure)
        {
            IntPtr p = Marshal.SecureStringToGlobalAllocUnicode(secure);
            try
            {
                return Marshal.PtrToStringUni(p) ?? string.Empty;
            }
            finally
            {
                Marshal.ZeroFreeGlobalAllocUnicode(p);
            }
        }

        /// <summary>An access token obtained elsewhere (Get-AzAccessToken -ResourceTypeName Storage).</summary>
        private sealed class StaticToken : TokenCredential
        {
            private readonly AccessToken token;

            public StaticToken(string token, DateTimeOffset expiresOn)
            {
                this.token = new AccessToken(token, expiresOn);
            }

            public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) => token;

            public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) => new ValueTask<AccessToken>(token);
        }

        /// <summary>
        /// A TokenCredential of another Azure.Core (Az.Accounts', or the one in the default load context while
        /// ours is isolated): called through reflection, its TokenRequestContext built from ours by
        /// parameter name, since the constructor grew parameters across versions.
        /// </summary>
        private sealed class ForeignTokenCredential : TokenCredential
        {
            private readonly object credential;
            private readonly MethodInfo getToken;
            private readonly ConstructorInfo contextConstructor;

            public ForeignTokenCredential(object credential, Type foreignBase)
            {
                this.credential = credential;
                // Newer versions add GetToken overloads (System.ClientModel's GetTokenOptions): take the classic one.
                getToken = foreignBase.GetMethods().Single(m => m.Name == "GetToken" && m.GetParameters().Length == 2
                    && m.GetParameters()[0].ParameterType.FullName == "Azure.Core.TokenRequestContext");
                Type contextType = getToken.GetParameters()[0].ParameterType;
                contextConstructor = contextType.GetConstructors()
                    .Where(c => c.GetParameters().Length > 0 && c.GetParameters()[0].ParameterType == typeof(string[]))
                    .OrderByDescending(c => c.GetParameters().Length)
                    .First();
            }

            public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
            {
                object foreignContext = contextConstructor.Invoke(contextConstructor.GetParameters().Select(p => Argument(p, requestContext)).ToArray());
                object token;
                try
                {
                    token = getToken.Invoke(credential, new object[] { foreignContext, cancellationToken })!;
                }
                catch (TargetInvocationException e) when (e.InnerException != null)
                {
                    throw new AuthenticationFailedException($"The credential ({credential.GetType().FullName}) failed: {e.InnerException.Message}", e.InnerException);
                }
                Type t = token.GetType();
                return new AccessToken((string)t.GetProperty("Token")!.GetValue(token)!, (DateTimeOffset)t.GetProperty("ExpiresOn")!.GetValue(token)!);
            }

            public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
                new ValueTask<AccessToken>(Task.Run(() => GetToken(requestContext, cancellationToken), cancellationToken));

            private static object? Argument(ParameterInfo p, TokenRequestContext context) => p.Name switch
            {
                "scopes" => context.Scopes,
                "parentRequestId" => context.ParentRequestId,
                "claims" => context.Claims,
                "tenantId" => context.TenantId,
                "isCaeEnabled" => context.IsCaeEnabled,
                _ => p.HasDefaultValue ? p.DefaultValue : (p.ParameterType.IsValueType ? Activator.CreateInstance(p.ParameterType) : null),
            };
        }
    }
}
