using System.Text.Json;
using EventSourcedJourneys.Dispatch.Templates;
using EventSourcedJourneys.Domain.Messages;
using Marten;
using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Wolverine.Http;

namespace EventSourcedJourneys.Api.Templates;

/// <summary>A sample to render a saved template with: what a contact and its triggering event would bring.</summary>
public sealed record PreviewTemplate(JsonElement? Traits, PreviewEvent? Event, JsonElement? Context, string? Zone);

public sealed record PreviewEvent(string? Name, JsonElement? Properties, Instant? OccurredAt);

public static class PreviewTemplateEndpoint
{
    /// <summary>Renders the saved template exactly as the engine would for this sample, or shows the rendering failure
    /// the engine would record (422).</summary>
    [WolverinePost("/templates/{name}/{channel}/preview", Name = "PreviewTemplate")]
    [Tags("Templates")]
    public static async Task<IResult> Post(string name, string channel, PreviewTemplate body, IQuerySession session,
        TemplateRenderer renderer, IClock clock, CancellationToken cancellation)
    {
        if (!Domain.Messages.Channels.TryParse(channel, out var parsed)) return TemplateProblems.BadChannel(channel);
        DateTimeZone? zone = null;
        if (body.Zone is not null && (zone = DateTimeZoneProviders.Tzdb.GetZoneOrNull(body.Zone)) is null)
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["zone"] = [$"'{body.Zone}' is not a TZDB time zone such as \"Europe/Paris\"."] });

        var model = new TemplateModel(Guid.Empty, Guid.Empty, session.TenantId, clock.GetCurrentInstant(), body.Traits,
            body.Event is null ? null : new TemplateEvent(body.Event.Name ?? "", body.Event.Properties, body.Event.OccurredAt),
            body.Context, zone);
        return await renderer.RenderAsync(session, parsed, name, model, cancellation) switch
        {
            RenderOutcome.Rendered rendered => Results.Ok(rendered.Content),
            RenderOutcome.Failed { Failure.Kind: RenderingFailureKind.TemplateMissing } => TemplateProblems.NotFound(name, parsed.Name()),
            RenderOutcome.Failed failed => Results.Problem(new ProblemDetails
            {
                Status = 422,
                Title = "The template does not render with this sample",
                Detail = failed.Failure.ToString(),
                Extensions =
                {
                    ["kind"] = JsonNamingPolicy.CamelCase.ConvertName(failed.Failure.Kind.ToString()),
                    ["field"] = failed.Failure.Field,
                    ["reason"] = failed.Failure.Reason,
                },
            }),
            _ => throw new InvalidOperationException("A render outcome is rendered or failed."),
        };
    }
}
