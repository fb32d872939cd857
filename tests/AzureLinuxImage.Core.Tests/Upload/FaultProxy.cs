using System;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace AzureLinuxImage.Tests.Upload
{
    /// <summary>
    /// An HTTP proxy on 127.0.0.1 in front of Azurite that answers some Put Page requests with 503
    /// ServerBusy, 500 OperationTimedOut, or no answer at all (a timeout), in a fixed pattern, and
    /// forwards the rest (one request per connection, Connection: close).
    /// </summary>
    internal sealed class FaultProxy : IDisposable
    {
        private readonly TcpListener listener = new TcpListener(IPAddress.Loopback, 0);
        private readonly int upstreamPort;
        private readonly CancellationTokenSource stop = new CancellationTokenSource();
        private readonly int seed;
        private int pagePuts;
        private int busy;
        private int internalErrors;
        private int timeouts;

        public FaultProxy(int upstreamPort, int seed)
        {
            this.upstreamPort = upstreamPort;
            this.seed = seed;
            listener.Start();
            Port = ((IPEndPoint)listener.LocalEndpoint).Port;
            _ = Task.Run(AcceptLoopAsync);
        }

        public int Port { get; }

        public int Busy => Volatile.Read(ref busy);

        public int InternalErrors => Volatile.Read(ref internalErrors);

        public int Timeouts => Volatile.Read(ref timeouts);

        public void Dispose()
        {
            stop.Cancel();
            listener.Stop();
        }

        private async Task AcceptLoopAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await listener.AcceptTcpClientAsync(stop.Token);
                }
                catch (Exception)
                {
                    return;
                }
                _ = Task.Run(() => HandleAsync(client));
            }
        }

        private async Task HandleAsync(TcpClient client)
        {
            using (client)
            {
                try
                {
                    NetworkStream stream = client.GetStream();
                    (string head, byte[] body)? request = await ReadRequestAsync(stream);
                    if (request == null)
                    {
                        return;
                    }
                    string head = request.Value.head;
                    if (head.StartsWith("PUT ", StringComparison.Ordinal) && head.Split('\n')[0].Contains("comp=page"))
                    {
                        int n = Interlocked.Increment(ref pagePuts) + seed;
                        if (n % 7 == 0)
                        {
                            Interlocked.Increment(ref busy);
                            await RespondAsync(stream, "503 Server Busy", "ServerBusy");
                            return;
                        }
                        if (n % 9 == 0)
                        {
                            Interlocked.Increment(ref internalErrors);
                            await RespondAsync(stream, "500 Operation could not be completed within the specified time.", "OperationTimedOut");
                            return;
                        }
                        if (n % 17 == 0)
                        {
                            // No answer: the client's network timeout must fire and the request be retried.
                            Interlocked.Increment(ref timeouts);
                            await Task.Delay(TimeSpan.FromSeconds(4), stop.Token);
                            return;
                        }
                    }
                    await ForwardAsync(stream, head, request.Value.body);
                }
                catch (Exception)
                {
                    // A client that went away: nothing to do.
                }
            }
        }

        private async Task ForwardAsync(NetworkStream client, string head, byte[] body)
        {
            using var upstream = new TcpClient();
            await upstream.ConnectAsync(IPAddress.Loopback, upstreamPort);
            NetworkStream u = upstream.GetStream();
            var lines = new StringBuilder();
            foreach (string line in head.Split("\r\n"))
            {
                if (line.Length > 0 && !line.StartsWith("Connection:", StringComparison.OrdinalIgnoreCase))
                {
                    lines.Append(line).Append("\r\n");
                }
            }
            lines.Append("Connection: close\r\n\r\n");
            byte[] h = Encoding.ASCII.GetBytes(lines.ToString());
            await u.WriteAsync(h);
            await u.WriteAsync(body);
            await u.CopyToAsync(client);
        }

        private static async Task RespondAsync(NetworkStream stream, string status, string code)
        {
            byte[] response = Encoding.ASCII.GetBytes($"HTTP/1.1 {status}\r\nx-ms-error-code: {code}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            await stream.WriteAsync(response);
        }

        private static async Task<(string head, byte[] body)?> ReadRequestAsync(NetworkStream stream)
        {
            var headBytes = new MemoryStream();
            byte[] one = new byte[1];
            while (true)
            {
                int n = await stream.ReadAsync(one);
                if (n == 0)
                {
                    return null;
                }
                headBytes.WriteByte(one[0]);
                long len = headBytes.Length;
                byte[] b = headBytes.GetBuffer();
                if (len >= 4 && b[len - 4] == '\r' && b[len - 3] == '\n' && b[len - 2] == '\r' && b[len - 1] == '\n')
                {
                    break;
                }
            }
            string head = Encoding.ASCII.GetString(headBytes.ToArray());
            long contentLength = 0;
            foreach (string line in head.Split("\r\n"))
            {
                if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                {
                    contentLength = long.Parse(line.Substring(15).Trim());
                }
            }
            byte[] body = new byte[contentLength];
            await stream.ReadExactlyAsync(body);
            return (head.TrimEnd('\r', '\n'), body);
        }
    }
}
