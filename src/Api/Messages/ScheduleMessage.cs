using EventSourcedJourneys.Domain.Messages;
using Marten;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Wolverine.Http;

namespace EventSourcedJourneys.Api.Messages;

/// <summary>Schedule one message to a contact, after a delay or at an instant.</summary>
public sealed record ScheduleMessage(string? Channel, string? Template, Duration? Delay, Instant? SendAt);

public sealed record MessageAccepted(Guid MessageId, Guid ContactId, Instant DueAt);

public static class ScheduleMessageEndpoint
{
    private static readonly Duration LongestWait = Duration.FromDays(366);

    public static ProblemDetails Validate(ScheduleMessage command, IClock clock)
    {
        var errors = new Dictionary<string, string[]>();
        if (!Channels.TryParse(command.Channel, out _))
            errors["channel"] = [$"Must be one of: {string.Join(", ", Channels.Names)}."];
        if (string.IsNullOrWhiteSpace(command.Template) || command.Template.Length > 200)
            errors["template"] = ["Must name a template (1–200 characters)."];
        if (command.Delay is null == command.SendAt is null)
            errors[command.Delay is null ? "delay" : "sendAt"] = ["Give either 'delay' (ISO-8601, e.g. \"PT30M\") or 'sendAt' (an instant), not both."];
        if (command.Delay is { } delay && (delay < Duration.Zero || delay > LongestWait))
            errors["delay"] = ["Must be between PT0S and P366D."];
        if (command.SendAt is { } sendAt && sendAt - clock.GetCurrentInstant() > LongestWait)
            errors["sendAt"] = ["Must be within 366 days from now."];

        return errors.Count == 0
            ? WolverineContinue.NoProblems
            : new ValidationProblemDetails(errors) { Status = 400, Title = "The message cannot be scheduled" };
    }

    [WolverinePost("/contacts/{contactId}/messages", Name = "ScheduleMessage")]
    [Tags("Messages")]
    public static Created<MessageAccepted> Post(Guid contactId, ScheduleMessage command, IDocumentSession session, IClock clock)
    {
        var now = clock.GetCurrentInstant();
        var dueAt = command.SendAt ?? now + command.Delay!.Value;
        Channels.TryParse(command.Channel, out var channel);
        var messageId = Guid.CreateVersion7();

        session.Events.Append(contactId,
            new MessageScheduled(contactId, messageId, channel, command.Template!.Trim(), now, dueAt));

        return TypedResults.Created($"/messages/{messageId}", new MessageAccepted(messageId, contactId, dueAt));
    }
}
