using System.Text.Json;
using EventSourcedJourneys.Domain.Time;
using NodaTime;

namespace EventSourcedJourneys.Dispatch.Templates;

/// <summary>The event that started the journey, as a template sees it (<c>event.name</c>, <c>event.properties.total</c>).</summary>
public sealed record TemplateEvent(string Name, JsonElement? Properties = null, Instant? OccurredAt = null);

/// <summary>
/// What a template is personalised from. JSON trees only (traits, properties, context are the contact's and the
/// event's own JSON), so rendering depends on no ingestion type. In Liquid the names are:
/// <c>traits</c>, <c>event</c> (<c>name</c>, <c>properties</c>, <c>occurred_at</c>), <c>properties</c> (the
/// triggering event's, as in rules), <c>context</c>, <c>contact</c> (<c>id</c>), <c>message</c> (<c>id</c>,
/// <c>channel</c>, <c>template</c>, <c>workspace</c>) and <c>now</c>. <c>now</c> and <c>event.occurred_at</c> are in
/// <paramref name="Zone"/> (the contact's zone; UTC when null), and the <c>local</c> filter moves any other date there.
/// </summary>
public sealed record TemplateModel(
    Guid MessageId,
    Guid ContactId,
    string Workspace,
    Instant Now,
    JsonElement? Traits = null,
    TemplateEvent? Event = null,
    JsonElement? Context = null,
    DateTimeZone? Zone = null)
{
    /// <summary>A JSON tree for <see cref="Traits"/>, <see cref="Context"/> or event properties from any serializable
    /// value, such as a <c>Dictionary&lt;string, object?&gt;</c>.</summary>
    public static JsonElement Tree(object? value) => JsonSerializer.SerializeToElement(value, Json);

    private static readonly JsonSerializerOptions Json = JourneysJson.Create();
}
