using EventSourcedJourneys.Dispatch.Templates;
using EventSourcedJourneys.Domain.Messages;
using Marten;
using Wolverine.Http;

namespace EventSourcedJourneys.Api.Templates;

public sealed record TemplateListItem(string Name, Channel Channel, int Version, NodaTime.Instant UpdatedAt);

public static class ReadTemplatesEndpoints
{
    /// <summary>The workspace's templates, by name then channel; <c>?channel=sms</c> keeps one channel's.</summary>
    [WolverineGet("/templates", Name = "ListTemplates")]
    [Tags("Templates")]
    public static async Task<IResult> List(string? channel, IQuerySession session, CancellationToken cancellation)
    {
        Channel? only = null;
        if (channel is not null)
        {
            if (!Domain.Messages.Channels.TryParse(channel, out var parsed)) return TemplateProblems.BadChannel(channel);
            only = parsed;
        }
        var templates = await session.Query<MessageTemplate>().ToListAsync(cancellation);
        return Results.Ok(templates.Where(t => only is null || t.Channel == only)
            .OrderBy(t => t.Name, StringComparer.Ordinal).ThenBy(t => t.Channel)
            .Select(t => new TemplateListItem(t.Name, t.Channel, t.Version, t.UpdatedAt)).ToList());
    }

    /// <summary>Every channel's template of this name.</summary>
    [WolverineGet("/templates/{name}", Name = "GetTemplate")]
    [Tags("Templates")]
    public static async Task<IResult> Get(string name, IQuerySession session, CancellationToken cancellation)
    {
        var templates = await session.Query<MessageTemplate>().Where(t => t.Name == name).ToListAsync(cancellation);
        return templates.Count == 0
            ? TemplateProblems.NotFound(name)
            : Results.Ok(new TemplateGroup(name, templates.OrderBy(t => t.Channel).Select(TemplateView.From).ToList()));
    }

    [WolverineGet("/templates/{name}/{channel}", Name = "GetChannelTemplate")]
    [Tags("Templates")]
    public static async Task<IResult> GetForChannel(string name, string channel, IQuerySession session, CancellationToken cancellation)
    {
        if (!Domain.Messages.Channels.TryParse(channel, out var parsed)) return TemplateProblems.BadChannel(channel);
        return await session.LoadAsync<MessageTemplate>(MessageTemplate.IdFor(name, parsed), cancellation) is { } template
            ? Results.Ok(TemplateView.From(template))
            : TemplateProblems.NotFound(name, parsed.Name());
    }
}
