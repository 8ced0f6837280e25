using System.Runtime.InteropServices;
using System.Text.Json;
using EventSourcedJourneys.Domain.Contacts;
using NodaTime;
using NodaTime.Text;

namespace EventSourcedJourneys.Api.Ingestion;

/// <summary>
/// Reads calls of the Segment spec from JSON, field by field, so that every refusal names its field
/// (<c>batch[3].timestamp</c>). Pure: the server's receive time comes in as an argument.
/// </summary>
public static class TrackingCallReader
{
    /// <summary>Segment's limits: 500 KB per request, 32 KB per call.</summary>
    public const int MaxRequestBytes = 500 * 1024;
    public const int MaxCallBytes = 32 * 1024;
    public const int MaxIdLength = 256;
    public const int MaxEventNameLength = 200;

    public static readonly IReadOnlyDictionary<string, CallType> TypeNames = new Dictionary<string, CallType>(StringComparer.OrdinalIgnoreCase)
    {
        ["track"] = CallType.Track,
        ["identify"] = CallType.Identify,
        ["page"] = CallType.Page,
        ["screen"] = CallType.Screen,
        ["group"] = CallType.Group,
        ["alias"] = CallType.Alias,
    };

    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement.Clone();

    private static readonly IPattern<OffsetDateTime> WithOffset = OffsetDateTimePattern.ExtendedIso;

    /// <summary>Reads one call; <paramref name="type"/> is the endpoint's, or null in a batch (then the call's <c>type</c> says).</summary>
    public static TrackingCall? Read(JsonElement json, CallType? type, int index, string prefix, Instant? batchSentAt, Instant receivedAt,
        Dictionary<string, string[]> errors)
    {
        var before = errors.Count;
        void Fail(string field, string message) => errors[prefix + field] = [message];

        if (json.ValueKind != JsonValueKind.Object)
        {
            errors[prefix.Length > 0 ? prefix.TrimEnd('.') : "body"] = ["A call is a JSON object."];
            return null;
        }
        var size = JsonMarshal.GetRawUtf8Value(json).Length;
        if (size > MaxCallBytes)
        {
            errors[prefix.Length > 0 ? prefix.TrimEnd('.') : "body"] = [$"A call may have at most {MaxCallBytes:N0} bytes (32 KB); this one has {size:N0}."];
            return null;
        }

        if (type is null)
        {
            var typeText = String(json, "type", Fail, MaxIdLength);
            if (typeText is null)
            {
                if (!errors.ContainsKey(prefix + "type")) Fail("type", "Each call of a batch needs a type: track, identify, page, screen, group or alias.");
            }
            else if (TypeNames.TryGetValue(typeText, out var parsed)) type = parsed;
            else Fail("type", $"Unknown type '{typeText}'; use track, identify, page, screen, group or alias.");
        }

        var userId = String(json, "userId", Fail, MaxIdLength);
        var anonymousId = String(json, "anonymousId", Fail, MaxIdLength);
        var messageId = String(json, "messageId", Fail, MaxIdLength);
        string? eventName = null, name = null, category = null, groupId = null, previousId = null;
        switch (type)
        {
            case CallType.Track:
                eventName = String(json, "event", Fail, MaxEventNameLength);
                if (eventName is null && !errors.ContainsKey(prefix + "event")) Fail("event", "A track call names its event, e.g. \"Order Completed\".");
                break;
            case CallType.Page or CallType.Screen:
                name = String(json, "name", Fail, MaxEventNameLength);
                category = String(json, "category", Fail, MaxEventNameLength);
                break;
            case CallType.Group:
                groupId = String(json, "groupId", Fail, MaxIdLength);
                if (groupId is null && !errors.ContainsKey(prefix + "groupId")) Fail("groupId", "A group call names its group in groupId.");
                break;
            case CallType.Alias:
                previousId = String(json, "previousId", Fail, MaxIdLength);
                if (previousId is null && !errors.ContainsKey(prefix + "previousId")) Fail("previousId", "An alias call names the previous id in previousId.");
                if (userId is null && !errors.ContainsKey(prefix + "userId")) Fail("userId", "An alias call names the new id in userId.");
                break;
        }
        if (type is not null and not CallType.Alias && userId is null && anonymousId is null
            && !errors.ContainsKey(prefix + "userId") && !errors.ContainsKey(prefix + "anonymousId"))
            Fail("userId", "Give userId or anonymousId (or both): every call belongs to someone.");

        var properties = Object(json, "properties", Fail);
        var traits = Object(json, "traits", Fail);
        var context = Object(json, "context", Fail);
        Object(json, "integrations", Fail);

        var timestamp = Time(json, "timestamp", Fail);
        var originalTimestamp = Time(json, "originalTimestamp", Fail);
        var sentAt = Time(json, "sentAt", Fail) ?? batchSentAt;
        Time(json, "receivedAt", Fail); // accepted for compatibility; the server's own receive time is the one kept

        if (errors.Count > before || type is null) return null;

        var (time, source) = EventTime.Resolve(timestamp, originalTimestamp, sentAt, receivedAt);
        if (EventTime.IsAbsurdlyLate(time, receivedAt))
        {
            var field = source == EventTimeSource.Timestamp ? "timestamp" : "originalTimestamp";
            Fail(field, $"The event time {time} lies more than {EventTime.FutureTolerance.TotalHours:0} hours after the server's time {receivedAt}.");
            return null;
        }

        // Traits may also travel in context.traits (Segment's convention on track calls); identify's own traits win.
        if (type == CallType.Identify && traits.ValueKind != JsonValueKind.Object
            && context.ValueKind == JsonValueKind.Object && context.TryGetProperty("traits", out var contextTraits) && contextTraits.ValueKind == JsonValueKind.Object)
            traits = contextTraits;

        return new TrackingCall(index, type.Value, messageId ?? $"server-{Guid.CreateVersion7()}", messageId is not null,
            userId, anonymousId, eventName, name, category, groupId, previousId,
            properties.ValueKind == JsonValueKind.Object ? properties.Clone() : EmptyObject,
            traits.ValueKind == JsonValueKind.Object ? traits.Clone() : EmptyObject,
            context.ValueKind == JsonValueKind.Object ? context.Clone() : EmptyObject,
            time, source);
    }

    public static Instant? Time(JsonElement json, string field, Action<string, string> fail)
    {
        if (!json.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.String)
        {
            fail(field, $"'{field}' is an ISO-8601 date and time string such as \"2026-12-01T09:30:00.000Z\".");
            return null;
        }
        var text = value.GetString()!;
        var parsed = WithOffset.Parse(text);
        if (parsed.Success) return parsed.Value.ToInstant();
        fail(field, $"'{text}' is not an ISO-8601 date and time with an offset, such as \"2026-12-01T09:30:00.000Z\".");
        return null;
    }

    private static string? String(JsonElement json, string field, Action<string, string> fail, int maxLength)
    {
        if (!json.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.String)
        {
            fail(field, $"'{field}' must be a string, not a {value.ValueKind.ToString().ToLowerInvariant()}.");
            return null;
        }
        var text = value.GetString()!;
        if (text.Length == 0) return null;
        if (text.Length > maxLength)
        {
            fail(field, $"'{field}' may have at most {maxLength} characters.");
            return null;
        }
        return text;
    }

    private static JsonElement Object(JsonElement json, string field, Action<string, string> fail)
    {
        if (!json.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null) return default;
        if (value.ValueKind != JsonValueKind.Object) fail(field, $"'{field}' must be a JSON object, not a {value.ValueKind.ToString().ToLowerInvariant()}.");
        return value;
    }
}
