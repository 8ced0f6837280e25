using EventSourcedJourneys.Domain.Messages;
using Fluid.Values;
using Marten;
using NodaTime;

namespace EventSourcedJourneys.Dispatch.Templates;

/// <summary>
/// Renders a channel's template for one message. Every content problem — no such template, a Liquid error, an output
/// over the channel's limit, an empty body — comes back as <see cref="RenderOutcome.Failed"/>; nothing is swallowed
/// and nothing about the content is thrown.
/// </summary>
public sealed class TemplateRenderer(LiquidTemplates liquid)
{
    /// <summary>Loads the workspace's template (the session's tenant) and renders it.</summary>
    public async Task<RenderOutcome> RenderAsync(IQuerySession session, Channel channel, string name, TemplateModel model,
        CancellationToken cancellation)
    {
        var template = await session.LoadAsync<MessageTemplate>(MessageTemplate.IdFor(name, channel), cancellation);
        return template is null
            ? Fail(RenderingFailureKind.TemplateMissing, name, channel, null,
                $"Workspace '{model.Workspace}' has no {channel.Name()} template named '{name}'.")
            : Render(template, model);
    }

    public RenderOutcome Render(MessageTemplate template, TemplateModel model)
    {
        var values = Values(template, model, model.Zone ?? DateTimeZone.Utc);
        var zone = model.Zone ?? DateTimeZone.Utc;

        var rendered = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (field, source) in template.Sources())
        {
            if (!liquid.TryParseField(field, source, out var parsed, out var problem))
                return Fail(RenderingFailureKind.TemplateInvalid, template, field, problem!.ToString());

            var limit = ChannelLimits.MaxCharacters(template.Channel, field.StartsWith("data.", StringComparison.Ordinal) ? "data" : field);
            var (output, error, tooLong) = liquid.Render(parsed, liquid.NewContext(values, zone, model.Now), html: field == "html", limit);
            if (output is null)
                return Fail(tooLong ? RenderingFailureKind.TooLong : RenderingFailureKind.RuntimeError, template, field, error!);
            rendered[field] = output;
        }

        var subject = rendered.GetValueOrDefault("subject");
        // A subject and a title are one line: line breaks a template produced would otherwise end the header.
        if (subject is not null) subject = OneLine(subject);
        var title = rendered.GetValueOrDefault("title") is { } t ? OneLine(t) : null;
        var data = template.Data?.Keys.ToDictionary(k => k, k => rendered[$"data.{k}"], StringComparer.Ordinal);
        var content = new RenderedContent(template.Name, template.Version, template.Channel, subject, rendered["body"],
            rendered.GetValueOrDefault("html"), title, data);

        if (string.IsNullOrWhiteSpace(content.Body) && string.IsNullOrWhiteSpace(content.Html))
            return Fail(RenderingFailureKind.Empty, template, "body", "The body rendered to nothing; a message with no text is not sent.");
        if (template.Channel == Channel.Email && string.IsNullOrWhiteSpace(subject))
            return Fail(RenderingFailureKind.Empty, template, "subject", "The subject rendered to nothing.");
        if (template.Channel is Channel.Push or Channel.WebPush && ChannelLimits.PushPayloadSize(content) is var size
            && size > ChannelLimits.PushPayloadBytes)
            return Fail(RenderingFailureKind.TooLong, template, null,
                $"Title, body and data come to {size:N0} bytes; a push message may carry at most {ChannelLimits.PushPayloadBytes:N0}.");
        return new RenderOutcome.Rendered(content);
    }

    private static Dictionary<string, FluidValue> Values(MessageTemplate template, TemplateModel model, DateTimeZone zone)
    {
        var empty = new DictionaryValue(new FluidValueDictionaryFluidIndexable(new Dictionary<string, FluidValue>()));
        var properties = model.Event?.Properties is { } p ? LiquidTemplates.FromJson(p) : empty;
        var @event = new Dictionary<string, FluidValue>(StringComparer.Ordinal)
        {
            ["name"] = StringValue.Create(model.Event?.Name ?? ""),
            ["properties"] = properties,
        };
        if (model.Event?.OccurredAt is { } occurredAt) @event["occurred_at"] = new DateTimeValue(occurredAt.InZone(zone).ToDateTimeOffset());

        return new Dictionary<string, FluidValue>(StringComparer.Ordinal)
        {
            ["traits"] = model.Traits is { } traits ? LiquidTemplates.FromJson(traits) : empty,
            ["properties"] = properties,
            ["event"] = Object(@event),
            ["context"] = model.Context is { } context ? LiquidTemplates.FromJson(context) : empty,
            ["contact"] = Object(new Dictionary<string, FluidValue> { ["id"] = StringValue.Create(model.ContactId.ToString()) }),
            ["message"] = Object(new Dictionary<string, FluidValue>
            {
                ["id"] = StringValue.Create(model.MessageId.ToString()),
                ["channel"] = StringValue.Create(template.Channel.Name()),
                ["template"] = StringValue.Create(template.Name),
                ["workspace"] = StringValue.Create(model.Workspace),
            }),
            // Instants the engine knows are given in the contact's zone already; 'local' does it for dates in JSON.
            ["now"] = new DateTimeValue(model.Now.InZone(zone).ToDateTimeOffset()),
        };
    }

    private static DictionaryValue Object(Dictionary<string, FluidValue> values) =>
        new(new FluidValueDictionaryFluidIndexable(values));

    private static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries)).Trim();

    private static RenderOutcome.Failed Fail(RenderingFailureKind kind, MessageTemplate template, string? field, string reason) =>
        Fail(kind, template.Name, template.Channel, field, reason);

    private static RenderOutcome.Failed Fail(RenderingFailureKind kind, string name, Channel channel, string? field, string reason) =>
        new(new RenderingFailure(kind, name, channel, field, reason));
}
