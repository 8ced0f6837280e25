namespace EventSourcedJourneys.Dsl.Checking;

/// <summary>The channels a trigger can send on, as written in rules.</summary>
public static class Channels
{
    public static readonly IReadOnlyList<string> Names = ["email", "sms", "push", "webpush", "inapp", "whatsapp", "webhook"];
}
