using EventSourcedJourneys.Dsl.Runtime;
using NodaTime;

namespace EventSourcedJourneys.Dsl.Tests;

/// <summary>Small builders for in-memory contacts, all relative to one fixed "now".</summary>
static class Contacts
{
    public static readonly Instant Now = Instant.FromUtc(2026, 12, 10, 12, 0);

    public static RecordedEvent Event(string name, Duration ago, params (string Key, Value Value)[] properties) =>
        new(name, Now - ago, Value.Object(properties), ObjectValue.Empty);

    public static ContactSnapshot Contact(params RecordedEvent[] events) =>
        new(ObjectValue.Empty, ObjectValue.Empty, events);

    public static ContactSnapshot WithTraits(this ContactSnapshot contact, params (string Key, Value Value)[] traits) =>
        new(Value.Object(traits), contact.LatestContext, contact.Events);

    public static ContactSnapshot WithContext(this ContactSnapshot contact, ObjectValue context) =>
        new(contact.Traits, context, contact.Events);

    public static Duration Days(int days) => Duration.FromDays(days);
}
