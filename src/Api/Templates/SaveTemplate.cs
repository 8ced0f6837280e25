using EventSourcedJourneys.Dispatch.Templates;
using EventSourcedJourneys.Domain.Messages;
using Marten;
using NodaTime;
using Wolverine.Http;

namespace EventSourcedJourneys.Api.Templates;

/// <summary>
/// A template for one channel. <c>subject</c> (required) and <c>html</c> are email's; <c>title</c> and <c>data</c> are
/// push's, webpush's and inapp's. Every field is Liquid.
/// </summary>
public sealed record SaveTemplate(
    string? Channel,
    string? Subject,
    string? Body,
    string? Html,
    string? Title,
    Dictionary<string, string>? Data);

public sealed record SavedTemplate(string Name, Channel Channel, int Version, string ContentHash, bool Changed);

public static class SaveTemplateEndpoint
{
    /// <summary>The template a request describes, or the problem that it is not one: a bad name or shape (400) or
    /// Liquid that does not parse (422, with field, line and column).</summary>
    public static IResult? Draft(string name, SaveTemplate body, LiquidTemplates liquid, Instant now, out MessageTemplate draft)
    {
        draft = null!;
        if (!TemplateDefinition.IsValidName(name)) return TemplateProblems.BadName(name);
        var shape = TemplateDefinition.ShapeErrors(body.Channel, body.Subject, body.Body, body.Html, body.Title, body.Data);
        if (shape.Count > 0) return Results.ValidationProblem(shape, title: "The template is incomplete or has fields its channel does not");
        Domain.Messages.Channels.TryParse(body.Channel, out var channel);

        draft = new MessageTemplate(MessageTemplate.IdFor(name, channel), name, channel, body.Subject, body.Body!, body.Html, body.Title,
            body.Data, 0, "", now);
        var problems = liquid.Check(draft.Sources());
        return problems.Count > 0 ? TemplateProblems.DoesNotParse(name, problems) : null;
    }

    [WolverinePut("/templates/{name}", Name = "SaveTemplate")]
    [Tags("Templates")]
    public static async Task<IResult> Put(string name, SaveTemplate body, IDocumentSession session, LiquidTemplates liquid, IClock clock,
        CancellationToken cancellation)
    {
        if (Draft(name, body, liquid, clock.GetCurrentInstant(), out var draft) is { } problem) return problem;
        var (id, channel) = (draft.Id, draft.Channel);

        var hash = LiquidTemplates.Hash(string.Join("\u0000", draft.Sources().Select(s => $"{s.Field}\u0001{s.Source}")));
        var current = await session.LoadAsync<MessageTemplate>(id, cancellation);
        if (current is not null && current.ContentHash == hash)
            return Results.Ok(new SavedTemplate(name, channel, current.Version, hash, Changed: false));

        var version = (current?.Version ?? 0) + 1;
        session.Store(draft with { Version = version, ContentHash = hash });
        await session.SaveChangesAsync(cancellation);
        var saved = new SavedTemplate(name, channel, version, hash, Changed: true);
        return current is null ? Results.Created($"/templates/{name}/{channel.Name()}", saved) : Results.Ok(saved);
    }
}
