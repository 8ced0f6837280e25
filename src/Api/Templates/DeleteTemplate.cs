using EventSourcedJourneys.Dispatch.Templates;
using EventSourcedJourneys.Domain.Messages;
using Marten;
using Wolverine.Http;

namespace EventSourcedJourneys.Api.Templates;

public static class DeleteTemplateEndpoint
{
    /// <summary>Removes one channel's template. Messages that still name it fail to render with TemplateMissing,
    /// recorded like any other rendering failure.</summary>
    [WolverineDelete("/templates/{name}/{channel}", Name = "DeleteTemplate")]
    [Tags("Templates")]
    public static async Task<IResult> Delete(string name, string channel, IDocumentSession session, CancellationToken cancellation)
    {
        if (!Channels.TryParse(channel, out var parsed)) return TemplateProblems.BadChannel(channel);
        var id = MessageTemplate.IdFor(name, parsed);
        if (await session.LoadAsync<MessageTemplate>(id, cancellation) is null) return TemplateProblems.NotFound(name, parsed.Name());
        session.Delete<MessageTemplate>(id);
        await session.SaveChangesAsync(cancellation);
        return Results.NoContent();
    }
}
