using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Xml;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Provisioning;
using Xunit;
using static AzureLinuxImage.Tests.Provisioning.ProvisioningFixtures;

namespace AzureLinuxImage.Tests.Provisioning
{
    public class HealthReportTests
    {
        private static GoalState Goal(string incarnation = "1", string containerId = ContainerId, string instanceId = InstanceId) =>
            new GoalState("2010-12-15", incarnation, "Started", containerId, instanceId, "Started", new Dictionary<string, string>());

        private static XmlDocument Load(string xml)
        {
            var doc = new XmlDocument();
            using var reader = XmlReader.Create(new StringReader(xml), new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit });
            doc.Load(reader);
            return doc;
        }

        [Fact]
        public void ReadyBodyMatchesWhatTheSeedVmSentAndAzureAccepted()
        {
            // goalstate-seed-journal.txt: the ids of a real VM and the body that got "200 OK".
            string[] journal = Text("goalstate-seed-journal.txt").Split('\n');
            string container = journal.Single(l => l.StartsWith("ContainerId: ")).Substring("ContainerId: ".Length).Trim();
            string instance = journal.Single(l => l.StartsWith("InstanceId: ")).Substring("InstanceId: ".Length).Trim();
            string sent = journal.Single(l => l.StartsWith("Health sent: ")).Substring("Health sent: ".Length).Trim();

            string body = HealthReport.Build(Goal("1", container, instance), HealthState.Ready, null, null);
            Assert.Equal("<?xml version=\"1.0\" encoding=\"utf-8\"?>" + sent, body);
        }

        [Fact]
        public void IncarnationIsEchoedNotConstant()
        {
            string body = HealthReport.Build(Goal("42"), HealthState.Ready, null, null);
            Assert.Equal(ReadyBody("42"), body);
            Assert.Equal("42", Load(body).SelectSingleNode("/Health/GoalStateIncarnation")!.InnerText);
        }

        [Fact]
        public void NotReadyCarriesSubStatusAndDescription()
        {
            string body = HealthReport.Build(Goal("3"), HealthState.NotReady, ProvisioningSubStatus.ProvisioningFailed, "sshd failed");
            Assert.Equal("<?xml version=\"1.0\" encoding=\"utf-8\"?><Health><GoalStateIncarnation>3</GoalStateIncarnation><Container><ContainerId>" + ContainerId +
                "</ContainerId><RoleInstanceList><Role><InstanceId>" + InstanceId + "</InstanceId><Health><State>NotReady</State><Details><SubStatus>ProvisioningFailed</SubStatus>" +
                "<Description>sshd failed</Description></Details></Health></Role></RoleInstanceList></Container></Health>", body);
        }

        [Fact]
        public void EveryValueIsEscapedAndSurvivesARoundTrip()
        {
            const string hostile = "a<b>&c\"d'e</Description></Details><State>Ready</State>\r\n";
            string body = HealthReport.Build(Goal("7", "id<&>\"'", "inst</InstanceId>"), HealthState.NotReady, ProvisioningSubStatus.ProvisioningFailed, hostile);
            XmlDocument doc = Load(body);
            Assert.Equal("id<&>\"'", doc.SelectSingleNode("/Health/Container/ContainerId")!.InnerText);
            Assert.Equal("inst</InstanceId>", doc.SelectSingleNode("/Health/Container/RoleInstanceList/Role/InstanceId")!.InnerText);
            Assert.Equal(hostile, doc.SelectSingleNode("//Description")!.InnerText);
            Assert.Single(doc.SelectNodes("//State")!.Cast<XmlNode>());
            Assert.Equal("NotReady", doc.SelectSingleNode("//State")!.InnerText);
        }

