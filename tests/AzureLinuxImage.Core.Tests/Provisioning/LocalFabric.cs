using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;

namespace AzureLinuxImage.Tests.Provisioning
{
    /// <summary>One request as it arrived on the wire.</summary>
    public sealed record RecordedRequest(string Method, string Target, IReadOnlyList<KeyValuePair<string, string>> Headers, string Body, TimeSpan At)
    {
        /// <summary>The value of a header (case-insensitive name), or null; fails when it was sent twice.</summary>
        public string? Header(string name)
        {
            var values = Headers.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).ToList();
            if (values.Count > 1)
            {
                throw new InvalidOperationException($"Header {name} was sent {values.Count} times.");
            }
            return values.SingleOrDefault();
        }

        /// <summary>The request's bytes as they arrived (head and body).</summary>
        public byte[] Raw { get; init; } = Array.Empty<byte>();

        public override string ToString() => $"{Method} {Target}";
    }

    /// <summary>What the fabric does with a request.</summary>
    public abstract record Reply
    {
        /// <summary>A complete response.</summary>
        public static Reply Status(int code, string body = "", string contentType = "text/xml; charset=utf-8") => new StatusReply(code, body, contentType, TimeSpan.Zero, 0);

        /// <summary>Headers at once, then the body <paramref name="chunk"/> bytes at a time every <paramref name="interval"/>.</summary>
        public static Reply Slow(int code, string body, TimeSpan interval, int chunk = 64, string contentType = "text/xml; charset=utf-8") => new StatusReply(code, body, contentType, interval, chunk);

        /// <summary>A throttling answer with a Retry-After header (seconds or an HTTP date).</summary>
        public static Reply Throttled(int code, string retryAfter) => new StatusReply(code, "", "text/xml; charset=utf-8", TimeSpan.Zero, 0) { ExtraHeaders = $"Retry-After: {retryAfter}\r\n" };

        /// <summary>Accept the request and never answer (until the fabric is disposed).</summary>
        public static Reply Hang { get; } = new HangReply();

        /// <summary>Close the connection without an answer.</summary>
        public static Reply Drop { get; } = new DropReply();
    }

    public sealed record StatusReply(int Code, string Body, string ContentType, TimeSpan Interval, int Chunk) : Reply
    {
        /// <summary>Further header lines, each ending in CRLF.</summary>
        public string ExtraHeaders { get; init; } = "";
    }
    public sealed record HangReply : Reply;
    /// <summary>A whole HTTP response written as it is (the emulated fabric's own bytes).</summary>
    public sealed record RawReply(byte[] Response) : Reply;
    public sealed record DropReply : Reply;

    /// <summary>
    /// A real HTTP/1.1 server on 127.0.0.1 (a TcpListener, so faults are exact): every request recorded,
    /// answers scripted per "METHOD target" (the last reply of a script repeats; unknown routes get 404),
    /// or every request answered by the rehearsal's <see cref="AzureLinuxImage.Emulation.EmulatedFabric"/>
    /// (<see cref="Serving"/>), so host-side clients are checked against the fabric the VM talks to.
    /// Optionally refuses connections (nothing listening) until <c>startAfter</c> has passed.
    /// </summary>
    public sealed class LocalFabric : IDisposable
    {
        private readonly object _gate = new object();
        private readonly List<RecordedRequest> _requests = new List<RecordedRequest>();
        private readonly Dictionary<string, Queue<Reply>> _scripts = new Dictionary<string, Queue<Reply>>(StringComparer.Ordinal);
        private readonly Dictionary<string, Func<RecordedRequest, Reply>> _handlers = new Dictionary<string, Func<RecordedRequest, Reply>>(StringComparer.Ordinal);
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly Thread _acceptLoop;
        private TcpListener? _listener;
        private Func<RecordedRequest, Reply>? _fallback;

        public LocalFabric(TimeSpan? startAfter = null)
        {
            // Reserve a free port; with startAfter nothing listens on it at first, so connections are refused.
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            Port = ((IPEndPoint)probe.LocalEndpoint).Port;
            if (startAfter == null)
            {
                _listener = probe;
                StartedAt = TimeSpan.Zero;
            }
            else
            {
                probe.Stop();
            }
            _acceptLoop = new Thread(() => AcceptLoop(startAfter ?? TimeSpan.Zero)) { IsBackground = true, Name = "LocalFabric accept" };
            _acceptLoop.Start();
        }

        public int Port { get; }
        public string Endpoint => $"http://127.0.0.1:{Port}";
        public TimeSpan? StartedAt { get; private set; }

        public IReadOnlyList<RecordedRequest> Requests
        {
            get
            {
                lock (_gate)
                {
                    return _requests.ToList();
                }
            }
        }

        /// <summary>Scripts the answers to "METHOD target"; the last one repeats.</summary>
        public LocalFabric On(string method, string target, params Reply[] replies)
        {
            lock (_gate)
            {
                _scripts[method + " " + target] = new Queue<Reply>(replies);
            }
            return this;
        }

        /// <summary>
        /// A server answering every request as the emulated fabric answers the guest at <paramref name="servedAs"/>:<paramref name="servedPort"/>
        /// (wire server, HostGAPlugin or IMDS); the fabric records the requests too.
        /// </summary>
        internal static LocalFabric Serving(AzureLinuxImage.Emulation.EmulatedFabric fabric, IPAddress servedAs, int servedPort)
        {
            var server = new LocalFabric();
            server._fallback = request => fabric.Handle(servedAs, servedPort, request.Raw) is byte[] response
                ? new RawReply(response)
                : Reply.Status(400, "the emulated fabric could not parse the request", "text/plain");
            return server;
        }

        /// <summary>Answers "METHOD target" with a function of the request.</summary>
        public LocalFabric On(string method, string target, Func<RecordedRequest, Reply> handler)
        {
            lock (_gate)
            {
                _handlers[method + " " + target] = handler;
            }
            return this;
        }

        // Dedicated threads and blocking I/O: the server keeps its timing even when the thread pool is
        // busy with the client under test (tests block on it) and with parallel test classes.
        private void AcceptLoop(TimeSpan startAfter)
        {
            try
            {
                if (_listener == null)
                {
                    if (_stop.Token.WaitHandle.WaitOne(startAfter))
                    {
                        return;
                    }
                    var listener = new TcpListener(IPAddress.Loopback, Port);
                    listener.Start();
                    lock (_gate)
                    {
                        _listener = listener;
                        StartedAt = _clock.Elapsed;
                    }
                }
                while (!_stop.IsCancellationRequested)
                {
                    TcpClient client = _listener!.AcceptTcpClient();
                    new Thread(() => Serve(client)) { IsBackground = true, Name = "LocalFabric connection" }.Start();
                }
            }
            catch (Exception e) when (e is ObjectDisposedException || e is SocketException || e is InvalidOperationException)
            {
            }
        }

        private void Serve(TcpClient client)
        {
            using (client)
            {
                try
                {
                    client.ReceiveTimeout = 10000;
                    NetworkStream stream = client.GetStream();
                    RecordedRequest? request = ReadRequest(stream);
                    if (request == null)
                    {
                        return;
                    }
                    Reply reply;
                    lock (_gate)
                    {
                        _requests.Add(request);
                        reply = Choose(request);
                    }
                    switch (reply)
                    {
                        case HangReply:
                            _stop.Token.WaitHandle.WaitOne();
                            break;
                        case DropReply:
                            client.Client.LingerState = new LingerOption(true, 0);
                            break;
                        case StatusReply s:
                            Write(stream, s);
                            break;
                        case RawReply r:
                            stream.Write(r.Response, 0, r.Response.Length);
                            break;
                    }
                }
                catch (Exception e) when (e is IOException || e is SocketException || e is ObjectDisposedException)
                {
                }
            }
        }

        private Reply Choose(RecordedRequest request)
        {
            string key = request.Method + " " + request.Target;
            if (_handlers.TryGetValue(key, out var handler))
            {
                return handler(request);
            }
            if (_scripts.TryGetValue(key, out var queue) && queue.Count > 0)
            {
                return queue.Count > 1 ? queue.Dequeue() : queue.Peek();
            }
            return _fallback != null ? _fallback(request) : Reply.Status(404, "no route " + key, "text/plain");
        }

        private RecordedRequest? ReadRequest(NetworkStream stream)
        {
            var head = new List<byte>();
            while (!EndsWithBlankLine(head))
            {
                int b = stream.ReadByte();
                if (b < 0 || head.Count > 64 * 1024)
                {
                    return null;
                }
                head.Add((byte)b);
            }
            string[] lines = Encoding.ASCII.GetString(head.ToArray()).Split("\r\n");
            string[] requestLine = lines[0].Split(' ');
            var headers = new List<KeyValuePair<string, string>>();
            foreach (string line in lines.Skip(1).Where(l => l.Length > 0))
            {
                int colon = line.IndexOf(':');
                headers.Add(new KeyValuePair<string, string>(line.Substring(0, colon), line.Substring(colon + 1).Trim()));
            }
            int length = int.Parse(headers.FirstOrDefault(h => h.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)).Value ?? "0");
            var body = new byte[length];
            int read = 0;
            while (read < length)
            {
                int n = stream.Read(body, read, length - read);
                if (n == 0)
                {
                    return null;
                }
                read += n;
            }
            return new RecordedRequest(requestLine[0], requestLine[1], headers, Encoding.UTF8.GetString(body), _clock.Elapsed) { Raw = head.Concat(body).ToArray() };
        }

        private static bool EndsWithBlankLine(List<byte> b) =>
            b.Count >= 4 && b[b.Count - 4] == '\r' && b[b.Count - 3] == '\n' && b[b.Count - 2] == '\r' && b[b.Count - 1] == '\n';

        private void Write(NetworkStream stream, StatusReply reply)
        {
            byte[] body = Encoding.UTF8.GetBytes(reply.Body);
            string head = $"HTTP/1.1 {reply.Code} {Reason(reply.Code)}\r\nContent-Type: {reply.ContentType}\r\nContent-Length: {body.Length}\r\n{reply.ExtraHeaders}Connection: close\r\n\r\n";
            byte[] headBytes = Encoding.ASCII.GetBytes(head);
            stream.Write(headBytes, 0, headBytes.Length);
            if (reply.Chunk <= 0)
            {
                stream.Write(body, 0, body.Length);
                return;
            }
            for (int offset = 0; offset < body.Length; offset += reply.Chunk)
            {
                if (_stop.Token.WaitHandle.WaitOne(reply.Interval))
                {
                    return;
                }
                stream.Write(body, offset, Math.Min(reply.Chunk, body.Length - offset));
                stream.Flush();
            }
        }

        private static string Reason(int code) => code switch
        {
            200 => "OK",
            201 => "Created",
            202 => "Accepted",
            400 => "Bad Request",
            401 => "Unauthorized",
            404 => "Not Found",
            410 => "Gone",
            429 => "Too Many Requests",
            500 => "Internal Server Error",
            503 => "Service Unavailable",
            _ => "Status",
        };

        public void Dispose()
        {
            _stop.Cancel();
            lock (_gate)
            {
                _listener?.Stop();
            }
            _acceptLoop.Join(TimeSpan.FromSeconds(5));
        }
    }
}
