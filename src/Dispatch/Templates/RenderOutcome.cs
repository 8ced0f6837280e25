using EventSourcedJourneys.Domain.Messages;

namespace EventSourcedJourneys.Dispatch.Templates;

/// <summary>What a channel sends: every field rendered, nothing left to interpret.</summary>
public sealed record RenderedContent(
    string Template,
    int TemplateVersion,
    Channel Channel,
    string? Subject,
    string Body,
    string? Html = null,
    string? Title = null,
    IReadOnlyDictionary<string, string>? Data = null);

public enum RenderingFailureKind
{
    /// <summary>The workspace has no template of that name for the channel.</summary>
    TemplateMissing,

    /// <summary>A stored source does not parse (saved before a stricter check, or written around the API).</summary>
    TemplateInvalid,

    /// <summary>Liquid failed while rendering: an unknown filter, the step or recursion limit, a filter error.</summary>
    RuntimeError,

    /// <summary>The output is longer than the channel allows (e.g. 1,600 characters for an SMS).</summary>
    TooLong,

    /// <summary>A field the channel cannot send empty (the body, an email's subject) rendered to nothing.</summary>
    Empty,
}

/// <summary>Why a message could not be rendered: recorded by the engine (MessageFailed), never swallowed.</summary>
public sealed record RenderingFailure(RenderingFailureKind Kind, string Template, Channel Channel, string? Field, string Reason)
{
    public override string ToString() => $"{Kind} in {Channel.Name()} template '{Template}'{(Field is null ? "" : $" ({Field})")}: {Reason}";
}

/// <summary>Either the rendered content or the failure; content errors are values, not exceptions.</summary>
public abstract record RenderOutcome
{
    private RenderOutcome() { }

    public sealed record Rendered(RenderedContent Content) : RenderOutcome;

    public sealed record Failed(RenderingFailure Failure) : RenderOutcome;
}
