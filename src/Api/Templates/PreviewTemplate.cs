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

/// <summary>A template not saved yet (the fields of PUT /templates/{name}, and a name) with a sample.</summary>
public sealed record PreviewDraft(string? Name, SaveTemplate? Template, JsonElement? Traits, PreviewEvent? Event, JsonElement? Context, string? Zone);

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
        if (Model(body.Traits, body.Event, body.Context, body.Zone, session.TenantId, clock, out var model) is { } problem) return problem;
        return Answer(name, parsed, await renderer.RenderAsync(session, parsed, name, model, cancellation));
    }

    /// <summary>Renders a template before it is saved (the editor's preview): the same checks as saving, then the
    /// same rendering as the engine's.</summary>
    [WolverinePost("/templates/preview", Name = "PreviewDraftTemplate")]
    [Tags("Templates")]
    public static IResult PostDraft(PreviewDraft body, IQuerySession session, LiquidTemplates liquid, TemplateRenderer renderer, IClock clock)
    {
        var name = string.IsNullOrWhiteSpace(body.Name) ? "draft" : body.Name;
        if (SaveTemplateEndpoint.Draft(name, body.Template ?? new SaveTemplate(null, null, null, null, null, null), liquid,
                clock.GetCurrentInstant(), out var draft) is { } invalid)
            return invalid;
        if (Model(body.Traits, body.Event, body.Context, body.Zone, session.TenantId, clock, out var model) is { } problem) return problem;
        return Answer(name, draft.Channel, renderer.Render(draft, model));
    }

    private static IResult? Model(JsonElement? traits, PreviewEvent? @event, JsonElement? context, string? zoneId, string workspace,
        IClock clock, out TemplateModel model)
    {
        model = null!;
        DateTimeZone? zone = null;
        if (zoneId is not null && (zone = DateTimeZoneProviders.Tzdb.GetZoneOrNull(zoneId)) is null)
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["zone"] = [$"'{zoneId}' is not a TZDB time zone such as \"Europe/Paris\"."] });
        model = new TemplateModel(Guid.Empty, Guid.Empty, workspace, clock.GetCurrentInstant(), traits,
            @event is null ? null : new TemplateEvent(@event.Name ?? "", @event.Properties, @event.OccurredAt), context, zone);
        return null;
    }

    private static IResult Answer(string name, Channel channel, RenderOutcome outcome) =>
        outcome switch
        {
            RenderOutcome.Rendered rendered => Results.Ok(rendered.Content),
            RenderOutcome.Failed { Failure.Kind: RenderingFailureKind.TemplateMissing } => TemplateProblems.NotFound(name, channel.Name()),
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
