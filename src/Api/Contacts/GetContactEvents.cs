using System.Text;
using System.Text.Json;
using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Domain.Time;
using EventSourcedJourneys.Projections.Contacts;
using Marten;
using Microsoft.AspNetCore.Mvc;
using NodaTime;
using NodaTime.Text;
using Wolverine.Http;

namespace EventSourcedJourneys.Api.Contacts;

/// <summary>One recorded event of a contact: its event time and its arrival order (sequence) both.</summary>
/// <param name="Type">track, identify, page, screen, group, alias for calls; identityLinked, contactMerged,
/// contactMergedInto, channelSubscriptionChanged for what the server recorded about them.</param>
/// <param name="Event">The track event's name, or the page/screen name.</param>
public sealed record ContactEventEntry(
    long Sequence,
    Guid EventId,
    Guid ContactId,
    string Type,
    string? Event,
    string? MessageId,
    Instant Timestamp,
    Instant? ReceivedAt,
    object Data);

/// <summary>A page of events, oldest (by event time) first; <paramref name="Next"/> fetches the following page.</summary>
public sealed record ContactEventPage(Guid ContactId, IReadOnlyList<ContactEventEntry> Events, string? Next);

public static class GetContactEventsEndpoint
{
    private const int DefaultLimit = 100;
    private const int MaxLimit = 1000;

