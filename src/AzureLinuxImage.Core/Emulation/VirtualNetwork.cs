using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading;

namespace AzureLinuxImage.Emulation
{
    /// <summary>
    /// The VM's only network peer, behind QEMU's <c>-netdev socket,udp=</c> (one Ethernet frame per
    /// datagram; the same on Linux, macOS and Windows builds of QEMU). It plays Azure's virtual
    /// network: DHCP with option 245 (waagent 2.7 finds the wire server only that way or through a
    /// route, AZURE-LINUX.md), ARP for every address but the guest's, and just enough TCP to carry
    /// HTTP to 168.63.129.16:80, :32526 (HostGAPlugin) and 169.254.169.254:80. QEMU's user networking
    /// cannot: guestfwd refuses addresses outside its subnet and forwards its host address to the
    /// host's own ports, so IMDS and a free port for the wire server are out of reach.
    /// </summary>
    internal sealed class VirtualNetwork : IDisposable
    {
        internal static readonly IPAddress WireServer = IPAddress.Parse("168.63.129.16");
        internal static readonly IPAddress Imds = IPAddress.Parse("169.254.169.254");
        internal static readonly IPAddress Gateway = IPAddress.Parse("10.0.0.1");
        internal static readonly IPAddress GuestAddress = IPAddress.Parse("10.0.0.4");
        internal const int HostGaPluginPort = 32526;
        private const int Mss = 1400;
        private static readonly byte[] FabricMac = { 0x12, 0x34, 0x56, 0x00, 0x00, 0x01 };

        private readonly Socket _socket;
        private readonly IPEndPoint _qemu;
        private readonly Func<IPAddress, int, byte[], byte[]?> _http;
        private readonly Action<string> _log;
        private readonly object _gate = new object();
        private readonly Dictionary<(int GuestPort, uint Local, int LocalPort), TcpConnection> _connections = new Dictionary<(int, uint, int), TcpConnection>();
        private readonly Thread _receiver;
        private readonly Timer _retransmit;
        private readonly Random _random = new Random();
        private byte[] _guestMac = new byte[6];
        private ushort _ipId;
        private volatile bool _stopped;

        /// <param name="http">Given the destination address, port and the bytes received so far on a connection,
        /// the complete response, or null while the request is incomplete.</param>
        /// <param name="log">Receives one line per notable event (lease given, frame dropped).</param>
        public VirtualNetwork(Func<IPAddress, int, byte[], byte[]?> http, Action<string> log)
        {
            _http = http;
            _log = log;
            _socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            Port = ((IPEndPoint)_socket.LocalEndPoint).Port;
            QemuPort = FreeUdpPort();
            _qemu = new IPEndPoint(IPAddress.Loopback, QemuPort);
            _receiver = new Thread(ReceiveLoop) { IsBackground = true, Name = "VirtualNetwork" };
            _receiver.Start();
            _retransmit = new Timer(_ => Retransmit(), null, 500, 500);
        }

        /// <summary>The UDP port this peer listens on (QEMU's <c>udp=</c>).</summary>
        public int Port { get; }

        /// <summary>The UDP port QEMU binds (its <c>localaddr=</c>), where this peer sends.</summary>
        public int QemuPort { get; }

        private volatile bool leased;

        /// <summary>The guest's lease, once acknowledged (set on the peer's receive thread).</summary>
        public bool Leased => leased;

        /// <summary>The QEMU arguments that connect the VM's virtio NIC to this peer.</summary>
        public string NetdevArgument => $"socket,id=azure0,udp=127.0.0.1:{Port},localaddr=127.0.0.1:{QemuPort}";

        private static int FreeUdpPort()
        {
            using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
            {
                probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                return ((IPEndPoint)probe.LocalEndPoint).Port;
            }
        }

        private void ReceiveLoop()
        {
            var buffer = new byte[65536];
            while (!_stopped)
            {
                int n;
                try
                {
                    EndPoint from = new IPEndPoint(IPAddress.Any, 0);
                    n = _socket.ReceiveFrom(buffer, ref from);
                }
                catch (SocketException)
                {
                    if (_stopped)
                    {
                        return;
                    }
                    continue; // Windows reports ICMP port unreachable (QEMU not up yet) as a receive error
                }
                catch (ObjectDisposedException)
                {
                    return;
                }
                try
                {
                    lock (_gate)
                    {
                        OnFrame(new ReadOnlySpan<byte>(buffer, 0, n));
                    }
                }
                catch (Exception e) when (e is ArgumentException || e is IndexOutOfRangeException)
                {
                    _log("dropped a malformed frame: " + e.Message);
                }
            }
        }

