using System;
using System.Linq;
using System.Text;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Provisioning;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;
using static AzureLinuxImage.Tests.Provisioning.ProvisioningFixtures;

namespace AzureLinuxImage.Tests.Provisioning
{
    public class GoalStateParserTests
    {
        private static GoalState Parse(string xml) => GoalStateParser.Parse(Encoding.UTF8.GetBytes(xml));

        private static void AssertInvalid(string xml, string fragment)
        {
            var e = Assert.ThrowsAny<AzureLinuxImageException>(() => Parse(xml));
            Assert.Equal("InvalidGoalState", e.ErrorId);
            Assert.Equal(ErrorKind.InvalidData, e.Kind);
            Assert.Contains(fragment, e.Message, StringComparison.OrdinalIgnoreCase);
        }

        [Fact]
        public void ReadsTheWALinuxAgentSample()
        {
            GoalState g = Parse(GoalStateXml);
            Assert.Equal("2010-12-15", g.Version);
            Assert.Equal("1", g.Incarnation);
            Assert.Equal("Started", g.ExpectedState);
            Assert.Equal(ContainerId, g.ContainerId);
            Assert.Equal(InstanceId, g.InstanceId);
            Assert.Equal("Started", g.RoleState);
            Assert.Equal("http://168.63.129.16:80/hostingenvuri/", g.Configuration["HostingEnvironmentConfig"]);
            Assert.Equal("http://168.63.129.16:80/extensionsconfiguri/", g.Configuration["ExtensionsConfig"]);
            Assert.Equal("DummyRoleConfigName.xml", g.Configuration["ConfigName"]);
            Assert.Equal(6, g.Configuration.Count);
        }

        [Fact]
        public void ConfigurationUrisAreUnescaped()
        {
            GoalState g = Parse(GoalStateXml.Replace("http://168.63.129.16:80/fullconfiguri/", "http://168.63.129.16:80/machine/?comp=config&amp;type=fullConfig&amp;incarnation=1"));
            Assert.Equal("http://168.63.129.16:80/machine/?comp=config&type=fullConfig&incarnation=1", g.Configuration["FullConfig"]);
        }

        [Fact]
        public void AGoalStateWithoutRoleInstanceIsNotReadyYet()
        {
            GoalState g = Parse(GoalStateWithoutRoleInstance);
            Assert.False(g.HasRoleInstance);
            Assert.Null(g.InstanceId);
            Assert.Equal(ContainerId, g.ContainerId);
        }

        [Fact]
        public void RequiredFieldsAreValidated()
        {
            AssertInvalid(GoalStateXml.Replace("<ContainerId>c6d5526c-5ac2-4200-b6e2-56f2b70c5ab2</ContainerId>", ""), "ContainerId");
            AssertInvalid(GoalStateXml.Replace("<InstanceId>MachineRole_IN_0</InstanceId>", "<InstanceId>  </InstanceId>"), "InstanceId");
            AssertInvalid(GoalStateXml.Replace("<Incarnation>1</Incarnation>", ""), "Incarnation");
            AssertInvalid(GoalStateXml.Replace("<Incarnation>1</Incarnation>", "<Incarnation>1; DROP</Incarnation>"), "not a non-negative integer");
            AssertInvalid(GoalStateXml.Replace("<Incarnation>1</Incarnation>", "<Incarnation>99999999999999999999</Incarnation>"), "Incarnation");
            AssertInvalid(GoalStateXml.Replace("<Incarnation>1</Incarnation>", "<Incarnation><b>1</b></Incarnation>"), "Incarnation");
            AssertInvalid("<?xml version=\"1.0\"?><Health/>", "not <GoalState>");
            AssertInvalid(GoalStateXml.Replace("<Container>", "<Kontainer>").Replace("</Container>", "</Kontainer>"), "Container");
            AssertInvalid(GoalStateXml.Replace("<ContainerId>c6d5526c", "<ContainerId>c6d5526c&#1;"), "");
        }

        [Fact]
        public void MalformedXmlIsATypedError()
        {
            AssertInvalid(GoalStateXml.Substring(0, GoalStateXml.Length / 2), "not well-formed");
            AssertInvalid("<html><body>502 Bad Gateway</body>", "");
            AssertInvalid("", "");
        }

        [Fact]
        public void DtdsAreProhibitedSoNoEntityIsExpanded()
        {
            const string bomb = "<?xml version=\"1.0\"?><!DOCTYPE GoalState [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]>" +
                "<GoalState><Incarnation>1</Incarnation><Container><ContainerId>&c;</ContainerId></Container></GoalState>";
            AssertInvalid(bomb, "DTD");
            const string external = "<?xml version=\"1.0\"?><!DOCTYPE GoalState [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><GoalState><Incarnation>1</Incarnation><Container><ContainerId>&x;</ContainerId></Container></GoalState>";
            AssertInvalid(external, "DTD");
        }

        [Fact]
        public void OversizedDocumentsAreRefusedBeforeParsing()
        {
            var big = new byte[ProvisioningXml.MaxDocumentBytes + 1];
            var e = Assert.Throws<AzureLinuxImageException>(() => GoalStateParser.Parse(big));
            Assert.Contains("limit", e.Message);
        }

        [Fact]
        public void MutatedSamplesEitherParseOrFailTyped()
        {
            byte[] original = Encoding.UTF8.GetBytes(GoalStateXml);
            byte[] mutated = original;
            FuzzOutcome outcome = FuzzHarness.Run(new FuzzRun("goal state", 20261122, 1000)
            {
                Mutate = (random, _) =>
                {
                    mutated = (byte[])original.Clone();
                    int flips = 1 + random.Next(4);
                    for (int f = 0; f < flips; f++)
                    {
                        mutated[random.Next(mutated.Length)] = (byte)random.Next(256);
                    }
                },
                Exercise = (_, _) =>
                {
                    GoalState g = GoalStateParser.Parse(mutated);
                    Assert.False(string.IsNullOrEmpty(g.ContainerId));
                    Assert.Matches("^[0-9]+$", g.Incarnation);
                },
                Describe = () => Encoding.UTF8.GetString(mutated),
                Classify = e => e.Kind.ToString(),
                PerCaseTime = TimeSpan.FromMilliseconds(500),
                PerCaseAllocation = 4 * 1024 * 1024,
            });
            int parsed = outcome.Completed, rejected = outcome.TypedErrors;
            Assert.Equal(new[] { nameof(ErrorKind.InvalidData) }, outcome.ByError.Keys.ToArray());
            Assert.True(parsed > 0 && rejected > 0, $"parsed {parsed}, rejected {rejected}");
        }
    }
}
