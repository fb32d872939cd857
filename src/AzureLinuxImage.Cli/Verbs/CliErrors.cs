using System;
using System.IO;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.Cli.Verbs
{
    /// <summary>Runs a verb's body: errors go to stderr as "azlinux: &lt;ErrorId&gt;: message" with a non-zero exit code; Ctrl+C exits 130.</summary>
    internal static class CliErrors
    {
        public const int Failure = 1;

        /// <summary>Exit code after Ctrl+C, as shells report SIGINT.</summary>
        public const int Cancelled = 130;

        /// <param name="body">The verb's work.</param>
        /// <param name="failure">Exit code for an error (azlinux test uses 2: "could not inspect", 1 being "a rule failed").</param>
        public static int Run(Func<int> body, int failure = Failure)
        {
            try
            {
                return body();
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine("azlinux: OperationStopped: cancelled.");
                return Cancelled;
            }
            catch (AzureLinuxImageException e)
            {
                Console.Error.WriteLine($"azlinux: {e.ErrorId}: {e.Message}");
                return failure;
            }
            catch (IOException e)
            {
                Console.Error.WriteLine($"azlinux: IOError: {e.Message}");
                return failure;
            }
            catch (UnauthorizedAccessException e)
            {
                Console.Error.WriteLine($"azlinux: AccessDenied: {e.Message}");
                return failure;
            }
        }
    }
}
