using EventSourcedJourneys.Domain.Messages;
using NodaTime;

namespace EventSourcedJourneys.Dispatch.Templates;

/// <summary>
/// A named template for one channel, as a marketer saved it: Liquid sources, never rendered output. A workspace may
/// have one template of a name per channel (<c>send email "cart-reminder"</c> and <c>send sms "cart-reminder"</c>).
/// Stored as a Marten document; the workspace is the document's tenant.
/// </summary>
public sealed record MessageTemplate(
    string Id,
    string Name,
    Channel Channel,
    string? Subject,
    string Body,
    string? Html,
    string? Title,
    IReadOnlyDictionary<string, string>? Data,
    int Version,
    string ContentHash,
    Instant UpdatedAt)
{
    public static string IdFor(string name, Channel channel) => $"{channel.Name()}/{name}";

    /// <summary>Every Liquid source of the template, by the field name the API uses ("data.url" for a data entry).</summary>
    public IEnumerable<(string Field, string Source)> Sources()
    {
        if (Subject is not null) yield return ("subject", Subject);
        yield return ("body", Body);
        if (Html is not null) yield return ("html", Html);
        if (Title is not null) yield return ("title", Title);
        foreach (var (key, value) in Data ?? new Dictionary<string, string>()) yield return ($"data.{key}", value);
    }
}
