using EventSourcedJourneys.Dispatch.Templates;
using EventSourcedJourneys.Domain.Messages;
using Microsoft.AspNetCore.Mvc;
using NodaTime;

namespace EventSourcedJourneys.Api.Templates;

/// <summary>A template as the API shows it: its Liquid sources and when it last changed.</summary>
public sealed record TemplateView(
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
    public static TemplateView From(MessageTemplate t) =>
        new(t.Name, t.Channel, t.Subject, t.Body, t.Html, t.Title, t.Data, t.Version, t.ContentHash, t.UpdatedAt);
}

/// <summary>Every channel's template of one name.</summary>
public sealed record TemplateGroup(string Name, IReadOnlyList<TemplateView> Channels);

/// <summary>A Liquid mistake as the API shows it: the field, Fluid's message, and its line and column in that field.</summary>
public sealed record TemplateDiagnostic(string Field, string Message, int? Line, int? Column)
{
    public static TemplateDiagnostic From(TemplateProblem p) => new(p.Field, p.Message, p.Line, p.Column);
}

public static class TemplateProblems
{
    public static IResult NotFound(string name, string? channel = null) => Results.Problem(new ProblemDetails
    {
        Status = 404,
        Title = "No such template",
        Detail = channel is null
            ? $"This workspace has no template named '{name}'."
            : $"This workspace has no {channel} template named '{name}'.",
    });

    public static IResult BadName(string name) => Results.Problem(new ProblemDetails
    {
        Status = 400,
        Title = "Not a template name",
        Detail = $"'{name}' is not a valid template name: use letters, digits, '_', '-' and '.', starting with a letter or digit " +
                 $"(at most {TemplateDefinition.MaxNameLength}).",
    });

    public static IResult BadChannel(string channel) => Results.ValidationProblem(
        new Dictionary<string, string[]> { ["channel"] = [$"'{channel}' is not a channel. Must be one of: {string.Join(", ", Domain.Messages.Channels.Names)}."] },
        title: "Not a channel");

    /// <summary>422 with the errors by field (the ValidationProblem shape) and every diagnostic with its position.</summary>
    public static IResult DoesNotParse(string name, IReadOnlyList<TemplateProblem> problems) => Results.ValidationProblem(
        problems.GroupBy(p => p.Field).ToDictionary(g => g.Key, g => g.Select(p => p.Line is null ? p.Message : $"{p.Line}:{p.Column}: {p.Message}").ToArray()),
        detail: $"Template '{name}' was not saved. " + string.Join(" ", problems.Take(5).Select(p => $"{p}.")),
        statusCode: 422,
        title: "The template does not parse",
        extensions: new Dictionary<string, object?> { ["diagnostics"] = problems.Select(TemplateDiagnostic.From).ToList() });
}
