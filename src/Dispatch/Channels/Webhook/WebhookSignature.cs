using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace EventSourcedJourneys.Dispatch.Channels.Webhook;

/// <summary>
/// The webhook signature scheme (docs/adr/0007-channels-and-templates.md). A request carries
/// <c>X-Journeys-Timestamp: &lt;unix seconds&gt;</c> and
/// <c>X-Journeys-Signature: sha256=&lt;lower-case hex HMAC-SHA256(secret, timestamp + "." + raw body)&gt;</c>.
/// The timestamp is signed with the body, so a captured request cannot be replayed later with a fresh timestamp;
/// receivers refuse timestamps more than <see cref="Tolerance"/> from their clock and compare in constant time.
/// </summary>
public static class WebhookSignature
{
    public const string SignatureHeader = "X-Journeys-Signature";
    public const string TimestampHeader = "X-Journeys-Timestamp";
    public const string Scheme = "sha256=";
    public static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    public static string Sign(string secret, long unixSeconds, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes(unixSeconds.ToString(CultureInfo.InvariantCulture) + ".");
        var payload = new byte[prefix.Length + body.Length];
        prefix.CopyTo(payload, 0);
        body.CopyTo(payload.AsSpan(prefix.Length));
        return Scheme + Convert.ToHexString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), payload)).ToLowerInvariant();
    }
}