    /// <summary>Marten's type name of each contact event, and the name the API shows for it.</summary>
    private static readonly IReadOnlyDictionary<string, string> Types = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["contact_tracked"] = "track",
        ["contact_identified"] = "identify",
        ["page_viewed"] = "page",
        ["screen_viewed"] = "screen",
        ["contact_grouped"] = "group",
        ["contact_aliased"] = "alias",
        ["identity_linked"] = "identityLinked",
        ["contact_merged"] = "contactMerged",
        ["contact_merged_into"] = "contactMergedInto",
        ["channel_subscription_changed"] = "channelSubscriptionChanged",
    };

    /// <summary>
    /// The contact's history (with the contacts merged into it), by event time. Filters: <c>type</c> (comma-separated,
    /// e.g. <c>track,identify</c>), <c>event</c> (a track event or page/screen name), <c>from</c> (inclusive) and
    /// <c>to</c> (exclusive) on the event time; <c>limit</c> (1–1000, default 100) and <c>after</c> (the previous page's
    /// <c>next</c>) page through it.
    /// </summary>
    [WolverineGet("/contacts/{contactId}/events", Name = "GetContactEvents")]
    [Tags("Contacts")]
    public static async Task<IResult> Get(Guid contactId, string? type, string? @event, string? from, string? to, int? limit, string? after,
        IQuerySession session, IDocumentStore store, CancellationToken cancellation)
    {
        var errors = new Dictionary<string, string[]>();
        var types = new List<string>();
        foreach (var name in (type ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var found = Types.FirstOrDefault(t => string.Equals(t.Value, name, StringComparison.OrdinalIgnoreCase)).Key;
            if (found is null) errors["type"] = [$"Unknown type '{name}'; use {string.Join(", ", Types.Values)}."];
            else types.Add(found);
        }
        var fromTime = ParseInstant(from, "from", errors);
        var toTime = ParseInstant(to, "to", errors);
        if (limit is < 1 or > MaxLimit) errors["limit"] = [$"Between 1 and {MaxLimit}."];
        var cursor = after is null ? null : Cursor.Parse(after);
        if (after is not null && cursor is null) errors["after"] = ["Pass the 'next' value of the previous page unchanged."];
        if (errors.Count > 0) return Results.Problem(new ValidationProblemDetails(errors) { Status = 400, Title = "The events cannot be listed so" });

        var profile = await ContactProfiles.LoadAsync(session, contactId, cancellation);
        if (profile is null)
            return Results.Problem(new ProblemDetails { Status = 404, Title = "No such contact", Detail = $"The workspace has no contact '{contactId}'." });

        var take = limit ?? DefaultLimit;
        var sql = new StringBuilder(
            $"select json_build_object('seq', seq_id, 'id', id, 'stream', stream_id, 'type', type, 'data', data)::text " +
            $"from {store.Options.Events.DatabaseSchemaName}.mt_events " +
            "where tenant_id = ? and stream_id = any(?) and type = any(?)");
        var parameters = new List<object> { session.TenantId, ContactProfiles.StreamIds(profile).ToArray(), (types.Count > 0 ? types : Types.Keys.ToList()).ToArray() };
        if (@event is { Length: > 0 })
        {
            sql.Append(" and coalesce(data->>'Event', data->>'Name') = ?");
            parameters.Add(@event);
        }
        if (fromTime is { } f)
        {
            sql.Append(" and (data->>'Timestamp')::timestamptz >= ?");
            parameters.Add(f.ToDateTimeOffset());
        }
        if (toTime is { } t)
        {
            sql.Append(" and (data->>'Timestamp')::timestamptz < ?");
            parameters.Add(t.ToDateTimeOffset());
        }
        if (cursor is { } c)
        {
            sql.Append(" and ((data->>'Timestamp')::timestamptz, seq_id) > (?, ?)");
            parameters.Add(c.Timestamp.ToDateTimeOffset());
            parameters.Add(c.Sequence);
        }
        sql.Append($" order by (data->>'Timestamp')::timestamptz, seq_id limit {take + 1}");

        var rows = await session.AdvancedSql.QueryAsync<string>(sql.ToString(), cancellation, parameters.ToArray());
        var entries = rows.Take(take).Select(Entry).ToList();
        var next = rows.Count > take ? new Cursor(entries[^1].Timestamp, entries[^1].Sequence).ToString() : null;
        return Results.Ok(new ContactEventPage(profile.Id, entries, next));
    }

    private static readonly JsonSerializerOptions StoredForm = JourneysJson.Configure(new JsonSerializerOptions());

    private static readonly IReadOnlyDictionary<string, Type> EventTypes = new Dictionary<string, Type>(StringComparer.Ordinal)
    {
        ["contact_tracked"] = typeof(ContactTracked),
        ["contact_identified"] = typeof(ContactIdentified),
        ["page_viewed"] = typeof(PageViewed),
        ["screen_viewed"] = typeof(ScreenViewed),
        ["contact_grouped"] = typeof(ContactGrouped),
        ["contact_aliased"] = typeof(ContactAliased),
        ["identity_linked"] = typeof(IdentityLinked),
        ["contact_merged"] = typeof(ContactMerged),
        ["contact_merged_into"] = typeof(ContactMergedInto),
        ["channel_subscription_changed"] = typeof(ChannelSubscriptionChanged),
    };

    private static ContactEventEntry Entry(string row)
    {
        using var json = JsonDocument.Parse(row);
        var root = json.RootElement;
        var alias = root.GetProperty("type").GetString()!;
        var data = root.GetProperty("data").Deserialize(EventTypes[alias], StoredForm)!;
        var (name, messageId, timestamp, receivedAt) = data switch
        {
            ContactTracked e => (e.Event, e.MessageId, e.Timestamp, (Instant?)e.ReceivedAt),
            PageViewed e => (e.Name, e.MessageId, e.Timestamp, e.ReceivedAt),
            ScreenViewed e => (e.Name, e.MessageId, e.Timestamp, e.ReceivedAt),
            ITrackingCall e => (null, e.MessageId, e.Timestamp, e.ReceivedAt),
            IdentityLinked e => (null, e.MessageId, e.Timestamp, null),
            ContactMerged e => (null, e.MessageId, e.Timestamp, null),
            ContactMergedInto e => (null, e.MessageId, e.Timestamp, null),
            ChannelSubscriptionChanged e => ((string?)null, e.MessageId, e.Timestamp, null),
            _ => throw new InvalidOperationException($"Not a contact event: {alias}."),
        };
        return new ContactEventEntry(root.GetProperty("seq").GetInt64(), root.GetProperty("id").GetGuid(), root.GetProperty("stream").GetGuid(),
            Types[alias], name, messageId, timestamp, receivedAt, data);
    }

    private static Instant? ParseInstant(string? text, string field, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrEmpty(text)) return null;
        var parsed = OffsetDateTimePattern.ExtendedIso.Parse(text);
        if (parsed.Success) return parsed.Value.ToInstant();
        errors[field] = [$"'{text}' is not an ISO-8601 instant such as 2026-12-01T09:30:00Z."];
        return null;
    }

    private sealed record Cursor(Instant Timestamp, long Sequence)
    {
        public override string ToString() =>
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{InstantPattern.ExtendedIso.Format(Timestamp)}|{Sequence}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');

        public static Cursor? Parse(string text)
        {
            try
            {
                var padded = text.Replace('-', '+').Replace('_', '/');
                padded += new string('=', (4 - padded.Length % 4) % 4);
                var parts = Encoding.UTF8.GetString(Convert.FromBase64String(padded)).Split('|');
                var time = InstantPattern.ExtendedIso.Parse(parts[0]);
                return parts.Length == 2 && time.Success && long.TryParse(parts[1], out var sequence) ? new Cursor(time.Value, sequence) : null;
            }
            catch (FormatException)
            {
                return null;
            }
        }
    }
}