        private void OnFrame(ReadOnlySpan<byte> frame)
        {
            if (frame.Length < 14)
            {
                return;
            }
            ushort type = BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(12));
            if (type == 0x0806)
            {
                OnArp(frame.Slice(6, 6), frame.Slice(14));
            }
            else if (type == 0x0800)
            {
                _guestMac = frame.Slice(6, 6).ToArray();
                OnIPv4(frame.Slice(14));
            }
        }

        private void OnArp(ReadOnlySpan<byte> sourceMac, ReadOnlySpan<byte> arp)
        {
            if (arp.Length < 28 || BinaryPrimitives.ReadUInt16BigEndian(arp.Slice(6)) != 1)
            {
                return;
            }
            uint target = BinaryPrimitives.ReadUInt32BigEndian(arp.Slice(24));
            uint sender = BinaryPrimitives.ReadUInt32BigEndian(arp.Slice(14));
            // Every address but the guest's (and its own probes) is the fabric: one MAC answers for all.
            if (target == 0 || target == Addr(GuestAddress) || target == sender)
            {
                return;
            }
            _guestMac = sourceMac.ToArray();
            var reply = new byte[14 + 28];
            WriteEthernet(reply, 0x0806);
            Span<byte> a = reply.AsSpan(14);
            BinaryPrimitives.WriteUInt16BigEndian(a, 1);
            BinaryPrimitives.WriteUInt16BigEndian(a.Slice(2), 0x0800);
            a[4] = 6;
            a[5] = 4;
            BinaryPrimitives.WriteUInt16BigEndian(a.Slice(6), 2);
            FabricMac.CopyTo(a.Slice(8));
            BinaryPrimitives.WriteUInt32BigEndian(a.Slice(14), target);
            sourceMac.CopyTo(a.Slice(18));
            BinaryPrimitives.WriteUInt32BigEndian(a.Slice(24), sender);
            Send(reply);
        }

        private void OnIPv4(ReadOnlySpan<byte> ip)
        {
            if (ip.Length < 20 || (ip[0] >> 4) != 4)
            {
                return;
            }
            int headerLength = (ip[0] & 0xF) * 4;
            int total = BinaryPrimitives.ReadUInt16BigEndian(ip.Slice(2));
            if (headerLength < 20 || total < headerLength || total > ip.Length)
            {
                return;
            }
            uint source = BinaryPrimitives.ReadUInt32BigEndian(ip.Slice(12));
            uint destination = BinaryPrimitives.ReadUInt32BigEndian(ip.Slice(16));
            ReadOnlySpan<byte> payload = ip.Slice(headerLength, total - headerLength);
            if (ip[9] == 17 && payload.Length >= 8)
            {
                int destinationPort = BinaryPrimitives.ReadUInt16BigEndian(payload.Slice(2));
                if (destinationPort == 67)
                {
                    OnDhcp(payload.Slice(8));
                }
            }
            else if (ip[9] == 6 && payload.Length >= 20)
            {
                OnTcp(source, destination, payload);
            }
        }

