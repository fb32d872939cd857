using System;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading;

namespace AzureLinuxImage.Emulation
{
    /// <summary>
    /// Serves an <see cref="EmulatedFabric"/> on 127.0.0.1 as if it were the given address and port
    /// (wire server, HostGAPlugin or IMDS), so host-side clients such as <c>azlinux ready</c> can be
    /// checked against the same fabric the VM talks to through <see cref="VirtualNetwork"/>.
    /// </summary>
    internal sealed class LoopbackFabricServer : IDisposable
    {
        private readonly EmulatedFabric _fabric;
        private readonly IPAddress _servedAs;
        private readonly int _servedPort;
        private readonly TcpListener _listener;
        private readonly Thread _accept;

        public LoopbackFabricServer(EmulatedFabric fabric, IPAddress servedAs, int servedPort)
        {
            _fabric = fabric;
            _servedAs = servedAs;
            _servedPort = servedPort;
            _listener = new TcpListener(IPAddress.Loopback, 0);
            _listener.Start();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            _accept = new Thread(AcceptLoop) { IsBackground = true, Name = "LoopbackFabricServer" };
            _accept.Start();
        }

        /// <summary>The loopback port.</summary>
        public int Port { get; }

        private void AcceptLoop()
        {
            try
            {
                while (true)
                {
                    TcpClient client = _listener.AcceptTcpClient();
                    new Thread(() => Serve(client)) { IsBackground = true, Name = "LoopbackFabricServer connection" }.Start();
                }
            }
            catch (Exception e) when (e is SocketException || e is ObjectDisposedException || e is InvalidOperationException)
            {
            }
        }

        private void Serve(TcpClient client)
        {
            using (client)
            {
                try
                {
                    client.ReceiveTimeout = 30000;
                    NetworkStream stream = client.GetStream();
                    var received = new MemoryStream();
                    var buffer = new byte[8192];
                    while (true)
                    {
                        int n = stream.Read(buffer, 0, buffer.Length);
                        if (n <= 0)
                        {
                            return;
                        }
                        received.Write(buffer, 0, n);
                        byte[]? response = _fabric.Handle(_servedAs, _servedPort, received.ToArray());
                        if (response != null)
                        {
                            stream.Write(response, 0, response.Length);
                            return;
                        }
                    }
                }
                catch (Exception e) when (e is IOException || e is SocketException || e is ObjectDisposedException)
                {
                }
            }
        }

        public void Dispose() => _listener.Stop();
    }
}
