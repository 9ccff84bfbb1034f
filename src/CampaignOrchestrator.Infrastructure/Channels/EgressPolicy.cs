using System.Net;
using System.Net.Sockets;

namespace CampaignOrchestrator.Infrastructure.Channels;

/// <summary>
/// Where a marketer's webhook may go. The rules name any URL; without care it reaches the worker's own API on loopback,
/// a cloud's metadata service (169.254.169.254) or the shop's private network. So the connection itself (not the URL's
/// text, which DNS can point anywhere, nor a first look-up an attacker's DNS can change before the second) is checked:
/// the host is resolved when the connection is made and only public addresses are connected to, unless
/// <c>Webhooks:AllowPrivateNetworks</c> (an administrator's setting) allows loopback, link-local and private ranges.
/// Redirects are never followed (the signature and the idempotency key would travel to the new host).
/// </summary>
internal static class EgressPolicy
{
    /// <summary>A handler for webhook requests: no redirects, and connections only to the addresses the policy allows.</summary>
    public static SocketsHttpHandler Handler(bool allowPrivateNetworks) => new()
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        AllowAutoRedirect = false,
        ConnectCallback = async (context, ct) =>
        {
            var host = context.DnsEndPoint.Host;
            var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
            var allowed = allowPrivateNetworks ? addresses : addresses.Where(IsPublic).ToArray();
            if (allowed.Length == 0)
                throw new EgressRefusedException(addresses.Length == 0
                    ? $"{host} resolves to no address"
                    : $"{host} is {Describe(addresses[0])} ({addresses[0]}); webhooks go to public addresses only (Webhooks:AllowPrivateNetworks)");
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    /// <summary>Whether <paramref name="address"/> is on the public internet: not loopback, link-local, private, shared (CGNAT),
    /// unspecified, multicast or reserved, in IPv4 or IPv6 (IPv4 written as IPv6 is judged as IPv4).</summary>
    public static bool IsPublic(IPAddress address) => Describe(address) == "public";

    static string Describe(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address))
            return "loopback";
        var b = address.GetAddressBytes();
        if (address.AddressFamily == AddressFamily.InterNetwork)
            return b[0] switch
            {
                0 => "an unspecified address",
                10 => "a private address",
                100 when b[1] is >= 64 and < 128 => "a shared (carrier NAT) address",
                169 when b[1] == 254 => "link-local (cloud metadata lives there)",
                172 when b[1] is >= 16 and < 32 => "a private address",
                192 when b[1] == 168 => "a private address",
                192 when b[1] == 0 && b[2] == 0 => "a reserved address",
                198 when b[1] is 18 or 19 => "a reserved address",
                >= 224 => "a multicast or reserved address",
                _ => "public",
            };
        if (address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.IPv6None))
            return "an unspecified address";
        if (address.IsIPv6LinkLocal || address.IsIPv6SiteLocal)
            return "link-local";
        if (address.IsIPv6Multicast)
            return "a multicast address";
        if ((b[0] & 0xfe) == 0xfc)
            return "a private address";
        return "public";
    }
}

/// <summary>The egress policy refused the destination: the webhook fails for good with this reason (a retry cannot help).</summary>
internal sealed class EgressRefusedException(string message) : IOException(message);
