using System.Threading.Tasks;
using Azure.Core;
using Azure.Core.Pipeline;

namespace AzureLinuxImage.Azure
{
    /// <summary>
    /// Sits inside Azure.Core's retry loop, so it sees every attempt: tells the concurrency limiter
    /// about busy answers even when the retry policy hides them behind a later success.
    /// </summary>
    internal sealed class ThrottleObserverPolicy : HttpPipelinePolicy
    {
        private readonly AdaptiveConcurrency limiter;

        public ThrottleObserverPolicy(AdaptiveConcurrency limiter)
        {
            this.limiter = limiter;
        }

        public override void Process(HttpMessage message, System.ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            ProcessNext(message, pipeline);
            Observe(message);
        }

        public override async ValueTask ProcessAsync(HttpMessage message, System.ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
            Observe(message);
        }

        private void Observe(HttpMessage message)
        {
            int status = message.HasResponse ? message.Response.Status : 0;
            if (status == 503 || status == 500 || status == 429)
            {
                limiter.OnThrottled();
            }
            else if (status >= 200 && status < 300)
            {
                limiter.OnSucceeded();
            }
        }
    }
}
