using System.Threading;

namespace AzureLinuxImage.Operations
{
    /// <summary>
    /// What an operation needs from whoever runs it (a cmdlet, a CLI verb, a test): confirmation,
    /// progress, messages and cancellation. Operations call it on the thread that called them.
    /// </summary>
    internal interface IOperationContext
    {
        CancellationToken Cancellation { get; }

        /// <summary>False when the user declined (or -WhatIf): the operation then changes nothing.</summary>
        bool ShouldProcess(string target, string action);

        /// <summary>Progress of the current step; <paramref name="done"/> == <paramref name="total"/> completes it.</summary>
        void Progress(string activity, string status, long done, long total);

        void Verbose(string message);

        void Warning(string message);
    }

    /// <summary>A context that confirms everything and reports nothing: for tests and library callers.</summary>
    internal sealed class SilentContext : IOperationContext
    {
        public SilentContext(CancellationToken cancellation = default)
        {
            Cancellation = cancellation;
        }

        public CancellationToken Cancellation { get; }

        public System.Collections.Generic.List<string> Warnings { get; } = new System.Collections.Generic.List<string>();

        public bool ShouldProcess(string target, string action) => true;

        public void Progress(string activity, string status, long done, long total)
        {
        }

        public void Verbose(string message)
        {
        }

        public void Warning(string message) => Warnings.Add(message);
    }
}