        // RFC 2131: DISCOVER -> OFFER, REQUEST -> ACK; the options Azure's DHCP gives (PROTOCOL.md "Endpoint").
        private void OnDhcp(ReadOnlySpan<byte> dhcp)
        {
            if (dhcp.Length < 240 || dhcp[0] != 1 || BinaryPrimitives.ReadUInt32BigEndian(dhcp.Slice(236)) != 0x63825363)
            {
                return;
            }
            int messageType = 0;
            for (int i = 240; i < dhcp.Length && dhcp[i] != 255;)
            {
                if (dhcp[i] == 0)
                {
                    i++;
                    continue;
                }
                if (i + 1 >= dhcp.Length || i + 2 + dhcp[i + 1] > dhcp.Length)
                {
                    return;
                }
                if (dhcp[i] == 53 && dhcp[i + 1] == 1)
                {
                    messageType = dhcp[i + 2];
                }
                i += 2 + dhcp[i + 1];
            }
            int answer = messageType == 1 ? 2 : messageType == 3 || messageType == 8 ? 5 : 0;
            if (answer == 0)
            {
                return;
            }
            var options = new List<byte> { 53, 1, (byte)answer };
            void Option(byte code, params byte[] value)
            {
                options.Add(code);
                options.Add((byte)value.Length);
                options.AddRange(value);
            }
            Option(54, WireServer.GetAddressBytes());
            if (messageType != 8)
            {
                Option(51, 0, 1, 0x51, 0x80); // a day
            }
            Option(1, 255, 255, 255, 0);
            Option(3, Gateway.GetAddressBytes());
            Option(6, WireServer.GetAddressBytes());
            Option(15, System.Text.Encoding.ASCII.GetBytes("reddog.microsoft.com"));
            // option 121: 168.63.129.16/32 and 169.254.169.254/32 via the gateway, as Azure sends
            var routes = new List<byte> { 32 };
            routes.AddRange(WireServer.GetAddressBytes());
            routes.AddRange(Gateway.GetAddressBytes());
            routes.Add(32);
            routes.AddRange(Imds.GetAddressBytes());
            routes.AddRange(Gateway.GetAddressBytes());
            routes.Add(0);
            routes.AddRange(Gateway.GetAddressBytes());
            Option(121, routes.ToArray());
            Option(245, WireServer.GetAddressBytes());
            options.Add(255);

            var reply = new byte[240 + options.Count];
            reply[0] = 2;
            reply[1] = 1;
            reply[2] = 6;
            dhcp.Slice(4, 4).CopyTo(reply.AsSpan(4)); // xid
            dhcp.Slice(10, 2).CopyTo(reply.AsSpan(10)); // flags
            dhcp.Slice(12, 4).CopyTo(reply.AsSpan(12)); // ciaddr
            if (messageType != 8)
            {
                GuestAddress.GetAddressBytes().CopyTo(reply, 16);
            }
            dhcp.Slice(28, 16).CopyTo(reply.AsSpan(28)); // chaddr
            BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(236), 0x63825363);
            options.CopyTo(reply, 240);
            _guestMac = dhcp.Slice(28, 6).ToArray();
            // The lease is recorded before the ACK leaves: whoever sees the ACK sees the lease.
            if (answer == 5 && messageType == 3)
            {
                leased = true;
                _log($"DHCP: leased {GuestAddress} to {BitConverter.ToString(_guestMac)} (option 245 = {WireServer})");
            }
            SendUdp(Addr(WireServer), 67, 0xFFFFFFFF, 68, reply, broadcast: true);
        }

        private void OnTcp(uint guest, uint local, ReadOnlySpan<byte> tcp)
        {
            int guestPort = BinaryPrimitives.ReadUInt16BigEndian(tcp);
            int localPort = BinaryPrimitives.ReadUInt16BigEndian(tcp.Slice(2));
            uint seq = BinaryPrimitives.ReadUInt32BigEndian(tcp.Slice(4));
            uint ack = BinaryPrimitives.ReadUInt32BigEndian(tcp.Slice(8));
            int dataOffset = (tcp[12] >> 4) * 4;
            byte flags = tcp[13];
            if (dataOffset < 20 || dataOffset > tcp.Length)
            {
                return;
            }
            ReadOnlySpan<byte> data = tcp.Slice(dataOffset);
            bool syn = (flags & 0x02) != 0, fin = (flags & 0x01) != 0, rst = (flags & 0x04) != 0, hasAck = (flags & 0x10) != 0;
            var key = (guestPort, local, localPort);
            _connections.TryGetValue(key, out TcpConnection? c);
            if (rst)
            {
                _connections.Remove(key);
                return;
            }
            bool served = (local == Addr(WireServer) && (localPort == 80 || localPort == HostGaPluginPort)) || (local == Addr(Imds) && localPort == 80);
            if (syn && !hasAck)
            {
                if (!served)
                {
                    SendTcp(local, localPort, guest, guestPort, 0, seq + 1, 0x14, Array.Empty<byte>()); // RST|ACK: refused
                    return;
                }
                if (c == null)
                {
                    c = new TcpConnection(local, localPort, guest, guestPort, (uint)_random.Next(), seq + 1);
                    _connections[key] = c;
                }
                SendTcp(local, localPort, guest, guestPort, c.Iss, c.RcvNxt, 0x12, Array.Empty<byte>(), mssOption: true);
                return;
            }
            if (c == null)
            {
                if (!rst)
                {
                    SendTcp(local, localPort, guest, guestPort, ack, 0, 0x04, Array.Empty<byte>());
                }
                return;
            }
            if (hasAck)
            {
                uint acked = ack - (c.Iss + 1);
                if (acked <= (uint)(c.Sent) && acked > (uint)c.Acked)
                {
                    c.Acked = (int)acked;
                }
            }
            bool acceptable = seq == c.RcvNxt;
            if (data.Length > 0 || fin)
            {
                if (acceptable)
                {
                    c.Inbox.AddRange(data.ToArray());
                    c.RcvNxt += (uint)data.Length;
                    if (fin)
                    {
                        c.RcvNxt++;
                        c.FinReceived = true;
                    }
                }
                if (c.Outbox == null && acceptable && data.Length > 0)
                {
                    c.Outbox = _http(ToAddress(local), localPort, c.Inbox.ToArray());
                }
                if (c.Outbox != null && c.Sent == 0)
                {
                    SendPending(c);
                }
                else
                {
                    SendTcp(local, localPort, guest, guestPort, c.Iss + 1 + (uint)c.Sent, c.RcvNxt, 0x10, Array.Empty<byte>());
                }
            }
            if (c.Outbox != null && c.Acked >= c.Outbox.Length + 1 && c.FinReceived)
            {
                _connections.Remove(key);
            }
        }

        private void SendPending(TcpConnection c)
        {
            byte[] outbox = c.Outbox!;
            int offset = c.Acked;
            while (offset < outbox.Length)
            {
                int n = Math.Min(Mss, outbox.Length - offset);
                bool last = offset + n == outbox.Length;
                var segment = new byte[n];
                Array.Copy(outbox, offset, segment, 0, n);
                // the response is the whole exchange (Connection: close): FIN rides on the last segment
                SendTcp(c.Local, c.LocalPort, c.Guest, c.GuestPort, c.Iss + 1 + (uint)offset, c.RcvNxt, (byte)(last ? 0x19 : 0x10), segment);
                offset += n;
            }
            if (outbox.Length == 0)
            {
                SendTcp(c.Local, c.LocalPort, c.Guest, c.GuestPort, c.Iss + 1, c.RcvNxt, 0x11, Array.Empty<byte>());
            }
            c.Sent = outbox.Length + 1;
            c.LastSend = Stopwatch.GetTimestamp();
        }

        private void Retransmit()
        {
            lock (_gate)
            {
                long now = Stopwatch.GetTimestamp();
                var stale = new List<(int, uint, int)>();
                foreach (var entry in _connections)
                {
                    TcpConnection c = entry.Value;
                    double idle = (now - c.LastSend) / (double)Stopwatch.Frequency;
                    if (c.Outbox != null && c.Acked < c.Sent && idle > 1)
                    {
                        SendPending(c); // go-back-N from the first unacknowledged byte
                    }
                    if ((now - c.Created) / (double)Stopwatch.Frequency > 120)
                    {
                        stale.Add(entry.Key);
                    }
                }
                foreach (var key in stale)
                {
                    _connections.Remove(key);
                }
            }
        }

        private void SendTcp(uint source, int sourcePort, uint destination, int destinationPort, uint seq, uint ack, byte flags, byte[] data, bool mssOption = false)
        {
            int headerLength = mssOption ? 24 : 20;
            var tcp = new byte[headerLength + data.Length];
            BinaryPrimitives.WriteUInt16BigEndian(tcp, (ushort)sourcePort);
            BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(2), (ushort)destinationPort);
            BinaryPrimitives.WriteUInt32BigEndian(tcp.AsSpan(4), seq);
            BinaryPrimitives.WriteUInt32BigEndian(tcp.AsSpan(8), ack);
            tcp[12] = (byte)((headerLength / 4) << 4);
            tcp[13] = flags;
            BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(14), 65535);
            if (mssOption)
            {
                tcp[20] = 2;
                tcp[21] = 4;
                BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(22), Mss);
            }
            data.CopyTo(tcp, headerLength);
            BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(16), PseudoChecksum(source, destination, 6, tcp));
            SendIPv4(source, destination, 6, tcp, broadcast: false);
        }

        private void SendUdp(uint source, int sourcePort, uint destination, int destinationPort, byte[] data, bool broadcast)
        {
            var udp = new byte[8 + data.Length];
            BinaryPrimitives.WriteUInt16BigEndian(udp, (ushort)sourcePort);
            BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(2), (ushort)destinationPort);
            BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(4), (ushort)udp.Length);
            data.CopyTo(udp, 8);
            ushort sum = PseudoChecksum(source, destination, 17, udp);
            BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(6), sum == 0 ? (ushort)0xFFFF : sum);
            SendIPv4(source, destination, 17, udp, broadcast);
        }

        private void SendIPv4(uint source, uint destination, byte protocol, byte[] payload, bool broadcast)
        {
            var frame = new byte[14 + 20 + payload.Length];
            WriteEthernet(frame, 0x0800, broadcast);
            Span<byte> ip = frame.AsSpan(14, 20);
            ip[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(2), (ushort)(20 + payload.Length));
            BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(4), _ipId++);
            ip[8] = 64;
            ip[9] = protocol;
            BinaryPrimitives.WriteUInt32BigEndian(ip.Slice(12), source);
            BinaryPrimitives.WriteUInt32BigEndian(ip.Slice(16), destination);
            BinaryPrimitives.WriteUInt16BigEndian(ip.Slice(10), Checksum(0, ip));
            payload.CopyTo(frame, 34);
            Send(frame);
        }

        private void WriteEthernet(byte[] frame, ushort type, bool broadcast = false)
        {
            if (broadcast)
            {
                frame.AsSpan(0, 6).Fill(0xFF);
            }
            else
            {
                _guestMac.CopyTo(frame, 0);
            }
            FabricMac.CopyTo(frame, 6);
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), type);
        }

        private void Send(byte[] frame)
        {
            try
            {
                _socket.SendTo(frame, _qemu);
            }
            catch (SocketException e)
            {
                _log("could not send a frame to QEMU: " + e.Message);
            }
            catch (ObjectDisposedException)
            {
            }
        }

        private static ushort PseudoChecksum(uint source, uint destination, byte protocol, byte[] segment)
        {
            uint sum = (source >> 16) + (source & 0xFFFF) + (destination >> 16) + (destination & 0xFFFF) + protocol + (uint)segment.Length;
            return Checksum(sum, segment);
        }

        // RFC 1071 ones' complement sum
        private static ushort Checksum(uint sum, ReadOnlySpan<byte> data)
        {
            int i = 0;
            for (; i + 1 < data.Length; i += 2)
            {
                sum += BinaryPrimitives.ReadUInt16BigEndian(data.Slice(i));
            }
            if (i < data.Length)
            {
                sum += (uint)(data[i] << 8);
            }
            while ((sum >> 16) != 0)
            {
                sum = (sum & 0xFFFF) + (sum >> 16);
            }
            return (ushort)~sum;
        }

        private static IPAddress ToAddress(uint address)
        {
            var bytes = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(bytes, address);
            return new IPAddress(bytes);
        }

        private static uint Addr(IPAddress address) => BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes());

        public void Dispose()
        {
            _stopped = true;
            _retransmit.Dispose();
            _socket.Dispose();
        }

        private sealed class TcpConnection
        {
            public TcpConnection(uint local, int localPort, uint guest, int guestPort, uint iss, uint rcvNxt)
            {
                Local = local;
                LocalPort = localPort;
                Guest = guest;
                GuestPort = guestPort;
                Iss = iss;
                RcvNxt = rcvNxt;
                Created = Stopwatch.GetTimestamp();
            }

            public uint Local { get; }
            public int LocalPort { get; }
            public uint Guest { get; }
            public int GuestPort { get; }
            public uint Iss { get; }
            public uint RcvNxt { get; set; }
            public long Created { get; }
            public long LastSend { get; set; }
            public List<byte> Inbox { get; } = new List<byte>();
            public byte[]? Outbox { get; set; }
            /// <summary>Sequence space sent and acknowledged, counting the FIN as one.</summary>
            public int Sent { get; set; }
            public int Acked { get; set; }
            public bool FinReceived { get; set; }
        }
    }
}