        [Fact]
        public void CharactersXmlCannotCarryAreReplaced()
        {
            string body = HealthReport.Build(Goal(), HealthState.NotReady, ProvisioningSubStatus.ProvisioningFailed, "bell\u0007 lone\uD800 nul\0 ok\U0001F600");
            Assert.Equal("bell\uFFFD lone\uFFFD nul\uFFFD ok\U0001F600", Load(body).SelectSingleNode("//Description")!.InnerText);
        }

        [Theory]
        [InlineData("&", 10000)]
        [InlineData("<>", 5000)]
        [InlineData("\U0001F600", 3000)]
        [InlineData("é", 5000)]
        [InlineData("x", 5000)]
        [InlineData("a&\U0001F600'", 2000)]
        public void LongDescriptionsAreTrimmedAtAWholeUnitBelowTheLimit(string unit, int repeat)
        {
            string description = string.Concat(Enumerable.Repeat(unit, repeat));
            AssertTrimmedSafely(description);
        }

        [Fact]
        public void RandomDescriptionsAreTrimmedSafely()
        {
            var random = new Random(4096);
            string[] alphabet = { "a", "&", "<", ">", "\"", "'", "é", "€", "\U0001F600", "\U00010348", "\r", "\n", "\u0001", "\uD800", " " };
            for (int i = 0; i < 300; i++)
            {
                var sb = new StringBuilder();
                int n = random.Next(500, 6000);
                for (int k = 0; k < n; k++)
                {
                    sb.Append(alphabet[random.Next(alphabet.Length)]);
                }
                AssertTrimmedSafely(sb.ToString());
            }
        }

        private static void AssertTrimmedSafely(string description)
        {
            string escaped = HealthReport.EscapeDescription(description);
            // Whatever the fabric counts (characters or bytes), it stays below 4096.
            Assert.True(Encoding.UTF8.GetByteCount(escaped) <= 4000, $"{Encoding.UTF8.GetByteCount(escaped)} bytes");
            Assert.True(escaped.Length < 4096);
            // Parses: no escape sequence or surrogate pair was cut.
            string body = HealthReport.Build(Goal(), HealthState.NotReady, ProvisioningSubStatus.ProvisioningFailed, description);
            string text = Load(body).SelectSingleNode("//Description")!.InnerText;
            Assert.False(text.Length > 0 && char.IsHighSurrogate(text[text.Length - 1]));
            string sanitized = Sanitize(description);
            if (Encoding.UTF8.GetByteCount(ProvisioningXml.Escape(description)) <= 4000)
            {
                Assert.Equal(sanitized, text);
            }
            else
            {
                Assert.EndsWith("...", text);
                string kept = text.Substring(0, text.Length - 3);
                Assert.StartsWith(kept, sanitized, StringComparison.Ordinal);
                Assert.True(kept.Length > 0);
            }
        }

        /// <summary>What the reader gives back: invalid characters as U+FFFD, CR kept (it was escaped).</summary>
        private static string Sanitize(string s)
        {
            var sb = new StringBuilder();
            for (int i = 0; i < s.Length; i++)
            {
                char c = s[i];
                if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
                {
                    sb.Append(c).Append(s[++i]);
                }
                else if (char.IsSurrogate(c) || (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == '\uFFFE' || c == '\uFFFF')
                {
                    sb.Append('\uFFFD');
                }
                else
                {
                    sb.Append(c);
                }
            }
            return sb.ToString();
        }

        [Fact]
        public void ReadyWithDetailsOrWithoutRoleInstanceIsRefused()
        {
            Assert.Equal("InvalidHealthReport", Assert.Throws<AzureLinuxImageException>(() =>
                HealthReport.Build(Goal(), HealthState.Ready, ProvisioningSubStatus.Provisioning, null)).ErrorId);
            var noRole = new GoalState(null, "1", null, ContainerId, null, null, new Dictionary<string, string>());
            Assert.Equal("GoalStateNotReady", Assert.Throws<AzureLinuxImageException>(() =>
                HealthReport.Build(noRole, HealthState.Ready, null, null)).ErrorId);
        }
    }
}
