namespace AzureLinuxImage.Tests.Infrastructure
{
    /// <summary>Runs the real azlinux CLI in a child process.</summary>
    public static class AzLinux
    {
        public static ToolResult Run(params string[] args)
        {
            var all = new string[args.Length + 1];
            all[0] = Repository.CliDll;
            args.CopyTo(all, 1);
            return ExternalTool.Run("dotnet", all, check: false);
        }
    }
}
