using System;
using System.IO;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Provisioning;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Provisioning
{
    public class EndpointDiscoveryTests
    {
        // A dhclient lease as dhclient writes it (two leases: the newer one is appended last).
        private const string DhclientLeases =
            "lease {\n  interface \"eth0\";\n  fixed-address 10.0.0.4;\n  option subnet-mask 255.255.255.0;\n  option dhcp-lease-time 4294967295;\n" +
            "  option routers 10.0.0.1;\n  option dhcp-message-type 5;\n  option dhcp-server-identifier 168.63.129.16;\n  option domain-name-servers 168.63.129.16;\n" +
            "  option unknown-245 a8:3f:81:f;\n  option domain-name \"reddog.microsoft.com\";\n  renew 5 2026/11/20 10:00:00;\n}\n" +
            "lease {\n  interface \"eth0\";\n  fixed-address 10.0.0.4;\n  option unknown-245 a8:3f:81:10;\n  renew 6 2026/11/21 10:00:00;\n}\n";

        private static void Write(string root, string relative, string text, DateTime? mtime = null)
        {
            string path = Path.Combine(root, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, text);
            if (mtime != null)
            {
                File.SetLastWriteTimeUtc(path, mtime.Value);
            }
        }

        [Fact]
        public void NoLeaseMeansTheWellKnownAddress()
        {
            using var root = new TempDirectory();
            ResolvedEndpoint e = WireServerEndpoint.Resolve(null, root.Path);
            Assert.Equal(new Uri("http://168.63.129.16/"), e.Uri);
            Assert.Equal(EndpointSource.WellKnown, e.Source);
        }

        [Fact]
        public void TheLastOption245OfADhclientLeaseWins()
        {
            using var root = new TempDirectory();
            Write(root.Path, "var/lib/dhcp/dhclient.eth0.leases", DhclientLeases);
            ResolvedEndpoint e = WireServerEndpoint.Resolve(null, root.Path);
            Assert.Equal(new Uri("http://168.63.129.16/"), e.Uri);
            Assert.Equal(EndpointSource.DhclientLease, e.Source);
            Assert.EndsWith("dhclient.eth0.leases", e.LeaseFile);
        }

        [Theory]
        [InlineData("option unknown-245 a8:3f:81:f;", "168.63.129.15")]
        [InlineData("option unknown-245 a:0:0:1;", "10.0.0.1")]
        [InlineData("option unknown-245 \"abcd\";", "97.98.99.100")]
        [InlineData("option unknown-245 \"\\250?\\201\\020\";", "168.63.129.16")]
        public void DhclientValueForms(string line, string expected)
        {
            Assert.Equal(expected, DhcpLeases.FromDhclient("lease {\n  " + line + "\n}\n")!.ToString());
        }

        [Theory]
        [InlineData("option unknown-245 zz:3f:81:10;")]
        [InlineData("option unknown-245 a8:3f:81;")]
        [InlineData("option unknown-245 a8:3f:81:10:11;")]
        [InlineData("option unknown-245 0:0:0:0;")]
        [InlineData("option unknown-245 ff:ff:ff:ff;")]
        [InlineData("option unknown-245 \"abc\";")]
        [InlineData("option unknown-245 a8:3f:81:10")]
        [InlineData("option unknown-246 a8:3f:81:10;")]
        public void BadDhclientValuesAreIgnored(string line)
        {
            Assert.Null(DhcpLeases.FromDhclient("lease {\n  " + line + "\n}\n"));
        }

        [Fact]
        public void NetworkdEnvironmentStyleLease()
        {
            using var root = new TempDirectory();
            Write(root.Path, "run/systemd/netif/leases/2",
                "# This is private data. Do not parse.\nADDRESS=10.0.0.4\nNETMASK=255.255.255.0\nROUTER=10.0.0.1\nSERVER_ADDRESS=168.63.129.16\nOPTION_245=a83f8110\n");
            ResolvedEndpoint e = WireServerEndpoint.Resolve(null, root.Path);
            Assert.Equal(new Uri("http://168.63.129.16/"), e.Uri);
            Assert.Equal(EndpointSource.NetworkdLease, e.Source);
            Assert.Equal("168.63.129.16", DhcpLeases.FromNetworkd("OPTION_245=A83F8110\n")!.ToString());
        }

        [Fact]
        public void NetworkdJsonLease()
        {
            using var root = new TempDirectory();
            Write(root.Path, "run/systemd/netif/leases/3",
                "{\n\t\"Address\" : [ 10, 0, 0, 4 ],\n\t\"Private_Options\" : [\n\t\t{ \"Option\" : 224, \"Data\" : \"00\" },\n\t\t{ \"Option\" : 245, \"Data\" : \"a83f8110\" }\n\t]\n}\n");
            ResolvedEndpoint e = WireServerEndpoint.Resolve(null, root.Path);
            Assert.Equal(new Uri("http://168.63.129.16/"), e.Uri);
            Assert.Equal(EndpointSource.NetworkdLease, e.Source);
            Assert.Null(DhcpLeases.FromNetworkd("{\"Private_Options\":[{\"Option\":245,\"Data\":\"a83f81\"}]}"));
            Assert.Null(DhcpLeases.FromNetworkd("{\"Private_Options\":"));
        }

        [Fact]
        public void TheNewestLeaseFileWins()
        {
            using var root = new TempDirectory();
            Write(root.Path, "var/lib/dhclient/dhclient-eth0.leases", "option unknown-245 a:0:0:1;\n", DateTime.UtcNow.AddDays(-2));
            Write(root.Path, "run/systemd/netif/leases/2", "OPTION_245=0A000002\n", DateTime.UtcNow.AddHours(-1));
            Write(root.Path, "var/lib/NetworkManager/dhclient-x-eth0.lease", "option unknown-245 a:0:0:3;\n", DateTime.UtcNow.AddDays(-1));
            Assert.Equal(new Uri("http://10.0.0.2/"), WireServerEndpoint.Resolve(null, root.Path).Uri);
        }

        [Fact]
        public void AnExplicitEndpointWins()
        {
            using var root = new TempDirectory();
            Write(root.Path, "var/lib/dhcp/dhclient.eth0.leases", DhclientLeases);
            ResolvedEndpoint e = WireServerEndpoint.Resolve("127.0.0.1:8080", root.Path);
            Assert.Equal(new Uri("http://127.0.0.1:8080/"), e.Uri);
            Assert.Equal(EndpointSource.Explicit, e.Source);
        }

        [Theory]
        [InlineData("168.63.129.16", "http://168.63.129.16/")]
        [InlineData("http://127.0.0.1:9000", "http://127.0.0.1:9000/")]
        [InlineData("https://wire.example:443/", "https://wire.example/")]
        public void EndpointForms(string input, string expected)
        {
            Assert.Equal(new Uri(expected), WireServerEndpoint.ParseEndpoint(input));
        }

        [Theory]
        [InlineData("")]
        [InlineData("ftp://168.63.129.16")]
        [InlineData("http://168.63.129.16/machine")]
        [InlineData("http://user:pw@168.63.129.16")]
        [InlineData("http://168.63.129.16/?comp=goalstate")]
        public void BadEndpointsAreRefused(string input)
        {
            Assert.Equal("InvalidEndpoint", Assert.Throws<AzureLinuxImageException>(() => WireServerEndpoint.ParseEndpoint(input)).ErrorId);
        }
    }
}
