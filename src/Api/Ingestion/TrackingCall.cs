using System.Text.Json;
using EventSourcedJourneys.Domain.Contacts;
using NodaTime;

namespace EventSourcedJourneys.Api.Ingestion;

/// <summary>The six call types of the Segment spec.</summary>
public enum CallType
{
    Track,
    Identify,
    Page,
    Screen,
    Group,
    Alias,
}

/// <summary>A validated call of the tracking API, ready to be recorded on a contact's stream.</summary>
/// <param name="Index">Its position in the request (0 for a single call).</param>
/// <param name="HasClientMessageId">False when the client sent no messageId and the server made one up (no de-duplication then).</param>
public sealed record TrackingCall(
    int Index,
    CallType Type,
    string MessageId,
    bool HasClientMessageId,
    string? UserId,
    string? AnonymousId,
    string? Event,
    string? Name,
    string? Category,
    string? GroupId,
    string? PreviousId,
    JsonElement Properties,
    JsonElement Traits,
    JsonElement Context,
    Instant Timestamp,
    EventTimeSource TimeSource);
