using Marten.Exceptions;
using Microsoft.AspNetCore.Mvc;

namespace EventSourcedJourneys.Api.Rules;

/// <summary>Optimistic concurrency on rule streams: a stale expectation or a lost race is a 409 with the current version.</summary>
public static class RuleConflicts
{
    public static bool IsConflict(Exception e) => e is JasperFx.ConcurrencyException
        or JasperFx.Events.EventStreamUnexpectedMaxEventIdException
        or JasperFx.Events.ExistingStreamIdCollisionException
        or ExistingStreamIdCollisionException;

    public static ProblemDetails Stale(string name, int? expected, int current)
    {
        var problem = RuleTexts.Problem(StatusCodes.Status409Conflict, "The rule changed in the meantime",
            expected is null
                ? $"Rule '{name}' was changed by someone else while this change was being saved; its latest version is {current}."
                : $"Expected rule '{name}' at version {expected}, but its latest version is {current}. Reload it and apply your change again.");
        problem.Extensions["currentVersion"] = current;
        return problem;
    }

    /// <summary>The expected version from the body, else from an <c>If-Match</c> header ("3" or W/"3").</summary>
    public static int? Expected(int? fromBody, HttpRequest request)
    {
        if (fromBody is not null) return fromBody;
        var header = request.Headers.IfMatch.ToString().Replace("W/", "").Trim('"', ' ');
        return int.TryParse(header, out var version) ? version : null;
    }
}
