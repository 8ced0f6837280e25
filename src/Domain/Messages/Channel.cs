using System.Text.Json;
using System.Text.Json.Serialization;

namespace EventSourcedJourneys.Domain.Messages;

/// <summary>The channels a message can go out on; in JSON and in rules they are written in lower case.</summary>
[JsonConverter(typeof(ChannelJsonConverter))]
public enum Channel
{
    Email,
    Sms,
    Push,
    WebPush,
    InApp,
    WhatsApp,
    Webhook,
}

public static class Channels
{
    public static readonly IReadOnlyList<string> Names = ["email", "sms", "push", "webpush", "inapp", "whatsapp", "webhook"];

    public static bool TryParse(string? text, out Channel channel)
    {
        for (var i = 0; i < Names.Count; i++)
        {
            if (string.Equals(Names[i], text?.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                channel = (Channel)i;
                return true;
            }
        }
        channel = default;
        return false;
    }

    public static string Name(this Channel channel) => Names[(int)channel];
}

public sealed class ChannelJsonConverter : JsonConverter<Channel>
{
    public override Channel Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String && Channels.TryParse(reader.GetString(), out var channel)
            ? channel
            : throw new JsonException($"A channel is one of: {string.Join(", ", Channels.Names)}.");

    public override void Write(Utf8JsonWriter writer, Channel value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.Name());
}
